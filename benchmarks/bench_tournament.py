"""Kuhn poker random-vs-random: matches per second through the whole tournament engine against bare pyspiel.

The engine's figure covers everything a tournament does per match: the schedule, the PettingZoo env (info dicts
with legal moves, names and a text description for every player at every step), the match loop with its
illegal-move checks, the agents, the result row and its SQLite transaction. The peer is the fastest honest loop
over the same game: `pyspiel` states, chance sampled and uniform random moves, returns read, nothing stored.
Both run in this process on one core; the engine then runs on 1..N worker processes to show its scaling, each
compared with the bare loop running in as many processes at once (busy cores are slower than one alone).

    python benchmarks/bench_tournament.py [--matches 40000] [--workers-max N] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
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


def bare_on_cores(matches: int, processes: int, seed: int = 0) -> float:
    """Per-core rate of the bare loop run in `processes` processes at once: the peer of `processes` workers, since
    cores that all work run slower than one alone (shared caches, clock, host)."""
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        rates = pool.starmap(bare_pyspiel, [(matches // processes, seed + i) for i in range(processes)])
    return sum(rates) / processes


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
    config = {
        "name": "bench",
        "envs": ["kuhn_poker-v0"],
        "games": matches // 2,
        "exploitability": "off",
        "agents": ["random", {"name": "random-2", "spec": "random"}],
    }
    db = directory / f"{backend}-{workers}.sqlite"
    run = arena.run_tournament(config, db=str(db), backend=backend, workers=workers, analyse=False)
    assert run.played == matches
    return run.played / run.match_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=40000)
    parser.add_argument("--workers-max", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every measurement; medians are shown")
    args = parser.parse_args()
    workers = range(1, args.workers_max + 1)
    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):  # interleaved, so that a slow spell of the machine hits every figure
            directory = Path(tmp) / str(repeat)
            directory.mkdir()
            rates.setdefault("bare", []).append(bare_pyspiel(args.matches, seed=repeat))
            rates.setdefault("loop", []).append(play_loop(args.matches))
            rates.setdefault("inprocess", []).append(engine(args.matches, "inprocess", 1, directory))
            for k in workers:
                rates.setdefault(f"local-{k}", []).append(engine(args.matches, "local", k, directory))
                if k > 1:
                    rates.setdefault(f"bare-{k}", []).append(bare_on_cores(args.matches, k, seed=repeat))
    rate = {name: statistics.median(values) for name, values in rates.items()}
    bare = rate["bare"]
    print(f"{args.matches} matches, median of {args.repeats} interleaved rounds")
    print(f"bare pyspiel loop (1 core):          {bare:9.0f} matches/s")
    print(f"arena.play loop alone (1 core):      {rate['loop']:9.0f} matches/s   ratio {rate['loop'] / bare:.2f}")
    print(
        f"arena engine, in-process (1 core):   {rate['inprocess']:9.0f} matches/s   "
        f"ratio {rate['inprocess'] / bare:.2f}"
    )
    for k in workers:
        local, peer = rate[f"local-{k}"], rate.get(f"bare-{k}", bare)
        print(
            f"arena engine, local, {k:2d} workers:     {local:9.0f} matches/s   per core {local / k:7.0f} "
            f"({local / k / peer:.2f} of bare on {k} busy cores: {peer:.0f}/s)   "
            f"speed-up {local / rate['local-1']:.2f}"
        )


if __name__ == "__main__":
    main()
