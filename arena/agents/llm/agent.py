"""A language model as a player: any OpenAI-compatible chat endpoint behind the ordinary Agent contract.

Strategies (`strategy=`):
- `act`: one reply per move, parsed into a move (TextArena/GTBench style);
- `distribution`: the model states a probability for each legal move (Park et al., "Do LLM Agents Have Regret?")
  and the move is drawn from it with the agent's seeded generator;
- `sample`: K replies to the move prompt; their empirical frequencies are the strategy.
With `distribution` and `sample` the agent has `action_probs`, the model's mixed strategy at an information set
(the stated distribution, or the frequencies of `samples` replies), which is what exact exploitability and the
expected regret of each round need; `llm(strategy=...)` builds a `MixedLLMAgent` then. With `act` it has none,
so nothing asks the model more than once per move.

An unreadable reply makes `act` return -1, an illegal move, so the match's illegal-move policy decides (re-ask
with the error, a random legal move, or forfeit). Every call, cache hit, token, second, retry, unreadable reply
and fallback is counted in `match_stats()` and stored with the match.
"""

from __future__ import annotations

import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from arena.agents.llm.cache import ResponseCache, cache_disabled_by_env, default_cache_dir, request_key
from arena.agents.llm.client import ChatClient, ChatReply, EndpointError, public_url
from arena.agents.llm.parsing import parse_distribution, parse_move
from arena.agents.llm.prompts import load_templates
from arena.core import Agent, Observation, ParameterError

STRATEGIES = ("act", "distribution", "sample")
BASE_URL_ENV = "ARENA_LLM_BASE_URL"
MODEL_ENV = "ARENA_LLM_MODEL"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
_FAILURES_LOCK = threading.Lock()  # draws are requested from several threads at once; failures are rare
_COUNTERS = (
    "calls",
    "cache_hits",
    "prompt_tokens",
    "completion_tokens",
    "retries",
    "failed_requests",
    "parse_failures",
    "fallbacks",
    "reasks",
)


