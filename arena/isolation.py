"""An agent in a process of its own (`process:SPEC`), as competition servers run submissions.

The agent is built and called in a child process; it is sent copies of its observations and feedback, and nothing
else of the match crosses: it cannot reach the env, the other agents or the engine (through the garbage collector,
shared caches or module globals), its prints go nowhere, and a crash, an exit or a hang in C code costs only its own
move. What it costs: a process per agent, and a round trip through a pipe per call (see benchmarks/).

    arena.make_agent("process:cfr_plus(iterations=100)")   # any agent spec after the prefix
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from arena import errors
from arena.core import Agent, Feedback, Observation
from arena.registry import make_agent
from arena.specs import AgentSpec, EnvSpec

START_SECONDS = 120.0  # building the agent in its process (imports, loading a checkpoint, solving a game)
POLL_SECONDS = 0.01  # a waiting call wakes this often, so that the match loop's time limit can interrupt it


def _serve(conn: Connection, spec_json: str) -> None:
    """The child: build the agent, then answer (id, method, args) requests until told to stop or the pipe closes."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    try:
        agent = make_agent(AgentSpec.from_json(spec_json))
    except BaseException as exc:
        conn.send((0, "error", (type(exc).__name__, str(exc)[:2000])))
        return
    conn.send((0, "ok", (agent.name, type(agent).has_action_probs(), hasattr(agent, "take_transcript"))))
    while True:
        try:
            request, method, args = conn.recv()
        except (EOFError, OSError):
            return
        if method == "stop":
            return
        try:
            if method == "reset":
                seed, player, env_json = args
                agent.reset(seed, player, EnvSpec.from_json(env_json) if env_json else None)
                value = None
            else:
                value = getattr(agent, method)(*args)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt of the agent are its errors too
            conn.send((request, "error", (type(exc).__name__, str(exc)[:2000])))
            continue
        conn.send((request, "ok", value))


class AgentProcessError(RuntimeError):
    """The agent's process died or raised; the match loop counts it as that agent's error."""


class ProcessAgent(Agent):
    """The proxy of an agent that runs in its own process (built by `process_agent`)."""

    def __init__(self, spec: AgentSpec) -> None:
        self.spec = spec
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        self.requests = itertools.count(1)
        self.inner_name, self.exact, self.transcribes = self._start()
        self.name = self.inner_name
        if self.transcribes:  # only then does the match loop ask for transcripts (a round trip per decision)
            self.take_transcript = self._take_transcript

    # -- the child process ------------------------------------------------------------------------------------

    def _start(self) -> tuple[str, bool, bool]:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, self.spec.json), daemon=True, name="arena-agent")
        self.process.start()
        child.close()
        self.conn = parent
        name, exact, transcribes = self._wait(0, START_SECONDS)
        return str(name), bool(exact), bool(transcribes)

    def _stop(self, graceful: bool = True) -> None:
        """End the child: asked to stop and given a moment, or (an abandoned call) killed at once."""
        if self.conn is not None:
            if graceful:
                with contextlib.suppress(OSError, ValueError):
                    self.conn.send((-1, "stop", ()))
            self.conn.close()
            self.conn = None
        if self.process is not None:
            self.process.join(0.5 if graceful else 0.0)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(1.0 if graceful else 0.01)
            self.process = None

    def _wait(self, request: int, limit: float | None = None) -> Any:
        """The reply to `request`; the wait wakes every POLL_SECONDS so that the match loop can interrupt it."""
        assert self.conn is not None and self.process is not None
        deadline = None if limit is None else time.monotonic() + limit
        try:
            while True:
                if self.conn.poll(POLL_SECONDS):
                    answered, status, value = self.conn.recv()
                    if answered != request:
                        continue  # the late answer to a call that was abandoned
                    if status == "ok":
                        return value
                    kind, message = value
                    error = getattr(errors, kind, None)
                    if isinstance(error, type) and issubclass(error, errors.ArenaError):
                        raise error(message)
                    raise AgentProcessError(f"{kind}: {message}")
                if not self.process.is_alive():
                    raise AgentProcessError(f"the agent's process died (exit code {self.process.exitcode})")
                if deadline is not None and time.monotonic() > deadline:
                    raise AgentProcessError(f"the agent's process did not answer within {limit:g} s")
        except (EOFError, OSError):
            raise AgentProcessError(f"the agent's process died (exit code {self.process.exitcode})") from None
        except BaseException:
            self._stop(graceful=False)  # abandoned (a time limit, an error): a fresh process serves the next match
            raise

    def _call(self, method: str, *args: Any) -> Any:
        if self.conn is None:
            self._start()
        assert self.conn is not None
        request = next(self.requests)
        try:
            self.conn.send((request, method, args))
        except (OSError, ValueError):
            self._stop()
            raise AgentProcessError("the agent's process is gone") from None
        return self._wait(request)

    # -- the Agent contract -----------------------------------------------------------------------------------

    def reset(self, seed: int | None, player: str, env_spec: EnvSpec | None) -> None:
        super().reset(seed, player, env_spec)
        self._call("reset", seed, player, env_spec.json if env_spec is not None else None)

    def act(self, obs: Observation) -> int | np.ndarray:
        return self._call("act", obs)

    def observe(self, feedback: Feedback) -> None:
        if self.conn is not None:  # a process that died mid-match has nothing to learn from its end
            self._call("observe", feedback)

    def _take_transcript(self) -> list[dict[str, Any]]:
        return list(self._call("take_transcript")) if self.conn is not None else []

    def match_stats(self) -> dict[str, Any]:
        return dict(self._call("match_stats")) if self.conn is not None else {}  # none from a process that died

    def close(self) -> None:
        self._stop()

    def __getstate__(self) -> dict[str, Any]:  # a copy gets a process of its own when it is first called
        skip = ("process", "conn", "requests", "take_transcript")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, process=None, conn=None, requests=itertools.count(1))
        if self.transcribes:
            self.take_transcript = self._take_transcript


class ExactProcessAgent(ProcessAgent):
    """The proxy of an isolated agent that has an exact mixed strategy."""

    def action_probs(self, obs: Observation) -> np.ndarray:
        return np.asarray(self._call("action_probs", obs))


def isolated(spec: AgentSpec) -> AgentSpec:
    """The spec of `spec`'s agent in a process of its own (a spec already isolated stays as it is)."""
    return spec if spec.name.startswith("process:") else AgentSpec(f"process:{spec.id}", None, spec.params)


def process_agent(agent: str, **params: Any) -> ProcessAgent:
    """`process:SPEC`: the agent of SPEC, built and played in a process of its own."""
    spec = AgentSpec.of(agent, **params)
    probe = ProcessAgent(spec)
    if not probe.exact:
        return probe
    exact = ExactProcessAgent.__new__(ExactProcessAgent)
    exact.__dict__.update(probe.__dict__)  # the same child process, now also asked for action_probs
    return exact
