"""Training runs: the loop behind `arena train`, with progress, metrics, periodic evaluation and checkpoints, and
the multi-seed summary (mean and interquartile mean with stratified-bootstrap 95% intervals, as marl-eval and
BenchMARL report).

A run directory holds `config.json` (everything needed to repeat the run), `metrics.csv` (one row per iteration,
evaluation columns filled when an evaluation ran), `metrics.json` (marl-eval's layout: env -> task -> algorithm ->
run -> step -> per-episode returns, plus `absolute_metrics` from the best policy), `best.pt` and `last.pt`.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arena.agents.marl.agent import PolicyAgent
from arena.agents.marl.algorithms import trainer_class
from arena.agents.marl.batching import is_vector_env, make_batched_env
from arena.agents.marl.checkpoints import load_checkpoint, save_checkpoint
from arena.agents.marl.configs import build_config
from arena.agents.marl.evaluation import evaluate, policy_evaluator
from arena.errors import ArenaError, ParameterError
from arena.games import exploitability, load
from arena.specs import EnvSpec

BASE_COLUMNS = ["iteration", "env_steps", "wall_time", "steps_per_sec", "train_return", "eval_return", "exploitability"]


@dataclass
class RunResult:
    """What one training run produced."""

    out: Path
    seed: int
    env_steps: int
    best_return: float  # evaluation return of the best checkpoint
    final_returns: np.ndarray  # per-episode mean-over-agents returns of the best policy
    final_agent_returns: list[float]  # per-agent mean return of the best policy
    curve: list[tuple[int, float]] = field(default_factory=list)  # (env steps, evaluation return)
    wall_time: float = 0.0
    best_exploitability: float | None = None  # two-player zero-sum tabular games: what selected the best

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "seed": self.seed,
            "env_steps": self.env_steps,
            "best_return": self.best_return,
            "final_return": float(np.mean(self.final_returns)),
            "final_agent_returns": self.final_agent_returns,
            "curve": self.curve,
            "wall_time": self.wall_time,
            "best_exploitability": self.best_exploitability,
        }


def train(
    env: EnvSpec | str,
    algo: str = "mappo",
    steps: int = 200_000,
    num_envs: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    out: str | Path | None = None,
    config: dict[str, Any] | None = None,
    eval_every: int | None = None,
    eval_episodes: int = 100,
    deterministic_eval: bool = True,
    threads: int | None = 1,
    max_seconds: float | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> RunResult:
    """Train `algo` on `env` (an EnvSpec or its text) for `steps` env steps (one step of one world) and write the run
    directory `out`.

    `config` overrides the algorithm's hyperparameters; `num_envs` overrides its number of parallel worlds.
    Evaluation every `eval_every` steps plays `eval_episodes` episodes (greedy actions unless
    `deterministic_eval=False`) and keeps the best policy in `best.pt`. `threads` limits torch's CPU threads;
    `max_seconds` stops training early at a wall-clock budget (the last iteration is then evaluated).
    """
    if steps < 1:
        raise ParameterError("steps must be at least 1")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError("--device cuda asked for, but torch sees no CUDA device")
    if threads:
        torch.set_num_threads(threads)
    spec = EnvSpec.of(env)
    name, params = spec.id, spec.kwargs()
    learner = trainer_class(algo)
    overrides = dict(config or {})
    if num_envs is not None:
        overrides["num_envs"] = num_envs
    hyper = build_config(learner.Config, overrides, algo)
    batched = make_batched_env(spec, hyper.num_envs, device=device, seed=seed)
    eval_env = make_batched_env(spec, min(eval_episodes, 100), device=device, seed=seed + 10_000)
    trainer = learner(batched, hyper, seed=seed, device=device)
    out = Path(out or f"runs/{name}-{algo}")
    out.mkdir(parents=True, exist_ok=True)
    trainer.policy.meta.update(env_id=name, env_params=params)
    eval_every = eval_every or max(steps // 10, 1)
    run_config = {
        "env": spec.text,
        "env_id": name,
        "env_params": params,
        "algo": algo,
        "seed": seed,
        "steps": steps,
        "device": device,
        "eval_every": eval_every,
        "eval_episodes": eval_episodes,
        "deterministic_eval": deterministic_eval,
        "hyperparameters": trainer.hyperparameters(),
    }
    (out / "config.json").write_text(json.dumps(run_config, indent=2, default=list) + "\n")
    act = policy_evaluator(trainer.policy, deterministic_eval)
    probe = exploitability_probe(spec)

    def run_evaluation(episodes: int) -> np.ndarray:
        trainer.policy.eval()
        returns = evaluate(act, eval_env, episodes, seed=seed + 10_000)
        trainer.policy.train()
        return returns

    stat_columns = list(learner.stat_keys)
    marl_eval: dict[str, Any] = {}
    curve: list[tuple[int, float]] = []
    best: float = -math.inf
    best_row: dict[str, Any] = {}
    recent: list[float] = []
    start = time.perf_counter()
    next_eval, iteration = 0, 0
    with open(out / "metrics.csv", "w", newline="") as csv_file:
        writer = None
        while trainer.env_steps < steps:
            stats = trainer.iterate(progress=trainer.env_steps / steps)
            iteration += 1
            out_of_time = max_seconds is not None and time.perf_counter() - start >= max_seconds
            recent = (recent + [float(np.mean(r)) for r in stats.pop("episodes")])[-100:]
            elapsed = time.perf_counter() - start
            row: dict[str, Any] = {
                "iteration": iteration,
                "env_steps": trainer.env_steps,
                "wall_time": round(elapsed, 3),
                "steps_per_sec": round(trainer.env_steps / max(elapsed, 1e-9), 1),
                "train_return": float(np.mean(recent)) if recent else "",
                "eval_return": "",
                "exploitability": "",
            }
            if trainer.env_steps >= next_eval or trainer.env_steps >= steps or out_of_time:
                next_eval = trainer.env_steps + eval_every
                returns = run_evaluation(eval_episodes)
                row["eval_return"] = float(returns.mean())
                curve.append((trainer.env_steps, row["eval_return"]))
                marl_eval[f"step_{len(curve) - 1}"] = {
                    "step_count": trainer.env_steps,
                    "return": returns.mean(axis=1).tolist(),
                }
                if probe is not None:
                    row["exploitability"] = probe(trainer.policy)
                    marl_eval[f"step_{len(curve) - 1}"]["exploitability"] = [row["exploitability"]]
                score = row["eval_return"] if probe is None else -row["exploitability"]
                if score > best:
                    best, best_row = score, dict(row)
                    save_checkpoint(
                        out / "best.pt",
                        trainer.policy,
                        run_config,
                        {
                            "env_steps": trainer.env_steps,
                            "eval_return": row["eval_return"],
                            "exploitability": row["exploitability"],
                            "seed": seed,
                        },
                    )
            if writer is None:
                writer = csv.DictWriter(csv_file, fieldnames=BASE_COLUMNS + stat_columns, extrasaction="ignore")
                writer.writeheader()
            writer.writerow({**row, **{k: round(v, 6) for k, v in stats.items()}})
            csv_file.flush()
            if on_progress:
                on_progress({**row, "steps": steps, **stats})
            if out_of_time:
                break
    save_checkpoint(
        out / "last.pt",
        trainer.policy,
        run_config,
        {"env_steps": trainer.env_steps, "eval_return": curve[-1][1], "seed": seed},
    )
    final = final_evaluation(out / "best.pt", eval_env, 10 * eval_episodes, deterministic_eval, seed)
    marl_eval["absolute_metrics"] = {"return": final.mean(axis=1).tolist()}
    document = {"arena": {name: {algo: {f"seed_{seed}": marl_eval}}}}
    (out / "metrics.json").write_text(json.dumps(document) + "\n")
    return RunResult(
        out=out,
        seed=seed,
        env_steps=trainer.env_steps,
        best_return=best_row["eval_return"],
        best_exploitability=best_row["exploitability"] if probe is not None else None,
        final_returns=final.mean(axis=1),
        final_agent_returns=final.mean(axis=0).tolist(),
        curve=curve,
        wall_time=time.perf_counter() - start,
    )


def exploitability_probe(env: EnvSpec) -> Callable[[Any], float] | None:
    """Exact exploitability of a policy when `env` is a two-player zero-sum tabular game, else None.

    Self-play returns of a zero-sum game always average to zero over the players, so for these games the best
    checkpoint is the least exploitable one instead.
    """
    if is_vector_env(env):
        return None
    try:
        game = load(env.text)
    except ArenaError:
        return None
    if game.num_players != 2 or not game.zero_sum:
        return None
    return lambda policy: float(exploitability(game, PolicyAgent(policy)))


def final_evaluation(path: Path, env: Any, episodes: int, deterministic: bool, seed: int) -> np.ndarray:
    """Per-agent returns [episodes, N] of the checkpoint at `path` on fresh evaluation episodes."""
    policy, _ = load_checkpoint(path, device=getattr(env, "device", "cpu"))
    return evaluate(policy_evaluator(policy, deterministic), env, episodes, seed=seed + 20_000)


# ---------------------------------------------------------------------------------------------------------------
# Several seeds


def interquartile_mean(values: np.ndarray) -> float:
    """Mean of the middle 50% of the values: a quarter is cut from each end, as scipy's trim_mean(x, 0.25) and
    rliable's IQM do (with fewer than 4 values nothing is cut)."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    cut = int(0.25 * ordered.size)
    return float(ordered[cut : ordered.size - cut].mean())


