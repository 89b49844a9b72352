"""The match loop: outcomes, illegal-move policies, raising and hanging agents, online feedback, replays."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np
import pytest

import arena
from arena.agents.human import HumanAgent
from arena.core import Agent, Feedback, Observation
from arena.match import fresh_observations
from arena.replay import read_replay, verify_replay


class Illegal(Agent):
    """Always plays an action id that is never legal."""

    def act(self, obs: Observation) -> int:
        return 99


class IllegalUntilTold(Agent):
    """Plays illegally until the loop re-asks with an error, then plays the first legal action."""

    def reset(self, seed, player, env_spec) -> None:
        super().reset(seed, player, env_spec)
        self.errors_seen: list[str] = []

    def act(self, obs: Observation) -> int:
        if obs.error is None:
            return -5
        self.errors_seen.append(obs.error)
        return obs.legal_actions[0]


class Raising(Agent):
    def act(self, obs: Observation) -> int:
        raise RuntimeError("boom")


class SpinsForever(Agent):
    def act(self, obs: Observation) -> int:
        while True:
            pass


class Sleeps(Agent):
    def act(self, obs: Observation) -> int:
        time.sleep(30)
        return 0


class Recorder(Agent):
    """Plays rock and keeps every feedback it is given."""

    def reset(self, seed, player, env_spec) -> None:
        super().reset(seed, player, env_spec)
        self.feedback: list = []

    def act(self, obs: Observation) -> int:
        return 0

    def observe(self, feedback) -> None:
        self.feedback.append(feedback)


def test_normal_match_result_fields() -> None:
    result = arena.play("kuhn_poker-v0", ["random", "random"], seed=11)
    assert result.termination == "normal"
    assert result.env_id == "kuhn_poker-v0" and result.seed == 11
    assert result.players == ["player_0", "player_1"]
    assert sum(result.payoffs) == 0 and abs(result.payoffs[0]) in (1, 2)
    assert sorted(result.outcomes) == ["loss", "win"]
    assert 2 <= result.length <= 3
    assert result.illegal_moves == [0, 0] and result.errors == [0, 0] and result.timeouts == [0, 0]


def test_same_seed_same_match() -> None:
    first = arena.play("leduc_poker-v0", ["random", "random"], seed=5)
    second = arena.play("leduc_poker-v0", ["random", "random"], seed=5)
    assert (first.payoffs, first.length) == (second.payoffs, second.length)


def test_general_sum_games_have_no_winner() -> None:
    result = arena.play("prisoners_dilemma-v0", ["fixed(action=defect)", "fixed(action=cooperate)"], seed=0)
    assert result.payoffs == [5.0, 0.0]
    assert result.outcomes == [None, None]


def test_draws_in_zero_sum_games() -> None:
    result = arena.play("rps-v0", ["fixed(action=paper)", "fixed(action=paper)"], seed=0)
    assert result.outcomes == ["draw", "draw"]


def test_illegal_move_forfeits() -> None:
    result = arena.play("kuhn_poker-v0", [Illegal(), "random"], seed=0)
    assert result.termination == "illegal_move" and result.culprit == 0
    assert result.payoffs == [-2.0, 2.0] and result.outcomes == ["loss", "win"]
    assert result.illegal_moves == [1, 0]


def test_illegal_move_random_fallback_keeps_playing() -> None:
    result = arena.play("rps-v0(rounds=10)", [Illegal(), "random"], seed=0, illegal_moves="random")
    assert result.termination == "normal" and result.length == 10
    assert result.illegal_moves == [10, 0] and result.random_fallbacks == [10, 0]


def test_illegal_move_retry_tells_the_agent() -> None:
    agent = IllegalUntilTold()
    result = arena.play("kuhn_poker-v0", [agent, "random"], seed=0, illegal_moves="retry")
    assert result.termination == "normal"
    assert result.illegal_moves[0] >= 1
    assert "not a legal move" in agent.errors_seen[0] and "Pass (0)" in agent.errors_seen[0]
    stubborn = arena.play("kuhn_poker-v0", [Illegal(), "random"], seed=0, illegal_moves="retry", max_retries=2)
    assert stubborn.termination == "illegal_move" and stubborn.illegal_moves == [3, 0]


def test_raising_agent_forfeits_and_is_counted() -> None:
    result = arena.play("kuhn_poker-v0", ["random", Raising()], seed=0)
    assert result.termination == "agent_error" and result.culprit == 1
    assert result.errors == [0, 1] and "RuntimeError: boom" in result.message
    assert result.payoffs == [2.0, -2.0]


class Returns(Agent):
    """Returns a fixed value, whatever it is, as its action."""

    def __init__(self, value: object) -> None:
        self.value = value

    def act(self, obs: Observation) -> int:
        return self.value  # type: ignore[return-value]


class BadIndex:
    """An integer-like object whose conversion raises or hangs."""

    def __init__(self, hang: bool) -> None:
        self.hang = hang

    def __index__(self) -> int:
        if self.hang:
            while True:
                pass
        raise RuntimeError("no index")


@pytest.mark.parametrize("value", [0.9, 1.0, "1", float("inf"), True, None, [0], np.array([0.5])])
def test_a_move_that_is_not_an_integer_is_illegal(value: object) -> None:
    result = arena.play("kuhn_poker-v0", [Returns(value), "random"], seed=0)
    assert result.termination == "illegal_move" and result.culprit == 0 and result.illegal_moves == [1, 0]


@pytest.mark.parametrize("value", [np.int64(1), np.array(1)])
def test_numpy_integers_are_moves(value: object) -> None:
    result = arena.play("kuhn_poker-v0", [Returns(value), "random"], seed=0)
    assert result.termination == "normal" and result.illegal_moves == [0, 0]


def test_converting_the_move_is_the_agents_call() -> None:
    """Turning the returned value into an action id runs inside the guarded, timed call."""
    raised = arena.play("kuhn_poker-v0", [Returns(BadIndex(hang=False)), "random"], seed=0)
    assert raised.termination == "agent_error" and raised.errors == [1, 0] and "no index" in raised.message
    start = time.perf_counter()
    hung = arena.play("kuhn_poker-v0", [Returns(BadIndex(hang=True)), "random"], seed=0, move_time_limit=0.3)
    assert time.perf_counter() - start < 2.0
    assert hung.termination == "time_limit" and hung.timeouts == [1, 0]


@pytest.mark.parametrize("hanging", [SpinsForever, Sleeps])
def test_hanging_agent_is_stopped_at_the_time_limit(hanging: type[Agent]) -> None:
    start = time.perf_counter()
    result = arena.play("kuhn_poker-v0", [hanging(), "random"], seed=0, move_time_limit=0.3)
    assert time.perf_counter() - start < 2.0
    assert result.termination == "time_limit" and result.timeouts == [1, 0] and result.culprit == 0
    # a Python loop is interrupted; a blocking C call cannot be and is flagged so a worker can be replaced
    assert result.stuck_agent is (hanging is Sleeps)


def test_forfeit_in_three_player_zero_sum_game_shares_the_loss() -> None:
    result = arena.play("kuhn_poker-v0(players=3)", ["random", Illegal(), "random"], seed=0)
    assert result.payoffs == [1.0, -2.0, 1.0]


def test_online_feedback_in_repeated_games() -> None:
    learner = Recorder()
    arena.play("rps-v0", [learner, "fixed(action=paper)"], seed=0, record=None)
    arena.play(arena.make_env("rps-v0", rounds=4), [learner, "fixed(action=paper)"], seed=0)
    assert len(learner.feedback) == 4
    last = learner.feedback[-1]
    assert last.done and last.round == 3 and last.reward == -1.0
    assert last.joint_action == {"player_0": 0, "player_1": 1}
    assert np.array_equal(last.action_payoffs, [-1.0, 0.0, 1.0])


def test_wrong_number_of_agents() -> None:
    with pytest.raises(arena.ArenaError, match="needs 2 agents"):
        arena.play("kuhn_poker-v0", ["random"])


@pytest.mark.parametrize(
    "env_id", ["kuhn_poker-v0", "leduc_poker-v0", "goofspiel-v0", "rps-v0(rounds=5)", "liars_dice-v0", "tic_tac_toe-v0"]
)
def test_replay_round_trip(tmp_path, env_id: str) -> None:
    path = tmp_path / "match.jsonl"
    result = arena.play(env_id, ["random", "random"], seed=21, record=path)
    header, steps, recorded = read_replay(path)
    assert header["env_id"] == result.env_id and header["seed"] == 21
    assert len(steps) == result.length
    assert recorded["payoffs"] == result.payoffs
    assert np.allclose(np.sum([s["rewards"] for s in steps], axis=0), result.payoffs)
    assert all(m["text"] and m["action_name"] for s in steps for m in s["moves"])
    assert verify_replay(path)
    # a tampered replay no longer reproduces its rewards
    lines = path.read_text().splitlines()
    step = json.loads(lines[-2])
    step["rewards"] = [r + 1 for r in step["rewards"]]
    lines[-2] = json.dumps(step)
    path.write_text("\n".join(lines))
    assert not verify_replay(path)


def test_human_agent_reads_names_and_numbers_and_reasks() -> None:
    out = io.StringIO()
    human = HumanAgent(stdin=io.StringIO("fold\nBET\n"), stdout=out)
    result = arena.play("kuhn_poker-v0", [human, "fixed(action=Bet)"], seed=2)
    assert "not a legal move" in out.getvalue() and "Legal moves: Pass (0); Bet (1)" in out.getvalue()
    assert result.length == 2 and result.termination == "normal"  # bet, call
    numbers = HumanAgent(stdin=io.StringIO("0\n"), stdout=io.StringIO())
    assert arena.play("rps-v0", [numbers, "fixed(action=scissors)"], seed=0).payoffs == [1.0, -1.0]


def test_any_openspiel_game_string_plays() -> None:
    result = arena.play("openspiel:kuhn_poker(players=3)", ["random", "random", "random"], seed=4)
    assert result.env_id == "openspiel:kuhn_poker(players=3)" and len(result.payoffs) == 3


def test_make_rng_is_a_function_of_the_seed_and_reseeds_in_place() -> None:
    from arena.core import make_rng

    first = make_rng(2024).random(8)
    assert np.array_equal(first, make_rng(2024).random(8))
    assert not np.array_equal(first, make_rng(2025).random(8))
    reused = make_rng(7)
    reused.random(100)
    same = make_rng(2024, reused)
    assert same is reused and np.array_equal(same.random(8), first)
    assert np.array_equal(make_rng(np.int64(2024)).random(8), first)
    assert isinstance(make_rng(None), np.random.Generator)
    big = 2**200 + 3
    assert np.array_equal(make_rng(big).random(4), make_rng(big).random(4))


def test_a_table_plays_match_after_match_as_fresh_matches_are_played() -> None:
    """A Table keeps what stays the same between matches; each of its matches is the one `play` plays."""
    from arena.match import Table

    env = arena.make_env("leduc_poker-v0")
    agents = [arena.make_agent("cfr_plus(iterations=20)"), arena.make_agent("random")]
    table = Table(env, agents)
    for seed in range(30):
        at_table = table.play(seed)
        fresh = arena.play("leduc_poker-v0", ["cfr_plus(iterations=20)", "random"], seed=seed)
        assert (at_table.payoffs, at_table.length, at_table.outcomes) == (fresh.payoffs, fresh.length, fresh.outcomes)
    first, second = table.play(3), table.play(3)
    assert first.agents is not second.agents and first.env_params is not second.env_params  # no shared lists
    with pytest.raises(arena.ArenaError, match="illegal_moves"):
        Table(env, agents, illegal_moves="sometimes")
    with pytest.raises(arena.ArenaError, match="seed"):
        table.play(-1)


def test_the_chance_stream_is_uniform_and_a_function_of_the_seed() -> None:
    """The OpenSpiel env's chance draws: eight per hashed block, the ninth from the next block, all in [0, 1)."""
    from arena.envs.openspiel import _ChanceStream

    stream = _ChanceStream(11)
    long = [stream.random() for _ in range(20_000)]
    again = _ChanceStream(11)
    assert [again.random() for _ in range(9)] == long[:9] and again.block == 2  # the ninth draw opens block 2
    other = _ChanceStream(12)
    assert [other.random() for _ in range(9)] != long[:9] and stream.block == 2500
    assert all(0.0 <= d < 1.0 for d in long) and len(set(long)) == len(long)
    assert abs(np.mean(long) - 0.5) < 4 * (1 / 12 / len(long)) ** 0.5  # the mean of uniforms, within 4 sigma
    assert abs(np.mean(np.array(long) < 0.25) - 0.25) < 4 * (0.25 * 0.75 / len(long)) ** 0.5


