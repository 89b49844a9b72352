"""What a tournament's recorded matches say: results with confidence intervals, ratings, the meta-game, regret.

Every figure is computed from the store's rows, so a report reads the same whether the run finished, was
interrupted or is still going. Wins and ratings count games: single matches, or under duplicate scoring the set of
seat orders of a group on one seed (`scored_games`).
- Per pairing: wins, draws and losses with Wilson 95% intervals, the mean payoff with a 95% interval and GTBench's
  normalised relative advantage, NRA = (sum of own payoffs - sum of the opponent's) / (sum of both absolutes).
- Per agent: win rate, Bradley-Terry and Elo ratings (ratings.py), illegal-move, time-out and error rates, and its
  summed `agent_stats` (tokens, latency...).
- Meta-game per two-player env: M[i, j] is i's mean payoff against j, averaged over seats, and
  A[i, j] = (M[i, j] - M[j, i]) / 2 is i's mean payoff margin (A = M in zero-sum games). A is a symmetric
  zero-sum game between agents. Its value is 0. This module solves for its maximum-entropy Nash equilibrium p*
  (a linear program, then the most uniform mixture among the optimal ones, as in Nash averaging). Each agent gets
  the Nash-averaging score (A p*)_i and the regret `-(A p*)_i >= 0`: how much it loses against the equilibrium
  mixture.
- Regret in repeated games, from each round's full-information feedback u_t (the payoff each action would have
  earned) and the agent's strategy pi_t (its `action_probs` when it has them, else the action it played):
  external regret R_T = max_a sum_t u_t(a) - sum_t <u_t, pi_t>, and dynamic regret
  D_T = sum_t max_a u_t(a) - sum_t <u_t, pi_t>. Both are averaged per round. The sublinearity test of Park et al.
  ("Do LLM Agents Have Regret?") fits log R_t = b0 log t + b1 on the agent's mean regret curve: b0 < 1 means
  sublinear regret. The interval on b0 comes from resampling matches.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import scipy.optimize

from arena.tournaments import ratings

Z95 = 1.959963984540054


def wilson(successes: float, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% by default); (0, 1) with no trials."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: list[float] | np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """Mean and its normal 95% interval (the interval is the mean itself for fewer than two values)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = z * float(values.std(ddof=1)) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def compare(a: float, b: float) -> int:
    """+1 if a beats b, 0 for a tie, -1 for a loss (payoffs within 1e-9 tie)."""
    return 0 if abs(a - b) <= 1e-9 else (1 if a > b else -1)


