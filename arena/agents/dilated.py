"""Dilated (sequence-form) entropy regularisation: the closed-form step shared by FTRL, MMD and Nash mirror prox.

With the dilated entropy, maximising a linear payoff over a player's realization plans x minus weighted local
KL terms,

    max_x  <u, x>  -  sum_I  temperature[I] * x(parent(I)) * KL(pi_I || prior_I),

decomposes over information sets and is solved exactly bottom-up (Hoda, Gilpin, Pena & Sandholm 2010; Kroer,
Waugh, Kilinc-Karzan & Sandholm 2020): at infoset I with action values Q(I, a) = u[(I, a)] + the values of the
infosets that follow (I, a),

    pi_I(a) ∝ prior_I(a) * exp(Q(I, a) / temperature[I]),
    V(I)    = temperature[I] * log sum_a prior_I(a) * exp(Q(I, a) / temperature[I]),

and V(I) is added to Q of I's parent sequence. FTRL (prior = the initial policy, temperature = 1/eta), MMD and Nash
mirror prox (prior = a geometric mixture of the current policy and the reference) are all this one step with
different inputs. On a normal-form game each player has a single infoset and the step is the simplex closed form
(Hedge, or pi ∝ pi_k^{1/(1+eta*beta)} * ref^{eta*beta/(1+eta*beta)} * exp(eta*g/(1+eta*beta))).

Policies are kept as log-probabilities log_probs[I, a] (-inf on illegal actions) so that repeated multiplicative
updates never underflow to an exact zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from arena.games.policy import TabularPolicy, policy_from_agent
from arena.games.tree import PlayerTree, TabularGame
from arena.registry import make_agent


def masked_log(probs: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """log of a behavioural strategy, -inf on illegal actions."""
    with np.errstate(divide="ignore"):
        return np.where(legal, np.log(np.where(legal, probs, 1.0)), -np.inf)


def log_normalize(logits: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise (log-probabilities, log-partition) of `logits` restricted to the legal actions."""
    logits = np.where(legal, logits, -np.inf)
    peak = logits.max(axis=-1, keepdims=True)
    log_partition = peak + np.log(np.exp(logits - peak).sum(axis=-1, keepdims=True))
    return np.where(legal, logits - log_partition, -np.inf), log_partition[..., 0]


def regularized_response(
    tree: PlayerTree, utilities: np.ndarray, temperature: np.ndarray | float, log_prior: np.ndarray
) -> tuple[np.ndarray, float]:
    """Solve max_x <utilities, x> - sum_I temperature[I] x(parent(I)) KL(pi_I || prior_I) bottom-up.

    `utilities[s]` is the payoff collected at sequence s (e.g. `TabularGame.sequence_values`), `temperature` a
    scalar or one value per infoset, `log_prior[I, a]` unnormalised log-weights (-inf on illegal actions).
    Returns the optimal log_probs[I, a] and the optimal objective value.
    """
    temperature = np.broadcast_to(np.asarray(temperature, dtype=np.float64), (tree.num_infosets,))
    q = np.asarray(utilities, dtype=np.float64).copy()
    log_probs = np.full(tree.legal.shape, -np.inf)
    for infosets in reversed(tree.level_infosets):
        legal = tree.legal[infosets]
        action_values = np.where(legal, q[tree.seq[infosets]], 0.0)
        tau = temperature[infosets][:, None]
        log_probs[infosets], log_partition = log_normalize(log_prior[infosets] + action_values / tau, legal)
        q += np.bincount(tree.parent_seq[infosets], temperature[infosets] * log_partition, minlength=len(q))
    return log_probs, float(q[0])


def realization_plans(game: TabularGame, log_probs: list[np.ndarray]) -> list[np.ndarray]:
    """Every player's realization plan from log-probability policies."""
    return [tree.realization_plan(np.exp(lp)) for tree, lp in zip(game.players, log_probs)]


def counterfactual_utilities(game: TabularGame, plans: list[np.ndarray]) -> list[np.ndarray]:
    """Per player, the payoff collected at each of its sequences against the others' plans (the gradient of the
    player's expected utility with respect to its own realization plan)."""
    return [game.sequence_values(p, plans) for p in range(game.num_players)]


def proximal_step(
    tree: PlayerTree, utilities: np.ndarray, log_center: np.ndarray, log_reference: np.ndarray, eta: float, beta: float
) -> np.ndarray:
    """argmax_x  eta * (<utilities, x> - beta * D(x || reference)) - D(x || center) with D the dilated KL.

    Per infoset this is pi ∝ center^{1/(1+eta*beta)} * reference^{eta*beta/(1+eta*beta)} * exp(eta*Q/(1+eta*beta)),
    the magnetic mirror descent / mirror prox step. Returns the new log_probs.
    """
    strength = 1.0 + eta * beta
    legal = tree.legal
    center = np.where(legal, log_center, 0.0)
    reference = np.where(legal, log_reference, 0.0)
    log_prior = np.where(legal, (center + eta * beta * reference) / strength, -np.inf)
    log_probs, _ = regularized_response(tree, utilities, strength / eta, log_prior)
    return log_probs


def reference_log_probs(game: TabularGame, reference: str | None) -> list[np.ndarray]:
    """Per player log-probabilities of a reference policy: uniform (None), a policy file, or an agent spec
    (e.g. `mix(probs={rock: 0.5, paper: 0.5})`) probed once at every information set."""
    if reference is None:
        probs = [game.uniform_probs(p) for p in range(game.num_players)]
    elif Path(reference).is_file():
        probs = TabularPolicy.load(reference, game).probs
    else:
        probs = policy_from_agent(game, make_agent(reference)).probs
    return [masked_log(p, tree.legal) for p, tree in zip(probs, game.players)]


class PlanAverage:
    """The running average of every player's realization plan: the output of average-iterate solvers."""

    def __init__(self, game: TabularGame) -> None:
        self.game = game
        self.sums = [np.zeros(tree.num_sequences) for tree in game.players]
        self.count = 0

    def add(self, plans: list[np.ndarray]) -> None:
        for total, plan in zip(self.sums, plans):
            total += plan
        self.count += 1

    def probs(self) -> list[np.ndarray]:
        """The behavioural strategies of the average plans (uniform before the first iterate)."""
        if self.count == 0:
            return [self.game.uniform_probs(p) for p in range(self.game.num_players)]
        return [tree.behavioural(total / self.count) for tree, total in zip(self.game.players, self.sums)]
