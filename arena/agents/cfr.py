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

from collections.abc import Callable
from typing import Any

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

    regret_matching_plus = False
    linear_averaging = False

    def __init__(self, game: TabularGame) -> None:
        super().__init__(game)
        self._fused: _FusedIteration | None = None
        self.regrets = [np.zeros(tree.num_sequences) for tree in game.players]
        self.cumulative_policy = [np.zeros(tree.num_sequences) for tree in game.players]
        self.behaviour = [regret_matching(tree, r) for tree, r in zip(game.players, self.regrets)]
        self.plans = [tree.plan_from_sequence_probs(b) for tree, b in zip(game.players, self.behaviour)]
        self._walk = _HistoryWalk(game)
        self._fused = _FusedIteration(game, self._walk) if game.num_histories <= FUSED_HISTORIES else None

    def iteration(self) -> None:
        self.iterations += 1
        weight = float(self.iterations) if self.linear_averaging else 1.0
        if self._fused is not None:
            self._fused.iteration(self, weight)
            return
        for player, tree in enumerate(self.game.players):
            regrets = self._walk.accumulate_regrets(player, self.regrets[player], self.behaviour, self.plans)
            if self.regret_matching_plus:
                np.maximum(regrets, 0.0, out=regrets)
            self.regrets[player] = regrets
            self.cumulative_policy[player] += weight * self.plans[player]
            self.behaviour[player] = regret_matching(tree, regrets)
            self.plans[player] = tree.plan_from_sequence_probs(self.behaviour[player])

    # The state, per player: cumulative regrets, cumulative policy, current behaviour and realization plan. The
    # small-game loop keeps them as lists between iterations; reading one gives arrays, setting one starts anew.
    @property
    def regrets(self) -> list[np.ndarray]:
        return self._state("regrets")

    @regrets.setter
    def regrets(self, value: list[np.ndarray]) -> None:
        self._set_state("regrets", value)

    @property
    def cumulative_policy(self) -> list[np.ndarray]:
        return self._state("cumulative_policy")

    @cumulative_policy.setter
    def cumulative_policy(self, value: list[np.ndarray]) -> None:
        self._set_state("cumulative_policy", value)

    @property
    def behaviour(self) -> list[np.ndarray]:
        return self._state("behaviour")

    @behaviour.setter
    def behaviour(self, value: list[np.ndarray]) -> None:
        self._set_state("behaviour", value)

    @property
    def plans(self) -> list[np.ndarray]:
        return self._state("plans")

    @plans.setter
    def plans(self, value: list[np.ndarray]) -> None:
        self._set_state("plans", value)

    def _state(self, name: str) -> list[np.ndarray]:
        if self._fused is not None and self._fused.lists is not None:
            self.__dict__.update(self._fused.arrays())
        return self.__dict__[f"_{name}"]

    def _set_state(self, name: str, value: list[np.ndarray]) -> None:
        if self._fused is not None and self._fused.lists is not None:
            self.__dict__.update(self._fused.arrays())
            self._fused.lists = None  # the loop starts again from the arrays
        self.__dict__[f"_{name}"] = value

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

    regret_matching_plus = True
    linear_averaging = True


# Games up to this many histories run CFR as generated straight-line Python: below it numpy's per-call overhead
# (some sixty array operations per player and iteration) costs more than the arithmetic, and above it compiling the
# code (50 ms at 600 histories) costs more than it saves.
FUSED_HISTORIES = 200


