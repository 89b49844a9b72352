"""The SQLite results store: idempotent atomic writes, resumable tournaments, reading while a run writes."""

import dataclasses
import json
import sqlite3

import pytest

from arena.errors import ConfigError
from arena.specs import AgentSpec
from arena.tournaments.config import config_from_dict
from arena.tournaments.records import ROW_FIELDS, AgentRecord
from arena.tournaments.store import MATCH_COLUMNS, ResultsStore

CONFIG = config_from_dict(
    {
        "name": "t",
        "envs": ["rps-v0"],
        "agents": [{"name": "a", "spec": "random"}],
        "games": 2,
        "seats": "all",
        "self_play": False,
        "seed": 0,
        "move_time_limit": None,
        "illegal_moves": "forfeit",
        "max_retries": 2,
        "max_steps": None,
    }
)
AGENTS = [
    AgentRecord("a", AgentSpec.parse("random"), "arena.agents.random:RandomAgent", "0.1.0", True),
    AgentRecord("b", AgentSpec.parse("fixed(action=1)")),
]


def _fields(match_id):
    return {
        "match_id": match_id,
        "env": "rps-v0",
        "seats": json.dumps(["a", "b"]),
        "idx": 0,
        "seed": 5,
        "payoffs": json.dumps([1.0, -1.0]),
        "outcomes": json.dumps(["win", "loss"]),
        "termination": "normal",
        "culprit": None,
        "message": "",
        "length": 1,
        "illegal_moves": "[0, 0]",
        "timeouts": "[0, 0]",
        "errors": "[0, 0]",
        "random_fallbacks": "[0, 0]",
        "wall_time": 0.001,
        "agent_stats": "[{}, {}]",
        "stuck": 0,
        "rounds": None,
        "transcript": None,
    }


def _row(match_id, **changes):
    """A worker's row (`records.ROW_FIELDS` in order), with `changes` to its stored values."""
    return tuple({**_fields(match_id), **changes}[name] for name in ROW_FIELDS)


def test_writes_are_idempotent_per_match_id(tmp_path):
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.begin(CONFIG, AGENTS, "0.1.0")
        store.add_matches("t", [_row("m1"), _row("m2")])
        store.add_matches("t", [_row("m1", payoffs="[-1.0, 1.0]"), _row("m3")])  # m1 again: ignored
        assert store.recorded_ids("t") == {"m1", "m2", "m3"}
        matches = {m["match_id"]: m for m in store.matches("t")}
        assert matches["m1"]["payoffs"] == [1.0, -1.0] and matches["m1"]["seats"] == ["a", "b"]
        assert store.agents("t")[0] == {
            "name": "a",
            "spec": "random",
            "class": "arena.agents.random:RandomAgent",
            "version": "0.1.0",
            "has_action_probs": True,
        }
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failed_chunk_leaves_no_partial_row(tmp_path):
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.begin(CONFIG, AGENTS, "0.1.0")
        broken = _row("m2")[:-1]  # a value short
        with pytest.raises(ValueError, match="ROW_FIELDS"):
            store.add_matches("t", [_row("m1"), broken])
        bad = _row("m3", payoffs=None)  # NOT NULL: the whole transaction rolls back
        with pytest.raises(sqlite3.IntegrityError):
            store.add_matches("t", [_row("m4"), bad])
        assert store.count("t") == 0


def test_resuming_needs_the_same_rules_and_agent_specs(tmp_path):
    path = tmp_path / "s.sqlite"
    with ResultsStore(path) as store:
        store.begin(CONFIG, AGENTS, "0.1.0")
        store.begin(CONFIG.replace(games=5, envs=["kuhn_poker-v0"]), AGENTS[:1], "0.1.0")  # extending is fine
        assert store.config("t")["envs"] == ["rps-v0", "kuhn_poker-v0"]
        with pytest.raises(ConfigError, match="different seed, illegal_moves"):
            store.begin(CONFIG.replace(seed=1, illegal_moves="random"), AGENTS, "0.1.0")
        with pytest.raises(ConfigError, match="agent 'b' was fixed\\(action=1\\), now random"):
            store.begin(CONFIG, [AgentRecord("b", AgentSpec.parse("random"))], "0.1.0")


