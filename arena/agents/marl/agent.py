"""A trained policy as an arena agent: `checkpoint:runs/x/best.pt` plays matches and tournaments.

The agent controls one seat: in a multi-agent particle world each seat gets its own copy, which finds its
agent's row of the policy by the player's name (policies without per-agent inputs, such as the attention policy,
play any seat of any size of world). `action_probs` is the policy's exact distribution over the legal actions,
so the game-theory engine computes exact exploitability of a policy trained on a tabular game.
"""

from __future__ import annotations

import functools

import gymnasium
import numpy as np
import torch

from arena.agents.marl.checkpoints import load_checkpoint
from arena.agents.marl.networks import AgentNet, Policy
from arena.core import Agent, Observation, sample
from arena.errors import ParameterError
from arena.registry import make_env
from arena.specs import EnvSpec


@functools.lru_cache(maxsize=64)
def env_shape(spec: EnvSpec, player: str) -> tuple[int, int | None]:
    """The size of `player`'s observation in the env of `spec`, and its number of discrete actions (None if
    continuous)."""
    env = make_env(spec)
    try:
        space = env.observation_space(player)
        space = space["observation"] if isinstance(space, gymnasium.spaces.Dict) else space
        actions = env.action_space(player)
        count = int(actions.n) if isinstance(actions, gymnasium.spaces.Discrete) else None
        return int(np.prod(space.shape or (1,))), count
    finally:
        env.close()


class PolicyAgent(Agent):
    """Plays a trained `Policy` held in memory; `greedy` takes the most likely action."""

    name = "marl_policy"

    def __init__(self, policy: Policy, greedy: bool = False) -> None:
        self.policy, self.greedy = policy, greedy
        self.meta = policy.meta
        self.seat_ids = torch.zeros(1, dtype=torch.long)
        self.player = ""

    def _seat_free(self) -> bool:
        """True when the actor has no per-agent inputs or weights, so any seat may use it."""
        actor = self.policy.actor
        return self.policy.network == "attention" or (
            isinstance(actor, AgentNet) and actor.shared and not actor.agent_id
        )

    def reset(self, seed: int | None, player: str, env_spec: EnvSpec | None) -> None:
        super().reset(seed, player, env_spec)
        names = list(self.meta.get("agent_names", []))
        if player in names:
            index = names.index(player)
        elif self._seat_free():
            index = 0
        else:
            raise ParameterError(
                f"{self.name} was trained for the agents {', '.join(names)} and cannot play {player!r}"
            )
        if env_spec is not None:  # None: reset outside any env, as a policy probe
            self._check_env(env_spec, player)
        agents = int(self.meta.get("ensemble_agents", len(names) or 1))
        member = int(self.rng.integers(self.policy.ensemble)) if self.policy.ensemble > 1 else 0
        self.seat_ids = torch.tensor([member * agents + index])

    def _check_env(self, env_spec: EnvSpec, player: str) -> None:
        """Refuse, before the match starts, an env whose observations or actions this policy was not trained for."""
        size, actions = env_shape(env_spec, player)
        expected = int(self.meta.get("obs_dim", size))
        trained = self.meta.get("env_id", "another env")
        if size != expected and self.policy.network != "attention":
            raise ParameterError(
                f"{self.name} expects observations of size {expected}; {env_spec.text} gives {size} "
                f"(it was trained on {trained})"
            )
        if actions is not None and actions > int(self.meta.get("num_actions", actions)):
            raise ParameterError(f"{self.name} has {self.meta['num_actions']} actions; {env_spec.text} has {actions}")

    def _logits(self, obs: Observation) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(obs.observation, dtype=np.float32).ravel())
        expected = int(self.meta.get("obs_dim", x.numel()))
        if x.numel() != expected and self.policy.network != "attention":
            raise ParameterError(
                f"{self.name} expects observations of size {expected}, got {x.numel()} "
                f"(was it trained on {self.meta.get('env_id', 'another env')}?)"
            )
        size = self.meta["num_actions"]  # the largest action count of any seat it was trained for
        if len(obs.action_mask) > size:
            raise ParameterError(f"{self.name} has {size} actions; this env has {len(obs.action_mask)}")
        mask = torch.zeros(size, dtype=torch.bool)
        mask[: len(obs.action_mask)] = torch.as_tensor(obs.action_mask.astype(bool))
        device = next(self.policy.parameters()).device
        with torch.no_grad():
            logits = self.policy.logits(
                x.view(1, 1, -1).to(device), self.seat_ids.to(device), mask.view(1, 1, -1).to(device)
            )
        return logits[0, 0].cpu()

    def action_probs(self, obs: Observation) -> np.ndarray:
        logits = self._logits(obs)
        probs = np.zeros(logits.numel())
        if self.greedy or not self.policy.stochastic:
            probs[int(logits.argmax())] = 1.0
        else:
            probs[:] = torch.softmax(logits.double(), -1).numpy()
        probs = probs[: len(obs.action_mask)] * obs.action_mask
        return probs / probs.sum()

    def act(self, obs: Observation) -> int:
        probs = self.action_probs(obs)
        if self.greedy or not self.policy.stochastic:
            return int(np.argmax(probs))
        return sample(self.rng, probs)


class CheckpointAgent(PolicyAgent):
    """Plays the policy stored by `arena train` at `path`; `greedy` takes the most likely action."""

    name = "checkpoint"

    def __init__(self, path: str, greedy: bool = False) -> None:
        policy, record = load_checkpoint(path)
        super().__init__(policy, greedy)
        self.path, self.config = path, record["config"]
        self.name = f"checkpoint:{path}{'(greedy=true)' if greedy else ''}"
