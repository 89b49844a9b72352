"""spread-v0 against MPE2's simple_spread_v3 and VMAS's simple_spread, side by side: env-steps per second, ratios.

One env-step is one world advancing once with every agent acting; a batched step of B worlds counts B env-steps.
Every side plays the same kind of random discrete moves, drawn before timing, and restarts finished episodes
(25 steps) as it goes: MPE2 and VMAS through `reset()`, arena inside `step()`. At each batch size arena and VMAS
(also batched torch, on the same device) are measured in turns, `--rounds` times each, and the medians compared.

    .venv/bin/python benchmarks/bench_particles.py                  # B = 1, 64, 1024, 8192 on CPU
    .venv/bin/python benchmarks/bench_particles.py --device cuda --batches 1 8192 65536
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch

from arena.envs.particles import make_vector_env


def mpe2_steps_per_second(seconds: float, agents: int) -> float:
    from mpe2 import simple_spread_v3

    env = simple_spread_v3.parallel_env(N=agents, max_cycles=25)
    env.reset(seed=0)
    moves = np.random.default_rng(0).integers(0, 5, size=(1000, agents))
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        if not env.agents:
            env.reset()
        env.step({a: int(m) for a, m in zip(env.possible_agents, moves[steps % 1000])})
        steps += 1
    return steps / (time.perf_counter() - start)


def arena_steps_per_second(seconds: float, agents: int, batch: int, device: str) -> float:
    env = make_vector_env("spread-v0", batch, device=device, seed=0, N=agents)
    generator = torch.Generator(device=device).manual_seed(0)
    moves = [torch.randint(0, 5, (batch, agents), generator=generator, device=device) for _ in range(25)]
    for i in range(30):  # warm up, through one automatic reset
        env.step(moves[i % 25])
    sync = torch.cuda.synchronize if env.device.type == "cuda" else (lambda: None)
    sync()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(moves[steps % 25])
        steps += 1
    sync()
    return steps * batch / (time.perf_counter() - start)


def vmas_steps_per_second(seconds: float, agents: int, batch: int, device: str) -> float:
    import vmas

    with warnings.catch_warnings():  # VMAS warns about gym's deprecation on import of its wrappers
        warnings.simplefilter("ignore")
        env = vmas.make_env(
            "simple_spread",
            num_envs=batch,
            device=device,
            continuous_actions=False,
            max_steps=25,
            seed=0,
            n_agents=agents,
        )
    env.reset()
    generator = torch.Generator(device=device).manual_seed(0)
    moves = [torch.randint(0, 5, (batch, agents), generator=generator, device=device) for _ in range(25)]
    per_agent = [[m[:, i] for i in range(agents)] for m in moves]
    for i in range(30):  # warm up, through one reset
        env.step(per_agent[i % 25])
        if (i + 1) % 25 == 0:
            env.reset()
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    env.reset()
    sync()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(per_agent[steps % 25])
        steps += 1
        if steps % 25 == 0:  # every world's episode ends together
            env.reset()
    sync()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 1024, 8192])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="turns of arena and VMAS per batch size (medians)")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="torch CPU thread counts to measure with (small tensors often run faster on one)",
    )
    args = parser.parse_args()
    for threads in args.threads:
        torch.set_num_threads(threads)
        reference = mpe2_steps_per_second(args.seconds, args.agents)
        print(
            f"\nspread with N={args.agents}, random moves, 25-step episodes; torch {torch.__version__}, "
            f"{threads} CPU thread(s), device {args.device}"
        )
        print(f"{'system':<34}{'env-steps/s':>14}{'vs MPE2':>10}{'vs VMAS':>10}")
        print(f"{'MPE2 simple_spread_v3 parallel_env':<34}{reference:>14,.0f}{1.0:>9.1f}x")
        for batch in args.batches:
            ours, theirs = [], []
            for _ in range(args.rounds):
                ours.append(arena_steps_per_second(args.seconds, args.agents, batch, args.device))
                theirs.append(vmas_steps_per_second(args.seconds, args.agents, batch, args.device))
            arena, vmas = statistics.median(ours), statistics.median(theirs)
            print(f"{f'VMAS simple_spread, B={batch}':<34}{vmas:>14,.0f}{vmas / reference:>9.1f}x{1.0:>9.1f}x")
            print(f"{f'arena spread-v0, B={batch}':<34}{arena:>14,.0f}{arena / reference:>9.1f}x{arena / vmas:>9.1f}x")


if __name__ == "__main__":
    main()
