"""Language-model players over the OpenAI Chat Completions protocol: client, cache, prompts, parsing, agent."""

from arena.agents.llm.agent import LLMAgent, MixedLLMAgent
from arena.agents.llm.client import ChatClient, ChatReply, EndpointError
from arena.agents.llm.parsing import parse_distribution, parse_move

__all__ = ["ChatClient", "ChatReply", "EndpointError", "LLMAgent", "MixedLLMAgent", "parse_distribution", "parse_move"]
