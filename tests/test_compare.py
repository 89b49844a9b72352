"""`arena compare`: paired games, the sequential test on stored pairs, resuming, the exact shortcut, bad input."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

import arena
from arena.errors import ArenaError, ConfigError
from arena.tournaments.compare import compare, pair_values, summary_lines
from arena.tournaments.control import repeated_correction
from arena.tournaments.sequential import Hypotheses, decide
from arena.tournaments.store import ResultsStore

KUHN = "kuhn_poker-v0"
MARGIN = Hypotheses.parse("margin0=0,margin1=0.2")


def arena_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arena.cli", *args], capture_output=True, text=True, timeout=300)


def test_pair_values_score_and_margin_from_both_seat_orders():
    games = {("a", "b"): (2.0, -2.0), ("b", "a"): (1.0, -1.0)}  # A wins 2, then loses 1
    assert pair_values(games, "a", "b") == (1.0, 1.0)  # one win, one loss; (4 + -2) / 2
    draw = {("a", "b"): (0.0, 0.0), ("b", "a"): (-1.0, 1.0)}
    assert pair_values(draw, "a", "b") == (1.5, 1.0)


def test_sequential_compare_decides_stores_and_resumes(tmp_path):
    db = str(tmp_path / "c.sqlite")
    first = compare("cfr_plus", "random", KUHN, hypotheses=MARGIN, db=db, backend="inprocess", exact=False)
    assert first.stopped == "decided" and first.decision["result"] == "H1"
    used = first.decision["decided_at"]
    assert first.pairs == used and first.played >= 2 * used
    assert first.fixed_pairs is not None and first.saving == pytest.approx(first.fixed_pairs / used)
    with ResultsStore(db, readonly=True) as store:
        stored = store.tournament(first.name).matches
    assert len(stored) == first.played
    by_index: dict[int, dict] = {}
    for m in stored:
        by_index.setdefault(m.index, {})[m.seats] = m.payoffs
        assert m.seed == next(o.seed for o in stored if o.index == m.index)  # both seat orders share the seed
    margins = [pair_values(by_index[k], "cfr_plus", "random")[1] for k in range(used)]
    assert decide(margins, MARGIN).decided_at == used  # the decision is the stored pairs' own

    again = compare("cfr_plus", "random", KUHN, hypotheses=MARGIN, db=db, backend="inprocess", exact=False)
    assert again.played == 0 and again.already_recorded == first.played
    assert again.decision == first.decision

    stricter = Hypotheses.parse("margin0=0,margin1=0.1,alpha=0.01,beta=0.01")  # more pairs: the stored are reused
    more = compare("cfr_plus", "random", KUHN, hypotheses=stricter, db=db, backend="inprocess", exact=False)
    assert more.already_recorded == first.played and more.decision["result"] == "H1"
    assert more.decision["decided_at"] > used


@pytest.mark.slow
def test_a_local_pool_reaches_the_same_decision(tmp_path):
    hypotheses = Hypotheses.parse("margin0=0,margin1=0.3")
    here = compare(
        "cfr_plus",
        "random",
        KUHN,
        hypotheses=hypotheses,
        db=str(tmp_path / "a.sqlite"),
        backend="inprocess",
        exact=False,
    )
    local = compare(
        "cfr_plus",
        "random",
        KUHN,
        hypotheses=hypotheses,
        db=str(tmp_path / "b.sqlite"),
        backend="local",
        workers=2,
        exact=False,
    )
    assert local.decision == here.decision
    assert local.margin == here.margin


def test_equal_agents_accept_h0_on_a_win_draw_loss_game(tmp_path):
    found = compare(
        "random",
        "random",
        "tic_tac_toe-v0",
        hypotheses=Hypotheses.parse("elo0=0,elo1=150"),
        db=str(tmp_path / "t.sqlite"),
        backend="inprocess",
        exact=False,
    )
    assert (found.a, found.b) == ("random (A)", "random (B)")
    assert found.decision["result"] == "H0"
    assert 0.35 < found.score["mean"] < 0.65


def test_identical_play_is_no_difference(tmp_path):
    """Both random agents draw the same moves from the seed in either seat order: every pair is a draw."""
    found = compare(
        "random",
        "random",
        KUHN,
        hypotheses=Hypotheses.parse("margin0=0,margin1=0.01"),
        db=str(tmp_path / "r.sqlite"),
        backend="inprocess",
        exact=False,
    )
    assert found.decision["result"] == "H0" and found.margin["mean"] == 0.0


def test_budget_stops_an_undecided_test(tmp_path):
    """Fewer pairs than MIN_PAIRS never decide: the budget of 18 games ends the test."""
    found = compare(
        "cfr_plus",
        "random",
        KUHN,
        hypotheses=MARGIN,
        max_games=18,
        db=str(tmp_path / "u.sqlite"),
        backend="inprocess",
        exact=False,
    )
    assert found.stopped == "budget" and found.decision["result"] is None
    assert found.pairs == 9 and found.played == 18
    assert any("undecided after 9 pairs" in line for line in summary_lines(found))


def test_wall_budget_ends_a_comparison(tmp_path):
    found = compare(
        "cfr_plus",
        "random",
        KUHN,
        hypotheses=Hypotheses.parse("margin0=0,margin1=0.01"),
        max_wall_s=1e-9,
        db=str(tmp_path / "w.sqlite"),
        backend="inprocess",
        exact=False,
    )
    assert found.stopped == "budget" and "of play is spent" in found.budget
    assert 0 < found.played < 100 and found.costs["total"]["matches"] == found.played
    assert any(line.startswith("  stopped: the budget") for line in summary_lines(found))


def test_fixed_n_plays_the_games_and_reports_intervals(tmp_path):
    found = compare(
        "cfr_plus", "random", KUHN, max_games=60, db=str(tmp_path / "f.sqlite"), backend="inprocess", exact=False
    )
    assert found.stopped == "fixed" and found.played == 60 and found.pairs == 30 and found.decision is None
    assert found.margin["low"] < found.margin["mean"] < found.margin["high"]
    assert found.score["elo_low"] <= found.score["elo"] <= found.score["elo_high"]


def test_exact_shortcut_computes_instead_of_playing(tmp_path):
    db = str(tmp_path / "e.sqlite")
    rock, paper = "mix(probs={rock: 1.0})", "mix(probs={paper: 1.0})"
    found = compare(rock, paper, "rps-v0", hypotheses=Hypotheses.parse("elo0=0,elo1=5"), db=db)
    assert found.stopped == "exact" and found.played == 0
    assert found.exact["score"] == pytest.approx(0.0) and found.exact["margin"] == pytest.approx(-2.0)
    assert found.decision["result"] == "H0"
    even = compare("random", rock, "rps-v0", db=db, backend="inprocess")
    assert even.exact["score"] == pytest.approx(0.5) and even.exact["margin"] == pytest.approx(0.0)
    with sqlite3.connect(db) as conn:  # the answer is stored and read back
        assert conn.execute("SELECT count(*) FROM analyses WHERE kind = 'exact_compare'").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM matches").fetchone()[0] == 0


class Cycler(arena.Agent):
    """Rock, paper, scissors, rock, ... (no action_probs: its strategy is not known to the comparison)."""

    def reset(self, seed, player, env_spec):
        self.turn = 0

    def act(self, obs):
        self.turn += 1
        return (self.turn - 1) % 3


class BrokenProbs(arena.Agent):
    """Claims a mixed strategy that it cannot give: the exact shortcut falls back to playing."""

    def act(self, obs):
        return 0

    def action_probs(self, obs):
        raise RuntimeError("no strategy today")


def test_exact_shortcut_falls_back_to_games_when_a_strategy_cannot_be_read(tmp_path):
    found = compare(
        "tests.test_compare:BrokenProbs",
        "random",
        "rps-v0",
        max_games=20,
        db=str(tmp_path / "b.sqlite"),
        backend="inprocess",
    )
    assert found.exact is None and found.stopped == "fixed" and found.played == 20


def test_control_variate_of_a_round():
    rounds = {
        "actions": [[1, 0], [0, 0]],
        "action_payoffs": [[[0.0, 1.0, -1.0], [0.0, 1.0, -1.0]], [[-1.0, 0.0, 1.0], [0.0, 1.0, -1.0]]],
        "policies": [[[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]], None],
    }
    # seat 0 expects 0.5 a round against rock: 1.0 in all instead of the 1.0 + 0.0 it was paid
    assert repeated_correction(("a", "b"), (1.0, -1.0), rounds, {"a"}) == (1.0, -1.0)
    rounds["actions"][0] = [1, 1]
    assert repeated_correction(("a", "b"), (2.0, -2.0), rounds, {"a"}) == (1.0, -1.0)
    assert repeated_correction(("a", "b"), (2.0, -2.0), rounds, set()) == (2.0, -2.0)


def test_control_variate_removes_the_known_side_s_noise(tmp_path):
    """mix(rock, paper) against a cycle of rock, paper, scissors: 0.5, -0.5 and 0 expected a round, so over 10
    rounds (4 rocks, 3 papers, 3 scissors) A expects 0.5 a game and the margin is exactly 1.0 in every pair."""
    found = compare(
        "mix(probs={rock: 0.5, paper: 0.5})",
        "tests.test_compare:Cycler",
        "rps-v0(rounds=10)",
        max_games=40,
        db=str(tmp_path / "cv.sqlite"),
        backend="inprocess",
    )
    cv = found.control_variate
    assert cv["agents"] == ["mix(probs={'paper': 0.5, 'rock': 0.5})"]
    assert found.margin["mean"] == pytest.approx(1.0) and cv["pair_sd_with"] == pytest.approx(0.0, abs=1e-12)
    assert cv["pair_sd_without"] > 1.0 and cv["variance_ratio"] == pytest.approx(0.0, abs=1e-12)
    assert any("control variate" in line for line in summary_lines(found))


def test_bad_input(tmp_path):
    with pytest.raises(ConfigError, match="two seats"):
        compare("random", "random", "kuhn_poker-v0(players=3)", db=str(tmp_path / "x.sqlite"), backend="inprocess")
    with pytest.raises(ConfigError, match="at least 2"):
        compare("random", "cfr", KUHN, max_games=1, db=str(tmp_path / "x.sqlite"))
    with pytest.raises(ArenaError):
        compare("randm", "cfr", KUHN, db=str(tmp_path / "x.sqlite"), backend="inprocess")


@pytest.mark.slow
def test_cli(tmp_path):
    db = str(tmp_path / "cli.sqlite")
    done = arena_cli(
        "compare",
        "cfr_plus",
        "random",
        "--env",
        KUHN,
        "--sprt",
        "margin1=0.2",
        "--no-exact",
        "--backend",
        "inprocess",
        "--db",
        db,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["decision"]["result"] == "H1" and data["saving"] > 1
    text = arena_cli(
        "compare",
        "cfr_plus",
        "random",
        "--env",
        KUHN,
        "--sprt",
        "margin1=0.2",
        "--no-exact",
        "--backend",
        "inprocess",
        "--db",
        db,
    )
    assert text.returncode == 0 and "H1" in text.stdout and "0 games played now" in text.stdout
    for args, says in [
        (["--sprt", "elo1=x"], "must be a number"),
        (["--sprt", "elo1=5,margin1=1"], "not both"),
        (["--max-games", "1"], "at least 2"),
        (["--seed", "-1"], "non-negative"),
    ]:
        bad = arena_cli("compare", "random", "random", "--env", KUHN, "--db", db, "--backend", "inprocess", *args)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and says in bad.stderr, bad.stderr
