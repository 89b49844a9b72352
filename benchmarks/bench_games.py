"""The exact engine against OpenSpiel's C++ on a ladder of games, side by side in one process.

Per game: compiling (arena's walk into arrays, cold, in a fresh process, no disk store; the peer is OpenSpiel's
C++ CFR solver construction, which walks the whole tree once to build its information-state table), beside the
floor of any walk through pyspiel's Python bindings (the calls arena's walk makes, each history's player, each
node's children, information state, legal moves or chance outcomes, each terminal's returns, in a bare recursion
that records nothing), loading the compiled game from the disk store, one exact exploitability (NashConv for more
than two players) of the uniform policy against pyspiel.exploitability / pyspiel.nash_conv, and one CFR+
iteration against pyspiel.CFRPlusSolver. Ratios are OpenSpiel's time over arena's (above 1: arena is faster).
Times are the best of `--repeats` rounds.

    python benchmarks/bench_games.py [--games kuhn,leduc,...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable

import pyspiel

from arena.agents.cfr import CFRPlusSolver
from arena.games import tree
from arena.games.exploitability import gap
from arena.games.policy import TabularPolicy

LADDER = {
    "kuhn": "kuhn_poker",
    "kuhn3": "kuhn_poker(players=3)",
    "tiny_hanabi": "tiny_hanabi",
    "leduc": "leduc_poker",
    "goofspiel5": "turn_based_simultaneous_game(game=goofspiel(num_cards=5,imp_info=True,points_order=descending))",
    "liars_dice": "liars_dice",
    "leduc3": "leduc_poker(players=3)",
}


def best(step: Callable[[], object], repeats: int, budget: float = 2.0) -> float:
    """Best seconds of one call over `repeats` rounds, each round averaging calls for up to `budget` seconds."""
    times = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            step()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed > budget / repeats or calls >= 1000:
                break
        times.append(elapsed / calls)
    return min(times)


def compile_cold(game_string: str) -> tuple[float, float]:
    """Seconds and peak traced memory of one compile, without the disk store, in a process of its own."""
    tree.load("kuhn_poker")  # imports and first-use costs paid
    tree.STORE_MIN_HISTORIES = 10**18
    tree.clear_compiled()
    start = time.perf_counter()
    tree.load(game_string)
    elapsed = time.perf_counter() - start
    tree.clear_compiled()
    tracemalloc.start()  # the second compile counts its peak (Python objects and numpy arrays, not pyspiel's states)
    tree.load(game_string)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, float(peak)


def bare_calls(game: pyspiel.Game) -> int:
    """Depth-first walk making only the pyspiel calls arena's walk makes (the last child is the node moved on, as
    there), recording nothing: the floor of a walk through the Python bindings. Returns the histories visited."""
    root = game.new_initial_state()
    stack = [(root, root.current_player())]
    if stack[0][1] == pyspiel.PlayerId.TERMINAL:
        return 1
    visited = 1
    while stack:
        state, player = stack.pop()
        if player >= 0:
            state.information_state_string(player)
            actions = state.legal_actions()
        else:
            actions = [outcome for outcome, prob in state.chance_outcomes() if prob > 0]
        last = len(actions) - 1
        pending = []
        for i, action in enumerate(actions):
            if i == last:
                state.apply_action(action)
                child = state
            else:
                child = state.child(action)
            child_player = child.current_player()
            visited += 1
            if child_player == pyspiel.PlayerId.TERMINAL:
                child.returns()
            else:
                pending.append((child, child_player))
        pending.reverse()
        stack.extend(pending)
    return visited


def load_stored(game_string: str) -> tree.TabularGame:
    tree.clear_compiled()
    return tree.load(game_string)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", default=",".join(LADDER), help=f"comma-separated, of {', '.join(LADDER)}")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("ARENA_CACHE", tempfile.mkdtemp(prefix="bench-games-"))
    header = f"{'game':12}{'histories':>10} | {'task':18}{'arena':>13}{'OpenSpiel':>13}{'ratio':>10}"
    print(header)
    print("-" * len(header))
    for label in args.games.split(","):
        measure_game(label, args.repeats)


def measure_game(label: str, repeats: int) -> None:
    """Print the rows of one game of the ladder."""
    game_string = LADDER[label]
    spiel = pyspiel.load_game(game_string)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        walk, held = pool.apply(compile_cold, (game_string,))
    cpp_walk = best(lambda: pyspiel.CFRPlusSolver(spiel), repeats, budget=0.0)
    floor = best(lambda: bare_calls(spiel), repeats, budget=0.0)
    tree.STORE_MIN_HISTORIES, minimum = 0, tree.STORE_MIN_HISTORIES
    load_stored(game_string)  # writes the file
    stored = best(lambda: load_stored(game_string), repeats, budget=1.0)
    tree.STORE_MIN_HISTORIES = minimum
    game = tree.load(game_string)
    peak = held / game.num_histories
    uniform = TabularPolicy.uniform(game)
    spiel_uniform = pyspiel.TabularPolicy(
        {
            key: [(int(a), float(row[a])) for a in range(game.num_actions) if player.legal[i, a]]
            for player, probs in zip(game.players, uniform.probs)
            for i, (key, row) in enumerate(zip(player.keys, probs))
        }
    )
    two_player = game.num_players == 2 and game.zero_sum
    ours_gap = best(lambda: gap(game, uniform.plans()), repeats)
    measure = pyspiel.exploitability if two_player else pyspiel.nash_conv
    theirs_gap = best(lambda: measure(spiel, spiel_uniform), repeats)
    assert bare_calls(spiel) == game.num_histories
    ours_cfr, theirs_cfr = CFRPlusSolver(game), pyspiel.CFRPlusSolver(spiel)
    ours_it = best(ours_cfr.iteration, repeats)
    theirs_it = best(theirs_cfr.evaluate_and_update_policy, repeats)
    rows = [
        ("compile (walk)", walk, cpp_walk),
        ("load (stored)", stored, None),
        ("exploitability" if two_player else "NashConv", ours_gap, theirs_gap),
        ("CFR+ iteration", ours_it, theirs_it),
    ]
    for i, (task, ours, theirs) in enumerate(rows):
        name = f"{label:12}{game.num_histories:>10,}" if i == 0 else " " * 22
        peer = f"{theirs * 1e3:11.2f}ms" if theirs is not None else f"{'':>13}"
        ratio = f"{theirs / ours:9.2f}x" if theirs is not None else f"{'':>10}"
        print(f"{name} | {task:18}{ours * 1e3:11.2f}ms{peer}{ratio}")
    per_history = walk / game.num_histories * 1e6
    print(f"{'':22} | walk: {per_history:.2f} us and {peak:.0f} bytes of peak memory per history")
    floor_us = floor / game.num_histories * 1e6
    print(
        f"{'':22} | the pyspiel calls alone (one process): {floor * 1e3:.2f} ms, {floor_us:.2f} us per history; "
        f"C++ takes {cpp_walk / floor:.2f}x their time, arena's walk {walk / floor:.2f}x"
    )


if __name__ == "__main__":
    main()
