"""Balanced and Adaptive FTRL: the balanced transitions, the trajectory sampler, and exploitability falling with
the number of sampled realizations on Kuhn poker."""

from __future__ import annotations

import numpy as np
import pytest

import arena
from arena.agents.balanced_ftrl import TrajectorySampler, balanced_tree
from arena.core import ParameterError
from arena.games import exploitability, load, policy_from_agent, solve

UNIFORM_KUHN_EXPLOITABILITY = 0.4583333333333333


def test_balanced_transitions_of_kuhn() -> None:
    policy, reach = balanced_tree(load("kuhn_poker-v0").players[0])
    # a first decision: pass leads to one more 2-action decision (3 sequences below it), bet to none (1)
    np.testing.assert_allclose(policy[:3], [[0.75, 0.25]] * 3)
    np.testing.assert_allclose(policy[3:], [[0.5, 0.5]] * 3)
    np.testing.assert_allclose(reach, [4 / 13] * 3 + [8 / 39] * 3)


def test_balanced_transitions_make_every_sequence_equally_likely_to_end_a_trajectory() -> None:
    tree = load("leduc_poker-v0").players[1]
    policy, reach = balanced_tree(tree)
    np.testing.assert_allclose(policy.sum(axis=1), 1.0)
    plan = tree.realization_plan(policy)
    subtree = np.ones(tree.num_sequences)
    for infosets in reversed(tree.level_infosets):
        sizes = np.where(tree.legal[infosets], subtree[tree.seq[infosets]], 0.0).sum(axis=1)
        subtree += np.bincount(tree.parent_seq[infosets], sizes, minlength=len(subtree))
    # reaching sequence s under (mu*, p*) has probability T(s) / T(empty); it is the last one with prob. 1 / T(s)
    sequence_reach = plan[1:] * reach[tree.seq_infoset[1:]]
    np.testing.assert_allclose(sequence_reach / subtree[1:], 1 / subtree[0], rtol=1e-12)


def test_sampled_terminals_follow_chance_and_the_policies() -> None:
    game = load("kuhn_poker-v0")
    rng = np.random.default_rng(1)
    probs = []
    for tree in game.players:
        raw = rng.uniform(0.1, 1, size=tree.legal.shape) * tree.legal
        probs.append(raw / raw.sum(axis=1, keepdims=True))
    plans = [tree.realization_plan(p) for tree, p in zip(game.players, probs)]
    sampler = TrajectorySampler(game, seed=0)
    counts = np.zeros(len(game.terminal_history))
    for _ in range(20000):
        terminal, steps = sampler.sample(probs)
        counts[terminal] += 1
        for player, path in enumerate(steps):
            for infoset, _, reach in path:  # own reach before acting = the plan of the parent sequence
                assert reach == pytest.approx(plans[player][game.players[player].parent_seq[infoset]])
    exact = game.terminal_chance.copy()
    for player, plan in enumerate(plans):
        exact *= plan[game.terminal_seq[:, player]]
    assert np.abs(counts / counts.sum() - exact).max() < 0.01


@pytest.mark.parametrize("solver", ["balanced_ftrl", "adaptive_ftrl"])
def test_exploitability_falls_with_realizations_on_kuhn(solver: str) -> None:
    result = solve("kuhn_poker-v0", solver, 5000, eval_every=500, seed=0)
    assert result.realizations == 5000
    gaps = dict((t, g) for t, g, _ in result.curve)
    # measured (seed 0): balanced 0.227 -> 0.111, adaptive 0.220 -> 0.125 from 500 to 5000 realizations
    assert gaps[5000] < 0.16 < UNIFORM_KUHN_EXPLOITABILITY
    assert gaps[5000] < gaps[500] * 0.7


def test_balanced_ftrl_agent(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    game = load("kuhn_poker-v0")
    agent = arena.make_agent("balanced_ftrl(iterations=2000, seed=3)", env="kuhn_poker-v0")
    assert exploitability(game, policy_from_agent(game, agent)) < 0.3
    with pytest.raises(ParameterError, match="gamma must be positive"):
        arena.make_agent("adaptive_ftrl(gamma=0)")
