"""Solvers over compiled games: the Solver base class and its registry, `solve`, and agents that play solutions.

A solver is a class `Solver(game, **params)` with `iteration()` (one self-play update) and `policy()` (the policy to
evaluate and play). `solve` runs one and records the convergence curve; `SolverAgent` solves once, caches the
policy file, and plays it with exact `action_probs`.
"""

from __future__ import annotations

import abc
import bisect
import hashlib
import inspect
import json
import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.core import Agent, Observation, cache_dir
from arena.errors import ParameterError
from arena.games.exploitability import gap
from arena.games.policy import TabularPolicy
from arena.games.tree import TabularGame, load
from arena.registry import check_params, register_solver, signed, solvers


class Solver(abc.ABC):
    """Base class of every tabular solver: `iteration()` updates, `policy()` is what is evaluated and played.

    A subclass names itself by its class keyword, `class CFRSolver(Solver, name="cfr")`, and gets its agent as
    `agent_factory`: `SolverAgent` over this solver, taking `env`, `iterations` (default `default_iterations`),
    `seed`, `cache` and the solver's own parameters. A solver the registry does not know yet (a plugin's) registers
    itself and that agent, described by its class attributes, unless `agent="module:factory"` names a factory of its
    own (online learners in repeated games); the built-in solvers are named in `arena/agents/builtins.py`, so that
    listing them imports none.
    """

    name: str = "solver"
    description: str = ""  # one line for `arena list agents` (a plugin's)
    tags: tuple[str, ...] = ()
    agent_factory: Callable[..., Any]
    default_iterations: int = 1000  # the agent's default `iterations`
    positive: tuple[str, ...] = ()  # parameters that must be positive (checked when the agent is built)
    realizations: int = 0  # sampled trajectories used so far (sampling-based solvers)

    def __init_subclass__(cls, name: str | None = None, agent: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name is None:
            return
        cls.name = name
        cls.agent_factory = staticmethod(solver_agent_factory(cls))
        if name in solvers:  # named by the built-ins (or a plugin's entry): its entries load this class when used
            return
        register_solver(name, cls, agent, cls.description, cls.tags)

    def __init__(self, game: TabularGame, **params: Any) -> None:
        self.game = game
        self.iterations = 0

    @abc.abstractmethod
    def iteration(self) -> None:
        """One iteration (a self-play update of every player)."""

    @abc.abstractmethod
    def policy(self) -> TabularPolicy:
        """The policy to evaluate and play (average or last iterate, as the algorithm prescribes)."""


def check_positive(owner: str, **values: float | None) -> None:
    """Raise a ParameterError naming the first parameter that is given but not positive."""
    for name, value in values.items():
        if value is not None and not value > 0:
            raise ParameterError(f"{owner}: {name} must be positive, got {value}")


def make_solver(name: str, game: TabularGame, seed: int = 0, **params: Any) -> Solver:
    """Build a registered solver, checking its parameters; `seed` goes to solvers that take one."""
    cls = solvers.get(name).load()
    accepted = inspect.signature(cls.__init__).parameters
    if "seed" in accepted:
        params = {"seed": seed, **params}
    params = check_params(cls, params, f"solver {name}", skip=("game",))
    try:
        return cls(game, **params)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"solver {name}: {exc}") from None


@dataclass
class SolveResult:
    """What `solve` returns: the final policy and the curve of (iteration, gap, seconds spent solving).

    The gap is the exploitability in two-player zero-sum games and NashConv otherwise; `seconds` counts solver
    time only (evaluations excluded).
    """

    policy: TabularPolicy
    curve: list[tuple[int, float, float]] = field(default_factory=list)
    realizations: int = 0
    solver: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def final_gap(self) -> float:
        return self.curve[-1][1]


def evaluation_points(iterations: int, eval_every: int | None) -> list[int]:
    """Iterations at which to evaluate: every `eval_every`, or about 40 log-spaced points; always the last."""
    if eval_every is not None:
        if eval_every < 1:
            raise ParameterError("eval_every must be at least 1")
        points = set(range(eval_every, iterations + 1, eval_every))
    else:
        points = {int(x) for x in np.unique(np.round(np.geomspace(1, max(iterations, 1), 40)))}
    return sorted(p for p in points | {iterations} if 1 <= p <= iterations)


def solve(
    env: str | TabularGame,
    solver: str,
    iterations: int,
    eval_every: int | None = None,
    seed: int = 0,
    progress: Callable[[int, float | None], None] | None = None,
    **params: Any,
) -> SolveResult:
    """Run `iterations` iterations of a registered solver on a game, evaluating the gap along the way.

    `progress(iteration, gap_or_None)` is called after every iteration (with the gap where one was evaluated).
    """
    if not isinstance(iterations, int) or iterations < 1:
        raise ParameterError("iterations must be a positive integer")
    game = load(env) if isinstance(env, str) else env
    instance = make_solver(solver, game, seed=seed, **params)
    points = set(evaluation_points(iterations, eval_every))
    curve, elapsed = [], 0.0
    for t in range(1, iterations + 1):
        start = time.perf_counter()
        instance.iteration()
        elapsed += time.perf_counter() - start
        value = None
        if t in points:
            value = float(gap(game, instance.policy().plans()))
            curve.append((t, value, elapsed))
        if progress is not None:
            progress(t, value)
    return SolveResult(
        policy=instance.policy(),
        curve=curve,
        realizations=int(instance.realizations),
        solver=solver,
        params=dict(params),
    )


# ---------------------------------------------------------------------------------------------------------------
# Cached solutions and the agents that play them


