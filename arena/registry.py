"""One registration mechanism: named entries, filled by built-in modules, entry-point plugins and code.

Envs, agents, solvers, MARL algorithms and particle scenarios are each a `Registry` of `Entry` values. An entry's
target is an object or a `module:attr` string imported on first use, so that registering costs nothing. Names
that are not registered may still resolve: a registered loader prefix (`checkpoint:PATH`, `openspiel:GAME`) or any
`module:attr` factory.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.machinery
import inspect
import json
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, NamedTuple, TypeVar, Union, get_args, get_origin, get_type_hints

from arena.core import Agent, cache_dir
from arena.errors import ArenaError, ConfigError, ParameterError, UnknownNameError, did_you_mean
from arena.specs import AgentSpec, EnvSpec

ENV_GROUP = "arena.envs"
AGENT_GROUP = "arena.agents"


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
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True, float(value)
        return False, value
    if annotation is str:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return True, str(value)
        return False, value
    if origin in (list, tuple, dict) or annotation in (list, tuple, dict):
        target = origin or annotation
        if isinstance(value, list | tuple) and target in (list, tuple):
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
    # A class without a constructor of its own takes nothing; the builtin's signature would be parsed from its text
    # (the tokenizer's first use: 3-9 ms in each process that builds such an agent)
    signature = inspect.Signature() if target is object.__init__ else inspect.signature(target)
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
            hint = did_you_mean(key, accepted, cutoff=0.6) or f"; it takes {', '.join(accepted) or 'none'}"
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
    """Parameters of a factory with their defaults (a required one shows as `"<required>"`)."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    out = {}
    for name, p in inspect.signature(target).parameters.items():
        if name in ("self", *skip) or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[name] = "<required>" if p.default is inspect.Parameter.empty else p.default
    return out


def signed(
    factory: Callable[..., Any], leading: list[inspect.Parameter], source: Callable[..., Any], drop: tuple[str, ...]
) -> Callable[..., Any]:
    """Give a `**params` factory the signature that parameter checking and listings read: the `leading` keyword
    parameters, then those of `source` (a class's `__init__` or a function) less `self` and `drop`."""
    own = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for name, p in inspect.signature(source).parameters.items()
        if name not in ("self", *drop) and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    parameters = leading + own
    hints = get_type_hints(source)
    factory.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    factory.__annotations__ = {p.name: hints.get(p.name, p.annotation) for p in parameters}
    return factory


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | float | str | bool | list | type(None)) else repr(v) for k, v in params.items()}


# ---------------------------------------------------------------------------------------------------------------
# Entries and registries


@dataclass
class Entry:
    """A registered name: its target (an object, or `module:attr` imported on first use) and what it is.

    `loader` names the parameter that receives the rest of a `name:REST` spec (`checkpoint:PATH` -> `path`).
    """

    name: str
    target: Any
    description: str = ""
    tags: tuple[str, ...] = ()
    loader: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    skip: tuple[str, ...] = ()  # factory parameters that are not spec parameters

    def __post_init__(self) -> None:
        self.tags = tuple(self.tags)

    def load(self) -> Any:
        if isinstance(self.target, str):
            self.target = import_object(self.target)
        return self.target

    def module(self) -> str:
        """The name of the module that defines the target, found without importing it."""
        if isinstance(self.target, str):
            return self.target.partition(":")[0]
        return str(getattr(self.target, "__module__", ""))

    def parameters(self) -> dict[str, Any]:
        return signature_defaults(self.load(), skip=(*self.skip, *((self.loader,) if self.loader else ())))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "tags": list(self.tags), **self._params()}

    def _params(self) -> dict[str, Any]:
        """Parameters for listings: a target that cannot load shows why instead of breaking the whole list."""
        try:
            return {"params": _jsonable(self.parameters())}
        except Exception as exc:
            return {"params": {"<unavailable>": str(exc)}}


ResultKind = Literal["amounts", "win-draw-loss", "general-sum", "cooperative"]
RESULT_KINDS: tuple[str, ...] = get_args(ResultKind)


@dataclass(frozen=True)
class Outcomes:
    """What a result of an env means, which decides how a tournament ranks its agents.

    `kind`: "amounts" (zero-sum payoffs that are quantities: chips, matrix payoffs), "win-draw-loss" (only who
    won counts: board games), "general-sum" or "cooperative" (one team return). `chance`: chance deals cards or
    starting positions (duplicate scoring cancels it). `big_blind`: the big blind of a poker game with blinds
    (payoffs are then also shown in milli-big-blinds per hand).
    """

    kind: ResultKind = "general-sum"
    chance: bool = False
    big_blind: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in RESULT_KINDS:
            raise ParameterError(f"result kind must be one of {', '.join(RESULT_KINDS)} (got {self.kind!r})")


