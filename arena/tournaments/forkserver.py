"""The forkserver a run's processes start from: the agent check, the analysis probes and the local workers.

One per coordinator, started by whichever of them comes first, it imports what they run once (`PRELOAD`), so
that each starts from it without importing. `start` starts it at once, so that it imports them on another core
while the coordinator imports the rest of the engine (the `arena tournament` command does this first); a run that
will probe agents for their exploitability has it import the analysis and the exact engine too (`PROBES`: the
compiled games, which each probe would import otherwise; scipy.sparse loads only in a probe of a game large enough
to need it). The server keeps the environment it started with: variables the run's processes must see are set
before it starts.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
from collections.abc import Iterable

PRELOAD = ["arena.tournaments.worker", "arena.tournaments.run", "arena.tournaments.analysis"]
COMMAND = ["arena.tournaments.pools", "arena.tournaments.worker", "arena.tournaments.check"]  # no `run`: see start
PROBES = [
    "arena.tournaments.analysis",
    "arena.match",
    "arena.games.exploitability",
    "arena.games.policy",
    "arena.games.tree",
]
FREEZE = "arena.tournaments.preloaded"  # imported last: it freezes what the others made
multiprocessing.get_context("forkserver").set_forkserver_preload([*PRELOAD, FREEZE])


def start(workers: bool = True, probes: bool = False, envs: Iterable[str] = ()) -> None:
    """Start the forkserver for the `arena tournament` command now; it goes on importing in the background what
    the run's processes need: the workers' and the check's modules with `workers`, `PROBES` with `probes`, and the
    modules of the run's `envs` (OpenSpiel, PettingZoo, torch for particle worlds), which the check and every worker
    would each import otherwise. (`PRELOAD`, the default for scripts, adds `arena.tournaments.run`, which a
    script's children import again with the script.)"""
    preload = (COMMAND if workers else []) + (PROBES if probes else [])
    multiprocessing.get_context("forkserver").set_forkserver_preload([*preload, *envs, FREEZE])
    multiprocessing.forkserver.ensure_running()
