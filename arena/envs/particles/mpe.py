"""The MPE scenarios, batched: spread-v0, adversary-v0 and tag-v0.

Observations and rewards follow MPE2's `simple_spread_v3`, `simple_adversary_v3` and `simple_tag_v3` (tested
side by side against MPE2 from the same state). Where MPE2 gives the agents of one scenario observations of different
sizes, the shorter ones are zero-padded at the end to the longest, so that a batch is one [B, N, obs_dim] tensor.
"""

from __future__ import annotations

import math

import torch

from arena.core import ParameterError
from arena.envs.particles.core import DEFAULT_ACCEL, VectorParticleEnv, greedy_assignment, norm2, pick, squared_norm2

AGENT_BLUE = (89, 89, 217)
LANDMARK_GREY = (64, 64, 64)
ADVERSARY_RED = (217, 89, 89)
GOOD_GREEN = (89, 217, 89)
GOAL_GREEN = (38, 166, 38)

# How strongly the scripted agents brake with their velocity when steering to a point (a PD controller).
BRAKE = 0.25


def _others(num_agents: int, device: torch.device) -> torch.Tensor:
    """For each agent, the indices of the other agents in order: [N, N-1]."""
    return torch.tensor(
        [[j for j in range(num_agents) if j != i] for i in range(num_agents)], dtype=torch.long, device=device
    ).reshape(num_agents, num_agents - 1)


def _pad(obs: torch.Tensor, width: int) -> torch.Tensor:
    """Zero-pad the feature dimension of [N, D, B] observations to `width`."""
    return torch.nn.functional.pad(obs, (0, 0, 0, width - obs.shape[1])) if obs.shape[1] < width else obs


