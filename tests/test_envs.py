"""Every registered env passes PettingZoo's own API tests and replays identically from the same seed."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo import AECEnv
from pettingzoo.test import api_test, parallel_api_test

import arena

ENV_IDS = [spec.id for spec in arena.list_envs()]


def _make(env_id: str):
    """The env with its registry example parameters, for ids that have no default game."""
    spec = next(s for s in arena.list_envs() if s.id == env_id)
    return arena.make_env(env_id, **spec.metadata.get("example", {}))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pettingzoo_api(env_id: str) -> None:
    env = _make(env_id)
    if isinstance(env, AECEnv):
        api_test(env, num_cycles=60)
    else:
        parallel_api_test(env, num_cycles=60)


def _rollout(env_id: str, seed: int, max_steps: int = 300) -> list:
    """Observations, rewards and infos' texts of one seeded episode with seeded random legal actions."""
    env = _make(env_id)
    rng = np.random.default_rng(1234)
    trace = []
    if isinstance(env, AECEnv):
        env.reset(seed=seed)
        for step, agent in enumerate(env.agent_iter(max_steps)):
            obs, reward, terminated, truncated, info = env.last()
            trace.append((agent, np.asarray(obs).copy(), reward, info.get("text"), info.get("info_state")))
            action = None if terminated or truncated else int(rng.choice(np.flatnonzero(info["action_mask"])))
            env.step(action)
            if step >= max_steps:
                break
    else:
        observations, infos = env.reset(seed=seed)
        trace.append(({a: np.asarray(o).copy() for a, o in observations.items()}, None))
        for _ in range(max_steps):
            if not env.agents:
                break
            actions = {a: int(rng.choice(np.flatnonzero(infos[a]["action_mask"]))) for a in env.agents}
            observations, rewards, *_, infos = env.step(actions)
            trace.append(({a: np.asarray(o).copy() for a, o in observations.items()}, dict(rewards)))
    env.close()
    return trace


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seeded_determinism(env_id: str) -> None:
    first, second = _rollout(env_id, seed=7), _rollout(env_id, seed=7)
    assert len(first) > 1
    assert _same(first, second)


def test_info_contract_on_every_env() -> None:
    for env_id in ENV_IDS:
        env = _make(env_id)
        if isinstance(env, AECEnv):
            env.reset(seed=0)
            info = env.infos[env.agent_selection]
        else:
            _, infos = env.reset(seed=0)
            info = infos[env.agents[0]]
        for key in ("action_mask", "legal_actions", "action_names", "text"):
            assert key in info, (env_id, key)
        assert info["legal_actions"] == [int(a) for a in np.flatnonzero(info["action_mask"])]
        assert isinstance(info["text"], str) and info["text"]
        env.close()


def test_a_repeated_games_text_tells_each_player_the_rounds_so_far() -> None:
    """The history is kept as text round by round (a long game's text is built in one copy, not re-joined from
    every earlier round at each step); what a player reads is unchanged: these are the texts of player 1."""
    env = arena.make_env("prisoners_dilemma-v0(rounds=3)")
    _, infos = env.reset(seed=0)
    ends = [infos["player_1"]["text"].partition("you 1, them 1\n")[2]]
    for joint in ([0, 1], [1, 1], [1, 0]):
        infos = env.step({"player_0": joint[0], "player_1": joint[1]})[4]
        ends.append(infos["player_1"]["text"].partition("you 1, them 1\n")[2])
    assert ends == [
        "This is round 1 of 3.\nLegal moves: cooperate (0); defect (1).",
        "History: round 1: player 0 cooperate, you defect.\n"
        "This is round 2 of 3.\nLegal moves: cooperate (0); defect (1).",
        "History: round 1: player 0 cooperate, you defect; round 2: player 0 defect, you defect.\n"
        "This is round 3 of 3.\nLegal moves: cooperate (0); defect (1).",
        "History: round 1: player 0 cooperate, you defect; round 2: player 0 defect, you defect; "
        "round 3: player 0 defect, you cooperate.\nThe game is over.",
    ]
    _, infos = env.reset(seed=1)  # a new match starts with no history
    assert "History" not in infos["player_0"]["text"]


