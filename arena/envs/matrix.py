"""Normal-form, repeated and preference games as PettingZoo Parallel envs.

A game is a payoff tensor `payoffs[player, a_0, ..., a_{n-1}]`. With `rounds=T > 1` it is played T times and the
observation holds the history of joint actions (-1 for rounds not yet played). After each round `info[agent]`
carries `action_payoffs`: what each of the agent's actions would have earned against the others' actual actions,
the full-information feedback that online learners (Hedge, FTRL, Nash mirror prox) and regret metrics use.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv

from arena.core import ParameterError

_TWO = ["player_0", "player_1"]
MAX_PAYOFFS = 10_000_000  # payoff entries (players x joint actions): 80 MB of float64


class MatrixGameEnv(ParallelEnv):
    """A (repeated) normal-form game; agents `player_0..player_{n-1}` choose simultaneously every round."""

    metadata = {"render_modes": ["ansi", "human", "rgb_array"], "name": "matrix_game"}
    fresh_observations = True  # every step's observations and infos are new objects: the match loop need not copy

    def __init__(
        self,
        payoffs: Any,
        action_names: list[list[str]] | None = None,
        rounds: int = 1,
        title: str = "a matrix game",
        rules: str = "",
        render_mode: str | None = None,
    ) -> None:
        payoffs = np.asarray(payoffs, dtype=np.float64)
        if payoffs.ndim < 2 or payoffs.shape[0] != payoffs.ndim - 1:
            raise ParameterError("payoffs must have shape [players, actions_0, ..., actions_{n-1}]")
        if rounds < 1:
            raise ParameterError("rounds must be at least 1")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ParameterError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.payoffs = payoffs
        self.num_players = payoffs.shape[0]
        self.num_actions = list(payoffs.shape[1:])
        self.action_names_per_player = action_names or [[f"a{i}" for i in range(k)] for k in self.num_actions]
        if [len(n) for n in self.action_names_per_player] != self.num_actions:
            raise ParameterError("action_names must give one name per action of each player")
        self.rounds = rounds
        self.title = title
        self.rules = rules
        self.render_mode = render_mode
        self.possible_agents = [f"player_{i}" for i in range(self.num_players)]
        high = max(self.num_actions) - 1
        self.observation_spaces = {
            a: gymnasium.spaces.Box(-1, high, shape=(rounds, self.num_players), dtype=np.int64)
            for a in self.possible_agents
        }
        self.action_spaces = {a: gymnasium.spaces.Discrete(k) for a, k in zip(self.possible_agents, self.num_actions)}
        self._renderer = None

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.action_spaces[agent]

    @functools.cached_property
    def min_utility(self) -> float:
        return float(self.payoffs.min()) * self.rounds

    @functools.cached_property
    def max_utility(self) -> float:
        return float(self.payoffs.max()) * self.rounds

    @functools.cached_property
    def zero_sum(self) -> bool:
        sums = self.payoffs.sum(axis=0)
        return bool(np.allclose(sums, sums.flat[0]))

    def stage_action_payoffs(self, player: int, joint: tuple[int, ...]) -> np.ndarray:
        """Payoff of each of `player`'s actions when the others play as in `joint`."""
        index: list[int | slice] = list(joint)
        index[player] = slice(None)
        return self.payoffs[(player, *index)].copy()

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        self.agents = list(self.possible_agents)
        self.round = 0
        self.history = np.full((self.rounds, self.num_players), -1, dtype=np.int64)
        self._last: tuple[int, ...] | None = None
        self._history_text = [""] * self.num_players  # per player: the rounds so far, as its text tells them
        self._key = ""
        return self._observations(), self._infos()

    def _observations(self) -> dict[str, np.ndarray]:
        return {a: self.history.copy() for a in self.agents}

    def info_state(self, player: int) -> str:
        """Perfect-recall key: the player and the joint actions played so far, e.g. `player_0|0,2;1,1`."""
        return f"{self.possible_agents[player]}|{self._key}"

    @functools.cache  # noqa: B019 (one table per env and player, kept for the env's life)
    def payoff_table_text(self, player: int) -> str:
        if self.num_players != 2:
            return f"Payoff tensor (player, actions...): {self.payoffs.tolist()}"
        me, other = player, 1 - player
        rows = []
        for a, name in enumerate(self.action_names_per_player[me]):
            cells = []
            for b, other_name in enumerate(self.action_names_per_player[other]):
                joint = (a, b) if me == 0 else (b, a)
                cells.append(
                    f"vs {other_name}: you {self.payoffs[(me, *joint)] + 0.0:g}, "
                    f"them {self.payoffs[(other, *joint)] + 0.0:g}"
                )
            rows.append(f"  {name}: " + "; ".join(cells))
        return "Payoffs (yours, the other player's):\n" + "\n".join(rows)

    @functools.cache  # noqa: B019 (one text per env and player, kept for the env's life)
    def _preamble(self, player: int) -> str:
        """The lines of a player's text that never change: who they are, the rules, the payoff table."""
        lines = [
            f"You are player {player} of {self.num_players} in {self.title}, played "
            f"{'once' if self.rounds == 1 else f'for {self.rounds} rounds'}; all players move at once."
        ]
        if self.rules:
            lines.append(self.rules)
        lines.append(self.payoff_table_text(player))
        return "\n".join(lines)

    @functools.cache  # noqa: B019
    def _moves_text(self, player: int) -> str:
        names = self.action_names_per_player[player]
        return "Legal moves: " + "; ".join(f"{names[a]} ({a})" for a in range(self.num_actions[player])) + "."

    def describe(self, player: int) -> dict[str, Any]:
        """`info[player]` at the current round (every call builds new objects: callers may change them)."""
        names = self.action_names_per_player[player]
        done = self.round >= self.rounds
        legal = [] if done else list(range(self.num_actions[player]))
        mask = (np.zeros if done else np.ones)(self.num_actions[player], dtype=np.int8)
        pieces = [self._preamble(player)]  # joined once: the history, which grows every round, is copied once
        if self.round:
            pieces += ["\nHistory: ", self._history_text[player], "."]
        if done:
            pieces.append("\nThe game is over.")
        else:
            if self.rounds > 1:
                pieces.append(f"\nThis is round {self.round + 1} of {self.rounds}.")
            pieces += ["\n", self._moves_text(player)]
        info: dict[str, Any] = {
            "action_mask": mask,
            "legal_actions": legal,
            "action_names": list(names),
            "info_state": self.info_state(player),
            "round": int(self.round),
            "text": "".join(pieces),
        }
        if self._last is not None:
            info["joint_action"] = {a: int(x) for a, x in zip(self.possible_agents, self._last)}
            info["action_payoffs"] = self.stage_action_payoffs(player, self._last)
        return info

    def _infos(self) -> dict[str, dict]:
        return {a: self.describe(i) for i, a in enumerate(self.possible_agents) if a in self.agents}

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        joint = []
        for i, agent in enumerate(self.possible_agents):
            action = int(actions[agent])
            if not 0 <= action < self.num_actions[i]:
                raise ValueError(f"illegal action {action} for {agent}")
            joint.append(action)
        self._last = tuple(joint)
        self.history[self.round] = joint
        self._key += (";" if self.round else "") + ",".join(map(str, joint))
        for me, told in enumerate(self._history_text):  # each round is described once, not at every later round
            moves = ", ".join(
                f"{'you' if i == me else f'player {i}'} {self.action_names_per_player[i][a]}"
                for i, a in enumerate(joint)
            )
            entry = f"round {self.round + 1}: {moves}"
            self._history_text[me] = f"{told}; {entry}" if told else entry
        self.round += 1
        rewards = {a: float(self.payoffs[(i, *joint)]) for i, a in enumerate(self.possible_agents)}
        done = self.round >= self.rounds
        terminations = {a: done for a in self.agents}
        truncations = {a: False for a in self.agents}
        observations = self._observations()
        infos = self._infos()
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def scene(self) -> tuple[Any, tuple[int, int]]:
        """The drawing function and frame size of this env's picture (pygame loads only when drawing)."""
        from arena.envs.matrix_scene import matrix
        from arena.render.draw import WIDE

        return matrix, WIDE

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode")
            return None
        if self.render_mode == "ansi":
            return self.describe(0)["text"]
        from arena.render import render_env

        return render_env(self)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def _symmetric(row: list[list[float]]) -> np.ndarray:
    """Two-player symmetric game from the row player's payoffs."""
    a = np.asarray(row, dtype=np.float64)
    return np.stack([a, a.T])


