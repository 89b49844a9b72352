"""`arena solve` and `arena exploitability` through the real command line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from arena.cli import main


def test_solve_writes_curve_plot_and_policies(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "solve",
            "kuhn_poker-v0",
            "--solver",
            "cfr",
            "cfr_plus",
            "--iterations",
            "50",
            "--eval-every",
            "10",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metric"] == "exploitability"
    assert [p["iteration"] for p in report["solvers"]["cfr"]["curve"]] == [10, 20, 30, 40, 50]
    assert report["solvers"]["cfr_plus"]["final"] < report["solvers"]["cfr"]["final"] < 0.1
    rows = list(csv.DictReader((out / "curve.csv").open()))
    assert len(rows) == 10 and {r["solver"] for r in rows} == {"cfr", "cfr_plus"}
    assert (out / "kuhn_poker-v0-exploitability.png").stat().st_size > 1000
    code = main(["exploitability", "kuhn_poker-v0", "--agent", str(out / "policy-cfr_plus.json"), "--json"])
    assert code == 0
    measured = json.loads(capsys.readouterr().out)
    assert measured["exact"] and measured["exploitability"] == pytest.approx(report["solvers"]["cfr_plus"]["final"])


def test_solve_text_output_and_params(tmp_path, capsys):
    assert main(["solve", "rps-v0", "--solver", "cfr", "--iterations", "20", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "exploitability" in printed and "cfr" in printed
    assert (
        main(
            [
                "solve",
                "rps-v0",
                "--solver",
                "cfr",
                "--iterations",
                "5",
                "--param",
                "cfr.alpha=1",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "no parameter 'alpha'" in capsys.readouterr().err


def test_exploitability_exact_and_sampled(capsys):
    assert main(["exploitability", "kuhn_poker-v0", "--agent", "random", "--json"]) == 0
    exact = json.loads(capsys.readouterr().out)
    assert exact["exploitability"] == pytest.approx(11 / 24) and exact["nash_conv"] == pytest.approx(11 / 12)
    assert [p["best_response_value"] for p in exact["players"]] == pytest.approx([0.5, 5 / 12])
    assert main(["exploitability", "kuhn_poker-v0(players=3)", "--agent", "random", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nash_conv"] == pytest.approx(2.0625)
    assert main(["exploitability", "kuhn_poker-v0", "--agent", "games_oracle:FirstLegal", "--samples", "20"]) == 0
    printed = capsys.readouterr().out
    assert "20 sampled actions" in printed and "standard error" in printed
    assert main(["exploitability", "kuhn_poker-v0", "--agent", "games_oracle:FirstLegal", "--json"]) == 0
    sampled = json.loads(capsys.readouterr().out)
    # a deterministic agent: every sample agrees, so the estimate is exact and its standard error zero
    assert not sampled["exact"] and sampled["standard_error"] == 0.0 and sampled["exploitability"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "kuhn_pokr-v0", "--solver", "cfr", "--iterations", "5"], "did you mean"),
        (["solve", "kuhn_poker-v0", "--solver", "nope", "--iterations", "5"], "unknown solver"),
        (["solve", "kuhn_poker-v0", "--solver", "cfr", "--iterations", "0"], "at least 1"),
        (["solve", "kuhn_poker-v0", "--solver", "cfr", "--iterations", "5", "--param", "x"], "bad --param"),
        (["exploitability", "kuhn_poker-v0", "--agent", "nobody"], "unknown agent"),
        (["exploitability", "connect_four(rows=x)", "--agent", "random"], "connect_four"),
    ],
)
def test_bad_input_exits_2(argv, message, capsys, tmp_path):
    if argv[0] == "solve":
        argv = [*argv, "--out", str(tmp_path)]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_console_script(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "arena.cli", "exploitability", "leduc_poker-v0", "--agent", "random", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(run.stdout)["nash_conv"] == pytest.approx(4.747222222222222)
