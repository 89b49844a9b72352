"""One registry for envs and agents: built-ins, entry-point plugins and `module:attr` factories.

Names carry parameters in a small call syntax shared by the CLI, TOML configs and Python:
`fixed(action=rock)`, `llm(model=qwen2.5:7b, base_url=http://localhost:11434/v1)`, `random_matrix-v0(size=3)`.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import inspect
import re
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Union, get_args, get_origin, get_type_hints

from arena.core import ArenaError, ParameterError, UnknownNameError

ENV_GROUP = "arena.envs"
AGENT_GROUP = "arena.agents"


# ---------------------------------------------------------------------------------------------------------------
# Parsing `name(key=value, ...)`


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside brackets and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    if quote or depth != 0:
        raise ParameterError(f"unbalanced brackets or quotes in {text!r}")
    parts.append("".join(current))
    return parts


def parse_value(text: str) -> Any:
    """A parameter value: a Python literal (numbers, lists, quoted strings), true/false, or a bare string."""
    text = text.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for candidate in (text, _quote_bare_words(text)) if text[:1] in "[{(" else (text,):
        try:
            return ast.literal_eval(candidate)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
    return text


_BARE_WORD = re.compile(r"""("[^"]*"|'[^']*')|(?<![\w.])([A-Za-z_][\w.\-]*)""")


def _quote_bare_words(text: str) -> str:
    """`{rock: 1, paper: 2}` -> `{'rock': 1, 'paper': 2}`, so containers can name actions without quotes."""
    keep = {"True": "True", "False": "False", "None": "None", "true": "True", "false": "False", "null": "None"}

    def replace(match: re.Match) -> str:
        if match.group(1):
            return match.group(1)
        word = match.group(2)
        return keep.get(word, repr(word))

    return _BARE_WORD.sub(replace, text)


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split `name(k=v, ...)` into the name and a dict of parsed parameters."""
    spec = spec.strip()
    if not spec:
        raise ParameterError("empty name")
    if "(" not in spec or not spec.endswith(")"):
        return spec, {}
    name, _, inner = spec.partition("(")
    inner = inner[:-1].strip()
    params: dict[str, Any] = {}
    if inner:
        for item in _split_top_level(inner):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or not key.isidentifier():
                raise ParameterError(f"bad parameter {item.strip()!r} in {spec!r}: expected key=value")
            params[key] = parse_value(value)
    return name.strip(), params


def format_spec(name: str, params: dict[str, Any]) -> str:
    """The inverse of `parse_spec`, used for display names."""
    if not params:
        return name
    return f"{name}({', '.join(f'{k}={v}' for k, v in params.items())})"


# ---------------------------------------------------------------------------------------------------------------
# Parameter checking


def _accepts(annotation: Any, value: Any) -> tuple[bool, Any]:
    """Check `value` against a simple annotation, converting where it is lossless (str -> int, int -> float)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return True, value
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = get_args(annotation)
        for option in options:  # an exact match wins over a conversion
            if isinstance(option, type) and type(value) is option:
                return True, value
        for option in options:
            ok, converted = _accepts(option, value)
            if ok:
                return True, converted
        return False, value
    if annotation is type(None):
        return value is None, value
    if annotation is bool:
        if isinstance(value, bool):
            return True, value
        if isinstance(value, int) and value in (0, 1):
            return True, bool(value)
        return False, value
    if annotation is int:
        if isinstance(value, bool):
            return False, value
        if isinstance(value, int):
            return True, value
        if isinstance(value, float) and value.is_integer():
            return True, int(value)
        return False, value
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        return False, value
    if annotation is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return True, str(value)
        return False, value
    if origin in (list, tuple, dict) or annotation in (list, tuple, dict):
        target = origin or annotation
        if isinstance(value, (list, tuple)) and target in (list, tuple):
            return True, target(value)
        return isinstance(value, target), value
    return True, value


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def check_params(
    factory: Callable[..., Any], params: dict[str, Any], owner: str, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Validate `params` against `factory`'s signature: unknown names and wrong types raise ParameterError."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    signature = inspect.signature(target)
    try:
        hints = get_type_hints(target)
    except Exception:  # unresolvable annotations: fall back to the defaults' types
        hints = {}
    accepted = {
        name: p
        for name, p in signature.parameters.items()
        if name not in ("self", *skip) and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    open_ended = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
    checked = {}
    for key, value in params.items():
        if key not in accepted:
            if open_ended:
                checked[key] = value
                continue
            close = difflib.get_close_matches(key, list(accepted), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; it takes {', '.join(accepted) or 'none'}"
            raise ParameterError(f"{owner} has no parameter {key!r}{hint}")
        parameter = accepted[key]
        annotation = hints.get(key, parameter.annotation)
        if annotation is inspect.Parameter.empty and parameter.default not in (inspect.Parameter.empty, None):
            annotation = type(parameter.default)
        ok, converted = _accepts(annotation, value)
        if not ok:
            raise ParameterError(f"{owner}: parameter {key}={value!r} should be {_type_name(annotation)}")
        checked[key] = converted
    missing = [n for n, p in accepted.items() if p.default is inspect.Parameter.empty and n not in checked]
    if missing:
        raise ParameterError(f"{owner} needs parameter(s) {', '.join(missing)}")
    return checked


def signature_defaults(factory: Callable[..., Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Parameters of a factory with their defaults (`inspect.Parameter.empty` shows as `"<required>"`)."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    out = {}
    for name, p in inspect.signature(target).parameters.items():
        if name in ("self", *skip) or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[name] = "<required>" if p.default is inspect.Parameter.empty else p.default
    return out


def import_object(path: str) -> Any:
    """Resolve `package.module:attribute`."""
    module_name, _, attr = path.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownNameError(f"cannot import module {module_name!r}: {exc}") from None
    for part in attr.split(".") if attr else []:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UnknownNameError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


# ---------------------------------------------------------------------------------------------------------------
# Specs and the registry


class _LazyFactory:
    """A spec whose factory may be named `module:attr` and is imported on first use."""

    factory: Callable[..., Any] | str

    def resolve(self) -> Callable[..., Any]:
        if isinstance(self.factory, str):
            self.factory = import_object(self.factory)
        return self.factory


@dataclass
class EnvSpec(_LazyFactory):
    """A registered environment. `params` holds the parameters an instance was made with (defaults in the registry)."""

    id: str
    factory: Callable[..., Any] | str
    description: str = ""
    num_players: int | tuple[int, int] = 2
    turn_based: bool = True
    tags: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def parameters(self) -> dict[str, Any]:
        return {**signature_defaults(self.resolve(), skip=("render_mode",)), **self.params}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "num_players": self.num_players,
            "turn_based": self.turn_based,
            "tags": list(self.tags),
            "params": _parameters_or_error(self),
        }


@dataclass
class AgentSpec(_LazyFactory):
    """A registered agent kind."""

    name: str
    factory: Callable[..., Any] | str
    description: str = ""
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def parameters(self) -> dict[str, Any]:
        return signature_defaults(self.resolve())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "tags": list(self.tags),
            "params": _parameters_or_error(self),
        }


def _parameters_or_error(spec: EnvSpec | AgentSpec) -> dict[str, Any]:
    """Parameters for listings: a factory that cannot load shows why instead of breaking the whole list."""
    try:
        return _jsonable(spec.parameters())
    except Exception as exc:
        return {"<unavailable>": str(exc)}


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, str, bool, list, type(None))) else repr(v) for k, v in params.items()}


