"""Compile a tabular game once into flat numpy arrays: the history tree and the sequence form of every player.

Every exact computation in arena.games and every tabular solver in arena.agents (CFR, FTRL, mirror prox, MMD...)
works on these arrays instead of walking OpenSpiel states: the walk happens once, in `load`.
"""

from __future__ import annotations

import array
import contextlib
import dataclasses
import functools
import gc
import hashlib
import itertools
import json
import os
import signal
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyspiel

from arena.core import cache_dir
from arena.envs.matrix import MatrixGameEnv
from arena.envs.openspiel import OpenSpielEnv, _facts, info_state_key, is_registered_game, load_game
from arena.errors import ParameterError, UnknownNameError
from arena.games.size import CHECK_EVERY, SizeEstimate, check_game, compile_bytes, memory_budget, too_large
from arena.games.stored import read as read_arrays
from arena.games.stored import write as write_arrays
from arena.registry import envs, make_env
from arena.specs import EnvSpec

if TYPE_CHECKING:
    import scipy.sparse

SPARSE_TERMINALS = 512  # above this many terminals, sequence values come from sparse products (see sequence_values)
CHANCE = -1
TERMINAL = -4


@dataclass
class PlayerTree:
    """One player's information sets and sequences (the sequence form of that player's strategy space).

    Information sets are numbered 0..num_infosets-1 sorted by `level` (the number of this player's own earlier
    decisions on the way to it), so a parent always comes before its children. Sequence 0 is the empty sequence;
    sequences 1..num_sequences-1 are the legal (infoset, action) pairs, numbered infoset by infoset in that order
    and by increasing action id within an infoset. Hence the sequences of one infoset are contiguous
    (`first_seq[I] .. first_seq[I] + legal[I].sum() - 1`), and so are the infosets and the sequences of one level
    (`level_infosets[L]` and `level_sequences[L]` are Python slices).

    Arrays (I = infoset index, s = sequence index, A = the game's `num_actions`):
      keys[I]            information-state string (OpenSpiel's `information_state_string`, or the observation
                         string for perfect-information games without one; "player_<p>|" for normal-form games)
      legal[I, a]        bool mask of legal actions, shape [num_infosets, A]
      parent_seq[I]      this player's last sequence before reaching I (0 when I is reached without an own move)
      seq[I, a]          sequence id of (I, a), -1 where a is illegal
      first_seq[I]       seq of I's lowest legal action
      level[I]           number of sequences of this player on the path to I (0 for root infosets)
      seq_infoset[s]     infoset of sequence s (-1 for s = 0)
      seq_action[s]      action of sequence s (-1 for s = 0)
      seq_parent[s]      parent_seq[seq_infoset[s]] (0 for s = 0): the sequence this one extends
      infoset_history[I] one history in I (a representative, used to rebuild an OpenSpiel state there)
    """

    keys: list[str]
    legal: np.ndarray
    parent_seq: np.ndarray
    seq: np.ndarray
    first_seq: np.ndarray
    level: np.ndarray
    seq_infoset: np.ndarray
    seq_action: np.ndarray
    seq_parent: np.ndarray
    infoset_history: np.ndarray
    level_infosets: list[slice] = field(default_factory=list)
    level_sequences: list[slice] = field(default_factory=list)

    @property
    def num_infosets(self) -> int:
        return len(self.keys)

    @property
    def num_sequences(self) -> int:
        return len(self.seq_infoset)

    def realization_plan(self, probs: np.ndarray) -> np.ndarray:
        """Sequence-form realization plan x[s] (x[0] = 1) of the behavioural strategy probs[I, a]."""
        behaviour = np.empty(self.num_sequences)
        behaviour[0] = 1.0
        behaviour[1:] = probs[self.seq_infoset[1:], self.seq_action[1:]]
        return self.plan_from_sequence_probs(behaviour)

    def plan_from_sequence_probs(self, behaviour: np.ndarray) -> np.ndarray:
        """Realization plan from the per-sequence action probabilities behaviour[s] = probs[I(s), a(s)]."""
        plan = behaviour.copy()
        plan[0] = 1.0
        for sequences in self.level_sequences:
            plan[sequences] *= plan[self.seq_parent[sequences]]
        return plan

    def subtree_values(self, values: np.ndarray, behaviour: np.ndarray | None = None) -> np.ndarray:
        """Add each infoset's value into its parent sequence, bottom-up, level by level.

        `values[s]` is what sequence s collects directly (see TabularGame.sequence_values). An infoset's value is
        sum_a behaviour[s(I, a)] * V[s(I, a)] with the per-sequence action probabilities `behaviour`, or
        max_a V[s(I, a)] when `behaviour` is None (a best response). Returns V, where V[s] is the counterfactual
        value of taking sequence s and playing on as prescribed; V[0] is the value of the whole game.
        """
        total = values.astype(np.float64, copy=True)
        for starts, parents, sequences in reversed(self._segments):
            if behaviour is None:
                infoset_values = np.maximum.reduceat(total[sequences], starts)
                total += np.bincount(parents, infoset_values, minlength=len(total))
            else:  # summing sigma * V over a parent's sequences adds each child infoset's value once
                total += np.bincount(
                    self.seq_parent[sequences], total[sequences] * behaviour[sequences], minlength=len(total)
                )
        return total

    @functools.cached_property
    def actions_per_infoset(self) -> np.ndarray:
        """Number of legal actions (= sequences) of every infoset."""
        return self.legal.sum(axis=1)

    def per_infoset_sums(self, per_sequence: np.ndarray) -> np.ndarray:
        """sum over each infoset's sequences of per_sequence[s] (s >= 1); one entry per infoset."""
        return np.bincount(self.seq_infoset[1:], per_sequence[1:], minlength=self.num_infosets)

    def broadcast(self, per_infoset: np.ndarray) -> np.ndarray:
        """per_infoset[I(s)] for every sequence s >= 1 (length num_sequences - 1)."""
        return np.repeat(per_infoset, self.actions_per_infoset)

    @functools.cached_property
    def _segments(self) -> list[tuple[np.ndarray, np.ndarray, slice]]:
        """Per level: its infosets' first sequences relative to the level, their parent sequences, its sequences."""
        return [
            (self.first_seq[infosets] - sequences.start, self.parent_seq[infosets], sequences)
            for infosets, sequences in zip(self.level_infosets, self.level_sequences)
        ]

    def best_actions(self, values: np.ndarray, tolerance: float = 1e-12) -> np.ndarray:
        """Per infoset the lowest legal action whose subtree value V[s(I, a)] is within `tolerance` of the best."""
        dense = np.full(self.legal.shape, -np.inf)
        dense[self.seq_infoset[1:], self.seq_action[1:]] = values[1:]
        best = dense.max(axis=1, keepdims=True)
        return np.argmax(dense >= best - tolerance * np.maximum(1.0, np.abs(best)), axis=1)

    def behavioural(self, plan: np.ndarray) -> np.ndarray:
        """Behavioural strategy probs[I, a] of a realization plan; uniform over legal actions where x(parent) = 0."""
        probs = np.zeros(self.legal.shape)
        parent = plan[self.parent_seq]
        reached = parent > 0
        legal_count = self.legal.sum(axis=1)
        probs[self.seq_infoset[1:], self.seq_action[1:]] = (
            plan[1:] / np.where(reached, parent, 1.0)[self.seq_infoset[1:]]
        )
        uniform = self.legal / legal_count[:, None]
        return np.where(reached[:, None], probs, uniform)


