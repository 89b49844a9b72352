"""Reports: the ranking table, CSV files, PNG plots and a self-contained HTML file from a results database."""

import csv
import json

import pytest

import arena
from arena.cli import main


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = tmp_path_factory.mktemp("report") / "r.sqlite"
    arena.run_tournament(
        {
            "name": "rep",
            "envs": ["kuhn_poker-v0", "matching_pennies-v0(rounds=12)"],
            "games": 3,
            "backend": "inprocess",
            "agents": ["random", "fixed(action=1)", "fixed(action=0)"],
        },
        db=str(db),
    )
    return db


def test_report_writes_csv_plots_and_one_self_contained_html(database, tmp_path, capsys):
    html = tmp_path / "out" / "report.html"
    code = main(
        [
            "report",
            str(database),
            "--csv",
            str(tmp_path / "csv"),
            "--plots",
            str(tmp_path / "plots"),
            "--html",
            str(html),
            "--bootstrap",
            "50",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "rep: 36 matches" in out and "head to head" in out and "regret in repeated games" in out
    with (tmp_path / "csv" / "ranking.csv").open() as handle:
        ranking = list(csv.DictReader(handle))
    assert {r["agent"] for r in ranking} == {"random", "fixed(action=1)", "fixed(action=0)"}
    assert ranking[0]["exploitability kuhn_poker"] and "regret/round matching_pennies(rounds=12)" in ranking[0]
    assert (tmp_path / "csv" / "payoff_matrix_kuhn_poker-v0.csv").exists()
    plots = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert plots == [
        "exploitability.png",
        "ranking.png",
        "regret_matching_pennies-v0_rounds_12.png",
        "winrate_kuhn_poker-v0.png",
        "winrate_matching_pennies-v0_rounds_12.png",
    ]
    assert all((tmp_path / "plots" / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in plots)
    page = html.read_text()
    assert page.count("data:image/png;base64,") == 5 and "http://" not in page and "https://" not in page
    assert "Meta-game equilibrium" in page and "Payoff matrix kuhn_poker-v0" in page
    # what a reader needs to hand the report on: method, seeds, versions, config, meanings, seat-level results
    assert "How these numbers were made" in page and "master seed 0" in page and "open_spiel" in page
    assert f"played with arena {arena.__version__}" in page
    assert "What each metric means" in page and "Results by seat" in page and "first player" in page
    assert "overflow-x:auto" in page and "<div class='scroll'>" in page  # wide tables scroll
    headings = [h for h in page.split("<h2>")[1:] if "<img" in h]
    assert len(headings) == 5 and not any(".png" in h.split("</h2>")[0] for h in headings)
    assert all(" " in h.split("</h2>")[0] for h in headings)  # sentences, not file names


def test_report_json_and_tournament_selection(database, capsys):
    assert main(["report", str(database), "--json", "--tournament", "rep", "--bootstrap", "20"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tournament"] == "rep" and data["matches"] == 36
    assert data["config"]["seed"] == 0 and data["seeds"]["master"] == 0 and data["versions"]["arena"]
    assert data["versions"]["open_spiel"] and data["rank_by"] == "auto" and data["ranking"]["method"] == "rating"
    assert data["played_with"]["arena"] == arena.__version__  # the version that ran it, stored with the tournament
    assert data["leaderboard"]["envs"] == ["kuhn_poker-v0", "matching_pennies-v0(rounds=12)"]
    assert set(data["meanings"]) >= {"payoff", "rating", "exploitability", "nash_conv", "sublinear"}
    kuhn_seats = data["envs"]["kuhn_poker-v0"]["seats"]
    assert [s["seat"] for s in kuhn_seats] == [0, 1] and set(kuhn_seats[0]["agents"]) == {
        "random",
        "fixed(action=1)",
        "fixed(action=0)",
    }
    kuhn = data["envs"]["kuhn_poker-v0"]
    assert abs(kuhn["exploitability"]["random"]["value"] - 0.4583333333333333) < 1e-9
    assert sum(kuhn["meta_game"]["nash"]) == pytest.approx(1.0)
    assert main(["report", str(database), "--tournament", "nope"]) == 2
    assert "no tournament 'nope'" in capsys.readouterr().err


def test_piped_output_prints_full_tables_without_squeezing(database, capsys):
    """Not a terminal: every table at its natural width (before, rich folded them into 80-160 columns)."""
    assert main(["report", str(database), "--tournament", "rep", "--bootstrap", "5"]) == 0
    out = capsys.readouterr().out
    assert "mean payoff matching_pennies(rounds=12)" in out  # a header in one piece, not folded over lines
    assert "regret/round matching_pennies(rounds=12)" in out


def test_a_database_with_several_tournaments_lists_them_and_reports_the_one_asked_for(tmp_path, capsys):
    db = str(tmp_path / "two.sqlite")
    for env in ("matching_pennies-v0", "rps-v0"):
        args = ["tournament", "--env", env, "--agents", "random", "fixed(action=0)", "--games", "2"]
        assert main([*args, "--backend", "inprocess", "--db", db, "--json"]) == 0
    out = capsys.readouterr().out
    assert main(["report", db]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds 2 tournaments" in err[0] and "--tournament" in err[0] and "--all" in err[0]
    assert "matching_pennies-v0: random vs fixed(action=0)" in err[0] and "rps-v0: random vs fixed(action=0)" in err[0]
    assert main(["report", db, "--tournament", "rps-v0: random vs fixed(action=0)", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tournament"] == "rps-v0: random vs fixed(action=0)"
    assert main(["report", db, "--all", "--json", "--bootstrap", "5"]) == 0
    both = json.loads(capsys.readouterr().out)["tournaments"]
    assert [t["tournament"] for t in both] == [
        "matching_pennies-v0: random vs fixed(action=0)",
        "rps-v0: random vs fixed(action=0)",
    ]
    assert all(t["matches"] == 4 for t in both) and out  # never merged under one name


@pytest.mark.parametrize("replicates", ["1", "0", "-3"])
def test_bootstrap_of_fewer_than_two_replicates_is_refused(database, capsys, replicates):
    assert main(["report", str(database), "--tournament", "rep", "--bootstrap", replicates]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "at least 2" in err[0]


def test_compute_metrics_refuses_fewer_than_two_replicates(database):
    from arena.errors import ConfigError
    from arena.tournaments import ResultsStore
    from arena.tournaments.metrics import compute_metrics

    with ResultsStore(database, readonly=True) as store:
        stored = store.tournament("rep")
    with pytest.raises(ConfigError, match="at least 2"):
        compute_metrics(stored, num_bootstrap=1)
