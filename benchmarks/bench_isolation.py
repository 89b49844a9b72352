"""What process isolation costs: Kuhn poker random-vs-random through `arena.play`, the agents in this process
against the same agents each in a process of its own (`process:random`), interleaved rounds in one process.

    python benchmarks/bench_isolation.py [--matches 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import arena


def rate(agents: list, matches: int) -> float:
    """Matches per second of `agents` playing Kuhn poker."""
    start = time.perf_counter()
    for seed in range(matches):
        arena.play("kuhn_poker-v0", agents, seed=seed)
    return matches / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--matches", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shared = [arena.make_agent("random"), arena.make_agent("random")]
    isolated = [arena.make_agent("process:random"), arena.make_agent("process:random")]
    rates: dict[str, list[float]] = {"in-process": [], "process": []}
    for _ in range(args.repeats):  # interleaved, so that both see the same machine
        rates["in-process"].append(rate(shared, args.matches))
        rates["process"].append(rate(isolated, args.matches))
    for agent in isolated:
        agent.close()
    base = statistics.median(rates["in-process"])
    for name, values in rates.items():
        value = statistics.median(values)
        print(f"{name:>10}: {value:9.0f} matches/s  ({value / base:.3f} of in-process)")


if __name__ == "__main__":
    main()
