"""Bradley-Terry and Elo ratings: the MLE against closed forms and an independent solver, intervals and ranks."""

import math

import numpy as np
import pytest

from arena.tournaments import ratings


def _comparisons(results):
    """Matches as lists of (i, j, score) from a list of (i, j, score) results, one per match."""
    return [[r] for r in results]


def test_two_players_recover_the_log_odds(monkeypatch):
    monkeypatch.setattr(ratings, "PRIOR", 0.0)
    wins = np.array([[0.0, 75.0], [25.0, 0.0]])
    r = ratings.fit_bradley_terry(wins)
    assert abs((r[0] - r[1]) - 400 * math.log10(3.0)) < 1e-6  # P = 0.75 <=> 10^(d/400) = 3
    assert abs(r.mean() - 1000.0) < 1e-9


def _zermelo(wins, iterations=20000):
    """Zermelo's fixed point (the MM algorithm of Hunter 2004) for Bradley-Terry strengths."""
    n = len(wins)
    games = wins + wins.T
    p = np.ones(n)
    for _ in range(iterations):
        p = wins.sum(axis=1) / np.array(
            [sum(games[i, j] / (p[i] + p[j]) for j in range(n) if j != i) for i in range(n)]
        )
        p /= np.exp(np.log(p).mean())
    return 1000 + 400 * np.log10(p)


def test_mle_matches_an_independent_solver_with_ties_as_halves(monkeypatch):
    monkeypatch.setattr(ratings, "PRIOR", 0.0)
    results = (
        [(0, 1, 1.0)] * 6
        + [(0, 1, 0.0)] * 3
        + [(0, 1, 0.5)] * 2
        + [(1, 2, 1.0)] * 5
        + [(1, 2, 0.0)] * 4
        + [(0, 2, 1.0)] * 7
        + [(0, 2, 0.0)] * 2
        + [(2, 3, 1.0)] * 3
        + [(2, 3, 0.0)] * 3
        + [(0, 3, 0.0)]
    )
    wins = ratings.score_matrices(_comparisons(results), 4).sum(axis=0)
    assert wins[0, 1] == 7.0 and wins[1, 0] == 4.0  # two ties = one win each way
    assert np.allclose(ratings.fit_bradley_terry(wins), _zermelo(wins), atol=1e-6)


def test_a_stack_of_score_matrices_fits_each_as_alone():
    rng = np.random.default_rng(3)
    stack = rng.integers(0, 6, size=(40, 4, 4)).astype(float)
    stack[:, np.arange(4), np.arange(4)] = 0.0
    stack[::5, 0, :] = 0.0  # replicates where an agent never scores take more steps than the others
    together = ratings.fit_bradley_terry(stack)
    alone = np.array([ratings.fit_bradley_terry(w) for w in stack])
    assert np.abs(together - alone).max() < 1e-9


def test_an_unbeaten_agent_keeps_a_finite_rating():
    wins = np.array([[0.0, 10.0], [0.0, 0.0]])
    r = ratings.fit_bradley_terry(wins)
    assert np.all(np.isfinite(r)) and r[0] - r[1] > 800


def test_bootstrap_intervals_and_interval_respecting_ranks():
    strong = [(0, 1, 1.0)] * 80 + [(0, 1, 0.0)] * 20 + [(0, 2, 1.0)] * 80 + [(0, 2, 0.0)] * 20
    even = [(1, 2, 1.0)] * 50 + [(1, 2, 0.0)] * 50
    table = ratings.bradley_terry(["a", "b", "c"], _comparisons(strong + even), num_bootstrap=200, seed=1)
    a, b, c = table
    for r in table:
        assert r.lower <= r.rating <= r.upper
    assert a.lower > max(b.upper, c.upper)
    assert (a.rank, b.rank, c.rank) == (1, 2, 2)  # b and c overlap: they share a rank
    assert ratings.interval_ranks(np.array([10.0, 0.0, -5.0]), np.array([20.0, 12.0, 1.0])) == [1, 1, 2]


