"""Where matches run: in this process, in local worker processes, or on a Ray cluster, and the loop that feeds them.

Every pool hands chunks of `MatchTask`s to workers (`worker.MatchRunner`) and gets back `ChunkReply`s of encoded
rows. Chunks are sized to about CHUNK_SECONDS of work, so there are few round-trips and little is lost to a kill.
A worker left with a stuck agent thread finishes its row, gives back the rest of its chunk and is replaced by a
fresh one. A local worker announces every agent call on its `Beacon`; from it the coordinator's loop knows, when a
worker dies (`os._exit`, a segfault in an agent's C code), whose call killed it, and records that match as that
agent's forfeit (`agent_error`), and it kills and replaces a worker whose agent holds a move past the time limit
plus WATCHDOG_GRACE (C code that keeps the GIL, which no thread can interrupt), recording the agent's time-out.
The rest of the chunk is played again normally. A death no beacon explains has its chunk retried one match at a
time; a match that kills a worker twice so is given up and reported. A worker that dies before it is ready stops
the run with one line. Chunks go to local workers from a sender thread each, so that a large chunk and a large
reply never wait on each other.
"""

from __future__ import annotations

import abc
import collections
import contextlib
import gc
import itertools
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import arena.tournaments.forkserver  # noqa: F401 - it sets the forkserver's preload
from arena.errors import ArenaError
from arena.isolation import isolated
from arena.specs import AgentSpec
from arena.tournaments.protocol import Beacon, ChunkReply, MatchSettings, pack_chunk, unpack_chunk
from arena.tournaments.records import Row
from arena.tournaments.schedule import MatchTask

if TYPE_CHECKING:
    from arena.tournaments.worker import MatchRunner

CHUNK_SECONDS = 0.25  # aim for chunks of about this much work: few round-trips, little lost to a kill
MAX_CHUNK = 1024
IN_FLIGHT = 2  # chunks queued per worker so that it never waits for the coordinator
WATCHDOG_GRACE = 2.0  # seconds past the move time limit before a worker whose agent holds its move is killed


class EngineError(ArenaError):
    """A match could not be run for a reason that is not an agent's fault (a broken env, a lost cluster)."""


