"""pursuit-v0: an attention policy trained with 10 pursuers and 10 targets, executed with 100 and 1000 of each.

The policy (the attention actor, trained by MAPPO with an entropy bonus; the centralised critic is used only in
training) sees only its own features and the entities in its sensing range, so it runs unchanged in larger worlds
(the field grows with the number of entities, keeping their density). Tracking performance is the mean fraction of
targets within range of some pursuer per step (the team-average reward), reported for the trained policy, the
env's scripted heuristic and random moves.
Writes results/pursuit_attention.json and results/pursuit_attention.png.

    python benchmarks/marl/pursuit_attention.py --minutes 20
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from arena.agents.marl.batching import make_batched_env
from arena.agents.marl.checkpoints import load_checkpoint
from arena.agents.marl.evaluation import evaluate, policy_evaluator
from arena.agents.marl.runner import train

RESULTS = Path(__file__).parent / "results"
CONFIG = {
    "network": "attention",
    "attention_embed": 32,
    "attention_heads": 2,
    "num_envs": 32,
    "rollout_steps": 50,
    "epochs": 3,
    "minibatches": 2,
    "lr": 5e-4,
    "critic_lr": 5e-4,
    "entropy_coef": 0.01,
}
MAX_STEPS = 100  # pursuit-v0 default episode length
SCALES = ((10, 40), (100, 4), (1000, 1))  # (pursuers = targets, worlds evaluated)


def world(size: int) -> str:
    return f"pursuit-v0(n_pursuers={size}, n_targets={size})"


def coverage(act_for, size: int, worlds: int) -> float:
    """Mean fraction of targets covered per step over one episode of each of `worlds` worlds."""
    env = make_batched_env(world(size), worlds, seed=7)
    returns = evaluate(act_for(env), env, worlds, seed=7)
    return float(returns.mean() / env.max_steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--steps", type=int, default=10_000_000)
    parser.add_argument("--out", default="runs/bench/pursuit-attention")
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = train(
        world(10),
        "mappo",
        steps=args.steps,
        seed=0,
        out=args.out,
        config=CONFIG,
        eval_every=100_000,
        eval_episodes=40,
        deterministic_eval=False,
        max_seconds=args.minutes * 60,
    )
    policy, _ = load_checkpoint(Path(args.out) / "best.pt")
    generator = torch.Generator().manual_seed(0)
    players = {
        "attention (trained at 10)": lambda env: policy_evaluator(policy, deterministic=False),
        "heuristic": lambda env: lambda obs, mask: env.heuristic_actions(),
        "random": lambda env: lambda obs, mask: torch.randint(5, obs.shape[:2], generator=generator),
    }
    table = {
        name: {size: coverage(act_for, size, worlds) for size, worlds in SCALES} for name, act_for in players.items()
    }
    for name, row in table.items():
        print(f"{name:28s}" + "".join(f"  {size:>4d}x{size:<4d} {value:.3f}" for size, value in row.items()))
    RESULTS.mkdir(exist_ok=True)
    report = {
        "config": CONFIG,
        "minutes": args.minutes,
        "env_steps": run.env_steps,
        "wall_time": run.wall_time,
        "curve": run.curve,
        "coverage": {name: {str(k): v for k, v in row.items()} for name, row in table.items()},
    }
    (RESULTS / "pursuit_attention.json").write_text(json.dumps(report, indent=2) + "\n")
    from plots import plot_curves

    plot_curves(
        {"attention policy (10 x 10)": [(s / 1e6, v / MAX_STEPS) for s, v in run.curve]},
        RESULTS / "pursuit_attention.png",
        "pursuit-v0, 10 pursuers x 10 targets: attention policy",
        "env steps (millions)",
        "targets covered per step",
        {"heuristic": table["heuristic"][10], "random": table["random"][10]},
    )


if __name__ == "__main__":
    main()
