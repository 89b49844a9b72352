"""Exact game theory on tabular games: compile once into arrays, then best responses, NashConv, solvers."""

from __future__ import annotations

from arena.games.exploitability import BestResponse, best_response, expected_payoffs, exploitability, nash_conv
from arena.games.policy import TabularPolicy, policy_from_agent
from arena.games.solve import Solver, SolverAgent, SolveResult, solve, solvers
from arena.games.tree import PlayerTree, TabularGame, load

__all__ = [
    "BestResponse",
    "PlayerTree",
    "SolveResult",
    "Solver",
    "SolverAgent",
    "TabularGame",
    "TabularPolicy",
    "best_response",
    "expected_payoffs",
    "exploitability",
    "load",
    "nash_conv",
    "policy_from_agent",
    "solve",
    "solvers",
]