@dataclass
class EnvEntry(Entry):
    """A registered environment: `target(render_mode=None, **params)` makes the PettingZoo env.

    `defaults` are parameters fixed at registration; `vector_target(num_envs, **params)`, where given, makes a
    batched version of the env (as Gymnasium's `vector_entry_point`). `outcomes` says what its results mean
    (`Outcomes`, or just its kind: "win-draw-loss"); a loader entry may give instead a function (or `module:attr`)
    of the spec's parameters that returns them (OpenSpiel games read their game type).
    """

    num_players: int | tuple[int, int] = 2
    turn_based: bool = True
    defaults: dict[str, Any] = field(default_factory=dict)
    vector_target: Any = None
    skip: tuple[str, ...] = ("render_mode",)
    outcomes: Outcomes | Callable[..., Outcomes] | str = field(default_factory=Outcomes)

    def outcomes_of(self, **params: Any) -> Outcomes:
        """What results mean for this env with these parameters (the loader's parameter included)."""
        if isinstance(self.outcomes, str):  # a result kind, or the `module:attr` of a function
            kind = self.outcomes
            self.outcomes = Outcomes(kind) if kind in RESULT_KINDS else import_object(kind)  # type: ignore[arg-type]
        if isinstance(self.outcomes, Outcomes):
            return self.outcomes
        if not callable(self.outcomes):
            raise ParameterError(f"env {self.id}: its outcomes are neither Outcomes nor a function")
        found = self.outcomes(**params)
        if not isinstance(found, Outcomes):
            raise ParameterError(f"env {self.id}: its outcomes function returned {type(found).__name__}")
        return found

    @property
    def id(self) -> str:
        return self.name

    def parameters(self) -> dict[str, Any]:
        return {**super().parameters(), **self.defaults}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "num_players": self.num_players,
            "turn_based": self.turn_based,
            "tags": list(self.tags),
            "results": self._result_kind(),
            **self._params(),
        }

    def _result_kind(self) -> str:
        """The result kind for listings ("per game" where a loader reads it from each game)."""
        if isinstance(self.outcomes, Outcomes):
            return self.outcomes.kind
        return self.outcomes if isinstance(self.outcomes, str) and self.outcomes in RESULT_KINDS else "per game"

    def load_vector(self) -> Any:
        if self.vector_target is None:
            raise ParameterError(f"env {self.id} has no batched version")
        if isinstance(self.vector_target, str):
            self.vector_target = import_object(self.vector_target)
        return self.vector_target

    def make_vector(self, num_envs: int, device: str = "cpu", seed: int | None = None, **params: Any) -> Any:
        """`num_envs` worlds of this env stepped as one batch, its parameters checked against the batched version."""
        factory = self.load_vector()
        owner = f"env {self.id}"
        checked = check_params(factory, {**self.defaults, **params}, owner, skip=("num_envs", "device", "seed"))
        return _build(factory, owner, checked, num_envs=num_envs, device=device, seed=seed)


E = TypeVar("E", bound=Entry)
PLUGIN_GROUPS = "arena."  # the prefix of every entry-point group arena reads (envs, agents, algorithms)


class PluginPoint(NamedTuple):
    """An installed entry point of one of arena's groups. Kept between processes (`plugin_entry_points`), so it is
    arena's own: importlib.metadata's EntryPoint would cost that module's import, a good part of a short command."""

    name: str
    value: str  # `module:attr`, perhaps with `[extras]`
    group: str

    def load(self) -> Any:
        """The object named, found as importlib.metadata's EntryPoint.load finds it (its errors unchanged)."""
        module, _, attrs = self.value.partition("[")[0].partition(":")
        obj = importlib.import_module(module.strip())
        return functools.reduce(getattr, filter(None, attrs.strip().split(".")), obj)


_SCANNED: list[list[PluginPoint]] = []  # [every installed entry point of arena's groups], once read in this process


def plugin_entry_points(group: str) -> list[PluginPoint]:
    """The installed entry points of `group`, read once per process and shared by the registries.

    Reading them means reading the metadata of every installed package (importlib.metadata, email and zipfile
    imported first): 20-50 ms, a good part of a short command and of every process a tournament starts. So what
    was read is kept on disk with a fingerprint of all that the reading depends on (`_metadata_fingerprint`), and
    read again only when that changes: a package installed, removed or upgraded, an entry_points.txt edited, the
    import path changed.
    """
    if not _SCANNED:  # read once, even when there is none (an empty list is a result too)
        _SCANNED.append(_entry_points())
    return [ep for ep in _SCANNED[0] if ep.group == group]


