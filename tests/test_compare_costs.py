"""Costs: tokens, dollars and seconds per agent and pairing from the agents' match statistics, prices from agent
tables or a price table file, and the max_cost_usd / max_wall_s budgets that stop a run cleanly."""

from __future__ import annotations

import pytest

from arena.errors import ConfigError
from arena.tournaments.config import config_from_dict
from arena.tournaments.costs import Price, cost_report, load_price_table
from arena.tournaments.run import run_tournament
from arena.tournaments.store import ResultsStore
from tests.fake_openai_server import FakeChatServer


def test_price_and_price_table(tmp_path):
    assert Price(0.15, 0.6).dollars({"prompt_tokens": 1_000_000, "completion_tokens": 500_000}) == pytest.approx(0.45)
    table = tmp_path / "prices.toml"
    table.write_text('["gpt-4o-mini"]\nprompt = 0.15\ncompletion = 0.6\n', encoding="utf-8")
    assert load_price_table(table) == {"gpt-4o-mini": Price(0.15, 0.6)}
    table.write_text('["m"]\nprompt = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="non-negative"):
        load_price_table(table)
    table.write_text('["m"]\ninput = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="prompt and completion"):
        load_price_table(table)
    with pytest.raises(ConfigError, match="cannot read"):
        load_price_table(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="non-negative number"):
        config_from_dict({"envs": ["rps-v0"], "agents": [{"spec": "random", "prompt_price": -2}, "random"]})


def _tournament(server_url: str, tmp_path, **extra):
    llm = f"llm(model=scripted, base_url={server_url}, api_key_env=ARENA_TEST_KEY, cache=false)"
    return {
        "name": "costs",
        "envs": ["rps-v0(rounds=2)"],
        "agents": [{"name": "llm", "spec": llm, "prompt_price": 2.0, "completion_price": 10.0}, "random"],
        "games": 4,
        "exploitability": "off",
        **extra,
    }


def test_costs_per_agent_and_pairing(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_TEST_KEY", "not-a-real-key-123")
    with FakeChatServer() as server:
        run = run_tournament(_tournament(server.url, tmp_path), db=str(tmp_path / "c.sqlite"), backend="inprocess")
    costs = run.costs
    llm = costs["agents"]["llm"]
    assert llm["matches"] == 8 and llm["prompt_tokens"] == 100 * 2 * 8  # 100 a request, 2 rounds, 8 matches
    expected = (llm["prompt_tokens"] * 2.0 + llm["completion_tokens"] * 10.0) / 1e6
    assert llm["dollars"] == pytest.approx(expected) and expected > 0
    assert costs["agents"]["random"]["dollars"] == 0.0 and costs["agents"]["random"]["payoff_per_dollar"] is None
    assert llm["payoff_per_dollar"] == pytest.approx(llm["payoff"] / expected)
    assert llm["mean_payoff"] == pytest.approx(llm["payoff"] / 8)
    assert costs["pairings"]["llm vs random"]["dollars"] == pytest.approx(expected)
    assert costs["total"]["seconds"] > 0 and not run.stopped


def test_price_table_by_model_and_dollar_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_TEST_KEY", "not-a-real-key-123")
    table = tmp_path / "prices.toml"
    table.write_text('["scripted"]\nprompt = 1000.0\ncompletion = 0.0\n', encoding="utf-8")  # $0.1 a request
    config = _tournament("", tmp_path, max_cost_usd=0.5, prices=str(table), games=20)
    with FakeChatServer() as server:
        config["agents"][0] = {
            "name": "llm",
            "spec": config["agents"][0]["spec"].replace("base_url=,", f"base_url={server.url},"),
        }
        run = run_tournament(config, db=str(tmp_path / "b.sqlite"), backend="inprocess")
    assert "budget of $0.5 is spent" in run.stopped and "analysis was skipped" in run.stopped
    assert run.played < 40 and run.costs["total"]["dollars"] >= 0.5
    with ResultsStore(tmp_path / "b.sqlite", readonly=True) as store:
        assert store.count("costs") == run.played


def test_wall_budget_counts_stored_matches(tmp_path):
    db = str(tmp_path / "w.sqlite")
    base = {"name": "w", "envs": ["kuhn_poker-v0"], "agents": ["random", "cfr"], "games": 50, "exploitability": "off"}
    first = run_tournament({**base, "max_wall_s": 1e-9}, db=db, backend="inprocess", analyse=False)
    assert "of play is spent" in first.stopped and first.played < 100
    again = run_tournament({**base, "max_wall_s": 1e-9}, db=db, backend="inprocess", analyse=False)
    assert again.played == 0 and "of play is spent" in again.stopped  # what was played before counts
    report = cost_report(config_from_dict(base), [])
    assert report["total"]["matches"] == 0
