"""What runs inside a worker: building envs and agents once, playing chunks of matches, guarding every agent call.

A worker is a `MatchRunner`. It builds each env and each agent once and reuses them for every match it plays
(`arena.match.play` resets agents at the start of a match). Each match becomes a `MatchRecord`, encoded to the
store's row right here (`records.encode_match`), so the coordinator only inserts rows. An agent that fails at reset
forfeits its match like one that fails to move; a match that cannot be played at all (a broken env) ends the chunk
with a failure the coordinator reports. A match whose agent could not be interrupted at the time limit leaves a
thread running inside the worker: the runner says so, and the worker must be replaced.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pettingzoo import ParallelEnv

import arena
from arena.core import Agent, MatchResult, Observation
from arena.match import agent_seed, forfeit_payoffs, outcomes_from_payoffs, play, result_identity
from arena.specs import AgentSpec, EnvSpec
from arena.tournaments.config import TournamentConfig
from arena.tournaments.records import MatchRecord, Row, encode_match
from arena.tournaments.schedule import MatchTask, seat_groups


@dataclass(frozen=True)
class MatchSettings:
    """How every match of a tournament is played (the config's settings that workers need)."""

    move_time_limit: float | None
    illegal_moves: str
    max_retries: int
    max_steps: int | None
    teams: bool

    @classmethod
    def of(cls, config: TournamentConfig) -> MatchSettings:
        return cls(config.move_time_limit, config.illegal_moves, config.max_retries, config.max_steps, config.teams)


@dataclass
class ChunkReply:
    """What a worker sends back for a chunk: finished rows (and their summed wall time), tasks it did not start,
    whether it must be replaced, and why it stopped early."""

    rows: list[Row]
    seconds: float = 0.0
    unplayed: list[MatchTask] = field(default_factory=list)
    stuck: bool = False
    failure: str | None = None


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
    """The record of one played match (secrets masked in its message)."""
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
    )


class MatchRunner:
    """Plays matches with envs and agents built once and reused; one per worker."""

    def __init__(self, agent_specs: dict[str, AgentSpec], settings: MatchSettings, secrets: Iterable[str] = ()) -> None:
        self.agent_specs = agent_specs
        self.settings = settings
        self.secrets = list(secrets)
        self.envs: dict[EnvSpec, Any] = {}
        self.groups: dict[EnvSpec, list[list[int]]] = {}
        self.agents: dict[tuple[str, int], Agent] = {}
        self.lineups: dict[tuple[EnvSpec, tuple[str, ...]], list[Agent]] = {}

    def env(self, spec: EnvSpec) -> Any:
        if spec not in self.envs:
            env = arena.make_env(spec)
            self.envs[spec] = RoundLog(env) if isinstance(env, ParallelEnv) else env
            self.groups[spec] = seat_groups(env, self.settings.teams)
        return self.envs[spec]

    def agent(self, name: str, copy: int) -> Agent:
        """The agent `name`; self-play seats and team members get separate copies that never share state."""
        key = (name, copy)
        if key not in self.agents:
            agent = arena.make_agent(self.agent_specs[name])
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

    def play(self, task: MatchTask) -> MatchRecord:
        """Play one match (a failure to start is the failing agent's forfeit)."""
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
            return match_record(task, result, rounds, self.secrets)
        return match_record(task, team_result(result, groups, env), None, self.secrets)

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

    def run_chunk(self, tasks: list[MatchTask]) -> ChunkReply:
        """Play a chunk; stop early when a match cannot be played or leaves a stuck agent thread behind."""
        reply = ChunkReply([])
        for i, task in enumerate(tasks):
            try:
                record = self.play(task)
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
                return reply
        return reply

    def close(self) -> None:
        for agent in self.agents.values():
            with contextlib.suppress(Exception):  # closing must not hide the results
                agent.close()
        for env in self.envs.values():
            env.close()
