"""Batched envs: the one interface every learner sees.

The particle worlds' own interface: `reset(seed) -> obs [B, N, obs_dim]`, `step(actions) -> (obs, rewards [B, N],
terminated [B], truncated [B], info)` with automatic reset of finished worlds (`info["done_mask"]`,
`info["episode_return"]`, `info["final_obs"]`) and `state() -> [B, state_dim]`. Any other arena env (matrix games,
OpenSpiel games through the PettingZoo AEC API) is brought to that interface by `PettingZooBatch`, which adds
`action_mask() -> bool [B, N, A]` and `acting() -> bool [B, N]` (in a turn-based game only the player to move
acts). Learners ask `action_mask_of` / `acting_of`, so both kinds of env look alike.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from pettingzoo import AECEnv

from arena.errors import ParameterError
from arena.registry import make_env, make_vector_env, vector_envs
from arena.specs import EnvSpec


def is_vector_env(env: EnvSpec) -> bool:
    """True when `env` has a batched version of its own (the particle worlds: `spread-v0`, `pursuit-v0`, ...)."""
    return env.id in vector_envs()


def make_batched_env(
    env: EnvSpec | str, num_envs: int, device: str = "cpu", seed: int | None = None, **params: Any
) -> Any:
    """A batched env for `env` (an EnvSpec or its text, `spread-v0(N=3)`; keyword parameters are merged over its
    own): the env's own batched version when it has one, otherwise `num_envs` copies behind `PettingZooBatch`."""
    spec = EnvSpec.of(env, **params)
    if num_envs < 1:
        raise ParameterError("the number of parallel envs must be at least 1")
    if is_vector_env(spec):
        return make_vector_env(spec, num_envs, device=device, seed=seed)
    return PettingZooBatch(spec, num_envs, seed=seed)


def action_mask_of(env: Any) -> torch.Tensor | None:
    """bool [B, N, A] of legal actions, or None when every action is always legal."""
    return env.action_mask() if hasattr(env, "action_mask") else None


def acting_of(env: Any) -> torch.Tensor:
    """bool [B, N]: which agents choose an action at this step (all of them in simultaneous games)."""
    if hasattr(env, "acting"):
        return env.acting()
    return torch.ones(env.num_envs, env.num_agents, dtype=torch.bool, device=getattr(env, "device", "cpu"))


def _flat_observation(obs: Any) -> np.ndarray:
    if isinstance(obs, dict):
        obs = obs["observation"]
    return np.asarray(obs, dtype=np.float32).ravel()


