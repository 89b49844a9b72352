"""Results of a tournament's matches with their uncertainty: wins, intervals, pairings, per-agent statistics, ratings.

Wins and ratings count games: single matches, or under duplicate scoring the set of seat orders of a group on one
seed (`scored_games`). Games come one by one or, as a report holds them, each distinct game with how many times
it was played (`Games`): every table here is computed from those counts.
- Per pairing: wins, draws and losses with Wilson 95% intervals, the mean payoff with a 95% interval and GTBench's
  normalised relative advantage, NRA = (sum of own payoffs - sum of the opponent's) / (sum of both absolutes).
- Per agent: win rate, illegal-move, time-out and error rates, and its `agent_stats` over its matches: counts
  (tokens, calls, seconds) summed, means and rates (`mean_*`, `*_rate`...) averaged (`stat_kind`); Bradley-Terry,
  Davidson and Elo ratings (ratings.py).
- The expected payoff per game against the field (`field_payoffs`): the mean over an agent's opponents of its
  mean payoff against each, exact where the pairing's exact expected payoff is known; the instant-runoff
  bankroll order (`runoff_order`), as the Annual Computer Poker Competition ranks.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from arena.specs import EnvSpec
from arena.tournaments.ratings import Rating, bradley_terry, elo_ratings, interval_ranks, match_scores
from arena.tournaments.records import DuplicateSet, MatchRecord, MatchTally, duplicate_sets, tally_records

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


def moments(values: Sequence[float] | np.ndarray, counts: Sequence[int] | None = None) -> tuple[int, float, float]:
    """How many values, their mean and unbiased variance (nan without values; nan variance under two), each
    value occurring `counts` times (once by default)."""
    array = np.asarray(values, dtype=float)
    weights = np.ones(len(array)) if counts is None else np.asarray(counts, dtype=float)
    n = int(weights.sum())
    if n == 0:
        return 0, math.nan, math.nan
    mean = float(weights @ array) / n
    return n, mean, float(weights @ (array - mean) ** 2) / (n - 1) if n > 1 else math.nan


def mean_interval(
    values: Sequence[float] | np.ndarray, z: float = Z95, counts: Sequence[int] | None = None
) -> tuple[float, float, float]:
    """Mean and its normal 95% interval (the interval is the mean itself for fewer than two values), each value
    occurring `counts` times (once by default)."""
    n, mean, variance = moments(values, counts)
    if n < 2:
        return mean, mean, mean
    half = z * math.sqrt(variance / n)
    return mean, mean - half, mean + half


class Counts(dict[float, int]):
    """Values with how many times each occurred: all a mean and its interval need."""

    def add(self, value: float, count: int = 1) -> None:
        self[value] = self.get(value, 0) + count

    def moments(self) -> tuple[int, float, float]:
        return moments(list(self), list(self.values()))

    def interval(self) -> tuple[float, float, float]:
        return mean_interval(list(self), counts=list(self.values()))


def compare(a: float, b: float) -> int:
    """+1 if a beats b, 0 for a tie, -1 for a loss (payoffs within 1e-9 tie)."""
    return 0 if abs(a - b) <= 1e-9 else (1 if a > b else -1)


# ---------------------------------------------------------------------------------------------------------------
# Games


class Scored(Protocol):
    """What decides wins: a match, or a duplicate set of matches."""

    @property
    def env(self) -> EnvSpec: ...

    @property
    def seats(self) -> tuple[str, ...]: ...

    @property
    def payoffs(self) -> tuple[float, ...]: ...


@dataclass(frozen=True, slots=True)
class Game:
    """What decides wins, as one game: a match's seats and payoffs, or a duplicate set's agents each with its mean
    payoff over the set's matches."""

    env: EnvSpec
    seats: tuple[str, ...]
    payoffs: tuple[float, ...]


Games = Sequence[Scored] | Mapping[Any, int]  # games one by one, or each distinct game (a Scored) with its count


def counted(games: Games) -> Iterable[tuple[Scored, int]]:
    """Each game with how many times it counts (once each for games given one by one)."""
    return games.items() if isinstance(games, Mapping) else ((g, 1) for g in games)


def game_counts(games: Games) -> dict[Game, int]:
    """Each distinct game (its env, seats and payoffs) with how many times it was played."""
    out: dict[Game, int] = {}
    for g, count in counted(games):
        key = g if isinstance(g, Game) else Game(g.env, g.seats, g.payoffs)
        out[key] = out.get(key, 0) + count
    return out