def test_reports_read_while_a_writer_holds_a_transaction(tmp_path):
    path = tmp_path / "s.sqlite"
    writer = ResultsStore(path)
    writer.begin(CONFIG, AGENTS, "0.1.0")
    writer.add_matches("t", [_row("m1")])
    writer.conn.execute("BEGIN IMMEDIATE")
    writer.conn.execute(
        f"INSERT INTO matches ({', '.join(MATCH_COLUMNS)}) VALUES ({', '.join('?' * len(MATCH_COLUMNS))})",
        tuple({**_fields("m2"), "tournament": "t", "recorded": 0.0}[c] for c in MATCH_COLUMNS),
    )
    with ResultsStore(path, readonly=True) as reader:  # sees the committed match, not the pending one
        assert reader.resolve(None) == "t" and [m["match_id"] for m in reader.matches("t")] == ["m1"]
    writer.conn.execute("COMMIT")
    with ResultsStore(path, readonly=True) as reader:
        assert reader.count("t") == 2
    writer.close()


def test_bad_databases_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="no results database"):
        ResultsStore(tmp_path / "missing.sqlite", readonly=True)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not sqlite at all, just some text that is long enough" * 20)
    with pytest.raises(ConfigError, match="is not an arena results database"):
        ResultsStore(junk)
    with ResultsStore(tmp_path / "empty.sqlite") as store, pytest.raises(ConfigError, match="holds no tournament"):
        store.resolve(None)


