"""`arena tournament` (run or resume a tournament) and `arena report` (tables, CSV, plots, HTML from a database).

The options of `arena tournament` that set config keys come from the config schema (`TournamentConfig`'s fields
with a `flag`): their type, choices and help are the schema's, and an option left out leaves the file's value or
the schema's default.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.console import make_console, print_json, writable_dir, writable_file
from arena.errors import ArenaError, ConfigError

if TYPE_CHECKING:
    from arena.tournaments.config import TournamentConfig


def _flagged() -> list[dataclasses.Field[Any]]:
    """The schema's fields that have a command-line option, in schema order (the schema loads only for the
    tournament verb: `arena --help` and the other verbs do without it)."""
    from arena.tournaments.config import TournamentConfig

    return [f for f in dataclasses.fields(TournamentConfig) if f.metadata["flag"]]


def _help(f: dataclasses.Field[Any]) -> str:
    stated = f.metadata["cli_default"]
    if stated == "":
        default = f.default
        stated = ("on" if default else "off") if isinstance(default, bool) else str(default)
    return f"{f.metadata['help']} (default: {stated})" if stated is not None else f.metadata["help"]


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per flagged schema field; every default is None (left out = not overridden)."""
    from arena.tournaments.config import value_type

    for f in _flagged():
        kind, _ = value_type(f)
        options: dict[str, Any] = {"dest": f.name, "default": None, "help": _help(f)}
        if kind is bool:
            options["action"] = "store_true" if f.default is False else argparse.BooleanOptionalAction
        else:
            options["type"] = kind
            if f.metadata["choices"]:
                options["choices"] = list(f.metadata["choices"])
            if f.metadata["metavar"]:
                options["metavar"] = f.metadata["metavar"]
        parser.add_argument(f.metadata["flag"], **options)


def config_from_args(args: argparse.Namespace) -> TournamentConfig:
    """The config of `arena tournament`: a TOML file or --env/--agents, with the given options over it."""
    from arena.tournaments.config import config_from_dict, load_config

    if args.config and args.env:
        raise ConfigError("give either a config file or --env/--agents, not both")
    overrides = {f.name: getattr(args, f.name) for f in _flagged() if getattr(args, f.name) is not None}
    if args.config:
        return load_config(args.config).replace(**overrides)
    if not args.env or not args.agents:
        raise ConfigError("give a config file, or --env ENV --agents SPEC... (see `arena tournament --help`)")
    return config_from_dict({"envs": args.env, "agents": args.agents, **overrides})  # named after them


def _will_probe(config: TournamentConfig) -> bool:
    """Whether the analysis after play may probe agents in processes of their own, started from the forkserver: it
    measures every env played once (repeated games are measured in this process), unless it is off."""
    return config.exploitability != "off" and any(int(env.params.get("rounds", 1)) <= 1 for env in config.envs)


def _env_modules(config: TournamentConfig) -> list[str]:
    """arena's own modules of the run's registered envs, found without importing anything, for the forkserver to
    import once. A plugin's module, or a `module:attr` env's, is left to each process that builds the env, where a
    failure to import it is that process's error, not the server's (nor the coordinator's)."""
    from arena.registry import envs

    modules = []
    for env in config.envs:
        prefix, colon, _ = env.id.partition(":")
        name = prefix if colon else env.id  # a loader's prefix (`openspiel:GAME`) names its entry
        module = envs.get(name).module() if name in envs else ""
        if module.startswith("arena.") and module not in modules:
            modules.append(module)
    return modules


@contextlib.contextmanager
def prepare(verb: str, words: list[str]) -> Iterator[None]:
    """`arena tournament` starts its forkserver before its arguments are parsed (`forkserver.start_early`: 40-50 ms
    sooner than once its config is read), so that the server imports the engine on another core while this process
    builds the parser and reads the config; the handler sends it the rest of its preload, or the server is killed
    if the command ends before (`forkserver.stop_early`). Not for `--help`."""
    if verb != "tournament" or {"-h", "--help"} & set(words):
        yield
        return
    from arena.tournaments import forkserver

    forkserver.start_early()
    try:
        yield
    finally:
        forkserver.stop_early()


