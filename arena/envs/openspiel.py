"""Any OpenSpiel game as a PettingZoo AEC env.

Simultaneous-move games are played through OpenSpiel's turn-based transform, so every OpenSpiel game is an AEC env
with one acting player at a time; chance is sampled inside the env from its seeded generator. The same
`describe_state` builds `info[agent]` for the env and for the game-theory engine, which probes agents at every
information set without playing.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import itertools
import os
import secrets
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np
import pyspiel
from pettingzoo import AECEnv

from arena.core import Observation
from arena.errors import ParameterError, UnknownNameError, did_you_mean
from arena.registry import Outcomes

RULES = {
    "kuhn_poker": (
        "Kuhn poker: a deck of three cards (J < Q < K), one private card each, ante 1. Players act in turn: "
        "Pass (check, or fold when facing a bet) or Bet (bet 1, or call a bet). After pass-pass, bet-call or "
        "pass-bet-call the higher card wins the pot; a player who folds loses the ante."
    ),
    "leduc_poker": (
        "Leduc poker: six cards (J, Q, K in two suits), one private card each, ante 1, two betting rounds with a "
        "public card dealt between them. Raises are 2 in round one and 4 in round two, at most two per round. "
        "A pair with the public card wins, otherwise the higher card; Fold is only legal when facing a bet."
    ),
    "liars_dice": (
        "Liar's dice: each player rolls hidden dice. Players take turns bidding a quantity and a face "
        "('q-f': at least q dice show face f, a 6 counts as any face) with each bid higher than the last, "
        "or call 'Liar' on the previous bid. The caller wins if the bid was false, otherwise the bidder wins."
    ),
    "goofspiel": (
        "Goofspiel: each player holds cards 1..N; each turn a point card is revealed and every player bids one "
        "of their cards in secret. The highest bid wins the point card (ties discard it); the player with more "
        "points at the end wins. In this imperfect-information variant you only learn who won each turn."
    ),
    "tic_tac_toe": "Tic-tac-toe: players alternate marking a cell of a 3x3 grid; three in a row wins.",
    "connect_four": (
        "Connect four: players alternate dropping a disc into one of 7 columns of a 6-row board; four in a row "
        "(horizontal, vertical or diagonal) wins."
    ),
}

_KUHN_CARDS = "JQKA"


class _ChanceStream:
    """Uniform draws in [0, 1) from BLAKE2b of the seed and a block number: a seeded stream that costs nothing to
    start. Each 64-byte digest gives eight 53-bit draws, so a match (a few chance outcomes) hashes once.
    """

    _WORDS = struct.Struct("<8Q")

    def __init__(self, seed: int | None) -> None:
        if seed is None:
            seed = secrets.randbits(64)
        seed = int(seed)
        if seed < 0:
            raise ValueError("seed must be non-negative")
        self.prefix = seed.to_bytes(seed.bit_length() // 8 + 1, "little")
        self.block = 0
        self.pending: list[int] = []  # the current block's 64-bit words not yet drawn, the next one last

    def random(self) -> float:
        if not self.pending:
            self.block += 1
            digest = hashlib.blake2b(
                self.prefix + self.block.to_bytes(8, "little"), digest_size=64, person=b"arena.chance"
            ).digest()
            self.pending = list(reversed(self._WORDS.unpack(digest)))
        return (self.pending.pop() >> 11) * 2.0**-53


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence what OpenSpiel's C++ code (and its Python games' logging) writes to the process's stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.cache
def registered_games() -> frozenset[str]:
    """Every OpenSpiel game name, OpenSpiel's Python games included (importing them registers them)."""
    with quiet_stderr():
        import open_spiel.python.games  # noqa: F401

    return frozenset(pyspiel.registered_names())


def is_registered_game(name: str) -> bool:
    """Whether OpenSpiel has a game of this name: its C++ games are asked first, since importing the Python
    games (a tenth of a second, done once per process) is needed only for a name those lack."""
    return name in _cpp_games() or name in registered_games()


@functools.cache
def _cpp_games() -> frozenset[str]:
    return frozenset(pyspiel.registered_names())


