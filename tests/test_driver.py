"""The coordinator's loop (`pools.run_matches`) against a scripted pool: when it hands rows to the caller and when
it lets the caller write them."""

from __future__ import annotations

from typing import Any

from arena.specs import EnvSpec
from arena.tournaments.pools import _Pool, run_matches
from arena.tournaments.protocol import ChunkReply, MatchSettings
from arena.tournaments.schedule import MatchTask

SETTINGS = MatchSettings(None, "forfeit", 2, None, True)
ENV = EnvSpec.parse("rps-v0")


class ScriptedPool(_Pool):
    """Workers that finish each chunk at the next wait, in turn; every event goes into `events`."""

    def __init__(self, size: int, events: list[tuple[str, Any]]) -> None:
        self.size, self.args, self.events = size, ({}, SETTINGS, []), events
        self.queues: dict[int, list[list[MatchTask]]] = {}

    def start(self) -> int:
        worker = len(self.queues)
        self.queues[worker] = []
        return worker

    def submit(self, worker: int, chunk: list[MatchTask], suspect: bool = False) -> None:
        self.events.append(("chunk", worker))
        self.queues[worker].append(chunk)

    def wait(self, workers: list[int], timeout: float) -> list[tuple[Any, ChunkReply | None]]:
        busy = [w for w in workers if self.queues[w]]
        worker = busy[0]
        chunk = self.queues[worker].pop(0)
        rows = [(t.match_id,) for t in chunk]
        return [(worker, ChunkReply(rows=rows, seconds=0.001 * len(rows)))]  # type: ignore[arg-type]

    def retire(self, worker: int) -> None:
        pass


def test_rows_arrive_before_the_next_chunk_and_are_written_after_it() -> None:
    """A budget counted from the rows stops the hand-out in time (rows come first), and the caller's write (which
    takes tens of milliseconds for thousands of rows) waits until the worker that replied has its next chunk: a
    write before it left the worker idle once its queue ran dry. Once no match is left to hand out, each pause
    says so: the caller writes everything it holds while the last chunks play."""
    events: list[tuple[str, Any]] = []
    tasks = [MatchTask(f"m{i}", ENV, ("a", "b"), i, i) for i in range(40)]
    summary = run_matches(
        ScriptedPool(2, events),
        iter(tasks),
        len(tasks),
        lambda rows: events.append(("rows", len(rows))),
        lambda drained: events.append(("pause", drained)),
    )
    assert summary.played == 40
    replies = [i for i, e in enumerate(events) if e[0] == "rows"]
    for i in replies:
        after = events[i + 1 :]
        pause = next(j for j, e in enumerate(after) if e[0] == "pause")
        assert all(e[0] == "chunk" for e in after[:pause])  # the replier's next chunk, if any, before the pause
    pauses = [e[1] for e in events if e[0] == "pause"]
    assert pauses[-1] is True and pauses[0] is False
    assert sum(e[1] for e in events if e[0] == "rows") == 40
