"""The check before a run: every env and every agent of the tournament built once, each env's seats counted and
each agent described for the store (`check_run`).

Agents never run in the coordinator, and with workers it builds no env either: unless the backend is `inprocess`
(which plays them here anyway), the check runs in a process of its own started from the forkserver, so that a
constructor that prints, exits or crashes costs only its own entry, and the coordinator imports none of the envs'
and agents' modules (OpenSpiel, PettingZoo, torch for the particle worlds), which that process has from the
forkserver. The first env or agent that fails ends the check with its error.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import arena
from arena.errors import ConfigError
from arena.isolation import isolated
from arena.specs import AgentSpec, EnvSpec
from arena.tournaments.config import TournamentConfig, public_spec
from arena.tournaments.pools import START_FAILURE, EngineError
from arena.tournaments.records import AgentRecord
from arena.tournaments.schedule import env_seats

Facts = tuple[str, str | None, bool]  # an agent's class, version and whether it has action_probs


def check_run(config: TournamentConfig) -> tuple[dict[EnvSpec, int], list[AgentRecord]]:
    """Each env's number of seats, and each agent's record for the store (without secrets)."""
    specs = [isolated(e.spec) if config.isolation == "process" else e.spec for e in config.agents]
    if config.backend == "inprocess":
        seats = {env: env_seats(env, config.teams) for env in config.envs}
        facts = [describe_agent(spec.json) for spec in specs]
    else:
        seats, facts = _checked_apart(config, [spec.json for spec in specs])
    records = [
        AgentRecord(entry.name, public_spec(entry.spec), cls, version, exact)
        for entry, (cls, version, exact) in zip(config.agents, facts)
    ]
    return seats, records


def describe_agent(spec_json: str) -> Facts:
    """Build one agent (checking its name and parameters): its class, version and whether it has action_probs."""
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        agent = arena.make_agent(AgentSpec.from_json(spec_json))
        cls = type(agent)
        module = importlib.import_module(cls.__module__.partition(".")[0])
        version = getattr(agent, "version", None) or getattr(module, "__version__", None)
        agent.close()
    return f"{cls.__module__}:{cls.__qualname__}", str(version) if version else None, cls.has_action_probs()


def check_main(conn: Any, envs: list[EnvSpec], teams: bool, specs: list[str]) -> None:
    """The check's process: the seats of each env, then `describe_agent` of each spec, each answer sent back as
    (True, answer), or (False, the exception) for the first that fails (its text, in a ConfigError, if it does not
    pickle). Nothing an env or agent prints, even straight to a file descriptor, is shown."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    conn.send("started")
    checks: list[Callable[[], Any]] = [functools.partial(env_seats, env, teams) for env in envs]
    checks += [functools.partial(describe_agent, spec) for spec in specs]
    for check in checks:
        try:
            conn.send((True, check()))
        except BaseException as exc:  # the registry's ArenaError, or whatever else the check met
            try:
                conn.send((False, exc))
            except Exception:
                conn.send((False, ConfigError(f"{type(exc).__name__}: {str(exc)[:300]}")))
            return


def _checked_apart(config: TournamentConfig, specs: list[str]) -> tuple[dict[EnvSpec, int], list[Facts]]:
    """`check_main` in a process started from the forkserver; one that dies ends the check with a ConfigError
    naming what it was building."""
    context = multiprocessing.get_context("forkserver")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(
        target=check_main, args=(child, list(config.envs), config.teams, specs), daemon=True, name="arena-check"
    )
    process.start()
    child.close()
    subjects = [f"env {env.text!r}" for env in config.envs] + [f"agent {entry.name!r}" for entry in config.agents]
    answers = []
    try:
        try:
            parent.recv()  # it started
        except EOFError:
            raise EngineError(START_FAILURE.format(how="before it was ready")) from None
        for subject in subjects:
            try:
                built, found = parent.recv()
            except EOFError:
                raise ConfigError(f"{subject}: its process died while it was being built") from None
            if not built:
                raise found if isinstance(found, Exception) else ConfigError(f"{subject}: its check failed")
            answers.append(found)
    finally:
        process.join(timeout=1.0)
        if process.is_alive():
            process.kill()
            process.join()
        parent.close()
    count = len(config.envs)
    return dict(zip(config.envs, answers[:count])), answers[count:]