class _FusedIteration:
    """The whole CFR iteration of a small game in plain Python, with _HistoryWalk's operations in the same order
    (so that both give the same numbers, bit for bit), generated as one function per game."""

    def __init__(self, game: TabularGame, walk: _HistoryWalk) -> None:
        self.lists: tuple[list[list[float]], ...] | None = None  # the state while the loop owns it
        self.converted: dict[str, list[np.ndarray]] | None = None  # its arrays, until the next iteration
        self.players, self.histories = game.num_players, game.num_histories
        self.programs: dict[bool, Callable[..., None]] = {}  # the generated iteration, with and without RM+
        order = [i for level, _, _ in walk.levels for i in range(level.start, level.stop)]
        parents = game.history_parent.tolist()
        mover = np.full(game.num_histories, CHANCE, dtype=np.int64)
        for p, moves in enumerate(walk.moves):
            mover[moves] = p
        seqs, mover_list = game.history_seq.tolist(), mover.tolist()
        # an edge's weight is tables[mover][index]: the mover's behaviour at its sequence, or for a chance
        # outcome (mover -1: the last table) its probability at the child's index
        self.chance = game.history_chance_prob.tolist()
        self.edges = [(c, parents[c], mover_list[c], c if mover_list[c] < 0 else seqs[c]) for c in order]
        self.terminal_values = [values.tolist() for values in walk.terminal_values]
        self.updates = []
        for p in range(game.num_players):
            others = [last.tolist() for _, last in walk.other_last[p]]
            self.updates.append(
                list(
                    zip(
                        walk.children[p].tolist(),
                        walk.child_parents[p].tolist(),
                        game.history_seq[walk.children[p]].tolist(),
                        walk.chance_reach[p].tolist(),
                        zip(*others) if others else [()] * len(walk.children[p]),
                    )
                )
            )
        self.others = [[q for q in range(game.num_players) if q != p] for p in range(game.num_players)]
        self.infosets = [list(zip(tree.first_seq.tolist(), tree.actions_per_infoset.tolist())) for tree in game.players]
        self.seq_parents = [tree.seq_parent.tolist() for tree in game.players]

    NAMES = ("regrets", "cumulative_policy", "behaviour", "plans")

    def arrays(self) -> dict[str, list[np.ndarray]]:
        """The solver's state as arrays (the attributes behind CFRSolver's properties)."""
        assert self.lists is not None
        if self.converted is None:
            self.converted = {f"_{name}": [np.array(x) for x in lists] for name, lists in zip(self.NAMES, self.lists)}
        return self.converted

    def iteration(self, solver: CFRSolver, weight: float) -> None:
        if self.lists is None:
            self.lists = tuple([x.tolist() for x in getattr(solver, name)] for name in self.NAMES)
        self.converted = None
        plus = solver.regret_matching_plus
        if plus not in self.programs:
            self.programs[plus] = self.program(plus)
        self.programs[plus](*self.lists, weight)

    def program(self, plus: bool) -> Callable[..., None]:
        """The iteration as straight-line Python, generated once: every index a constant, every number a local.

        It does the loop's floating-point operations in the loop's order: the value of a history accumulates its
        children's weighted values edge by edge, regrets take `reach * chance * (value(child) - value(h))`,
        regret matching normalises the positive regrets of each infoset, plans multiply down the sequences.
        """
        lines = ["def iteration(regrets, cumulative, behaviour, plans, weight):"]
        emit = lines.append
        sizes = [len(parents) for parents in self.seq_parents]
        for p, size in enumerate(sizes):
            for name, table in (("r", "regrets"), ("b", "behaviour"), ("x", "plans")):
                emit(f"    ({''.join(f'{name}{p}_{s}, ' for s in range(size))}) = {table}[{p}]")
        for player in range(self.players):
            for h, value in enumerate(self.terminal_values[player]):
                emit(f"    h{h} = {value!r}")
            for child, parent, mover, index in self.edges:
                edge = f"b{mover}_{index}" if mover >= 0 else repr(self.chance[index])
                emit(f"    h{parent} += {edge} * h{child}")
            for child, parent, seq, chance, lasts in self.updates[player]:
                reach = " * ".join(f"x{q}_{s}" for q, s in zip(self.others[player], lasts))
                reach = reach if len(lasts) == 1 else f"1.0 * {reach}"
                emit(f"    r{player}_{seq} += {reach} * {chance!r} * (h{child} - h{parent})")
            p = player
            if plus:
                for s in range(sizes[p]):
                    emit(f"    if not r{p}_{s} > 0.0: r{p}_{s} = 0.0")
            emit(f"    total = cumulative[{p}]")
            for s in range(sizes[p]):
                emit(f"    total[{s}] += weight * x{p}_{s}")
            for first, count in self.infosets[p]:
                block = range(first, first + count)
                emit("    t = 0.0")
                for s in block:
                    emit(f"    if r{p}_{s} > 0: t += r{p}_{s}")
                emit("    if t > 0:")
                for s in block:
                    emit(f"        b{p}_{s} = r{p}_{s} / t if r{p}_{s} > 0 else 0.0")
                emit("    else:")
                for s in block:
                    emit(f"        b{p}_{s} = {1.0 / count!r}")
            for s, parent in enumerate(self.seq_parents[p]):
                if s:
                    emit(f"    x{p}_{s} = b{p}_{s} * x{p}_{parent}")
        for p, size in enumerate(sizes):
            for name, table in (("r", "regrets"), ("b", "behaviour"), ("x", "plans")):
                emit(f"    {table}[{p}][:] = ({''.join(f'{name}{p}_{s}, ' for s in range(size))})")
        namespace: dict[str, Any] = {}
        exec(compile("\n".join(lines), f"<cfr iteration of {self.histories} histories>", "exec"), namespace)
        return namespace["iteration"]


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
