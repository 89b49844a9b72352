"""pursuit-v0: many pursuers keep many moving targets in sensor range, seeing only range and bearing nearby.

After the multi-target tracking setting of Hsu, Jeong, Pappas and Chaudhari, "Scalable Reinforcement Learning
Policies for Multi-Agent Control" (2021): N pursuers and M targets in a square field; each target follows a fixed
policy the pursuers are not told (drift in a straight line, circle, or flee from the nearest pursuer in range), and
each pursuer senses the entities within `sensing_radius` as range and bearing. Scales to 1000 x 1000: the
neighbour search runs in torch over chunks of pursuers, so memory stays bounded.

Observation layout (fixed, so that attention policies can read it), `OWN_DIM + max_observed * ENTITY_DIM` floats:

- own features (OWN_DIM = 4): velocity (vx, vy), position divided by the field's half-width (x / h, y / h);
- `max_observed` entity slots (ENTITY_DIM = 6 each), nearest first:
  [present (1, or 0 for padding), range / sensing_radius, cos(bearing), sin(bearing), is_target, is_pursuer].
  Bearings are angles in the world frame (pursuers are holonomic); padding slots are all zeros.

Reward of pursuer i per step: `(1 - local_ratio) * C + local_ratio * (N / M) * k_i`, where C is the fraction of
targets within sensing range of at least one pursuer (shared) and k_i the number of covered targets whose nearest
pursuer is i. Both parts average to C over the team, so a step is worth at most 1 per pursuer and an episode at
most `max_steps`.
"""

from __future__ import annotations

import math

import torch

from arena.core import ParameterError
from arena.envs.particles.core import DT, VectorParticleEnv, norm2, pick

OWN_DIM = 4
ENTITY_DIM = 6
# Target policies, fixed per target at reset.
DRIFT, CIRCLE, EVADE = 0, 1, 2
TARGET_POLICY_NAMES = ("drift", "circle", "evade")
# Bound on the elements of one distance block of the neighbour search ([worlds, pursuers in chunk, entities]).
CHUNK_ELEMENTS = 1 << 22

PURSUER_BLUE = (70, 110, 230)
TARGET_ORANGE = (240, 140, 40)


