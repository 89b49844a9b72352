"""The learning solvers: MMD on Leduc against OpenSpiel's MMDDilatedEnt (same iterates, speed ratio), exploitability
against iterations for the full-feedback solvers, and against realizations for Balanced / Adaptive FTRL.

Run: .venv/bin/python benchmarks/bench_learning_solvers.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from open_spiel.python.algorithms import exploitability as openspiel_exploitability
from open_spiel.python.algorithms import mmd_dilated

from arena.agents.mmd import MagneticMirrorDescent
from arena.games import TabularPolicy, exploitability, load, solve


def mmd_against_openspiel(iterations: int) -> None:
    game = load("leduc_poker-v0")
    ours = MagneticMirrorDescent(game, eta=0.5, alpha=0.05)
    ours.log_magnet = [np.where(tree.legal, 0.0, -np.inf) for tree in game.players]  # OpenSpiel's dilated entropy
    theirs = mmd_dilated.MMDDilatedEnt(game.game, alpha=0.05, stepsize=0.5)
    start = time.perf_counter()
    for _ in range(iterations):
        theirs.update_sequences()
    theirs_seconds = (time.perf_counter() - start) / iterations
    start = time.perf_counter()
    for _ in range(iterations):
        ours.iteration()
    ours_seconds = (time.perf_counter() - start) / iterations
    ours_gap = exploitability(game, ours.policy())
    theirs_gap = openspiel_exploitability.exploitability(game.game, theirs.get_policies())
    assert abs(ours_gap - theirs_gap) < 1e-9, (ours_gap, theirs_gap)
    print(
        f"MMD on Leduc poker (eta 0.5, alpha 0.05), exploitability after {iterations} iterations: arena "
        f"{ours_gap:.12f}, OpenSpiel {theirs_gap:.12f}"
    )
    print(
        f"  seconds per iteration: arena {ours_seconds * 1e3:.2f} ms, OpenSpiel MMDDilatedEnt (Python) "
        f"{theirs_seconds * 1e3:.0f} ms; arena is {theirs_seconds / ours_seconds:.0f}x faster\n"
    )


def full_feedback_table(env: str, checkpoints: list[int]) -> None:
    runs = [
        ("ftrl", {}),
        ("ftrl", {"optimistic": True}),
        ("nash_mp", {}),
        ("nash_mp", {"eta": 2.0}),
        ("mmd", {}),
        ("cfr_plus", {}),
    ]
    print(f"{env}: exploitability after N iterations (seconds for the last column)")
    print(f"  {'solver':28s}" + "".join(f"{n:>12d}" for n in checkpoints) + "     seconds")
    for solver, params in runs:
        result = solve(env, solver, checkpoints[-1], eval_every=checkpoints[0], **params)
        gaps = {t: g for t, g, _ in result.curve}
        label = solver + "".join(f" {k}={v}" for k, v in params.items())
        print(f"  {label:28s}" + "".join(f"{gaps[n]:12.5f}" for n in checkpoints) + f"{result.curve[-1][2]:12.2f}")
    print()


def realizations_table(env: str, checkpoints: list[int], seeds: int) -> None:
    print(
        f"{env}: exploitability of the average policy after N sampled realizations (mean over {seeds} seeds; "
        f"uniform play: {exploitability(env, TabularPolicy.uniform(load(env))):.4f})"
    )
    print(f"  {'solver':16s}" + "".join(f"{n:>10d}" for n in checkpoints) + "   realizations/s")
    for solver in ("balanced_ftrl", "adaptive_ftrl"):
        curves, rates = [], []
        for seed in range(seeds):
            result = solve(env, solver, checkpoints[-1], eval_every=checkpoints[0], seed=seed)
            gaps = {t: g for t, g, _ in result.curve}
            curves.append([gaps[n] for n in checkpoints])
            rates.append(result.realizations / result.curve[-1][2])
        mean = np.mean(curves, axis=0)
        print(f"  {solver:16s}" + "".join(f"{g:10.4f}" for g in mean) + f"{np.mean(rates):14.0f}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations and seeds")
    quick = parser.parse_args().quick
    mmd_against_openspiel(2 if quick else 5)
    full_feedback_table("kuhn_poker-v0", [10, 100, 1000] if quick else [10, 100, 1000, 10000])
    full_feedback_table("leduc_poker-v0", [10, 100] if quick else [10, 100, 1000])
    realizations_table("kuhn_poker-v0", [1000, 10000] if quick else [1000, 3000, 10000, 30000], 1 if quick else 3)
    if not quick:
        realizations_table("leduc_poker-v0", [1000, 10000, 30000], 1)


if __name__ == "__main__":
    main()