def test_elo_follows_the_online_rule_and_agrees_in_direction():
    r = ratings.elo([(0, 1, 1.0)], 2, k=16)
    assert np.allclose(r, [1008.0, 992.0])  # E = 0.5 between equals
    r = ratings.elo([(0, 1, 1.0), (0, 1, 0.5)], 2, k=16)
    expected = 1 / (1 + 10 ** ((992 - 1008) / 400))
    assert r[0] == pytest.approx(1008 + 16 * (0.5 - expected))
    table = ratings.elo_ratings(["a", "b"], _comparisons([(0, 1, 1.0)] * 30 + [(0, 1, 0.0)] * 10), 100, seed=0)
    assert table[0].rating > 1000 > table[1].rating and table[0].lower <= table[0].rating <= table[0].upper


def _random_matches(count: int, seed: int) -> list[list[tuple[int, int, float]]]:
    """Matches among four agents of 0 to 3 comparisons each."""
    rng = np.random.default_rng(seed)
    return [
        [
            (int(i), int(j), float(rng.choice([0.0, 0.5, 1.0])))
            for i, j in (rng.choice(4, 2, replace=False) for _ in range(rng.integers(0, 4)))
        ]
        for _ in range(count)
    ]


@pytest.mark.parametrize("compiled", [True, False], ids=["kernel", "numpy"])
def test_elo_replicates_are_the_online_rule_over_resampled_matches(compiled, monkeypatch):
    """The bootstrap equals `elo` run on each replicate's resample, drawn a block of steps of every replicate at a
    time, in the compiled kernel and in the numpy loop alike."""
    assert ratings._kernel is not None, "the package was installed without its Elo kernel (arena/tournaments/_elo.c)"
    if not compiled:
        monkeypatch.setattr(ratings, "_kernel", None)
    monkeypatch.setattr(ratings, "ELO_BLOCK", 16)
    matches = _random_matches(60, 7)
    table = ratings.elo_ratings(list("abcd"), matches, num_bootstrap=25, seed=3)
    rng = np.random.default_rng(3)
    blocks = [rng.integers(0, 60, size=(25, min(16, 60 - b)), dtype=np.int32) for b in range(0, 60, 16)]
    draws = np.concatenate(blocks, axis=1)
    replicates = [ratings.elo([c for m in row for c in matches[m]], 4) for row in draws]  # a row per replicate
    lower, upper = np.percentile(replicates, [2.5, 97.5], axis=0)
    assert np.allclose([r.rating for r in table], np.median(replicates, axis=0), atol=1e-9)
    assert np.allclose([r.lower for r in table], lower, atol=1e-9)
    assert np.allclose([r.upper for r in table], upper, atol=1e-9)


def test_the_elo_kernel_refuses_buffers_that_do_not_fit():
    ratings_of = np.full(6, 1000.0)
    first, second = np.zeros((2, 1), np.int64), np.ones((2, 1), np.int64)
    score, weight = np.ones((2, 1)), np.full((2, 1), 16.0)
    with pytest.raises(ValueError, match="out of range"):
        ratings._kernel(ratings_of, first, second, score, weight, np.array([[0, 2]], np.int32), 1, 3)
    with pytest.raises(TypeError, match="4 bytes"):
        ratings._kernel(ratings_of, first, second, score, weight, np.array([[0, 1]], np.int64), 1, 3)
    assert (ratings_of == 1000.0).all()
    ratings._kernel(ratings_of, first, second, score, weight, np.array([[0], [1]], np.int32), 1, 3)
    assert ratings_of[0] == ratings_of[3] == 1008.0 and ratings_of[1] == ratings_of[4] == 992.0  # K (1 - 1/2)


def test_match_scores_compare_payoffs_between_different_agents():
    assert ratings.match_scores([0, 1], [1.0, -1.0]) == [(0, 1, 1.0)]
    assert ratings.match_scores([0, 1, 2], [0.5, 0.5, -1.0]) == [(0, 1, 0.5), (0, 2, 1.0), (1, 2, 1.0)]
    assert ratings.match_scores([0, 0], [1.0, -1.0]) == []  # self-play says nothing about ratings


