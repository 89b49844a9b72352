"""Ratings from pairwise results: Bradley-Terry maximum likelihood and Elo, with bootstrap confidence intervals.

This follows how Chatbot Arena reports ratings. Each match gives one comparison per pair of seats: the higher
payoff wins and equal payoffs are a tie, which counts as half a win for each side. The Bradley-Terry model says
`P(i beats j) = 1 / (1 + 10^((R_j - R_i) / 400))`. Ratings are fitted by Newton's method, centred on 1000, with a weak
Gaussian prior so that an agent that never loses keeps a finite rating. Elo is the online rule
`R += K (S - E)` run over the matches in a shuffled order. Its reported value is the median over bootstrap
replicates, because Elo depends on the order of the matches. Each interval holds the 2.5 and 97.5 percentiles of
`num_bootstrap` refits on matches resampled with replacement. The rank of an agent is one plus the number of
agents whose lower bound is above its upper bound, so agents whose intervals overlap share a rank. Every fit takes
each distinct game once with how many times it was played (`counts`): a replicate draws those counts from the
multinomial that resampling the games one by one gives, so the fits cost the same for a hundred games or a million.

Win/draw/loss games are rated with Davidson's (1970) draw model instead of counting a draw as half a win:
`P(i beats j) = p_i / Z`, `P(draw) = nu sqrt(p_i p_j) / Z`, `Z = p_i + p_j + nu sqrt(p_i p_j)`, fitted by maximum
likelihood together with the draw parameter nu. Its ratings are on the same 400-point scale (among decisive games
`P(i beats j | not a draw) = 1 / (1 + 10^((R_j - R_i) / 400))`). Games may carry weights (the multi-env
leaderboard weighs each env equally) and bootstrap replicates resample games within their stratum (env).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

_kernel: Callable[..., None] | None
try:
    from arena.tournaments._elo import run as _kernel
except ImportError:  # built with the package where a C compiler is at hand; numpy runs the same steps otherwise
    _kernel = None

SCALE = 400.0 / math.log(10.0)  # natural log-odds -> rating points
BASE = 1000.0
PRIOR = 1e-3  # weight of the N(0, 1/PRIOR) prior on log-odds strengths
ELO_K = 16.0
ELO_BLOCK = 1024  # steps of every replicate drawn at a time
LN10_400 = math.log(10.0) / 400.0  # 10^(x / 400) = exp(x ln(10) / 400), as the kernel computes it


@dataclass
class Rating:
    """One agent's rating with its 95% bootstrap interval and interval-respecting rank."""

    name: str
    rating: float
    lower: float
    upper: float
    rank: int = 0

    def to_dict(self) -> dict[str, float | int | str]:
        return {"name": self.name, "rating": self.rating, "lower": self.lower, "upper": self.upper, "rank": self.rank}


def match_scores(seats: list[int], payoffs: list[float]) -> list[tuple[int, int, float]]:
    """The comparisons of one match: (i, j, score of i against j) for every pair of seats with different agents."""
    out = []
    for a in range(len(seats)):
        for b in range(a + 1, len(seats)):
            if seats[a] == seats[b]:
                continue
            diff = payoffs[a] - payoffs[b]
            score = 0.5 if abs(diff) <= 1e-9 else float(diff > 0)
            out.append((seats[a], seats[b], score))
    return out


def score_matrices(comparisons: list[list[tuple[int, int, float]]], n: int) -> np.ndarray:
    """Per match, the n x n matrix W with W[i, j] = score of i against j; shape [matches, n, n]."""
    out = np.zeros((len(comparisons), n, n))
    for m, items in enumerate(comparisons):
        for i, j, s in items:
            out[m, i, j] += s
            out[m, j, i] += 1.0 - s
    return out


def _log_likelihood(theta: np.ndarray, wins: np.ndarray) -> np.ndarray:
    """The penalised log-likelihood of each replicate: theta [B, n], wins [B, n, n] -> [B]."""
    diff = theta[:, :, None] - theta[:, None, :]
    return (wins * -np.logaddexp(0.0, -diff)).sum(axis=(1, 2)) - 0.5 * PRIOR * (theta * theta).sum(axis=1)


