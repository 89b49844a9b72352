"""Play one match of any env, turn-based (AEC) or simultaneous (Parallel), with every agent on the same footing.

The loop enforces a per-move time limit, applies the illegal-move policy, turns an agent's exception into a
forfeit, feeds online learners, and can write a replay as JSON lines that `arena replay` shows and re-checks.

An agent with a `take_transcript()` method (the LLM agents) is asked after each of its decisions for the records
of what it did to reach it (prompts, replies, re-asks); they go into `MatchResult.transcripts`, each tagged with
the player and the step, and into the replay with the move they led to. Other agents cost nothing here.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import json
import math
import operator
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from pettingzoo import AECEnv

from arena.console import writable_file
from arena.core import Agent, Feedback, MatchResult, Observation, make_rng
from arena.errors import ConfigError, IntegrityError, ParameterError
from arena.registry import envs, make_agent, make_env
from arena.specs import EnvSpec

ILLEGAL_MOVE_POLICIES = ("forfeit", "random", "retry")
REPLAY_VERSION = 1


class _Forfeit(Exception):
    def __init__(self, termination: str, culprit: int, message: str) -> None:
        super().__init__(message)
        self.termination, self.culprit, self.message = termination, culprit, message


class MoveTimeLimit(Exception):
    """An agent's move took longer than the limit; `stuck` when its thread could not be interrupted."""

    def __init__(self, stuck: bool) -> None:
        super().__init__("time limit")
        self.stuck = stuck


def _interrupt_thread(thread: threading.Thread) -> None:
    """Raise an exception inside `thread` at its next bytecode, which stops agents looping in Python."""
    if thread.ident is None:  # never started: nothing runs to interrupt
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(SystemExit))


def call_with_time_limit(fn: Callable[[Any], Any], arg: Any, limit: float | None) -> Any:
    """`fn(arg)`, abandoned after `limit` seconds: the call is interrupted and MoveTimeLimit is raised at once.

    An agent blocked inside C code cannot be interrupted; `MoveTimeLimit.stuck` says so, and the tournament then
    replaces the worker process that holds it.
    """
    if limit is None:
        return fn(arg)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn(arg)
        except BaseException as exc:  # carried back to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="arena-agent")
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        _interrupt_thread(thread)
        thread.join(0.05)
        raise MoveTimeLimit(stuck=thread.is_alive())
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def action_id(value: Any) -> int | None:
    """The action id an agent returned, or None when it is no integer (floats, strings and bools are not).

    Integer-like objects are converted with `operator.index`; it runs inside the agent's guarded, timed call, so an
    `__index__` that raises is the agent's error and one that hangs is its time-out.
    """
    if type(value) is int:
        return value
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        return None
    try:
        return operator.index(value)
    except TypeError:  # e.g. a float array's __index__
        return None


_SEED_BITS = 2**63 - 1


def agent_seed(seed: int | None, seat: int) -> int | None:
    """Each seat's agent gets its own stream derived from the match seed."""
    if seed is None:
        return None
    return (seed * 1_000_003 + seat + 1) & _SEED_BITS  # `% 2**63` without a long division; make_rng hashes it


def outcomes_from_payoffs(payoffs: Sequence[float], competitive: bool) -> list[str | None]:
    """win/draw/loss in competitive (constant-sum) games: the unique best wins, a shared best draws."""
    if not competitive:
        return [None] * len(payoffs)
    best = max(payoffs)
    tolerance = 1e-9 * max(1.0, abs(best))
    leading = [best - p <= tolerance for p in payoffs]
    leaders = leading.count(True)
    if leaders == len(payoffs):
        return ["draw"] * len(payoffs)
    lead = "win" if leaders == 1 else "draw"
    return [lead if first else "loss" for first in leading]


def forfeit_payoffs(env: Any, culprit: int, num_players: int) -> list[float]:
    """The culprit gets the game's worst payoff; in constant-sum games the others share what it loses."""
    low = float(getattr(env, "min_utility", -1.0))
    high = float(getattr(env, "max_utility", 1.0))
    others = -low / (num_players - 1) if getattr(env, "zero_sum", False) else high
    return [low if i == culprit else others for i in range(num_players)]


