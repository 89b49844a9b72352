"""Rankings that fit the game: result kinds, payoff against the field (exact where it can be), the Davidson draw
model, the multi-env leaderboard, the meta-game with exact payoffs and intervals, alpha-Rank, honest regret verdicts,
labels and refusals."""

import importlib
import json
import math

import numpy as np
import pytest
import scipy.optimize

import arena
from arena.cli import main
from arena.errors import ConfigError
from arena.registry import Outcomes, env_outcomes
from arena.specs import AgentSpec, EnvSpec
from arena.tournaments import metagame, ratings, regret, statistics
from arena.tournaments.config import NAME_LIMIT, config_from_dict, load_config
from arena.tournaments.metrics import compute_metrics, env_scoring
from arena.tournaments.records import AgentRecord, Analysis, MatchRecord, StoredTournament
from arena.tournaments.report import ranking_rows, ranking_title, stats_rows

DEMO_SOLVERS = ("cfr+", "ftrl", "nash-mp")


def _match(env, seats, payoffs, idx=0, stats=None):
    n = len(seats)
    return MatchRecord(
        match_id="",
        env=EnvSpec.parse(env),
        seats=tuple(seats),
        index=idx,
        seed=idx,
        payoffs=tuple(float(p) for p in payoffs),
        outcomes=(None,) * n,
        termination="normal",
        culprit=None,
        message="",
        length=1,
        illegal_moves=(0,) * n,
        timeouts=(0,) * n,
        errors=(0,) * n,
        random_fallbacks=(0,) * n,
        wall_time=0.0,
        agent_stats=tuple(stats or ({},) * n),
    )


def _stored(matches, names, analyses=(), **config):
    envs = list(dict.fromkeys(m.env for m in matches))
    agents = [AgentRecord(n, AgentSpec.parse("random")) for n in names]
    return StoredTournament("t", {"seed": 0, **config}, envs, agents, matches, list(analyses))


# ---------------------------------------------------------------------------------------------------------------
# What a result means


def test_envs_declare_what_their_results_mean():
    assert env_outcomes("kuhn_poker-v0") == Outcomes("amounts", chance=True)
    assert env_outcomes("rps-v0(rounds=10)").kind == "amounts"
    assert env_outcomes("prisoners_dilemma-v0").kind == "general-sum"
    assert env_outcomes("tic_tac_toe-v0").kind == env_outcomes("connect_four-v0").kind == "win-draw-loss"
    assert env_outcomes("spread-v0") == Outcomes("cooperative", chance=True)
    assert env_outcomes("tag-v0").kind == "general-sum"
    # OpenSpiel games through the loader: from pyspiel's game type
    assert env_outcomes("openspiel:tic_tac_toe") == Outcomes("win-draw-loss")
    assert env_outcomes("openspiel:leduc_poker") == Outcomes("amounts", chance=True)
    poker = env_outcomes('openspiel:universal_poker(blind="100 50")')
    assert poker.kind == "amounts" and poker.big_blind == 100.0
    assert env_outcomes("openspiel:matrix_pd").kind == "general-sum"
    listed = {e.id: e.to_dict()["results"] for e in arena.list_envs()}
    assert listed["kuhn_poker-v0"] == "amounts" and listed["tic_tac_toe-v0"] == "win-draw-loss"
    assert env_outcomes("no_such_env-v0") == Outcomes()  # what an unknown env gets: mean payoff, no win rate
    with pytest.raises(arena.ArenaError):
        Outcomes("wins")  # type: ignore[arg-type]


def test_a_registered_env_may_declare_its_result_kind_by_name():
    arena.register_env("outcomes_probe-v0", "arena.envs.matrix:rps", num_players=2, outcomes="win-draw-loss")
    assert env_outcomes("outcomes_probe-v0") == Outcomes("win-draw-loss")


def test_duplicate_scoring_is_the_default_where_chance_deals():
    assert env_scoring("auto", Outcomes("amounts", chance=True), all_orders=True) == "duplicate"
    assert env_scoring("auto", Outcomes("amounts", chance=True), all_orders=False) == "match"
    assert env_scoring("auto", Outcomes("win-draw-loss"), all_orders=True) == "match"
    assert env_scoring("match", Outcomes("amounts", chance=True), all_orders=True) == "match"
    assert config_from_dict({"envs": ["rps-v0"], "agents": ["random"]}).scoring == "auto"


