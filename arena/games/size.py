"""Size first: how large a game's tree is, estimated in well under a second before compiling it, and the memory
budget that the compile keeps to.

`estimate_size(env)` plays random rollouts from the root and applies Knuth's estimator (1975): along a path that
picks uniformly among the b_0, b_1, ... children of its nodes, the products 1, b_0, b_0 b_1, ... are unbiased
estimates of the number of nodes at every depth, and their sum of the number of histories (the last one, of
terminals). Products are kept as logarithms, so that Go's 10^500 histories are a number too. The compile refuses,
with GameTooLarge, a game whose estimate needs more than the budget, and stops its walk when what it holds reaches
the budget (the estimate can err low on lopsided trees; the walk's own count cannot).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.errors import ParameterError
from arena.specs import EnvSpec


class GameTooLarge(ParameterError):
    """A game too large to compile exactly within the memory budget (estimated before the walk, or met during it).

    `histories` is the estimate or the count reached, `needed` the bytes it would take (or took so far) and
    `budget` the limit. Approximate methods catch this kind to switch to sampling.
    """

    def __init__(self, message: str, histories: float, needed: float, budget: int) -> None:
        super().__init__(message)
        self.histories = histories
        self.needed = needed
        self.budget = budget


# The memory a compile may use (bytes): 2 GB unless $ARENA_COMPILE_MEMORY (e.g. "4G", "500M" or bytes) says
# otherwise, or this is set. The walk counts what it holds and stops at the budget; `estimate_size` refuses games
# whose estimate exceeds it before walking.
MEMORY_BUDGET: int | None = None
DEFAULT_MEMORY_BUDGET = 2 * 1024**3
CHECK_EVERY = 4096  # histories between two checks of the budget
HISTORY_BYTES = 2 * 7 * 8  # seven 8-byte arrays per history, held twice while they are put in breadth-first order
INFOSET_BYTES = 400  # per information set: its key string, dict entries and legal-action list (measured, typical)


def terminal_bytes(num_players: int) -> int:
    """What the walk holds per terminal: its index, its utilities and last sequences, twice during the reorder."""
    return 2 * 8 * (1 + 2 * num_players)


def compile_bytes(histories: float, terminals: float, num_players: int, infosets: int = 0) -> float:
    """The memory a compile holding this many histories, terminals and information sets needs: what the budget is
    checked against, before the walk (estimated, infosets aside) and as it grows."""
    return histories * HISTORY_BYTES + terminals * terminal_bytes(num_players) + infosets * INFOSET_BYTES


def memory_budget() -> int:
    """The compile's memory budget in bytes (see MEMORY_BUDGET)."""
    if MEMORY_BUDGET is not None:
        return MEMORY_BUDGET
    text = os.environ.get("ARENA_COMPILE_MEMORY", "").strip()
    if not text:
        return DEFAULT_MEMORY_BUDGET
    units = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    scale = units.get(text[-1].upper(), 1)
    try:
        value = float(text[:-1] if scale > 1 else text)
    except ValueError:
        raise ParameterError(f"ARENA_COMPILE_MEMORY must be bytes or a size like 2G, got {text!r}") from None
    if value <= 0:
        raise ParameterError(f"ARENA_COMPILE_MEMORY must be positive, got {text!r}")
    return int(value * scale)


def too_large(name: str, histories: float, needed: float, budget: int, estimated: bool) -> GameTooLarge:
    """The error for a game over the budget, in one line."""
    count = f"about {histories:.3g}" if estimated else f"more than {int(histories):,}"
    need = f"{needed / 1024**2:,.0f} MB" if needed < 1024**5 else f"{needed:.2g} bytes"
    return GameTooLarge(
        f"{name} is too large to compile exactly: {count} histories need {need}, over the "
        f"{budget / 1024**2:,.0f} MB budget (set ARENA_COMPILE_MEMORY to raise it)",
        histories,
        needed,
        budget,
    )


@dataclass
class SizeEstimate:
    """What `estimate_size` found: estimated histories and terminals (log10 and value; the value is inf beyond
    float range), the memory a compile would need, the budget, and the rollouts and seconds it took."""

    env: str
    log10_histories: float
    log10_terminals: float
    num_players: int
    rollouts: int
    longest: int
    seconds: float
    budget: int

    @property
    def histories(self) -> float:
        return _power10(self.log10_histories)

    @property
    def terminals(self) -> float:
        return _power10(self.log10_terminals)

    @property
    def bytes(self) -> float:
        """The memory the compile's walk would hold (infosets aside, which it also counts as it goes)."""
        return compile_bytes(self.histories, self.terminals, self.num_players)

    @property
    def fits(self) -> bool:
        return self.bytes <= self.budget

    def error(self) -> GameTooLarge:
        """The GameTooLarge of this estimate (to raise when it does not fit)."""
        return too_large(self.env, self.histories, self.bytes, self.budget, estimated=True)


