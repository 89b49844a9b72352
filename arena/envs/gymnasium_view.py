"""A single-agent Gymnasium view of any arena env: one seat learns, arena agents fill the others.

```python
import arena
env = arena.as_gymnasium("kuhn_poker-v0", seat=0, opponents=["cfr"])
obs, info = env.reset(seed=0)           # info["action_mask"] marks the legal actions
obs, reward, terminated, truncated, info = env.step(int(info["legal_actions"][0]))
```

Turn-based (AEC) games advance through the opponents' moves until the learner is to move again, and the reward
is everything the learner earned in between. In simultaneous (Parallel) envs the opponents choose on their own
observations at every step. An illegal move by the learner ends the episode with the game's worst payoff
(`illegal="forfeit"`, as PettingZoo's TerminateIllegalWrapper does) or is replaced by a random legal move
(`illegal="random"`, counted in `info["illegal_moves"]`). Opponents are seeded from the seed given to `reset`, so a
seeded episode replays exactly; the view passes `gymnasium.utils.env_checker.check_env`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
from pettingzoo import AECEnv

from arena.core import Agent, Observation, ParameterError
from arena.match import agent_seed
from arena.registry import make_agent, make_env

ILLEGAL_POLICIES = ("forfeit", "random")
MAX_SKIPPED_EPISODES = 100


class GymnasiumView(gymnasium.Env):
    """`seat` of a PettingZoo env as a Gymnasium env, with `opponents` (arena agents) in the other seats."""

    def __init__(
        self,
        env_id: str,
        seat: int | str = 0,
        opponents: Sequence[str | Agent] | None = None,
        illegal: str = "forfeit",
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        if illegal not in ILLEGAL_POLICIES:
            raise ParameterError(f"illegal must be one of {', '.join(ILLEGAL_POLICIES)}")
        self.env = make_env(env_id, render_mode=render_mode, **params)
        players = list(self.env.possible_agents)
        if isinstance(seat, str) and seat in players:
            seat = players.index(seat)
        if not isinstance(seat, int) or not 0 <= seat < len(players):
            raise ParameterError(f"seat must be 0..{len(players) - 1} or one of {', '.join(players)}, not {seat!r}")
        others = [p for p in players if p != players[seat]]
        opponents = ["random"] * len(others) if opponents is None else list(opponents)
        if len(opponents) != len(others):
            raise ParameterError(
                f"{env_id} needs {len(others)} opponent(s) for the seats {', '.join(others)}, got {len(opponents)}"
            )
        self.seat, self.learner, self.players = seat, players[seat], players
        self.opponents = dict(zip(others, (make_agent(o) for o in opponents)))
        self.illegal = illegal
        self.turn_based = isinstance(self.env, AECEnv)
        self.observation_space = self.env.observation_space(self.learner)
        self.action_space = self.env.action_space(self.learner)
        self.continuous = isinstance(self.action_space, gymnasium.spaces.Box)
        self.render_mode = render_mode
        self.metadata = {
            "render_modes": list(self.env.metadata.get("render_modes", [])),
            "render_fps": self.env.metadata.get("render_fps", 4),
        }
        self._observation: Any = None
        self._info: dict[str, Any] = {}

    # -- helpers
    def _opponent_action(self, player: str, observation: Any, info: dict[str, Any], step: int) -> Any:
        """The opponent's move, or a random legal move when it offers an illegal one."""
        obs = Observation(player=player, observation=observation, info=info, step=step)
        action = self.opponents[player].act(obs)
        if self.continuous:
            return np.asarray(action, dtype=np.float32)
        legal = obs.legal_actions
        if legal and int(action) not in legal:
            action = int(self.np_random.choice(legal))
        return int(action)

    def _learner_result(self) -> tuple[Any, dict[str, Any]]:
        observation = copy.deepcopy(self._observation)
        info = copy.deepcopy(self._info)
        info["illegal_moves"] = self._illegal_moves
        return observation, info

    def _advance(self) -> tuple[float, bool, bool]:
        """AEC: play the opponents until the learner must act or the game is over; (reward, terminated, truncated)."""
        env, reward = self.env, 0.0
        while env.agents:
            player = env.agent_selection
            if env.terminations[player] or env.truncations[player]:
                if player == self.learner:
                    break
                env.step(None)
                continue
            if player == self.learner:
                break
            observation, _, _, _, info = env.last()
            env.step(self._opponent_action(player, observation, info, self._steps))
            reward += float(env.rewards.get(self.learner, 0.0))
        terminated = bool(env.terminations.get(self.learner, True))
        truncated = bool(env.truncations.get(self.learner, False)) and not terminated
        self._observation = env.observe(self.learner)
        self._info = env.infos.get(self.learner, {})
        return reward, terminated, truncated

    # -- the Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self._illegal_moves, self._steps = 0, 0
        for _ in range(MAX_SKIPPED_EPISODES):
            game_seed = int(self.np_random.integers(2**31 - 1))
            for index, (player, agent) in enumerate(self.opponents.items()):
                agent.reset(agent_seed(game_seed, index), player, self.env.spec)
            if not self.turn_based:
                observations, infos = self.env.reset(seed=game_seed)
                self._observation, self._info = observations[self.learner], infos.get(self.learner, {})
                self._observations, self._infos = observations, infos
                return self._learner_result()
            self.env.reset(seed=game_seed)
            _, terminated, truncated = self._advance()
            if not (terminated or truncated):  # episodes where the learner never moves are skipped
                return self._learner_result()
        raise ParameterError(f"the learner's seat {self.learner} never gets to move in this env")

    def _legal(self) -> list[int]:
        return Observation(self.learner, self._observation, self._info).legal_actions

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        action = np.asarray(action, dtype=np.float32) if self.continuous else int(action)
        self._steps += 1
        legal = self._legal() if "action_mask" in self._info or "legal_actions" in self._info else None
        if legal is not None and action not in legal:
            self._illegal_moves += 1
            if self.illegal == "forfeit":
                observation, info = self._learner_result()
                info["forfeit"] = True
                return observation, float(getattr(self.env, "min_utility", -1.0)), True, False, info
            action = int(self.np_random.choice(legal))
        if self.turn_based:
            self.env.step(action)
            reward = float(self.env.rewards.get(self.learner, 0.0))
            more, terminated, truncated = self._advance()
            observation, info = self._learner_result()
            return observation, reward + more, terminated, truncated, info
        joint = {self.learner: action}
        for player in self.env.agents:
            if player != self.learner:
                joint[player] = self._opponent_action(
                    player, self._observations[player], self._infos.get(player, {}), self._steps
                )
        observations, rewards, terminations, truncations, infos = self.env.step(joint)
        terminated = bool(terminations.get(self.learner, False)) or self.learner not in self.env.agents
        truncated = bool(truncations.get(self.learner, False)) and not bool(terminations.get(self.learner, False))
        terminated = terminated and not truncated
        if self.learner in observations:
            self._observation = observations[self.learner]
        self._info = infos.get(self.learner, self._info)
        self._observations, self._infos = observations, infos
        observation, info = self._learner_result()
        return observation, float(rewards.get(self.learner, 0.0)), terminated, truncated, info

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()
        for agent in self.opponents.values():
            agent.close()


def as_gymnasium(
    env_id: str,
    seat: int | str = 0,
    opponents: Sequence[str | Agent] | None = None,
    illegal: str = "forfeit",
    render_mode: str | None = None,
    **params: Any,
) -> GymnasiumView:
    """The Gymnasium env in which `seat` of `env_id` plays against `opponents` (agent specs or Agents, one per
    other seat; random players by default)."""
    return GymnasiumView(env_id, seat=seat, opponents=opponents, illegal=illegal, render_mode=render_mode, **params)
