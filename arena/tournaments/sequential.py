"""Paired statistics and the generalised sequential probability ratio test (GSPRT) of a head-to-head comparison.

A pair is one seed played in both seat orders: the unit of evidence, because the two games share their luck
(the same deals, the same starting positions) and what is left is the difference between the agents.

- Games of win/draw/loss: a pair scores A 0, 1/2, 1, 3/2 or 2 points out of 2, so pairs are counted in five
  classes (the pentanomial). A's expected score per game `s` gives its Elo advantage, `400 log10(s / (1 - s))`
  (the logistic model). The GSPRT's log-likelihood ratio between H1 (`s = s1`) and H0 (`s = s0`) compares the
  pentanomial distributions of largest likelihood with mean score `s1` and `s0`; the one of mean `m` closest to
  the observed frequencies `f` is `f_i / (1 + lam (a_i - m))`, with `lam` the root of `sum f_i (a_i - m) / (1 +
  lam (a_i - m)) = 0` (a Lagrange multiplier; the sum falls monotonically, and Newton's method in a bracket finds
  it).
  Empty classes get a frequency of 1e-3 so that every mean in (0, 1) is reachable.
- Games that pay amounts: each pair gives A's mean payoff minus B's mean payoff per game, and the GSPRT is that of
  a normal mean with unknown variance, `n/2 log((v + (x - m0)^2) / (v + (x - m1)^2))` for the sample mean `x` and
  variance `v` of `n` pairs.

The test stops at the first pair where the ratio leaves `(log(beta / (1 - alpha)), log((1 - beta) / alpha))`
(Wald's bounds): above, H1 (A is stronger by at least elo1 or margin1); below, H0. Decisions are computed from the
pairs in seed order, so the same stored games always give the same decision and the same stopping pair.
`simulate_errors` measures the type I and type II errors on simulated agents; `fixed_pairs` is the size of the
fixed-N test with the same errors, the baseline the sequential test saves against.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.errors import ParameterError
from arena.tournaments.ratings import median_along

PAIR_SCORES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])  # A's score per game in each pentanomial class
EMPTY_CLASS = 1e-3  # the frequency an empty class is given
MIN_PAIRS = 10  # no decision before this many pairs (the variance estimate of fewer is too rough)
NEWTON_STEPS = 48  # from no first guess
WARM_STEPS = 4  # from the previous pair's multiplier, after the first COLD_PAIRS pairs
COLD_PAIRS = 64


def elo_score(elo: float | np.ndarray) -> Any:
    """A's expected score per game at an Elo advantage of `elo` (logistic)."""
    return 1.0 / (1.0 + 10.0 ** (-np.asarray(elo, dtype=float) / 400.0))


def score_elo(score: float | np.ndarray) -> Any:
    """The Elo advantage of an expected score per game (+-6400 at scores of 0 and 1)."""
    s = np.clip(np.asarray(score, dtype=float), 1e-300, 1 - 1e-16)
    with np.errstate(divide="ignore"):
        return 400.0 * np.log10(s / (1.0 - s))


# ---------------------------------------------------------------------------------------------------------------
# Hypotheses


@dataclass(frozen=True)
class Hypotheses:
    """H0: A's advantage is `h0`, H1: it is `h1` (> h0), in Elo (`kind` "elo") or in payoff per game ("margin");
    `alpha` is the chance of accepting H1 when H0 holds, `beta` of accepting H0 when H1 holds."""

    kind: str = "elo"
    h0: float = 0.0
    h1: float = 5.0
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        if self.kind not in ("elo", "margin"):
            raise ParameterError(f"hypotheses are about elo or margin, not {self.kind!r}")
        if not self.h1 > self.h0:
            name = "elo" if self.kind == "elo" else "margin"
            raise ParameterError(f"{name}1 must be larger than {name}0 (got {self.h0:g} and {self.h1:g})")
        for label, value in (("alpha", self.alpha), ("beta", self.beta)):
            if not 0 < value < 0.5:
                raise ParameterError(f"{label} must be between 0 and 0.5 (got {value:g})")

    @classmethod
    def parse(cls, text: str) -> Hypotheses:
        """`elo0=0,elo1=5,alpha=0.05,beta=0.05` (Elo) or `margin0=0,margin1=0.1` (payoff per game); keys may be
        left out (elo0=0, elo1=5, alpha=beta=0.05; margin0=0)."""
        values: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or key not in ("elo0", "elo1", "margin0", "margin1", "alpha", "beta"):
                raise ParameterError(
                    f"--sprt takes key=value items among elo0, elo1, margin0, margin1, alpha, beta; got {item!r}"
                )
            try:
                values[key] = float(value)
            except ValueError:
                raise ParameterError(f"--sprt: {key} must be a number, got {value.strip()!r}") from None
            if not math.isfinite(values[key]):
                raise ParameterError(f"--sprt: {key} must be finite")
        elo = {"elo0", "elo1"} & set(values)
        margin = {"margin0", "margin1"} & set(values)
        if elo and margin:
            raise ParameterError("--sprt tests elo or margin, not both")
        errors = {k: values[k] for k in ("alpha", "beta") if k in values}
        if margin:
            if "margin1" not in values:
                raise ParameterError("--sprt: margin1 (the advantage H1 claims) is required")
            return cls("margin", values.get("margin0", 0.0), values["margin1"], **errors)
        return cls("elo", values.get("elo0", 0.0), values.get("elo1", 5.0), **errors)

    @property
    def bounds(self) -> tuple[float, float]:
        """Wald's bounds on the log-likelihood ratio: below the first H0 is accepted, above the second H1."""
        return math.log(self.beta / (1 - self.alpha)), math.log((1 - self.beta) / self.alpha)

    @property
    def text(self) -> str:
        name = "elo" if self.kind == "elo" else "margin"
        return f"{name}0={self.h0:g},{name}1={self.h1:g},alpha={self.alpha:g},beta={self.beta:g}"

    def means(self) -> tuple[float, float]:
        """The two hypotheses in the statistic's own unit: score per game (elo) or payoff per game (margin)."""
        if self.kind == "elo":
            return float(elo_score(self.h0)), float(elo_score(self.h1))
        return self.h0, self.h1


