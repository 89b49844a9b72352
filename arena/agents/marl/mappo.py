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
from typing import Any

import numpy as np
import torch
from torch import nn

from arena.agents.marl.common import (
    Policy,
    RolloutBuffer,
    ValueNorm,
    acting_of,
    action_mask_of,
    build_network,
    compute_gae,
)
from arena.core import ConfigError


@dataclass
class MAPPOConfig:
    """Hyperparameters (defaults follow the MAPPO paper's particle-world settings, with fewer parallel worlds)."""

    num_envs: int = 64
    rollout_steps: int = 25
    epochs: int = 10
    minibatches: int = 1
    lr: float = 7e-4
    critic_lr: float = 7e-4
    anneal_lr: bool = False
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip: float = 0.2
    value_clip: float = 0.2
    entropy_coef: float = 0.01
    value_coef: float = 1.0
    huber_delta: float = 10.0
    max_grad_norm: float = 10.0
    value_norm: bool = True
    hidden: tuple = (64, 64)
    activation: str = "tanh"
    input_norm: bool = False
    shared_actor: bool = True
    shared_critic: bool = True
    centralised_critic: bool = True
    network: str = "mlp"
    attention_embed: int = 64
    attention_heads: int = 4


def actor_network_args(config: Any, env: Any) -> tuple[str, dict[str, Any]]:
    """Network kind and constructor arguments of the actor for `env` under `config`."""
    if config.network == "attention":
        from arena.agents.marl.attention import entity_layout

        own_dim, entity_dim = entity_layout(env)
        return "attention", {
            "own_dim": own_dim,
            "entity_dim": entity_dim,
            "out_dim": env.num_actions,
            "embed": config.attention_embed,
            "heads": config.attention_heads,
            "out_gain": 0.01,
        }
    if config.network != "mlp":
        raise ConfigError(f"network must be mlp or attention, not {config.network!r}")
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


class MAPPO:
    """Trainer: `iterate()` collects one rollout from the batched env and updates actor and critic."""

    name = "mappo"
    Config = MAPPOConfig
    stat_keys = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")

    def __init__(self, env: Any, config: MAPPOConfig, seed: int = 0, device: str = "cpu") -> None:
        if getattr(env, "continuous", False):
            raise ConfigError(f"{self.name} trains discrete-action envs; make the env with continuous_actions=False")
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

    def critic_input(self, obs: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        """[B, N, d]: the global state for every agent (centralised) or each agent's own observation."""
        if not self.config.centralised_critic:
            return obs
        if state is None:
            state = self.env.state().to(self.device)
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
            critic_in = self.critic_input(None, info["final_state"].to(self.device))
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