def cached_policy(
    game: TabularGame, solver: str, iterations: int, seed: int = 0, use_cache: bool = True, **params: Any
) -> TabularPolicy:
    """The policy `solve` returns, read from the cache when the same game, solver, parameters and iterations were
    solved before (and written there otherwise)."""
    identity = json.dumps(
        {"game": game.key, "solver": solver, "iterations": iterations, "seed": seed, "params": params},
        sort_keys=True,
        default=str,
    )
    path = cache_dir("policies") / f"{solver}-{hashlib.sha1(identity.encode()).hexdigest()[:20]}.json"
    if use_cache:
        known = _SOLVED.get(str(path))
        if known is not None and known.game is game:
            return known
        if path.exists():
            policy = TabularPolicy.load(path, game)
            _SOLVED[str(path)] = policy
            return policy
    policy = solve(game, solver, iterations, eval_every=iterations, seed=seed, **params).policy
    if use_cache:
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        policy.save(temporary)
        temporary.replace(path)
        _SOLVED[str(path)] = policy
    return policy


# Policies this process has read or written, by cache file: agents of one solution share it (and its lookup).
_SOLVED: dict[str, TabularPolicy] = {}
_LOOKUPS: weakref.WeakKeyDictionary[TabularPolicy, dict[str, tuple[np.ndarray, list[float]]]] = (
    weakref.WeakKeyDictionary()
)


def _lookup_of(policy: TabularPolicy) -> dict[str, tuple[np.ndarray, list[float]]]:
    """The policy's lookup for play, built once per policy (solver agents treat their solution as fixed)."""
    table = _LOOKUPS.get(policy)
    if table is None:
        table = _LOOKUPS[policy] = policy.lookup()
    return table


class SolverAgent(Agent):
    """Plays the policy a solver finds: solved at construction when `env` is given, else at the first reset.

    `action_probs` is exact (looked up by the observation's info_state). In repeated normal-form games the
    stage-game solution is played every round.
    """

    name = "solver"

    def __init__(
        self,
        solver: str,
        env: str | None = None,
        iterations: int = 1000,
        seed: int = 0,
        cache: bool = True,
        **params: Any,
    ) -> None:
        solvers.get(solver)
        if iterations < 1:
            raise ParameterError("iterations must be at least 1")
        self.solver = solver
        self.iterations = iterations
        self.solver_seed = seed
        self.cache = cache
        self.params = params
        self._spec: Any = None  # the env spec of the last reset
        self._table: dict[str, tuple[np.ndarray, list[float]]] | None = None  # the solution's lookup
        self._solution: TabularPolicy | None = None
        if env is not None:
            self.solution = self._solve(load(env))

    def _solve(self, game: TabularGame) -> TabularPolicy:
        return cached_policy(
            game, self.solver, self.iterations, seed=self.solver_seed, use_cache=self.cache, **self.params
        )

    def reset(self, seed: int | None, player: str, env_spec: Any) -> None:
        super().reset(seed, player, env_spec)
        if env_spec is not None and (env_spec is self._spec or env_spec == self._spec):
            return  # the same game as the last match: nothing to load
        game = load(env_spec)
        if self.solution is None or self.solution.game.key != game.key:
            self.solution = self._solve(game)
        self._spec = env_spec

    @property
    def solution(self) -> TabularPolicy | None:
        return self._solution

    @solution.setter
    def solution(self, policy: TabularPolicy | None) -> None:
        self._solution = policy
        self._spec = None
        self._table = None if policy is None else _lookup_of(policy)

    def _row(self, obs: Observation) -> tuple[np.ndarray, list[float]]:
        if self._table is None or self._solution is None:
            raise ParameterError(f"{self.name} has not been reset for a game")
        entry = self._table.get(obs.info_state or "")
        if entry is not None:
            return entry
        game = self._solution.game
        if game.kind == "normal-form":  # a later round of a repeated game: play the stage solution
            return self._table[game.players[int(obs.player.rpartition("_")[2])].keys[0]]
        raise ParameterError(f"{self.name}: information state {obs.info_state!r} is not in {game.name}")

    def action_probs(self, obs: Observation) -> np.ndarray:
        return self._row(obs)[0][: len(obs.action_mask)].copy()

    def act(self, obs: Observation) -> int:
        """Samples as numpy's Generator.choice(p=action_probs) does (the same draw gives the same action)."""
        return bisect.bisect_right(self._row(obs)[1], self.rng.random())


def solver_agent_factory(cls: type[Solver]) -> Callable[..., SolverAgent]:
    """The agent of a solver: `SolverAgent` with `env`, `iterations`, `seed`, `cache` and the solver's parameters."""
    common = [
        inspect.Parameter("env", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=str | None),
        inspect.Parameter("iterations", inspect.Parameter.KEYWORD_ONLY, default=cls.default_iterations, annotation=int),
        inspect.Parameter("seed", inspect.Parameter.KEYWORD_ONLY, default=0, annotation=int),
        inspect.Parameter("cache", inspect.Parameter.KEYWORD_ONLY, default=True, annotation=bool),
    ]

    def factory(**params: Any) -> SolverAgent:
        fixed = {p.name: params.pop(p.name, p.default) for p in common}
        check_positive(cls.name, iterations=fixed["iterations"], **{k: params.get(k) for k in cls.positive})
        return SolverAgent(cls.name, **fixed, **params)

    factory.__doc__ = f"`{cls.name}` as an agent: solves `env` (or the env of the match) and plays its policy."
    return signed(factory, common, cls.__init__, drop=("game", "seed"))