def test_kuhn_text_and_info_state() -> None:
    env = arena.make_env("kuhn_poker-v0")
    env.reset(seed=3)
    info = env.infos["player_0"]
    assert info["info_state"] in {"0", "1", "2"}
    assert "Pass (0); Bet (1)" in info["text"]
    assert info["action_names"] == ["Pass", "Bet"]
    assert env.render_mode is None
    ansi = arena.make_env("kuhn_poker-v0", render_mode="ansi")
    ansi.reset(seed=3)
    assert isinstance(ansi.render(), str)


def test_kuhn_three_players_and_chance_from_seed() -> None:
    env = arena.make_env("kuhn_poker-v0", players=3)
    assert env.possible_agents == ["player_0", "player_1", "player_2"]
    deals = set()
    for seed in range(30):
        env.reset(seed=seed)
        deals.add(tuple(env.infos[a]["info_state"] for a in env.possible_agents))
    assert len(deals) > 5  # chance really is sampled from the seed


def test_goofspiel_is_turn_based_imperfect_information() -> None:
    env = arena.make_env("goofspiel-v0")
    assert isinstance(env, AECEnv)
    assert "turn_based_simultaneous_game" in env.game.get_type().short_name
    env.reset(seed=0)
    assert env.infos["player_0"]["legal_actions"] == [0, 1, 2, 3]


def test_repeated_matrix_history_and_full_information_feedback() -> None:
    env = arena.make_env("rps-v0", rounds=3)
    observations, _ = env.reset(seed=0)
    assert observations["player_0"].tolist() == [[-1, -1]] * 3
    observations, rewards, terminations, _, infos = env.step({"player_0": 0, "player_1": 2})
    assert rewards == {"player_0": 1.0, "player_1": -1.0}
    assert observations["player_1"][0].tolist() == [0, 2]
    # rock, paper, scissors against scissors: +1, -1, 0
    assert infos["player_0"]["action_payoffs"].tolist() == [1.0, -1.0, 0.0]
    # player 1's alternatives against rock: rock 0, paper +1, scissors -1
    assert infos["player_1"]["action_payoffs"].tolist() == [0.0, 1.0, -1.0]
    assert not any(terminations.values())


def test_preference_game_is_zero_sum_from_preferences() -> None:
    env = arena.make_env("preference-v0")
    p = np.array([[0.5, 0.9, 0.3], [0.1, 0.5, 0.8], [0.7, 0.2, 0.5]])
    assert np.allclose(env.payoffs[0], p - 0.5)
    assert np.allclose(env.payoffs[0] + env.payoffs[1], 0)
    with pytest.raises(arena.ArenaError):
        arena.make_env("preference-v0", preferences=[[0.5, 0.9], [0.9, 0.5]])


def test_random_and_custom_matrix_games() -> None:
    a = arena.make_env("random_matrix-v0", size=4, seed=5)
    b = arena.make_env("random_matrix-v0(size=4, seed=5)")
    assert a.payoffs.shape == (2, 4, 4) and np.array_equal(a.payoffs, b.payoffs)
    assert np.allclose(a.payoffs[0], -a.payoffs[1])
    general = arena.make_env("random_matrix-v0", size=2, zero_sum=False, players=3)
    assert general.payoffs.shape == (3, 2, 2, 2)
    custom = arena.make_env("matrix-v0", payoffs=[[[1, 0], [0, 1]], [[1, 0], [0, 1]]], action_names=[["x", "y"]] * 2)
    assert custom.action_names_per_player[0] == ["x", "y"]


def test_any_openspiel_game_string() -> None:
    env = arena.make_env("openspiel:liars_dice(numdice=2)")
    env.reset(seed=1)
    assert env.game.get_parameters()["numdice"] == 2
    api_test(arena.make_env("openspiel:tiny_hanabi"), num_cycles=20)


CACHED_GAMES = ["kuhn_poker", "leduc_poker", "goofspiel(num_cards=3,imp_info=true)", "liars_dice", "tiny_hanabi"]


