"""The results store: one SQLite file in WAL mode that survives kills and can be read while it is written.

Tables: `tournaments` (name, public config), `agents` (display name, spec without secrets, class and version),
`matches` (one row per match, keyed by its tournament, game number and schedule id, per-seat lists as JSON) and
`analyses` (exploitability and exact expected payoffs, computed once at the end of a run). Specs (the agents' specs,
the env of a match or an analysis, the envs of a config) are stored in their canonical JSON form. A batch of match
rows is written in one transaction that skips matches already stored: each row is whole or absent after any crash,
and writing a match twice changes nothing.

Schema version 2 adds `transcripts`: per match, its agents' transcript records as `records.pack_transcripts`
packs them (every distinct text once, the records pointing to them), written in the same transaction as the
match's row. Version 3 stores a repeated game's rounds compressed (`records.encode_rounds`: about a fifth of their
JSON text), after a byte that says whether they carry full-information feedback; version 4 packs their per-round
vectors (action payoffs, policies) as float64 bytes after the JSON, which version-3 readers cannot read. Version 5
keys `matches` by (tournament, game number, id) instead of by id, and indexes it by tournament instead of by
(tournament, env): a run's inserts then land at the indexes' ends however large the tournament grows.

The schema's version is SQLite's `user_version`; `MIGRATIONS[v]` takes a database from version v to v + 1, and
opening an older database for writing runs the steps it lacks in one transaction (a new database gets the base
tables, then every step). Version 0 (databases written before specs were stored as JSON) holds specs as text.
Read-only opens read a database as it is: a table a later version added reads as empty.

Reports read a tournament's matches as `tally` counts them: grouped in SQL by what the report's tables read, so a
million matches come back as a few thousand rows; `records` decodes every match, for what needs each one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import operator
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from arena.errors import ArenaError, ConfigError
from arena.specs import EnvSpec
from arena.tournaments.config import TournamentConfig, settings
from arena.tournaments.records import (
    FULL_INFORMATION_TAG,
    MATCH_COLUMNS,
    ROW_AT,
    ROW_COLUMNS,
    ROW_FIELDS,
    TALLY_COLUMNS,
    AgentRecord,
    Analysis,
    MatchDecoder,
    MatchRecord,
    MatchTally,
    Row,
    StoredTournament,
    agent_of,
    decode_rounds,
    encode_rounds,
    env_of,
    tally_rows,
    unpack_transcripts,
)
from arena.tournaments.schedule import match_id

SCHEMA_VERSION = 5
WAL_PAGES = 10_000  # pages of write-ahead log between checkpoints
_MATCHES = """CREATE TABLE IF NOT EXISTS matches (
    match_id TEXT NOT NULL, tournament TEXT NOT NULL, env TEXT NOT NULL, seats TEXT NOT NULL, idx INTEGER NOT NULL,
    seed INTEGER, payoffs TEXT NOT NULL, outcomes TEXT, termination TEXT, culprit INTEGER, message TEXT,
    length INTEGER, illegal_moves TEXT, timeouts TEXT, errors TEXT, random_fallbacks TEXT, wall_time REAL,
    agent_stats TEXT, stuck INTEGER, rounds TEXT, recorded REAL)"""
# A match is keyed by its tournament, its game number and its id (which the other two determine): a run stores
# games in turn, so each batch of rows lands at the end of the key, and a tournament's rows are read in the order
# they were written through the second index. A key of the id alone (version 4) took a page of the key per row of a
# batch once the tournament was large: at 500,000 Kuhn rows 6.4 us a row and 2.9 us of commit, now 3.6 and 0.7
_MATCHES_KEYS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS matches_by_game ON matches (tournament, idx, match_id)",
    "CREATE INDEX IF NOT EXISTS matches_of_tournament ON matches (tournament)",
)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tournaments (
    name TEXT PRIMARY KEY, config TEXT NOT NULL, arena_version TEXT, created REAL, updated REAL);
CREATE TABLE IF NOT EXISTS agents (
    tournament TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, class TEXT, version TEXT,
    has_action_probs INTEGER, PRIMARY KEY (tournament, name));
{_MATCHES};
CREATE TABLE IF NOT EXISTS analyses (
    tournament TEXT NOT NULL, kind TEXT NOT NULL, env TEXT NOT NULL, subject TEXT NOT NULL, value TEXT,
    PRIMARY KEY (tournament, kind, env, subject));
"""

