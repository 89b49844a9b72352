"""Env and agent specs: typed, frozen values (name, version, parameters) parsed once where they enter.

A spec has one canonical text form, `name-vN(key=value, ...)` with the keys sorted, which round-trips exactly
(`EnvSpec.parse(spec.text) == spec`), and one canonical JSON form, which the results store keys on. The text
syntax is shared by the CLI, TOML configs and Python calls:

    fixed(action=rock)
    llm(base_url=http://localhost:11434/v1, model=qwen2.5:7b)
    mix(probs={'paper': 0.5, 'rock': 0.5})
    random_matrix-v0(seed=7, size=3)
    openspiel:liars_dice(numdice=2)

A value is a bare word when it reads back as the same string (`rock`, `qwen2.5:7b`, URLs without commas or
`=`), otherwise a Python literal: numbers, `'quoted strings'`, lists and tables (`{rock: 1}` may leave keys bare),
`true`/`false` and `none`. Parameter values are JSON data: None, booleans, integers, finite floats, strings, lists
and tables (integer keys become strings, as in JSON).
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Self

from arena.errors import ParameterError

_VERSIONED = re.compile(r"^(?P<name>[^:()]+)-v(?P<version>\d+)$")
_SPECIAL = set(",()[]{}'\"=\\#")
_BARE_WORD = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?<![\w.])([A-Za-z_][\w.\-]*)""")
_TOKENS = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[()\[\]{},]|[^'"()\[\]{},]+|['"]""")
_LITERALS = {"true": True, "false": False, "none": None, "null": None}


# ---------------------------------------------------------------------------------------------------------------
# Values


def normalize_value(value: Any, where: str = "value") -> Any:
    """A parameter value as JSON data (tuples become lists, numpy scalars Python numbers, paths strings)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"{where} must be a finite number, not {value!r}")
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, list | tuple):
        return [normalize_value(v, where) for v in value]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if isinstance(k, int) and not isinstance(k, bool):
                k = str(k)  # as in JSON: `{0: 0.7}` (an action index) is the key "0"
            if not isinstance(k, str):
                raise ParameterError(f"{where}: table keys must be strings or integers, not {k!r}")
            out[k] = normalize_value(v, f"{where}[{k!r}]")
        return out
    item = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(item) and type(value).__module__.startswith("numpy"):
        return normalize_value(item(), where)
    raise ParameterError(
        f"{where} is a {type(value).__name__}; parameters are numbers, strings, booleans, none, lists and tables"
    )


def split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes (backslash escapes inside quotes are honoured)."""
    parts, start, depth = [], 0, 0
    for token in _TOKENS.finditer(text):
        piece = token.group()
        if piece in ("'", '"'):
            raise ParameterError(f"unbalanced quotes in {text!r}")
        if piece in "([{":
            depth += 1
        elif piece in ")]}":
            depth -= 1
            if depth < 0:
                raise ParameterError(f"unbalanced brackets in {text!r}")
        elif piece == "," and depth == 0:
            parts.append(text[start : token.start()])
            start = token.end()
    if depth:
        raise ParameterError(f"unbalanced brackets in {text!r}")
    return [*parts, text[start:]]


def _quote_bare_words(text: str) -> str:
    """`{rock: 1, paper: 2}` -> `{'rock': 1, 'paper': 2}`, so containers can name actions without quotes."""
    keep = {"True": "True", "False": "False", "None": "None", "true": "True", "false": "False", "null": "None"}

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1)
        word = match.group(2)
        return keep.get(word, repr(word))

    return _BARE_WORD.sub(replace, text)


def parse_value(text: str) -> Any:
    """A parameter value from text: a Python literal, true/false/none, or a bare string."""
    text = text.strip()
    if text.lower() in _LITERALS:
        return _LITERALS[text.lower()]
    candidates = (text, _quote_bare_words(text)) if text[:1] in "[{(" else (text,)
    for candidate in candidates:
        try:
            value = ast.literal_eval(candidate)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return normalize_value(value, f"value {text!r}")
    return text


def _is_bare(value: str) -> bool:
    return (
        bool(value)
        and not any(ch.isspace() or ch in _SPECIAL for ch in value)
        and value.lower() not in _LITERALS
        and parse_value(value) == value
    )


def _literal(value: Any) -> str:
    """A value as a Python literal (inside lists and tables)."""
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(value[k])}" for k in sorted(value)) + "}"
    return repr(value)


