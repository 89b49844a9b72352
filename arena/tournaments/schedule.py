"""Which matches a tournament plays: every pairing of agents, every seat order, `games` seeds each.

A seat is one player, or one team of players in envs that declare teams (the agent then controls every member).

Every match has an id derived from the tournament name, the env, the agents in seat order and the seed index, so
the same match has the same id on every run, backend and worker count; that id is what makes results idempotent
and runs resumable. Game k of every pairing and seat order uses the same seed (common random numbers: in poker
both seat orders get the same deals), drawn from the master seed, the env and k.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from arena.errors import ConfigError
from arena.registry import make_env
from arena.specs import EnvSpec
from arena.tournaments.config import TournamentConfig


class MatchTask(NamedTuple):
    """One match to play: `seats` are agent display names in the env's player order.

    A named tuple: the coordinator makes one per match while its workers play (a third of a frozen dataclass's
    cost); a chunk of them crosses the pipe as plain tuples (`protocol.pack_chunk`)."""

    match_id: str
    env: EnvSpec
    seats: tuple[str, ...]
    index: int  # type: ignore[assignment]  # the game number; it hides tuple.index, which no caller needs
    seed: int


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def _prefix(*parts: object) -> Any:
    """The hash of `_digest(*parts, number)`'s text up to its last number: a schedule makes millions of ids that
    differ only in their game number, and the coordinator makes them while its workers play, so each pairing's
    prefix is hashed once and copied per game (`_digest(*parts, n)` is its copy updated with `b"%d]" % n`)."""
    text = json.dumps([*parts, 0], separators=(",", ":"))
    return hashlib.sha256(text[:-2].encode())  # the JSON list up to its last item, "0]"


_ID_DIGITS = 24  # a match id: the first 24 hex digits of its digest (96 bits)
_SEED_DIGITS = 15  # a seed: the first 15 hex digits of its digest (60 bits, an int64 for every RNG)


def _id_of(digest: str) -> str:
    return digest[:_ID_DIGITS]


def _seed_of(digest: str) -> int:
    return int(digest[:_SEED_DIGITS], 16)


def match_id(tournament: str, env: EnvSpec, seats: tuple[str, ...], index: int) -> str:
    """The stable id of game `index` of `seats` on `env` in `tournament` (it hashes the env's canonical text)."""
    return _id_of(_digest("match", tournament, env.text, list(seats), index))


def match_seed(master_seed: int, env: EnvSpec, index: int) -> int:
    """The seed of game `index` on `env`: shared by every pairing and seat order (common random numbers)."""
    return _seed_of(_digest("seed", master_seed, env.text, index))


def seatings(agents: list[str], players: int, self_play: bool, all_orders: bool) -> list[tuple[str, ...]]:
    """Seat assignments: each group of `players` agents (repeats allowed with self-play), in every distinct order."""
    groups = (
        itertools.combinations_with_replacement(agents, players)
        if self_play
        else itertools.combinations(agents, players)
    )
    out: list[tuple[str, ...]] = []
    for group in groups:
        orders = dict.fromkeys(itertools.permutations(group)) if all_orders else {group: None}
        out.extend(orders)
    return out


def seat_groups(env: Any, teams: bool) -> list[list[int]]:
    """The players one agent controls together: one group per team when the env declares `teams` (a team label
    per player, as particle worlds do) and `teams` is on, otherwise one group per player."""
    labels = getattr(env, "teams", None) if teams else None
    players = len(env.possible_agents)
    if labels is None or len(labels) != players:
        return [[p] for p in range(players)]
    return [[p for p in range(players) if labels[p] == team] for team in sorted(set(labels))]


def env_seats(env: EnvSpec, teams: bool) -> int:
    """The number of seats of an env (it is built once, which also checks the id and parameters)."""
    instance = make_env(env)
    try:
        return len(seat_groups(instance, teams))
    finally:
        instance.close()


MAX_MATCHES = 10_000_000  # a schedule longer than this is refused: its ids alone would fill the store's index


@dataclass(frozen=True)
class Schedule:
    """The matches of a tournament, counted at once and produced one at a time (never all held in memory)."""

    config: TournamentConfig
    seatings: dict[EnvSpec, list[tuple[str, ...]]]

    @classmethod
    def of(cls, config: TournamentConfig, seats: Mapping[EnvSpec, int] | None = None) -> Schedule:
        """The schedule of `config`, given each env's number of `seats` (or building each env once to count them);
        above MAX_MATCHES it is refused."""
        names = [a.name for a in config.agents]
        counts = {env: seats[env] if seats else env_seats(env, config.teams) for env in config.envs}
        schedule = cls(
            config, {env: seatings(names, n, config.self_play, config.seats == "all") for env, n in counts.items()}
        )
        if len(schedule) > MAX_MATCHES:
            raise ConfigError(
                f"this tournament has {len(schedule):,} matches (games = {config.games:,}); at most "
                f"{MAX_MATCHES:,} can be scheduled: lower games or split the tournament"
            )
        return schedule

    def __len__(self) -> int:
        return self.config.games * sum(len(s) for s in self.seatings.values())

    def __iter__(self) -> Iterator[MatchTask]:
        """Game 0 of every pairing and env, then game 1, ...: partial runs stay balanced across pairings."""
        config = self.config
        envs = [  # match_seed's and match_id's prefixes
            (
                env,
                _prefix("seed", config.seed, env.text),
                [(s, _prefix("match", config.name, env.text, list(s))) for s in seatings],
            )
            for env, seatings in self.seatings.items()
        ]
        new = tuple.__new__  # a MatchTask made in C: its class's __new__ is a Python function (0.3 us a match)
        for index in range(config.games):
            tail = b"%d]" % index  # the text's last number, the same for every pairing of this game
            for env, seed_prefix, ids in envs:
                hasher = seed_prefix.copy()
                hasher.update(tail)
                seed = int(hasher.hexdigest()[:_SEED_DIGITS], 16)
                for seats, id_prefix in ids:
                    hasher = id_prefix.copy()
                    hasher.update(tail)
                    yield new(MatchTask, (hasher.hexdigest()[:_ID_DIGITS], env, seats, index, seed))

    def unseated(self) -> list[EnvSpec]:
        """Envs that get no match: they have more seats than the agents can fill."""
        return [env for env, s in self.seatings.items() if not s]


def build_schedule(config: TournamentConfig) -> list[MatchTask]:
    """All matches of the tournament as a list (for inspection; a run iterates its `Schedule` instead)."""
    return list(Schedule.of(config))