class Registry:
    """Named specs, filled by built-in modules and, lazily on first use, by an entry-point group."""

    def __init__(self, kind: str, group: str, builtin_module: str) -> None:
        self.kind = kind
        self.group = group
        self.builtin_module = builtin_module
        self._specs: dict[str, Any] = {}
        self._loaded = False

    def add(self, spec: EnvSpec | AgentSpec) -> None:
        self._specs[spec.id if isinstance(spec, EnvSpec) else spec.name] = spec

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        importlib.import_module(self.builtin_module)
        for ep in entry_points(group=self.group):
            try:
                obj = ep.load()
                if isinstance(obj, (EnvSpec, AgentSpec)):
                    self.add(obj)
                elif callable(obj):
                    meta = dict(getattr(obj, "arena_metadata", {}))
                    doc = (inspect.getdoc(obj) or "").split("\n")[0]
                    meta.setdefault("description", doc)
                    if self.group == ENV_GROUP:
                        self.add(EnvSpec(id=ep.name, factory=obj, **meta))
                    else:
                        self.add(AgentSpec(name=ep.name, factory=obj, **meta))
                else:
                    raise TypeError(f"entry point is a {type(obj).__name__}, not a factory or spec")
            except Exception as exc:  # a broken plugin must never break the others
                warnings.warn(f"arena: skipping {self.kind} plugin {ep.name!r} ({ep.value}): {exc}", stacklevel=2)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._specs

    def __iter__(self) -> Iterator[Any]:
        self._load()
        return iter(sorted(self._specs.values(), key=lambda s: getattr(s, "id", None) or s.name))

    def names(self) -> list[str]:
        self._load()
        return sorted(self._specs)

    def get(self, name: str) -> Any:
        self._load()
        if name in self._specs:
            return self._specs[name]
        close = difflib.get_close_matches(name, list(self._specs), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; see `arena list {self.kind}s`"
        raise UnknownNameError(f"unknown {self.kind} {name!r}{hint}")


envs = Registry("env", ENV_GROUP, "arena.envs")
agents = Registry("agent", AGENT_GROUP, "arena.agents")


def register_env(id: str, factory: Callable[..., Any] | str, **metadata: Any) -> EnvSpec:
    """Register an env factory `factory(render_mode=None, **params) -> PettingZoo env` under a versioned id."""
    known = {"description", "num_players", "turn_based", "tags", "params"}
    spec = EnvSpec(
        id=id,
        factory=factory,
        **{k: v for k, v in metadata.items() if k in known},
        metadata={k: v for k, v in metadata.items() if k not in known},
    )
    spec.tags = tuple(spec.tags)
    envs.add(spec)
    return spec


def register_agent(name: str, factory: Callable[..., Any] | str, **metadata: Any) -> AgentSpec:
    """Register an agent factory `factory(**params) -> arena.Agent` under a name."""
    known = {"description", "tags"}
    spec = AgentSpec(
        name=name,
        factory=factory,
        **{k: v for k, v in metadata.items() if k in known},
        metadata={k: v for k, v in metadata.items() if k not in known},
    )
    spec.tags = tuple(spec.tags)
    agents.add(spec)
    return spec


def list_envs() -> list[EnvSpec]:
    """Every registered env spec, built-ins and plugins."""
    return list(envs)


def list_agents() -> list[AgentSpec]:
    """Every registered agent spec, built-ins and plugins."""
    return list(agents)


def make_env(id: str, render_mode: str | None = None, **params: Any) -> Any:
    """Build a PettingZoo env from a registered id, `openspiel:<game string>` or `module:factory`.

    The env gets a `spec` attribute: its EnvSpec with the parameters it was made with.
    """
    name, parsed = parse_spec(id) if not id.startswith("openspiel:") else (id, {})
    params = {**parsed, **params}
    if name.startswith("openspiel:"):
        from arena.envs.openspiel import make_openspiel_env

        env = make_openspiel_env(name.removeprefix("openspiel:"), render_mode=render_mode, **params)
        kind = env.game.get_type()
        tags = ("tabular", *(("imperfect-information",) if kind.information.name == "IMPERFECT_INFORMATION" else ()))
        env.spec = EnvSpec(
            id=name,
            factory=make_openspiel_env,
            description=kind.long_name,
            num_players=len(env.possible_agents),
            turn_based=True,
            tags=tags,
            params=params,
        )
        return env
    if name in envs or ":" not in name:
        spec = envs.get(name)
        factory = spec.resolve()
    else:
        factory = import_object(name)
        if not callable(factory):
            raise UnknownNameError(f"{name!r} is not a callable env factory")
        spec = EnvSpec(id=name, factory=factory, description=(inspect.getdoc(factory) or "").split("\n")[0])
    params = check_params(factory, {**spec.params, **params}, f"env {name}", skip=("render_mode",))
    try:
        env = factory(render_mode=render_mode, **params)
    except ArenaError:
        raise
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"env {name}: {exc}") from None
    instance_spec = EnvSpec(
        id=spec.id,
        factory=spec.factory,
        description=spec.description,
        num_players=len(env.possible_agents),
        turn_based=spec.turn_based,
        tags=spec.tags,
        params=params,
        metadata=spec.metadata,
    )
    if getattr(env, "spec", None) is None or isinstance(getattr(env, "spec", None), EnvSpec):
        env.spec = instance_spec
    return env


