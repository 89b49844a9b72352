"""What the pages show, read from the results databases: every read opens the database read-only (through
`ResultsStore(readonly=True)`), so that a run can write it meanwhile; progress comes from plain read-only SQL over
the store's `matches` table; metrics are those of `arena report` and are recomputed only when the stored matches
change.
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.errors import ConfigError
from arena.tournaments.records import MATCH_COLUMNS, MatchDecoder, MatchRecord
from arena.tournaments.store import ResultsStore
from arena.web.replays import DRAWING, Replay

RATE_WINDOW = 30.0  # seconds of recent matches the live rate is measured over
RUNNING_WITHIN = 10.0  # a tournament whose last match was stored this recently is shown as running
NUM_BOOTSTRAP = 200  # as `arena report`
PERSON = "human"  # the spec (and store name) of a person; games with one follow no schedule
# Agents that are never re-played to rebuild a match's replay: they would ask a model or a person again.
NOT_REPLAYED = ("llm", PERSON)


def replay_dir(db: str | Path) -> Path:
    """Where the replays of the matches of `db` played in the browser are kept: `DB-replays/` beside it."""
    db = Path(db)
    return db.with_name(f"{db.name}-replays")


class NotReplayed(ConfigError):
    """A stored match without a replay file whose agents are not re-played (a model or a person would be asked)."""


@dataclass(frozen=True)
class Progress:
    """How far a tournament is: matches stored and scheduled, the recent rate and the time left."""

    done: int
    scheduled: int | None
    rate: float
    running: bool
    eta: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "scheduled": self.scheduled,
            "rate": round(self.rate, 2),
            "running": self.running,
            "eta": None if self.eta is None else round(self.eta, 1),
        }


class Databases:
    """The results databases `arena serve` was given, by position (the key in every URL)."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths: list[Path] = []
        self._lock = threading.Lock()
        self._metrics: dict[tuple[int, str], tuple[tuple[int, float], dict[str, Any]]] = {}
        self._figures: dict[tuple[int, str], tuple[dict[str, Any], dict[str, str]]] = {}
        self._scheduled: dict[tuple[int, str], tuple[str, int | None]] = {}
        self._replays: dict[tuple[int, str], Replay] = {}
        self._scratch = Path(tempfile.mkdtemp(prefix="arena-serve-"))
        for path in paths:
            self.add(path)

    def add(self, path: Path) -> int:
        """Serve one more database (checked now: a missing or foreign file is a ConfigError); its key."""
        path = Path(path)
        with self._lock:
            if path.resolve() in [p.resolve() for p in self.paths]:
                return [p.resolve() for p in self.paths].index(path.resolve())
            with ResultsStore(path, readonly=True):
                pass
            self.paths.append(path)
            return len(self.paths) - 1

    def path(self, db: int) -> Path:
        if not 0 <= db < len(self.paths):
            raise ConfigError(f"no database {db}")
        return self.paths[db]

    def store(self, db: int) -> ResultsStore:
        return ResultsStore(self.path(db), readonly=True)

    def tournaments(self) -> list[dict[str, Any]]:
        """Every tournament of every database with its progress."""
        rows = []
        for db, path in enumerate(self.paths):
            with self.store(db) as store:
                names = store.tournaments()
            for name in names:
                rows.append({"db": db, "path": str(path), "name": name, "progress": self.progress(db, name)})
        return rows

    def _stamp(self, store: ResultsStore, name: str) -> tuple[int, float]:
        """What changes whenever a match is stored: the count and the latest time."""
        count, latest = store.conn.execute(
            "SELECT count(*), max(recorded) FROM matches WHERE tournament = ?", (name,)
        ).fetchone()
        return int(count), float(latest or 0.0)

    def progress(self, db: int, name: str) -> Progress:
        with self.store(db) as store:
            store.resolve(name)
            count, latest = self._stamp(store, name)
            recent = store.conn.execute(
                "SELECT count(*), min(recorded) FROM matches WHERE tournament = ? AND recorded >= ?",
                (name, time.time() - RATE_WINDOW),
            ).fetchone()
            config = store.config(name)
        scheduled = self._scheduled_count(db, name, config)
        now = time.time()
        unfinished = scheduled is None or count < scheduled
        running = unfinished and latest > 0 and now - latest <= RUNNING_WITHIN
        rate = recent[0] / max(now - recent[1], 1.0) if running and recent[0] else 0.0
        left = None if scheduled is None else max(scheduled - count, 0)
        eta = left / rate if left is not None and rate > 0 else (0.0 if left == 0 else None)
        return Progress(count, scheduled, rate, running, eta)

    def _scheduled_count(self, db: int, name: str, config: dict[str, Any]) -> int | None:
        """How many matches the stored config schedules (None when it cannot be rebuilt here, say an env whose
        plugin is not installed, and for the games people played, which follow no schedule)."""
        from arena.tournaments.config import config_from_dict
        from arena.tournaments.schedule import Schedule

        if any(a.get("spec") == PERSON for a in config.get("agents", [])):
            return None
        key = repr(sorted(config.items()))
        cached = self._scheduled.get((db, name))
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            scheduled: int | None = len(Schedule.of(config_from_dict(config)))  # counted, not built
        except Exception:  # the schedule is a convenience of the page; the stored matches are shown regardless
            scheduled = None
        self._scheduled[db, name] = (key, scheduled)
        return scheduled

    def metrics(self, db: int, name: str) -> dict[str, Any]:
        """The metrics `arena report --json` prints, recomputed when matches were stored since the last time."""
        from arena.tournaments.metrics import stored_metrics

        with self.store(db) as store:
            store.resolve(name)
            stamp = self._stamp(store, name)
            cached = self._metrics.get((db, name))
            if cached is not None and cached[0] == stamp:
                return cached[1]
            stored, _, metrics = stored_metrics(store, name, NUM_BOOTSTRAP)
        metrics["scheduled_config"] = stored.config
        self._metrics[db, name] = (stamp, metrics)
        return metrics

    def figures(self, db: int, name: str) -> dict[str, str]:
        """The report's plots (ratings, score heatmaps, regret curves, exploitability) as SVG text."""
        import matplotlib.pyplot as plt

        from arena.tournaments.report import make_figures

        metrics = self.metrics(db, name)
        cached = self._figures.get((db, name))
        if cached is not None and cached[0] is metrics:  # drawn from these very metrics
            return cached[1]
        svgs = {}
        with DRAWING:
            for key, figure in make_figures(metrics).items():
                buffer = io.StringIO()
                figure.savefig(buffer, format="svg")
                plt.close(figure)
                svg = buffer.getvalue()
                svgs[key] = svg[svg.index("<svg") :]
        self._figures[db, name] = (metrics, svgs)
        return svgs

    def matches(
        self, db: int, name: str, pairing: str = "", env: str = "", termination: str = ""
    ) -> tuple[list[MatchRecord], dict[str, list[str]]]:
        """The stored matches that pass the filters (a pairing is its agents joined by " vs " in any seat order),
        and every value each filter can take."""
        with self.store(db) as store:
            store.resolve(name)
            records = store.records(name, with_rounds=False)
        choices = {
            "pairing": sorted({pairing_of(r) for r in records}),
            "env": sorted({r.env.text for r in records}),
            "termination": sorted({r.termination for r in records}),
        }
        chosen = [
            r
            for r in records
            if (not pairing or pairing_of(r) == pairing)
            and (not env or r.env.text == env)
            and (not termination or r.termination == termination)
        ]
        return chosen, choices

    def match(self, db: int, name: str, match_id: str) -> tuple[MatchRecord, dict[str, str]]:
        """One stored match and the spec (canonical text) of every agent of its tournament."""
        columns = [c for c in MATCH_COLUMNS if c != "tournament"]
        with self.store(db) as store:
            store.resolve(name)
            row = store.conn.execute(
                f"SELECT {', '.join(columns)} FROM matches WHERE tournament = ? AND match_id = ?", (name, match_id)
            ).fetchone()
            specs = {a.name: a.spec.text for a in store.agent_records(name)}
        if row is None:
            raise ConfigError(f"no match {match_id!r} in tournament {name!r}")
        try:
            return MatchDecoder().decode(columns, row), specs
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{self.path(db)} is damaged: match {match_id} cannot be read ({exc})") from None

    def transcript(self, db: int, name: str, match_id: str) -> list[dict[str, Any]]:
        """The transcript records a tournament stored with a match (its LLM agents' decisions), oldest first."""
        with self.store(db) as store:
            store.resolve(name)
            return store.transcript(match_id)

    def match_replay(self, db: int, name: str, match_id: str) -> Replay:
        """The replay of a stored match: the file written when it was played in the browser, else the match
        re-played from its stored seed with its agents' stored specs, each agent in a process of its own (only
        registered agents are re-played, and not those that would ask a model or a person again)."""
        cached = self._replays.get((db, match_id))
        if cached is not None:
            return cached
        record, specs = self.match(db, name, match_id)
        title = f"{' vs '.join(record.seats)} on {record.env.text}"
        stored = replay_dir(self.path(db)) / f"{match_id}.jsonl"
        if stored.is_file():
            replay = Replay.read(f"m{db}-{match_id}", stored, title)
        else:
            replay = self._replayed(db, name, record, specs, title)
        self._replays[db, match_id] = replay
        return replay

    def _replayed(self, db: int, name: str, record: MatchRecord, specs: dict[str, str], title: str) -> Replay:
        from arena.isolation import isolated
        from arena.match import play
        from arena.registry import agents as registered
        from arena.registry import make_agent, make_env
        from arena.specs import AgentSpec

        specs_of_seats = [AgentSpec.parse(specs[seat]) for seat in record.seats]
        refused = [
            a.text
            for a in specs_of_seats
            if a.name.removeprefix("process:") in NOT_REPLAYED or a.name.removeprefix("process:") not in registered
        ]
        if refused:
            raise NotReplayed(
                f"match {record.match_id} has no replay file, and {refused[0]} is not re-played to rebuild it "
                "(only registered agents are, other than llm and human)"
            )
        env = make_env(record.env)
        if len(env.possible_agents) != len(record.seats):
            raise ConfigError(f"match {record.match_id} was played by teams; team matches are not re-played")
        with self.store(db) as store:
            config = store.config(name)
        path = self._scratch / f"{db}-{record.match_id}.jsonl"
        agents = [make_agent(isolated(a)) for a in specs_of_seats]  # untrusted: each in a process of its own
        try:
            result = play(
                env,
                agents,
                seed=record.seed,
                illegal_moves=config.get("illegal_moves", "forfeit"),
                max_retries=config.get("max_retries", 2),
                max_steps=config.get("max_steps"),
                record=path,
            )
        finally:
            for agent in agents:
                agent.close()
        same = list(result.payoffs) == list(record.payoffs) and result.length == record.length
        note = "re-played from the stored seed: " + (
            "the same result as stored"
            if same
            else f"a different result from the stored one (payoffs {list(record.payoffs)}): an agent is not "
            "deterministic given its seed"
        )
        return Replay.read(f"m{db}-{record.match_id}", path, title, note)


def pairing_of(record: MatchRecord) -> str:
    return " vs ".join(sorted(record.seats))
