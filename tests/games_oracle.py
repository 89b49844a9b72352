"""Shared helpers for the game-theory tests: random policies and OpenSpiel views of arena policies."""

from __future__ import annotations

import pyspiel
from open_spiel.python import policy as os_policy

from arena.core import Agent, Observation
from arena.envs.openspiel import info_state_key
from arena.games.policy import TabularPolicy
from arena.games.tree import TabularGame


class OpenSpielView(os_policy.Policy):
    """An arena TabularPolicy seen as an OpenSpiel policy of `spiel_game` (looked up by information-state key,
    or by player for normal-form games whose single infoset per player is keyed differently in OpenSpiel)."""

    def __init__(self, spiel_game: pyspiel.Game, policy: TabularPolicy) -> None:
        super().__init__(spiel_game, list(range(spiel_game.num_players())))
        self.policy = policy

    def action_probabilities(self, state: pyspiel.State, player_id: int | None = None) -> dict[int, float]:
        player = state.current_player() if player_id is None else player_id
        if self.policy.game.kind == "normal-form":
            row = self.policy.probs[player][0]
        else:
            row = self.policy.action_probs(info_state_key(self.game, state, player))
        return {a: float(row[a]) for a in state.legal_actions(player)}


def spiel_game_of(game: TabularGame) -> pyspiel.Game:
    """The OpenSpiel game equal to `game`: the game itself, or a turn-based matrix game for normal-form envs."""
    if game.kind == "openspiel":
        return game.game
    payoffs = game.game.payoffs
    matrix = pyspiel.create_matrix_game(payoffs[0].tolist(), payoffs[1].tolist())
    return pyspiel.convert_to_turn_based(matrix)


class FirstLegal(Agent):
    """Plays its first legal action and exposes no action_probs: its exploitability can only be estimated."""

    def act(self, obs: Observation) -> int:
        return obs.legal_actions[0]
