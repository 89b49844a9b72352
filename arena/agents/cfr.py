"""CFR and CFR+ over the compiled game, with alternating updates exactly as OpenSpiel's CFRSolver / CFRPlusSolver.

One iteration updates the players in turn. For player i, against the others' current strategies:
  1. the value of every history under the current strategies, bottom-up over the history tree depth by depth;
  2. regret[I, a] += cfr_reach(h) * (v(h, a) - v(h)) for every history h of I     (RM+: then clamp at 0)
  3. cumulative policy[I, a] += w_t * x_i(I, a)   (x_i: i's realization plan; w_t = 1, or t for linear averaging)
  4. sigma_i <- regret matching of the cumulative regrets (uniform where no regret is positive).
Steps 1 and 2 follow OpenSpiel's order of floating-point operations (see _HistoryWalk), so that regrets which tie in
exact arithmetic leave the same round-off residue. The average policy (cumulative policy normalised per infoset) is
what converges to a Nash equilibrium.
Zinkevich et al. 2007 (CFR); Tammelin 2014 (CFR+: RM+, alternating updates, linear averaging).
"""

from __future__ import annotations

import numpy as np

from arena.games.policy import TabularPolicy
from arena.games.solve import Solver
from arena.games.tree import CHANCE, PlayerTree, TabularGame


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
        self._walk = _HistoryWalk(game)

    def iteration(self) -> None:
        self.iterations += 1
        weight = float(self.iterations) if self.linear_averaging else 1.0
        for player, tree in enumerate(self.game.players):
            regrets = self._walk.accumulate_regrets(player, self.regrets[player], self.behaviour, self.plans)
            if self.regret_matching_plus:
                np.maximum(regrets, 0.0, out=regrets)
            self.regrets[player] = regrets
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


class _HistoryWalk:
    """One CFR pass of a player over the history tree, in OpenSpiel's floating-point order.

    Regrets that are zero in exact arithmetic (actions of equal value, as in Goofspiel or tic-tac-toe) come out of
    any floating-point CFR as round-off residue of either sign, and regret matching turns a lone positive residue
    into a pure action: the trajectory then depends on the residue. So the pass does OpenSpiel's arithmetic
    operation for operation: the value of a history is sum_a prob(a) * value(child) in action order starting from
    0; every history h of the player's infoset I adds cfr_reach(h) * (value(h, a) - value(h)) to regret[I, a],
    histories taken in depth-first order; cfr_reach(h) multiplies the other players' reach in player order, then
    chance. Each product and sum is vectorised per depth (np.bincount adds in index order).
    """

    def __init__(self, game: TabularGame) -> None:
        self.game = game
        parents = game.history_parent
        levels = game.depth_slices
        self.levels = [
            (level, parents[level] - above.start, above)
            for above, level in zip(reversed(levels[:-1]), reversed(levels[1:]))
        ]
        mover = np.full(game.num_histories, CHANCE, dtype=np.int64)
        mover[1:] = game.history_player[parents[1:]]
        self.moves = [np.flatnonzero(mover == p) for p in range(game.num_players)]
        self.move_seqs = [game.history_seq[moves] for moves in self.moves]
        self.terminal_values = []
        self.children, self.child_parents, self.targets, self.other_last, self.chance_reach = [], [], [], [], []
        last = game.history_last_seq
        for p, tree in enumerate(game.players):
            values = np.zeros(game.num_histories)
            values[game.terminal_history] = game.terminal_utility[:, p]
            self.terminal_values.append(values)
            children = self.moves[p][np.argsort(game.history_preorder[self.moves[p]], kind="stable")]
            child_parents = parents[children]
            self.children.append(children)
            self.child_parents.append(child_parents)
            self.targets.append(np.concatenate([np.arange(tree.num_sequences), game.history_seq[children]]))
            self.other_last.append([(q, last[child_parents, q]) for q in range(game.num_players) if q != p])
            self.chance_reach.append(game.history_chance_reach[child_parents])

    def accumulate_regrets(
        self, player: int, regrets: np.ndarray, behaviour: list[np.ndarray], plans: list[np.ndarray]
    ) -> np.ndarray:
        """regrets plus this iteration's counterfactual regrets of `player` (a new array)."""
        weights = self.game.history_chance_prob.copy()
        for moves, seqs, probs in zip(self.moves, self.move_seqs, behaviour):
            weights[moves] = probs[seqs]
        values = self.terminal_values[player].copy()
        for level, local, above in self.levels:
            values[above] += np.bincount(local, weights[level] * values[level], above.stop - above.start)
        reach = np.ones(len(self.children[player]))
        for q, last in self.other_last[player]:
            reach *= plans[q][last]
        reach *= self.chance_reach[player]
        children = self.children[player]
        terms = reach * (values[children] - values[self.child_parents[player]])
        return np.bincount(self.targets[player], np.concatenate([regrets, terms]), len(regrets))
