"""`arena serve`: the browser front end over results databases and replay files, on 127.0.0.1 unless told."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import Any

from arena.console import writable_file
from arena.errors import ConfigError, ParameterError

DEFAULT_PORT = 8765
DEFAULT_PLAY_DB = "arena-play.sqlite"


COMMANDS = {"serve": "watch tournaments, replay matches and play in the browser"}


def add_parser(subparsers: Any) -> None:
    """Register `arena serve`."""
    p = subparsers.add_parser(
        "serve",
        help=COMMANDS["serve"],
        description="Serve a web front end: tournaments with live progress, rankings, crosstables and plots; "
        "matches and a replay viewer; a play page where a person plays any env against any agent. Views of the "
        "databases are read-only; games played in the browser are stored in the play database.",
    )
    p.add_argument("db", nargs="*", help="results databases to show (read-only)")
    p.add_argument("--replay", nargs="+", default=[], metavar="FILE", help="replay files to open in the viewer")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default: {DEFAULT_PORT})")
    p.add_argument(
        "--play-db",
        default=DEFAULT_PLAY_DB,
        metavar="DB",
        help=f"where games played in the browser are stored (default: {DEFAULT_PLAY_DB})",
    )
    p.set_defaults(handler=_cmd_serve)


BACKLOG = 2048  # uvicorn's own default


def check_port(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (handed to the server), or a ConfigError saying why it cannot be. It listens
    from here on, so that a browser that follows the printed address before the server has started waits in the
    socket's queue instead of being refused."""
    if not 1 <= port <= 65535:
        raise ParameterError(f"--port must be between 1 and 65535, not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from arena.web.app import build_app
    except ModuleNotFoundError as exc:
        missing = f"arena serve needs the web extra ({exc.name} is missing): pip install 'arena-games[web]'"
        raise ConfigError(missing) from None
    play_db = writable_file(args.play_db, "the play database")
    servers: list[Any] = []  # the uvicorn server, once made: live streams end when it is shutting down
    app = build_app(
        [Path(d) for d in args.db],
        [Path(r) for r in args.replay],
        play_db,
        stopping=lambda: bool(servers) and servers[0].should_exit,
    )
    sock = check_port(args.host, args.port)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"arena: warning: listening on {args.host}: anyone who can reach this machine can see these results "
            "and play games that are stored in the play database",
            file=sys.stderr,
        )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"arena serve: http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    servers.append(uvicorn.Server(config))
    servers[0].run(sockets=[sock])
    return 0
