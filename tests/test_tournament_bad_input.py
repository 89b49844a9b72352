"""Bad input to `arena tournament` and `arena report`: one line on stderr, exit status 2, nothing played."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena.cli import main
from arena.tournaments import ResultsStore

BASE = ["tournament", "--env", "rps-v0(rounds=2)", "--agents", "random", "fixed(action=0)", "--backend", "inprocess"]


def _fails(capsys, argv):
    """Run the CLI in this process; return its one stderr line (asserting exit 2, no traceback)."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("arena: "), err
    return err[0]


@pytest.fixture(scope="module")
def good_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("good") / "good.sqlite"
    assert main([*BASE, "--games", "2", "--db", str(db), "--json"]) == 0
    return db


def _matches(db):
    if not Path(db).exists():
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM matches").fetchone()[0]


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--games", "0"], "games must be a positive integer"),
        (["--games", "-3"], "games must be a positive integer"),
        (["--workers", "-1"], "workers must be a non-negative integer"),
        (["--time-limit", "nan"], "move_time_limit must be positive"),
        (["--seed", "-1"], "seed must be a non-negative integer"),
    ],
)
def test_bad_values_on_the_command_line(capsys, tmp_path, extra, says):
    db = tmp_path / "r.sqlite"
    assert says in _fails(capsys, [*BASE, "--db", str(db), *extra])
    assert _matches(db) == 0


@pytest.mark.parametrize(
    "line, says",
    [
        ('max_steps = "ten"', "max_steps must be an integer"),
        ("max_retries = -1", "max_retries must be a non-negative integer"),
        ("seed = -1", "seed must be a non-negative integer"),
        ("games = 0", "games must be a positive integer"),
    ],
)
def test_bad_values_in_toml(capsys, tmp_path, line, says):
    path = tmp_path / "t.toml"
    path.write_text(f'envs = ["rps-v0"]\nagents = ["random", "fixed(action=0)"]\nbackend = "inprocess"\n{line}\n')
    db = tmp_path / "r.sqlite"
    assert says in _fails(capsys, ["tournament", str(path), "--db", str(db)])
    assert _matches(db) == 0


@pytest.mark.parametrize(
    "env, agents, says",
    [
        ("rps-v0", ["random"], "has 2 seats but the tournament has 1 agent:"),
        ("kuhn_poker-v0", ["random"], "has 2 seats but the tournament has 1 agent:"),
        ("openspiel:kuhn_poker(players=3)", ["random", "fixed(action=0)"], "has 3 seats but the tournament has 2"),
    ],
)
def test_too_few_agents(capsys, tmp_path, env, agents, says):
    db = tmp_path / "r.sqlite"
    argv = ["tournament", "--env", env, "--agents", *agents, "--backend", "inprocess", "--db", str(db)]
    assert says in _fails(capsys, argv)
    assert _matches(db) == 0


def test_a_database_that_is_a_folder(capsys, tmp_path):
    assert "is a folder" in _fails(capsys, [*BASE, "--db", str(tmp_path)])
    assert "is a folder" in _fails(capsys, ["report", str(tmp_path)])


def test_unreachable_ray_address_is_one_line_at_once(capsys, tmp_path):
    start = time.monotonic()
    argv = [*BASE, "--backend", "ray", "--ray-address", "127.0.0.1:1", "--db", str(tmp_path / "r.sqlite")]
    assert "cannot reach the Ray cluster at 127.0.0.1:1" in _fails(capsys, argv)
    assert time.monotonic() - start < 15


@pytest.mark.parametrize("option", ["--html", "--csv", "--plots"])
@pytest.mark.parametrize("where", ["file", "folder", "under_file", "read_only"])
def test_report_output_paths(capsys, tmp_path, good_db, option, where):
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    path = {
        "file": a_file if option != "--html" else tmp_path,  # a file where a folder goes, a folder for a file
        "folder": tmp_path if option == "--html" else a_file,
        "under_file": a_file / "x" / "out",
        "read_only": locked / "out",
    }[where]
    if where == "read_only" and os.access(locked, os.W_OK):
        pytest.skip("running as root: permissions are not enforced")
    try:
        assert "cannot write" in _fails(capsys, ["report", str(good_db), option, str(path)])
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("bootstrap", ["1", "0", "-5"])
def test_report_bootstrap_needs_two_replicates(capsys, good_db, bootstrap):
    assert "--bootstrap must be at least 2" in _fails(capsys, ["report", str(good_db), "--bootstrap", bootstrap])


