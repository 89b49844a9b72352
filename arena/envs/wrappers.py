"""Wrappers that change how an env presents itself to other tools, never the game it plays."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from pettingzoo import AECEnv
from pettingzoo.utils.wrappers import BaseWrapper


class MaskInObservation(BaseWrapper):
    """A turn-based env whose observation is `{"observation": tensor, "action_mask": mask}`, as in PettingZoo's
    classic envs.

    arena's envs give the legal moves in `info[agent]["action_mask"]` and keep the observation a plain tensor;
    tools that look for the mask in the observation (PettingZoo's `render_test` and `performance_benchmark`, many
    RL libraries) need it there. Rewards, infos and the game are those of the wrapped env.
    """

    def __init__(self, env: AECEnv) -> None:
        super().__init__(env)
        self._spaces: dict[str, gymnasium.spaces.Dict] = {}

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        if agent not in self._spaces:
            actions = self.env.action_space(agent)
            assert isinstance(actions, gymnasium.spaces.Discrete), "a mask needs discrete actions"
            mask = gymnasium.spaces.Box(0, 1, shape=(int(actions.n),), dtype=np.int8)
            self._spaces[agent] = gymnasium.spaces.Dict(
                {"observation": self.env.observation_space(agent), "action_mask": mask}
            )
        return self._spaces[agent]

    def observe(self, agent: str) -> dict[str, Any]:
        mask = np.asarray(self.env.infos[agent]["action_mask"], dtype=np.int8).copy()
        return {"observation": self.env.observe(agent), "action_mask": mask}