def _power10(exponent: float) -> float:
    return math.inf if exponent > 300 else 10.0**exponent


def _log10_sum(logs: list[float]) -> float:
    """log10(sum of 10^x) without overflow."""
    top = max(logs)
    return top + math.log10(sum(10.0 ** (x - top) for x in logs))


def estimate_game(
    game: Any, name: str, rollouts: int = 256, seconds: float = 0.5, seed: int = 0, budget: int | None = None
) -> SizeEstimate:
    """Knuth's estimate of a pyspiel game's tree size from up to `rollouts` random rollouts within `seconds`
    (at least 8 rollouts; fewer when the first ones already put the game far below or far above the budget)."""
    budget = memory_budget() if budget is None else budget
    rng = np.random.default_rng(seed)
    limit = max(int(game.max_game_length()), 1) + 1
    start = time.perf_counter()
    node_logs: list[float] = []  # per rollout: log10 of its estimate of the number of histories
    terminal_logs: list[float] = []
    longest = 0
    estimate = SizeEstimate(name, 0.0, 0.0, game.num_players(), 0, 0, 0.0, budget)
    while len(node_logs) < rollouts:
        state = game.new_initial_state()
        weight = 0.0  # log10 of the product of branching factors so far
        levels = [0.0]
        steps = 0
        while not state.is_terminal() and steps <= limit:
            if state.is_chance_node():
                children = [outcome for outcome, prob in state.chance_outcomes() if prob > 0]
            elif state.is_simultaneous_node():
                raise ParameterError(f"{name}: simultaneous nodes cannot be compiled; use a turn-based game")
            else:
                children = state.legal_actions()
            if not children:
                break
            weight += math.log10(len(children))
            levels.append(weight)
            state.apply_action(int(children[int(rng.integers(len(children)))]))
            steps += 1
        node_logs.append(_log10_sum(levels))
        terminal_logs.append(weight)
        longest = max(longest, steps)
        count = len(node_logs)
        mean_nodes = _log10_sum(node_logs) - math.log10(count)
        mean_terminals = _log10_sum(terminal_logs) - math.log10(count)
        estimate = SizeEstimate(
            name, mean_nodes, mean_terminals, game.num_players(), count, longest, time.perf_counter() - start, budget
        )
        if count >= 8 and (
            estimate.bytes > 100 * budget or estimate.bytes < budget / 100 or estimate.seconds > seconds
        ):
            break
    return estimate


def estimate_size(env: EnvSpec | str, rollouts: int = 256, seconds: float = 0.5, seed: int = 0) -> SizeEstimate:
    """Estimate the size of an env's game tree before compiling it (an env spec or an OpenSpiel game string, as
    `arena.games.load` takes); within about `seconds` and the memory of one state. Normal-form envs are counted
    exactly. Compare `.fits` (or catch the GameTooLarge that `load` raises) to choose an approximate method."""
    from arena.envs.matrix import MatrixGameEnv
    from arena.envs.openspiel import OpenSpielEnv, is_registered_game, load_game
    from arena.registry import envs, make_env

    spec = EnvSpec.of(env.strip() if isinstance(env, str) else env)
    if spec.id not in envs and ":" not in spec.id and is_registered_game(spec.id):
        spec = EnvSpec(f"openspiel:{spec.name}", None, spec.params)
    instance = make_env(spec)
    try:
        if isinstance(instance, OpenSpielEnv):
            return estimate_game(load_game(instance.game_string), spec.text, rollouts, seconds, seed)
        if isinstance(instance, MatrixGameEnv):
            actions = list(instance.num_actions)
            nodes = sum(math.prod(actions[:k]) for k in range(len(actions) + 1))
            return SizeEstimate(
                spec.text, math.log10(nodes), math.log10(math.prod(actions)), len(actions), 0, 0, 0.0, memory_budget()
            )
        raise ParameterError(
            f"env {spec.text!r} is not a tabular game (neither an OpenSpiel game nor a normal-form game)"
        )
    finally:
        instance.close()


def check_game(game: Any, name: str) -> SizeEstimate:
    """Estimate a pyspiel game's size; raise GameTooLarge when it does not fit the memory budget."""
    estimate = estimate_game(game, name)
    if not estimate.fits:
        raise estimate.error()
    return estimate
