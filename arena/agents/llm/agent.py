"""A language model as a player: any OpenAI-compatible chat endpoint behind the ordinary Agent contract.

Strategies (`strategy=`):
- `act`: one reply per move, parsed into a move (TextArena/GTBench style);
- `distribution`: the model states a probability for each legal move (Park et al., "Do LLM Agents Have Regret?")
  and the move is drawn from it with the agent's seeded generator;
- `sample`: K replies to the move prompt; their empirical frequencies are the strategy;
- `vote(k)`: self-consistency: k replies, the majority move is played (ties broken by the seeded generator), and
  the vote shares are `action_probs`.
With `distribution`, `sample` and `vote` the agent has `action_probs`, the model's mixed strategy at an information
set, which is what exact exploitability and the expected regret of each round need; `llm(strategy=...)` builds a
`MixedLLMAgent` then. With `act` it has none, so nothing asks the model more than once per move.

Answers (`answer=`): `text` reads free text; `json` sends `response_format` with a JSON schema whose move is an enum
of the legal moves (a distribution: an object of legal moves to numbers); `tool` asks for the same as a function
call. An endpoint that refuses them (HTTP 400, 404, 405, 415, 422 or 501) is asked again in text at once, and
remembered (per endpoint, for the process) as one that takes text only.

History (`history=`): `stateless` sends each decision alone; `chat` keeps the match as one conversation (each
observation a user turn, each reply an assistant turn), its oldest turns dropped to stay within `history_tokens`.

An unreadable reply makes `act` return -1, an illegal move, so the match's illegal-move policy decides (re-ask
with the error, a random legal move, or forfeit). Every call, cache hit, token, second, retry, unreadable reply
and fallback is counted in `match_stats()` and stored with the match; every request is a transcript record
(`take_transcript()`): the messages sent, the raw reply and reasoning, tokens, latency, retries, how the reply was
read and what was read from it. The match loop writes those into the replay and the store.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from arena.agents.llm.cache import ResponseCache, cache_disabled_by_env, default_cache_dir, request_key
from arena.agents.llm.client import ChatClient, ChatReply, EndpointError, public_url
from arena.agents.llm.parsing import parse_distribution, read_move, think_blocks
from arena.agents.llm.prompts import PromptBook, Templates
from arena.core import Agent, Observation, ParameterError

STRATEGIES = ("act", "distribution", "sample", "vote")
ANSWERS = ("text", "json", "tool")
ANSWER_FORMS = {"text": ("text",), "json": ("json", "json_object"), "tool": ("tool",)}  # tried in order
HISTORIES = ("stateless", "chat")
REASONING_EFFORTS = ("minimal", "low", "medium", "high")
REFUSAL_STATUS = {400, 404, 405, 415, 422, 501}  # how servers say they do not take a request's fields
BASE_URL_ENV = "ARENA_LLM_BASE_URL"
MODEL_ENV = "ARENA_LLM_MODEL"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
LOCAL = "local"
_VOTE = re.compile(r"vote(?:\((\d+)\))?")
_LOCK = threading.Lock()  # draws are requested from several threads at once; what they count is rare
_REFUSED: dict[tuple[str, str], str] = {}  # (endpoint, answer kind) -> the refusal: that endpoint takes text only
_COUNTERS = (
    "calls",
    "cache_hits",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "retries",
    "failed_requests",
    "parse_failures",
    "fallbacks",
    "reasks",
    "answer_fallbacks",
)


def parse_strategy(strategy: str, samples: int) -> tuple[str, int]:
    """The strategy's name and its number of draws: `vote(7)` is ("vote", 7); `vote` and `sample` use `samples`."""
    found = _VOTE.fullmatch(strategy.strip()) if isinstance(strategy, str) else None
    if found:
        return "vote", int(found.group(1)) if found.group(1) else samples
    if strategy not in STRATEGIES:
        raise ParameterError(f"llm: strategy must be one of act, distribution, sample, vote(k), got {strategy!r}")
    return strategy, samples


def move_schema(legal_moves: list[str]) -> dict[str, Any]:
    """The JSON schema of one move: a short reason, then the move, an enum of the legal moves."""
    return {
        "type": "object",
        "properties": {"reason": {"type": "string", "maxLength": 300}, "move": {"type": "string", "enum": legal_moves}},
        "required": ["reason", "move"],
        "additionalProperties": False,
    }


