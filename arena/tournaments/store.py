"""The results store: one SQLite file in WAL mode that survives kills and can be read while it is written.

Tables: `tournaments` (name, public config), `agents` (display name, spec without secrets, class and version),
`matches` (one row per match, keyed by its schedule id, per-seat lists as JSON) and `analyses` (exploitability and
exact expected payoffs, computed once at the end of a run). A batch of match rows is written in one transaction
that skips ids already stored: each row is whole or absent after any crash, and writing a match twice changes
nothing.
"""

from __future__ import annotations

import json
import operator
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from arena.core import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS tournaments (
    name TEXT PRIMARY KEY, config TEXT NOT NULL, arena_version TEXT, created REAL, updated REAL);
CREATE TABLE IF NOT EXISTS agents (
    tournament TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, class TEXT, version TEXT,
    has_action_probs INTEGER, PRIMARY KEY (tournament, name));
CREATE TABLE IF NOT EXISTS matches (
    match_id TEXT PRIMARY KEY, tournament TEXT NOT NULL, env TEXT NOT NULL, seats TEXT NOT NULL, idx INTEGER,
    seed INTEGER, payoffs TEXT NOT NULL, outcomes TEXT, termination TEXT, culprit INTEGER, message TEXT,
    length INTEGER, illegal_moves TEXT, timeouts TEXT, errors TEXT, random_fallbacks TEXT, wall_time REAL,
    agent_stats TEXT, stuck INTEGER, rounds TEXT, recorded REAL);
CREATE INDEX IF NOT EXISTS matches_by_tournament ON matches (tournament, env);
CREATE TABLE IF NOT EXISTS analyses (
    tournament TEXT NOT NULL, kind TEXT NOT NULL, env TEXT NOT NULL, subject TEXT NOT NULL, value TEXT,
    PRIMARY KEY (tournament, kind, env, subject));
