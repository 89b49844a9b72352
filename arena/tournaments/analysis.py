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

What the analysis costs counts against the tournament's budgets: every probe is stored with its `cost` (the
agent's queries, tokens, dollars at its price, seconds), the tournament's `max_wall_s` caps each probe's time at
what is left, and its `max_cost_usd` stops the agent's queries once its dollars reach what is left. A probe cut
short by a budget is stored without a value (`"budget": true`, with what it cost), the run's `stopped` says so, and
a later run with more budget probes it again (its cost then sums both tries).
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import itertools
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import arena
from arena.core import Agent
from arena.errors import ArenaError
from arena.exploit.queries import QueryCounter, QueryLimit
from arena.registry import envs as env_registry
from arena.specs import EnvSpec
from arena.tournaments.config import AgentEntry, TournamentConfig
from arena.tournaments.costs import Meter, Prices, analysis_cost
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


def prepare_analysis(config: TournamentConfig) -> None:
    """Import the exact engine now if the analysis will load a game: a run does this before its check, while the
    forkserver still imports (the coordinator builds no env before then, with workers)."""
    if config.exploitability != "off" and any(analysable(env) for env in config.envs):
        _games_engine()


def _games_engine() -> Any | None:
    try:
        return tuple(importlib.import_module(f"arena.games.{name}") for name in ("exploitability", "policy", "tree"))
    except ImportError:
        return None


def _exploitability(game: Any, agent: Agent, engine: Any) -> dict[str, Any]:
    exploitability, policy, _ = engine
    if agent.has_action_probs():
        tabular = policy.policy_from_agent(game, agent)
        return {  # the policy's tables only: the coordinator has the game (pickled, it would be the game's arrays)
            "value": float(exploitability.gap(game, tabular.plans())),
            "exact": True,
            "stderr": 0.0,
            "policy": tabular.probs,
        }
    counts = policy.sample_counts_from_agent(game, agent, SAMPLES)
    value, stderr = exploitability.estimate_from_samples(game, counts)
    return {"value": value, "exact": False, "stderr": stderr, "policy": None}


def _budget(config: TournamentConfig, game: Any) -> float | None:
    if config.move_time_limit is None:
        return None
    probes = sum(game.num_infosets) * SAMPLES + 10
    return config.move_time_limit * probes


@dataclass(frozen=True)
class Allowance:
    """What one probe may spend: `seconds` of wall time and `dollars` of the agent's tokens (at its price)."""

    seconds: float
    dollars: float = math.inf

    def stop(self, config: TournamentConfig, name: str) -> Callable[[dict[str, float]], str]:
        """The check, made before each query, that ends the probe when the agent's dollars reach the allowance."""
        prices = Prices(config)

        def check(cost: dict[str, float]) -> str:
            spent = prices.dollars(name, cost)
            return f"the tournament's budget is spent (${spent:.4f} of analysis)" if spent >= self.dollars else ""

        return check


class BudgetSpent(Exception):
    """The analysis may spend no more: the tournament's budget is spent."""


def _priced(config: TournamentConfig, name: str, cost: dict[str, Any], queries: int) -> dict[str, Any]:
    return {**cost, "queries": queries, "dollars": Prices(config).dollars(name, cost)}


