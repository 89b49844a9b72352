"""The pictures the web viewer (and every window, GIF and MP4) shows, and what a person at the terminal is told
after a game: arrows drawn rather than missing-glyph boxes, a chip stack that leaves the "pot" label alone, a
particle world's last picture showing its last step, the opponents' cards after a hand."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pygame
import torch

import arena
from arena.envs.particles.core import ACTION_NAMES
from arena.registry import make_vector_env
from arena.render import draw
from arena.render.recording import VideoRecorder


def _ink(image: pygame.Surface) -> np.ndarray:
    """Where an image drawn on a transparent or white background has ink: a [width, height] bool array."""
    canvas = pygame.Surface(image.get_size())
    canvas.fill(draw.WHITE)
    canvas.blit(image, (0, 0))
    return pygame.surfarray.array3d(canvas).sum(axis=2) < 3 * 200


def test_arrows_are_drawn_pointing_their_way_not_as_boxes() -> None:
    box = _ink(draw.font(40).render("\ue000", True, draw.INK))  # a character the font lacks: its box
    for arrow, (dx, dy) in draw.ARROWS.items():
        ink = _ink(draw.line_image(arrow, 40))
        assert ink.shape != box.shape or (ink != box).any(), arrow
        xs, ys = np.nonzero(ink)
        along, way = (xs, dx) if dx else (ys, dy)
        middle = (along.min() + along.max()) / 2
        ahead, behind = ((along - middle) * way > 0).sum(), ((along - middle) * way < 0).sum()
        assert ahead >= behind + 5, arrow  # the head holds more ink than the shaft: it is on the side pointed to
    label = draw.line_image("player 1 \u2192", 20)
    assert label.get_width() > draw.font(20).size("player 1 ")[0] + 6


def test_a_tall_chip_stack_leaves_the_label_above_it_alone() -> None:
    surface = pygame.Surface((240, 200))
    surface.fill(draw.FELT)
    label = draw.text(surface, "pot", (40, 60), 24, draw.WHITE, bold=True)  # where the poker table writes it
    before = pygame.surfarray.array3d(surface.subsurface(label)).copy()
    draw.chips(surface, (40, 110), 26)  # the largest Leduc pot
    assert (pygame.surfarray.array3d(surface.subsurface(label)) == before).all()


def test_leduc_picture_with_the_largest_pot_keeps_its_pot_label() -> None:
    env = arena.make_env("leduc_poker-v0", render_mode="rgb_array")
    env.reset(seed=0)
    for action in (2, 2, 1, 2, 2, 1):  # raise, raise, call in both rounds: the largest pot, 26
        env.step(action)
    assert env.state.is_terminal()
    empty = pygame.Surface((240, 200))
    empty.fill(draw.FELT)
    label = draw.text(empty, "pot", (40, 60), 24, draw.WHITE, bold=True)
    frame = env.render()
    region = frame[label.top : label.bottom, label.left : label.right]
    chip_colors = {tuple(c) for c in draw.CHIP_COLORS}
    assert not any(tuple(pixel) in chip_colors for row in region for pixel in row)


def test_a_particle_world_video_ends_on_its_last_step() -> None:
    env = arena.make_env("tag-v0", render_mode="rgb_array")
    recorder = VideoRecorder(env)
    result = arena.play(recorder.env, ["random"] * 4, seed=1)
    assert result.length == 25 and len(recorder.frames) == 26
    assert int(env.world.t[0]) == 25  # the world is left at its last step, not restarted
    assert (recorder.frames[-1] == env.render()).all() and (recorder.frames[-1] != recorder.frames[0]).any()


def test_the_view_restarts_with_the_same_draws_as_its_batch() -> None:
    """The single-world view makes at reset() the restart a batch makes at once, then the reset's own: an unseeded
    next episode is the one it always was (a batch restarted at once, then reset)."""
    view = arena.make_env("tag-v0")
    batch = make_vector_env("tag-v0", 1, seed=7)
    view.reset(seed=7)
    batch.reset(seed=7)
    rng = np.random.default_rng(0)
    for _ in range(25):
        moves = rng.integers(0, len(ACTION_NAMES), size=4)
        view.step(dict(zip(view.possible_agents, moves.tolist())))
        batch.step(torch.as_tensor(moves)[None])
    assert not view.agents
    observations, _ = view.reset()
    assert np.allclose(np.stack([observations[a] for a in view.possible_agents]), batch.reset()[0].numpy())


def test_a_person_at_the_terminal_sees_the_opponents_cards_after_the_hand() -> None:
    env = arena.make_env("kuhn_poker-v0")
    env.reset(seed=1)
    cards = ["JQK"[c] for c in env.state.history()[:2]]
    done = subprocess.run(
        [sys.executable, "-m", "arena.cli", "play", "kuhn_poker-v0", "--agents", "human", "fixed(action=Bet)"]
        + ["--seed", "1"],
        input="Pass\nPass\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"Showdown: player_0 (human) held {cards[0]}, player_1 (fixed(action=Bet)) held {cards[1]}" in done.stdout
    assert "The game is over: player_0 gets -1." in done.stdout