def make_agent(spec: str | Any, **params: Any) -> Any:
    """Build an agent from a registry name, `module:Class`, or `loader:path` (e.g. `checkpoint:runs/x/best.pt`).

    An already-built Agent is returned as it is.
    """
    from arena.core import Agent

    if isinstance(spec, Agent):
        return spec
    if not isinstance(spec, str):
        raise ParameterError(f"an agent is named by a string, not {type(spec).__name__}")
    name, parsed = parse_spec(spec)
    params = {**parsed, **params}
    prefix, colon, rest = name.partition(":")
    if name in agents or not colon:
        kind = agents.get(name)
        factory, owner = kind.resolve(), f"agent {name}"
    elif prefix in agents:  # a loader such as checkpoint:PATH or policy:PATH
        kind = agents.get(prefix)
        factory, owner = kind.resolve(), f"agent {prefix}"
        params = {"path": rest, **params}
    else:
        factory, owner = import_object(name), f"agent {name}"
        if not (inspect.isclass(factory) and issubclass(factory, Agent)) and not callable(factory):
            raise UnknownNameError(f"{name!r} is not an agent class or factory")
    params = check_params(factory, params, owner)
    try:
        agent = factory(**params)
    except ArenaError:
        raise
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{owner}: {exc}") from None
    if not isinstance(agent, Agent):
        raise UnknownNameError(f"{name!r} did not build an arena.Agent (got {type(agent).__name__})")
    agent.name = format_spec(name, params) if agent.name == type(agent).name else agent.name
    return agent