def load_game(game_string: str) -> pyspiel.Game:
    """Load an OpenSpiel game, turning simultaneous-move games into turn-based ones; errors become ArenaErrors.

    Games that arena cannot play as a PettingZoo env (mean-field games, whose player is a population) are refused.
    """
    name = game_string.partition("(")[0].strip()
    if not is_registered_game(name):
        raise UnknownNameError(f"unknown OpenSpiel game {name!r}{did_you_mean(name, registered_games(), cutoff=0.6)}")
    try:
        with quiet_stderr():
            game = pyspiel.load_game(game_string)
    except Exception as exc:  # SpielError, and the IndexError/RuntimeError some games raise on bad parameters
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParameterError(f"OpenSpiel game {game_string!r}: {message}") from None
    kind = game.get_type()
    if kind.dynamics == pyspiel.GameType.Dynamics.MEAN_FIELD:
        raise ParameterError(f"OpenSpiel game {name!r} is a mean-field game: its players are populations, not seats")
    if kind.dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
        game = pyspiel.convert_to_turn_based(game)
    return game


def short_name(game: pyspiel.Game) -> str:
    """The underlying game's short name (through the turn-based transform)."""
    name = game.get_type().short_name
    if name == "turn_based_simultaneous_game":
        return str(game.get_parameters()["game"]["name"])
    return name


def info_state_key(game: pyspiel.Game, state: pyspiel.State, player: int) -> str:
    """The perfect-recall key of `player`'s information set: OpenSpiel's information-state string; in a
    perfect-information game without one (pig, catch), the history, which every player knows; otherwise the
    observation string. Where the string does not tell the player's own past actions apart (Leduc with
    `action_mapping`: a fold facing no bet is played as a check and written as one), the player's own action ids
    are appended, which keeps the key perfect-recall."""
    return _info_key(_facts(game), state, player)


def _info_key(facts: _GameFacts, state: pyspiel.State, player: int) -> str:
    if facts.info_string:
        if facts.own_actions:
            own = " ".join(str(step.action) for step in state.full_history() if step.player == player)
            return f"{state.information_state_string(player)}[Own: {own}]"
        return state.information_state_string(player)
    if facts.perfect_information:
        return state.history_str()
    return state.observation_string(player)


# Games whose action names depend on the acting player only, not on the rest of the state: their names are cached.
_STATIC_ACTION_NAMES = {"kuhn_poker", "leduc_poker", "liars_dice", "goofspiel", "tic_tac_toe", "connect_four"}
_MAX_CACHED_INFOS = 200_000  # per game; the cache starts over when it is full
_MAX_CACHED_CHANCES = 10_000  # per game: games with chance at every turn (dice) start over often, at little cost


@dataclass
class _GameFacts:
    """What describe_state needs about a game that never changes: computed once per game.

    `infos` caches the view of each (player, player to act, information state): in a game with perfect-recall
    information-state strings the legal moves, names, text and information-state tensor are functions of that key,
    so each is built once. Terminal states are cached by their full history (the text shows the returns). `chances`
    caches each chance node's outcomes and running totals of their probabilities by its history (a state is a
    function of its history), so that the deals of a card game are read from OpenSpiel once.
    """

    name: str
    long_name: str
    rules: str
    num_players: int
    num_actions: int
    perfect_information: bool
    info_string: bool
    tensor: str  # "information_state", "observation" or "none"
    static_names: bool
    own_actions: bool = False  # the info string leaves out which of its own action ids the player took
    names: dict[int, list[str]] = field(default_factory=dict)
    infos: dict[tuple[int, int, str], _View] = field(default_factory=dict)
    chances: dict[str, tuple[tuple[int, ...], list[float]]] = field(default_factory=dict)


_FACTS: dict[str, _GameFacts] = {}
_FACTS_BY_ID: dict[int, tuple[pyspiel.Game, _GameFacts]] = {}


