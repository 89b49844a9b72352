"""Layers the MARL networks are built from: orthogonal initialisation and per-agent linear layers."""

from __future__ import annotations

import math
from typing import TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)


class AgentLinear(nn.Module):
    """A linear layer with separate weights per agent: x [..., M, in] with ids [M] -> [..., M, out]."""

    def __init__(self, num_agents: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_agents, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(num_agents, out_features))

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...mi,mio->...mo", x, self.weight[ids]) + self.bias[ids]


def layer_init(layer: M, gain: float = math.sqrt(2)) -> M:
    """Orthogonal weights and zero biases, as CleanRL and the MAPPO reference code initialise."""
    if isinstance(layer, nn.Linear):
        nn.init.orthogonal_(layer.weight, gain)
        nn.init.zeros_(layer.bias)
    elif isinstance(layer, AgentLinear):
        for weight in layer.weight.data:
            nn.init.orthogonal_(weight.T, gain)
        nn.init.zeros_(layer.bias)
    return layer
