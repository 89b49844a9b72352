"""spread-v0 (N=3, 25 steps): MAPPO against random play and the scripted heuristic, per-agent return on MPE2's scale.

Each seed trains for at most `--minutes` of wall-clock time (the issue's budget is 30 minutes on a 2-core machine)
and is scored by its best checkpoint on 1000 fresh evaluation episodes. The gap closed is
(MAPPO - random) / (heuristic - random). Writes results/<name>.json and results/<name>.png (`--name`, default
spread_mappo).

    python benchmarks/marl/spread_mappo.py --seeds 3 --minutes 30

Seeds trained in separate processes (to run them side by side) are summarised afterwards with
`--from-runs DIR [DIR ...]`, which re-scores each run directory's best checkpoint the same way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from arena.agents.marl.batching import make_batched_env
from arena.agents.marl.checkpoints import load_checkpoint
from arena.agents.marl.evaluation import evaluate
from arena.agents.marl.runner import RunResult, final_evaluation, seeds_report, train

RESULTS = Path(__file__).parent / "results"
CONFIG = {"num_envs": 128, "epochs": 5, "minibatches": 2, "lr": 1e-3, "critic_lr": 1e-3}


def baselines(episodes: int = 1000) -> dict[str, float]:
    """Mean per-agent return of uniform random actions and of the env's scripted heuristic."""
    env = make_batched_env("spread-v0", 250, seed=99)
    generator = torch.Generator().manual_seed(0)
    random = evaluate(lambda obs, mask: torch.randint(5, obs.shape[:2], generator=generator), env, episodes, seed=99)
    heuristic = evaluate(lambda obs, mask: env.heuristic_actions(), env, episodes, seed=99)
    return {"random": float(random.mean()), "heuristic": float(heuristic.mean())}


def run_from_directory(directory: str) -> RunResult:
    """A finished run directory as a RunResult: its curve and budget from metrics.csv, its best checkpoint
    re-scored on 1000 episodes exactly as `train` scores it."""
    import csv

    folder = Path(directory)
    seed = json.loads((folder / "config.json").read_text())["seed"]
    rows = list(csv.DictReader((folder / "metrics.csv").open()))
    curve = [(int(r["env_steps"]), float(r["eval_return"])) for r in rows if r["eval_return"]]
    env = make_batched_env("spread-v0", 100, seed=seed + 10_000)
    returns = final_evaluation(folder / "best.pt", env, 1000, True, seed)
    _, record = load_checkpoint(folder / "best.pt")
    return RunResult(
        out=folder,
        seed=seed,
        env_steps=int(rows[-1]["env_steps"]),
        best_return=float(record["extra"]["eval_return"]),
        final_returns=returns.mean(axis=1),
        final_agent_returns=returns.mean(axis=0).tolist(),
        curve=curve,
        wall_time=float(rows[-1]["wall_time"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=30.0, help="wall-clock budget per seed")
    parser.add_argument("--steps", type=int, default=20_000_000, help="env-step cap per seed")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--name", default="spread_mappo", help="stem of the result files under results/")
    parser.add_argument("--out", default="runs/bench/spread-mappo")
    parser.add_argument("--from-runs", nargs="+", metavar="DIR", help="summarise finished runs instead of training")
    args = parser.parse_args()
    torch.set_num_threads(1)
    levels = baselines()
    print(f"random {levels['random']:.2f}, heuristic {levels['heuristic']:.2f} (per agent, 1000 episodes)")
    if args.from_runs:
        results = [run_from_directory(directory) for directory in args.from_runs]
    else:
        results = [
            train(
                "spread-v0",
                "mappo",
                steps=args.steps,
                seed=seed,
                out=f"{args.out}/seed_{seed}",
                config=CONFIG,
                eval_every=200_000,
                eval_episodes=100,
                max_seconds=args.minutes * 60,
            )
            for seed in range(args.first_seed, args.first_seed + args.seeds)
        ]
    report = seeds_report("spread-v0", "mappo", results)
    span = levels["heuristic"] - levels["random"]
    gaps = [(float(np.mean(r.final_returns)) - levels["random"]) / span for r in results]
    report.update(
        baselines=levels,
        config=CONFIG,
        minutes_per_seed=args.minutes,
        gap_closed=gaps,
        gap_closed_iqm=(report["iqm"] - levels["random"]) / span,
    )
    for r, gap in zip(results, gaps):
        print(
            f"seed {r.seed}: {np.mean(r.final_returns):.2f} per agent after {r.env_steps:,} steps "
            f"({r.wall_time / 60:.1f} min): {100 * gap:.0f}% of the random->heuristic gap"
        )
    print(
        f"IQM {report['iqm']:.2f} [{report['iqm_ci95'][0]:.2f}, {report['iqm_ci95'][1]:.2f}] = "
        f"{100 * report['gap_closed_iqm']:.0f}% of the gap"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    from plots import plot_curves

    curves = {f"MAPPO seed {r.seed}": [(s / 1e6, v) for s, v in r.curve] for r in results}
    plot_curves(
        curves,
        RESULTS / f"{args.name}.png",
        "spread-v0 (N=3): MAPPO",
        "env steps (millions)",
        "return per agent (greedy evaluation)",
        {"heuristic": levels["heuristic"], "random": levels["random"]},
    )


if __name__ == "__main__":
    main()
