"""A PettingZoo ParallelEnv over one world of a particle scenario: the row 0 of a batch of one.

It is what `arena.make_env("spread-v0", N=3)` returns, so that particle worlds play in `arena.play`, tournaments and
any PettingZoo tooling. Every agent acts every step; the episode ends for everyone after `max_steps` steps.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
import torch
from pettingzoo import ParallelEnv

from arena.core import ParameterError
from arena.envs.particles.core import ACTION_NAMES, VectorParticleEnv
from arena.envs.particles.mpe import AdversaryEnv, SpreadEnv, TagEnv
from arena.envs.particles.pursuit import PursuitEnv
from arena.registry import signed


class ParticleParallelEnv(ParallelEnv):
    """One world of a `VectorParticleEnv` with PettingZoo's Parallel API, `state()` and pygame rendering."""

    metadata: dict[str, Any] = {
        "render_modes": ["human", "rgb_array", "ansi"],
        "name": "particles",
        "render_fps": 10,
        "is_parallelizable": True,
    }

    def __init__(self, world: VectorParticleEnv, render_mode: str | None = None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ParameterError(f"render_mode must be one of {self.metadata['render_modes']}")
        if world.num_envs != 1:
            raise ParameterError("a PettingZoo view shows exactly one world (num_envs=1)")
        self.world = world
        world.autoreset = False  # the last position of an episode is what a picture after the last step shows
        self._restart_due = False
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": world.env_id}
        self.possible_agents = list(world.agent_names)
        self.agents: list[str] = []
        box = gymnasium.spaces.Box(-np.inf, np.inf, shape=(world.obs_dim,), dtype=np.float32)
        self.observation_spaces = {a: box for a in self.possible_agents}
        action: gymnasium.spaces.Space
        if world.continuous:
            action = gymnasium.spaces.Box(0.0, 1.0, shape=(world.action_dim,), dtype=np.float32)
        else:
            action = gymnasium.spaces.Discrete(world.num_actions)
        self.action_spaces = {a: action for a in self.possible_agents}
        self.state_space = gymnasium.spaces.Box(-np.inf, np.inf, shape=(world.state_dim,), dtype=np.float32)
        self.teams = list(world.teams)
        low, high = world.reward_range()
        self.min_utility, self.max_utility = low * world.max_steps, high * world.max_steps
        self.zero_sum = False
        self._renderer = None
        self._done = False

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if self._restart_due and seed is None:  # the restart a batch makes at once: the same random draws
            self.world._reset_worlds(torch.ones(1, dtype=torch.bool, device=self.world.device))
        self._restart_due = False
        obs = self.world.reset(seed=seed)
        self.agents = list(self.possible_agents)
        self._done = False
        self._last_rewards = np.zeros(self.world.num_agents)
        if self.render_mode == "human":
            self.render()
        return self._split(obs[0]), self._infos()

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("step() called after the episode ended; call reset()")
        missing = [a for a in self.possible_agents if a not in actions]
        if missing:
            raise ValueError(f"no action for {', '.join(missing)}")
        if self.world.continuous:
            joint = torch.as_tensor(np.stack([np.asarray(actions[a], dtype=np.float32) for a in self.possible_agents]))
        else:
            moves = [int(actions[a]) for a in self.possible_agents]
            if any(not 0 <= m < self.world.num_actions for m in moves):
                raise ValueError(f"actions must be in 0..{self.world.num_actions - 1}, got {moves}")
            joint = torch.tensor(moves, dtype=torch.long)
        obs, rewards, terminated, truncated, info = self.world.step(joint[None].to(self.world.device))
        self._done = bool(info["done_mask"][0])
        if self._done:
            obs = info["final_obs"]
            self._restart_due = True
        self._last_rewards = rewards[0].cpu().numpy().astype(np.float64)
        reward_dict = {a: float(r) for a, r in zip(self.possible_agents, self._last_rewards)}
        term = {a: bool(terminated[0]) for a in self.agents}
        trunc = {a: bool(truncated[0]) for a in self.agents}
        observations, infos = self._split(obs[0]), self._infos()
        if self._done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, reward_dict, term, trunc, infos

    def _split(self, obs: torch.Tensor) -> dict[str, np.ndarray]:
        rows = obs.cpu().numpy().astype(np.float32)
        return {a: rows[i] for i, a in enumerate(self.possible_agents) if a in self.agents}

    def _infos(self) -> dict[str, dict[str, Any]]:
        return {a: self.describe(i) for i, a in enumerate(self.possible_agents) if a in self.agents}

    def describe(self, agent: int) -> dict[str, Any]:
        """`info[agent]`: every move is always legal; `text` tells the agent where things are.

        With continuous actions there is no discrete move to mask or name: the action is a vector in the Box space,
        whose bounds are `action_low` and `action_high`.
        """
        if self.world.continuous:
            text = self.world.describe(0, agent) + (
                "\nThe episode is over."
                if self._done
                else f"\nYour action: {self.world.action_dim} numbers in [0, 1] (how hard to push each way)."
            )
            low, high = np.zeros(self.world.action_dim, np.float32), np.ones(self.world.action_dim, np.float32)
            return {"team": self.world.teams[agent], "text": text, "action_low": low, "action_high": high}
        legal = [] if self._done else list(range(self.world.num_actions))
        mask = np.zeros(self.world.num_actions, dtype=np.int8)
        mask[legal] = 1
        text = self.world.describe(0, agent)
        if self._done:
            text += "\nThe episode is over."
        else:
            text += "\nLegal moves: " + "; ".join(f"{ACTION_NAMES[m]} ({m})" for m in legal) + "."
        return {
            "action_mask": mask,
            "legal_actions": legal,
            "action_names": list(ACTION_NAMES),
            "team": self.world.teams[agent],
            "text": text,
        }

    def state(self) -> np.ndarray:
        return self.world.state()[0].cpu().numpy().astype(np.float32)

    def scene(self) -> tuple[Any, tuple[int, int]]:
        """The drawing function and frame size of this world's picture (pygame loads only when drawing)."""
        from arena.envs.particles.scene import particles
        from arena.render.draw import SQUARE

        return particles, SQUARE

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode")
            return None
        if self.render_mode == "ansi":
            return "\n".join(self.world.describe(0, i) for i in range(self.world.num_agents))
        from arena.render import render_env

        return render_env(self)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def single_world(world: type[VectorParticleEnv]) -> Callable[..., ParticleParallelEnv]:
    """The PettingZoo factory of a particle world: `render_mode` and the world's own parameters (its signature)."""

    def factory(render_mode: str | None = None, **params: Any) -> ParticleParallelEnv:
        return ParticleParallelEnv(world(**params), render_mode)

    factory.__doc__ = world.__doc__
    mode = inspect.Parameter("render_mode", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=str | None)
    return signed(factory, [mode], world.__init__, drop=("num_envs", "device", "seed"))


spread = single_world(SpreadEnv)
adversary = single_world(AdversaryEnv)
tag = single_world(TagEnv)
pursuit = single_world(PursuitEnv)
