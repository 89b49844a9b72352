"""The shared vocabulary of arena: observations, agents, match results (and, re-exported, the user errors)."""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.errors import ArenaError, ConfigError, ParameterError, UnknownNameError
from arena.specs import EnvSpec

if TYPE_CHECKING:
    import numpy as np

_LOW_128 = (1 << 128) - 1


def cache_dir(kind: str) -> Path:
    """Where arena keeps what it computes once per machine (`kind`: games, policies, ...): $ARENA_CACHE/kind, or
    ~/.cache/arena/kind."""
    root = os.environ.get("ARENA_CACHE")
    return Path(root) / kind if root else Path.home() / ".cache" / "arena" / kind


def seed_digest(seed: int, size: int, person: bytes = b"") -> bytes:
    """`size` bytes of BLAKE2b of a non-negative integer seed: cheap, well-mixed seeding material."""
    return hashlib.blake2b(
        seed.to_bytes(seed.bit_length() // 8 + 1, "little"), digest_size=size, person=person
    ).digest()


def make_rng(seed: int | None, reuse: np.random.Generator | None = None) -> np.random.Generator:
    """A PCG64 generator whose stream is a function of the integer `seed` (fresh entropy when None).

    The seed is hashed into the generator's 128-bit state and increment with BLAKE2b, a few microseconds where
    `np.random.default_rng(seed)` spends tens in SeedSequence; matches reseed millions of times. `reuse`, a
    generator made here before, is reseeded in place instead of building a new one (cheaper still).
    """
    import numpy as np  # loaded on first use: `import arena` and the parser of the `arena` command need no numpy

    if type(seed) is not int:  # the common case, a plain int, skips the general checks
        if seed is None or not isinstance(seed, int | np.integer) or seed < 0:
            return np.random.default_rng(seed)
        seed = int(seed)
    elif seed < 0:
        return np.random.default_rng(seed)
    word = int.from_bytes(seed_digest(seed, 32, b"arena.make_rng"), "little")
    if reuse is None or type(reuse.bit_generator) is not np.random.PCG64:
        reuse = np.random.Generator(np.random.PCG64(0))
    reuse.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": word & _LOW_128, "inc": (word >> 128) | 1},
        "has_uint32": 0,
        "uinteger": 0,
    }
    return reuse


_ATOL = 2.0**-26  # numpy's tolerance on a probability vector's sum: sqrt of float64's epsilon


def sample(rng: np.random.Generator, probs: Any) -> int:
    """An index drawn from `probs` exactly as `rng.choice(len(probs), p=probs)` draws it (the same checks, the same
    single uniform draw, the same index), in a few microseconds where numpy's general routine spends tens: agents
    that sample their `action_probs` do it at every move."""
    import numpy as np

    array = np.asarray(probs)
    if array.ndim != 1:
        raise ValueError("p must be 1-dimensional")
    if not len(array):
        raise ValueError("a must be a positive integer unless no samples are taken")
    atol = _ATOL
    if isinstance(probs, np.ndarray) and probs.dtype.kind == "f" and probs.dtype.itemsize < 8:
        atol = max(atol, float(np.sqrt(np.finfo(probs.dtype).eps)))  # numpy's allowance for a coarser float
    values = array.astype(np.float64, copy=False).tolist()
    try:
        total = math.fsum(values)
    except (OverflowError, ValueError):  # infinities: the plain sum is inf or NaN, as numpy's is
        total = sum(values)
    if math.isnan(total):
        raise ValueError("Probabilities contain NaN")
    if min(values) < 0:
        raise ValueError("Probabilities are not non-negative")
    if abs(total - 1.0) > atol:
        raise ValueError("Probabilities do not sum to 1")
    cumulative = list(itertools.accumulate(values))  # numpy's cumsum adds in this order too
    last = cumulative[-1]
    return bisect.bisect_right([c / last for c in cumulative], rng.random())


