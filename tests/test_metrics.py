"""Tournament metrics: intervals, the meta-game equilibrium, regret curves and the sublinearity test."""

import math

import numpy as np
import pytest
from scipy.stats import binomtest

import arena
from arena.core import Agent
from arena.specs import EnvSpec
from arena.tournaments import metagame, regret, statistics
from arena.tournaments.records import MatchRecord
from arena.tournaments.statistics import Game


def _match(env="e", idx=0, seats=("a", "b"), payoffs=(0.0, 0.0), culprit=None, **per_seat):
    """A recorded match with the fields a test names; the other per-seat counters zero."""
    n = len(seats)
    lists = {"illegal_moves": (0,) * n, "timeouts": (0,) * n, "errors": (0,) * n, "random_fallbacks": (0,) * n}
    lists.update({k: tuple(v) for k, v in per_seat.items()})
    return MatchRecord(
        match_id="",
        env=EnvSpec.parse(env),
        seats=tuple(seats),
        index=idx,
        seed=0,
        payoffs=tuple(payoffs),
        outcomes=(None,) * n,
        termination="normal",
        culprit=culprit,
        message="",
        length=1,
        wall_time=0.0,
        **{"agent_stats": ({},) * n, **lists},
    )


class HedgeAgent(Agent):
    """Hedge (multiplicative weights) from full-information feedback: a textbook no-regret learner."""

    name = "hedge"

    def __init__(self, rate: float = 0.1) -> None:
        self.rate = rate

    def reset(self, seed, player, env_spec):
        super().reset(seed, player, env_spec)
        self.totals = None

    def action_probs(self, obs):
        totals = np.zeros(len(obs.action_mask)) if self.totals is None else self.totals
        weights = np.exp(self.rate * (totals - totals.max()))
        return weights / weights.sum()

    def observe(self, feedback):
        if feedback.action_payoffs is not None:
            payoffs = np.asarray(feedback.action_payoffs, dtype=float)
            self.totals = payoffs if self.totals is None else self.totals + payoffs


@pytest.mark.parametrize("k, n", [(8, 10), (0, 7), (30, 30), (13, 50)])
def test_wilson_interval_matches_scipy(k, n):
    expected = binomtest(k, n).proportion_ci(method="wilson")
    assert np.allclose(statistics.wilson(k, n), (expected.low, expected.high), atol=1e-12)


def test_mean_interval():
    mean, low, high = statistics.mean_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and math.isclose(high - mean, 1.959963984540054 * np.std([1, 2, 3, 4], ddof=1) / 2)
    assert statistics.mean_interval([5.0]) == (5.0, 5.0, 5.0)


def test_zero_sum_nash_and_maximum_entropy_refinement():
    rps = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=float)
    p, value = metagame.zero_sum_nash(rps)
    assert np.allclose(p, 1 / 3) and abs(value) < 1e-12
    # a second copy of rock: every split of rock's third is optimal; Nash averaging takes the even split
    doubled = rps[[0, 0, 1, 2]][:, [0, 0, 1, 2]]
    p, value = metagame.max_entropy_nash(doubled)
    assert np.allclose(p, [1 / 6, 1 / 6, 1 / 3, 1 / 3], atol=1e-6) and abs(value) < 1e-9
    biased = np.array([[0.0, 2.0], [-2.0, 0.0]])  # a dominant agent takes all the weight
    assert np.allclose(metagame.max_entropy_nash(biased)[0], [1.0, 0.0], atol=1e-9)


def test_two_agents_closed_form_is_the_programs_answer():
    """Two agents are solved in closed form; the linear and entropy programs (a third agent that never plays, so
    that they run) give the same weights, with and without the exact support."""
    rng = np.random.default_rng(3)
    for gap in [0.0, 1e-12, 3e-10, -5e-10, *rng.normal(size=6)]:
        two = np.array([[0.0, gap], [-gap, 0.0]])
        three = np.array([[0.0, gap, 5.0], [-gap, 0.0, 5.0], [-5.0, -5.0, 0.0]])  # the third loses to both
        for exact in (True, False):
            closed, value = metagame.max_entropy_nash(two, exact=exact)
            solved, _ = metagame.max_entropy_nash(three, exact=exact)
            assert value == 0.0 and np.allclose(closed, solved[:2], atol=1e-6), (gap, exact)


def test_meta_game_from_matches():
    def match(a, b, pa):
        return _match(seats=[a, b], payoffs=[pa, -pa])

    matches = [
        match("r", "p", -1),
        match("p", "r", 1),
        match("p", "s", -1),
        match("s", "r", -1),
        match("s", "p", 1),
        match("r", "s", 1),
    ]
    meta = metagame.meta_game(["r", "p", "s"], matches)
    assert meta.agents == ["r", "p", "s"] and meta.payoffs[0] == [None, -1.0, 1.0]
    assert np.allclose(meta.nash, 1 / 3) and np.allclose(meta.nash_averaging, 0.0)
    assert np.allclose(meta.regret, 0.0)


