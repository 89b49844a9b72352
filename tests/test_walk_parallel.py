"""The compile's walk split at the root over forked processes: the sequential walk's record bit for bit (history
and infoset numbering, node arrays, tables), the same errors, and the sequential walk itself wherever a process
fails, a subtree has an error, the whole walk passes the budget, or threads run.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from arena.envs.openspiel import load_game
from arena.errors import ParameterError
from arena.games import size as size_module
from arena.games import tree
from tests.test_walk_equivalence import _assert_same, _fast_with_key, _reference

GAMES = ["kuhn_poker", "kuhn_poker(players=3)", "leduc_poker", "liars_dice"]
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _record(walked: tree._Walked) -> tuple[Any, ...]:
    """Everything the walk records, the tables' insertion order included."""
    return (
        [list(table.items()) for table in walked.tables],
        walked.legal,
        walked.first_history,
        walked.player,
        walked.action,
        walked.returns,
        walked.node_history,
        walked.node_infoset,
        walked.node_children,
        walked.node_depth,
        walked.chance_probs,
    )


def _outcome(walk: Callable[[], tree._Walked]) -> tuple[Any, Any]:
    """(None, the record) of a walk, or the type and message of the error it raised."""
    try:
        return None, _record(walk())
    except ParameterError as error:
        return type(error), str(error)


def _walker(game_string: str, key: Any = None, moves: tuple[int, ...] = ()) -> Callable[[], tree._Walked]:
    """A walk of the game (from the state after `moves`), with the env's information-state key unless `key`."""
    game = load_game(game_string)
    infoset_key = key or tree._infoset_key(game)

    def walk() -> tree._Walked:
        root = game.new_initial_state()
        for move in moves:
            root.apply_action(move)
        return tree._walk(root, game.num_players(), infoset_key, game_string)

    return walk


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The ids of the processes the walk forks; every one has been reaped when the test ends."""
    pids: list[int] = []
    fork = os.fork

    def spy() -> int:
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", spy)
    yield pids
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.fixture
def merges(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What every merge of a forked child's subtree returned (True: merged; False: a key conflict)."""
    results: list[bool] = []
    merge = tree._merge

    def spy(*args: Any) -> bool:
        results.append(merge(*args))
        return results[-1]

    monkeypatch.setattr(tree, "_merge", spy)
    return results


def _split_over(monkeypatch: pytest.MonkeyPatch, processes: int) -> None:
    monkeypatch.setattr(tree, "_walk_processes", lambda estimate: processes)


@pytest.mark.parametrize("processes", [2, 3])
@pytest.mark.parametrize("game_string", GAMES)
def test_split_walk_is_the_sequential_walk(game_string, processes, monkeypatch, forks, merges):
    walk = _walker(game_string)
    sequential = _record(walk())
    assert not forks
    _split_over(monkeypatch, processes)
    assert _record(walk()) == sequential
    assert len(forks) == processes - 1 and merges and all(merges)


@pytest.mark.parametrize("game_string", ["leduc_poker", "kuhn_poker(players=3)"])
def test_compiled_game_is_the_reference(game_string, monkeypatch, forks, merges):
    monkeypatch.setattr(tree, "PARALLEL_MIN_HISTORIES", 0)  # the compile's own choice, any size
    _assert_same(tree._compile_openspiel_walk(game_string), _reference(game_string))
    if CPUS > 1:
        assert forks and merges and all(merges)


def test_large_games_only_without_threads(monkeypatch, forks):
    game = load_game("liars_dice")
    estimate = size_module.check_game(game, "liars_dice")
    assert estimate.histories >= tree.PARALLEL_MIN_HISTORIES
    assert tree._walk_processes(estimate) == min(CPUS, tree.WALK_PROCESSES)
    assert tree._walk_processes(None) == 1
    monkeypatch.setattr(tree, "PARALLEL_MIN_HISTORIES", estimate.histories * 2)
    assert tree._walk_processes(estimate) == 1
    monkeypatch.setattr(tree, "PARALLEL_MIN_HISTORIES", 0)
    done = threading.Event()
    thread = threading.Thread(target=done.wait)
    thread.start()
    try:
        assert tree._walk_processes(estimate) == 1
        tree._compile_openspiel_walk("leduc_poker")
        assert not forks
    finally:
        done.set()
        thread.join()


def _in_children(monkeypatch: pytest.MonkeyPatch, failure: Callable[[tree._Walked], Any]) -> None:
    """Make every forked child's subtree walk end in `failure` (given the record it made)."""
    parent = os.getpid()
    walk_tree = tree._walk_tree

    def walk(*args: Any, **kwargs: Any) -> Any:
        walked = walk_tree(*args, **kwargs)
        return failure(walked) if os.getpid() != parent else walked

    monkeypatch.setattr(tree, "_walk_tree", walk)


