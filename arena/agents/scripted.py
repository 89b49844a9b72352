"""Scripted agents: a fixed action and a fixed mixed strategy, named by action names or indices."""

from __future__ import annotations

import numpy as np

from arena.core import Agent, Observation, ParameterError


def action_index(obs: Observation, action: str | int) -> int | None:
    """Resolve an action given by index or by name (case-insensitive); None if the env has no such action."""
    if isinstance(action, int) or (isinstance(action, str) and action.strip().lstrip("-").isdigit()):
        index = int(action)
        return index if 0 <= index < len(obs.action_mask) else None
    lowered = [n.lower() for n in obs.action_names]
    return lowered.index(action.lower()) if action.lower() in lowered else None


class FixedAgent(Agent):
    """Always plays `action` (a name or an index); when it is illegal, the first legal action."""

    name = "fixed"

    def __init__(self, action: str | int = 0) -> None:
        self.action = action

    def action_probs(self, obs: Observation) -> np.ndarray:
        probs = np.zeros(len(obs.action_mask))
        index = action_index(obs, self.action)
        probs[index if index is not None and obs.action_mask[index] else obs.legal_actions[0]] = 1.0
        return probs

    def act(self, obs: Observation) -> int:
        return int(np.argmax(self.action_probs(obs)))


class MixAgent(Agent):
    """A fixed mixed strategy `probs={name_or_index: weight}`, renormalised over the legal actions."""

    name = "mix"

    def __init__(self, probs: dict) -> None:
        if not probs or any(float(w) < 0 for w in probs.values()):
            raise ParameterError("mix: probs must map actions to non-negative weights")
        self.weights = probs

    def action_probs(self, obs: Observation) -> np.ndarray:
        probs = np.zeros(len(obs.action_mask))
        for action, weight in self.weights.items():
            index = action_index(obs, action)
            if index is None:
                raise ParameterError(f"mix: no action {action!r}; actions are {', '.join(obs.action_names)}")
            probs[index] += float(weight)
        probs *= obs.action_mask
        if probs.sum() <= 0:
            return obs.action_mask / obs.action_mask.sum()
        return probs / probs.sum()
