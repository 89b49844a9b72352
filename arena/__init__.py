"""arena: multi-agent games, game-theoretic solvers, MARL and LLM agents, and tournaments that measure them alike."""

from __future__ import annotations

import importlib
from typing import Any

from arena.core import Agent, ArenaError, Feedback, MatchResult, Observation
from arena.registry import (
    AgentSpec,
    EnvSpec,
    list_agents,
    list_envs,
    make_agent,
    make_env,
    register_agent,
    register_env,
)

__version__ = "0.1.0"

# Heavier parts load on first use so that `import arena` stays fast.
_LAZY = {
    "play": "arena.match",
    "run_tournament": "arena.tournaments",
    "solve": "arena.games",
    "as_gymnasium": "arena.envs.gymnasium_view",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'arena' has no attribute {name!r}")


__all__ = [
    "Agent",
    "AgentSpec",
    "ArenaError",
    "EnvSpec",
    "Feedback",
    "MatchResult",
    "Observation",
    "as_gymnasium",
    "list_agents",
    "list_envs",
    "make_agent",
    "make_env",
    "play",
    "register_agent",
    "register_env",
    "run_tournament",
    "solve",
]