def scored_games(
    matches: list[dict[str, Any]], scoring: str = "match", all_orders: bool = True
) -> list[dict[str, Any]]:
    """The games that decide wins and ratings, as {"env", "seats", "payoffs"}.

    Under "match" scoring every match is a game. Under "duplicate" scoring a game is the complete set of seat orders
    of one group of agents on one seed (same deals, same starting positions), and each agent scores its mean payoff
    over the set: luck of the deal and advantages of a seat or role cancel, which is what makes asymmetric games
    (a team of predators against prey) comparable. A set holds every seat order (`all_orders`, as `seats = "all"`
    schedules) or the one scheduled order; sets not complete yet and self-play sets are left out.
    """
    if scoring != "duplicate":
        return matches
    sets: dict[tuple[str, int, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    for m in matches:
        sets[(m["env"], m["idx"], tuple(sorted(m["seats"])))].append(m)
    games = []
    for (env, _, group), members in sets.items():
        names = list(dict.fromkeys(group))
        if len(names) < len(group) or len(members) < (math.factorial(len(group)) if all_orders else 1):
            continue
        totals = dict.fromkeys(names, 0.0)
        for m in members:
            for name, payoff in zip(m["seats"], m["payoffs"]):
                totals[name] += payoff
        games.append({"env": env, "seats": names, "payoffs": [totals[n] / len(members) for n in names]})
    return games


# ---------------------------------------------------------------------------------------------------------------
# Pairings and agents


def pairing_results(
    names: list[str], matches: list[dict[str, Any]], exact: dict[tuple[str, str, str], float]
) -> list[dict[str, Any]]:
    """Head-to-head results of every pair of different agents in two-player matches, from the side of the one
    listed first in `names`."""
    groups: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    order = {n: i for i, n in enumerate(names)}
    for m in matches:
        seats, payoffs = m["seats"], m["payoffs"]
        if len(seats) != 2 or seats[0] == seats[1]:
            continue
        first = 0 if order[seats[0]] < order[seats[1]] else 1
        groups[(m["env"], seats[first], seats[1 - first])].append((payoffs[first], payoffs[1 - first]))
    out = []
    for (env, a, b), pairs in sorted(groups.items(), key=lambda g: (g[0][0], order[g[0][1]], order[g[0][2]])):
        n = len(pairs)
        results = [compare(x, y) for x, y in pairs]
        wins, draws, losses = results.count(1), results.count(0), results.count(-1)
        own, other = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        mean, low, high = mean_interval(own)
        scale = np.abs(own).sum() + np.abs(other).sum()
        out.append(
            {
                "env": env,
                "agent": a,
                "opponent": b,
                "games": n,
                "wins": wins,
                "draws": draws,
                "losses": losses,
                "win_rate": wins / n,
                "win_ci": wilson(wins, n),
                "draw_rate": draws / n,
                "draw_ci": wilson(draws, n),
                "loss_rate": losses / n,
                "loss_ci": wilson(losses, n),
                "mean_payoff": mean,
                "payoff_ci": (low, high),
                "nra": float((own.sum() - other.sum()) / scale) if scale > 0 else 0.0,
                "exact_payoff": exact.get((env, a, b)),
            }
        )
    return out


def _stat_sums(stats: list[dict[str, Any]]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for entry in stats:
        for key, value in (entry or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[key] += value
    return dict(totals)


def agent_summaries(
    names: list[str], matches: list[dict[str, Any]], games: list[dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Per agent: results against other agents in `games` (the matches themselves by default), reliability rates
    and summed agent statistics."""
    index = {n: i for i, n in enumerate(names)}
    tallies = {
        n: {
            "matches": 0,
            "wins": 0,
            "draws": 0,
            "losses": 0,
            "illegal": 0,
            "timeouts": 0,
            "errors": 0,
            "forfeits": 0,
            "illegal_moves": 0,
            "stats": [],
        }
        for n in names
    }
    for m in matches:
        for s, name in enumerate(m["seats"]):
            if name not in index:
                continue
            t = tallies[name]
            t["matches"] += 1
            t["illegal"] += m["illegal_moves"][s] > 0
            t["illegal_moves"] += m["illegal_moves"][s]
            t["timeouts"] += m["timeouts"][s] > 0
            t["errors"] += m["errors"][s] > 0
            t["forfeits"] += m["culprit"] == s
            t["stats"].append(m["agent_stats"][s] if s < len(m["agent_stats"]) else {})
    for game in matches if games is None else games:
        seats, payoffs = game["seats"], game["payoffs"]
        for s, name in enumerate(seats):
            if name not in index:
                continue
            for o, other in enumerate(seats):
                if other != name:
                    key = {1: "wins", 0: "draws", -1: "losses"}[compare(payoffs[s], payoffs[o])]
                    tallies[name][key] += 1
    out = {}
    for name, t in tallies.items():
        decided = t["wins"] + t["draws"] + t["losses"]
        n = t["matches"]
        sums = _stat_sums(t["stats"])
        out[name] = {
            "matches": n,
            "wins": t["wins"],
            "draws": t["draws"],
            "losses": t["losses"],
            "win_rate": t["wins"] / decided if decided else math.nan,
            "win_ci": wilson(t["wins"], decided),
            "score": (t["wins"] + 0.5 * t["draws"]) / decided if decided else math.nan,
            "illegal_move_rate": t["illegal"] / n if n else 0.0,
            "illegal_moves": t["illegal_moves"],
            "timeout_rate": t["timeouts"] / n if n else 0.0,
            "error_rate": t["errors"] / n if n else 0.0,
            "forfeits": t["forfeits"],
            "stats": sums,
            "stats_per_match": {k: v / n for k, v in sums.items()} if n else {},
        }
    return out


def rating_tables(
    names: list[str], matches: list[dict[str, Any]], num_bootstrap: int = 200, seed: int = 0
) -> dict[str, list[ratings.Rating]]:
    """Bradley-Terry and Elo ratings over every match (comparisons between seats of different agents)."""
    index = {n: i for i, n in enumerate(names)}
    comparisons = []
    for m in matches:
        if all(s in index for s in m["seats"]):
            items = ratings.match_scores([index[s] for s in m["seats"]], m["payoffs"])
            if items:
                comparisons.append(items)
    return {
        "bradley_terry": ratings.bradley_terry(names, comparisons, num_bootstrap, seed),
        "elo": ratings.elo_ratings(names, comparisons, num_bootstrap, seed),
    }


# ---------------------------------------------------------------------------------------------------------------
# The meta-game


def zero_sum_nash(payoffs: np.ndarray) -> tuple[np.ndarray, float]:
    """A maximin strategy of the row player of the zero-sum matrix game `payoffs`, and the game's value (LP)."""
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


def meta_game(names: list[str], matches: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The empirical meta-game of the agents on one two-player env, its equilibrium and Nash-averaging scores."""
    index = {n: i for i, n in enumerate(names)}
    n = len(names)
    totals, counts = np.zeros((n, n)), np.zeros((n, n))
    for m in matches:
        seats = m["seats"]
        if len(seats) != 2 or seats[0] == seats[1]:
            continue
        i, j = index[seats[0]], index[seats[1]]
        totals[i, j] += m["payoffs"][0]
        totals[j, i] += m["payoffs"][1]
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
    return {
        "agents": [names[k] for k in keep],
        "payoffs": _nan_where(mean, missing | np.eye(len(keep), dtype=bool)),
        "margin": margin.tolist(),
        "unplayed_pairs": int(missing.sum() // 2),
        "nash": nash.tolist(),
        "value": value,
        "nash_averaging": scores.tolist(),
        "regret": np.maximum(value - scores, 0.0).tolist(),
    }


def _nan_where(matrix: np.ndarray, mask: np.ndarray) -> list[list[float | None]]:
    return [
        [None if mask[i, j] else float(matrix[i, j]) for j in range(matrix.shape[1])] for i in range(matrix.shape[0])
    ]


# ---------------------------------------------------------------------------------------------------------------
# Regret in repeated games


def regret_curves(action_payoffs: list[list[float]], strategies: list[list[float]] | list[int]) -> dict[str, Any]:
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
    return {"external": external, "dynamic": dynamic}


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


def regret_summary(curves: list[dict[str, np.ndarray]], num_bootstrap: int = 100, seed: int = 0) -> dict[str, Any]:
    """An agent's regret over its matches: final average regrets, mean curves and the log-log sublinearity test."""
    external = [c["external"] for c in curves]
    dynamic = [c["dynamic"] for c in curves]
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
    return {
        "matches": len(curves),
        "rounds": int(len(mean_external)),
        "external_regret_per_round": ext_mean,
        "external_regret_ci": (ext_low, ext_high),
        "dynamic_regret_per_round": float(np.mean(final_dynamic)),
        "external_regret": float(mean_external[-1]),
        "dynamic_regret": float(_mean_curve(dynamic)[-1]),
        "loglog_slope": slope,
        "loglog_slope_ci": slope_ci,
        "sublinear": bool(mean_external[-1] <= 0 or (slope is not None and slope < 1)),
        "curve_external": (mean_external / rounds).tolist(),
        "curve_dynamic": (_mean_curve(dynamic) / rounds).tolist(),
    }


def env_regret(matches: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Regret of every agent that played an env with full-information feedback."""
    curves: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)
    for m in matches:
        rounds = m.get("rounds")
        if not rounds:
            continue
        for s, name in enumerate(m["seats"]):
            payoffs = rounds["action_payoffs"][s]
            if not payoffs or any(p is None for p in payoffs):
                continue
            strategy = rounds["policies"][s] if rounds["policies"][s] is not None else rounds["actions"][s]
            curves[name].append(regret_curves(payoffs, strategy))
    return {name: regret_summary(c) for name, c in curves.items()}


# ---------------------------------------------------------------------------------------------------------------
# Everything together


def compute_metrics(
    config: dict[str, Any],
    agents: list[dict[str, Any]],
    matches: list[dict[str, Any]],
    analyses: list[dict[str, Any]],
    num_bootstrap: int = 200,
) -> dict[str, Any]:
    """All metrics of a tournament as plain JSON-able data (the report's content)."""
    names = [a["name"] for a in agents if any(a["name"] in m["seats"] for m in matches)]
    exact = {(a["env"], *a["subject"].split("\n")): a["value"] for a in analyses if a["kind"] == "exact_payoff"}
    exploitability = defaultdict(dict)
    for a in analyses:
        if a["kind"] == "exploitability":
            exploitability[a["env"]][a["subject"]] = a["value"]
    scoring = config.get("scoring", "match")
    games = scored_games(matches, scoring, config.get("seats", "all") == "all")
    summaries = agent_summaries(names, matches, games)
    tables = rating_tables(names, games, num_bootstrap)
    by_env: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in matches:
        by_env[m["env"]].append(m)
    envs = {}
    for env in list(dict.fromkeys(config.get("envs", []) + list(by_env))):
        env_matches = by_env.get(env, [])
        env_names = [n for n in names if any(n in m["seats"] for m in env_matches)]
        envs[env] = {
            "matches": len(env_matches),
            "players": len(env_matches[0]["seats"]) if env_matches else None,
            "meta_game": meta_game(env_names, env_matches)
            if env_matches and len(env_matches[0]["seats"]) == 2
            else None,
            "exploitability": exploitability.get(env, {}),
            "regret": env_regret(env_matches),
            "mean_payoff": {
                n: mean_interval(
                    [m["payoffs"][s] for m in env_matches for s, seat in enumerate(m["seats"]) if seat == n]
                )
                for n in env_names
            },
        }
    bt = {r.name: r for r in tables["bradley_terry"]}
    elo = {r.name: r for r in tables["elo"]}
    agent_rows = []
    for a in agents:
        if a["name"] not in summaries:
            continue
        agent_rows.append(
            {
                "name": a["name"],
                "spec": a["spec"],
                "rank": bt[a["name"]].rank,
                "bradley_terry": bt[a["name"]].to_dict(),
                "elo": elo[a["name"]].to_dict(),
                **summaries[a["name"]],
            }
        )
    agent_rows.sort(key=lambda r: (r["rank"], -r["bradley_terry"]["rating"]))
    return {
        "tournament": config.get("name"),
        "matches": len(matches),
        "terminations": dict(sorted(_count(m["termination"] for m in matches).items())),
        "scoring": scoring,
        "games": len(games),
        "agents": agent_rows,
        "pairings": pairing_results(names, games, exact),
        "envs": envs,
    }


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for item in items:
        out[item] += 1
    return dict(out)
