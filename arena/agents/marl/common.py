"""Shared pieces of the MARL learners: batched envs, networks, GAE, value normalisation, rollout buffer,
checkpoints and evaluation.

Every learner sees one batched interface, the particle worlds' own: `reset(seed) -> obs [B, N, obs_dim]`,
`step(actions) -> (obs, rewards [B, N], terminated [B], truncated [B], info)` with automatic reset of finished
worlds (`info["done_mask"]`, `info["episode_return"]`, `info["final_obs"]`) and `state() -> [B, state_dim]`.
Any other arena env (matrix games, OpenSpiel games through the PettingZoo AEC API) is brought to that interface by
`PettingZooBatch`, which adds `action_mask() -> bool [B, N, A]` and `acting() -> bool [B, N]` (in a turn-based game
only the player to move acts). Learners ask `action_mask_of` / `acting_of`, so both kinds of env look alike.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from arena.core import ConfigError, ParameterError

CHECKPOINT_FORMAT = 1

# ---------------------------------------------------------------------------------------------------------------
# Batched envs


def particle_scenarios() -> set[str] | None:
    """Env ids served by the batched particle worlds, or None when that package is not available."""
    try:
        from arena.envs import particles
    except ImportError:
        return None
    scenarios = getattr(particles, "SCENARIOS", None)
    return set(scenarios) if scenarios is not None else None


def make_batched_env(env_id: str, num_envs: int, device: str = "cpu", seed: int | None = None, **params: Any) -> Any:
    """A batched env for `env_id` (with optional `name(k=v)` parameters): a particle world when the id is one,
    otherwise `num_envs` copies of the arena env behind `PettingZooBatch`."""
    from arena.registry import parse_spec

    name, parsed = parse_spec(env_id)
    params = {**parsed, **params}
    if num_envs < 1:
        raise ParameterError("the number of parallel envs must be at least 1")
    scenarios = particle_scenarios()
    if scenarios is not None and name in scenarios:
        from arena.envs.particles import make_vector_env

        try:
            return make_vector_env(name, num_envs, device=device, seed=seed, **params)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"env {name}: {exc}") from None
    return PettingZooBatch(name, num_envs, seed=seed, **params)


def action_mask_of(env: Any) -> torch.Tensor | None:
    """bool [B, N, A] of legal actions, or None when every action is always legal."""
    return env.action_mask() if hasattr(env, "action_mask") else None


def acting_of(env: Any) -> torch.Tensor:
    """bool [B, N]: which agents choose an action at this step (all of them in simultaneous games)."""
    if hasattr(env, "acting"):
        return env.acting()
    return torch.ones(env.num_envs, env.num_agents, dtype=torch.bool, device=getattr(env, "device", "cpu"))


def _flat_observation(obs: Any) -> np.ndarray:
    if isinstance(obs, dict):
        obs = obs["observation"]
    return np.asarray(obs, dtype=np.float32).ravel()


class PettingZooBatch:
    """`num_envs` copies of an arena PettingZoo env (AEC or Parallel) behind the batched particle-world interface.

    Observations are flattened and zero-padded to the largest agent's size; the global state is the env's
    `state()` when it has one, else every agent's observation side by side. Finished games reset at once.
    """

    continuous = False

    def __init__(self, env_id: str, num_envs: int, seed: int | None = None, **params: Any) -> None:
        from pettingzoo import AECEnv

        from arena.registry import make_env

        self.envs = [make_env(env_id, **params) for _ in range(num_envs)]
        first = self.envs[0]
        self.env_id = env_id
        self.turn_based = isinstance(first, AECEnv)
        self.device = torch.device("cpu")
        self.num_envs = num_envs
        self.agent_names = list(first.possible_agents)
        self.num_agents = len(self.agent_names)
        self.teams = list(range(self.num_agents))
        spaces = [first.action_space(a) for a in self.agent_names]
        if not all(hasattr(s, "n") for s in spaces):
            raise ParameterError(f"env {env_id}: only discrete action spaces can be batched for training")
        self.num_actions = max(int(s.n) for s in spaces)
        self.obs_dim = max(int(np.prod(first.observation_space(a).shape)) for a in self.agent_names)
        self.max_steps = None
        self._seeds = np.random.default_rng(seed)
        self._returns = np.zeros((num_envs, self.num_agents))
        self.reset(seed)
        self.state_dim = self.state().shape[1]

    # -- per-copy helpers
    def _observe(self, env: Any, observations: dict | None = None) -> np.ndarray:
        rows = np.zeros((self.num_agents, self.obs_dim), dtype=np.float32)
        for i, agent in enumerate(self.agent_names):
            if self.turn_based:
                flat = _flat_observation(env.observe(agent))
            elif observations is not None and agent in observations:
                flat = _flat_observation(observations[agent])
            else:
                continue
            rows[i, : flat.size] = flat
        return rows

    def _info(self, env: Any, infos: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        infos = env.infos if self.turn_based else (infos or {})
        mask = np.zeros((self.num_agents, self.num_actions), dtype=bool)
        acting = np.zeros(self.num_agents, dtype=bool)
        for i, agent in enumerate(self.agent_names):
            if self.turn_based and (agent != env.agent_selection or agent not in env.agents):
                continue
            if not self.turn_based and agent not in getattr(env, "agents", []):
                continue
            info = infos.get(agent, {})
            legal = info.get("action_mask")
            row = np.ones(self.num_actions, dtype=bool) if legal is None else np.asarray(legal, dtype=bool)
            mask[i, : row.size] = row
            acting[i] = row.any()
        return mask, acting

    def _reset_one(self, b: int, seed: int | None) -> None:
        env = self.envs[b]
        if self.turn_based:
            env.reset(seed=seed)
            self._obs[b] = self._observe(env)
            self._mask[b], self._acting[b] = self._info(env)
        else:
            observations, infos = env.reset(seed=seed)
            self._obs[b] = self._observe(env, observations)
            self._mask[b], self._acting[b] = self._info(env, infos)
        self._returns[b] = 0.0

    def _next_seed(self) -> int:
        return int(self._seeds.integers(2**31 - 1))

    # -- batched interface
    def reset(self, seed: int | None = None) -> torch.Tensor:
        if seed is not None:
            self._seeds = np.random.default_rng(seed)
        self._obs = np.zeros((self.num_envs, self.num_agents, self.obs_dim), dtype=np.float32)
        self._mask = np.zeros((self.num_envs, self.num_agents, self.num_actions), dtype=bool)
        self._acting = np.zeros((self.num_envs, self.num_agents), dtype=bool)
        for b in range(self.num_envs):
            self._reset_one(b, self._next_seed())
        return torch.from_numpy(self._obs.copy())

    def action_mask(self) -> torch.Tensor:
        return torch.from_numpy(self._mask.copy())

    def acting(self) -> torch.Tensor:
        return torch.from_numpy(self._acting.copy())

    def state(self) -> torch.Tensor:
        rows = []
        for b, env in enumerate(self.envs):
            state = getattr(env, "state", None)
            try:
                rows.append(np.asarray(state(), dtype=np.float32).ravel())
            except (NotImplementedError, TypeError):  # no state() (or an attribute of that name)
                rows.append(self._obs[b].ravel())
        return torch.from_numpy(np.stack(rows))

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        actions = actions.cpu().numpy()
        rewards = np.zeros((self.num_envs, self.num_agents), dtype=np.float32)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        final_obs = self._obs.copy()
        episode_return = np.zeros((self.num_envs, self.num_agents), dtype=np.float32)
        for b, env in enumerate(self.envs):
            if self.turn_based:
                seat = self.agent_names.index(env.agent_selection)
                env.step(int(actions[b, seat]))
                rewards[b] = [env.rewards.get(a, 0.0) for a in self.agent_names]
                over = all(env.terminations.get(a, True) or env.truncations.get(a, True) for a in env.agents)
                terminated[b] = over and any(env.terminations.values())
                truncated[b] = over and not terminated[b]
                self._obs[b] = self._observe(env)
                self._mask[b], self._acting[b] = self._info(env)
            else:
                joint = {a: int(actions[b, i]) for i, a in enumerate(self.agent_names) if a in env.agents}
                observations, step_rewards, terms, truncs, infos = env.step(joint)
                rewards[b] = [step_rewards.get(a, 0.0) for a in self.agent_names]
                over = not env.agents or all(terms.get(a, False) or truncs.get(a, False) for a in joint)
                terminated[b] = over and any(terms.values())
                truncated[b] = over and not terminated[b]
                self._obs[b] = self._observe(env, observations)
                self._mask[b], self._acting[b] = self._info(env, infos)
            self._returns[b] += rewards[b]
            if terminated[b] or truncated[b]:
                final_obs[b] = self._obs[b]
                episode_return[b] = self._returns[b]
                self._reset_one(b, self._next_seed())
        done = terminated | truncated
        info = {
            "final_obs": torch.from_numpy(final_obs),
            "episode_return": torch.from_numpy(episode_return),
            "done_mask": torch.from_numpy(done),
        }
        return (
            torch.from_numpy(self._obs.copy()),
            torch.from_numpy(rewards),
            torch.from_numpy(terminated),
            torch.from_numpy(truncated),
            info,
        )

    def close(self) -> None:
        for env in self.envs:
            env.close()


# ---------------------------------------------------------------------------------------------------------------
# Networks


def layer_init(layer: nn.Module, gain: float = math.sqrt(2)) -> nn.Module:
    """Orthogonal weights and zero biases, as CleanRL and the MAPPO reference code initialise."""
    if isinstance(layer, nn.Linear):
        nn.init.orthogonal_(layer.weight, gain)
        nn.init.zeros_(layer.bias)
    elif isinstance(layer, AgentLinear):
        for weight in layer.weight.data:
            nn.init.orthogonal_(weight.T, gain)
        nn.init.zeros_(layer.bias)
    return layer


class AgentLinear(nn.Module):
    """A linear layer with separate weights per agent: x [..., M, in] with ids [M] -> [..., M, out]."""

    def __init__(self, num_agents: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_agents, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(num_agents, out_features))

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...mi,mio->...mo", x, self.weight[ids]) + self.bias[ids]


class AgentNet(nn.Module):
    """An MLP applied to every agent's row: one net shared by all agents (with the agent's one-hot id appended
    when `agent_id`) or one net per agent (`shared=False`). Input [..., M, in_dim], output [..., M, out_dim].
    `input_norm` layer-normalises the input features first (MAPPO's feature normalisation)."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        num_agents: int,
        hidden: tuple[int, ...] = (64, 64),
        shared: bool = True,
        agent_id: bool = True,
        out_gain: float = 1.0,
        activation: str = "tanh",
        input_norm: bool = False,
    ) -> None:
        super().__init__()
        self.num_agents, self.shared = num_agents, shared
        self.agent_id = shared and agent_id and num_agents > 1
        self.input_norm = nn.LayerNorm(in_dim) if input_norm else None
        sizes = [in_dim + (num_agents if self.agent_id else 0), *hidden, out_dim]
        gains = [math.sqrt(2)] * len(hidden) + [out_gain]
        self.layers = nn.ModuleList(
            layer_init(nn.Linear(a, b) if shared else AgentLinear(num_agents, a, b), g)
            for a, b, g in zip(sizes[:-1], sizes[1:], gains)
        )
        self.activation = {"tanh": torch.tanh, "relu": torch.relu}[activation]

    def forward(self, x: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        if ids is None:
            ids = torch.arange(x.shape[-2], device=x.device)
        if self.input_norm is not None:
            x = self.input_norm(x)
        if self.agent_id:
            one_hot = nn.functional.one_hot(ids, self.num_agents).to(x.dtype)
            x = torch.cat([x, one_hot.expand(*x.shape[:-1], self.num_agents)], dim=-1)
        for index, layer in enumerate(self.layers):
            x = layer(x) if self.shared else layer(x, ids)
            if index < len(self.layers) - 1:
                x = self.activation(x)
        return x


def build_network(kind: str, **kwargs: Any) -> nn.Module:
    """An actor or critic network from its constructor arguments (stored in checkpoints)."""
    if kind == "mlp":
        return AgentNet(**kwargs)
    if kind == "attention":
        from arena.agents.marl.attention import AttentionNet

        return AttentionNet(**kwargs)
    raise ConfigError(f"unknown network kind {kind!r}; use mlp or attention")


def masked_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Illegal actions get a logit of -1e9, so they get probability zero and never carry gradient."""
    return logits if mask is None else logits.masked_fill(~mask, -1e9)


# ---------------------------------------------------------------------------------------------------------------
# Advantages and value normalisation


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


# ---------------------------------------------------------------------------------------------------------------
# Rollout storage


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
# Configuration


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Hyperparameters from a TOML or JSON file (a `[train]` table in TOML is used when present)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must hold a table of hyperparameters")
    return data.get("train", data)


def build_config(config_class: type, overrides: dict[str, Any], owner: str) -> Any:
    """A config dataclass with user overrides; unknown keys and ill-typed values raise ConfigError."""
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    values = {}
    for key, value in overrides.items():
        if key not in fields:
            import difflib

            close = difflib.get_close_matches(key, list(fields), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"{owner} has no hyperparameter {key!r}{hint}")
        default = fields[key].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{owner}: {key} should be true or false, not {value!r}")
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{owner}: {key} should be a number, not {value!r}")
            value = type(default)(value) if isinstance(default, float) or float(value).is_integer() else value
        elif isinstance(default, tuple):
            if not isinstance(value, (list, tuple)):
                raise ConfigError(f"{owner}: {key} should be a list, not {value!r}")
            value = tuple(value)
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{owner}: {key} should be a string, not {value!r}")
        values[key] = value
    return config_class(**values)


# ---------------------------------------------------------------------------------------------------------------
# Policies, checkpoints and evaluation


class Policy(nn.Module):
    """What a trained learner leaves behind to act: actor network(s) plus the facts needed to use them.

    `actor(obs [..., M, obs_dim], ids [M]) -> action logits [..., M, num_actions]`. A MADDPG policy
    ensemble stores K sub-policies per agent as agents `k * N + i`; the sub-policy used for an episode is drawn
    at random (`ensemble` > 1).
    """

    def __init__(self, network: str, network_args: dict[str, Any], meta: dict[str, Any]) -> None:
        super().__init__()
        self.network, self.network_args, self.meta = network, dict(network_args), dict(meta)
        self.actor = build_network(network, **network_args)

    @property
    def ensemble(self) -> int:
        return int(self.meta.get("ensemble", 1))

    @property
    def stochastic(self) -> bool:
        return bool(self.meta.get("stochastic", True))

    def logits(
        self, obs: torch.Tensor, ids: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return masked_logits(self.actor(obs, ids), mask)

    def spec(self) -> dict[str, Any]:
        return {"network": self.network, "network_args": _plain(self.network_args), "meta": _plain(self.meta)}


def _plain(value: Any) -> Any:
    """Plain Python data (lists instead of tuples), which `torch.load(weights_only=True)` accepts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def save_checkpoint(path: str | Path, policy: Policy, config: dict[str, Any], extra: dict[str, Any]) -> None:
    """Write the policy's weights, how to rebuild it, and the config that trained it (torch.save of plain data)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "policy": policy.spec(),
        "state_dict": {k: v.detach().cpu() for k, v in policy.actor.state_dict().items()},
        "config": _plain(config),
        "extra": _plain(extra),
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[Policy, dict[str, Any]]:
    """The policy stored at `path` (loaded with `weights_only=True`) and the whole checkpoint record."""
    try:
        payload = torch.load(Path(path), map_location=device, weights_only=True)
    except FileNotFoundError:
        raise ConfigError(f"no checkpoint at {path}") from None
    except Exception as exc:
        raise ConfigError(f"{path} is not an arena checkpoint: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{path} is not an arena checkpoint (format {CHECKPOINT_FORMAT})")
    spec = payload["policy"]
    policy = Policy(spec["network"], spec["network_args"], spec["meta"]).to(device)
    policy.actor.load_state_dict(payload["state_dict"])
    policy.eval()
    return policy, payload


def select_actions(
    policy: Policy,
    obs: torch.Tensor,
    mask: torch.Tensor | None,
    deterministic: bool,
    generator: torch.Generator | None = None,
    ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """Actions [B, N] of a policy for a batch of observations: sampled, or the most likely when `deterministic`
    (deterministic policies such as MADDPG's always take their argmax)."""
    with torch.no_grad():
        out = policy.logits(obs, ids, mask)
        if deterministic or not policy.stochastic:
            return out.argmax(-1)
        probs = torch.softmax(out, -1)
        flat = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=generator)
        return flat.reshape(probs.shape[:-1])


def evaluate(
    act: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor], env: Any, episodes: int, seed: int | None = None
) -> np.ndarray:
    """Per-agent returns [episodes, N] of `act(obs, mask) -> actions` over whole episodes of a batched env."""
    obs = env.reset(seed=seed)
    returns: list[np.ndarray] = []
    while len(returns) < episodes:
        actions = act(obs, action_mask_of(env))
        obs, _, _, _, info = env.step(actions)
        done = info["done_mask"].cpu().numpy()
        returns.extend(info["episode_return"].cpu().numpy()[done])
    return np.asarray(returns[:episodes], dtype=np.float64)


def policy_evaluator(
    policy: Policy, deterministic: bool
) -> Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]:
    """`act(obs, mask)` for `evaluate`; an ensemble policy uses sub-policy 0 (all are trained alike). The policy
    may live on another device than the env: actions come back on the observations' device."""
    device = next(policy.parameters()).device
    generator = torch.Generator(device=device).manual_seed(0)

    def act(obs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        mask = None if mask is None else mask.to(device)
        return select_actions(policy, obs.to(device), mask, deterministic, generator).to(obs.device)

    return act


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global generator and return a generator for sampling actions."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
