"""The uniform random agent: the baseline every tournament needs, with an exact mixed strategy."""

from __future__ import annotations

import numpy as np

from arena.core import Agent, Observation


class RandomAgent(Agent):
    """Plays uniformly at random over the legal actions; with continuous actions, uniformly in their box."""

    name = "random"

    def action_probs(self, obs: Observation) -> np.ndarray:
        legal = obs.info.get("legal_actions")
        if not legal:  # the mask alone
            mask = obs.action_mask.astype(np.float64)
            return mask / mask.sum()
        probs = np.zeros(len(obs.info["action_mask"]))
        probs[legal] = 1.0 / len(legal)
        return probs

    def act(self, obs: Observation) -> int | np.ndarray:
        info = obs.info
        if "action_low" in info:  # continuous actions: the env gives the box instead of a mask
            return self.rng.uniform(info["action_low"], info["action_high"]).astype(np.float32)
        legal = info.get("legal_actions") or obs.legal_actions  # read, not kept: no copy
        return legal[int(self.rng.random() * len(legal))]
