"""User-facing errors: the CLI prints each as one line on stderr and exits with status 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ArenaError(Exception):
    """An error caused by the user's input; the CLI prints it as one line and exits with status 2."""


class UnknownNameError(ArenaError):
    """An env id, agent name or other registry name that does not exist."""


class ParameterError(ArenaError):
    """A parameter that does not exist, has the wrong type or an invalid value."""


class ConfigError(ArenaError):
    """A malformed configuration, replay or results file."""


class IntegrityError(ArenaError):
    """A result that cannot be true, such as a payoff outside the game's range: something changed the env."""


def did_you_mean(name: str, choices: Iterable[str], cutoff: float = 0.5) -> str:
    """`"; did you mean a, b?"` for the close matches of `name` among `choices`, or `""` when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=cutoff)
    return f"; did you mean {', '.join(close)}?" if close else ""
