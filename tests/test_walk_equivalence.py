"""The compile's fast walk against the plain one it replaced: the same TabularGame arrays, bit for bit.

The reference below is the straightforward walk (one stack entry per history carrying its chance reach and every
player's last sequence, checked for perfect recall as it goes) with its breadth-first renumbering; the fast path
(arena.games.tree) must reproduce its history numbering, infoset numbering, sequences, keys, returns and chance
probabilities exactly.
"""

from __future__ import annotations

import array
import gc
import json
from typing import Any

import numpy as np
import pytest

from arena.envs.matrix import MatrixGameEnv
from arena.envs.openspiel import info_state_key, load_game
from arena.errors import ParameterError
from arena.games import tree
from arena.games.tree import CHANCE, TERMINAL, PlayerTree, TabularGame, _key_index
from arena.registry import make_env


def _walk(root: Any, num_players: int, num_actions: int, infoset_key: Any, name: str) -> dict[str, Any]:
    """Depth-first walk of the whole tree; returns raw per-history arrays and per-player infoset tables."""
    collecting = gc.isenabled()
    gc.disable()  # the walk allocates only acyclic objects; generational collections would rescan them repeatedly
    try:
        return _walk_tree(root, num_players, num_actions, infoset_key, name)
    finally:
        if collecting:
            gc.enable()


def _walk_tree(root: Any, num_players: int, num_actions: int, infoset_key: Any, name: str) -> dict[str, Any]:
    """Histories are numbered in depth-first order (children in action order, OpenSpiel's own traversal order);
    per-history values go to typed arrays (8 bytes each), and a child state is made only when the walk reaches it,
    so the states alive are those of one path and its pending siblings' parents."""
    player_of = array.array("q")
    parent_of = array.array("q")
    action_of = array.array("q")
    chance_of = array.array("d")
    edge_chance = array.array("d")
    depth_of = array.array("q")
    infoset_of = array.array("q")
    terminals = array.array("q")
    returns = array.array("d")
    last_seqs = array.array("q")  # per terminal: each player's last sequence, encoded I * A + a + 1
    tables: list[dict[str, int]] = [{} for _ in range(num_players)]
    legal: list[list[list[int]]] = [[] for _ in range(num_players)]
    parents: list[list[int]] = [[] for _ in range(num_players)]
    first_history: list[list[int]] = [[] for _ in range(num_players)]
    # entries: (state, or the parent state when action >= 0), action, parent, chance reach, edge prob, depth, last
    stack: list[tuple[Any, int, int, float, float, int, tuple[int, ...]]] = [
        (root, -1, -1, 1.0, 1.0, 0, (0,) * num_players)
    ]
    while stack:
        source, action, parent, chance, prob, depth, last = stack.pop()
        state = source.child(action) if action >= 0 else source
        h = len(player_of)
        parent_of.append(parent)
        action_of.append(action)
        chance_of.append(chance)
        edge_chance.append(prob)
        depth_of.append(depth)
        if state.is_terminal():
            player_of.append(TERMINAL)
            infoset_of.append(-1)
            terminals.append(h)
            last_seqs.extend(last)
            returns.extend(state.returns())
            continue
        if state.is_chance_node():
            player_of.append(CHANCE)
            infoset_of.append(-1)
            outcomes = [(o, p) for o, p in state.chance_outcomes() if p > 0]
            for outcome, outcome_prob in reversed(outcomes):
                stack.append((state, outcome, h, chance * outcome_prob, outcome_prob, depth + 1, last))
            continue
        player = state.current_player()
        if player < 0:
            raise ParameterError(f"{name}: simultaneous or mean-field nodes cannot be compiled; use a turn-based game")
        key = infoset_key(state, player)
        actions = list(state.legal_actions())
        index = tables[player].get(key)
        if index is None:
            index = len(legal[player])
            tables[player][key] = index
            legal[player].append(actions)
            parents[player].append(last[player])
            first_history[player].append(h)
        elif parents[player][index] != last[player] or legal[player][index] != actions:
            raise ParameterError(
                f"{name} does not have perfect recall (information state {key!r}); "
                "exact game theory needs perfect recall"
            )
        player_of.append(player)
        infoset_of.append(index)
        for a in reversed(actions):
            child_last = last[:player] + (index * num_actions + a + 1,) + last[player + 1 :]
            stack.append((state, a, h, chance, 1.0, depth + 1, child_last))
    return {
        "player": player_of,
        "parent": parent_of,
        "action": action_of,
        "chance": chance_of,
        "edge_chance": edge_chance,
        "depth": depth_of,
        "infoset": infoset_of,
        "terminals": terminals,
        "returns": returns,
        "last": last_seqs,
        "tables": tables,
        "legal": legal,
        "parents": parents,
        "first_history": first_history,
    }


