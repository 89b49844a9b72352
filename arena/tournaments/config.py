"""A tournament's definition: one typed schema (`TournamentConfig`) that the TOML reader, the `arena tournament`
flags, the checks and the README's table of keys all come from.

```toml
name = "kuhn-demo"
games = 50                    # matches per pairing and seat order
seats = "all"                 # every seat order of every pairing ("fixed": only the listed order)
self_play = false
seed = 0
move_time_limit = 5.0         # seconds per move; no limit when absent
illegal_moves = "forfeit"     # forfeit | random | retry
envs = ["kuhn_poker-v0"]      # or [[envs]] tables with id = "..." and params = {...}
teams = true                  # envs with teams (particle worlds): one agent plays a whole team
scoring = "match"             # match: each match decides wins; duplicate: each seed's set of seat orders does

[[agents]]
name = "cfr"                  # display name (defaults to the spec)
spec = "cfr_plus(iterations=200)"
```

Specs are parsed once, where they come in (TOML, command line, Python call), into `EnvSpec`/`AgentSpec` values;
envs equal as values are one env (`rps-v0(rounds=10)` and `rps-v0( rounds = 10 )`).

Every setting is a field with metadata: `help` (the command-line help), `doc` (the README's meaning column),
`choices`, `check` (a predicate and what it demands), `flag` (its `arena tournament` option, if any) and `role`:
"rule" settings change what a match means and a stored tournament resumes only with the same; "stored" ones are
kept with the results but may change; "run" ones say where and how fast it runs and are not stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import tomllib
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from arena.errors import ConfigError
from arena.specs import AgentSpec, EnvSpec

DEFAULT_DB = "arena-results.sqlite"
SECRET_WORDS = ("key", "token", "secret", "password")


# ---------------------------------------------------------------------------------------------------------------
# Secrets


def is_secret(parameter: str) -> bool:
    """Parameters that may hold credentials; they are used to build agents but never stored or shown."""
    lowered = parameter.lower()
    return any(word in lowered for word in SECRET_WORDS)


def _url_parts(value: Any) -> SplitResult | None:
    """The parts of a URL-valued parameter (`scheme://...`), None for any other value."""
    if not isinstance(value, str) or "://" not in value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a bad port is a ValueError)
    except ValueError:
        return None
    return parts if parts.scheme and parts.netloc else None


def public_url(value: str) -> str:
    """A URL without its user info (`user:KEY@`) and without secret-looking query parameters (`api_key=...`)."""
    parts = _url_parts(value)
    if parts is None:
        return value
    netloc = parts.netloc.rpartition("@")[2]
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_secret(k)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def public_spec(spec: AgentSpec) -> AgentSpec:
    """The spec without its secret-looking parameters and with URL-valued ones stripped of credentials, safe to
    store and print."""
    public = spec.without(*[k for k in spec.params if is_secret(k)])
    urls = {k: public_url(v) for k, v in public.params.items() if isinstance(v, str) and public_url(v) != v}
    return public.with_params(**urls) if urls else public


def _url_secrets(value: Any) -> list[str]:
    parts = _url_parts(value)
    if parts is None:
        return []
    found = [v for v in (parts.password,) if v]
    if parts.username and (not parts.password or len(parts.username) >= 8):  # a key as the user name
        found.append(parts.username)
    found += [v for k, v in parse_qsl(parts.query) if is_secret(k) and v]
    return found + [unquote(v) for v in found if unquote(v) != v]


def secret_values(spec: AgentSpec) -> list[str]:
    """The values to scrub from an agent's messages: its secret parameters, credentials in its URL-valued
    parameters, and the values of environment variables with secret-looking names (`OPENAI_API_KEY`, or any
    variable a parameter such as `api_key_env` names)."""
    found = [str(v) for k, v in spec.params.items() if is_secret(k) and v not in (None, "")]
    for value in spec.params.values():
        found += _url_secrets(value)
        if isinstance(value, str) and value in os.environ and is_secret(value):
            found.append(os.environ[value])
    found += [v for k, v in os.environ.items() if is_secret(k) and len(v) >= 8]
    return sorted({v for v in found if v}, key=len, reverse=True)


# ---------------------------------------------------------------------------------------------------------------
# The schema


@dataclass(frozen=True)
class AgentEntry:
    """One participant: a unique display name and the spec it is built from.

    `named` is False when the name is the default, the public spec's canonical text; a resumed tournament then
    gives the entry the name its spec was stored under (`TournamentConfig.with_stored_names`). `analysis` False
    (`analysis = false` in its table) leaves the agent out of the exploitability analysis. `prompt_price` and
    `completion_price` are its dollars per million prompt and completion tokens (costs.py).
    """

    name: str
    spec: AgentSpec
    named: bool = True
    analysis: bool = True
    prompt_price: float | None = None
    completion_price: float | None = None

    @classmethod
    def of(cls, spec: AgentSpec | str, name: str | None = None) -> AgentEntry:
        spec = AgentSpec.of(spec)
        if name is None:
            return cls(public_spec(spec).text, spec, named=False)
        return cls(name, spec)


def setting(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    doc: str,
    role: str = "stored",
    choices: tuple[str, ...] = (),
    check: tuple[Callable[[Any], bool], str] | None = None,
    kind: str | None = None,
    shown: str | None = None,
    flag: str | None = None,
    metavar: str | None = None,
    cli_default: str | None = "",
) -> Any:
    """A TournamentConfig field and everything said about it (see the module's docstring).

    `kind` overrides how type errors name the expected value; `shown` is the README's default column (derived
    from the default when absent); `cli_default` the default the help states ("" derives it, None omits it).
    """
    metadata = {
        "help": help,
        "doc": doc,
        "role": role,
        "choices": choices,
        "check": check,
        "kind": kind,
        "shown": shown,
        "flag": flag,
        "metavar": metavar,
        "cli_default": cli_default,
    }
    if isinstance(default, list):
        return field(default_factory=list, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TournamentConfig:
    """Everything that defines a tournament (what is played) and how it runs (where and how fast).

    Envs and agents may be given as specs or spec texts (and agents as AgentEntry): they are parsed here, and envs
    equal as values are merged.
    """

    name: str = setting(
        help="tournament name",
        doc="the tournament's name; match ids and the database rows hang on it",
        shown="the file's stem; else made from the envs and agents",
        flag="--name",
        cli_default="the config file's name, or one made from the envs and agents",
    )
    envs: list[EnvSpec] = setting(
        [],
        help="env id(s) with parameters (instead of a config file)",
        doc='env ids with parameters (`"rps-v0(rounds=100)"`), or tables `{id = "rps-v0", params = {rounds = 100}}`;'
        " envs equal as values (`rps-v0(rounds=10)` and `rps-v0( rounds = 10 )`) are one env",
        shown="required",
    )
    agents: list[AgentEntry] = setting(
        [],
        help="agent specs (instead of a config file)",
        doc='spec strings (`"cfr_plus(iterations=300)"`), or `[[agents]]` tables with `name` (the display name,'
        " unique; defaults to the spec without its secrets), `spec` and optional `params`",
        shown="required",
    )
    games: int = setting(
        10,
        help="matches per pairing and seat order",
        doc="matches per pairing and seat order",
        check=(lambda v: v >= 1, "a positive integer"),
        flag="--games",
    )
    stop: str = setting(
        "schedule",
        help="play the whole schedule, or adapt it until the ranking is separated",
        doc='`"schedule"`: every pairing plays `games` per seat order; `"ranked"`: after that initial round, the'
        " adjacent pair of the ranking whose head-to-head interval overlaps zero most gets `games` more seeds, round"
        " after round, until every adjacent pair is separated at `confidence` or `max_games` is reached (two-seat"
        " envs; see Schedule, store and resume)",
        choices=("schedule", "ranked"),
        flag="--stop",
    )
    confidence: float = setting(
        0.95,
        help='the confidence at which stop = "ranked" calls adjacent agents separated',
        doc='the confidence at which `stop = "ranked"` calls two adjacent agents separated (two-sided normal'
        " interval of their paired margin)",
        check=(lambda v: 0 < v < 1, "between 0 and 1"),
        flag="--confidence",
    )
    max_games: int | None = setting(
        None,
        help="stop the run when the tournament holds this many matches",
        doc="a budget: the run stops cleanly when the tournament holds this many matches, and says so",
        check=(lambda v: v >= 1, "a positive integer"),
        flag="--max-games",
        cli_default=None,
    )
    max_cost_usd: float | None = setting(
        None,
        help="stop the run when its matches have cost this many dollars",
        doc="a budget: the run stops cleanly when the tournament's matches have cost this many dollars (tokens times"
        " the agents' prices; matches in flight finish), and says so",
        check=(lambda v: v > 0, "positive"),
        kind="a number of dollars",
        flag="--max-cost-usd",
        metavar="DOLLARS",
        cli_default=None,
    )
    max_wall_s: float | None = setting(
        None,
        help="stop the run when its matches have taken this many seconds",
        doc="a budget: the run stops cleanly when the tournament's matches have taken this many seconds of play"
        " (summed over matches, so resumed runs count what came before), and says so",
        check=(lambda v: v > 0, "positive"),
        kind="a number of seconds",
        flag="--max-wall-s",
        metavar="SECONDS",
        cli_default=None,
    )
    pairing_max_games: int | None = setting(
        None,
        help="play at most this many matches of each pairing (summed over envs and seat orders)",
        doc="a budget per pairing: once a pairing holds this many matches (summed over envs and seat orders), its"
        " further matches are skipped while the other pairings play on, and the run's `stopped` names it",
        check=(lambda v: v >= 1, "a positive integer"),
        flag="--pairing-max-games",
        cli_default=None,
    )
    pairing_max_cost_usd: float | None = setting(
        None,
        help="stop a pairing once its matches have cost this many dollars",
        doc="a budget per pairing: once a pairing's matches have cost this many dollars, its further matches are"
        " skipped (those in flight finish) while the other pairings play on, and the run's `stopped` names it",
        check=(lambda v: v > 0, "positive"),
        kind="a number of dollars",
        flag="--pairing-max-cost-usd",
        metavar="DOLLARS",
        cli_default=None,
    )
    pairing_max_wall_s: float | None = setting(
        None,
        help="stop a pairing once its matches have taken this many seconds",
        doc="a budget per pairing: once a pairing's matches have taken this many seconds of play, its further"
        " matches are skipped while the other pairings play on, and the run's `stopped` names it",
        check=(lambda v: v > 0, "positive"),
        kind="a number of seconds",
        flag="--pairing-max-wall-s",
        metavar="SECONDS",
        cli_default=None,
    )
    prices: str | None = setting(
        None,
        role="run",
        help="a TOML price table: dollars per million prompt and completion tokens by model",
        doc='a TOML file of prices by model (`["gpt-4o-mini"]` with `prompt = 0.15` and `completion = 0.6`, dollars'
        " per million tokens), for agents whose table sets no `prompt_price`/`completion_price`",
        flag="--prices",
        metavar="FILE",
        cli_default=None,
    )
    seats: str = setting(
        "all",
        role="rule",
        help="every seat order of each pairing, or only the listed order",
        doc='`"all"`: every seat order of every pairing; `"fixed"`: only the order listed',
        choices=("all", "fixed"),
        flag="--seats",
    )
    self_play: bool = setting(
        False,
        role="rule",
        help="also pair each agent with itself",
        doc="also pair each agent with itself; each seat gets its own instance",
        flag="--self-play",
        cli_default=None,
    )
    teams: bool = setting(
        True,
        role="rule",
        help="in envs with teams (particle worlds), one agent plays a whole team",
        doc="in envs that declare teams (particle worlds: `adversary-v0`, `tag-v0`; `spread-v0` is one team), a seat"
        " is a whole team: one agent plays every member, each with its own instance, and the row holds the team's"
        " summed payoff; `false` seats agents player by player",
        flag="--teams",
        cli_default="on",
    )
    scoring: str = setting(
        "auto",
        help="what decides wins: each match, or each seed's set of seat orders (auto: duplicate where chance deals)",
        doc='what decides wins and ratings: `"match"`: each match; `"duplicate"`: each seed\'s set of seat orders,'
        ' scored by the agent\'s mean payoff over the set (see Metrics); `"auto"`: duplicate in envs where chance'
        ' deals cards or starting positions (poker, particle worlds) and seats are `"all"`, match elsewhere',
        choices=("auto", "match", "duplicate"),
        flag="--scoring",
    )
    rank_by: str = setting(
        "auto",
        help="what the ranking ranks by",
        doc='`"auto"`: what the env\'s results mean (expected payoff per game against the field where payoffs are'
        ' amounts, general-sum or cooperative; Davidson-Bradley-Terry rating in win/draw/loss games); `"payoff"`,'
        ' `"rating"`, `"nash"` (Nash-averaging score in two-player envs) or `"runoff"` (instant-runoff bankroll); see'
        " Metrics",
        choices=("auto", "payoff", "rating", "nash", "runoff"),
        flag="--rank-by",
    )
    seed: int = setting(
        0,
        role="rule",
        help="master seed",
        doc="master seed; game k of an env uses the same seed for every pairing and seat order, so in poker both"
        " orders get the same deals",
        flag="--seed",
        check=(lambda v: v >= 0, "a non-negative integer"),
    )
    move_time_limit: float | None = setting(
        None,
        role="rule",
        help="per-move time limit",
        doc="seconds per move; an agent over the limit forfeits, and a hanging one is interrupted",
        check=(lambda v: v > 0, "positive"),
        kind="a number of seconds",
        flag="--time-limit",
        metavar="SECONDS",
        cli_default=None,
    )
    illegal_moves: str = setting(
        "forfeit",
        role="rule",
        help="illegal-move policy",
        doc="`forfeit`, `random` (a random legal move is played instead) or `retry` (up to `max_retries`)",
        choices=("forfeit", "random", "retry"),
        flag="--illegal",
    )
    max_retries: int = setting(
        2,
        role="rule",
        help="attempts after an illegal move when illegal_moves is retry",
        doc="attempts after an illegal move under `retry`",
        check=(lambda v: v >= 0, "a non-negative integer"),
    )
    max_steps: int | None = setting(
        None,
        role="rule",
        help="stop a match after this many steps",
        doc="stop a match after this many steps",
        check=(lambda v: v >= 1, "a positive integer"),
    )
    record_histories: bool = setting(
        False,
        role="run",
        help="store each match's full action history, chance included (OpenSpiel games)",
        doc="store each match's full action history, chance included, in OpenSpiel games (`rounds` of the match"
        ' row: `{"history": [...]}`); `arena compare` turns it on for its control variate in tabular games',
        flag="--record-histories",
        cli_default=None,
    )
    exploitability: str = setting(
        "auto",
        role="run",
        help="exploitability analysis",
        doc="`auto`: exact for agents with `action_probs`, sampled estimate otherwise, and a best-response lower"
        " bound (`>= 0.31 [0.27, 0.35]`) on envs that do not compile when `bound_budget` is set; `exact`: only the"
        " exact ones; `off`",
        choices=("auto", "exact", "off"),
    )
    analysis_budget: float = setting(
        60.0,
        role="run",
        help="seconds the exploitability analysis may spend on each agent",
        doc="seconds the exploitability analysis may spend probing each agent on each env (in a process of its"
        " own, stopped when the budget is spent; an env's agents are probed side by side, as many as the workers,"
        " or one at a time under a tournament budget)",
        check=(lambda v: v > 0, "positive"),
        kind="a number of seconds",
        flag="--analysis-budget",
        metavar="SECONDS",
    )
    bound_budget: float = setting(
        0.0,
        role="run",
        help="seconds for each agent's exploitability lower bound on envs too large to compile (0: none)",
        doc='with `exploitability = "auto"`: seconds each agent\'s best-response lower bound may spend on each env'
        " that does not compile (search, lbr or rl, in a process of its own); 0 leaves those envs unmeasured",
        check=(lambda v: v >= 0, "zero or positive"),
        kind="a number of seconds",
        flag="--bound-budget",
        metavar="SECONDS",
    )
    bound_max_queries: int | None = setting(
        None,
        role="run",
        help="calls of each agent that one exploitability lower bound may make",
        doc="calls of each agent one lower bound may make (its cost cap for language models); none by default",
        check=(lambda v: v >= 1, "a positive integer"),
    )
    isolation: str = setting(
        "none",
        role="run",
        help="where agents run",
        doc="`none`: in the worker's process; `process`: each agent in a process of its own, seeing only its"
        " observations (`process:SPEC`)",
        choices=("none", "process"),
        flag="--isolation",
    )
    workers: int = setting(
        0,
        role="run",
        help="worker processes or Ray actors",
        doc="worker processes, or Ray actors",
        check=(lambda v: v >= 0, "a non-negative integer (0 = all cores)"),
        shown="0 (all cores)",
        flag="--workers",
        cli_default="all cores",
    )
    backend: str = setting(
        "local",
        role="run",
        help="where matches run",
        doc="`local` (worker processes), `inprocess` (for debugging) or `ray`",
        choices=("inprocess", "local", "ray"),
        flag="--backend",
    )
    ray_address: str | None = setting(
        None,
        role="run",
        help="Ray cluster address",
        doc="an existing Ray cluster (`ray://head:10001` or `host:6379`); without it, a local cluster is started",
        flag="--ray-address",
        metavar="ADDR",
        cli_default="start a local one",
    )
    db: str = setting(
        DEFAULT_DB,
        role="run",
        help="results database",
        doc="the results database",
        shown=f"`{DEFAULT_DB}`",
        flag="--db",
    )

    def __post_init__(self) -> None:
        if not isinstance(self.envs, list) or not isinstance(self.agents, list):
            raise ConfigError("envs and agents must be lists")
        self.envs = list(dict.fromkeys(EnvSpec.of(e) for e in self.envs))  # equal envs are one
        self.agents = [a if isinstance(a, AgentEntry) else AgentEntry.of(a) for a in self.agents]
        if isinstance(self.move_time_limit, int) and not isinstance(self.move_time_limit, bool):
            self.move_time_limit = float(self.move_time_limit)
        self.validate()

    def validate(self) -> None:
        """Check every setting against the schema; the first problem is a ConfigError."""
        if not self.name or not isinstance(self.name, str):
            raise ConfigError("a tournament needs a non-empty name")
        if not self.envs:
            raise ConfigError(f"tournament {self.name!r} has no envs")
        if not self.agents:
            raise ConfigError(f"tournament {self.name!r} has no agents")
        names = [a.name for a in self.agents]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"agent names must be unique; repeated: {', '.join(duplicates)}")
        for f in settings():
            _check(f, getattr(self, f.name))

    def rules(self) -> dict[str, Any]:
        """The settings that change what a match means; a stored tournament can only resume with the same."""
        return {f.name: getattr(self, f.name) for f in settings("rule")}

    def public_dict(self) -> dict[str, Any]:
        """The config as the results database stores it: secrets removed, run-time settings left out, specs in
        their canonical JSON."""
        return {
            "name": self.name,
            "envs": [e.json for e in self.envs],
            "agents": [{"name": a.name, "spec": public_spec(a.spec).json, **_prices(a)} for a in self.agents],
            **{f.name: getattr(self, f.name) for f in settings("stored")},
            **self.rules(),
        }

    def replace(self, **changes: Any) -> TournamentConfig:
        """A copy with some fields changed (command-line overrides); None values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def with_stored_names(self, stored: Iterable[tuple[str, AgentSpec]]) -> TournamentConfig:
        """Entries with a default name take the name a stored agent with an equal public spec has (so that a
        tournament stored under other default names resumes), unless another entry uses that name."""
        by_spec: dict[AgentSpec, str] = {}
        for name, spec in stored:
            by_spec.setdefault(spec, name)
        taken = {a.name for a in self.agents}
        agents = []
        for entry in self.agents:
            stored_name = by_spec.get(public_spec(entry.spec))
            if not entry.named and stored_name is not None and stored_name not in taken:
                taken.add(stored_name)
                entry = dataclasses.replace(entry, name=stored_name)
            agents.append(entry)
        return dataclasses.replace(self, agents=agents)


