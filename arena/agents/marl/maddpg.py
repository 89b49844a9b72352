"""MADDPG: multi-agent deep deterministic policy gradient (Lowe et al., "Multi-Agent Actor-Critic for Mixed
Cooperative-Competitive Environments", 2017).

Each agent has a deterministic actor on its own observation and a centralised critic Q_i(x, a_1, ..., a_N) that sees
every agent's observation (x) and action, trained off-policy from a replay buffer towards
r_i + gamma * Q'_i(x', a'_1, ..., a'_N) with target actors and critics that trail by Polyak averaging. Discrete
actions use the Gumbel-softmax (straight-through) relaxation, as the authors' released code does: the actor's
logits are sampled with Gumbel noise for exploration and differentiated through the relaxed one-hot action. The
hard sample is a draw from softmax(logits) at any `temperature`; the temperature shapes only the gradient (lower:
closer to the hard action's, noisier).
With `ensemble = K` every agent keeps K sub-policies and draws one per episode (the paper's policy ensembles,
for robustness against changing opponents); each sub-policy is trained on the shared replay, i.e. against the
mixture of the other agents' sub-policies. Competitive tasks work unchanged: each critic fits its own reward.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from arena.agents.marl.batching import action_mask_of
from arena.agents.marl.configs import Hyperparameters, hyperparameter
from arena.agents.marl.networks import Policy, build_network, masked_logits, policy_meta
from arena.errors import ConfigError


@dataclass
class MADDPGConfig(Hyperparameters):
    """Hyperparameters (defaults after the authors' code: 2 x 64 ReLU, lr 1e-2, gamma 0.95, tau 0.01, batch 1024,
    one update per 100 collected transitions, gradient norm 0.5)."""

    algorithm: ClassVar[str] = "maddpg"

    num_envs: int = hyperparameter(16, "parallel worlds (`--envs`)")
    buffer_size: int = hyperparameter(200_000, "replay capacity in joint transitions", minimum=1)
    batch_size: int = hyperparameter(1024, "transitions per gradient step", minimum=1)
    lr: float = hyperparameter(1e-2, "actor learning rate (Adam)")
    critic_lr: float = hyperparameter(1e-2, "critic learning rate (Adam)")
    gamma: float = hyperparameter(0.95, "discount")
    tau: float = hyperparameter(0.01, "Polyak step of the target networks")
    hidden: tuple[int, ...] = hyperparameter((64, 64), "hidden layer sizes", minimum=1)
    activation: str = hyperparameter("relu", "hidden activation", choices=("tanh", "relu"))
    shared_actor: bool = hyperparameter(False, "one actor for all agents (with one-hot agent ids), else one per agent")
    shared_critic: bool = hyperparameter(False, "one critic for all agents, else one per agent")
    warmup: int = hyperparameter(25_600, "transitions stored before the first gradient step", minimum=0)
    update_every: int = hyperparameter(100, "collected transitions per gradient step", minimum=1)
    max_grad_norm: float = hyperparameter(0.5, "gradient norm clip")
    policy_reg: float = hyperparameter(1e-3, "weight of the squared-logits penalty on the actors")
    temperature: float = hyperparameter(1.0, "Gumbel-softmax temperature (shapes only the actor's gradient)")
    ensemble: int = hyperparameter(1, "sub-policies per agent, one drawn per episode", minimum=1)


class ReplayBuffer:
    """A ring of joint transitions of all agents: [capacity, ...] tensors per field."""

    def __init__(
        self, capacity: int, shapes: dict[str, tuple[tuple[int, ...], torch.dtype]], device: torch.device
    ) -> None:
        self.capacity, self.size, self.cursor = capacity, 0, 0
        self.data = {
            name: torch.zeros((capacity, *shape), dtype=dtype, device=device) for name, (shape, dtype) in shapes.items()
        }

    def add(self, **batch: torch.Tensor) -> None:
        count = next(iter(batch.values())).shape[0]
        index = (self.cursor + torch.arange(count, device=next(iter(self.data.values())).device)) % self.capacity
        for name, value in batch.items():
            self.data[name][index] = value
        self.cursor = (self.cursor + count) % self.capacity
        self.size = min(self.size + count, self.capacity)

    def sample(self, count: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        device = next(iter(self.data.values())).device
        index = torch.randint(self.size, (count,), generator=generator, device=device)
        return {name: tensor[index] for name, tensor in self.data.items()}


def gumbel_softmax(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    """A hard one-hot sample whose gradient is that of the relaxed softmax sample (straight-through)."""
    uniform = torch.rand(logits.shape, generator=generator, device=logits.device).clamp(1e-10, 1 - 1e-10)
    soft = torch.softmax((logits - torch.log(-torch.log(uniform))) / temperature, dim=-1)
    hard = nn.functional.one_hot(soft.argmax(-1), logits.shape[-1]).to(soft.dtype)
    return hard + soft - soft.detach()


class MADDPG:
    """Trainer: `iterate()` collects from the batched env and makes the due gradient steps."""

    name: ClassVar[str] = "maddpg"
    Config: ClassVar[type[MADDPGConfig]] = MADDPGConfig
    stat_keys: ClassVar[tuple[str, ...]] = ("critic_loss", "actor_loss", "q")

    def __init__(self, env: Any, config: MADDPGConfig, seed: int = 0, device: str = "cpu") -> None:
        if getattr(env, "continuous", False):
            raise ConfigError(
                "maddpg trains discrete-action envs (Gumbel-softmax); make the env with continuous_actions=False"
            )
        if getattr(env, "turn_based", False):
            raise ConfigError("maddpg needs a simultaneous-move env; use mappo or ippo for turn-based games")
        config.validate(self.name)
        self.env, self.config, self.device = env, config, torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        torch.manual_seed(seed)
        n, k, d, a = env.num_agents, config.ensemble, env.obs_dim, env.num_actions
        actor_args = {
            "in_dim": d,
            "out_dim": a,
            "num_agents": n * k,
            "hidden": list(config.hidden),
            "shared": config.shared_actor,
            "out_gain": 0.01,
            "activation": config.activation,
        }
        self.policy = Policy(
            "mlp", actor_args, policy_meta(env, self.name, stochastic=False, ensemble=k, ensemble_agents=n)
        ).to(self.device)
        self.critic = build_network(
            "mlp",
            in_dim=n * (d + a),
            out_dim=1,
            num_agents=n,
            hidden=list(config.hidden),
            shared=config.shared_critic,
            activation=config.activation,
        ).to(self.device)
        self.target_policy = copy.deepcopy(self.policy).requires_grad_(False)
        self.target_critic = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.lr)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr)
        shapes = {
            "obs": ((n, d), torch.float32),
            "actions": ((n,), torch.long),
            "rewards": ((n,), torch.float32),
            "next_obs": ((n, d), torch.float32),
            "terminated": ((), torch.bool),
            "members": ((n,), torch.long),
            "next_mask": ((n, a), torch.bool),
        }
        self.buffer = ReplayBuffer(config.buffer_size, shapes, self.device)
        self.obs = env.reset(seed=seed).to(self.device)
        self.members = self.draw_members(env.num_envs)
        self.env_steps, self.updates, self.due = 0, 0, 0.0

    def draw_members(self, count: int) -> torch.Tensor:
        """Which sub-policy each agent of `count` worlds uses this episode: [count, N]."""
        return torch.randint(
            self.config.ensemble, (count, self.env.num_agents), generator=self.generator, device=self.device
        )

    def ensemble_logits(self, policy: Policy, obs: torch.Tensor) -> torch.Tensor:
        """Logits of every sub-policy: obs [..., N, D] -> [..., K, N, A]."""
        k, n = self.config.ensemble, self.env.num_agents
        logits = policy.actor(obs.repeat(*(1,) * (obs.dim() - 2), k, 1))
        return logits.reshape(*obs.shape[:-2], k, n, -1)

    def member_logits(
        self, policy: Policy, obs: torch.Tensor, members: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Logits of the sub-policy each agent uses: [..., N, A]."""
        logits = self.ensemble_logits(policy, obs)
        index = members.unsqueeze(-2).unsqueeze(-1).expand(*members.shape[:-1], 1, members.shape[-1], logits.shape[-1])
        return masked_logits(logits.gather(-3, index).squeeze(-3), mask)

    def critic_input(self, obs: torch.Tensor, joint: torch.Tensor) -> torch.Tensor:
        """Every agent's critic sees all observations and all actions: obs [..., N, D], joint actions
        [..., N (critic), N (slot), A] -> [..., N, N * (D + A)]."""
        n = self.env.num_agents
        flat_obs = obs.flatten(-2).unsqueeze(-2).expand(*obs.shape[:-2], n, n * obs.shape[-1])
        return torch.cat([flat_obs, joint.flatten(-2)], dim=-1)

    # -- collection
    @torch.no_grad()
    def collect(self) -> list[np.ndarray]:
        env = self.env
        mask = action_mask_of(env)
        mask = None if mask is None else mask.to(self.device)
        logits = self.member_logits(self.policy, self.obs, self.members, mask)
        actions = gumbel_softmax(logits, self.config.temperature, self.generator).argmax(-1)
        next_obs, rewards, terminated, _, info = env.step(actions)
        next_obs, done = next_obs.to(self.device), info["done_mask"].to(self.device)
        final_obs = torch.where(done[:, None, None], info["final_obs"].to(self.device), next_obs)
        next_mask = action_mask_of(env)
        next_mask = (
            torch.ones(env.num_envs, env.num_agents, env.num_actions, dtype=torch.bool, device=self.device)
            if next_mask is None
            else next_mask.to(self.device)
        )
        self.buffer.add(
            obs=self.obs,
            actions=actions,
            rewards=rewards.to(self.device),
            next_obs=final_obs,
            terminated=terminated.to(self.device),
            members=self.members,
            next_mask=next_mask,
        )
        self.obs = next_obs
        finished = []
        if done.any():
            self.members = torch.where(done[:, None], self.draw_members(env.num_envs), self.members)
            finished = list(info["episode_return"][done.cpu()].cpu().numpy())
        self.env_steps += env.num_envs
        return finished

    # -- learning
    def update(self) -> dict[str, float]:
        """One gradient step of every critic and every (sub-)policy, then the target networks follow."""
        config, n, a = self.config, self.env.num_agents, self.env.num_actions
        batch = self.buffer.sample(config.batch_size, self.generator)
        eye = torch.eye(n, dtype=torch.bool, device=self.device)
        taken = nn.functional.one_hot(batch["actions"], a).float()
        with torch.no_grad():
            next_logits = self.member_logits(
                self.target_policy, batch["next_obs"], batch["members"], batch["next_mask"]
            )
            next_joint = nn.functional.one_hot(next_logits.argmax(-1), a).float()
            next_in = self.critic_input(batch["next_obs"], next_joint.unsqueeze(-3).expand(-1, n, n, a))
            target = batch["rewards"] + config.gamma * (~batch["terminated"]).float().unsqueeze(
                -1
            ) * self.target_critic(next_in).squeeze(-1)
        q = self.critic(self.critic_input(batch["obs"], taken.unsqueeze(-3).expand(-1, n, n, a))).squeeze(-1)
        critic_loss = nn.functional.mse_loss(q, target)
        self.critic_optimizer.zero_grad()
        critic_loss.backward()
        nn.utils.clip_grad_norm_(self.critic.parameters(), config.max_grad_norm)
        self.critic_optimizer.step()

        # Each sub-policy k of agent i is scored by Q_i with its own slot replaced by its relaxed action.
        logits = self.ensemble_logits(self.policy, batch["obs"])  # [M, K, N, A]
        relaxed = gumbel_softmax(logits, config.temperature, self.generator)
        replayed = taken[:, None, None, :, :]  # [M, 1, 1, N, A]
        joint = torch.where(eye[None, None, :, :, None], relaxed.unsqueeze(-3), replayed)  # [M, K, N, N, A]
        obs = batch["obs"].unsqueeze(1).expand(-1, config.ensemble, n, -1)
        self.critic.requires_grad_(False)  # the actor's gradient flows through the critic, not into its weights
        actor_q = self.critic(self.critic_input(obs, joint)).squeeze(-1)
        actor_loss = -actor_q.mean() + config.policy_reg * logits.square().mean()
        self.actor_optimizer.zero_grad()
        actor_loss.backward()
        self.critic.requires_grad_(True)
        nn.utils.clip_grad_norm_(self.policy.parameters(), config.max_grad_norm)
        self.actor_optimizer.step()
        with torch.no_grad():
            for net, target_net in ((self.policy, self.target_policy), (self.critic, self.target_critic)):
                for p, tp in zip(net.parameters(), target_net.parameters()):
                    tp.lerp_(p, config.tau)
        self.updates += 1
        return {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item(), "q": q.mean().item()}

    def iterate(self, progress: float = 0.0) -> dict[str, Any]:
        """Collect `update_every` transitions (at least one step of every world), then make the gradient steps due:
        one per `update_every` transitions once `warmup` transitions are stored."""
        config = self.config
        episodes: list[np.ndarray] = []
        steps = max(config.update_every // self.env.num_envs, 1)
        for _ in range(steps):
            episodes.extend(self.collect())
        stats: dict[str, list[float]] = {}
        if self.buffer.size >= min(config.warmup, config.buffer_size):
            self.due += steps * self.env.num_envs / config.update_every
            while self.due >= 1:
                self.due -= 1
                for key, value in self.update().items():
                    stats.setdefault(key, []).append(value)
        return {**{k: float(np.mean(v)) for k, v in stats.items()}, "episodes": episodes}

    def hyperparameters(self) -> dict[str, Any]:
        return dataclasses.asdict(self.config)
