"""The tree control variate of tabular games (control.py): exactly unbiased whatever the unknown agent plays,
and of lower variance; through `arena compare` on Kuhn and Leduc poker."""

from __future__ import annotations

import numpy as np
import pytest

import arena
from arena.games import TabularPolicy, expected_payoffs, load
from arena.games.policy import policy_from_agent
from arena.tournaments.compare import compare
from arena.tournaments.control import TreeCorrection


def _exact_moments(game, correction, seats, profile):
    """Mean and variance over every terminal history (weighted by its exact probability under `profile`) of seat
    0's payoff as played and as corrected."""
    reach = game.terminal_chance.copy()
    for p, plan in enumerate(profile.plans()):
        reach *= plan[game.terminal_seq[:, p]]
    raw = game.terminal_utility[:, 0]
    corrected = np.array(
        [
            correction.correct(seats, tuple(game.terminal_utility[z]), {"history": game.history_actions(int(h))})[0]
            for z, h in enumerate(game.terminal_history)
        ]
    )
    moments = []
    for values in (raw, corrected):
        mean = float(reach @ values)
        moments.append((mean, float(reach @ (values - mean) ** 2)))
    return moments


@pytest.mark.parametrize("env", ["kuhn_poker-v0", "leduc_poker-v0"])
def test_tree_correction_is_exactly_unbiased_and_reduces_variance(env):
    game = load(env)
    known = policy_from_agent(game, arena.make_agent("cfr_plus(iterations=50)"))
    strategies = {"cfr": known.probs}
    correction = TreeCorrection(game, strategies)
    for seed in (0, 1):  # the unknown agent's strategy: anything, here random behavioural tables
        other = TabularPolicy.random(game, seed=seed)
        for seat, seats in ((0, ("cfr", "x")), (1, ("x", "cfr"))):
            probs = [known.probs[p] if p == seat else other.probs[p] for p in range(2)]
            (raw_mean, raw_var), (cv_mean, cv_var) = _exact_moments(game, correction, seats, TabularPolicy(game, probs))
            assert cv_mean == pytest.approx(raw_mean, abs=1e-12)
            assert cv_var < 0.8 * raw_var


def test_tree_correction_leaves_unknown_histories_alone():
    game = load("kuhn_poker-v0")
    correction = TreeCorrection(game, {"a": TabularPolicy.uniform(game).probs})
    assert correction.correct(("a", "b"), (1.0, -1.0), None) == (1.0, -1.0)
    assert correction.correct(("a", "b"), (1.0, -1.0), {"history": []}) == (1.0, -1.0)
    # both players known: every step is corrected and the payoff becomes the value of the game under the profile
    both = TreeCorrection(game, {"a": TabularPolicy.uniform(game).probs, "b": TabularPolicy.uniform(game).probs})
    z = int(game.terminal_history[0])
    corrected = both.correct(("a", "b"), tuple(game.terminal_utility[0]), {"history": game.history_actions(z)})
    assert corrected[0] == pytest.approx(both.values(("a", "b"))[0, 0], abs=1e-12)


class BetOnly(arena.Agent):
    """Always bets (no action_probs: its strategy is not known to the comparison)."""

    def act(self, obs):
        return 1


def test_compare_on_kuhn_uses_the_tree_control_variate(tmp_path):
    """cfr_plus (known) against an always-bet script (act only), six master seeds of 500 pairs: the corrected margin
    has less than half the spread, and its 95% interval covers the exact expected margin in at least five."""
    game = load("kuhn_poker-v0")
    cfr = policy_from_agent(game, arena.make_agent("cfr_plus(iterations=50)"))
    bet = policy_from_agent(game, arena.make_agent("mix(probs={bet: 1.0})"))
    first = expected_payoffs(game, TabularPolicy(game, [cfr.probs[0], bet.probs[1]]))  # cfr in seat 0
    second = expected_payoffs(game, TabularPolicy(game, [bet.probs[0], cfr.probs[1]]))  # cfr in seat 1
    exact = 0.5 * ((first[0] - first[1]) + (second[1] - second[0]))
    covered = 0
    for seed in range(6):
        found = compare(
            "cfr_plus(iterations=50)",
            "tests.test_control:BetOnly",
            "kuhn_poker-v0",
            max_games=1000,
            seed=seed,
            db=str(tmp_path / f"k{seed}.sqlite"),
            backend="inprocess",
        )
        cv = found.control_variate
        assert cv["agents"] == ["cfr_plus(iterations=50)"] and cv["pilot_pairs"] == 20
        assert cv["pair_sd_with"] < 0.5 * cv["pair_sd_without"]
        covered += found.margin["low"] <= exact <= found.margin["high"]
    assert covered >= 5
    raw = compare(  # the last seed's stored games, without the correction
        "cfr_plus(iterations=50)",
        "tests.test_control:BetOnly",
        "kuhn_poker-v0",
        max_games=1000,
        seed=5,
        db=str(tmp_path / "k5.sqlite"),
        backend="inprocess",
        control_variate=False,
    )
    assert raw.played == 0 and raw.control_variate is None
    assert raw.margin["mean"] == pytest.approx(cv["mean_without"]) and raw.margin["pair_sd"] == cv["pair_sd_without"]