class LLMAgent(Agent):
    """A chat model playing through `base_url` (OpenAI, vLLM, Ollama, llama.cpp, LM Studio, OpenRouter...).

    `LLMAgent(strategy="distribution" | "sample", ...)` returns a MixedLLMAgent, the same player with `action_probs`.
    """

    name = "llm"

    def __new__(cls, *args: Any, strategy: str = "act", **kwargs: Any) -> LLMAgent:
        if cls is LLMAgent and strategy in ("distribution", "sample"):
            cls = MixedLLMAgent
        return super().__new__(cls)

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key_env: str = DEFAULT_KEY_ENV,
        temperature: float = 1.0,
        max_tokens: int | None = 1024,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        concurrency: int = 4,
        strategy: str = "act",
        samples: int = 5,
        cache: bool = True,
        cache_dir: str | None = None,
        template: str = "default",
    ) -> None:
        base_url = base_url or os.environ.get(BASE_URL_ENV)
        model = model or os.environ.get(MODEL_ENV)
        if not base_url:
            raise ParameterError(
                "llm: no endpoint configured; pass base_url=URL, e.g. "
                "llm(model=qwen2.5:7b, base_url=http://localhost:11434/v1) for a local Ollama, "
                f"or set {BASE_URL_ENV} (and {MODEL_ENV})"
            )
        if not base_url.startswith(("http://", "https://")):
            raise ParameterError(f"llm: base_url must start with http:// or https://, got {public_url(base_url)!r}")
        if not model:
            raise ParameterError(f"llm: no model given; pass model=NAME (e.g. model=qwen2.5:7b) or set {MODEL_ENV}")
        if strategy not in STRATEGIES:
            raise ParameterError(f"llm: strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        if api_key_env != DEFAULT_KEY_ENV and not os.environ.get(api_key_env):
            raise ParameterError(f"llm: environment variable {api_key_env} (api_key_env) is not set")
        for label, value, lowest in (("samples", samples, 1), ("retries", retries, 0), ("concurrency", concurrency, 1)):
            if value < lowest:
                raise ParameterError(f"llm: {label} must be at least {lowest}, got {value}")
        for label, limit in (("timeout", timeout), ("max_tokens", max_tokens)):
            if limit is not None and limit <= 0:
                raise ParameterError(f"llm: {label} must be positive, got {limit}")
        if temperature < 0 or backoff < 0 or max_backoff < 0:
            raise ParameterError("llm: temperature, backoff and max_backoff must not be negative")
        self.model, self.strategy, self.samples = model, strategy, samples
        self.temperature, self.max_tokens = temperature, max_tokens
        self.templates = load_templates(template)
        self.client = ChatClient(
            base_url,
            api_key_env=api_key_env,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            concurrency=concurrency,
        )
        self.cache = ResponseCache(cache_dir or default_cache_dir()) if cache else None
        self.endpoint = public_url(base_url)
        shown = {
            "model": model,
            "base_url": self.endpoint,
            "strategy": strategy if strategy != "act" else None,
            "samples": samples if strategy == "sample" else None,
            "temperature": temperature,
            "template": template if template != "default" else None,
        }
        self.name = "llm(" + ", ".join(f"{k}={v}" for k, v in shown.items() if v is not None) + ")"
        self._start_match(None)

    # -- bookkeeping -----------------------------------------------------------------------------------------

    def _start_match(self, seed: int | None) -> None:
        self.rng = np.random.default_rng(seed)
        self.stats: dict[str, Any] = dict.fromkeys(_COUNTERS, 0)
        self.stats["latency_s"] = 0.0
        self._draw_salt = str(seed) if seed is not None else secrets.token_hex(8)
        self._draws: dict[str, int] = {}
        self._replies: dict[str, ChatReply] = {}  # this match's draws: the same draw is never paid for twice
        self._problem: tuple[str, int, str] | None = None

    def reset(self, seed: int | None, player: str, env_spec: Any) -> None:
        super().reset(seed, player, env_spec)
        self._start_match(seed)

    def match_stats(self) -> dict[str, Any]:
        """Counters of the last match: requests sent, cache hits, tokens, seconds waited, retries, failures."""
        return {
            "model": self.model,
            "endpoint": self.endpoint,
            "strategy": self.strategy,
            **self.stats,
            "latency_s": round(self.stats["latency_s"], 6),
        }

    def close(self) -> None:
        self.client.close()

    # -- requests --------------------------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    def _request(self, messages: list[dict[str, str]], sample: str | int) -> tuple[ChatReply, bool]:
        """One reply, and whether it is new to this match. A draw already made in this match is reused silently
        (asking for a move and then for the strategy behind it is one question); with the cache, a draw made in
        an earlier run comes from disk. Thread-safe; counts only the requests that fail (their retries and time)."""
        key = request_key(self.model, messages, {**self._params(), "endpoint": self.endpoint}, sample)
        if key in self._replies:
            return self._replies[key], False
        cache = self.cache if self.cache is not None and not cache_disabled_by_env() else None
        reply = cache.get(key) if cache is not None else None
        if reply is None:
            try:
                reply = self.client.complete(self.model, messages, **self._params())
            except EndpointError as error:  # a failed request costs what it cost: count it
                with _FAILURES_LOCK:
                    self.stats["failed_requests"] += 1
                    self.stats["retries"] += error.retries
                    self.stats["latency_s"] += error.latency
                raise
            if cache is not None:
                cache.put(key, reply)
        self._replies[key] = reply
        return reply, True

    def _count(self, reply: ChatReply, new: bool) -> None:
        if not new:
            return
        self.stats["cache_hits" if reply.cached else "calls"] += 1
        self.stats["prompt_tokens"] += reply.prompt_tokens
        self.stats["completion_tokens"] += reply.completion_tokens
        self.stats["retries"] += reply.retries
        self.stats["latency_s"] += reply.latency

    def _ask(self, messages: list[dict[str, str]], sample: str | int) -> ChatReply:
        reply, new = self._request(messages, sample)
        self._count(reply, new)
        return reply

    def _ask_many(self, messages: list[dict[str, str]], count: int) -> list[ChatReply]:
        """`count` independent draws (sample indices 0..count-1), sent concurrently within the endpoint's limit."""
        with ThreadPoolExecutor(max_workers=min(count, self.client.concurrency)) as pool:
            replies = list(pool.map(lambda index: self._request(messages, index), range(count)))
        for reply, new in replies:
            self._count(reply, new)
        return [reply for reply, _ in replies]

    def _next_draw(self, messages: list[dict[str, str]]) -> str | int:
        """The sample index of a move request: greedy decoding (temperature 0) has one reply per prompt;
        otherwise each match seed and each repetition of the prompt within the match get their own draw."""
        if self.temperature == 0:
            return 0
        key = request_key(self.model, messages, {}, "")
        count = self._draws.get(key, 0)
        self._draws[key] = count + 1
        return f"{self._draw_salt}/{count}"

    # -- playing ---------------------------------------------------------------------------------------------

    @staticmethod
    def _names(obs: Observation) -> list[str]:
        names = obs.action_names
        return names if names else [str(a) for a in range(len(obs.action_mask))]

    def _error_for(self, obs: Observation) -> str | None:
        """What to tell the model on a re-ask: our own reading of its last answer, else the match's message."""
        if obs.error is None:
            return None
        if self._problem and self._problem[:2] == (obs.player, obs.step):
            return self._problem[2]
        return obs.error

    def _reject(self, obs: Observation, problem: str) -> int:
        self.stats["parse_failures"] += 1
        self._problem = (obs.player, obs.step, problem)
        return -1

    def _stated_distribution(self, obs: Observation, error: str | None) -> np.ndarray | None:
        names, legal = self._names(obs), obs.legal_actions
        messages = self.templates.messages("distribution", obs.text, [names[a] for a in legal], error)
        reply = self._ask(messages, 0)
        probs = parse_distribution(reply.text, names, legal, len(obs.action_mask))
        if probs is None:
            self._reject(obs, "your reply held no readable probability for each legal move")
        return probs

    def _sampled_distribution(self, obs: Observation, error: str | None) -> np.ndarray | None:
        names, legal = self._names(obs), obs.legal_actions
        messages = self.templates.messages("act", obs.text, [names[a] for a in legal], error)
        counts = np.zeros(len(obs.action_mask))
        for reply in self._ask_many(messages, self.samples):
            action = parse_move(reply.text, names, legal, len(counts))
            if action is None or action not in legal:
                self.stats["parse_failures"] += 1
            else:
                counts[action] += 1
        if counts.sum() == 0:
            self._problem = (obs.player, obs.step, "none of your replies named a legal move")
            return None
        return counts / counts.sum()

    def _distribution(self, obs: Observation, error: str | None = None) -> np.ndarray | None:
        if self.strategy == "distribution":
            return self._stated_distribution(obs, error)
        return self._sampled_distribution(obs, error)

    def act(self, obs: Observation) -> int:
        """A move; -1 (illegal) when the reply cannot be read, so that the match's illegal-move policy applies."""
        legal = obs.legal_actions
        if len(legal) == 1:
            return legal[0]
        error = self._error_for(obs)
        if error is not None:
            self.stats["reasks"] += 1
        if self.strategy != "act":
            probs = self._distribution(obs, error)
            return -1 if probs is None else int(self.rng.choice(len(probs), p=probs))
        names = self._names(obs)
        messages = self.templates.messages("act", obs.text, [names[a] for a in legal], error)
        reply = self._ask(messages, self._next_draw(messages))
        action = parse_move(reply.text, names, legal, len(obs.action_mask))
        if action is None:
            return self._reject(obs, "your reply did not name a legal move")
        if action not in legal:
            self._problem = (obs.player, obs.step, f"{names[action]} is not a legal move now")
        return action


class MixedLLMAgent(LLMAgent):
    """An LLM player with a readable mixed strategy: `strategy="distribution"` or `strategy="sample"`."""

    def action_probs(self, obs: Observation) -> np.ndarray:
        """The model's mixed strategy here; uniform over the legal moves (counted as a fallback) if unreadable."""
        legal = obs.legal_actions
        probs = np.zeros(len(obs.action_mask))
        if len(legal) == 1:
            probs[legal[0]] = 1.0
            return probs
        found = self._distribution(obs)
        if found is not None:
            return found
        self.stats["fallbacks"] += 1
        probs[legal] = 1.0 / len(legal)
        return probs