TABLES = ("tournaments", "agents", "matches", "analyses")
RULE_DEFAULTS = {"teams": True}  # rules added later: what databases written before them were played with
RESUME_RULES = tuple(f.name for f in settings("rule"))  # what a resumed tournament must keep
_TRANSCRIPT = ROW_AT["transcript"]
_INSERT_TRANSCRIPT = (
    "INSERT INTO transcripts (match_id, tournament, transcript) VALUES (?, ?, ?) ON CONFLICT (match_id) DO NOTHING"
)
_KEEP_STORED = "ON CONFLICT (tournament, idx, match_id) DO NOTHING"
_INSERT_MATCH = (
    f"INSERT INTO matches ({', '.join(ROW_COLUMNS)}, tournament, recorded) "
    f"VALUES ({', '.join('?' * (len(ROW_COLUMNS) + 2))}) {_KEEP_STORED}"
)
# Most matches end without an incident: no culprit, message, stuck agent or rounds, and one per-seat count list (all
# zeros) for illegal moves, timeouts, errors and fallbacks. Such a row binds 14 values, the constants written in the
# statement and the count list bound once for its four columns: the same stored values for 1.5 us less per row,
# the largest share of the coordinator's work while its workers play (binding None costs more than any other value)
_PLAIN_CONSTANTS = {"culprit": None, "message": "", "stuck": 0, "rounds": None}
_PLAIN_COUNTS = ("timeouts", "errors", "random_fallbacks")  # equal to illegal_moves
_PLAIN_HEAD = tuple(_PLAIN_CONSTANTS.values())
_PLAIN_TAIL = operator.itemgetter(*(ROW_AT[name] for name in (*_PLAIN_CONSTANTS, *_PLAIN_COUNTS)))
_PLAIN_COLUMNS = tuple(c for c in ROW_COLUMNS if c not in _PLAIN_CONSTANTS and c not in _PLAIN_COUNTS)
_PLAIN_VALUES = operator.itemgetter(*(ROW_AT[name] for name in _PLAIN_COLUMNS))
_COUNTS = ROW_AT["illegal_moves"]
_PLAIN_WIDTH = len(_PLAIN_COLUMNS) + 2  # the values a plain row binds: its columns, the tournament and the time
_PLAIN_ROWS = 64  # plain rows per statement (64 x 14 values: under the 999 parameters of older SQLite builds)


def _insert_plain(rows: int) -> str:
    """The statement that writes `rows` plain rows, their values bound one row after another. One statement for 64
    rows runs the insert's setup (the table, its two keys) once for all of them: 2.6 us a row against 3.7-4.8 us
    for one row a statement."""
    constants = ", ".join("NULL" if v is None else repr(v) for v in _PLAIN_HEAD)
    counts_at = _PLAIN_COLUMNS.index("illegal_moves") + 1

    def one(base: int) -> str:
        bound = ", ".join(f"?{base + i}" for i in range(1, _PLAIN_WIDTH + 1))
        counts = ", ".join([f"?{base + counts_at}"] * len(_PLAIN_COUNTS))  # the count list bound once for all four
        return f"({bound}, {constants}, {counts})"

    return (
        f"INSERT INTO matches ({', '.join(_PLAIN_COLUMNS)}, tournament, recorded, "
        f"{', '.join((*_PLAIN_CONSTANTS, *_PLAIN_COUNTS))}) "
        f"VALUES {', '.join(one(k * _PLAIN_WIDTH) for k in range(rows))} {_KEEP_STORED}"
    )


