"""Exact game theory on tabular games: compile once into arrays, then best responses, NashConv, solvers."""

from __future__ import annotations

from arena.games.tree import PlayerTree, TabularGame, load

__all__ = ["PlayerTree", "TabularGame", "load"]
