"""The last module the forkserver preloads (`arena.tournaments.forkserver`): importing it freezes what the preload
made (`gc.freeze`), as Python's documentation advises before forking. The workers and probes forked from the server
never scan those objects in their collections (no copy-on-write of the pages that hold them), and the server's
own exit, when its coordinator ends, skips them (0.05 s, which a caller reading the coordinator's output waits for:
the server holds the same stdout). Imported anywhere else it would freeze that process's objects too: only the
forkserver imports it."""

import gc

gc.freeze()
