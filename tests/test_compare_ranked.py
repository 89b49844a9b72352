"""`stop = "ranked"` adaptive tournaments and the `max_games` budget: the ranking of a ten times larger fixed
schedule in fewer games, chosen only from stored results (so resumed runs and backends agree)."""

from __future__ import annotations

import pytest

from arena.errors import ConfigError
from arena.tournaments.adaptive import Pairing, pairings, ranking
from arena.tournaments.run import as_config, run_tournament
from arena.tournaments.store import ResultsStore

FIELD = [
    {"name": "random", "spec": "random"},
    {"name": "cfr+", "spec": "cfr_plus(iterations=300)"},
    {"name": "always-bet", "spec": "fixed(action=Bet)"},
    {"name": "always-pass", "spec": "fixed(action=Pass)"},
]


def _config(name: str, games: int, **extra):
    return {"name": name, "envs": ["kuhn_poker-v0"], "agents": FIELD, "games": games, "exploitability": "off", **extra}


def _run(db, name: str, games: int, backend: str = "inprocess", **extra):
    config = _config(name, games, **extra)
    run = run_tournament(config, db=str(db), backend=backend, workers=2, analyse=False)
    with ResultsStore(db, readonly=True) as store:
        matches = store.records(name, with_rounds=False)
    parsed = as_config(config)
    return run, matches, ranking(parsed, pairings(parsed, matches))


def test_pairing_separation():
    assert Pairing("a", "b", 10, 0.5, 0.1).z == pytest.approx(5.0)
    assert Pairing("a", "b", 10, 0.0, 0.0).z == 0.0  # identical play: never separated
    assert Pairing("a", "b", 10, 0.2, 0.0).z == float("inf")
    assert Pairing("a", "b", 1, 0.2, 0.0).z == 0.0


@pytest.mark.slow
def test_ranked_reaches_the_ranking_of_a_ten_times_larger_schedule(tmp_path):
    db = tmp_path / "r.sqlite"
    _, big, fixed_ranking = _run(db, "fixed", 200)
    run, matches, adaptive_ranking = _run(db, "ranked", 20, stop="ranked")
    assert adaptive_ranking == fixed_ranking == ["always-bet", "cfr+", "random", "always-pass"]
    assert "separated at 95%" in run.stopped
    assert len(matches) < len(big) / 5  # 280 against 2,400 on 2026-12-02


@pytest.mark.slow
def test_ranked_resumes_to_the_same_matches(tmp_path):
    _, whole, ranked = _run(tmp_path / "a.sqlite", "ranked", 10, stop="ranked")
    cut, part, _ = _run(tmp_path / "b.sqlite", "ranked", 10, stop="ranked", max_games=150)
    assert "budget of 150 games" in cut.stopped and len(part) == 150
    _, resumed, again = _run(tmp_path / "b.sqlite", "ranked", 10, stop="ranked")
    assert sorted(m.match_id for m in resumed) == sorted(m.match_id for m in whole)
    assert again == ranked
    assert len(whole) > 120  # more than the initial round was played


@pytest.mark.slow
def test_ranked_is_the_same_on_local_workers(tmp_path):
    _, here, _ = _run(tmp_path / "a.sqlite", "ranked", 10, stop="ranked")
    _, local, _ = _run(tmp_path / "b.sqlite", "ranked", 10, backend="local", stop="ranked")
    assert sorted(m.match_id for m in local) == sorted(m.match_id for m in here)


@pytest.mark.slow
def test_budget_stops_a_plain_schedule(tmp_path):
    run, matches, _ = _run(tmp_path / "c.sqlite", "plain", 10, max_games=30)
    assert len(matches) == 30 and run.played == 30
    assert "budget of 30 games" in run.stopped


def test_ranked_bad_settings(tmp_path):
    with pytest.raises(ConfigError, match="seats"):
        _run(tmp_path / "d.sqlite", "x", 2, stop="ranked", seats="fixed")
    with pytest.raises(ConfigError, match="two-seat"):
        run_tournament(
            {
                "name": "y",
                "envs": ["kuhn_poker-v0(players=3)"],
                "agents": [{"name": n, "spec": "random"} for n in "abc"],
                "stop": "ranked",
                "games": 2,
            },
            db=str(tmp_path / "e.sqlite"),
            backend="inprocess",
            analyse=False,
        )
    for bad, says in [
        ({"confidence": 1.5}, "between 0 and 1"),
        ({"max_games": 0}, "positive"),
        ({"stop": "soon"}, "one of"),
    ]:
        with pytest.raises(ConfigError, match=says):
            as_config(_config("z", 2, **bad))
