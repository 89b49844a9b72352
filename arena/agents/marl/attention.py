"""An attention actor/critic over a variable number of observed entities, after "Scalable Reinforcement Learning
Policies for Multi-Agent Control" (Hsu et al., 2021).

An observation is the agent's own features followed by `max_observed` entity slots, each slot's first feature a
presence flag. The agent's own embedding queries the embeddings of the present entities (multi-head dot-product
attention, with a learned "nothing" slot so that an empty neighbourhood is well defined); the pooled result and
the own embedding feed a small head. Nothing depends on the number of agents or slots, so a policy trained in a
10 x 10 world runs unchanged with 1000 agents and any `max_observed`. Training is PPO's (`--algo ippo` or
`mappo` with `network = "attention"`), whose entropy bonus makes it entropy-regularised.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from arena.agents.marl.layers import layer_init
from arena.envs.particles import pursuit
from arena.errors import ConfigError


def entity_layout(env: Any) -> tuple[int, int]:
    """(own_dim, entity_dim) of an env whose observations are own features plus entity slots."""
    own_dim, entity_dim = getattr(env, "own_dim", None), getattr(env, "entity_dim", None)
    if own_dim is None or entity_dim is None:
        if "pursuit" not in str(getattr(env, "env_id", getattr(env, "scenario", "pursuit"))):
            raise ConfigError("the attention network needs an env with entity observations (pursuit-v0)")
        own_dim, entity_dim = pursuit.OWN_DIM, pursuit.ENTITY_DIM
    if (env.obs_dim - own_dim) % entity_dim:
        raise ConfigError(f"observation size {env.obs_dim} is not {own_dim} + k x {entity_dim}")
    return int(own_dim), int(entity_dim)


class AttentionNet(nn.Module):
    """own features -> query; each present entity -> key and value; attention-pooled context -> output.

    Input [..., obs_dim] with obs_dim = own_dim + k * entity_dim for any k; output [..., out_dim].
    """

    def __init__(
        self, own_dim: int, entity_dim: int, out_dim: int, embed: int = 64, heads: int = 4, out_gain: float = 0.01
    ) -> None:
        super().__init__()
        if embed % heads:
            raise ConfigError(f"attention_embed ({embed}) must be a multiple of attention_heads ({heads})")
        self.own_dim, self.entity_dim, self.embed, self.heads = own_dim, entity_dim, embed, heads
        self.own = nn.Sequential(
            layer_init(nn.Linear(own_dim, embed)), nn.ReLU(), layer_init(nn.Linear(embed, embed)), nn.ReLU()
        )
        self.entity = nn.Sequential(
            layer_init(nn.Linear(entity_dim, embed)), nn.ReLU(), layer_init(nn.Linear(embed, embed)), nn.ReLU()
        )
        self.query = layer_init(nn.Linear(embed, embed), 1.0)
        self.key = layer_init(nn.Linear(embed, embed), 1.0)
        self.value = layer_init(nn.Linear(embed, embed), 1.0)
        self.empty = nn.Parameter(torch.zeros(1, 1, embed))
        self.head = nn.Sequential(
            layer_init(nn.Linear(2 * embed, embed)), nn.ReLU(), layer_init(nn.Linear(embed, out_dim), out_gain)
        )

    def split(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[L, obs_dim] -> own [L, own_dim], entities [L, k, entity_dim], present [L, k]."""
        own = obs[:, : self.own_dim]
        entities = obs[:, self.own_dim :].reshape(obs.shape[0], -1, self.entity_dim)
        return own, entities, entities[..., 0] > 0.5

    def forward(self, obs: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        lead = obs.shape[:-1]
        own, entities, present = self.split(obs.reshape(-1, obs.shape[-1]))
        rows, heads, width = own.shape[0], self.heads, self.embed // self.heads
        own_embedding = self.own(own)
        slots = torch.cat([self.empty.expand(rows, 1, self.embed), self.entity(entities)], dim=1)
        visible = torch.cat([torch.ones(rows, 1, dtype=torch.bool, device=obs.device), present], dim=1)
        query = self.query(own_embedding).reshape(rows, heads, width)
        keys = self.key(slots).reshape(rows, -1, heads, width)
        values = self.value(slots).reshape(rows, -1, heads, width)
        scores = torch.einsum("lhd,lkhd->lhk", query, keys) / math.sqrt(width)
        weights = torch.softmax(scores.masked_fill(~visible.unsqueeze(1), float("-inf")), dim=-1)
        context = torch.einsum("lhk,lkhd->lhd", weights, values).reshape(rows, self.embed)
        out = self.head(torch.cat([own_embedding, context], dim=-1))
        return out.reshape(*lead, -1)