class Vandal(Agent):
    """Overwrites every list it is shown and zeroes every array, then plays the first legal move."""

    def act(self, obs: Observation) -> int:
        legal = obs.legal_actions
        for value in obs.info.values():
            if isinstance(value, list):
                value[:] = ["x"] * len(value)
            elif isinstance(value, np.ndarray):
                value[...] = 0
        return legal[0]


def test_what_an_agent_is_shown_is_its_own_copy() -> None:
    """Kuhn's infos are cached per information state: changing them must not reach later matches."""
    named = ["fixed(action=Bet)", "mix(probs={Pass: 0.3, Bet: 0.7})"]  # agents that read the action names
    before = [arena.play("kuhn_poker-v0", named, seed=s).to_dict() for s in range(20)]
    for s in range(20):
        arena.play("kuhn_poker-v0", [Vandal(), Vandal()], seed=s)
    after = [arena.play("kuhn_poker-v0", named, seed=s).to_dict() for s in range(20)]
    for b, a in zip(before, after):
        b.pop("wall_time"), a.pop("wall_time")
    assert before == after


class Briber(Agent):
    """Finds the env through the garbage collector and makes it pay five chips a step."""

    def act(self, obs: Observation) -> int:
        import gc

        from arena.envs.openspiel import OpenSpielEnv

        for env in [o for o in gc.get_objects() if isinstance(o, OpenSpielEnv)]:
            step = type(env).step

            def bribed(self, action, step=step):
                step(self, action)
                self.rewards = {a: 5.0 for a in self.rewards}
                self._cumulative_rewards = {a: 5.0 for a in self.rewards}

            env.step = bribed.__get__(env)
        return obs.legal_actions[0]


