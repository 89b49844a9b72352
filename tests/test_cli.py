"""The `arena` command through a real subprocess: normal use and every bad-input case (one line, exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def arena_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "arena.cli", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_list_json() -> None:
    envs = json.loads(arena_cli("list", "envs", "--json").stdout)
    assert {"kuhn_poker-v0", "rps-v0", "preference-v0", "goofspiel-v0"} <= {e["id"] for e in envs}
    agents = json.loads(arena_cli("list", "agents", "--json").stdout)
    assert {"random", "human", "fixed"} <= {a["name"] for a in agents}


def test_play_json_and_record_then_replay(tmp_path) -> None:
    record = tmp_path / "m.jsonl"
    done = arena_cli(
        "play",
        "rps-v0(rounds=4)",
        "--agents",
        "fixed(action=rock)",
        "random",
        "--seed",
        "3",
        "--record",
        str(record),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["length"] == 4 and result["agents"] == ["fixed(action=rock)", "random"]
    shown = arena_cli("replay", str(record), "--verify")
    assert shown.returncode == 0 and "plays rock (0)" in shown.stdout and "verified" in shown.stdout


def test_human_plays_in_the_terminal() -> None:
    done = arena_cli("play", "kuhn_poker-v0", "--agents", "human", "fixed(action=Pass)", "--seed", "1", stdin="Pass\n")
    assert done.returncode == 0, done.stderr
    assert "Legal moves: Pass (0); Bet (1)" in done.stdout and "game 1:" in done.stdout


def test_render_ansi_prints_the_game() -> None:
    done = arena_cli("play", "tic_tac_toe-v0", "--agents", "random", "random", "--seed", "0", "--render", "ansi")
    assert done.returncode == 0 and "x" in done.stdout.lower()


@pytest.mark.parametrize(
    "args, message",
    [
        (("play", "kuhn_pokr-v0", "--agents", "random", "random"), "did you mean kuhn_poker-v0"),
        (("play", "kuhn_poker-v0", "--agents", "randm", "random"), "did you mean random"),
        (("play", "kuhn_poker-v0", "--agents", "fixed(acton=1)", "random"), "no parameter 'acton'"),
        (("play", "rps-v0(rounds=lots)", "--agents", "random", "random"), "should be int"),
        (("play", "kuhn_poker-v0", "--agents", "random"), "needs 2 agents, got 1"),
        (("play", "kuhn_poker-v0", "--agents", "random", "random", "--seed", "x"), "invalid int value"),
        (("play", "kuhn_poker-v0", "--agents", "fixed(action=Raise)", "random"), "no action 'Raise' in kuhn_poker-v0"),
        (("play", "rps-v0", "--agents", "mix(probs={rock: nan})", "random"), "probs must map actions to numbers"),
        (("play", "rps-v0", "--agents", "os:system(command=true)", "random"), "is not an arena.Agent subclass"),
        (("play", "rps-v0", "--agents", "random", "random", "--seed", "-1"), "seed must be a non-negative integer"),
        (("play", "rps-v0", "--agents", "random", "random", "--games", "0"), "--games must be at least 1"),
        (("play", "rps-v0", "--agents", "random", "random", "--games", "-3"), "--games must be at least 1"),
        (("play", "rps-v0", "--agents", "random", "random", "--time-limit", "nan"), "move_time_limit must be"),
        (("play", "rps-v0", "--agents", "random", "random", "--record", "/"), "it is a folder"),
        (("play", "rps-v0", "--agents", "random", "random", "--record", "/no/such/dir/m.gif"), "no such folder"),
        (("play", "random_matrix-v0(size=200000)", "--agents", "random", "random"), "joint actions"),
        (("solve", "kuhn_poker-v0", "--solver", "cfr", "--iterations", "2", "--out", __file__), "it is a file"),
        (("replay", "/nonexistent/replay.jsonl"), "cannot read replay"),
        (("list", "things"), "invalid choice"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message) -> None:
    done = arena_cli(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_unreadable_replay_file(tmp_path) -> None:
    for content in ("not json at all\n", json.dumps({"type": "step"}) + "\n"):
        path = tmp_path / "bad.jsonl"
        path.write_text(content)
        done = arena_cli("replay", str(path))
        assert done.returncode == 2 and "is not a replay file" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


ENTRY = (
    "import atexit, threading, time, arena.cli as cli\n"
    "def main():\n"
    "    print('out', end='')\n"
    "    atexit.register(print, ' handler', end='')\n"
    "    if THREAD:\n"
    "        threading.Thread(target=lambda: (time.sleep(0.3), print(' late', end=''))).start()\n"
    "    return 3\n"
    "cli.main = main\n"
    "cli.entry_point()\n"
)


@pytest.mark.parametrize("thread", [False, True])
def test_the_script_exits_quickly_yet_runs_exit_handlers_flushes_and_waits_for_threads(thread) -> None:
    """The installed script skips the interpreter's teardown, never what a command left to do at exit: its exit
    handlers (once), its buffered output, a thread still running."""
    done = subprocess.run(
        [sys.executable, "-c", f"THREAD = {thread}\n{ENTRY}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3 and done.stderr == ""
    assert done.stdout == ("out late handler" if thread else "out handler")
