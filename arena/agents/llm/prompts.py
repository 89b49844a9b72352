"""Prompt templates for language-model players, kept in one place and overridable by name or TOML file.

Every built-in env ships its own parts (`arena/agents/llm/templates/<env id>.toml`: its rules and notation, in
the env's own words, as the standing instruction), laid over the base set (`default`, or `json` for structured
answers). A user's TOML file overrides parts for every env at its top level and for one env in a table named by
the env's id (`["kuhn_poker-v0"]`). A template set has four parts: `system` (the standing instruction),
`act` (ask for one move), `distribution` (ask for a mixed strategy, as in Park et al.'s regret experiments) and
`retry` (appended when the match loop re-asks after an illegal or unreadable answer). Placeholders: `{text}` is
the env's self-contained description (rules, what the player sees, legal moves by name), `{legal_moves}` the legal
move names, `{example}` a valid answer for the distribution format, and `{error}` the reason the previous answer
was rejected.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.core import ParameterError

_DEFAULT = {
    "system": (
        "You are a strategic game player. Read the rules and the current situation carefully, reason briefly if "
        "it helps, and always finish with an answer in exactly the required format."
    ),
    "act": (
        "{text}\n\n"
        "Choose one of the legal moves: {legal_moves}.\n"
        "Finish your reply with a last line of the form\n"
        "Move: <one legal move, written exactly as listed>"
    ),
    "distribution": (
        "{text}\n\n"
        "Choose a mixed strategy: a probability for each legal move ({legal_moves}); the probabilities must be "
        "non-negative and sum to 1. Your move will be drawn from it.\n"
        "Finish your reply with a last line holding only a JSON object that maps each legal move to its "
        "probability, for example:\n{example}"
    ),
    "retry": "\n\nYour previous answer was rejected: {error}. Answer again, following the format exactly.",
}

_JSON = {
    "system": _DEFAULT["system"],
    "act": (
        "{text}\n\n"
        "Choose one of the legal moves: {legal_moves}.\n"
        'Reply with only a JSON object of the form {{"reason": "<one sentence>", "move": "<legal move>"}}.'
    ),
    "distribution": (
        "{text}\n\n"
        "Choose a mixed strategy over the legal moves ({legal_moves}): non-negative probabilities summing to 1.\n"
        "Reply with only a JSON object mapping each legal move to its probability, for example:\n{example}"
    ),
    "retry": _DEFAULT["retry"],
}

BUILTIN_TEMPLATES = {"default": _DEFAULT, "json": _JSON}
ENV_TEMPLATES = Path(__file__).with_name("templates")
PLACEHOLDERS = {
    "system": set(),
    "act": {"text", "legal_moves"},
    "distribution": {"text", "legal_moves", "example"},
    "retry": {"error"},
}


@dataclass(frozen=True)
class Templates:
    """One complete, checked template set."""

    system: str
    act: str
    distribution: str
    retry: str

    def user_prompt(self, kind: str, text: str, legal_moves: list[str], error: str | None = None) -> str:
        """The user message asking for a move (`kind="act"`) or a distribution (`kind="distribution"`)."""
        example = "{" + ", ".join(f'"{name}": {1 / len(legal_moves):.2f}' for name in legal_moves) + "}"
        body = getattr(self, kind).format(text=text, legal_moves=", ".join(legal_moves), example=example)
        if error:
            body += self.retry.format(error=error)
        return body

    def messages(self, kind: str, text: str, legal_moves: list[str], error: str | None = None) -> list[dict]:
        """Chat messages for one request."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user_prompt(kind, text, legal_moves, error)},
        ]


def _fields(template: str, part: str, origin: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ParameterError(f"llm template {origin}: part {part!r} is not a valid format string ({exc})") from None


def _read_toml(path: Path, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ParameterError(f"llm: cannot read template file {origin}: {exc}") from None


def _checked(parts: dict[str, Any], origin: str) -> Templates:
    unknown = set(parts) - set(PLACEHOLDERS)
    if unknown:
        raise ParameterError(
            f"llm template {origin}: unknown part(s) {', '.join(sorted(unknown))}; parts are {', '.join(PLACEHOLDERS)}"
        )
    for part, allowed in PLACEHOLDERS.items():
        if not isinstance(parts[part], str):
            raise ParameterError(f"llm template {origin}: part {part!r} must be a string")
        used = _fields(parts[part], part, origin)
        if used - allowed:
            may_use = ", ".join(sorted(allowed)) or "none"
            raise ParameterError(
                f"llm template {origin}: part {part!r} uses unknown placeholder(s) "
                f"{', '.join(sorted(used - allowed))}; it may use {may_use}"
            )
        if part in ("act", "distribution") and "text" not in used:
            raise ParameterError(f"llm template {origin}: part {part!r} must contain {{text}}")
    return Templates(**parts)


def env_template_parts(env_id: str) -> dict[str, Any]:
    """The parts the package ships for one env (empty for an env without its own file)."""
    path = ENV_TEMPLATES / f"{env_id}.toml"
    return _read_toml(path, str(path)) if path.is_file() else {}


class PromptBook:
    """The template sets of one agent: `template` (a built-in name or a TOML file) resolved per env and answer kind.

    `for_env(env_id, structured)` lays, in order, the base set (`json` for structured answers when `template` is
    `default`), the env's shipped parts, the file's top-level parts and the file's table for that env.
    """

    def __init__(self, template: str = "default") -> None:
        self.template = template
        self.common: dict[str, Any] = {}
        self.per_env: dict[str, dict[str, Any]] = {}
        if template not in BUILTIN_TEMPLATES:
            path = Path(template).expanduser()
            if not path.is_file():
                raise ParameterError(
                    f"llm: template {template!r} is neither a built-in ({', '.join(BUILTIN_TEMPLATES)}) nor a TOML file"
                )
            parts = _read_toml(path, template)
            self.per_env = {k: v for k, v in parts.items() if isinstance(v, dict)}
            self.common = {k: v for k, v in parts.items() if not isinstance(v, dict)}
            _checked({**_DEFAULT, **self.common}, template)
            for env_id, env_parts in self.per_env.items():
                _checked({**_DEFAULT, **self.common, **env_parts}, f"{template} [{env_id}]")
        self._sets: dict[tuple[str | None, bool], Templates] = {}

    def for_env(self, env_id: str | None, structured: bool = False) -> Templates:
        """The checked template set for `env_id` (None: no env's own parts)."""
        key = (env_id, structured)
        if key not in self._sets:
            base = self.template if self.template in BUILTIN_TEMPLATES else "default"
            if structured and base == "default":
                base = "json"
            parts = dict(BUILTIN_TEMPLATES[base])
            if env_id is not None:
                parts.update(env_template_parts(env_id))
                parts.update(self.common)
                parts.update(self.per_env.get(env_id, {}))
            else:
                parts.update(self.common)
            self._sets[key] = _checked(parts, self.template if env_id is None else f"{self.template} ({env_id})")
        return self._sets[key]


def load_templates(template: str = "default") -> Templates:
    """A built-in template set by name, or a TOML file whose keys override parts of the default set."""
    if template in BUILTIN_TEMPLATES:
        return Templates(**BUILTIN_TEMPLATES[template])
    path = Path(template).expanduser()
    if not path.is_file():
        raise ParameterError(
            f"llm: template {template!r} is neither a built-in ({', '.join(BUILTIN_TEMPLATES)}) nor a TOML file"
        )
    parts = {k: v for k, v in _read_toml(path, template).items() if not isinstance(v, dict)}
    return _checked({**_DEFAULT, **parts}, template)