def bootstrap_interval(
    runs: list[np.ndarray], statistic: Callable[[np.ndarray], float], reps: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of `statistic` over the pooled episode scores of runs resampled with replacement
    (the stratified bootstrap of rliable/marl-eval, with one task as the single stratum)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(reps):
        chosen = rng.integers(len(runs), size=len(runs))
        values.append(statistic(np.concatenate([runs[i] for i in chosen])))
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def summarize(runs: list[np.ndarray]) -> dict[str, Any]:
    """Mean and IQM with 95% bootstrap intervals of per-run evaluation episode scores."""
    pooled = np.concatenate(runs)
    return {
        "runs": len(runs),
        "run_means": [float(np.mean(r)) for r in runs],
        "mean": float(np.mean(pooled)),
        "mean_ci95": list(bootstrap_interval(runs, lambda x: float(np.mean(x)))),
        "iqm": interquartile_mean(pooled),
        "iqm_ci95": list(bootstrap_interval(runs, interquartile_mean)),
    }


def seeds_report(env: EnvSpec | str, algo: str, results: list[RunResult]) -> dict[str, Any]:
    """The summary of several runs of one configuration, as `arena train --seeds K` writes it to summary.json."""
    return {
        "env": str(env),
        "algo": algo,
        "seeds": [r.seed for r in results],
        **summarize([r.final_returns for r in results]),
        "results": [r.to_dict() for r in results],
    }