def pair_values(games: dict[tuple[str, ...], tuple[float, ...]], a: str, b: str) -> tuple[float, float]:
    """A pair's points for A (0 to 2: 1 a win, 1/2 a draw per game) and its margin (A's payoff minus B's, per game),
    from the payoffs of its two games keyed by seat order."""
    points = margin = 0.0
    for seats, payoffs in games.items():
        mine, theirs = payoffs[seats.index(a)], payoffs[seats.index(b)]
        points += 1.0 if mine > theirs else 0.5 if mine == theirs else 0.0
        margin += (mine - theirs) / 2
    return points, margin


# ---------------------------------------------------------------------------------------------------------------
# Log-likelihood ratios (vectorised over leading axes)


def pentanomial(pair_points: Sequence[float] | np.ndarray) -> np.ndarray:
    """Counts of the five classes from each pair's points for A (0, 0.5, 1, 1.5 or 2)."""
    index = np.rint(np.asarray(pair_points, dtype=float) * 2).astype(int)
    if index.size and (index.min() < 0 or index.max() > 4):
        raise ValueError("a pair's points are between 0 and 2")
    return np.bincount(index, minlength=5).astype(float)


def closest_distribution(
    freqs: np.ndarray, mean: float, start: np.ndarray | None = None, steps: int = NEWTON_STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """The distribution over PAIR_SCORES of mean `mean` with the largest likelihood for observed frequencies
    `freqs` (rows sum to 1, all positive), and its multiplier; vectorised over leading axes. `start` is a first
    guess of the multiplier (the previous pair's, in a sequential test), with which a few `steps` suffice."""
    d = PAIR_SCORES - mean
    lo = np.full(freqs.shape[:-1], -1.0 / d.max())
    hi = np.full(freqs.shape[:-1], -1.0 / d.min())
    span = hi - lo
    lo, hi = lo + span * 1e-12, hi - span * 1e-12
    lam = np.zeros(freqs.shape[:-1]) if start is None else np.clip(start, lo, hi)
    for _ in range(steps):  # Newton's method kept inside a shrinking bracket of the root
        q = freqs * d / (1.0 + lam[..., None] * d)
        g = q.sum(axis=-1)
        slope = -(q * d / (1.0 + lam[..., None] * d)).sum(axis=-1)
        above = g > 0  # g falls with lam: the root lies above lam
        lo = np.where(above, lam, lo)
        hi = np.where(above, hi, lam)
        step = lam - g / slope
        lam = np.where(step <= lo, (lam + lo) / 2, np.where(step >= hi, (lam + hi) / 2, step))
    found = freqs / (1.0 + lam[..., None] * d)
    return found / found.sum(axis=-1, keepdims=True), lam


def _frequencies(counts: np.ndarray) -> np.ndarray:
    freqs = np.where(counts > 0, counts, EMPTY_CLASS)
    return freqs / freqs.sum(axis=-1, keepdims=True)


def llr_pentanomial(counts: np.ndarray, s0: float, s1: float) -> np.ndarray:
    """The GSPRT's log-likelihood ratio of H1 (mean score s1) against H0 (s0) for pentanomial `counts` (last axis
    of 5); zero where fewer than MIN_PAIRS pairs are counted."""
    counts = np.asarray(counts, dtype=float)
    freqs = _frequencies(counts)
    p0, _ = closest_distribution(freqs, s0)
    p1, _ = closest_distribution(freqs, s1)
    llr = (counts * (np.log(p1) - np.log(p0))).sum(axis=-1)
    return np.where(counts.sum(axis=-1) >= MIN_PAIRS, llr, 0.0)


def llr_normal(n: np.ndarray, mean: np.ndarray, var: np.ndarray, m0: float, m1: float) -> np.ndarray:
    """The GSPRT's log-likelihood ratio of H1 (mean m1) against H0 (m0) for `n` normal values of sample `mean` and
    (biased) sample `var`; zero where n < MIN_PAIRS."""
    n = np.asarray(n, dtype=float)
    var = np.maximum(np.asarray(var, dtype=float), 1e-12 * (m1 - m0) ** 2)
    mean = np.asarray(mean, dtype=float)
    llr = n / 2 * (np.log(var + (mean - m0) ** 2) - np.log(var + (mean - m1) ** 2))
    return np.where(n >= MIN_PAIRS, llr, 0.0)


def llr_path(values: Sequence[float] | np.ndarray, hypotheses: Hypotheses, start: int = 0) -> np.ndarray:
    """The log-likelihood ratio after each pair from pair `start` on: `values` are pair points (elo) or pair
    margins (margin), all of them from the first pair."""
    values = np.asarray(values, dtype=float)
    m0, m1 = hypotheses.means()
    if hypotheses.kind == "elo":
        index = np.rint(values * 2).astype(int)
        counts = np.cumsum(np.eye(5)[index], axis=0) if len(values) else np.zeros((0, 5))
        return llr_pentanomial(counts[start:], m0, m1)
    n = np.arange(1, len(values) + 1)
    mean = np.cumsum(values) / n
    var = np.cumsum(values**2) / n - mean**2
    return llr_normal(n[start:], mean[start:], var[start:], m0, m1)


# ---------------------------------------------------------------------------------------------------------------
# Decisions and intervals


@dataclass(frozen=True)
class Decision:
    """Where a sequential test stands: `result` "H1", "H0" or None (undecided), the ratio `llr` after the `pairs`
    pairs it used (up to the stopping pair), and `decided_at` (the stopping pair, None if undecided)."""

    result: str | None
    llr: float
    pairs: int
    decided_at: int | None
    lower: float
    upper: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "llr": self.llr,
            "pairs": self.pairs,
            "decided_at": self.decided_at,
            "bounds": [self.lower, self.upper],
        }


