"""The run's forkserver started before the command has read its config (`forkserver.start_early`): the plan it is
sent later (modules, variables) reaches every process started from it, and a command that never sends one leaves no
server behind. Each test runs in a fresh interpreter: a server, once started, is the process's for good."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import arena.tournaments.forkserver as forkserver
from arena.cli import main

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")

SCRIPT = """
import multiprocessing, os, sys
from arena.tournaments import forkserver

def report(conn):
    conn.send(["pyspiel" in sys.modules, os.environ.get("ARENA_TEST_SET"), os.environ.get("ARENA_TEST_UNSET"),
               forkserver.PLAN in os.environ])

if __name__ == "__main__":
    forkserver.start_early()
    folder = forkserver._early.folder
    os.environ["ARENA_TEST_SET"] = "set after the server started"
    del os.environ["ARENA_TEST_UNSET"]
    forkserver.start(workers=True, envs=["arena.envs.openspiel"])
    context = multiprocessing.get_context("forkserver")
    parent, child = context.Pipe()
    process = context.Process(target=report, args=(child,))
    process.start()
    print(parent.recv(), os.path.exists(folder))
    process.join()
    forkserver.stop_early()
"""


EXITED = "os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None"  # exited, not reaped


def run(tmp_path: Path, script: str, **environ: str) -> str:
    path = tmp_path / "script.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, **environ},
    )
    return done.stdout.strip()


def ended(pid: int) -> bool:
    """Whether process `pid` is gone or a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_the_plan_reaches_every_process_started_from_an_early_server(tmp_path: Path) -> None:
    """The env's module (OpenSpiel) is imported once, in the server; a variable set or unset after the server
    started is seen so by its processes (`--no-cache` is one); the FIFO and its folder are gone."""
    printed = run(tmp_path, SCRIPT, ARENA_TEST_UNSET="set before the server started")
    assert printed == "[True, 'set after the server started', None, False] False"


def test_a_server_never_sent_its_plan_is_killed(tmp_path: Path) -> None:
    script = (
        "import os\nfrom arena.tournaments import forkserver\n"
        "forkserver.start_early()\npid, folder = forkserver._server_pid(), forkserver._early.folder\n"
        "forkserver.stop_early()\n"
        f"print(pid, {EXITED}, os.path.exists(folder))\n"
    )
    pid, gone, folder = run(tmp_path, script).split()
    assert (gone, folder) == ("True", "False")


def test_a_server_whose_command_died_before_its_plan_ends_on_its_own(tmp_path: Path) -> None:
    """The command killed before it sent the plan (no exit handler ran): the server stops waiting for it and ends."""
    script = (
        "import os\nfrom arena.tournaments import forkserver\n"
        "forkserver.start_early()\nprint(forkserver._server_pid(), flush=True)\nos._exit(0)\n"
    )
    pid = int(run(tmp_path, script))
    deadline = time.monotonic() + 30
    while not ended(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ended(pid)


@pytest.mark.parametrize("argv", [["tournament", "--help"], ["report", "missing.sqlite"], ["list", "envs"]])
def test_only_a_tournament_run_starts_the_server_early(argv: list[str], monkeypatch, capsys) -> None:
    started = []
    monkeypatch.setattr(forkserver, "start_early", lambda: started.append(True))
    with contextlib.suppress(SystemExit):
        main(argv)
    assert started == []


@pytest.mark.parametrize(
    "argv",
    [
        ["tournament", "--games", "many"],
        ["tournament", "--env", "kuhn_poker-v0", "--agents", "random", "random", "--games", "0"],
    ],
    ids=["argparse", "config"],
)
def test_a_bad_tournament_command_leaves_no_early_server(tmp_path: Path, argv: list[str]) -> None:
    """Bad arguments (argparse's exit) and a bad config (the handler's error) both end the early server."""
    script = (
        "import os\nfrom arena.cli import main\nfrom arena.tournaments import forkserver\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "pid = forkserver._server_pid()\n"
        f"print(pid is not None, forkserver._early is None, {EXITED})\n"
    )
    assert run(tmp_path, script) == "True True True"


FORKED = """
import multiprocessing, os, threading, time
from arena.tournaments import forkserver

if __name__ == "__main__":
    if os.environ.get("ARENA_TEST_THREAD"):
        threading.Thread(target=time.sleep, args=(10,), daemon=True).start()
    print("written before the server started")  # held in the buffer: stdout is a pipe
    forkserver.start_early()
    forkserver.start(workers=False)
    process = multiprocessing.get_context("forkserver").Process(target=os.getpid)
    process.start()  # a child flushes its copy of the buffer as it ends
    process.join()
    print("forkserver import main" in open(f"/proc/{forkserver._server_pid()}/cmdline").read())
    forkserver.stop_early()
"""


@pytest.mark.parametrize("thread, spawned", [("", False), ("1", True)], ids=["one thread", "two threads"])
def test_an_early_server_is_a_fork_of_a_command_with_one_thread(tmp_path: Path, thread: str, spawned: bool) -> None:
    """A command running one thread forks its server (no new interpreter to start); one with another thread, which
    could hold a lock as it forks, starts a new interpreter. What it wrote before is written once."""
    out = run(tmp_path, FORKED, ARENA_TEST_THREAD=thread, PYTHONUNBUFFERED="")
    assert out.splitlines() == ["written before the server started", str(spawned)]


def test_a_forked_server_that_fails_says_why(tmp_path: Path) -> None:
    """An error in the forked server's preload (not an ImportError, which the preload skips) is printed on stderr as
    a spawned server would print it, and the server ends."""
    (tmp_path / "broken_module.py").write_text("raise RuntimeError('this module cannot be imported')\n")
    script = (
        "import os, sys, time\nsys.path.insert(0, os.path.dirname(__file__))\n"
        "from arena.tournaments import forkserver\nforkserver.COMMAND.append('broken_module')\n"
        "forkserver.start_early()\npid = forkserver._server_pid()\n"
        f"deadline = time.monotonic() + 30\nwhile not {EXITED} and time.monotonic() < deadline:\n    time.sleep(0.05)\n"
        f"print({EXITED})\n"
    )
    path = tmp_path / "script.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "True"
    assert "RuntimeError: this module cannot be imported" in done.stderr
