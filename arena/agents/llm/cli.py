"""The `arena llm` verb: `arena llm serve` runs a local model server until Ctrl-C."""

from __future__ import annotations

import argparse
from typing import Any

from arena.console import print_json


def _cmd_serve(args: argparse.Namespace) -> int:
    from arena.agents.llm.local import LocalServer

    server = LocalServer(args.model, port=args.port, context=args.context, threads=args.threads)
    with server:
        if args.json:
            print_json({"base_url": server.base_url, "model": server.model, "path": str(server.path)})
        else:
            print(f"serving {server.model} ({server.path.name}) at base_url={server.base_url}", flush=True)
            print(
                f'play it: arena play rps-v0 --agents "llm(model={server.model}, base_url={server.base_url})" random',
                flush=True,
            )
            print("stop with Ctrl-C", flush=True)
        try:
            status = server.wait()
        except KeyboardInterrupt:
            return 0
    return 0 if status in (0, -15) else 1


COMMANDS = {"llm": "language-model helpers: a local model server"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("llm", help=COMMANDS["llm"])
    verbs = p.add_subparsers(dest="llm_command", required=True, metavar="COMMAND")
    serve = verbs.add_parser(
        "serve",
        help="run llama.cpp's OpenAI-compatible server on 127.0.0.1 with a packaged model or a GGUF file",
    )
    serve.add_argument(
        "--model",
        default=None,
        metavar="PATH_OR_NAME",
        help="a packaged model (smollm2, the default: SmolLM2-135M-Instruct) or a .gguf file",
    )
    serve.add_argument("--port", type=int, default=None, metavar="P", help="the port (default: a free one)")
    serve.add_argument("--context", type=int, default=4096, metavar="TOKENS", help="the context length")
    serve.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads (default: half the cores)")
    serve.add_argument("--json", action="store_true", help="print base_url, model and path as JSON")
    serve.set_defaults(handler=_cmd_serve)