_INSERT_PLAIN, _INSERT_PLAINS = _insert_plain(1), _insert_plain(_PLAIN_ROWS)
_JSON_COLUMNS = {
    "tournaments": ("config",),
    "matches": (
        "seats",
        "payoffs",
        "outcomes",
        "illegal_moves",
        "timeouts",
        "errors",
        "random_fallbacks",
        "agent_stats",
        "rounds",
    ),
    "analyses": ("value",),
    "transcripts": ("transcript",),
}
# rounds with feedback (`records.full_information`): compressed rounds say so in their first byte (`encode_rounds`);
# a version-2 database opened read-only keeps them as JSON text
_TAGGED = f"substr(rounds, 1, 1) = X'{FULL_INFORMATION_TAG.hex()}'"
_FULL_INFORMATION = f"(CASE typeof(rounds) WHEN 'blob' THEN {_TAGGED} ELSE instr(rounds, '\"action_payoffs\"') > 0 END)"
_VALID = {"rounds": "typeof(rounds) = 'blob' OR json_valid(rounds)"}  # compressed rounds are checked as they are read
F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """A store method whose damaged-database errors (unreadable pages, stored JSON that does not parse, rows
    without the expected fields) become one ConfigError naming the database."""

    @functools.wraps(method)
    def guarded(self: ResultsStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"cannot read {self.path}: {exc} (a damaged or foreign database)") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"{self.path} is damaged: a stored value cannot be read ({type(exc).__name__}: {exc})"
            ) from None

    return guarded  # type: ignore[return-value]