def _breadth_first(raw: dict[str, Any], num_players: int, num_actions: int) -> dict[str, Any]:
    """Renumber a depth-first walk breadth-first (by depth, then depth-first order: the order a breadth-first walk
    visits histories in), and every player's infosets in the order a breadth-first walk first meets them. The walk's
    arrays are taken out of `raw` one by one, so that each is freed as soon as its reordered copy exists."""
    depth = np.frombuffer(raw["depth"], dtype=np.int64)
    order = np.argsort(depth, kind="stable")
    new_id = np.empty_like(order)
    new_id[order] = np.arange(len(order))
    parent = np.frombuffer(raw.pop("parent"), dtype=np.int64)[order]
    parent = np.where(parent >= 0, new_id[np.maximum(parent, 0)], -1)
    infoset = np.frombuffer(raw.pop("infoset"), dtype=np.int64)[order]
    player = np.frombuffer(raw.pop("player"), dtype=np.int64)[order]
    terminal_new = new_id[np.frombuffer(raw.pop("terminals"), dtype=np.int64)]
    terminal_order = np.argsort(terminal_new, kind="stable")
    last = np.frombuffer(raw.pop("last"), dtype=np.int64).reshape(-1, num_players)[terminal_order]
    tables, legal, parents, first_history = [], [], [], []
    for p in range(num_players):
        first = new_id[np.asarray(raw["first_history"][p], dtype=np.int64)]
        rank_order = np.argsort(first, kind="stable")  # walk index of the k-th infoset met breadth-first
        rank = np.empty_like(rank_order)
        rank[rank_order] = np.arange(len(rank_order))
        acting = player == p
        infoset[acting] = rank[infoset[acting]]
        encoded = np.asarray(raw["parents"][p], dtype=np.int64)[rank_order]
        parents.append(_renumber_encoded(encoded, rank, num_actions).tolist())
        last[:, p] = _renumber_encoded(last[:, p], rank, num_actions)
        legal.append([raw["legal"][p][i] for i in rank_order.tolist()])
        first_history.append(first[rank_order].tolist())
        tables.append({key: int(rank[i]) for key, i in raw["tables"][p].items()})
    return {
        "player": player,
        "parent": parent,
        "action": np.frombuffer(raw.pop("action"), dtype=np.int64)[order],
        "chance": np.frombuffer(raw.pop("chance"), dtype=np.float64)[order],
        "edge_chance": np.frombuffer(raw.pop("edge_chance"), dtype=np.float64)[order],
        "depth": depth[order],
        "infoset": infoset,
        "terminals": terminal_new[terminal_order],
        "returns": np.frombuffer(raw.pop("returns"), dtype=np.float64).reshape(-1, num_players)[terminal_order],
        "last": last,
        "tables": tables,
        "legal": legal,
        "parents": parents,
        "first_history": first_history,
    }


def _renumber_encoded(encoded: np.ndarray, rank: np.ndarray, num_actions: int) -> np.ndarray:
    """Encoded (infoset * A + action + 1, 0 for none) with every infoset replaced by rank[infoset]."""
    index, action = np.divmod(np.maximum(encoded - 1, 0), num_actions)
    return np.where(encoded > 0, rank[index] * num_actions + action + 1, 0)


