"""`arena tournament` (run or resume a tournament) and `arena report` (tables, CSV, plots, HTML from a database)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any


def _clean(value: Any) -> Any:
    """JSON-safe data: NaN and infinities become null, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _print_json(data: Any) -> None:
    print(json.dumps(_clean(data), indent=2, default=str))


def _config_from_args(args: argparse.Namespace) -> Any:
    from arena.core import ConfigError
    from arena.tournaments.config import config_from_dict, load_config

    if args.config and args.env:
        raise ConfigError("give either a config file or --env/--agents, not both")
    if args.config:
        config = load_config(args.config)
        overrides = {
            "name": args.name,
            "games": args.games,
            "seed": args.seed,
            "move_time_limit": args.time_limit,
            "illegal_moves": args.illegal,
            "scoring": args.scoring,
            "teams": args.teams,
        }
        return config.replace(**overrides)
    if not args.env or not args.agents:
        raise ConfigError("give a config file, or --env ENV --agents SPEC... (see `arena tournament --help`)")
    data: dict[str, Any] = {
        "name": args.name or "cli",
        "envs": args.env,
        "agents": args.agents,
        "games": args.games or 10,
        "self_play": args.self_play,
        "seats": args.seats,
    }
    for key, value in (
        ("seed", args.seed),
        ("move_time_limit", args.time_limit),
        ("illegal_moves", args.illegal),
        ("scoring", args.scoring),
        ("teams", args.teams),
    ):
        if value is not None:
            data[key] = value
    return config_from_dict(data)


def _cmd_tournament(args: argparse.Namespace) -> int:
    from arena.cli import make_console
    from arena.tournaments import run_tournament
    from arena.tournaments.report import print_ranking
    from arena.tournaments.store import ResultsStore

    config = _config_from_args(args)
    config = config.replace(db=args.db, workers=args.workers, backend=args.backend, ray_address=args.ray_address)
    if args.no_cache:  # read by the LLM agents of this process and of the workers it starts
        os.environ["ARENA_LLM_NO_CACHE"] = "1"
    try:
        run = run_tournament(config, progress=not args.json and sys.stderr.isatty())
    except KeyboardInterrupt:
        with ResultsStore(config.db, readonly=True) as store:
            done = store.count(config.name)
        print(
            f"arena: interrupted; {done} matches of {config.name!r} are stored in {config.db}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    if args.json:
        _print_json(run.to_dict())
        return 0
    console = make_console()
    print_ranking(run.metrics, console, full=args.full)
    note = (
        f"{run.played} matches played in {run.seconds:.1f}s ({run.backend}, {run.workers} workers); "
        f"{run.already_recorded} already stored; results in {run.db}"
    )
    if run.replaced_workers:
        note += f"; {run.replaced_workers} stuck or crashed workers replaced"
    if run.given_up:
        note += f"; {len(run.given_up)} matches could not be played (their worker crashed twice): rerun to retry"
    console.print(note)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from arena.cli import make_console
    from arena.tournaments.report import build_report, print_ranking, write_csv, write_html, write_plots

    metrics = build_report(args.db, args.tournament, num_bootstrap=args.bootstrap)
    written = []
    if args.csv:
        written += write_csv(metrics, args.csv)
    if args.plots:
        written += write_plots(metrics, args.plots)
    if args.html:
        written.append(write_html(metrics, args.html))
    if args.json:
        _print_json(metrics)
        return 0
    console = make_console()
    print_ranking(metrics, console, full=True)
    for path in written:
        console.print(f"wrote {path}")
    return 0


def add_parser(subparsers: Any) -> None:
    """Register `arena tournament` and `arena report`."""
    p = subparsers.add_parser(
        "tournament",
        help="run (or resume) a round-robin tournament",
        description="Run a tournament from a TOML file or from --env/--agents. Matches "
        "already in the database are not played again.",
    )
    p.add_argument("config", nargs="?", help="tournament TOML file")
    p.add_argument("--env", nargs="+", metavar="ENV", help="env id(s) with parameters (instead of a config file)")
    p.add_argument("--agents", nargs="+", metavar="SPEC", help="agent specs (instead of a config file)")
    p.add_argument("--games", type=int, help="matches per pairing and seat order (default 10)")
    p.add_argument("--name", help="tournament name (default: the config file's name, or 'cli')")
    p.add_argument("--seed", type=int, help="master seed")
    p.add_argument("--time-limit", type=float, metavar="SECONDS", help="per-move time limit")
    p.add_argument("--illegal", choices=["forfeit", "random", "retry"], help="illegal-move policy")
    p.add_argument("--self-play", action="store_true", help="also pair each agent with itself")
    p.add_argument(
        "--seats",
        choices=["all", "fixed"],
        default="all",
        help="every seat order of each pairing (default) or only the listed order",
    )
    p.add_argument(
        "--scoring",
        choices=["match", "duplicate"],
        help="what decides wins: each match (default), or each seed's set of seat orders",
    )
    p.add_argument(
        "--teams",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="in envs with teams (particle worlds), one agent plays a whole team (default: on)",
    )
    p.add_argument("--db", help="results database (default arena-results.sqlite)")
    p.add_argument("--workers", type=int, help="worker processes or Ray actors (default: all cores)")
    p.add_argument("--backend", choices=["inprocess", "local", "ray"], help="where matches run (default local)")
    p.add_argument("--ray-address", metavar="ADDR", help="Ray cluster address (default: start a local one)")
    p.add_argument("--full", action="store_true", help="print every table, not just the ranking")
    p.add_argument(
        "--no-cache", action="store_true", help="LLM agents ask the model again instead of reusing cached replies"
    )
    p.add_argument("--json", action="store_true", help="machine-readable summary and metrics")
    p.set_defaults(handler=_cmd_tournament)

    p = subparsers.add_parser("report", help="tables, CSV, plots and HTML from a results database")
    p.add_argument("db", help="results database")
    p.add_argument("--tournament", help="which tournament (default: the latest)")
    p.add_argument("--json", action="store_true", help="every metric as JSON")
    p.add_argument("--csv", metavar="DIR", help="write one CSV per table into DIR")
    p.add_argument("--html", metavar="FILE", help="write one self-contained HTML report")
    p.add_argument("--plots", metavar="DIR", help="write PNG plots into DIR")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates for rating intervals")
    p.set_defaults(handler=_cmd_report)