def decide(values: Sequence[float] | np.ndarray, hypotheses: Hypotheses) -> Decision:
    """Run the test over the pairs in order and stop at the first one outside the bounds."""
    path = llr_path(values, hypotheses)
    lower, upper = hypotheses.bounds
    out = np.flatnonzero((path <= lower) | (path >= upper))
    if len(out):
        k = int(out[0])
        return Decision("H1" if path[k] >= upper else "H0", float(path[k]), k + 1, k + 1, lower, upper)
    return Decision(None, float(path[-1]) if len(path) else 0.0, len(path), None, lower, upper)


@dataclass(frozen=True)
class Estimate:
    """A's advantage from `pairs` pairs: `mean` with a two-sided `confidence` interval, the standard deviation of
    one pair (`pair_sd`), and for win/draw/loss games the same in Elo."""

    kind: str
    pairs: int
    mean: float
    low: float
    high: float
    pair_sd: float
    confidence: float
    elo: float | None = None
    elo_low: float | None = None
    elo_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def estimate(values: Sequence[float] | np.ndarray, kind: str, confidence: float = 0.95) -> Estimate:
    """The mean per game of pair `values` (points: score per game; margins: payoff difference per game) with its
    normal interval; for points also in Elo (the interval's ends clipped to scores in [0, 1])."""
    from scipy import stats  # scipy.stats loads here, not when the tournament engine is imported

    x = np.asarray(values, dtype=float) / (2.0 if kind == "elo" else 1.0)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * sd / math.sqrt(n) if n > 1 else math.nan
    found = Estimate(kind, n, mean, mean - half, mean + half, sd, confidence)
    if kind != "elo" or not n:
        return found
    elo_low = elo_high = None
    if math.isfinite(half):
        elo_low = float(score_elo(min(max(mean - half, 0.0), 1.0)))
        elo_high = float(score_elo(min(max(mean + half, 0.0), 1.0)))
    return dataclasses.replace(found, elo=float(score_elo(mean)), elo_low=elo_low, elo_high=elo_high)