def scored_games(matches: Games, scoring: str = "match", all_orders: bool = True) -> Games:
    """The games that decide wins and ratings.

    Under "match" scoring every match is a game. Under "duplicate" scoring a game is the complete set of seat orders
    of one group of agents on one seed (same deals, same starting positions), and each agent scores its mean payoff
    over the set: luck of the deal and advantages of a seat or role cancel, which is what makes asymmetric games
    (a team of predators against prey) comparable. A set holds every seat order (`all_orders`, as `seats = "all"`
    schedules) or the one scheduled order; sets not complete yet and self-play sets are left out.
    """
    if scoring != "duplicate":
        return matches
    members = ((m.env, getattr(m, "index", 0), m.seats, m.payoffs, count) for m, count in counted(matches))
    sets = complete_sets(duplicate_sets(members), all_orders)
    return [g for games in sets.values() for g, count in games.items() for _ in range(count)]


def complete_sets(sets: Mapping[DuplicateSet, int], all_orders: bool = True) -> dict[EnvSpec, dict[Game, int]]:
    """Per env, its complete duplicate sets as games with their counts: a set is complete with every seat order
    (`all_orders`, as `seats = "all"` schedules) or with the one scheduled order."""
    games: dict[EnvSpec, dict[Game, int]] = defaultdict(dict)
    for s, count in sets.items():
        if s.matches >= (math.factorial(len(s.names)) if all_orders else 1):
            game, held = Game(s.env, s.names, s.payoffs), games[s.env]
            held[game] = held.get(game, 0) + count
    return games


# ---------------------------------------------------------------------------------------------------------------
# Pairings


@dataclass
class PairingResult:
    """Head to head on one env, from the side of `agent` (the one listed first)."""

    env: EnvSpec
    agent: str
    opponent: str
    games: int
    wins: int
    draws: int
    losses: int
    win_rate: float
    win_ci: tuple[float, float]
    draw_rate: float
    draw_ci: tuple[float, float]
    loss_rate: float
    loss_ci: tuple[float, float]
    mean_payoff: float
    payoff_ci: tuple[float, float]
    nra: float
    exact_payoff: float | None


