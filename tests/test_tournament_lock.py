"""One run at a time on a results database: a second `arena tournament` on it is refused, naming the first."""

import json
import subprocess
import sys

import pytest

from arena.errors import ConfigError
from arena.tournaments.store import RunLock

ARGS = ["tournament", "--env", "rps-v0(rounds=2)", "--agents", "random", "fixed(action=0)", "--backend", "inprocess"]


def _arena(*args):
    code = "import sys; from arena.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_runs_on_one_database_play_each_match_once(tmp_path):
    db = str(tmp_path / "r.sqlite")
    procs = [_arena(*ARGS, "--games", "1500", "--db", db, "--json") for _ in range(2)]
    played = 0
    refused = 0
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            summary = json.loads(out)
            assert summary["scheduled"] == 3000
            played += summary["played"]
        else:
            lines = err.strip().splitlines()
            assert proc.returncode == 2 and len(lines) == 1, err
            assert "is in use by process" in lines[0] and "'rps-v0(rounds=2): random vs fixed(action=0)'" in lines[0], (
                err
            )
            refused += 1
    assert played == 3000


def test_the_lock_names_its_holder_and_is_released(tmp_path):
    db = tmp_path / "r.sqlite"
    with RunLock(db, "first"):
        code = f"import sys; from arena.tournaments.store import RunLock\nwith RunLock({str(db)!r}, 'second'): pass"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and "is in use by process" in proc.stderr and "'first'" in proc.stderr
    with RunLock(db, "again"):  # released at the end, taken again
        pass


def test_a_lock_held_by_a_dead_process_is_free(tmp_path):
    db = tmp_path / "r.sqlite"
    code = f"import os; from arena.tournaments.store import RunLock\nRunLock({str(db)!r}, 'x').__enter__(); os._exit(9)"
    subprocess.run([sys.executable, "-c", code], timeout=60)
    assert "process" in (tmp_path / "r.sqlite.lock").read_text()  # it died holding the lock
    with RunLock(db, "next"):
        pass


def test_the_lock_refuses_in_the_same_process(tmp_path):
    db = tmp_path / "r.sqlite"
    with RunLock(db, "one"), pytest.raises(ConfigError, match="in use by process"), RunLock(db, "two"):
        pass