@dataclass
class TabularGame:
    """A finite game with perfect recall, compiled once into flat arrays (the history tree and the sequence form).

    Identity
      name           the id it was loaded from (registry id, `openspiel:<game string>` or game string)
      env_id         what `arena.make_env` takes to build the same env (used to probe agents)
      key            a canonical string identifying the game and its parameters (policy files, caches)
      kind           "openspiel" or "normal-form"
      game           the pyspiel.Game (kind "openspiel") or the MatrixGameEnv (kind "normal-form")
      num_players    n; players are 0..n-1 ("player_<p>" in envs)
      num_actions    A: action ids are 0..A-1 (OpenSpiel's distinct action ids; for normal-form games the largest
                     action count of any player, the others' extra ids are illegal)
      action_names   action_names[p][a]: a readable name of action a for player p
      zero_sum       True when every terminal's utilities sum to the same constant `utility_sum` (else None)

    Players
      players[p]     a PlayerTree: player p's information sets and sequences (see its docstring). A policy of
                     player p is an array probs[num_infosets, A], zero on illegal actions, rows summing to 1.
      key_index      {information-state key: (player, infoset)} over all players

    History tree (H histories, breadth-first order, history 0 is the root)
      history_player[h]        acting player; CHANCE (-1) at chance nodes, TERMINAL (-4) at terminals
      history_parent[h]        parent history (-1 for the root)
      history_action[h]        action leading from the parent to h (-1 for the root)
      history_chance_reach[h]  product of the chance probabilities on the path to h
      history_chance_prob[h]   chance probability of the last action when the parent is a chance node (else 1)
      history_infoset[h]       infoset of the acting player at a decision node (-1 elsewhere)
      history_depth[h]         number of actions (chance included) from the root

    Terminals (Z terminal histories, in history order)
      terminal_history[z]      history index of terminal z
      terminal_chance[z]       chance reach of z
      terminal_utility[z, p]   OpenSpiel's returns of player p at z
      terminal_seq[z, p]       player p's last sequence on the path to z (0: p never acted)

    The expected utility of player i under realization plans x_0..x_{n-1} is
        sum_z terminal_chance[z] * terminal_utility[z, i] * prod_p x_p[terminal_seq[z, p]],
    which for two players is x_0^T payoff_matrix(i) x_1. Counterfactual values of player i's sequences against the
    others' plans are `sequence_values(i, plans)`; adding each infoset's value bottom-up (level by level, deepest
    first) into its parent sequence gives best responses (max) or on-policy values (expectation).
    """

    name: str
    env_id: str
    key: str
    kind: str
    game: Any
    num_players: int
    num_actions: int
    action_names: list[list[str]]
    zero_sum: bool
    utility_sum: float | None
    players: list[PlayerTree]
    key_index: dict[str, tuple[int, int]]
    history_player: np.ndarray
    history_parent: np.ndarray
    history_action: np.ndarray
    history_chance_reach: np.ndarray
    history_chance_prob: np.ndarray
    history_infoset: np.ndarray
    history_depth: np.ndarray
    terminal_history: np.ndarray
    terminal_chance: np.ndarray
    terminal_utility: np.ndarray
    terminal_seq: np.ndarray

    def __post_init__(self) -> None:
        self._payoff_matrices: dict[int, scipy.sparse.csr_matrix] = {}
        self._value_matrices: dict[int, scipy.sparse.csr_matrix] = {}

    @functools.cached_property
    def _terminal_weights(self) -> np.ndarray:
        return self.terminal_chance[:, None] * self.terminal_utility

    @functools.cached_property
    def _terminal_to_seq(self) -> list[scipy.sparse.csr_matrix]:
        import scipy.sparse  # 0.1 s to import: loaded by the first product that needs it, not with the game

        return [
            scipy.sparse.csr_matrix(
                (np.ones(len(self.terminal_seq)), (self.terminal_seq[:, p], np.arange(len(self.terminal_seq)))),
                shape=(tree.num_sequences, len(self.terminal_seq)),
            )
            for p, tree in enumerate(self.players)
        ]

    @property
    def num_histories(self) -> int:
        return len(self.history_player)

    @property
    def num_infosets(self) -> list[int]:
        return [tree.num_infosets for tree in self.players]

    @property
    def num_sequences(self) -> list[int]:
        return [tree.num_sequences for tree in self.players]

    def __repr__(self) -> str:
        return (
            f"TabularGame({self.name!r}, players={self.num_players}, histories={self.num_histories}, "
            f"terminals={len(self.terminal_history)}, infosets={self.num_infosets})"
        )

    def uniform_probs(self, player: int) -> np.ndarray:
        """The uniform behavioural strategy of `player`: probs[I, a] = 1/|legal(I)|."""
        legal = self.players[player].legal
        return legal / legal.sum(axis=1, keepdims=True)

    def payoff_matrix(self, player: int) -> scipy.sparse.csr_matrix:
        """Two-player sequence-form payoff matrix of `player`: M[s0, s1] = sum of chance * u_player over terminals."""
        if self.num_players != 2:
            raise ParameterError("payoff_matrix is the two-player sequence form; use sequence_values for n players")
        if player not in self._payoff_matrices:
            import scipy.sparse

            matrix = scipy.sparse.csr_matrix(
                (self._terminal_weights[:, player], (self.terminal_seq[:, 0], self.terminal_seq[:, 1])),
                shape=(self.players[0].num_sequences, self.players[1].num_sequences),
            )
            matrix.sum_duplicates()
            self._payoff_matrices[player] = matrix
        return self._payoff_matrices[player]

    def sequence_values(self, player: int, plans: list[np.ndarray]) -> np.ndarray:
        """v[s] = sum over terminals z ending with `player`'s sequence s of chance * u_player * prod_{q != player}
        x_q[terminal_seq[z, q]]: the counterfactual value collected directly at each sequence (not its subtree).

        A product with a sparse matrix (summed per sequence once, for two players); in games of at most
        SPARSE_TERMINALS terminals a weighted count over the terminals, faster there and without scipy."""
        small = len(self.terminal_seq) <= SPARSE_TERMINALS
        if self.num_players == 2 and not small:
            if player not in self._value_matrices:
                matrix = self.payoff_matrix(player)
                self._value_matrices[player] = matrix if player == 0 else matrix.T.tocsr()
            return self._value_matrices[player] @ plans[1 - player]
        weights = self._terminal_weights[:, player].copy()
        for q, plan in enumerate(plans):
            if q != player:
                weights *= plan[self.terminal_seq[:, q]]
        if small:
            sequences = self.players[player].num_sequences
            return np.bincount(self.terminal_seq[:, player], weights=weights, minlength=sequences)
        return self._terminal_to_seq[player] @ weights

    def expected_utilities(self, plans: list[np.ndarray]) -> np.ndarray:
        """Expected utility of every player when each plays the realization plan plans[p]."""
        reach = self.terminal_chance.copy()
        for p, plan in enumerate(plans):
            reach *= plan[self.terminal_seq[:, p]]
        return reach @ self.terminal_utility

    @functools.cached_property
    def depth_slices(self) -> list[slice]:
        """The histories of every depth 0, 1, ... (contiguous: histories are numbered breadth-first)."""
        bounds = (np.flatnonzero(np.diff(self.history_depth)) + 1).tolist()
        edges = [0, *bounds, self.num_histories]
        return [slice(start, stop) for start, stop in zip(edges[:-1], edges[1:])]

    @functools.cached_property
    def history_seq(self) -> np.ndarray:
        """The mover's sequence id of the action leading to every history (-1 for the root and chance outcomes)."""
        seq = np.full(self.num_histories, -1, dtype=np.int64)
        mover = self.history_player[self.history_parent[1:]]
        for p, tree in enumerate(self.players):
            children = np.flatnonzero(mover == p) + 1
            parents = self.history_parent[children]
            seq[children] = tree.seq[self.history_infoset[parents], self.history_action[children]]
        return seq

    @functools.cached_property
    def history_last_seq(self) -> np.ndarray:
        """[H, n]: every player's last sequence on the path to each history (0 where that player has not moved)."""
        last = np.zeros((self.num_histories, self.num_players), dtype=np.int64)
        for level in self.depth_slices[1:]:
            parents = self.history_parent[level]
            rows = last[parents]
            mover = self.history_player[parents]
            for p in range(self.num_players):
                moved = mover == p
                rows[moved, p] = self.history_seq[level][moved]
            last[level] = rows
        return last

    @functools.cached_property
    def history_preorder(self) -> np.ndarray:
        """Depth-first rank of every history: the order in which a recursive walk (children in action order, as
        OpenSpiel's tree-walking algorithms visit them) reaches it."""
        size = np.ones(self.num_histories, dtype=np.int64)
        levels = self.depth_slices
        for above, level in zip(reversed(levels[:-1]), reversed(levels[1:])):
            counts = np.bincount(self.history_parent[level] - above.start, size[level], above.stop - above.start)
            size[above] += counts.astype(np.int64)
        rank = np.zeros(self.num_histories, dtype=np.int64)
        for level in levels[1:]:
            parents = self.history_parent[level]
            new_group = np.r_[True, parents[1:] != parents[:-1]]
            before = np.cumsum(size[level]) - size[level]  # sizes of the earlier histories of this level
            group = np.cumsum(new_group) - 1
            rank[level] = rank[parents] + 1 + before - before[np.flatnonzero(new_group)][group]
        return rank

    def history_actions(self, history: int) -> list[int]:
        """The actions (chance included) from the root to `history`."""
        actions = []
        while history > 0:
            actions.append(int(self.history_action[history]))
            history = int(self.history_parent[history])
        return actions[::-1]

    def infoset_of(self, key: str) -> tuple[int, int]:
        """(player, infoset) of an information-state key."""
        try:
            return self.key_index[key]
        except KeyError:
            raise ParameterError(f"{key!r} is not an information state of {self.name}") from None


