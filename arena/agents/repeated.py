"""Solver agents that turn into online learners on repeated matrix games.

`ftrl` (Hedge) and `nash_mp` are both offline solvers (they solve the game once and play the result) and no-regret
online learners. This agent picks the mode when a match starts: in a matrix game played for more than one round it
learns round by round from the full-information feedback `Feedback.action_payoffs`; everywhere else it is the
solver's `SolverAgent` (solve or load the cached policy, play it with exact `action_probs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from arena.core import Agent, Feedback, Observation
from arena.envs.matrix import MatrixGameEnv
from arena.games.solve import SolverAgent
from arena.registry import make_env
from arena.specs import EnvSpec


class OnlineLearner(Protocol):
    """A learner over one player's actions in a repeated normal-form game."""

    def probs(self) -> np.ndarray: ...

    def update(self, payoffs: np.ndarray) -> None: ...


def repeated_matrix_game(env_spec: EnvSpec | None) -> MatrixGameEnv | None:
    """The env of `env_spec` if it is a matrix game played for more than one round, else None."""
    if env_spec is None or int(env_spec.params.get("rounds", 1)) <= 1:
        return None
    env = make_env(env_spec)
    return env if isinstance(env, MatrixGameEnv) else None


class RepeatedGameAgent(Agent):
    """A solver agent with an online override for repeated matrix games.

    `make_learner(env, player)` builds the online learner of player index `player` from the repeated game's
    MatrixGameEnv (its payoff tensor gives the number of actions and the payoff range step sizes are scaled by).
    """

    def __init__(
        self,
        solver: str,
        make_learner: Callable[[Any, int], OnlineLearner],
        env: str | None = None,
        iterations: int = 1000,
        **params: Any,
    ) -> None:
        self.solver = solver
        self.make_learner = make_learner
        self.iterations = iterations
        self.params = params
        self.learner: OnlineLearner | None = None
        self.rewards: list[float] = []
        self.solver_agent: Agent | None = None
        self._game: tuple[EnvSpec | None, MatrixGameEnv | None] | None = None  # the last reset's spec and game
        if env is not None:
            spec = make_env(env).spec
            self._game = (spec, repeated_matrix_game(spec))
            if self._game[1] is None:
                self.solver_agent = self._make_solver_agent(env)

    def _make_solver_agent(self, env: str | None) -> Agent:
        return SolverAgent(self.solver, env=env, iterations=self.iterations, **self.params)

    def reset(self, seed: int | None, player: str, env_spec: Any) -> None:
        super().reset(seed, player, env_spec)
        if self._game is None or self._game[0] != env_spec:  # the same game as the last match: built once
            self._game = (env_spec, repeated_matrix_game(env_spec))
        env = self._game[1]
        self.rewards = []
        if env is not None:
            self.learner = self.make_learner(env, env.possible_agents.index(player))
            return
        self.learner = None
        if self.solver_agent is None:
            self.solver_agent = self._make_solver_agent(None)
        self.solver_agent.reset(seed, player, env_spec)

    def _solver(self) -> Agent:
        """The solver's agent, which `reset` builds whenever there is no online learner."""
        assert self.solver_agent is not None, "reset() builds the solver agent when there is no online learner"
        return self.solver_agent

    def action_probs(self, obs: Observation) -> np.ndarray:
        if self.learner is not None:
            return self.learner.probs()
        return self._solver().action_probs(obs)

    def act(self, obs: Observation) -> int | np.ndarray:
        if self.learner is not None:
            return super().act(obs)
        return self._solver().act(obs)

    def observe(self, feedback: Feedback) -> None:
        if self.learner is None:
            self._solver().observe(feedback)
            return
        self.rewards.append(feedback.reward)
        if feedback.action_payoffs is not None:
            self.learner.update(np.asarray(feedback.action_payoffs, dtype=np.float64))

    def match_stats(self) -> dict[str, Any]:
        if self.learner is None:
            return self.solver_agent.match_stats() if self.solver_agent is not None else {}
        return {"mode": "online", "rounds": len(self.rewards), "mean_reward": float(np.mean(self.rewards or [0.0]))}