def _runner(*args: Any, **kwargs: Any) -> MatchRunner:
    """A `MatchRunner`, its module imported on first use: the coordinator of worker processes plays no match, so
    it never loads the match loop, PettingZoo or the envs' modules."""
    from arena.tournaments.worker import MatchRunner

    return MatchRunner(*args, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# The coordinator: one loop for every pool of workers


class _Pool(abc.ABC):
    """Workers that take chunks; subclasses say how they start, receive and report."""

    size: int
    args: tuple[dict[str, AgentSpec], MatchSettings, list[str]]

    @abc.abstractmethod
    def start(self) -> Any:
        raise NotImplementedError

    @abc.abstractmethod
    def submit(self, worker: Any, chunk: list[MatchTask], suspect: bool = False) -> None:
        """Queue `chunk` on `worker`; a `suspect` chunk is one match that a worker died in before."""
        raise NotImplementedError

    @abc.abstractmethod
    def wait(self, workers: list[Any], timeout: float) -> list[tuple[Any, ChunkReply | None]]:
        """Replies that arrived (None for a worker that died), at most `timeout` seconds from now."""
        raise NotImplementedError

    @abc.abstractmethod
    def retire(self, worker: Any) -> None:
        raise NotImplementedError

    def position(self, worker: Any) -> tuple[int, int, float, bool] | None:
        """Where `worker` is in its oldest unanswered chunk: (match index, player being called or -1, since when,
        whether the call is timed); None where the pool cannot tell."""
        return None

    def death_position(self, worker: Any) -> tuple[int, int, float, bool] | None:
        """Where a worker that has just died was, if the pool can still tell (a local worker's shared beacon)."""
        return self.position(worker)

    def silent(self, worker: Any, limit: float) -> bool:
        """Whether a busy worker has stopped answering the watchdog's probes past the limit (never, by default)."""
        return False

    def death(self, worker: Any) -> str:
        """How a dead worker ended, for the record of the match that killed it."""
        return "died"

    def kill(self, worker: Any) -> None:
        """Stop `worker` at once, whatever it is doing (the watchdog's last resort; `retire` follows)."""
        self.retire(worker)

    def close(self, workers: list[Any]) -> None:
        for worker in workers:
            self.retire(worker)


@dataclass
class RunSummary:
    """What a backend run did beyond the rows it delivered."""

    played: int = 0
    replaced_workers: int = 0
    given_up: list[str] = field(default_factory=list)


class _Driver:
    """Hands out chunks sized to about CHUNK_SECONDS of work and collects the rows."""

    def __init__(
        self,
        pool: _Pool,
        tasks: Iterator[MatchTask],
        count: int,
        on_rows: Callable[[list[Row]], None],
        on_pause: Callable[[bool], None] | None = None,
    ) -> None:
        self.pool, self.on_rows, self.on_pause = pool, on_rows, on_pause
        self.source, self.remaining = tasks, count  # matches not handed out yet (`count` may be a floor)
        self.drained = False  # the schedule has no match left to hand out
        self.pending: collections.deque[MatchTask] = collections.deque()  # matches handed back, played first
        self.in_flight: dict[int, collections.deque[list[MatchTask]]] = {}
        self.suspects: set[str] = set()
        self.summary = RunSummary()
        self.match_seconds: float | None = None
        self.judge: MatchRunner | None = None  # builds the envs (never the agents) of matches a worker lost

    def lost(self, task: MatchTask, player: int, termination: str, why: str) -> None:
        """Record `task` as lost by the agent of `player`."""
        if self.judge is None:
            self.judge = _runner(*self.pool.args)
        self.on_rows([self.judge.lost(task, player, termination, why)])
        self.summary.played += 1

    def chunk_size(self) -> int:
        if self.match_seconds is None:
            return 1
        size = int(CHUNK_SECONDS / max(self.match_seconds, 1e-6))
        fair = (len(self.pending) + self.remaining) // (IN_FLIGHT * self.pool.size) or 1
        return max(1, min(MAX_CHUNK, size, fair))

    def take(self, size: int) -> list[MatchTask]:
        """Up to `size` matches: those handed back first (a suspect alone), then fresh ones from the schedule."""
        if self.pending:
            if self.pending[0].match_id in self.suspects:
                return [self.pending.popleft()]
            return [self.pending.popleft() for _ in range(min(size, len(self.pending)))]
        chunk = list(itertools.islice(self.source, size))
        self.remaining = max(self.remaining - len(chunk), 0)
        self.drained = len(chunk) < size
        return chunk

    def feed(self, worker: Any) -> None:
        queue = self.in_flight.setdefault(id(worker), collections.deque())
        while len(queue) < IN_FLIGHT:
            chunk = self.take(self.chunk_size())
            if not chunk:
                return
            queue.append(chunk)
            self.pool.submit(worker, chunk, suspect=len(chunk) == 1 and chunk[0].match_id in self.suspects)

    def requeue(self, tasks: list[MatchTask]) -> None:
        self.pending.extendleft(reversed(tasks))

    def run(self) -> RunSummary:
        self.pool.size = min(self.pool.size, max(self.remaining, 1))  # never more workers than matches
        workers = [self.pool.start() for _ in range(self.pool.size)]
        limit = self.pool.args[1].move_time_limit
        # What the process holds when the matches start stays out of the collections that the rows passing through
        # here set off (its oldest generation's: 0.7 us a Kuhn match); a caller's own freeze is left as it is
        frozen = not gc.get_freeze_count()
        if frozen:
            gc.freeze()
        try:
            for worker in workers:
                self.feed(worker)
            idle_since = time.monotonic()
            while any(self.in_flight.get(id(w)) for w in workers):
                replies = self.pool.wait(workers, timeout=0.1 if limit is not None else 0.5)
                if replies:
                    idle_since = time.monotonic()
                elif self.on_pause and time.monotonic() - idle_since >= 0.5:
                    self.on_pause(True)
                    idle_since = time.monotonic()
                for worker, reply in replies:
                    chunk = self.in_flight[id(worker)].popleft()
                    if reply is None or reply.stuck:
                        workers[workers.index(worker)] = self._replace(worker, chunk, reply)
                        continue
                    self._deliver(chunk, reply)
                    self.feed(worker)
                if replies and self.on_pause:  # those that replied have their next chunks: the caller may write
                    self.on_pause(self.drained)  # now without holding up a worker (all it holds, once drained)
                if limit is not None:
                    for worker in list(workers):
                        overdue, where = self._overdue(worker, limit)
                        if overdue:
                            chunk = self.in_flight[id(worker)].popleft()
                            workers[workers.index(worker)] = self._replace(worker, chunk, None, limit, where)
        finally:
            if frozen:
                gc.unfreeze()
            self.pool.close(workers)
        return self.summary

    def _overdue(self, worker: Any, limit: float) -> tuple[bool, tuple[int, int, float, bool] | None]:
        """Whether `worker`'s agent has held a timed call past the limit and the watchdog's grace (and where), or
        the worker has stopped answering the watchdog at all (where unknown)."""
        if not self.in_flight.get(id(worker)):
            return False, None
        where = self.pool.position(worker)
        if where is not None:
            _, player, since, timed = where
            if player >= 0 and timed and time.monotonic() - since > limit + WATCHDOG_GRACE:
                return True, where
        return self.pool.silent(worker, limit), None

    def _deliver(self, chunk: list[MatchTask], reply: ChunkReply) -> None:
        if reply.rows:
            self.on_rows(reply.rows)
            self.summary.played += len(reply.rows)
            seconds = reply.seconds / len(reply.rows)
            self.match_seconds = seconds if self.match_seconds is None else 0.7 * self.match_seconds + 0.3 * seconds
        if reply.failure:
            raise EngineError(reply.failure)
        if reply.tainted is not None:  # played again once, by a fresh worker; tainted twice, it is given up
            if reply.tainted.match_id in self.suspects:
                self.summary.given_up.append(reply.tainted.match_id)
            else:
                self.suspects.add(reply.tainted.match_id)
                self.requeue([reply.tainted])
        self.requeue(reply.unplayed)

    def _replace(
        self,
        worker: Any,
        chunk: list[MatchTask],
        reply: ChunkReply | None,
        killed: float | None = None,
        overdue: tuple[int, int, float, bool] | None = None,
    ) -> Any:
        """Retire a stuck, dead or overdue (`killed` at that time limit) worker, record the match its agent lost,
        put the rest of its work back, start a fresh one."""
        leftovers = [t for c in self.in_flight.pop(id(worker), ()) for t in c]
        if reply is not None:
            where = None
        elif killed is not None:
            where = overdue  # the call that made the watchdog kill it (None: the worker had gone silent)
        else:
            where = self.pool.death_position(worker)
        if killed is not None:
            self.pool.kill(worker)
        if reply is not None:  # stuck: the rows it finished are good
            self._deliver(chunk, reply)
        elif where is not None and where[1] >= 0 and where[0] < len(chunk):  # the beacon names the culprit
            index, player = where[0], where[1]
            if killed is not None:
                why = (
                    f"exceeded the {killed}s move time limit; its move held the worker process, "
                    "which was killed and replaced"
                )
                self.lost(chunk[index], player, "time_limit", why)
            else:
                self.lost(
                    chunk[index], player, "agent_error", f"made its worker process die ({self.pool.death(worker)})"
                )
            leftovers[:0] = chunk[:index] + chunk[index + 1 :]  # finished or not started: played again
        else:  # died outside any agent call: retry its matches one by one; one that kills a worker again is given up
            for task in reversed(chunk):
                if task.match_id in self.suspects:
                    self.summary.given_up.append(task.match_id)
                else:
                    self.suspects.add(task.match_id)
                    leftovers.insert(0, task)
        self.requeue(leftovers)
        self.pool.retire(worker)
        self.summary.replaced_workers += 1
        fresh = self.pool.start()
        self.feed(fresh)
        return fresh


# ---------------------------------------------------------------------------------------------------------------
# In-process


class InProcessPool(_Pool):
    """Matches run in the calling process, one chunk at a time (for debugging and for tiny tournaments)."""

    size = 1

    def __init__(self, agent_specs: dict[str, AgentSpec], settings: MatchSettings, secrets: list[str]) -> None:
        self.args = (agent_specs, settings, secrets)
        self.queued: dict[int, collections.deque[list[MatchTask]]] = {}

    def start(self) -> MatchRunner:
        runner = _runner(*self.args)
        self.queued[id(runner)] = collections.deque()
        return runner

    def submit(self, worker: MatchRunner, chunk: list[MatchTask], suspect: bool = False) -> None:
        self.queued[id(worker)].append(chunk)

    def wait(self, workers: list[MatchRunner], timeout: float) -> list[tuple[Any, ChunkReply | None]]:
        for worker in workers:
            if self.queued.get(id(worker)):
                return [(worker, worker.run_chunk(self.queued[id(worker)].popleft()))]
        return []

    def retire(self, worker: MatchRunner) -> None:
        self.queued.pop(id(worker), None)
        worker.close()


# ---------------------------------------------------------------------------------------------------------------
# Local worker processes


def _worker_main(
    conn: multiprocessing.connection.Connection,
    cells: Any,
    agent_specs: dict[str, AgentSpec],
    settings: MatchSettings,
    secrets: list[str],
) -> None:
    """A worker process: plays the chunks it receives until told to stop or the coordinator goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
    runner = _runner(agent_specs, settings, secrets, beacon=Beacon(cells), in_worker=True)
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message is None:
            break
        seq, chunk = message
        reply = runner.run_chunk(unpack_chunk(chunk), seq)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            break
        if reply.stuck:
            os._exit(0)  # an agent thread is stuck in C code: this process cannot be trusted with more matches
    runner.close()


@dataclass(eq=False)
class _Process:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    beacon: Beacon
    outbox: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    sent: collections.deque[int] = field(default_factory=collections.deque)  # numbers of unanswered chunks
    ready: bool = False
    sender: threading.Thread | None = None

    def send_all(self) -> None:
        """The sender thread: chunks (and the final None) go out in order while the coordinator reads replies."""
        while True:
            message = self.outbox.get()
            try:
                self.conn.send(message)
            except (BrokenPipeError, OSError, ValueError):  # a dead worker is reported by wait()
                return
            if message is None:
                return

    def post(self, message: Any) -> None:
        if self.sender is None:
            self.sender = threading.Thread(target=self.send_all, daemon=True, name="arena-sender")
            self.sender.start()
        self.outbox.put(message)


START_FAILURE = (
    "a worker process exited as it started ({how}); when a script calls run_tournament, its top level must be "
    'under `if __name__ == "__main__":` (worker processes import the main script)'
)


class LocalPool(_Pool):
    """Worker processes on this machine (forkserver: each starts from a clean, pre-imported process)."""

    def __init__(
        self, size: int, agent_specs: dict[str, AgentSpec], settings: MatchSettings, secrets: list[str]
    ) -> None:
        self.size = size
        self.args = (agent_specs, settings, secrets)
        self.context = multiprocessing.get_context("forkserver")
        self.seq = 0
        self.started = 0

    def start(self) -> _Process:
        main = sys.modules.get("__main__")
        if getattr(main, "__name__", None) == "__mp_main__":  # a worker re-importing an unguarded main script
            raise EngineError(START_FAILURE.format(how="it ran the main script again"))
        parent, child = self.context.Pipe()
        cells = self.context.RawArray("d", Beacon.SIZE)
        beacon = Beacon(cells)
        beacon.chunk(-1)
        process = self.context.Process(
            target=_worker_main, args=(child, cells, *self.args), daemon=True, name="arena-worker"
        )
        process.start()
        self.started += 1
        child.close()
        return _Process(process, parent, beacon)

    def submit(self, worker: _Process, chunk: list[MatchTask], suspect: bool = False) -> None:
        self.seq += 1
        worker.sent.append(self.seq)
        worker.post((self.seq, pack_chunk(chunk)))

    def position(self, worker: _Process) -> tuple[int, int, float, bool] | None:
        if not worker.sent:
            return None
        seq, index, player, since, timed = worker.beacon.read()
        return (index, player, since, timed) if seq == worker.sent[0] and index >= 0 else None

    def death(self, worker: _Process) -> str:
        worker.process.join(timeout=1.0)
        code = worker.process.exitcode
        if code is None:
            return "it stopped answering"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by signal {signal.Signals(-code).name}"
            return f"killed by signal {-code}"
        return f"exit code {code}"

    def kill(self, worker: _Process) -> None:
        worker.process.kill()
        worker.process.join()

    def wait(self, workers: list[_Process], timeout: float) -> list[tuple[Any, ChunkReply | None]]:
        by_handle: dict[Any, _Process] = {}
        for w in workers:
            by_handle[w.conn] = w
            by_handle[w.process.sentinel] = w
        ready = multiprocessing.connection.wait(list(by_handle), timeout)
        replies, seen = [], set()
        for handle in ready:
            worker = by_handle[handle]
            if worker in seen:
                continue
            seen.add(worker)
            if worker.conn.poll():
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    pass
                else:
                    if message == "ready":
                        worker.ready = True
                    else:
                        worker.sent.popleft()
                        replies.append((worker, message))
                    continue
            if not worker.process.is_alive():
                if not worker.ready:
                    raise EngineError(START_FAILURE.format(how=self.death(worker)))
                replies.append((worker, None))
        return replies

    def retire(self, worker: _Process) -> None:
        worker.post(None)
        if worker.sender is not None:
            worker.sender.join(timeout=1.0)
        worker.process.join(timeout=1.0)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def close(self, workers: list[_Process]) -> None:
        for worker in workers:  # ask all first, so that they wind down together
            worker.post(None)
        deadline = time.monotonic() + 2.0
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


# ---------------------------------------------------------------------------------------------------------------
# Ray


class RayPool(_Pool):
    """Ray actors, each holding a MatchRunner: a local cluster, or the one at `address` (`ray://...` or host:port).

    Each actor answers `position` probes beside its chunks (a concurrency group of their own): from them the
    coordinator's watchdog sees a move held past the time limit, and an actor that stops answering at all (C code
    that keeps the GIL) is killed. A Ray actor's death leaves no beacon to read, so the matches of a dead or silent
    actor are played again one at a time with every agent in a process of its own (`process:SPEC`), where the
    agent that kills or freezes its process forfeits by name. The cluster's nodes need arena (and the agents' own
    packages) installed.
    """

    def __init__(
        self,
        size: int,
        agent_specs: dict[str, AgentSpec],
        settings: MatchSettings,
        secrets: list[str],
        address: str | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise EngineError("the ray backend needs Ray: pip install 'arena-games[ray]'") from None
        self.ray = ray
        if not ray.is_initialized():
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise EngineError(
                    f"cannot connect to the Ray cluster at {address or 'a new local cluster'}: "
                    f"{str(exc).splitlines()[0] if str(exc) else exc}"
                ) from None
        self.size = size or max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote: Any = ray.remote  # its typed overloads lack concurrency_groups
        self.actor_class = remote(num_cpus=1, max_restarts=0, concurrency_groups={"probe": 1})(_RayWorker)
        self.args = (agent_specs, settings, secrets)
        self.futures: dict[Any, tuple[Any, Any]] = {}
        self.sent: dict[Any, collections.deque[int]] = {}
        self.probes: dict[Any, _Probe] = {}
        self.seq = 0

    def start(self) -> Any:
        worker = self.actor_class.remote(*self.args)
        self.sent[worker] = collections.deque()
        self.probes[worker] = _Probe()
        return worker

    def submit(self, worker: Any, chunk: list[MatchTask], suspect: bool = False) -> None:
        self.seq += 1
        self.sent[worker].append(self.seq)
        self.futures[worker.run_chunk.remote(chunk, self.seq, suspect)] = worker

    def wait(self, workers: list[Any], timeout: float) -> list[tuple[Any, ChunkReply | None]]:
        if not self.futures:
            return []
        # Replies of one worker must come back in the order its chunks were sent.
        heads: dict[Any, Any] = {}
        for future, worker in self.futures.items():
            heads.setdefault(worker, future)
        ready, _ = self.ray.wait(list(heads.values()), num_returns=1, timeout=timeout)
        replies = []
        for future in ready:
            worker = self.futures.pop(future)
            self.sent[worker].popleft()
            try:
                replies.append((worker, self.ray.get(future)))
            except (self.ray.exceptions.RayActorError, self.ray.exceptions.WorkerCrashedError):
                replies.append((worker, None))
        return replies

    def position(self, worker: Any) -> tuple[int, int, float, bool] | None:
        """The last answer to a probe about the oldest unanswered chunk; a new probe goes out when none is out.
        Only the watchdog trusts it: after a death it may be stale, so `death_position` says nothing."""
        probe, sent = self.probes[worker], self.sent[worker]
        now = time.monotonic()
        if probe.future is not None:
            ready, _ = self.ray.wait([probe.future], num_returns=1, timeout=0)
            if ready:
                try:
                    probe.answer = self.ray.get(ready[0])
                except self.ray.exceptions.RayError:
                    probe.answer = None
                probe.future, probe.answered = None, now
        if probe.future is None:
            probe.future, probe.asked = worker.position.options(concurrency_group="probe").remote(), now
        if probe.answer is None or not sent:
            return None
        seq, index, player, held, timed = probe.answer
        if seq != sent[0] or index < 0:
            return None
        return index, player, probe.answered - held, timed

    def silent(self, worker: Any, limit: float) -> bool:
        """Whether `worker`, which has answered probes before, has left one unanswered past the limit and grace."""
        probe = self.probes[worker]
        return (
            probe.future is not None
            and probe.answered > 0
            and bool(self.sent[worker])
            and time.monotonic() - probe.asked > limit + WATCHDOG_GRACE
        )

    def death_position(self, worker: Any) -> None:
        return None

    def retire(self, worker: Any) -> None:
        for future in [f for f, w in self.futures.items() if w is worker]:
            del self.futures[future]
        self.sent.pop(worker, None)
        self.probes.pop(worker, None)
        self.ray.kill(worker, no_restart=True)

    def close(self, workers: list[Any]) -> None:
        for worker in workers:
            self.retire(worker)


@dataclass
class _Probe:
    """The coordinator's last `position` question to a Ray actor and its answer."""

    future: Any = None
    asked: float = 0.0
    answered: float = 0.0
    answer: tuple[int, int, int, float, bool] | None = None