class Forger(Briber):
    """Bribes the env and widens the game's payoff range to cover the bribe."""

    def act(self, obs: Observation) -> int:
        import gc

        from arena.envs.openspiel import OpenSpielEnv

        for env in [o for o in gc.get_objects() if isinstance(o, OpenSpielEnv)]:
            env.min_utility, env.max_utility = -100.0, 100.0
        return super().act(obs)


def test_a_payoff_outside_the_games_range_is_refused() -> None:
    with pytest.raises(arena.ArenaError, match="outside the game's range"):
        arena.play("kuhn_poker-v0", [Briber(), "random"], seed=0)
    with pytest.raises(arena.ArenaError, match=r"outside the game's range \[-2, 2\]"):  # the range at the start
        arena.play("kuhn_poker-v0", [Forger(), "random"], seed=0)


class Scribbler(Agent):
    """Plays the first legal move, then scribbles over everything it was shown."""

    def act(self, obs: Observation) -> int:
        action = obs.legal_actions[0]
        obs.info["legal_actions"].clear()
        obs.info["action_names"][:] = ["scribbled"] * len(obs.info["action_names"])
        obs.info["action_mask"][:] = 0
        obs.observation[:] = -7
        obs.info["text"] = "scribbled"
        if "action_payoffs" in obs.info:
            obs.info["action_payoffs"][:] = 99.0
        return action

    def observe(self, feedback: Feedback) -> None:
        if feedback.action_payoffs is not None:
            feedback.action_payoffs[:] = -99.0


