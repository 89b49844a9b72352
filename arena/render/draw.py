"""Shared pygame drawing helpers: text, cards, chips, dice, boards, tables and particles.

Every env's scene (`env.scene()`) is built from these, so a card or a chip looks the same in every game.
Fonts are pygame's built-in default font: nothing is loaded from disk or the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

Color = tuple[int, int, int]
Scene = Callable[[Any, "pygame.Surface"], None]  # draws an env onto a surface
WIDE = (720, 480)
SQUARE = (640, 640)

BACKGROUND: Color = (247, 245, 240)
FELT: Color = (33, 105, 64)
INK: Color = (30, 30, 35)
MUTED: Color = (120, 120, 128)
HIGHLIGHT: Color = (250, 204, 21)
WHITE: Color = (255, 255, 255)
RED: Color = (200, 40, 45)
CHIP_COLORS: tuple[Color, ...] = ((220, 60, 60), (40, 110, 210), (30, 150, 80), (20, 20, 20))
PLAYER_COLORS: tuple[Color, ...] = ((214, 39, 40), (31, 119, 180), (44, 160, 44), (148, 103, 189), (255, 127, 14))


@cache
def font(size: int, bold: bool = False) -> pygame.font.Font:
    if not pygame.font.get_init():
        pygame.font.init()
    f = pygame.font.Font(None, size)
    f.set_bold(bold)
    return f


# Arrows are not in pygame's default font (it would draw a box): they are drawn as shapes, pointing (dx, dy).
ARROWS: dict[str, tuple[int, int]] = {"\u2190": (-1, 0), "\u2192": (1, 0), "\u2191": (0, -1), "\u2193": (0, 1)}


def _arrow(height: int, direction: tuple[int, int], color: Color) -> pygame.Surface:
    """An arrow glyph as tall as a line of text: a shaft and a head, pointing along `direction`."""
    side = max(6, round(height * 0.6))
    glyph = pygame.Surface((side + 4, height), pygame.SRCALPHA)
    cx, cy, half = (side + 4) / 2, height / 2, side / 2
    dx, dy = direction
    tip = (cx + dx * half, cy + dy * half)
    tail = (cx - dx * half, cy - dy * half)
    base = (cx + dx * (half - side * 0.55), cy + dy * (half - side * 0.55))
    wing = (-dy * side * 0.4, dx * side * 0.4)
    pygame.draw.line(glyph, color, tail, base, max(2, height // 9))
    pygame.draw.polygon(
        glyph, color, [tip, (base[0] + wing[0], base[1] + wing[1]), (base[0] - wing[0], base[1] - wing[1])]
    )
    return glyph


def line_image(message: str, size: int = 22, color: Color = INK, bold: bool = False) -> pygame.Surface:
    """One line of text as an image, arrows included."""
    f = font(size, bold)
    if not any(ch in ARROWS for ch in message):
        return f.render(message, True, color)
    pieces: list[pygame.Surface] = []
    run = ""
    for ch in message + "\0":
        if ch in ARROWS or ch == "\0":
            if run:
                pieces.append(f.render(run, True, color))
                run = ""
            if ch in ARROWS:
                pieces.append(_arrow(f.get_height(), ARROWS[ch], color))
        else:
            run += ch
    image = pygame.Surface((sum(p.get_width() for p in pieces), f.get_height()), pygame.SRCALPHA)
    x = 0
    for piece in pieces:
        image.blit(piece, (x, 0))
        x += piece.get_width()
    return image


def text(
    surface: pygame.Surface,
    message: str,
    position: tuple[float, float],
    size: int = 22,
    color: Color = INK,
    anchor: str = "topleft",
    bold: bool = False,
) -> pygame.Rect:
    """Draw one line of text; `anchor` is a pygame.Rect attribute name (topleft, center, midtop, ...)."""
    image = line_image(message, size, color, bold)
    rect = image.get_rect(**{anchor: (round(position[0]), round(position[1]))})
    surface.blit(image, rect)
    return rect


def wrapped_text(surface: pygame.Surface, message: str, area: pygame.Rect, size: int = 20, color: Color = INK) -> int:
    """Draw text wrapped to `area`'s width, keeping line breaks; stops at the bottom. Returns the y reached."""
    f = font(size)
    y = area.top
    for paragraph in message.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if f.size(trial)[0] > area.width and line:
                if y + f.get_linesize() > area.bottom:
                    return y
                surface.blit(line_image(line, size, color), (area.left, y))
                y += f.get_linesize()
                line = word
            else:
                line = trial
        if y + f.get_linesize() > area.bottom:
            return y
        surface.blit(line_image(line, size, color), (area.left, y))
        y += f.get_linesize()
    return y