# ---------------------------------------------------------------------------------------------------------------
# The Davidson draw model


def _simulate(strengths, nu, games, seed=0):
    rng = np.random.default_rng(seed)
    p = np.exp(strengths)
    out = []
    for k in range(games):
        i, j = rng.choice(len(p), 2, replace=False)
        z = p[i] + p[j] + nu * math.sqrt(p[i] * p[j])
        u = rng.random()
        out.append(ratings.Outcome(k, int(i), int(j), 1.0 if u < p[i] / z else 0.0 if u < (p[i] + p[j]) / z else 0.5))
    return out


def test_the_davidson_draw_model_recovers_known_strengths_on_simulated_games():
    truth = np.array([0.0, 0.6, 1.2, -0.8])
    fit = ratings.davidson(list("abcd"), _simulate(truth, 0.8, 12000), 12000, num_bootstrap=60)
    got = np.array([(r.rating - ratings.BASE) / ratings.SCALE for r in fit.ratings])
    assert np.abs(got - (truth - truth.mean())).max() < 0.06 and abs(fit.draw_parameter - 0.8) < 0.05
    centred = ratings.BASE + ratings.SCALE * (truth - truth.mean())
    assert all(r.lower <= t <= r.upper for r, t in zip(fit.ratings, centred))  # the intervals cover the truth
    assert [r.rank for r in fit.ratings] == [3, 2, 1, 4]


def _independent_nll(x, wins, draws):
    """The Davidson negative log-likelihood written out pair by pair (with the same weak priors)."""
    n = len(wins)
    theta, nu = x[:-1], math.exp(x[-1])
    total = 0.0
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            z = math.exp(theta[i]) + math.exp(theta[j]) + nu * math.exp((theta[i] + theta[j]) / 2)
            total += wins[i, j] * (theta[i] - math.log(z))
            if i < j:
                total += draws[i, j] * (math.log(nu) + (theta[i] + theta[j]) / 2 - math.log(z))
    return -(total - 0.5 * ratings.PRIOR * (theta @ theta + x[-1] ** 2))


def test_the_davidson_fit_is_the_maximum_of_the_likelihood_written_out():
    wins = np.array([[0, 7, 3], [2, 0, 5], [1, 4, 0]], dtype=float)
    draws = np.array([[0, 3, 1], [3, 0, 2], [1, 2, 0]], dtype=float)
    point, nu = ratings.fit_davidson(wins, draws)
    best = scipy.optimize.minimize(_independent_nll, np.zeros(4), args=(wins, draws), method="Nelder-Mead",
                                   options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})  # fmt: skip
    theta = best.x[:-1] - best.x[:-1].mean()
    assert np.allclose((point - ratings.BASE) / ratings.SCALE, theta, atol=1e-4)
    assert abs(math.log(nu) - best.x[-1]) < 1e-4
    no_draws = ratings.fit_davidson(wins, np.zeros_like(draws))
    assert no_draws[1] == 0.0 and np.allclose(no_draws[0], ratings.fit_bradley_terry(wins))


def test_win_draw_loss_envs_are_ranked_by_the_davidson_rating():
    env = "tic_tac_toe-v0"
    matches = []
    for k in range(30):  # a beats b 20 times, 10 draws; b and c always draw; a beats c
        matches.append(_match(env, ("a", "b"), (1, -1) if k < 20 else (0, 0), k))
        matches.append(_match(env, ("b", "c"), (0, 0), k))
        matches.append(_match(env, ("c", "a"), (-1, 1), k))
    metrics = compute_metrics(_stored(matches, ["a", "b", "c"]), num_bootstrap=20)
    ranking = metrics["envs"][env]["ranking"]
    assert ranking["method"] == "rating" and ranking["kind"] == "win-draw-loss" and ranking["draw_parameter"] > 0
    assert [a["name"] for a in metrics["agents"]][0] == "a" and metrics["agents"][0]["rank"] == 1
    assert "Davidson" in ranking_title(metrics, metrics["ranking"])


# ---------------------------------------------------------------------------------------------------------------
# Payoff against the field, exact where it can be


