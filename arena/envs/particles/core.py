"""Batched particle physics: B worlds of agents and landmarks stepped at once as torch tensors.

The physics is MPE's (OpenAI multi-agent particle envs, as kept by MPE2): each step an agent's action becomes a
force (`accel` x direction), overlapping colliders push each other with a soft contact force, then positions move by
the old velocity, velocities are damped, accelerated and clipped to `max_speed`. Scenarios subclass `VectorParticleEnv`
and say what is in a world, how it starts, what agents see and what they earn; this class owns seeding, the step
counter, episode returns and the automatic reset of finished worlds.
"""

from __future__ import annotations

import abc
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
# Below this x, softplus(x) ~ e^x is under 2^-126, float32's least normal number: a contact force of that size is
# below float32 resolution of anything it is added to (an action force, a velocity) unless that is itself below 1e-30.
NEGLIGIBLE_CONTACT = math.log(2.0**-126)
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


class VectorParticleEnv(abc.ABC):
    """B independent worlds of one scenario, stepped together.

    Agents come first in the entity order, then landmarks. Inside, the physics keeps the world index last (`pos`
    is [E, 2, B], `vel` [N, 2, B]) so that its broadcasting operations run over long contiguous rows (on CPU about
    15x faster than over [B, E, 2], whose innermost dimension has 2 elements); what the API returns is batch-first,
    and it is written batch-first directly: in scenarios whose observations are linear in positions and velocities
    (`linear_observations`), they are one matrix product of the state rows, transposed inside the product, with a
    matrix derived once from `_observations` itself, so no transposing copy is made. Subclasses set up the entity
    tables in `__init__` (through `_setup`) and implement `_reset_worlds`, `_observations`, `_rewards` and
    `_heuristic_forces`.

    Attributes for learners: `num_envs` (B), `num_agents` (N), `agent_names`, `obs_dim`, `num_actions` (5 moves),
    `continuous` and `action_dim` (5 intensities in [0, 1] when continuous), `state_dim`, `max_steps`, `teams`.
    """

    env_id = "particles"
    title = "a particle world"
    rules = ""
    # Finished worlds restart inside step(). The single-world view turns this off, so that its last position stays
    # on show until reset() (which makes the restart then, with the same random draws).
    autoreset = True
    # Whether `_observations` is a linear function of `pos` and `vel` alone (differences, copies, zero padding).
    linear_observations = False

    def __init__(
        self, num_envs: int, device: str | torch.device, seed: int | None, max_steps: int, continuous_actions: bool
    ) -> None:
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

    # -- set-up ----------------------------------------------------------------------------------------------

    def _setup(
        self,
        agent_names: list[str],
        teams: list[int],
        sizes: list[float],
        accel: list[float],
        max_speed: list[float],
        collide: list[bool],
        colors: list[tuple[int, int, int]],
    ) -> None:
        """Entity tables: `sizes`, `collide` and `colors` cover agents then landmarks; `accel`, `max_speed` agents."""
        self.agent_names = list(agent_names)
        self.num_agents = len(agent_names)
        self.teams = list(teams)
        self.num_entities = len(sizes)
        dev, A, B = self.device, self.num_agents, self.num_envs
        self.sizes = torch.tensor(sizes, dtype=torch.float32, device=dev)
        self.accel = torch.tensor(accel, dtype=torch.float32, device=dev)[:, None, None]
        # Each agent's force for each move (MOVE_DIRECTIONS x accel), x and y, flat: [2, A * NUM_MOVES].
        table = torch.tensor(MOVE_DIRECTIONS, dtype=torch.float32, device=dev).T[:, None] * self.accel[:, :, 0]
        self._move_forces = table.reshape(2, A * NUM_MOVES)
        self._move_offsets = torch.arange(A, device=dev)[:, None] * NUM_MOVES
        self.max_speed = torch.tensor(max_speed, dtype=torch.float32, device=dev)[:, None]
        self.speed_limited = bool(np.isfinite(max_speed).any())
        self.colors = list(colors)
        # Each pair of colliders with an agent among them, once, in MPE2's order (a < b, so a is the agent): its contact
        # force pushes a by +f and, if b is an agent too, b by -f (landmarks do not move).
        pairs = [(a, b) for a in range(A) for b in range(a + 1, self.num_entities) if collide[a] and collide[b]]
        self._pair_a = torch.tensor([a for a, _ in pairs], dtype=torch.long, device=dev)
        self._pair_b = torch.tensor([b for _, b in pairs], dtype=torch.long, device=dev)
        self._pair_range = (self.sizes[self._pair_a] + self.sizes[self._pair_b])[:, None]
        # Which way each pair's force acts on each agent: [A, P] of 0 and +-1, so that summing is one product.
        push = torch.zeros(A, len(pairs), device=dev)
        for p, (a, b) in enumerate(pairs):
            push[a, p] = 1.0
            if b < A:
                push[b, p] = -1.0
        self._pair_push = push
        self.pos = torch.zeros(self.num_entities, 2, B, device=dev)
        self.vel = torch.zeros(A, 2, B, device=dev)
        self.t = torch.zeros(B, dtype=torch.long, device=dev)
        self.returns = torch.zeros(A, B, device=dev)

    def _finish_setup(self) -> None:
        """Derive the observation map (linear scenarios) and the observation and state sizes from a first reset."""
        self._obs_map = self._observation_map() if self.linear_observations else None
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
        self.obs = self._observe()
        return self.obs

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """Advance every world one step; finished worlds restart at once.

        `actions` are long [B, N] move indices (no-op, left, right, down, up) or, with continuous actions, float
        [B, N, 5] intensities in [0, 1] (force x = a[2] - a[1], y = a[4] - a[3], as in MPE2).
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
        final_obs = self._observe()
        terminated = self._terminated()
        truncated = self.t >= self.max_steps
        done = terminated | truncated
        info: dict[str, Any] = {"done_mask": done, "final_obs": final_obs, "episode_return": self.returns.T.clone()}
        if self.autoreset and bool(done.any()):
            self._reset_worlds(done)
            keep = (~done).to(self.vel.dtype)
            self.vel *= keep
            self.t *= (~done).long()
            self.returns *= keep
            self.obs = self._observe()
        else:
            self.obs = final_obs
        return self.obs, rewards.T.contiguous(), terminated, truncated, info

    def state(self) -> torch.Tensor:
        """Global state for centralised critics: every agent's observation, concatenated ([B, N * D])."""
        return self.obs.reshape(self.num_envs, -1)

    def heuristic_actions(self) -> torch.Tensor:
        """The scenario's scripted baseline for every agent of every world: long [B, N] or float [B, N, 5]."""
        B, N, D = self.obs.shape
        agent_index = torch.arange(N, device=self.device).repeat_interleave(B)
        actions = self._forces_to_actions(
            self._heuristic_forces(self.obs.permute(2, 1, 0).reshape(D, N * B), agent_index)
        )
        if self.continuous:
            return actions.reshape(self.action_dim, N, B).permute(2, 1, 0).contiguous()
        return actions.reshape(N, B).T.contiguous()

    def heuristic_policy(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Scripted actions from observations alone: obs [M, D] of the agents `agent_index` [M] -> actions [M(, 5)].

        The same function drives `heuristic_actions` and the single-world `heuristic` arena agent.
        """
        actions = self._forces_to_actions(self._heuristic_forces(obs.T.contiguous(), agent_index))
        return actions.T.contiguous() if self.continuous else actions

    def _forces_to_actions(self, wanted: torch.Tensor) -> torch.Tensor:
        """Wanted force directions [2, M] -> moves [M] (the best-aligned move, or no-op when none helps enough)
        or continuous intensities [5, M]."""
        x, y = wanted[0], wanted[1]
        if self.continuous:
            x, y = x.clamp(-1, 1), y.clamp(-1, 1)
            return torch.stack(
                [torch.zeros_like(x), (-x).clamp(min=0), x.clamp(min=0), (-y).clamp(min=0), y.clamp(min=0)]
            )
        scores = torch.stack([torch.full_like(x, NOOP_THRESHOLD), -x, x, -y, y])
        return scores.argmax(dim=0)

    # -- observations ----------------------------------------------------------------------------------------

    def _observe(self) -> torch.Tensor:
        """The observations of every world, batch-first and contiguous: [B, N, D]."""
        if self._obs_map is None:
            return _batch_first(self._observations())
        B = self.num_envs
        state = torch.cat([self.pos.reshape(-1, B), self.vel.reshape(-1, B)])
        return torch.mm(state.T, self._obs_map).view(B, self.num_agents, -1)

    def _observation_map(self) -> torch.Tensor:
        """The matrix [2E + 2N, N * D] that takes state rows (positions, then velocities) to observations, read off
        `_observations` on one world per basis vector. Its entries are 0 and +-1 and every observation entry sums at
        most two non-zero terms, so the product rounds exactly as the formula does."""
        B, pos, vel = self.num_envs, self.pos, self.vel
        rows = pos.numel() // B + vel.numel() // B
        basis = torch.eye(rows, device=self.device)
        try:
            self.num_envs = rows
            self.pos = basis[: pos.numel() // B].reshape(*pos.shape[:-1], rows)
            self.vel = basis[pos.numel() // B :].reshape(*vel.shape[:-1], rows)
            weights = self._observations()
        finally:
            self.num_envs, self.pos, self.vel = B, pos, vel
        return weights.reshape(-1, rows).T.contiguous()

    # -- physics ---------------------------------------------------------------------------------------------

    def _action_forces(self, actions: torch.Tensor) -> torch.Tensor:
        """Actions -> forces [N, 2, B]."""
        actions = torch.as_tensor(actions, device=self.device)
        B, N = self.num_envs, self.num_agents
        if self.continuous:
            if actions.shape != (B, N, self.action_dim):
                raise ParameterError(
                    f"{self.env_id}: continuous actions must have shape {(B, N, self.action_dim)}, "
                    f"got {tuple(actions.shape)}"
                )
            a = actions.to(torch.float32).clamp(0.0, 1.0).permute(1, 2, 0)
            u = torch.stack([a[:, 2] - a[:, 1], a[:, 4] - a[:, 3]], dim=1)
        else:
            if actions.shape != (B, N):
                raise ParameterError(
                    f"{self.env_id}: discrete actions must have shape {(B, N)}, got {tuple(actions.shape)}"
                )
            low, high = torch.aminmax(actions)
            if low < 0 or high >= NUM_MOVES:
                raise ParameterError(
                    f"{self.env_id}: discrete actions must be moves 0..{NUM_MOVES - 1}, got {int(low)}..{int(high)}"
                )
            # Two flat gathers from the agents' force table: faster than gathering rows of 2 from it.
            index = actions.T.long() + self._move_offsets
            return torch.stack([self._move_forces[0].take(index), self._move_forces[1].take(index)], dim=1)
        return u * self.accel

    def _physics(self, force: torch.Tensor) -> None:
        """MPE's integration: contact forces, then pos += vel dt, vel = vel (1 - damping) + force dt, speed clip."""
        A = self.num_agents
        if len(self._pair_a):
            force = force + self._contact_forces()
        self.pos[:A].add_(self.vel, alpha=DT)
        self.vel.mul_(1.0 - DAMPING).add_(force, alpha=DT)
        if self.speed_limited:
            speed = (self.vel[:, 0] ** 2 + self.vel[:, 1] ** 2).sqrt()
            scale = torch.where(speed > self.max_speed, self.max_speed / speed.clamp(min=1e-12), 1.0)
            self.vel *= scale[:, None]

    def _contact_forces(self) -> torch.Tensor:
        """MPE's soft contact, per colliding pair: f = CONTACT_FORCE * delta / dist * penetration, with penetration
        `softplus(x) * margin` and x = (range - dist) / margin. Returns the pushes summed on each agent: [A, 2, B].

        Most pairs are apart, x far below `NEGLIGIBLE_CONTACT`: their penetration is given 0 without computing e^x,
        which for x between -104 and -87 would be a denormal float, ten times slower to compute than a normal one
        (and slow again in every operation after). Skipped forces are under 1e-38, so no sum they would enter changes
        unless all its other terms are that small too (the tests check this against the full computation)."""
        delta = self.pos.index_select(0, self._pair_a) - self.pos.index_select(0, self._pair_b)  # [P, 2, B]
        dist = norm2(delta, dim=1).clamp_(min=1e-12)
        x = (self._pair_range - dist).div_(CONTACT_MARGIN)
        apart = x < NEGLIGIBLE_CONTACT
        penetration = torch.nn.functional.softplus(x.masked_fill_(apart, 0.0)).masked_fill_(apart, 0.0)
        push = delta.mul_((penetration.mul_(CONTACT_MARGIN * CONTACT_FORCE).div_(dist))[:, None])
        P, B = push.shape[0], self.num_envs
        return torch.mm(self._pair_push, push.view(P, 2 * B)).view(self.num_agents, 2, B)

    def _before_physics(self) -> None:  # noqa: B027 (an optional hook, empty by default)
        """Hook for scripted entities that move before the agents' physics (pursuit's targets)."""

    def _terminated(self) -> torch.Tensor:
        return torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)

    # -- scenario interface ----------------------------------------------------------------------------------

    @abc.abstractmethod
    def _reset_worlds(self, mask: torch.Tensor) -> None:
        """Draw new starting positions (and scenario state) for the worlds where `mask` [B] is set."""
        raise NotImplementedError

    @abc.abstractmethod
    def _observations(self) -> torch.Tensor:
        """[N, D, B]"""
        raise NotImplementedError

    @abc.abstractmethod
    def _rewards(self) -> torch.Tensor:
        """[N, B]"""
        raise NotImplementedError

    @abc.abstractmethod
    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Observations [D, M] of agents `agent_index` [M] -> wanted forces [2, M]."""
        raise NotImplementedError

    # -- helpers for scenarios and views ---------------------------------------------------------------------

    @staticmethod
    def _blend(mask: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
        """`new` in the worlds (last dimension) where `mask` [B] is set, `old` elsewhere."""
        return torch.where(mask, new, old)

    def positions(self, world: int = 0) -> np.ndarray:
        """Entity positions of one world: [E, 2]."""
        return self.pos[:, :, world].cpu().numpy()

    def set_world(self, world: int, positions: Any, velocities: Any) -> None:
        """Put one world into a given state: entity positions [E, 2], agent velocities [N, 2]."""
        self.pos[:, :, world] = torch.as_tensor(np.asarray(positions), dtype=torch.float32, device=self.device)
        self.vel[:, :, world] = torch.as_tensor(np.asarray(velocities), dtype=torch.float32, device=self.device)
        self.obs = self._observe()

    def entity_colors(self, world: int = 0) -> list[tuple[int, int, int]]:
        """RGB colour of every entity of one world, for drawing."""
        return list(self.colors)

    def reward_range(self) -> tuple[float, float]:
        """Typical per-step reward bounds of one agent (used for forfeits and documentation)."""
        return (-1.0, 1.0)

    def view_extent(self, world: int = 0) -> float:
        """Half-width of the square of the world drawn by the renderer."""
        extent = float(np.abs(self.positions(world)).max()) if self.num_entities else 1.0
        return max(1.2, math.ceil(extent * 1.1 * 4) / 4)

    def describe(self, world: int, agent: int) -> str:
        """What agent `agent` of world `world` sees, for a person or a language model."""
        pos = self.positions(world)
        vel = self.vel[agent, :, world].tolist()
        me = pos[agent]
        others = [
            f"{self.entity_name(j)} at ({pos[j][0] - me[0]:+.2f}, {pos[j][1] - me[1]:+.2f})"
            for j in range(self.num_entities)
            if j != agent
        ]
        return (
            f"You are {self.agent_names[agent]} in {self.title}. {self.rules}\n"
            f"Step {int(self.t[world])} of {self.max_steps}. Your position ({me[0]:+.2f}, {me[1]:+.2f}), "
            f"velocity ({vel[0]:+.2f}, {vel[1]:+.2f}). Relative to you: {'; '.join(others)}."
        )

    def entity_name(self, index: int) -> str:
        if index < self.num_agents:
            return self.agent_names[index]
        return f"landmark_{index - self.num_agents}"


def _batch_first(obs: torch.Tensor) -> torch.Tensor:
    """[N, D, B] -> [B, N, D], contiguous."""
    return obs.permute(2, 0, 1).contiguous()


def squared_norm2(v: torch.Tensor, dim: int) -> torch.Tensor:
    """Squared Euclidean norm over a coordinate dimension of size 2 (faster than a sum over a dimension that short)."""
    x, y = v.unbind(dim)
    return torch.addcmul(x * x, y, y)


def norm2(v: torch.Tensor, dim: int) -> torch.Tensor:
    """Euclidean norm over a coordinate dimension of size 2 (faster than `Tensor.norm` on small dimensions)."""
    return squared_norm2(v, dim).sqrt_()


def pick(points: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """points [K, 2, M], index [M] -> the chosen point of each column: [2, M]."""
    return points[index, :, torch.arange(points.shape[-1], device=points.device)].T


def greedy_assignment(distances: torch.Tensor) -> torch.Tensor:
    """Greedy matching of rows to columns by increasing distance: distances [R, C, M] -> column of each row [R, M].

    Rows beyond the number of columns get -1. The scripted agents use it to split landmarks among agents: it only
    depends on the set of distances, so every agent computing it from its own observation finds the same matching.
    """
    R, C, M = distances.shape
    d = distances.clone()
    chosen = torch.full((R, M), -1, dtype=torch.long, device=d.device)
    columns = torch.arange(M, device=d.device)
    for _ in range(min(R, C)):
        flat = d.reshape(R * C, M).argmin(dim=0)
        r, c = flat // C, flat % C
        chosen[r, columns] = c
        d[r, :, columns] = math.inf
        d[:, c, columns] = math.inf
    return chosen
