"""A real chat-completions server on 127.0.0.1 for the LLM tests, with scripted replies and faults.

Scripted items are served first, in order; when the script is empty, `responder(body)` answers (by default a
legal move, or a uniform distribution when the prompt asks for one; for a request with a JSON schema or a forced
function call, an answer that follows it). A reply may carry reasoning beside its answer (`reasoning_content` or
`reasoning`, with a count of reasoning tokens) and a function call. `refuse` names request fields the server
rejects with HTTP `refuse_status` (400 as most servers without structured outputs, 500 as llama-cpp-python);
`response_format:json_schema` refuses that type only. Every request body and header is kept.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """A 200 reply with `text`, after `delay` seconds; optionally reasoning (sent in the field `reasoning_field`,
    its tokens counted apart) and a function call's `tool_arguments`."""

    text: str
    delay: float = 0.0
    reasoning: str | None = None
    reasoning_field: str = "reasoning_content"
    reasoning_tokens: int = 0
    tool_arguments: str | None = None


@dataclass
class Status:
    """An HTTP error status, with an optional Retry-After header."""

    code: int
    retry_after: str | None = None
    body: str = '{"error": {"message": "scripted failure"}}'


MALFORMED = "malformed"  # a 200 whose body is not JSON
DROP = "drop"  # close the connection without answering

LEGAL_LINE = re.compile(r"Legal moves: (.+?)\.?$", re.MULTILINE)


def legal_moves(prompt: str) -> list[str]:
    """The legal move names in an arena observation text (`Legal moves: rock (0); paper (1).`)."""
    found = LEGAL_LINE.findall(prompt)
    if not found:
        return []
    return [re.sub(r"\s*\(\d+\)$", "", part.strip()) for part in found[-1].split(";")]


def user_prompt(body: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")


def structured_schema(body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """("json" | "tool", the JSON schema) of a request that asks for a structured answer, else None."""
    response_format = body.get("response_format", {})
    if response_format.get("type") == "json_schema":
        return "json", response_format["json_schema"]["schema"]
    if response_format.get("type") == "json_object" and "schema" in response_format:
        return "json", response_format["schema"]
    if body.get("tools"):
        return "tool", body["tools"][0]["function"]["parameters"]
    return None


def schema_answer(schema: dict[str, Any]) -> str:
    """A JSON answer that follows one of the agent's schemas: the first enum value, or a uniform distribution."""
    properties = schema["properties"]
    if "move" in properties:
        return json.dumps({"reason": "first legal move", "move": properties["move"]["enum"][0]})
    return json.dumps({name: 1 / len(properties) for name in properties})


def default_responder(body: dict[str, Any]) -> Reply:
    """Some reasoning, then the first legal move; a uniform distribution when one is asked for; an answer that
    follows the schema of a structured request."""
    structured = structured_schema(body)
    if structured is not None:
        kind, schema = structured
        answer = schema_answer(schema)
        return Reply("", tool_arguments=answer) if kind == "tool" else Reply(answer)
    prompt = user_prompt(body)
    moves = legal_moves(prompt)
    if "mixed strategy" in prompt:
        return Reply("Let me think.\n" + json.dumps({m: 1 / len(moves) for m in moves}))
    return Reply(f"The options are {', '.join(moves)}. I pick the first.\nMove: {moves[0]}")


def kuhn_rule(prompt: str) -> dict[str, float]:
    """A scripted Kuhn-poker 'model' read off the prompt: bet with K, bet a third of the time with Q when not
    facing a bet, never with J; call only with K."""
    card = re.search(r"Your card: (\w)", prompt).group(1)
    facing_bet = "Bet" in prompt.split("Betting so far:")[1].split("\n")[0]
    bet = {"K": 1.0, "Q": 0.0 if facing_bet else 1 / 3, "J": 0.0}[card]
    return {"Pass": 1 - bet, "Bet": bet}


def kuhn_responder(body: dict[str, Any]) -> Reply:
    """States `kuhn_rule` as a JSON distribution."""
    return Reply(json.dumps(kuhn_rule(user_prompt(body))))


class FakeChatServer:
    """`with FakeChatServer() as server:` serves `server.url` (an OpenAI-style base URL ending in /v1)."""

    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Reply | Status | str] = default_responder,
        refuse: tuple = (),
        refuse_status: int = 400,
    ) -> None:
        self.responder = responder
        self.refuse, self.refuse_status = set(refuse), refuse_status
        self.script: deque[Reply | Status | str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def push(self, *items: Reply | Status | str) -> None:
        """Queue scripted answers for the next requests."""
        with self.lock:
            self.script.extend(items)

    def _next(self, body: dict[str, Any]) -> Reply | Status | str:
        fields = (
            set(body) | {f"response_format:{body['response_format'].get('type')}"}
            if "response_format" in body
            else set(body)
        )
        refused = sorted(self.refuse & fields)
        if refused:
            message = f"unsupported field: {refused[0]}"
            return Status(self.refuse_status, body=json.dumps({"error": {"message": message}}))
        with self.lock:
            if self.script:
                return self.script.popleft()
        return self.responder(body)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, payload: bytes, extra: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with server.lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "no such route"}}')
                    return
                item = server._next(body)
                try:
                    if item == DROP:
                        self.close_connection = True
                        return
                    if item == MALFORMED:
                        self._send(200, b'{"choices": [ this is not json')
                    elif isinstance(item, Status):
                        extra = {"Retry-After": item.retry_after} if item.retry_after is not None else None
                        self._send(item.code, item.body.encode(), extra)
                    else:
                        time.sleep(item.delay)
                        words = len(item.text.split()) + len((item.tool_arguments or "").split())
                        words += item.reasoning_tokens
                        message: dict[str, Any] = {"role": "assistant", "content": item.text or None}
                        if item.reasoning is not None:
                            message[item.reasoning_field] = item.reasoning
                        if item.tool_arguments is not None:
                            name = body["tools"][0]["function"]["name"] if body.get("tools") else "play_move"
                            call = {"name": name, "arguments": item.tool_arguments}
                            message["tool_calls"] = [{"id": "call-1", "type": "function", "function": call}]
                        usage = {"prompt_tokens": 100, "completion_tokens": words, "total_tokens": 100 + words}
                        if item.reasoning_tokens:
                            usage["completion_tokens_details"] = {"reasoning_tokens": item.reasoning_tokens}
                        payload = {
                            "id": "chatcmpl-test",
                            "object": "chat.completion",
                            "model": body["model"],
                            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                            "usage": usage,
                        }
                        self._send(200, json.dumps(payload).encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a time-out test)

        return Handler

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