def test_the_field_payoff_uses_exact_pairings_and_says_so():
    env = "kuhn_poker-v0"
    matches = [_match(env, ("a", "b"), (2, -2), k) for k in range(5)] + [_match(env, ("b", "a"), (1, -1), 9)]
    matches += [_match(env, ("a", "c"), (1, -1), k) for k in range(4)] + [_match(env, ("c", "a"), (-1, 1), 3)]
    exact = [Analysis("exact_payoff", EnvSpec.parse(env), "a\nb", 0.25)]
    metrics = compute_metrics(_stored(matches, ["a", "b", "c"], exact, scoring="match"), num_bootstrap=10)
    rows = {r["name"]: r for r in metrics["envs"][env]["ranking"]["rows"]}
    # a: exact +0.25 against b, sampled +1 against c; b: exact -0.25 against a (zero-sum) and nothing else
    assert rows["a"]["value"] == pytest.approx((0.25 + 1.0) / 2) and rows["b"]["value"] == pytest.approx(-0.25)
    assert rows["b"]["exact"] is True and rows["b"]["lower"] == rows["b"]["upper"] and rows["a"]["exact"] is False
    assert metrics["envs"][env]["ranking"]["exact"] == "some"
    assert "exact where both agents have action_probs" in ranking_title(metrics, metrics["ranking"])
    header, table = ranking_rows(metrics)
    assert header[2] == "payoff per game vs field [95% CI]" and "(exact)" in table[[r[1] for r in table].index("b")][2]


def test_poker_with_blinds_is_also_shown_in_milli_big_blinds_per_hand():
    env = 'openspiel:universal_poker(blind="100 50")'
    matches = [_match(env, ("a", "b"), (150, -150), k) for k in range(3)]
    matches += [_match(env, ("b", "a"), (-50, 50), k) for k in range(3)]
    metrics = compute_metrics(_stored(matches, ["a", "b"], scoring="match"), num_bootstrap=10)
    rows = {r["name"]: r for r in metrics["envs"][EnvSpec.parse(env).text]["ranking"]["rows"]}
    assert rows["a"]["value"] == pytest.approx(100.0) and rows["a"]["mbb_per_hand"][0] == pytest.approx(1000.0)
    assert "mbb/hand [95% CI]" in ranking_rows(metrics)[0]


def test_general_sum_envs_have_no_win_rate_headline_and_get_alpha_rank():
    env = "prisoners_dilemma-v0"
    matches = [_match(env, ("d", "c"), (5, 0), k) for k in range(4)] + [_match(env, ("c", "d"), (0, 5), 1)]
    matches += [_match(env, ("d", "c2"), (5, 0), k) for k in range(4)]
    metrics = compute_metrics(_stored(matches, ["d", "c", "c2"]), num_bootstrap=10)
    header, _ = ranking_rows(metrics)
    assert "win rate [95% CI]" not in header and "W-D-L" not in header
    assert metrics["envs"][env]["analysis_column"] == "nash_conv"
    alpha = metrics["envs"][env]["alpha_rank"]
    assert alpha["agents"][int(np.argmax(alpha["mass"]))] == "d"


def test_the_analysis_column_is_named_after_what_it_holds():
    two = [_match("kuhn_poker-v0", ("a", "b"), (1, -1), k) for k in range(2)]
    three = [_match("kuhn_poker-v0(players=3)", ("a", "b", "c"), (1, -0.5, -0.5), k) for k in range(2)]
    analyses = [
        Analysis("exploitability", EnvSpec.parse("kuhn_poker-v0"), "a", {"value": 0.1, "exact": True}),
        Analysis("exploitability", EnvSpec.parse("kuhn_poker-v0(players=3)"), "a", {"value": 0.2, "exact": True}),
    ]
    metrics = compute_metrics(_stored(two + three, ["a", "b", "c"], analyses), num_bootstrap=5)
    header, _ = ranking_rows(metrics)
    assert "exploitability kuhn_poker" in header and "NashConv kuhn_poker(players=3)" in header
    assert "exploitability kuhn_poker(players=3)" not in header


