"""`arena report` over a few hundred thousand matches: its peak memory per match stays bounded, and a database
whose rows are a small tournament's copied k times reports the same tables (counts k times over, rates and means
the same, the same ranking).

Timing is not asserted here (benchmarks/bench_report.py measures it); memory is, as ru_maxrss of a child process.
"""

import json
import sqlite3
import subprocess
import sys

import pytest

import arena

COPIES = 2_500  # 120 matches each: 300,000 rows
BYTES_PER_MATCH = 50  # peak resident memory a report may take per match above a small database's report: it holds
# counts of match shapes and of duplicate sets, and nothing per match (both tests below measure well under 50)


def _small(tmp_path):
    """A Kuhn tournament of three agents, 20 games of each pairing in both seat orders (120 matches)."""
    small = tmp_path / "small.sqlite"
    config = {
        "name": "scale",
        "envs": ["kuhn_poker-v0"],
        "agents": ["random", "fixed(action=1)", "fixed(action=0)"],
        "games": 20,
        "exploitability": "off",
        "backend": "inprocess",
    }
    arena.run_tournament(config, db=str(small), progress=False)
    return small


def _copy(source, target, copies):
    """The source's tables with every match row copied `copies` times (the copies under fresh ids)."""
    target.write_bytes(source.read_bytes())
    conn = sqlite3.connect(target)
    columns = [c[1] for c in conn.execute("PRAGMA table_info(matches)")]
    copied = ", ".join("match_id || '-' || k.n" if c == "match_id" else c for c in columns)
    conn.execute(
        "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ?) "
        f"INSERT INTO matches ({', '.join(columns)}) SELECT {copied} FROM matches CROSS JOIN k",
        (copies - 1,),
    )
    conn.commit()
    conn.close()


def _report(db):
    """The report's JSON and the child process's peak resident memory in bytes."""
    code = (
        "import resource, sys\n"
        "from arena.cli import main\n"
        "code = main(['report', sys.argv[1], '--json'])\n"
        "sys.stderr.write(f'MAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, check=True)
    peak = [line for line in done.stderr.splitlines() if line.startswith("MAXRSS ")][-1]
    return json.loads(done.stdout), int(peak.split()[1]) * 1024  # ru_maxrss is in KB on Linux


@pytest.mark.slow
def test_a_report_of_300k_matches_stays_within_its_memory_per_match_and_matches_the_small_ones(tmp_path):
    small = _small(tmp_path)
    base = sqlite3.connect(small).execute("SELECT COUNT(*) FROM matches").fetchone()[0]
    big = tmp_path / "big.sqlite"
    _copy(small, big, COPIES)
    few, few_peak = _report(small)
    many, many_peak = _report(big)
    assert many["matches"] == COPIES * few["matches"] == COPIES * base
    assert (many_peak - few_peak) / many["matches"] < BYTES_PER_MATCH, (few_peak, many_peak)

    # every copy repeats its match's seed index, so duplicate sets hold k copies of each seat order: the same games
    assert many["games"] == few["games"]
    assert many["terminations"] == {k: COPIES * v for k, v in few["terminations"].items()}
    assert [a["name"] for a in many["agents"]] == [a["name"] for a in few["agents"]]
    for a, b in zip(many["agents"], few["agents"]):
        assert a["matches"] == COPIES * b["matches"]
        assert (a["wins"], a["draws"], a["losses"]) == (b["wins"], b["draws"], b["losses"])
        assert a["illegal_move_rate"] == b["illegal_move_rate"] and a["forfeits"] == COPIES * b["forfeits"]
        assert a["headline"]["value"] == pytest.approx(b["headline"]["value"], abs=1e-9)
    assert [(p["agent"], p["opponent"], p["games"], p["wins"]) for p in many["pairings"]] == [
        (p["agent"], p["opponent"], p["games"], p["wins"]) for p in few["pairings"]
    ]
    for env, data in many["envs"].items():
        small_env = few["envs"][env]
        assert data["matches"] == COPIES * small_env["matches"]
        for name, (mean, _, _) in data["mean_payoff"].items():
            assert mean == pytest.approx(small_env["mean_payoff"][name][0], abs=1e-9)
        assert [r["name"] for r in data["ranking"]["rows"]] == [r["name"] for r in small_env["ranking"]["rows"]]


@pytest.mark.slow
def test_a_report_of_distinct_games_stays_within_its_memory_per_match(tmp_path):
    """A tournament's rows copied as further games (fresh ids, game numbers and seeds), as a longer run plays them:
    under duplicate scoring every game is a set of its own, and the report may still hold nothing per match. The
    fresh ids are random, as a run's digests are, so each game's matches come in an order of their own."""
    small = _small(tmp_path)
    big = tmp_path / "big.sqlite"
    big.write_bytes(small.read_bytes())
    conn = sqlite3.connect(big)
    columns = [c[1] for c in conn.execute("PRAGMA table_info(matches)")]
    fresh = {"match_id": "lower(hex(randomblob(16)))", "idx": "idx + k.n * 20", "seed": "seed + k.n"}
    conn.execute(
        "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 499) "
        f"INSERT INTO matches ({', '.join(columns)}) SELECT {', '.join(fresh.get(c, c) for c in columns)} "
        "FROM matches CROSS JOIN k",
    )
    conn.commit()
    conn.close()
    few, few_peak = _report(small)
    many, many_peak = _report(big)
    assert many["matches"] == 500 * few["matches"]
    assert (many_peak - few_peak) / many["matches"] < BYTES_PER_MATCH, (few_peak, many_peak)
