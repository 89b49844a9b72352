"""Compiling games into arrays: sizes against OpenSpiel's published counts, structure, errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from arena.core import ParameterError, UnknownNameError
from arena.games import load


@pytest.mark.parametrize(
    "env, histories, infosets, sequences",
    [
        ("kuhn_poker-v0", 58, [6, 6], [13, 13]),
        ("leduc_poker-v0", 9457, [468, 468], [1093, 1093]),
        ("kuhn_poker-v0(players=3)", 617, [16, 16, 16], [33, 33, 33]),
    ],
)
def test_sizes_match_openspiel(env, histories, infosets, sequences):
    game = load(env)
    assert game.num_histories == histories
    assert game.num_infosets == infosets
    assert game.num_sequences == sequences
    assert game.zero_sum and game.utility_sum == 0.0


def test_leduc_compiles_fast():
    from arena.games.tree import clear_compiled

    clear_compiled()
    start = time.perf_counter()
    load("leduc_poker-v0")
    assert time.perf_counter() - start < 2.0


def test_kuhn_structure():
    game = load("kuhn_poker-v0")
    p0, p1 = game.players
    assert sorted(p0.keys) == ["0", "0pb", "1", "1pb", "2", "2pb"]
    assert sorted(p1.keys) == ["0b", "0p", "1b", "1p", "2b", "2p"]
    # "0pb" follows player 0's own Pass at "0"
    assert p0.parent_seq[p0.keys.index("0pb")] == p0.seq[p0.keys.index("0"), 0]
    assert p0.level[p0.keys.index("0pb")] == 1 and p1.level.max() == 0
    # sequences of an infoset are contiguous and ordered by action
    for tree in game.players:
        for i in range(tree.num_infosets):
            legal_seqs = tree.seq[i][tree.legal[i]]
            assert list(legal_seqs) == list(range(tree.first_seq[i], tree.first_seq[i] + len(legal_seqs)))
            assert all(tree.seq_parent[s] == tree.parent_seq[i] for s in legal_seqs)
    # chance reach of every terminal is 1/6 (two cards dealt from three)
    assert np.allclose(game.terminal_chance, 1 / 6) and len(game.terminal_history) == 30
    assert game.history_player[0] == -1 and game.history_actions(int(game.terminal_history[0]))[:2] in (
        [0, 1],
        [0, 2],
        [1, 0],
        [1, 2],
        [2, 0],
        [2, 1],
    )


def test_realization_plan_and_back():
    game = load("leduc_poker-v0")
    tree = game.players[1]
    rng = np.random.default_rng(0)
    probs = rng.exponential(size=tree.legal.shape) * tree.legal
    probs /= probs.sum(axis=1, keepdims=True)
    plan = tree.realization_plan(probs)
    assert plan[0] == 1.0
    # the plan's mass flowing into every infoset is conserved
    inflow = np.bincount(tree.seq_infoset[1:], plan[1:], minlength=tree.num_infosets)
    assert np.allclose(inflow, plan[tree.parent_seq])
    assert np.allclose(tree.behavioural(plan), probs)


def test_two_player_payoff_matrix_gives_expected_utilities():
    game = load("leduc_poker-v0")
    rng = np.random.default_rng(1)
    plans = []
    for tree in game.players:
        probs = rng.exponential(size=tree.legal.shape) * tree.legal
        plans.append(tree.realization_plan(probs / probs.sum(axis=1, keepdims=True)))
    utilities = game.expected_utilities(plans)
    assert plans[0] @ game.payoff_matrix(0) @ plans[1] == pytest.approx(utilities[0], abs=1e-12)
    assert plans[0] @ game.payoff_matrix(1) @ plans[1] == pytest.approx(utilities[1], abs=1e-12)
    assert game.sequence_values(0, plans) @ plans[0] == pytest.approx(utilities[0], abs=1e-12)


def test_normal_form_stage_game():
    game = load("rps-v0(rounds=5)")
    assert game.kind == "normal-form" and game.num_players == 2 and game.num_actions == 3
    assert [tree.keys for tree in game.players] == [["player_0|"], ["player_1|"]]
    assert game.num_sequences == [4, 4]
    assert game.payoff_matrix(0).toarray()[1:, 1:].tolist() == [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]
    assert game.action_names[0] == ["rock", "paper", "scissors"]


def test_unequal_action_counts_and_three_players():
    payoffs = np.arange(2 * 2 * 3).reshape(2, 2, 3).tolist()
    game = load("matrix-v0", payoffs=payoffs)
    assert game.num_actions == 3
    assert game.players[0].legal.tolist() == [[True, True, False]]
    assert not game.zero_sum and game.utility_sum is None
    three = load("random_matrix-v0(players=3, zero_sum=false, size=2)")
    assert three.num_players == 3 and len(three.terminal_history) == 8


def test_game_strings_and_openspiel_prefix():
    assert load("kuhn_poker(players=3)").num_players == 3
    assert load("openspiel:kuhn_poker").num_histories == 58
    assert load("kuhn_poker").key == load("kuhn_poker-v0").key


def test_bad_names():
    with pytest.raises(UnknownNameError, match="did you mean"):
        load("kuhn_pokr-v0")
    with pytest.raises(UnknownNameError):
        load("openspiel:no_such_game")
    with pytest.raises(ParameterError):
        load("")


def test_liars_dice_compiles():
    game = load("liars_dice-v0")
    assert game.num_histories == 294883
    assert game.num_infosets == [12288, 12288]


@pytest.mark.parametrize("env", ["kuhn_poker-v0", "openspiel:kuhn_poker(players=3)", "openspiel:tiny_hanabi"])
def test_small_games_count_sequence_values_as_the_sparse_product_does(monkeypatch, env):
    from arena.games import tree

    game = load(env)
    assert len(game.terminal_seq) <= tree.SPARSE_TERMINALS
    rng = np.random.default_rng(0)
    plans = [rng.random(t.num_sequences) for t in game.players]
    counted = [game.sequence_values(p, plans) for p in range(game.num_players)]
    monkeypatch.setattr(tree, "SPARSE_TERMINALS", 0)
    multiplied = [game.sequence_values(p, plans) for p in range(game.num_players)]
    for a, b in zip(counted, multiplied):
        assert a.shape == b.shape and np.abs(a - b).max() < 1e-12


def test_a_small_game_is_measured_without_scipy():
    import subprocess
    import sys

    probe = (
        "import sys\nfrom arena.games import load\nfrom arena.games.exploitability import gap\n"
        "from arena.games.policy import TabularPolicy\ng = load('kuhn_poker-v0')\n"
        "print(round(gap(g, TabularPolicy.uniform(g).plans()), 12), 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0.458333333333", "False"]