class _Recorder:
    """Writes a replay as JSON lines: a header, one line per step, the result."""

    def __init__(self, path: str | Path | None) -> None:
        self.file: IO[str] | None = None
        if path:
            try:
                self.file = open(writable_file(path, "a replay"), "w", encoding="utf-8")  # noqa: SIM115 (close())
            except OSError as exc:
                raise ConfigError(f"cannot write a replay to {path}: {exc.strerror or exc}") from None

    def __bool__(self) -> bool:
        return self.file is not None

    def write(self, record: dict[str, Any]) -> None:
        if self.file:
            self.file.write(json.dumps(record, default=_json_default) + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file:
            self.file.close()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def fresh_observations(env: Any) -> bool:
    """Whether every step's infos and tensors of `env` are new objects that no one else holds, so that agents can
    be given them without copies: the env's class must say so (`fresh_observations = True`), and so must every
    wrapper around it (`passes_observations = True`: it hands on its env's objects unchanged)."""
    while getattr(type(env), "passes_observations", False) is True:
        env = env.env
    return getattr(type(env), "fresh_observations", False) is True


class _Match:
    """State of one match in progress at a `Table`."""

    def __init__(self, table: Table, seed: int | None, recorder: _Recorder) -> None:
        self.env, self.agents, self.seed = table.env, table.agents, seed
        self.limit, self.policy, self.attempts = table.limit, table.policy, table.attempts
        self.seat, self.fresh, self.hears, self.transcribers = table.seat, table.fresh, table.hears, table.transcribers
        self.recorder = recorder if recorder else None  # None is false without a call to __bool__ at every step
        n = len(self.agents)
        self.payoffs = [0.0] * n
        self.illegal, self.timeouts, self.errors, self.fallbacks = [0] * n, [0] * n, [0] * n, [0] * n
        self._rng: np.random.Generator | None = None
        self.steps = 0
        self.stuck = False
        self.transcripts: list[dict[str, Any]] = []
        self.pending: dict[str, list[dict[str, Any]]] = {}  # a player's records not yet written with a move
        if not table.transcribing:
            self.decide = self._decide  # type: ignore[method-assign]  # no agent keeps one: nothing to collect

    def transcribe(self, seat: int, player: str) -> None:
        """Collect the records of the decision the agent in `seat` just made (a guarded, timed call: an agent that
        fails here loses its records, not the match)."""
        take = self.transcribers[seat]
        if take is None:
            return
        try:
            records = call_with_time_limit(lambda _: take(), None, self.limit)
            records = json.loads(json.dumps(records, default=_json_default))
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise TypeError("take_transcript must return a list of dicts")
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # transcripts must never cost a match
            records = [{"transcript_error": f"{type(exc).__name__}: {str(exc)[:200]}"}]
        tagged = [{"player": player, "t": self.steps + 1, **r} for r in records]
        self.transcripts.extend(tagged)
        if tagged and self.recorder:
            self.pending.setdefault(player, []).extend(records)

    def decide(self, seat: int, obs: Observation) -> int:
        """Ask the agent in `seat` for a legal action, applying the time limit and the illegal-move policy."""
        if self.transcribers[seat] is None:
            return self._decide(seat, obs)
        try:
            return self._decide(seat, obs)
        finally:
            self.transcribe(seat, obs.player)

    def _decide(self, seat: int, obs: Observation) -> int:
        agent = self.agents[seat]
        legal = obs.legal_actions
        for attempt in range(self.attempts):
            try:
                if self.limit is None:
                    move = agent.act(obs)
                    action = move if type(move) is int else action_id(move)
                else:
                    action = call_with_time_limit(lambda o: action_id(agent.act(o)), obs, self.limit)
            except MoveTimeLimit as exc:
                self.timeouts[seat] += 1
                self.stuck = self.stuck or exc.stuck
                raise _Forfeit("time_limit", seat, f"{agent.name} exceeded the {self.limit}s move time limit") from None
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                self.errors[seat] += 1
                message = f"{agent.name} raised {type(exc).__name__}: {str(exc)[:300]}"
                raise _Forfeit("agent_error", seat, message) from None
            if action is not None and action in legal:
                return action
            self.illegal[seat] += 1
            if self.policy == "random":
                self.fallbacks[seat] += 1
                if self._rng is None:
                    self._rng = make_rng(agent_seed(self.seed, len(self.agents)))
                return int(self._rng.choice(legal))
            names = ", ".join(f"{obs.action_names[a]} ({a})" if obs.action_names else str(a) for a in legal)
            played = "that is not an integer action" if action is None else f"{action} is not a legal move"
            obs = dataclasses.replace(obs, error=f"{played} (attempt {attempt + 1}); legal moves: {names}")
        raise _Forfeit("illegal_move", seat, f"{agent.name} played an illegal move")

    def observation(self, player: str, tensor: Any, info: dict[str, Any]) -> Observation:
        """What the agent gets: its own copies of the env's lists and arrays, so that changing them reaches
        nothing the env or another agent uses (an env whose `fresh_observations` says it builds them anew at every
        step has made those copies already)."""
        if self.fresh:
            return Observation(player=player, observation=tensor, info=info, step=self.steps)
        own = {k: v.copy() if isinstance(v, list | dict | np.ndarray) else v for k, v in info.items()}
        if isinstance(tensor, np.ndarray):
            tensor = tensor.copy()
        return Observation(player=player, observation=tensor, info=own, step=self.steps)

    def play_turn_based(self, max_steps: int | None, on_step: Callable[[Any], None] | None) -> None:
        env = self.env
        env.reset(seed=self.seed)
        players = env.possible_agents
        payoffs, seat_of, recorder, fresh = self.payoffs, self.seat, self.recorder, self.fresh
        while env.agents:
            player = env.agent_selection
            if env.terminations[player] or env.truncations[player]:
                if all(env.terminations[a] or env.truncations[a] for a in env.agents):
                    break  # the game is over for everyone: the dead steps that clear the agents change nothing
                env.step(None)
                continue
            if max_steps is not None and self.steps >= max_steps:
                raise _Forfeit("max_steps", -1, f"stopped after {max_steps} steps")
            tensor, _, _, _, info = env.last()
            if fresh:  # `observation`'s first case, here without the call: this runs at every step
                obs = Observation(player, tensor, info, self.steps)
            else:
                obs = self.observation(player, tensor, info)
            action = self.decide(seat_of[player], obs)
            env.step(action)
            rewards = env.rewards
            for seat, name in enumerate(players):
                payoffs[seat] += rewards.get(name, 0.0)
            self.steps += 1
            if recorder:
                recorder.write(
                    {
                        "type": "step",
                        "t": self.steps,
                        "moves": [self._move(player, obs, action)],
                        "rewards": [rewards.get(a, 0.0) for a in players],
                    }
                )
            if on_step:
                on_step(env)
        for seat, agent in enumerate(self.agents):
            if self.hears[seat]:
                agent.observe(
                    Feedback(player=players[seat], action=None, reward=float(self.payoffs[seat]), round=0, done=True)
                )

    def play_simultaneous(self, max_steps: int | None, on_step: Callable[[Any], None] | None) -> None:
        env = self.env
        observations, infos = env.reset(seed=self.seed)
        while env.agents:
            if max_steps is not None and self.steps >= max_steps:
                raise _Forfeit("max_steps", -1, f"stopped after {max_steps} steps")
            acting = list(env.agents)
            obs = {a: self.observation(a, observations[a], infos[a]) for a in acting}
            actions = {a: self.decide(self.seat[a], obs[a]) for a in acting}
            observations, rewards, terminations, truncations, infos = env.step(actions)
            reward_list = [float(rewards.get(a, 0.0)) for a in env.possible_agents]
            self.payoffs = [total + r for total, r in zip(self.payoffs, reward_list)]
            self.steps += 1
            if self.recorder:
                self.recorder.write(
                    {
                        "type": "step",
                        "t": self.steps,
                        "rewards": reward_list,
                        "moves": [self._move(a, obs[a], actions[a]) for a in acting],
                    }
                )
            for a in acting:
                if not self.hears[self.seat[a]]:
                    continue
                info = infos.get(a, {})
                done = bool(terminations.get(a) or truncations.get(a))
                self.agents[self.seat[a]].observe(
                    Feedback(
                        player=a,
                        action=actions[a],
                        reward=float(rewards.get(a, 0.0)),
                        round=self.steps - 1,
                        joint_action=info.get("joint_action"),
                        action_payoffs=info.get("action_payoffs"),
                        done=done,
                    )
                )
            if on_step:
                on_step(env)

    def _move(self, player: str, obs: Observation, action: int) -> dict[str, Any]:
        names = obs.action_names
        move = {
            "player": player,
            "text": obs.text,
            "action": int(action),
            "action_name": names[action] if 0 <= action < len(names) else str(action),
        }
        if self.pending:
            records = self.pending.pop(player, None)
            if records:
                move["transcript"] = records
        return move


def check_seed(seed: Any) -> None:
    """Refuse a match seed that is not a non-negative integer (None: fresh entropy)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ParameterError(f"seed must be a non-negative integer, not {seed!r}")


def check_match_settings(seed: Any, move_time_limit: Any, illegal_moves: Any, max_retries: Any, max_steps: Any) -> None:
    """Refuse settings a match cannot be played with, each with one line naming it."""
    check_seed(seed)
    if move_time_limit is not None and (
        isinstance(move_time_limit, bool)
        or not isinstance(move_time_limit, int | float)
        or not math.isfinite(move_time_limit)
        or move_time_limit <= 0
    ):
        raise ParameterError(f"move_time_limit must be a positive number of seconds, not {move_time_limit!r}")
    if illegal_moves not in ILLEGAL_MOVE_POLICIES:
        raise ParameterError(f"illegal_moves must be one of {', '.join(ILLEGAL_MOVE_POLICIES)}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ParameterError(f"max_retries must be a non-negative integer, not {max_retries!r}")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise ParameterError(f"max_steps must be a positive integer, not {max_steps!r}")


def payoff_range(env: Any) -> tuple[float, float] | None:
    """The game's payoff range (`min_utility`..`max_utility`), read when its table is set: None if it has none."""
    low, high = getattr(env, "min_utility", None), getattr(env, "max_utility", None)
    return None if low is None or high is None else (float(low), float(high))


def check_payoffs(bounds: tuple[float, float] | None, players: Sequence[str], payoffs: Sequence[float]) -> None:
    """Refuse payoffs outside the game's range: no match of the game pays them, so something (an agent reaching
    into the env) changed the game while it was played."""
    if bounds is None:
        return
    low, high = bounds
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    for player, payoff in zip(players, payoffs):
        if not (low - slack <= payoff <= high + slack):
            raise IntegrityError(
                f"{player} was paid {payoff:g}, outside the game's range [{low:g}, {high:g}]: "
                "the env was changed during the match"
            )


def result_identity(spec: EnvSpec) -> tuple[str, dict[str, Any]]:
    """How results and replays name an env: its id and parameters; a loader's env (`openspiel:<game string>`) by
    its whole text, since its parameters belong to the game string."""
    env_id, params = _identity(spec)
    return env_id, dict(params)


@functools.lru_cache(maxsize=1024)
def _identity(spec: EnvSpec) -> tuple[str, dict[str, Any]]:  # matches repeat envs: look each up once
    if envs.resolve(spec.id)[1]:
        return spec.text, {}
    return spec.id, spec.kwargs()


def _resolve(env: Any, agents: Sequence[Agent | str]) -> tuple[Any, list[Agent]]:
    if isinstance(env, str | EnvSpec):
        env = make_env(env)
    built = [a if isinstance(a, Agent) else make_agent(a) for a in agents]
    if len(built) != len(env.possible_agents):
        raise ParameterError(
            f"{env.spec.id if getattr(env, 'spec', None) else 'this env'} needs "
            f"{len(env.possible_agents)} agents, got {len(built)}"
        )
    return env, built


class Table:
    """An env with its agents seated, ready to play one match after another: the settings are checked and what
    stays the same from match to match (the env's identity, seats, payoff range, which agents listen to feedback,
    keep transcripts or report statistics) is worked out once. A tournament's worker keeps one per env and lineup;
    `play` plays one match at a table of its own.

    `env` is an env id or a PettingZoo env; `agents` are Agents or agent specs, one per seat in
    `env.possible_agents` order.
    """

    def __init__(
        self,
        env: Any,
        agents: Sequence[Agent | str],
        move_time_limit: float | None = None,
        illegal_moves: str = "forfeit",
        max_retries: int = 2,
        max_steps: int | None = None,
    ) -> None:
        check_match_settings(None, move_time_limit, illegal_moves, max_retries, max_steps)
        self.env, self.agents = env, agents = _resolve(env, agents)
        self.limit, self.policy, self.max_steps = move_time_limit, illegal_moves, max_steps
        self.attempts = max_retries + 1 if illegal_moves == "retry" else 1
        self.env_id, self.env_params = result_identity(env.spec)
        self.names = [a.name for a in agents]
        self.players = list(env.possible_agents)
        self.seat = {name: i for i, name in enumerate(self.players)}
        self.turn_based = isinstance(env, AECEnv)
        self.fresh = fresh_observations(env)
        self.competitive = bool(getattr(env, "zero_sum", False))
        self.range = payoff_range(env)
        self.hears = [_overrides(a, "observe") for a in agents]  # Agent's own observe ignores what it hears
        self.reports = [_overrides(a, "match_stats") for a in agents]  # Agent's own match_stats has nothing
        takers = [getattr(a, "take_transcript", None) for a in agents]
        self.transcribers = [t if callable(t) else None for t in takers]
        self.transcribing = any(self.transcribers)

    def play(
        self,
        seed: int | None = None,
        record: str | Path | None = None,
        on_step: Callable[[Any], None] | None = None,
        reset_agents: bool = True,
    ) -> MatchResult:
        """Play one match and return its MatchResult (see `play`)."""
        check_seed(seed)
        env, agents = self.env, self.agents
        recorder = _Recorder(record)
        if recorder:
            recorder.write(
                {
                    "type": "header",
                    "version": REPLAY_VERSION,
                    "env_id": self.env_id,
                    "env_params": dict(self.env_params),
                    "seed": seed,
                    "agents": self.names,
                    "players": self.players,
                }
            )
        if reset_agents:
            for seat, agent in enumerate(agents):
                agent.reset(agent_seed(seed, seat), self.players[seat], env.spec)
        match = _Match(self, seed, recorder)
        termination, culprit, message = "normal", None, ""
        start = time.perf_counter()
        try:
            if self.turn_based:
                match.play_turn_based(self.max_steps, on_step)
            else:
                match.play_simultaneous(self.max_steps, on_step)
            payoffs = match.payoffs
            outcomes = outcomes_from_payoffs(payoffs, self.competitive)
        except _Forfeit as forfeit:
            termination, message = forfeit.termination, forfeit.message
            if forfeit.culprit < 0:  # stopped for length: keep what was earned
                payoffs = match.payoffs
                outcomes = outcomes_from_payoffs(payoffs, self.competitive)
            else:
                culprit = forfeit.culprit
                payoffs = forfeit_payoffs(env, culprit, len(agents))
                outcomes = ["loss" if i == culprit else "win" for i in range(len(agents))]
        check_payoffs(self.range, self.players, payoffs)
        result = MatchResult(
            env_id=self.env_id,
            env_params=dict(self.env_params),
            seed=seed,
            agents=list(self.names),
            players=list(self.players),
            payoffs=[float(p) for p in payoffs],
            length=match.steps,
            outcomes=outcomes,
            termination=termination,
            culprit=culprit,
            message=message,
            illegal_moves=match.illegal,
            timeouts=match.timeouts,
            errors=match.errors,
            random_fallbacks=match.fallbacks,
            wall_time=time.perf_counter() - start,
            agent_stats=[_stats(a) if reports else {} for a, reports in zip(agents, self.reports)],
            stuck_agent=match.stuck,
            transcripts=match.transcripts,
        )
        if recorder:
            line = {"type": "result", **result.to_dict()}
            del line["transcripts"]  # the replay holds them with the moves they led to
            unplayed = [{"player": p, **r} for p, records in match.pending.items() for r in records]
            if unplayed:
                line["transcript"] = unplayed  # the records of decisions that made no move (a forfeit)
            recorder.write(line)
            recorder.close()
        return result


def play(
    env: Any,
    agents: Sequence[Agent | str],
    seed: int | None = None,
    move_time_limit: float | None = None,
    illegal_moves: str = "forfeit",
    record: str | Path | None = None,
    max_retries: int = 2,
    max_steps: int | None = None,
    on_step: Callable[[Any], None] | None = None,
    reset_agents: bool = True,
) -> MatchResult:
    """Play one match and return its MatchResult.

    `env` is an env id or a PettingZoo env; `agents` are Agents or agent specs, one per seat in
    `env.possible_agents` order. An agent that raises, exceeds `move_time_limit` seconds or (under the
    "forfeit" policy) plays an illegal move forfeits: it gets the game's worst payoff and the match ends.
    """
    check_seed(seed)  # before any env is built; the table checks the other settings
    table = Table(env, agents, move_time_limit, illegal_moves, max_retries, max_steps)
    return table.play(seed, record, on_step, reset_agents)


def _overrides(agent: Agent, method: str) -> bool:
    """Whether `agent` has its own `method` (its class's or the instance's), not `Agent`'s default."""
    own = getattr(agent, "__dict__", {})
    return method in own or getattr(type(agent), method, None) is not getattr(Agent, method)


def _stats(agent: Agent) -> dict[str, Any]:
    try:
        return dict(agent.match_stats())
    except Exception as exc:  # statistics must never cost a match
        return {"stats_error": str(exc)[:200]}


# ---------------------------------------------------------------------------------------------------------------
# Replays


__all__ = ["ILLEGAL_MOVE_POLICIES", "Table", "action_id", "call_with_time_limit", "play"]