PRICE_KEYS = ("prompt_price", "completion_price")


def _prices(entry: AgentEntry) -> dict[str, float]:
    return {k: getattr(entry, k) for k in PRICE_KEYS if getattr(entry, k) is not None}


_SPECIAL = ("name", "envs", "agents")  # checked and documented on their own


@cache
def _hints() -> dict[str, Any]:
    return get_type_hints(TournamentConfig)


def settings(role: str | None = None) -> list[dataclasses.Field[Any]]:
    """The schema's plain settings (all but name, envs and agents), in order; only those of `role` if given."""
    return [
        f for f in dataclasses.fields(TournamentConfig) if f.name not in _SPECIAL and role in (None, f.metadata["role"])
    ]


def value_type(f: dataclasses.Field[Any]) -> tuple[type, bool]:
    """A setting's value type and whether it may be None (`float | None` -> (float, True))."""
    hint = _hints()[f.name]
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        return args[0], True
    return hint, False


_KIND = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _check(f: dataclasses.Field[Any], value: Any) -> None:
    kind, optional = value_type(f)
    if value is None and optional:
        return
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"{f.name} must be {f.metadata['kind'] or _KIND[kind]}")
    if f.metadata["choices"] and value not in f.metadata["choices"]:
        raise ConfigError(f"{f.name} must be one of {', '.join(f.metadata['choices'])}")
    if f.metadata["check"] is not None:
        test, demand = f.metadata["check"]
        if not test(value):
            raise ConfigError(f"{f.name} must be {demand}")