class PursuitEnv(VectorParticleEnv):
    """pursuit-v0: N pursuers (`pursuer_0..`, one team) track M targets with fixed unknown policies."""

    env_id = "pursuit-v0"
    title = "pursuit (multi-target tracking)"
    rules = (
        "Keep the targets inside the sensing range of the team: every pursuer shares the fraction of targets "
        "in range of some pursuer, and earns for the targets it is the nearest pursuer to. You see only the "
        "range and bearing of what is within your sensing radius."
    )

    def __init__(
        self,
        num_envs: int = 1,
        device: str = "cpu",
        seed: int | None = None,
        n_pursuers: int = 4,
        n_targets: int = 4,
        max_observed: int = 8,
        sensing_radius: float = 1.0,
        arena_size: float | None = None,
        target_speed: float = 0.5,
        local_ratio: float = 0.5,
        max_steps: int = 100,
        continuous_actions: bool = False,
    ) -> None:
        super().__init__(num_envs, device, seed, max_steps, continuous_actions)
        if n_pursuers < 1 or n_targets < 1 or max_observed < 1:
            raise ParameterError("pursuit-v0: n_pursuers, n_targets and max_observed must be at least 1")
        if sensing_radius <= 0 or target_speed < 0 or (arena_size is not None and arena_size <= 0):
            raise ParameterError("pursuit-v0: sensing_radius and arena_size must be positive, target_speed >= 0")
        if not 0.0 <= local_ratio <= 1.0:
            raise ParameterError("pursuit-v0: local_ratio must be between 0 and 1")
        N, M = n_pursuers, n_targets
        self.n_pursuers, self.n_targets, self.max_observed = N, M, max_observed
        self.radius, self.target_speed, self.local_ratio = float(sensing_radius), float(target_speed), local_ratio
        # By default the field holds about two other entities per sensing disc.
        self.half_width = float(arena_size) / 2 if arena_size else sensing_radius * math.sqrt((N + M) * math.pi / 8)
        self._setup(
            [f"pursuer_{i}" for i in range(N)],
            [0] * N,
            sizes=[0.05 * self.radius] * (N + M),
            accel=[3.0] * N,
            max_speed=[1.0] * N,
            collide=[False] * (N + M),
            colors=[PURSUER_BLUE] * N + [TARGET_ORANGE] * M,
        )
        B = self.num_envs
        self.heading = torch.zeros(M, B, device=self.device)
        self.turn_rate = torch.zeros(M, B, device=self.device)
        self.policy = torch.zeros(M, B, dtype=torch.long, device=self.device)
        self._finish_setup()

    # -- worlds ------------------------------------------------------------------------------------------------

    def _reset_worlds(self, mask: torch.Tensor) -> None:
        B, M, h = self.num_envs, self.n_targets, self.half_width
        self.pos = self._blend(mask, self.uniform(self.num_entities, 2, B, low=-h, high=h), self.pos)
        self.heading = self._blend(mask, self.uniform(M, B, low=-math.pi, high=math.pi), self.heading)
        turn = self.uniform(M, B, low=0.5, high=1.5) * torch.where(self.uniform(M, B) < 0, -1.0, 1.0)
        self.turn_rate = self._blend(mask, turn, self.turn_rate)
        policy = torch.randint(len(TARGET_POLICY_NAMES), (M, B), generator=self.generator, device=self.device)
        self.policy = self._blend(mask, policy, self.policy)
        self._track()

    def _before_physics(self) -> None:
        """Targets move first, by their own policies, seeing where the pursuers were at the end of the last step."""
        N, h = self.n_pursuers, self.half_width
        threatened = (self.policy == EVADE) & (self._nearest_dist < self.radius)
        away = torch.atan2(self._threat[:, 1], self._threat[:, 0])
        heading = torch.where(self.policy == CIRCLE, self.heading + self.turn_rate * DT, self.heading)
        heading = torch.where(threatened, away, heading)
        moved = self.pos[N:] + self.target_speed * DT * torch.stack([heading.cos(), heading.sin()], dim=1)
        over = moved.abs() > h
        moved = torch.where(over, moved.sign() * (2 * h - moved.abs()), moved)
        # Bounce: reflect the heading on the wall that was crossed.
        heading = torch.where(over[:, 0], math.pi - heading, heading)
        heading = torch.where(over[:, 1], -heading, heading)
        self.heading = torch.remainder(heading + math.pi, 2 * math.pi) - math.pi
        self.pos[N:] = moved.clamp(-h, h)

    def _physics(self, force: torch.Tensor) -> None:
        super()._physics(force)
        h, N = self.half_width, self.n_pursuers
        outside = self.pos[:N].abs() > h
        self.pos[:N] = self.pos[:N].clamp(-h, h)
        self.vel = torch.where(outside, torch.zeros_like(self.vel), self.vel)

    # -- sensing -----------------------------------------------------------------------------------------------

    def _chunk(self, rows: int, columns: int) -> int:
        return max(1, min(rows, CHUNK_ELEMENTS // max(1, self.num_envs * columns)))

    def _track(self) -> None:
        """For every target: the nearest pursuer, its distance and the target's position relative to it ([M, B])."""
        N, M = self.n_pursuers, self.n_targets
        points = self.pos.permute(2, 0, 1).contiguous()  # [B, E, 2]
        pursuers, targets = points[:, :N], points[:, N:]
        dist, nearest = [], []
        size = self._chunk(M, N)
        for start in range(0, M, size):
            value, index = torch.cdist(targets[:, start : start + size], pursuers).min(dim=-1)
            dist.append(value)
            nearest.append(index)
        self._nearest_dist = torch.cat(dist, dim=1).T.contiguous()
        self._nearest = torch.cat(nearest, dim=1).T.contiguous()
        worlds = torch.arange(self.num_envs, device=self.device)[None]
        self._threat = self.pos[N:] - self.pos[self._nearest, :, worlds].permute(0, 2, 1)

    def _scan(self) -> torch.Tensor:
        """Entity slots of every pursuer: [B, N, max_observed, ENTITY_DIM], nearest first, zeros for padding."""
        B, N, E, k = self.num_envs, self.n_pursuers, self.num_entities, self.max_observed
        seen = min(k, E - 1)
        points = self.pos.permute(2, 0, 1).contiguous()  # [B, E, 2]
        xs, ys = points[..., 0], points[..., 1]
        size = self._chunk(N, E)
        slots = []
        for start in range(0, N, size):
            own = points[:, start : min(start + size, N)]
            c = own.shape[1]
            d = torch.cdist(own, points)
            rows = torch.arange(c, device=self.device)
            d[:, rows, rows + start] = math.inf
            # The nearest `seen` entities, of which those inside the sensing radius are present.
            value, index = d.topk(seen, dim=-1, largest=False)
            present = (value < self.radius).float()
            flat = index.reshape(B, c * seen)
            rx = xs.gather(1, flat).reshape(B, c, seen) - own[..., 0:1]
            ry = ys.gather(1, flat).reshape(B, c, seen) - own[..., 1:2]
            rng = (rx * rx + ry * ry).sqrt().clamp(min=1e-6)
            is_target = (index >= N).float()
            features = torch.stack([present, rng / self.radius, rx / rng, ry / rng, is_target, 1.0 - is_target], -1)
            slots.append(features * present[..., None])
        out = torch.cat(slots, dim=1)
        if seen < k:
            out = torch.nn.functional.pad(out, (0, 0, 0, k - seen))
        return out

    def _observations(self) -> torch.Tensor:
        B, N = self.num_envs, self.n_pursuers
        own = torch.cat([self.vel, self.pos[:N] / self.half_width], dim=1)
        return torch.cat([own, self._scan().reshape(B, N, -1).permute(1, 2, 0)], dim=1)

    def _rewards(self) -> torch.Tensor:
        self._track()
        N, M = self.n_pursuers, self.n_targets
        covered = (self._nearest_dist < self.radius).float()
        shared = covered.mean(dim=0)
        credit = torch.zeros(N, self.num_envs, device=self.device).scatter_add_(0, self._nearest, covered)
        return (1.0 - self.local_ratio) * shared + self.local_ratio * (N / M) * credit

    def state(self) -> torch.Tensor:
        """Positions (over the half-width) and velocities of every pursuer and target: [B, 4 (N + M)]."""
        B, h = self.num_envs, self.half_width
        target_vel = self.target_speed * torch.stack([self.heading.cos(), self.heading.sin()], dim=1)
        parts = [self.pos / h, self.vel, target_vel]
        return torch.cat([p.permute(2, 0, 1).reshape(B, -1) for p in parts], dim=-1)

    def coverage(self) -> torch.Tensor:
        """Fraction of targets within sensing range of some pursuer, per world: [B]."""
        return (self._nearest_dist < self.radius).float().mean(dim=0)

    # -- the scripted pursuer ----------------------------------------------------------------------------------

    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Go for the nearest target in range that no other visible pursuer is closer to and hover near it; with
        none, move away from the nearest pursuer in range (spreading out) or keep exploring; turn before walls."""
        M, k = obs.shape[-1], self.max_observed
        vel, pos = obs[0:2], obs[2:4]
        slots = obs[OWN_DIM:].reshape(k, ENTITY_DIM, M)
        present, rng, direction = slots[:, 0] > 0, slots[:, 1] * self.radius, slots[:, 2:4]
        rel = direction * rng[:, None]
        is_target, is_pursuer = present & (slots[:, 4] > 0), present & (slots[:, 5] > 0)
        far = torch.full_like(rng, math.inf)
        # Targets that a visible mate is closer to are left to that mate.
        mate_distance = norm2(rel[:, None] - rel[None], dim=2)
        mate_distance = torch.where(is_pursuer[None], mate_distance, torch.full_like(mate_distance, math.inf))
        claimed = mate_distance.amin(dim=1) < rng
        target_range = torch.where(is_target & ~claimed, rng, far)
        has_target = torch.isfinite(target_range.amin(dim=0))
        goal = pick(rel, target_range.argmin(dim=0))
        distance = norm2(goal, dim=0).clamp(min=1e-6)
        chase = goal * ((distance - 0.3 * self.radius) / distance) - 0.45 * vel
        mate_range = torch.where(is_pursuer, rng, far)
        has_mate = torch.isfinite(mate_range.amin(dim=0))
        apart = -pick(direction, mate_range.argmin(dim=0))
        angle = agent_index.float() * 2.39996  # golden angle: a different default heading per pursuer
        speed = norm2(vel, dim=0).clamp(min=1e-6)
        explore = torch.where(speed > 0.3, vel / speed, torch.stack([angle.cos(), angle.sin()]))
        wanted = torch.where(has_target, chase, torch.where(has_mate, apart + 0.5 * explore, explore))
        wall = torch.where(pos.abs() > 0.85, -pos.sign(), torch.zeros_like(pos))
        return wanted + 2.0 * wall

    # -- views -------------------------------------------------------------------------------------------------

    def reward_range(self) -> tuple[float, float]:
        return (0.0, 1.0 - self.local_ratio + self.local_ratio * self.n_pursuers)

    def view_extent(self, world: int = 0) -> float:
        return self.half_width * 1.05

    def entity_name(self, index: int) -> str:
        if index < self.n_pursuers:
            return self.agent_names[index]
        return f"target_{index - self.n_pursuers}"

    def describe(self, world: int, agent: int) -> str:
        obs = self.obs[world, agent]
        slots = obs[OWN_DIM:].reshape(self.max_observed, ENTITY_DIM).tolist()
        seen = [
            f"{'a target' if s[4] else 'a pursuer'} at range {s[1] * self.radius:.2f}, bearing "
            f"{math.degrees(math.atan2(s[3], s[2])):+.0f} deg"
            for s in slots
            if s[0] > 0
        ]
        x, y = self.pos[agent, :, world].tolist()
        return (
            f"You are {self.agent_names[agent]} in {self.title}. {self.rules}\n"
            f"Step {int(self.t[world])} of {self.max_steps}. Field half-width {self.half_width:.2f}; your "
            f"position ({x:+.2f}, {y:+.2f}). In range ({self.radius:g}): {'; '.join(seen) or 'nothing'}."
        )