class Witness(Agent):
    """Plays the first legal move and keeps what it was shown."""

    def reset(self, seed, player, env_spec) -> None:
        super().reset(seed, player, env_spec)
        self.seen: list[tuple[list[int], list[str], list[int], list[float], list[float] | None]] = []
        self.heard: list[list[float]] = []

    def act(self, obs: Observation) -> int:
        info, tensor = obs.info, obs.observation.tolist()
        payoffs = info["action_payoffs"].tolist() if "action_payoffs" in info else None
        self.seen.append(
            (list(obs.legal_actions), list(info["action_names"]), info["action_mask"].tolist(), tensor, payoffs)
        )
        return obs.legal_actions[0]

    def observe(self, feedback: Feedback) -> None:
        if feedback.action_payoffs is not None:
            self.heard.append(feedback.action_payoffs.tolist())


@pytest.mark.parametrize("env_id", ["kuhn_poker-v0", "leduc_poker-v0", "tic_tac_toe-v0", "rps-v0(rounds=5)"])
def test_what_an_agent_scribbles_on_reaches_no_one_else(env_id: str) -> None:
    """The env hands each agent objects of its own (cached descriptions are copied out, never lent; envs that
    build new ones at every step, `fresh_observations`, hand them over as they are)."""
    env = arena.make_env(env_id)
    assert fresh_observations(env)
    alone = Witness()
    arena.play(env, [Witness(), alone], seed=3)
    witness = Witness()
    arena.play(env, [Scribbler(), witness], seed=3)
    arena.play(env, [Scribbler(), witness], seed=3)
    assert (witness.seen, witness.heard) == (alone.seen, alone.heard)  # the second match, after two of scribbling
    assert all(names != ["scribbled"] * len(names) for _, names, _, _, _ in witness.seen)