# ---------------------------------------------------------------------------------------------------------------
# TOML


def _env_entry(entry: Any, index: int) -> EnvSpec:
    if isinstance(entry, str):
        return EnvSpec.parse(entry)
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        unknown = set(entry) - {"id", "params"}
        if unknown:
            raise ConfigError(f"envs[{index}]: unknown key(s) {', '.join(sorted(unknown))}; use id and params")
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"envs[{index}]: params must be a table")
        return EnvSpec.parse(entry["id"]).with_params(**params)
    raise ConfigError(f'envs[{index}] must be an env id string or a table with id = "..."')


def _agent_entry(entry: Any, index: int) -> AgentEntry:
    if isinstance(entry, str):
        return AgentEntry.of(entry)
    if isinstance(entry, dict) and isinstance(entry.get("spec"), str):
        unknown = set(entry) - {"name", "spec", "params", "analysis", *PRICE_KEYS}
        if unknown:
            raise ConfigError(
                f"agents[{index}]: unknown key(s) {', '.join(sorted(unknown))}; use name, spec, params, analysis,"
                " prompt_price and completion_price"
            )
        for key in PRICE_KEYS:
            price = entry.get(key, 0.0)
            if isinstance(price, bool) or not isinstance(price, int | float) or not 0 <= price < math.inf:
                raise ConfigError(f"agents[{index}]: {key} must be a non-negative number (dollars per million tokens)")
        if not isinstance(entry.get("analysis", True), bool):
            raise ConfigError(f"agents[{index}]: analysis must be true or false")
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"agents[{index}]: params must be a table")
        name = entry.get("name") or None
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"agents[{index}]: name must be a string")
        agent = AgentEntry.of(AgentSpec.parse(entry["spec"]).with_params(**params), name)
        prompt, completion = (float(entry[k]) if k in entry else None for k in PRICE_KEYS)
        return dataclasses.replace(
            agent, analysis=entry.get("analysis", True), prompt_price=prompt, completion_price=completion
        )
    raise ConfigError(f'agents[{index}] must be a spec string or a table with spec = "..."')