def test_regret_curves_by_hand():
    payoffs = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    curves = regret.regret_curves(payoffs, [1, 1, 1])
    assert np.allclose(curves.external, [1, 0, 1]) and np.allclose(curves.dynamic, [1, 1, 2])
    mixed = regret.regret_curves(payoffs, [[0.5, 0.5]] * 3)
    assert np.allclose(mixed.external, [0.5, 0.0, 0.5])
    t = np.arange(1, 101)
    assert abs(regret.loglog_slope(np.sqrt(t)) - 0.5) < 1e-12 and abs(regret.loglog_slope(3.0 * t) - 1) < 1e-12
    assert regret.loglog_slope(-t.astype(float)) is None


@pytest.mark.slow
def test_hedge_has_sublinear_regret_and_random_linear_in_a_real_tournament(tmp_path):
    run = arena.run_tournament(
        {
            "name": "regret",
            "envs": ["rps-v0(rounds=200)"],
            "games": 8,
            "seats": "fixed",
            "backend": "inprocess",
            "agents": [
                {"name": "hedge", "spec": "test_metrics:HedgeAgent"},
                "random",
                {"name": "rock-heavy", "spec": "mix(probs={rock: 0.6, paper: 0.2, scissors: 0.2})"},
            ],
        },
        db=str(tmp_path / "r.sqlite"),
    )
    regret = run.metrics["envs"]["rps-v0(rounds=200)"]["regret"]
    hedge, uniform = regret["hedge"], regret["random"]
    assert hedge["rounds"] == 200 and hedge["matches"] == 16
    assert hedge["loglog_slope"] < 0.75 and hedge["sublinear"] == "yes"
    assert uniform["loglog_slope"] > 0.85 and uniform["sublinear"] == "no"
    assert hedge["external_regret_per_round"] < 0.1 < uniform["external_regret_per_round"]
    assert hedge["dynamic_regret_per_round"] >= hedge["external_regret_per_round"]
    assert len(hedge["curve_external"]) == 200
    # one-shot envs carry no rounds, and no exploitability is computed for repeated games
    assert run.metrics["envs"]["rps-v0(rounds=200)"]["exploitability"] == {}


def test_rates_and_summed_agent_statistics():
    rows = [
        {
            "env": "e",
            "seats": ["a", "b"],
            "payoffs": [1.0, -1.0],
            "illegal_moves": [2, 0],
            "timeouts": [0, 1],
            "errors": [0, 0],
            "culprit": None,
            "agent_stats": [{"tokens": 10, "model": "x"}, {}],
        },
        {
            "env": "e",
            "seats": ["b", "a"],
            "payoffs": [0.0, 0.0],
            "illegal_moves": [0, 0],
            "timeouts": [0, 0],
            "errors": [1, 0],
            "culprit": 0,
            "agent_stats": [{}, {"tokens": 5.5}],
        },
    ]
    matches = [_match(**row) for row in rows]
    summary = statistics.agent_summaries(["a", "b"], matches)
    a, b = summary["a"], summary["b"]
    assert (a.wins, a.draws, a.losses) == (1, 1, 0) and a.score == 0.75
    assert a.illegal_move_rate == 0.5 and a.illegal_moves == 2 and a.stats == {"tokens": 15.5}
    assert b.timeout_rate == 0.5 and b.error_rate == 0.5 and b.forfeits == 1
    pairs = statistics.pairing_results(["a", "b"], matches, {(EnvSpec.parse("e"), "a", "b"): 0.25})
    assert pairs[0].agent == "a" and pairs[0].wins == 1 and pairs[0].draws == 1
    assert pairs[0].exact_payoff == 0.25 and pairs[0].nra == 1.0


def test_duplicate_scoring_sums_each_seeds_seat_orders():
    from arena.tournaments.statistics import scored_games

    def row(idx, seats, payoffs):
        return _match(idx=idx, seats=seats, payoffs=payoffs)

    matches = [
        row(0, ["a", "b"], [3.0, 1.0]),
        row(0, ["b", "a"], [5.0, 0.0]),  # a: 3 + 0, b: 1 + 5
        row(1, ["a", "b"], [2.0, 0.0]),  # its other seat order is not played yet
        row(0, ["a", "a"], [1.0, 0.0]),
        row(0, ["b", "b"], [0.0, 1.0]),
    ]  # self-play sets are left out
    assert scored_games(matches, "match") is matches
    assert scored_games(matches, "duplicate") == [Game(EnvSpec.parse("e"), ("a", "b"), (1.5, 3.0))]
    assert len(scored_games([matches[0], matches[2]], "duplicate", all_orders=False)) == 2  # seats = "fixed"
