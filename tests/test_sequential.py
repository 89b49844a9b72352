"""The statistics of `arena compare`: pentanomial and normal GSPRT, intervals, the fixed-N baseline, and the error
rates of the sequential test on simulated agents of known strength."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from arena.errors import ParameterError
from arena.tournaments.sequential import (
    MIN_PAIRS,
    PAIR_SCORES,
    Hypotheses,
    closest_distribution,
    decide,
    elo_score,
    estimate,
    fixed_pairs,
    llr_normal,
    llr_path,
    llr_pentanomial,
    pentanomial,
    pentanomial_at,
    pentanomial_sampler,
    score_elo,
    simulate_errors,
)


def test_elo_and_score_are_inverse_logistic():
    assert elo_score(0) == 0.5
    assert elo_score(400) == pytest.approx(10 / 11)
    assert score_elo(10 / 11) == pytest.approx(400)
    assert score_elo(elo_score(-37.5)) == pytest.approx(-37.5)


def test_hypotheses_parse_defaults_and_errors():
    assert Hypotheses.parse("") == Hypotheses("elo", 0, 5, 0.05, 0.05)
    assert Hypotheses.parse("elo0=-2, elo1=3,alpha=0.1") == Hypotheses("elo", -2, 3, 0.1, 0.05)
    assert Hypotheses.parse("margin1=0.25") == Hypotheses("margin", 0, 0.25)
    lower, upper = Hypotheses().bounds
    assert lower == pytest.approx(math.log(0.05 / 0.95)) == pytest.approx(-2.9444389791664403)
    assert upper == pytest.approx(2.9444389791664403)
    for bad, says in [
        ("elo1=x", "must be a number"),
        ("gamma=1", "key=value"),
        ("elo1", "key=value"),
        ("elo0=5,elo1=5", "larger"),
        ("alpha=0.7", "between 0 and 0.5"),
        ("margin0=1", "margin1"),
        ("elo1=5,margin1=1", "not both"),
        ("elo1=inf", "finite"),
    ]:
        with pytest.raises(ParameterError, match=says):
            Hypotheses.parse(bad)


def test_pentanomial_counts_pair_points():
    assert pentanomial([0, 0.5, 1, 1, 2, 1.5]).tolist() == [1, 1, 2, 1, 1]
    with pytest.raises(ValueError):
        pentanomial([2.5])


def _brute_force_mle(freqs: np.ndarray, mean: float) -> np.ndarray:
    """The constrained maximum-likelihood distribution by a general optimiser (an independent reference)."""
    found = optimize.minimize(
        lambda p: -(freqs * np.log(np.maximum(p, 1e-300))).sum(),
        np.full(5, 0.2),
        constraints=[
            {"type": "eq", "fun": lambda p: p.sum() - 1},
            {"type": "eq", "fun": lambda p: p @ PAIR_SCORES - mean},
        ],
        bounds=[(1e-12, 1)] * 5,
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    return found.x


@pytest.mark.parametrize("mean", [0.3, 0.5, 0.52, 0.8])
def test_closest_distribution_is_the_constrained_maximum_likelihood(mean):
    freqs = np.array([0.05, 0.2, 0.4, 0.25, 0.1])
    found, _ = closest_distribution(freqs, mean)
    assert found.sum() == pytest.approx(1)
    assert found @ PAIR_SCORES == pytest.approx(mean, abs=1e-12)
    np.testing.assert_allclose(found, _brute_force_mle(freqs, mean), atol=1e-5)
    same, lam = closest_distribution(freqs, float(freqs @ PAIR_SCORES))
    np.testing.assert_allclose(same, freqs, atol=1e-12)  # the observed mean: nothing to move
    assert abs(float(lam)) < 1e-12


def test_pentanomial_llr_reference_value():
    counts = np.array([30.0, 120.0, 400.0, 160.0, 40.0])  # observed mean score 0.5167
    freqs = counts / counts.sum()
    s0, s1 = float(elo_score(0)), float(elo_score(20))
    reference = (counts * (np.log(_brute_force_mle(freqs, s1)) - np.log(_brute_force_mle(freqs, s0)))).sum()
    assert llr_pentanomial(counts, s0, s1) == pytest.approx(reference, rel=1e-4)
    assert llr_pentanomial(counts, s0, s1) > 0  # nearer H1 than H0
    assert llr_pentanomial(counts[::-1], s0, s1) < 0


def test_normal_llr_reference_value_and_minimum_pairs():
    # n/2 log((v + (x - m0)^2) / (v + (x - m1)^2)) with n=40, x=0.3, v=1.2, m0=0, m1=0.5
    expected = 20 * math.log((1.2 + 0.09) / (1.2 + 0.04))
    assert llr_normal(40, 0.3, 1.2, 0.0, 0.5) == pytest.approx(expected)
    assert llr_normal(MIN_PAIRS - 1, 0.3, 1.2, 0.0, 0.5) == 0.0


def test_decide_stops_at_the_first_pair_outside_the_bounds():
    hypotheses = Hypotheses("margin", 0.0, 0.5)
    rng = np.random.default_rng(1)
    values = rng.normal(1.0, 1.0, 500)
    decision = decide(values, hypotheses)
    path = llr_path(values, hypotheses)
    assert decision.result == "H1"
    k = decision.decided_at
    assert path[k - 1] >= decision.upper and (path[: k - 1] < decision.upper).all()
    assert (path[: k - 1] > decision.lower).all()
    assert decide(values[:k], hypotheses) == decision  # the pairs after the decision change nothing
    np.testing.assert_allclose(llr_path(values, hypotheses, 100), path[100:])
    undecided = decide(values[: MIN_PAIRS - 1], hypotheses)
    assert undecided.result is None and undecided.decided_at is None
    assert decide(-values, hypotheses).result == "H0"


def test_estimate_and_fixed_pairs():
    found = estimate([2, 1, 1, 0, 2, 1.5], "elo")
    x = np.array([1, 0.5, 0.5, 0, 1, 0.75])
    assert found.mean == pytest.approx(x.mean())
    half = 1.959963984540054 * x.std(ddof=1) / math.sqrt(6)
    assert (found.low, found.high) == pytest.approx((x.mean() - half, x.mean() + half))
    assert found.elo == pytest.approx(score_elo(x.mean()))
    assert found.elo_low == pytest.approx(score_elo(x.mean() - half))
    margin = estimate([0.5, -1.0, 2.0], "margin")
    assert margin.mean == pytest.approx(0.5) and margin.elo is None
    # one-sided z-test sizes: ((z_0.95 + z_0.95) * sd / delta)^2 = (3.2897 * 1 / 0.1)^2 = 1082.2
    assert fixed_pairs(1.0, Hypotheses("margin", 0.0, 0.1)) == 1083


def test_pentanomial_at_has_the_mean_score_of_its_elo():
    for elo in (-50, 0, 5, 120):
        probs = pentanomial_at(elo)
        assert probs.sum() == pytest.approx(1) and (probs >= 0).all()
        assert probs @ PAIR_SCORES == pytest.approx(elo_score(elo))


def test_normal_sprt_errors_match_alpha_and_beta():
    """2,000 simulated tests at H0 and 2,000 at H1, the true advantage exactly at each hypothesis."""
    hypotheses = Hypotheses("margin", 0.0, 0.1)
    for true, rate in ((0.0, "h1_rate"), (0.1, "h0_rate")):
        found = simulate_errors(lambda rng, shape, m=true: rng.normal(m, 1.0, shape), hypotheses, 2000, 20_000, seed=7)
        assert found.undecided == 0
        assert abs(getattr(found, rate) - 0.05) <= 0.015, (true, found)


@pytest.mark.slow
def test_pentanomial_sprt_errors_match_alpha_and_beta():
    """2,000 simulated tests of elo0=0, elo1=20 at each hypothesis, pairs drawn from two games with draws."""
    hypotheses = Hypotheses("elo", 0.0, 20.0)
    for true, rate in ((0.0, "h1_rate"), (20.0, "h0_rate")):
        found = simulate_errors(pentanomial_sampler(pentanomial_at(true)), hypotheses, 2000, 20_000, seed=1)
        assert found.undecided == 0
        assert abs(getattr(found, rate) - 0.05) <= 0.015, (true, found)
        assert found.mean_pairs < fixed_pairs(float(np.sqrt(_pair_var(true))), hypotheses)


def _pair_var(elo: float) -> float:
    probs = pentanomial_at(elo)
    mean = probs @ PAIR_SCORES
    return float(probs @ (PAIR_SCORES - mean) ** 2)
