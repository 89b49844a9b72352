"""A response cache on disk: the same request (model, messages, parameters, sample index) is paid for once.

Each reply is one small JSON file named by the SHA-256 of the canonical request, written atomically, so several
processes of a tournament can share one cache and an interrupted run leaves no half-written entries. A rerun of a
tournament with the cache is free and reproduces every reply.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from arena.agents.llm.client import ChatReply

NO_CACHE_ENV = "ARENA_LLM_NO_CACHE"
CACHE_DIR_ENV = "ARENA_LLM_CACHE_DIR"


def default_cache_dir() -> Path:
    """$ARENA_LLM_CACHE_DIR, else $XDG_CACHE_HOME/arena/llm, else ~/.cache/arena/llm."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "arena" / "llm"


def cache_disabled_by_env() -> bool:
    """True when ARENA_LLM_NO_CACHE is set to a true value (`arena tournament --no-cache` sets it)."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def request_key(model: str, messages: list[dict[str, str]], params: dict[str, Any], sample: str | int) -> str:
    """The cache key of a request: a hash of everything that determines the reply's distribution, plus the draw."""
    canonical = json.dumps(
        {"model": model, "messages": messages, "params": params, "sample": sample},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Replies stored as `<dir>/<key[:2]>/<key>.json`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).expanduser()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> ChatReply | None:
        """The stored reply, marked as cached, or None (also for an unreadable entry, which is then rewritten)."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            return ChatReply(
                text=str(data["text"]),
                prompt_tokens=int(data.get("prompt_tokens", 0)),
                completion_tokens=int(data.get("completion_tokens", 0)),
                cached=True,
                reasoning=str(data.get("reasoning", "")),
                reasoning_tokens=int(data.get("reasoning_tokens", 0)),
                tool_arguments=None if data.get("tool_arguments") is None else str(data["tool_arguments"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, reply: ChatReply) -> None:
        """Store a reply atomically (write a temporary file, then rename it into place)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "text": reply.text,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "reasoning": reply.reasoning,
            "reasoning_tokens": reply.reasoning_tokens,
            "tool_arguments": reply.tool_arguments,
        }
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(record, file, ensure_ascii=False)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
