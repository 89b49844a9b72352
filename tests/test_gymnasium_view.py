"""arena.as_gymnasium: one seat of any env as a Gymnasium env that passes Gymnasium's own checker."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import arena
from arena.core import ParameterError


@pytest.mark.parametrize(
    "env_id, seat, opponents, params",
    [
        ("kuhn_poker-v0", 0, None, {}),
        ("kuhn_poker-v0", 1, ["fixed(action=Bet)"], {}),
        ("leduc_poker-v0", 0, None, {}),
        ("tic_tac_toe-v0", 1, None, {}),
        ("rps-v0", 0, None, {"rounds": 3}),
        ("spread-v0", 1, ["heuristic", "heuristic"], {}),
    ],
)
def test_check_env_passes(env_id, seat, opponents, params):
    env = arena.as_gymnasium(env_id, seat=seat, opponents=opponents, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box observations are reported as warnings only
        check_env(env, skip_render_check=True)


def play_episode(env, seed: int, policy) -> tuple[float, int, list]:
    obs, info = env.reset(seed=seed)
    total, steps, trace, done = 0.0, 0, [], False
    while not done:
        action = policy(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((np.asarray(obs).tolist(), reward))
        total, steps, done = total + reward, steps + 1, terminated or truncated
    return total, steps, trace


def test_turn_based_rewards_and_seeded_replay():
    env = arena.as_gymnasium("kuhn_poker-v0", seat=0, opponents=["fixed(action=Bet)"])
    always_bet = lambda obs, info: 1  # noqa: E731
    totals = [play_episode(env, seed, always_bet)[0] for seed in range(40)]
    # Bet against a caller: +2 with the higher card, -2 otherwise; the learner sees the opponent's move inside.
    assert set(totals) == {2.0, -2.0}
    assert play_episode(env, 7, always_bet)[2] == play_episode(env, 7, always_bet)[2]


def test_simultaneous_env_with_arena_opponents():
    env = arena.as_gymnasium("spread-v0", seat=0, opponents=["heuristic", "heuristic"])
    total, steps, _ = play_episode(env, 0, lambda obs, info: 0)
    assert steps == 25 and total < 0
    assert env.observation_space.shape == (18,) and env.action_space.n == 5


def test_illegal_moves_forfeit_or_are_replaced():
    env = arena.as_gymnasium("tic_tac_toe-v0", seat=0)
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(4)
    occupied = next(a for a in range(9) if not info["action_mask"][a])
    _, reward, terminated, _, info = env.step(occupied)
    assert terminated and reward == -1.0 and info["forfeit"] and info["illegal_moves"] == 1
    lenient = arena.as_gymnasium("tic_tac_toe-v0", seat=0, illegal="random")
    lenient.reset(seed=0)
    _, _, _, _, info = lenient.step(4)
    occupied = next(a for a in range(9) if not info["action_mask"][a])
    _, _, _, _, info = lenient.step(occupied)
    assert info["illegal_moves"] == 1 and "forfeit" not in info


def test_bad_arguments():
    with pytest.raises(ParameterError, match="opponent"):
        arena.as_gymnasium("kuhn_poker-v0", opponents=["random", "random"])
    with pytest.raises(ParameterError, match="seat"):
        arena.as_gymnasium("kuhn_poker-v0", seat=2)
    with pytest.raises(ParameterError, match="illegal"):
        arena.as_gymnasium("kuhn_poker-v0", illegal="ignore")
    assert arena.as_gymnasium("kuhn_poker-v0", seat="player_1").learner == "player_1"
