"""Regret in repeated games, from each round's full-information feedback and the agent's strategy.

u_t is the payoff each action would have earned in round t, and pi_t the agent's strategy (its `action_probs` when
it has them, else the action it played). External regret R_T = max_a sum_t u_t(a) - sum_t <u_t, pi_t>, dynamic
regret D_T = sum_t max_a u_t(a) - sum_t <u_t, pi_t>; both are averaged per round. The sublinearity test of Park et
al. ("Do LLM Agents Have Regret?") fits log R_t = b0 log t + b1 on the agent's mean regret curve (`loglog_slope`).
That fit reads any linear curve with a head start (R_t = c + a t, c > 0) as a slope below 1, so the verdict rests on
the growth exponent b of R_t = c + a t^b fitted over all rounds with the offset c free
(`growth_exponent`, least squares profiled over b), and on its 95% interval from resampling matches: "yes"
(sublinear) when the whole interval is below 1 (by more than the fit's resolution, 0.001), or when the regret
per round is not positive (its interval at or below 0); "no" when the interval reaches 1 and the regret per
round is clearly positive (its interval above 0); "inconclusive" otherwise, including when there is no interval
(a single match).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.tournaments.ratings import percentile_interval
from arena.tournaments.statistics import mean_interval


@dataclass
class RegretCurves:
    """Cumulative regrets after each round of one match, for one player."""

    external: np.ndarray
    dynamic: np.ndarray


def regret_curves(action_payoffs: list[list[float]], strategies: list[list[float]] | list[int]) -> RegretCurves:
    """Cumulative external and dynamic regret after each round, for one player of one match."""
    u = np.asarray(action_payoffs, dtype=float)
    if np.asarray(strategies).ndim == 1:
        pi = np.zeros_like(u)
        pi[np.arange(len(u)), np.asarray(strategies, dtype=int)] = 1.0
    else:
        pi = np.asarray(strategies, dtype=float)
    earned = np.cumsum((u * pi[:, : u.shape[1]]).sum(axis=1))
    external = np.cumsum(u, axis=0).max(axis=1) - earned
    dynamic = np.cumsum(u.max(axis=1)) - earned
    return RegretCurves(external, dynamic)


def loglog_slope(curve: np.ndarray) -> float | None:
    """Least-squares slope b0 of log R_t on log t over the rounds where R_t > 0 (None with fewer than 3)."""
    t = np.arange(1, len(curve) + 1)
    positive = curve > 0
    if positive.sum() < 3:
        return None
    slope, _ = np.polyfit(np.log(t[positive]), np.log(curve[positive]), 1)
    return float(slope)


EXPONENTS = np.linspace(0.0, 2.0, 801)  # the grid of growth exponents b, step 0.0025
RESOLUTION = 1e-3  # an exponent interval counts as below 1 when its upper end is below 1 - RESOLUTION


@functools.lru_cache(maxsize=8)
def _design(rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """t^b for every grid exponent b (rows) and round t, centred, with each row's sum of squares (shared by every
    curve of this length)."""
    t = np.arange(1, rounds + 1, dtype=float)
    x = (t / t[-1])[None, :] ** EXPONENTS[:, None]  # scaled so that large t stays finite
    xc = x - x.mean(axis=1, keepdims=True)
    return xc, np.maximum((xc * xc).sum(axis=1), 1e-300)


def growth_exponent(curve: np.ndarray) -> float | None:
    """The exponent b of R_t = c + a t^b (c and a free, least squares) over all rounds, from a grid of step 0.0025
    on [0, 2] refined by a parabola through the best three; None with fewer than 8 rounds or a curve that does not
    grow."""
    curve = np.asarray(curve, dtype=float)
    if len(curve) < 8:
        return None
    y = curve
    if np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())):
        return None
    xc, squares = _design(len(curve))
    yc = y - y.mean()
    slope = (xc @ yc) / squares
    residual = (yc * yc).sum() - slope * (xc @ yc)
    residual = np.where(slope > 0, residual, np.inf)  # a growing curve: a > 0
    k = int(np.argmin(residual))
    if not np.isfinite(residual[k]):
        return None
    if 0 < k < len(EXPONENTS) - 1 and np.all(np.isfinite(residual[k - 1 : k + 2])):
        r0, r1, r2 = residual[k - 1 : k + 2]
        bend = r0 - 2 * r1 + r2
        if bend > 0:
            return float(EXPONENTS[k] + 0.5 * (r0 - r2) / bend * (EXPONENTS[1] - EXPONENTS[0]))
    return float(EXPONENTS[k])


def sublinearity(exponent_ci: tuple[float, ...] | None, regret_ci: tuple[float, float]) -> str:
    """ "yes", "no" or "inconclusive" from the 95% interval of the growth exponent and of the regret per round."""
    if regret_ci[1] <= 0:
        return "yes"
    if exponent_ci is None:
        return "inconclusive"
    if exponent_ci[1] < 1 - RESOLUTION:
        return "yes"
    if regret_ci[0] > 0:
        return "no"
    return "inconclusive"


def _mean_curve(curves: list[np.ndarray]) -> np.ndarray:
    length = max(len(c) for c in curves)
    stacked = np.full((len(curves), length), np.nan)
    for k, c in enumerate(curves):
        stacked[k, : len(c)] = c
    return np.nanmean(stacked, axis=0)


@dataclass
class RegretSummary:
    """An agent's regret over its matches of one env."""

    matches: int
    rounds: int
    external_regret_per_round: float
    external_regret_ci: tuple[float, float]
    dynamic_regret_per_round: float
    external_regret: float
    dynamic_regret: float
    loglog_slope: float | None  # Park et al.'s log-log slope of the whole mean curve
    loglog_slope_ci: tuple[float, ...] | None
    growth_exponent: float | None  # b of R_t = c + a t^b, the offset c free
    growth_exponent_ci: tuple[float, ...] | None
    sublinear: str  # yes | no | inconclusive
    curve_external: list[float]  # mean R_t / t
    curve_dynamic: list[float]  # mean D_t / t