@dataclass
class Observation:
    """What one player sees when it has to act.

    `observation` is the env's tensor for this player; `info` is the env's `info[player]`, which carries
    `action_mask`, `legal_actions`, `action_names`, `text` and, for tabular games, `info_state`.
    `error` is set when the match loop re-asks after an illegal move (illegal_moves="retry").
    """

    player: str
    observation: Any
    info: dict[str, Any]
    step: int = 0
    error: str | None = None

    @property
    def legal_actions(self) -> list[int]:
        if "legal_actions" in self.info:
            return list(self.info["legal_actions"])
        import numpy as np

        return [int(a) for a in np.flatnonzero(self.info["action_mask"])]

    @property
    def action_mask(self) -> np.ndarray:
        import numpy as np

        return np.asarray(self.info["action_mask"], dtype=np.int8)

    @property
    def action_names(self) -> list[str]:
        return list(self.info.get("action_names", []))

    @property
    def text(self) -> str:
        return str(self.info.get("text", ""))

    @property
    def info_state(self) -> str | None:
        return self.info.get("info_state")


@dataclass
class Feedback:
    """What an online learner hears after each round of a (repeated) game.

    `action_payoffs` is the payoff each of this player's actions would have earned against the others'
    actual actions (full-information feedback); it is None when the env does not provide it.
    """

    player: str
    action: int | None
    reward: float
    round: int
    joint_action: dict[str, int] | None = None
    action_payoffs: np.ndarray | None = None
    done: bool = False


class Agent:
    """Base class of every player: solvers, learners, language models, people and scripts.

    Subclasses implement `act`; they may implement `action_probs` (exact mixed strategy, which enables exact
    exploitability and expected payoffs) and `observe` (online learning from feedback).
    """

    name: str = "agent"

    def reset(self, seed: int | None, player: str, env_spec: EnvSpec | None) -> None:
        """Start a new match as `player` of the env described by `env_spec` (None outside any env: a probe)."""
        self.player = player
        self.env_spec = env_spec
        self.rng = make_rng(seed, self.__dict__.get("rng"))

    def act(self, obs: Observation) -> int | np.ndarray:
        """Choose an action id for the observation (an action vector in a continuous-action env, as the particle
        worlds' `heuristic` returns there); the default samples from `action_probs`."""
        return sample(self.rng, self.action_probs(obs))

    def action_probs(self, obs: Observation) -> np.ndarray:
        """Probabilities over all of the env's action ids (zero on illegal ones)."""
        raise NotImplementedError(f"{type(self).__name__} has no exact mixed strategy")

    def observe(self, feedback: Feedback) -> None:
        """Learn from the outcome of a round; the default ignores it."""

    def match_stats(self) -> dict[str, Any]:
        """Counters of the last match worth storing with its result (tokens, latency, retries...)."""
        return {}

    def close(self) -> None:
        """Release resources (processes, connections) held by the agent."""

    @classmethod
    def has_action_probs(cls) -> bool:
        return cls.action_probs is not Agent.action_probs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


@dataclass
class MatchResult:
    """Everything recorded about one match."""

    env_id: str
    env_params: dict[str, Any]
    seed: int | None
    agents: list[str]
    players: list[str]
    payoffs: list[float]
    length: int
    outcomes: list[str | None]
    termination: str = "normal"
    culprit: int | None = None
    message: str = ""
    illegal_moves: list[int] = field(default_factory=list)
    timeouts: list[int] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    random_fallbacks: list[int] = field(default_factory=list)
    wall_time: float = 0.0
    agent_stats: list[dict[str, Any]] = field(default_factory=list)
    stuck_agent: bool = False
    transcripts: list[dict[str, Any]] = field(default_factory=list)  # agents' per-decision records, in order

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


__all__ = [
    "Agent",
    "ArenaError",
    "ConfigError",
    "EnvSpec",
    "Feedback",
    "MatchResult",
    "Observation",
    "ParameterError",
    "UnknownNameError",
    "make_rng",
    "seed_digest",
]
