"""Agents, one algorithm per file. The registry's built-in entries are in `builtins.py`, which the agent registry
imports on first use, so that importing a module of this package (`arena train`'s, when the `arena` parser is
built) registers nothing and imports no solver.
"""