def regret_summary(curves: list[RegretCurves], num_bootstrap: int = 100, seed: int = 0) -> RegretSummary:
    """An agent's regret over its matches: final average regrets, mean curves and the log-log sublinearity test."""
    external = [c.external for c in curves]
    dynamic = [c.dynamic for c in curves]
    mean_external = _mean_curve(external)
    rounds = np.arange(1, len(mean_external) + 1)
    slope = loglog_slope(mean_external)
    exponent = growth_exponent(mean_external)
    rng = np.random.default_rng(seed)
    replicates, exponents = [], []
    for _ in range(num_bootstrap if len(curves) > 1 else 0):
        pick = rng.integers(0, len(curves), size=len(curves))
        resampled = _mean_curve([external[k] for k in pick])
        value = loglog_slope(resampled)
        if value is not None:
            replicates.append(value)
        grown = growth_exponent(resampled)
        exponents.append(0.0 if grown is None else grown)  # a replicate that does not grow has no positive rate
    slope_ci = tuple(float(x) for x in percentile_interval(replicates)) if replicates else None
    exponent_ci = (
        tuple(float(x) for x in percentile_interval(exponents)) if exponents and exponent is not None else None
    )
    final_external = [c[-1] / len(c) for c in external]
    final_dynamic = [d[-1] / len(d) for d in dynamic]
    ext_mean, ext_low, ext_high = mean_interval(final_external)
    return RegretSummary(
        matches=len(curves),
        rounds=int(len(mean_external)),
        external_regret_per_round=ext_mean,
        external_regret_ci=(ext_low, ext_high),
        dynamic_regret_per_round=float(np.mean(final_dynamic)),
        external_regret=float(mean_external[-1]),
        dynamic_regret=float(_mean_curve(dynamic)[-1]),
        loglog_slope=slope,
        loglog_slope_ci=slope_ci,
        growth_exponent=exponent,
        growth_exponent_ci=exponent_ci,
        sublinear=sublinearity(exponent_ci, (ext_low, ext_high)),
        curve_external=(mean_external / rounds).tolist(),
        curve_dynamic=(_mean_curve(dynamic) / rounds).tolist(),
    )


def env_regret(matches: Iterable[tuple[tuple[str, ...], dict[str, Any]]]) -> dict[str, RegretSummary]:
    """Regret of every agent that played an env, from the (seats, rounds) of its matches with full-information
    feedback in schedule order (`records.MatchTally.rounds`)."""
    curves: dict[str, list[RegretCurves]] = defaultdict(list)
    for seats, rounds in matches:
        for s, name in enumerate(seats):
            payoffs = rounds["action_payoffs"][s]
            if not payoffs or any(p is None for p in payoffs):
                continue
            strategy = rounds["policies"][s] if rounds["policies"][s] is not None else rounds["actions"][s]
            curves[name].append(regret_curves(payoffs, strategy))
    return {name: regret_summary(c) for name, c in curves.items()}
