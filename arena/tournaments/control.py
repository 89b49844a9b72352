"""Control variates for `arena compare`: fewer games to a decision when an agent's strategy is known.

Both are AIVAT's correction (Burch et al. 2018): at every node where the move is drawn from a known distribution
(chance, or an agent with `action_probs`), the realised value of the move is replaced by its expectation under
that distribution, with a value function fixed before any game is seen. Each correction has mean zero whatever
the other agent does, so the corrected payoffs estimate the same expectation with less noise.

- Repeated two-player zero-sum matrix games (`repeated_correction`): each round's strategies and full-information
  payoffs are recorded; the game's own payoffs are the value function.
- Tabular games (`TreeCorrection`: Kuhn, Leduc, any game that compiles): the match's full action history, chance
  included, is recorded (`record_histories`); the value function is each player's expected payoff at every
  history when the known agents play their strategies and the unknown one plays a known agent's strategy in its
  seat. Along the history, every step taken at chance or by a known agent adds V(before) - V(after) to each
  player's payoff. The known strategy is read once, at every information set, and stands for the agent's play in
  every match: the correction assumes, as exact exploitability does, that the agent draws its moves from the
  `action_probs` it states, the same in every match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from arena.registry import envs as env_registry
from arena.specs import EnvSpec

CHANCE = -1


def repeated_applies(env: EnvSpec) -> bool:
    """Repeated two-player zero-sum matrix games record each round's strategies and full-information payoffs."""
    if int(env.params.get("rounds", 1)) < 2 or env.id not in env_registry:
        return False
    tags = env_registry.get(env.id).tags
    return "repeated" in tags and "zero-sum" in tags


def repeated_correction(
    seats: tuple[str, ...], payoffs: tuple[float, ...], rounds: Mapping[str, Any] | None, known: set[str]
) -> tuple[float, ...]:
    """A two-player zero-sum repeated game's payoffs with the control variate of the seats in `known` whose
    strategy of each round is recorded. In each round, of those seats the one whose strategy is the most random
    (largest entropy; chosen before the moves are drawn) has its realised payoff replaced by its expected payoff
    over its own strategy against the other's actual move (`action_payoffs`), and the opponent gets the negative.
    """
    if not rounds or len(seats) != 2 or "action_payoffs" not in rounds:
        return payoffs
    usable = [s for s in range(2) if seats[s] in known and rounds["policies"][s] is not None]
    if not usable:
        return payoffs
    values = [np.asarray(rounds["action_payoffs"][s], dtype=float) for s in range(2)]
    played = [np.asarray(rounds["actions"][s], dtype=int) for s in range(2)]
    steps = np.arange(len(played[0]))
    gains = np.zeros((2, len(steps)))  # each seat's correction of its own payoff, round by round
    spread = np.full((2, len(steps)), -np.inf)
    for s in usable:
        probs = np.asarray(rounds["policies"][s], dtype=float)[:, : values[s].shape[1]]
        gains[s] = (probs * values[s]).sum(axis=1) - values[s][steps, played[s]]
        with np.errstate(divide="ignore", invalid="ignore"):
            spread[s] = -np.where(probs > 0, probs * np.log(probs), 0.0).sum(axis=1)
    chosen = np.where(spread[1] > spread[0], 1, 0)
    correction = gains[0] * (chosen == 0) - gains[1] * (chosen == 1)  # seat 0's view: seat 1's gain is its loss
    total = float(correction.sum())
    return (payoffs[0] + total, payoffs[1] - total)


class TreeCorrection:
    """The control variate of a tabular game (see the module docstring) for the agents whose strategy is known:
    `strategies[name]` is that agent's behavioural strategy, one [infosets, actions] table per player."""

    def __init__(self, game: Any, strategies: Mapping[str, Sequence[np.ndarray]]) -> None:
        if not strategies:
            raise ValueError("the tree control variate needs at least one known strategy")
        self.game, self.strategies = game, dict(strategies)
        self.reference = next(iter(self.strategies.values()))  # the unknown agent's stand-in
        parent = game.history_parent[1:].astype(np.int64)
        self._width = int(game.history_action.max()) + 1  # chance outcomes may outnumber the players' actions
        keys = parent * self._width + game.history_action[1:].astype(np.int64)
        self._order = np.argsort(keys, kind="stable")
        self._keys = keys[self._order]
        self._values: dict[tuple[str, ...], np.ndarray] = {}  # one per seat order

    def child(self, history: int, action: int) -> int:
        """The history reached from `history` by `action` (-1 when the compiled tree has none)."""
        if not 0 <= action < self._width:
            return -1
        key = history * self._width + action
        at = int(np.searchsorted(self._keys, key))
        return int(self._order[at]) + 1 if at < len(self._keys) and self._keys[at] == key else -1

    def values(self, seats: tuple[str, ...]) -> np.ndarray:
        """[H, n]: every player's expected payoff at every history when the agents in `seats` play their known
        strategies (the reference one where unknown)."""
        if seats not in self._values:
            self._values[seats] = self._backward(seats)
        return self._values[seats]

    def _backward(self, seats: tuple[str, ...]) -> np.ndarray:
        game = self.game
        probs = [self.strategies.get(name, self.reference)[p] for p, name in enumerate(seats)]
        weight = np.ones(game.num_histories)
        children = np.arange(1, game.num_histories)
        parents = game.history_parent[1:]
        mover = game.history_player[parents]
        weight[1:] = game.history_chance_prob[1:]
        for p in range(game.num_players):
            moved = mover == p
            weight[children[moved]] = probs[p][
                game.history_infoset[parents[moved]], game.history_action[children[moved]]
            ]
        values = np.zeros((game.num_histories, game.num_players))
        values[game.terminal_history] = game.terminal_utility
        for level in reversed(game.depth_slices[1:]):
            np.add.at(values, game.history_parent[level], weight[level, None] * values[level])
        return values

    def correct(
        self, seats: tuple[str, ...], payoffs: tuple[float, ...], rounds: Mapping[str, Any] | None
    ) -> tuple[float, ...]:
        """`payoffs` with the corrections of every step of the recorded history taken at chance or by a known
        agent; a match without a history (stored before histories were recorded) is left as it is."""
        history = (rounds or {}).get("history")
        if not history or len(seats) != self.game.num_players:
            return payoffs
        values = self.values(tuple(seats))
        known = [name in self.strategies for name in seats]
        total = np.zeros(self.game.num_players)
        node = 0
        for action in history:
            nxt = self.child(node, int(action))
            if nxt < 0:  # not in the compiled tree: the corrections so far stand (each has mean zero)
                break
            mover = int(self.game.history_player[node])
            if mover == CHANCE or (0 <= mover < len(known) and known[mover]):
                total += values[node] - values[nxt]
            node = nxt
        return tuple(float(p + c) for p, c in zip(payoffs, total))
