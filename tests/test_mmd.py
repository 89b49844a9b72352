"""Magnetic mirror descent: linear last-iterate convergence on RPS and Kuhn poker, to the same regularised
equilibrium Nash mirror prox finds."""

from __future__ import annotations

import numpy as np
from open_spiel.python.algorithms import mmd_dilated

import arena
from arena.agents.dilated import masked_log
from arena.agents.mmd import MagneticMirrorDescent
from arena.agents.nash_mp import NashMirrorProx
from arena.games import exploitability, load, policy_from_agent


def test_last_iterate_converges_linearly_on_rps() -> None:
    game = load("rps-v0")
    solver = MagneticMirrorDescent(game, eta=0.3, alpha=0.3)
    skewed = masked_log(np.array([[0.7, 0.2, 0.1]]), game.players[0].legal)
    solver.log_probs = [skewed, skewed.copy()]  # start away from the equilibrium (the magnet is uniform)
    gaps = []
    for _ in range(4):
        for _ in range(100):
            solver.iteration()
        gaps.append(exploitability(game, solver.policy()))
    assert gaps[0] < 0.01  # measured 5.3e-4, 4.0e-7, 2.6e-10, 1.4e-13 after 100, 200, 300, 400 iterations
    assert all(later < earlier / 100 for earlier, later in zip(gaps, gaps[1:]))  # geometric decrease
    assert gaps[-1] < 1e-9


def test_mmd_and_nash_mp_reach_the_same_regularised_equilibrium_on_kuhn() -> None:
    game = load("kuhn_poker-v0")
    mmd = MagneticMirrorDescent(game, eta=1.0, alpha=0.05)
    nash_mp = NashMirrorProx(game, eta=1.0, beta=0.05)
    for _ in range(600):
        mmd.iteration()
        nash_mp.iteration()
    for ours, theirs in zip(mmd.policy().probs, nash_mp.policy().probs):
        np.testing.assert_allclose(ours, theirs, atol=1e-8)
    assert abs(exploitability(game, mmd.policy()) - 0.0501518) < 1e-6  # the alpha = 0.05 equilibrium's


def test_mmd_agent_plays_its_last_iterate(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    game = load("kuhn_poker-v0")
    agent = arena.make_agent("mmd(iterations=1000)", env="kuhn_poker-v0")
    assert exploitability(game, policy_from_agent(game, agent)) < 0.01  # measured 0.0052 (eta 0.5, alpha 0.01)


def test_iterates_equal_openspiel_mmd_dilated_with_the_counting_magnet() -> None:
    # OpenSpiel's MMDDilatedEnt regularises with the dilated entropy itself, i.e. KL to the counting measure.
    game = load("kuhn_poker-v0")
    ours = MagneticMirrorDescent(game, eta=0.5, alpha=0.1, magnet="counting")
    uniform = MagneticMirrorDescent(game, eta=0.5, alpha=0.1)  # the default magnet
    theirs = mmd_dilated.MMDDilatedEnt(game.game, alpha=0.1, stepsize=0.5)
    for _ in range(10):
        ours.iteration()
        uniform.iteration()
        theirs.update_sequences()
    reference = theirs.get_policies()
    largest = 0.0
    for key, row in ours.policy().to_dict().items():
        expected = reference.action_probability_array[reference.state_lookup[key]]
        np.testing.assert_allclose(row, expected, atol=1e-12)
        largest = max(largest, float(np.abs(uniform.policy().to_dict()[key] - expected).max()))
    assert largest > 0.01  # the uniform magnet is another regulariser: measured 0.064 after 10 iterations


def test_counting_magnet_is_an_agent_option(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    agent = arena.make_agent("mmd(iterations=10, eta=0.5, alpha=0.1, magnet=counting)", env="kuhn_poker-v0")
    game = load("kuhn_poker-v0")
    theirs = mmd_dilated.MMDDilatedEnt(game.game, alpha=0.1, stepsize=0.5)
    for _ in range(10):
        theirs.update_sequences()
    reference = theirs.get_policies()
    for key in game.key_index:
        expected = reference.action_probability_array[reference.state_lookup[key]]
        np.testing.assert_allclose(agent.solution.action_probs(key), expected, atol=1e-12)
