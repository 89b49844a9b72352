"""Kuhn poker random-vs-random: matches per second through the whole tournament engine against bare pyspiel.

The engine's figure covers everything a tournament does per match: the schedule, the PettingZoo env (info dicts
with legal moves, names and a text description for every player at every step), the match loop with its
illegal-move checks, the agents, the result row and its SQLite transaction. The peer is the fastest honest loop
over the same game: `pyspiel` states, chance sampled and uniform random moves, returns read, nothing stored.
Both run in this process on one core; the engine then runs on 1..N worker processes to show its scaling.

    python benchmarks/bench_tournament.py [--matches 20000] [--workers-max N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyspiel

import arena


def bare_pyspiel(matches: int, seed: int = 0) -> float:
    """Matches per second of a plain pyspiel rollout loop with uniform random moves."""
    game = pyspiel.load_game("kuhn_poker")
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(matches):
        state = game.new_initial_state()
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes, probs = zip(*state.chance_outcomes())
                state.apply_action(int(rng.choice(outcomes, p=probs)))
            else:
                state.apply_action(int(rng.choice(state.legal_actions())))
        state.returns()
    return matches / (time.perf_counter() - start)


def play_loop(matches: int) -> float:
    """Matches per second of `arena.play` alone on one reused env and agent pair (no schedule, no storage)."""
    from arena.match import play

    env = arena.make_env("kuhn_poker-v0")
    agents = [arena.make_agent("random"), arena.make_agent("random")]
    start = time.perf_counter()
    for seed in range(matches):
        play(env, agents, seed=seed)
    return matches / (time.perf_counter() - start)


def engine(matches: int, backend: str, workers: int, directory: Path) -> float:
    """Matches per second of a full tournament run (match phase: playing and storing every result)."""
    config = {"name": "bench", "envs": ["kuhn_poker-v0"], "games": matches // 2, "exploitability": "off",
              "agents": ["random", {"name": "random-2", "spec": "random"}]}
    db = directory / f"{backend}-{workers}.sqlite"
    run = arena.run_tournament(config, db=str(db), backend=backend, workers=workers, analyse=False)
    assert run.played == matches
    return run.played / run.match_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=20000)
    parser.add_argument("--workers-max", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bare = bare_pyspiel(args.matches)
        loop = play_loop(args.matches)
        inprocess = engine(args.matches, "inprocess", 1, directory)
        print(f"bare pyspiel loop (1 core):          {bare:9.0f} matches/s")
        print(f"arena.play loop alone (1 core):      {loop:9.0f} matches/s   ratio {loop / bare:.2f}")
        print(f"arena engine, in-process (1 core):   {inprocess:9.0f} matches/s   ratio {inprocess / bare:.2f}")
        single = None
        for workers in range(1, args.workers_max + 1):
            rate = engine(args.matches, "local", workers, directory)
            single = single or rate
            print(f"arena engine, local, {workers:2d} workers:     {rate:9.0f} matches/s   "
                  f"per core {rate / workers:7.0f} ({rate / workers / bare:.2f} of bare)   "
                  f"speed-up {rate / single:.2f}")


if __name__ == "__main__":
    main()