def test_repeated_game_rounds_are_stored_compressed_and_older_text_rounds_still_read(tmp_path, capsys):
    """A 100-round match's rounds: 15.5 KB of JSON text before, now compressed; a version-2 database (text) and a
    version-3 one (compressed JSON, no packed vectors) report the same regret read-only and after their migration,
    and damaged compressed rounds are one line and status 2."""
    import zlib

    import arena
    from arena.cli import main
    from arena.tournaments.records import FULL_INFORMATION_TAG, decode_rounds
    from arena.tournaments.store import SCHEMA_VERSION

    db = tmp_path / "r.sqlite"
    config = {"name": "r", "envs": ["rps-v0(rounds=100)"], "games": 2, "agents": ["ftrl", "random"]}
    arena.run_tournament({**config, "exploitability": "off"}, db=str(db), backend="inprocess", workers=1)

    def regret() -> dict:
        assert main(["report", str(db), "--json"]) == 0
        return json.loads(capsys.readouterr().out)["envs"]["rps-v0(rounds=100)"]["regret"]

    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT rounds FROM matches").fetchall()
    assert len(stored) == 4 and all(isinstance(r, bytes) and len(r) < 3000 for (r,) in stored)
    expected = regret()
    assert expected["ftrl"]["matches"] == 4
    with sqlite3.connect(db) as conn:  # as version 3 wrote it: compressed JSON
        for match_id, rounds in conn.execute("SELECT match_id, rounds FROM matches").fetchall():
            text = json.dumps(decode_rounds(rounds), separators=(",", ":"))
            conn.execute(
                "UPDATE matches SET rounds = ? WHERE match_id = ?",
                (FULL_INFORMATION_TAG + zlib.compress(text.encode()), match_id),
            )
        conn.execute("PRAGMA user_version = 3")
    assert regret() == expected  # read-only: the rounds as they are
    with ResultsStore(db) as store:
        assert store.version == SCHEMA_VERSION == 5
    with sqlite3.connect(db) as conn:  # repacked, and back to version 2: JSON text
        assert all(b"\n" in zlib.decompress(r[1:]) for (r,) in conn.execute("SELECT rounds FROM matches"))
        for match_id, rounds in conn.execute("SELECT match_id, rounds FROM matches").fetchall():
            text = json.dumps(decode_rounds(rounds), separators=(",", ":"))
            assert len(text) > 15_000
            conn.execute("UPDATE matches SET rounds = ? WHERE match_id = ?", (text, match_id))
        conn.execute("PRAGMA user_version = 2")
    assert regret() == expected  # read-only: the text as it is
    with ResultsStore(db) as store:
        assert store.version == SCHEMA_VERSION
        store.check()
    with sqlite3.connect(db) as conn:
        assert {type(r) for (r,) in conn.execute("SELECT rounds FROM matches")} == {bytes}
        conn.execute("UPDATE matches SET rounds = X'46000102'")
    assert main(["report", str(db), "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "damaged" in err[0] and "decompress" in err[0]


def test_rounds_round_trip_exactly_with_vectors_packed():
    """Per-round vectors of one length are packed as float64 bytes and come back bit for bit (NaN, -0.0, 1/3);
    vectors of different lengths, missing ones and non-numbers stay JSON; rounds without vectors are the JSON a
    version-3 database holds."""
    import math
    import zlib

    from arena.tournaments.records import decode_rounds, encode_rounds

    rounds = {
        "actions": [[0, 2, None], [1, 1, 0]],
        "action_payoffs": [[[1 / 3, -0.0, 1e300], [2.0, 5e-324, -1.5]], [[1.0], [2.0, 3.0]]],
        "policies": [[[math.nan, 0.5], [0.25, 0.75]], None],
    }
    back = decode_rounds(encode_rounds(rounds))
    assert back["actions"] == rounds["actions"] and back["action_payoffs"][1] == [[1.0], [2.0, 3.0]]
    assert [math.copysign(1, v) for v in back["action_payoffs"][0][0]] == [1, -1, 1]
    assert back["action_payoffs"][0] == rounds["action_payoffs"][0]
    assert math.isnan(back["policies"][0][0][0]) and back["policies"][0][1] == [0.25, 0.75]
    assert back["policies"][1] is None
    mixed = {"actions": [[0, 1]], "action_payoffs": [[[1.0, 2.0], None], [["x", 1.0]]], "policies": [None]}
    assert decode_rounds(encode_rounds(mixed)) == mixed
    history = {"history": [3, 1, 4]}
    assert zlib.decompress(encode_rounds(history)[1:]) == b'{"history":[3,1,4]}'


def test_rounds_are_deflated_as_zlib_level_3_does_with_a_window_fit_to_them():
    """A window fit to the body gives the very deflate bytes of `zlib.compress(body, 3)` (the two header bytes name
    the window), at each window's edge and past zlib's largest window, and zlib reads them back."""
    import random
    import zlib

    from arena.tournaments.records import _deflate

    rng = random.Random(3)
    sizes = (0, 1, 250, 251, 511, 1206, 16_121, 16_122, 32_505, 32_506, 32_507, 104_178)
    for size in sizes:
        body = bytes(rng.choice(b'[0,1],"f8":-2.5e') for _ in range(size // 2)) * 2  # near and far repeats
        body += b"x" * (size - len(body))
        packed = _deflate(body)
        assert packed[2:] == zlib.compress(body, 3)[2:] and zlib.decompress(packed) == body


def test_malformed_packed_rounds_are_value_errors_and_a_damaged_migration_one_line(tmp_path):
    import zlib

    from arena.tournaments.records import FULL_INFORMATION_TAG, decode_rounds

    def stored(text: bytes) -> bytes:
        return FULL_INFORMATION_TAG + zlib.compress(text)

    for bad in (
        b'{"action_payoffs":[{"f8":[0,4],"width":2}]}\n' + b"\0" * 16,  # more floats named than stored
        b'{"action_payoffs":[{"f8":[0,3],"width":2}]}\n' + b"\0" * 24,  # no whole number of vectors
        b'{"action_payoffs":[{"f8":"x","width":2}]}\n' + b"\0" * 8,
        b'{"action_payoffs":[{"width":2}]}\n' + b"\0" * 8,
        b'{"action_payoffs":[]}\n' + b"\0" * 7,  # not whole floats
        b"[1]\n" + b"\0" * 8,
    ):
        with pytest.raises(ValueError):
            decode_rounds(stored(bad))
    path = tmp_path / "v3.sqlite"
    with ResultsStore(path) as store:
        store.begin(CONFIG, AGENTS, "0.1.0")
        store.add_matches("t", [_row("m1")])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE matches SET rounds = ?", (stored(b"not json"),))
        conn.execute("PRAGMA user_version = 3")
    with pytest.raises(ConfigError, match="cannot upgrade .* to the current schema"):
        ResultsStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3  # nothing changed


def test_a_record_survives_its_row_and_the_store_field_for_field(tmp_path):
    """A worker's row is a tuple in `ROW_FIELDS` order: a record with a distinct value in every field (rounds and a
    transcript included) reads back equal, so no two columns can trade places."""
    from arena.specs import EnvSpec
    from arena.tournaments.records import MatchRecord, encode_match, pack_transcripts

    record = MatchRecord(
        match_id="m1",
        env=EnvSpec.parse("rps-v0(rounds=2)"),
        seats=("a", "b"),
        index=7,
        seed=11,
        payoffs=(0.5, -0.5),
        outcomes=("win", "loss"),
        termination="illegal_move",
        culprit=1,
        message="b played 9",
        length=3,
        illegal_moves=(0, 1),
        timeouts=(2, 0),
        errors=(0, 3),
        random_fallbacks=(4, 0),
        wall_time=0.25,
        agent_stats=({"prompt_tokens": 5}, {}),
        stuck=True,
        rounds={"actions": [[0, 1], [2, 2]], "payoffs": [[-1.0, 1.0], [0.0, 0.0]]},
        transcript=pack_transcripts([{"reply": "rock", "step": 0}]),
    )
    row = encode_match(record)
    assert len(row) == len(ROW_FIELDS)
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.begin(CONFIG, AGENTS, "0.1.0")
        store.add_matches("t", [row])
        (stored,) = store.records("t")
        assert store.transcript("m1") == [{"reply": "rock", "step": 0}]
    assert stored.recorded is not None
    assert dataclasses.replace(stored, recorded=None, transcript=record.transcript) == record


def test_a_match_without_incidents_is_stored_as_every_other_match(tmp_path):
    """Rows with no culprit, message, stuck agent or rounds and one count list are written by a shorter statement:
    each stored value and its SQLite type equal those of the full statement, and a row that differs from such a
    row in any one field takes the full statement."""
    from arena.tournaments.store import _INSERT_MATCH, ROW_COLUMNS

    counts = ("illegal_moves", "timeouts", "errors", "random_fallbacks")
    rows = [
        _row("plain"),
        _row("plain-3", seats='["a", "b", "c"]', agent_stats="[{}, {}, {}]", **dict.fromkeys(counts, "[0, 0, 0]")),
        _row("same-counts", **dict.fromkeys(counts, "[1, 1]")),
        _row("bool-stuck", stuck=False),
        _row("stats", agent_stats='[{"prompt_tokens": 3}, {}]'),
        _row("culprit", culprit=0),
        _row("message", message="why"),
        _row("no-message", message=None),
        _row("illegal", illegal_moves="[1, 0]"),
        _row("timeouts", timeouts="[0, 1]"),
        _row("errors", errors="[2, 0]"),
        _row("fallbacks", random_fallbacks="[0, 3]"),
        _row("stuck", stuck=1),
        _row("rounds", rounds=b"packed"),
        _row("transcript", transcript="[]"),
    ]
    columns = [c for c in MATCH_COLUMNS if c != "recorded"]
    query = f"SELECT {', '.join(f'{c}, typeof({c})' for c in columns)} FROM matches ORDER BY match_id"
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.begin(CONFIG, AGENTS, "0.1.0")
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)  # once per row an executemany runs
        store.add_matches("t", rows)
        store.conn.set_trace_callback(None)
        stored = store.conn.execute(query).fetchall()
    assert sum("recorded, culprit" in s for s in statements) == 6  # plain to stats, and transcript (its own table)
    with ResultsStore(tmp_path / "reference.sqlite") as reference:
        reference.conn.executemany(_INSERT_MATCH, [row[: len(ROW_COLUMNS)] + ("t", 0.0) for row in rows])
        expected = reference.conn.execute(query).fetchall()
    assert len(stored) == len(rows) and stored == expected


def test_plain_rows_are_written_many_to_a_statement_in_order_and_a_stored_id_is_kept(tmp_path):
    """Plain rows go in 64 to a statement, the rest one by one: every row lands in the order it came, as the full
    statement stores it, and an id stored before, or twice in one statement, keeps its first row."""
    from arena.tournaments.store import _INSERT_MATCH, _PLAIN_ROWS, ROW_COLUMNS

    rows = [_row(f"m{k:03d}", idx=k, payoffs=f"[{k}.0, {-k}.0]") for k in range(2 * _PLAIN_ROWS + 5)]
    again = _row("m005", idx=5, payoffs="[9.0, -9.0]")  # within the first statement
    rows.insert(10, again)
    first = [_row("m070", idx=70, payoffs="[7.0, -7.0]")]  # stored by an earlier batch
    query = "SELECT * FROM matches ORDER BY rowid"
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.begin(CONFIG, AGENTS, "0.1.0")
        store.add_matches("t", first)
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        store.add_matches("t", rows)
        store.conn.set_trace_callback(None)
        stored = [r[:20] for r in store.conn.execute(query)]  # all but the time of writing
    assert sum(s.count("recorded, culprit") for s in statements) == 2 + 6
    kept = first + [r for r in rows if r is not again and r[0] != "m070"]
    with ResultsStore(tmp_path / "reference.sqlite") as reference:
        reference.conn.executemany(_INSERT_MATCH, [row[: len(ROW_COLUMNS)] + ("t", 0.0) for row in kept])
        expected = [r[:20] for r in reference.conn.execute(query)]
    assert stored == expected and len(stored) == 2 * _PLAIN_ROWS + 5


_V4_MATCHES = """CREATE TABLE matches (
    match_id TEXT PRIMARY KEY, tournament TEXT NOT NULL, env TEXT NOT NULL, seats TEXT NOT NULL, idx INTEGER,
    seed INTEGER, payoffs TEXT NOT NULL, outcomes TEXT, termination TEXT, culprit INTEGER, message TEXT,
    length INTEGER, illegal_moves TEXT, timeouts TEXT, errors TEXT, random_fallbacks TEXT, wall_time REAL,
    agent_stats TEXT, stuck INTEGER, rounds TEXT, recorded REAL)"""


def _as_version_4(path, unnumbered=()):
    """Give the matches table of `path` the form schema version 4 wrote: keyed by id, indexed by (tournament, env)."""
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE matches RENAME TO v5")
        conn.execute(_V4_MATCHES)
        conn.execute(f"INSERT INTO matches ({', '.join(MATCH_COLUMNS)}) SELECT {', '.join(MATCH_COLUMNS)} FROM v5")
        conn.execute("DROP TABLE v5")
        conn.execute("CREATE INDEX matches_by_tournament ON matches (tournament, env)")
        conn.executemany("UPDATE matches SET idx = NULL WHERE match_id = ?", [(m,) for m in unnumbered])
        conn.execute("PRAGMA user_version = 4")


def test_a_version_4_database_is_keyed_by_game_with_every_match_kept(tmp_path):
    """Version 5 keys matches by (tournament, game number, id): an older database is rebuilt on its first write,
    value for value; a stored id is still kept; a match without a game number cannot be keyed and the upgrade is
    refused in one line, the database left as it was."""
    path = tmp_path / "s.sqlite"
    query = f"SELECT {', '.join(MATCH_COLUMNS)} FROM matches ORDER BY match_id"
    with ResultsStore(path) as store:
        store.begin(CONFIG, AGENTS, "0.1.0")
        store.add_matches("t", [_row("m1", idx=1), _row("m2", idx=0, culprit=1), _row("m3", idx=1)])
        stored = store.conn.execute(query).fetchall()
    _as_version_4(path)
    with ResultsStore(path, readonly=True) as reader:  # read as it is
        assert reader.version == 4 and reader.recorded_ids("t") == {"m1", "m2", "m3"}
    with ResultsStore(path) as store:
        assert store.version == 5
        assert store.conn.execute(query).fetchall() == stored
        indexes = {r[1]: (r[2], r[3]) for r in store.conn.execute("PRAGMA index_list(matches)")}
        assert indexes == {"matches_by_game": (1, "c"), "matches_of_tournament": (0, "c")}  # no id key
        store.add_matches("t", [_row("m1", idx=1, payoffs="[0.0, 0.0]"), _row("m4", idx=2)])
        assert store.count("t") == 4 and store.conn.execute(query).fetchall()[0] == stored[0]
    _as_version_4(path, unnumbered=["m2"])
    with pytest.raises(ConfigError, match=r"cannot upgrade .*: 1 match\(es\) have no game number"):
        ResultsStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
        assert conn.execute("SELECT count(*) FROM matches").fetchone()[0] == 4
