"""Crash safety of a real `arena tournament` process: SIGKILL and Ctrl-C mid-run lose nothing, resume exactly."""

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import arena
from arena.tournaments import ResultsStore
from arena.tournaments.report import build_report

ARENA = str(Path(sys.executable).parent / "arena")
CONFIG = """
name = "crash"
envs = ["kuhn_poker-v0"]
games = 5000
seed = 4
exploitability = "off"
agents = ["random", "fixed(action=1)", "mix(probs={'0': 0.3, '1': 0.7})"]
"""
TOTAL = 5000 * 6  # several seconds of play, so the kill lands mid-run: rows are committed up to 2,048 at a
# time or half a second after they arrive, and 6,000 matches once finished within a second on an idle machine


def _count(db):
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM matches").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _start(tmp_path, db):
    config = tmp_path / "crash.toml"
    config.write_text(CONFIG)
    return subprocess.Popen(
        [ARENA, "tournament", str(config), "--db", str(db), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _interrupt_mid_run(process, db, sig):
    deadline = time.monotonic() + 60
    while _count(db) < 20:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    assert build_report(db, num_bootstrap=10)["matches"] >= 20  # a report while the run writes
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    return out, err


def _rows(db):
    with ResultsStore(db, readonly=True) as store:
        return {
            m["match_id"]: (m["seats"], m["seed"], m["payoffs"], m["outcomes"], m["termination"], m["length"])
            for m in store.matches("crash")
        }


@pytest.mark.slow
def test_sigkill_loses_no_match_and_the_resumed_run_equals_an_uninterrupted_one(tmp_path):
    db = tmp_path / "killed.sqlite"
    process = _start(tmp_path, db)
    _interrupt_mid_run(process, db, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    with sqlite3.connect(db) as conn:  # a writer may recover the WAL, as the resumed run will
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        survived = conn.execute("SELECT count(*) FROM matches").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM matches WHERE payoffs IS NULL OR seats IS NULL").fetchone()[0] == 0
    assert 20 <= survived < TOTAL
    before = _rows(db)
    run = arena.run_tournament(tmp_path / "crash.toml", db=str(db), workers=2)
    assert run.already_recorded == survived and run.played == TOTAL - survived
    after = _rows(db)
    assert all(after[k] == v for k, v in before.items())  # nothing recorded was changed
    arena.run_tournament(tmp_path / "crash.toml", db=str(tmp_path / "whole.sqlite"), backend="inprocess")
    assert after == _rows(tmp_path / "whole.sqlite")


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    db = tmp_path / "interrupted.sqlite"
    process = _start(tmp_path, db)
    out, err = _interrupt_mid_run(process, db, signal.SIGINT)
    assert process.returncode == 130 and "Traceback" not in err
    stored = _count(db)
    assert f"interrupted; {stored} matches of 'crash' are stored" in err and 20 <= stored < TOTAL
    done = subprocess.run(
        [ARENA, "tournament", str(tmp_path / "crash.toml"), "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and _count(db) == TOTAL
