"""Matches per second through the whole tournament engine against plain loops: Kuhn random-vs-random, and a solver
agent (CFR+) against random on Leduc poker and repeated rock-paper-scissors.

The engine's figure covers everything a tournament does per match: the schedule, the PettingZoo env (info dicts
with legal moves, names and a text description for every player at every step), the match loop with its
illegal-move checks, the agents, the result row and its SQLite transaction. The peer is the fastest honest loop
over the same game: `pyspiel` states, chance sampled and uniform random moves, returns read, nothing stored.
Both run in this process on one core; the engine then runs on 1..N worker processes to show its scaling, each
compared with the bare loop running in as many processes at once (busy cores are slower than one alone); beside
the engine's speed-up stands the bare loop's own on as many cores, the most the host gives that many processes.
The solver rows compare the engine (one process) with a plain loop that samples the same tabular policies.

The solver rows are paired rounds, each the plain loop then the engine on the same number of matches, and their
ratio is the median of the rounds' ratios: a slow spell of a shared machine then falls on both sides of a ratio.

    python benchmarks/bench_tournament.py [--matches 40000] [--workers-max N] [--repeats 3]
                                          [--solver-matches 3000] [--solver-rounds 9]
"""

from __future__ import annotations

import argparse
import bisect
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


def engine(
    matches: int,
    backend: str,
    workers: int,
    directory: Path,
    env: str = "kuhn_poker-v0",
    agents: tuple[str, str] = ("random", "random"),
) -> float:
    """Matches per second of a full tournament run (match phase: playing and storing every result)."""
    config = {
        "name": "bench",
        "envs": [env],
        "games": matches // 2,
        "exploitability": "off",
        "agents": [agents[0], {"name": f"{agents[1]}-2", "spec": agents[1]}],
    }
    db = directory / f"{backend}-{workers}-{env}.sqlite"
    run = arena.run_tournament(config, db=str(db), backend=backend, workers=workers, analyse=False)
    assert run.played == matches
    return run.played / run.match_seconds


SOLVED = "cfr_plus(iterations=1000)"


def solved_table(env: str) -> dict[str, list[float]]:
    """{information-state key: normalised cumulative action probabilities} of the policy `SOLVED` plays in env."""
    from arena.games import load
    from arena.games.solve import cached_policy

    policy = cached_policy(load(env), "cfr_plus", 1000)
    return {key: sums for key, (_, sums) in policy.lookup().items()}


def plain_leduc(matches: int, seed: int = 0) -> float:
    """Matches per second of a plain pyspiel loop over Leduc poker in which seat 0 samples the solved CFR+ policy
    (a dict lookup by information-state string and one bisection per move) and seat 1 moves uniformly at random;
    the seats swap every match, as a tournament's do."""
    table = solved_table("leduc_poker-v0")
    game = pyspiel.load_game("leduc_poker")
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for match in range(matches):
        solver_seat = match % 2
        state = game.new_initial_state()
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes, probs = zip(*state.chance_outcomes())
                state.apply_action(int(rng.choice(outcomes, p=probs)))
            elif state.current_player() == solver_seat:
                state.apply_action(bisect.bisect_right(table[state.information_state_string()], rng.random()))
            else:
                state.apply_action(int(rng.choice(state.legal_actions())))
        state.returns()
    return matches / (time.perf_counter() - start)


def plain_rps(matches: int, rounds: int, seed: int = 0) -> float:
    """Matches per second of a plain loop of repeated rock-paper-scissors: every round the solved stage policy
    against a uniform random move, payoffs read from the matrix and summed."""
    policy = solved_table("rps-v0")["player_0|"]
    payoffs = arena.make_env("rps-v0").payoffs
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(matches):
        total = np.zeros(2)
        for _ in range(rounds):
            ours, theirs = bisect.bisect_right(policy, rng.random()), int(rng.integers(3))
            total += payoffs[:, ours, theirs]
    return matches / (time.perf_counter() - start)


RPS_ROUNDS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=40000)
    parser.add_argument("--workers-max", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every measurement; medians are shown")
    parser.add_argument("--solver-matches", type=int, default=3000, help="matches per round of the solver rows")
    parser.add_argument("--solver-rounds", type=int, default=9, help="paired rounds of the solver rows")
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
        solver_pair, matches = (SOLVED, "random"), args.solver_matches
        for round_ in range(args.solver_rounds):
            directory = Path(tmp) / f"solver-{round_}"
            directory.mkdir()
            rates.setdefault("plain-leduc", []).append(plain_leduc(matches, seed=round_))
            rates.setdefault("leduc", []).append(
                engine(matches, "inprocess", 1, directory, "leduc_poker-v0", solver_pair)
            )
            rates.setdefault("plain-rps", []).append(plain_rps(matches, RPS_ROUNDS, seed=round_))
            rates.setdefault("rps", []).append(
                engine(matches, "inprocess", 1, directory, f"rps-v0(rounds={RPS_ROUNDS})", solver_pair)
            )
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
            f"speed-up {local / rate['local-1']:.2f} (the bare loop's on {k} cores: {k * peer / bare:.2f})"
        )
    print(
        f"{SOLVED} vs random, engine in-process (1 core) against a plain loop, "
        f"{args.solver_rounds} paired rounds of {args.solver_matches} matches (medians):"
    )
    for label, key in (("Leduc poker", "leduc"), (f"repeated RPS, {RPS_ROUNDS} rounds", "rps")):
        ratios = sorted(ours / plain for ours, plain in zip(rates[key], rates[f"plain-{key}"]))
        print(
            f"  {label:24} engine {rate[key]:8.0f} matches/s   plain loop {rate[f'plain-{key}']:8.0f}/s   "
            f"ratio {statistics.median(ratios):.2f} (rounds {ratios[0]:.2f}-{ratios[-1]:.2f})"
        )


if __name__ == "__main__":
    main()
