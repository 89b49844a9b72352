"""solve(), the solver registry, cached solutions and the agents that play them."""

from __future__ import annotations

import pytest

import arena
from arena.core import ParameterError, UnknownNameError
from arena.games import Solver, exploitability, load, nash_conv, solve
from arena.games import solvers as SOLVERS
from arena.games.solve import SolverAgent, cached_policy, evaluation_points


def test_solve_records_the_curve():
    result = arena.solve("kuhn_poker-v0", "cfr_plus", 100, eval_every=10)
    assert [t for t, _, _ in result.curve] == list(range(10, 101, 10))
    gaps = [g for _, g, _ in result.curve]
    assert gaps[-1] == pytest.approx(exploitability("kuhn_poker-v0", result.policy))
    assert gaps[-1] < gaps[0] and result.realizations == 0
    assert all(b[2] >= a[2] for a, b in zip(result.curve, result.curve[1:]))


def test_nash_conv_curve_for_three_players():
    result = solve("kuhn_poker-v0(players=3)", "cfr", 20, eval_every=20)
    assert result.final_gap == pytest.approx(nash_conv("kuhn_poker(players=3)", result.policy))


def test_evaluation_points():
    assert evaluation_points(10, 3) == [3, 6, 9, 10]
    points = evaluation_points(1000, None)
    assert points[0] == 1 and points[-1] == 1000 and len(points) <= 41


def test_registry_and_errors():
    assert {"cfr", "cfr_plus"} <= set(SOLVERS)
    with pytest.raises(UnknownNameError, match="did you mean cfr_plus"):
        solve("kuhn_poker-v0", "cfr_pluss", 10)
    with pytest.raises(ParameterError, match="no parameter"):
        solve("kuhn_poker-v0", "cfr", 10, alpha=1.0)
    with pytest.raises(ParameterError, match="positive"):
        solve("kuhn_poker-v0", "cfr", 0)
    with pytest.raises(TypeError):
        Solver(load("kuhn_poker-v0"))  # abstract


def test_policy_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    game = load("kuhn_poker-v0")
    first = cached_policy(game, "cfr_plus", 30)
    files = list((tmp_path / "policies").iterdir())
    assert len(files) == 1
    again = cached_policy(game, "cfr_plus", 30)
    assert again.to_dict() == first.to_dict() and list((tmp_path / "policies").iterdir()) == files
    cached_policy(game, "cfr_plus", 31)
    assert len(list((tmp_path / "policies").iterdir())) == 2


def test_solver_agent_in_repeated_matrix_game(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    agent = arena.make_agent("cfr(iterations=500)")
    result = arena.play("rps-v0(rounds=5)", [agent, "random"], seed=2)
    assert result.termination == "normal" and result.length == 5
    assert nash_conv("rps-v0", agent) < 0.01
    with pytest.raises(ParameterError):
        SolverAgent("cfr", iterations=0)


def test_solver_agent_on_openspiel_game_strings():
    agent = arena.make_agent("cfr_plus(iterations=100, cache=false)")
    expected = solve("kuhn_poker", "cfr_plus", 100).final_gap
    assert exploitability("openspiel:kuhn_poker", agent) == pytest.approx(expected)


def test_solver_agents_share_one_compiled_game(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    from arena.games import tree

    first = arena.make_agent("cfr_plus(iterations=20)", env="leduc_poker-v0")
    second = arena.make_agent("cfr_plus(iterations=20)")
    assert load("leduc_poker-v0") is first.solution.game
    monkeypatch.setattr(tree, "make_env", lambda spec: pytest.fail(f"{spec} built again"))
    for seed in range(3):  # resets for the same game build no env and walk no tree
        result = arena.play("leduc_poker-v0", [first, second], seed=seed)
        assert result.termination == "normal"
    assert second.solution is first.solution  # the solved policy and its lookup are shared too
    assert second._table is first._table


def test_solver_agent_samples_as_numpy_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    import copy

    from arena.core import Observation

    agent = arena.make_agent("cfr(iterations=3)", env="leduc_poker-v0")
    agent.reset(7, "player_0", arena.make_env("leduc_poker-v0").spec)
    rng = copy.deepcopy(agent.rng)
    game = agent.solution.game
    for key in game.players[0].keys:
        obs = Observation(player="player_0", observation=None, info={"info_state": key, "action_mask": [1, 1, 1]})
        probs = agent.action_probs(obs)
        for _ in range(5):
            assert agent.act(obs) == int(rng.choice(len(probs), p=probs))
