"""The built-in solvers: each module registers its solvers, and their agents with them, when imported here.

The agent registry imports this module after `builtins.py`, only when a name is not found there (or when every
agent is listed); the solver registry imports it on first use.
"""

from arena.agents import balanced_ftrl, cfr, ftrl, mmd, nash_mp

__all__ = ["balanced_ftrl", "cfr", "ftrl", "mmd", "nash_mp"]
