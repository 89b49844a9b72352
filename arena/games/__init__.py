"""Exact game theory on tabular games: compile once into arrays, then best responses, NashConv, solvers.

The names below load on first use, so that importing this package (which the `arena` command does to build its
parser) costs no numpy or scipy. As when they were imported eagerly, `arena.games.exploitability` and
`arena.games.solve` are the functions of those names, not the submodules.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arena.games.exploitability import BestResponse, best_response, expected_payoffs, exploitability, nash_conv
    from arena.games.policy import TabularPolicy, policy_from_agent
    from arena.games.size import GameTooLarge, SizeEstimate, estimate_size
    from arena.games.solve import Solver, SolverAgent, SolveResult, solve, solvers
    from arena.games.tree import PlayerTree, TabularGame, load

_LAZY = {
    "BestResponse": "arena.games.exploitability",
    "best_response": "arena.games.exploitability",
    "expected_payoffs": "arena.games.exploitability",
    "exploitability": "arena.games.exploitability",
    "nash_conv": "arena.games.exploitability",
    "TabularPolicy": "arena.games.policy",
    "policy_from_agent": "arena.games.policy",
    "GameTooLarge": "arena.games.size",
    "SizeEstimate": "arena.games.size",
    "estimate_size": "arena.games.size",
    "Solver": "arena.games.solve",
    "SolverAgent": "arena.games.solve",
    "SolveResult": "arena.games.solve",
    "solve": "arena.games.solve",
    "solvers": "arena.games.solve",
    "PlayerTree": "arena.games.tree",
    "TabularGame": "arena.games.tree",
    "load": "arena.games.tree",
}


class _Package(types.ModuleType):
    """This package: its public names resolve to their objects even where a submodule shares the name."""

    def __getattribute__(self, name: str) -> Any:
        if name in _LAZY:
            return getattr(importlib.import_module(_LAZY[name]), name)
        return super().__getattribute__(name)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_LAZY})


sys.modules[__name__].__class__ = _Package

__all__ = [
    "BestResponse",
    "GameTooLarge",
    "PlayerTree",
    "SizeEstimate",
    "SolveResult",
    "Solver",
    "SolverAgent",
    "TabularGame",
    "TabularPolicy",
    "best_response",
    "estimate_size",
    "expected_payoffs",
    "exploitability",
    "load",
    "nash_conv",
    "policy_from_agent",
    "solve",
    "solvers",
]
