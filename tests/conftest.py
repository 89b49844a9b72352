"""Shared test set-up: headless drawing and plotting."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("ARENA_CACHE", os.path.join(os.path.dirname(__file__), "..", ".pytest_cache", "arena"))
