"""Tabular policies: one probability row per information set, their file format, and probing agents for them.

File format (JSON, written by `TabularPolicy.save`):

    {"format": "arena-tabular-policy", "version": 1,
     "game": "<what arena.games.load takes to rebuild the game>", "game_key": "<TabularGame.key>",
     "num_actions": A,
     "policy": {"<information-state string>": [p_0, ..., p_{A-1}], ...}}

Each row gives a probability for every action id (zero on illegal actions) and covers every information set of
every player. Floats are written with full precision, so a policy survives a round trip exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from arena.core import Agent, Observation
from arena.envs.openspiel import observation_for
from arena.errors import ConfigError, ParameterError
from arena.games.tree import TabularGame, load
from arena.registry import make_env

FORMAT = "arena-tabular-policy"
VERSION = 1


class TabularPolicy:
    """A behavioural strategy for every player of a TabularGame: probs[p] has shape [num_infosets_p, num_actions]."""

    def __init__(self, game: TabularGame, probs: list[np.ndarray]) -> None:
        if len(probs) != game.num_players:
            raise ParameterError(f"a policy of {game.name} needs {game.num_players} players' tables, got {len(probs)}")
        self.game = game
        self.probs = [np.asarray(p, dtype=np.float64) for p in probs]
        for player, (table, tree) in enumerate(zip(self.probs, game.players)):
            if table.shape != tree.legal.shape:
                raise ParameterError(f"player {player}'s table has shape {table.shape}, expected {tree.legal.shape}")

    @classmethod
    def uniform(cls, game: TabularGame) -> TabularPolicy:
        """Uniform over the legal actions at every information set."""
        return cls(game, [game.uniform_probs(p) for p in range(game.num_players)])

    @classmethod
    def random(cls, game: TabularGame, seed: int = 0) -> TabularPolicy:
        """A random behavioural policy: each legal action's weight drawn from Exp(1), normalised per infoset."""
        rng = np.random.default_rng(seed)
        probs = []
        for tree in game.players:
            raw = rng.exponential(size=tree.legal.shape) * tree.legal
            probs.append(raw / raw.sum(axis=1, keepdims=True))
        return cls(game, probs)

    def copy(self) -> TabularPolicy:
        return TabularPolicy(self.game, [p.copy() for p in self.probs])

    def plans(self) -> list[np.ndarray]:
        """Each player's sequence-form realization plan."""
        return [tree.realization_plan(p) for tree, p in zip(self.game.players, self.probs)]

    def action_probs(self, key: str) -> np.ndarray:
        """Probabilities over all action ids at the information state `key`."""
        player, infoset = self.game.infoset_of(key)
        return self.probs[player][infoset].copy()

    def lookup(self) -> dict[str, tuple[np.ndarray, list[float]]]:
        """{information-state key: (probabilities over all action ids, their normalised cumulative sums)}: what
        playing the policy reads at every decision, built once. The sums are those numpy's Generator.choice draws
        from (bisect_right(sums, u) is the action choice(p=probabilities) picks for the uniform draw u)."""
        table = {}
        for tree, probs in zip(self.game.players, self.probs):
            sums = np.cumsum(probs, axis=1)
            sums /= sums[:, -1:]
            for key, row, cumulative in zip(tree.keys, probs, sums.tolist()):
                table[key] = (row, cumulative)
        return table

    def to_dict(self) -> dict[str, list[float]]:
        """{information-state string: probabilities over all action ids}."""
        return {
            key: [float(x) for x in table[i]]
            for tree, table in zip(self.game.players, self.probs)
            for i, key in enumerate(tree.keys)
        }

    @classmethod
    def from_dict(cls, game: TabularGame, mapping: Mapping[str, Any]) -> TabularPolicy:
        """From {key: probabilities over all action ids} or {key: {action: probability}}; every infoset needed."""
        missing = [key for key in game.key_index if key not in mapping]
        if missing:
            raise ParameterError(
                f"the policy misses {len(missing)} of {len(game.key_index)} information states of "
                f"{game.name}, e.g. {missing[0]!r}"
            )
        probs = []
        for tree in game.players:
            rows = [_dense_row(mapping[key], game.num_actions, key) for key in tree.keys]
            table = np.stack(rows) if rows else np.zeros(tree.legal.shape)
            probs.append(check_table(table, tree.legal, tree.keys))
        return cls(game, probs)

    def save(self, path: str | Path) -> None:
        """Write the policy as JSON (see the module docstring)."""
        data = {
            "format": FORMAT,
            "version": VERSION,
            "game": self.game.env_id,
            "game_key": self.game.key,
            "num_actions": self.game.num_actions,
            "policy": self.to_dict(),
        }
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data))

    @classmethod
    def load(cls, path: str | Path, game: TabularGame | None = None) -> TabularPolicy:
        """Read a policy file; the game is rebuilt from the file unless given."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read policy file {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("policy"), dict):
            raise ConfigError(f"{path} is not an arena policy file")
        if game is None:
            game = load(data["game"])
        if data.get("game_key") != game.key:
            raise ConfigError(f"{path} is a policy of {data.get('game')}, not of {game.name}")
        return cls.from_dict(game, data["policy"])


def _dense_row(row: Any, num_actions: int, key: str) -> np.ndarray:
    if isinstance(row, Mapping):
        dense = np.zeros(num_actions)
        for action, prob in row.items():
            if not 0 <= int(action) < num_actions:
                raise ParameterError(f"at {key!r}: action {action} is not an action id")
            dense[int(action)] = float(prob)
        return dense
    dense = np.asarray(row, dtype=np.float64).ravel()
    if dense.shape != (num_actions,):
        raise ParameterError(f"at {key!r}: {dense.size} probabilities for {num_actions} actions")
    return dense


def check_table(table: np.ndarray, legal: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """Validate probability rows (finite, non-negative, on legal actions, summing to 1); return them cleaned.

    Rows whose sum is off by more than 1e-12 (but at most 1e-6) are renormalised; others are kept bit for bit.
    """
    table = np.asarray(table, dtype=np.float64)
    if table.shape != legal.shape:
        raise ParameterError(f"{table.shape[-1]} probabilities per row for {legal.shape[-1]} actions")
    illegal_mass = np.where(legal, 0.0, table).sum(axis=1)
    cleaned = np.where(legal, np.clip(table, 0.0, None), 0.0)
    totals = cleaned.sum(axis=1)
    problems = [
        (
            ~np.isfinite(table).all(axis=1) | (table.min(axis=1, initial=0.0) < -1e-9),
            "probabilities must be finite and non-negative",
        ),
        (illegal_mass > 1e-9, "probability on illegal actions"),
        (np.abs(totals - 1.0) > 1e-6, "probabilities must sum to 1"),
    ]
    for bad, message in problems:
        if bad.any():
            row = int(np.argmax(bad))
            raise ParameterError(f"at {keys[row]!r}: {message}, got {table[row].tolist()}")
    off = np.abs(totals - 1.0) > 1e-12
    cleaned[off] /= totals[off, None]
    return cleaned


def check_probs(probs: Any, legal: np.ndarray, where: str) -> np.ndarray:
    """Validate one probability row over all action ids (see check_table)."""
    return check_table(_dense_row(probs, legal.size, where)[None], legal[None], [where])[0]


def observations(
    game: TabularGame, agent: Agent, seed: int | None = 0, players: Sequence[int] | None = None
) -> Iterator[tuple[int, int, Observation]]:
    """(player, infoset, Observation) at every information set of `players` (default all), built exactly as the
    env builds it for a match. `agent` is reset as each player, with the env's spec, before that player's turn.
    """
    env = make_env(game.env_id)
    spec = env.spec
    for player in range(game.num_players) if players is None else players:
        tree = game.players[player]
        agent.reset(seed, f"player_{player}", spec)
        if game.kind == "normal-form":
            env.reset(seed=seed)
            for infoset in range(tree.num_infosets):
                yield (
                    player,
                    infoset,
                    Observation(
                        player=f"player_{player}", observation=env.history.copy(), info=env.describe(player), step=0
                    ),
                )
            continue
        for infoset, history in enumerate(tree.infoset_history):
            state = game.game.new_initial_state()
            for action in game.history_actions(int(history)):
                state.apply_action(action)
            yield player, infoset, observation_for(game.game, state, player)


def policy_from_agent(
    game: TabularGame, agent: Agent, seed: int | None = 0, players: Sequence[int] | None = None
) -> TabularPolicy:
    """Probe the agent's exact `action_probs` once at every information set of `players` (default all; the
    others' rows stay uniform)."""
    if not agent.has_action_probs():
        raise ParameterError(f"agent {agent.name} has no exact action_probs; estimate it from sampled actions")
    probs = [game.uniform_probs(p) for p in range(game.num_players)]
    for player, infoset, obs in observations(game, agent, seed, players):
        tree = game.players[player]
        row = _padded(agent.action_probs(obs), game.num_actions)
        probs[player][infoset] = check_probs(row, tree.legal[infoset], f"{agent.name} at {tree.keys[infoset]}")
    return TabularPolicy(game, probs)


