"""Tabular policies: dict conversion, the JSON file format, probing agents exactly as the env observes them."""

from __future__ import annotations

import json

import numpy as np
import pytest

import arena
from arena.core import Agent, ConfigError, Observation, ParameterError
from arena.games import load
from arena.games.policy import TabularPolicy, policy_from_agent, sample_counts_from_agent


def test_dict_round_trip_and_file(tmp_path):
    game = load("leduc_poker-v0")
    policy = TabularPolicy.random(game, seed=1)
    again = TabularPolicy.from_dict(game, policy.to_dict())
    assert all(np.array_equal(a, b) for a, b in zip(policy.probs, again.probs))
    path = tmp_path / "leduc.json"
    policy.save(path)
    data = json.loads(path.read_text())
    assert data["format"] == "arena-tabular-policy" and data["num_actions"] == 3 and len(data["policy"]) == 936
    loaded = TabularPolicy.load(path)  # rebuilds the game from the file
    assert loaded.game.key == game.key
    assert all(np.array_equal(a, b) for a, b in zip(policy.probs, loaded.probs))


def test_from_dict_accepts_action_maps():
    game = load("kuhn_poker-v0")
    mapping = {key: {1: 1.0} for key in game.key_index}
    policy = TabularPolicy.from_dict(game, mapping)
    assert policy.action_probs("0").tolist() == [0.0, 1.0]


def test_bad_policies_and_files(tmp_path):
    game = load("kuhn_poker-v0")
    uniform = TabularPolicy.uniform(game).to_dict()
    with pytest.raises(ParameterError, match="non-negative"):
        TabularPolicy.from_dict(game, {**uniform, "0": [1.5, -0.5]})
    with pytest.raises(ParameterError, match="2 actions"):
        TabularPolicy.from_dict(game, {**uniform, "0": [1.0]})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        TabularPolicy.load(bad)
    other = tmp_path / "other.json"
    TabularPolicy.uniform(load("leduc_poker-v0")).save(other)
    with pytest.raises(ConfigError, match="not of"):
        TabularPolicy.load(other, game)


class _Recorder(Agent):
    """Plays 'Bet' with probability 0.3 everywhere and remembers the observations it was shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Observation]] = []

    def action_probs(self, obs: Observation) -> np.ndarray:
        self.seen.append((self.player, obs))
        probs = obs.action_mask * np.array([0.7, 0.3][: len(obs.action_mask)] + [0.0] * (len(obs.action_mask) - 2))
        return probs / probs.sum()


def test_policy_from_agent_sees_what_the_env_shows():
    game = load("kuhn_poker-v0")
    agent = _Recorder()
    policy = policy_from_agent(game, agent)
    assert np.allclose(np.concatenate(policy.probs), [0.7, 0.3])
    assert len(agent.seen) == 12
    for player, obs in agent.seen:
        assert obs.player == player and obs.info_state in game.key_index
        assert game.key_index[obs.info_state][0] == int(player[-1])
        assert obs.observation.shape == (11,) and "Legal moves" in obs.text
    # the same observation the env produces in a match
    env = arena.make_env("kuhn_poker-v0")
    env.reset(seed=0)
    key = env.infos["player_0"]["info_state"]
    probed = next(obs for player, obs in agent.seen if obs.info_state == key)
    assert np.array_equal(probed.observation, env.observe("player_0"))
    assert probed.text == env.infos["player_0"]["text"]


def test_policy_from_agent_normal_form():
    game = load("rps-v0")
    policy = policy_from_agent(game, arena.make_agent("mix", probs={"rock": 0.5, "paper": 0.5}))
    assert policy.probs[0].tolist() == [[0.5, 0.5, 0.0]] and policy.probs[1].tolist() == [[0.5, 0.5, 0.0]]


def test_agents_without_exact_probs_are_sampled():
    game = load("kuhn_poker-v0")

    class Bettor(Agent):
        def act(self, obs: Observation) -> int:
            return 1

    with pytest.raises(ParameterError, match="no exact action_probs"):
        policy_from_agent(game, Bettor())
    counts = sample_counts_from_agent(game, Bettor(), samples=5)
    assert all((table[:, 1] == 5).all() for table in counts)