def format_value(value: Any) -> str:
    """The canonical text of a parameter value; `parse_value` reads it back as the same value."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if _is_bare(value) else repr(value)
    return _literal(value)


# ---------------------------------------------------------------------------------------------------------------
# Specs


def parse_spec(text: str) -> tuple[str, dict[str, Any]]:
    """Split `name(k=v, ...)` into the name and its parsed parameters."""
    text = text.strip()
    if not text:
        raise ParameterError("empty name")
    if "(" not in text or not text.endswith(")"):
        return text, {}
    name, _, inner = text.partition("(")
    inner = inner[:-1].strip()
    params: dict[str, Any] = {}
    if inner:
        for item in split_top_level(inner):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or not key.isidentifier():
                raise ParameterError(f"bad parameter {item.strip()!r} in {text!r}: expected key=value")
            if key in params:
                raise ParameterError(f"parameter {key!r} given twice in {text!r}")
            params[key] = parse_value(value)
    name = name.strip()
    if not name:
        raise ParameterError(f"no name before the parameters in {text!r}")
    return name, params


def format_spec(name: str, params: Mapping[str, Any]) -> str:
    """The canonical text of a name with parameters: keys sorted, values in canonical form; `parse_spec` inverts it."""
    if not params:
        return name
    return f"{name}({', '.join(f'{k}={format_value(params[k])}' for k in sorted(params))})"


@dataclass(frozen=True, eq=False)
class Spec:
    """A name, an optional version and parameters; equal specs have equal canonical forms."""

    kind: ClassVar[str] = "spec"
    article: ClassVar[str] = "a"

    name: str
    version: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError(f"{self.article} {self.kind} spec needs a name")
        params = normalize_value(dict(self.params), f"{self.kind} {self.name} parameters")
        for key in params:
            if not key.isidentifier():
                raise ParameterError(f"{self.kind} {self.name}: parameter name {key!r} is not an identifier")
        object.__setattr__(self, "params", MappingProxyType(params))
        object.__setattr__(self, "_text", format_spec(self.id, params))
        payload = {"name": self.name, "version": self.version, "params": params}
        object.__setattr__(self, "_json", json.dumps(payload, sort_keys=True, separators=(",", ":")))
        object.__setattr__(self, "_hash", hash((type(self).__name__, self._json)))  # type: ignore[attr-defined]

    # -- forms ------------------------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The name with its version: what the registry knows (`rps-v0`, `cfr_plus`, `openspiel:kuhn_poker`)."""
        return self.name if self.version is None else f"{self.name}-v{self.version}"

    @property
    def text(self) -> str:
        """The canonical text form: `id(key=value, ...)` with sorted keys; `parse(text)` gives this spec back."""
        return self._text  # type: ignore[attr-defined]

    @property
    def json(self) -> str:
        """The canonical JSON form (sorted keys, no spaces): the key the results store uses."""
        return self._json  # type: ignore[attr-defined]

    def kwargs(self) -> dict[str, Any]:
        """The parameters as a fresh dict (nested lists and tables copied), to pass to a factory."""
        return json.loads(json.dumps(dict(self.params)))

    # -- construction -----------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Self:
        """A spec from its text form (canonical or as a person writes it: spaces, any key order, bare words)."""
        if not isinstance(text, str):
            raise ParameterError(f"{cls.article} {cls.kind} spec is text, not {type(text).__name__}")
        name, params = parse_spec(text)
        match = _VERSIONED.match(name)
        if match:
            return cls(match["name"], int(match["version"]), params)
        return cls(name, None, params)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """A spec from its canonical JSON form."""
        try:
            data = json.loads(text)
            return cls(data["name"], data["version"], data["params"])
        except (ValueError, TypeError, KeyError) as exc:
            raise ParameterError(f"not {cls.article} {cls.kind} spec in JSON form: {text[:80]!r} ({exc})") from None

    @classmethod
    def of(cls, value: Self | str, /, **params: Any) -> Self:
        """The edge: a spec from a spec or its text, with keyword parameters merged over its own."""
        spec = value if isinstance(value, cls) else cls.parse(value)  # type: ignore[arg-type]
        return spec.with_params(**params) if params else spec

    def with_params(self, **params: Any) -> Self:
        """This spec with some parameters added or replaced."""
        return type(self)(self.name, self.version, {**self.params, **params})

    def without(self, *keys: str) -> Self:
        """This spec without the named parameters."""
        return type(self)(self.name, self.version, {k: v for k, v in self.params.items() if k not in keys})

    # -- value semantics --------------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spec) and type(other) is type(self) and other.json == self.json

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]  # specs key dicts on every match: hashed once, when made

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickles as its canonical JSON
        return type(self).from_json, (self.json,)


class EnvSpec(Spec):
    """An environment: a registered id (`rps-v0`), `openspiel:<game>` or `module:factory`, with parameters."""

    kind = "env"
    article = "an"


class AgentSpec(Spec):
    """An agent: a registered name (`cfr_plus`), `loader:path` (`checkpoint:runs/x/best.pt`) or `module:Class`."""

    kind = "agent"
    article = "an"
