"""Tournaments end to end: configs, the deterministic schedule, backends that agree, resuming, exact analysis."""

import json

import pyspiel
import pytest
from open_spiel.python import policy as os_policy
from open_spiel.python.algorithms import exploitability as os_exploitability
from open_spiel.python.algorithms.expected_game_score import policy_value

import arena
from arena.cli import main
from arena.errors import ConfigError
from arena.specs import AgentSpec
from arena.tournaments import ResultsStore, load_config
from arena.tournaments.config import config_from_dict, public_spec
from arena.tournaments.schedule import build_schedule, match_id, match_seed, seatings

TOML = """
name = "demo"
games = 3
seed = 7
move_time_limit = 2
illegal_moves = "random"
envs = ["kuhn_poker-v0", {id = "rps-v0", params = {rounds = 5}}]

[[agents]]
name = "uniform"
spec = "random"

[[agents]]
spec = "fixed"
params = {action = 1}

[[agents]]
name = "llm-ish"
spec = "mix(probs={'0': 1}, api_key=sk-abc)"
"""


def _rows(db, name):
    with ResultsStore(db, readonly=True) as store:
        return {
            m["match_id"]: (m["seats"], m["seed"], m["payoffs"], m["termination"], m["length"], m["rounds"])
            for m in store.matches(name)
        }