def _zero_sum(row: list[list[float]]) -> np.ndarray:
    a = np.asarray(row, dtype=np.float64)
    return np.stack([a, -a])


def rps(render_mode: str | None = None, rounds: int = 1) -> MatrixGameEnv:
    """Rock-paper-scissors: zero-sum, win 1, loss -1; the unique equilibrium is uniform."""
    return MatrixGameEnv(
        _zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]),
        [["rock", "paper", "scissors"]] * 2,
        rounds,
        "rock-paper-scissors",
        "Rock beats scissors, scissors beat paper, paper beats rock.",
        render_mode,
    )


def matching_pennies(render_mode: str | None = None, rounds: int = 1) -> MatrixGameEnv:
    """Matching pennies: player 0 wins 1 when the coins match, player 1 when they differ."""
    return MatrixGameEnv(
        _zero_sum([[1, -1], [-1, 1]]),
        [["heads", "tails"]] * 2,
        rounds,
        "matching pennies",
        "Player 0 wins when both coins show the same side, player 1 when they differ.",
        render_mode,
    )


def prisoners_dilemma(render_mode: str | None = None, rounds: int = 1) -> MatrixGameEnv:
    """Prisoner's dilemma with T=5, R=3, P=1, S=0; defection dominates."""
    return MatrixGameEnv(
        _symmetric([[3, 0], [5, 1]]), [["cooperate", "defect"]] * 2, rounds, "the prisoner's dilemma", "", render_mode
    )