def _facts(game: pyspiel.Game) -> _GameFacts:
    seen = _FACTS_BY_ID.get(id(game))
    if seen is not None and seen[0] is game:
        return seen[1]
    key = str(game)
    if key not in _FACTS:
        kind = game.get_type()
        name = short_name(game)
        tensor = (
            "information_state"
            if kind.provides_information_state_tensor
            else "observation"
            if kind.provides_observation_tensor
            else "none"
        )
        if tensor != "none" and not _tensor_works(game, tensor):
            tensor = "none"
        _FACTS[key] = _GameFacts(
            name=name,
            long_name=kind.long_name,
            rules=RULES.get(name, f"Rules: see OpenSpiel's {name}."),
            num_players=game.num_players(),
            num_actions=game.num_distinct_actions(),
            perfect_information=kind.information == pyspiel.GameType.Information.PERFECT_INFORMATION,
            info_string=kind.provides_information_state_string,
            tensor=tensor,
            static_names=name in _STATIC_ACTION_NAMES,
            own_actions=name == "leduc_poker" and bool(game.get_parameters().get("action_mapping", False)),
        )
    if len(_FACTS_BY_ID) > 1000:  # the game objects are held alive here so that their ids stay unique
        _FACTS_BY_ID.clear()
    _FACTS_BY_ID[id(game)] = (game, _FACTS[key])
    return _FACTS[key]


def _tensor_works(game: pyspiel.Game, kind: str) -> bool:
    """Some games declare a tensor they do not implement (crossword): those observe nothing but their text."""
    try:
        with quiet_stderr():
            (game.information_state_tensor_shape if kind == "information_state" else game.observation_tensor_shape)()
        return True
    except pyspiel.SpielError:
        return False


def _tensor(kind: str, state: pyspiel.State, player: int) -> np.ndarray:
    if kind == "information_state":
        return np.asarray(state.information_state_tensor(player), dtype=np.float32)
    if kind == "observation":
        return np.asarray(state.observation_tensor(player), dtype=np.float32)
    return np.zeros(1, dtype=np.float32)


def _action_names(facts: _GameFacts, state: pyspiel.State, player: int, legal: list[int]) -> list[str]:
    """A name for every action id: OpenSpiel's for the legal moves, the id for the others.

    Only legal actions are named: asking OpenSpiel to name an illegal one crashes some games (chess) and floods
    stderr in others (shogi). The games whose names never change are named in full once.
    """
    if facts.static_names:
        if player not in facts.names:
            facts.names[player] = [state.action_to_string(player, a) for a in range(facts.num_actions)]
        return facts.names[player]
    names = [str(a) for a in range(facts.num_actions)]
    for action in legal:
        names[action] = state.action_to_string(player, action)
    return names


def _what_player_sees(game: pyspiel.Game, facts: _GameFacts, state: pyspiel.State, player: int) -> str:
    if facts.name == "kuhn_poker" and not state.is_terminal():
        key = state.information_state_string(player)
        moves = {"p": "Pass", "b": "Bet"}
        history = ", ".join(f"player {i % facts.num_players} {moves[c]}" for i, c in enumerate(key[1:]))
        return f"Your card: {_KUHN_CARDS[int(key[0])]}. Betting so far: {history or 'none'}."
    if facts.perfect_information:
        return str(state)
    return info_state_key(game, state, player)


def _build_info(
    game: pyspiel.Game, facts: _GameFacts, state: pyspiel.State, player: int, terminal: bool
) -> dict[str, Any]:
    mask = np.zeros(facts.num_actions, dtype=np.int8)
    acting = not terminal and state.current_player() == player
    legal = state.legal_actions(player) if acting else []
    if legal and max(legal) >= facts.num_actions:
        raise ParameterError(f"OpenSpiel game {facts.name!r} has legal actions beyond its {facts.num_actions} actions")
    mask[legal] = 1
    names = _action_names(facts, state, player, legal)
    lines = [
        f"You are player {player} of {facts.num_players} in {facts.long_name}.",
        facts.rules,
        f"What you see: {_what_player_sees(game, facts, state, player)}",
    ]
    if terminal:
        lines.append(f"The game is over. Returns: {[round(r, 6) for r in state.returns()]}.")
    elif acting:
        lines.append("Legal moves: " + "; ".join(f"{names[a]} ({a})" for a in legal) + ".")
    else:
        lines.append(f"Waiting for player {state.current_player()}.")
    return {
        "action_mask": mask,
        "legal_actions": list(legal),
        "action_names": names,
        "info_state": "" if terminal else info_state_key(game, state, player),
        "text": "\n".join(lines),
    }


def describe_state(game: pyspiel.Game, state: pyspiel.State, player: int) -> dict[str, Any]:
    """`info[player]` for a decision or terminal state: masks, legal moves, names, info-state key and text.

    Each call returns a fresh dict with its own mask, legal moves and names (callers may change them).
    """
    terminal = state.is_terminal()
    return _describe(game, _facts(game), state, player, terminal, -1 if terminal else state.current_player())