# ---------------------------------------------------------------------------------------------------------------
# Compiling


class _StageState:
    """The one-shot stage game of a normal-form env, seen as a sequential game in which nobody sees earlier moves."""

    def __init__(self, env: Any, prefix: tuple[int, ...] = ()) -> None:
        self.env = env
        self.prefix = prefix

    def is_terminal(self) -> bool:
        return len(self.prefix) == self.env.num_players

    def is_chance_node(self) -> bool:
        return False

    def current_player(self) -> int:
        return TERMINAL if self.is_terminal() else len(self.prefix)

    def legal_actions(self) -> list[int]:
        return list(range(self.env.num_actions[len(self.prefix)]))

    def child(self, action: int) -> _StageState:
        return _StageState(self.env, (*self.prefix, action))

    def apply_action(self, action: int) -> None:
        self.prefix = (*self.prefix, action)

    def returns(self) -> list[float]:
        return [float(self.env.payoffs[(p, *self.prefix)]) for p in range(self.env.num_players)]


@dataclass
class _Walked:
    """What the walk records. Histories are numbered as they are made: the root is 0, and the children of a node
    get the next consecutive numbers, in action order, when the walk expands it (so along every depth numbers grow
    in depth-first order, and the children of the k-th node expanded follow those of the (k-1)-th).

    Per history: its acting player (CHANCE, TERMINAL or a player) and the action into it; per terminal, in that
    numbering, its returns; per expanded node, in expansion order (depth-first): its history, infoset (walk index;
    -1 at chance nodes), number of children and depth, and at chance nodes its outcomes' probabilities; per player
    and infoset, in the order the walk first meets them (a table's insertion order), its key, legal actions and
    the history that met it first."""

    tables: list[dict[str, int]]
    legal: list[list[list[int]]]
    first_history: list[array.array[int]]
    player: array.array[int] = field(default_factory=lambda: array.array("q"))
    action: array.array[int] = field(default_factory=lambda: array.array("q"))
    returns: array.array[float] = field(default_factory=lambda: array.array("d"))
    node_history: array.array[int] = field(default_factory=lambda: array.array("q"))
    node_infoset: array.array[int] = field(default_factory=lambda: array.array("q"))
    node_children: array.array[int] = field(default_factory=lambda: array.array("q"))
    node_depth: array.array[int] = field(default_factory=lambda: array.array("q"))
    chance_probs: array.array[float] = field(default_factory=lambda: array.array("d"))

    def release(self) -> None:
        """Drop the per-history and per-node arrays (once renumbered); the tables and legal actions stay."""
        arrays = ("player", "action", "returns", "node_history", "node_infoset", "node_children", "node_depth")
        for name in (*arrays, "chance_probs"):
            setattr(self, name, array.array(getattr(self, name).typecode))