def fixed_pairs(pair_sd: float, hypotheses: Hypotheses) -> int:
    """Pairs a fixed-N one-sided test needs for the same alpha and beta between the hypotheses, for pairs of
    standard deviation `pair_sd` (per game: score or payoff)."""
    from scipy import stats

    m0, m1 = hypotheses.means()
    z = stats.norm.ppf(1 - hypotheses.alpha) + stats.norm.ppf(1 - hypotheses.beta)
    return max(1, math.ceil((z * pair_sd / (m1 - m0)) ** 2))


# ---------------------------------------------------------------------------------------------------------------
# Simulation


def pentanomial_at(elo: float, draw_ratio: float = 0.5) -> np.ndarray:
    """A pentanomial distribution of two independent games, each won with probability w and drawn with
    probability d, whose mean score is that of `elo` (d is `draw_ratio` of the non-winning mass at elo 0 scale)."""
    score = float(elo_score(elo))
    d = min(draw_ratio * 2 * min(score, 1 - score), 1.0)
    w = score - d / 2
    game = np.array([1 - w - d, d, w])  # loss, draw, win: points 0, 1/2, 1
    pair = np.convolve(game, game)  # the points of two games: 0, 1/2, 1, 3/2, 2
    return pair


@dataclass(frozen=True)
class Simulation:
    """Outcomes of `runs` simulated sequential tests: how often each hypothesis was accepted, how many stayed
    undecided at `max_pairs`, and the mean and median pairs to a decision."""

    runs: int
    accepted_h1: int
    accepted_h0: int
    undecided: int
    mean_pairs: float
    median_pairs: float

    @property
    def h1_rate(self) -> float:
        return self.accepted_h1 / self.runs

    @property
    def h0_rate(self) -> float:
        return self.accepted_h0 / self.runs


def simulate_errors(
    sample: Any,
    hypotheses: Hypotheses,
    runs: int,
    max_pairs: int,
    seed: int = 0,
    block: int = 64,
) -> Simulation:
    """Play `runs` sequential tests on pairs drawn by `sample(rng, shape)` (pair points for elo, pair margins for
    margin), all runs at once, `block` pairs at a time, until each decides or reaches `max_pairs`."""
    rng = np.random.default_rng(seed)
    lower, upper = hypotheses.bounds
    m0, m1 = hypotheses.means()
    stop = np.zeros(runs, dtype=int)
    result = np.zeros(runs, dtype=int)  # 1: H1, -1: H0
    counts = np.zeros((runs, 5))
    lam0, lam1 = np.zeros(runs), np.zeros(runs)
    total = np.zeros(runs)
    total_sq = np.zeros(runs)
    done = 0
    while done < max_pairs and (result == 0).any():
        size = min(block, max_pairs - done)
        live = np.flatnonzero(result == 0)
        values = np.asarray(sample(rng, (len(live), size)), dtype=float)
        n = done + np.arange(1, size + 1)
        if hypotheses.kind == "elo":
            path = np.empty(values.shape)
            index = np.rint(values * 2).astype(int)
            for t in range(size):  # pair by pair, each multiplier starting from the previous pair's
                counts[live, index[:, t]] += 1
                freqs = _frequencies(counts[live])
                steps = WARM_STEPS if n[t] > COLD_PAIRS else NEWTON_STEPS
                p0, lam0[live] = closest_distribution(freqs, m0, lam0[live], steps)
                p1, lam1[live] = closest_distribution(freqs, m1, lam1[live], steps)
                path[:, t] = (counts[live] * (np.log(p1) - np.log(p0))).sum(axis=-1)
            path[:, n < MIN_PAIRS] = 0.0
        else:
            sums = total[live][:, None] + np.cumsum(values, axis=1)
            squares = total_sq[live][:, None] + np.cumsum(values**2, axis=1)
            mean = sums / n
            path = llr_normal(np.broadcast_to(n, sums.shape), mean, squares / n - mean**2, m0, m1)
            total[live], total_sq[live] = sums[:, -1], squares[:, -1]
        crossed = (path <= lower) | (path >= upper)
        first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
        hit = first >= 0
        rows = live[hit]
        stop[rows] = n[first[hit]]
        result[rows] = np.where(path[hit, first[hit]] >= upper, 1, -1)
        done += size
    decided = stop[result != 0]
    return Simulation(
        runs,
        int((result == 1).sum()),
        int((result == -1).sum()),
        int((result == 0).sum()),
        float(decided.mean()) if len(decided) else math.nan,
        float(median_along(decided)) if len(decided) else math.nan,
    )


def pentanomial_sampler(probs: np.ndarray) -> Any:
    """A `sample` for `simulate_errors`: pair points drawn from a pentanomial distribution."""
    cumulative = np.cumsum(probs / probs.sum())

    def sample(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        index = np.minimum(np.searchsorted(cumulative, rng.random(shape), side="right"), 4)
        return index / 2.0

    return sample
