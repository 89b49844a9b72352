"""The forkserver a run's processes start from: the agent check, the analysis probes and the local workers.

One per coordinator, started by whichever of them comes first, it imports what they run once (`PRELOAD`), so
that each starts from it without importing. `start` starts it at once, so that it imports them on another core
while the coordinator imports the rest of the engine (the `arena tournament` command does this first). The server
keeps the environment it started with: variables the run's processes must see are set before it starts.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

PRELOAD = ["arena.tournaments.worker", "arena.tournaments.run", "arena.tournaments.analysis"]
multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)


def start() -> None:
    """Start the forkserver now (it goes on importing `PRELOAD` in the background)."""
    multiprocessing.forkserver.ensure_running()
