"""Where matches run: in this process, in local worker processes, or on a Ray cluster.

Every backend hands chunks of `MatchTask`s to workers. A worker is a `MatchRunner` that builds each env and each
agent once and reuses them for every match it plays (`arena.match.play` resets agents at the start of a match), and
returns one plain row per match, ready for the results store. A match whose agent could not be interrupted at the
time limit leaves a thread running inside its worker; that worker finishes the row, gives back the rest of its
chunk and is replaced by a fresh one. A worker that dies (a crash inside an agent's C code) has its chunk
retried one match at a time; a match that kills a worker twice is given up and reported.
"""

from __future__ import annotations

import abc
import collections
import contextlib
import dataclasses
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pettingzoo import ParallelEnv

from arena.core import Agent, ArenaError, MatchResult, Observation
from arena.match import agent_seed, forfeit_payoffs, outcomes_from_payoffs, play
from arena.registry import make_agent, make_env
from arena.tournaments.schedule import MatchTask, seat_groups

CHUNK_SECONDS = 0.25  # aim for chunks of about this much work: few round-trips, little lost to a kill
MAX_CHUNK = 256
IN_FLIGHT = 2  # chunks queued per worker so that it never waits for the coordinator


class EngineError(ArenaError):
    """A match could not be run for a reason that is not an agent's fault (a broken env, a lost cluster)."""


# ---------------------------------------------------------------------------------------------------------------
# Playing matches inside a worker


class RoundLog:
    """A Parallel env seen through a recorder of every round: joint action, full-information feedback, policies.

    Repeated matrix games put `action_payoffs` (what each of a player's actions would have earned against the
    others' actual actions) in `info`; regret is computed from it. An agent that exposes `action_probs` also has
    its mixed strategy of each round recorded, so that its regret is the expected one of Park et al.; for other
    agents the action played stands for the strategy.
    """

    def __init__(self, env: Any) -> None:
        self.env = env
        self.seated: list[Agent] = []
        self.rounds: list[dict[str, Any]] = []
        self.has_feedback: bool | None = None  # learned on the first round

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        self.rounds = []
        self._observations, self._infos = self.env.reset(seed=seed, options=options)
        return self._observations, self._infos

    def _policy(self, seat: int, player: str) -> list[float] | None:
        agent = self.seated[seat]
        if not type(agent).has_action_probs() or player not in self._infos:
            return None
        try:
            obs = Observation(
                player=player, observation=self._observations[player], info=self._infos[player], step=len(self.rounds)
            )
            return [float(p) for p in agent.action_probs(obs)]
        except Exception:  # a policy we cannot read is simply not recorded
            return None

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        players = self.env.possible_agents
        record = self.has_feedback is not False
        policies = [self._policy(i, p) for i, p in enumerate(players)] if record else None
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        if record:
            payoffs = [infos.get(p, {}).get("action_payoffs") for p in players]
            self.has_feedback = any(v is not None for v in payoffs)
            if self.has_feedback:
                self.rounds.append(
                    {
                        "actions": [int(actions[p]) if p in actions else None for p in players],
                        "action_payoffs": [None if v is None else np.asarray(v, dtype=float).tolist() for v in payoffs],
                        "policies": policies,
                    }
                )
        self._observations, self._infos = observations, infos
        return observations, rewards, terminations, truncations, infos

    def rounds_payload(self) -> dict[str, Any] | None:
        """Per-seat arrays of the match's rounds; None for one-shot games and envs without the feedback."""
        if not self.has_feedback or len(self.rounds) < 2:  # regret is about repeated play
            return None
        n = len(self.env.possible_agents)
        return {
            "actions": [[r["actions"][s] for r in self.rounds] for s in range(n)],
            "action_payoffs": [[r["action_payoffs"][s] for r in self.rounds] for s in range(n)],
            "policies": [
                None if any(r["policies"][s] is None for r in self.rounds) else [r["policies"][s] for r in self.rounds]
                for s in range(n)
            ],
        }


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        text = text.replace(value, "***")
    return text


_JSON_MEMO: dict[tuple[tuple[Any, ...], ...], tuple[str, ...]] = {}