def fit_bradley_terry(wins: np.ndarray, tolerance: float = 1e-10) -> np.ndarray:
    """Ratings maximising the Bradley-Terry likelihood of `wins[i, j]` (score of i against j, ties as halves).

    Newton's method with step halving on the concave penalised log-likelihood: exact to `tolerance` in a few
    iterations for the handful of agents of a tournament. `wins` may be a stack [B, n, n] of score matrices (a
    bootstrap's replicates): all are fitted at once, each taking its own steps and stopping on its own.
    """
    stack = wins if wins.ndim == 3 else wins[None]
    count, n = stack.shape[0], stack.shape[1]
    games = stack + stack.transpose(0, 2, 1)
    theta = np.zeros((count, n))
    current = _log_likelihood(theta, stack)
    active = np.arange(count)  # replicates still moving
    penalty = PRIOR * np.eye(n)
    for _ in range(100):
        w, g, t = stack[active], games[active], theta[active]
        p = 1.0 / (1.0 + np.exp(-(t[:, :, None] - t[:, None, :])))
        gradient = (w - g * p).sum(axis=2) - PRIOR * t
        weights = g * p * (1.0 - p)
        hessian = weights - weights.sum(axis=2)[:, :, None] * np.eye(n) - penalty
        step = (np.linalg.pinv(hessian, hermitian=True) @ -gradient[:, :, None])[:, :, 0]  # null space: a shift
        size = np.ones(len(active))
        candidate = t + step
        value = _log_likelihood(candidate, w)
        short = value < current[active] - 1e-12  # halve these steps until the likelihood does not fall
        while short.any():
            size[short] /= 2
            candidate[short] = t[short] + size[short, None] * step[short]
            value[short] = _log_likelihood(candidate[short], w[short])
            short &= (value < current[active] - 1e-12) & (size > 1e-6)
        theta[active], current[active] = candidate, value
        active = active[np.abs(size[:, None] * step).max(axis=1) >= tolerance]
        if not len(active):
            break
    ratings = BASE + SCALE * (theta - theta.mean(axis=1, keepdims=True))
    return ratings if wins.ndim == 3 else ratings[0]


def elo(comparisons: list[tuple[int, int, float]], n: int, k: float = ELO_K) -> np.ndarray:
    """Online Elo over the comparisons in the order given."""
    ratings = np.full(n, BASE)
    for i, j, s in comparisons:
        expected = 1.0 / (1.0 + 10.0 ** ((ratings[j] - ratings[i]) / 400.0))
        ratings[i] += k * (s - expected)
        ratings[j] -= k * (s - expected)
    return ratings


def interval_ranks(lower: np.ndarray, upper: np.ndarray, tie: float = 0.0) -> list[int]:
    """Rank = 1 + number of agents whose lower bound is above this agent's upper bound by more than `tie`."""
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    return [1 + int((lower > upper[i] + tie).sum()) for i in range(len(lower))]


