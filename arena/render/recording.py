"""Recording matches as GIF or MP4, and re-playing JSONL replays on screen or into a video.

`arena play ENV --agents ... --record match.gif` (or `.mp4`) films a match: the env renders "rgb_array" frames after
the reset and after every step, and imageio writes them (MP4 through imageio-ffmpeg). `arena replay FILE --render
human` (or `--record out.gif`) feeds a JSONL replay's actions through a fresh env made with the same parameters and
seed, so the same game unfolds again in pictures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pettingzoo import AECEnv
from pettingzoo.utils.wrappers import BaseParallelWrapper, BaseWrapper

from arena.errors import ConfigError, ParameterError
from arena.registry import make_env
from arena.replay import read_replay

VIDEO_SUFFIXES = (".gif", ".mp4")
DEFAULT_FPS = 4.0
# How long a window stays up on the final position after a match or a replay.
HOLD_SECONDS = 2.0


def is_video_path(path: str | Path | None) -> bool:
    """Whether a `--record` path asks for a video rather than a JSONL replay."""
    return path is not None and Path(path).suffix.lower() in VIDEO_SUFFIXES


def write_video(path: str | Path, frames: list[np.ndarray], fps: float = DEFAULT_FPS) -> None:
    """Write H x W x 3 uint8 frames as a GIF or an MP4 (the suffix decides)."""
    import imageio.v2 as imageio

    path = Path(path)
    if not frames:
        raise ParameterError(f"nothing to record into {path}: no frames")
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ParameterError(f"cannot record video into {path}: use a .gif or .mp4 file")
    try:
        if suffix == ".gif":
            # imageio's stub asks for List[ArrayLike], which a list of arrays is not (list is invariant)
            imageio.mimsave(path, frames, duration=1000.0 / fps, loop=0)  # type: ignore[arg-type]
        else:
            writer = imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=1, quality=7)
            with writer:
                for frame in frames:
                    writer.append_data(frame)
    except OSError as exc:
        raise ParameterError(f"cannot write {path}: {exc.strerror or exc}") from None


class _Film:
    """Collects a frame after every reset and step; optionally also shows it in a window."""

    def __init__(self, env: Any, show: bool) -> None:
        self.source, self.window = env, None
        self.frames: list[np.ndarray] = []
        if show:
            from arena.render import Renderer

            self.window = Renderer(
                "human",
                getattr(env, "unwrapped", env).scene()[1],
                env.metadata.get("render_fps", DEFAULT_FPS),
                f"arena: {env.metadata.get('name', 'game')}",
            )

    def capture(self) -> None:
        frame = self.source.render()
        self.frames.append(frame)
        if self.window is not None:
            self.window.show_frame(frame)


class _FilmedAEC(BaseWrapper):
    def __init__(self, env: AECEnv, film: _Film) -> None:
        super().__init__(env)
        self.film = film

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self.env.reset(seed=seed, options=options)
        self.film.capture()

    def step(self, action: Any) -> None:
        self.env.step(action)
        self.film.capture()


class _FilmedParallel(BaseParallelWrapper):
    def __init__(self, env: Any, film: _Film) -> None:
        super().__init__(env)
        self.film = film

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        out = self.env.reset(seed=seed, options=options)
        self.film.capture()
        return out

    def step(self, actions: dict) -> tuple[dict, dict, dict, dict, dict]:
        out = self.env.step(actions)
        self.film.capture()
        return out


class VideoRecorder:
    """Films an env made with render_mode="rgb_array": play the match on `recorder.env`, then `save(path)`.

    With `show=True` the frames are also shown in a window as they are made.
    """

    def __init__(self, env: Any, show: bool = False) -> None:
        if getattr(env, "render_mode", None) != "rgb_array":
            raise ParameterError("a video is recorded from an env made with render_mode='rgb_array'")
        self.film = _Film(env, show)
        self.env = _FilmedAEC(env, self.film) if isinstance(env, AECEnv) else _FilmedParallel(env, self.film)

    @property
    def frames(self) -> list[np.ndarray]:
        return self.film.frames

    def save(self, path: str | Path, fps: float | None = None, hold_seconds: float = 0.0) -> None:
        """Write the frames; a shown window stays up for `hold_seconds`, then closes."""
        rate = fps or self.env.metadata.get("render_fps", DEFAULT_FPS)
        write_video(path, self.frames, rate)
        if self.film.window is not None:
            self.film.window.hold(hold_seconds)
            self.film.window.close()
        self.film.frames = []


def finish_watching(env: Any, seconds: float | None = None) -> None:
    """Leave a human-mode window showing the final position for a while."""
    renderer = getattr(getattr(env, "unwrapped", env), "_renderer", None)
    if renderer is not None:
        renderer.hold(HOLD_SECONDS if seconds is None else seconds)


def replay_steps(env: Any, steps: list[dict[str, Any]], source: str | Path, playing: Any = None) -> Iterator[int]:
    """Feed a replay's steps into `env` (reset already), through `playing` (a wrapper of it) when given; yields the
    number of each step once it is played. A step by a player the env is not waiting for is a ConfigError."""
    playing = env if playing is None else playing
    for step in steps:
        if isinstance(env, AECEnv):
            while env.agents and (env.terminations[env.agent_selection] or env.truncations[env.agent_selection]):
                env.step(None)
            move = step["moves"][0]
            if env.agent_selection != move["player"]:
                raise ConfigError(
                    f"{source}: step {step['t']} is {move['player']}'s move, "
                    f"but the env waits for {env.agent_selection}"
                )
            playing.step(move["action"])
        else:
            playing.step({m["player"]: m["action"] for m in step["moves"]})
        yield step["t"]


def replay_visual(
    path: str | Path,
    render: str | None = "human",
    record: str | Path | None = None,
    fps: float | None = None,
    hold_seconds: float | None = None,
) -> int:
    """Re-play a JSONL replay in pictures: in a window (`render="human"`), into a video (`record`), or both.

    Returns the number of steps replayed. The env is rebuilt from the replay's header with the same seed.
    """
    if render not in (None, "human"):
        raise ParameterError("replays are shown with render='human'")
    if render is None and record is None:
        raise ParameterError("nothing to do: give render='human' and/or a .gif/.mp4 to record")
    if record is not None and not is_video_path(record):
        raise ParameterError(f"cannot record a replay into {record}: use a .gif or .mp4 file")
    header, steps, _ = read_replay(path)
    env = make_env(header["env_id"], render_mode="rgb_array" if record else "human", **header.get("env_params", {}))
    recorder = VideoRecorder(env, show=render == "human") if record else None
    playing = recorder.env if recorder else env
    try:
        playing.reset(seed=header.get("seed"))
        if recorder is None:
            env.render()
        for _ in replay_steps(env, steps, path, playing):
            pass
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path} does not replay in {header['env_id']}: {exc}") from None
    hold = HOLD_SECONDS if hold_seconds is None else hold_seconds
    if recorder is not None:
        assert record is not None  # a recorder is made only to record
        recorder.save(record, fps, hold_seconds=hold)
    else:
        finish_watching(env, hold)
    env.close()
    return len(steps)
