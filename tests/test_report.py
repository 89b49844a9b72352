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
        "ratings.png",
        "regret_matching_pennies-v0_rounds_12.png",
        "winrate_kuhn_poker-v0.png",
        "winrate_matching_pennies-v0_rounds_12.png",
    ]
    assert all((tmp_path / "plots" / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in plots)
    page = html.read_text()
    assert page.count("data:image/png;base64,") == 5 and "http://" not in page and "https://" not in page
    assert "Meta-game equilibrium" in page and "Payoff matrix kuhn_poker-v0" in page


def test_report_json_and_tournament_selection(database, capsys):
    assert main(["report", str(database), "--json", "--tournament", "rep", "--bootstrap", "20"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tournament"] == "rep" and data["matches"] == 36
    kuhn = data["envs"]["kuhn_poker-v0"]
    assert abs(kuhn["exploitability"]["random"]["value"] - 0.4583333333333333) < 1e-9
    assert sum(kuhn["meta_game"]["nash"]) == pytest.approx(1.0)
    assert main(["report", str(database), "--tournament", "nope"]) == 2
    assert "no tournament 'nope'" in capsys.readouterr().err
