"""CFR+ iterations per second on Leduc poker: arena's sequence-form CFR+ vs OpenSpiel's C++ pyspiel.CFRPlusSolver.

Both run the same algorithm (RM+, alternating updates, linear averaging); the script checks that their average
policies have the same exploitability before comparing speed.
"""

from __future__ import annotations

import time

import pyspiel

from arena.agents.cfr import CFRPlusSolver
from arena.games import exploitability, load


def iterations_per_second(step, iterations: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        best = min(best, time.perf_counter() - start)
    return iterations / best


def main() -> None:
    game = load("leduc_poker-v0")
    ours, theirs = CFRPlusSolver(game), pyspiel.CFRPlusSolver(game.game)
    for _ in range(50):
        ours.iteration()
        theirs.evaluate_and_update_policy()
    ours_gap = exploitability(game, ours.policy())
    theirs_gap = pyspiel.exploitability(game.game, theirs.average_policy())
    assert abs(ours_gap - theirs_gap) < 1e-9, (ours_gap, theirs_gap)

    arena_rate = iterations_per_second(CFRPlusSolver(game).iteration, 1000)
    spiel_rate = iterations_per_second(pyspiel.CFRPlusSolver(game.game).evaluate_and_update_policy, 40)
    print(
        "CFR+ on Leduc poker (936 infosets, 9,457 histories); exploitability after 50 iterations: "
        f"arena {ours_gap:.10f}, OpenSpiel {theirs_gap:.10f}"
    )
    print(f"{'':28}{'iterations/s':>14}{'ms/iteration':>14}")
    print(f"{'arena (numpy, sequence form)':28}{arena_rate:14.1f}{1000 / arena_rate:14.3f}")
    print(f"{'pyspiel.CFRPlusSolver (C++)':28}{spiel_rate:14.1f}{1000 / spiel_rate:14.3f}")
    print(f"ratio: arena is {arena_rate / spiel_rate:.1f}x OpenSpiel's C++ CFR+")


if __name__ == "__main__":
    main()
