"""Tournaments: round-robin schedules, local or Ray backends, a crash-safe SQLite store, metrics and reports.

```python
import arena
run = arena.run_tournament("examples/kuhn.toml", db="results.sqlite", workers=2)
print(run.metrics["agents"][0]["name"])
```

Modules: `config` (the schema and the TOML reader), `schedule` (match ids and seeds), `worker` (what a worker
process runs), `pools` (in-process, local and Ray pools feeding the workers), `records` (the store's typed records
and their row encoding), `store` (the SQLite file), `analysis` (exploitability), `statistics`, `metagame`,
`regret` and `metrics` (what the matches say), `report` (tables, CSV, plots, HTML), `run` (`run_tournament`) and
`cli` (`arena tournament`, `arena report`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arena.tournaments.config import AgentEntry, TournamentConfig, load_config
    from arena.tournaments.records import MatchRecord
    from arena.tournaments.run import TournamentRun, run_tournament
    from arena.tournaments.schedule import MatchTask
    from arena.tournaments.store import ResultsStore

# Loaded on first use, so that the `arena` command's parser (which imports `arena.tournaments.cli`) stays light.
_LAZY = {
    "AgentEntry": "arena.tournaments.config",
    "TournamentConfig": "arena.tournaments.config",
    "load_config": "arena.tournaments.config",
    "MatchRecord": "arena.tournaments.records",
    "TournamentRun": "arena.tournaments.run",
    "run_tournament": "arena.tournaments.run",
    "MatchTask": "arena.tournaments.schedule",
    "ResultsStore": "arena.tournaments.store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'arena.tournaments' has no attribute {name!r}")


__all__ = [
    "AgentEntry",
    "MatchRecord",
    "MatchTask",
    "ResultsStore",
    "TournamentConfig",
    "TournamentRun",
    "load_config",
    "run_tournament",
]
