"""The forkserver a run's processes start from: the agent check, the analysis probes and the local workers.

One per coordinator, started by whichever of them comes first, it imports what they run once (`PRELOAD`), so
that each starts from it without importing. `start` starts it at once, so that it imports them on another core
while the coordinator imports the rest of the engine; a run that will probe agents for their exploitability has it
import the analysis and the exact engine too (`PROBES`: the compiled games, which each probe would import
otherwise; scipy.sparse loads only in a probe of a game large enough to need it). The server keeps the
environment it started with: variables the run's processes must see are set before it starts.

The `arena tournament` command starts it sooner still, before it has read its arguments (`start_early`): the server
imports what every run needs (`COMMAND`) and then waits for the rest of its preload, which `start` sends once the
config is read (the run's env modules, the probes' modules, the variables the command set since), through a FIFO
that only this process and the server open. That server is a fork of the command (no new interpreter to start),
unless the command runs other threads. A command that ends without sending it (bad arguments, a run that
starts no process of its own) kills the server (`stop_early`) rather than leave it importing while it holds the
command's output streams.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import multiprocessing.util
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterable
from typing import Any

PRELOAD = ["arena.tournaments.worker", "arena.tournaments.run", "arena.tournaments.analysis"]
COMMAND = ["arena.tournaments.pools", "arena.tournaments.worker", "arena.tournaments.check"]  # no `run`: see start
PROBES = [
    "arena.tournaments.analysis",
    "arena.match",
    "arena.games.exploitability",
    "arena.games.policy",
    "arena.games.tree",
]
FREEZE = "arena.tournaments.preloaded"  # imported last: it takes an early server's plan and freezes the rest
PLAN = "ARENA_FORKSERVER_PLAN"  # in an early server's environment: "PID:FIFO", its command and where its plan comes
multiprocessing.get_context("forkserver").set_forkserver_preload([*PRELOAD, FREEZE])


class _Early:
    """A server started before its preload was known: the FIFO of its plan, which this process holds open (read and
    write) so that the plan waits in it until the server reads it, and the environment the server started with."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="arena-forkserver-")
        self.path = os.path.join(self.folder, "plan")
        os.mkfifo(self.path, 0o600)
        self.fd = os.open(self.path, os.O_RDWR)
        self.environ = dict(os.environ)
        self.sent = False

    def send(self, modules: list[str]) -> None:
        """The rest of the preload, and the variables set or unset since the server started."""
        now = os.environ
        plan = {
            "modules": modules,
            "environ": {name: value for name, value in now.items() if self.environ.get(name) != value},
            "unset": [name for name in self.environ if name not in now],
        }
        os.write(self.fd, json.dumps(plan).encode() + b"\n")  # a pipe holds 64 KB: this never waits
        self.sent = True

    def close(self) -> None:
        os.close(self.fd)
        shutil.rmtree(self.folder, ignore_errors=True)  # the server removes it once it has opened the FIFO


_early: _Early | None = None


def _server_pid() -> int | None:
    return getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)


def start(workers: bool = True, probes: bool = False, envs: Iterable[str] = ()) -> None:
    """Start the forkserver for the `arena tournament` command now (or send the one started early the rest of its
    preload); it goes on importing in the background what the run's processes need: the workers' and the check's
    modules with `workers`, `PROBES` with `probes`, and the modules of the run's `envs` (OpenSpiel, PettingZoo, torch
    for particle worlds), which the check and every worker would each import otherwise. (`PRELOAD`, the default for
    scripts, adds `arena.tournaments.run`, which a script's children import again with the script.)"""
    preload = list(dict.fromkeys((COMMAND if workers else []) + (PROBES if probes else []) + list(envs)))
    multiprocessing.get_context("forkserver").set_forkserver_preload([*preload, FREEZE])  # if it must start again
    if _early is not None and not _early.sent:
        _early.send([name for name in preload if name not in COMMAND])
        return
    multiprocessing.forkserver.ensure_running()


def start_early() -> None:
    """Start the forkserver before the command knows its config: it imports `COMMAND`, then waits for `start` to
    send the rest. Nothing if a server already runs."""
    global _early
    if _early is not None or _server_pid() is not None:
        return
    early = _Early()
    try:
        forks = _one_thread() and sys.version_info < (3, 14)  # 3.14's server starts with an authentication key
        (_fork_server if forks else _spawn_server)([*COMMAND, FREEZE], early)
    except BaseException:
        early.close()
        raise
    _early = early


