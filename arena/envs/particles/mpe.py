"""The MPE scenarios, batched: spread-v0, adversary-v0 and tag-v0.

Observations and rewards follow MPE2's `simple_spread_v3`, `simple_adversary_v3` and `simple_tag_v3` (tested
side by side against MPE2 from the same state). Where MPE2 gives the agents of one scenario observations of different
sizes, the shorter ones are zero-padded at the end to the longest, so that a batch is one [B, N, obs_dim] tensor.
"""

from __future__ import annotations

import math

import torch

from arena.core import ParameterError
from arena.envs.particles.core import DEFAULT_ACCEL, VectorParticleEnv, greedy_assignment

AGENT_BLUE = (89, 89, 217)
LANDMARK_GREY = (64, 64, 64)
ADVERSARY_RED = (217, 89, 89)
GOOD_GREEN = (89, 217, 89)
GOAL_GREEN = (38, 166, 38)

# How strongly the scripted agents brake with their velocity when steering to a point (a PD controller).
BRAKE = 0.25


def _others(num_agents: int, device: torch.device) -> torch.Tensor:
    """For each agent, the indices of the other agents in order: [N, N-1]."""
    return torch.tensor([[j for j in range(num_agents) if j != i] for i in range(num_agents)], dtype=torch.long,
                        device=device).reshape(num_agents, num_agents - 1)


def _pad(obs: torch.Tensor, width: int) -> torch.Tensor:
    return torch.nn.functional.pad(obs, (0, width - obs.shape[-1])) if obs.shape[-1] < width else obs


