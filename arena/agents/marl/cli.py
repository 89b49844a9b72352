"""`arena train ENV --algo mappo|ippo|maddpg`: train, evaluate and checkpoint, for one seed or several."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from arena.console import writable_dir
from arena.errors import ConfigError, ParameterError, did_you_mean


def _algorithm(name: str) -> str:
    """`--algo`'s check, at parse time: looking the name up loads the plugins, which building the parser does not."""
    from arena.agents.marl.algorithms import algorithms

    if name not in algorithms:
        choices = algorithms.names()
        raise argparse.ArgumentTypeError(
            f"invalid choice: {name!r} (choose from {', '.join(choices)}){did_you_mean(name, choices)}"
        )
    return name


COMMANDS = {"train": "train MAPPO, IPPO or MADDPG on an env and save checkpoints"}


def add_parser(subparsers: Any) -> None:
    from arena.agents.marl.algorithms import BUILTINS  # the learners load only for the train verb

    p = subparsers.add_parser(
        "train",
        help=COMMANDS["train"],
        description="Train a multi-agent learner. Writes config.json, metrics.csv, "
        "metrics.json (marl-eval layout), best.pt and last.pt to --out.",
    )
    p.add_argument("env", help="env id with optional parameters, e.g. 'spread-v0(N=3)' or kuhn_poker-v0")
    p.add_argument(
        "--algo",
        type=_algorithm,
        default="mappo",
        metavar="NAME",
        help=f"the learner: {', '.join(e.name for e in BUILTINS)} or a plugin's (default: mappo)",
    )
    p.add_argument("--steps", type=int, default=200_000, help="env steps to train for (one step of one world)")
    p.add_argument("--envs", type=int, default=None, metavar="B", help="parallel worlds (default: the algorithm's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, default=1, metavar="K", help="train seeds seed..seed+K-1 and summarise")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--out", default=None, metavar="DIR", help="run directory (default runs/<env>-<algo>)")
    p.add_argument("--config", default=None, metavar="FILE", help="hyperparameters, TOML or JSON")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one hyperparameter (repeatable), e.g. --set lr=3e-4",
    )
    p.add_argument("--eval-every", type=int, default=None, metavar="STEPS", help="default: steps / 10")
    p.add_argument("--eval-episodes", type=int, default=100)
    p.add_argument("--stochastic-eval", action="store_true", help="sample actions when evaluating (not greedy)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    p.add_argument("--json", action="store_true", help="print the results as JSON (no progress bar)")
    p.set_defaults(handler=cmd_train)


def hyperparameters(args: argparse.Namespace) -> dict[str, Any]:
    """The `--config` file's hyperparameters with the `--set KEY=VALUE` overrides on top, each value read as its
    type in the learner's schema (validation follows in `configs.build_config`)."""
    from arena.agents.marl.algorithms import trainer_class
    from arena.agents.marl.configs import load_config_file, parse_value_for

    schema = trainer_class(args.algo).Config
    config = load_config_file(args.config) if args.config else {}
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        config[key.strip()] = parse_value_for(schema, key.strip(), value)
    return config


def cmd_train(args: argparse.Namespace) -> int:
    # Imported here, not at the top: this module is loaded for every `arena` command, and the runner loads torch.
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from arena.agents.marl.runner import seeds_report, train
    from arena.specs import EnvSpec

    if args.seeds < 1:
        raise ParameterError("--seeds must be at least 1")
    if args.eval_episodes < 1:
        raise ParameterError("--eval-episodes must be at least 1")
    env = EnvSpec.of(args.env)
    config = hyperparameters(args)
    seeds = [args.seed + i for i in range(args.seeds)]
    out = str(writable_dir(args.out or f"runs/{env.id}-{args.algo}", "the training run"))
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} steps"),
        TextColumn("return {task.fields[ret]}"),
        TextColumn("eval {task.fields[eval]}"),
        TextColumn("{task.fields[sps]} steps/s"),
        TimeElapsedColumn(),
        console=console,
        disable=args.json or not console.is_terminal,
    )
    results = []
    with progress:
        for seed in seeds:
            task = progress.add_task(f"{args.algo} seed {seed}", total=args.steps, ret="-", eval="-", sps="-")

            def report(row: dict[str, Any], task: Any = task) -> None:
                fields: dict[str, Any] = {"sps": f"{row['steps_per_sec']:,.0f}"}
                if row["train_return"] != "":
                    fields["ret"] = f"{row['train_return']:.3f}"
                if row["eval_return"] != "":
                    fields["eval"] = f"{row['eval_return']:.3f}"
                progress.update(task, completed=min(row["env_steps"], args.steps), **fields)

            results.append(
                train(
                    env,
                    args.algo,
                    steps=args.steps,
                    num_envs=args.envs,
                    seed=seed,
                    device=args.device,
                    out=out if args.seeds == 1 else f"{out}/seed_{seed}",
                    config=config,
                    eval_every=args.eval_every,
                    eval_episodes=args.eval_episodes,
                    deterministic_eval=not args.stochastic_eval,
                    threads=args.threads or None,
                    on_progress=report,
                )
            )
    summary = seeds_report(env, args.algo, results)
    if args.seeds > 1:
        Path(out, "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    for r in results:
        per_agent = ", ".join(f"{v:.3f}" for v in r.final_agent_returns)
        exploitability = "" if r.best_exploitability is None else f", exploitability {r.best_exploitability:.4f}"
        print(
            f"seed {r.seed}: final return {r.final_returns.mean():.3f} (per agent {per_agent}), best evaluation "
            f"{r.best_return:.3f}{exploitability}, {r.env_steps:,} steps in {r.wall_time:.0f}s -> {r.out}/best.pt"
        )
    if args.seeds > 1:
        print(
            f"over {len(seeds)} seeds: mean {summary['mean']:.3f} [{summary['mean_ci95'][0]:.3f}, "
            f"{summary['mean_ci95'][1]:.3f}], IQM {summary['iqm']:.3f} [{summary['iqm_ci95'][0]:.3f}, "
            f"{summary['iqm_ci95'][1]:.3f}] (95% bootstrap intervals) -> {out}/summary.json"
        )
    return 0