def stag_hunt(render_mode: str | None = None, rounds: int = 1) -> MatrixGameEnv:
    """Stag hunt: hunting the stag together pays 4 each; a lone stag hunter gets 0, hare always pays 3."""
    return MatrixGameEnv(_symmetric([[4, 0], [3, 3]]), [["stag", "hare"]] * 2, rounds, "the stag hunt", "", render_mode)


def battle_of_sexes(render_mode: str | None = None, rounds: int = 1) -> MatrixGameEnv:
    """Battle of the sexes: both want to meet, player 0 prefers opera (3, 2), player 1 football (2, 3)."""
    payoffs = np.array([[[3, 0], [0, 2]], [[2, 0], [0, 3]]], dtype=np.float64)
    return MatrixGameEnv(payoffs, [["opera", "football"]] * 2, rounds, "the battle of the sexes", "", render_mode)


def shapley(render_mode: str | None = None, rounds: int = 1) -> MatrixGameEnv:
    """Shapley's 3x3 game, on which fictitious play cycles (OpenSpiel's matrix_shapleys_game payoffs)."""
    payoffs = np.array([[[0, 0, 1], [1, 0, 0], [0, 1, 0]], [[0, 1, 0], [0, 0, 1], [1, 0, 0]]], dtype=np.float64)
    return MatrixGameEnv(payoffs, [["a", "b", "c"]] * 2, rounds, "Shapley's game", "", render_mode)


def random_matrix(
    render_mode: str | None = None,
    size: int = 3,
    players: int = 2,
    zero_sum: bool = True,
    seed: int = 0,
    rounds: int = 1,
) -> MatrixGameEnv:
    """A random game with payoffs uniform in [-1, 1], drawn from `seed`; zero-sum for two players if asked."""
    if size < 1 or players < 2:
        raise ParameterError("random_matrix-v0: size >= 1 and players >= 2")
    if zero_sum and players != 2:
        raise ParameterError("random_matrix-v0: zero_sum needs players=2")
    if players * size**players > MAX_PAYOFFS:
        raise ParameterError(
            f"random_matrix-v0: {size}^{players} joint actions is more than a matrix game can hold here"
        )
    rng = np.random.default_rng(seed)
    shape = (players, *([size] * players))
    payoffs = rng.uniform(-1, 1, size=shape).round(3)
    if zero_sum:
        payoffs[1] = -payoffs[0]
    names = [[f"a{i}" for i in range(size)]] * players
    return MatrixGameEnv(
        payoffs, names, rounds, f"a random {'zero-sum' if zero_sum else 'general-sum'} game", "", render_mode
    )


def matrix(
    render_mode: str | None = None,
    payoffs: list | None = None,
    action_names: list | None = None,
    rounds: int = 1,
    title: str = "a matrix game",
) -> MatrixGameEnv:
    """A normal-form game given by its payoff tensor `payoffs[player][a_0]...[a_{n-1}]`."""
    if payoffs is None:
        raise ParameterError("matrix-v0 needs payoffs=[[...]] with shape [players, actions_0, ..., actions_{n-1}]")
    return MatrixGameEnv(payoffs, action_names, rounds, title, "", render_mode)


# An intransitive preference among three responses: A beats B, B beats C, C beats A, with unequal margins,
# so the symmetric Nash equilibrium (and its beta-regularised versions) is interior and not uniform.
EXAMPLE_PREFERENCES = [[0.5, 0.9, 0.3], [0.1, 0.5, 0.8], [0.7, 0.2, 0.5]]


def preference_payoffs(preferences: Any) -> np.ndarray:
    """The zero-sum game of Nash learning from preferences: player 0 earns P(y beats y') - 1/2."""
    p = np.asarray(preferences, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != p.shape[1]:
        raise ParameterError("preferences must be a square matrix P[y][y'] = P(y beats y')")
    if not np.allclose(p + p.T, 1.0) or p.min() < 0 or p.max() > 1:
        raise ParameterError("preferences must be probabilities with P[y][y'] + P[y'][y] = 1")
    return np.stack([p - 0.5, 0.5 - p])


def preference(
    render_mode: str | None = None, preferences: list | None = None, response_names: list | None = None, rounds: int = 1
) -> MatrixGameEnv:
    """Symmetric zero-sum preference game over n responses (Nash learning from human feedback)."""
    p = EXAMPLE_PREFERENCES if preferences is None else preferences
    payoffs = preference_payoffs(p)
    names = response_names or [chr(ord("A") + i) for i in range(payoffs.shape[1])]
    rules = (
        "Each player picks a response; a judge prefers yours over the other's with probability P(yours beats "
        "theirs), and your payoff is that probability minus 1/2."
    )
    return MatrixGameEnv(payoffs, [list(names)] * 2, rounds, "a preference game", rules, render_mode)