def components(n: int, pairs: list[tuple[int, int]]) -> list[list[int]]:
    """The connected components of the comparison graph of n agents (an edge per compared pair), in index order."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


@dataclass
class Outcome:
    """One decided comparison of a game: agent i against agent j, `score` 1 (i won), 0.5 (draw) or 0 (j won)."""

    game: int
    i: int
    j: int
    score: float


class _Outcomes:
    """Outcomes as arrays, so that each bootstrap replicate is a few weighted counts."""

    def __init__(self, outcomes: list[Outcome], n: int) -> None:
        self.n = n
        game = np.array([o.game for o in outcomes], dtype=np.int64)
        i = np.array([o.i for o in outcomes], dtype=np.int64)
        j = np.array([o.j for o in outcomes], dtype=np.int64)
        score = np.array([o.score for o in outcomes], dtype=float)
        winner = np.where(score == 0.0, j, i)
        loser = np.where(score == 0.0, i, j)
        drawn = score == 0.5
        self.win_game, self.win_cell = game[~drawn], (winner * n + loser)[~drawn]
        self.draw_game = game[drawn]
        self.draw_cells = (i * n + j)[drawn], (j * n + i)[drawn]

    def tables(self, game_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """wins[i, j] (weight of games i won against j) and the symmetric draws[i, j]."""
        n2 = self.n * self.n
        wins = np.bincount(self.win_cell, game_weights[self.win_game], n2).reshape(self.n, self.n)
        w = game_weights[self.draw_game]
        draws = np.bincount(self.draw_cells[0], w, n2) + np.bincount(self.draw_cells[1], w, n2)
        return wins, draws.reshape(self.n, self.n)


def davidson_log_likelihood(
    theta: np.ndarray, log_nu: float, wins: np.ndarray, draws: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The penalised Davidson log-likelihood at strengths `theta` (natural log-odds) and log nu, with its gradient
    and Hessian over (theta, log nu); weak Gaussian priors (`PRIOR`) on theta and log nu keep it strictly concave.

    Per pair i < j with w_ij wins of i, w_ji of j and d_ij draws out of n_ij games, the likelihood is
    w_ij a + w_ji b + d_ij c - n_ij log(e^a + e^b + e^c) with a = theta_i, b = theta_j, c = log nu + (a + b) / 2.
    """
    n = len(theta)
    iu, ju = np.triu_indices(n, 1)
    w_ij, w_ji, d = wins[iu, ju], wins[ju, iu], draws[iu, ju]
    total = w_ij + w_ji + d
    a, b = theta[iu], theta[ju]
    c = log_nu + 0.5 * (a + b)
    top = np.maximum(np.maximum(a, b), c)
    ea, eb, ec = np.exp(a - top), np.exp(b - top), np.exp(c - top)
    z = ea + eb + ec
    pa, pb, pc = ea / z, eb / z, ec / z
    value = float((w_ij * a + w_ji * b + d * c - total * (top + np.log(z))).sum())
    value -= 0.5 * PRIOR * (theta @ theta + log_nu * log_nu)
    ga, gb, gc = w_ij - total * pa, w_ji - total * pb, d - total * pc
    gradient = np.zeros(n + 1)
    np.add.at(gradient, iu, ga + 0.5 * gc)
    np.add.at(gradient, ju, gb + 0.5 * gc)
    gradient[-1] = gc.sum()
    gradient -= PRIOR * np.append(theta, log_nu)
    # Hessian of -n log-sum-exp in (a, b, c): -n (diag(p) - p p^T), carried to (theta_i, theta_j, log nu)
    haa, hbb, hcc = -total * pa * (1 - pa), -total * pb * (1 - pb), -total * pc * (1 - pc)
    hab, hac, hbc = total * pa * pb, total * pa * pc, total * pb * pc
    hessian = np.zeros((n + 1, n + 1))
    last = np.full(len(iu), n)
    for rows, cols, values in (
        (iu, iu, haa + hac + 0.25 * hcc),
        (ju, ju, hbb + hbc + 0.25 * hcc),
        (iu, ju, hab + 0.5 * hac + 0.5 * hbc + 0.25 * hcc),
        (ju, iu, hab + 0.5 * hac + 0.5 * hbc + 0.25 * hcc),
        (iu, last, hac + 0.5 * hcc),
        (last, iu, hac + 0.5 * hcc),
        (ju, last, hbc + 0.5 * hcc),
        (last, ju, hbc + 0.5 * hcc),
        (last, last, hcc),
    ):
        np.add.at(hessian, (rows, cols), values)
    hessian -= PRIOR * np.eye(n + 1)
    return value, gradient, hessian


def fit_davidson(
    wins: np.ndarray, draws: np.ndarray, start: tuple[np.ndarray, float] | None = None, tolerance: float = 1e-10
) -> tuple[np.ndarray, float]:
    """Ratings (400-point scale, centred on 1000) and the draw parameter nu maximising the Davidson likelihood of
    `wins[i, j]` (i beat j) and `draws[i, j]` (symmetric): Newton's method with step halving on the concave
    penalised log-likelihood, from `start` (ratings, nu) when given. Without draws it is Bradley-Terry (nu = 0)."""
    n = wins.shape[0]
    if draws.sum() == 0:
        return fit_bradley_terry(wins), 0.0
    theta = np.zeros(n)
    log_nu = math.log(max(draws.sum() / 2, 0.5) / max(wins.sum(), 0.5))
    if start is not None and start[1] > 0:
        theta, log_nu = (np.asarray(start[0]) - BASE) / SCALE, math.log(start[1])
    x = np.append(theta, log_nu)
    current, gradient, hessian = davidson_log_likelihood(x[:-1], x[-1], wins, draws)
    for _ in range(100):
        step = np.linalg.solve(hessian, -gradient)
        size = 1.0
        while size > 1e-8:
            candidate = x + size * step
            value, g, h = davidson_log_likelihood(candidate[:-1], candidate[-1], wins, draws)
            if value >= current - 1e-12:
                break
            size /= 2
        x, current, gradient, hessian = candidate, value, g, h
        if np.abs(size * step).max() < tolerance:
            break
    theta = x[:-1]
    return BASE + SCALE * (theta - theta.mean()), float(math.exp(x[-1]))


@dataclass
class DavidsonFit:
    """Davidson ratings with bootstrap intervals and interval-respecting ranks, and the fitted draw parameter."""

    ratings: list[Rating]
    draw_parameter: float


