"""The MARL learners `arena train --algo NAME` knows, in the project's registry.

Entries name their trainer class as `module:Class`, so listing the learners (the CLI does, to build `--algo`)
imports no torch; `algorithms.get(name).load()` imports the one asked for. A learner is a class with the
`Trainer` interface below; plugins add their own through the `arena.algorithms` entry-point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from arena.agents.marl.configs import Hyperparameters, markdown_table
from arena.registry import Entry, Registry

if TYPE_CHECKING:
    from arena.agents.marl.networks import Policy  # torch: for annotations only, the CLI imports this module

ALGORITHM_GROUP = "arena.algorithms"


class Trainer(Protocol):
    """What `arena train` drives: `iterate()` until enough env steps were taken, then the policy is checkpointed."""

    name: ClassVar[str]
    Config: ClassVar[type[Hyperparameters]]  # the hyperparameter schema
    stat_keys: ClassVar[tuple[str, ...]]  # the statistics `iterate` reports, as metrics.csv columns

    policy: Policy
    env_steps: int

    def __init__(self, env: Any, config: Any, seed: int = 0, device: str = "cpu") -> None: ...

    def iterate(self, progress: float = 0.0) -> dict[str, Any]:
        """One round of collection and learning: statistics, and the finished episodes under `episodes`."""
        ...

    def hyperparameters(self) -> dict[str, Any]: ...


algorithms: Registry[Entry] = Registry("algorithm", group=ALGORITHM_GROUP)

BUILTINS = (
    Entry(
        "mappo",
        "arena.agents.marl.mappo:MAPPO",
        description="PPO with a centralised critic on the global state (Yu et al. 2022)",
        tags=("marl", "on-policy"),
    ),
    Entry(
        "ippo",
        "arena.agents.marl.ippo:IPPO",
        description="PPO with a decentralised critic on each agent's own observation (de Witt et al. 2020)",
        tags=("marl", "on-policy"),
    ),
    Entry(
        "maddpg",
        "arena.agents.marl.maddpg:MADDPG",
        description="Deterministic actors and centralised critics, Gumbel-softmax actions (Lowe et al. 2017)",
        tags=("marl", "off-policy"),
    ),
)
for _entry in BUILTINS:
    algorithms.register(_entry)


def trainer_class(name: str) -> type[Trainer]:
    """The trainer class registered as `name`; an unknown name raises UnknownNameError with suggestions."""
    target: type[Trainer] = algorithms.get(name).load()
    return target


def hyperparameter_table() -> str:
    """The README's table of the built-in learners' hyperparameters (`configs.markdown_table` of their schemas)."""
    return markdown_table({entry.name: trainer_class(entry.name).Config for entry in BUILTINS})
