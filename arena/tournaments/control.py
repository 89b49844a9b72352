"""Control variates for `arena compare`: fewer games to a decision when an agent's strategy is known.

Both are AIVAT's correction (Burch et al. 2018): at every node where the move is drawn from a known distribution
(chance, or an agent with `action_probs`), the realised value of the move is replaced by its expectation under
that distribution, with a value function fixed before any game is seen. Each correction has mean zero whatever
the other agent does, so the corrected payoffs estimate the same expectation with less noise.

- Repeated two-player zero-sum matrix games (`repeated_correction`): each round's strategies and full-information
  payoffs are recorded; the game's own payoffs are the value function.
- Tabular games (`TreeCorrection`: Kuhn, Leduc, any game that compiles): the match's full action history, chance
  included, is recorded (`record_histories`); the value function is each player's expected payoff at every
  history when the known agent plays its strategy and the unknown one plays uniformly. Along the history, every
  step taken at chance adds V(before) - V(after) to the chance component of each player's correction, and every
  step of the known agent to its own component. The known strategy is read once, at every information set, and
  stands for the agent's play in every match: the correction assumes, as exact exploitability does, that the
  agent draws its moves from the `action_probs` it states, the same in every match.

How much of each component to add is `ControlVariate.fit`: a value function that models the unknown agent badly
can add noise instead of removing it (against an agent that always calls, a uniform model of it is far off), so
the first `pilot` pairs are used as played, and every later pair is corrected with the coefficients that, by least
squares over all the pairs before it, minimise the variance of the corrected margin. A pair's coefficients depend
on earlier pairs only, so its correction still has mean zero and the estimate stays unbiased. The repeated-game variate
uses the coefficient 1 from the first pair (the game's payoffs are the exact value function there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.registry import envs as env_registry
from arena.specs import EnvSpec

CHANCE = -1
PILOT_PAIRS = 20  # pairs played as they are, to fit the tree variate's coefficients


@dataclass(frozen=True)
class ControlVariate:
    """A correction of a match's payoffs in `components(seats, payoffs, rounds)`: one row per player, one column
    per component, each of mean zero; the first `pilot` pairs fit the coefficients (`fit`), none: all ones."""

    components: Callable[[tuple[str, ...], tuple[float, ...], Any], np.ndarray]
    pilot: int = 0

    def fit(self, margins: Sequence[float], components: Sequence[np.ndarray]) -> np.ndarray:
        """The coefficients that minimise the variance of margin + coefficients . components over the pairs given
        (least squares on centred values; all ones without a pilot)."""
        width = len(components[0]) if len(components) else 1
        if not self.pilot or len(margins) < 2:
            return np.ones(width)
        x = np.asarray(components, dtype=float)
        y = np.asarray(margins, dtype=float)
        x, y = x - x.mean(axis=0), y - y.mean()
        return -np.linalg.lstsq(x, y, rcond=None)[0]


def repeated_applies(env: EnvSpec) -> bool:
    """Repeated two-player zero-sum matrix games record each round's strategies and full-information payoffs."""
    if int(env.params.get("rounds", 1)) < 2 or env.id not in env_registry:
        return False
    tags = env_registry.get(env.id).tags
    return "repeated" in tags and "zero-sum" in tags


def repeated(known: set[str]) -> ControlVariate:
    """The repeated-game variate of the agents in `known` (coefficient 1, no pilot)."""

    def components(seats: tuple[str, ...], payoffs: tuple[float, ...], rounds: Any) -> np.ndarray:
        corrected = repeated_correction(seats, payoffs, rounds, known)
        return (np.asarray(corrected) - np.asarray(payoffs, dtype=float))[:, None]

    return ControlVariate(components)


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
        self.game, self.strategies = game, dict(strategies)
        self.reference = [game.uniform_probs(p) for p in range(game.num_players)]  # the unknown agent's model
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

    def components(self, seats: tuple[str, ...], payoffs: tuple[float, ...], rounds: Any) -> np.ndarray:
        """[players, 2]: the corrections of each player's payoff at the chance steps and at the known agents'
        steps of the recorded history; zeros for a match without one (stored before histories were recorded)."""
        found = np.zeros((self.game.num_players, 2))
        history = (rounds or {}).get("history") if isinstance(rounds, Mapping) else None
        if not history or len(seats) != self.game.num_players:
            return found
        values = self.values(tuple(seats))
        known = [name in self.strategies for name in seats]
        node = 0
        for action in history:
            nxt = self.child(node, int(action))
            if nxt < 0:  # not in the compiled tree: the corrections so far stand (each has mean zero)
                break
            mover = int(self.game.history_player[node])
            if mover == CHANCE:
                found[:, 0] += values[node] - values[nxt]
            elif 0 <= mover < len(known) and known[mover]:
                found[:, 1] += values[node] - values[nxt]
            node = nxt
        return found

    def correct(self, seats: tuple[str, ...], payoffs: tuple[float, ...], rounds: Any) -> tuple[float, ...]:
        """`payoffs` with both components added in full (AIVAT's estimator)."""
        total = self.components(seats, payoffs, rounds).sum(axis=1)
        return tuple(float(p + c) for p, c in zip(payoffs, total))

    def variate(self) -> ControlVariate:
        """This correction with its coefficients fitted on the first PILOT_PAIRS pairs."""
        return ControlVariate(self.components, PILOT_PAIRS)
