"""Running a tournament: check the config, build the schedule, play what the store lacks, analyse, measure."""

from __future__ import annotations

import itertools
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

import arena
from arena.errors import ConfigError
from arena.isolation import isolated
from arena.specs import EnvSpec
from arena.tournaments.adaptive import RankedPlanner, merge
from arena.tournaments.analysis import analyse_tournament, prepare_analysis
from arena.tournaments.check import check_run
from arena.tournaments.config import TournamentConfig, config_from_dict, load_config, secret_values
from arena.tournaments.costs import Meter, cost_report, pairing_of
from arena.tournaments.metrics import stored_metrics
from arena.tournaments.pools import START_FAILURE, EngineError, make_pool, run_matches
from arena.tournaments.protocol import MatchSettings
from arena.tournaments.records import AgentRecord, Row
from arena.tournaments.schedule import MatchTask, Schedule
from arena.tournaments.store import ResultsStore, RunLock

SAVE_ROWS = 4096  # finished matches are written when this many wait ...
SAVE_SECONDS = 0.5  # ... or when the oldest has waited this long (one transaction for many rows costs less)


@dataclass
class TournamentRun:
    """What a call to `run_tournament` did, and the tournament's metrics afterwards."""

    name: str
    db: str
    scheduled: int
    already_recorded: int
    played: int
    seconds: float
    match_seconds: float
    backend: str
    workers: int
    replaced_workers: int = 0
    given_up: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    stopped: str = ""  # why the run ended before its schedule did (a budget, a ranked run's separation)
    costs: dict[str, Any] = field(default_factory=dict)  # tokens, dollars, seconds (with prices or budgets set)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def as_config(config: TournamentConfig | Mapping[str, Any] | str | Path) -> TournamentConfig:
    """A TournamentConfig from itself, a TOML path or a TOML-like dict (the edge where Python callers come in)."""
    if isinstance(config, TournamentConfig):
        return config
    if isinstance(config, Mapping):
        return config_from_dict(config)
    return load_config(config)


def stored_agents(config: TournamentConfig) -> list[AgentRecord]:
    """The agents a database already holds for this tournament (none when there is no database yet)."""
    if not Path(config.db).exists():
        return []
    with ResultsStore(config.db, readonly=True) as store:
        return store.agent_records(config.name) if config.name in store.tournaments() else []


def run_tournament(
    config: TournamentConfig | Mapping[str, Any] | str | Path,
    *,
    db: str | None = None,
    workers: int | None = None,
    backend: str | None = None,
    ray_address: str | None = None,
    progress: bool = False,
    analyse: bool = True,
) -> TournamentRun:
    """Play every match of the tournament that the database does not hold yet, then compute its metrics.

    Ctrl-C stops between chunks: what finished is stored, and running the same tournament again resumes it.
    """
    if getattr(sys.modules.get("__main__"), "__name__", None) == "__mp_main__":  # a worker running an unguarded script
        raise EngineError(START_FAILURE.format(how="it ran the main script again"))
    config = as_config(config).replace(db=db, workers=workers, backend=backend, ray_address=ray_address)
    if config.backend == "ray" and config.ray_address:
        check_reachable(config.ray_address)
    if Path(config.db).is_dir():
        raise ConfigError(f"the results database {config.db} is a folder")
    with RunLock(config.db, config.name):  # one run at a time: a second one is refused, naming the first
        return _run(config, progress, analyse)


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """A Ray address (`ray://host:port` or `host:port`) that nothing answers on is refused at once (ray.init would
    wait minutes for it)."""
    if address == "auto" or address.startswith("local"):
        return
    host, _, port = address.removeprefix("ray://").rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        return  # no port given: Ray's own default and its own error
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {reason}") from None