def sample_counts_from_agent(game: TabularGame, agent: Agent, samples: int, seed: int | None = 0) -> list[np.ndarray]:
    """How often the agent's `act` chose each action in `samples` calls at every information set of every player."""
    if samples < 1:
        raise ParameterError("samples must be at least 1")
    counts = [np.zeros(tree.legal.shape) for tree in game.players]
    for player, infoset, obs in observations(game, agent, seed):
        tree = game.players[player]
        for _ in range(samples):
            action = int(agent.act(obs))
            if not (0 <= action < game.num_actions and tree.legal[infoset, action]):
                raise ParameterError(f"agent {agent.name} chose illegal action {action} at {tree.keys[infoset]!r}")
            counts[player][infoset, action] += 1
    return counts


def _padded(probs: Any, num_actions: int) -> np.ndarray:
    row = np.asarray(probs, dtype=np.float64).ravel()
    if row.size < num_actions:  # normal-form players with fewer actions than the largest action set
        row = np.concatenate([row, np.zeros(num_actions - row.size)])
    return row


def as_policy(game: TabularGame, policy: TabularPolicy | Mapping[str, Any] | Agent) -> TabularPolicy:
    """A TabularPolicy of `game` from a TabularPolicy, a {key: probabilities} dict or an Agent with action_probs."""
    if isinstance(policy, TabularPolicy):
        if policy.game.key != game.key:
            raise ParameterError(f"the policy belongs to {policy.game.name}, not to {game.name}")
        return policy
    if isinstance(policy, Agent):
        return policy_from_agent(game, policy)
    if isinstance(policy, Mapping):
        return TabularPolicy.from_dict(game, policy)
    raise ParameterError(f"a policy is a TabularPolicy, a dict or an Agent, not {type(policy).__name__}")