def title_bar(surface: pygame.Surface, title: str, status: str = "") -> None:
    """A dark strip across the top with the game's name and its status (whose turn, round...)."""
    width = surface.get_width()
    pygame.draw.rect(surface, (45, 45, 55), (0, 0, width, 34))
    text(surface, title, (12, 17), 24, WHITE, anchor="midleft", bold=True)
    if status:
        text(surface, status, (width - 12, 17), 22, (230, 230, 235), anchor="midright")


def card(
    surface: pygame.Surface,
    position: tuple[float, float],
    rank: str,
    suit: str = "",
    face_up: bool = True,
    highlight: bool = False,
    width: int = 56,
) -> pygame.Rect:
    """A playing card with its top-left corner at `position`; face down shows the back."""
    rect = pygame.Rect(round(position[0]), round(position[1]), width, round(width * 1.4))
    if highlight:
        pygame.draw.rect(surface, HIGHLIGHT, rect.inflate(8, 8), border_radius=9)
    if face_up:
        pygame.draw.rect(surface, WHITE, rect, border_radius=6)
        pygame.draw.rect(surface, INK, rect, 2, border_radius=6)
        color = RED if suit in ("h", "d") else INK
        text(surface, rank, rect.center, round(width * 0.75), color, anchor="center", bold=True)
        if suit:
            text(surface, suit, (rect.left + 6, rect.top + 4), round(width * 0.4), color)
    else:
        pygame.draw.rect(surface, (150, 30, 40), rect, border_radius=6)
        pygame.draw.rect(surface, WHITE, rect.inflate(-10, -10), 2, border_radius=4)
    return rect


CHIP_RISE = 24  # the most a stack of chips rises above its position, in pixels


def chips(surface: pygame.Surface, position: tuple[float, float], amount: float, label: str = "") -> None:
    """A stack of chips (one per unit, at most 12 drawn) with the amount written beside it. The bottom chip's top
    edge is at `position`; the stack rises at most CHIP_RISE pixels above it (a tall stack packs its chips closer),
    so that a label placed above that leaves room is never covered."""
    x, y = position
    count = min(int(round(amount)), 12)
    step = min(5.0, CHIP_RISE / (count - 1)) if count > 1 else 0.0
    for i in range(count):
        color = CHIP_COLORS[i % len(CHIP_COLORS)]
        top = round(y - step * i)
        pygame.draw.ellipse(surface, color, (x, top, 34, 14))
        pygame.draw.ellipse(surface, WHITE, (x, top, 34, 14), 1)
    text(surface, f"{label}{amount:g}", (x + 42, y + 7), 22, WHITE, anchor="midleft", bold=True)