def _raise(walked: tree._Walked) -> None:
    raise RuntimeError("a child fails")


def _die(walked: tree._Walked) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _unpicklable(walked: tree._Walked) -> tree._Walked:
    walked.tables[0]["key"] = lambda: None
    return walked


@pytest.mark.parametrize("failure", [_raise, _die, _unpicklable])
def test_a_failing_child_leaves_the_walk_to_the_sequential_one(failure, monkeypatch, forks, merges):
    walk = _walker("leduc_poker")
    sequential = _record(walk())
    _split_over(monkeypatch, 2)
    _in_children(monkeypatch, failure)
    assert _record(walk()) == sequential
    assert len(forks) == 1 and not merges


def test_a_failing_fork_leaves_the_walk_to_the_sequential_one(monkeypatch):
    walk = _walker("leduc_poker")
    sequential = _record(walk())
    _split_over(monkeypatch, 3)

    def fork() -> int:
        raise OSError("no more processes")

    monkeypatch.setattr(os, "fork", fork)
    assert _record(walk()) == sequential


def _late_forgetting(state: Any, player: int) -> str:
    """Leduc's key, but from the third card of player 0 on a player forgets all (errors in later subtrees only)."""
    card = state.history()[0]
    return f"{player}{card}" if card >= 2 else state.information_state_string(player)


@pytest.mark.parametrize(
    "game_string, key",
    [  # the keys of test_walk_equivalence: the compile's check of parent sequences refuses them
        ("leduc_poker(action_mapping=True)", lambda state, player: state.information_state_string(player)),
        ("leduc_poker(action_mapping=True)", lambda state, player: f"{player}"),
        ("leduc_poker(action_mapping=True)", lambda state, player: f"{player}{len(state.legal_actions())}"),
        ("leduc_poker", lambda state, player: f"{player}"),  # the walk: other legal actions, in the first subtree
        ("leduc_poker", _late_forgetting),  # the walk, in both children's subtrees (the first error is named)
    ],
)
def test_no_recall_is_the_sequential_error(game_string, key, monkeypatch, forks):
    with pytest.raises(ParameterError, match="does not have perfect recall") as sequential:
        _fast_with_key(game_string, key)
    _split_over(monkeypatch, 3)
    with pytest.raises(ParameterError) as split:
        _fast_with_key(game_string, key)
    assert type(split.value) is type(sequential.value) and str(split.value) == str(sequential.value)
    assert len(forks) == 2


def test_no_recall_across_subtrees_is_the_sequential_error(monkeypatch, forks, merges):
    """Each subtree's own histories have distinct keys, but a key of one subtree comes back in the next with other
    legal actions (the square taken at the split is free there): only the merge finds it."""
    walk = _walker("tic_tac_toe", lambda state, player: f"{player}:{state.history()[3:]}", moves=(4, 0))
    sequential = _outcome(walk)
    assert sequential[0] is ParameterError and "does not have perfect recall" in sequential[1]
    _split_over(monkeypatch, 7)  # a subtree each: the parent's own has no second one
    assert _outcome(walk) == sequential
    assert forks and merges[-1] is False


@pytest.mark.parametrize("check_every", [size_module.CHECK_EVERY, 256])
def test_the_budget_is_the_sequential_walks(check_every, monkeypatch, forks):
    """Budgets from one that the walk passes early to one that it keeps to. On the way: budgets that the whole
    walk passes only after its last check (checks every 4096 histories), and budgets that a process's share does
    not fit but the whole walk does (checks every 256: the shares' infosets overlap). Each split walk ends as the
    sequential one does."""
    monkeypatch.setattr(tree, "CHECK_EVERY", check_every)
    walk = _walker("leduc_poker")
    walked = walk()
    held = (
        len(walked.player) * size_module.HISTORY_BYTES
        + len(walked.returns) // 2 * size_module.terminal_bytes(2)
        + sum(map(len, walked.tables)) * size_module.INFOSET_BYTES
    )
    outcomes = set()
    for budget in range(held * 3 // 4, held * 5 // 4, held // 40):
        monkeypatch.setattr(size_module, "MEMORY_BUDGET", budget)
        with monkeypatch.context() as split:
            sequential = _outcome(walk)
            _split_over(split, 2)
            assert _outcome(walk) == sequential, budget
        outcomes.add(sequential[0])
    assert outcomes == {size_module.GameTooLarge, None}
    assert forks
