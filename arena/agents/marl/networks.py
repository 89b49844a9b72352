"""The networks the learners train and the `Policy` they leave behind: per-agent MLPs, the network kinds a
checkpoint can name, and masked logits.

`AgentNet` applies one MLP to every agent's row, shared (with the agent's one-hot id appended) or with separate
weights per agent; `attention.AttentionNet` is the size-free alternative. `build_network(kind, **args)` rebuilds
either from the constructor arguments a checkpoint stores.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from arena.agents.marl.attention import AttentionNet
from arena.agents.marl.layers import AgentLinear, layer_init
from arena.errors import ConfigError


class AgentNet(nn.Module):
    """An MLP applied to every agent's row: one net shared by all agents (with the agent's one-hot id appended
    when `agent_id`) or one net per agent (`shared=False`). Input [..., M, in_dim], output [..., M, out_dim].
    `input_norm` layer-normalises the input features first (MAPPO's feature normalisation)."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        num_agents: int,
        hidden: tuple[int, ...] | list[int] = (64, 64),
        shared: bool = True,
        agent_id: bool = True,
        out_gain: float = 1.0,
        activation: str = "tanh",
        input_norm: bool = False,
    ) -> None:
        super().__init__()
        self.num_agents, self.shared = num_agents, shared
        self.agent_id = shared and agent_id and num_agents > 1
        self.input_norm = nn.LayerNorm(in_dim) if input_norm else None
        sizes = [in_dim + (num_agents if self.agent_id else 0), *hidden, out_dim]
        gains = [math.sqrt(2)] * len(hidden) + [out_gain]
        self.layers = nn.ModuleList(
            layer_init(nn.Linear(a, b) if shared else AgentLinear(num_agents, a, b), g)
            for a, b, g in zip(sizes[:-1], sizes[1:], gains)
        )
        self.activation = {"tanh": torch.tanh, "relu": torch.relu}[activation]

    def forward(self, x: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        if ids is None:
            ids = torch.arange(x.shape[-2], device=x.device)
        if self.input_norm is not None:
            x = self.input_norm(x)
        if self.agent_id:
            one_hot = nn.functional.one_hot(ids, self.num_agents).to(x.dtype)
            x = torch.cat([x, one_hot.expand(*x.shape[:-1], self.num_agents)], dim=-1)
        for index, layer in enumerate(self.layers):
            x = layer(x) if self.shared else layer(x, ids)
            if index < len(self.layers) - 1:
                x = self.activation(x)
        return x


NETWORKS: dict[str, type[nn.Module]] = {"mlp": AgentNet, "attention": AttentionNet}


def build_network(kind: str, **kwargs: Any) -> nn.Module:
    """An actor or critic network from its constructor arguments (stored in checkpoints)."""
    if kind not in NETWORKS:
        raise ConfigError(f"unknown network kind {kind!r}; use {' or '.join(NETWORKS)}")
    return NETWORKS[kind](**kwargs)


def masked_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Illegal actions get a logit of -1e9, so they get probability zero and never carry gradient."""
    return logits if mask is None else logits.masked_fill(~mask, -1e9)


class Policy(nn.Module):
    """What a trained learner leaves behind to act: actor network(s) plus the facts needed to use them.

    `actor(obs [..., M, obs_dim], ids [M]) -> action logits [..., M, num_actions]`. A MADDPG policy
    ensemble stores K sub-policies per agent as agents `k * N + i`; the sub-policy used for an episode is drawn
    at random (`ensemble` > 1).
    """

    def __init__(self, network: str, network_args: dict[str, Any], meta: dict[str, Any]) -> None:
        super().__init__()
        self.network, self.network_args, self.meta = network, dict(network_args), dict(meta)
        self.actor = build_network(network, **network_args)

    @property
    def ensemble(self) -> int:
        return int(self.meta.get("ensemble", 1))

    @property
    def stochastic(self) -> bool:
        return bool(self.meta.get("stochastic", True))

    def logits(
        self, obs: torch.Tensor, ids: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return masked_logits(self.actor(obs, ids), mask)

    def spec(self) -> dict[str, Any]:
        """How to rebuild this policy: `Policy(**spec)` with the same weights acts the same."""
        return {"network": self.network, "network_args": dict(self.network_args), "meta": dict(self.meta)}


def policy_meta(env: Any, algo: str, **extra: Any) -> dict[str, Any]:
    """What a checkpoint needs to know about the env a policy was trained on."""
    return {
        "algo": algo,
        "env_id": getattr(env, "env_id", ""),
        "agent_names": list(env.agent_names),
        "obs_dim": env.obs_dim,
        "num_actions": env.num_actions,
        "teams": [int(t) for t in env.teams],
        **extra,
    }
