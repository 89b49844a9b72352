"""Evaluating policies on batched envs: actions of a policy, and per-agent returns over whole episodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from arena.agents.marl.batching import action_mask_of
from arena.agents.marl.networks import Policy

Act = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
"""`act(obs [B, N, obs_dim], mask [B, N, A] or None) -> actions [B, N]`."""


def select_actions(
    policy: Policy,
    obs: torch.Tensor,
    mask: torch.Tensor | None,
    deterministic: bool,
    generator: torch.Generator | None = None,
    ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """Actions [B, N] of a policy for a batch of observations: sampled, or the most likely when `deterministic`
    (deterministic policies such as MADDPG's always take their argmax)."""
    with torch.no_grad():
        out = policy.logits(obs, ids, mask)
        if deterministic or not policy.stochastic:
            return out.argmax(-1)
        probs = torch.softmax(out, -1)
        flat = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=generator)
        return flat.reshape(probs.shape[:-1])


def evaluate(act: Act, env: Any, episodes: int, seed: int | None = None) -> np.ndarray:
    """Per-agent returns [episodes, N] of `act(obs, mask) -> actions` over whole episodes of a batched env."""
    obs = env.reset(seed=seed)
    returns: list[np.ndarray] = []
    while len(returns) < episodes:
        actions = act(obs, action_mask_of(env))
        obs, _, _, _, info = env.step(actions)
        done = info["done_mask"].cpu().numpy()
        returns.extend(info["episode_return"].cpu().numpy()[done])
    return np.asarray(returns[:episodes], dtype=np.float64)


def policy_evaluator(policy: Policy, deterministic: bool) -> Act:
    """`act(obs, mask)` for `evaluate`; an ensemble policy uses sub-policy 0 (all are trained alike). The policy
    may live on another device than the env: actions come back on the observations' device."""
    device = next(policy.parameters()).device
    generator = torch.Generator(device=device).manual_seed(0)

    def act(obs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        mask = None if mask is None else mask.to(device)
        return select_actions(policy, obs.to(device), mask, deterministic, generator).to(obs.device)

    return act