def test_only_wrappers_that_hand_on_their_envs_objects_keep_them_fresh() -> None:
    from pettingzoo.utils import BaseParallelWrapper

    from arena.tournaments.worker import RoundLog

    env = arena.make_env("rps-v0(rounds=3)")
    assert fresh_observations(env) and fresh_observations(RoundLog(env))
    assert not fresh_observations(BaseParallelWrapper(env))  # a wrapper may reuse what it returns
    assert not fresh_observations(arena.make_env("tag-v0"))


def test_random_plays_uniformly_over_the_legal_moves_from_a_list_or_a_mask_alone() -> None:
    agent = arena.make_agent("random")
    listed = Observation("player_0", None, {"action_mask": np.array([1, 0, 1, 1], np.int8), "legal_actions": [0, 2, 3]})
    masked = Observation("player_0", None, {"action_mask": np.array([0, 1, 1, 0], np.int8)})
    assert np.array_equal(agent.action_probs(listed), [1 / 3, 0, 1 / 3, 1 / 3])
    assert np.array_equal(agent.action_probs(masked), [0, 0.5, 0.5, 0])


def test_sampling_action_probs_draws_what_numpys_choice_draws() -> None:
    """`Agent.act`'s default: for every probability vector (float64 or float32, sums off by up to 1e-3, zeros,
    negatives, plain lists) the same index or the same ValueError as `Generator.choice(len(p), p=p)`, and the
    generator left in the same state."""
    from arena.core import make_rng, sample

    source = np.random.default_rng(0)
    for trial in range(3000):
        probs: Any = source.random(int(source.integers(1, 8))) ** int(source.integers(1, 4))
        if trial % 5 == 0:
            probs[source.integers(len(probs))] = 0
        probs = probs / probs.sum() if probs.sum() > 0 else probs
        if trial % 7 == 0:
            probs = probs.astype(np.float32)
        if trial % 11 == 0:
            probs = probs * (1 + [1e-9, 1e-7, 1e-5, 1e-3][trial % 4])
        if trial % 13 == 0:
            probs[0] = -probs[0]
        if trial % 17 == 0:
            probs = list(probs)
        theirs, ours = make_rng(trial), make_rng(trial)
        try:
            expected: object = int(theirs.choice(len(probs), p=probs))
        except ValueError as exc:
            expected = str(exc).split(".")[0]
        try:
            got: object = sample(ours, probs)
        except ValueError as exc:
            got = str(exc)
        assert got == expected and theirs.random() == ours.random(), (trial, probs)
    for extreme in ([np.inf, -np.inf], [1e308, 1e308], [np.inf, 0.0], [-np.inf, 1.0], [np.nan, 1.0]):
        with pytest.raises(ValueError) as theirs:
            make_rng(0).choice(2, p=extreme)
        with pytest.raises(ValueError, match=str(theirs.value).split(".")[0]):
            sample(make_rng(0), np.array(extreme))
    with pytest.raises(ValueError, match="1-dimensional"):
        sample(make_rng(0), np.array([[0.5, 0.5]]))
