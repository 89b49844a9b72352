"""`arena train` end to end, the files it writes, checkpoints as agents in matches, and bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

import arena
from arena.agents.marl.runner import interquartile_mean, summarize
from arena.cli import main
from arena.errors import ConfigError, ParameterError


def test_train_writes_run_directory_and_checkpoint_plays(tmp_path, capsys):
    out = tmp_path / "stag"
    code = main(
        [
            "train",
            "stag_hunt-v0",
            "--algo",
            "ippo",
            "--steps",
            "256",
            "--envs",
            "16",
            "--eval-every",
            "128",
            "--eval-episodes",
            "8",
            "--set",
            "rollout_steps=4",
            "--set",
            "epochs=2",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["algo"] == "ippo" and report["runs"] == 1
    assert {p.name for p in out.iterdir()} >= {"config.json", "metrics.csv", "metrics.json", "best.pt", "last.pt"}
    config = json.loads((out / "config.json").read_text())
    assert config["hyperparameters"]["rollout_steps"] == 4 and config["env_id"] == "stag_hunt-v0"
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert int(rows[-1]["env_steps"]) >= 256 and {"entropy", "steps_per_sec"} <= set(rows[0])
    assert sum(1 for r in rows if r["eval_return"]) >= 2
    metrics = json.loads((out / "metrics.json").read_text())
    run = metrics["arena"]["stag_hunt-v0"]["ippo"]["seed_0"]
    assert len(run["absolute_metrics"]["return"]) == 80 and run["step_0"]["step_count"] > 0
    # The checkpoint is an agent, with the exact strategy of the trained policy.
    result = arena.play("stag_hunt-v0", [f"checkpoint:{out}/best.pt", f"checkpoint:{out}/best.pt(greedy=true)"], seed=0)
    assert result.termination == "normal" and result.length == 1
    # ... and a tournament entrant like any other.
    run = arena.run_tournament(
        {
            "name": "marl",
            "envs": ["stag_hunt-v0"],
            "games": 3,
            "agents": [{"name": "trained", "spec": f"checkpoint:{out}/best.pt"}, {"name": "random", "spec": "random"}],
        },
        db=str(tmp_path / "t.sqlite"),
    )
    assert run.played == 6 and {a["name"] for a in run.metrics["agents"]} == {"trained", "random"}


def test_train_several_seeds_reports_mean_and_iqm(tmp_path, capsys):
    out = tmp_path / "seeds"
    assert (
        main(
            [
                "train",
                "stag_hunt-v0",
                "--algo",
                "maddpg",
                "--steps",
                "64",
                "--envs",
                "16",
                "--seeds",
                "2",
                "--eval-episodes",
                "8",
                "--set",
                "warmup=32",
                "--set",
                "batch_size=16",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "over 2 seeds" in printed and "IQM" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == [0, 1] and len(summary["run_means"]) == 2
    assert summary["mean_ci95"][0] <= summary["mean"] <= summary["mean_ci95"][1]
    assert (out / "seed_1" / "best.pt").exists()


def test_zero_sum_tabular_games_keep_the_least_exploitable_policy(tmp_path, capsys):
    pytest.importorskip("arena.games")
    out = tmp_path / "kuhn"
    assert (
        main(
            [
                "train",
                "kuhn_poker-v0",
                "--steps",
                "1024",
                "--envs",
                "32",
                "--eval-every",
                "256",
                "--eval-episodes",
                "8",
                "--set",
                "rollout_steps=8",
                "--set",
                "gamma=1.0",
                "--stochastic-eval",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)["results"][0]
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r["exploitability"]]
    assert len(rows) >= 4 and result["best_exploitability"] == pytest.approx(
        min(float(r["exploitability"]) for r in rows)
    )
    from arena.games import exploitability

    agent = arena.make_agent(f"checkpoint:{out}/best.pt")
    assert exploitability("kuhn_poker-v0", agent) == pytest.approx(result["best_exploitability"], abs=1e-9)


def test_summary_statistics():
    assert interquartile_mean(np.array([0.0, 1, 2, 3, 4, 5, 6, 100])) == pytest.approx(3.5)
    runs = [np.full(10, 1.0), np.full(10, 2.0), np.full(10, 3.0)]
    summary = summarize(runs)
    assert summary["mean"] == pytest.approx(2.0) and summary["run_means"] == [1.0, 2.0, 3.0]
    assert 1.0 <= summary["iqm_ci95"][0] < summary["iqm_ci95"][1] <= 3.0


def test_checkpoint_agent_controls_its_seat_in_a_particle_world(tmp_path):
    out = tmp_path / "spread"
    assert (
        main(
            [
                "train",
                "spread-v0",
                "--steps",
                "400",
                "--envs",
                "8",
                "--eval-episodes",
                "8",
                "--set",
                "rollout_steps=25",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    result = arena.play("spread-v0", [f"checkpoint:{out}/best.pt", "heuristic", f"checkpoint:{out}/best.pt"], seed=2)
    assert result.length == 25 and result.termination == "normal"
    agent = arena.make_agent(f"checkpoint:{out}/best.pt")
    with pytest.raises(ParameterError, match="cannot play"):
        agent.reset(0, "someone_else", None)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "spread-v0", "--set", "lrr=1"], "did you mean lr"),
        (["train", "spread-v0", "--set", "novalue"], "KEY=VALUE"),
        (["train", "nonexistent-v0"], "unknown env"),
        (["train", "spread-v0", "--steps", "0"], "at least 1"),
        (["train", "spread-v0(N=0)"], "N must be at least 1"),
        (["train", "kuhn_poker-v0", "--algo", "maddpg"], "simultaneous"),
        (["train", "spread-v0", "--config", "missing.toml"], "cannot read config"),
        (["train", "spread-v0", "--set", "hidden=[0]"], "every entry of hidden must be at least 1"),
        (["train", "spread-v0", "--set", "epochs=0"], "epochs must be at least 1"),
        *(
            [(["train", "kuhn_poker-v0", "--device", "cuda"], "no CUDA device")]
            if not torch.cuda.is_available()
            else []
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_output_folder_that_is_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert main(["train", "spread-v0", "--steps", "10", "--out", str(tmp_path / "taken")]) == 2
    assert "it is a file, not a folder" in capsys.readouterr().err


def test_damaged_checkpoints_are_refused_before_play(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    torch.save({"format": 1}, tmp_path / "format.pt")
    for name, message in (("empty.pt", "not an arena checkpoint"), ("format.pt", "it has no 'policy'")):
        with pytest.raises(ConfigError, match=message):
            arena.make_agent(f"checkpoint:{tmp_path / name}")
    out = tmp_path / "run"
    assert main(["train", "spread-v0", "--steps", "200", "--envs", "2", "--out", str(out)]) == 0
    record = torch.load(out / "best.pt", weights_only=True)
    record["state_dict"] = {k: v[:1] for k, v in record["state_dict"].items()}  # weights of the wrong shape
    torch.save(record, tmp_path / "shapes.pt")
    with pytest.raises(ConfigError, match="damaged checkpoint"):
        arena.make_agent(f"checkpoint:{tmp_path / 'shapes.pt'}")
    # trained for three agents: a world of four is refused before the first move, not forfeited
    with pytest.raises(ParameterError, match="expects observations of size"):
        arena.play("spread-v0(N=4)", [f"checkpoint:{out}/best.pt"] * 4, seed=0)


def test_config_file_and_missing_checkpoint(tmp_path):
    (tmp_path / "bad.toml").write_text("lr = [")
    assert main(["train", "spread-v0", "--config", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "x")]) == 2
    with pytest.raises(ConfigError, match="no checkpoint"):
        arena.make_agent(f"checkpoint:{tmp_path}/missing.pt")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "spread-v0", "--algo", "dqn"])
    assert exit_info.value.code == 2
