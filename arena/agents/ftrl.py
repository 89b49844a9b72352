"""Follow the regularized leader over the sequence form with the dilated entropy; Hedge on normal-form games.

Self-play with full feedback. Every iteration each player receives the exact gradient of its expected utility with
respect to its realization plan (the counterfactual utility of each of its sequences against the others' current
plans), adds it to its cumulative utility U_t, and plays

    x_{t+1} = argmax_x  <U_t, x>  -  (1/eta) * sum_I x(parent(I)) * KL(pi_I || uniform),

the regularised best response, solved in closed form bottom-up over its information sets (arena.agents.dilated).
The solver outputs the average of the realization plans, which converges to a Nash equilibrium in two-player
zero-sum games. `optimistic=True` is predictive FTRL (Rakhlin & Sridharan 2013; Farina, Kroer & Sandholm 2019):
the last gradient is counted once more as a prediction of the next one, which speeds up convergence in self-play.

On a normal-form game each player has a single information set and the update is Hedge (exponential weights):
pi_{t+1} ∝ exp(eta * cumulative payoffs).

As an online agent in a repeated matrix game (`rounds > 1`), `ftrl` plays Hedge round by round from the
full-information feedback `Feedback.action_payoffs`, with step size `step_size`, or by default the anytime schedule
eta_t = sqrt(ln n / t) / span (n actions, span = the range of its stage payoffs), whose regret is O(span sqrt(T ln n)).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from arena.agents.dilated import (
    PlanAverage,
    counterfactual_utilities,
    masked_log,
    realization_plans,
    regularized_response,
)
from arena.agents.repeated import RepeatedGameAgent
from arena.core import Agent
from arena.games.policy import TabularPolicy
from arena.games.solve import Solver, check_positive
from arena.games.tree import TabularGame


class FTRL(Solver, name="ftrl"):
    """Full-feedback FTRL with the dilated entropy (Hedge on normal-form games); plays the average iterate."""

    def __init__(self, game: TabularGame, eta: float = 5.0, optimistic: bool = False) -> None:
        check_positive("ftrl", eta=eta)
        super().__init__(game)
        self.eta = eta
        self.optimistic = optimistic
        self.log_prior = [masked_log(game.uniform_probs(p), tree.legal) for p, tree in enumerate(game.players)]
        self.log_probs = [prior.copy() for prior in self.log_prior]
        self.cumulative = [np.zeros(tree.num_sequences) for tree in game.players]
        self.average = PlanAverage(game)

    def iteration(self) -> None:
        plans = realization_plans(self.game, self.log_probs)
        self.average.add(plans)
        for player, (tree, gradient) in enumerate(zip(self.game.players, counterfactual_utilities(self.game, plans))):
            self.cumulative[player] += gradient
            leader = self.cumulative[player] + gradient if self.optimistic else self.cumulative[player]
            self.log_probs[player], _ = regularized_response(tree, leader, 1.0 / self.eta, self.log_prior[player])

    def current_policy(self) -> TabularPolicy:
        """The policy of the next iteration (the last iterate)."""
        return TabularPolicy(self.game, [np.exp(lp) for lp in self.log_probs])

    def policy(self) -> TabularPolicy:
        return TabularPolicy(self.game, self.average.probs())


class Hedge:
    """Exponential weights over n actions from full-information payoff vectors (an online learner)."""

    def __init__(
        self, num_actions: int, payoff_span: float = 1.0, step_size: float | None = None, optimistic: bool = False
    ) -> None:
        check_positive("ftrl", step_size=step_size)
        self.num_actions = num_actions
        self.payoff_span = payoff_span if payoff_span > 0 else 1.0
        self.step_size = step_size
        self.optimistic = optimistic
        self.cumulative = np.zeros(num_actions)
        self.last = np.zeros(num_actions)
        self.rounds = 0

    def current_step_size(self) -> float:
        if self.step_size is not None:
            return self.step_size
        return math.sqrt(math.log(self.num_actions) / (self.rounds + 1)) / self.payoff_span

    def probs(self) -> np.ndarray:
        scores = self.cumulative + self.last if self.optimistic else self.cumulative
        logits = self.current_step_size() * (scores - scores.max())
        weights = np.exp(logits)
        return weights / weights.sum()

    def update(self, payoffs: np.ndarray) -> None:
        self.cumulative += payoffs
        self.last = payoffs
        self.rounds += 1


def _hedge_for(env: Any, player: int, step_size: float | None, optimistic: bool) -> Hedge:
    payoffs = env.payoffs[player]
    return Hedge(env.num_actions[player], float(payoffs.max() - payoffs.min()), step_size, optimistic)


def ftrl_agent(
    env: str | None = None,
    iterations: int = 1000,
    eta: float = 5.0,
    optimistic: bool = False,
    step_size: float | None = None,
    seed: int = 0,
    cache: bool = True,
) -> Agent:
    """`ftrl` as an agent: solves `env` (or the env of the match) with `iterations` of FTRL and plays the average
    policy; in a repeated matrix game it learns online with Hedge (`step_size`, default sqrt(ln n / t) / span)."""
    check_positive("ftrl", eta=eta, step_size=step_size, iterations=iterations)
    learner = functools.partial(_hedge_for, step_size=step_size, optimistic=optimistic)
    return RepeatedGameAgent(
        "ftrl", learner, env=env, iterations=iterations, seed=seed, cache=cache, eta=eta, optimistic=optimistic
    )