def _run(config: TournamentConfig, progress: bool, analyse: bool) -> TournamentRun:
    config = config.with_stored_names((a.name, a.spec) for a in stored_agents(config))
    if analyse:
        prepare_analysis(config)  # while the forkserver imports what the check needs
    seats, agents = check_run(config)
    schedule = Schedule.of(config, seats)
    start = time.perf_counter()
    with ResultsStore(config.db) as store:
        store.check()
        store.resumable(config, agents)
        _check_seats(config, schedule, seats)
        store.begin(config, agents, arena.__version__)
        recorded = store.recorded_ids(config.name)
        todo: Iterator[MatchTask] = (  # made as workers take them (a fresh run filters nothing)
            (t for t in schedule if t.match_id not in recorded) if recorded else iter(schedule)
        )
        first = next(todo, None)
        if first is not None:
            todo = itertools.chain([first], todo)
        # Stored matches of other sizes or agents may not be in this schedule: the count is a floor, never 0 with work
        remaining = 0 if first is None else max(len(schedule) - len(recorded), 1)
        stopped = ""
        costly = (
            config.max_cost_usd
            or config.max_wall_s
            or config.prices
            or config.pairing_max_games
            or config.pairing_max_cost_usd
            or config.pairing_max_wall_s
            or any(a.prompt_price is not None or a.completion_price is not None for a in config.agents)
        )
        meter = (
            Meter(config, store.records(config.name, with_rounds=False), (a.value for a in store.analyses(config.name)))
            if costly
            else None
        )
        if meter:  # a spent pairing's matches are skipped; a spent tournament budget ends the hand-out
            budget_spent = meter.spent
            todo = itertools.takewhile(lambda _: not budget_spent(), (t for t in todo if meter.admit(t)))
        if config.max_games is not None:  # the budget: matches beyond it are not handed out
            budget = max(config.max_games - len(recorded), 0)
            todo, remaining = itertools.islice(todo, budget), min(remaining, budget)
            stopped = f"the budget of {config.max_games} games is spent" if len(schedule) > config.max_games else ""
        planner = RankedPlanner(config, schedule.seatings) if config.stop == "ranked" else None
        secrets = [v for a in config.agents for v in secret_values(a.spec)]
        settings = MatchSettings.of(config)
        specs = {a.name: isolated(a.spec) if config.isolation == "process" else a.spec for a in config.agents}
        bar = _Progress(len(schedule), len(schedule) - remaining, enabled=progress)

        unsaved: list[Row] = []
        waiting_since = 0.0

        def save() -> None:
            if unsaved:
                store.add_matches(config.name, unsaved)
                unsaved.clear()

        def on_rows(rows: list[Row]) -> None:
            nonlocal waiting_since
            if not unsaved:
                waiting_since = time.monotonic()
            unsaved.extend(rows)
            if meter:
                meter.add_rows(rows)
            bar.advance(len(rows))

        def on_pause(now: bool) -> None:  # the workers are fed: writing holds none of them up
            if now or len(unsaved) >= SAVE_ROWS or time.monotonic() - waiting_since >= SAVE_SECONDS:
                save()

        pool = (
            make_pool(config.backend, config.workers, specs, settings, secrets, config.ray_address)
            if remaining or planner
            else None
        )
        playing = time.perf_counter()
        with bar:
            try:
                summary = run_matches(pool, todo, remaining, on_rows, on_pause) if pool and remaining else None
                while pool and planner and not (meter and meter.spent()):  # stop = "ranked": rounds from the store
                    save()
                    spent = (lambda seats: bool(meter.pairing_spent(pairing_of(seats)))) if meter else None
                    more = planner.next_round(store.records(config.name, with_rounds=False), spent)
                    more = [t for t in more if meter.admit(t)] if meter else more
                    if not more:
                        break
                    summary = merge(summary, run_matches(pool, iter(more), len(more), on_rows, on_pause))
                stopped = (meter.spent() if meter else "") or (planner.stopped if planner else stopped)
                stopped = "; ".join(filter(None, [stopped, meter.pairings_stopped() if meter else ""]))
            finally:  # Ctrl-C and engine errors keep every finished match
                save()
        match_seconds = time.perf_counter() - playing
        if analyse and meter and meter.spent():  # the analysis would spend past the budget too
            analyse, stopped = False, f"{stopped or meter.spent()}; the exploitability analysis was skipped"
        if analyse:
            err = Console(stderr=True)
            announce = (lambda text: err.print(text, markup=False, highlight=False)) if progress else None
            cut = analyse_tournament(store, config, announce=announce, meter=meter)
            stopped = "; ".join(filter(None, [stopped, cut]))
        metrics = stored_metrics(store, config.name)[2]
        costs = (
            cost_report(
                config,
                store.records(config.name, with_rounds=False),
                (a.value for a in store.analyses(config.name)),
            )
            if costly
            else {}
        )
    return TournamentRun(
        name=config.name,
        db=str(config.db),
        scheduled=len(schedule),
        already_recorded=len(schedule) - remaining,
        played=summary.played if summary else 0,
        seconds=time.perf_counter() - start,
        match_seconds=match_seconds,
        backend=config.backend,
        workers=getattr(pool, "size", 0),
        replaced_workers=summary.replaced_workers if summary else 0,
        given_up=summary.given_up if summary else [],
        metrics=metrics,
        stopped=stopped,
        costs=costs,
    )


def _check_seats(config: TournamentConfig, schedule: Schedule, seats: dict[EnvSpec, int]) -> None:
    """Every env gets matches: enough agents for its seats (one agent can fill several only in self-play)."""
    for env in schedule.unseated():
        raise ConfigError(
            f"{env.text} has {seats[env]} seats but the tournament has {len(config.agents)}"
            f" agent{'s' if len(config.agents) > 1 else ''}: add agents, or set self_play = true (--self-play)"
            " so that an agent can fill several seats"
        )


class _Progress:
    """A live bar on stderr: matches done, matches per second, time left."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.enabled = enabled and total > done
        if not self.enabled:
            return
        self.progress = Progress(
            TextColumn("[bold]matches"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task("matches", total=total, completed=done, rate="")
        self.start, self.fresh = time.perf_counter(), 0

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.enabled:
            self.progress.stop()

    def advance(self, count: int) -> None:
        if not self.enabled:
            return
        self.fresh += count
        rate = self.fresh / max(time.perf_counter() - self.start, 1e-9)
        self.progress.update(self.task, advance=count, rate=f"{rate:,.1f}/s")
