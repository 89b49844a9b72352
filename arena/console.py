"""Output for the command line: a rich console sized for pipes, JSON for scripts, and output paths checked first."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from arena.errors import ConfigError


def make_console() -> Any:
    """A rich console; when output is not a terminal, wide enough that tables are not folded into slivers."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def json_safe(value: Any) -> Any:
    """Data JSON can hold: NaN and infinities become null, tuples lists, keys strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout (never NaN, which JSON has not)."""
    print(json.dumps(json_safe(data), indent=2, default=str))


def writable_file(path: str | Path, what: str) -> Path:
    """`path` if a file can be written there (checked before any work is done), else a ConfigError saying why."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"cannot write {what} to {path}: it is a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"cannot write {what} to {path}: permission denied")
    writable_dir(path.parent, what, create=False)
    return path


def writable_dir(path: str | Path, what: str, create: bool = True) -> Path:
    """`path` as a folder that files can be written into (made when `create`), else a ConfigError saying why."""
    path = Path(path) if str(path) else Path(".")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"cannot write {what} into {path}: it is a file, not a folder")
    if not path.exists():
        if not create:
            raise ConfigError(f"cannot write {what} into {path}: no such folder")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot write {what} into {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {what} into {path}: permission denied")
    return path