def _entry_points() -> list[PluginPoint]:
    folders = [entry or os.getcwd() for entry in sys.path]  # "" is the working folder
    fingerprint = _metadata_fingerprint(folders)
    path = "\n".join([sys.executable, *folders])  # a file per interpreter and path
    where = cache_dir("plugins") / f"entry-points-{hashlib.sha1(path.encode()).hexdigest()[:16]}.json"
    if fingerprint is not None:
        try:
            kept = json.loads(where.read_text())
            if kept["fingerprint"] == fingerprint:
                points = [PluginPoint(*p) for p in kept["points"]]
                if all(isinstance(text, str) for point in points for text in point):
                    return points
        except (OSError, ValueError, KeyError, TypeError):  # none yet, or unreadable: read the metadata
            pass
    from importlib.metadata import entry_points

    found = entry_points()
    groups = found.values() if isinstance(found, dict) else [found]  # Python 3.11 returns a dict of groups
    points = [
        PluginPoint(ep.name, ep.value, ep.group) for eps in groups for ep in eps if ep.group.startswith(PLUGIN_GROUPS)
    ]
    if fingerprint is not None:
        with contextlib.suppress(OSError):
            where.parent.mkdir(parents=True, exist_ok=True)
            temporary = where.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps({"fingerprint": fingerprint, "points": points}))
            os.replace(temporary, where)
    return points


def _metadata_fingerprint(folders: list[str]) -> str | None:
    """A digest of what importlib.metadata reads to find entry points: the import path's `folders`, and in each the
    name of every package's metadata folder with the size and time of its entry_points.txt (a file on the path, a
    zip, by its own). None where a finder other than the path's may add packages: then nothing is kept."""
    if any(hasattr(f, "find_distributions") and f is not importlib.machinery.PathFinder for f in sys.meta_path):
        return None
    parts = []
    for folder in folders:
        try:
            with os.scandir(folder) as children:
                names = sorted(c.name for c in children if c.name.lower().endswith(_METADATA_FOLDERS))
        except OSError:  # a zip, a path hook's name or nothing at all
            try:
                stat = os.stat(folder)
                parts.append(f"{folder}|{stat.st_mtime_ns}|{stat.st_size}")
            except OSError:
                parts.append(f"{folder}|")
            continue
        parts.append(f"{folder}/")
        for name in names:
            try:
                stat = os.stat(os.path.join(folder, name, "entry_points.txt"))
                parts.append(f"{name}|{stat.st_mtime_ns}|{stat.st_size}")
            except OSError:
                parts.append(name)
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


_METADATA_FOLDERS = (".dist-info", "egg-info")  # what importlib.metadata reads: *.egg-info, and EGG-INFO in an egg


