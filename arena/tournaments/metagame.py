"""The meta-game of a two-player env: the agents' payoff margins, their maximum-entropy Nash equilibrium, and the
Nash-averaging score and meta regret of every agent.

M[i, j] is i's mean payoff against j, averaged over seats, and A[i, j] = (M[i, j] - M[j, i]) / 2 is i's mean
payoff margin (A = M in zero-sum games). A is a symmetric zero-sum game between agents. Its value is 0. Its
maximum-entropy Nash equilibrium p* is a linear program, then the most uniform mixture among the optimal ones, as
in Nash averaging. Each agent gets the Nash-averaging score (A p*)_i and the regret `-(A p*)_i >= 0`: how much it
loses against the equilibrium mixture.

M holds the exact expected payoff of a pairing wherever it is known (both agents have `action_probs` on a tabular
game) and the sampled mean elsewhere. The 95% intervals of the Nash weights and the Nash-averaging scores come
from resampling each sampled pairing's games with replacement (multinomial counts over its distinct results, the
same distribution; exact pairings stay as they are) and solving each replicate's meta-game again.

alpha-Rank (Omidshafiei et al. 2019) ranks agents where Nash averaging does not apply (more than two players,
general-sum payoffs): the stationary distribution of a single-population evolutionary process in which a mutant
agent takes over a population of another with the fixation probability of its payoff advantage (local selection,
population 50, selection intensity 50 / payoff range).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from arena.specs import EnvSpec
from arena.tournaments.ratings import percentile_interval
from arena.tournaments.statistics import Cell, Games, counted, game_counts, payoff_cells

LP_TOLERANCE = 1e-10  # the support programs' feasibility tolerance
SUPPORT_WEIGHT = 1e-6  # a strategy no optimal strategy can give more than this is not in the equilibrium's support


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


def _equilibrium_support(payoffs: np.ndarray, value: float) -> list[int]:
    """The strategies that some maximin strategy plays: for each, the most weight an optimal strategy can give it
    (one LP each, solved to LP_TOLERANCE); those that can get no more than SUPPORT_WEIGHT are never played."""
    import scipy.optimize  # heavy: see zero_sum_nash

    rows, cols = payoffs.shape
    support = []
    for i in range(rows):
        cost = np.zeros(rows)
        cost[i] = -1.0
        result = scipy.optimize.linprog(
            cost,
            A_ub=-payoffs.T,
            b_ub=-value * np.ones(cols),
            A_eq=np.ones((1, rows)),
            b_eq=[1.0],
            bounds=[(0, None)] * rows,
            method="highs",
            options={"primal_feasibility_tolerance": LP_TOLERANCE, "dual_feasibility_tolerance": LP_TOLERANCE},
        )
        if result.status == 0 and -result.fun > SUPPORT_WEIGHT:
            support.append(i)
    return support


def _two_agents(margin: np.ndarray, tolerance: float, exact: bool) -> np.ndarray:
    """The programs' answer for two agents with margin a = margin[0, 1], in closed form: the better agent alone
    when (with `exact`) the support test excludes the other (the most weight an optimal strategy could give it,
    LP_TOLERANCE / |a|, is at most SUPPORT_WEIGHT); else the most uniform mixture that loses at most `tolerance`,
    max(1/2, 1 - tolerance / |a|) on the better one. Tournaments of two agents then need no scipy at all."""
    gap = abs(float(margin[0, 1]))
    if gap == 0:
        weight = 0.5
    elif exact and LP_TOLERANCE / gap <= SUPPORT_WEIGHT:
        weight = 1.0
    else:
        weight = max(0.5, 1.0 - tolerance / gap)
    return np.array([weight, 1.0 - weight] if margin[0, 1] >= 0 else [1.0 - weight, weight])


def max_entropy_nash(payoffs: np.ndarray, tolerance: float = 1e-9, exact: bool = True) -> tuple[np.ndarray, float]:
    """Among the maximin strategies of a zero-sum game, the one of largest entropy (unique; Nash averaging).

    With `exact`, the strategies no maximin strategy plays get exactly 0 (`_equilibrium_support`, one LP per
    strategy), so a pure equilibrium is returned exactly; the entropy is maximised over the others. Without it
    (bootstrap replicates) they may keep weights of the order of `tolerance` over their payoff gap."""
    n = len(payoffs)
    if n == 2 and payoffs.shape == (2, 2) and np.allclose(payoffs, -payoffs.T):
        return _two_agents(payoffs, tolerance, exact), 0.0
    import scipy.optimize  # heavy: see zero_sum_nash

    if not exact and payoffs.shape == (n, n) and np.allclose(payoffs, -payoffs.T):
        p0, value = np.full(n, 1.0 / n), 0.0  # a symmetric zero-sum game is worth 0: no LP needed to know it
    else:
        p0, value = zero_sum_nash(payoffs)
    if n == 1:
        return p0, value
    support = _equilibrium_support(payoffs, value) if exact else list(range(n))
    if len(support) <= 1:
        pure = np.zeros(n)
        pure[support[0] if support else int(np.argmax(p0))] = 1.0
        return pure, value
    sub = payoffs[support]
    k = len(support)

    def negative_entropy(q: np.ndarray) -> tuple[float, np.ndarray]:
        clipped = np.clip(q, 1e-12, None)
        return float((clipped * np.log(clipped)).sum()), np.log(clipped) + 1.0

    start = 0.5 * p0[support] / max(p0[support].sum(), 1e-12) + 0.5 * np.full(k, 1.0 / k)
    constraints = [
        {"type": "eq", "fun": lambda q: q.sum() - 1.0, "jac": lambda q: np.ones(k)},
        {"type": "ineq", "fun": lambda q: sub.T @ q - value + tolerance, "jac": lambda q: sub.T},
    ]
    result = scipy.optimize.minimize(
        negative_entropy,
        start,
        jac=True,
        method="SLSQP",
        bounds=[(0, 1)] * k,
        constraints=constraints,
        options={"ftol": 1e-12, "maxiter": 500},
    )
    p = np.zeros(n)
    p[support] = np.clip(result.x, 0, None)
    p /= p.sum()
    if not result.success or (payoffs.T @ p).min() < value - 1e-6:
        return zero_sum_nash(payoffs) if not exact else (p0, value)
    return p, value


@dataclass
class MetaGame:
    """The meta-game of the agents that played (rows and columns in `agents` order), with bootstrap intervals."""

    agents: list[str]
    payoffs: list[list[float | None]]  # M: payoff of row against column (exact or sampled mean); None: never played
    exact: list[list[bool]]  # which entries of M are exact expected payoffs
    margin: list[list[float]]  # A = (M - M^T) / 2
    unplayed_pairs: int
    nash: list[float]  # the maximum-entropy equilibrium p*
    nash_ci: list[tuple[float, float]]
    value: float
    nash_averaging: list[float]  # (A p*)_i
    nash_averaging_ci: list[tuple[float, float]]
    regret: list[float]  # max(value - (A p*)_i, 0)
    bootstrap: int  # replicates behind the intervals (0 when every entry is exact)


def _matrices(agents: list[str], cells: dict[tuple[str, str], Cell]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(agents)
    mean, played, exact = np.zeros((n, n)), np.zeros((n, n), dtype=bool), np.zeros((n, n), dtype=bool)
    for i, a in enumerate(agents):
        for j, b in enumerate(agents):
            cell = cells.get((a, b))
            if cell is not None and i != j:
                mean[i, j], played[i, j], exact[i, j] = cell.mean, True, cell.exact
    return mean, played, exact


def _solve(mean: np.ndarray, exact: bool = True) -> tuple[np.ndarray, float, np.ndarray]:
    margin = (mean - mean.T) / 2.0
    nash, value = max_entropy_nash(margin, exact=exact)
    return nash, value, margin @ nash


def meta_game(
    names: list[str],
    games: Games,
    exact: dict[tuple[EnvSpec, str, str], float] | None = None,
    zero_sum: bool = False,
    num_bootstrap: int = 0,
    seed: int = 0,
) -> MetaGame | None:
    """The meta-game of the agents on one two-player env, its equilibrium and Nash-averaging scores, with
    `num_bootstrap` replicates for their intervals (None when fewer than two agents played). `exact` holds exact
    expected payoffs by (env, agent, opponent); in `zero_sum` games one also gives the opponent's side."""
    two = {g: count for g, count in game_counts(games).items() if len(g.seats) == 2 and g.seats[0] != g.seats[1]}
    env = next(iter(two)).env if two else None
    cells = payoff_cells(env, two, exact or {}, zero_sum) if env is not None else {}
    agents = [n for n in names if any(a == n for a, _ in cells)]
    if len(agents) < 2:
        return None
    mean, played, is_exact = _matrices(agents, cells)
    nash, value, scores = _solve(mean)
    index = {a: i for i, a in enumerate(agents)}
    by_pair: dict[tuple[int, int], dict[tuple[float, float], int]] = defaultdict(dict)
    for g, count in two.items():
        i, j = index.get(g.seats[0]), index.get(g.seats[1])
        if i is not None and j is not None:
            key, pair = ((i, j), (g.payoffs[0], g.payoffs[1])) if i < j else ((j, i), (g.payoffs[1], g.payoffs[0]))
            by_pair[key][pair] = by_pair[key].get(pair, 0) + count
    # Resampling a pairing's games with replacement draws multinomial counts over its distinct results.
    sampled = {
        k: (np.array(list(v)), np.array(list(v.values()), dtype=np.int64))
        for k, v in by_pair.items()
        if not (is_exact[k] and is_exact[k[::-1]])
    }
    replicates = num_bootstrap if sampled else 0
    rng = np.random.default_rng(seed)
    weights, averages = [], []
    for _ in range(replicates):
        resampled = mean.copy()
        for (i, j), (pairs, counts) in sampled.items():
            total = int(counts.sum())
            picked = rng.multinomial(total, counts / total) @ pairs / total
            if not is_exact[i, j]:
                resampled[i, j] = picked[0]
            if not is_exact[j, i]:
                resampled[j, i] = picked[1]
        p, _, a = _solve(resampled, exact=False)
        weights.append(p)
        averages.append(a)
    missing = ~played & ~np.eye(len(agents), dtype=bool)
    return MetaGame(
        agents=agents,
        payoffs=_none_where(mean, ~played),
        exact=is_exact.tolist(),
        margin=((mean - mean.T) / 2.0).tolist(),
        unplayed_pairs=int((missing & missing.T).sum() // 2),
        nash=nash.tolist(),
        nash_ci=_percentiles(weights, nash),
        value=value,
        nash_averaging=scores.tolist(),
        nash_averaging_ci=_percentiles(averages, scores),
        regret=np.maximum(value - scores, 0.0).tolist(),
        bootstrap=replicates,
    )


def _percentiles(replicates: list[np.ndarray], point: np.ndarray) -> list[tuple[float, float]]:
    if not replicates:
        return [(float(v), float(v)) for v in point]
    low, high = percentile_interval(np.array(replicates))
    return [(float(a), float(b)) for a, b in zip(low, high)]


# ---------------------------------------------------------------------------------------------------------------
# alpha-Rank


def pairwise_payoffs(names: list[str], games: Games) -> tuple[np.ndarray, np.ndarray]:
    """M[i, j]: agent i's mean payoff in the games where j also played (for two seats, i's payoff against j), and
    which entries were played."""
    n = len(names)
    index = {a: i for i, a in enumerate(names)}
    totals, counts = np.zeros((n, n)), np.zeros((n, n))
    for g, count in counted(games):
        for s, a in enumerate(g.seats):
            for b in g.seats:
                if a != b and a in index and b in index:
                    totals[index[a], index[b]] += count * g.payoffs[s]
                    counts[index[a], index[b]] += count
    played = counts > 0
    return np.divide(totals, counts, out=np.zeros_like(totals), where=played), played


def _fixation(advantage: np.ndarray, population: int) -> np.ndarray:
    """Probability that one mutant with fitness advantage x (already times the selection intensity) takes over a
    population of `population`: (1 - e^-x) / (1 - e^-mx), 1/m at x = 0, computed without overflow."""
    x = np.asarray(advantage, dtype=float)
    out = np.full(x.shape, 1.0 / population)
    positive, negative = x > 1e-12, x < -1e-12
    out[positive] = -np.expm1(-x[positive]) / -np.expm1(-population * x[positive])
    y = -x[negative]
    out[negative] = np.exp(-(population - 1) * y) * -np.expm1(-y) / -np.expm1(-population * y)
    return out


def alpha_rank(
    payoffs: np.ndarray, played: np.ndarray | None = None, alpha: float | None = None, population: int = 50
) -> np.ndarray:
    """The alpha-Rank stationary distribution over agents (single population, local selection): a mutant j in a
    population of i has fitness M[j, i] against the residents' M[i, j]; pairs never played are neutral."""
    m = np.asarray(payoffs, dtype=float)
    n = len(m)
    if n == 1:
        return np.ones(1)
    played = np.ones_like(m, dtype=bool) if played is None else np.asarray(played, dtype=bool)
    known = played & played.T & ~np.eye(n, dtype=bool)
    spread = float(np.ptp(m[known])) if known.any() else 0.0
    intensity = alpha if alpha is not None else (50.0 / spread if spread > 0 else 1.0)
    advantage = np.where(known, intensity * (m.T - m), 0.0)  # [i, j]: mutant j against residents i
    transition = _fixation(advantage, population) / (n - 1)
    np.fill_diagonal(transition, 0.0)
    np.fill_diagonal(transition, 1.0 - transition.sum(axis=1))
    system = np.vstack([transition.T - np.eye(n), np.ones((1, n))])
    target = np.append(np.zeros(n), 1.0)
    pi = np.linalg.lstsq(system, target, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


@dataclass
class AlphaRank:
    """alpha-Rank of the agents of one env: stationary mass (higher is stronger) and the rank it gives."""

    agents: list[str]
    mass: list[float]
    rank: list[int]
    payoffs: list[list[float | None]]


def alpha_rank_of(names: list[str], games: Games) -> AlphaRank | None:
    """alpha-Rank over the agents that played these games (None with fewer than two)."""
    m, played = pairwise_payoffs(names, games)
    keep = [k for k in range(len(names)) if played[k].any()]
    if len(keep) < 2:
        return None
    m, played = m[np.ix_(keep, keep)], played[np.ix_(keep, keep)]
    mass = alpha_rank(m, played)
    order = np.argsort(-mass, kind="stable")
    ranks = np.empty(len(keep), dtype=int)
    ranks[order] = np.arange(1, len(keep) + 1)
    for k in range(1, len(order)):  # equal mass, equal rank
        if abs(mass[order[k]] - mass[order[k - 1]]) <= 1e-9:
            ranks[order[k]] = ranks[order[k - 1]]
    return AlphaRank([names[k] for k in keep], mass.tolist(), ranks.tolist(), _none_where(m, ~played))


def _none_where(matrix: np.ndarray, mask: np.ndarray) -> list[list[float | None]]:
    return [
        [None if mask[i, j] else float(matrix[i, j]) for j in range(matrix.shape[1])] for i in range(matrix.shape[0])
    ]
