"""arena: multi-agent games, game-theoretic solvers, MARL and LLM agents, and tournaments that measure them alike.

Every public name loads on first use, so that `import arena` (and the `arena` command's start, where a Ctrl-C must
still be one line) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arena.core import Agent, Feedback, MatchResult, Observation
    from arena.errors import ArenaError
    from arena.registry import list_agents, list_envs, make_agent, make_env, register_agent, register_env
    from arena.specs import AgentSpec, EnvSpec

__version__ = "0.1.0"

_LAZY = {
    "Agent": "arena.core",
    "Feedback": "arena.core",
    "MatchResult": "arena.core",
    "Observation": "arena.core",
    "ArenaError": "arena.errors",
    "AgentSpec": "arena.specs",
    "EnvSpec": "arena.specs",
    "list_agents": "arena.registry",
    "list_envs": "arena.registry",
    "make_agent": "arena.registry",
    "make_env": "arena.registry",
    "register_agent": "arena.registry",
    "register_env": "arena.registry",
    "play": "arena.match",
    "run_tournament": "arena.tournaments",
    "solve": "arena.games",
    "as_gymnasium": "arena.envs.gymnasium_view",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'arena' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


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