class Registry(Generic[E]):
    """Named entries of one kind, filled by built-in modules and an entry-point group, loaded on first use.

    An entry point may name an Entry, or a factory (its `arena_metadata` dict and first doc line describe it).
    `builtins` may be several modules: the first and the plugins load on first use, each further one only when a
    name is not found among the entries loaded so far (or when all are listed), so that naming a light built-in
    costs no import of the heavy ones. Plugins override built-ins of the same name, whenever those load.
    """

    def __init__(
        self,
        kind: str,
        group: str | None = None,
        builtins: str | tuple[str, ...] | None = None,
        entry_type: type[Entry] = Entry,
        listing: str | None = None,
    ) -> None:
        self.kind = kind
        self.listing = listing  # the command that lists the entries, named in the error for an unknown name
        self.group = group
        self.builtins = (builtins,) if isinstance(builtins, str) else tuple(builtins or ())
        self.entry_type = entry_type
        self._entries: dict[str, E] = {}
        self._plugins: dict[str, E] = {}
        self._loaded = 0  # built-in modules imported so far
        self._plugins_loaded = False

    def register(self, entry: E) -> E:
        self._entries[entry.name] = entry
        return entry

    def _load(self, wanted: object = None) -> None:
        """Load built-ins and plugins: everything, or (given `wanted`) only as far as needed to know that name."""
        if self._loaded == 0 and self.builtins:
            self._loaded = 1
            importlib.import_module(self.builtins[0])
        if not self._plugins_loaded:
            self._plugins_loaded = True
            self._load_plugins()
        while self._loaded < len(self.builtins) and (wanted is None or wanted not in self._entries):
            self._loaded += 1
            importlib.import_module(self.builtins[self._loaded - 1])
            self._entries.update(self._plugins)

    def _load_plugins(self) -> None:
        for ep in plugin_entry_points(self.group) if self.group else ():
            try:
                obj = ep.load()
                if isinstance(obj, Entry):
                    entry = obj
                elif callable(obj):
                    meta = dict(getattr(obj, "arena_metadata", {}))
                    meta.setdefault("description", (inspect.getdoc(obj) or "").split("\n")[0])
                    entry = self.entry_type(ep.name, obj, **meta)
                else:
                    raise TypeError(f"entry point is a {type(obj).__name__}, not a factory or Entry")
                self._plugins[entry.name] = self.register(entry)  # type: ignore[arg-type]
            except Exception as exc:  # a broken plugin must never break the others
                warnings.warn(f"arena: skipping {self.kind} plugin {ep.name!r} ({ep.value}): {exc}", stacklevel=2)

    def __contains__(self, name: object) -> bool:
        self._load(name)
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        return list(self)

    def entries(self, loaders: bool = False) -> list[E]:
        """The entries that are named alone, or with `loaders=True` the loader prefixes (`checkpoint:PATH`)."""
        return [self._entries[name] for name in self if bool(self._entries[name].loader) == loaders]

    def get(self, name: str) -> E:
        """The entry registered as `name`; an unknown name suggests the close ones."""
        self._load(name)
        if name in self._entries:
            return self._entries[name]
        hint = did_you_mean(name, self._entries) or (
            f"; see `{self.listing}`" if self.listing else f"; known: {', '.join(sorted(self._entries)) or 'none'}"
        )
        raise UnknownNameError(f"unknown {self.kind} {name!r}{hint}")

    def resolve(
        self, name: str, check: Callable[[Any], bool] | None = None, expected: str = ""
    ) -> tuple[E, dict[str, Any]]:
        """The entry for a spec name and the parameters its name implies.

        A registered name; `prefix:REST` where `prefix` is a registered loader (REST becomes its loader
        parameter); or `module:attr`, imported and checked with `check` (what it should be: `expected`) before it is
        ever called.
        """
        prefix, colon, rest = name.partition(":")
        self._load(prefix if colon else name)
        if name in self._entries or not colon:
            return self.get(name), {}
        loader = self._entries.get(prefix)
        if loader is not None and loader.loader:
            return loader, {loader.loader: rest}
        target = import_object(name)
        if check is not None and not check(target):
            raise UnknownNameError(f"{name!r} is not {expected or f'a {self.kind} factory'}")
        doc = (inspect.getdoc(target) or "").split("\n")[0]
        return self.entry_type(name, target, description=doc), {}  # type: ignore[return-value]


envs: Registry[EnvEntry] = Registry("env", ENV_GROUP, "arena.envs", EnvEntry, listing="arena list envs")
agents: Registry[Entry] = Registry("agent", AGENT_GROUP, "arena.agents.builtins", listing="arena list agents")
solvers: Registry[Entry] = Registry("solver", builtins="arena.agents.builtins")


def register_env(id: str, factory: Callable[..., Any] | str, **metadata: Any) -> EnvEntry:
    """Register an env factory `factory(render_mode=None, **params) -> PettingZoo env` under a versioned id."""
    known = {"description", "num_players", "turn_based", "tags", "defaults", "vector_target", "loader", "outcomes"}
    entry = EnvEntry(
        id,
        factory,
        **{k: v for k, v in metadata.items() if k in known},
        metadata={k: v for k, v in metadata.items() if k not in known},
    )
    return envs.register(entry)


def register_agent(name: str, factory: Callable[..., Any] | str, **metadata: Any) -> Entry:
    """Register an agent factory `factory(**params) -> arena.Agent` under a name."""
    known = {"description", "tags", "loader"}
    entry = Entry(
        name,
        factory,
        **{k: v for k, v in metadata.items() if k in known},
        metadata={k: v for k, v in metadata.items() if k not in known},
    )
    return agents.register(entry)


def register_solver(
    name: str,
    solver: type | str,
    agent: Callable[..., Any] | str | None = None,
    description: str = "",
    tags: tuple[str, ...] = (),
) -> None:
    """Register a solver class (an `arena.games.solve.Solver`, or `module:Class` imported only when used) and the
    agent of the same name: `agent` names the agent's factory, by default the one the class makes for itself."""
    default = f"{solver}.agent_factory" if isinstance(solver, str) else solver.agent_factory  # type: ignore[attr-defined]
    solvers.register(Entry(name, solver, description=description, tags=tags))
    agents.register(Entry(name, agent or default, description=description, tags=("solver", "exact", *tags)))