NAME_LIMIT = 120


def adhoc_name(envs: list[EnvSpec], agents: list[AgentEntry]) -> str:
    """The name of a tournament given without one: its envs and agents (`kuhn_poker-v0: random vs cfr_plus`),
    shortened with a digest of the whole when long, so that different such tournaments never share a name (and
    their results never merge in one database)."""
    name = f"{' + '.join(e.text for e in envs)}: {' vs '.join(a.name for a in agents)}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[: NAME_LIMIT - 15]}... #{digest}"


def config_from_dict(data: Mapping[str, Any], default_name: str | None = None) -> TournamentConfig:
    """Build and check a config from a TOML-like dict; unknown keys and wrong types are ConfigErrors. Without a
    `name` the tournament is `default_name` if given, else named after its envs and agents (`adhoc_name`)."""
    known = [f.name for f in dataclasses.fields(TournamentConfig)]
    unknown = set(data) - set(known) - {"env"}
    if unknown:
        raise ConfigError(f"unknown config key(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    envs = data.get("envs", data.get("env", []))
    envs = [envs] if isinstance(envs, str | dict) else envs
    agents = data.get("agents", [])
    if not isinstance(envs, list) or not isinstance(agents, list):
        raise ConfigError("envs and agents must be lists")
    name = data.get("name", default_name)
    if name is not None and not isinstance(name, str):
        raise ConfigError("name must be a string")
    values = {f.name: data[f.name] for f in settings() if f.name in data}
    for f in settings():  # types before anything is built from them
        if f.name in values:
            _check(f, values[f.name])
    env_specs = [_env_entry(e, i) for i, e in enumerate(envs)]
    entries = [_agent_entry(a, i) for i, a in enumerate(agents)]
    if name is None:
        name = adhoc_name(list(dict.fromkeys(env_specs)), entries)
    return TournamentConfig(name=name, envs=env_specs, agents=entries, **values)


def load_config(path: str | Path) -> TournamentConfig:
    """Read a tournament TOML file; its name defaults to the file's stem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return config_from_dict(data, default_name=path.stem)


# ---------------------------------------------------------------------------------------------------------------
# Documentation


def shown_default(f: dataclasses.Field[Any]) -> str:
    """A setting's default as the README's table shows it."""
    if f.metadata["shown"] is not None:
        return str(f.metadata["shown"])
    value = f.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'`"{value}"`'
    return str(value)


def config_table() -> str:
    """The README's table of config keys (markdown), rendered from the schema."""
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(TournamentConfig):
        lines.append(f"| `{f.name}` | {shown_default(f)} | {f.metadata['doc']} |")
    return "\n".join(lines) + "\n"