def _per_seat_json(*lists: Iterable[Any]) -> tuple[str, ...]:
    """JSON texts of a match's per-seat lists; the few distinct combinations a tournament has are encoded once."""
    key = tuple(map(tuple, lists))
    texts = _JSON_MEMO.get(key)
    if texts is None:
        if len(_JSON_MEMO) > 10_000:
            _JSON_MEMO.clear()
        texts = _JSON_MEMO[key] = tuple(json.dumps(list(values)) for values in key)
    return texts


def _stats_json(stats: list[dict[str, Any]]) -> str:
    """JSON text of the agents' match statistics (most agents keep none: that text is built without json)."""
    if any(stats):
        return json.dumps(stats, default=str)
    return "[" + ", ".join(["{}"] * len(stats)) + "]"


def result_row(
    task: MatchTask, result: MatchResult, rounds: dict[str, Any] | None, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """The store's row for one match (JSON text for the per-seat lists)."""
    seats, payoffs, outcomes, illegal, timeouts, errors, fallbacks = _per_seat_json(
        task.seats,
        result.payoffs,
        result.outcomes,
        result.illegal_moves,
        result.timeouts,
        result.errors,
        result.random_fallbacks,
    )
    return {
        "match_id": task.match_id,
        "env": task.env,
        "seats": seats,
        "idx": task.index,
        "seed": task.seed,
        "payoffs": payoffs,
        "outcomes": outcomes,
        "termination": result.termination,
        "culprit": result.culprit,
        "message": _scrub(result.message, secrets),
        "length": result.length,
        "illegal_moves": illegal,
        "timeouts": timeouts,
        "errors": errors,
        "random_fallbacks": fallbacks,
        "wall_time": result.wall_time,
        "agent_stats": _stats_json(result.agent_stats),
        "stuck": int(result.stuck_agent),
        "rounds": None if rounds is None else json.dumps(rounds, separators=(",", ":")),
    }


def team_result(result: MatchResult, groups: list[list[int]], env: Any) -> MatchResult:
    """A match seen team by team: each team's payoff is its members' sum, counters are summed, and a forfeiting
    player's team loses."""

    def per_team(values: list[Any]) -> list[Any]:
        return [sum(values[p] for p in members) for members in groups]

    payoffs = [float(p) for p in per_team(result.payoffs)]
    culprit = next((t for t, members in enumerate(groups) if result.culprit in members), None)
    if culprit is None:
        outcomes = outcomes_from_payoffs(payoffs, bool(getattr(env, "zero_sum", False)))
    else:
        outcomes = ["loss" if t == culprit else "win" for t in range(len(groups))]
    return dataclasses.replace(
        result,
        agents=[result.agents[members[0]] for members in groups],
        players=["+".join(result.players[p] for p in members) for members in groups],
        payoffs=payoffs,
        outcomes=outcomes,
        culprit=culprit,
        illegal_moves=per_team(result.illegal_moves),
        timeouts=per_team(result.timeouts),
        errors=per_team(result.errors),
        random_fallbacks=per_team(result.random_fallbacks),
        agent_stats=[_summed_stats([result.agent_stats[p] for p in members]) for members in groups],
    )


def _summed_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """Team members' statistics: numbers summed, anything else kept from the first member that has it."""
    out: dict[str, Any] = {}
    for entry in stats:
        for key, value in entry.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and key in out:
                out[key] += value
            else:
                out.setdefault(key, value)
    return out


@dataclass
class MatchSettings:
    """How every match of a tournament is played (passed to workers)."""

    move_time_limit: float | None = None
    illegal_moves: str = "forfeit"
    max_retries: int = 2
    max_steps: int | None = None
    teams: bool = True


@dataclass
class ChunkReply:
    """What a worker sends back for a chunk: finished rows, tasks it did not start, whether it must be replaced."""

    rows: list[dict[str, Any]]
    unplayed: list[MatchTask] = field(default_factory=list)
    stuck: bool = False
    failure: str | None = None


class MatchRunner:
    """Plays matches with envs and agents built once and reused; one per worker."""

    def __init__(self, agent_specs: dict[str, str], settings: MatchSettings, secrets: Iterable[str] = ()) -> None:
        self.agent_specs = agent_specs
        self.settings = settings
        self.secrets = list(secrets)
        self.envs: dict[str, Any] = {}
        self.groups: dict[str, list[list[int]]] = {}
        self.agents: dict[tuple[str, int], Agent] = {}
        self.lineups: dict[tuple[str, tuple[str, ...]], list[Agent]] = {}

    def env(self, spec: str) -> Any:
        if spec not in self.envs:
            env = make_env(spec)
            self.envs[spec] = RoundLog(env) if isinstance(env, ParallelEnv) else env
            self.groups[spec] = seat_groups(env, self.settings.teams)
        return self.envs[spec]

    def agent(self, name: str, copy: int) -> Agent:
        """The agent `name`; self-play seats and team members get separate copies that never share state."""
        key = (name, copy)
        if key not in self.agents:
            agent = make_agent(self.agent_specs[name])
            agent.name = name
            self.agents[key] = agent
        return self.agents[key]

    def lineup(self, env: Any, groups: list[list[int]], seats: tuple[str, ...]) -> list[Agent]:
        """The agent of every player when `seats` (one agent name per seat or team) sit down at `env`."""
        names = [""] * len(env.possible_agents)
        for seat, members in enumerate(groups):
            for player in members:
                names[player] = seats[seat]
        return [self.agent(name, names[:player].count(name)) for player, name in enumerate(names)]

    def play(self, task: MatchTask) -> tuple[dict[str, Any], bool]:
        """Play one match; returns its row and whether an agent thread is stuck in this process."""
        env = self.env(task.env)
        groups = self.groups[task.env]
        agents = self.lineups.get((task.env, task.seats))
        if agents is None:
            agents = self.lineups[task.env, task.seats] = self.lineup(env, groups, task.seats)
        players = env.possible_agents
        result = None
        for player, agent in enumerate(agents):
            try:
                agent.reset(agent_seed(task.seed, player), players[player], env.spec)
            except Exception as exc:  # a failure to start is the agent's forfeit, like a failure to move
                result = self._reset_failure(env, agents, player, exc)
                break
        if result is None:
            if isinstance(env, RoundLog):
                env.seated = agents
            s = self.settings
            result = play(
                env,
                agents,
                seed=task.seed,
                move_time_limit=s.move_time_limit,
                illegal_moves=s.illegal_moves,
                max_retries=s.max_retries,
                max_steps=s.max_steps,
                reset_agents=False,
            )
        if len(groups) == len(players):
            rounds = env.rounds_payload() if isinstance(env, RoundLog) and result.length else None  # none if unplayed
            return result_row(task, result, rounds, self.secrets), result.stuck_agent
        return result_row(task, team_result(result, groups, env), None, self.secrets), result.stuck_agent

    @staticmethod
    def _reset_failure(env: Any, agents: list[Agent], seat: int, exc: Exception) -> MatchResult:
        n = len(agents)
        errors = [0] * n
        errors[seat] = 1
        return MatchResult(
            env_id=env.spec.id,
            env_params=dict(env.spec.params),
            seed=None,
            agents=[a.name for a in agents],
            players=list(env.possible_agents),
            payoffs=forfeit_payoffs(env, seat, n),
            length=0,
            outcomes=["loss" if i == seat else "win" for i in range(n)],
            termination="agent_error",
            culprit=seat,
            message=f"{agents[seat].name} raised {type(exc).__name__} at reset: {str(exc)[:300]}",
            illegal_moves=[0] * n,
            timeouts=[0] * n,
            errors=errors,
            random_fallbacks=[0] * n,
            agent_stats=[{} for _ in agents],
        )

    def run_chunk(self, tasks: list[MatchTask]) -> ChunkReply:
        rows = []
        for i, task in enumerate(tasks):
            try:
                row, stuck = self.play(task)
            except Exception as exc:
                return ChunkReply(
                    rows,
                    list(tasks[i + 1 :]),
                    failure=f"match {task.match_id} ({task.env}, {' vs '.join(task.seats)}) failed: "
                    f"{type(exc).__name__}: {_scrub(str(exc), self.secrets)[:300]}",
                )
            rows.append(row)
            if stuck:
                return ChunkReply(rows, list(tasks[i + 1 :]), stuck=True)
        return ChunkReply(rows)

    def close(self) -> None:
        for agent in self.agents.values():
            with contextlib.suppress(Exception):  # closing must not hide the results
                agent.close()
        for env in self.envs.values():
            env.close()


# ---------------------------------------------------------------------------------------------------------------
# The coordinator: one loop for every pool of workers


class _Pool(abc.ABC):
    """Workers that take chunks; subclasses say how they start, receive and report."""

    size: int

    @abc.abstractmethod
    def start(self) -> Any:
        raise NotImplementedError

    @abc.abstractmethod
    def submit(self, worker: Any, chunk: list[MatchTask]) -> None:
        raise NotImplementedError

    @abc.abstractmethod
    def wait(self, workers: list[Any], timeout: float) -> list[tuple[Any, ChunkReply | None]]:
        """Replies that arrived (None for a worker that died), at most `timeout` seconds from now."""
        raise NotImplementedError

    @abc.abstractmethod
    def retire(self, worker: Any) -> None:
        raise NotImplementedError

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
        tasks: list[MatchTask],
        on_rows: Callable[[list[dict[str, Any]]], None],
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.pool, self.on_rows, self.on_idle = pool, on_rows, on_idle
        self.pending: collections.deque[MatchTask] = collections.deque(tasks)
        self.in_flight: dict[int, collections.deque[list[MatchTask]]] = {}
        self.suspects: set[str] = set()
        self.summary = RunSummary()
        self.match_seconds: float | None = None

    def chunk_size(self) -> int:
        if self.match_seconds is None:
            return 1
        size = int(CHUNK_SECONDS / max(self.match_seconds, 1e-6))
        fair = len(self.pending) // (IN_FLIGHT * self.pool.size) or 1
        return max(1, min(MAX_CHUNK, size, fair))

    def feed(self, worker: Any) -> None:
        queue = self.in_flight.setdefault(id(worker), collections.deque())
        while self.pending and len(queue) < IN_FLIGHT:
            size = 1 if self.pending[0].match_id in self.suspects else self.chunk_size()
            chunk = [self.pending.popleft() for _ in range(min(size, len(self.pending)))]
            queue.append(chunk)
            self.pool.submit(worker, chunk)

    def requeue(self, tasks: list[MatchTask]) -> None:
        self.pending.extendleft(reversed(tasks))

    def run(self) -> RunSummary:
        workers = [self.pool.start() for _ in range(self.pool.size)]
        try:
            for worker in workers:
                self.feed(worker)
            while any(self.in_flight.get(id(w)) for w in workers):
                replies = self.pool.wait(workers, timeout=0.5)
                if not replies and self.on_idle:
                    self.on_idle()
                for worker, reply in replies:
                    chunk = self.in_flight[id(worker)].popleft()
                    if reply is None or reply.stuck:
                        workers[workers.index(worker)] = self._replace(worker, chunk, reply)
                        continue
                    self._deliver(chunk, reply)
                    self.feed(worker)
        finally:
            self.pool.close(workers)
        return self.summary

    def _deliver(self, chunk: list[MatchTask], reply: ChunkReply) -> None:
        if reply.rows:
            self.on_rows(reply.rows)
            self.summary.played += len(reply.rows)
            seconds = sum(r["wall_time"] for r in reply.rows) / len(reply.rows)
            self.match_seconds = seconds if self.match_seconds is None else 0.7 * self.match_seconds + 0.3 * seconds
        if reply.failure:
            raise EngineError(reply.failure)
        self.requeue(reply.unplayed)

    def _replace(self, worker: Any, chunk: list[MatchTask], reply: ChunkReply | None) -> Any:
        """Retire a stuck or dead worker, put its unfinished work back, start a fresh one."""
        leftovers = [t for c in self.in_flight.pop(id(worker), ()) for t in c]
        if reply is not None:  # stuck: the rows it finished are good
            self._deliver(chunk, reply)
        else:  # died: retry its matches one by one; one that kills a worker again is given up
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

    def __init__(self, agent_specs: dict[str, str], settings: MatchSettings, secrets: list[str]) -> None:
        self.args = (agent_specs, settings, secrets)
        self.queued: dict[int, collections.deque[list[MatchTask]]] = {}

    def start(self) -> MatchRunner:
        runner = MatchRunner(*self.args)
        self.queued[id(runner)] = collections.deque()
        return runner

    def submit(self, worker: MatchRunner, chunk: list[MatchTask]) -> None:
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
    agent_specs: dict[str, str],
    settings: MatchSettings,
    secrets: list[str],
) -> None:
    """A worker process: plays the chunks it receives until told to stop or the coordinator goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
    runner = MatchRunner(agent_specs, settings, secrets)
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            break
        if chunk is None:
            break
        reply = runner.run_chunk(chunk)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            break
        if reply.stuck:
            os._exit(0)  # an agent thread is stuck in C code: this process cannot be trusted with more matches
    runner.close()


@dataclass(eq=False)
class _Process:
    process: multiprocessing.Process
    conn: multiprocessing.connection.Connection


class LocalPool(_Pool):
    """Worker processes on this machine (forkserver: each starts from a clean, pre-imported process)."""

    def __init__(self, size: int, agent_specs: dict[str, str], settings: MatchSettings, secrets: list[str]) -> None:
        self.size = size
        self.args = (agent_specs, settings, secrets)
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["arena.tournaments.backends"])

    def start(self) -> _Process:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker_main, args=(child, *self.args), daemon=True, name="arena-worker")
        process.start()
        child.close()
        return _Process(process, parent)

    def submit(self, worker: _Process, chunk: list[MatchTask]) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):  # a dead worker is reported by wait()
            worker.conn.send(chunk)

    def wait(self, workers: list[_Process], timeout: float) -> list[tuple[Any, ChunkReply | None]]:
        by_handle = {}
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
                    replies.append((worker, worker.conn.recv()))
                    continue
                except (EOFError, OSError):
                    pass
            if not worker.process.is_alive():
                replies.append((worker, None))
        return replies

    def retire(self, worker: _Process) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            worker.conn.send(None)
        worker.process.join(timeout=1.0)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def close(self, workers: list[_Process]) -> None:
        for worker in workers:  # ask all first, so that they wind down together
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.conn.send(None)
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

    The cluster's nodes need arena (and the agents' own packages) installed.
    """

    def __init__(
        self,
        size: int,
        agent_specs: dict[str, str],
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
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0)(_RayWorker)
        self.args = (agent_specs, settings, secrets)
        self.futures: dict[Any, tuple[Any, Any]] = {}

    def start(self) -> Any:
        return self.actor_class.remote(*self.args)

    def submit(self, worker: Any, chunk: list[MatchTask]) -> None:
        self.futures[worker.run_chunk.remote(chunk)] = worker

    def wait(self, workers: list[Any], timeout: float) -> list[tuple[Any, ChunkReply | None]]:
        if not self.futures:
            return []
        # Replies of one worker must come back in the order its chunks were sent.
        heads = {}
        for future, worker in self.futures.items():
            heads.setdefault(worker, future)
        ready, _ = self.ray.wait(list(heads.values()), num_returns=1, timeout=timeout)
        replies = []
        for future in ready:
            worker = self.futures.pop(future)
            try:
                replies.append((worker, self.ray.get(future)))
            except (self.ray.exceptions.RayActorError, self.ray.exceptions.WorkerCrashedError):
                replies.append((worker, None))
        return replies

    def retire(self, worker: Any) -> None:
        for future in [f for f, w in self.futures.items() if w is worker]:
            del self.futures[future]
        self.ray.kill(worker, no_restart=True)

    def close(self, workers: list[Any]) -> None:
        for worker in workers:
            self.retire(worker)


class _RayWorker:
    """A Ray actor around a MatchRunner."""

    def __init__(self, agent_specs: dict[str, str], settings: MatchSettings, secrets: list[str]) -> None:
        self.runner = MatchRunner(agent_specs, settings, secrets)

    def run_chunk(self, chunk: list[MatchTask]) -> ChunkReply:
        return self.runner.run_chunk(chunk)


def make_pool(
    backend: str,
    workers: int,
    agent_specs: dict[str, str],
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
    tasks: list[MatchTask],
    on_rows: Callable[[list[dict[str, Any]]], None],
    on_idle: Callable[[], None] | None = None,
) -> RunSummary:
    """Play `tasks` on `pool`, calling `on_rows` with each finished chunk's rows as it arrives and `on_idle` after
    half a second without any."""
    if not tasks:
        return RunSummary()
    return _Driver(pool, tasks, on_rows, on_idle).run()
