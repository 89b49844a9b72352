"""CFR and CFR+ over the sequence form, with alternating updates exactly as OpenSpiel's CFRSolver / CFRPlusSolver.

One iteration updates the players in turn. For player i, against the others' current realization plans:
  1. counterfactual values of i's sequences: what each sequence collects at terminals (a sparse matrix-vector
     product), then infoset values added bottom-up into parent sequences under i's current strategy;
  2. regret[I, a] += v(I, a) - sum_b sigma(I, b) v(I, b)            (RM+: then clamp at 0)
  3. cumulative policy[I, a] += w_t * x_i(I, a)   (x_i: i's realization plan; w_t = 1, or t for linear averaging)
  4. sigma_i <- regret matching of the cumulative regrets (uniform where no regret is positive).
The average policy (cumulative policy normalised per infoset) is what converges to a Nash equilibrium.
Zinkevich et al. 2007 (CFR); Tammelin 2014 (CFR+: RM+, alternating updates, linear averaging).
"""

from __future__ import annotations

import numpy as np

from arena.games.policy import TabularPolicy
from arena.games.solve import Solver
from arena.games.tree import PlayerTree, TabularGame


def regret_matching(tree: PlayerTree, regrets: np.ndarray) -> np.ndarray:
    """Per-sequence action probabilities proportional to positive regret (uniform where none is positive)."""
    positive = np.maximum(regrets, 0.0)
    positive[0] = 0.0
    totals = tree.broadcast(tree.per_infoset_sums(positive))
    behaviour = np.empty_like(regrets)
    behaviour[0] = 1.0
    behaviour[1:] = 1.0 / tree.broadcast(tree.actions_per_infoset)
    np.divide(positive[1:], totals, out=behaviour[1:], where=totals > 0)
    return behaviour


def normalised_average(tree: PlayerTree, cumulative: np.ndarray) -> np.ndarray:
    """probs[I, a] = cumulative[s(I, a)] / sum_b cumulative[s(I, b)], uniform where the sum is 0."""
    totals = tree.per_infoset_sums(cumulative)
    probs = np.zeros(tree.legal.shape)
    probs[tree.seq_infoset[1:], tree.seq_action[1:]] = (
        cumulative[1:] / np.where(totals > 0, totals, 1.0)[tree.seq_infoset[1:]]
    )
    uniform = tree.legal / tree.legal.sum(axis=1, keepdims=True)
    return np.where((totals > 0)[:, None], probs, uniform)


class CFRSolver(Solver, name="cfr"):
    """Vanilla CFR: regret matching, alternating updates, uniform averaging."""

    description = "CFR with alternating updates; solves the env, plays the average policy (exact)"
    regret_matching_plus = False
    linear_averaging = False

    def __init__(self, game: TabularGame) -> None:
        super().__init__(game)
        self.regrets = [np.zeros(tree.num_sequences) for tree in game.players]
        self.cumulative_policy = [np.zeros(tree.num_sequences) for tree in game.players]
        self.behaviour = [regret_matching(tree, r) for tree, r in zip(game.players, self.regrets)]
        self.plans = [tree.plan_from_sequence_probs(b) for tree, b in zip(game.players, self.behaviour)]

    def iteration(self) -> None:
        self.iterations += 1
        weight = float(self.iterations) if self.linear_averaging else 1.0
        for player, tree in enumerate(self.game.players):
            behaviour = self.behaviour[player]
            values = tree.subtree_values(self.game.sequence_values(player, self.plans), behaviour)
            infoset_values = tree.per_infoset_sums(behaviour * values)
            regrets = self.regrets[player]
            regrets[1:] += values[1:] - tree.broadcast(infoset_values)
            if self.regret_matching_plus:
                np.maximum(regrets, 0.0, out=regrets)
            self.cumulative_policy[player] += weight * self.plans[player]
            self.behaviour[player] = regret_matching(tree, regrets)
            self.plans[player] = tree.plan_from_sequence_probs(self.behaviour[player])

    def policy(self) -> TabularPolicy:
        """The average policy, which converges to a Nash equilibrium in two-player zero-sum games."""
        return TabularPolicy(
            self.game, [normalised_average(tree, c) for tree, c in zip(self.game.players, self.cumulative_policy)]
        )

    def current_policy(self) -> TabularPolicy:
        """The last iterate sigma_t (which need not converge)."""
        probs = []
        for tree, behaviour in zip(self.game.players, self.behaviour):
            table = np.zeros(tree.legal.shape)
            table[tree.seq_infoset[1:], tree.seq_action[1:]] = behaviour[1:]
            probs.append(table)
        return TabularPolicy(self.game, probs)


class CFRPlusSolver(CFRSolver, name="cfr_plus"):
    """CFR+: regret matching+ (cumulative regrets clamped at 0), alternating updates, linear averaging."""

    description = "CFR+ (regret matching+, linear averaging); solves the env, plays the average policy"
    regret_matching_plus = True
    linear_averaging = True
