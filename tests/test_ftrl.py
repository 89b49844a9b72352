"""FTRL with the dilated entropy: Hedge on matrix games (against its regret bound), Kuhn poker, online Hedge."""

from __future__ import annotations

import math

import numpy as np
import pytest

import arena
from arena.agents.ftrl import FTRL
from arena.core import ParameterError
from arena.games import expected_payoffs, exploitability, load, policy_from_agent, solve


def test_ftrl_on_a_matrix_game_is_hedge() -> None:
    game = load("random_matrix-v0(size=4, seed=3)")
    payoffs = game.game.payoffs
    solver = FTRL(game, eta=0.7)
    x = y = np.full(4, 0.25)
    cumulative = [np.zeros(4), np.zeros(4)]
    for _ in range(20):
        solver.iteration()
        cumulative[0] += payoffs[0] @ y
        cumulative[1] += payoffs[1].T @ x
        x, y = (np.exp(0.7 * (c - c.max())) for c in cumulative)
        x, y = x / x.sum(), y / y.sum()
        np.testing.assert_allclose(solver.current_policy().probs[0][0], x, atol=1e-12)
        np.testing.assert_allclose(solver.current_policy().probs[1][0], y, atol=1e-12)


@pytest.mark.parametrize("env", ["rps-v0", "matching_pennies-v0"])
def test_hedge_average_meets_its_regret_bound(env: str) -> None:
    # Hedge with payoffs in an interval of width `span` has regret <= ln n / eta + eta * T * span^2 / 8; with
    # eta = sqrt(8 ln n / (T span^2)) that is span * sqrt(T ln n / 2), and the average profile's exploitability is
    # at most (regret_0 + regret_1) / (2T) = span * sqrt(ln n / (2T)).
    game = load(env)
    n, span, iterations = game.num_actions, 2.0, 1000
    eta = math.sqrt(8 * math.log(n) / (iterations * span**2))
    result = solve(game, "ftrl", iterations, eval_every=iterations, eta=eta)
    bound = span * math.sqrt(math.log(n) / (2 * iterations))
    measured = exploitability(game, result.policy)
    assert measured <= bound  # bound: 0.047 (RPS), 0.037 (matching pennies)
    assert measured < 0.01
    np.testing.assert_allclose(result.policy.probs[0][0], np.full(n, 1 / n), atol=0.01)


def test_ftrl_solves_kuhn_poker() -> None:
    game = load("kuhn_poker-v0")
    result = solve(game, "ftrl", 1000, eval_every=100)
    gaps = [g for _, g, _ in result.curve]
    assert gaps[-1] < 0.01  # measured 0.0071 after 1000 iterations (eta = 5)
    assert gaps[-1] < gaps[0] / 3  # 0.0246 after 100 iterations
    value = expected_payoffs(game, result.policy)[0]
    assert value == pytest.approx(-1 / 18, abs=0.01)
    optimistic = solve(game, "ftrl", 1000, eval_every=1000, optimistic=True)
    assert optimistic.final_gap < 0.001  # predictive FTRL: measured 0.0006


def test_ftrl_agent_plays_its_solution_exactly(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    game = load("kuhn_poker-v0")
    agent = arena.make_agent("ftrl", env="kuhn_poker-v0", iterations=300, optimistic=True)
    probed = policy_from_agent(game, agent)
    expected = solve(game, "ftrl", 300, optimistic=True).policy
    for ours, theirs in zip(probed.probs, expected.probs):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


@pytest.mark.parametrize("spec", ["ftrl", "ftrl(step_size=0.3)", "ftrl(optimistic=true)"])
def test_online_hedge_learns_to_beat_rock(spec: str) -> None:
    agent = arena.make_agent(spec)
    result = arena.play("rps-v0(rounds=200)", [agent, "fixed(action=rock)"], seed=0)
    assert len(agent.rewards) == 200
    assert np.mean(agent.rewards[-100:]) > 0.8  # paper beats rock; measured 0.99 and more
    assert result.agent_stats[0]["mode"] == "online"


def test_the_learner_follows_the_game_of_each_match() -> None:
    """The repeated game is built once per game, not at every match: a learner reset for another game (or a
    one-shot one) still learns over that game's actions."""
    agent = arena.make_agent("ftrl")
    for spec, actions in [("rps-v0(rounds=5)", 3), ("rps-v0(rounds=5)", 3), ("matching_pennies-v0(rounds=5)", 2)]:
        arena.play(spec, [agent, "random"], seed=1)
        assert agent.learner is not None and len(agent.learner.probs()) == actions
    result = arena.play("rps-v0", [agent, "random"], seed=1)  # one round: the solver plays
    assert agent.learner is None and result.agent_stats[0] == {}


def test_bad_parameters_are_one_line_errors() -> None:
    with pytest.raises(ParameterError, match="eta must be positive"):
        arena.make_agent("ftrl(eta=-1)")
    with pytest.raises(ParameterError, match="step_size"):
        arena.make_agent("ftrl(step_size=0)")
    with pytest.raises(ParameterError, match="no parameter"):
        solve("rps-v0", "ftrl", 10, alpha=1.0)