class _RayWorker:
    """A Ray actor around a MatchRunner; suspect matches are played by a second one whose agents run isolated."""

    def __init__(self, agent_specs: dict[str, AgentSpec], settings: MatchSettings, secrets: list[str]) -> None:
        self.beacon = Beacon()
        self.beacon.chunk(-1)
        self.runner = _runner(agent_specs, settings, secrets, beacon=self.beacon, in_worker=True)
        self.isolated_specs = {name: isolated(spec) for name, spec in agent_specs.items()}
        self.isolated: MatchRunner | None = None
        self.args = (settings, secrets)

    def run_chunk(self, chunk: list[MatchTask], seq: int, suspect: bool) -> ChunkReply:
        if not suspect:
            return self.runner.run_chunk(chunk, seq)
        if self.isolated is None:
            self.isolated = _runner(self.isolated_specs, *self.args, beacon=self.beacon, in_worker=True)
        return self.isolated.run_chunk(chunk, seq)

    def position(self) -> tuple[int, int, int, float, bool]:
        """(chunk, match index, player, seconds the current call has been held, timed), read beside a chunk."""
        seq, index, player, since, timed = self.beacon.read()
        return seq, index, player, time.monotonic() - since if player >= 0 else 0.0, timed


def make_pool(
    backend: str,
    workers: int,
    agent_specs: dict[str, AgentSpec],
    settings: MatchSettings,
    secrets: list[str],
    ray_address: str | None = None,
) -> _Pool:
    """The pool for a backend name: inprocess, local or ray."""
    if backend == "inprocess":
        return InProcessPool(agent_specs, settings, secrets)
    if backend == "local":
        return LocalPool(workers or os.cpu_count() or 1, agent_specs, settings, secrets)
    if backend == "ray":
        return RayPool(workers, agent_specs, settings, secrets, ray_address)
    raise ArenaError(f"unknown backend {backend!r}; use inprocess, local or ray")


def run_matches(
    pool: _Pool,
    tasks: Iterable[MatchTask],
    count: int,
    on_rows: Callable[[list[Row]], None],
    on_pause: Callable[[bool], None] | None = None,
) -> RunSummary:
    """Play `tasks` (about `count` of them, taken from the iterable as workers need them) on `pool`, calling
    `on_rows` with each finished chunk's rows as it arrives (before the next chunk is handed out, so that a budget
    it counts stops the hand-out in time) and `on_pause` when the caller may write what it holds without holding up
    a worker: after the workers that replied have their next chunks (`on_pause(True)` once no match is left to
    hand out: write it all) and after half a second without a reply (`True`)."""
    if count <= 0:
        return RunSummary()
    return _Driver(pool, iter(tasks), count, on_rows, on_pause).run()