@dataclass
class _View:
    """What a player sees at a state: its info, its legal moves as a set (the env's own check of a move) and, in
    games whose information-state tensor is a function of the information state, its tensor. `shared` views are
    cached per (player, player to act, information state) and handed out only as copies."""

    info: dict[str, Any]
    legal: frozenset[int]
    tensor: np.ndarray | None = None
    shared: bool = False

    def public_info(self) -> dict[str, Any]:
        """The info as a caller gets it: a dict of its own, with its own mask, legal moves and names."""
        info = self.info
        if not self.shared:
            return info
        return {
            **info,
            "action_mask": info["action_mask"].copy(),
            "legal_actions": list(info["legal_actions"]),
            "action_names": list(info["action_names"]),
        }


def _view(
    game: pyspiel.Game, facts: _GameFacts, state: pyspiel.State, player: int, terminal: bool, current: int
) -> _View:
    if terminal:
        key = (player, -1, state.history_str())
    elif facts.info_string:
        key = (player, current, _info_key(facts, state, player))
    else:
        info = _build_info(game, facts, state, player, terminal)
        return _View(info, frozenset(info["legal_actions"]))
    view = facts.infos.get(key)
    if view is None:
        if len(facts.infos) >= _MAX_CACHED_INFOS:
            facts.infos.clear()
        info = _build_info(game, facts, state, player, terminal)
        tensor = _tensor(facts.tensor, state, player) if facts.tensor == "information_state" else None
        view = facts.infos[key] = _View(info, frozenset(info["legal_actions"]), tensor, shared=True)
    return view


def _describe(
    game: pyspiel.Game, facts: _GameFacts, state: pyspiel.State, player: int, terminal: bool, current: int
) -> dict[str, Any]:
    return _view(game, facts, state, player, terminal, current).public_info()


def observation_for(game: pyspiel.Game, state: pyspiel.State, player: int) -> Observation:
    """The Observation an agent gets at `state` as `player` (used by the env's match loop and by policy probing)."""
    return Observation(
        player=f"player_{player}",
        observation=_tensor(_facts(game).tensor, state, player),
        info=describe_state(game, state, player),
        step=state.move_number(),
    )


