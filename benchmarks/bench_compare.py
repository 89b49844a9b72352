"""`arena compare`: how often the sequential test errs, and how many games it saves against a fixed-N test.

1. Simulated agents of known strength: 2,000 sequential tests with the true advantage at H0 (type I error: H1
   accepted) and 2,000 at H1 (type II error: H0 accepted), for the pentanomial test (elo0=0, elo1=20, pairs of
   two games with draws) and the normal test on payoff margins (margin0=0, margin1=0.1, unit variance).
2. Real agents through the whole engine (`compare`, exact shortcut off so that games are played): games to a
   decision against the games of a fixed-N one-sided test with the same alpha and beta, sized from the pairs' own
   variance; the saving is that ratio. Pairs: cfr_plus against random and against ftrl on Kuhn and Leduc poker,
   and an LLM (the test suite's scripted chat server, which always plays the first legal move) against random on
   repeated rock-paper-scissors, priced at $0.15 / $0.60 per million prompt / completion tokens (the dollars the
   sequential test saves are the fixed-N games it did not play, at the mean cost of a game). With `--marl`,
   MAPPO and MADDPG are first trained on tag-v0 (40,000 steps each, about a minute apiece) and their checkpoints
   compared with teams as seats (each plays predators once and prey once per seed).
3. The control variate in poker: cfr_plus (its strategy known) against the scripted LLM (act only: the first
   legal move, pass or call) on Kuhn and Leduc, games to a decision with and without the correction.

    python benchmarks/bench_compare.py [--runs 2000] [--workers 2] [--skip-simulation] [--marl] [--only-control-variate]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from arena.tournaments.compare import compare
from arena.tournaments.sequential import Hypotheses, pentanomial_at, pentanomial_sampler, simulate_errors

REAL = [
    ("kuhn_poker-v0", "cfr_plus", "random", "margin0=0,margin1=0.1"),
    ("kuhn_poker-v0", "cfr_plus", "ftrl", "margin0=0,margin1=0.1"),
    ("leduc_poker-v0", "cfr_plus", "random", "margin0=0,margin1=0.5"),
    ("leduc_poker-v0", "cfr_plus", "ftrl", "margin0=0,margin1=0.5"),
]


def simulation(runs: int) -> None:
    print(f"simulated sequential tests ({runs:,} runs at each hypothesis, alpha = beta = 0.05)")
    print(f"{'test':<34} {'truth':>6} {'accepted H1':>12} {'accepted H0':>12} {'mean pairs':>11} {'seconds':>8}")
    cases = [
        (Hypotheses("elo", 0.0, 20.0), lambda true: pentanomial_sampler(pentanomial_at(true))),
        (Hypotheses("elo", 0.0, 5.0), lambda true: pentanomial_sampler(pentanomial_at(true))),
        (Hypotheses("margin", 0.0, 0.1), lambda true: lambda rng, shape: rng.normal(true, 1.0, shape)),
    ]
    for hypotheses, sampler in cases:
        for true in (hypotheses.h0, hypotheses.h1):
            start = time.perf_counter()
            found = simulate_errors(sampler(true), hypotheses, runs, 200_000, seed=1)
            print(
                f"{hypotheses.text:<34} {true:>6g} {100 * found.h1_rate:>11.2f}% {100 * found.h0_rate:>11.2f}% "
                f"{found.mean_pairs:>11.0f} {time.perf_counter() - start:>8.1f}"
            )


def train_checkpoints(folder: Path) -> list[tuple[str, str, str, str]]:
    """MAPPO and MADDPG trained briefly on tag-v0: the row that compares their checkpoints."""
    from arena.cli import main as arena_main

    for algo in ("mappo", "maddpg"):
        code = arena_main(
            ["train", "tag-v0", "--algo", algo, "--steps", "40000", "--out", str(folder / algo), "--json"]
        )
        if code:
            raise SystemExit(f"training {algo} failed")
    mappo, maddpg = (f"checkpoint:{folder / algo / 'best.pt'}" for algo in ("mappo", "maddpg"))
    return [("tag-v0", mappo, maddpg, "margin0=0,margin1=20")]


def real_agents(workers: int, db: str, extra: list[tuple[str, str, str, str]]) -> None:
    print("\nreal agents: games to a decision (sequential) against a fixed-N test of the same errors")
    print(f"{'env':<16} {'A':<9} {'B':<24} {'hypotheses':<22} {'result':>6} {'games':>7} {'fixed-N':>8} {'saving':>7}")
    rows = list(REAL) + extra
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.fake_openai_server import FakeChatServer

    os.environ.setdefault("ARENA_TEST_KEY", "not-a-real-key")
    with FakeChatServer() as server:
        llm = f"llm(model=scripted, base_url={server.url}, api_key_env=ARENA_TEST_KEY)"
        rows.append(("rps-v0(rounds=10)", llm, "random", "margin0=0,margin1=1"))
        prices = Path(db).with_name("prices.toml")
        prices.write_text('["scripted"]\nprompt = 0.15\ncompletion = 0.6\n', encoding="utf-8")
        for env, a, b, text in rows:
            found = compare(
                a,
                b,
                env,
                hypotheses=Hypotheses.parse(text),
                db=db,
                workers=workers,
                exact=False,
                max_games=200_000,
                prices=str(prices),
            )
            decision = found.decision or {}
            decided = decision.get("decided_at")
            games = 2 * decided if decided else 2 * found.pairs
            fixed = 2 * found.fixed_pairs if found.fixed_pairs else None
            name = "llm (scripted)" if a.startswith("llm(") else a.rpartition("/")[0].rpartition("/")[2] or a
            b = b.rpartition("/")[0].rpartition("/")[2] or b
            total = found.costs["total"]
            if total["dollars"] and fixed and decided:
                per_game = total["dollars"] / total["matches"]
                saved = f"; ${per_game:.6f} a game, ${(fixed - games) * per_game:.4f} saved"
            else:
                saved = ""
            print(
                f"{env:<16} {name:<9} {b:<24} {text:<22} {decision.get('result') or '-':>6} {games:>7,} "
                f"{f'{fixed:,}' if fixed else '-':>8} {f'{fixed / games:.1f}x' if fixed and decided else '-':>7}{saved}"
            )


def control_variate(workers: int, db: str) -> None:
    print("\ncontrol variate: games to a decision with the correction of cfr_plus's moves and chance, and without")
    print(f"{'env':<16} {'hypotheses':<26} {'result':>6} {'games':>7} {'without':>8} {'pair sd':>15} {'saving':>7}")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.fake_openai_server import FakeChatServer

    os.environ.setdefault("ARENA_TEST_KEY", "not-a-real-key")
    with FakeChatServer() as server:
        llm = f"llm(model=scripted, base_url={server.url}, api_key_env=ARENA_TEST_KEY)"
        for env, text in (("kuhn_poker-v0", "margin0=0.25,margin1=0.35"), ("leduc_poker-v0", "margin0=1,margin1=1.2")):
            found = []
            for on in (True, False):
                found.append(
                    compare(
                        "cfr_plus",
                        llm,
                        env,
                        hypotheses=Hypotheses.parse(text),
                        db=db,
                        name=f"cv {env} {on}",
                        workers=workers,
                        control_variate=on,
                        max_games=200_000,
                    )
                )
            games = [2 * (f.decision or {}).get("decided_at", f.pairs) for f in found]
            cv = found[0].control_variate or {}
            spread = f"{cv.get('pair_sd_with', float('nan')):.3f} / {cv.get('pair_sd_without', float('nan')):.3f}"
            print(
                f"{env:<16} {text:<26} {(found[0].decision or {}).get('result') or '-':>6} {games[0]:>7,} "
                f"{games[1]:>8,} {spread:>15} {games[1] / games[0]:>6.1f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-simulation", action="store_true")
    parser.add_argument("--marl", action="store_true", help="also train and compare MAPPO and MADDPG on tag-v0")
    parser.add_argument("--only-control-variate", action="store_true", help="only part 3")
    args = parser.parse_args()
    np.set_printoptions(precision=3)
    if not args.skip_simulation and not args.only_control_variate:
        simulation(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.only_control_variate:
            extra = train_checkpoints(Path(tmp)) if args.marl else []
            real_agents(args.workers, str(Path(tmp) / "compare.sqlite"), extra)
        control_variate(args.workers, str(Path(tmp) / "cv.sqlite"))


if __name__ == "__main__":
    main()