def _flip_pages(db: Path) -> None:
    """Bit-flip the b-tree page header of every page after the first (what a damaged disk leaves)."""
    data = bytearray(db.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    for start in range(size, len(data), size):
        for i in range(start, start + 8):
            data[i] ^= 0xFF
    db.write_bytes(bytes(data))


def _damaged(kind: str, good_db: Path, path: Path) -> Path:
    if kind == "not_sqlite":
        path.write_bytes(b"this is not a database at all, only some text\n" * 200)
    elif kind == "foreign_schema":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE people (id INTEGER, name TEXT)")
    elif kind == "partial_schema":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE tournaments (name TEXT)")
    elif kind == "garbage_config":
        shutil.copyfile(good_db, path)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE tournaments SET config = '{not json'")
    elif kind == "config_not_a_table":
        shutil.copyfile(good_db, path)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE tournaments SET config = '[1, 2]'")
    elif kind == "garbage_match":
        shutil.copyfile(good_db, path)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE matches SET payoffs = 'nope'")
    elif kind == "bit_flipped":
        shutil.copyfile(good_db, path)
        with sqlite3.connect(path) as conn:  # everything in the main file, no WAL beside it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        _flip_pages(path)
    return path


DAMAGE = [
    "not_sqlite",
    "foreign_schema",
    "partial_schema",
    "garbage_config",
    "config_not_a_table",
    "garbage_match",
    "bit_flipped",
]


@pytest.mark.parametrize("kind", DAMAGE)
def test_report_refuses_damaged_or_foreign_databases(capsys, tmp_path, good_db, kind):
    db = _damaged(kind, good_db, tmp_path / "d.sqlite")
    _fails(capsys, ["report", str(db)])


@pytest.mark.parametrize("kind", DAMAGE)
def test_tournament_refuses_damaged_or_foreign_databases(capsys, tmp_path, good_db, kind):
    db = _damaged(kind, good_db, tmp_path / "d.sqlite")
    before = db.read_bytes()
    _fails(capsys, [*BASE, "--games", "3", "--db", str(db)])
    if kind.startswith(("garbage", "config")):
        with sqlite3.connect(db) as conn:  # refused before any match was played
            assert conn.execute("SELECT count(*) FROM matches").fetchone()[0] == 4
    if kind in ("not_sqlite", "foreign_schema", "partial_schema"):
        assert db.read_bytes() == before  # never adopted


def test_foreign_sqlite_file_is_not_adopted(tmp_path):
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE people (id INTEGER)")
    with pytest.raises(Exception, match="not an arena results database"):
        ResultsStore(db)
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"people"}


def _arena(*args):
    code = "import sys; from arena.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("where", ["enter", "leave"])
def test_a_ctrl_c_in_the_guard_of_an_agent_call_gives_the_process_its_streams_back(tmp_path, monkeypatch, where):
    """In-process, an agent call swaps sys.stdout and sys.stderr for the agent's record: a Ctrl-C that lands while
    the guard marks the call begun or ended (the beacon) must not leave them swapped, or the command's one line
    `arena: interrupted` goes into the record instead of the terminal (the first case left them swapped)."""
    import arena
    from arena.tournaments.protocol import Beacon

    def interrupted(self, *args):
        raise KeyboardInterrupt

    monkeypatch.setattr(Beacon, where, interrupted)
    streams = sys.stdout, sys.stderr
    config = {
        "name": "t",
        "envs": ["rps-v0"],
        "games": 1,
        "exploitability": "off",
        "agents": ["random", "fixed(action=0)"],
    }
    with pytest.raises(KeyboardInterrupt):
        arena.run_tournament(config, db=str(tmp_path / "r.sqlite"), backend="inprocess", analyse=False)
    assert (sys.stdout, sys.stderr) == streams


@pytest.mark.parametrize("after", [0.3, 0.5])
def test_ctrl_c_early_is_one_line(tmp_path, after):
    """Within the first half second (once the interpreter itself has started) Ctrl-C is one line, exit 130."""
    proc = _arena(*BASE, "--games", "20000", "--db", str(tmp_path / "r.sqlite"))
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 130, err
    assert len(lines) == 1 and "interrupted" in lines[0] and "Traceback" not in err, err
