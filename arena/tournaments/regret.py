"""Regret in repeated games, from each round's full-information feedback and the agent's strategy.

u_t is the payoff each action would have earned in round t, and pi_t the agent's strategy (its `action_probs` when
it has them, else the action it played). External regret R_T = max_a sum_t u_t(a) - sum_t <u_t, pi_t>, dynamic
regret D_T = sum_t max_a u_t(a) - sum_t <u_t, pi_t>; both are averaged per round. The sublinearity test of Park et
al. ("Do LLM Agents Have Regret?") fits log R_t = b0 log t + b1 on the agent's mean regret curve: b0 < 1 means
sublinear regret. The interval on b0 comes from resampling matches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arena.tournaments.records import MatchRecord
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
    loglog_slope: float | None
    loglog_slope_ci: tuple[float, ...] | None
    sublinear: bool
    curve_external: list[float]  # mean R_t / t
    curve_dynamic: list[float]  # mean D_t / t


def regret_summary(curves: list[RegretCurves], num_bootstrap: int = 100, seed: int = 0) -> RegretSummary:
    """An agent's regret over its matches: final average regrets, mean curves and the log-log sublinearity test."""
    external = [c.external for c in curves]
    dynamic = [c.dynamic for c in curves]
    mean_external = _mean_curve(external)
    rounds = np.arange(1, len(mean_external) + 1)
    slope = loglog_slope(mean_external)
    rng = np.random.default_rng(seed)
    replicates = []
    for _ in range(num_bootstrap if slope is not None and len(curves) > 1 else 0):
        pick = rng.integers(0, len(curves), size=len(curves))
        value = loglog_slope(_mean_curve([external[k] for k in pick]))
        if value is not None:
            replicates.append(value)
    slope_ci = tuple(float(x) for x in np.percentile(replicates, [2.5, 97.5])) if replicates else None
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
        sublinear=bool(mean_external[-1] <= 0 or (slope is not None and slope < 1)),
        curve_external=(mean_external / rounds).tolist(),
        curve_dynamic=(_mean_curve(dynamic) / rounds).tolist(),
    )


def env_regret(matches: Sequence[MatchRecord]) -> dict[str, RegretSummary]:
    """Regret of every agent that played an env with full-information feedback."""
    curves: dict[str, list[RegretCurves]] = defaultdict(list)
    for m in matches:
        rounds = m.rounds
        if not rounds:
            continue
        for s, name in enumerate(m.seats):
            payoffs = rounds["action_payoffs"][s]
            if not payoffs or any(p is None for p in payoffs):
                continue
            strategy = rounds["policies"][s] if rounds["policies"][s] is not None else rounds["actions"][s]
            curves[name].append(regret_curves(payoffs, strategy))
    return {name: regret_summary(c) for name, c in curves.items()}
