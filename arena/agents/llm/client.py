"""A minimal OpenAI Chat Completions client: one POST per reply, retried with backoff, rate-limited per endpoint.

It speaks only `POST {base_url}/chat/completions`, which OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio and
OpenRouter all serve. Time-outs, dropped connections, malformed bodies, 429 (honouring Retry-After) and 5xx
are retried with exponential backoff and jitter; other HTTP errors fail at once. The API key is sent only in the
Authorization header, read from its environment variable at each request (never stored on the object, so
it cannot travel in a pickle or a repr), and scrubbed from every error message.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

RETRYABLE_STATUS = {408, 409, 425, 429}
RETRY_AFTER_CEILING = 600.0  # seconds; a longer Retry-After is taken as this
_SEMAPHORES: dict[str, threading.BoundedSemaphore] = {}
_SEMAPHORES_LOCK = threading.Lock()


class EndpointError(RuntimeError):
    """The endpoint failed for good: a non-retryable HTTP error, or every retry used up.

    `retries` and `latency` say what the failed request cost, as a reply's do; `status` is the HTTP status of a
    refusal (None when the endpoint could not be reached or kept failing); `refused` that the server failed on a
    field of the request it does not take.
    """

    def __init__(
        self, message: str, retries: int = 0, latency: float = 0.0, status: int | None = None, refused: bool = False
    ) -> None:
        super().__init__(message)
        self.retries, self.latency, self.status, self.refused = retries, latency, status, refused


@dataclass
class ChatReply:
    """One reply and what it cost: tokens, seconds on the wire, retries spent, and whether it came from the cache.

    `reasoning` is what the server returned apart from the answer (`reasoning_content` or `reasoning`), and
    `reasoning_tokens` the part of `completion_tokens` it says went to it; `tool_arguments` is the arguments text of
    the first function call, when the model answered with one.
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency: float = 0.0
    retries: int = 0
    cached: bool = False
    reasoning: str = ""
    reasoning_tokens: int = 0
    tool_arguments: str | None = None


def endpoint_semaphore(base_url: str, limit: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore of one endpoint: every agent calling `base_url` shares it (the first limit wins)."""
    with _SEMAPHORES_LOCK:
        if base_url not in _SEMAPHORES:
            _SEMAPHORES[base_url] = threading.BoundedSemaphore(limit)
        return _SEMAPHORES[base_url]


def public_url(url: str) -> str:
    """The URL without user info, query or fragment, which may carry credentials; safe to show and store."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def retry_after_seconds(value: str | None) -> float | None:
    """The delay a Retry-After header asks for, in seconds (a number or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Retryable(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class ChatClient:
    """Chat completions against one endpoint with retries, backoff with jitter and a shared concurrency limit."""

    def __init__(
        self,
        base_url: str,
        api_key_env: str | None = None,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        concurrency: int = 4,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self.api_key_env = api_key_env
        self.timeout, self.retries = timeout, retries
        self.backoff, self.max_backoff, self.concurrency = backoff, max_backoff, concurrency
        self._http: httpx.Client | None = None
        self._jitter = random.Random()

    def __getstate__(self) -> dict[str, Any]:  # connections do not travel to worker processes
        return {**self.__dict__, "_http": None}

    @property
    def api_key(self) -> str | None:
        return (os.environ.get(self.api_key_env) or None) if self.api_key_env else None

    def redact(self, text: str) -> str:
        """`text` with the API key (and the URL's user info) removed."""
        if self.api_key:
            text = text.replace(self.api_key, "***")
        return text.replace(self.base_url, public_url(self.base_url))

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=httpx.Timeout(self.timeout))
        return self._http

    def _delay(self, attempt: int, asked: float | None) -> float:
        """The server's Retry-After when it gave one, else exponential backoff with equal jitter."""
        if asked is not None:
            return min(asked, RETRY_AFTER_CEILING)
        ceiling = min(self.max_backoff, self.backoff * 2**attempt)
        return ceiling / 2 + self._jitter.uniform(0, ceiling / 2)

    def _attempt(self, body: dict[str, Any], fields: tuple[str, ...] = ()) -> ChatReply:
        semaphore = endpoint_semaphore(self.base_url, self.concurrency)
        with semaphore:
            try:
                key = self.api_key
                headers = {"Authorization": f"Bearer {key}"} if key else {}
                response = self._client().post(self.url, json=body, headers=headers)
            except httpx.TimeoutException:
                raise _Retryable(f"no reply within {self.timeout}s") from None
            except httpx.TransportError as exc:
                raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})") from None
        if response.status_code >= 500 and fields and any(f in _error_detail(response) for f in fields):
            raise EndpointError(  # a server that fails on a request field it does not take (llama-cpp-python's 500)
                f"{public_url(self.url)} returned HTTP {response.status_code}: {_error_detail(response)}",
                status=response.status_code,
                refused=True,
            )
        if response.status_code == 429 or response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
            raise _Retryable(f"HTTP {response.status_code}", retry_after_seconds(response.headers.get("retry-after")))
        if response.status_code >= 400:
            raise EndpointError(
                f"{public_url(self.url)} returned HTTP {response.status_code}: {_error_detail(response)}",
                status=response.status_code,
            )
        try:
            return _reply_of(response.json())
        except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError, AttributeError):
            raise _Retryable("malformed response body") from None

    def complete(
        self, model: str, messages: list[dict[str, str]], refusable: tuple[str, ...] = (), **params: Any
    ) -> ChatReply:
        """One chat completion; `params` (temperature, max_tokens, ...) go into the request body as they are.
        A server error whose message names one of the `refusable` fields is a refusal, not retried.

        The reply's `latency` is the wall time until it arrived, retries and waits included.
        """
        body = {
            "model": model,
            "messages": messages,
            "stream": False,
            **{k: v for k, v in params.items() if v is not None},
        }
        start = time.perf_counter()
        attempt = 0
        while True:
            try:
                reply = self._attempt(body, refusable)
            except _Retryable as problem:
                if attempt >= self.retries:
                    raise EndpointError(
                        f"{public_url(self.url)}: gave up after {attempt + 1} attempts, "
                        f"last: {self.redact(str(problem))}",
                        retries=attempt,
                        latency=time.perf_counter() - start,
                    ) from None
                time.sleep(self._delay(attempt, problem.wait))
                attempt += 1
                continue
            except EndpointError as error:
                raise EndpointError(
                    self.redact(str(error)),
                    retries=attempt,
                    latency=time.perf_counter() - start,
                    status=error.status,
                    refused=error.refused,
                ) from None
            reply.retries = attempt
            reply.latency = time.perf_counter() - start
            return reply

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


def _reply_of(data: dict[str, Any]) -> ChatReply:
    """The reply in a chat-completions body: the answer, the reasoning beside it, a function call's arguments,
    and the token counts (reasoning tokens from `completion_tokens_details` when the server reports them)."""
    message = data["choices"][0]["message"]
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    calls = message.get("tool_calls") or []
    arguments = calls[0]["function"].get("arguments") if calls else None
    if arguments is not None and not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    usage = data.get("usage") or {}
    details = usage.get("completion_tokens_details") or {}
    return ChatReply(
        text=str(message.get("content") or ""),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        reasoning=str(reasoning),
        reasoning_tokens=int(details.get("reasoning_tokens") or 0),
        tool_arguments=arguments,
    )


def _error_detail(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        detail = error.get("message") if isinstance(error, dict) else error
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        detail = None
    return str(detail or response.text or response.reason_phrase)[:200].replace("\n", " ")
