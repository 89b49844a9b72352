"""Budgets per pairing (`pairing_max_games`, `pairing_max_cost_usd`, `pairing_max_wall_s`) and the exploitability
analysis metered against the tournament's budgets: a spent pairing stops alone, and the analysis of an act-only
LLM (hundreds of requests) stops at what the budget leaves instead of spending past it silently."""

from __future__ import annotations

from collections import Counter

import pytest

from arena.tournaments.config import config_from_dict
from arena.tournaments.costs import Meter, pairing_of
from arena.tournaments.run import run_tournament
from arena.tournaments.schedule import Schedule
from arena.tournaments.store import ResultsStore
from tests.fake_openai_server import FakeChatServer

LLM = "llm(model=scripted, base_url={url}, cache=false)"  # no key: probing processes see no later setenv


def _pairings(db, name: str) -> Counter[str]:
    with ResultsStore(db, readonly=True) as store:
        return Counter(pairing_of(m.seats) for m in store.records(name, with_rounds=False))


def test_pairing_game_budget_stops_each_pairing_alone(tmp_path):
    db = tmp_path / "g.sqlite"
    config = {
        "name": "g",
        "envs": ["kuhn_poker-v0", "rps-v0"],
        "agents": ["random", "cfr", "fixed(action=0)"],
        "games": 5,  # 20 matches per pairing (2 envs, 2 seat orders)
        "pairing_max_games": 7,
        "exploitability": "off",
    }
    run = run_tournament(config, db=str(db), backend="inprocess")
    assert _pairings(db, "g") == {"cfr vs random": 7, "fixed(action=0) vs random": 7, "cfr vs fixed(action=0)": 7}
    assert run.played == 21 and "pairing budget is spent for" in run.stopped and "(7 games)" in run.stopped
    again = run_tournament({**config, "pairing_max_games": 9}, db=str(db), backend="inprocess")
    assert again.played == 6 and set(_pairings(db, "g").values()) == {9}  # stored matches count


def test_pairing_budget_counts_stored_matches_in_the_meter():
    config = config_from_dict(
        {"envs": ["rps-v0"], "agents": ["random", "cfr"], "games": 3, "pairing_max_games": 2, "exploitability": "off"}
    )
    meter = Meter(config)
    admitted = [task for task in Schedule.of(config) if meter.admit(task)]
    assert len(admitted) == 2 and meter.skipped == {"cfr vs random": 4}
    assert meter.pairings_stopped() == "the pairing budget is spent for cfr vs random (2 games)"


def test_pairing_dollar_budget_stops_the_llm_pairings_and_not_the_others(tmp_path):
    db = tmp_path / "d.sqlite"
    with FakeChatServer() as server:
        llm = {"name": "llm", "spec": LLM.format(url=server.url), "prompt_price": 100.0}  # $0.01 a request
        config = {
            "name": "d",
            "envs": ["rps-v0(rounds=2)"],  # two requests, $0.02, per match
            "agents": [llm, "random", "cfr"],
            "games": 10,
            "pairing_max_cost_usd": 0.05,
            "exploitability": "off",
        }
        run = run_tournament(config, db=str(db), backend="inprocess")
    counts = _pairings(db, "d")
    assert counts["cfr vs random"] == 20  # free: never stopped
    assert 3 <= counts["llm vs random"] <= 12 and 3 <= counts["cfr vs llm"] <= 12
    for pairing in ("llm vs random", "cfr vs llm"):
        assert run.costs["pairings"][pairing]["dollars"] == pytest.approx(0.02 * counts[pairing])
        assert run.costs["pairings"][pairing]["dollars"] >= 0.05  # and what was in flight when it was reached
    assert "cfr vs llm ($0.05)" in run.stopped and "llm vs random ($0.05)" in run.stopped


def test_ranked_run_passes_over_spent_pairings_and_ends(tmp_path):
    config = {
        "name": "r",
        "envs": ["kuhn_poker-v0"],
        "agents": ["random", "fixed(action=0)", "fixed(action=1)"],
        "games": 10,
        "stop": "ranked",
        "pairing_max_games": 40,
        "exploitability": "off",
    }
    run = run_tournament(config, db=str(tmp_path / "r.sqlite"), backend="inprocess")
    counts = _pairings(tmp_path / "r.sqlite", "r")
    assert max(counts.values()) <= 40 and run.played == sum(counts.values())
    assert "separated" in run.stopped or "pairing budget" in run.stopped


def test_analysis_of_an_act_only_llm_stops_at_the_budget(tmp_path):
    """Its sampled exploitability estimate on Kuhn poker would ask 32 questions at each of 12 information sets
    (about $3.84 here); the run stops it at what the $0.5 budget leaves, stores no cut-short value, and counts it."""
    db = tmp_path / "a.sqlite"
    with FakeChatServer() as server:
        llm = {"name": "llm", "spec": LLM.format(url=server.url), "prompt_price": 100.0}  # $0.01 a request
        config = {"name": "a", "envs": ["kuhn_poker-v0"], "agents": [llm, "random"], "games": 2, "max_cost_usd": 0.5}
        run = run_tournament(config, db=str(db), backend="inprocess")
        requests = len(server.requests)
        costs = run.costs
        assert "exploitability analysis stopped short" in run.stopped
        assert costs["analysis"]["dollars"] > 0 and costs["analysis"]["analyses"] == 1
        assert 0.5 <= costs["total"]["dollars"] <= 0.5 + 0.011  # the query that reached the budget, no more
        assert requests == pytest.approx(costs["total"]["dollars"] / 0.01, abs=0.5)
        with ResultsStore(db, readonly=True) as store:
            (cut,) = [a.value for a in store.analyses("a") if a.kind == "exploitability"]
        assert cut["value"] is None and cut["budget"]
        assert cut["cost"]["dollars"] == pytest.approx(costs["analysis"]["dollars"])
        again = run_tournament({**config, "max_cost_usd": 0.6}, db=str(db), backend="inprocess")
    assert again.played == 0 and "analysis stopped short" in again.stopped  # the stored spend counts; $0.1 more
    assert 0.6 <= again.costs["total"]["dollars"] <= 0.6 + 0.011
    with ResultsStore(db, readonly=True) as store:  # the cut-short probe was tried again; its cost sums both tries
        (cut,) = [a.value for a in store.analyses("a") if a.kind == "exploitability"]
    assert cut["budget"] and cut["cost"]["dollars"] == pytest.approx(again.costs["analysis"]["dollars"])


def test_analysis_records_what_it_cost(tmp_path):
    config = {"name": "c", "envs": ["kuhn_poker-v0"], "agents": ["random", "cfr"], "games": 1}
    run_tournament(config, db=str(tmp_path / "c.sqlite"), backend="inprocess")
    with ResultsStore(tmp_path / "c.sqlite", readonly=True) as store:
        found = {a.subject: a.value for a in store.analyses("c") if a.kind == "exploitability"}
    assert found["random"]["cost"]["queries"] == 12 and found["random"]["cost"]["dollars"] == 0.0  # one per infoset
    assert found["cfr"]["cost"]["seconds"] > 0
