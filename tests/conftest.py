"""Shared test set-up: headless drawing and plotting, and Ctrl-C that reaches the processes tests start."""

import os
import signal

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")
# A suite started in the background (`cmd &` in a script) ignores SIGINT, and the processes the Ctrl-C tests start
# would inherit that; with the default handler here they get Python's own (KeyboardInterrupt) again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
os.environ.setdefault("ARENA_CACHE", os.path.join(os.path.dirname(__file__), "..", ".pytest_cache", "arena"))
