"""Game-theoretic analysis of a tournament's agents on its tabular envs, computed once and stored.

- Exploitability of every agent on every tabular env (NashConv for more than two players or general-sum games).
  It is exact when the agent has `action_probs`: the game-theory engine probes the strategy at every
  information set. Otherwise it is the engine's estimate from SAMPLES sampled actions per information set, with a
  bootstrap standard error.
- Exact mode: for every pairing of two agents that both have `action_probs`, the exact expected payoff of the
  first agent, averaged over both seat orders. This is the value its sampled mean payoff estimates, with no
  sampling noise.

- Lower bounds: with `exploitability = "auto"` and a positive `bound_budget`, every agent on every env that does
  not compile (board games, games over the size limit, particle worlds) gets a best-response lower bound with its
  95% interval (`arena.exploit`: search or lbr for agents with `action_probs` in OpenSpiel games, rl otherwise),
  stored with `"bound": true` and shown as `>= 0.31 [0.27, 0.35]`; `bound_max_queries` caps the agent's calls.

Repeated matrix games are measured by regret instead (regret.py).
Each agent is probed in a process of its own (`_probe_main`), never in the coordinator: its moves run under the
move time limit there, what it prints goes nowhere, and the process is killed when the agent's `analysis_budget`
(seconds per agent and env) is spent, so a hanging agent costs at most its budget. `announce` is told the budget
before the probing starts.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
from collections.abc import Callable
from typing import Any

import numpy as np

import arena
from arena.core import Agent
from arena.errors import ArenaError
from arena.match import MoveTimeLimit, call_with_time_limit
from arena.registry import envs as env_registry
from arena.specs import AgentSpec, EnvSpec
from arena.tournaments.config import TournamentConfig
from arena.tournaments.store import ResultsStore

SAMPLES = 32  # sampled actions per information set for agents without action_probs


def analysable(env: EnvSpec) -> bool:
    """Tabular envs small enough to enumerate, played once (not repeated): registered ones tagged so, and those of
    a loader tagged so (`openspiel:<game>`)."""
    if int(env.params.get("rounds", 1)) > 1:
        return False
    prefix, colon, _ = env.id.partition(":")
    if env.id in env_registry:
        entry = env_registry.get(env.id)
    elif colon and prefix in env_registry and env_registry.get(prefix).loader:
        entry = env_registry.get(prefix)
    else:
        return False
    return "tabular" in entry.tags and "board" not in entry.tags


def _games_engine() -> Any | None:
    try:
        return tuple(importlib.import_module(f"arena.games.{name}") for name in ("exploitability", "policy", "tree"))
    except ImportError:
        return None


def _exploitability(game: Any, agent: Agent, engine: Any) -> dict[str, Any]:
    exploitability, policy, _ = engine
    if agent.has_action_probs():
        tabular = policy.policy_from_agent(game, agent)
        return {
            "value": float(exploitability.gap(game, tabular.plans())),
            "exact": True,
            "stderr": 0.0,
            "policy": tabular,
        }
    counts = policy.sample_counts_from_agent(game, agent, SAMPLES)
    value, stderr = exploitability.estimate_from_samples(game, counts)
    return {"value": value, "exact": False, "stderr": stderr, "policy": None}


def _budget(config: TournamentConfig, game: Any) -> float | None:
    if config.move_time_limit is None:
        return None
    probes = sum(game.num_infosets) * SAMPLES + 10
    return config.move_time_limit * probes


def _probe_here(
    config: TournamentConfig, spec: AgentSpec, game: Any, engine: Any, exact_only: bool
) -> dict[str, Any] | None:
    """One agent's exploitability (and exact strategy), under the time limit; None when it is not wanted."""
    agent = arena.make_agent(spec)
    try:
        if exact_only and not agent.has_action_probs():
            return None
        return call_with_time_limit(lambda a: _exploitability(game, a, engine), agent, _budget(config, game))
    except MoveTimeLimit:
        return {"value": None, "error": "timed out"}
    except Exception as exc:  # an agent that cannot be probed is reported, not fatal
        return {"value": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    finally:
        with contextlib.suppress(Exception):
            agent.close()


def _probe_main(
    conn: multiprocessing.connection.Connection, config: TournamentConfig, spec: AgentSpec, env: EnvSpec, exact: bool
) -> None:
    """The probing process: what the agent prints goes nowhere; the result (or its failure) goes back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        engine = _games_engine()
        found = _probe_here(config, spec, engine[2].load(env), engine, exact) if engine else None
    except BaseException as exc:  # SystemExit and the like are the agent's failure too
        found = {"value": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    conn.send(found)


def bound_here(config: TournamentConfig, spec: AgentSpec, env: EnvSpec) -> dict[str, Any]:
    """One agent's best-response lower bound within `bound_budget` (most of it: the process needs the rest)."""
    from arena.exploit.methods import Settings, approximate_method, measure
    from arena.exploit.rl import TrainingBudget

    budget = config.bound_budget * 0.6
    settings = Settings(  # a shallow search: a tournament's budget is a few seconds to a minute per agent
        budget_s=budget,
        depth=1,
        rollouts=2,
        max_queries=config.bound_max_queries,
        seed=config.seed,
        training=TrainingBudget(seconds=budget),
    )
    try:
        found = measure(env, spec, approximate_method(env, spec), settings).to_dict()
    except Exception as exc:  # an agent that cannot be measured is reported, not fatal
        return {"value": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {**found, "bound": True, "stderr": (found["high"] - found["low"]) / (2 * 1.959963984540054)}


def _bound_main(
    conn: multiprocessing.connection.Connection, config: TournamentConfig, spec: AgentSpec, env: EnvSpec, _: bool
) -> None:
    """The bounding process: as `_probe_main`, with the lower bound for the result."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        found: dict[str, Any] | None = bound_here(config, spec, env)
    except BaseException as exc:
        found = {"value": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    conn.send(found)


def _probe(
    config: TournamentConfig,
    spec: AgentSpec,
    env: EnvSpec,
    exact_only: bool,
    target: Callable[..., None] = _probe_main,
    budget: float | None = None,
) -> dict[str, Any] | None:
    """`_probe_here` (or `target`) in a process of its own, killed when `budget` (by default
    `config.analysis_budget`) seconds are spent."""
    budget = config.analysis_budget if budget is None else budget
    context = multiprocessing.get_context("forkserver")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(
        target=target, args=(child, config, spec, env, exact_only), daemon=True, name="arena-analysis"
    )
    process.start()
    child.close()
    try:
        if parent.poll(budget):
            try:
                found: dict[str, Any] | None = parent.recv()
                return found
            except (EOFError, OSError):
                process.join(1.0)
                code = process.exitcode
                return {"value": None, "error": f"the probing process died (exit code {code})"}
        return {"value": None, "error": f"exceeded the analysis budget of {budget:g}s"}
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        parent.close()


def analyse_tournament(
    store: ResultsStore, config: TournamentConfig, announce: Callable[[str], None] | None = None
) -> None:
    """Compute what is missing of exploitability and exact pairing payoffs, and store it; `announce` hears, before
    each env's probing starts, how many agents it probes and the budget of each."""
    engine = _games_engine()
    if engine is None or config.exploitability == "off":
        return
    exploitability, _, tree = engine
    done = {(a.kind, a.env, a.subject) for a in store.analyses(config.name)}
    names = [a.name for a in config.agents]
    for env in config.envs:
        if not analysable(env):
            _bound_env(store, config, env, done, announce)
            continue
        try:
            game = tree.load(env)
        except ArenaError:
            _bound_env(store, config, env, done, announce)
            continue
        pairs = [
            (a, b)
            for a, b in itertools.combinations(names, 2)
            if game.num_players == 2 and ("exact_payoff", env, f"{a}\n{b}") not in done
        ]
        needed = {n for pair in pairs for n in pair}
        policies: dict[str, Any] = {}
        wanted = [
            (entry, ("exploitability", env, entry.name) not in done)
            for entry in config.agents
            if entry.analysis and (("exploitability", env, entry.name) not in done or entry.name in needed)
        ]
        if wanted and announce:
            announce(
                f"analysis of {env.text}: {len(wanted)} agent(s), at most {config.analysis_budget:g}s each "
                f"({len(wanted) * config.analysis_budget:g}s in all)"
            )
        for entry, missing in wanted:
            found = _probe(config, entry.spec, env, exact_only=config.exploitability == "exact" or not missing)
            if found is None:
                continue
            if found.get("policy") is not None:
                policies[entry.name] = found["policy"]
            if missing:
                store.set_analysis(
                    config.name, "exploitability", env, entry.name, {k: v for k, v in found.items() if k != "policy"}
                )
        for a, b in pairs:
            if a in policies and b in policies:
                first = exploitability.expected_payoffs(game, [policies[a], policies[b]])[0]
                second = exploitability.expected_payoffs(game, [policies[b], policies[a]])[1]
                store.set_analysis(config.name, "exact_payoff", env, f"{a}\n{b}", float(np.mean([first, second])))


def _bound_env(
    store: ResultsStore,
    config: TournamentConfig,
    env: EnvSpec,
    done: set[tuple[str, EnvSpec, str]],
    announce: Callable[[str], None] | None,
) -> None:
    """Lower bounds on an env that does not compile, for every agent that lacks one (`auto` with a bound budget)."""
    if config.exploitability != "auto" or config.bound_budget <= 0 or int(env.params.get("rounds", 1)) > 1:
        return
    wanted = [e for e in config.agents if e.analysis and ("exploitability", env, e.name) not in done]
    if not wanted:
        return
    if announce:
        announce(
            f"exploitability lower bounds on {env.text}: {len(wanted)} agent(s), at most {config.bound_budget:g}s each"
        )
    for entry in wanted:
        found = _probe(config, entry.spec, env, False, target=_bound_main, budget=config.bound_budget)
        if found is not None:
            store.set_analysis(config.name, "exploitability", env, entry.name, found)
