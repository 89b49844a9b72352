"""Output for the command line: a rich console sized for pipes, and JSON for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any


def make_console() -> Any:
    """A rich console; when output is not a terminal, wide enough that tables are not folded into slivers."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))