def test_no_ranking_is_fitted_over_agents_that_were_never_compared():
    env = "rps-v0"
    matches = [_match(env, ("a", "b"), (1, -1), k) for k in range(3)] + [
        _match(env, ("c", "d"), (1, -1), k) for k in range(3)
    ]
    metrics = compute_metrics(_stored(matches, ["a", "b", "c", "d"]), num_bootstrap=5)
    ranking = metrics["envs"][env]["ranking"]
    assert ranking["rows"] == [] and ranking["never_compared"] == [["a", "b"], ["c", "d"]]
    assert all(a["rank"] is None and a["bradley_terry"] is None and a["elo"] is None for a in metrics["agents"])
    assert metrics["ranking"]["never_compared"] == [["a", "b"], ["c", "d"]]
    header, rows = ranking_rows(metrics)
    assert all(r[0] == "-" for r in rows)


def test_the_leaderboard_fits_one_model_over_all_envs_with_each_env_weighing_the_same():
    big = [_match("rps-v0", ("x", "y"), (1, -1) if k % 10 else (-1, 1), k) for k in range(200)]  # x wins 90%
    small = [_match("matching_pennies-v0", ("x", "y"), (-1, 1) if k % 10 else (1, -1), k) for k in range(20)]
    metrics = compute_metrics(_stored(big + small, ["x", "y"]), num_bootstrap=20)
    board = {r["name"]: r for r in metrics["leaderboard"]["rows"]}
    assert abs(board["x"]["value"] - board["y"]["value"]) < 1.0  # 9:1 one way on one env, 9:1 the other way
    assert metrics["ranking"]["scope"] == "all envs" and {r["rank"] for r in board.values()} == {1}
    unweighted = metrics["agents"][0]["bradley_terry"]  # the classic fit counts games: x far ahead
    assert metrics["agents"][0]["name"] == "x" or unweighted["rating"] < 1000


@pytest.mark.slow
def test_the_demo_puts_the_near_equilibrium_solvers_in_rank_one(tmp_path):
    config = load_config("examples/kuhn.toml").replace(games=4, backend="inprocess", db=str(tmp_path / "d.sqlite"))
    run = arena.run_tournament(config)
    rows = {a["name"]: a for a in run.metrics["agents"]}
    assert run.metrics["ranking"]["method"] == "payoff" and run.metrics["ranking"]["exact"] == "all"
    assert all(rows[s]["rank"] == 1 for s in DEMO_SOLVERS)
    assert rows["always-bet"]["rank"] > 1 and rows["random"]["rank"] > rows["always-bet"]["rank"]
    assert [a["name"] for a in run.metrics["agents"]][-2:] == ["always-bet", "random"]
    meta = run.metrics["envs"]["kuhn_poker-v0"]["meta_game"]
    assert meta["nash"][meta["agents"].index("cfr+")] == pytest.approx(1.0, abs=1e-9)  # the exact meta-game
    assert run.metrics["envs"]["kuhn_poker-v0"]["scoring"] == "duplicate"


# ---------------------------------------------------------------------------------------------------------------
# The meta-game


def _direct_lp(matrix):
    """max v s.t. p^T A >= v, p in the simplex: the row player's maximin strategy, written out for linprog."""
    n = len(matrix)
    result = scipy.optimize.linprog(
        np.append(np.zeros(n), -1.0),
        A_ub=np.hstack([-matrix.T, np.ones((n, 1))]),
        b_ub=np.zeros(n),
        A_eq=[np.append(np.ones(n), 0.0)],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)],
        method="highs-ds",
    )
    return result.x[:n], result.x[-1]


def test_the_exact_meta_game_agrees_with_a_direct_lp_on_the_exact_payoffs():
    tree, policy, exploitability = (
        importlib.import_module(f"arena.games.{m}") for m in ("tree", "policy", "exploitability")
    )
    game = tree.load("kuhn_poker-v0")
    specs = {"cfr+": "cfr_plus(iterations=300)", "random": "random", "always-bet": "fixed(action=Bet)"}
    policies = {n: policy.policy_from_agent(game, arena.make_agent(s)) for n, s in specs.items()}
    names = list(specs)
    exact, matches = {}, []
    env = EnvSpec.parse("kuhn_poker-v0")
    matrix = np.zeros((3, 3))
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i < j:
                first = exploitability.expected_payoffs(game, [policies[a], policies[b]])[0]
                second = exploitability.expected_payoffs(game, [policies[b], policies[a]])[1]
                exact[(env, a, b)] = (first + second) / 2
                matrix[i, j], matrix[j, i] = exact[(env, a, b)], -exact[(env, a, b)]
                matches += [_match("kuhn_poker-v0", (a, b), (2, -2), k) for k in range(3)]  # noise the exact hides
    meta = metagame.meta_game(names, matches, exact, zero_sum=True, num_bootstrap=50)
    p, value = _direct_lp(matrix)
    assert np.allclose(meta.margin, matrix, atol=1e-12) and all(
        all(row[k] for k in range(3) if k != r) for r, row in enumerate(meta.exact)
    )
    assert np.allclose(meta.nash, p, atol=1e-9) and abs(meta.value - value) < 1e-9
    assert meta.nash[0] == pytest.approx(1.0, abs=1e-9)  # CFR+ is the pure equilibrium
    assert meta.bootstrap == 0 and meta.nash_ci[0] == (meta.nash[0], meta.nash[0])  # nothing to resample