def distribution_schema(legal_moves: list[str]) -> dict[str, Any]:
    """The JSON schema of a mixed strategy: an object mapping each legal move to a number in [0, 1]."""
    return {
        "type": "object",
        "properties": {name: {"type": "number", "minimum": 0, "maximum": 1} for name in legal_moves},
        "required": legal_moves,
        "additionalProperties": False,
    }


def estimated_tokens(messages: list[dict[str, str]]) -> int:
    """A server-independent estimate of a conversation's length: four characters a token, four tokens a message."""
    return sum(len(m.get("content") or "") // 4 + 4 for m in messages)


class LLMAgent(Agent):
    """A chat model playing through `base_url` (OpenAI, vLLM, Ollama, llama.cpp, LM Studio, OpenRouter...), or a
    packaged model on a local llama.cpp server (`local=true`, or `base_url=local`).

    `LLMAgent(strategy="distribution" | "sample" | "vote(k)", ...)` returns a MixedLLMAgent, the same player with
    `action_probs`.
    """

    name = "llm"

    def __new__(cls, *args: Any, strategy: str = "act", **kwargs: Any) -> LLMAgent:
        if cls is LLMAgent and isinstance(strategy, str) and strategy != "act":
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
        answer: str = "text",
        history: str = "stateless",
        history_tokens: int = 2048,
        reasoning_effort: str | None = None,
        max_completion_tokens: int | None = None,
        local: bool = False,
    ) -> None:
        local = local or base_url == LOCAL
        self.local_model: str | None = None
        if local:
            from arena.agents.llm.local import DEFAULT_MODEL, resolve_model

            self.local_model = model or DEFAULT_MODEL
            model = resolve_model(self.local_model)[1]
            base_url = None
        else:
            base_url = base_url or os.environ.get(BASE_URL_ENV)
            model = model or os.environ.get(MODEL_ENV)
            if not base_url:
                raise ParameterError(
                    "llm: no endpoint configured; pass base_url=URL, e.g. "
                    "llm(model=qwen2.5:7b, base_url=http://localhost:11434/v1) for a local Ollama, "
                    f"set {BASE_URL_ENV} (and {MODEL_ENV}), or play the packaged model with llm(local=true)"
                )
            if not base_url.startswith(("http://", "https://")):
                raise ParameterError(f"llm: base_url must start with http:// or https://, got {public_url(base_url)!r}")
            if not model:
                raise ParameterError(f"llm: no model given; pass model=NAME (e.g. model=qwen2.5:7b) or set {MODEL_ENV}")
        assert model is not None
        strategy, samples = parse_strategy(strategy, samples)
        for label, kind, allowed in (("answer", answer, ANSWERS), ("history", history, HISTORIES)):
            if kind not in allowed:
                raise ParameterError(f"llm: {label} must be one of {', '.join(allowed)}, got {kind!r}")
        if reasoning_effort is not None and reasoning_effort not in REASONING_EFFORTS:
            raise ParameterError(
                f"llm: reasoning_effort must be one of {', '.join(REASONING_EFFORTS)}, got {reasoning_effort!r}"
            )
        if not local and api_key_env != DEFAULT_KEY_ENV and not os.environ.get(api_key_env):
            raise ParameterError(f"llm: environment variable {api_key_env} (api_key_env) is not set")
        for label, value, lowest in (
            ("samples", samples, 1),
            ("retries", retries, 0),
            ("concurrency", concurrency, 1),
            ("history_tokens", history_tokens, 64),
        ):
            if value < lowest:
                raise ParameterError(f"llm: {label} must be at least {lowest}, got {value}")
        for label, limit in (
            ("timeout", timeout),
            ("max_tokens", max_tokens),
            ("max_completion_tokens", max_completion_tokens),
        ):
            if limit is not None and limit <= 0:
                raise ParameterError(f"llm: {label} must be positive, got {limit}")
        if temperature < 0 or backoff < 0 or max_backoff < 0:
            raise ParameterError("llm: temperature, backoff and max_backoff must not be negative")
        self.model, self.strategy, self.samples = model, strategy, samples
        self.temperature, self.max_tokens = temperature, max_tokens
        self.answer, self.history, self.history_tokens = answer, history, history_tokens
        self.reasoning_effort, self.max_completion_tokens = reasoning_effort, max_completion_tokens
        self.book = PromptBook(template)
        self._client_options: dict[str, Any] = {
            "api_key_env": None if local else api_key_env,
            "timeout": timeout,
            "retries": retries,
            "backoff": backoff,
            "max_backoff": max_backoff,
            "concurrency": concurrency,
        }
        self.client: ChatClient | None = None if local else ChatClient(base_url or "", **self._client_options)
        self.cache = ResponseCache(cache_dir or default_cache_dir()) if cache else None
        self.endpoint = f"{LOCAL}:{model}" if local else public_url(base_url or "")
        shown = {
            "model": model,
            "base_url": LOCAL if local else self.endpoint,
            "strategy": (f"vote({samples})" if strategy == "vote" else strategy) if strategy != "act" else None,
            "samples": samples if strategy == "sample" else None,
            "temperature": temperature,
            "answer": answer if answer != "text" else None,
            "history": history if history != "stateless" else None,
            "reasoning_effort": reasoning_effort,
            "template": template if template != "default" else None,
        }
        self.name = "llm(" + ", ".join(f"{k}={v}" for k, v in shown.items() if v is not None) + ")"
        self._env_id: str | None = None
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
        self._transcript: list[dict[str, Any]] = []
        self._conversation: list[dict[str, str]] = []

    def reset(self, seed: int | None, player: str, env_spec: Any) -> None:
        super().reset(seed, player, env_spec)
        self._env_id = getattr(env_spec, "id", None)
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

    def take_transcript(self) -> list[dict[str, Any]]:
        """The transcript records of the requests made since the last call (oldest first), handed over once."""
        records, self._transcript = self._transcript, []
        return records

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def _chat_client(self) -> ChatClient:
        """The endpoint's client; for a local model, the process's server is started on first use."""
        if self.client is None:
            from arena.agents.llm.local import shared_server

            server = shared_server(self.local_model)
            self.client = ChatClient(server.base_url, **self._client_options)
            _REFUSED.setdefault((self.endpoint, "json"), "llama-cpp-python's server takes json_object with a schema")
        return self.client

    def _redact(self, text: str | None) -> str | None:
        return text if text is None or self.client is None else self.client.redact(text)

    # -- requests --------------------------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        budget = (
            {"max_completion_tokens": self.max_completion_tokens}
            if self.max_completion_tokens is not None
            else {"max_tokens": self.max_tokens}
        )
        effort = {"reasoning_effort": self.reasoning_effort} if self.reasoning_effort else {}
        return {"temperature": self.temperature, **budget, **effort}

    def answer_kind(self) -> str:
        """How answers are asked for now: the first of `answer`'s forms this endpoint has not refused, else `text`.
        `json` has two: OpenAI's `json_schema` response format, then `json_object` with a `schema` (llama.cpp's)."""
        for form in ANSWER_FORMS[self.answer]:
            if (self.endpoint, form) not in _REFUSED:
                return form
        return "text"

    @staticmethod
    def _structure(kind: str, answer: str, legal_moves: list[str]) -> dict[str, Any]:
        """The request fields that ask for a structured answer (none for text)."""
        if answer == "text":
            return {}
        one_move = kind == "act"
        schema = move_schema(legal_moves) if one_move else distribution_schema(legal_moves)
        name = "play_move" if one_move else "play_strategy"
        if answer == "json":
            return {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": name, "strict": True, "schema": schema},
                }
            }
        if answer == "json_object":
            return {"response_format": {"type": "json_object", "schema": schema}}
        about = "Play one legal move." if one_move else "Play a mixed strategy: a probability for each legal move."
        return {
            "tools": [{"type": "function", "function": {"name": name, "description": about, "parameters": schema}}],
            "tool_choice": {"type": "function", "function": {"name": name}},
        }

    def _templates(self, answer: str) -> Templates:
        return self.book.for_env(self._env_id, structured=answer != "text")

    def _messages(self, templates: Templates, user: str) -> list[dict[str, str]]:
        """The request's messages: the system part, the conversation so far (chat history, trimmed to the token
        budget from its oldest turns) and the new user turn."""
        system = {"role": "system", "content": templates.system}
        turn = {"role": "user", "content": user}
        if self.history == "stateless":
            return [system, turn]
        past = self._conversation
        budget = self.history_tokens - estimated_tokens([system, turn])
        start = 0
        while start < len(past) and estimated_tokens(past[start:]) > budget:
            start += 2  # a user turn and its reply go together
        return [system, *past[start:], turn]

    def _request(
        self, messages: list[dict[str, str]], sample: str | int, extra: dict[str, Any]
    ) -> tuple[ChatReply, bool]:
        """One reply, and whether it is new to this match. A draw already made in this match is reused silently
        (asking for a move and then for the strategy behind it is one question); with the cache, a draw made in
        an earlier run comes from disk. Thread-safe; counts only the requests that fail (their retries and time)."""
        params = {**self._params(), **extra}
        key = request_key(self.model, messages, {**params, "endpoint": self.endpoint}, sample)
        if key in self._replies:
            return self._replies[key], False
        cache = self.cache if self.cache is not None and not cache_disabled_by_env() else None
        reply = cache.get(key) if cache is not None else None
        if reply is None:
            client = self._chat_client()
            try:
                refusable = ("response_format",) if "response_format" in extra else ("tools", "tool_choice")
                reply = client.complete(self.model, messages, refusable if extra else (), **params)
            except EndpointError as error:  # a failed request costs what it cost: count it
                with _LOCK:
                    self.stats["failed_requests"] += 1
                    self.stats["retries"] += error.retries
                    self.stats["latency_s"] += error.latency
                raise
            if cache is not None:
                cache.put(key, reply)
        self._replies[key] = reply
        return reply, True

    def _exchange(
        self, kind: str, obs: Observation, error: str | None, sample: str | int
    ) -> tuple[ChatReply, dict[str, Any] | None, list[dict[str, str]]]:
        """Ask for a move (`kind` act) or a distribution, in the agent's answer kind, falling back to text at once
        when the endpoint refuses it. The reply, its transcript record (None for a draw this match already made)
        and the messages sent. Failed requests and refusals go into the transcript as they happen."""
        names = self._names(obs)
        legal_moves = [names[a] for a in obs.legal_actions]
        while True:
            answer = self.answer_kind()
            templates = self._templates(answer)
            messages = self._messages(templates, templates.user_prompt(kind, obs.text, legal_moves, error))
            record: dict[str, Any] = {"kind": kind, "answer": answer, "messages": self._redacted(messages)}
            if error is not None:
                record["reask"] = self._redact(error)
            try:
                reply, new = self._request(messages, sample, self._structure(kind, answer, legal_moves))
            except EndpointError as failure:
                record.update(error=str(failure), retries=failure.retries, latency_s=round(failure.latency, 6))
                refused = answer != "text" and (failure.status in REFUSAL_STATUS or failure.refused)
                with _LOCK:
                    if refused:
                        self.stats["answer_fallbacks"] += 1
                        _REFUSED[(self.endpoint, answer)] = str(failure)
                        record["fallback"] = self.answer_kind()
                    self._transcript.append(record)
                if refused:
                    continue
                raise
            if not new:
                return reply, None, messages
            reasoning = reply.reasoning or think_blocks(reply.text)
            reasoning_tokens = reply.reasoning_tokens
            if not reasoning_tokens and reasoning and not reply.reasoning and reply.text:
                reasoning_tokens = round(reply.completion_tokens * len(reasoning) / len(reply.text))  # estimated
            record.update(
                reply=self._redact(reply.text),
                reasoning=self._redact(reasoning) or None,
                tool_arguments=self._redact(reply.tool_arguments),
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                reasoning_tokens=reasoning_tokens,
                latency_s=round(reply.latency, 6),
                retries=reply.retries,
                cached=reply.cached,
            )
            if isinstance(sample, int) and kind == "act" and self.strategy in ("sample", "vote"):
                record["sample"] = sample
            with _LOCK:
                self.stats["cache_hits" if reply.cached else "calls"] += 1
                self.stats["prompt_tokens"] += reply.prompt_tokens
                self.stats["completion_tokens"] += reply.completion_tokens
                self.stats["reasoning_tokens"] += reasoning_tokens
                self.stats["retries"] += reply.retries
                self.stats["latency_s"] += reply.latency
            return reply, record, messages

    def _redacted(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{"role": m["role"], "content": self._redact(m["content"]) or ""} for m in messages]

    def _note(self, record: dict[str, Any] | None, **read: Any) -> None:
        """Add what was read from a reply to its record, and keep the record."""
        if record is not None:
            record.update(read)
            self._transcript.append(record)

    def _next_draw(self, obs: Observation, error: str | None) -> str | int:
        """The sample index of a move request: greedy decoding (temperature 0) has one reply per prompt;
        otherwise each match seed and each repetition of the prompt within the match get their own draw."""
        if self.temperature == 0:
            return 0
        key = request_key(
            self.model, [{"text": obs.text, "error": error or ""}], {"turns": len(self._conversation)}, ""
        )
        count = self._draws.get(key, 0)
        self._draws[key] = count + 1
        return f"{self._draw_salt}/{count}"

    def _remember(self, messages: list[dict[str, str]], reply: ChatReply, answer: str) -> None:
        """Chat history: the decision's user turn and the reply become part of the match's conversation."""
        if self.history == "chat":
            said = reply.tool_arguments if answer == "tool" and reply.tool_arguments is not None else reply.text
            self._conversation += [messages[-1], {"role": "assistant", "content": said}]

    # -- playing ---------------------------------------------------------------------------------------------

    @staticmethod
    def _names(obs: Observation) -> list[str]:
        names = obs.action_names
        return names if names else [str(a) for a in range(len(obs.action_mask))]

    @staticmethod
    def _answer_of(reply: ChatReply, record: dict[str, Any] | None) -> str:
        """The text an answer is read from: a function call's arguments when the model made one."""
        if reply.tool_arguments is not None and (record is None or record["answer"] == "tool"):
            return reply.tool_arguments
        return reply.text

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

    def _read_move(self, obs: Observation, reply: ChatReply, record: dict[str, Any] | None) -> int | None:
        """The move a reply names (None if none), noted in its record with how it was read."""
        names, legal = self._names(obs), obs.legal_actions
        action, rule = read_move(self._answer_of(reply, record), names, legal, len(obs.action_mask))
        self._note(
            record,
            parsed_by=rule,
            move=None if action is None else names[action] if action < len(names) else str(action),
            legal=action is not None and action in legal,
        )
        return action

    def _stated_distribution(self, obs: Observation, error: str | None) -> tuple[np.ndarray | None, Any]:
        names, legal = self._names(obs), obs.legal_actions
        reply, record, messages = self._exchange("distribution", obs, error, 0)
        probs = parse_distribution(self._answer_of(reply, record), names, legal, len(obs.action_mask))
        stated = None if probs is None else {names[a]: round(float(probs[a]), 6) for a in legal}
        self._note(record, parsed_by="distribution" if probs is not None else "none", distribution=stated)
        if probs is None:
            self._reject(obs, "your reply held no readable probability for each legal move")
        return probs, (messages, reply, None if record is None else record["answer"])

    def _sampled_distribution(self, obs: Observation, error: str | None) -> tuple[np.ndarray | None, Any]:
        """Frequencies of the legal moves among `samples` replies (vote shares); and, for chat history, the
        exchange of each sampled move."""
        legal = obs.legal_actions
        with ThreadPoolExecutor(max_workers=min(self.samples, self._chat_client().concurrency)) as pool:
            exchanges = list(pool.map(lambda index: self._exchange("act", obs, error, index), range(self.samples)))
        counts = np.zeros(len(obs.action_mask))
        said: dict[int, Any] = {}
        for reply, record, messages in exchanges:
            action = self._read_move(obs, reply, record)
            if action is None or action not in legal:
                self.stats["parse_failures"] += 1
            else:
                counts[action] += 1
                said.setdefault(action, (messages, reply, None if record is None else record["answer"]))
        if counts.sum() == 0:
            self._problem = (obs.player, obs.step, "none of your replies named a legal move")
            return None, said
        return counts / counts.sum(), said

    def _distribution(self, obs: Observation, error: str | None = None) -> tuple[np.ndarray | None, Any]:
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
            probs, exchange = self._distribution(obs, error)
            if probs is None:
                return -1
            if self.strategy == "vote":
                action = int(self.rng.choice(np.flatnonzero(probs == probs.max())))
            else:
                action = int(self.rng.choice(len(probs), p=probs))
            said = exchange.get(action) if isinstance(exchange, dict) else exchange
            if said is not None:
                self._remember(said[0], said[1], said[2] or "text")
            return action
        reply, record, messages = self._exchange("act", obs, error, self._next_draw(obs, error))
        self._remember(messages, reply, self.answer_kind() if record is None else record["answer"])
        move = self._read_move(obs, reply, record)
        if move is None:
            return self._reject(obs, "your reply did not name a legal move")
        if move not in legal:
            self._problem = (obs.player, obs.step, f"{self._names(obs)[move]} is not a legal move now")
        return move


class MixedLLMAgent(LLMAgent):
    """An LLM player with a readable mixed strategy: `strategy="distribution"`, `"sample"` or `"vote(k)"`."""

    def action_probs(self, obs: Observation) -> np.ndarray:
        """The model's mixed strategy here; uniform over the legal moves (counted as a fallback) if unreadable."""
        legal = obs.legal_actions
        probs = np.zeros(len(obs.action_mask))
        if len(legal) == 1:
            probs[legal[0]] = 1.0
            return probs
        found, _ = self._distribution(obs)
        if found is not None:
            return found
        self.stats["fallbacks"] += 1
        probs[legal] = 1.0 / len(legal)
        return probs
