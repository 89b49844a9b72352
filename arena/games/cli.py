"""`arena solve` (tabular solvers with a convergence curve) and the exact engine of `arena exploitability`."""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path
from typing import Any

from arena.console import print_json, writable_dir
from arena.errors import ParameterError

COMMANDS = {"solve": "run tabular solvers on a game and plot exploitability vs iterations"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("solve", help=COMMANDS["solve"])
    p.add_argument("env", help="env id (kuhn_poker-v0, leduc_poker-v0, rps-v0 ...) or OpenSpiel game string")
    p.add_argument("--solver", nargs="+", required=True, metavar="NAME", help="one or more solvers (cfr, cfr_plus ...)")
    p.add_argument("--iterations", type=int, required=True, metavar="N")
    p.add_argument(
        "--eval-every",
        type=int,
        default=None,
        metavar="K",
        help="evaluate every K iterations (default: about 40 log-spaced points)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--param",
        nargs="+",
        default=[],
        metavar="K=V",
        help="solver parameters; SOLVER.K=V sets one solver's parameter only",
    )
    p.add_argument(
        "--out",
        default="arena-solve",
        metavar="DIR",
        help="where curve.csv, the plot and the policy files go (default: arena-solve)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_solve)


def _solver_params(assignments: list[str], solvers: list[str]) -> dict[str, dict[str, Any]]:
    from arena.specs import parse_value

    params: dict[str, dict[str, Any]] = {name: {} for name in solvers}
    for item in assignments:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ParameterError(f"bad --param {item!r}: expected K=V or SOLVER.K=V")
        target, dot, name = key.rpartition(".")
        if dot and target not in params:
            raise ParameterError(f"--param {item!r} names solver {target!r}, which is not among {solvers}")
        for solver in [target] if dot else solvers:
            params[solver][name] = parse_value(value)
    return params


def _metric(game: Any) -> str:
    return "exploitability" if game.num_players == 2 and game.zero_sum else "NashConv"


def _plot(curves: dict[str, list[tuple[int, float, float]]], metric: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for solver, curve in curves.items():
        points = [(t, g) for t, g, _ in curve if g > 0]  # a log axis cannot show an exact zero
        if points:
            axes.plot(*zip(*points), marker=".", label=solver)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("iterations")
    axes.set_ylabel(metric)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    if axes.lines:
        axes.legend()
    else:
        axes.text(0.5, 0.5, f"every evaluated {metric} is exactly 0", ha="center", transform=axes.transAxes)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _cmd_solve(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from arena.games.solve import solve, solvers
    from arena.games.tree import load

    if args.iterations < 1:
        raise ParameterError("--iterations must be at least 1")
    names = list(dict.fromkeys(args.solver))
    for name in names:
        solvers.get(name)
    params = _solver_params(args.param, names)
    game = load(args.env)
    metric = _metric(game)
    out = writable_dir(args.out, "the solve results")
    console = Console(stderr=True)
    results = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[gap]}"),
        console=console,
        transient=args.json,
    ) as progress:
        for name in names:
            task = progress.add_task(f"{name} on {args.env}", total=args.iterations, gap="")

            def report(t: int, gap: float | None, task: Any = task) -> None:
                if gap is None:
                    progress.update(task, completed=t)
                else:
                    progress.update(task, completed=t, gap=f"{metric} {gap:.3g}")

            results[name] = solve(
                game, name, args.iterations, eval_every=args.eval_every, seed=args.seed, progress=report, **params[name]
            )
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", args.env).strip("_")
    curve_path, plot_path = out / "curve.csv", out / f"{safe}-{metric.lower()}.png"
    with curve_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["solver", "iteration", metric.lower(), "seconds"])
        for name, result in results.items():
            writer.writerows([name, t, repr(g), repr(s)] for t, g, s in result.curve)
    policy_paths = {}
    for name, result in results.items():
        policy_paths[name] = out / f"policy-{name}.json"
        result.policy.save(policy_paths[name])
    _plot({name: r.curve for name, r in results.items()}, metric, f"{args.env}: {metric} vs iterations", plot_path)
    if args.json:
        print_json(
            {
                "env": args.env,
                "metric": metric,
                "iterations": args.iterations,
                "solvers": {
                    name: {
                        "params": r.params,
                        "final": r.final_gap,
                        "seconds": r.curve[-1][2],
                        "realizations": r.realizations,
                        "policy_file": str(policy_paths[name]),
                        "curve": [{"iteration": t, metric.lower(): g, "seconds": s} for t, g, s in r.curve],
                    }
                    for name, r in results.items()
                },
                "files": {"curve": str(curve_path), "plot": str(plot_path)},
            }
        )
        return 0
    table = Table(title=f"{metric} on {args.env}")
    table.add_column("iteration", justify="right")
    for name in results:
        table.add_column(name, justify="right")
    rows: dict[int, dict[str, float]] = {}
    for name, result in results.items():
        for t, g, _ in result.curve:
            rows.setdefault(t, {})[name] = g
    for t in sorted(rows):
        table.add_row(str(t), *(f"{rows[t][n]:.6g}" if n in rows[t] else "" for n in results))
    out_console = Console(soft_wrap=True)
    out_console.print(table)
    for name, result in results.items():
        out_console.print(
            f"{name}: {metric} {result.final_gap:.6g} after {args.iterations} iterations "
            f"in {result.curve[-1][2]:.2f} s solver time; policy: {policy_paths[name]}"
        )
    out_console.print(f"curve: {curve_path}  plot: {plot_path}")
    return 0


def exact_exploitability(args: argparse.Namespace) -> int:
    """`arena exploitability` by the exact engine (the verb itself is `arena.exploit.cli`'s)."""
    from rich.console import Console
    from rich.table import Table

    from arena.games.exploitability import estimate_from_samples, player_improvements
    from arena.games.policy import TabularPolicy, policy_from_agent, sample_counts_from_agent
    from arena.games.tree import load
    from arena.registry import make_agent

    game = load(args.env)
    metric = _metric(game)
    report: dict[str, Any] = {"env": args.env, "agent": args.agent, "metric": metric}
    policy: TabularPolicy | None
    if args.agent.endswith(".json") and Path(args.agent).exists():
        policy, agent = TabularPolicy.load(args.agent, game), None
    else:
        agent = make_agent(args.agent)
        policy = policy_from_agent(game, agent, seed=args.seed) if agent.has_action_probs() else None
    if policy is not None:
        plans = policy.plans()
        improvements = player_improvements(game, plans)
        on_policy = game.expected_utilities(plans)
        report.update(
            exact=True,
            nash_conv=float(improvements.sum()),
            players=[
                {
                    "player": p,
                    "best_response_value": float(on_policy[p] + improvements[p]),
                    "on_policy_value": float(on_policy[p]),
                    "improvement": float(improvements[p]),
                }
                for p in range(game.num_players)
            ],
        )
        if metric == "exploitability":
            report["exploitability"] = float((improvements.sum() + on_policy.sum() - game.utility_sum) / 2)
    else:
        assert agent is not None  # a policy file always gives a policy; only an agent can lack one
        counts = sample_counts_from_agent(game, agent, args.samples, seed=args.seed)
        estimate, stderr = estimate_from_samples(game, counts, seed=args.seed)
        report.update(
            exact=False,
            samples_per_infoset=args.samples,
            infosets=int(sum(game.num_infosets)),
            standard_error=stderr,
            **{"exploitability" if metric == "exploitability" else "nash_conv": estimate},
        )
    if args.json:
        print_json(report)
        return 0
    console = Console(soft_wrap=True)
    value = report.get("exploitability", report.get("nash_conv"))
    if report["exact"]:
        console.print(f"{args.agent} on {args.env}: {metric} {value:.10g} (exact)")
        table = Table()
        for column in ("player", "best-response value", "on-policy value", "improvement"):
            table.add_column(column, justify="right")
        for row in report["players"]:
            table.add_row(
                str(row["player"]),
                f"{row['best_response_value']:.10g}",
                f"{row['on_policy_value']:.10g}",
                f"{row['improvement']:.10g}",
            )
        console.print(table)
        console.print(f"NashConv {report['nash_conv']:.10g}")
    else:
        console.print(
            f"{args.agent} on {args.env}: {metric} ~ {value:.6g} +- {report['standard_error']:.2g} "
            f"(estimate: {args.samples} sampled actions at each of {report['infosets']} information sets; "
            f"bootstrap standard error; {metric} of a sampled policy is biased upwards)"
        )
    return 0