def test_fits_on_counts_are_the_fits_on_the_games_one_by_one():
    """A distinct match with its count fits exactly as its copies do; Elo over distinct matches with their counts
    is Elo over those matches one by one, replicate for replicate; and resampling counts (a multinomial over the
    distinct matches) resamples the same distribution as resampling the matches themselves."""
    distinct = [[(0, 1, 1.0)], [(0, 1, 0.0)], [(1, 2, 0.5)], [(0, 2, 1.0)], [(0, 1, 1.0), (0, 2, 0.0), (1, 2, 1.0)]]
    counts = [30, 10, 12, 20, 8]
    one_by_one = [distinct[k] for k in np.repeat(np.arange(5), counts)]
    names = ["a", "b", "c"]
    elo_counted = ratings.elo_ratings(names, distinct, 40, seed=2, counts=counts)
    elo_listed = ratings.elo_ratings(names, one_by_one, 40, seed=2)
    assert [r.to_dict() for r in elo_counted] == [r.to_dict() for r in elo_listed]
    counted = ratings.bradley_terry(names, distinct, 4000, seed=1, counts=counts)
    listed = ratings.bradley_terry(names, one_by_one, 4000, seed=1)
    for c, m in zip(counted, listed):
        assert c.rating == pytest.approx(m.rating, abs=1e-9)
        tolerance = 0.05 * (m.upper - m.lower)
        assert c.lower == pytest.approx(m.lower, abs=tolerance) and c.upper == pytest.approx(m.upper, abs=tolerance)
    outcomes = [ratings.Outcome(g, i, j, s) for g, items in enumerate(distinct) for i, j, s in items]
    listed_outcomes = [ratings.Outcome(g, i, j, s) for g, items in enumerate(one_by_one) for i, j, s in items]
    fit = ratings.davidson(names, outcomes, len(distinct), 2000, seed=1, counts=np.array(counts))
    reference = ratings.davidson(names, listed_outcomes, len(one_by_one), 2000, seed=1)
    assert fit.draw_parameter == pytest.approx(reference.draw_parameter, rel=1e-9)
    for c, m in zip(fit.ratings, reference.ratings):
        tolerance = 0.08 * (m.upper - m.lower)  # Monte Carlo error of a 2.5% tail over 2000 replicates
        assert c.rating == pytest.approx(m.rating, abs=1e-7)
        assert c.lower == pytest.approx(m.lower, abs=tolerance) and c.upper == pytest.approx(m.upper, abs=tolerance)


def test_percentile_interval_and_median_give_numpys_values_without_importing_numpy_ma():
    """The same values as np.percentile(x, [2.5, 97.5], axis=0) and np.median(x, axis=0) for every size of sample
    (1 to 401 replicates, one or several columns, ties, a NaN column), and no numpy.ma, which numpy's routines
    import (np.unique, the median's NaN check): 7-14 ms of every command that reports a tournament."""
    import subprocess
    import sys

    from arena.tournaments.ratings import median_along, percentile_interval

    rng = np.random.default_rng(0)
    for n in [*range(1, 60), 199, 200, 201, 400, 401]:
        for values in (rng.normal(size=n), rng.normal(size=(n, 3)), rng.integers(0, 4, size=(n, 2)) * 0.5):
            expected = np.percentile(values, [2.5, 97.5], axis=0)
            low, high = percentile_interval(values)
            np.testing.assert_array_equal(low, expected[0])
            np.testing.assert_array_equal(high, expected[1])
            np.testing.assert_array_equal(median_along(values), np.median(values, axis=0))
    with_nan = rng.normal(size=(50, 2))
    with_nan[7, 1] = np.nan
    np.testing.assert_array_equal(np.array(percentile_interval(with_nan)), np.percentile(with_nan, [2.5, 97.5], axis=0))
    np.testing.assert_array_equal(median_along(with_nan), np.median(with_nan, axis=0))
    code = (
        "import sys, numpy as np; from arena.tournaments.ratings import median_along, percentile_interval; "
        "percentile_interval(np.arange(200.0)); median_along(np.arange(200.0)); print('numpy.ma' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
