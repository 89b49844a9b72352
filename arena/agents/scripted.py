"""Scripted agents: a fixed action and a fixed mixed strategy, named by action names or indices.

The actions they name are checked against the env when they are reset, so that a misspelt action is an error
before the match starts, not a forfeit.
"""

from __future__ import annotations

import functools

import numpy as np
from pettingzoo import AECEnv

from arena.core import Agent, Observation
from arena.errors import ParameterError
from arena.registry import make_env
from arena.specs import EnvSpec


def action_index(obs: Observation, action: str | int) -> int | None:
    """Resolve an action given by index or by name (case-insensitive); None if the env has no such action."""
    return _index(obs.action_names, len(obs.action_mask), action)


def _index(names: list[str], count: int, action: str | int) -> int | None:
    if isinstance(action, int) or (isinstance(action, str) and action.strip().lstrip("-").isdigit()):
        index = int(action)
        return index if 0 <= index < count else None
    lowered = [n.lower() for n in names]
    return lowered.index(action.lower()) if action.lower() in lowered else None


@functools.lru_cache(maxsize=64)
def env_action_names(spec: EnvSpec, player: str) -> tuple[str, ...]:
    """The names of `player`'s actions in the env of `spec` (empty when the env does not name them)."""
    env = make_env(spec)
    try:
        if isinstance(env, AECEnv):
            env.reset(seed=0)
            info = env.infos.get(player, {})
        else:
            info = env.reset(seed=0)[1].get(player, {})
        return tuple(info.get("action_names", ()))
    finally:
        env.close()


def check_actions(owner: str, actions: list[str | int], env_spec: EnvSpec | None, player: str) -> None:
    """Refuse an action name or index that `player` does not have in the env (unchecked outside any env)."""
    if env_spec is None:
        return
    names = list(env_action_names(env_spec, player))
    if not names:
        return
    for action in actions:
        if _index(names, len(names), action) is None:
            raise ParameterError(f"{owner}: no action {action!r} in {env_spec.id}; actions are {', '.join(names)}")


class FixedAgent(Agent):
    """Always plays `action` (a name or an index); when it is illegal, the first legal action."""

    name = "fixed"

    def __init__(self, action: str | int = 0) -> None:
        self.action = action

    def reset(self, seed: int | None, player: str, env_spec: EnvSpec | None) -> None:
        super().reset(seed, player, env_spec)
        check_actions("fixed", [self.action], env_spec, player)

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
        if not probs or not all(isinstance(w, int | float) and not isinstance(w, bool) for w in probs.values()):
            raise ParameterError("mix: probs must map actions to numbers")
        if any(w < 0 for w in probs.values()) or sum(probs.values()) <= 0:
            raise ParameterError("mix: probs must map actions to non-negative weights with a positive sum")
        self.weights = probs

    def reset(self, seed: int | None, player: str, env_spec: EnvSpec | None) -> None:
        super().reset(seed, player, env_spec)
        check_actions("mix", list(self.weights), env_spec, player)

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