"""

RULE_DEFAULTS = {"teams": True}  # rules added later: what databases written before them were played with
MATCH_COLUMNS = (
    "match_id",
    "tournament",
    "env",
    "seats",
    "idx",
    "seed",
    "payoffs",
    "outcomes",
    "termination",
    "culprit",
    "message",
    "length",
    "illegal_moves",
    "timeouts",
    "errors",
    "random_fallbacks",
    "wall_time",
    "agent_stats",
    "stuck",
    "rounds",
    "recorded",
)
ROW_COLUMNS = tuple(c for c in MATCH_COLUMNS if c not in ("tournament", "recorded"))  # a worker's row
_ROW_VALUES = operator.itemgetter(*ROW_COLUMNS)
_INSERT_MATCH = (
    f"INSERT INTO matches ({', '.join(ROW_COLUMNS)}, tournament, recorded) "
    f"VALUES ({', '.join('?' * (len(ROW_COLUMNS) + 2))}) ON CONFLICT (match_id) DO NOTHING"
)
JSON_COLUMNS = (
    "seats",
    "payoffs",
    "outcomes",
    "illegal_moves",
    "timeouts",
    "errors",
    "random_fallbacks",
    "agent_stats",
    "rounds",
)


class ResultsStore:
    """A results database; `readonly=True` opens an existing one for reports, even while a run writes it."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        try:
            if readonly:
                if not self.path.exists():
                    raise ConfigError(f"no results database at {self.path}")
                self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            else:
                self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
                self.conn.executescript(SCHEMA)
            self.conn.execute("SELECT count(*) FROM tournaments").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path} is not an arena results database ({exc})") from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------------------------

    def begin(self, config: dict[str, Any], agents: list[dict[str, Any]], version: str) -> None:
        """Record a tournament, or check that a stored one with this name can be resumed with this config.

        Resuming needs the same rules (seed, time limit, illegal-move policy...) and the same spec for every agent
        name already stored; more games, envs or agents extend the tournament.
        """
        name = config["name"]
        row = self.conn.execute("SELECT config FROM tournaments WHERE name = ?", (name,)).fetchone()
        if row is not None:
            stored = json.loads(row[0])
            rules = (
                "seed",
                "move_time_limit",
                "illegal_moves",
                "max_retries",
                "max_steps",
                "seats",
                "self_play",
                "teams",
            )
            changed = [k for k in rules if stored.get(k, RULE_DEFAULTS.get(k)) != config.get(k, RULE_DEFAULTS.get(k))]
            if changed:
                raise ConfigError(
                    f"tournament {name!r} in {self.path} was run with different {', '.join(changed)}; "
                    "use another name or database"
                )
            known = dict(self.conn.execute("SELECT name, spec FROM agents WHERE tournament = ?", (name,)).fetchall())
            for agent in agents:
                if agent["name"] in known and known[agent["name"]] != agent["spec"]:
                    raise ConfigError(
                        f"tournament {name!r}: agent {agent['name']!r} was {known[agent['name']]}, "
                        f"now {agent['spec']}; use another name or database"
                    )
            merged = {
                **config,
                "envs": list(dict.fromkeys(stored.get("envs", []) + config["envs"])),
                "agents": stored.get("agents", []) + [a for a in config["agents"] if a["name"] not in known],
            }
        else:
            merged = config
        now = time.time()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO tournaments (name, config, arena_version, created, updated) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET config = excluded.config, arena_version = excluded.arena_version, "
                "updated = excluded.updated",
                (name, json.dumps(merged), version, now, now),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO agents (tournament, name, spec, class, version, has_action_probs) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (name, a["name"], a["spec"], a.get("class"), a.get("version"), int(bool(a.get("has_action_probs"))))
                    for a in agents
                ],
            )

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    def add_matches(self, tournament: str, rows: Iterable[dict[str, Any]]) -> None:
        """Write finished matches in one transaction; a match id already stored is left as it is."""
        extra = (tournament, time.time())
        values = [_ROW_VALUES(row) + extra for row in rows]
        with self.transaction():
            self.conn.executemany(_INSERT_MATCH, values)

    def set_analysis(self, tournament: str, kind: str, env: str, subject: str, value: Any) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?, ?)",
                (tournament, kind, env, subject, json.dumps(value)),
            )

    # -- reading -------------------------------------------------------------------------------------------------

    def tournaments(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM tournaments ORDER BY created")]

    def resolve(self, name: str | None) -> str:
        """The tournament to report: the one named, or the only/latest one in the database."""
        names = self.tournaments()
        if not names:
            raise ConfigError(f"{self.path} holds no tournament")
        if name is None:
            return names[-1]
        if name not in names:
            raise ConfigError(f"no tournament {name!r} in {self.path}; it has {', '.join(names)}")
        return name

    def config(self, tournament: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT config FROM tournaments WHERE name = ?", (tournament,)).fetchone()
        if row is None:
            raise ConfigError(f"no tournament {tournament!r} in {self.path}")
        return json.loads(row[0])

    def agents(self, tournament: str) -> list[dict[str, Any]]:
        cursor = self.conn.execute(
            "SELECT name, spec, class, version, has_action_probs FROM agents WHERE tournament = ? ORDER BY rowid",
            (tournament,),
        )
        return [
            {"name": n, "spec": s, "class": c, "version": v, "has_action_probs": bool(h)} for n, s, c, v, h in cursor
        ]

    def recorded_ids(self, tournament: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT match_id FROM matches WHERE tournament = ?", (tournament,))}

    def count(self, tournament: str) -> int:
        return self.conn.execute("SELECT count(*) FROM matches WHERE tournament = ?", (tournament,)).fetchone()[0]

    def matches(self, tournament: str, with_rounds: bool = True) -> list[dict[str, Any]]:
        """Every recorded match of a tournament in schedule order, JSON columns decoded."""
        columns = [c for c in MATCH_COLUMNS if with_rounds or c != "rounds"]
        cursor = self.conn.execute(
            f"SELECT {', '.join(columns)} FROM matches WHERE tournament = ? ORDER BY idx, env, match_id", (tournament,)
        )
        seat_lists = [c for c in JSON_COLUMNS if c in columns and c not in ("agent_stats", "rounds")]
        nested = [c for c in ("agent_stats", "rounds") if c in columns]
        decoded: dict[str, list[Any]] = {}  # a tournament has few distinct per-seat lists: decode each once
        out = []
        for values in cursor:
            row = dict(zip(columns, values))
            for c in seat_lists:
                text = row[c]
                if text is not None:
                    value = decoded.get(text)
                    if value is None:
                        value = decoded[text] = json.loads(text)
                    row[c] = list(value)
            for c in nested:
                if row[c] is not None:
                    row[c] = json.loads(row[c])
            out.append(row)
        return out

    def analyses(self, tournament: str) -> list[dict[str, Any]]:
        cursor = self.conn.execute("SELECT kind, env, subject, value FROM analyses WHERE tournament = ?", (tournament,))
        return [{"kind": k, "env": e, "subject": s, "value": json.loads(v)} for k, e, s, v in cursor]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (so nothing partial is ever visible)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type | None, *exc: object) -> None:
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")
