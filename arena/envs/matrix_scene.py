"""What a matrix game looks like: the payoff table with the last joint action and the running totals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pygame

from arena.render import draw
from arena.render.draw import MUTED


def matrix(env: Any, surface: pygame.Surface) -> None:
    """The payoff table with the joint action just played highlighted, the round and the running totals."""
    surface.fill(draw.BACKGROUND)
    rounds_done = int(getattr(env, "round", 0))
    draw.title_bar(
        surface,
        env.title,
        f"round {min(rounds_done + 1, env.rounds)}/{env.rounds}" if rounds_done < env.rounds else "game over",
    )
    last = getattr(env, "_last", None)
    names = env.action_names_per_player
    width, height = surface.get_size()
    if env.num_players == 2:
        cells = [
            [f"{env.payoffs[0, a, b] + 0.0:g}, {env.payoffs[1, a, b] + 0.0:g}" for b in range(env.num_actions[1])]
            for a in range(env.num_actions[0])
        ]
        draw.text(surface, "player 1 \u2192", (width / 2, 50), 20, MUTED, anchor="midtop")
        draw.text(surface, "player 0 \u2193", (20, 50), 20, MUTED)
        draw.table(
            surface,
            pygame.Rect(20, 74, width - 40, height - 200),
            names[0],
            names[1],
            cells,
            None if last is None else (last[0], last[1]),
        )
    else:
        draw.wrapped_text(surface, env.payoff_table_text(0), pygame.Rect(20, 60, width - 40, height - 200), 20)
    totals = np.zeros(env.num_players)
    for row in env.history[:rounds_done]:
        totals += env.payoffs[(slice(None), *row)]
    played = "none yet" if last is None else ", ".join(f"P{i} {names[i][a]}" for i, a in enumerate(last))
    draw.text(surface, f"last joint action: {played}", (20, height - 90), 24)
    draw.text(surface, "totals: " + ", ".join(f"P{i} {t:+g}" for i, t in enumerate(totals)), (20, height - 55), 24)
