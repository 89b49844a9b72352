"""Nash Mirror Prox (Nash-MP): extragradient steps on the KL-regularised game, with last-iterate convergence.

From "Accelerating Nash Learning from Human Feedback via Mirror Prox" (Tiapkin, Calandriello, Belomestny, Moulines,
Naumov, Rasul, Valko, Menard, 2025). The game is regularised toward a reference policy pi_ref with strength beta:
each player maximises its payoff minus beta * KL(pi || pi_ref). Starting from pi_0 = pi_ref, one iteration is two
mirror steps of size eta, both centred on pi_k; the first takes the gradient at pi_k, the second at the extrapolated
point pi_{k+1/2}:

    pi_{k+1/2} = argmax_pi  eta * (<g(pi_k), pi>       - beta * KL(pi || pi_ref)) - KL(pi || pi_k)
    pi_{k+1}   = argmax_pi  eta * (<g(pi_{k+1/2}), pi> - beta * KL(pi || pi_ref)) - KL(pi || pi_k)

On normal-form and preference games each step is the closed form
pi(y) ∝ pi_k(y)^{1/(1+eta*beta)} * pi_ref(y)^{eta*beta/(1+eta*beta)} * exp(eta * g(y) / (1+eta*beta)),
with g(y) the payoff of y against the other player's policy (P(y beats pi) - 1/2 in a preference game). On
extensive-form games KL is the dilated (sequence-form) KL and the step is solved bottom-up over information sets
(arena.agents.dilated). The last iterate converges linearly to the beta-regularised equilibrium: with eta = 1/L
(L the Lipschitz constant of the payoff gradient, 1/2 for preference games) KL(pi*_beta || pi_k) shrinks by
1/(1 + eta*beta) per iteration, i.e. (1 + 2*beta)^(-N/2) after N preference queries (two per iteration). As
beta -> 0 the regularised equilibrium tends to a Nash equilibrium of the game itself.

As an online agent in a repeated matrix game (`rounds > 1`), `nash_mp` plays optimistic mirror prox from the
full-information feedback: it plays the extrapolated policy pi_{k+1/2}, computed with the previous round's payoff
vector as the prediction of g, then takes the full step from pi_k with the payoff vector observed this round.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from arena.agents.dilated import (
    counterfactual_utilities,
    log_normalize,
    proximal_step,
    realization_plans,
    reference_log_probs,
)
from arena.agents.repeated import RepeatedGameAgent
from arena.core import Agent, ParameterError
from arena.games.policy import TabularPolicy
from arena.games.solve import Solver, check_positive
from arena.games.tree import TabularGame, load


def check_regularization(owner: str, eta: float, beta: float) -> None:
    """eta > 0 and beta >= 0 (beta = 0 is unregularised mirror prox), else a ParameterError."""
    check_positive(owner, eta=eta)
    if not beta >= 0:
        raise ParameterError(f"{owner}: beta must be non-negative, got {beta}")


class NashMirrorProx(Solver, name="nash_mp"):
    """Nash-MP self-play on the beta-regularised game; plays the last iterate.

    `reference` is the anchor policy pi_ref: None for uniform, a policy file, or an agent spec probed at every
    information set. `preference_queries` counts the gradient evaluations (two per iteration).
    """

    def __init__(self, game: TabularGame, eta: float = 1.0, beta: float = 0.01, reference: str | None = None) -> None:
        check_regularization("nash_mp", eta, beta)
        super().__init__(game)
        self.eta = eta
        self.beta = beta
        self.log_reference = reference_log_probs(game, reference)
        self.log_probs = [lp.copy() for lp in self.log_reference]
        self.preference_queries = 0

    def _step(self, gradient_at: list[np.ndarray]) -> list[np.ndarray]:
        """One mirror step centred on the current iterate, with the gradient taken at `gradient_at`."""
        gradients = counterfactual_utilities(self.game, realization_plans(self.game, gradient_at))
        self.preference_queries += 1
        return [
            proximal_step(tree, gradient, center, reference, self.eta, self.beta)
            for tree, gradient, center, reference in zip(
                self.game.players, gradients, self.log_probs, self.log_reference
            )
        ]

    def iteration(self) -> None:
        extrapolated = self._step(self.log_probs)
        self.log_probs = self._step(extrapolated)

    def policy(self) -> TabularPolicy:
        return TabularPolicy(self.game, [np.exp(lp) for lp in self.log_probs])


class OnlineNashMirrorProx:
    """Optimistic Nash mirror prox for one player of a repeated matrix game (an online learner)."""

    def __init__(self, log_reference: np.ndarray, eta: float, beta: float) -> None:
        self.log_reference = log_reference
        self.legal = np.isfinite(log_reference)
        self.eta = eta
        self.beta = beta
        self.log_center = log_reference.copy()
        self.prediction = np.zeros_like(log_reference)

    def _step(self, payoffs: np.ndarray) -> np.ndarray:
        strength = 1.0 + self.eta * self.beta
        logits = (
            np.where(self.legal, self.log_center, 0.0)
            + self.eta * self.beta * np.where(self.legal, self.log_reference, 0.0)
            + self.eta * payoffs
        ) / strength
        return log_normalize(logits, self.legal)[0]

    def probs(self) -> np.ndarray:
        return np.exp(self._step(self.prediction))

    def update(self, payoffs: np.ndarray) -> None:
        self.log_center = self._step(payoffs)
        self.prediction = payoffs


def _online_for(env: Any, player: int, eta: float, beta: float, reference: str | None) -> OnlineNashMirrorProx:
    if reference is None:
        log_reference = np.full(env.num_actions[player], -np.log(env.num_actions[player]))
    else:
        stage = load(env.spec.with_params(rounds=1))
        log_reference = reference_log_probs(stage, reference)[player][0, : env.num_actions[player]]
    return OnlineNashMirrorProx(log_reference, eta, beta)


def nash_mp_agent(
    env: str | None = None,
    iterations: int = 1000,
    eta: float = 1.0,
    beta: float = 0.01,
    reference: str | None = None,
    seed: int = 0,
    cache: bool = True,
) -> Agent:
    """`nash_mp` as an agent: solves `env` (or the env of the match) with `iterations` of Nash-MP and plays the last
    iterate; in a repeated matrix game it learns online with optimistic mirror prox."""
    check_regularization("nash_mp", eta, beta)
    check_positive("nash_mp", iterations=iterations)
    learner = functools.partial(_online_for, eta=eta, beta=beta, reference=reference)
    return RepeatedGameAgent(
        "nash_mp",
        learner,
        env=env,
        iterations=iterations,
        seed=seed,
        cache=cache,
        eta=eta,
        beta=beta,
        reference=reference,
    )
