"""Tournaments: round-robin schedules, local or Ray backends, a crash-safe SQLite store, metrics and reports.

```python
import arena
run = arena.run_tournament("examples/kuhn.toml", db="results.sqlite", workers=2)
print(run.metrics["agents"][0]["name"])
```
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.core import ArenaError, ConfigError
from arena.registry import make_agent
from arena.tournaments.config import (
    AgentEntry,
    TournamentConfig,
    config_from_dict,
    load_config,
    public_spec,
    secret_values,
)
from arena.tournaments.schedule import MatchTask, build_schedule
from arena.tournaments.store import ResultsStore


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

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


SAVE_ROWS = 2048  # finished matches are written when this many wait ...
SAVE_SECONDS = 0.5  # ... or when the oldest has waited this long (one transaction for many rows costs less)


def as_config(config: TournamentConfig | dict[str, Any] | str | Path) -> TournamentConfig:
    """A TournamentConfig from itself, a TOML path or a TOML-like dict."""
    if isinstance(config, TournamentConfig):
        return config
    if isinstance(config, dict):
        return config_from_dict(config)
    return load_config(config)


def describe_agents(config: TournamentConfig) -> list[dict[str, Any]]:
    """Build every agent once (checking names and parameters) and describe it for the store, without secrets."""
    described = []
    for entry in config.agents:
        agent = make_agent(entry.spec)
        cls = type(agent)
        module = importlib.import_module(cls.__module__.partition(".")[0])
        version = getattr(agent, "version", None) or getattr(module, "__version__", None)
        described.append(
            {
                "name": entry.name,
                "spec": public_spec(entry.spec),
                "class": f"{cls.__module__}:{cls.__qualname__}",
                "version": str(version) if version else None,
                "has_action_probs": cls.has_action_probs(),
            }
        )
        agent.close()
    return described


def run_tournament(
    config: TournamentConfig | dict[str, Any] | str | Path,
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
    from arena.tournaments.analysis import analyse_tournament
    from arena.tournaments.backends import MatchSettings, make_pool, run_matches
    from arena.tournaments.metrics import compute_metrics

    config = as_config(config).replace(db=db, workers=workers, backend=backend, ray_address=ray_address)
    config.validate()
    agents = describe_agents(config)
    schedule = build_schedule(config)
    import arena

    start = time.perf_counter()
    with ResultsStore(config.db) as store:
        store.begin(config.public_dict(), agents, arena.__version__)
        recorded = store.recorded_ids(config.name)
        todo = [t for t in schedule if t.match_id not in recorded]
        secrets = [v for a in config.agents for v in secret_values(a.spec)]
        settings = MatchSettings(
            config.move_time_limit, config.illegal_moves, config.max_retries, config.max_steps, config.teams
        )
        specs = {a.name: a.spec for a in config.agents}
        bar = _Progress(len(schedule), len(schedule) - len(todo), enabled=progress)

        unsaved: list[dict[str, Any]] = []
        waiting_since = 0.0

        def save() -> None:
            if unsaved:
                store.add_matches(config.name, unsaved)
                unsaved.clear()

        def on_rows(rows: list[dict[str, Any]]) -> None:
            nonlocal waiting_since
            if not unsaved:
                waiting_since = time.monotonic()
            unsaved.extend(rows)
            bar.advance(len(rows))
            if len(unsaved) >= SAVE_ROWS or time.monotonic() - waiting_since >= SAVE_SECONDS:
                save()

        pool = make_pool(config.backend, config.workers, specs, settings, secrets, config.ray_address) if todo else None
        playing = time.perf_counter()
        with bar:
            try:
                summary = run_matches(pool, todo, on_rows, on_idle=save) if pool else None
            finally:  # Ctrl-C and engine errors keep every finished match
                save()
        match_seconds = time.perf_counter() - playing
        if analyse:
            analyse_tournament(store, config)
        metrics = compute_metrics(
            store.config(config.name),
            store.agents(config.name),
            store.matches(config.name),
            store.analyses(config.name),
        )
    return TournamentRun(
        name=config.name,
        db=str(config.db),
        scheduled=len(schedule),
        already_recorded=len(schedule) - len(todo),
        played=summary.played if summary else 0,
        seconds=time.perf_counter() - start,
        match_seconds=match_seconds,
        backend=config.backend,
        workers=getattr(pool, "size", 0),
        replaced_workers=summary.replaced_workers if summary else 0,
        given_up=summary.given_up if summary else [],
        metrics=metrics,
    )


class _Progress:
    """A live bar on stderr: matches done, matches per second, time left."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.enabled = enabled and total > done
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()

    def advance(self, count: int) -> None:
        if not self.enabled:
            return
        self.fresh += count
        rate = self.fresh / max(time.perf_counter() - self.start, 1e-9)
        self.progress.update(self.task, advance=count, rate=f"{rate:,.1f}/s")


__all__ = [
    "AgentEntry",
    "ArenaError",
    "ConfigError",
    "MatchTask",
    "ResultsStore",
    "TournamentConfig",
    "TournamentRun",
    "load_config",
    "run_tournament",
]