def test_toml_config_is_parsed_and_secrets_stay_out_of_the_stored_form(tmp_path):
    path = tmp_path / "demo.toml"
    path.write_text(TOML)
    config = load_config(path)
    assert [e.text for e in config.envs] == ["kuhn_poker-v0", "rps-v0(rounds=5)"]
    assert [a.name for a in config.agents] == ["uniform", "fixed(action=1)", "llm-ish"]
    assert config.agents[2].spec == AgentSpec.parse("mix(probs={'0': 1}, api_key=sk-abc)")
    assert (config.games, config.seed, config.move_time_limit, config.illegal_moves) == (3, 7, 2.0, "random")
    stored = json.dumps(config.public_dict())
    assert "sk-abc" not in stored and "api_key" not in stored
    assert public_spec(AgentSpec.parse("llm(model=m, api_key=x, auth_token=y, PassWord=z, max=3)")) == AgentSpec.parse(
        "llm(model=m, max=3)"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("name = ", "not valid TOML"),
        ("name = 'x'\nenvs = ['rps-v0']\nagents = ['random']\ngamez = 3", "unknown config key(s): gamez"),
        ("name = 'x'\nenvs = ['rps-v0']\nagents = ['random', 'random']", "agent names must be unique"),
        ("name = 'x'\nenvs = ['rps-v0']\nagents = ['random']\ngames = 0", "games must be a positive integer"),
        ("name = 'x'\nenvs = ['rps-v0']\nagents = ['random']\nbackend = 'gpu'", "backend must be one of"),
        ("name = 'x'\nenvs = ['rps-v0']\nagents = ['randon', 'fixed']", "unknown agent 'randon'; did you mean random?"),
        ("name = 'x'\nenvs = ['rps-v1']\nagents = ['random', 'fixed']", "unknown env 'rps-v1'"),
        ("name = 'x'\nenvs = ['rps-v0']\nagents = ['fixed(actoin=1)']", "has no parameter 'actoin'"),
    ],
)
def test_bad_configs_give_one_line_and_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["tournament", str(path), "--db", str(tmp_path / "x.sqlite")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_schedule_ids_seeds_and_seat_orders():
    config = config_from_dict(
        {
            "name": "t",
            "envs": ["kuhn_poker-v0", "kuhn_poker-v0(players=3)"],
            "agents": ["random", "fixed", "mix(probs={'0': 1})"],
            "games": 2,
        }
    )
    tasks = build_schedule(config)
    two = [t for t in tasks if t.env.text == "kuhn_poker-v0"]
    three = [t for t in tasks if t.env.text != "kuhn_poker-v0"]
    assert len(two) == 2 * 6 and len(three) == 2 * 6  # 3 pairs x 2 orders; one trio x 3! orders
    assert len({t.seats for t in three}) == 6
    assert len({t.match_id for t in tasks}) == len(tasks)
    assert build_schedule(config) == tasks  # deterministic
    # the schedule hashes each id's common prefix once: every id and seed is still the one-at-a-time one
    assert all(t.match_id == match_id("t", t.env, t.seats, t.index) for t in tasks)
    assert all(t.seed == match_seed(config.seed, t.env, t.index) for t in tasks)
    # game k of an env has one seed for every pairing and seat order (common random numbers)
    assert len({t.seed for t in two if t.index == 0}) == 1 and len({t.seed for t in two}) == 2
    assert seatings(["a", "b"], 2, self_play=True, all_orders=True) == [("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]
    assert seatings(["a", "b", "c"], 2, self_play=False, all_orders=False) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_backends_and_worker_counts_give_identical_results(tmp_path):
    config = {
        "name": "same",
        "envs": ["kuhn_poker-v0", "rps-v0(rounds=8)"],
        "games": 4,
        "seed": 3,
        "agents": ["random", "fixed(action=1)", "mix(probs={'0': 0.6, '1': 0.4})"],
        "exploitability": "off",
    }
    arena.run_tournament(config, db=str(tmp_path / "a.sqlite"), backend="inprocess")
    run = arena.run_tournament(config, db=str(tmp_path / "b.sqlite"), backend="local", workers=2)
    assert run.workers == 2 and run.played == 48
    first, second = _rows(tmp_path / "a.sqlite", "same"), _rows(tmp_path / "b.sqlite", "same")
    assert first == second and len(first) == 48
    rps = [r for r in first.values() if r[5] is not None]
    assert len(rps) == 24 and all(len(r[5]["actions"][0]) == 8 for r in rps)


def test_resuming_plays_only_missing_matches_and_equals_one_run(tmp_path):
    base = {
        "name": "grow",
        "envs": ["kuhn_poker-v0"],
        "agents": ["random", "fixed(action=0)"],
        "seed": 5,
        "exploitability": "off",
        "backend": "inprocess",
    }
    db = str(tmp_path / "r.sqlite")
    assert arena.run_tournament({**base, "games": 3}, db=db).played == 6
    again = arena.run_tournament({**base, "games": 5}, db=db)
    assert (again.played, again.already_recorded, again.scheduled) == (4, 6, 10)
    assert arena.run_tournament({**base, "games": 5}, db=db).played == 0
    arena.run_tournament({**base, "games": 5}, db=str(tmp_path / "one.sqlite"))
    assert _rows(db, "grow") == _rows(tmp_path / "one.sqlite", "grow")
    with pytest.raises(ConfigError, match="different seed"):
        arena.run_tournament({**base, "games": 5, "seed": 6}, db=db)
    with pytest.raises(ConfigError, match="agent 'random' was random, now"):
        arena.run_tournament({**base, "agents": [{"name": "random", "spec": "fixed"}, "fixed(action=0)"]}, db=db)


def test_exploitability_and_exact_payoffs_match_openspiel(tmp_path):
    run = arena.run_tournament(
        {
            "name": "exact",
            "envs": ["kuhn_poker-v0"],
            "games": 2,
            "agents": ["random", "fixed(action=1)", "fixed(action=0)"],
            "backend": "inprocess",
        },
        db=str(tmp_path / "e.sqlite"),
    )
    game = pyspiel.load_game("kuhn_poker")
    uniform = os_policy.UniformRandomPolicy(game)

    def always(action):
        table = os_policy.TabularPolicy(game)
        table.action_probability_array[:] = 0.0
        table.action_probability_array[:, action] = 1.0
        return table

    expl = run.metrics["envs"]["kuhn_poker-v0"]["exploitability"]
    assert (
        expl["random"]["exact"]
        and abs(expl["random"]["value"] - os_exploitability.exploitability(game, uniform)) < 1e-9
    )
    assert abs(expl["fixed(action=1)"]["value"] - os_exploitability.exploitability(game, always(1))) < 1e-9
    pairs = {(p["agent"], p["opponent"]): p["exact_payoff"] for p in run.metrics["pairings"]}
    root = game.new_initial_state()
    expected = (policy_value(root, [uniform, always(1)])[0] + policy_value(root, [always(1), uniform])[1]) / 2
    assert abs(pairs[("random", "fixed(action=1)")] - expected) < 1e-9
    expected = (policy_value(root, [always(1), always(0)])[0] + policy_value(root, [always(0), always(1)])[1]) / 2
    assert abs(pairs[("fixed(action=1)", "fixed(action=0)")] - expected) < 1e-9


def test_command_line_tournament_json(tmp_path, capsys):
    db = str(tmp_path / "c.sqlite")
    code = main(
        [
            "tournament",
            "--env",
            "matching_pennies-v0",
            "--agents",
            "random",
            "fixed(action=0)",
            "--games",
            "4",
            "--backend",
            "inprocess",
            "--db",
            db,
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["played"] == out["scheduled"] == 8
    assert out["name"] == "matching_pennies-v0: random vs fixed(action=0)"  # named from its envs and agents
    assert {a["name"] for a in out["metrics"]["agents"]} == {"random", "fixed(action=0)"}
    again = ["tournament", "--env", "matching_pennies-v0", "--agents", "random", "fixed(action=0)", "--seed", "9"]
    assert main([*again, "--db", db]) == 2
    assert "was run with different seed" in capsys.readouterr().err


def test_team_seats_in_particle_worlds_and_duplicate_scoring(tmp_path):
    config = {
        "name": "tag",
        "envs": ["tag-v0"],
        "games": 3,
        "agents": ["random", "heuristic"],
        "backend": "inprocess",
        "scoring": "duplicate",
    }
    schedule = build_schedule(config_from_dict(config))
    assert {t.seats for t in schedule} == {("random", "heuristic"), ("heuristic", "random")} and len(schedule) == 6
    assert build_schedule(config_from_dict({**config, "teams": False})) == []  # 4 players, 2 agents, no self-play
    run = arena.run_tournament(config, db=str(tmp_path / "t.sqlite"))
    with ResultsStore(tmp_path / "t.sqlite", readonly=True) as store:
        rows = store.matches("tag")
    env = arena.make_env("tag-v0")
    for row in rows:  # a team's payoff is the sum of its members' payoffs in the same match played directly
        lineup = [row["seats"][team] for team in env.teams]
        direct = arena.play(env, lineup, seed=row["seed"]).payoffs
        expected = [sum(p for p, team in zip(direct, env.teams) if team == t) for t in (0, 1)]
        assert row["payoffs"] == pytest.approx(expected, abs=1e-9)
    assert run.metrics["scoring"] == "duplicate" and run.metrics["games"] == 3
    (pairing,) = run.metrics["pairings"]
    assert (pairing["agent"], pairing["opponent"], pairing["games"]) == ("random", "heuristic", 3)
    assert pairing["losses"] == 3  # the scripted predator-prey heuristic beats random play in both roles together
    with pytest.raises(ConfigError, match="different teams"):
        arena.run_tournament({**config, "teams": False, "games": 1}, db=str(tmp_path / "t.sqlite"))


def test_a_run_leaves_the_collector_as_it_found_it(tmp_path):
    """The match phase freezes what the process holds (its collections then skip it) and unfreezes it after; a
    caller that froze objects itself keeps them frozen."""
    import gc

    config = {"name": "t", "envs": ["rps-v0"], "agents": ["random", "fixed"], "games": 2, "exploitability": "off"}
    assert gc.get_freeze_count() == 0
    arena.run_tournament(config, db=str(tmp_path / "a.sqlite"), backend="inprocess")
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        arena.run_tournament(config, db=str(tmp_path / "b.sqlite"), backend="inprocess")
        assert gc.get_freeze_count() > frozen // 2  # still frozen (objects freed meanwhile leave the count)
    finally:
        gc.unfreeze()
