"""The meta-game of a two-player env: the agents' payoff margins, their maximum-entropy Nash equilibrium, and the
Nash-averaging score and meta regret of every agent.

M[i, j] is i's mean payoff against j, averaged over seats, and A[i, j] = (M[i, j] - M[j, i]) / 2 is i's mean
payoff margin (A = M in zero-sum games). A is a symmetric zero-sum game between agents. Its value is 0. Its
maximum-entropy Nash equilibrium p* is a linear program, then the most uniform mixture among the optimal ones, as
in Nash averaging. Each agent gets the Nash-averaging score (A p*)_i and the regret `-(A p*)_i >= 0`: how much it
loses against the equilibrium mixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arena.tournaments.statistics import Scored


def zero_sum_nash(payoffs: np.ndarray) -> tuple[np.ndarray, float]:
    """A maximin strategy of the row player of the zero-sum matrix game `payoffs`, and the game's value (LP)."""
    import scipy.optimize  # heavy (a third of a second): loaded when a meta-game is solved, not when `arena` starts

    rows, cols = payoffs.shape
    # variables: p (rows) and v; maximise v subject to (p^T A)_j >= v for every column j, p in the simplex
    cost = np.zeros(rows + 1)
    cost[-1] = -1.0
    a_ub = np.hstack([-payoffs.T, np.ones((cols, 1))])
    a_eq = np.hstack([np.ones((1, rows)), np.zeros((1, 1))])
    result = scipy.optimize.linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.zeros(cols),
        A_eq=a_eq,
        b_eq=[1.0],
        bounds=[(0, None)] * rows + [(None, None)],
        method="highs",
    )
    p = np.clip(result.x[:rows], 0, None)
    return p / p.sum(), float(result.x[-1])


def max_entropy_nash(payoffs: np.ndarray, tolerance: float = 1e-9) -> tuple[np.ndarray, float]:
    """Among the maximin strategies of a zero-sum game, the one of largest entropy (unique; Nash averaging)."""
    import scipy.optimize  # heavy: see zero_sum_nash

    p0, value = zero_sum_nash(payoffs)
    n = len(p0)
    if n == 1:
        return p0, value

    def negative_entropy(p: np.ndarray) -> tuple[float, np.ndarray]:
        q = np.clip(p, 1e-12, None)
        return float((q * np.log(q)).sum()), np.log(q) + 1.0

    start = 0.5 * p0 + 0.5 * np.full(n, 1.0 / n)
    constraints = [
        {"type": "eq", "fun": lambda p: p.sum() - 1.0, "jac": lambda p: np.ones(n)},
        {"type": "ineq", "fun": lambda p: payoffs.T @ p - value + tolerance, "jac": lambda p: payoffs.T},
    ]
    result = scipy.optimize.minimize(
        negative_entropy,
        start,
        jac=True,
        method="SLSQP",
        bounds=[(0, 1)] * n,
        constraints=constraints,
        options={"ftol": 1e-12, "maxiter": 500},
    )
    p = np.clip(result.x, 0, None)
    p /= p.sum()
    if not result.success or (payoffs.T @ p).min() < value - 1e-6:
        return p0, value
    return p, value


@dataclass
class MetaGame:
    """The empirical meta-game of the agents that played (rows and columns in `agents` order)."""

    agents: list[str]
    payoffs: list[list[float | None]]  # M: mean payoff of row against column; None where never played
    margin: list[list[float]]  # A = (M - M^T) / 2
    unplayed_pairs: int
    nash: list[float]  # the maximum-entropy equilibrium p*
    value: float
    nash_averaging: list[float]  # (A p*)_i
    regret: list[float]  # max(value - (A p*)_i, 0)


def meta_game(names: list[str], games: Sequence[Scored]) -> MetaGame | None:
    """The meta-game of the agents on one two-player env, its equilibrium and Nash-averaging scores (None when
    fewer than two agents played)."""
    index = {n: i for i, n in enumerate(names)}
    n = len(names)
    totals, counts = np.zeros((n, n)), np.zeros((n, n))
    for m in games:
        seats = m.seats
        if len(seats) != 2 or seats[0] == seats[1]:
            continue
        i, j = index[seats[0]], index[seats[1]]
        totals[i, j] += m.payoffs[0]
        totals[j, i] += m.payoffs[1]
        counts[i, j] += 1
        counts[j, i] += 1
    played = counts.sum(axis=1) > 0
    if played.sum() < 2:
        return None
    keep = [k for k in range(n) if played[k]]
    counts, totals = counts[np.ix_(keep, keep)], totals[np.ix_(keep, keep)]
    mean = np.divide(totals, counts, out=np.zeros_like(totals), where=counts > 0)
    margin = (mean - mean.T) / 2.0
    missing = (counts == 0) & ~np.eye(len(keep), dtype=bool)
    nash, value = max_entropy_nash(margin)
    scores = margin @ nash
    return MetaGame(
        agents=[names[k] for k in keep],
        payoffs=_none_where(mean, missing | np.eye(len(keep), dtype=bool)),
        margin=margin.tolist(),
        unplayed_pairs=int(missing.sum() // 2),
        nash=nash.tolist(),
        value=value,
        nash_averaging=scores.tolist(),
        regret=np.maximum(value - scores, 0.0).tolist(),
    )


def _none_where(matrix: np.ndarray, mask: np.ndarray) -> list[list[float | None]]:
    return [
        [None if mask[i, j] else float(matrix[i, j]) for j in range(matrix.shape[1])] for i in range(matrix.shape[0])
    ]
