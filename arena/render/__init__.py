"""pygame drawing for every env: `render_env(env)` backs `env.render()` in "human" and "rgb_array" modes.

"human" opens a window and shows the picture (paced at the env's `render_fps`); "rgb_array" returns it as an
H x W x 3 uint8 frame. The env keeps its `Renderer` in `env._renderer`, which `env.close()` closes. What is drawn is
the env's own: `env.scene()` gives its drawing function and frame size, built from the helpers of `arena.render.draw`.
Nothing here imports an env.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

DEFAULT_FPS = 2


def headless() -> bool:
    """SDL's dummy video driver: windows exist but nobody sees them, so nothing waits for a viewer."""
    return os.environ.get("SDL_VIDEODRIVER") == "dummy"


class Renderer:
    """One drawing surface, shown in a window ("human") or read back as frames ("rgb_array")."""

    def __init__(self, mode: str, size: tuple[int, int], fps: float = DEFAULT_FPS, caption: str = "arena") -> None:
        if mode not in ("human", "rgb_array"):
            raise ValueError(f"pygame rendering is for 'human' or 'rgb_array', not {mode!r}")
        pygame.font.init()
        self.mode, self.fps = mode, fps
        self.canvas = pygame.Surface(size)
        self.window: pygame.Surface | None = None
        if mode == "human":
            pygame.display.init()
            self.window = pygame.display.set_mode(size)
            pygame.display.set_caption(caption)
            self.clock = pygame.time.Clock()

    def present(self) -> np.ndarray | None:
        """Show the canvas (human) or return it as a frame (rgb_array)."""
        if self.window is None:
            return np.transpose(pygame.surfarray.array3d(self.canvas), (1, 0, 2)).copy()
        self.window.blit(self.canvas, (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        if not headless():
            self.clock.tick(self.fps)
        return None

    def show_frame(self, frame: np.ndarray) -> None:
        """Put an H x W x 3 frame into the window (used when a recording is also watched)."""
        surface = pygame.surfarray.make_surface(np.transpose(frame, (1, 0, 2)))
        self.canvas.blit(surface, (0, 0))
        self.present()

    def hold(self, seconds: float) -> None:
        """Keep the window responsive and on screen for a while (the last position of a match)."""
        if self.window is None or headless():
            return
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if any(event.type == pygame.QUIT for event in pygame.event.get()):
                return
            time.sleep(0.05)

    def close(self) -> None:
        if self.window is not None:
            pygame.display.quit()
            self.window = None


def render_env(env: Any) -> np.ndarray | None:
    """Draw `env` as it is now, in its render mode; returns the frame in "rgb_array" mode."""
    scene, size = env.scene()
    renderer = getattr(env, "_renderer", None)
    if renderer is None:
        fps = env.metadata.get("render_fps", DEFAULT_FPS)
        renderer = Renderer(env.render_mode, size, fps, f"arena: {env.metadata.get('name', 'game')}")
        env._renderer = renderer
    scene(env, renderer.canvas)
    return renderer.present()


__all__ = ["Renderer", "headless", "render_env"]