class OpenSpielEnv(AECEnv):
    """A PettingZoo AEC env over one OpenSpiel game; agents are `player_0..player_{n-1}`."""

    metadata: dict[str, Any] = {
        "render_modes": ["ansi", "human", "rgb_array"],
        "name": "openspiel",
        "is_parallelizable": False,
    }
    fresh_observations = True  # every step's infos and tensors are new objects: the match loop need not copy them

    def __init__(self, game_string: str, render_mode: str | None = None) -> None:
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ParameterError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.game_string = game_string
        self.game = load_game(game_string)
        self._game_facts = _facts(self.game)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": short_name(self.game)}
        self.possible_agents = [f"player_{i}" for i in range(self.game.num_players())]
        self._index = {agent: i for i, agent in enumerate(self.possible_agents)}
        initial = self.game.new_initial_state()
        shape = _tensor(self._game_facts.tensor, initial, 0).shape if self._has_initial_decision() else (1,)
        self.observation_spaces = {
            a: gymnasium.spaces.Box(-np.inf, np.inf, shape=shape, dtype=np.float32) for a in self.possible_agents
        }
        self.action_spaces = {
            a: gymnasium.spaces.Discrete(self.game.num_distinct_actions()) for a in self.possible_agents
        }
        self.state: pyspiel.State | None = None
        self._renderer = None
        self._views: dict[str, _View] = {}
        self._infos: dict[str, dict[str, Any]] = {}
        self._complete = True
        self._terminal, self._current = False, -1

    def _has_initial_decision(self) -> bool:
        return self._game_facts.tensor != "none"

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.action_spaces[agent]

    @functools.cached_property
    def min_utility(self) -> float:
        return float(self.game.min_utility())

    @functools.cached_property
    def max_utility(self) -> float:
        return float(self.game.max_utility())

    @functools.cached_property
    def zero_sum(self) -> bool:
        return self.game.get_type().utility in (
            pyspiel.GameType.Utility.ZERO_SUM,
            pyspiel.GameType.Utility.CONSTANT_SUM,
        )

    def action_history(self) -> list[int]:
        """Every action of the episode so far, chance outcomes included (OpenSpiel's `history()`)."""
        return [int(a) for a in self.state.history()] if self.state is not None else []

    def _live_state(self) -> pyspiel.State:
        """The state of the episode under way (`reset` makes it)."""
        assert self.state is not None, "reset() makes the game state"
        return self.state

    def _sample_chance(self, state: pyspiel.State) -> None:
        known = self._game_facts.chances
        while state.is_chance_node():
            key = state.history_str()
            node = known.get(key)
            if node is None:
                if len(known) >= _MAX_CACHED_CHANCES:
                    known.clear()
                outcomes, probabilities = zip(*state.chance_outcomes())
                node = known[key] = (outcomes, list(itertools.accumulate(probabilities)))
            outcomes, cumulative = node  # the first outcome whose running total passes the draw
            chosen = bisect.bisect_right(cumulative, self._chance.random() * cumulative[-1])
            state.apply_action(outcomes[min(chosen, len(outcomes) - 1)])

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self._chance = _ChanceStream(seed)
        self.state = state = self.game.new_initial_state()
        if state.is_chance_node():
            self._sample_chance(state)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self._skip_agent_selection = None
        self._refresh(state)

    def _refresh(self, state: pyspiel.State) -> None:
        self._terminal = terminal = state.is_terminal()
        self._current = current = -1 if terminal else state.current_player()
        self._views, self._infos, self._complete = {}, {}, False
        if not terminal:  # the mover's view is read next; a game that breaks its contract fails here
            self.agent_selection = mover = self.possible_agents[current]
            self._views[mover] = _view(self.game, self._game_facts, state, current, False, current)

    @property
    def infos(self) -> dict[str, dict[str, Any]]:
        """Every live player's info at this step, built on the first read of the step (`last` builds only the
        mover's: the others' are built here if anyone asks)."""
        if not self._complete:
            built = self._infos
            self._infos = {a: built[a] if a in built else self._view_of(a).public_info() for a in self.agents}
            self._complete = True
        return self._infos

    @infos.setter
    def infos(self, value: dict[str, dict[str, Any]]) -> None:
        self._infos, self._complete = value, True

    def _view_of(self, agent: str) -> _View:
        view = self._views.get(agent)
        if view is None:
            state, index = self._live_state(), self._index[agent]
            view = self._views[agent] = _view(self.game, self._game_facts, state, index, self._terminal, self._current)
        return view

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """PettingZoo's `last`, building the info of the player to act only."""
        agent = self.agent_selection
        view = self._view_of(agent)
        info = self._infos.get(agent)
        if info is None:
            info = self._infos[agent] = view.public_info()
        tensor = self._tensor_of(view, agent) if observe else None
        return tensor, self._cumulative_rewards[agent], self.terminations[agent], self.truncations[agent], info

    def observe(self, agent: str) -> np.ndarray:
        return self._tensor_of(self._view_of(agent), agent)

    def _tensor_of(self, view: _View, agent: str) -> np.ndarray:
        if view.tensor is not None:
            return view.tensor.copy()
        return _tensor(self._game_facts.tensor, self._live_state(), self._index[agent])

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if action is None:
            raise TypeError(f"{agent} must act: step(None) is only for agents that are done")
        action = int(action)
        state = self._live_state()
        if action not in self._view_of(agent).legal:
            raise ValueError(f"illegal action {action} for {agent}; legal: {state.legal_actions()}")
        rewards, cumulative = self.rewards, self._cumulative_rewards
        cumulative[agent] = 0.0
        state.apply_action(action)
        if state.is_chance_node():
            self._sample_chance(state)
        for a, r in zip(self.possible_agents, state.rewards()):
            rewards[a] = r = float(r)
            cumulative[a] += r  # PettingZoo's _accumulate_rewards
        self._refresh(state)
        if self._terminal:
            self.terminations = dict.fromkeys(self.agents, True)
        if self.render_mode == "human":
            self.render()

    def scene(self) -> tuple[Any, tuple[int, int]]:
        """The drawing function and frame size of this game's picture (pygame loads only when drawing)."""
        from arena.envs.openspiel_scenes import scene_for_game

        return scene_for_game(self.metadata["name"])

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode")
            return None
        if self.render_mode == "ansi":
            return str(self.state)
        from arena.render import render_env

        return render_env(self)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def _game_parameter(value: Any) -> str:
    """A parameter value as OpenSpiel's game-string parser reads it (nested game strings stay as written)."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def make_openspiel_env(openspiel_game: str, render_mode: str | None = None, **params: Any) -> OpenSpielEnv:
    """`openspiel:<game string>`: the game's name, its parameters (`openspiel:liars_dice(numdice=2)`) as keywords."""
    body = ",".join(f"{key}={_game_parameter(value)}" for key, value in params.items())
    return OpenSpielEnv(f"{openspiel_game}({body})" if params else openspiel_game, render_mode=render_mode)


