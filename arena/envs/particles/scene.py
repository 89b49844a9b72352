"""What a particle world looks like: entities as circles in a square field, returns on the bottom line."""

from __future__ import annotations

from typing import Any

import numpy as np
import pygame

from arena.render import draw
from arena.render.draw import INK, MUTED


def particles(env: Any, surface: pygame.Surface) -> None:
    """Entities as circles in a square field; pursuers show their sensing range; the bottom line has the returns."""
    world = env.world
    size = surface.get_width()
    surface.fill(draw.BACKGROUND)
    extent = world.view_extent(0)
    scale = (size / 2 - 10) / extent

    def screen(point: np.ndarray) -> tuple[float, float]:
        return float(size / 2 + point[0] * scale), float(size / 2 - point[1] * scale + 17)

    positions = world.positions(0)
    colors = world.entity_colors(0)
    sizes = world.sizes.cpu().numpy()
    many = world.num_entities > 40
    radius = getattr(world, "radius", None)
    if radius is not None and world.num_agents <= 200:
        for i in range(world.num_agents):
            pygame.draw.circle(surface, (215, 225, 245), screen(positions[i]), radius * scale, 1)
    half = getattr(world, "half_width", None)
    if half is not None:
        corner = screen(np.array([-half, half]))
        pygame.draw.rect(surface, MUTED, (*corner, 2 * half * scale, 2 * half * scale), 1)
    for i in reversed(range(world.num_entities)):  # landmarks first, agents on top
        label = "" if many or i >= world.num_agents else world.agent_names[i].replace("adversary_", "adv ")
        draw.particle(surface, screen(positions[i]), float(sizes[i] * scale), colors[i], label)
    step = int(world.t[0])
    draw.title_bar(surface, world.env_id, f"step {step}/{world.max_steps}")
    returns = world.returns[:, 0].cpu().numpy()
    teams = np.asarray(world.teams)
    summary = "   ".join(f"team {t}: {returns[teams == t].mean():+.2f}" for t in sorted(set(world.teams)))
    draw.text(surface, f"return per agent  {summary}", (10, size - 8), 20, INK, anchor="bottomleft")
