"""An example arena plugin: a coin-matching game and an agent that always shows heads.

Installing this package is enough: arena finds both through the `arena.envs` and `arena.agents` entry points.
"""

from __future__ import annotations

from arena import Agent, Observation
from arena.envs.matrix import MatrixGameEnv


def make_coin_match(render_mode: str | None = None, rounds: int = 3, stake: float = 1.0) -> MatrixGameEnv:
    """Matching pennies for a stake, played for a few rounds."""
    payoffs = [[[stake, -stake], [-stake, stake]], [[-stake, stake], [stake, -stake]]]
    return MatrixGameEnv(payoffs, [["heads", "tails"]] * 2, rounds, "coin match", "", render_mode)


make_coin_match.arena_metadata = {"num_players": 2, "turn_based": False, "tags": ("competitive", "zero-sum")}


class AlwaysHeads(Agent):
    """Shows heads whenever heads is a move, else the first legal move."""

    name = "always_heads"

    def act(self, obs: Observation) -> int:
        names = [n.lower() for n in obs.action_names]
        if "heads" in names and obs.action_mask[names.index("heads")]:
            return names.index("heads")
        return obs.legal_actions[0]
