"""The report computed from counts of match shapes (aggregated in SQL) gives the numbers the per-match report gave.

`fixtures/report_mixed.json` is what `build_report` printed, before reports were aggregated, for the tournament
`report_tournament.build` writes: several envs, duplicate sets complete and not, self-play, draws, forfeits,
time-outs, errors, illegal moves, agents' statistics with tokens, transcripts and analyses. Every exact number must
be the same to 1e-9; bootstrap intervals (and the ranks and order they decide) may differ, as long as they resample
the same distribution, and are left out (`exact_part`). Regret keeps its per-match curves, so its intervals stay.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from arena.tournaments.metrics import compute_metrics
from arena.tournaments.report import build_report
from arena.tournaments.store import ResultsStore
from tests.report_tournament import build

FIXTURE = Path(__file__).parent / "fixtures" / "report_mixed.json"


def exact_part(metrics: dict[str, Any]) -> dict[str, Any]:
    """The report without what bootstrap replicates decide, and without what names the machine (versions, paths)."""
    out = json.loads(json.dumps(metrics, default=str))
    out.pop("versions")
    for link in out["transcripts"]:
        for side in ("worst", "best"):
            link[side].pop("show")
    for env in out["envs"].values():
        ranking = env["ranking"]
        if ranking and ranking["method"] in ("rating", "nash"):
            for row in ranking["rows"]:
                del row["lower"], row["upper"], row["rank"]
        if env["meta_game"]:
            del env["meta_game"]["nash_ci"], env["meta_game"]["nash_averaging_ci"]
    if out["leaderboard"]:
        for row in out["leaderboard"]["rows"]:
            del row["lower"], row["upper"], row["rank"]
    agents = {}
    for agent in out["agents"]:
        del agent["rank"], agent["elo"]
        for key in ("lower", "upper", "rank"):
            agent["bradley_terry"].pop(key)
            agent["headline"].pop(key)
        agents[agent["name"]] = agent
    out["agents"] = agents
    return out


def _assert_close(got: Any, want: Any, path: str = "") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), path
        for key in want:
            _assert_close(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for k, (g, w) in enumerate(zip(got, want)):
            _assert_close(g, w, f"{path}[{k}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, int | float), path
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-9, abs=1e-9), path
    else:
        assert got == want, path


@pytest.fixture(scope="module")
def mixed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("mixed") / "mixed.sqlite")


def test_the_aggregated_report_gives_the_per_match_reports_numbers(mixed_db: Path) -> None:
    want = json.loads(FIXTURE.read_text())
    _assert_close(exact_part(build_report(mixed_db)), want)


def test_records_in_memory_and_the_stores_aggregate_give_the_same_report(mixed_db: Path) -> None:
    """compute_metrics over decoded records (tests, callers that hold records) equals the report from SQL counts,
    bootstrap intervals included: both tally the same shapes in the same order."""
    with ResultsStore(mixed_db, readonly=True) as store:
        stored = store.tournament("mixed")
    from_records = compute_metrics(stored)
    from_sql = build_report(mixed_db)
    for key in ("scheduled_config", "transcripts", "costs"):
        from_sql.pop(key)
    _assert_close(json.loads(json.dumps(from_records, default=str)), json.loads(json.dumps(from_sql, default=str)))


def test_the_end_of_a_run_and_the_web_front_end_read_the_tally_not_every_match(tmp_path: Path, monkeypatch) -> None:
    """What `arena tournament` prints at its end and what `arena serve` shows are reports too: they count the
    matches in SQL as `arena report` does (a million matches: seconds, not minutes) and give its numbers."""
    import arena
    from arena.tournaments.records import MatchDecoder
    from arena.web.data import Databases

    db = tmp_path / "run.sqlite"
    config = {"name": "t", "envs": ["kuhn_poker-v0"], "games": 3, "agents": ["random", "fixed", "cfr_plus"]}

    def decoded(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a report decoded the matches one by one")

    monkeypatch.setattr(MatchDecoder, "decode_all", decoded)
    run = arena.run_tournament({**config, "exploitability": "off"}, db=str(db), backend="inprocess", workers=1)
    served = Databases([db]).metrics(0, "t")
    monkeypatch.undo()
    with ResultsStore(db, readonly=True) as store:
        per_match = compute_metrics(store.tournament("t"))
    for metrics in (run.metrics, served):
        shown = {key: value for key, value in metrics.items() if key in per_match}  # the page adds its config
        _assert_close(exact_part({**shown, "transcripts": []}), exact_part({**per_match, "transcripts": []}))


def test_duplicate_sets_are_summed_in_sql_as_records_sum_them(tmp_path: Path) -> None:
    """The store sums each duplicate set in SQL and counts the sets that sum alike: a tournament copied as further
    games (fresh game numbers) has as many sets again, not more distinct ones, and the records give the same."""
    import sqlite3

    import arena
    from arena.tournaments.metrics import duplicate_scored
    from arena.tournaments.records import tally_records

    db = tmp_path / "sets.sqlite"
    config = {"name": "t", "envs": ["kuhn_poker-v0"], "games": 8, "agents": ["random", "fixed", "fixed(action=0)"]}
    arena.run_tournament({**config, "exploitability": "off"}, db=str(db), backend="inprocess", workers=1)
    conn = sqlite3.connect(db)
    columns = [c[1] for c in conn.execute("PRAGMA table_info(matches)")]
    fresh = {"match_id": "match_id || '-' || k.n", "idx": "idx + k.n * 8"}
    conn.execute(
        "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 9) "
        f"INSERT INTO matches ({', '.join(columns)}) SELECT {', '.join(fresh.get(c, c) for c in columns)} "
        "FROM matches CROSS JOIN k"
    )
    again = ", ".join("match_id || '-again'" if c == "match_id" else c for c in columns)
    conn.execute(f"INSERT INTO matches SELECT {again} FROM matches WHERE idx = 0 ORDER BY match_id LIMIT 1")
    conn.commit()
    conn.close()
    with ResultsStore(db, readonly=True) as store:
        stored = store.tournament("t")
        tally = store.tally("t", duplicate_scored(stored.config))
    assert tally.sets == tally_records(stored.matches, duplicate_scored(stored.config)).sets
    assert sum(tally.sets.values()) == 10 * 8 * 3  # three pairings of the eight games, ten times over
    assert sorted(s.matches for s, count in tally.sets.items() for _ in range(count)) == [2] * 239 + [3]
    assert {s.names for s in tally.sets} == {
        ("fixed", "random"),
        ("fixed", "fixed(action=0)"),
        ("fixed(action=0)", "random"),
    }
    assert len(tally.sets) < 60 and tally.matches == 10 * 8 * 6 + 1


def test_a_tally_counts_the_matches_there_were_when_it_began(tmp_path: Path, monkeypatch) -> None:
    """Matches a run writes while a report counts are in none of its counts: every query of the tally reads the rows
    up to the tournament's last one when it began (its two scans run on two connections, which would otherwise see
    different rows)."""
    import sqlite3

    import arena
    from arena.tournaments.metrics import duplicate_scored

    db = tmp_path / "live.sqlite"
    config = {"name": "t", "envs": ["kuhn_poker-v0"], "games": 4, "agents": ["random", "fixed"]}
    arena.run_tournament({**config, "exploitability": "off"}, db=str(db), backend="inprocess", workers=1)
    shapes = ResultsStore._shapes

    def written_meanwhile(self: ResultsStore, tournament: str, last: int) -> Any:
        conn = sqlite3.connect(db)
        columns = [c[1] for c in conn.execute("PRAGMA table_info(matches)")]
        fresh = {"match_id": "match_id || '-later'", "idx": "idx + 100", "seed": "seed + 100"}
        conn.execute(f"INSERT INTO matches SELECT {', '.join(fresh.get(c, c) for c in columns)} FROM matches")
        conn.commit()
        conn.close()
        return shapes(self, tournament, last)

    with ResultsStore(db, readonly=True) as store:
        scored = duplicate_scored(store.tournament("t").config)
        before = store.tally("t", scored)
        monkeypatch.setattr(ResultsStore, "_shapes", written_meanwhile)
        during = store.tally("t", scored)
        monkeypatch.undo()
        after = store.tally("t", scored)
    assert (during.shapes, during.sets, during.seeds) == (before.shapes, before.sets, before.seeds)
    assert after.matches == 2 * before.matches == 16 and sum(after.sets.values()) == 2 * sum(before.sets.values())
