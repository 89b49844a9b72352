"""The last module the forkserver preloads (`arena.tournaments.forkserver`): importing it finishes the preload.

It imports what every process started from the server would import as it starts (`pkgutil`, with which it runs
the main script again; `argparse`, which the `arena` script's module imports; the Popen class of the process it
unpickles: 4-5 ms a process), takes the rest of an early-started server's preload (`forkserver.take_plan`), reads
the installed entry points once (`arena.registry.plugin_entry_points`: every worker, probe and agent check would
otherwise read them again, from the disk's copy or, after a change, from every installed package's metadata,
before its first registry lookup), and freezes what the preload made (`gc.freeze`, as Python's documentation
advises before forking): the processes forked from the server never scan those objects in their collections (no
copy-on-write of the pages that hold them), and the server's own exit, when its coordinator ends, skips them
(0.05 s, which a caller reading the coordinator's output waits for: the server holds the same stdout). Imported
anywhere else it would freeze that process's objects too: only the forkserver imports it.
"""

import argparse  # noqa: F401
import gc
import multiprocessing.popen_forkserver  # noqa: F401
import pkgutil  # noqa: F401

from arena.registry import plugin_entry_points
from arena.tournaments.forkserver import take_plan

take_plan()
plugin_entry_points("")
gc.freeze()
