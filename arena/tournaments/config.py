"""A tournament's definition: read from TOML or built from command-line arguments, checked before anything runs.

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
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.core import ConfigError
from arena.registry import format_spec, parse_spec

DEFAULT_DB = "arena-results.sqlite"
BACKENDS = ("inprocess", "local", "ray")
SEATINGS = ("all", "fixed")
SCORINGS = ("match", "duplicate")
EXPLOITABILITY_MODES = ("auto", "exact", "off")
SECRET_WORDS = ("key", "token", "secret", "password")


def is_secret(parameter: str) -> bool:
    """Parameters that may hold credentials; they are used to build agents but never stored or shown."""
    lowered = parameter.lower()
    return any(word in lowered for word in SECRET_WORDS)


def public_spec(spec: str) -> str:
    """The spec with every secret-looking parameter removed, safe to store and print."""
    name, params = parse_spec(spec)
    return format_spec(name, {k: v for k, v in params.items() if not is_secret(k)})


def secret_values(spec: str) -> list[str]:
    """The secret parameter values of a spec, to scrub them from error messages."""
    _, params = parse_spec(spec)
    return [str(v) for k, v in params.items() if is_secret(k) and v not in (None, "")]


@dataclass(frozen=True)
class AgentEntry:
    """One participant: a unique display name and the spec it is built from."""

    name: str
    spec: str


@dataclass
class TournamentConfig:
    """Everything that defines a tournament (what is played) and how it runs (where and how fast)."""

    name: str
    envs: list[str]
    agents: list[AgentEntry]
    games: int = 10
    seats: str = "all"
    self_play: bool = False
    teams: bool = True
    scoring: str = "match"
    seed: int = 0
    move_time_limit: float | None = None
    illegal_moves: str = "forfeit"
    max_retries: int = 2
    max_steps: int | None = None
    exploitability: str = "auto"
    workers: int = 0
    backend: str = "local"
    ray_address: str | None = None
    db: str = DEFAULT_DB
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ConfigError("a tournament needs a non-empty name")
        if not self.envs:
            raise ConfigError(f"tournament {self.name!r} has no envs")
        if len(self.agents) < 1:
            raise ConfigError(f"tournament {self.name!r} has no agents")
        names = [a.name for a in self.agents]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"agent names must be unique; repeated: {', '.join(duplicates)}")
        if not isinstance(self.games, int) or self.games < 1:
            raise ConfigError("games must be a positive integer")
        if self.seats not in SEATINGS:
            raise ConfigError(f"seats must be one of {', '.join(SEATINGS)}")
        if self.scoring not in SCORINGS:
            raise ConfigError(f"scoring must be one of {', '.join(SCORINGS)}")
        if self.move_time_limit is not None and self.move_time_limit <= 0:
            raise ConfigError("move_time_limit must be positive")
        if self.illegal_moves not in ("forfeit", "random", "retry"):
            raise ConfigError("illegal_moves must be one of forfeit, random, retry")
        if self.exploitability not in EXPLOITABILITY_MODES:
            raise ConfigError(f"exploitability must be one of {', '.join(EXPLOITABILITY_MODES)}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}")
        if not isinstance(self.workers, int) or self.workers < 0:
            raise ConfigError("workers must be a non-negative integer (0 = all cores)")

    @property
    def num_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def rules(self) -> dict[str, Any]:
        """The settings that change what a match means; a stored tournament can only resume with the same."""
        return {
            "seed": self.seed,
            "move_time_limit": self.move_time_limit,
            "illegal_moves": self.illegal_moves,
            "max_retries": self.max_retries,
            "max_steps": self.max_steps,
            "teams": self.teams,
        }

    def public_dict(self) -> dict[str, Any]:
        """The config as stored in the results database: secrets removed, run-time settings left out."""
        return {
            "name": self.name,
            "envs": list(self.envs),
            "agents": [{"name": a.name, "spec": public_spec(a.spec)} for a in self.agents],
            "games": self.games,
            "seats": self.seats,
            "self_play": self.self_play,
            "scoring": self.scoring,
            **self.rules(),
        }

    def replace(self, **changes: Any) -> TournamentConfig:
        """A copy with some fields changed (command-line overrides); None values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


_KEYS = {f.name for f in dataclasses.fields(TournamentConfig)} - {"extra", "envs", "agents"}


def _env_entry(entry: Any, index: int) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        unknown = set(entry) - {"id", "params"}
        if unknown:
            raise ConfigError(f"envs[{index}]: unknown key(s) {', '.join(sorted(unknown))}; use id and params")
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"envs[{index}]: params must be a table")
        name, inline = parse_spec(entry["id"])
        return format_spec(name, {**inline, **params})
    raise ConfigError(f'envs[{index}] must be an env id string or a table with id = "..."')


def _agent_entry(entry: Any, index: int) -> AgentEntry:
    if isinstance(entry, str):
        return AgentEntry(public_spec(entry), entry)
    if isinstance(entry, dict) and isinstance(entry.get("spec"), str):
        unknown = set(entry) - {"name", "spec", "params"}
        if unknown:
            raise ConfigError(
                f"agents[{index}]: unknown key(s) {', '.join(sorted(unknown))}; use name, spec and params"
            )
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"agents[{index}]: params must be a table")
        name, inline = parse_spec(entry["spec"])
        spec = format_spec(name, {**inline, **params})
        display = entry.get("name") or public_spec(spec)
        if not isinstance(display, str):
            raise ConfigError(f"agents[{index}]: name must be a string")
        return AgentEntry(display, spec)
    raise ConfigError(f'agents[{index}] must be a spec string or a table with spec = "..."')


def config_from_dict(data: dict[str, Any], default_name: str = "tournament") -> TournamentConfig:
    """Build and check a config from a TOML-like dict; unknown keys and wrong types are ConfigErrors."""
    unknown = set(data) - _KEYS - {"envs", "agents", "env"}
    if unknown:
        raise ConfigError(
            f"unknown config key(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_KEYS | {'envs', 'agents'}))}"
        )
    envs = data.get("envs", data.get("env", []))
    envs = [envs] if isinstance(envs, (str, dict)) else envs
    agents = data.get("agents", [])
    if not isinstance(envs, list) or not isinstance(agents, list):
        raise ConfigError("envs and agents must be lists")
    settings = {k: data[k] for k in _KEYS if k in data}
    settings.setdefault("name", default_name)
    for key, kind in (
        ("games", int),
        ("workers", int),
        ("seed", int),
        ("max_retries", int),
        ("self_play", bool),
        ("teams", bool),
    ):
        if key in settings and (
            not isinstance(settings[key], kind) or (kind is int and isinstance(settings[key], bool))
        ):
            raise ConfigError(f"{key} must be {'an integer' if kind is int else 'true or false'}")
    if "move_time_limit" in settings:
        limit = settings["move_time_limit"]
        if not isinstance(limit, (int, float)) or isinstance(limit, bool):
            raise ConfigError("move_time_limit must be a number of seconds")
        settings["move_time_limit"] = float(limit)
    for key in ("name", "seats", "scoring", "illegal_moves", "exploitability", "backend", "ray_address", "db"):
        if key in settings and not isinstance(settings[key], str):
            raise ConfigError(f"{key} must be a string")
    return TournamentConfig(
        envs=[_env_entry(e, i) for i, e in enumerate(envs)],
        agents=[_agent_entry(a, i) for i, a in enumerate(agents)],
        **settings,
    )


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
