"""Ratings from pairwise results: Bradley-Terry maximum likelihood and Elo, with bootstrap confidence intervals.

This follows how Chatbot Arena reports ratings. Each match gives one comparison per pair of seats: the higher
payoff wins and equal payoffs are a tie, which counts as half a win for each side. The Bradley-Terry model says
`P(i beats j) = 1 / (1 + 10^((R_j - R_i) / 400))`. Ratings are fitted by Newton's method, centred on 1000, with a weak
Gaussian prior so that an agent that never loses keeps a finite rating. Elo is the online rule
`R += K (S - E)` run over the matches in a shuffled order. Its reported value is the median over bootstrap
replicates, because Elo depends on the order of the matches. Each interval holds the 2.5 and 97.5 percentiles of
`num_bootstrap` refits on matches resampled with replacement. The rank of an agent is one plus the number of
agents whose lower bound is above its upper bound, so agents whose intervals overlap share a rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SCALE = 400.0 / math.log(10.0)  # natural log-odds -> rating points
BASE = 1000.0
PRIOR = 1e-3  # weight of the N(0, 1/PRIOR) prior on log-odds strengths
ELO_K = 16.0


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


def _log_likelihood(theta: np.ndarray, wins: np.ndarray) -> float:
    diff = theta[:, None] - theta[None, :]
    return float((wins * -np.logaddexp(0.0, -diff)).sum() - 0.5 * PRIOR * theta @ theta)


def fit_bradley_terry(wins: np.ndarray, tolerance: float = 1e-10) -> np.ndarray:
    """Ratings maximising the Bradley-Terry likelihood of `wins[i, j]` (score of i against j, ties as halves).

    Newton's method with step halving on the concave penalised log-likelihood: exact to `tolerance` in a few
    iterations for the handful of agents of a tournament.
    """
    n = wins.shape[0]
    games = wins + wins.T
    theta = np.zeros(n)
    current = _log_likelihood(theta, wins)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))
        gradient = (wins - games * p).sum(axis=1) - PRIOR * theta
        weights = games * p * (1.0 - p)
        hessian = weights - np.diag(weights.sum(axis=1)) - PRIOR * np.eye(n)
        step = np.linalg.lstsq(hessian, -gradient, rcond=None)[0]  # the null space is a common shift
        size = 1.0
        while size > 1e-6:
            candidate = theta + size * step
            value = _log_likelihood(candidate, wins)
            if value >= current - 1e-12:
                break
            size /= 2
        theta, current = candidate, value
        if np.abs(size * step).max() < tolerance:
            break
    return BASE + SCALE * (theta - theta.mean())


def elo(comparisons: list[tuple[int, int, float]], n: int, k: float = ELO_K) -> np.ndarray:
    """Online Elo over the comparisons in the order given."""
    ratings = np.full(n, BASE)
    for i, j, s in comparisons:
        expected = 1.0 / (1.0 + 10.0 ** ((ratings[j] - ratings[i]) / 400.0))
        ratings[i] += k * (s - expected)
        ratings[j] -= k * (s - expected)
    return ratings


def interval_ranks(lower: np.ndarray, upper: np.ndarray) -> list[int]:
    """Rank = 1 + number of agents whose lower bound is above this agent's upper bound."""
    return [1 + int((lower > upper[i]).sum()) for i in range(len(lower))]


def _ratings(names: list[str], point: np.ndarray, replicates: np.ndarray) -> list[Rating]:
    lower, upper = np.percentile(replicates, [2.5, 97.5], axis=0) if len(replicates) else (point, point)
    ranks = interval_ranks(lower, upper)
    return [Rating(name, float(point[i]), float(lower[i]), float(upper[i]), ranks[i]) for i, name in enumerate(names)]


def bradley_terry(
    names: list[str], comparisons: list[list[tuple[int, int, float]]], num_bootstrap: int = 200, seed: int = 0
) -> list[Rating]:
    """Bradley-Terry ratings from per-match comparisons, with intervals from resampling matches."""
    n = len(names)
    per_match = score_matrices(comparisons, n)
    point = fit_bradley_terry(per_match.sum(axis=0))
    if not len(per_match):
        return _ratings(names, point, np.empty((0, n)))
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(per_match), np.full(len(per_match), 1.0 / len(per_match)), size=num_bootstrap)
    totals = np.einsum("bm,mij->bij", counts, per_match)
    replicates = np.array([fit_bradley_terry(w) for w in totals])
    return _ratings(names, point, replicates)


def elo_ratings(
    names: list[str], comparisons: list[list[tuple[int, int, float]]], num_bootstrap: int = 200, seed: int = 0
) -> list[Rating]:
    """Elo ratings: the median over bootstrap replicates, each a resample of the matches in a random order.

    All replicates advance together, one comparison per step, so the cost is one short vector update per step;
    the replicates' sequences are index arrays into one table of the comparisons, gathered a block at a time.
    """
    n = len(names)
    flat = [c for items in comparisons for c in items]
    if not flat:
        return _ratings(names, np.full(n, BASE), np.empty((0, n)))
    table = np.array(flat + [(0, 0, 0.0)], dtype=float)  # the last row pads short sequences: no comparison
    first, second = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    score, weight = table[:, 2], np.full(len(table), ELO_K)
    weight[-1] = 0.0
    lengths = np.array([len(items) for items in comparisons])
    starts = np.cumsum(lengths) - lengths
    rng = np.random.default_rng(seed)
    sequences = []
    for _ in range(num_bootstrap):
        picks = rng.integers(0, len(comparisons), size=len(comparisons))
        taken = lengths[picks]
        offsets = np.arange(taken.sum()) - np.repeat(np.cumsum(taken) - taken, taken)
        sequences.append((np.repeat(starts[picks], taken) + offsets).astype(np.int32))
    steps = max(len(q) for q in sequences)
    order = np.full((num_bootstrap, steps), len(table) - 1, dtype=np.int32)
    for b, sequence in enumerate(sequences):
        order[b, : len(sequence)] = sequence
    del sequences
    ratings = np.full(num_bootstrap * n, BASE)  # replicate b's ratings at [b * n, (b + 1) * n)
    base = np.arange(num_bootstrap) * n
    for block in range(0, steps, 1024):
        rows = order[:, block : block + 1024].T
        block_i, block_j = first[rows] + base, second[rows] + base
        block_s, block_k = score[rows], weight[rows]
        for i, j, s, k in zip(block_i, block_j, block_s, block_k):
            expected = 1.0 / (1.0 + 10.0 ** ((ratings[j] - ratings[i]) / 400.0))
            delta = k * (s - expected)
            ratings[i] += delta
            ratings[j] -= delta
    replicates = ratings.reshape(num_bootstrap, n)
    return _ratings(names, np.median(replicates, axis=0), replicates)