# Games of at least this many estimated histories walk their root's subtrees in forked processes, at most
# WALK_PROCESSES at a time (the compile's own process included): see _walk_parallel.
PARALLEL_MIN_HISTORIES = 20_000
WALK_PROCESSES = 4


def _walk(root: Any, num_players: int, infoset_key: Any, name: str, estimate: SizeEstimate | None = None) -> _Walked:
    """Depth-first walk of the whole tree (see _walk_tree); split at the root over processes when the `estimate`
    of its size makes that worth it (see _walk_processes and _walk_parallel), with the same result."""
    collecting = gc.isenabled()
    gc.disable()  # the walk allocates only acyclic objects; generational collections would rescan them repeatedly
    try:
        processes = _walk_processes(estimate)
        walked = _walk_parallel(root.clone(), num_players, infoset_key, name, processes) if processes > 1 else None
        return walked if walked is not None else _walk_tree(root, num_players, infoset_key, name)
    finally:
        if collecting:
            gc.enable()


def _walk_processes(estimate: SizeEstimate | None) -> int:
    """How many processes walk a game: one below PARALLEL_MIN_HISTORIES estimated histories (or with no
    estimate), on one CPU, or while other threads run (a fork copies only the calling thread: a lock another
    thread holds stays held in the child)."""
    if estimate is None or estimate.histories < PARALLEL_MIN_HISTORIES or threading.active_count() > 1:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cpus, WALK_PROCESSES)


