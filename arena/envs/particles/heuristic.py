"""The scripted baseline of each particle world as an arena agent (`heuristic`).

It reads only its own observation and runs the scenario's batched `heuristic_policy` on it, so a match of
`heuristic` agents in `arena.play` moves exactly like `VectorParticleEnv.heuristic_actions()`.
"""

from __future__ import annotations

import numpy as np
import torch

from arena.core import Agent, Observation
from arena.errors import ParameterError
from arena.registry import make_vector_env, vector_envs
from arena.specs import EnvSpec


class HeuristicAgent(Agent):
    """The particle scenario's scripted policy: greedy landmark cover (spread), split-and-cover or goal guessing
    (adversary), chase or flee (tag), hover over unclaimed targets and spread out (pursuit)."""

    name = "heuristic"

    def reset(self, seed: int | None, player: str, env_spec: EnvSpec | None) -> None:
        super().reset(seed, player, env_spec)
        worlds = vector_envs()
        if env_spec is None or env_spec.id not in worlds:
            playing = env_spec.id if env_spec is not None else "no env"
            raise ParameterError(f"heuristic plays the particle worlds ({', '.join(worlds)}), not {playing}")
        self.world = make_vector_env(env_spec, 1)
        self.index = torch.tensor([self.world.agent_names.index(player)])

    def act(self, obs: Observation) -> int | np.ndarray:
        tensor = torch.as_tensor(np.asarray(obs.observation, dtype=np.float32))[None]
        action = self.world.heuristic_policy(tensor, self.index)[0]
        return action.numpy() if self.world.continuous else int(action)

    def action_probs(self, obs: Observation) -> np.ndarray:
        probs = np.zeros(self.world.num_actions)
        probs[int(self.act(obs))] = 1.0
        return probs