class SpreadEnv(VectorParticleEnv):
    """spread-v0 (MPE2 simple_spread_v3): N agents cover N landmarks and avoid bumping into each other.

    Reward of agent i per step: `(1 - local_ratio) * G + local_ratio * L_i` with G = -sum over landmarks of the
    distance to the closest agent (shared) and L_i = -(number of other agents overlapping agent i). With N=3 and
    25 steps a random team earns about -26.5 per agent per episode, a good one about -7.5.
    Observation (4N + 2(N-1) + 2(N-1), 18 for N=3): own velocity, own position, landmarks relative to the agent,
    other agents relative to the agent, and the other agents' (silent, always zero) communication as in MPE2.
    """

    env_id = "spread-v0"
    title = "spread (cooperative navigation)"
    rules = ("Cover every landmark with an agent: all agents share minus the sum over landmarks of the distance to "
             "the closest agent; bumping into another agent costs each of you. Moves push you; you keep momentum.")

    def __init__(self, num_envs: int = 1, device: str = "cpu", seed: int | None = None, N: int = 3,
                 local_ratio: float = 0.5, max_steps: int = 25, continuous_actions: bool = False) -> None:
        super().__init__(num_envs, device, seed, max_steps, continuous_actions)
        if N < 1:
            raise ParameterError("spread-v0: N must be at least 1")
        if not 0.0 <= local_ratio <= 1.0:
            raise ParameterError("spread-v0: local_ratio must be between 0 and 1")
        self.N, self.local_ratio = N, float(local_ratio)
        self._setup([f"agent_{i}" for i in range(N)], [0] * N, sizes=[0.15] * N + [0.05] * N,
                    accel=[DEFAULT_ACCEL] * N, max_speed=[math.inf] * N, collide=[True] * N + [False] * N,
                    colors=[AGENT_BLUE] * N + [LANDMARK_GREY] * N)
        self._other_ids = _others(N, self.device)
        self._not_self = 1.0 - torch.eye(N, device=self.device)
        self._finish_setup()

    def _reset_worlds(self, mask: torch.Tensor) -> None:
        self.pos = self._blend(mask, self.uniform(self.num_envs, 2 * self.N, 2), self.pos)

    def _relative(self) -> torch.Tensor:
        """Every entity relative to every agent: [B, N, E, 2]."""
        return self.pos[:, None, :, :] - self.pos[:, : self.N, None, :]

    def _observations(self) -> torch.Tensor:
        N, B = self.N, self.num_envs
        rel = self._relative()
        others = rel[:, torch.arange(N, device=self.device)[:, None], self._other_ids]
        comm = self.vel.new_zeros(B, N, 2 * (N - 1))
        return torch.cat([self.vel, self.pos[:, :N], rel[:, :, N:].reshape(B, N, -1), others.reshape(B, N, -1), comm],
                         dim=-1)

    def _rewards(self) -> torch.Tensor:
        N = self.N
        rel = self._relative()
        dist = rel.norm(dim=-1)
        cover = -dist[:, :, N:].min(dim=1).values.sum(dim=-1, keepdim=True)
        collisions = ((dist[:, :, :N] < 0.3).float() * self._not_self).sum(dim=-1)
        return (1.0 - self.local_ratio) * cover - self.local_ratio * collisions

    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Greedy landmark assignment (closest pairs first), then steer to the own landmark and brake there."""
        N, M = self.N, obs.shape[0]
        landmarks = obs[:, 4: 4 + 2 * N].reshape(M, N, 2)
        agents = torch.cat([obs.new_zeros(M, 1, 2), obs[:, 4 + 2 * N: 4 + 2 * N + 2 * (N - 1)].reshape(M, N - 1, 2)],
                           dim=1)
        mine = greedy_assignment((landmarks[:, None] - agents[:, :, None]).norm(dim=-1))[:, 0]
        target = landmarks[torch.arange(M, device=obs.device), mine]
        return target - BRAKE * obs[:, 0:2]

    def reward_range(self) -> tuple[float, float]:
        return (-(1.0 - self.local_ratio) * self.N * 4.0 - self.local_ratio * (self.N - 1), 0.0)


class AdversaryEnv(VectorParticleEnv):
    """adversary-v0 (MPE2 simple_adversary_v3): N good agents lead one adversary away from a goal landmark.

    Agents `adversary_0, agent_0..agent_{N-1}` (teams 0 and 1); N landmarks, one of which is the goal that only the
    good agents know. Rewards per step: the adversary earns -d(adversary, goal); each good agent earns
    -min over good agents of d(good, goal) + d(adversary, goal). Nobody collides.
    Observation of a good agent (4N + 2): goal relative position, landmarks relative, other agents relative
    (adversary first); the adversary's (4N) has no goal and is zero-padded at the end to the same size.
    """

    env_id = "adversary-v0"
    title = "adversary (physical deception)"
    rules = ("One landmark is the goal. Good agents share the reward of the good agent closest to the goal and gain "
             "the adversary's distance from it; the adversary does not know the goal and earns minus its distance "
             "to it.")

    def __init__(self, num_envs: int = 1, device: str = "cpu", seed: int | None = None, N: int = 2,
                 max_steps: int = 25, continuous_actions: bool = False) -> None:
        super().__init__(num_envs, device, seed, max_steps, continuous_actions)
        if N < 1:
            raise ParameterError("adversary-v0: N must be at least 1")
        self.N = N
        A = N + 1
        self._setup(["adversary_0", *[f"agent_{i}" for i in range(N)]], [0] + [1] * N, sizes=[0.15] * A + [0.08] * N,
                    accel=[DEFAULT_ACCEL] * A, max_speed=[math.inf] * A, collide=[False] * (A + N),
                    colors=[ADVERSARY_RED] + [AGENT_BLUE] * N + [LANDMARK_GREY] * N)
        self._other_ids = _others(A, self.device)
        self.goal = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self._finish_setup()

    def _reset_worlds(self, mask: torch.Tensor) -> None:
        goal = torch.randint(self.N, (self.num_envs,), generator=self.generator, device=self.device)
        self.goal = torch.where(mask, goal, self.goal)
        self.pos = self._blend(mask, self.uniform(self.num_envs, self.num_entities, 2), self.pos)

    def goal_position(self) -> torch.Tensor:
        """[B, 2]"""
        index = (self.num_agents + self.goal)[:, None, None].expand(-1, 1, 2)
        return self.pos.gather(1, index)[:, 0]

    def _observations(self) -> torch.Tensor:
        A, B = self.num_agents, self.num_envs
        agents = self.pos[:, :A]
        rel = self.pos[:, None, :, :] - agents[:, :, None, :]
        landmarks = rel[:, :, A:].reshape(B, A, -1)
        others = rel[:, torch.arange(A, device=self.device)[:, None], self._other_ids].reshape(B, A, -1)
        goal = self.goal_position()[:, None, :] - agents
        good = torch.cat([goal[:, 1:], landmarks[:, 1:], others[:, 1:]], dim=-1)
        adversary = _pad(torch.cat([landmarks[:, :1], others[:, :1]], dim=-1), good.shape[-1])
        return torch.cat([adversary, good], dim=1)

    def _rewards(self) -> torch.Tensor:
        to_goal = (self.pos[:, : self.num_agents] - self.goal_position()[:, None, :]).norm(dim=-1)
        adversary = to_goal[:, :1]
        good = -to_goal[:, 1:].min(dim=1, keepdim=True).values + adversary
        return torch.cat([-adversary, good.expand(-1, self.N)], dim=1)

    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Good agents split up to cover every landmark (so the goal does not stand out); the adversary heads for
        the landmark that some good agent is closest to."""
        N, M = self.N, obs.shape[0]
        rows = torch.arange(M, device=obs.device)
        # Good agent layout: goal (2), landmarks (2N), adversary (2), other good agents (2(N-1)).
        landmarks = obs[:, 2: 2 + 2 * N].reshape(M, N, 2)
        mates = torch.cat([obs.new_zeros(M, 1, 2), obs[:, 4 + 2 * N: 2 + 4 * N].reshape(M, N - 1, 2)], dim=1)
        mine = greedy_assignment((landmarks[:, None] - mates[:, :, None]).norm(dim=-1))[:, 0]
        good_target = landmarks[rows, mine]
        # Adversary layout: landmarks (2N), good agents (2N).
        seen = obs[:, : 2 * N].reshape(M, N, 2)
        goods = obs[:, 2 * N: 4 * N].reshape(M, N, 2)
        closeness = (seen[:, :, None] - goods[:, None]).norm(dim=-1).min(dim=-1).values
        adversary_target = seen[rows, closeness.argmin(dim=-1)]
        target = torch.where((agent_index == 0)[:, None], adversary_target, good_target)
        return 0.6 * target

    def reward_range(self) -> tuple[float, float]:
        return (-4.0, 4.0)