def _cmd_tournament(args: argparse.Namespace) -> int:
    from arena.tournaments import forkserver

    config = config_from_args(args)
    if args.no_cache:  # read by the LLM agents of this process and of the workers it starts
        os.environ["ARENA_LLM_NO_CACHE"] = "1"
    probes = _will_probe(config)
    if config.backend != "inprocess" or probes:  # it imports while this process imports below
        forkserver.start(workers=config.backend != "inprocess", probes=probes, envs=_env_modules(config))
    else:
        forkserver.stop_early()  # a run that starts no process: the early server would import for nothing
    # The engine and the report (numpy, scipy, rich) load here, not when the `arena` parser is built.
    from arena.tournaments.report import print_ranking
    from arena.tournaments.run import run_tournament
    from arena.tournaments.store import ResultsStore

    try:
        run = run_tournament(config, progress=not args.json and sys.stderr.isatty())
    except KeyboardInterrupt:
        try:
            with ResultsStore(config.db, readonly=True) as store:
                done = store.count(config.name)
        except (ArenaError, KeyboardInterrupt):
            done = 0
        print(
            f"arena: interrupted; {done} matches of {config.name!r} are stored in {config.db}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    if args.json:
        print_json(run.to_dict())
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
    if run.stopped:
        note += f"; stopped: {run.stopped}"
    console.print(note)
    return 0


def _report_one(args: argparse.Namespace, name: str | None, suffix: str) -> tuple[dict[str, Any], list[Path]]:
    from arena.tournaments.report import build_report, write_csv, write_html, write_plots

    metrics = build_report(args.db, name, num_bootstrap=args.bootstrap, rank_by=args.rank_by)
    written = []
    if args.csv:
        written += write_csv(metrics, Path(args.csv) / suffix if suffix else args.csv)
    if args.plots:
        written += write_plots(metrics, Path(args.plots) / suffix if suffix else args.plots)
    if args.html:
        html = Path(args.html)
        written.append(write_html(metrics, html.with_name(f"{html.stem}-{suffix}{html.suffix}") if suffix else html))
    return metrics, written


def _cmd_report(args: argparse.Namespace) -> int:
    if args.bootstrap < 2:
        raise ConfigError(f"--bootstrap must be at least 2 replicates (got {args.bootstrap})")
    if args.all and args.tournament:
        raise ConfigError("give either --tournament NAME or --all, not both")
    if args.csv:
        writable_dir(args.csv, "CSV files")
    if args.plots:
        writable_dir(args.plots, "plots")
    if args.html:
        writable_dir(Path(args.html).parent, "the HTML report")
        writable_file(args.html, "the HTML report")
    from arena.tournaments.report import print_ranking, slug, tournament_names

    if args.all:
        names = tournament_names(args.db)
        if not names:
            raise ConfigError(f"{args.db} holds no tournament")
        reports = [_report_one(args, name, slug(name)) for name in names]
    else:
        reports = [_report_one(args, args.tournament, "")]
    if args.json:
        print_json(reports[0][0] if not args.all else {"tournaments": [m for m, _ in reports]})
        return 0
    console = make_console()
    for metrics, written in reports:
        print_ranking(metrics, console, full=True)
        for path in written:
            console.print(f"wrote {path}")
    return 0


COMMANDS = {
    "tournament": "run (or resume) a round-robin tournament",
    "report": "tables, CSV, plots and HTML from a results database",
}


def add_parser(subparsers: Any) -> None:
    """Register `arena tournament` and `arena report`."""
    from arena.tournaments.config import TournamentConfig

    fields = {f.name: f for f in dataclasses.fields(TournamentConfig)}
    p = subparsers.add_parser(
        "tournament",
        help=COMMANDS["tournament"],
        description="Run a tournament from a TOML file or from --env/--agents. Matches "
        "already in the database are not played again.",
    )
    p.add_argument("config", nargs="?", help="tournament TOML file")
    p.add_argument("--env", nargs="+", metavar="ENV", help=fields["envs"].metadata["help"])
    p.add_argument("--agents", nargs="+", metavar="SPEC", help=fields["agents"].metadata["help"])
    add_config_options(p)
    p.add_argument("--full", action="store_true", help="print every table, not just the ranking")
    p.add_argument(
        "--no-cache", action="store_true", help="LLM agents ask the model again instead of reusing cached replies"
    )
    p.add_argument("--json", action="store_true", help="machine-readable summary and metrics")
    p.set_defaults(handler=_cmd_tournament)

    p = subparsers.add_parser("report", help=COMMANDS["report"])
    p.add_argument("db", help="results database")
    p.add_argument("--tournament", help="which tournament (needed when the database holds several)")
    p.add_argument("--all", action="store_true", help="report every tournament in the database")
    p.add_argument(
        "--rank-by",
        choices=fields["rank_by"].metadata["choices"],
        help="what the ranking ranks by (default: the tournament's rank_by)",
    )
    p.add_argument("--json", action="store_true", help="every metric as JSON")
    p.add_argument("--csv", metavar="DIR", help="write one CSV per table into DIR")
    p.add_argument("--html", metavar="FILE", help="write one self-contained HTML report")
    p.add_argument("--plots", metavar="DIR", help="write PNG plots into DIR")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates behind every interval (at least 2)")
    p.set_defaults(handler=_cmd_report)
