"""`arena report` over a large results database against the floor: one SQL aggregate plus a Bradley-Terry fit.

The database is a real Kuhn-poker tournament of three agents (random, always-bet, always-check) whose match rows
are then copied as further games (fresh ids, game numbers and seeds) until it holds `--matches` rows, so the
report reads rows like those of a longer run: under duplicate scoring each game is a set of its own. The peer is
what a ranking needs at least: SQLite sums each pairing's payoffs and wins in one query (`json_extract` over the
stored lists), and numpy fits Bradley-Terry strengths to the pair counts by the MM algorithm, with 200 multinomial
bootstrap replicates of those counts. Both run in child processes, interleaved,
and each is measured by wall time and peak resident memory.

    python benchmarks/bench_report.py [--matches 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import arena

BASELINE = r"""
import sqlite3, sys
import numpy as np

conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = conn.execute(
    "SELECT json_extract(seats, '$[0]'), json_extract(seats, '$[1]'), COUNT(*),"
    " SUM(json_extract(payoffs, '$[0]')), SUM(json_extract(payoffs, '$[0]') > json_extract(payoffs, '$[1]'))"
    " FROM matches WHERE tournament = ? GROUP BY 1, 2",
    (sys.argv[2],),
).fetchall()
names = sorted({r[0] for r in rows} | {r[1] for r in rows})
index = {n: i for i, n in enumerate(names)}
wins = np.zeros((len(names), len(names)))
for first, second, count, payoff, won in rows:
    wins[index[first], index[second]] += won
    wins[index[second], index[first]] += count - won


def fit(w):
    strength = np.ones(len(w))
    games = w + w.T
    for _ in range(200):
        denominator = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        strength = np.maximum(w.sum(axis=1), 1e-9) / np.maximum(denominator, 1e-300)
        strength /= strength.sum()
    return np.log(strength)


rng = np.random.default_rng(0)
estimate = fit(wins)
pairs = np.triu_indices(len(names), 1)
totals = (wins + wins.T)[pairs]
replicates = []
for _ in range(200):
    w = np.zeros_like(wins)
    won = rng.binomial(totals.astype(int), (wins[pairs] / np.maximum(totals, 1)))
    w[pairs] = won
    w[pairs[1], pairs[0]] = totals - won
    replicates.append(fit(w))
print(dict(zip(names, np.round(estimate, 3))), np.percentile(replicates, [2.5, 97.5], axis=0).shape)
"""


def build(db: Path, matches: int, games: int = 500) -> None:
    """A real tournament's rows, copied as further games (fresh ids, game numbers and seeds) until the database
    holds `matches` of them."""
    config = {
        "name": "big",
        "envs": ["kuhn_poker-v0"],
        "agents": ["random", "fixed(action=1)", "fixed(action=0)"],
        "games": games,
        "exploitability": "off",
        "backend": "inprocess",
    }
    arena.run_tournament(config, db=str(db), progress=False)
    conn = sqlite3.connect(db)
    columns = [c[1] for c in conn.execute("PRAGMA table_info(matches)")]
    # each copy is a further block of games: fresh ids, game numbers and seeds, as a longer tournament has them (the
    # ids random, as a run's digests are, so that each game's matches are keyed in an order of their own)
    fresh = {"match_id": "lower(hex(randomblob(16)))", "idx": "idx + ?1 * ?3", "seed": "seed + ?1"}
    copied = ", ".join(fresh.get(c, c) for c in columns)
    base = conn.execute("SELECT COUNT(*) FROM matches").fetchone()[0]
    copy = 0
    while conn.execute("SELECT COUNT(*) FROM matches").fetchone()[0] < matches:
        copy += 1
        need = matches - conn.execute("SELECT COUNT(*) FROM matches").fetchone()[0]
        conn.execute(
            f"INSERT INTO matches ({', '.join(columns)}) SELECT {copied} FROM matches "
            "WHERE rowid <= ?4 ORDER BY idx, rowid LIMIT ?2",
            (copy, min(need, base), games, base),
        )
        conn.commit()
    conn.close()


# Runs a module or a script and reports its own peak resident memory on stderr when it exits.
WRAP = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: sys.stderr.write(f'MAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
    "kind, target = sys.argv[1], sys.argv[2]\n"
    "sys.argv = sys.argv[2:]\n"
    "runpy.run_module(target, run_name='__main__') if kind == 'module' else runpy.run_path(target, run_name='__main__')"
)


def measure(kind: str, target: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak resident MB of `target` (a module or a script) run in a child process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAP, kind, target, *args],
        check=True,
        stdout=subprocess.DEVNULL,
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - start
    peak = [line for line in done.stderr.splitlines() if line.startswith("MAXRSS ")][-1]
    return seconds, int(peak.split()[1]) / 1024  # ru_maxrss is in KB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.sqlite"
        start = time.perf_counter()
        build(db, args.matches)
        print(f"built {args.matches:,} matches in {time.perf_counter() - start:.1f} s")
        script = Path(tmp) / "baseline.py"
        script.write_text(BASELINE)
        runs = {
            "SQL + Bradley-Terry": ("path", str(script), str(db), "big"),
            "arena report": ("module", "arena.cli", "report", str(db), "--json"),
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        peaks: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):  # interleaved
            for name, command in runs.items():
                seconds, peak = measure(*command)
                times[name].append(seconds)
                peaks[name].append(peak)
        floor = statistics.median(times["SQL + Bradley-Terry"])
        print(f"{'run':<22} {'seconds':>9} {'x floor':>8} {'peak MB':>9}")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:<22} {median:>9.2f} {median / floor:>8.1f} {statistics.median(peaks[name]):>9.0f}")


if __name__ == "__main__":
    main()