def pairing_results(
    names: list[str], games: Games, exact: Mapping[tuple[EnvSpec, str, str], float]
) -> list[PairingResult]:
    """Head-to-head results of every pair of different agents in two-player games, from the side of the one
    listed first in `names`; `exact` holds exact expected payoffs by (env, agent, opponent)."""
    groups: dict[tuple[EnvSpec, str, str], dict[tuple[float, float], int]] = defaultdict(dict)
    order = {n: i for i, n in enumerate(names)}
    for m, count in counted(games):
        seats, payoffs = m.seats, m.payoffs
        if len(seats) != 2 or seats[0] == seats[1]:
            continue
        first = 0 if order[seats[0]] < order[seats[1]] else 1
        pairs = groups[(m.env, seats[first], seats[1 - first])]
        pair = (payoffs[first], payoffs[1 - first])
        pairs[pair] = pairs.get(pair, 0) + count
    out = []
    for (env, a, b), pairs in sorted(groups.items(), key=lambda g: (g[0][0].text, order[g[0][1]], order[g[0][2]])):
        counts = list(pairs.values())
        n = sum(counts)
        results: Counter[int] = Counter()
        for (x, y), count in pairs.items():
            results[compare(x, y)] += count
        wins, draws, losses = results[1], results[0], results[-1]
        own, other = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        mean, low, high = mean_interval(own, counts=counts)
        scale = float(np.abs(own) @ counts + np.abs(other) @ counts)
        out.append(
            PairingResult(
                env=env,
                agent=a,
                opponent=b,
                games=n,
                wins=wins,
                draws=draws,
                losses=losses,
                win_rate=wins / n,
                win_ci=wilson(wins, n),
                draw_rate=draws / n,
                draw_ci=wilson(draws, n),
                loss_rate=losses / n,
                loss_ci=wilson(losses, n),
                mean_payoff=mean,
                payoff_ci=(low, high),
                nra=float((own - other) @ counts / scale) if scale > 0 else 0.0,
                exact_payoff=exact.get((env, a, b)),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------------------
# Agents


@dataclass
class AgentStats:
    """One agent's results against other agents, its reliability, and its match statistics: `stats` holds each
    count summed and each mean or rate averaged over its matches (`stat_kinds` says which: "total" or "mean"),
    `stats_per_match` every statistic's mean per match."""

    matches: int
    wins: int
    draws: int
    losses: int
    win_rate: float
    win_ci: tuple[float, float]
    score: float
    illegal_move_rate: float
    illegal_moves: int
    timeout_rate: float
    error_rate: float
    forfeits: int
    stats: dict[str, float] = field(default_factory=dict)
    stats_per_match: dict[str, float] = field(default_factory=dict)
    stat_kinds: dict[str, str] = field(default_factory=dict)


MEAN_PREFIXES = ("mean_", "avg_", "average_")
MEAN_SUFFIXES = ("_mean", "_avg", "_rate", "_fraction", "_share", "_ratio")


def stat_kind(key: str) -> str:
    """ "mean" for a statistic that is a mean or a rate by its name (`mean_reward`, `win_rate`), which is averaged
    over matches; "total" for a count or an amount (`tokens`, `latency_s`), which is summed."""
    lowered = key.lower()
    return "mean" if lowered.startswith(MEAN_PREFIXES) or lowered.endswith(MEAN_SUFFIXES) else "total"


def _stat_values(stats: list[tuple[dict[str, Any], int]]) -> dict[str, tuple[float, int]]:
    """Per statistic, the sum of its values and how many there are, over (statistics, count) pairs."""
    values: dict[str, tuple[float, int]] = {}
    for entry, count in stats:
        for key, value in (entry or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                total, n = values.get(key, (0.0, 0))
                values[key] = (total + count * float(value), n + count)
    return values


@dataclass
class _Tally:
    matches: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    illegal: int = 0
    timeouts: int = 0
    errors: int = 0
    forfeits: int = 0
    illegal_moves: int = 0
    stats: list[tuple[dict[str, Any], int]] = field(default_factory=list)


def agent_summaries(
    names: list[str], matches: Sequence[MatchRecord] | MatchTally, games: Games | None = None
) -> dict[str, AgentStats]:
    """Per agent: results against other agents in `games` (the matches themselves by default), reliability rates
    and agent statistics (counts summed, means averaged), from the matches' tally (made here from records)."""
    tally = matches if isinstance(matches, MatchTally) else tally_records(matches, lambda env: False)
    tallies = {n: _Tally() for n in names}
    for m, count in tally.shapes.items():
        for s, name in enumerate(m.seats):
            t = tallies.get(name)
            if t is None:
                continue
            t.matches += count
            t.illegal += count * (m.illegal_moves[s] > 0)
            t.illegal_moves += count * m.illegal_moves[s]
            t.timeouts += count * (m.timeouts[s] > 0)
            t.errors += count * (m.errors[s] > 0)
            t.forfeits += count * (m.culprit == s)
    for seats, stats, count in tally.stats:
        for s, name in enumerate(seats):
            t = tallies.get(name)
            if t is not None and s < len(stats):
                t.stats.append((stats[s], count))
    results: Counter[tuple[tuple[str, ...], tuple[float, ...]]] = Counter()
    for game, count in counted(tally.shapes if games is None else games):
        results[(game.seats, game.payoffs)] += count
    for (seats, payoffs), count in results.items():
        for s, name in enumerate(seats):
            if name not in tallies:
                continue
            for o, other in enumerate(seats):
                if other != name:
                    outcome = compare(payoffs[s], payoffs[o])
                    t = tallies[name]
                    if outcome > 0:
                        t.wins += count
                    elif outcome < 0:
                        t.losses += count
                    else:
                        t.draws += count
    out = {}
    for name, t in tallies.items():
        decided = t.wins + t.draws + t.losses
        n = t.matches
        values = _stat_values(t.stats)
        kinds = {k: stat_kind(k) for k in values}
        out[name] = AgentStats(
            matches=n,
            wins=t.wins,
            draws=t.draws,
            losses=t.losses,
            win_rate=t.wins / decided if decided else math.nan,
            win_ci=wilson(t.wins, decided),
            score=(t.wins + 0.5 * t.draws) / decided if decided else math.nan,
            illegal_move_rate=t.illegal / n if n else 0.0,
            illegal_moves=t.illegal_moves,
            timeout_rate=t.timeouts / n if n else 0.0,
            error_rate=t.errors / n if n else 0.0,
            forfeits=t.forfeits,
            stats={k: total / count if kinds[k] == "mean" else total for k, (total, count) in values.items()},
            stats_per_match={k: total / n for k, (total, _) in values.items()} if n else {},
            stat_kinds=kinds,
        )
    return out


@dataclass
class RatingTables:
    """Bradley-Terry and Elo ratings of the same agents from the same games."""

    bradley_terry: list[Rating]
    elo: list[Rating]


def rating_tables(names: list[str], games: Games, num_bootstrap: int = 200, seed: int = 0) -> RatingTables:
    """Bradley-Terry and Elo ratings over every game (comparisons between seats of different agents), each fitted
    and resampled on each distinct game's count."""
    index = {n: i for i, n in enumerate(names)}
    comparisons: list[list[tuple[int, int, float]]] = []
    counts: list[int] = []
    for m, count in counted(games):
        items = match_scores([index[s] for s in m.seats], list(m.payoffs)) if all(s in index for s in m.seats) else []
        if items:
            comparisons.append(items)
            counts.append(count)
    return RatingTables(
        bradley_terry(names, comparisons, num_bootstrap, seed, counts),
        elo_ratings(names, comparisons, num_bootstrap, seed, counts),
    )


# ---------------------------------------------------------------------------------------------------------------
# Payoff against the field


@dataclass
class Cell:
    """What one agent got against one opponent on one env: the mean payoff per game and its variance, exact (no
    sampling noise, variance 0) where the pairing's exact expected payoff is known."""

    mean: float
    variance: float
    games: int
    exact: bool


def payoff_cells(
    env: EnvSpec,
    games: Games,
    exact: Mapping[tuple[EnvSpec, str, str], float],
    zero_sum: bool,
) -> dict[tuple[str, str], Cell]:
    """(agent, opponent) -> Cell over the two-player games of one env. An exact value stored for (a, b) gives b's
    side too in zero-sum games; a cell with one game borrows the variance of all the env's payoffs."""
    values: dict[tuple[str, str], Counts] = defaultdict(Counts)
    everything = Counts()
    for g, count in counted(games):
        if len(g.seats) == 2 and g.seats[0] != g.seats[1]:
            for (a, b), payoff in (((g.seats[0], g.seats[1]), g.payoffs[0]), ((g.seats[1], g.seats[0]), g.payoffs[1])):
                values[(a, b)].add(payoff, count)
                everything.add(payoff, count)
    n, _, variance = everything.moments()
    pooled = variance if n > 1 else 0.0
    cells: dict[tuple[str, str], Cell] = {}
    pairs = set(values) | {(a, b) for (e, a, b) in exact if e == env}
    if zero_sum:
        pairs |= {(b, a) for a, b in pairs}
    for a, b in pairs:
        known = exact.get((env, a, b))
        if known is None and zero_sum and (env, b, a) in exact:
            known = -exact[(env, b, a)]
        games_of, mean, variance = values.get((a, b), Counts()).moments()
        if known is not None:
            cells[(a, b)] = Cell(float(known), 0.0, games_of, True)
        elif games_of:
            cells[(a, b)] = Cell(mean, (variance if games_of > 1 else pooled) / games_of, games_of, False)
    return cells


@dataclass
class FieldPayoff:
    """An agent's expected payoff per game against the field, with its 95% interval and interval-respecting rank.

    `exact_pairings` of its `opponents` pairings are exact; with all of them exact the value is exact."""

    name: str
    value: float
    lower: float
    upper: float
    opponents: int
    exact_pairings: int
    games: int
    rank: int = 0


def field_payoffs(names: list[str], cells: Mapping[tuple[str, str], Cell], tie: float = 0.0) -> list[FieldPayoff]:
    """Each agent's mean over its opponents of its mean payoff against each (every opponent weighs the same), with
    a normal 95% interval from the cells' variances; ranks count the agents above by more than `tie`."""
    out = []
    for name in names:
        mine = [c for (a, _), c in cells.items() if a == name]
        if not mine:
            continue
        value = float(np.mean([c.mean for c in mine]))
        half = Z95 * math.sqrt(sum(c.variance for c in mine)) / len(mine)
        out.append(
            FieldPayoff(
                name,
                value,
                value - half,
                value + half,
                len(mine),
                sum(c.exact for c in mine),
                sum(c.games for c in mine),
            )
        )
    ranks = interval_ranks(np.array([f.lower for f in out]), np.array([f.upper for f in out]), tie)
    for f, rank in zip(out, ranks):
        f.rank = rank
    return out


def multiplayer_payoffs(names: list[str], games: Games, tie: float = 0.0) -> list[FieldPayoff]:
    """Each agent's mean payoff per game (games of more than two seats), with a normal 95% interval."""
    values: dict[str, Counts] = defaultdict(Counts)
    for g, count in counted(games):
        for name, payoff in zip(g.seats, g.payoffs):
            values[name].add(payoff, count)
    out = []
    for name in names:
        if values.get(name):
            mean, low, high = values[name].interval()
            out.append(FieldPayoff(name, mean, low, high, 0, 0, sum(values[name].values())))
    ranks = interval_ranks(np.array([f.lower for f in out]), np.array([f.upper for f in out]), tie)
    for f, rank in zip(out, ranks):
        f.rank = rank
    return out


def runoff_order(names: list[str], cells: Mapping[tuple[str, str], Cell]) -> list[str]:
    """The instant-runoff bankroll order, best first: the agent with the lowest payoff against the agents still in
    is eliminated, again and again; the order is the reverse of the eliminations (ties: the later name goes)."""
    remaining = [n for n in names if any(a == n for a, _ in cells)]
    eliminated: list[str] = []
    while remaining:
        scores = {
            n: np.mean([cells[(n, o)].mean for o in remaining if o != n and (n, o) in cells] or [0.0])
            for n in remaining
        }
        worst = min(reversed(remaining), key=lambda n: scores[n])
        remaining.remove(worst)
        eliminated.append(worst)
    return eliminated[::-1]