def _one_thread() -> bool:
    """Whether this process runs a single thread, C threads included (Linux's view; elsewhere, not known)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _spawn_server(preload: list[str], early: _Early) -> None:
    """Start the forkserver multiprocessing's way, a new interpreter, with the early server's plan."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(preload)
    os.environ[PLAN] = f"{os.getpid()}:{early.path}"
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        del os.environ[PLAN]


def _fork_server(preload: list[str], early: _Early) -> None:
    """Start the forkserver as a fork of this process rather than a new interpreter (multiprocessing's own way):
    it skips the interpreter's start-up and the imports this process has made (30-40 ms before its preload
    begins). Only for a process that runs no other thread (one could hold a lock the fork would copy held); its
    output is flushed first, so that none of it is written twice. The server is this process's child and takes the
    same requests as one that `ensure_running` starts (its address, "alive" pipe and pid are where multiprocessing
    keeps them, as `ensure_running` does); multiprocessing starts its resource tracker with the first child it is
    asked for, not before (a run whose server is killed unused waits for none to start and end)."""
    server: Any = multiprocessing.forkserver._forkserver
    connection: Any = multiprocessing.connection
    sys.stdout.flush()
    sys.stderr.flush()
    with server._lock, socket.socket(socket.AF_UNIX) as listener:
        address = connection.arbitrary_address("AF_UNIX")
        listener.bind(address)
        if not multiprocessing.util.is_abstract_socket_namespace(address):
            os.chmod(address, 0o600)
        listener.listen()
        alive_r, alive_w = os.pipe()
        command = os.getpid()  # the server may outlive it, even before it has run a line
        pid = os.fork()
        if pid == 0:  # the server: it never returns into the command's code
            code = 1
            try:
                os.close(alive_w)
                os.close(early.fd)
                os.environ[PLAN] = f"{command}:{early.path}"
                multiprocessing.forkserver.main(listener.fileno(), alive_r, preload)
            except SystemExit:  # how main ends, once every process that could ask for a child has ended
                code = 0
            except Exception:  # said as a spawned server would say it
                sys.excepthook(*sys.exc_info())
                sys.stderr.flush()
            finally:
                os._exit(code)
        os.close(alive_r)
        server._forkserver_address = address
        server._forkserver_alive_fd = alive_w
        server._forkserver_pid = pid


def stop_early() -> None:
    """The command is done with the server `start_early` started. One that was never sent its plan (bad arguments, a
    run that starts no process) is killed: it exits at once instead of finishing imports that nobody needs while it
    holds the command's output streams. It is waited for but not reaped, so that a later `start` in this process
    sees it gone and starts another. One that was sent its plan is an ordinary server now, which ends with its
    coordinator."""
    global _early
    early, _early = _early, None
    if early is None:
        return
    early.close()
    pid = _server_pid()
    if not early.sent and pid is not None:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def take_plan() -> None:
    """In the server, once it has imported `COMMAND`: wait for the plan `start` sends (a server that `start_early`
    did not start has none), set its variables and import its modules. A command that dies first leaves none: the
    server goes on without, and ends with the command."""
    command, _, path = os.environ.pop(PLAN, "").partition(":")
    if not path:
        return
    plan = _read_plan(path, int(command))
    os.environ.update(plan.get("environ", {}))
    for name in plan.get("unset", []):
        os.environ.pop(name, None)
    for module in plan.get("modules", []):
        with contextlib.suppress(ImportError):  # as the server's own preload: the process that needs it will say
            importlib.import_module(module)


def _read_plan(path: str, command: int) -> dict[str, Any]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # never waits: the command may be gone
    except OSError:
        return {}
    with contextlib.suppress(OSError):
        os.unlink(path)
        os.rmdir(os.path.dirname(path))
    data = b""
    try:
        while not data.endswith(b"\n"):
            if not select.select([fd], [], [], 0.1)[0]:
                if os.getppid() != command:
                    return {}
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:  # every writer closed: the command ended without a plan
                return {}
            data += chunk
    finally:
        os.close(fd)
    return json.loads(data)