def _walk_parallel(root: Any, num_players: int, infoset_key: Any, name: str, processes: int) -> _Walked | None:
    """The walk split at the root: the root is expanded here, its non-terminal children's subtrees are walked in
    contiguous runs (balanced by count), the first run here and the others in forked children (os.fork, not
    multiprocessing: a pool's daemonic worker may not start processes), each within its share of the memory
    budget, and the records are merged into the sequential walk's (see _merge).

    None when the sequential walk must decide: any failure (a process, the pipe, pickling), any error in a subtree
    (the sequential walk raises the first in depth-first order, and its budget check counts all the histories
    before it), an information state met with other legal actions in another subtree, or a whole walk that holds
    more than the budget (a check of the sequential walk might fail where no share's did)."""
    budget = memory_budget()
    pending: list[tuple[Any, int, int, int]] = []
    children: list[tuple[int, Connection]] = []
    try:
        walked = _walk_tree(root, num_players, infoset_key, name, budget, split=pending)
        subtrees = pending[::-1]  # the root's non-terminal children, first child first
        count = min(processes, len(subtrees))
        if count < 2:
            return None
        bounds = [len(subtrees) * i // count for i in range(count + 1)]
        share = budget // count
        for start, stop in zip(bounds[1:-1], bounds[2:]):
            states = [state for state, *_ in subtrees[start:stop]]
            children.append(_fork_walk(states, num_players, infoset_key, name, share))
        _walk_nodes(walked, subtrees[bounds[1] - 1 :: -1], num_players, infoset_key, name, share)  # as sequentially
        for (_, reader), start, stop in zip(children, bounds[1:-1], bounds[2:]):
            for _, number, _, _ in subtrees[start:stop]:  # each merged while the child sends the next
                if not _merge(walked, reader.recv(), number):
                    return None
    except Exception:
        return None
    finally:
        for pid, reader in children:
            reader.close()
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # one that has sent its records is exiting anyway
            with contextlib.suppress(ChildProcessError):  # reaped already where SIGCHLD is ignored
                os.waitpid(pid, 0)
    terminals, infosets = len(walked.returns) // num_players, sum(map(len, walked.tables))
    held = compile_bytes(len(walked.player), terminals, num_players, infosets)
    return walked if held <= budget else None


def _fork_walk(states: list[Any], num_players: int, infoset_key: Any, name: str, budget: int) -> tuple[int, Connection]:
    """Walk a run of subtrees in a forked child (it has the game and the states; gc stays off, as here) that sends
    its records through a pipe: the child's id and the pipe's end to read them from (EOF where it failed)."""
    reader, writer = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the child never returns into the caller's code
        code = 1
        try:
            reader.close()
            for state in states:  # each sent as soon as it is walked: the parent merges it meanwhile
                writer.send(_walk_tree(state, num_players, infoset_key, name, budget))
            code = 0
        finally:
            os._exit(code)
    writer.close()
    return pid, reader


def _merge(walked: _Walked, part: _Walked, root: int) -> bool:
    """Append to the sequential walk's record of the histories before it (`walked`) the record of the subtree of
    the root's child `root`, as the sequential walk would have made it; False when an information state has other
    legal actions than where it was met first (the sequential walk decides).

    The sequential walk numbers a subtree's histories after those before it: its local history 0 is its root's
    number and local j >= 1 is j plus the histories before, less one. Its nodes, chance probabilities and
    terminals follow those before it; its new information states are numbered on, in its order of meeting them."""
    before = len(walked.player) - 1
    node_history = np.frombuffer(part.node_history, dtype=np.int64)
    node_infoset = np.array(part.node_infoset, dtype=np.int64)
    acting = np.frombuffer(part.player, dtype=np.int64)[node_history]
    for player in range(len(walked.tables)):
        index = _merged_infosets(walked, part, player, root, before)
        if index is None:
            return False
        deciding = acting == player
        node_infoset[deciding] = index[node_infoset[deciding]]
    walked.player.extend(part.player[1:])  # the subtree's root is recorded already, as the root's child
    walked.action.extend(part.action[1:])
    walked.returns.extend(part.returns)
    walked.node_history.frombytes(_renumbered(node_history, root, before).tobytes())
    walked.node_infoset.frombytes(node_infoset.tobytes())
    walked.node_children.extend(part.node_children)
    walked.node_depth.frombytes((np.frombuffer(part.node_depth, dtype=np.int64) + 1).tobytes())
    walked.chance_probs.extend(part.chance_probs)
    return True


def _merged_infosets(walked: _Walked, part: _Walked, player: int, root: int, before: int) -> np.ndarray | None:
    """Add a subtree's information states of `player` to the walk's table (a key keeps the index of where it was
    met first): the index of each of the subtree's, or None when one has other legal actions there."""
    table, legal = walked.tables[player], walked.legal[player]
    own_table, own_legal = part.tables[player], part.legal[player]
    known = len(table)
    table.update(zip(itertools.filterfalse(table.__contains__, own_table), itertools.count(known)))
    index = np.fromiter(map(table.__getitem__, own_table), dtype=np.int64, count=len(own_table))
    new = np.flatnonzero(index >= known)
    legal.extend(map(own_legal.__getitem__, new.tolist()))
    if list(map(legal.__getitem__, index.tolist())) != own_legal:
        return None
    first = np.frombuffer(part.first_history[player], dtype=np.int64)[new]
    walked.first_history[player].frombytes(_renumbered(first, root, before).tobytes())
    return index


def _renumbered(histories: np.ndarray, root: int, before: int) -> np.ndarray:
    """A subtree's history numbers in the whole walk: its root's is `root`, the others come after `before`."""
    return np.where(histories > 0, histories + before, root)


def _walk_tree(
    root: Any,
    num_players: int,
    infoset_key: Any,
    name: str,
    budget: int | None = None,
    split: list[tuple[Any, int, int, int]] | None = None,
) -> _Walked:
    """Depth-first walk (children in action order, OpenSpiel's own traversal order) that does per history only what
    needs the state: expanding a node makes its children (the last one by moving the node's own state on: one clone
    fewer) and asks each for its player once, terminal children are finished there (their returns), and only chance
    and decision nodes go on the stack (the states alive are those of one path's pending siblings). Per node it
    records a few integers (typed arrays, 8 bytes each); parents, depths, the breadth-first order, chance reach,
    every player's last sequences and the perfect-recall check of parent sequences follow from them with numpy (see
    _breadth_first). It raises GameTooLarge where what it holds passes `budget` (memory_budget() unless given).
    With `split`, only the root is expanded: its non-terminal children's stack entries (state, history, player,
    depth; last child first) go to `split`."""
    walked = _Walked(
        [{} for _ in range(num_players)],
        [[] for _ in range(num_players)],
        [array.array("q") for _ in range(num_players)],
    )
    walked.player.append(root.current_player())
    walked.action.append(-1)
    if walked.player[0] == TERMINAL:
        walked.returns.fromlist(root.returns())
    else:
        _walk_nodes(walked, [(root, 0, walked.player[0], 0)], num_players, infoset_key, name, budget, split)
    return walked


def _walk_nodes(
    walked: _Walked,
    stack: list[tuple[Any, int, int, int]],
    num_players: int,
    infoset_key: Any,
    name: str,
    budget: int | None = None,
    split: list[tuple[Any, int, int, int]] | None = None,
) -> None:
    """Expand the nodes of `stack` (state, history number, player, depth; the next one last) and all below them
    into `walked`, numbering new histories on from its own (see _walk_tree)."""
    player_of, action_of, returns, chance_probs = walked.player, walked.action, walked.returns, walked.chance_probs
    tables, legal = walked.tables, walked.legal
    node_history, node_infoset = walked.node_history.append, walked.node_infoset.append
    node_children, node_depth = walked.node_children.append, walked.node_depth.append
    budget = memory_budget() if budget is None else budget
    infosets = sum(map(len, tables))
    check_at = CHECK_EVERY
    pop, push = stack.pop, stack.extend if split is None else split.extend
    append_player = player_of.append
    while stack:
        state, h, player, depth = pop()
        if player >= 0:
            key = infoset_key(state, player)
            actions = state.legal_actions()
            table = tables[player]
            index = table.get(key)
            if index is None:
                index = table[key] = len(table)
                legal[player].append(actions)
                walked.first_history[player].append(h)
                infosets += 1
            elif legal[player][index] != actions:
                raise _no_recall(name, key)
        elif player == CHANCE:
            outcomes = [(outcome, prob) for outcome, prob in state.chance_outcomes() if prob > 0]
            actions = [outcome for outcome, _ in outcomes]
            chance_probs.fromlist([prob for _, prob in outcomes])
            index = -1
        else:
            raise ParameterError(f"{name}: simultaneous or mean-field nodes cannot be compiled; use a turn-based game")
        first = len(player_of)
        if first >= check_at:  # the walk has passed `check_at` histories
            held = compile_bytes(first, len(returns) // num_players, num_players, infosets)
            if held > budget:
                raise too_large(name, check_at, held, budget, estimated=False)
            check_at += CHECK_EVERY
        node_history(h)
        node_infoset(index)
        node_children(len(actions))
        node_depth(depth)
        action_of.fromlist(actions)
        depth += 1
        pending = []
        last = first + len(actions) - 1
        for number, action in enumerate(actions, first):
            if number == last:  # the node is not needed after its last child: that child is the node, moved on
                state.apply_action(action)
                child = state
            else:
                child = state.child(action)
            child_player = child.current_player()
            append_player(child_player)
            if child_player == TERMINAL:
                returns.fromlist(child.returns())
            else:
                pending.append((child, number, child_player, depth))
        pending.reverse()  # the first child is expanded first
        push(pending)


def _no_recall(name: str, key: str) -> ParameterError:
    return ParameterError(
        f"{name} does not have perfect recall (information state {key!r}); exact game theory needs perfect recall"
    )


@dataclass
class _Ordered:
    """The walk's histories renumbered breadth-first, with what follows from the tree's shape (see _breadth_first)."""

    parent: np.ndarray
    action: np.ndarray
    depth: np.ndarray
    player: np.ndarray
    infoset: np.ndarray  # per player: breadth-first rank of the infoset (the order in which histories first meet it)
    edge_chance: np.ndarray
    chance: np.ndarray
    terminals: np.ndarray
    returns: np.ndarray
    last: np.ndarray  # [Z, n]: per terminal every player's last sequence, encoded rank * A + action + 1 (0: none)
    own_last: np.ndarray  # per history: the acting player's last sequence before it, encoded the same way
    rank_order: list[np.ndarray]  # per player: walk index of the infoset of every rank
    first_history: list[np.ndarray]  # per player: first history of the infoset of every rank


def _breadth_first(walked: _Walked, num_players: int, num_actions: int) -> _Ordered:
    """Renumber the histories breadth-first (by depth, then depth-first order: the order a breadth-first walk visits
    them in) and every player's infosets in the order a breadth-first walk first meets them; then, one depth at a
    time, the chance reach of every history and the last sequence of every player on the path to it."""
    counts = np.frombuffer(walked.node_children, dtype=np.int64)
    node_infoset = np.frombuffer(walked.node_infoset, dtype=np.int64)
    node_history = np.frombuffer(walked.node_history, dtype=np.int64)
    depth_walk = np.concatenate([[0], np.repeat(np.frombuffer(walked.node_depth, dtype=np.int64) + 1, counts)])
    levels = int(depth_walk.max()) + 1
    # a stable sort on small integers is a radix sort (linear time)
    order = np.argsort(depth_walk.astype(np.int16 if levels < 2**15 else np.int64), kind="stable")
    depth = depth_walk[order]
    del depth_walk  # each walk-order array goes as soon as its breadth-first copy is made: the peak stays low
    new_id = np.empty_like(order)
    new_id[order] = np.arange(len(order))
    parent = np.concatenate([[-1], np.repeat(node_history, counts)])[order]
    parent[1:] = new_id[parent[1:]]  # the root is the only history with parent -1, and it stays first
    edge_walk = np.ones(len(order))
    edge_walk[1:][np.repeat(node_infoset < 0, counts)] = walked.chance_probs
    edge_chance = edge_walk[order]
    del edge_walk
    player_walk = np.frombuffer(walked.player, dtype=np.int64)
    player = player_walk[order]
    decisions = node_infoset >= 0
    infoset = np.full(len(order), -1, dtype=np.int64)
    infoset[new_id[node_history[decisions]]] = node_infoset[decisions]
    del decisions, counts, node_infoset, node_history
    rank_order, first_history = [], []
    for p in range(num_players):
        first = new_id[np.frombuffer(walked.first_history[p], dtype=np.int64)]
        ranks = np.argsort(first, kind="stable")  # walk index of the k-th infoset met breadth-first
        rank = np.empty_like(ranks)
        rank[ranks] = np.arange(len(ranks))
        acting = player == p
        infoset[acting] = rank[infoset[acting]]
        rank_order.append(ranks)
        first_history.append(first[ranks])
    action = np.frombuffer(walked.action, dtype=np.int64)[order]
    returns = np.frombuffer(walked.returns, dtype=np.float64).reshape(-1, num_players)
    returns = returns[np.argsort(new_id[np.flatnonzero(player_walk == TERMINAL)], kind="stable")]
    del order, new_id, player_walk
    walked.release()
    is_terminal = player == TERMINAL
    terminal_number = np.cumsum(is_terminal) - 1
    terminals = np.flatnonzero(is_terminal)
    del is_terminal
    chance = np.empty(len(parent))
    chance[0] = edge_chance[0]
    own_last = np.zeros(len(parent), dtype=np.int64)
    last = np.zeros((len(terminals), num_players), dtype=np.int64)
    encoded = np.where(player >= 0, infoset * num_actions + 1, 0)  # a decision's sequences are encoded + action
    bounds = np.concatenate([[0], np.cumsum(np.bincount(depth, minlength=levels))]).tolist()
    rows = np.zeros((1, num_players), dtype=np.int64)  # the last sequences of the previous depth's histories
    for d in range(1, levels):
        start, stop = bounds[d], bounds[d + 1]
        parents = parent[start:stop]
        chance[start:stop] = chance[parents] * edge_chance[start:stop]
        mover = player[parents]
        rows = rows[parents - bounds[d - 1]]
        moved = np.flatnonzero(mover >= 0)  # the edges a player chose: that player's last sequence is this one
        rows[moved, mover[moved]] = encoded[parents[moved]] + action[start:stop][moved]
        acting = player[start:stop]
        deciding = np.flatnonzero(acting >= 0)
        own_last[start + deciding] = rows[deciding, acting[deciding]]
        ending = np.flatnonzero(acting == TERMINAL)
        last[terminal_number[start + ending]] = rows[ending]
    return _Ordered(
        parent,
        action,
        depth,
        player,
        infoset,
        edge_chance,
        chance,
        terminals,
        returns,
        last,
        own_last,
        rank_order,
        first_history,
    )


def _check_recall(ordered: _Ordered, parents: np.ndarray, player: int, keys: list[str], name: str) -> None:
    """Perfect recall of parent sequences: every history of an infoset follows the same own last sequence."""
    deciding = np.flatnonzero(ordered.player == player)
    wrong = deciding[ordered.own_last[deciding] != parents[ordered.infoset[deciding]]]
    if len(wrong):
        rank = int(ordered.infoset[wrong[0]])
        raise _no_recall(name, keys[int(ordered.rank_order[player][rank])])


def _player_tree(
    keys_walk: list[str],
    legal_walk: list[list[int]],
    rank_order: np.ndarray,
    parents: np.ndarray,
    first_history: np.ndarray,
    num_actions: int,
) -> tuple[PlayerTree, np.ndarray, np.ndarray]:
    """Sort one player's infosets by level and number the sequences. The infosets come in walk order (keys, legal
    actions) and in breadth-first rank (`rank_order[rank]` is the walk index; parent sequences, encoded
    rank * A + action + 1, and first histories); also return each rank's final index and the map from encoded
    (rank, action) to sequence id."""
    count = len(keys_walk)
    parent_rank = np.where(parents > 0, (parents - 1) // num_actions, -1)
    has_parent = parent_rank >= 0
    level = np.zeros(count, dtype=np.int64)
    while True:  # one pass per level: a parent's level is final one pass before its children's
        deeper = np.where(has_parent, level[parent_rank] + 1, 0)
        if np.array_equal(deeper, level):
            break
        level = deeper
    order = np.argsort(level, kind="stable")
    new_index = np.empty(count, dtype=np.int64)
    new_index[order] = np.arange(count)
    walk_of = rank_order[order]
    lengths = np.fromiter(map(len, legal_walk), dtype=np.int64, count=count)
    actions = np.fromiter(itertools.chain.from_iterable(legal_walk), dtype=np.int64, count=int(lengths.sum()))
    legal_by_walk = np.zeros((count, num_actions), dtype=bool)
    legal_by_walk[np.repeat(np.arange(count), lengths), actions] = True
    legal = legal_by_walk[walk_of]
    del legal_by_walk
    seq = np.full((count, num_actions), -1, dtype=np.int64)
    seq[legal] = np.arange(1, legal.sum() + 1)
    # encoded (rank, action) -> sequence id
    encoded_to_seq = np.zeros(count * num_actions + 1, dtype=np.int64)
    encoded_to_seq[order.repeat(num_actions) * num_actions + np.tile(np.arange(num_actions), count) + 1] = seq.ravel()
    parent_seq = encoded_to_seq[parents[order]]
    rows, cols = np.nonzero(legal)
    seq_infoset = np.concatenate([[-1], rows]).astype(np.int64)
    seq_action = np.concatenate([[-1], cols]).astype(np.int64)
    seq_parent = np.concatenate([[0], parent_seq[rows]]).astype(np.int64)
    first_seq = np.where(legal.any(axis=1), seq.max(axis=1, initial=0) - legal.sum(axis=1) + 1, 0)
    level = level[order]
    ends = np.cumsum(np.bincount(level)).tolist() if count else []  # levels are contiguous: 0, 1, ..., max
    starts = [0, *ends[:-1]]
    last_seq = seq.max(axis=1)
    tree = PlayerTree(
        keys=[keys_walk[i] for i in walk_of.tolist()],
        legal=legal,
        parent_seq=parent_seq,
        seq=seq,
        first_seq=first_seq,
        level=level,
        seq_infoset=seq_infoset,
        seq_action=seq_action,
        seq_parent=seq_parent,
        infoset_history=first_history[order],
        level_infosets=[slice(a, b) for a, b in zip(starts, ends)],
        level_sequences=[slice(int(first_seq[a]), int(last_seq[b - 1]) + 1) for a, b in zip(starts, ends)],
    )
    return tree, new_index, encoded_to_seq


def _key_index(players: list[PlayerTree], name: str) -> dict[str, tuple[int, int]]:
    key_index: dict[str, tuple[int, int]] = {}
    for p, tree in enumerate(players):
        own = dict(zip(tree.keys, zip(itertools.repeat(p), range(tree.num_infosets))))
        if len(own) + len(key_index) != len(key_index | own):
            shared = next(k for k in own if k in key_index)
            raise ParameterError(f"{name}: players {key_index[shared][0]} and {p} share information state {shared!r}")
        key_index.update(own)
    return key_index


def _build(
    walked: _Walked,
    *,
    name: str,
    env_id: str,
    key: str,
    kind: str,
    game: Any,
    num_players: int,
    num_actions: int,
    action_names: list[list[str]],
) -> TabularGame:
    ordered = _breadth_first(walked, num_players, num_actions)
    players = []
    history_infoset = ordered.infoset
    terminal_seq = np.empty_like(ordered.last)
    for p in range(num_players):
        keys = list(walked.tables[p])  # a table's insertion order is the walk order of its infosets
        first = ordered.first_history[p]
        parents = ordered.own_last[first]
        _check_recall(ordered, parents, p, keys, name)
        tree, new_index, encoded_to_seq = _player_tree(
            keys, walked.legal[p], ordered.rank_order[p], parents, first, num_actions
        )
        players.append(tree)
        acting = ordered.player == p
        history_infoset[acting] = new_index[history_infoset[acting]]
        terminal_seq[:, p] = encoded_to_seq[ordered.last[:, p]]
    utility = ordered.returns
    sums = utility.sum(axis=1)
    zero_sum = bool(np.allclose(sums, sums[0], atol=1e-9)) if len(sums) else True
    return TabularGame(
        name=name,
        env_id=env_id,
        key=key,
        kind=kind,
        game=game,
        num_players=num_players,
        num_actions=num_actions,
        action_names=action_names,
        zero_sum=zero_sum,
        utility_sum=float(sums[0]) if zero_sum and len(sums) else None,
        players=players,
        key_index=_key_index(players, name),
        history_player=ordered.player,
        history_parent=ordered.parent,
        history_action=ordered.action,
        history_chance_reach=ordered.chance,
        history_chance_prob=ordered.edge_chance,
        history_infoset=history_infoset,
        history_depth=ordered.depth,
        terminal_history=ordered.terminals,
        terminal_chance=ordered.chance[ordered.terminals],
        terminal_utility=utility,
        terminal_seq=terminal_seq,
    )


def _compile_openspiel(game_string: str, name: str, env_id: str) -> TabularGame:
    return dataclasses.replace(_compile_openspiel_cached(game_string), name=name, env_id=env_id)


# Compiled games on disk: OpenSpiel games of at least STORE_MIN_HISTORIES histories are written once per machine under
# cache_dir("games") and memory-mapped by later processes. A file is keyed by the game string, OpenSpiel's version and
# STORE_VERSION (raise it whenever the compiled arrays change, the information-state keys of
# arena.envs.openspiel.info_state_key included), and all three are checked when it is read.
STORE_FORMAT = "arena-compiled-game"
STORE_VERSION = 2
STORE_MIN_HISTORIES = 10_000
_HISTORY_FIELDS = (
    "history_player",
    "history_parent",
    "history_action",
    "history_chance_reach",
    "history_chance_prob",
    "history_infoset",
    "history_depth",
    "terminal_history",
    "terminal_chance",
    "terminal_utility",
    "terminal_seq",
)
_PLAYER_FIELDS = (
    "legal",
    "parent_seq",
    "seq",
    "first_seq",
    "level",
    "seq_infoset",
    "seq_action",
    "seq_parent",
    "infoset_history",
)


def _stored_identity(game_string: str) -> dict[str, Any]:
    return {
        "format": STORE_FORMAT,
        "version": STORE_VERSION,
        "game": game_string,
        "openspiel": pyspiel.__version__,  # its distribution's, without importlib.metadata (2-6 ms, 10-20 to import)
    }


def _stored_path(game_string: str) -> Path:
    identity = json.dumps(_stored_identity(game_string), sort_keys=True)
    return cache_dir("games") / f"{hashlib.sha1(identity.encode()).hexdigest()[:24]}.npz"


def _store(game: TabularGame, game_string: str) -> None:
    """Write a compiled OpenSpiel game to its file."""
    arrays = {name: getattr(game, name) for name in _HISTORY_FIELDS}
    levels = []
    for p, tree in enumerate(game.players):
        for name in _PLAYER_FIELDS:
            arrays[f"player{p}_{name}"] = getattr(tree, name)
        arrays[f"player{p}_keys"] = np.frombuffer("".join(tree.keys).encode("utf-32-le"), dtype=np.uint32)
        arrays[f"player{p}_key_ends"] = np.cumsum([len(k) for k in tree.keys], dtype=np.int64)
        levels.append([[i.start, i.stop, q.start, q.stop] for i, q in zip(tree.level_infosets, tree.level_sequences)])
    meta = {
        **_stored_identity(game_string),
        "key": game.key,
        "num_players": game.num_players,
        "num_actions": game.num_actions,
        "action_names": game.action_names,
        "zero_sum": game.zero_sum,
        "utility_sum": game.utility_sum,
        "histories": game.num_histories,
        "levels": levels,
    }
    with contextlib.suppress(OSError):  # a failure to write only costs the next process a compile
        write_arrays(_stored_path(game_string), arrays, meta)


def _read_stored(game_string: str) -> TabularGame | None:
    """The compiled game from its file, or None when there is none or it is stale or damaged."""
    path = _stored_path(game_string)
    if not path.exists():
        return None
    try:
        meta, arrays = read_arrays(path)
        if any(meta.get(k) != v for k, v in _stored_identity(game_string).items()):
            return None
        players = []
        for p, levels in enumerate(meta["levels"]):
            text = arrays[f"player{p}_keys"].tobytes().decode("utf-32-le")
            ends = arrays[f"player{p}_key_ends"].tolist()
            keys = [text[start:end] for start, end in zip([0, *ends[:-1]], ends)]
            fields = {name: arrays[f"player{p}_{name}"] for name in _PLAYER_FIELDS}
            tree = PlayerTree(
                keys=keys,
                **fields,
                level_infosets=[slice(a, b) for a, b, _, _ in levels],
                level_sequences=[slice(c, d) for _, _, c, d in levels],
            )
            if len(tree.legal) != len(keys):
                raise ValueError(f"{path}: player {p} has {len(keys)} keys for {len(tree.legal)} infosets")
            players.append(tree)
        histories = {name: arrays[name] for name in _HISTORY_FIELDS}
        if len(histories["history_player"]) != meta["histories"]:
            raise ValueError(f"{path}: truncated")
        return TabularGame(
            name=game_string,
            env_id=f"openspiel:{game_string}",
            key=meta["key"],
            kind="openspiel",
            game=load_game(game_string),
            num_players=meta["num_players"],
            num_actions=meta["num_actions"],
            action_names=meta["action_names"],
            zero_sum=meta["zero_sum"],
            utility_sum=meta["utility_sum"],
            players=players,
            key_index=_key_index(players, game_string),
            **histories,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=16)
def _compile_openspiel_cached(game_string: str) -> TabularGame:
    known = _read_stored(game_string)
    if known is not None:
        return known
    game = _compile_openspiel_walk(game_string)
    if game.num_histories >= STORE_MIN_HISTORIES:
        _store(game, game_string)
    return game


def _infoset_key(game: pyspiel.Game) -> Callable[[Any, int], str]:
    """The env's own information-state key (arena.envs.openspiel.info_state_key, so that agents find their
    infosets), as one unbound method call where it is OpenSpiel's information-state string: the walk asks for it
    at every decision history."""
    facts = _facts(game)
    if facts.info_string and not facts.own_actions:
        return cast(Callable[[Any, int], str], pyspiel.State.information_state_string)
    return functools.partial(info_state_key, game)


def _compile_openspiel_walk(game_string: str) -> TabularGame:
    game = load_game(game_string)
    kind = game.get_type()
    if kind.chance_mode == pyspiel.GameType.ChanceMode.SAMPLED_STOCHASTIC:
        raise ParameterError(
            f"{game_string}: sampled chance cannot be enumerated (exact game theory needs explicit chance)"
        )
    num_actions = game.num_distinct_actions()
    estimate = check_game(game, game_string)  # refuse a game too large before walking it

    raw = _walk(game.new_initial_state(), game.num_players(), _infoset_key(game), game_string, estimate)
    root = game.new_initial_state()
    names = []
    for p in range(game.num_players()):
        row = []
        for a in range(num_actions):
            try:
                row.append(root.action_to_string(p, a))
            except pyspiel.SpielError:
                row.append(str(a))
        names.append(row)
    key = f"{kind.short_name}{json.dumps(game.get_parameters(), sort_keys=True)}"
    return _build(
        raw,
        name=game_string,
        env_id=f"openspiel:{game_string}",
        key=key,
        kind="openspiel",
        game=game,
        num_players=game.num_players(),
        num_actions=num_actions,
        action_names=names,
    )


def _compile_matrix(env: Any, name: str, env_id: str) -> TabularGame:
    num_actions = max(env.num_actions)
    raw = _walk(_StageState(env), env.num_players, lambda state, player: f"player_{player}|", name)
    digest = hashlib.sha1(np.ascontiguousarray(env.payoffs).tobytes() + str(env.payoffs.shape).encode()).hexdigest()
    names = [list(n) + [str(a) for a in range(len(n), num_actions)] for n in env.action_names_per_player]
    return _build(
        raw,
        name=name,
        env_id=env_id,
        key=f"normal-form:{digest[:16]}",
        kind="normal-form",
        game=env,
        num_players=env.num_players,
        num_actions=num_actions,
        action_names=names,
    )


# Compiled games of this process by canonical env spec text: every solver agent, analysis and command of a
# process shares one TabularGame per game (the walk and the arrays are never repeated).
_LOADED: OrderedDict[str, TabularGame] = OrderedDict()
LOADED_GAMES = 32


def clear_compiled() -> None:
    """Forget the games compiled in this process (the next load compiles again)."""
    _LOADED.clear()
    _compile_openspiel_cached.cache_clear()


def load(env: EnvSpec | str, **params: Any) -> TabularGame:
    """Compile a game: an env spec (`leduc_poker-v0`, `rps-v0(rounds=1)`, `openspiel:<game string>`) or a plain
    OpenSpiel game string (`kuhn_poker(players=3)`). Normal-form envs compile to their one-shot stage game.

    Compiled once per process and game: later loads of the same canonical env spec return the same TabularGame
    (its `name` is what the first load was given).
    """
    if isinstance(env, str) and not env.strip():
        raise ParameterError("a game is named by an env id or an OpenSpiel game string")
    spec = EnvSpec.of(env.strip() if isinstance(env, str) else env, **params)
    if spec.id not in envs and ":" not in spec.id and is_registered_game(spec.id):
        spec = EnvSpec(f"openspiel:{spec.name}", None, spec.params)  # a plain OpenSpiel game string
    key = spec.text
    game = _LOADED.get(key)
    if game is not None:
        _LOADED.move_to_end(key)
        return game
    instance = make_env(spec)
    name = env if isinstance(env, str) else spec.text
    if isinstance(instance, OpenSpielEnv):
        game = _compile_openspiel(instance.game_string, name, instance.spec.text)
    elif isinstance(instance, MatrixGameEnv):
        game = _compile_matrix(instance, name, instance.spec.text)
    else:
        raise UnknownNameError(f"env {name!r} is not a tabular game (neither an OpenSpiel game nor a normal-form game)")
    _LOADED[key] = game
    while len(_LOADED) > LOADED_GAMES:
        _LOADED.popitem(last=False)
    return game
