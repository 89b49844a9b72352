"""The tournament config: specs taken as values where they come in, and one schema behind the TOML keys, the
command-line options and the README's table."""

import re
from pathlib import Path

import arena
from arena.cli import main
from arena.tournaments import load_config
from arena.tournaments.config import config_table
from arena.tournaments.schedule import build_schedule

README = Path(__file__).parent.parent / "README.md"


def test_a_params_value_with_a_comma_stays_one_value(tmp_path):
    path = tmp_path / "comma.toml"
    path.write_text('envs = ["rps-v0"]\n[[agents]]\nspec = "fixed"\nparams = {action = "pass, bet"}\n')
    (entry,) = load_config(path).agents
    assert arena.make_agent(entry.spec).action == "pass, bet"


def test_a_string_params_value_stays_a_string(tmp_path):
    path = tmp_path / "strings.toml"
    path.write_text(
        'envs = [{id = "rps-v0", params = {rounds = 2}}]\n'
        '[[agents]]\nspec = "fixed"\nparams = {action = "true"}\n'
        '[[agents]]\nspec = "fixed"\nparams = {action = "1"}\n'
    )
    first, second = load_config(path).agents
    assert arena.make_agent(first.spec).action == "true" and arena.make_agent(second.spec).action == "1"
    assert first.name != second.name


def test_envs_equal_as_values_are_one_env(tmp_path):
    path = tmp_path / "same.toml"
    path.write_text(
        'envs = ["rps-v0(rounds=10)", "rps-v0( rounds = 10 )", {id = "rps-v0", params = {rounds = 10}}]\n'
        'agents = ["random", "fixed(action=0)"]\ngames = 2\n'
    )
    config = load_config(path)
    assert len(config.envs) == 1
    schedule = build_schedule(config)
    assert len(schedule) == 2 * 2 and len({t.match_id for t in schedule}) == 4
    run = arena.run_tournament(config, db=str(tmp_path / "s.sqlite"), backend="inprocess")
    assert run.played == 4 and list(run.metrics["envs"]) == ["rps-v0(rounds=10)"]


def test_options_left_out_keep_the_files_values_and_given_ones_override_them(tmp_path, capsys):
    path = tmp_path / "fixed.toml"
    path.write_text('envs = ["matching_pennies-v0"]\nagents = ["random", "fixed"]\ngames = 2\nseats = "fixed"\n')
    db = str(tmp_path / "o.sqlite")
    assert main(["tournament", str(path), "--backend", "inprocess", "--db", db, "--json"]) == 0
    assert '"scheduled": 2' in capsys.readouterr().out  # one seat order, from the file
    args = ["tournament", str(path), "--seats", "all", "--name", "all", "--backend", "inprocess", "--db", db]
    assert main([*args, "--json"]) == 0
    assert '"scheduled": 4' in capsys.readouterr().out


def test_the_readme_table_of_config_keys_is_the_schema():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Configuration (TOML)") :]
    table = re.search(r"^\| key \|.*?\n(?!\|)", section, re.S | re.M)
    assert table is not None and table.group(0) == config_table()
