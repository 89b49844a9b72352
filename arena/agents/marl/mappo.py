"""MAPPO: multi-agent PPO with a centralised critic (Yu et al., "The Surprising Effectiveness of PPO in Cooperative
Multi-Agent Games", 2022).

Each agent acts from its own observation through an actor that is shared (with the agent's one-hot id appended)
or separate per agent; the critic sees the global state and predicts every agent's value. Rollouts from a batch
of worlds give per-agent GAE advantages; the actor takes clipped-ratio steps with an entropy bonus, the critic a
clipped Huber regression onto value targets normalised by running statistics (MAPPO's ValueNorm). Action masks
are respected everywhere, and in turn-based games only the player to move contributes a transition.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from arena.agents.marl.attention import entity_layout
from arena.agents.marl.batching import acting_of, action_mask_of
from arena.agents.marl.configs import Hyperparameters, hyperparameter
from arena.agents.marl.networks import Policy, build_network, policy_meta
from arena.errors import ConfigError

# ---------------------------------------------------------------------------------------------------------------
# Hyperparameters


@dataclass
class MAPPOConfig(Hyperparameters):
    """Hyperparameters (defaults follow the MAPPO paper's particle-world settings, with fewer parallel worlds)."""

    algorithm: ClassVar[str] = "mappo"

    num_envs: int = hyperparameter(64, "parallel worlds (`--envs`)")
    rollout_steps: int = hyperparameter(25, "steps per world in one rollout", minimum=1)
    epochs: int = hyperparameter(10, "passes over each rollout", minimum=1)
    minibatches: int = hyperparameter(1, "minibatches per pass", minimum=1)
    lr: float = hyperparameter(7e-4, "actor learning rate (Adam)")
    critic_lr: float = hyperparameter(7e-4, "critic learning rate (Adam)")
    anneal_lr: bool = hyperparameter(False, "anneal the learning rates linearly over the run (down to 5%)")
    gamma: float = hyperparameter(0.99, "discount")
    gae_lambda: float = hyperparameter(0.95, "GAE lambda")
    clip: float = hyperparameter(0.2, "PPO ratio clip")
    value_clip: float = hyperparameter(0.2, "clip of the critic's change from the rollout's values")
    entropy_coef: float = hyperparameter(0.01, "entropy bonus")
    value_coef: float = hyperparameter(1.0, "weight of the value loss")
    huber_delta: float = hyperparameter(10.0, "Huber loss delta of the value loss")
    max_grad_norm: float = hyperparameter(10.0, "gradient norm clip")
    value_norm: bool = hyperparameter(True, "normalise value targets by running statistics (ValueNorm)")
    hidden: tuple[int, ...] = hyperparameter((64, 64), "hidden layer sizes", minimum=1)
    activation: str = hyperparameter("tanh", "hidden activation", choices=("tanh", "relu"))
    input_norm: bool = hyperparameter(False, "layer-normalise the network inputs")
    shared_actor: bool = hyperparameter(True, "one actor for all agents (with one-hot agent ids), else one per agent")
    shared_critic: bool = hyperparameter(True, "one critic for all agents, else one per agent")
    centralised_critic: bool = hyperparameter(True, "critic on the global state, else on each agent's observation")
    network: str = hyperparameter(
        "mlp", "network of the actor and of a decentralised critic", choices=("mlp", "attention")
    )
    attention_embed: int = hyperparameter(64, "attention network: embedding width", minimum=1)
    attention_heads: int = hyperparameter(4, "attention network: heads (dividing the width)", minimum=1)

    def check(self, owner: str) -> None:
        if self.network == "attention" and self.attention_embed % self.attention_heads:
            raise ConfigError(
                f"{owner}: attention_embed ({self.attention_embed}) must be a multiple of "
                f"attention_heads ({self.attention_heads})"
            )


# ---------------------------------------------------------------------------------------------------------------
# Advantages, value normalisation and rollout storage


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    acting: torch.Tensor,
    dones: torch.Tensor,
    bootstrap: torch.Tensor,
    last_value: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation per agent over [T, B, N] rollouts, returning (advantages, returns).

    Each agent's trajectory is the steps where it acts (`acting`); rewards it receives while others move are
    added to its next transition, so turn-based games and simultaneous games share one recursion. `dones[t]`
    marks a world that finished after step t; `bootstrap[t]` is the value after that cut (the value of the final
    observation when the episode was truncated, zero when it terminated); `last_value` follows the rollout.
    """
    advantages = torch.zeros_like(rewards)
    next_value, next_advantage = last_value.clone(), torch.zeros_like(last_value)
    pending = torch.zeros_like(last_value)
    for t in reversed(range(rewards.shape[0])):
        done = dones[t].unsqueeze(-1).expand_as(pending)
        next_value = torch.where(done, bootstrap[t], next_value)
        next_advantage = torch.where(done, torch.zeros_like(next_advantage), next_advantage)
        pending = torch.where(done, torch.zeros_like(pending), pending) + rewards[t]
        delta = pending + gamma * next_value - values[t]
        advantage = delta + gamma * lam * next_advantage
        act = acting[t]
        advantages[t] = torch.where(act, advantage, torch.zeros_like(advantage))
        next_value = torch.where(act, values[t], next_value)
        next_advantage = torch.where(act, advantage, next_advantage)
        pending = torch.where(act, torch.zeros_like(pending), pending)
    return advantages, advantages + values


class ValueNorm(nn.Module):
    """Running mean and variance of value targets per agent (debiased exponential averages, as in MAPPO).

    The critic predicts normalised values; targets are normalised with the running statistics, and predictions
    are de-normalised before they enter GAE.
    """

    mean: torch.Tensor
    mean_sq: torch.Tensor
    debias: torch.Tensor

    def __init__(self, num_agents: int, beta: float = 0.99999, epsilon: float = 1e-5) -> None:
        super().__init__()
        self.beta, self.epsilon = beta, epsilon
        self.register_buffer("mean", torch.zeros(num_agents))
        self.register_buffer("mean_sq", torch.zeros(num_agents))
        self.register_buffer("debias", torch.zeros(num_agents))

    @torch.no_grad()
    def update(self, x: torch.Tensor, mask: torch.Tensor) -> None:
        """x, mask: [..., N]; only masked-in entries count."""
        weight = mask.to(x.dtype).reshape(-1, x.shape[-1])
        values = x.reshape(-1, x.shape[-1])
        count = weight.sum(0)
        seen = count > 0
        batch_mean = (values * weight).sum(0) / count.clamp(min=1)
        batch_sq = (values.square() * weight).sum(0) / count.clamp(min=1)
        beta = torch.where(seen, torch.full_like(count, self.beta), torch.ones_like(count))
        self.mean.mul_(beta).add_(batch_mean * (1 - beta))
        self.mean_sq.mul_(beta).add_(batch_sq * (1 - beta))
        self.debias.mul_(beta).add_(1 - beta)

    def _stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        debias = self.debias.clamp(min=self.epsilon)
        mean = self.mean / debias
        var = (self.mean_sq / debias - mean.square()).clamp(min=1e-2)
        return mean, var.sqrt()

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self._stats()
        return (x - mean) / std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self._stats()
        return x * std + mean


class RolloutBuffer:
    """Fixed-size [T, B, ...] tensors for one on-policy rollout, filled step by step."""

    def __init__(
        self, steps: int, shapes: dict[str, tuple[tuple[int, ...], torch.dtype]], device: torch.device
    ) -> None:
        self.steps = steps
        self.data = {
            name: torch.zeros((steps, *shape), dtype=dtype, device=device) for name, (shape, dtype) in shapes.items()
        }

    def add(self, t: int, **values: torch.Tensor) -> None:
        for name, value in values.items():
            self.data[name][t] = value

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.data[name]

    def flat(self, name: str) -> torch.Tensor:
        """Merge the time and world dimensions: [T * B, ...]."""
        tensor = self.data[name]
        return tensor.reshape(-1, *tensor.shape[2:])


# ---------------------------------------------------------------------------------------------------------------
# Networks


def actor_network_args(config: MAPPOConfig, env: Any) -> tuple[str, dict[str, Any]]:
    """Network kind and constructor arguments of the actor for `env` under `config`."""
    if config.network == "attention":
        own_dim, entity_dim = entity_layout(env)
        return "attention", {
            "own_dim": own_dim,
            "entity_dim": entity_dim,
            "out_dim": env.num_actions,
            "embed": config.attention_embed,
            "heads": config.attention_heads,
            "out_gain": 0.01,
        }
    return "mlp", {
        "in_dim": env.obs_dim,
        "out_dim": env.num_actions,
        "num_agents": env.num_agents,
        "hidden": list(config.hidden),
        "shared": config.shared_actor,
        "out_gain": 0.01,
        "activation": config.activation,
        "input_norm": config.input_norm,
    }


# ---------------------------------------------------------------------------------------------------------------
# The trainer


class MAPPO:
    """Trainer: `iterate()` collects one rollout from the batched env and updates actor and critic."""

    name: ClassVar[str] = "mappo"
    Config: ClassVar[type[MAPPOConfig]] = MAPPOConfig
    stat_keys: ClassVar[tuple[str, ...]] = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")

    def __init__(self, env: Any, config: MAPPOConfig, seed: int = 0, device: str = "cpu") -> None:
        if getattr(env, "continuous", False):
            raise ConfigError(f"{self.name} trains discrete-action envs; make the env with continuous_actions=False")
        config.validate(self.name)
        self.env, self.config, self.device = env, config, torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        torch.manual_seed(seed)
        n = env.num_agents
        network, args = actor_network_args(config, env)
        self.policy = Policy(network, args, policy_meta(env, self.name, stochastic=True)).to(self.device)
        self.critic = self.build_critic(env, config).to(self.device)
        self.value_norm = ValueNorm(n).to(self.device)
        self.optimizer = torch.optim.Adam(
            [
                {"params": self.policy.parameters(), "lr": config.lr},
                {"params": self.critic.parameters(), "lr": config.critic_lr},
            ],
            eps=1e-5,
        )
        self.env_steps = 0
        self.obs = env.reset(seed=seed).to(self.device)
        shapes = {
            "obs": ((env.num_envs, n, env.obs_dim), torch.float32),
            "critic_in": ((env.num_envs, *self.critic_input(self.obs).shape[1:]), torch.float32),
            "mask": ((env.num_envs, n, env.num_actions), torch.bool),
            "acting": ((env.num_envs, n), torch.bool),
            "actions": ((env.num_envs, n), torch.long),
            "logp": ((env.num_envs, n), torch.float32),
            "values": ((env.num_envs, n), torch.float32),
            "raw_values": ((env.num_envs, n), torch.float32),
            "rewards": ((env.num_envs, n), torch.float32),
            "dones": ((env.num_envs,), torch.bool),
            "bootstrap": ((env.num_envs, n), torch.float32),
        }
        self.buffer = RolloutBuffer(config.rollout_steps, shapes, self.device)

    # -- critic
    def build_critic(self, env: Any, config: MAPPOConfig) -> nn.Module:
        """Centralised: an MLP over the global state, one output per agent."""
        if config.network == "attention" and not config.centralised_critic:
            args = dict(actor_network_args(config, env)[1], out_dim=1, out_gain=1.0)
            return build_network("attention", **args)
        return build_network(
            "mlp",
            in_dim=env.state_dim if config.centralised_critic else env.obs_dim,
            out_dim=1,
            num_agents=env.num_agents,
            hidden=list(config.hidden),
            shared=config.shared_critic,
            activation=config.activation,
            input_norm=config.input_norm,
        )

    def critic_input(self, obs: torch.Tensor) -> torch.Tensor:
        """[B, N, d]: the global state for every agent (centralised) or each agent's own observation."""
        if not self.config.centralised_critic:
            return obs
        return self.state_input(self.env.state().to(self.device))

    def state_input(self, state: torch.Tensor) -> torch.Tensor:
        """The global state [B, d] as every agent's critic input [B, N, d]."""
        return state.unsqueeze(-2).expand(*state.shape[:-1], self.env.num_agents, state.shape[-1])

    def raw_value(self, critic_in: torch.Tensor) -> torch.Tensor:
        return self.critic(critic_in).squeeze(-1)

    def value(self, critic_in: torch.Tensor) -> torch.Tensor:
        raw = self.raw_value(critic_in)
        return self.value_norm.denormalize(raw) if self.config.value_norm else raw

    def final_value(self, info: dict[str, Any], truncated: torch.Tensor) -> torch.Tensor:
        """Value of the last observation of worlds cut by the time limit (zero elsewhere)."""
        bootstrap = torch.zeros(self.env.num_envs, self.env.num_agents, device=self.device)
        if not truncated.any():
            return bootstrap
        if self.config.centralised_critic:
            if "final_state" not in info:
                return bootstrap  # without the final state a time limit is treated as the end of the episode
            critic_in = self.state_input(info["final_state"].to(self.device))
        else:
            critic_in = info["final_obs"].to(self.device)
        values = self.value(critic_in)
        return torch.where(truncated.unsqueeze(-1), values, bootstrap)

    # -- training
    @torch.no_grad()
    def collect(self) -> list[np.ndarray]:
        """Fill the rollout buffer; returns the per-agent returns of the episodes that finished."""
        finished = []
        env, buffer = self.env, self.buffer
        for t in range(self.config.rollout_steps):
            mask = action_mask_of(env)
            mask = (
                torch.ones(env.num_envs, env.num_agents, env.num_actions, dtype=torch.bool, device=self.device)
                if mask is None
                else mask.to(self.device)
            )
            acting = acting_of(env).to(self.device)
            critic_in = self.critic_input(self.obs)
            raw = self.raw_value(critic_in)
            values = self.value_norm.denormalize(raw) if self.config.value_norm else raw
            dist = torch.distributions.Categorical(logits=self.policy.logits(self.obs, mask=mask))
            probs = dist.probs.reshape(-1, env.num_actions)
            actions = torch.multinomial(probs, 1, generator=self.generator).reshape(env.num_envs, env.num_agents)
            next_obs, rewards, terminated, truncated, info = env.step(actions)
            done = info["done_mask"].to(self.device)
            buffer.add(
                t,
                obs=self.obs,
                critic_in=critic_in,
                mask=mask,
                acting=acting,
                actions=actions,
                logp=dist.log_prob(actions),
                values=values,
                raw_values=raw,
                rewards=rewards.to(self.device),
                dones=done,
                bootstrap=self.final_value(info, truncated.to(self.device)),
            )
            if done.any():
                finished.extend(info["episode_return"][done.cpu()].cpu().numpy())
            self.obs = next_obs.to(self.device)
        self.env_steps += self.config.rollout_steps * env.num_envs
        return finished

    def update(self, progress: float = 0.0) -> dict[str, float]:
        """PPO epochs over the buffer; `progress` in [0, 1] anneals the learning rates when asked to."""
        config, buffer = self.config, self.buffer
        if config.anneal_lr:
            for group, lr in zip(self.optimizer.param_groups, (config.lr, config.critic_lr)):
                group["lr"] = lr * max(1.0 - progress, 0.05)
        with torch.no_grad():
            last_value = self.value(self.critic_input(self.obs))
            advantages, returns = compute_gae(
                buffer["rewards"],
                buffer["values"],
                buffer["acting"],
                buffer["dones"],
                buffer["bootstrap"],
                last_value,
                config.gamma,
                config.gae_lambda,
            )
            if config.value_norm:
                self.value_norm.update(returns, buffer["acting"])
        acting = buffer.flat("acting")
        advantages = advantages.reshape(acting.shape)
        chosen = advantages[acting]
        advantages = (advantages - chosen.mean()) / (chosen.std() + 1e-8) if chosen.numel() > 1 else advantages
        returns = returns.reshape(acting.shape)
        obs, critic_in, mask = buffer.flat("obs"), buffer.flat("critic_in"), buffer.flat("mask")
        actions, old_logp, old_raw = buffer.flat("actions"), buffer.flat("logp"), buffer.flat("raw_values")
        size = acting.shape[0]
        batch = max(size // config.minibatches, 1)
        stats: dict[str, list[float]] = {
            "policy_loss": [],
            "value_loss": [],
            "entropy": [],
            "approx_kl": [],
            "clip_fraction": [],
        }
        for _ in range(config.epochs):
            order = torch.randperm(size, generator=self.generator, device=self.device)
            for start in range(0, size, batch):
                index = order[start : start + batch]
                act = acting[index].float()
                count = act.sum().clamp(min=1.0)
                dist = torch.distributions.Categorical(logits=self.policy.logits(obs[index], mask=mask[index]))
                logp = dist.log_prob(actions[index])
                log_ratio = logp - old_logp[index]
                ratio = log_ratio.exp()
                adv = advantages[index]
                surrogate = torch.min(ratio * adv, ratio.clamp(1 - config.clip, 1 + config.clip) * adv)
                policy_loss = -(surrogate * act).sum() / count
                entropy = (dist.entropy() * act).sum() / count
                value_loss = self.value_loss(critic_in[index], returns[index], old_raw[index], act, count)
                loss = policy_loss - config.entropy_coef * entropy + config.value_coef * value_loss
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.policy.parameters(), config.max_grad_norm)
                nn.utils.clip_grad_norm_(self.critic.parameters(), config.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    stats["policy_loss"].append(policy_loss.item())
                    stats["value_loss"].append(value_loss.item())
                    stats["entropy"].append(entropy.item())
                    stats["approx_kl"].append((((ratio - 1) - log_ratio) * act).sum().item() / count.item())
                    stats["clip_fraction"].append(
                        (((ratio - 1).abs() > config.clip).float() * act).sum().item() / count.item()
                    )
        return {k: float(np.mean(v)) for k, v in stats.items()}

    def value_loss(
        self,
        critic_in: torch.Tensor,
        returns: torch.Tensor,
        old_raw: torch.Tensor,
        act: torch.Tensor,
        count: torch.Tensor,
    ) -> torch.Tensor:
        """Clipped Huber loss in the normalised value space."""
        config = self.config
        target = self.value_norm.normalize(returns) if config.value_norm else returns
        raw = self.raw_value(critic_in)
        clipped = old_raw + (raw - old_raw).clamp(-config.value_clip, config.value_clip)
        huber = nn.functional.huber_loss
        loss = torch.max(
            huber(raw, target, reduction="none", delta=config.huber_delta),
            huber(clipped, target, reduction="none", delta=config.huber_delta),
        )
        return (loss * act).sum() / count

    def iterate(self, progress: float = 0.0) -> dict[str, Any]:
        """One rollout and one update; the finished episodes' per-agent returns come back under `episodes`."""
        episodes = self.collect()
        stats = self.update(progress)
        return {**stats, "episodes": episodes}

    def hyperparameters(self) -> dict[str, Any]:
        return dataclasses.asdict(self.config)
