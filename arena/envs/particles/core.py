"""Batched particle physics: B worlds of agents and landmarks stepped at once as torch tensors.

The physics is MPE's (OpenAI multi-agent particle envs, as kept by MPE2): each step an agent's action becomes a
force (`accel` x direction), overlapping colliders push each other with a soft contact force, then positions move by
the old velocity, velocities are damped, accelerated and clipped to `max_speed`. Scenarios subclass `VectorParticleEnv`
and say what is in a world, how it starts, what agents see and what they earn; this class owns seeding, the step
counter, episode returns and the automatic reset of finished worlds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from arena.core import ParameterError

NUM_MOVES = 5
ACTION_NAMES = ["no-op", "left", "right", "down", "up"]
# Discrete action -> unit force direction, as in MPE: no-op, left, right, down, up.
MOVE_DIRECTIONS = ((0.0, 0.0), (-1.0, 0.0), (1.0, 0.0), (0.0, -1.0), (0.0, 1.0))

DT = 0.1
DAMPING = 0.25
CONTACT_FORCE = 100.0
CONTACT_MARGIN = 1e-3
DEFAULT_ACCEL = 5.0
# A scripted agent stays put when no move brings it this much closer to what it wants.
NOOP_THRESHOLD = 0.05


def resolve_device(device: str | torch.device) -> torch.device:
    """A torch device, with a one-line error for names torch does not know or cannot use here."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ParameterError(f"unknown torch device {device!r}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device='cuda' asked for, but torch sees no CUDA device")
    return resolved


