"""pygame rendering of every env (headless, SDL's dummy driver), GIF/MP4 recording and visual replays."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import imageio.v3 as imageio  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from pettingzoo import AECEnv  # noqa: E402

import arena  # noqa: E402
from arena.cli import main  # noqa: E402
from arena.core import ParameterError  # noqa: E402
from arena.render import draw  # noqa: E402
from arena.render.recording import VideoRecorder, replay_visual  # noqa: E402

SPECS = {spec.id: spec for spec in arena.list_envs()}


def _frames(env, moves: int = 4) -> list[np.ndarray]:
    """Frames after the reset and after each of the first moves (first legal move each time)."""
    frames = []
    if isinstance(env, AECEnv):
        env.reset(seed=3)
        frames.append(env.render())
        for _ in range(moves):
            if not env.agents:
                break
            _, _, terminated, truncated, info = env.last()
            env.step(None if terminated or truncated else info["legal_actions"][-1])
            frames.append(env.render())
    else:
        _, infos = env.reset(seed=3)
        frames.append(env.render())
        for _ in range(moves):
            if not env.agents:
                break
            _, _, _, _, infos = env.step({a: infos[a]["legal_actions"][-1] for a in env.agents})
            frames.append(env.render())
    return frames


@pytest.mark.parametrize("env_id", sorted(SPECS))
def test_every_env_draws_frames_that_follow_the_game(env_id: str) -> None:
    env = arena.make_env(env_id, render_mode="rgb_array", **SPECS[env_id].metadata.get("example", {}))
    frames = _frames(env)
    height, width = frames[0].shape[:2]
    for frame in frames:
        assert frame.dtype == np.uint8 and frame.shape == (height, width, 3)
    assert height >= 400 and width >= 400
    assert frames[0].std() > 5  # a picture, not a blank canvas
    assert any(not np.array_equal(frames[0], later) for later in frames[1:])
    env.close()
    assert env._renderer is None


@pytest.mark.parametrize(
    "game",
    [
        "openspiel:oshi_zumo",
        "openspiel:pig(players=3)",
        "kuhn_poker-v0(players=3)",
        "liars_dice-v0(numdice=3)",
        "leduc_poker-v0(players=3)",
    ],
)
def test_other_games_and_variants_draw(game: str) -> None:
    env = arena.make_env(game, render_mode="rgb_array")
    frames = _frames(env, moves=6)
    assert all(f.shape == frames[0].shape for f in frames)
    assert any(not np.array_equal(frames[0], f) for f in frames[1:])


def test_matrix_game_highlights_the_joint_action_played() -> None:
    env = arena.make_env("prisoners_dilemma-v0", render_mode="rgb_array", rounds=2)
    env.reset(seed=0)
    before = env.render()
    assert not (before == draw.HIGHLIGHT).all(axis=-1).any()
    env.step({"player_0": 1, "player_1": 0})
    after = env.render()
    ys, xs = np.nonzero((after == draw.HIGHLIGHT).all(axis=-1))
    assert len(ys) > 500
    # defect (row 1) against cooperate (column 0): the lower-left payoff cell, right of the row labels
    assert after.shape[1] / 3 < xs.mean() < after.shape[1] * 2 / 3 and ys.mean() > after.shape[0] / 3


def test_human_mode_opens_a_window_and_close_releases_it() -> None:
    for env_id in ("spread-v0", "tic_tac_toe-v0", "rps-v0"):
        env = arena.make_env(env_id, render_mode="human")
        frames = _frames(env, moves=2)
        assert all(f is None for f in frames)
        assert env._renderer is not None and env._renderer.window is not None
        env.close()
        assert env._renderer is None


def test_particle_frames_show_the_entities_where_they_are() -> None:
    env = arena.make_env("tag-v0", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    world = env.world
    size = frame.shape[0]
    scale = (size / 2 - 10) / world.view_extent(0)
    for i, (x, y) in enumerate(world.positions(0)):
        px, py = round(size / 2 + x * scale), round(size / 2 - y * scale + 17)
        assert tuple(frame[py, px]) == world.entity_colors(0)[i], world.entity_name(i)


def test_record_gif_and_mp4_from_the_command_line(tmp_path) -> None:
    gif, mp4 = tmp_path / "spread.gif", tmp_path / "kuhn.mp4"
    assert (
        main(
            [
                "play",
                "spread-v0(max_steps=6)",
                "--agents",
                "heuristic",
                "heuristic",
                "heuristic",
                "--seed",
                "1",
                "--record",
                str(gif),
            ]
        )
        == 0
    )
    frames = imageio.imread(gif)
    assert frames.shape == (7, 640, 640, 3)  # the reset and six steps
    assert not np.array_equal(frames[0], frames[-1])
    assert (
        main(
            [
                "play",
                "kuhn_poker-v0",
                "--agents",
                "random",
                "random",
                "--seed",
                "2",
                "--record",
                str(mp4),
                "--render",
                "human",
            ]
        )
        == 0
    )
    video = imageio.imread(mp4)
    assert video.ndim == 4 and video.shape[1:] == (480, 720, 3) and len(video) >= 3


def test_replay_in_a_window_and_into_a_video(tmp_path) -> None:
    replay, gif = tmp_path / "ttt.jsonl", tmp_path / "ttt.gif"
    result = arena.play("tic_tac_toe-v0", ["random", "random"], seed=5, record=replay)
    assert replay_visual(replay, render="human") == result.length
    assert main(["replay", str(replay), "--record", str(gif)]) == 0
    frames = imageio.imread(gif)
    assert len(frames) == result.length + 1
    final = arena.make_env("tic_tac_toe-v0", render_mode="rgb_array")
    arena.play(final, ["random", "random"], seed=5)
    np.testing.assert_array_equal(frames[-1], final.render())  # the replay ends where the match ended
    assert main(["replay", str(replay), "--record", str(tmp_path / "out.avi")]) == 2


def test_recorder_needs_rgb_array_frames() -> None:
    with pytest.raises(ParameterError, match="rgb_array"):
        VideoRecorder(arena.make_env("rps-v0"))
