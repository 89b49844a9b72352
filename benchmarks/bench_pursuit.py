"""pursuit-v0 at scale: agent-steps per second with 1000 pursuers and 1000 targets, on CPU and on CUDA if present.

An agent-step is one pursuer acting once: a step of B worlds of N pursuers counts B x N agent-steps. The timed
step includes the targets' policies, the chunked neighbour search that builds every pursuer's observation, the
coverage rewards and automatic resets; "with heuristic" adds the scripted pursuers' batched policy.

    .venv/bin/python benchmarks/bench_pursuit.py
    .venv/bin/python benchmarks/bench_pursuit.py --pursuers 1000 --targets 1000 --batches 1 8
"""

from __future__ import annotations

import argparse
import time

import torch

from arena.envs.particles import make_vector_env


def agent_steps_per_second(
    device: str, batch: int, pursuers: int, targets: int, seconds: float, heuristic: bool
) -> float:
    env = make_vector_env("pursuit-v0", batch, device=device, seed=0, n_pursuers=pursuers, n_targets=targets)
    generator = torch.Generator(device=device).manual_seed(0)
    moves = torch.randint(0, 5, (batch, pursuers), generator=generator, device=device)
    sync = torch.cuda.synchronize if env.device.type == "cuda" else (lambda: None)
    for _ in range(3):
        env.step(env.heuristic_actions() if heuristic else moves)
    sync()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(env.heuristic_actions() if heuristic else moves)
        steps += 1
    sync()
    return steps * batch * pursuers / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pursuers", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="torch CPU thread counts to measure with (small tensors often run faster on one)",
    )
    args = parser.parse_args()
    runs = [("cpu", threads) for threads in args.threads]
    if torch.cuda.is_available():
        runs.append(("cuda", args.threads[-1]))
    print(
        f"pursuit-v0, {args.pursuers} pursuers x {args.targets} targets, max_observed 8; torch {torch.__version__}"
        + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "")
    )
    print(f"{'device':<8}{'threads':>8}{'B':>6}{'random moves':>18}{'with heuristic':>18}   (agent-steps/s)")
    for device, threads in runs:
        torch.set_num_threads(threads)
        for batch in args.batches:
            plain = agent_steps_per_second(device, batch, args.pursuers, args.targets, args.seconds, False)
            scripted = agent_steps_per_second(device, batch, args.pursuers, args.targets, args.seconds, True)
            print(f"{device:<8}{threads:>8}{batch:>6}{plain:>18,.0f}{scripted:>18,.0f}")


if __name__ == "__main__":
    main()