def die(surface: pygame.Surface, position: tuple[float, float], face: int, size: int = 44) -> None:
    """A die showing `face` (1-6 as pips, other values as a number, 0 or less as hidden)."""
    rect = pygame.Rect(round(position[0]), round(position[1]), size, size)
    pygame.draw.rect(surface, WHITE if face > 0 else (200, 200, 205), rect, border_radius=8)
    pygame.draw.rect(surface, INK, rect, 2, border_radius=8)
    pips = {
        1: [(0, 0)],
        2: [(-1, -1), (1, 1)],
        3: [(-1, -1), (0, 0), (1, 1)],
        4: [(-1, -1), (1, -1), (-1, 1), (1, 1)],
        5: [(-1, -1), (1, -1), (0, 0), (-1, 1), (1, 1)],
        6: [(-1, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (1, 1)],
    }
    if face in pips:
        for dx, dy in pips[face]:
            pygame.draw.circle(surface, INK, (rect.centerx + dx * size // 4, rect.centery + dy * size // 4), size // 10)
    elif face > 0:
        text(surface, str(face), rect.center, size - 8, INK, anchor="center", bold=True)
    else:
        text(surface, "?", rect.center, size - 8, MUTED, anchor="center", bold=True)


def board(
    surface: pygame.Surface,
    area: pygame.Rect,
    cells: list[str],
    style: str = "marks",
    last: tuple[int, int] | None = None,
) -> None:
    """A grid of cells given as rows of characters ('.' empty, 'x', 'o'); `style` is "marks" (tic-tac-toe) or
    "discs" (connect four); `last` outlines the cell played last."""
    rows, cols = len(cells), max(len(r) for r in cells)
    side = min(area.width // cols, area.height // rows)
    left, top = area.centerx - side * cols // 2, area.centery - side * rows // 2
    if style == "discs":
        pygame.draw.rect(surface, (30, 70, 170), (left, top, side * cols, side * rows), border_radius=10)
    for r, row in enumerate(cells):
        for c, mark in enumerate(row):
            cell = pygame.Rect(left + c * side, top + r * side, side, side)
            centre, radius = cell.center, side * 0.38
            if style == "discs":
                color = {"x": PLAYER_COLORS[0], "o": HIGHLIGHT}.get(mark, BACKGROUND)
                pygame.draw.circle(surface, color, centre, radius)
            else:
                pygame.draw.rect(surface, INK, cell, 3)
                if mark == "x":
                    d = side * 0.28
                    pygame.draw.line(
                        surface, PLAYER_COLORS[0], (centre[0] - d, centre[1] - d), (centre[0] + d, centre[1] + d), 8
                    )
                    pygame.draw.line(
                        surface, PLAYER_COLORS[0], (centre[0] - d, centre[1] + d), (centre[0] + d, centre[1] - d), 8
                    )
                elif mark == "o":
                    pygame.draw.circle(surface, PLAYER_COLORS[1], centre, radius, 7)
            if last == (r, c):
                pygame.draw.rect(surface, HIGHLIGHT, cell.inflate(-4, -4), 4, border_radius=6)


def table(
    surface: pygame.Surface,
    area: pygame.Rect,
    row_names: list[str],
    column_names: list[str],
    cells: list[list[str]],
    highlight: tuple[int, int] | None = None,
) -> None:
    """A labelled table (payoff matrices); the `highlight` cell is filled."""
    rows, cols = len(row_names) + 1, len(column_names) + 1
    width, height = area.width / cols, min(area.height / rows, 60)
    for r in range(rows):
        for c in range(cols):
            cell = pygame.Rect(round(area.left + c * width), round(area.top + r * height), round(width), round(height))
            if highlight is not None and (r - 1, c - 1) == highlight:
                pygame.draw.rect(surface, HIGHLIGHT, cell)
            elif r == 0 or c == 0:
                pygame.draw.rect(surface, (225, 225, 230), cell)
            pygame.draw.rect(surface, MUTED, cell, 1)
            label = (
                column_names[c - 1]
                if r == 0 and c
                else row_names[r - 1]
                if c == 0 and r
                else cells[r - 1][c - 1]
                if r and c
                else ""
            )
            text(surface, label, cell.center, 22, INK, anchor="center", bold=(r == 0 or c == 0))


def particle(
    surface: pygame.Surface, centre: tuple[float, float], radius: float, color: Color, label: str = ""
) -> None:
    """An entity of a particle world: a filled circle with an outline and an optional label."""
    radius = max(2.0, radius)
    pygame.draw.circle(surface, color, centre, radius)
    pygame.draw.circle(surface, INK, centre, radius, 1)
    if label:
        text(surface, label, (centre[0], centre[1] - radius - 2), 16, INK, anchor="midbottom")