def davidson(
    names: list[str],
    outcomes: list[Outcome],
    num_games: int,
    num_bootstrap: int = 200,
    seed: int = 0,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> DavidsonFit:
    """Davidson ratings of `names` from the decided comparisons of `num_games` distinct games (`Outcome.game`
    indexes them), each played `counts` times (once by default) and weighted by `weights` (1 by default);
    intervals from resampling the games played with replacement within each stratum (`strata`, one label per
    game; one stratum by default)."""
    n = len(names)
    weights = np.ones(num_games) if weights is None else np.asarray(weights, dtype=float)
    played = np.ones(num_games, dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
    table = _Outcomes(outcomes, n)
    point, nu = fit_davidson(*table.tables(weights * played))
    if not num_games:
        return DavidsonFit(_ratings(names, point, np.empty((0, n))), nu)
    strata = np.zeros(num_games, dtype=int) if strata is None else np.asarray(strata)
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(strata == s) for s in sorted(set(strata.tolist()))]  # np.unique would import numpy.ma
    replicates = []
    for _ in range(num_bootstrap):
        drawn = np.zeros(num_games)
        for games in members:
            total = int(played[games].sum())
            drawn[games] = rng.multinomial(total, played[games] / total)
        replicates.append(fit_davidson(*table.tables(weights * drawn), start=(point, nu))[0])
    return DavidsonFit(_ratings(names, point, np.array(replicates)), nu)


def percentile_interval(replicates: Any) -> tuple[np.ndarray, np.ndarray]:
    """The 2.5th and 97.5th percentiles of bootstrap `replicates` along their first axis: the values
    `np.percentile(replicates, [2.5, 97.5], axis=0)` gives (its linear method: sorted values interpolated at
    (n - 1) q, in numpy's own two-sided form), without the import of numpy.ma that numpy's routine makes through
    `np.unique` on its first call (7-14 ms of every command that reports a tournament)."""
    values = _sorted_replicates(replicates)
    n = values.shape[0]
    virtual = (n - 1) * np.true_divide(np.array([2.5, 97.5]), 100)
    below = np.floor(virtual)
    above = below + 1
    last = virtual >= n - 1
    below[last] = above[last] = -1
    gamma = (virtual - below).reshape((2,) + (1,) * (values.ndim - 1))
    low, high = values[below.astype(np.intp)], values[above.astype(np.intp)]
    step = high - low
    result = np.add(low, step * gamma)
    np.subtract(high, step * (1 - gamma), out=result, where=gamma >= 0.5)
    low, high = _nan_columns(result, values)
    return low, high


def median_along(replicates: Any) -> np.ndarray:
    """The median of `replicates` along their first axis: the values `np.median(replicates, axis=0)` gives (the
    mean of the middle one or two sorted values, by `np.mean` as numpy's own), without its import of numpy.ma."""
    values = _sorted_replicates(replicates)
    n = values.shape[0]
    return _nan_columns(np.asarray(np.mean(values[(n - 1) // 2 : n // 2 + 1], axis=0)), values)


def _sorted_replicates(replicates: Any) -> np.ndarray:
    values = np.sort(np.asarray(replicates, dtype=float), axis=0)  # a NaN sorts last, as in numpy's partition
    if not values.shape[0]:
        raise ValueError("no bootstrap replicates")
    return values


def _nan_columns(result: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`result` with NaN where a column of the sorted `values` holds one, as numpy's percentile and median give."""
    np.copyto(result, values[-1], where=np.isnan(values[-1]))
    return result


def _ratings(names: list[str], point: np.ndarray, replicates: np.ndarray) -> list[Rating]:
    lower, upper = percentile_interval(replicates) if len(replicates) else (point, point)
    ranks = interval_ranks(lower, upper)
    return [Rating(name, float(point[i]), float(lower[i]), float(upper[i]), ranks[i]) for i, name in enumerate(names)]


def bradley_terry(
    names: list[str],
    comparisons: list[list[tuple[int, int, float]]],
    num_bootstrap: int = 200,
    seed: int = 0,
    counts: Sequence[int] | None = None,
) -> list[Rating]:
    """Bradley-Terry ratings from the comparisons of each distinct match, played `counts` times (once by
    default), with intervals from resampling the matches played."""
    n = len(names)
    per_match = score_matrices(comparisons, n)
    played = np.ones(len(comparisons), dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
    point = fit_bradley_terry(np.einsum("m,mij->ij", played, per_match))
    if not len(per_match):
        return _ratings(names, point, np.empty((0, n)))
    rng = np.random.default_rng(seed)
    total = int(played.sum())
    drawn = rng.multinomial(total, played / total, size=num_bootstrap)
    totals = np.einsum("bm,mij->bij", drawn, per_match)
    replicates = fit_bradley_terry(totals)
    return _ratings(names, point, replicates)


def elo_ratings(
    names: list[str],
    comparisons: list[list[tuple[int, int, float]]],
    num_bootstrap: int = 200,
    seed: int = 0,
    counts: Sequence[int] | np.ndarray | None = None,
) -> list[Rating]:
    """Elo ratings: the median over bootstrap replicates, each a resample of the matches played in a random
    order. The matches played are the distinct `comparisons`, each `counts` times (once by default); a replicate
    draws its steps uniformly among them, `rng.integers(0, played)` mapped to the distinct match whose counts
    cover that position, a block of steps of every replicate at a time.

    The compiled kernel (`_elo.c`, built with the package where a C compiler is at hand) runs each replicate's
    block of steps; without it all replicates advance together in numpy, one match per step (its comparisons
    one after another), a few short vector updates per step, 50-100 times slower. Both give the same ratings.
    The distinct matches' comparisons are padded to the same number with no-ops.
    """
    n = len(names)
    width = max((len(items) for items in comparisons), default=0)
    ends = np.cumsum(np.ones(len(comparisons), np.int64) if counts is None else np.asarray(counts, np.int64))
    steps = int(ends[-1]) if len(ends) else 0
    if not width or not steps:
        return _ratings(names, np.full(n, BASE), np.empty((0, n)))
    first, second = np.zeros((len(comparisons), width), np.int64), np.zeros((len(comparisons), width), np.int64)
    score, weight = np.zeros((len(comparisons), width)), np.zeros((len(comparisons), width))
    for m, items in enumerate(comparisons):
        for c, (i, j, s) in enumerate(items):
            first[m, c], second[m, c], score[m, c], weight[m, c] = i, j, s, ELO_K
    at = np.repeat(np.arange(len(comparisons), dtype=np.int32), np.diff(ends, prepend=0))  # position -> match
    rng = np.random.default_rng(seed)
    ratings = np.full(num_bootstrap * n, BASE)  # replicate b's ratings at [b * n, (b + 1) * n)
    base = np.arange(num_bootstrap)[:, None] * n
    kind = np.int32 if steps < 2**31 else np.int64

    def draw(block: int) -> np.ndarray:
        """Every replicate's steps from `block` on, as distinct matches: [replicate, step]."""
        return at[rng.integers(0, steps, size=(num_bootstrap, min(ELO_BLOCK, steps - block)), dtype=kind)]

    if _kernel is None:
        for block in range(0, steps, ELO_BLOCK):
            _elo_steps(ratings, draw(block).T, base, first, second, score, weight)
    else:  # the kernel releases the GIL: each core runs a share of the replicates while the next block is drawn
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        shares = [(r[0], r[-1] + 1) for r in np.array_split(np.arange(num_bootstrap), min(cores, num_bootstrap))]
        with ThreadPoolExecutor(len(shares)) as pool:
            rows = draw(0)
            for block in range(0, steps, ELO_BLOCK):
                runs = [
                    pool.submit(_kernel, ratings[b * n : e * n], first, second, score, weight, rows[b:e], width, n)
                    for b, e in shares
                ]
                if block + ELO_BLOCK < steps:
                    rows = draw(block + ELO_BLOCK)
                for done in runs:
                    done.result()
    replicates = ratings.reshape(num_bootstrap, n)
    return _ratings(names, median_along(replicates), replicates)


def _elo_steps(
    ratings: np.ndarray,
    rows: np.ndarray,
    base: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    score: np.ndarray,
    weight: np.ndarray,
) -> None:
    """The kernel's steps in numpy: `rows` [step, replicate] are distinct matches; all replicates advance
    together, one match per step (its comparisons one after another)."""
    block_i, block_j = first[rows] + base, second[rows] + base  # [step, replicate, comparison]
    block_s, block_k = score[rows], weight[rows]
    for step in zip(*(a.transpose(0, 2, 1) for a in (block_i, block_j, block_s, block_k))):
        for i, j, s, k in zip(*step):
            expected = 1.0 / (1.0 + np.exp((ratings[j] - ratings[i]) * LN10_400))
            delta = k * (s - expected)
            ratings[i] += delta
            ratings[j] -= delta
