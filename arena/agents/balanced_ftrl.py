"""Balanced FTRL and Adaptive FTRL: learning from sampled trajectories only (trajectory feedback).

From "Adapting to game trees in zero-sum imperfect information games" (Fiegel, Menard, Kozuno, Munos, Perchet &
Valko, ICML 2023). Unlike full-feedback solvers, these never evaluate the game tree: each iteration plays ONE
realization (a trajectory sampled with the players' current policies and chance) and learns only from what it
shows, the final payoff. `realizations` counts them; exploitability is reported against that count.

One iteration, for every player i:
  1. the realization ends at terminal z; i's loss is l = (u_max - u_i(z)) / (u_max - u_min) in [0, 1];
  2. the importance-weighted loss with implicit exploration (IX, Neu 2015) is charged to i's last sequence
     s = (I, a) on the trajectory: L[s] += l / (x_i(s) + gamma_I), with x_i(s) = i's own probability of playing
     to s (chance and the opponent's probabilities are never used: they are unknown to a trajectory learner);
  3. i plays the FTRL iterate  x = argmin_x <L, x> + sum_I x(parent(I)) * KL(pi_I || prior_I) / eta_I,
     solved bottom-up over its information sets (arena.agents.dilated).
The output is the average of the realization plans.

Balanced FTRL (`balanced_ftrl`) weights the dilated regulariser with the balanced transitions computed from the
tree of player i's information sets: with T(s) the number of i's sequences in the subtree of sequence s (s
included) and T(I) = sum_a T(I, a),
    balanced policy      mu*(a | I)   = T(I, a) / T(I),
    balanced transition  p*(I | s)    = T(I) / T(s)     for an infoset I that follows sequence s,
and p*_{1:h}(I) the product of p* down to I (T(empty sequence) = 1 + all sequences). Under (mu*, p*) every
sequence is equally likely to be the last one of a trajectory, which is what makes the estimates balanced. The
learning rate is eta_I = eta_t / p*_{1:h}(I), larger deep in the tree where an infoset is reached rarely, and the
regulariser's prior is the balanced policy mu*.

Adaptive FTRL (`adaptive_ftrl`) needs no knowledge of the tree: it replaces p*_{1:h}(I) by an estimate, learnt
from the realizations, of the probability that chance and the opponent lead to I,
    p_hat_t(I) = (1 + sum_{s <= t} 1{I on trajectory s} / (x_i^s(parent(I)) + gamma_I)) / (1 + t),
(an IX importance-weighted visit count; 1 before any visit), starts from the uniform policy and sets
eta_I = eta_t / p_hat_t(I).

Choices made here (the paper's tuned constants could not be confirmed): the anytime schedule
eta_t = eta * sqrt(ln(A) / (H * A * t)) with A the player's number of sequences and H its number of decision
levels, and IX gamma_I = gamma * eta_I (gamma = 1/2 is the usual IX choice). FTRL is exact for these time-varying
rates: every iteration re-solves the regularised problem for the cumulative estimated losses.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from arena.agents.dilated import PlanAverage, masked_log, regularized_response
from arena.games.policy import TabularPolicy
from arena.games.solve import Solver, check_positive
from arena.games.tree import CHANCE, TERMINAL, PlayerTree, TabularGame


def balanced_tree(tree: PlayerTree) -> tuple[np.ndarray, np.ndarray]:
    """The balanced policy mu*(a | I) and the balanced transition reach p*_{1:h}(I) of one player's tree."""
    subtree = np.ones(tree.num_sequences)  # T(s): sequences in the subtree of s, s included
    infoset_size = np.zeros(tree.num_infosets)  # T(I) = sum_a T(I, a)
    for infosets in reversed(tree.level_infosets):
        infoset_size[infosets] = np.where(tree.legal[infosets], subtree[tree.seq[infosets]], 0.0).sum(axis=1)
        subtree += np.bincount(tree.parent_seq[infosets], infoset_size[infosets], minlength=len(subtree))
    policy = np.where(tree.legal, subtree[tree.seq] / infoset_size[:, None], 0.0)
    sequence_reach = np.ones(tree.num_sequences)  # p*_{1:h} of the infoset each sequence belongs to
    infoset_reach = np.zeros(tree.num_infosets)
    for infosets in tree.level_infosets:
        parents = tree.parent_seq[infosets]
        infoset_reach[infosets] = sequence_reach[parents] * infoset_size[infosets] / subtree[parents]
        legal = tree.legal[infosets]
        sequence_reach[tree.seq[infosets][legal]] = np.repeat(infoset_reach[infosets], legal.sum(axis=1))
    return policy, infoset_reach


