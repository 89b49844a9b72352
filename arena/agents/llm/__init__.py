"""Language-model players over the OpenAI Chat Completions protocol: client, cache, prompts, parsing, agent."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arena.agents.llm.agent import LLMAgent, MixedLLMAgent
    from arena.agents.llm.client import ChatClient, ChatReply, EndpointError
    from arena.agents.llm.parsing import parse_distribution, parse_move

# Loaded on first use: `arena llm`'s parser imports this package, and every `arena` command builds it (no httpx).
_LAZY = {
    "LLMAgent": "arena.agents.llm.agent",
    "MixedLLMAgent": "arena.agents.llm.agent",
    "ChatClient": "arena.agents.llm.client",
    "ChatReply": "arena.agents.llm.client",
    "EndpointError": "arena.agents.llm.client",
    "parse_distribution": "arena.agents.llm.parsing",
    "parse_move": "arena.agents.llm.parsing",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'arena.agents.llm' has no attribute {name!r}")


__all__ = ["ChatClient", "ChatReply", "EndpointError", "LLMAgent", "MixedLLMAgent", "parse_distribution", "parse_move"]