@pytest.mark.parametrize("game_string", CACHED_GAMES)
def test_cached_infos_equal_fresh_ones_and_are_private_copies(game_string: str) -> None:
    """describe_state caches by information set; every cached answer (the information-state tensor included) must
    equal the one built from scratch."""
    from arena.envs.openspiel import _build_info, _facts, _tensor, _view, describe_state, load_game

    game = load_game(game_string)
    facts = _facts(game)
    stack, checked = [game.new_initial_state()], 0
    while stack and checked < 3000:
        state = stack.pop()
        if state.is_chance_node():
            stack.extend(state.child(a) for a, _ in state.chance_outcomes())
            continue
        for player in range(game.num_players()):
            for _ in range(2):  # the second call is answered from the cache
                cached = describe_state(game, state, player)
                fresh = _build_info(game, facts, state, player, state.is_terminal())
                assert cached.keys() == fresh.keys()
                assert np.array_equal(cached["action_mask"], fresh["action_mask"])
                assert {k: v for k, v in cached.items() if k != "action_mask"} == {
                    k: v for k, v in fresh.items() if k != "action_mask"
                }
            terminal = state.is_terminal()
            view = _view(game, facts, state, player, terminal, -1 if terminal else state.current_player())
            if view.tensor is not None:
                assert np.array_equal(view.tensor, _tensor(facts.tensor, state, player))
            cached["action_mask"][:] = 7
            cached["legal_actions"].append(-1)
            again = describe_state(game, state, player)
            assert -1 not in again["legal_actions"] and 7 not in again["action_mask"]
            checked += 1
        if not state.is_terminal():
            stack.extend(state.child(a) for a in state.legal_actions())
    assert checked > 50


@pytest.mark.parametrize("game_string", CACHED_GAMES)
def test_infos_built_on_demand_equal_every_players_description(game_string: str) -> None:
    """The env builds a player's info when it is read (`last` reads only the mover's); whenever and however it is
    read, it is what describe_state says of the state at that step, and the tensor is the state's own."""
    from arena.envs.openspiel import _tensor, describe_state

    env = arena.make_env(f"openspiel:{game_string}")
    rng = np.random.default_rng(3)
    for seed in range(30):
        env.reset(seed=seed)
        while env.agents:
            agent = env.agent_selection
            if env.terminations[agent]:
                env.step(None)
                continue
            tensor, _, _, _, info = env.last()
            assert info is env.infos[agent]
            for player, seen in env.infos.items():
                expected = describe_state(env.game, env.state, env._index[player])
                assert np.array_equal(seen.pop("action_mask"), expected.pop("action_mask"))
                assert seen == expected
            assert np.array_equal(tensor, _tensor(env._game_facts.tensor, env.state, env._index[agent]))
            env.step(int(rng.choice(info["legal_actions"])))


def test_chance_nodes_read_once_deal_what_they_dealt_unread_and_the_cache_stays_bounded(monkeypatch) -> None:
    """Pig rolls a die at every turn: its chance nodes fill the cache, which starts over at its bound, and every
    match deals as it did with nothing cached."""
    from arena.envs import openspiel

    def histories(seeds: range) -> list[list[int]]:
        env, rng, played = arena.make_env("openspiel:pig"), np.random.default_rng(0), []
        for seed in seeds:
            env.reset(seed=seed)
            while env.agents and not env.terminations[env.agent_selection]:
                env.step(int(rng.choice(env.last()[4]["legal_actions"])))
            played.append(env.action_history())
        return played

    monkeypatch.setattr(openspiel, "_MAX_CACHED_CHANCES", 0)  # all but the newest node forgotten: each is read anew
    unread = histories(range(20))
    monkeypatch.setattr(openspiel, "_MAX_CACHED_CHANCES", 50)
    assert histories(range(20)) == unread
    facts = openspiel._facts(arena.make_env("openspiel:pig").game)
    assert 0 < len(facts.chances) <= 50


def test_chance_is_sampled_as_the_running_total_passes_a_uniform_draw() -> None:
    """The env's chance sampling, against the plain loop over outcomes it replaced (same stream, same outcome)."""
    from arena.envs.openspiel import _ChanceStream

    env = arena.make_env("leduc_poker-v0")
    rng = np.random.default_rng(0)
    for seed in range(200):
        env.reset(seed=seed)
        while not env.terminations[env.agent_selection]:  # public cards are dealt mid-game
            env.step(int(rng.choice(env.last()[4]["legal_actions"])))
        stream, state = _ChanceStream(seed), env.game.new_initial_state()
        for action in env.action_history():
            if state.is_chance_node():
                outcomes = state.chance_outcomes()
                threshold, total, chosen = stream.random() * sum(p for _, p in outcomes), 0.0, outcomes[-1][0]
                for outcome, probability in outcomes:
                    total += probability
                    if threshold < total:
                        chosen = outcome
                        break
                assert action == chosen
            state.apply_action(action)
