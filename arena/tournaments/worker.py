"""What runs inside a worker: building envs and agents once, playing chunks of matches, guarding every agent call.

A worker is a `MatchRunner`. It builds each env and each agent once and reuses them for every match it plays
(`arena.match.play` resets agents at the start of a match). Each match becomes a `MatchRecord`, encoded to the
store's row right here (`records.encode_match`), so the coordinator only inserts rows. An agent that fails at reset
forfeits its match like one that fails to move; a match that cannot be played at all (a broken env) ends the chunk
with a failure the coordinator reports. A match whose agent could not be interrupted at the time limit leaves a
thread running inside the worker: the runner says so, and the worker must be replaced.

Every agent call is guarded (`MatchRunner.guard`): whatever an agent raises, `SystemExit` and (in a worker
process, where a real Ctrl-C never arrives) `KeyboardInterrupt` included, is its forfeit; the call is announced on
the worker's `Beacon` (chunk, match, player, since when) so that the coordinator can blame the right agent when the
process dies or stops answering; and what the agent prints is captured (at the file-descriptor level in worker
processes) and kept, truncated to OUTPUT_BYTES, in its `agent_stats` as `output`.

Only the processes that play import this module (the check before play is `check.py`): the coordinator of worker
processes never loads the match loop or PettingZoo.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import sys
import tempfile
from collections.abc import Iterable
from typing import Any

import numpy as np
from pettingzoo import ParallelEnv

import arena
from arena.core import Agent, MatchResult, Observation
from arena.errors import IntegrityError
from arena.match import Table, agent_seed, forfeit_payoffs, outcomes_from_payoffs, result_identity
from arena.specs import AgentSpec, EnvSpec
from arena.tournaments.protocol import Beacon, ChunkReply, MatchSettings
from arena.tournaments.records import MatchRecord, Row, encode_match, pack_transcripts
from arena.tournaments.schedule import MatchTask, seat_groups

OUTPUT_BYTES = 4096  # what is kept of an agent's printed output per match
GUARDED = ("reset", "act", "action_probs", "observe", "match_stats", "close")
TIMED = ("act", "take_transcript")  # calls the watchdog holds to the move time limit (a transcript comes with a move)
INHERITABLE = ("reset", "observe", "match_stats", "close")  # Agent's defaults call no agent code


def _inherited(cls: type, method: str) -> bool:
    return getattr(cls, method, None) is getattr(Agent, method)


class AgentFault(Exception):
    """An exception outside `Exception` (SystemExit, KeyboardInterrupt...) that an agent raised, made an error."""


_FAULTS: dict[str, type[AgentFault]] = {}


def _fault(exc: BaseException) -> AgentFault:
    """`exc` as an AgentFault of the same name, so that the forfeit's message reads `raised SystemExit: 3`."""
    name = type(exc).__name__
    kind = _FAULTS.get(name)
    if kind is None:
        kind = _FAULTS[name] = type(name, (AgentFault,), {})
    return kind(str(exc))


