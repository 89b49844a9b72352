"""IPPO: independent PPO (de Witt et al., "Is Independent Learning All You Need in the StarCraft Multi-Agent
Challenge?", 2020).

MAPPO with a decentralised critic: each agent's value is estimated from its own observation only, so nothing
beyond what the agent sees is needed during training either. Everything else (clipped objective, GAE, value
normalisation, masks, shared or per-agent networks) is MAPPO's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arena.agents.marl.configs import redefault
from arena.agents.marl.mappo import MAPPO, MAPPOConfig


@dataclass
class IPPOConfig(MAPPOConfig):
    """MAPPO's hyperparameters with the critic on each agent's own observation."""

    algorithm: ClassVar[str] = "ippo"

    centralised_critic: bool = redefault(MAPPOConfig, "centralised_critic", False)


class IPPO(MAPPO):
    """Trainer: MAPPO's loop with per-agent observation critics."""

    name: ClassVar[str] = "ippo"
    Config: ClassVar[type[MAPPOConfig]] = IPPOConfig