def test_sampled_meta_games_have_bootstrap_intervals_for_nash_weights_and_scores():
    rng = np.random.default_rng(0)
    names = ["r", "p", "s"]
    beats = {("p", "r"), ("s", "p"), ("r", "s")}
    matches = []
    for k in range(40):
        for a, b in [("r", "p"), ("p", "s"), ("s", "r")]:
            won = (a, b) in beats
            noise = rng.normal(0, 0.5)
            matches.append(_match("rps-v0", (a, b), (1 + noise, -1 - noise) if won else (-1 + noise, 1 - noise), k))
    meta = metagame.meta_game(names, matches, num_bootstrap=100)
    assert meta.bootstrap == 100
    for k in range(3):
        low, high = meta.nash_ci[k]
        assert low <= meta.nash[k] + 1e-9 and meta.nash[k] <= high + 1e-9 and high > low
        a_low, a_high = meta.nash_averaging_ci[k]
        assert a_low <= meta.nash_averaging[k] + 1e-9 <= a_high + 2e-9


def test_alpha_rank_matches_openspiel():
    alpharank = importlib.import_module("open_spiel.python.egt.alpharank")
    rng = np.random.default_rng(3)
    for _ in range(3):
        payoffs = rng.normal(size=(4, 4))
        expected = alpharank.compute([payoffs], m=50, alpha=2.0)[2]
        assert np.allclose(metagame.alpha_rank(payoffs, alpha=2.0), expected, atol=1e-9)
    dominated = np.array([[0, 1, 1], [-1, 0, 1], [-1, -1, 0.0]])
    assert metagame.alpha_rank(dominated)[0] > 0.999
    assert np.allclose(metagame.alpha_rank(np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0.0]])), 1 / 3)


# ---------------------------------------------------------------------------------------------------------------
# Honest verdicts