class VectorParticleEnv:
    """B independent worlds of one scenario, stepped together.

    Agents come first in the entity order, then landmarks. Subclasses set up the entity tables in `__init__` (through
    `_setup`) and implement `_reset_worlds`, `_observations`, `_rewards` and `_heuristic_forces`.

    Attributes for learners: `num_envs` (B), `num_agents` (N), `agent_names`, `obs_dim`, `num_actions` (5 moves),
    `continuous` and `action_dim` (5 intensities in [0, 1] when continuous), `state_dim`, `max_steps`, `teams`.
    """

    env_id = "particles"
    title = "a particle world"
    rules = ""

    def __init__(self, num_envs: int, device: str | torch.device, seed: int | None, max_steps: int,
                 continuous_actions: bool) -> None:
        if num_envs < 1:
            raise ParameterError(f"{self.env_id}: num_envs must be at least 1")
        if max_steps < 1:
            raise ParameterError(f"{self.env_id}: max_steps must be at least 1")
        self.num_envs = int(num_envs)
        self.device = resolve_device(device)
        self.max_steps = int(max_steps)
        self.continuous = bool(continuous_actions)
        self.num_actions = NUM_MOVES
        self.action_dim = NUM_MOVES
        self.generator = torch.Generator(device=self.device)
        self._seed(seed)
        self._directions = torch.tensor(MOVE_DIRECTIONS, device=self.device)

    # -- set-up ----------------------------------------------------------------------------------------------

    def _setup(self, agent_names: list[str], teams: list[int], sizes: list[float], accel: list[float],
               max_speed: list[float], collide: list[bool], colors: list[tuple[int, int, int]]) -> None:
        """Entity tables: `sizes`, `collide` and `colors` cover agents then landmarks; `accel`, `max_speed` agents."""
        self.agent_names = list(agent_names)
        self.num_agents = len(agent_names)
        self.teams = list(teams)
        self.num_entities = len(sizes)
        self.num_landmarks = self.num_entities - self.num_agents
        dev = self.device
        self.sizes = torch.tensor(sizes, dtype=torch.float32, device=dev)
        self.accel = torch.tensor(accel, dtype=torch.float32, device=dev)[:, None]
        self.max_speed = torch.tensor(max_speed, dtype=torch.float32, device=dev)[:, None]
        self.speed_limited = bool(np.isfinite(max_speed).any())
        self.colors = list(colors)
        collider_ids = [i for i, c in enumerate(collide) if c]
        self.colliders = torch.tensor(collider_ids, dtype=torch.long, device=dev)
        self.agent_collides = any(collide[: self.num_agents]) and len(collider_ids) > 1
        # For each agent, which colliders push it (itself excluded; non-colliding agents feel nothing).
        pushes = torch.tensor([[collide[a] and c != a for c in collider_ids] for a in range(self.num_agents)],
                              dtype=torch.float32, device=dev)
        self._push_mask = pushes[None, :, :, None]
        self._contact_range = (self.sizes[: self.num_agents, None] + self.sizes[None, self.colliders])[None]
        B = self.num_envs
        self.pos = torch.zeros(B, self.num_entities, 2, device=dev)
        self.vel = torch.zeros(B, self.num_agents, 2, device=dev)
        self.t = torch.zeros(B, dtype=torch.long, device=dev)
        self.returns = torch.zeros(B, self.num_agents, device=dev)

    def _finish_setup(self) -> None:
        """Derive the observation and state sizes from a first reset."""
        obs = self.reset(seed=self._seed_value)
        self.obs_dim = int(obs.shape[-1])
        self.state_dim = int(self.state().shape[-1])

    def _seed(self, seed: int | None) -> None:
        self._seed_value = int(np.random.SeedSequence(seed).generate_state(1)[0])
        self.generator.manual_seed(self._seed_value)

    def uniform(self, *shape: int, low: float = -1.0, high: float = 1.0) -> torch.Tensor:
        """Uniform samples from the env's own generator."""
        return torch.rand(*shape, generator=self.generator, device=self.device) * (high - low) + low

    # -- the batched API -------------------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> torch.Tensor:
        """Restart every world; `seed` makes the whole run (resets included) reproducible. Returns obs [B, N, D]."""
        if seed is not None:
            self._seed(seed)
        everything = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        self._reset_worlds(everything)
        self.vel.zero_()
        self.t.zero_()
        self.returns.zero_()
        self.obs = self._observations()
        return self.obs

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor,
                                                   dict[str, Any]]:
        """Advance every world one step; finished worlds restart at once.

        Returns obs [B, N, D], rewards [B, N], terminated [B], truncated [B] and info with `done_mask` [B],
        `final_obs` [B, N, D] (the last observation before any restart) and `episode_return` [B, N] (returns
        including this step); in rows where `done_mask` is set they describe the episode that just ended.
        """
        force = self._action_forces(actions)
        self._before_physics()
        self._physics(force)
        self.t += 1
        rewards = self._rewards()
        self.returns += rewards
        obs = self._observations()
        terminated = self._terminated()
        truncated = self.t >= self.max_steps
        done = terminated | truncated
        info: dict[str, Any] = {"done_mask": done, "final_obs": obs, "episode_return": self.returns.clone()}
        if bool(done.any()):
            self._reset_worlds(done)
            keep = (~done).to(self.vel.dtype)
            self.vel *= keep[:, None, None]
            self.t *= (~done).long()
            self.returns *= keep[:, None]
            obs = self._observations()
        self.obs = obs
        return obs, rewards, terminated, truncated, info

    def state(self) -> torch.Tensor:
        """Global state for centralised critics: every agent's observation, concatenated ([B, N * D])."""
        return self.obs.reshape(self.num_envs, -1)

    def heuristic_actions(self) -> torch.Tensor:
        """The scenario's scripted baseline for every agent of every world: long [B, N] or float [B, N, 5]."""
        B, N = self.num_envs, self.num_agents
        agent_index = torch.arange(N, device=self.device).repeat(B)
        return self.heuristic_policy(self.obs.reshape(B * N, -1), agent_index).reshape(B, N, *(
            (self.action_dim,) if self.continuous else ()))

    def heuristic_policy(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Scripted actions from observations alone: obs [M, D] of the agents `agent_index` [M] -> actions [M(, 5)].

        The same function drives `heuristic_actions` and the single-world `heuristic` arena agent.
        """
        return self.forces_to_actions(self._heuristic_forces(obs, agent_index))

    def forces_to_actions(self, wanted: torch.Tensor) -> torch.Tensor:
        """Turn wanted force directions [M, 2] into actions: the best-aligned move, or no-op when tiny."""
        if self.continuous:
            x, y = wanted[:, 0].clamp(-1, 1), wanted[:, 1].clamp(-1, 1)
            zero = torch.zeros_like(x)
            return torch.stack([zero, (-x).clamp(min=0), x.clamp(min=0), (-y).clamp(min=0), y.clamp(min=0)], dim=-1)
        scores = wanted @ self._directions.T
        scores[:, 0] = NOOP_THRESHOLD
        return scores.argmax(dim=-1)

    # -- physics ---------------------------------------------------------------------------------------------

    def _action_forces(self, actions: torch.Tensor) -> torch.Tensor:
        actions = torch.as_tensor(actions, device=self.device)
        B, N = self.num_envs, self.num_agents
        if self.continuous:
            if actions.shape != (B, N, self.action_dim):
                raise ParameterError(f"{self.env_id}: continuous actions must have shape {(B, N, self.action_dim)}, "
                                     f"got {tuple(actions.shape)}")
            a = actions.to(torch.float32).clamp(0.0, 1.0)
            u = torch.stack([a[..., 2] - a[..., 1], a[..., 4] - a[..., 3]], dim=-1)
        else:
            if actions.shape != (B, N):
                raise ParameterError(f"{self.env_id}: discrete actions must have shape {(B, N)}, "
                                     f"got {tuple(actions.shape)}")
            u = self._directions[actions.long()]
        return u * self.accel

    def _physics(self, force: torch.Tensor) -> None:
        """MPE's integration: contact forces, then pos += vel dt, vel = vel (1 - damping) + force dt, speed clip."""
        A = self.num_agents
        if self.agent_collides:
            delta = self.pos[:, :A, None, :] - self.pos[:, None, self.colliders, :]
            dist = delta.norm(dim=-1).clamp(min=1e-12)
            penetration = torch.nn.functional.softplus(-(dist - self._contact_range) / CONTACT_MARGIN) * CONTACT_MARGIN
            push = (CONTACT_FORCE * penetration / dist)[..., None] * delta * self._push_mask
            force = force + push.sum(dim=2)
        self.pos[:, :A] += self.vel * DT
        self.vel.mul_(1.0 - DAMPING).add_(force * DT)
        if self.speed_limited:
            speed = self.vel.norm(dim=-1, keepdim=True)
            self.vel *= torch.where(speed > self.max_speed, self.max_speed / speed.clamp(min=1e-12), 1.0)

    def _before_physics(self) -> None:
        """Hook for scripted entities that move before the agents' physics (pursuit's targets)."""

    def _terminated(self) -> torch.Tensor:
        return torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)

    # -- scenario interface ----------------------------------------------------------------------------------

    def _reset_worlds(self, mask: torch.Tensor) -> None:
        """Draw new starting positions (and scenario state) for the worlds where `mask` [B] is set."""
        raise NotImplementedError

    def _observations(self) -> torch.Tensor:
        raise NotImplementedError

    def _rewards(self) -> torch.Tensor:
        raise NotImplementedError

    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # -- helpers for scenarios and views ---------------------------------------------------------------------

    def _blend(self, mask: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
        """`new` in the worlds where `mask` [B] is set, `old` elsewhere."""
        return torch.where(mask.view(-1, *([1] * (old.dim() - 1))), new, old)

    def reward_range(self) -> tuple[float, float]:
        """Typical per-step reward bounds of one agent (used for forfeits and documentation)."""
        return (-1.0, 1.0)

    def view_extent(self, world: int = 0) -> float:
        """Half-width of the square of the world drawn by the renderer."""
        extent = float(self.pos[world].abs().max()) if self.num_entities else 1.0
        return max(1.2, math.ceil(extent * 1.1 * 4) / 4)

    def describe(self, world: int, agent: int) -> str:
        """What agent `agent` of world `world` sees, for a person or a language model."""
        pos = self.pos[world, agent].tolist()
        vel = self.vel[world, agent].tolist()
        others = []
        for j in range(self.num_entities):
            if j == agent:
                continue
            rel = (self.pos[world, j] - self.pos[world, agent]).tolist()
            others.append(f"{self.entity_name(j)} at ({rel[0]:+.2f}, {rel[1]:+.2f})")
        return (f"You are {self.agent_names[agent]} in {self.title}. {self.rules}\n"
                f"Step {int(self.t[world])} of {self.max_steps}. Your position ({pos[0]:+.2f}, {pos[1]:+.2f}), "
                f"velocity ({vel[0]:+.2f}, {vel[1]:+.2f}). Relative to you: {'; '.join(others)}.")

    def entity_name(self, index: int) -> str:
        if index < self.num_agents:
            return self.agent_names[index]
        return f"landmark_{index - self.num_agents}"


def greedy_assignment(distances: torch.Tensor) -> torch.Tensor:
    """Greedy matching of rows to columns by increasing distance: distances [M, R, C] -> column of each row [M, R].

    Rows beyond the number of columns get -1. Used by the scripted agents to split landmarks among agents: it only
    depends on the set of distances, so every agent computing it from its own observation finds the same matching.
    """
    M, R, C = distances.shape
    d = distances.clone()
    chosen = torch.full((M, R), -1, dtype=torch.long, device=d.device)
    rows = torch.arange(M, device=d.device)
    for _ in range(min(R, C)):
        flat = d.reshape(M, -1).argmin(dim=-1)
        r, c = flat // C, flat % C
        chosen[rows, r] = c
        d[rows, r, :] = math.inf
        d[rows, :, c] = math.inf
    return chosen

