"""What the coordinator and its workers exchange: how matches are played (`MatchSettings`), a chunk of matches on the
wire (`pack_chunk`), what a chunk gave back (`ChunkReply`), and where a worker is (`Beacon`). Light to import: the
coordinator needs these, never the match loop or the envs' modules, which only workers load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from arena.tournaments.config import TournamentConfig
from arena.tournaments.records import Row
from arena.tournaments.schedule import MatchTask


class Beacon:
    """Where a worker is, in cells the coordinator can read while the worker runs (shared memory in a process
    pool, a plain list in this process): the chunk's number, the match's index in it, the player whose agent is
    being called (-1 between calls), since when (`time.monotonic`, one clock for every process of the machine),
    and whether that call runs under the move time limit."""

    SIZE = 5

    def __init__(self, cells: Any = None) -> None:
        self.cells = cells if cells is not None else [-1.0] * self.SIZE

    def chunk(self, seq: int) -> None:
        self.cells[2] = -1.0
        self.cells[1] = -1.0
        self.cells[0] = float(seq)

    def task(self, index: int) -> None:
        self.cells[2] = -1.0
        self.cells[1] = float(index)

    def enter(self, player: int, timed: float) -> None:
        """An agent call of `player` begins (`timed`: 1.0 under the move time limit, else 0.0); `read` converts
        the cells back, so they are stored as given."""
        cells = self.cells
        cells[3] = time.monotonic()
        cells[4] = timed
        cells[2] = player

    def leave(self) -> None:
        self.cells[2] = -1.0

    def read(self) -> tuple[int, int, int, float, bool]:
        """(chunk, match index, player, since, timed)."""
        seq, index, player, since, timed = list(self.cells[: self.SIZE])
        return int(seq), int(index), int(player), since, timed > 0


@dataclass(frozen=True)
class MatchSettings:
    """How every match of a tournament is played (the config's settings that workers need)."""

    move_time_limit: float | None
    illegal_moves: str
    max_retries: int
    max_steps: int | None
    teams: bool
    record_histories: bool = False

    @classmethod
    def of(cls, config: TournamentConfig) -> MatchSettings:
        return cls(
            config.move_time_limit,
            config.illegal_moves,
            config.max_retries,
            config.max_steps,
            config.teams,
            config.record_histories,
        )


@dataclass
class ChunkReply:
    """What a worker sends back for a chunk: finished rows (and their summed wall time), tasks it did not start,
    whether it must be replaced, why it stopped early, and the match whose result could not be true (`tainted`:
    an agent changed the env; the worker, whose envs may be changed for good, is replaced)."""

    rows: list[Row]
    seconds: float = 0.0
    unplayed: list[MatchTask] = field(default_factory=list)
    stuck: bool = False
    failure: str | None = None
    tainted: MatchTask | None = None


def pack_chunk(tasks: list[MatchTask]) -> list[tuple[Any, ...]]:
    """A chunk as it crosses a pipe: plain tuples, which pickle in C (a named tuple pickles through Python code,
    and the coordinator sends every match of a tournament)."""
    return [tuple(task) for task in tasks]


def unpack_chunk(values: list[tuple[Any, ...]]) -> list[MatchTask]:
    """The tasks of a chunk that `pack_chunk` sent."""
    return [MatchTask._make(value) for value in values]