class _MPEScenario(VectorParticleEnv):
    """Shared geometry of the MPE scenarios."""

    def _relative(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Entities relative to each agent [A, E, 2, B] and the other agents relative to each agent [A, A-1, 2, B]."""
        A = self.num_agents
        rel = self.pos[None] - self.pos[:A, None]
        return rel, rel[self._agent_rows, self._other_ids]

    def _index_others(self) -> None:
        self._other_ids = _others(self.num_agents, self.device)
        self._agent_rows = torch.arange(self.num_agents, device=self.device)[:, None]


class SpreadEnv(_MPEScenario):
    """spread-v0 (MPE2 simple_spread_v3): N agents cover N landmarks and avoid bumping into each other.

    Reward of agent i per step: `(1 - local_ratio) * G + local_ratio * L_i` with G = -sum over landmarks of the
    distance to the closest agent (shared) and L_i = -(number of other agents overlapping agent i). With N=3 and
    25 steps a random team earns about -26 per agent per episode, the scripted heuristic about -9.
    Observation (4N + 2(N-1) + 2(N-1), 18 for N=3): own velocity, own position, landmarks relative to the agent,
    other agents relative to the agent, and the other agents' (silent, always zero) communication as in MPE2.
    """

    linear_observations = True
    env_id = "spread-v0"
    title = "spread (cooperative navigation)"
    rules = (
        "Cover every landmark with an agent: all agents share minus the sum over landmarks of the distance to "
        "the closest agent; bumping into another agent costs each of you. Moves push you; you keep momentum."
    )

    def __init__(
        self,
        num_envs: int = 1,
        device: str = "cpu",
        seed: int | None = None,
        N: int = 3,
        local_ratio: float = 0.5,
        max_steps: int = 25,
        continuous_actions: bool = False,
    ) -> None:
        super().__init__(num_envs, device, seed, max_steps, continuous_actions)
        if N < 1:
            raise ParameterError("spread-v0: N must be at least 1")
        if not 0.0 <= local_ratio <= 1.0:
            raise ParameterError("spread-v0: local_ratio must be between 0 and 1")
        self.N, self.local_ratio = N, float(local_ratio)
        self._setup(
            [f"agent_{i}" for i in range(N)],
            [0] * N,
            sizes=[0.15] * N + [0.05] * N,
            accel=[DEFAULT_ACCEL] * N,
            max_speed=[math.inf] * N,
            collide=[True] * N + [False] * N,
            colors=[AGENT_BLUE] * N + [LANDMARK_GREY] * N,
        )
        self._index_others()
        self._pair_members = self._pair_push.abs()  # [N, P]: 1 where an agent is one of a pair
        self._finish_setup()

    def _reset_worlds(self, mask: torch.Tensor) -> None:
        self.pos = self._blend(mask, self.uniform(2 * self.N, 2, self.num_envs), self.pos)

    def _observations(self) -> torch.Tensor:
        N, B = self.N, self.num_envs
        rel, others = self._relative()
        comm = self.vel.new_zeros(N, 2 * (N - 1), B)
        return torch.cat(
            [self.vel, self.pos[:N], rel[:, N:].reshape(N, 2 * N, B), others.reshape(N, -1, B), comm], dim=1
        )

    def _rewards(self) -> torch.Tensor:
        N, pos, ratio = self.N, self.pos, self.local_ratio
        # The closest agent to each landmark by squared distance, whose root is the same float as the least distance
        # (the square root is monotonic and correctly rounded): N roots per world instead of N^2.
        squared = squared_norm2(pos[N:][None] - pos[:N, None], dim=2)  # [agent, landmark, B]
        cover = squared.amin(dim=0).sqrt_().sum(dim=0)
        # Each pair of agents once (the physics' colliding pairs); an overlap counts for both agents of the pair.
        delta = pos.index_select(0, self._pair_a) - pos.index_select(0, self._pair_b)
        overlaps = (norm2(delta, dim=1) < 0.3).float()  # [P, B]
        # -(1 - ratio) * cover - ratio * (each agent's overlaps), in one product.
        return torch.addmm(cover.expand(N, -1), self._pair_members, overlaps, beta=ratio - 1.0, alpha=-ratio)

    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Greedy landmark assignment (closest pairs first), then steer to the own landmark and brake there."""
        N, M = self.N, obs.shape[-1]
        landmarks = obs[4 : 4 + 2 * N].reshape(N, 2, M)
        agents = torch.cat([obs.new_zeros(1, 2, M), obs[4 + 2 * N : 2 + 4 * N].reshape(N - 1, 2, M)])
        mine = greedy_assignment(norm2(landmarks[None] - agents[:, None], dim=2))[0]
        return pick(landmarks, mine) - BRAKE * obs[0:2]

    def reward_range(self) -> tuple[float, float]:
        return (-(1.0 - self.local_ratio) * self.N * 4.0 - self.local_ratio * (self.N - 1), 0.0)


class AdversaryEnv(_MPEScenario):
    """adversary-v0 (MPE2 simple_adversary_v3): N good agents lead one adversary away from a goal landmark.

    Agents `adversary_0, agent_0..agent_{N-1}` (teams 0 and 1); N landmarks, one of which is the goal that only the
    good agents know. Rewards per step: the adversary earns -d(adversary, goal); each good agent earns
    -min over good agents of d(good, goal) + d(adversary, goal). Nobody collides.
    Observation of a good agent (4N + 2): goal relative position, landmarks relative, other agents relative
    (adversary first); the adversary's (4N) has no goal and is zero-padded at the end to the same size.
    """

    env_id = "adversary-v0"
    title = "adversary (physical deception)"
    rules = (
        "One landmark is the goal. Good agents share the reward of the good agent closest to the goal and gain "
        "the adversary's distance from it; the adversary does not know the goal and earns minus its distance "
        "to it."
    )

    def __init__(
        self,
        num_envs: int = 1,
        device: str = "cpu",
        seed: int | None = None,
        N: int = 2,
        max_steps: int = 25,
        continuous_actions: bool = False,
    ) -> None:
        super().__init__(num_envs, device, seed, max_steps, continuous_actions)
        if N < 1:
            raise ParameterError("adversary-v0: N must be at least 1")
        self.N = N
        A = N + 1
        self._setup(
            ["adversary_0", *[f"agent_{i}" for i in range(N)]],
            [0] + [1] * N,
            sizes=[0.15] * A + [0.08] * N,
            accel=[DEFAULT_ACCEL] * A,
            max_speed=[math.inf] * A,
            collide=[False] * (A + N),
            colors=[ADVERSARY_RED] + [AGENT_BLUE] * N + [LANDMARK_GREY] * N,
        )
        self._index_others()
        self.goal = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self._finish_setup()

    def _reset_worlds(self, mask: torch.Tensor) -> None:
        goal = torch.randint(self.N, (self.num_envs,), generator=self.generator, device=self.device)
        self.goal = torch.where(mask, goal, self.goal)
        self.pos = self._blend(mask, self.uniform(self.num_entities, 2, self.num_envs), self.pos)

    def entity_colors(self, world: int = 0) -> list[tuple[int, int, int]]:
        colors = list(self.colors)
        colors[self.num_agents + int(self.goal[world])] = GOAL_GREEN
        return colors

    def goal_position(self) -> torch.Tensor:
        """[2, B]"""
        return pick(self.pos, self.num_agents + self.goal)

    def _observations(self) -> torch.Tensor:
        A, N, B = self.num_agents, self.N, self.num_envs
        rel, others = self._relative()
        landmarks = rel[:, A:].reshape(A, 2 * N, B)
        others = others.reshape(A, 2 * N, B)
        goal = self.goal_position()[None] - self.pos[:A]
        good = torch.cat([goal[1:], landmarks[1:], others[1:]], dim=1)
        adversary = _pad(torch.cat([landmarks[:1], others[:1]], dim=1), good.shape[1])
        return torch.cat([adversary, good], dim=0)

    def _rewards(self) -> torch.Tensor:
        to_goal = norm2(self.pos[: self.num_agents] - self.goal_position()[None], dim=1)  # [A, B]
        adversary = to_goal[:1]
        good = -to_goal[1:].amin(dim=0, keepdim=True) + adversary
        return torch.cat([-adversary, good.expand(self.N, -1)], dim=0)

    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Good agents split up to cover every landmark (so the goal does not stand out); the adversary heads for
        the landmark that some good agent is closest to."""
        N, M = self.N, obs.shape[-1]
        # Good agent layout: goal (2), landmarks (2N), adversary (2), other good agents (2(N-1)).
        landmarks = obs[2 : 2 + 2 * N].reshape(N, 2, M)
        mates = torch.cat([obs.new_zeros(1, 2, M), obs[4 + 2 * N : 2 + 4 * N].reshape(N - 1, 2, M)])
        good_target = pick(landmarks, greedy_assignment(norm2(landmarks[None] - mates[:, None], dim=2))[0])
        # Adversary layout: landmarks (2N), good agents (2N).
        seen = obs[: 2 * N].reshape(N, 2, M)
        goods = obs[2 * N : 4 * N].reshape(N, 2, M)
        closeness = norm2(seen[:, None] - goods[None], dim=2).amin(dim=1)
        adversary_target = pick(seen, closeness.argmin(dim=0))
        return 0.6 * torch.where(agent_index == 0, adversary_target, good_target)

    def reward_range(self) -> tuple[float, float]:
        return (-4.0, 4.0)


class TagEnv(_MPEScenario):
    """tag-v0 (MPE2 simple_tag_v3): slower predators (adversaries) chase faster prey among obstacles.

    Agents `adversary_0..`, then `agent_0..` (teams 0 and 1), and `num_obstacles` fixed obstacles that everyone
    bumps into. Rewards per step: every adversary earns +10 for each (prey, adversary) pair in contact; a prey loses
    10 for each adversary touching it and is penalised for leaving the field: per axis, 0 below |x| = 0.9,
    10 (|x| - 0.9) up to 1, then min(exp(2|x| - 2), 10).
    Observation: own velocity, own position, obstacles relative, other agents relative (adversaries first), and the
    velocities of the other prey; prey observations are zero-padded at the end to the adversaries' size.
    """

    linear_observations = True
    env_id = "tag-v0"
    title = "tag (predator-prey)"
    rules = (
        "Adversaries earn 10 for every touch of a prey; prey lose 10 per touch and are penalised for running "
        "off the field. Adversaries are bigger and slower; grey obstacles block everyone."
    )

    def __init__(
        self,
        num_envs: int = 1,
        device: str = "cpu",
        seed: int | None = None,
        num_good: int = 1,
        num_adversaries: int = 3,
        num_obstacles: int = 2,
        max_steps: int = 25,
        continuous_actions: bool = False,
    ) -> None:
        super().__init__(num_envs, device, seed, max_steps, continuous_actions)
        if num_good < 1 or num_adversaries < 1 or num_obstacles < 0:
            raise ParameterError("tag-v0: needs num_good >= 1, num_adversaries >= 1, num_obstacles >= 0")
        self.num_good, self.num_adversaries, self.num_obstacles = num_good, num_adversaries, num_obstacles
        K, G, L = num_adversaries, num_good, num_obstacles
        self._setup(
            [f"adversary_{i}" for i in range(K)] + [f"agent_{i}" for i in range(G)],
            [0] * K + [1] * G,
            sizes=[0.075] * K + [0.05] * G + [0.2] * L,
            accel=[3.0] * K + [4.0] * G,
            max_speed=[1.0] * K + [1.3] * G,
            collide=[True] * (K + G + L),
            colors=[ADVERSARY_RED] * K + [GOOD_GREEN] * G + [LANDMARK_GREY] * L,
        )
        self._index_others()
        # For prey i, the other prey among its other agents: [G, G-1].
        self._other_prey = self._other_ids[K:, K:] - K
        self._contact_size = (self.sizes[:K, None] + self.sizes[None, K : K + G])[:, :, None]
        self._finish_setup()

    def _reset_worlds(self, mask: torch.Tensor) -> None:
        A, L, B = self.num_agents, self.num_obstacles, self.num_envs
        fresh = torch.cat([self.uniform(A, 2, B), self.uniform(L, 2, B, low=-0.9, high=0.9)])
        self.pos = self._blend(mask, fresh, self.pos)

    def _observations(self) -> torch.Tensor:
        A, K, G, B = self.num_agents, self.num_adversaries, self.num_good, self.num_envs
        rel, others = self._relative()
        obstacles = rel[:, A:].reshape(A, -1, B)
        others = others.reshape(A, -1, B)
        prey_vel = self.vel[K:]
        # Adversaries see every prey's velocity; a prey sees the other prey's.
        adversary = torch.cat(
            [self.vel[:K], self.pos[:K], obstacles[:K], others[:K], prey_vel.reshape(1, 2 * G, B).expand(K, -1, -1)],
            dim=1,
        )
        prey = torch.cat(
            [self.vel[K:], self.pos[K:A], obstacles[K:], others[K:], prey_vel[self._other_prey].reshape(G, -1, B)],
            dim=1,
        )
        return torch.cat([adversary, _pad(prey, adversary.shape[1])], dim=0)

    def _contacts(self) -> torch.Tensor:
        """[K, G, B]: which adversary touches which prey."""
        K = self.num_adversaries
        delta = self.pos[:K, None] - self.pos[None, K : self.num_agents]
        return (norm2(delta, dim=2) < self._contact_size).float()

    def _rewards(self) -> torch.Tensor:
        contacts = self._contacts()
        adversary = 10.0 * contacts.sum(dim=(0, 1))[None].expand(self.num_adversaries, -1)
        x = self.pos[self.num_adversaries : self.num_agents].abs()
        bound = torch.where(
            x < 0.9, torch.zeros_like(x), torch.where(x < 1.0, (x - 0.9) * 10, torch.exp(2 * x - 2).clamp(max=10.0))
        )
        prey = -10.0 * contacts.sum(dim=0) - bound.sum(dim=1)
        return torch.cat([adversary, prey], dim=0)

    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Adversaries chase the nearest prey (aiming a little ahead of it); prey flee from the adversaries,
        weighted by closeness, and turn back before the field's edge."""
        K, G, L, M = self.num_adversaries, self.num_good, self.num_obstacles, obs.shape[-1]
        A = K + G
        vel, pos = obs[0:2], obs[2:4]
        start = 4 + 2 * L
        others = obs[start : start + 2 * (A - 1)].reshape(A - 1, 2, M)
        # An adversary's others: K-1 adversaries then G prey; the prey's velocities follow.
        prey = others[K - 1 :]
        prey_vel = obs[start + 2 * (A - 1) : start + 2 * (A - 1) + 2 * G].reshape(G, 2, M)
        chase = pick(prey + 0.3 * prey_vel, norm2(prey, dim=1).argmin(dim=0)) - 0.2 * vel
        # A prey's others: K adversaries first.
        hunters = others[:K]
        distance = norm2(hunters, dim=1).clamp(min=0.05)[:, None]
        flee = -(hunters / distance**3).sum(dim=0)
        flee = flee / norm2(flee, dim=0).clamp(min=1e-6)
        edge = torch.where(pos.abs() > 0.7, -pos.sign() * (pos.abs() - 0.7) * 8.0, torch.zeros_like(pos))
        return torch.where(agent_index < K, chase, flee + edge - 0.2 * vel)

    def reward_range(self) -> tuple[float, float]:
        return (-10.0 * self.num_adversaries - 20.0, 10.0 * self.num_adversaries * self.num_good)