class TagEnv(VectorParticleEnv):
    """tag-v0 (MPE2 simple_tag_v3): slower predators (adversaries) chase faster prey among obstacles.

    Agents `adversary_0..`, then `agent_0..` (teams 0 and 1), and `num_obstacles` fixed obstacles that everyone
    bumps into. Rewards per step: every adversary earns +10 for each (prey, adversary) pair in contact; a prey loses
    10 for each adversary touching it and is penalised for leaving the field: per axis, 0 below |x| = 0.9,
    10 (|x| - 0.9) up to 1, then min(exp(2|x| - 2), 10).
    Observation: own velocity, own position, obstacles relative, other agents relative (adversaries first), and the
    velocities of the other prey; prey observations are zero-padded at the end to the adversaries' size.
    """

    env_id = "tag-v0"
    title = "tag (predator-prey)"
    rules = ("Adversaries earn 10 for every touch of a prey; prey lose 10 per touch and are penalised for running "
             "off the field. Adversaries are bigger and slower; grey obstacles block everyone.")

    def __init__(self, num_envs: int = 1, device: str = "cpu", seed: int | None = None, num_good: int = 1,
                 num_adversaries: int = 3, num_obstacles: int = 2, max_steps: int = 25,
                 continuous_actions: bool = False) -> None:
        super().__init__(num_envs, device, seed, max_steps, continuous_actions)
        if num_good < 1 or num_adversaries < 1 or num_obstacles < 0:
            raise ParameterError("tag-v0: needs num_good >= 1, num_adversaries >= 1, num_obstacles >= 0")
        self.num_good, self.num_adversaries, self.num_obstacles = num_good, num_adversaries, num_obstacles
        K, G, L = num_adversaries, num_good, num_obstacles
        self._setup([f"adversary_{i}" for i in range(K)] + [f"agent_{i}" for i in range(G)], [0] * K + [1] * G,
                    sizes=[0.075] * K + [0.05] * G + [0.2] * L, accel=[3.0] * K + [4.0] * G,
                    max_speed=[1.0] * K + [1.3] * G, collide=[True] * (K + G + L),
                    colors=[ADVERSARY_RED] * K + [GOOD_GREEN] * G + [LANDMARK_GREY] * L)
        self._other_ids = _others(K + G, self.device)
        self._finish_setup()

    def _reset_worlds(self, mask: torch.Tensor) -> None:
        A, L, B = self.num_agents, self.num_obstacles, self.num_envs
        fresh = torch.cat([self.uniform(B, A, 2), self.uniform(B, L, 2, low=-0.9, high=0.9)], dim=1)
        self.pos = self._blend(mask, fresh, self.pos)

    def _observations(self) -> torch.Tensor:
        A, K, B = self.num_agents, self.num_adversaries, self.num_envs
        agents = self.pos[:, :A]
        rel = self.pos[:, None, :, :] - agents[:, :, None, :]
        obstacles = rel[:, :, A:].reshape(B, A, -1)
        others = rel[:, torch.arange(A, device=self.device)[:, None], self._other_ids].reshape(B, A, -1)
        prey_vel = self.vel[:, K:]
        # Adversaries see every prey's velocity; a prey sees the other prey's.
        other_prey_vel = prey_vel[:, None].expand(B, A, -1, 2)
        keep = self._other_ids[K:] - K  # for prey i: the other agents' indices, minus K -> other prey among them
        adversary_part = torch.cat([self.vel[:, :K], agents[:, :K], obstacles[:, :K], others[:, :K],
                                    other_prey_vel[:, :K].reshape(B, K, -1)], dim=-1)
        prey_vel_seen = prey_vel[:, keep[:, K:]].reshape(B, self.num_good, -1)
        prey_part = torch.cat([self.vel[:, K:], agents[:, K:], obstacles[:, K:], others[:, K:], prey_vel_seen], dim=-1)
        return torch.cat([adversary_part, _pad(prey_part, adversary_part.shape[-1])], dim=1)

    def _contacts(self) -> torch.Tensor:
        """[B, K, G]: which adversary touches which prey."""
        K = self.num_adversaries
        delta = self.pos[:, :K, None, :] - self.pos[:, None, K: self.num_agents, :]
        return (delta.norm(dim=-1) < self.sizes[:K, None] + self.sizes[None, K: self.num_agents]).float()

    def _rewards(self) -> torch.Tensor:
        contacts = self._contacts()
        adversary = 10.0 * contacts.sum(dim=(1, 2))[:, None].expand(-1, self.num_adversaries)
        x = self.pos[:, self.num_adversaries: self.num_agents].abs()
        bound = torch.where(x < 0.9, torch.zeros_like(x),
                            torch.where(x < 1.0, (x - 0.9) * 10, torch.exp(2 * x - 2).clamp(max=10.0)))
        prey = -10.0 * contacts.sum(dim=1) - bound.sum(dim=-1)
        return torch.cat([adversary, prey], dim=1)

    def _heuristic_forces(self, obs: torch.Tensor, agent_index: torch.Tensor) -> torch.Tensor:
        """Adversaries chase the nearest prey (aiming a little ahead of it); prey flee from the adversaries,
        weighted by closeness, and turn back before the field's edge."""
        K, G, L, M = self.num_adversaries, self.num_good, self.num_obstacles, obs.shape[0]
        A = K + G
        vel, pos = obs[:, 0:2], obs[:, 2:4]
        others = obs[:, 4 + 2 * L: 4 + 2 * L + 2 * (A - 1)].reshape(M, A - 1, 2)
        # An adversary's others: K-1 adversaries then G prey; prey velocities follow.
        prey = others[:, K - 1:]
        prey_vel = obs[:, 4 + 2 * L + 2 * (A - 1): 4 + 2 * L + 2 * (A - 1) + 2 * G].reshape(M, G, 2)
        aim = prey + 0.3 * prey_vel
        nearest = prey.norm(dim=-1).argmin(dim=-1)
        chase = aim[torch.arange(M, device=obs.device), nearest] - 0.2 * vel
        # A prey's others: K adversaries first.
        hunters = others[:, :K]
        distance = hunters.norm(dim=-1, keepdim=True).clamp(min=0.05)
        flee = -(hunters / distance ** 3).sum(dim=1)
        flee = flee / flee.norm(dim=-1, keepdim=True).clamp(min=1e-6)
        edge = torch.where(pos.abs() > 0.7, -pos.sign() * (pos.abs() - 0.7) * 8.0, torch.zeros_like(pos))
        escape = flee + edge - 0.2 * vel
        return torch.where((agent_index < K)[:, None], chase, escape)

    def reward_range(self) -> tuple[float, float]:
        return (-10.0 * self.num_adversaries - 20.0, 10.0 * self.num_adversaries * self.num_good)