class TrajectorySampler:
    """Plays one realization of a TabularGame: chance and every player's policy sampled along one path."""

    def __init__(self, game: TabularGame, seed: int) -> None:
        self.game = game
        self.rng = np.random.default_rng(seed)
        self.player = game.history_player.tolist()
        self.infoset = game.history_infoset.tolist()
        self.max_depth = int(game.history_depth.max())
        # breadth-first order: parents are non-decreasing and the children of a history are contiguous
        parents = game.history_parent[1:]
        self.first_child = (1 + np.searchsorted(parents, np.arange(game.num_histories))).tolist()
        reach = game.history_chance_reach
        counts = np.bincount(parents, minlength=game.num_histories)
        self.chance_cdf = {
            h: np.cumsum(reach[self.first_child[h] : self.first_child[h] + counts[h]] / reach[h]).tolist()
            for h in np.flatnonzero(game.history_player == CHANCE).tolist()
        }
        self.action_rank = [np.cumsum(tree.legal, axis=1) - 1 for tree in game.players]  # child offset of action a
        self.terminal_of = {h: z for z, h in enumerate(game.terminal_history.tolist())}

    def sample(self, probs: list[np.ndarray]) -> tuple[int, list[list[tuple[int, int, float]]]]:
        """Sample a trajectory; returns the terminal index and, per player, its (infoset, action, own reach before
        acting) along the path."""
        cdfs = [p.cumsum(axis=1) for p in probs]
        uniforms = self.rng.random(self.max_depth).tolist()
        steps: list[list[tuple[int, int, float]]] = [[] for _ in range(self.game.num_players)]
        reach = [1.0] * self.game.num_players
        h = depth = 0
        while self.player[h] != TERMINAL:
            if self.player[h] == CHANCE:
                cdf = self.chance_cdf[h]
                offset = min(bisect.bisect_right(cdf, uniforms[depth] * cdf[-1]), len(cdf) - 1)
            else:
                player, infoset = self.player[h], self.infoset[h]
                cdf = cdfs[player][infoset]
                action = int(cdf.searchsorted(uniforms[depth] * cdf[-1], side="right"))
                if action >= len(cdf) or probs[player][infoset, action] <= 0:  # rounding at the very top
                    action = int(np.flatnonzero(probs[player][infoset])[-1])
                steps[player].append((infoset, action, reach[player]))
                reach[player] *= float(probs[player][infoset, action])
                offset = int(self.action_rank[player][infoset, action])
            h = self.first_child[h] + offset
            depth += 1
        return self.terminal_of[h], steps


class BalancedFTRL(Solver, name="balanced_ftrl"):
    """Balanced FTRL from trajectory feedback; plays the average iterate. `realizations` counts sampled games."""

    default_iterations = 10000
    positive = ("eta", "gamma")

    def __init__(self, game: TabularGame, eta: float = 1.0, gamma: float = 0.5, seed: int = 0) -> None:
        check_positive(self.name, eta=eta, gamma=gamma)
        super().__init__(game)
        self.eta = eta
        self.gamma = gamma
        self.sampler = TrajectorySampler(game, seed)
        self.realizations = 0
        utilities = game.terminal_utility
        self.loss_scale = (utilities.max(), max(float(utilities.max() - utilities.min()), 1e-12))
        self.base_rate = [
            math.sqrt(
                math.log(max(tree.num_sequences - 1, 2)) / (len(tree.level_infosets) * max(tree.num_sequences - 1, 1))
            )
            for tree in game.players
        ]
        self.cumulative_loss = [np.zeros(tree.num_sequences) for tree in game.players]
        self.average = PlanAverage(game)
        balanced = [balanced_tree(tree) for tree in game.players]
        self.balanced_reach = [reach for _, reach in balanced]
        self.log_prior = [masked_log(policy, tree.legal) for (policy, _), tree in zip(balanced, game.players)]
        self.probs = [np.exp(lp) for lp in self.log_prior]

    def transition_reach(self, player: int) -> np.ndarray:
        """p_{1:h}(I) that scales the learning rate of each infoset: here the balanced transitions, fixed."""
        return self.balanced_reach[player]

    def learning_rates(self, player: int) -> np.ndarray:
        """eta_I at the current iteration."""
        return self.eta * self.base_rate[player] / math.sqrt(self.realizations + 1) / self.transition_reach(player)

    def observe_visits(self, player: int, steps: list[tuple[int, int, float]], rates: np.ndarray) -> None:
        """Hook for what the realization teaches about the tree (Adaptive FTRL); Balanced FTRL knows it already."""

    def iteration(self) -> None:
        self.average.add([tree.realization_plan(p) for tree, p in zip(self.game.players, self.probs)])
        terminal, steps = self.sampler.sample(self.probs)
        top, span = self.loss_scale
        for player, tree in enumerate(self.game.players):
            rates = self.learning_rates(player)
            if steps[player]:
                infoset, action, reach = steps[player][-1]
                loss = (top - self.game.terminal_utility[terminal, player]) / span
                own_reach = reach * self.probs[player][infoset, action]
                self.cumulative_loss[player][tree.seq[infoset, action]] += loss / (
                    own_reach + self.gamma * rates[infoset]
                )
            self.observe_visits(player, steps[player], rates)
        self.realizations += 1
        for player, tree in enumerate(self.game.players):
            log_probs, _ = regularized_response(
                tree, -self.cumulative_loss[player], 1.0 / self.learning_rates(player), self.log_prior[player]
            )
            self.probs[player] = np.exp(log_probs)

    def current_policy(self) -> TabularPolicy:
        """The policy that plays the next realization (the last iterate)."""
        return TabularPolicy(self.game, [p.copy() for p in self.probs])

    def policy(self) -> TabularPolicy:
        return TabularPolicy(self.game, self.average.probs())


class AdaptiveFTRL(BalancedFTRL, name="adaptive_ftrl"):
    """Adaptive FTRL: Balanced FTRL's rates with the tree's transition reach learnt from the realizations."""

    def __init__(self, game: TabularGame, eta: float = 1.0, gamma: float = 0.5, seed: int = 0) -> None:
        super().__init__(game, eta=eta, gamma=gamma, seed=seed)
        self.visit_weight = [np.ones(tree.num_infosets) for tree in game.players]
        self.log_prior = [masked_log(game.uniform_probs(p), tree.legal) for p, tree in enumerate(game.players)]
        self.probs = [np.exp(lp) for lp in self.log_prior]

    def transition_reach(self, player: int) -> np.ndarray:
        return self.visit_weight[player] / (self.realizations + 1)

    def observe_visits(self, player: int, steps: list[tuple[int, int, float]], rates: np.ndarray) -> None:
        for infoset, _, reach in steps:
            self.visit_weight[player][infoset] += 1.0 / (reach + self.gamma * rates[infoset])