class _Capped(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_BYTES characters written to it and drops the rest."""

    def __init__(self, sink: list[str]) -> None:
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = OUTPUT_BYTES - sum(len(t) for t in self.sink)
        if room > 0:
            self.sink.append(str(text)[:room])
        return len(text)


class OutputCapture:
    """What agents print, per player of the current match. In a worker process (`fds`) file descriptors 1 and 2
    go to a temporary file for good, so that C code's prints are caught too: what it holds after an agent call is
    that agent's (anything printed between calls, rare, goes to the next caller), and the file is emptied once
    read; in the coordinator's process only `sys.stdout` and `sys.stderr` are swapped during calls. An agent call
    that prints nothing costs one `fstat`."""

    def __init__(self, fds: bool) -> None:
        self.fd: int | None = None
        self.kept: dict[int, list[str]] = {}  # per player, emptied in place at each match
        self.sinks: dict[int, _Capped] = {}  # in this process: one stream per player, writing to its `kept` list
        self.saved: tuple[Any, Any] | None = None
        if fds:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            handle, path = tempfile.mkstemp(prefix="arena-output-")
            os.close(handle)
            self.fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_TRUNC)
            os.unlink(path)
            os.dup2(self.fd, 1)
            os.dup2(self.fd, 2)
            # unbuffered, so that what Python code prints is in the file as soon as it is printed (no flushing)
            sys.stdout = io.TextIOWrapper(open(1, "wb", buffering=0, closefd=False), write_through=True)  # noqa: SIM115
            sys.stderr = io.TextIOWrapper(open(2, "wb", buffering=0, closefd=False), write_through=True)  # noqa: SIM115

    def new_match(self) -> None:
        for chunks in self.kept.values():
            chunks.clear()

    def start(self, player: int) -> None:
        if self.fd is None:
            sink = self.sinks.get(player)
            if sink is None:
                sink = self.sinks[player] = _Capped(self.kept.setdefault(player, []))
            self.saved = (sys.stdout, sys.stderr)
            sys.stdout = sys.stderr = sink

    def stop(self, player: int) -> None:
        if self.fd is not None:
            if os.fstat(self.fd).st_size == 0:
                return
            sink = self.kept.setdefault(player, [])
            room = OUTPUT_BYTES - sum(len(t) for t in sink)
            if room > 0:
                data = os.pread(self.fd, room, 0)
                if data:
                    sink.append(data.decode("utf-8", "replace"))
            os.ftruncate(self.fd, 0)
        else:
            self.release()

    def release(self) -> None:
        """In this process: give it its own streams back, if an agent call left them swapped (a Ctrl-C that lands
        between the swap and its undoing cuts the undoing short)."""
        if self.saved is not None:
            sys.stdout, sys.stderr = self.saved
            self.saved = None

    def output(self, player: int) -> str:
        return "".join(self.kept.get(player, ()))[:OUTPUT_BYTES]

    def printed(self) -> bool:
        """Whether any agent printed anything in this match."""
        return any(self.kept.values())


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value masked."""
    for value in secrets:
        text = text.replace(value, "***")
    return text


class RoundLog:
    """A Parallel env seen through a recorder of every round: joint action, full-information feedback, policies.

    Repeated matrix games put `action_payoffs` (what each of a player's actions would have earned against the
    others' actual actions) in `info`; regret is computed from it. An agent that exposes `action_probs` also has
    its mixed strategy of each round recorded, so that its regret is the expected one of Park et al.; for other
    agents the action played stands for the strategy.
    """

    passes_observations = True  # what the env returns goes on unchanged (see arena.match.fresh_observations)

    def __init__(self, env: Any) -> None:
        self.env = env
        self.seated: list[Agent] = []
        self.actions: list[list[int | None]] = []  # per round: every player's action
        self.payoffs: list[list[list[float] | None]] = []  # per round: every player's action payoffs (or None)
        self.policies: list[list[list[float] | None]] = []  # per round: every player's mixed strategy (or None)
        self.has_feedback: bool | None = None  # learned on the first round
        self._readers: list[bool] = []  # per seat at reset: whether its agent's policy can be read

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        self.actions, self.payoffs, self.policies = [], [], []
        self._readers = [type(agent).has_action_probs() for agent in self.seated]
        self._observations, self._infos = self.env.reset(seed=seed, options=options)
        return self._observations, self._infos

    def _policy(self, seat: int, player: str) -> list[float] | None:
        if not self._readers[seat] or player not in self._infos:
            return None
        try:
            obs = Observation(
                player=player, observation=self._observations[player], info=self._infos[player], step=len(self.actions)
            )
            probs = np.asarray(self.seated[seat].action_probs(obs), dtype=np.float64)
            return probs.tolist() if probs.ndim == 1 else None
        except Exception:  # a policy we cannot read is simply not recorded
            return None

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        players = self.env.possible_agents
        record = self.has_feedback is not False
        policies = [self._policy(i, p) for i, p in enumerate(players)] if record else []
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        if record:
            payoffs = [infos.get(p, {}).get("action_payoffs") for p in players]
            self.has_feedback = any(v is not None for v in payoffs)
            if self.has_feedback:
                self.actions.append([int(actions[p]) if p in actions else None for p in players])
                self.payoffs.append([None if v is None else np.asarray(v, dtype=np.float64).tolist() for v in payoffs])
                self.policies.append(policies)
        self._observations, self._infos = observations, infos
        return observations, rewards, terminations, truncations, infos

    def rounds_payload(self) -> dict[str, Any] | None:
        """Per-seat lists of the match's rounds; None for one-shot games and envs without the feedback."""
        if not self.has_feedback or len(self.actions) < 2:  # regret is about repeated play
            return None
        n = len(self.env.possible_agents)
        return {
            "actions": [[r[s] for r in self.actions] for s in range(n)],
            "action_payoffs": [[r[s] for r in self.payoffs] for s in range(n)],
            "policies": [
                None if any(r[s] is None for r in self.policies) else [r[s] for r in self.policies] for s in range(n)
            ],
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


def match_record(
    task: MatchTask, result: MatchResult, rounds: dict[str, Any] | None, secrets: Iterable[str] = ()
) -> MatchRecord:
    """The record of one played match (secrets masked in its message and its transcripts)."""
    return MatchRecord(
        match_id=task.match_id,
        env=task.env,
        seats=task.seats,
        index=task.index,
        seed=task.seed,
        payoffs=tuple(result.payoffs),
        outcomes=tuple(result.outcomes),
        termination=result.termination,
        culprit=result.culprit,
        message=scrub(result.message, secrets),
        length=result.length,
        illegal_moves=tuple(result.illegal_moves),
        timeouts=tuple(result.timeouts),
        errors=tuple(result.errors),
        random_fallbacks=tuple(result.random_fallbacks),
        wall_time=result.wall_time,
        agent_stats=tuple(result.agent_stats),
        stuck=result.stuck_agent,
        rounds=rounds,
        transcript=pack_transcripts(result.transcripts, lambda text: scrub(text, secrets)),
    )


class MatchRunner:
    """Plays matches with envs and agents built once and reused; one per worker."""

    def __init__(
        self,
        agent_specs: dict[str, AgentSpec],
        settings: MatchSettings,
        secrets: Iterable[str] = (),
        *,
        beacon: Beacon | None = None,
        in_worker: bool = False,
    ) -> None:
        """`in_worker`: this is a worker process of its own, whose file descriptors 1 and 2 are taken for agents'
        output and where an agent's KeyboardInterrupt is the agent's doing (a real Ctrl-C reaches the
        coordinator only)."""
        self.agent_specs = agent_specs
        self.settings = settings
        self.secrets = list(secrets)
        self.envs: dict[EnvSpec, Any] = {}
        self.groups: dict[EnvSpec, list[list[int]]] = {}
        self.agents: dict[tuple[str, int], Agent] = {}
        # per env and lineup: its table, and the player of each of its agents (by id)
        self.tables: dict[tuple[EnvSpec, tuple[str, ...]], tuple[Table, dict[int, int]]] = {}
        self.beacon = beacon or Beacon()
        self.in_worker = in_worker
        self.capture = OutputCapture(fds=in_worker)
        self.players: dict[int, int] = {}  # id(agent) -> its player in the current match
        self.depth = 0  # guarded calls in progress (an agent's act may call its own action_probs)

    def guard(self, agent: Agent) -> Agent:
        """Put every method the engine calls on `agent` behind `_guarded` (the instance's own attributes), except
        those it inherits unchanged from `Agent`: those are the engine's own code and cannot misbehave."""
        methods = (*GUARDED, "take_transcript") if hasattr(agent, "take_transcript") else GUARDED
        for method in methods:
            if method in INHERITABLE and method not in vars(agent) and _inherited(type(agent), method):
                continue
            setattr(agent, method, self._guarded(agent, method, timed=method in TIMED))
        return agent

    def _guarded(self, agent: Agent, method: str, timed: bool) -> Any:
        call = getattr(agent, method)
        timing = 1.0 if timed and self.settings.move_time_limit is not None else 0.0
        start, stop, enter, leave = self.capture.start, self.capture.stop, self.beacon.enter, self.beacon.leave
        key = id(agent)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.depth:  # called from inside another guarded call of the agent (act asking action_probs)
                return call(*args, **kwargs)
            self.depth = 1
            player = self.players.get(key, -1)
            try:
                start(player)
                enter(player, timing)
                return call(*args, **kwargs)
            except Exception:
                raise
            except KeyboardInterrupt as exc:
                if not self.in_worker:
                    raise  # in the coordinator's own process this may be the user's Ctrl-C
                raise _fault(exc) from None
            except BaseException as exc:  # SystemExit and the like: the agent's error, not the engine's end
                raise _fault(exc) from None
            finally:
                self.depth = 0
                stop(player)
                leave()

        return guarded

    def env(self, spec: EnvSpec) -> Any:
        env = self.envs.get(spec)
        if env is None:
            env = arena.make_env(spec)
            self.groups[spec] = seat_groups(env, self.settings.teams)
            env = self.envs[spec] = RoundLog(env) if isinstance(env, ParallelEnv) else env
        return env

    def agent(self, name: str, copy: int) -> Agent:
        """The agent `name`; self-play seats and team members get separate copies that never share state."""
        key = (name, copy)
        if key not in self.agents:
            try:
                self.capture.start(-1)  # what a constructor prints is kept from the output (credited to no one)
                agent = arena.make_agent(self.agent_specs[name])
            finally:
                self.capture.stop(-1)
            agent.name = name
            self.agents[key] = self.guard(agent)
        return self.agents[key]

    def lineup(self, env: Any, groups: list[list[int]], seats: tuple[str, ...]) -> list[Agent]:
        """The agent of every player when `seats` (one agent name per seat or team) sit down at `env`."""
        names = [""] * len(env.possible_agents)
        for seat, members in enumerate(groups):
            for player in members:
                names[player] = seats[seat]
        return [self.agent(name, names[:player].count(name)) for player, name in enumerate(names)]

    def play(self, task: MatchTask) -> MatchRecord:
        """Play one match (a failure to start is the failing agent's forfeit)."""
        env = self.env(task.env)
        groups = self.groups[task.env]
        seated = self.tables.get((task.env, task.seats))
        if seated is None:
            s = self.settings
            agents = self.lineup(env, groups, task.seats)
            table = Table(env, agents, s.move_time_limit, s.illegal_moves, s.max_retries, s.max_steps)
            seated = self.tables[task.env, task.seats] = (table, {id(a): player for player, a in enumerate(agents)})
        table, self.players = seated
        agents = table.agents
        players = env.possible_agents
        self.capture.new_match()
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
            result = table.play(task.seed, reset_agents=False)
        result = self._with_output(result)
        if len(groups) == len(players):
            rounds = env.rounds_payload() if isinstance(env, RoundLog) and result.length else None  # none if unplayed
            history = getattr(env, "action_history", None) if self.settings.record_histories else None
            if history is not None and rounds is None:
                rounds = {"history": history()}
            return match_record(task, result, rounds, self.secrets)
        return match_record(task, team_result(result, groups, env), None, self.secrets)

    def _with_output(self, result: MatchResult) -> MatchResult:
        """The result with what each agent printed in `agent_stats[player]["output"]` (secrets masked)."""
        if not self.capture.printed():
            return result
        outputs = [self.capture.output(p) for p in range(len(result.agent_stats))]
        if not any(outputs):
            return result
        stats = [
            {**s, "output": scrub(text, self.secrets)} if text else s for s, text in zip(result.agent_stats, outputs)
        ]
        return dataclasses.replace(result, agent_stats=stats)

    def lineup_names(self, task: MatchTask) -> list[str]:
        """The agent name of every player of `task`'s match (without building any agent)."""
        env = self.env(task.env)
        names = [""] * len(env.possible_agents)
        for seat, members in enumerate(self.groups[task.env]):
            for player in members:
                names[player] = task.seats[seat]
        return names

    def lost(self, task: MatchTask, player: int, termination: str, why: str) -> Row:
        """The encoded record of a match the agent of `player` lost without it being finished: its worker process
        died in that agent's call (`agent_error`) or the call ran past the time limit and was killed (`time_limit`)."""
        env = self.env(task.env)
        names = self.lineup_names(task)
        n = len(names)
        counts = [[0] * n for _ in range(2)]
        counts[0 if termination == "time_limit" else 1][player] = 1
        env_id, env_params = result_identity(env.spec)
        result = MatchResult(
            env_id=env_id,
            env_params=env_params,
            seed=task.seed,
            agents=names,
            players=list(env.possible_agents),
            payoffs=forfeit_payoffs(env, player, n),
            length=0,
            outcomes=["loss" if i == player else "win" for i in range(n)],
            termination=termination,
            culprit=player,
            message=f"{names[player]} {why}",
            illegal_moves=[0] * n,
            timeouts=counts[0],
            errors=counts[1],
            random_fallbacks=[0] * n,
            agent_stats=[{} for _ in names],
            stuck_agent=termination == "time_limit",
        )
        groups = self.groups[task.env]
        if len(groups) != n:
            result = team_result(result, groups, env)
        return encode_match(match_record(task, result, None, self.secrets))

    @staticmethod
    def _reset_failure(env: Any, agents: list[Agent], seat: int, exc: Exception) -> MatchResult:
        n = len(agents)
        errors = [0] * n
        errors[seat] = 1
        env_id, env_params = result_identity(env.spec)
        return MatchResult(
            env_id=env_id,
            env_params=env_params,
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

    def run_chunk(self, tasks: list[MatchTask], seq: int = 0) -> ChunkReply:
        """Play a chunk (number `seq` of this worker); stop early when a match cannot be played or leaves a stuck
        agent thread behind."""
        try:
            return self._run_chunk(tasks, seq)
        finally:
            self.capture.release()  # a Ctrl-C in this process must find its own streams

    def _run_chunk(self, tasks: list[MatchTask], seq: int) -> ChunkReply:
        reply = ChunkReply([])
        self.beacon.chunk(seq)
        for i, task in enumerate(tasks):
            self.beacon.task(i)
            try:
                record = self.play(task)
            except IntegrityError:
                reply.unplayed, reply.tainted, reply.stuck = list(tasks[i + 1 :]), task, True
                self.beacon.chunk(-1)
                return reply
            except Exception as exc:
                reply.unplayed = list(tasks[i + 1 :])
                reply.failure = (
                    f"match {task.match_id} ({task.env.text}, {' vs '.join(task.seats)}) failed: "
                    f"{type(exc).__name__}: {scrub(str(exc), self.secrets)[:300]}"
                )
                return reply
            reply.rows.append(encode_match(record))
            reply.seconds += record.wall_time
            if record.stuck:
                reply.unplayed = list(tasks[i + 1 :])
                reply.stuck = True
                self.beacon.chunk(-1)  # the stuck call is recorded: it is no longer the coordinator's to watch
                return reply
        return reply

    def close(self) -> None:
        for agent in self.agents.values():
            with contextlib.suppress(Exception):  # closing must not hide the results
                agent.close()
        for env in self.envs.values():
            env.close()