def _curves(curve, copies=8, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(copies):
        c = curve + (np.cumsum(rng.normal(0, noise, len(curve))) if noise else 0.0)
        out.append(regret.RegretCurves(c, c))
    return out


def test_sublinearity_verdicts_from_the_exponents_interval():
    t = np.arange(1, 201, dtype=float)
    assert regret.regret_summary(_curves(2 * np.sqrt(t))).sublinear == "yes"  # slope 0.5
    assert regret.regret_summary(_curves(1.34 * t)).sublinear == "no"  # slope 1.0
    assert regret.regret_summary(_curves(0.01 * t, noise=1.0)).sublinear == "inconclusive"  # 1.0 plus noise
    assert regret.regret_summary(_curves(2 * np.sqrt(t), copies=1)).sublinear == "inconclusive"  # no interval
    assert abs(regret.growth_exponent(3 + 2 * t**0.7) - 0.7) < 1e-3


def test_linear_regret_with_a_head_start_is_not_called_sublinear():
    """Always-cooperate in the prisoner's dilemma: regret 1.34 per round, plainly linear; the log-log fit of the
    whole curve gives a slope below 1 (the head start), which the old verdict called sublinear."""
    t = np.arange(1, 201, dtype=float)
    curve = 5.0 + 1.34 * t
    summary = regret.regret_summary(_curves(curve))
    assert summary.loglog_slope < 0.99 and summary.sublinear == "no"
    assert summary.growth_exponent == pytest.approx(1.0, abs=1e-3)


# ---------------------------------------------------------------------------------------------------------------
# Labels and refusals


def test_agent_statistics_sum_counts_and_average_means():
    stats = [({"mean_reward": 0.5, "rounds": 100, "tokens": 7}, {}), ({"mean_reward": 1.5, "rounds": 100}, {})]
    matches = [_match("rps-v0", ("a", "b"), (0, 0), k, stats=stats[k]) for k in range(2)]
    summary = statistics.agent_summaries(["a", "b"], matches)["a"]
    assert summary.stats == {"mean_reward": 1.0, "rounds": 200.0, "tokens": 7.0}
    assert summary.stat_kinds == {"mean_reward": "mean", "rounds": "total", "tokens": "total"}
    metrics = compute_metrics(_stored(matches, ["a", "b"]), num_bootstrap=5)
    header, rows = stats_rows(metrics)
    assert "mean_reward (mean per match)" in header and "rounds (total)" in header
    assert "mean_reward (total)" not in header
    assert rows[[r[0] for r in rows].index("a")][header.index("mean_reward (mean per match)")] == "1.000"


def test_rank_by_in_the_config_and_on_the_command_line(tmp_path, capsys):
    assert config_from_dict({"envs": ["rps-v0"], "agents": ["random"], "rank_by": "nash"}).rank_by == "nash"
    with pytest.raises(ConfigError, match="rank_by must be one of"):
        config_from_dict({"envs": ["rps-v0"], "agents": ["random"], "rank_by": "elo"})
    db = str(tmp_path / "r.sqlite")
    args = ["tournament", "--env", "rps-v0", "--agents", "random", "fixed(action=0)", "fixed(action=1)"]
    assert main([*args, "--games", "3", "--backend", "inprocess", "--db", db, "--rank-by", "nash", "--json"]) == 0
    ranking = json.loads(capsys.readouterr().out)["metrics"]["ranking"]
    assert ranking["method"] == "nash" and ranking["requested"] == "nash"
    for method in ("payoff", "runoff", "rating"):
        assert main(["report", db, "--rank-by", method, "--json", "--bootstrap", "5"]) == 0
        assert json.loads(capsys.readouterr().out)["ranking"]["method"] == method
    with pytest.raises(SystemExit) as refused:
        main(["report", db, "--rank-by", "elo"])
    assert refused.value.code == 2 and "invalid choice: 'elo'" in capsys.readouterr().err


def test_command_line_tournaments_are_named_from_their_envs_and_agents(tmp_path, capsys):
    db = str(tmp_path / "n.sqlite")
    base = ["tournament", "--agents", "random", "fixed(action=0)", "--games", "1", "--backend", "inprocess"]
    names = []
    for extra in (["--env", "rps-v0"], ["--env", "matching_pennies-v0"], ["--env", "rps-v0", "--name", "mine"]):
        assert main([*base, *extra, "--db", db, "--json"]) == 0
        names.append(json.loads(capsys.readouterr().out)["name"])
    assert names == ["rps-v0: random vs fixed(action=0)", "matching_pennies-v0: random vs fixed(action=0)", "mine"]
    many = [f"mix(probs={{'rock': {k}, 'paper': 1}})" for k in range(1, 40)]
    named = config_from_dict({"envs": ["rps-v0"], "agents": many}).name
    assert len(named) <= NAME_LIMIT and named.startswith("rps-v0: mix(") and "#" in named
    assert config_from_dict({"envs": ["rps-v0"], "agents": many[:-1]}).name != named


def test_python_tournaments_without_a_name_are_named_from_their_envs_and_agents(tmp_path):
    db = str(tmp_path / "p.sqlite")
    for env in ("rps-v0", "matching_pennies-v0"):
        run = arena.run_tournament({"envs": [env], "agents": ["random", "fixed(action=1)"], "games": 1}, db=db,
                                   backend="inprocess")  # fmt: skip
        assert run.name == f"{env}: random vs fixed(action=1)" and run.played == 2
    assert config_from_dict({"envs": ["rps-v0"], "agents": ["random"], "name": "x"}).name == "x"


@pytest.mark.parametrize("size", [["--games", "0"], ["--games", "-2"], ["--workers", "-1"]])
def test_nonsensical_sizes_are_refused(tmp_path, capsys, size):
    args = ["tournament", "--env", "rps-v0", "--agents", "random", "fixed(action=0)", "--db", str(tmp_path / "x")]
    assert main([*args, *size]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "must be" in err[0]