class ResultsStore:
    """A results database; `readonly=True` opens an existing one for reports, even while a run writes it."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        try:
            if self.path.is_dir():
                raise ConfigError(f"the results database {self.path} is a folder")
            if readonly:
                if not self.path.exists():
                    raise ConfigError(f"no results database at {self.path}")
                self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
                self._check_tables(empty_ok=False)
            else:
                self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                self._check_tables(empty_ok=True)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
                # Checkpoint every 40 MB of log, not SQLite's 4 MB: the pages a run's batches touch again and again
                # (the table's and the key's last ones) are copied into the database once per checkpoint
                self.conn.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
                self._create_or_migrate()
            self.conn.execute("SELECT count(*) FROM tournaments").fetchone()
            self.version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(AttributeError):
                self.conn.close()
            raise ConfigError(f"{self.path} is not an arena results database ({exc})") from None
        except ConfigError:
            with contextlib.suppress(AttributeError):
                self.conn.close()
            raise
        if self.version > SCHEMA_VERSION:
            self.close()
            raise ConfigError(
                f"{self.path} was written by a newer arena (schema version {self.version}); upgrade arena to read it"
            )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------------------------------

    def _check_tables(self, empty_ok: bool) -> None:
        """Refuse a SQLite file that holds other tables than a results database (it is never adopted)."""
        tables = {
            r[0]
            for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("sqlite_")
        }
        missing = [t for t in TABLES if t not in tables]
        if (tables or not empty_ok) and missing:
            held = f"its tables are {', '.join(sorted(tables))}" if tables else "it holds no tables"
            raise ConfigError(f"{self.path} is not an arena results database ({held})")

    @_guarded
    def check(self) -> None:
        """SQLite's quick check of every page: a damaged database is refused before anything is played."""
        problems = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise ConfigError(f"{self.path} is damaged: {problems[0]}")
        for table, columns in _JSON_COLUMNS.items():
            if not self._has_table(table):
                continue
            valid = " AND ".join(f"({c} IS NULL OR {_VALID.get(c, f'json_valid({c})')})" for c in columns)
            bad = self.conn.execute(f"SELECT count(*) FROM {table} WHERE NOT ({valid})").fetchone()[0]
            if bad:
                raise ConfigError(f"{self.path} is damaged: {bad} row(s) of {table} hold values that are not JSON")

    def _has_table(self, table: str) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self.conn.execute(query, (table,)).fetchone() is not None

    def _schema(self) -> tuple[bool, int]:
        existing = self.conn.execute("SELECT name FROM sqlite_master WHERE name = 'tournaments'").fetchone()
        return existing is not None, self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _create_or_migrate(self) -> None:
        """Create the tables of a new database, or migrate an older one (once, whoever opens it first)."""
        existing, version = self._schema()
        if existing and version >= SCHEMA_VERSION:
            return
        with self.transaction():
            existing, version = self._schema()
            if existing and version >= SCHEMA_VERSION:
                return
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            try:
                for step in range(version if existing else 1, SCHEMA_VERSION):
                    MIGRATIONS[step](self.conn)
            except (ArenaError, ValueError) as exc:  # ValueError: a stored value that does not decode
                raise ConfigError(f"cannot upgrade {self.path} to the current schema: {exc}") from None
            for statement in _MATCHES_KEYS:  # after the migrations, which rebuild the table of an older database
                self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- writing -------------------------------------------------------------------------------------------------

    @_guarded
    def begin(self, config: TournamentConfig, agents: list[AgentRecord], version: str) -> None:
        """Record a tournament, or check that a stored one with this name can be resumed with this config.

        Resuming needs the same rules (seed, time limit, illegal-move policy...) and the same spec for every agent
        name already stored; more games, envs or agents extend the tournament. `agents` carry public specs.
        """
        name = config.name
        public = self.resumable(config, agents)
        now = time.time()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO tournaments (name, config, arena_version, created, updated) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET config = excluded.config, arena_version = excluded.arena_version, "
                "updated = excluded.updated",
                (name, json.dumps(public), version, now, now),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO agents (tournament, name, spec, class, version, has_action_probs) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(name, a.name, a.spec.json, a.cls, a.version, int(a.has_action_probs)) for a in agents],
            )

    @_guarded
    def resumable(self, config: TournamentConfig, agents: list[AgentRecord]) -> dict[str, Any]:
        """The public config `begin` stores (a stored one extended); a ConfigError if the stored tournament of
        this name cannot be resumed with this config (other rules, another spec under a stored name). Writes
        nothing."""
        name = config.name
        public = config.public_dict()
        row = self.conn.execute("SELECT config FROM tournaments WHERE name = ?", (name,)).fetchone()
        if row is not None:
            stored = json.loads(row[0])
            if not isinstance(stored, dict):
                raise ValueError("the stored config is not a table")
            changed = [
                k for k in RESUME_RULES if stored.get(k, RULE_DEFAULTS.get(k)) != public.get(k, RULE_DEFAULTS.get(k))
            ]
            if changed:
                raise ConfigError(
                    f"tournament {name!r} in {self.path} was run with different {', '.join(changed)}; "
                    "use another name or database"
                )
            known = {a.name: a.spec for a in self.agent_records(name)}
            for agent in agents:
                if agent.name in known and known[agent.name] != agent.spec:
                    raise ConfigError(
                        f"tournament {name!r}: agent {agent.name!r} was {known[agent.name].text}, "
                        f"now {agent.spec.text}; use another name or database"
                    )
            stored_envs = [env_of(e).json for e in stored.get("envs", [])]
            stored_agents = [{**a, "spec": agent_of(a["spec"]).json} for a in stored.get("agents", [])]
            public = {
                **public,
                "envs": list(dict.fromkeys(stored_envs + public["envs"])),
                "agents": stored_agents + [a for a in public["agents"] if a["name"] not in known],
            }
        return public

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    def add_matches(self, tournament: str, rows: Iterable[Row]) -> None:
        """Write finished matches (rows from `records.encode_match`) and their transcripts in one transaction;
        a stored id is kept. Rows go in as they came: in schedule order, which is the key's order but for the ids
        within a game (sorting a batch by id, the order of version 4's key, costs 0.5 us a row with this key)."""
        extra = (tournament, time.time())
        rows = list(rows)
        if any(len(row) != len(ROW_FIELDS) for row in rows):
            raise ValueError(f"a match row holds the {len(ROW_FIELDS)} values of records.ROW_FIELDS")
        plain: list[object] = []  # the plain rows' values, one row after another
        values = []
        for row in rows:
            counts = row[_COUNTS]
            if _PLAIN_TAIL(row) == (*_PLAIN_HEAD, counts, counts, counts):
                plain += _PLAIN_VALUES(row)
                plain += extra
            else:
                values.append(row[:_TRANSCRIPT] + extra)
        span = _PLAIN_ROWS * _PLAIN_WIDTH
        whole = len(plain) - len(plain) % span
        transcripts = [(row[0], tournament, row[_TRANSCRIPT]) for row in rows if row[_TRANSCRIPT]]
        with self.transaction():
            self.conn.executemany(_INSERT_PLAINS, [plain[i : i + span] for i in range(0, whole, span)])
            self.conn.executemany(
                _INSERT_PLAIN, [plain[i : i + _PLAIN_WIDTH] for i in range(whole, len(plain), _PLAIN_WIDTH)]
            )
            self.conn.executemany(_INSERT_MATCH, values)
            if transcripts:
                self.conn.executemany(_INSERT_TRANSCRIPT, transcripts)

    def set_analysis(self, tournament: str, kind: str, env: EnvSpec, subject: str, value: Any) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?, ?)",
                (tournament, kind, env.json, subject, json.dumps(value)),
            )

    # -- reading -------------------------------------------------------------------------------------------------

    @_guarded
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

    @_guarded
    def _stored_config(self, tournament: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT config FROM tournaments WHERE name = ?", (tournament,)).fetchone()
        if row is None:
            raise ConfigError(f"no tournament {tournament!r} in {self.path}")
        config = json.loads(row[0])
        if not isinstance(config, dict):
            raise ValueError("the stored config is not a table")
        return config

    @_guarded
    def config(self, tournament: str) -> dict[str, Any]:
        """The stored public config as plain data; envs and agent specs in their canonical text."""
        config = self._stored_config(tournament)
        config["envs"] = [env_of(e).text for e in config.get("envs", [])]
        config["agents"] = [{**a, "spec": agent_of(a["spec"]).text} for a in config.get("agents", [])]
        return config

    @_guarded
    def tournament(self, name: str, with_rounds: bool = True, records: bool = True) -> StoredTournament:
        """Everything stored about a tournament, decoded; without its match records unless `records`."""
        envs = [env_of(e) for e in self._stored_config(name).get("envs", [])]
        version = self.conn.execute("SELECT arena_version FROM tournaments WHERE name = ?", (name,)).fetchone()
        return StoredTournament(
            name,
            self.config(name),
            envs,
            self.agent_records(name),
            self.records(name, with_rounds) if records else [],
            self.analyses(name),
            version[0] if version else None,
        )

    @_guarded
    def tally(self, tournament: str, duplicate: Callable[[EnvSpec], bool]) -> MatchTally:
        """The tournament's matches counted in SQL (`records.MatchTally`), reading only the columns a report needs:
        matches grouped by shape (`_shapes`); for the envs `duplicate` picks, each game number's (env, seats,
        payoffs), from which its duplicate sets are summed, and the distinct seeds (`_games`, on a connection of its
        own in a second thread: the two scans take about as long); rounds only for matches with full-information
        feedback (for regret: the one query that returns a row per match, for those matches only). Every query reads
        the rows up to the tournament's last rowid when it began, so a run still writing adds none of its later
        matches to one count only."""
        decoder = MatchDecoder()
        (last,) = self.conn.execute(
            "SELECT ifnull(max(rowid), 0) FROM matches WHERE tournament = ?", (tournament,)
        ).fetchone()
        with ThreadPoolExecutor(1) as pool:
            played = pool.submit(self._games, tournament, last, duplicate)
            rows = self._shapes(tournament, last)
            seated, games, seeds = played.result()
        rounds = (
            self.conn.execute(
                f"SELECT env, seats, rounds FROM matches WHERE tournament = ? AND rowid <= ? AND {_FULL_INFORMATION} "
                "ORDER BY idx, env, match_id",
                (tournament, last),
            )
            if any(row[len(TALLY_COLUMNS)] for row in rows)
            else ()
        )
        grouped = (row[: len(TALLY_COLUMNS)] + row[len(TALLY_COLUMNS) + 1 :] for row in rows)
        return tally_rows(grouped, seated, games, seeds, rounds, decoder)

    def _shapes(self, tournament: str, last: int) -> list[tuple[Any, ...]]:
        """TALLY_COLUMNS, whether the rounds give full information, and the count of each distinct shape. A temp
        table keyed by shape: each row is one look-up among a few thousand keys, where GROUP BY would sort every
        row. A UNIQUE key holds NULLs apart, so they are stored as -1 (no culprit is) and read back as NULL."""
        keys = [f"k{i}" for i in range(len(TALLY_COLUMNS) + 1)]
        values = [f"ifnull({c}, -1)" for c in TALLY_COLUMNS] + [f"ifnull({_FULL_INFORMATION}, -1)"]
        self.conn.execute(f"CREATE TEMP TABLE shapes ({', '.join(keys)}, count, UNIQUE ({', '.join(keys)}))")
        try:
            self.conn.execute(
                f"INSERT INTO temp.shapes SELECT {', '.join(values)}, 1 FROM matches WHERE tournament = ? "
                "AND rowid <= ? ON CONFLICT DO UPDATE SET count = count + 1",
                (tournament, last),
            )
            read = f"SELECT {', '.join(f'nullif({k}, -1)' for k in keys)}, count FROM temp.shapes"
            return self.conn.execute(read).fetchall()
        finally:
            self.conn.rollback()
            self.conn.execute("DROP TABLE temp.shapes")

    def _games(
        self, tournament: str, last: int, duplicate: Callable[[EnvSpec], bool]
    ) -> tuple[list[tuple[str, str, str]], list[tuple[str, int]], int]:
        """The distinct (env, seats, payoffs) texts of the envs `duplicate` picks; each game number's matches as
        positions in that list, joined by commas, with how many games have them; and the number of distinct seeds.
        A temp table numbers the texts, the matches are read in game-number order (the table's key) and grouped by
        it as they come, and the games whose positions come in the same order are counted as one row (at most a
        row per game number). Runs on a read-only connection of its own."""
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            decoder = MatchDecoder()
            texts = reader.execute(
                "SELECT DISTINCT env, seats, payoffs FROM matches WHERE tournament = ? AND rowid <= ?",
                (tournament, last),
            ).fetchall()
            scored = {env: duplicate(decoder.env(env)) for env in {env for env, _, _ in texts}}
            seated = [row for row in texts if scored[row[0]]]
            games = []
            if seated:
                reader.execute(
                    "CREATE TEMP TABLE seating (env, seats, payoffs, at INTEGER, PRIMARY KEY (env, seats, payoffs)) "
                    "WITHOUT ROWID"
                )
                reader.executemany(
                    "INSERT INTO temp.seating VALUES (?, ?, ?, ?)", [(*row, at) for at, row in enumerate(seated)]
                )
                games = reader.execute(  # `+m.rowid`: the bound is checked on each row, not used to pick an index
                    "SELECT game, COUNT(*) FROM (SELECT group_concat(s.at) AS game FROM matches m "
                    "JOIN temp.seating s ON s.env = m.env AND s.seats = m.seats AND s.payoffs = m.payoffs "
                    "WHERE m.tournament = ? AND +m.rowid <= ? GROUP BY m.idx) GROUP BY game",
                    (tournament, last),
                ).fetchall()
            distinct, unseeded = reader.execute(
                "SELECT COUNT(DISTINCT seed), ifnull(MAX(seed IS NULL), 0) FROM matches "
                "WHERE tournament = ? AND rowid <= ?",
                (tournament, last),
            ).fetchone()
            return seated, games, distinct + unseeded
        finally:
            reader.close()

    @_guarded
    def agent_records(self, tournament: str) -> list[AgentRecord]:
        cursor = self.conn.execute(
            "SELECT name, spec, class, version, has_action_probs FROM agents WHERE tournament = ? ORDER BY rowid",
            (tournament,),
        )
        return [AgentRecord(n, agent_of(s), c, v, bool(h)) for n, s, c, v, h in cursor]

    def agents(self, tournament: str) -> list[dict[str, Any]]:
        """The stored agents as plain data (specs in their canonical text)."""
        return [a.to_dict() for a in self.agent_records(tournament)]

    @_guarded
    def recorded_ids(self, tournament: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT match_id FROM matches WHERE tournament = ?", (tournament,))}

    @_guarded
    def count(self, tournament: str) -> int:
        return self.conn.execute("SELECT count(*) FROM matches WHERE tournament = ?", (tournament,)).fetchone()[0]

    @_guarded
    def records(self, tournament: str, with_rounds: bool = True, transcribed: bool = False) -> list[MatchRecord]:
        """Every recorded match of a tournament in schedule order (only those with a transcript if `transcribed`)."""
        if transcribed and not self._has_table("transcripts"):
            return []
        columns = [c for c in MATCH_COLUMNS if c != "tournament" and (with_rounds or c != "rounds")]
        only = " AND match_id IN (SELECT match_id FROM transcripts WHERE tournament = ?)" if transcribed else ""
        cursor = self.conn.execute(
            f"SELECT {', '.join(columns)} FROM matches WHERE tournament = ?{only} ORDER BY idx, env, match_id",
            (tournament, tournament) if transcribed else (tournament,),
        )
        return MatchDecoder().decode_all(columns, cursor)

    def matches(self, tournament: str, with_rounds: bool = True) -> list[dict[str, Any]]:
        """Every recorded match as plain data with the table's column names (lists decoded, the env's text)."""
        return [r.to_dict(tournament) for r in self.records(tournament, with_rounds)]

    @_guarded
    def transcript(self, match_id: str) -> list[dict[str, Any]]:
        """The transcript records of one match, texts in place (empty for a match without any)."""
        if not self._has_table("transcripts"):
            return []
        row = self.conn.execute("SELECT transcript FROM transcripts WHERE match_id = ?", (match_id,)).fetchone()
        return [] if row is None else unpack_transcripts(json.loads(row[0]))

    @_guarded
    def transcribed_ids(self, tournament: str) -> set[str]:
        """The ids of the tournament's matches that have a transcript."""
        if not self._has_table("transcripts"):
            return set()
        query = "SELECT match_id FROM transcripts WHERE tournament = ?"
        return {r[0] for r in self.conn.execute(query, (tournament,))}

    @_guarded
    def analyses(self, tournament: str) -> list[Analysis]:
        cursor = self.conn.execute("SELECT kind, env, subject, value FROM analyses WHERE tournament = ?", (tournament,))
        decoder = MatchDecoder()
        return [Analysis(k, decoder.env(e), s, json.loads(v)) for k, e, s, v in cursor]


def _migrate_from_text_specs(conn: sqlite3.Connection) -> None:
    """Version 0 -> 1: every stored spec from its text form to its canonical JSON (inside the caller's transaction).

    Match ids hash the env's canonical text; rows of an env stored under another text (spaces, key order) get the
    id the schedule now gives them, so that resuming does not play them again.
    """
    envs: dict[str, EnvSpec] = {}

    def env_json(text: str) -> str:
        if text not in envs:
            envs[text] = env_of(text)
        return envs[text].json

    for name, text in conn.execute("SELECT name, config FROM tournaments").fetchall():
        config = json.loads(text)
        config["envs"] = [env_json(e) for e in config.get("envs", [])]
        config["agents"] = [{**a, "spec": agent_of(a["spec"]).json} for a in config.get("agents", [])]
        conn.execute("UPDATE tournaments SET config = ? WHERE name = ?", (json.dumps(config), name))
    for tournament, name, spec in conn.execute("SELECT tournament, name, spec FROM agents").fetchall():
        conn.execute(
            "UPDATE agents SET spec = ? WHERE tournament = ? AND name = ?", (agent_of(spec).json, tournament, name)
        )
    for (text,) in conn.execute("SELECT DISTINCT env FROM analyses").fetchall():
        conn.execute("UPDATE analyses SET env = ? WHERE env = ?", (env_json(text), text))
    for tournament, text in conn.execute("SELECT DISTINCT tournament, env FROM matches").fetchall():
        spec = envs.get(text) or env_of(text)
        if spec.text != text:
            rows = conn.execute(
                "SELECT match_id, seats, idx FROM matches WHERE tournament = ? AND env = ?", (tournament, text)
            ).fetchall()
            conn.executemany(
                "UPDATE matches SET match_id = ? WHERE match_id = ?",
                [(match_id(tournament, spec, tuple(json.loads(seats)), idx), old) for old, seats, idx in rows],
            )
        conn.execute("UPDATE matches SET env = ? WHERE tournament = ? AND env = ?", (env_json(text), tournament, text))


def _add_transcripts(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2: the transcripts table."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS transcripts ("
        "match_id TEXT PRIMARY KEY, tournament TEXT NOT NULL, transcript TEXT NOT NULL)"
    )


def _compress_rounds(conn: sqlite3.Connection) -> None:
    """Version 2 -> 3: every match's rounds from JSON text to `encode_rounds`'s compressed form."""
    rows = conn.execute("SELECT match_id, rounds FROM matches WHERE typeof(rounds) = 'text'").fetchall()
    conn.executemany(
        "UPDATE matches SET rounds = ? WHERE match_id = ?", [(encode_rounds(json.loads(t)), m) for m, t in rows]
    )


def _pack_rounds(conn: sqlite3.Connection) -> None:
    """Version 3 -> 4: every match's compressed rounds re-encoded with their per-round vectors packed."""
    rows = conn.execute("SELECT match_id, rounds FROM matches WHERE typeof(rounds) = 'blob'").fetchall()
    conn.executemany(
        "UPDATE matches SET rounds = ? WHERE match_id = ?", [(encode_rounds(decode_rounds(r)), m) for m, r in rows]
    )


def _key_by_game(conn: sqlite3.Connection) -> None:
    """Version 4 -> 5: the matches table keyed by (tournament, game number, id) instead of by id (its rows copied in
    that order; the id key and the (tournament, env) index go with the old table, the new ones follow)."""
    if not any(column[5] for column in conn.execute("PRAGMA table_info(matches)")):
        return  # a new database: its table has this form already
    unnumbered = conn.execute("SELECT count(*) FROM matches WHERE idx IS NULL").fetchone()[0]
    if unnumbered:
        raise ValueError(f"{unnumbered} match(es) have no game number")
    conn.execute("ALTER TABLE matches RENAME TO matches_v4")
    conn.execute(_MATCHES)
    columns = ", ".join(MATCH_COLUMNS)
    conn.execute(f"INSERT INTO matches ({columns}) SELECT {columns} FROM matches_v4 ORDER BY tournament, idx, match_id")
    conn.execute("DROP TABLE matches_v4")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    0: _migrate_from_text_specs,
    1: _add_transcripts,
    2: _compress_rounds,
    3: _pack_rounds,
    4: _key_by_game,
}


class RunLock:
    """One run at a time on a results database: an OS lock on `DB.lock` (released when the process ends, however
    it ends), whose text names the holder (pid, host, tournament) for the one-line refusal others get."""

    def __init__(self, db: str | Path, tournament: str) -> None:
        self.path = Path(f"{db}.lock")
        self.tournament = tournament
        self.handle: Any = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # no POSIX locks (Windows): runs are not serialised
            return self
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until __exit__)
        except OSError as exc:
            raise ConfigError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigError(
                f"{str(self.path)[: -len('.lock')]} is in use by {holder}; wait for that run to finish "
                "(or stop it), then run again to play what is left"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {socket.gethostname()} (tournament {self.tournament!r})\n")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.truncate(0)
            self.handle.close()  # closing releases the lock
            self.handle = None


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (so nothing partial is ever visible)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type | None, *exc: object) -> None:
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")
