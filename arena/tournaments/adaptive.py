"""`stop = "ranked"`: after the initial round, play next the pairing whose result most reduces the ranking's
uncertainty, and stop when every adjacent pair of the ranking is separated.

The initial round is the ordinary schedule (`games` per pairing and seat order). Then, round after round, the
stored results alone decide what is played: agents are ranked by their mean paired margin against the field (A's
payoff minus B's per game, each seed in every seat order, as `arena compare` measures it; ties in config order),
and of the adjacent pairs of that ranking whose head-to-head margin is not yet separated from zero at
`confidence` (two-sided normal interval), the one with the smallest |mean| / standard error (the most overlapping)
gets `games` more seeds in every seat order on every env. The run stops when no adjacent pair is unseparated, or
when the `max_games` budget is spent; a pairing whose own budget is spent (`pairing_max_*`) is passed over for the
next most overlapping one. Since a round is chosen from complete rounds only, the run is the same on
every backend and worker count; killed during a round, the next run first finishes that round (the pairing whose
seeds stop short of a round's end), then goes on as if it had not been stopped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from arena.errors import ConfigError
from arena.specs import EnvSpec
from arena.tournaments.config import TournamentConfig
from arena.tournaments.pools import RunSummary
from arena.tournaments.records import MatchRecord
from arena.tournaments.schedule import MatchTask, match_id, match_seed
from arena.tournaments.sequential import pair_values


@dataclass(frozen=True)
class Pairing:
    """The head-to-head evidence of `a` against `b`: `pairs` complete pairs, A's mean margin per game and its
    standard error."""

    a: str
    b: str
    pairs: int
    mean: float
    stderr: float

    @property
    def z(self) -> float:
        """|mean| / standard error: how far the interval is from zero (infinite when the pairs never vary)."""
        if self.pairs < 2:
            return 0.0
        if self.stderr == 0:
            return math.inf if self.mean != 0 else 0.0
        return abs(self.mean) / self.stderr


def pairings(config: TournamentConfig, matches: Iterable[MatchRecord]) -> dict[tuple[str, str], Pairing]:
    """The evidence of every pairing (agents in config order) from stored matches: complete pairs only."""
    order = {a.name: i for i, a in enumerate(config.agents)}
    games: dict[tuple[EnvSpec, tuple[str, str], int], dict[tuple[str, ...], tuple[float, ...]]] = defaultdict(dict)
    for m in matches:
        if len(m.seats) == 2 and m.seats[0] != m.seats[1] and all(s in order for s in m.seats):
            key = tuple(sorted(m.seats, key=order.__getitem__))
            games[(m.env, (key[0], key[1]), m.index)][m.seats] = m.payoffs
    margins: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (_, (a, b), _), pair in sorted(games.items(), key=lambda item: (item[0][0].text, item[0][1], item[0][2])):
        if len(pair) == 2:
            margins[(a, b)].append(pair_values(pair, a, b)[1])
    found = {}
    for (a, b), values in margins.items():
        n = len(values)
        mean = sum(values) / n
        var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else math.inf
        found[(a, b)] = Pairing(a, b, n, mean, math.sqrt(var / n))
    return found


def ranking(config: TournamentConfig, evidence: dict[tuple[str, str], Pairing]) -> list[str]:
    """Agents by their mean margin over the opponents they have met, best first (ties in config order)."""
    names = [a.name for a in config.agents]
    totals: dict[str, list[float]] = {name: [] for name in names}
    for (a, b), p in evidence.items():
        totals[a].append(p.mean)
        totals[b].append(-p.mean)
    score = {n: sum(v) / len(v) if v else 0.0 for n, v in totals.items()}
    return sorted(names, key=lambda n: (-score[n], names.index(n)))


class RankedPlanner:
    """Chooses each round of a `stop = "ranked"` tournament from the stored matches (see the module docstring)."""

    def __init__(self, config: TournamentConfig, seatings: dict[EnvSpec, list[tuple[str, ...]]]) -> None:
        for env, seats in seatings.items():
            if seats and len(seats[0]) != 2:
                raise ConfigError(f'stop = "ranked" ranks two-seat envs; {env.text} has {len(seats[0])} seats')
        if config.seats != "all":
            raise ConfigError('stop = "ranked" plays every seat order: set seats = "all"')
        self.config, self.seatings = config, seatings
        from scipy import stats  # loaded by ranked runs only: importing the engine must not cost scipy.stats

        self.z = float(stats.norm.ppf(0.5 + config.confidence / 2))
        self.stopped = ""
        self.last: list[str] = []

    def _tasks(self, pair: tuple[str, str], indices: range, stored: set[str]) -> list[MatchTask]:
        config, out = self.config, []
        for index in indices:
            for env, seatings in self.seatings.items():
                seed = match_seed(config.seed, env, index)
                for seats in seatings:
                    if set(seats) == set(pair):
                        task = MatchTask(match_id(config.name, env, seats, index), env, seats, index, seed)
                        if task.match_id not in stored:
                            out.append(task)
        return out

    def next_round(
        self, matches: list[MatchRecord], spent: Callable[[tuple[str, str]], bool] | None = None
    ) -> list[MatchTask]:
        """The matches to play next (none: the run is over, and `stopped` says why); pairings `spent` says have
        spent their budget are not chosen."""
        config, spent = self.config, spent or (lambda _: False)
        stored = {m.match_id for m in matches}
        budget = math.inf if config.max_games is None else config.max_games - len(stored)
        if budget <= 0:
            self.stopped = f"the budget of {config.max_games} games is spent"
            return []
        seeds: dict[tuple[str, str], int] = defaultdict(int)  # seeds in use per pairing
        order = {a.name: i for i, a in enumerate(config.agents)}
        for m in matches:
            if len(m.seats) == 2 and all(s in order for s in m.seats):
                key = tuple(sorted(m.seats, key=order.__getitem__))
                seeds[(key[0], key[1])] = max(seeds[(key[0], key[1])], m.index + 1)
        batch = config.games
        for pair, used in sorted(seeds.items()):  # a round cut short by a kill is finished first
            if spent(pair):
                continue
            end = batch * math.ceil(used / batch)
            missing = self._tasks(pair, range(end), stored)
            if missing:
                return self._again(missing[: int(min(budget, len(missing)))])
        evidence = pairings(config, matches)
        ranked = ranking(config, evidence)
        open_pairs = []
        for better, worse in zip(ranked, ranked[1:]):
            key = (better, worse) if order[better] < order[worse] else (worse, better)
            pairing = evidence.get(key)
            z = pairing.z if pairing else 0.0
            if z <= self.z:
                open_pairs.append((z, order[key[0]], order[key[1]], key))
        if not open_pairs:
            self.stopped = f"every adjacent pair of the ranking is separated at {100 * config.confidence:g}%"
            return []
        open_pairs = [pair for pair in open_pairs if not spent(pair[3])]
        if not open_pairs:
            self.stopped = "every adjacent pair not yet separated has spent its pairing budget"
            return []
        _, _, _, key = min(open_pairs)
        start = seeds.get(key, 0)
        tasks = self._tasks(key, range(start, start + batch), stored)
        return self._again(tasks[: int(min(budget, len(tasks)))])

    def _again(self, tasks: list[MatchTask]) -> list[MatchTask]:
        """`tasks`, unless they are the last round's again (matches the engine gave up on): then the run stops."""
        ids = [t.match_id for t in tasks]
        if ids == self.last:
            self.stopped = f"{len(ids)} matches could not be played (their worker crashed twice)"
            return []
        self.last = ids
        return tasks


def merge(first: RunSummary | None, second: RunSummary) -> RunSummary:
    """Two rounds' summaries as one."""
    if first is None:
        return second
    return RunSummary(
        first.played + second.played,
        first.replaced_workers + second.replaced_workers,
        first.given_up + second.given_up,
    )
