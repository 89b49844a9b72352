"""`arena compare A B --env ENV`: the head-to-head verb (the work is in compare.py, loaded when the verb runs)."""

from __future__ import annotations

import argparse
from typing import Any

from arena.console import print_json

COMMANDS = {"compare": "head-to-head of two agents, stopped as soon as a sequential test decides"}


def add_parser(subparsers: Any) -> None:
    """Register `arena compare`."""
    p = subparsers.add_parser(
        "compare",
        help=COMMANDS["compare"],
        description="Play A against B on ENV in pairs of games (each seed in both seat orders). With --sprt, stop "
        "as soon as the sequential probability ratio test decides between H0 and H1; without it, play --max-games "
        "games and report the interval. Games already in the database are not played again.",
    )
    p.add_argument("a", metavar="A", help="the first agent's spec (H1 says it is the stronger)")
    p.add_argument("b", metavar="B", help="the second agent's spec")
    p.add_argument("--env", required=True, help="env id with parameters (two seats)")
    p.add_argument(
        "--sprt",
        nargs="?",
        const="",
        metavar="HYPOTHESES",
        help="sequential test: elo0=0,elo1=5,alpha=0.05,beta=0.05 (win/draw/loss) or margin0=0,margin1=X "
        "(payoff per game); --sprt alone takes the defaults",
    )
    p.add_argument(
        "--max-games", type=int, help="games to play at most (default: 20000 with --sprt, else 200: the fixed N)"
    )
    p.add_argument(
        "--exact",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compute the answer when both agents have action_probs on a tabular game (default: on)",
    )
    p.add_argument(
        "--control-variate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="correct the payoffs at the moves of an agent whose strategy is known (default: on)",
    )
    p.add_argument("--prices", metavar="FILE", help="TOML price table: dollars per million tokens by model")
    p.add_argument("--max-cost-usd", type=float, metavar="DOLLARS", help="stop when the games have cost this much")
    p.add_argument("--max-wall-s", type=float, metavar="SECONDS", help="stop after this many seconds of play")
    p.add_argument("--name", help="the comparison's name in the database (default: from the two agents)")
    p.add_argument("--db", default="arena-results.sqlite", help="results database (default: arena-results.sqlite)")
    p.add_argument("--seed", type=int, default=0, help="master seed (default: 0)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS", help="per-move time limit")
    p.add_argument("--workers", type=int, default=0, help="worker processes or Ray actors (default: all cores)")
    p.add_argument("--backend", default="local", choices=("inprocess", "local", "ray"), help="where games run")
    p.add_argument("--ray-address", metavar="ADDR", help="Ray cluster address")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p.set_defaults(handler=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    from arena.errors import ConfigError
    from arena.tournaments.compare import compare, summary_lines
    from arena.tournaments.sequential import Hypotheses

    if args.seed < 0:
        raise ConfigError("--seed must be a non-negative integer")
    if args.workers < 0:
        raise ConfigError("--workers must be a non-negative integer (0 = all cores)")
    if args.time_limit is not None and not args.time_limit > 0:
        raise ConfigError("--time-limit must be positive")
    hypotheses = Hypotheses.parse(args.sprt) if args.sprt is not None else None
    result = compare(
        args.a,
        args.b,
        args.env,
        hypotheses=hypotheses,
        max_games=args.max_games,
        db=args.db,
        name=args.name,
        seed=args.seed,
        move_time_limit=args.time_limit,
        workers=args.workers,
        backend=args.backend,
        ray_address=args.ray_address,
        exact=args.exact,
        control_variate=args.control_variate,
        progress=not args.json,
        prices=args.prices,
        max_cost_usd=args.max_cost_usd,
        max_wall_s=args.max_wall_s,
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    for line in summary_lines(result):
        print(line)
    return 0
