"""Hyperparameter schemas: each learner's config dataclass is the one definition its TOML/JSON files, `--set`
overrides, validation and the README's table are read from.

A field is declared with `hyperparameter(default, help, choices=..., minimum=...)`; its annotation is the type a
value must have (`int`, `float`, `bool`, `str` or `tuple[int, ...]`). `build_config` turns user data into a
validated config, `parse_value_for` reads one `--set KEY=VALUE` value as the field's type, and `markdown_table`
renders the schemas as the README's table.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar, get_args, get_origin, get_type_hints

from arena.errors import ConfigError, did_you_mean
from arena.specs import format_value, normalize_value, parse_value

T = TypeVar("T")
C = TypeVar("C", bound="Hyperparameters")


def hyperparameter(default: T, help: str, *, choices: tuple[str, ...] = (), minimum: int | float | None = None) -> T:
    """A config field: its default, one line of help, and the values it may take."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices, "minimum": minimum})


def redefault(config_class: type[Hyperparameters], name: str, default: T) -> T:
    """A field of a parent config with a new default (its help and allowed values kept)."""
    metadata = config_class.__dataclass_fields__[name].metadata
    return dataclasses.field(default=default, metadata=dict(metadata))


class Hyperparameters:
    """Base of the config dataclasses: validation from the fields' metadata plus each learner's own `check`."""

    algorithm: ClassVar[str] = "config"
    num_envs: int  # every learner steps a batch of worlds; `--envs` sets this field
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # set by @dataclass on every subclass

    def validate(self, owner: str | None = None) -> Self:
        """Raise ConfigError for a value outside its field's choices or minimum, or an inconsistent combination."""
        owner = owner or self.algorithm
        for f in dataclasses.fields(self):
            value, choices, minimum = getattr(self, f.name), f.metadata.get("choices"), f.metadata.get("minimum")
            if choices and value not in choices:
                raise ConfigError(f"{owner}: {f.name} must be {' or '.join(choices)}, not {value!r}")
            items = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, float) and not math.isfinite(v) for v in items):
                raise ConfigError(f"{owner}: {f.name} must be a finite number, not {value!r}")
            if minimum is not None and any(v < minimum for v in items):
                what = "every entry of " if isinstance(value, tuple) else ""
                raise ConfigError(f"{owner}: {what}{f.name} must be at least {minimum}")
        self.check(owner)
        return self

    def check(self, owner: str) -> None:
        """Rules between fields; a learner's config overrides this."""


def _fields(config_class: type[Hyperparameters]) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(config_class)}


def _types(config_class: type[Hyperparameters]) -> dict[str, Any]:
    return get_type_hints(config_class)


def _coerce(owner: str, key: str, annotation: Any, value: Any) -> Any:
    """`value` as the field's type, converting losslessly (an integral float to an int, a list to a tuple)."""
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{owner}: {key} should be true or false, not {value!r}")
        return value
    if annotation in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{owner}: {key} should be a number, not {value!r}")
        if annotation is float:
            return float(value)
        if not float(value).is_integer():
            raise ConfigError(f"{owner}: {key} should be a whole number, not {value!r}")
        return int(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{owner}: {key} should be a string, not {value!r}")
        return value
    if get_origin(annotation) is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{owner}: {key} should be a list, not {value!r}")
        item = get_args(annotation)[0]
        return tuple(_coerce(owner, f"{key}[{i}]", item, v) for i, v in enumerate(value))
    return value


def build_config(config_class: type[C], overrides: Mapping[str, Any], owner: str) -> C:
    """A validated config with user overrides; unknown keys and ill-typed or invalid values raise ConfigError."""
    fields, types = _fields(config_class), _types(config_class)
    values = {}
    for key, value in overrides.items():
        if key not in fields:
            raise ConfigError(f"{owner} has no hyperparameter {key!r}{did_you_mean(key, fields, cutoff=0.6)}")
        values[key] = _coerce(owner, key, types[key], value)
    return config_class(**values).validate(owner)


def parse_value_for(config_class: type[Hyperparameters], key: str, text: str) -> Any:
    """One value given as text (`--set KEY=VALUE`) read as the field's type: a literal (`3e-4`, `[128, 128]`,
    `true`), or for a string field the text itself. Unknown keys are left to `build_config` to refuse."""
    value = parse_value(text)
    if key in _fields(config_class) and _types(config_class)[key] is str and not isinstance(value, str):
        return text.strip()
    return value


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Hyperparameters from a TOML or JSON file (a `[train]` table in TOML is used when present)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must hold a table of hyperparameters")
    table = data.get("train", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config {path}: [train] must be a table of hyperparameters")
    return table


def markdown_table(configs: Mapping[str, type[Hyperparameters]]) -> str:
    """The schemas as one markdown table: a row per hyperparameter, a column of defaults per learner (`-` where
    a learner has no such hyperparameter), and the first learner's help with the allowed values."""
    rows: dict[str, dict[str, Any]] = {}
    helps: dict[str, str] = {}
    for name, config_class in configs.items():
        for f in dataclasses.fields(config_class):
            rows.setdefault(f.name, {})[name] = f.default
            if f.name not in helps:
                choices = f.metadata.get("choices")
                helps[f.name] = f.metadata.get("help", "") + (f" ({' or '.join(choices)})" if choices else "")
    lines = [
        "| hyperparameter | " + " | ".join(f"`{name}`" for name in configs) + " | meaning |",
        "|---|" + "---|" * len(configs) + "---|",
    ]
    for key, defaults in rows.items():
        cells = [format_value(normalize_value(defaults[n])) if n in defaults else "-" for n in configs]
        lines.append(f"| `{key}` | " + " | ".join(cells) + f" | {helps[key]} |")
    return "\n".join(lines) + "\n"
