"""Liar's dice (1 die of 6 sides each; 294,883 histories): arena's one-time compile, then the exact exploitability
of a random policy with arena vs OpenSpiel's Python exploitability (which enumerates the states on every call)."""

from __future__ import annotations

import time

from open_spiel.python import policy as os_policy
from open_spiel.python.algorithms import exploitability as os_exploitability

from arena.games import TabularPolicy, exploitability, load


def main() -> None:
    start = time.perf_counter()
    game = load("liars_dice-v0")
    compile_seconds = time.perf_counter() - start

    ours = TabularPolicy.random(game, seed=0)

    start = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        value = exploitability(game, ours)
    arena_seconds = (time.perf_counter() - start) / repeats

    python_policy = os_policy.TabularPolicy(game.game)
    for key, row in ours.to_dict().items():
        python_policy.action_probability_array[python_policy.state_lookup[key]] = row
    start = time.perf_counter()
    reference = os_exploitability.exploitability(game.game, python_policy)
    spiel_seconds = time.perf_counter() - start
    assert abs(value - reference) < 1e-9, (value, reference)

    print(f"Liar's dice: {game.num_histories:,} histories, {sum(game.num_infosets):,} information sets")
    print(f"arena compile (once per process): {compile_seconds:.2f} s")
    print(f"exact exploitability of a random policy: {value:.12f} (arena and OpenSpiel agree to 1e-9)")
    print(f"{'':36}{'seconds/call':>14}")
    print(f"{'arena':36}{arena_seconds:14.4f}")
    print(f"{'OpenSpiel Python exploitability':36}{spiel_seconds:14.2f}")
    print(
        f"ratio: arena is {spiel_seconds / arena_seconds:.0f}x per call; "
        f"compile + one call is {spiel_seconds / (compile_seconds + arena_seconds):.1f}x"
    )


if __name__ == "__main__":
    main()
