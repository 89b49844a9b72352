"""CFR and CFR+ reproduce OpenSpiel's solvers iteration by iteration, and the agents play their solutions."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import cfr as os_cfr
from open_spiel.python.algorithms import exploitability as os_exploitability

import arena
from arena.agents.cfr import CFRPlusSolver, CFRSolver
from arena.games import expected_payoffs, exploitability, load, nash_conv


@pytest.mark.parametrize("ours, theirs", [(CFRSolver, os_cfr.CFRSolver), (CFRPlusSolver, os_cfr.CFRPlusSolver)])
@pytest.mark.parametrize("env", ["kuhn_poker-v0", "kuhn_poker-v0(players=3)"])
def test_matches_openspiel_python_every_iteration(env, ours, theirs):
    game = load(env)
    solver, reference = ours(game), theirs(game.game)
    for _ in range(25):
        solver.iteration()
        reference.evaluate_and_update_policy()
        expected = os_exploitability.nash_conv(game.game, reference.average_policy())
        assert nash_conv(game, solver.policy()) == pytest.approx(expected, abs=1e-9)
    average = reference.average_policy()
    for key, (player, infoset) in game.key_index.items():
        row = average.action_probability_array[average.state_lookup[key]]
        assert np.allclose(solver.policy().probs[player][infoset], row, atol=1e-9)


@pytest.mark.parametrize("ours, theirs", [(CFRSolver, pyspiel.CFRSolver), (CFRPlusSolver, pyspiel.CFRPlusSolver)])
def test_matches_openspiel_cpp_on_leduc(ours, theirs):
    game = load("leduc_poker-v0")
    solver, reference = ours(game), theirs(game.game)
    for _ in range(20):
        solver.iteration()
        reference.evaluate_and_update_policy()
        expected = pyspiel.exploitability(game.game, reference.average_policy())
        assert exploitability(game, solver.policy()) == pytest.approx(expected, abs=1e-9)


GOOFSPIEL = "turn_based_simultaneous_game(game=goofspiel(num_cards=5,imp_info=True,points_order=descending))"
CPP = [(CFRSolver, pyspiel.CFRSolver), (CFRPlusSolver, pyspiel.CFRPlusSolver)]


def largest_difference(game, ours, theirs) -> float:
    """The largest difference between arena's and pyspiel's average policies over every information set."""
    probs = ours.policy().probs
    worst = 0.0
    for key, row in theirs.tabular_average_policy().policy_table().items():
        player, infoset = game.key_index[key]
        worst = max(worst, max(abs(probs[player][infoset, a] - p) for a, p in row))
    return worst


@pytest.mark.parametrize("ours, theirs", CPP)
def test_tied_regrets_follow_openspiel(ours, theirs):
    # Goofspiel's ties give regrets that are zero in exact arithmetic; regret matching turns a lone positive
    # round-off residue into a pure action, so arena must leave the same residue as OpenSpiel (before: apart at 3).
    game = load(GOOFSPIEL)
    solver, reference = ours(game), theirs(game.game)
    for _ in range(5):
        solver.iteration()
        reference.evaluate_and_update_policy()
        assert largest_difference(game, solver, reference) < 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("ours, theirs", CPP)
@pytest.mark.parametrize("env, iterations", [(GOOFSPIEL, 100), ("tic_tac_toe", 3)])  # apart at 3 and 2 before
def test_trajectories_follow_openspiel_cpp(env, iterations, ours, theirs):
    game = load(env)
    solver, reference = ours(game), theirs(game.game)
    for _ in range(iterations):
        solver.iteration()
        reference.evaluate_and_update_policy()
        assert largest_difference(game, solver, reference) < 1e-9
    if env == GOOFSPIEL:
        expected = pyspiel.exploitability(game.game, reference.average_policy())
        assert exploitability(game, solver.policy()) == pytest.approx(expected, abs=1e-9)


def test_published_leduc_trajectories():
    game = load("leduc_poker-v0")
    cfr, cfr_plus = CFRSolver(game), CFRPlusSolver(game)
    for _ in range(100):
        cfr.iteration()
        cfr_plus.iteration()
    assert exploitability(game, cfr.policy()) == pytest.approx(0.095716, abs=1e-6)
    assert exploitability(game, cfr_plus.policy()) == pytest.approx(0.013416, abs=1e-6)


def test_kuhn_converges_to_the_game_value():
    game = load("kuhn_poker-v0")
    solver = CFRPlusSolver(game)
    for _ in range(300):
        solver.iteration()
    assert exploitability(game, solver.policy()) < 1e-3
    assert expected_payoffs(game, solver.policy()) == pytest.approx([-1 / 18, 1 / 18], abs=1e-3)


def test_rps_converges():
    game = load("rps-v0")
    solver = CFRSolver(game)
    for _ in range(1000):
        solver.iteration()
    assert nash_conv(game, solver.policy()) < 1e-3


def test_cfr_plus_agent_plays(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    agent = arena.make_agent("cfr_plus", env="leduc_poker-v0", iterations=200)
    assert exploitability("leduc_poker-v0", agent) < 0.01
    assert list((tmp_path / "policies").glob("cfr_plus-*.json"))
    result = arena.play("leduc_poker-v0", [agent, "random"], seed=3)
    assert result.termination == "normal" and sum(result.payoffs) == 0
    # solved at reset from the env spec when no env is given; the cached file is reused
    lazy = arena.make_agent("cfr(iterations=50)")
    result = arena.play("kuhn_poker-v0", ["random", lazy], seed=1)
    assert result.termination == "normal"
    assert exploitability("kuhn_poker-v0", lazy) < 0.05


@pytest.mark.parametrize("ours", [CFRSolver, CFRPlusSolver])
@pytest.mark.parametrize("env", ["kuhn_poker-v0", "kuhn_poker-v0(players=3)", "openspiel:tiny_hanabi", "rps-v0"])
def test_small_games_loop_gives_the_same_bits(env, ours):
    from arena.agents.cfr import _FusedIteration

    game = load(env)
    fused, arrays = ours(game), ours(game)
    fused._fused, arrays._fused = _FusedIteration(game, fused._walk), None  # the generated iteration and the numpy walk
    for _ in range(30):
        fused.iteration()
        arrays.iteration()
    for name in ("regrets", "cumulative_policy", "behaviour", "plans"):
        for a, b in zip(getattr(fused, name), getattr(arrays, name)):
            assert np.array_equal(a, b)