def _probe_here(
    config: TournamentConfig, entry: AgentEntry, game: Any, engine: Any, exact_only: bool, allowance: Allowance
) -> dict[str, Any] | None:
    """One agent's exploitability (and exact strategy), under the time limit; None when it is not wanted."""
    from arena.match import MoveTimeLimit, call_with_time_limit  # the match loop: in the probe's process only

    agent = QueryCounter(arena.make_agent(entry.spec), stop=allowance.stop(config, entry.name))
    try:
        if exact_only and not agent.has_action_probs():
            return None
        found = call_with_time_limit(lambda a: _exploitability(game, a, engine), agent, _budget(config, game))
    except MoveTimeLimit:
        found = {"value": None, "error": "timed out"}
    except QueryLimit as exc:
        found = {"value": None, "error": str(exc), "budget": True}
    except Exception as exc:  # an agent that cannot be probed is reported, not fatal
        found = {"value": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    finally:
        with contextlib.suppress(Exception):
            agent.close()
    return {**found, "cost": _priced(config, entry.name, agent.finish(), agent.queries)}


def _probe_main(
    conn: multiprocessing.connection.Connection,
    config: TournamentConfig,
    entry: AgentEntry,
    env: EnvSpec,
    exact: bool,
    allowance: Allowance,
) -> None:
    """The probing process: what the agent prints goes nowhere; the result (or its failure) goes back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        engine = _games_engine()
        found = _probe_here(config, entry, engine[2].load(env), engine, exact, allowance) if engine else None
    except BaseException as exc:  # SystemExit and the like are the agent's failure too
        found = {"value": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    conn.send(found)


def bound_here(config: TournamentConfig, entry: AgentEntry, env: EnvSpec, allowance: Allowance) -> dict[str, Any]:
    """One agent's best-response lower bound within `bound_budget` (most of it: the process needs the rest)."""
    from arena.exploit.methods import Settings, approximate_method, measure
    from arena.exploit.rl import TrainingBudget

    budget = allowance.seconds * 0.6  # the bound budget, or less where the tournament has less left
    settings = Settings(  # a shallow search: a tournament's budget is a few seconds to a minute per agent
        budget_s=budget,
        depth=1,
        rollouts=2,
        max_queries=config.bound_max_queries,
        seed=config.seed,
        training=TrainingBudget(seconds=budget),
        stop=allowance.stop(config, entry.name),
    )
    try:
        found = measure(env, entry.spec, approximate_method(env, entry.spec), settings).to_dict()
    except Exception as exc:  # an agent that cannot be measured is reported, not fatal
        return {"value": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    cost = _priced(config, entry.name, found.pop("cost", {}), found.get("queries", 0))
    return {**found, "bound": True, "stderr": (found["high"] - found["low"]) / (2 * 1.959963984540054), "cost": cost}


def _bound_main(
    conn: multiprocessing.connection.Connection,
    config: TournamentConfig,
    entry: AgentEntry,
    env: EnvSpec,
    _: bool,
    allowance: Allowance,
) -> None:
    """The bounding process: as `_probe_main`, with the lower bound for the result."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        found: dict[str, Any] | None = bound_here(config, entry, env, allowance)
    except BaseException as exc:
        found = {"value": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    conn.send(found)


@dataclass
class _Running:
    """A probe started in its own process: its pipe, when it started and what it may spend."""

    process: Any
    conn: multiprocessing.connection.Connection
    start: float
    allowance: Allowance
    budget: float


def _launch(
    config: TournamentConfig,
    entry: AgentEntry,
    env: EnvSpec,
    exact_only: bool,
    meter: Meter | None,
    target: Callable[..., None] = _probe_main,
    budget: float | None = None,
) -> _Running:
    """Start `_probe_main` (or `target`) in a process of its own, with `budget` (by default
    `config.analysis_budget`) seconds, or what the tournament's budgets leave; BudgetSpent when they leave nothing."""
    budget = config.analysis_budget if budget is None else budget
    dollars, seconds = meter.left() if meter else (math.inf, math.inf)
    if dollars <= 0 or seconds <= 0:
        raise BudgetSpent
    allowance = Allowance(min(budget, seconds), dollars)
    context = multiprocessing.get_context("forkserver")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(
        target=target, args=(child, config, entry, env, exact_only, allowance), daemon=True, name="arena-analysis"
    )
    start = time.perf_counter()
    process.start()
    child.close()
    return _Running(process, parent, start, allowance, budget)


def _collect(probe: _Running, meter: Meter | None) -> dict[str, Any] | None:
    """What a started probe found, waiting until its allowance is spent at most (then it is killed); what it cost
    is added to `meter`."""
    allowance, budget = probe.allowance, probe.budget
    try:
        found: dict[str, Any] | None
        if probe.conn.poll(max(probe.start + allowance.seconds - time.perf_counter(), 0.0)):
            try:
                found = probe.conn.recv()
            except (EOFError, OSError):
                probe.process.join(1.0)
                found = {"value": None, "error": f"the probing process died (exit code {probe.process.exitcode})"}
        elif allowance.seconds < budget:
            found = {"value": None, "error": "the tournament's time budget is spent", "budget": True}
        else:
            found = {"value": None, "error": f"exceeded the analysis budget of {budget:g}s"}
    finally:
        _stop(probe)
    if found is not None:
        found["cost"] = {**(found.get("cost") or {}), "seconds": time.perf_counter() - probe.start}
        if meter:
            meter.add_analysis(*analysis_cost(found))
    return found


def _stop(probe: _Running) -> None:
    if probe.process.is_alive():
        probe.process.kill()
    probe.process.join()
    probe.conn.close()


def _probes(
    config: TournamentConfig, env: EnvSpec, wanted: list[tuple[AgentEntry, bool]], meter: Meter | None
) -> Iterator[tuple[AgentEntry, bool, dict[str, Any] | None]]:
    """The exploitability probes of `wanted` (agent, whether its value is missing), in order, several at once (as
    many as the run's workers) unless the tournament's budgets are metered, where each probe's allowance depends
    on what the ones before it spent. Probes still running when the caller stops are killed."""
    at_once = 1 if meter else max(1, min(config.workers or os.cpu_count() or 1, len(wanted)))
    todo = collections.deque(wanted)
    running: collections.deque[tuple[AgentEntry, bool, _Running]] = collections.deque()
    try:
        while todo or running:
            while todo and len(running) < at_once:
                entry, missing = todo.popleft()
                exact_only = config.exploitability == "exact" or not missing
                running.append((entry, missing, _launch(config, entry, env, exact_only, meter)))
            entry, missing, probe = running.popleft()
            yield entry, missing, _collect(probe, meter)
    finally:
        for _, _, probe in running:
            _stop(probe)


def _store(
    store: ResultsStore,
    config: TournamentConfig,
    env: EnvSpec,
    subject: str,
    found: dict[str, Any],
    before: dict[str, Any] | None,
) -> None:
    """Store an agent's exploitability (its cost summed with that of an earlier try the budget cut short);
    BudgetSpent when this try too was cut short."""
    value = {k: v for k, v in found.items() if k != "policy"}
    if before:
        cost = dict(value.get("cost") or {})
        for key, spent in (before.get("cost") or {}).items():
            if isinstance(spent, (int, float)):
                cost[key] = cost.get(key, 0) + spent
        value["cost"] = cost
    store.set_analysis(config.name, "exploitability", env, subject, value)
    if value.get("budget"):
        raise BudgetSpent


def _done(store: ResultsStore, config: TournamentConfig) -> tuple[set[tuple[str, EnvSpec, str]], dict[Any, Any]]:
    """The analyses stored (keys), and those a budget cut short (to be tried again) with their values."""
    done, cut = set(), {}
    for a in store.analyses(config.name):
        if isinstance(a.value, dict) and a.value.get("budget"):
            cut[(a.kind, a.env, a.subject)] = a.value
        else:
            done.add((a.kind, a.env, a.subject))
    return done, cut


def analyse_tournament(
    store: ResultsStore,
    config: TournamentConfig,
    announce: Callable[[str], None] | None = None,
    meter: Meter | None = None,
) -> str:
    """Compute what is missing of exploitability and exact pairing payoffs, and store it; `announce` hears, before
    each env's probing starts, how many agents it probes and the budget of each. With `meter`, the probes count
    against the tournament's budgets; the result says why the analysis stopped short ("" when it did not)."""
    if config.exploitability == "off":
        return ""
    engine = _games_engine()
    if engine is None:
        return ""
    try:
        _analyse(store, config, engine, announce, meter)
    except BudgetSpent:
        reason = meter.spent() if meter else ""
        return f"{reason or 'the tournament budget is spent'}: the exploitability analysis stopped short"
    return ""


def _analyse(
    store: ResultsStore,
    config: TournamentConfig,
    engine: Any,
    announce: Callable[[str], None] | None,
    meter: Meter | None,
) -> None:
    exploitability, policy, tree = engine
    done, cut = _done(store, config)
    names = [a.name for a in config.agents]
    for env in config.envs:
        if not analysable(env):
            _bound_env(store, config, env, (done, cut), announce, meter)
            continue
        try:
            game = tree.load(env)
        except ArenaError:
            _bound_env(store, config, env, (done, cut), announce, meter)
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
        for entry, missing, found in _probes(config, env, wanted, meter):
            if found is None:
                continue
            if found.get("policy") is not None:
                with contextlib.suppress(ArenaError, ValueError, TypeError):  # tables that do not fit: no exact payoff
                    policies[entry.name] = policy.TabularPolicy(game, found["policy"])
            if missing:
                _store(store, config, env, entry.name, found, cut.get(("exploitability", env, entry.name)))
            elif found.get("budget"):
                raise BudgetSpent
        for a, b in pairs:
            if a in policies and b in policies:
                first = exploitability.expected_payoffs(game, [policies[a], policies[b]])[0]
                second = exploitability.expected_payoffs(game, [policies[b], policies[a]])[1]
                store.set_analysis(config.name, "exact_payoff", env, f"{a}\n{b}", float(np.mean([first, second])))


def _bound_env(
    store: ResultsStore,
    config: TournamentConfig,
    env: EnvSpec,
    stored: tuple[set[tuple[str, EnvSpec, str]], dict[Any, Any]],
    announce: Callable[[str], None] | None,
    meter: Meter | None,
) -> None:
    """Lower bounds on an env that does not compile, for every agent that lacks one (`auto` with a bound budget)."""
    if config.exploitability != "auto" or config.bound_budget <= 0 or int(env.params.get("rounds", 1)) > 1:
        return
    done, cut = stored
    wanted = [e for e in config.agents if e.analysis and ("exploitability", env, e.name) not in done]
    if not wanted:
        return
    if announce:
        announce(
            f"exploitability lower bounds on {env.text}: {len(wanted)} agent(s), at most {config.bound_budget:g}s each"
        )
    for entry in wanted:
        found = _collect(_launch(config, entry, env, False, meter, _bound_main, config.bound_budget), meter)
        if found is not None:
            _store(store, config, env, entry.name, found, cut.get(("exploitability", env, entry.name)))