def step_output(
    obs: np.ndarray,
    rewards: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    final_obs: np.ndarray,
    episode_return: np.ndarray,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
    """What a batch's `step` returns: the next observations (a copy: the batch keeps writing its own), rewards,
    terminated and truncated flags, and in `info` the ended episodes' last observations, returns and done mask."""
    info = {
        "final_obs": torch.from_numpy(final_obs),
        "episode_return": torch.from_numpy(episode_return),
        "done_mask": torch.from_numpy(terminated | truncated),
    }
    return (
        torch.from_numpy(obs.copy()),
        torch.from_numpy(rewards),
        torch.from_numpy(terminated),
        torch.from_numpy(truncated),
        info,
    )


class PettingZooBatch:
    """`num_envs` copies of an arena PettingZoo env (AEC or Parallel) behind the batched particle-world interface.

    Observations are flattened and zero-padded to the largest agent's size; the global state is the env's
    `state()` when it has one, else every agent's observation side by side. Finished games reset at once.
    """

    continuous = False

    def __init__(self, env: EnvSpec | str, num_envs: int, seed: int | None = None, **params: Any) -> None:
        spec = EnvSpec.of(env, **params)
        self.envs = [make_env(spec) for _ in range(num_envs)]
        first = self.envs[0]
        self.spec, self.env_id = spec, spec.id
        self.turn_based = isinstance(first, AECEnv)
        self.device = torch.device("cpu")
        self.num_envs = num_envs
        self.agent_names = list(first.possible_agents)
        self.num_agents = len(self.agent_names)
        self.teams = list(range(self.num_agents))
        spaces = [first.action_space(a) for a in self.agent_names]
        if not all(hasattr(s, "n") for s in spaces):
            raise ParameterError(f"env {spec.id}: only discrete action spaces can be batched for training")
        self.num_actions = max(int(s.n) for s in spaces)
        self.obs_dim = max(int(np.prod(first.observation_space(a).shape)) for a in self.agent_names)
        self.max_steps = None
        self._seeds = np.random.default_rng(seed)
        self._returns = np.zeros((num_envs, self.num_agents))
        self.reset(seed)
        self.state_dim = self.state().shape[1]

    # -- per-copy helpers
    def _observe(self, env: Any, observations: dict | None = None) -> np.ndarray:
        rows = np.zeros((self.num_agents, self.obs_dim), dtype=np.float32)
        for i, agent in enumerate(self.agent_names):
            if self.turn_based:
                flat = _flat_observation(env.observe(agent))
            elif observations is not None and agent in observations:
                flat = _flat_observation(observations[agent])
            else:
                continue
            rows[i, : flat.size] = flat
        return rows

    def _info(self, env: Any, infos: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        infos = env.infos if self.turn_based else (infos or {})
        mask = np.zeros((self.num_agents, self.num_actions), dtype=bool)
        acting = np.zeros(self.num_agents, dtype=bool)
        for i, agent in enumerate(self.agent_names):
            if self.turn_based and (agent != env.agent_selection or agent not in env.agents):
                continue
            if not self.turn_based and agent not in getattr(env, "agents", []):
                continue
            info = infos.get(agent, {})
            legal = info.get("action_mask")
            row = np.ones(self.num_actions, dtype=bool) if legal is None else np.asarray(legal, dtype=bool)
            mask[i, : row.size] = row
            acting[i] = row.any()
        return mask, acting

    def _reset_one(self, b: int, seed: int | None) -> None:
        env = self.envs[b]
        if self.turn_based:
            env.reset(seed=seed)
            self._obs[b] = self._observe(env)
            self._mask[b], self._acting[b] = self._info(env)
        else:
            observations, infos = env.reset(seed=seed)
            self._obs[b] = self._observe(env, observations)
            self._mask[b], self._acting[b] = self._info(env, infos)
        self._returns[b] = 0.0

    def _next_seed(self) -> int:
        return int(self._seeds.integers(2**31 - 1))

    # -- batched interface
    def reset(self, seed: int | None = None) -> torch.Tensor:
        if seed is not None:
            self._seeds = np.random.default_rng(seed)
        self._obs = np.zeros((self.num_envs, self.num_agents, self.obs_dim), dtype=np.float32)
        self._mask = np.zeros((self.num_envs, self.num_agents, self.num_actions), dtype=bool)
        self._acting = np.zeros((self.num_envs, self.num_agents), dtype=bool)
        for b in range(self.num_envs):
            self._reset_one(b, self._next_seed())
        return torch.from_numpy(self._obs.copy())

    def action_mask(self) -> torch.Tensor:
        return torch.from_numpy(self._mask.copy())

    def acting(self) -> torch.Tensor:
        return torch.from_numpy(self._acting.copy())

    def state(self) -> torch.Tensor:
        rows = []
        for b, env in enumerate(self.envs):
            state, row = getattr(env, "state", None), None
            if callable(state):
                with contextlib.suppress(NotImplementedError, TypeError):  # state() not implemented
                    row = np.asarray(state(), dtype=np.float32).ravel()
            rows.append(self._obs[b].ravel() if row is None else row)
        return torch.from_numpy(np.stack(rows))

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        chosen = actions.cpu().numpy()
        rewards = np.zeros((self.num_envs, self.num_agents), dtype=np.float32)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        final_obs = self._obs.copy()
        episode_return = np.zeros((self.num_envs, self.num_agents), dtype=np.float32)
        for b, env in enumerate(self.envs):
            if self.turn_based:
                seat = self.agent_names.index(env.agent_selection)
                env.step(int(chosen[b, seat]))
                rewards[b] = [env.rewards.get(a, 0.0) for a in self.agent_names]
                over = all(env.terminations.get(a, True) or env.truncations.get(a, True) for a in env.agents)
                terminated[b] = over and any(env.terminations.values())
                truncated[b] = over and not terminated[b]
                self._obs[b] = self._observe(env)
                self._mask[b], self._acting[b] = self._info(env)
            else:
                joint = {a: int(chosen[b, i]) for i, a in enumerate(self.agent_names) if a in env.agents}
                observations, step_rewards, terms, truncs, infos = env.step(joint)
                rewards[b] = [step_rewards.get(a, 0.0) for a in self.agent_names]
                over = not env.agents or all(terms.get(a, False) or truncs.get(a, False) for a in joint)
                terminated[b] = over and any(terms.values())
                truncated[b] = over and not terminated[b]
                self._obs[b] = self._observe(env, observations)
                self._mask[b], self._acting[b] = self._info(env, infos)
            self._returns[b] += rewards[b]
            if terminated[b] or truncated[b]:
                final_obs[b] = self._obs[b]
                episode_return[b] = self._returns[b]
                self._reset_one(b, self._next_seed())
        return step_output(self._obs, rewards, terminated, truncated, final_obs, episode_return)

    def close(self) -> None:
        for env in self.envs:
            env.close()