def _player_tree(
    table: dict[str, int], legal_lists: list[list[int]], parents: list[int], first_history: list[int], num_actions: int
) -> tuple[PlayerTree, np.ndarray, np.ndarray]:
    """Sort one player's infosets by level, number the sequences; also return the maps from walk order."""
    count = len(legal_lists)
    level = np.zeros(count, dtype=np.int64)
    for i, encoded in enumerate(parents):  # the walk discovers parents before children
        if encoded:
            level[i] = level[(encoded - 1) // num_actions] + 1
    order = np.argsort(level, kind="stable")
    new_index = np.empty(count, dtype=np.int64)
    new_index[order] = np.arange(count)
    legal = np.zeros((count, num_actions), dtype=bool)
    for i, actions in enumerate(legal_lists):
        legal[new_index[i], actions] = True
    seq = np.full((count, num_actions), -1, dtype=np.int64)
    seq[legal] = np.arange(1, legal.sum() + 1)
    # encoded (walk infoset, action) -> sequence id
    encoded_to_seq = np.zeros(count * num_actions + 1, dtype=np.int64)
    walk_rows = order.repeat(num_actions) * num_actions + np.tile(np.arange(num_actions), count) + 1
    encoded_to_seq[walk_rows] = seq.ravel()
    keys = [""] * count
    for key, i in table.items():
        keys[new_index[i]] = key
    parent_seq = encoded_to_seq[np.asarray(parents, dtype=np.int64)[order]] if count else np.zeros(0, np.int64)
    rows, cols = np.nonzero(legal)
    seq_infoset = np.concatenate([[-1], rows]).astype(np.int64)
    seq_action = np.concatenate([[-1], cols]).astype(np.int64)
    seq_parent = np.concatenate([[0], parent_seq[rows]]).astype(np.int64)
    first_seq = np.where(legal.any(axis=1), seq.max(axis=1, initial=0) - legal.sum(axis=1) + 1, 0)
    level = level[order]
    level_infosets, level_sequences = [], []
    for lv in range(int(level.max()) + 1 if count else 0):
        members = np.flatnonzero(level == lv)
        level_infosets.append(slice(int(members[0]), int(members[-1]) + 1))
        level_sequences.append(slice(int(first_seq[members[0]]), int(seq[members[-1]].max()) + 1))
    tree = PlayerTree(
        keys=keys,
        legal=legal,
        parent_seq=parent_seq,
        seq=seq,
        first_seq=first_seq,
        level=level,
        seq_infoset=seq_infoset,
        seq_action=seq_action,
        seq_parent=seq_parent,
        infoset_history=np.asarray(first_history, dtype=np.int64)[order],
        level_infosets=level_infosets,
        level_sequences=level_sequences,
    )
    return tree, new_index, encoded_to_seq


def _build(
    raw: dict[str, Any],
    *,
    name: str,
    env_id: str,
    key: str,
    kind: str,
    game: Any,
    num_players: int,
    num_actions: int,
    action_names: list[list[str]],
) -> TabularGame:
    raw = _breadth_first(raw, num_players, num_actions)
    players, new_indices, encoders = [], [], []
    for p in range(num_players):
        tree, new_index, encoded_to_seq = _player_tree(
            raw["tables"][p], raw["legal"][p], raw["parents"][p], raw["first_history"][p], num_actions
        )
        players.append(tree)
        new_indices.append(new_index)
        encoders.append(encoded_to_seq)
    history_player = np.asarray(raw["player"], dtype=np.int64)
    history_infoset = np.asarray(raw["infoset"], dtype=np.int64)
    for p in range(num_players):
        acting = history_player == p
        history_infoset[acting] = new_indices[p][history_infoset[acting]]
    terminal_history = np.asarray(raw["terminals"], dtype=np.int64)
    last = raw["last"]
    encoded = np.asarray(last, dtype=np.int64).reshape(len(last), num_players)
    terminal_seq = np.stack([encoders[p][encoded[:, p]] for p in range(num_players)], axis=1)
    utility = np.asarray(raw["returns"], dtype=np.float64).reshape(len(last), num_players)
    sums = utility.sum(axis=1)
    zero_sum = bool(np.allclose(sums, sums[0], atol=1e-9)) if len(sums) else True
    chance = np.asarray(raw["chance"], dtype=np.float64)
    key_index = _key_index(players, name)
    return TabularGame(
        name=name,
        env_id=env_id,
        key=key,
        kind=kind,
        game=game,
        num_players=num_players,
        num_actions=num_actions,
        action_names=action_names,
        zero_sum=zero_sum,
        utility_sum=float(sums[0]) if zero_sum and len(sums) else None,
        players=players,
        key_index=key_index,
        history_player=history_player,
        history_parent=np.asarray(raw["parent"], dtype=np.int64),
        history_action=np.asarray(raw["action"], dtype=np.int64),
        history_chance_reach=chance,
        history_chance_prob=np.asarray(raw["edge_chance"], dtype=np.float64),
        history_infoset=history_infoset,
        history_depth=np.asarray(raw["depth"], dtype=np.int64),
        terminal_history=terminal_history,
        terminal_chance=chance[terminal_history],
        terminal_utility=utility,
        terminal_seq=terminal_seq,
    )


def _reference(game_string: str) -> TabularGame:
    """The game compiled by the reference walk (identity fields as the fast compile makes them)."""
    game = load_game(game_string)
    num_actions = game.num_distinct_actions()
    raw = _walk(
        game.new_initial_state(),
        game.num_players(),
        num_actions,
        lambda state, player: info_state_key(game, state, player),
        game_string,
    )
    kind = game.get_type()
    return _build(
        raw,
        name=game_string,
        env_id=f"openspiel:{game_string}",
        key=f"{kind.short_name}{json.dumps(game.get_parameters(), sort_keys=True)}",
        kind="openspiel",
        game=game,
        num_players=game.num_players(),
        num_actions=num_actions,
        action_names=[],
    )


def _assert_same(fast: TabularGame, reference: TabularGame) -> None:
    """Every array of the history tree and of every player's sequence form equal, dtype and all."""
    for name in (*tree._HISTORY_FIELDS,):
        ours, theirs = getattr(fast, name), getattr(reference, name)
        assert ours.dtype == theirs.dtype, name
        np.testing.assert_array_equal(ours, theirs, err_msg=name, strict=True)
    assert fast.key == reference.key
    assert fast.zero_sum == reference.zero_sum and fast.utility_sum == reference.utility_sum
    assert fast.key_index == reference.key_index
    for p, (ours, theirs) in enumerate(zip(fast.players, reference.players)):
        assert ours.keys == theirs.keys, p
        for name in tree._PLAYER_FIELDS:
            mine, other = getattr(ours, name), getattr(theirs, name)
            assert mine.dtype == other.dtype, (p, name)
            np.testing.assert_array_equal(mine, other, err_msg=f"player {p} {name}", strict=True)
        assert ours.level_infosets == theirs.level_infosets, p
        assert ours.level_sequences == theirs.level_sequences, p


GAMES = [
    "kuhn_poker",
    "kuhn_poker(players=3)",
    "tiny_hanabi",
    "leduc_poker",
    "leduc_poker(action_mapping=True)",
    "tic_tac_toe",
    "turn_based_simultaneous_game(game=goofspiel(num_cards=4,imp_info=True,points_order=descending))",
    "liars_dice(dice_sides=3)",
    "python_kuhn_poker",
    "matrix_rps",
]


@pytest.mark.parametrize("game_string", GAMES)
def test_fast_walk_matches_reference(game_string: str) -> None:
    _assert_same(tree._compile_openspiel_walk(game_string), _reference(game_string))


@pytest.mark.slow
@pytest.mark.parametrize(
    "game_string",
    ["liars_dice", "turn_based_simultaneous_game(game=goofspiel(num_cards=5,imp_info=True,points_order=descending))"],
)
def test_fast_walk_matches_reference_on_larger_games(game_string: str) -> None:
    _assert_same(tree._compile_openspiel_walk(game_string), _reference(game_string))


def test_normal_form_stage_game_matches_reference() -> None:
    env = make_env("rps-v0(rounds=1)")
    assert isinstance(env, MatrixGameEnv)
    fast = tree._compile_matrix(env, "rps", "rps-v0")
    raw = _walk(tree._StageState(env), env.num_players, max(env.num_actions), lambda s, p: f"player_{p}|", "rps")
    reference = _build(
        raw,
        name="rps",
        env_id="rps-v0",
        key=fast.key,
        kind="normal-form",
        game=env,
        num_players=env.num_players,
        num_actions=max(env.num_actions),
        action_names=[],
    )
    _assert_same(fast, reference)


def _compiled(build: Any, walked: Any, game: Any, game_string: str) -> TabularGame:
    """`build` (the fast or the reference one) of a walk of an OpenSpiel game, named by its string."""
    return build(
        walked,
        name=game_string,
        env_id=game_string,
        key=game_string,
        kind="openspiel",
        game=game,
        num_players=game.num_players(),
        num_actions=game.num_distinct_actions(),
        action_names=[],
    )


def _fast_with_key(game_string: str, key: Any) -> TabularGame:
    game = load_game(game_string)
    walked = tree._walk(game.new_initial_state(), game.num_players(), key, game_string)
    return _compiled(tree._build, walked, game, game_string)


def _reference_with_key(game_string: str, key: Any) -> TabularGame:
    game = load_game(game_string)
    raw = _walk(game.new_initial_state(), game.num_players(), game.num_distinct_actions(), key, game_string)
    return _compiled(_build, raw, game, game_string)


@pytest.mark.parametrize(
    "key",
    [
        lambda state, player: state.information_state_string(player),  # a fold facing no bet reads as a check
        lambda state, player: f"{player}",  # one infoset per player: own earlier moves forgotten
        lambda state, player: f"{player}{len(state.legal_actions())}",
    ],
)
def test_imperfect_recall_is_refused_by_both(key: Any) -> None:
    for compile_with in (_fast_with_key, _reference_with_key):
        with pytest.raises(ParameterError, match="does not have perfect recall"):
            compile_with("leduc_poker(action_mapping=True)", key)