def game_outcomes(openspiel_game: str, **params: Any) -> Outcomes:
    """What an `openspiel:<game>` result means, from OpenSpiel's game type: identical utilities are cooperative,
    general-sum ones general-sum; a zero- or constant-sum game paid only at the end with returns in [-1, 1] is
    win/draw/loss, any other zero-sum game pays amounts. Chance nodes deal; universal_poker's largest blind is its
    big blind."""
    body = ",".join(f"{key}={_game_parameter(value)}" for key, value in params.items())
    game = load_game(f"{openspiel_game}({body})" if params else openspiel_game)
    kind = game.get_type()
    utility = pyspiel.GameType.Utility
    if kind.utility == utility.IDENTICAL:
        result = "cooperative"
    elif kind.utility == utility.GENERAL_SUM:
        result = "general-sum"
    elif (
        kind.reward_model == pyspiel.GameType.RewardModel.TERMINAL
        and game.min_utility() == -1.0
        and game.max_utility() == 1.0
    ):
        result = "win-draw-loss"
    else:
        result = "amounts"
    big_blind = None
    if kind.short_name == "universal_poker":
        blinds = [float(b) for b in str(game.get_parameters().get("blind", "")).split()]
        big_blind = max(blinds) if blinds else None
    return Outcomes(result, kind.chance_mode != pyspiel.GameType.ChanceMode.DETERMINISTIC, big_blind)  # type: ignore[arg-type]


def kuhn_poker(render_mode: str | None = None, players: int = 2) -> OpenSpielEnv:
    """Kuhn poker (2 or 3 players): one private card from J, Q, K (and A with 3 players), one betting round."""
    if players not in (2, 3):
        raise ParameterError("kuhn_poker-v0: players must be 2 or 3")
    return OpenSpielEnv(f"kuhn_poker(players={players})", render_mode)


def leduc_poker(render_mode: str | None = None, players: int = 2) -> OpenSpielEnv:
    """Leduc hold'em: six cards, a public card, two betting rounds."""
    return OpenSpielEnv(f"leduc_poker(players={players})", render_mode)


def liars_dice(render_mode: str | None = None, players: int = 2, numdice: int = 1, dice_sides: int = 6) -> OpenSpielEnv:
    """Liar's dice: bid on hidden dice or call the last bid a lie."""
    return OpenSpielEnv(f"liars_dice(players={players},numdice={numdice},dice_sides={dice_sides})", render_mode)


def goofspiel(
    render_mode: str | None = None,
    num_cards: int = 4,
    players: int = 2,
    points_order: str = "descending",
    imp_info: bool = True,
) -> OpenSpielEnv:
    """Goofspiel: sealed bids for point cards; imperfect-information variant, 4 cards, turn-based transform."""
    if points_order not in ("descending", "ascending", "random"):
        raise ParameterError("goofspiel-v0: points_order must be descending, ascending or random")
    return OpenSpielEnv(
        f"goofspiel(num_cards={num_cards},players={players},points_order={points_order},"
        f"imp_info={str(imp_info).lower()})",
        render_mode,
    )


def tic_tac_toe(render_mode: str | None = None) -> OpenSpielEnv:
    """Tic-tac-toe on a 3x3 board."""
    return OpenSpielEnv("tic_tac_toe", render_mode)


def connect_four(render_mode: str | None = None) -> OpenSpielEnv:
    """Connect four on a 6x7 board."""
    return OpenSpielEnv("connect_four", render_mode)
