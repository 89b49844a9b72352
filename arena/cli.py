"""The `arena` command: parses arguments, calls the public API, prints. Bad input: one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import importlib
import os
import sys
import threading
import types
from collections.abc import Iterator, Sequence

from arena.console import make_console, print_json, writable_file
from arena.errors import ArenaError, ParameterError

# Verbs implemented next to the code they drive; each module has `COMMANDS` and `add_parser(subparsers)`, and may
# have `prepare(verb, words)` (see `_prepared`).
COMMAND_MODULES = [
    "arena.games.cli",  # solve
    "arena.exploit.cli",  # exploitability
    "arena.tournaments.cli",  # tournament, report
    "arena.tournaments.compare_cli",  # compare
    "arena.agents.marl.cli",  # train
    "arena.agents.llm.cli",  # llm serve
    "arena.web.cli",  # serve
]


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"arena: {message} (see `{self.prog} --help`)\n")


def _cmd_list(args: argparse.Namespace) -> int:
    from rich.table import Table

    from arena.registry import Entry, EnvEntry, agents, envs

    specs: Sequence[Entry]
    loaders: Sequence[Entry]
    env_specs: list[EnvEntry] = []
    if args.what == "envs":
        specs = env_specs = envs.entries()
        loaders = envs.entries(loaders=True)
    else:
        specs, loaders = agents.entries(), agents.entries(loaders=True)
    if args.json:
        print_json([s.to_dict() for s in specs] + [{**s.to_dict(), "loader": s.loader} for s in loaders])
        return 0
    table = Table(title=f"arena {args.what}")
    if args.what == "envs":
        for column in ("id", "players", "kind", "tags", "description"):
            table.add_column(column)
        for e in env_specs:
            players = e.num_players if isinstance(e.num_players, int) else "-".join(map(str, e.num_players))
            table.add_row(
                e.id, str(players), "turn-based" if e.turn_based else "simultaneous", ", ".join(e.tags), e.description
            )
    else:
        for column in ("name", "tags", "description"):
            table.add_column(column)
        for s in specs:
            table.add_row(s.name, ", ".join(s.tags), s.description)
    for s in loaders:
        assert s.loader is not None  # entries(loaders=True) are the entries with a loader
        table.add_row(f"{s.name}:{s.loader.upper()}", *([""] * (len(table.columns) - 2)), s.description)
    make_console().print(table)
    return 0


def _cmd_play(args: argparse.Namespace) -> int:
    from arena.match import check_match_settings, play
    from arena.registry import make_env

    render = args.render
    if args.games < 1:
        raise ParameterError(f"--games must be at least 1, not {args.games}")
    check_match_settings(args.seed, args.time_limit, args.illegal, 0, None)
    recording: types.ModuleType | None = None
    if args.record or render == "human":  # videos and windows load pygame; a plain match does not
        from arena.render import recording
    video = recording is not None and recording.is_video_path(args.record)
    if args.record:
        writable_file(args.record, "a video" if video else "a replay")
    env = make_env(args.env, render_mode="rgb_array" if video else render)
    on_step = (lambda e: print(e.render())) if render == "ansi" and not video else None
    results = []
    for game in range(args.games):
        seed = None if args.seed is None else args.seed + game
        record = args.record if args.games == 1 else _numbered(args.record, game)
        recorder = recording.VideoRecorder(env, show=render == "human") if recording and video else None
        result = play(
            recorder.env if recorder else env,
            args.agents,
            seed=seed,
            move_time_limit=args.time_limit,
            illegal_moves=args.illegal,
            record=None if video else record,
            on_step=on_step,
        )
        if recorder:
            assert record is not None  # a video is recorded only into a path
            recorder.save(record)
        results.append(result)
        if not args.json and any(a == "human" or a.startswith("human(") for a in args.agents):
            from arena.agents.human import showdown

            shown = showdown(env, result)
            if shown:
                print(shown)
        if not args.json:
            outcome = ", ".join(
                f"{a} ({p}): {pay:+g}{f' {o}' if o else ''}"
                for a, p, pay, o in zip(result.agents, result.players, result.payoffs, result.outcomes)
            )
            ended = "" if result.termination == "normal" else f" [{result.termination}: {result.message}]"
            print(f"game {game + 1}: {outcome} in {result.length} steps{ended}")
    if args.json:
        print_json([r.to_dict() for r in results] if args.games > 1 else results[0].to_dict())
    if recording:
        recording.finish_watching(env)
    env.close()
    return 0


def _numbered(path: str | None, index: int) -> str | None:
    if path is None:
        return None
    stem, dot, suffix = path.rpartition(".")
    return f"{stem}-{index + 1}.{suffix}" if dot else f"{path}-{index + 1}"


def _cmd_replay(args: argparse.Namespace) -> int:
    from arena.replay import check_replay, read_replay, replay_summary

    if args.match is not None:
        return _show_stored_transcript(args)
    if args.render or args.record:
        from arena.render.recording import replay_visual

        replay_visual(args.file, render=args.render, record=args.record)
        return 0
    if args.json:
        header, steps, result = read_replay(args.file)
        problem = check_replay(args.file)
        print_json(
            {"header": header, "steps": steps, "result": result, "verified": problem is None, "problem": problem}
        )
        return 0
    print(replay_summary(args.file, texts=not args.verify))
    if args.verify:
        problem = check_replay(args.file)
        print(
            "verified: the recorded actions reproduce the recorded rewards and result"
            if problem is None
            else f"MISMATCH: {problem}"
        )
        return 0 if problem is None else 1
    return 0


def _show_stored_transcript(args: argparse.Namespace) -> int:
    from arena.errors import ConfigError
    from arena.replay import transcript_summary
    from arena.tournaments import ResultsStore

    with ResultsStore(args.file, readonly=True) as store:
        records = store.transcript(args.match)
    if not records:
        raise ConfigError(f"{args.file} holds no transcript of a match {args.match!r}")
    if args.json:
        print_json(records)
    else:
        print(transcript_summary(records))
    return 0


def _command_modules() -> Iterator[types.ModuleType]:
    """The verb modules of this build, imported."""
    for module_name in COMMAND_MODULES:
        try:
            yield importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part of arena is not installed in this build
            raise


def _prepared(verb: str, words: list[str]) -> contextlib.AbstractContextManager[object]:
    """The verb module's `prepare(verb, words)`, where it has one: a context around the whole command, its parser
    included, for work the verb starts before its arguments are parsed."""
    for module in _command_modules():
        if verb in module.COMMANDS:
            prepare = getattr(module, "prepare", None)
            return prepare(verb, words) if prepare else contextlib.nullcontext()
    return contextlib.nullcontext()


def build_parser(verb: str | None = None) -> argparse.ArgumentParser:
    """The `arena` parser. Given the `verb` on the command line, only that command's options are built (the
    tournament's come from the config schema, training's from the learners); the others are named with their help
    line only, which is all `arena --help` shows of them."""
    parser = _Parser(prog="arena", description="Multi-agent games, solvers, MARL and LLM agents, tournaments.")
    parser.add_argument("--version", action="version", version=f"arena {importlib.import_module('arena').__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="list registered envs or agents")
    p.add_argument("what", choices=["envs", "agents"])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_list)

    p = sub.add_parser("play", help="play a match (or several) of an env")
    p.add_argument("env", help="env id, openspiel:<game string> or module:factory, with parameters")
    p.add_argument("--agents", nargs="+", required=True, metavar="SPEC", help="one agent spec per seat")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--games", type=int, default=1, help="number of matches (seeds seed, seed+1, ...)")
    p.add_argument("--render", choices=["ansi", "human"], default=None)
    p.add_argument("--record", metavar="FILE", help="write a replay (.jsonl) or a video (.gif, .mp4)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS", help="per-move time limit")
    p.add_argument(
        "--illegal", choices=["forfeit", "random", "retry"], default="forfeit", help="what an illegal move costs"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_play)

    p = sub.add_parser("replay", help="show a recorded match step by step")
    p.add_argument("file")
    p.add_argument("--verify", action="store_true", help="re-run the actions and check the rewards")
    p.add_argument("--render", choices=["human"], default=None, help="re-play the match in a window")
    p.add_argument("--record", metavar="FILE", help="re-play the match into a video (.gif, .mp4)")
    p.add_argument(
        "--match", metavar="ID", default=None, help="with a results database as FILE: the transcript of match ID"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_replay)

    for module in _command_modules():
        if verb is None or verb in module.COMMANDS:
            module.add_parser(sub)
        else:
            for name, text in module.COMMANDS.items():
                sub.add_parser(name, help=text)
    return parser


def entry_point() -> None:
    """The installed `arena` script: `main`, then a quick exit. The interpreter's own would tear down every module
    and object the command made or imported (numpy, OpenSpiel's C++ statics...): 20-40 ms after a match or a
    tournament. Exit handlers still run (Ray's, the local model server's, multiprocessing's, temporary folders')
    and the standard streams are flushed; a command that leaves a thread running, or whose output cannot be
    flushed (a closed pipe), exits the interpreter's way."""
    code = main()
    gc.freeze()  # the interpreter's way, if taken, skips its final collection of what the command made
    if any(not thread.daemon for thread in threading.enumerate() if thread is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()  # each runs once: the interpreter's exit, if taken, finds none left
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """The `arena` command. Its heavy modules load inside, so that a Ctrl-C at any moment is one line."""
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        verb = next((word for word in words if not word.startswith("-")), "")  # no option of `arena` takes a value
        with _prepared(verb, words):
            args = build_parser(verb).parse_args(words)
            return int(args.handler(args) or 0)
    except ArenaError as exc:
        print(f"arena: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("arena: interrupted", file=sys.stderr)
        return 130
    except ImportError as exc:  # a Ctrl-C while an extension module initialises surfaces as its ImportError
        if not isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            raise
        print("arena: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