def list_envs() -> list[EnvEntry]:
    """Every registered env, built-ins and plugins (loader prefixes such as `openspiel:` are `envs.entries(True)`)."""
    return envs.entries()


def list_agents() -> list[Entry]:
    """Every registered agent kind, built-ins and plugins (loader prefixes are `agents.entries(True)`)."""
    return agents.entries()


def vector_envs() -> list[str]:
    """The ids of the envs that have a batched version (`make_vector_env`)."""
    return [e.id for e in envs.entries() if e.vector_target is not None]


def _build(factory: Callable[..., Any], owner: str, params: dict[str, Any], **fixed: Any) -> Any:
    """Call a factory with checked parameters; its ValueError/TypeError is the user's parameter error, and any
    other exception it raises (SystemExit too) a ConfigError naming it: one line, not a traceback or an exit."""
    try:
        return factory(**fixed, **params)
    except ArenaError:
        raise
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{owner}: {exc}") from None
    except (Exception, SystemExit) as exc:  # a factory that fails otherwise (or exits) is a broken env or agent
        raise ConfigError(f"{owner}: building it raised {type(exc).__name__}: {str(exc)[:300]}") from None


def make_env(spec: EnvSpec | str, render_mode: str | None = None, **params: Any) -> Any:
    """Build a PettingZoo env from a spec: a registered id, `openspiel:<game>` or `module:factory`.

    The env gets a `spec` attribute: the EnvSpec it was made from, with its parameters checked.
    """
    spec = EnvSpec.of(spec, **params)
    entry, implied = envs.resolve(spec.id, check=callable)
    factory = entry.load()
    owner = f"env {spec.id}"
    checked = check_params(factory, {**entry.defaults, **spec.kwargs()}, owner, skip=(*entry.skip, *implied))
    env = _build(factory, owner, checked, render_mode=render_mode, **implied)
    env.spec = EnvSpec(spec.name, spec.version, checked)
    return env


def env_outcomes(spec: EnvSpec | str) -> Outcomes:
    """What the results of an env mean (its entry's `outcomes`); the general-sum default for an env that cannot
    be resolved (a plugin no longer installed)."""
    spec = EnvSpec.of(spec)
    try:
        entry, implied = envs.resolve(spec.id, check=callable)
        return entry.outcomes_of(**implied, **entry.defaults, **spec.kwargs())
    except ArenaError:
        return Outcomes()


def make_vector_env(
    spec: EnvSpec | str, num_envs: int, device: str = "cpu", seed: int | None = None, **params: Any
) -> Any:
    """`num_envs` worlds of an env that registered a `vector_target` (the particle worlds), stepped as one batch.

    Parameters come in the spec or as keywords (`make_vector_env("spread-v0(N=5)", 1024)`).
    """
    spec = EnvSpec.of(spec, **params)
    return envs.get(spec.id).make_vector(num_envs, device, seed, **spec.kwargs())


def _is_agent_factory(target: Any) -> bool:
    """Only Agent subclasses may be named as `module:Class`: naming any callable would run arbitrary code."""
    return inspect.isclass(target) and issubclass(target, Agent)


def make_agent(spec: AgentSpec | str | Agent, **params: Any) -> Agent:
    """Build an agent from a spec: a registry name, `loader:path` (`checkpoint:runs/x/best.pt`) or `module:Class`.

    An already-built Agent is returned as it is. The agent's name is its spec's canonical text unless the agent
    names itself.
    """
    if isinstance(spec, Agent):
        return spec
    if not isinstance(spec, AgentSpec | str):
        raise ParameterError(f"an agent is named by a spec, not {type(spec).__name__}")
    spec = AgentSpec.of(spec, **params)
    entry, implied = agents.resolve(spec.id, check=_is_agent_factory, expected="an arena.Agent subclass")
    factory = entry.load()
    owner = f"agent {entry.name}"
    checked = check_params(factory, spec.kwargs(), owner, skip=tuple(implied))
    agent = _build(factory, owner, checked, **implied)
    if not isinstance(agent, Agent):
        raise UnknownNameError(f"{spec.id!r} did not build an arena.Agent (got {type(agent).__name__})")
    if agent.name == type(agent).name:
        agent.name = AgentSpec(spec.name, spec.version, checked).text
    return agent
