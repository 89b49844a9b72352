"""adversary-v0 and tag-v0: MADDPG against MAPPO and random play in team cross-play tournaments, over seeds.

MADDPG and MAPPO train in self-play on each env (one policy for both teams, so a checkpoint plays whichever team
it is seated on) for the same number of env steps, the sample budget of MARL comparisons, with --seeds seeds each.
MADDPG is slower per sample, so `mappo-time` is MAPPO trained (one seed) for as long as MADDPG took on average:
the wall-clock budget. Then `arena tournament` runs one tournament per env among all checkpoints and random play,
with team seats (an agent controls every member of its team) and duplicate scoring: game k of a pairing is the two
matches on seed k with the teams swapped, and an agent wins it when its mean team return over the two beats the
other's, so the two roles' different scales cancel. Besides the tournament's per-pairing win rates (Wilson 95%
intervals) and Bradley-Terry ratings, the script pools the games of every seed pairing of two learners (5 x 5 seed
pairings for 5 seeds) into one win rate, with a Wilson interval over the games and a bootstrap interval over the
training seeds of both learners, and gives the mean team return of every (adversaries, good agents) lineup.
Runs already trained in --out (a last.pt) are reused; --retrain trains them again; --jobs trains in parallel.
Writes results/crossplay.json, results/crossplay_<env>.toml (the tournaments) and results/crossplay_<env>.png.

    python benchmarks/marl/crossplay.py --seeds 5 --steps 2688000 --games 400 --jobs 2
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import arena
from arena.agents.marl.runner import train
from arena.tournaments import ResultsStore, load_config
from arena.tournaments.statistics import wilson

RESULTS = Path(__file__).parent / "results"
ENVS = ("adversary-v0", "tag-v0")
LEARNERS = {  # name: (algorithm, hyperparameters)
    # one actor and one critic shared by all agents (with the agent's one-hot id), as MAPPO shares them; a
    # Gumbel-softmax temperature of 0.5 (the actor's gradient closer to that of the hard action it plays)
    "maddpg": (
        "maddpg",
        {
            "num_envs": 64,
            "lr": 3e-3,
            "critic_lr": 3e-3,
            "shared_actor": True,
            "shared_critic": True,
            "temperature": 0.5,
        },
    ),
    "mappo": ("mappo", {"num_envs": 64, "epochs": 5, "minibatches": 2, "lr": 1e-3, "critic_lr": 1e-3}),
}
EVAL = {"eval_every": 500_000, "eval_episodes": 100}
TOURNAMENT = """# Written by benchmarks/marl/crossplay.py: run it again with `arena tournament {path}`
name = "crossplay-{env}"
envs = ["{env}"]
games = {games}
seats = "all"
teams = true
scoring = "duplicate"
seed = 0
exploitability = "off"
{agents}"""


def train_run(env_id: str, learner: str, seed: int, steps: int, out: Path, max_seconds: float | None) -> None:
    algo, config = LEARNERS[learner]
    train(env_id, algo, steps=steps, seed=seed, out=out, config=config, max_seconds=max_seconds, **EVAL)


def train_all(jobs: list[tuple], workers: int) -> None:
    """Train (env, learner, seed, steps, out, max_seconds) jobs, `workers` at a time (one torch thread each)."""
    if workers <= 1:
        for job in jobs:
            train_run(*job)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for future in [pool.submit(train_run, *job) for job in jobs]:
            future.result()


def metrics_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def training_curve(run_dirs: list[Path], points: int = 60) -> list[tuple[float, float]]:
    """(millions of env steps, training return: the mean over the last 100 episodes of every agent), averaged over
    runs that log the same steps (seeds of one learner), at about `points` places."""
    runs = [[r for r in metrics_rows(path) if r["train_return"]] for path in run_dirs]
    length = min(len(rows) for rows in runs)
    picked = sorted({*range(0, length, max(length // points, 1)), length - 1})
    return [
        (int(runs[0][i]["env_steps"]) / 1e6, float(np.mean([float(rows[i]["train_return"]) for rows in runs])))
        for i in picked
    ]


def final_row(run_dir: Path) -> dict[str, float]:
    """Env steps and wall-clock seconds at the end of a run."""
    last = metrics_rows(run_dir)[-1]
    return {"env_steps": int(last["env_steps"]), "wall_time": float(last["wall_time"])}


def lineup_returns(db: Path, tournament: str) -> dict[str, list[float]]:
    """Mean team returns [adversaries, good agents] of every 'adversary controller vs good controller' lineup."""
    totals: dict[str, list[list[float]]] = defaultdict(list)
    with ResultsStore(db, readonly=True) as store:
        for match in store.matches(tournament, with_rounds=False):
            totals[f"{match['seats'][0]} vs {match['seats'][1]}"].append(match["payoffs"])
    return {lineup: [sum(p[t] for p in rows) / len(rows) for t in (0, 1)] for lineup, rows in totals.items()}


def pooled(
    pairings: list[dict], group_a: list[str], group_b: list[str], reps: int = 4000, seed: int = 0
) -> dict[str, object]:
    """Win rate of group A's agents against group B's over every pairing of one with the other, with a Wilson
    interval over the games and a percentile bootstrap interval over the agents (training seeds) of both groups."""
    wins = np.zeros((len(group_a), len(group_b)))
    games = np.zeros_like(wins)
    for p in pairings:
        for first, second, won in ((p["agent"], p["opponent"], p["wins"]), (p["opponent"], p["agent"], p["losses"])):
            if first in group_a and second in group_b:
                i, j = group_a.index(first), group_b.index(second)
                wins[i, j] += won + 0.5 * p["draws"]
                games[i, j] += p["games"]
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(reps):
        rows, cols = rng.integers(len(group_a), size=len(group_a)), rng.integers(len(group_b), size=len(group_b))
        boot.append(wins[np.ix_(rows, cols)].sum() / games[np.ix_(rows, cols)].sum())
    return {
        "agents": group_a,
        "opponents": group_b,
        "games": int(games.sum()),
        "win_rate": float(wins.sum() / games.sum()),
        "win_ci": list(wilson(wins.sum(), int(games.sum()))),
        "seed_ci": [float(x) for x in np.percentile(boot, [2.5, 97.5])],
        "per_pairing": (wins / games).round(3).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2_688_000, help="env steps per learner, seed and env")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--games", type=int, default=400, help="duplicate games per pairing (2 matches each)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="training runs at a time")
    parser.add_argument("--out", default="runs/crossplay")
    parser.add_argument("--retrain", action="store_true", help="train again runs already in --out")
    args = parser.parse_args()
    from plots import plot_curves

    out = Path(args.out)
    RESULTS.mkdir(exist_ok=True)
    seeds = list(range(args.seeds))

    def run_dir(env_id: str, name: str, seed: int) -> Path:
        return out / f"{env_id}-{name}-s{seed}"

    def missing(path: Path) -> bool:
        return args.retrain or not (path / "last.pt").exists()

    jobs = [
        (env_id, name, seed, args.steps, run_dir(env_id, name, seed), None)
        for env_id in ENVS
        for name in LEARNERS
        for seed in seeds
        if missing(run_dir(env_id, name, seed))
    ]
    train_all(jobs, args.jobs)
    jobs = []  # MAPPO for MADDPG's mean wall-clock time
    for env_id in ENVS:
        seconds = float(np.mean([final_row(run_dir(env_id, "maddpg", s))["wall_time"] for s in seeds]))
        if missing(run_dir(env_id, "mappo-time", 0)):
            jobs.append((env_id, "mappo", 0, 100 * args.steps, run_dir(env_id, "mappo-time", 0), seconds))
    train_all(jobs, args.jobs)

    report: dict[str, object] = {
        "steps": args.steps,
        "seeds": args.seeds,
        "games": args.games,
        "learners": LEARNERS,
        "envs": {},
    }
    for env_id in ENVS:
        short = env_id.split("-")[0]
        entrants = {f"{name}-s{seed}": run_dir(env_id, name, seed) for name in LEARNERS for seed in seeds}
        entrants["mappo-time"] = run_dir(env_id, "mappo-time", 0)
        groups = {name: [f"{name}-s{s}" for s in seeds] for name in LEARNERS}
        groups.update({"mappo-time": ["mappo-time"], "random": ["random"]})
        training = {name: final_row(path) for name, path in entrants.items()}
        curves = {
            f"{name.upper()} ({args.seeds} seeds)": training_curve([entrants[n] for n in groups[name]])
            for name in LEARNERS
        }
        curves["MAPPO, MADDPG's wall-clock"] = training_curve([entrants["mappo-time"]])
        plot_curves(
            curves,
            RESULTS / f"crossplay_{short}.png",
            f"{env_id}: training (self-play)",
            "env steps (millions)",
            "training return, mean over all agents",
        )
        agents = (
            "".join(
                f'\n[[agents]]\nname = "{name}"\nspec = "checkpoint:{path / "last.pt"}"\n'
                for name, path in entrants.items()
            )
            + '\n[[agents]]\nname = "random"\nspec = "random"\n'
        )
        path = RESULTS / f"crossplay_{short}.toml"
        shown = path.relative_to(RESULTS.parents[2])
        path.write_text(TOURNAMENT.format(path=shown, env=env_id, games=args.games, agents=agents))
        db = out / f"crossplay-{short}.sqlite"
        db.unlink(missing_ok=True)
        run = arena.run_tournament(load_config(path), db=str(db), workers=os.cpu_count())
        metrics = run.metrics
        pairings = [
            {
                key: p[key]
                for key in (
                    "agent",
                    "opponent",
                    "games",
                    "wins",
                    "draws",
                    "losses",
                    "win_rate",
                    "win_ci",
                    "mean_payoff",
                    "payoff_ci",
                )
            }
            for p in metrics["pairings"]
        ]
        ratings = [
            {
                "name": a["name"],
                "rank": a["rank"],
                "bradley_terry": a["bradley_terry"],
                "wins": a["wins"],
                "draws": a["draws"],
                "losses": a["losses"],
                "win_rate": a["win_rate"],
                "win_ci": a["win_ci"],
            }
            for a in metrics["agents"]
        ]
        summary = {
            f"{a} vs {b}": pooled(pairings, groups[a], groups[b])
            for a, b in (
                ("maddpg", "mappo"),
                ("maddpg", "mappo-time"),
                ("maddpg", "random"),
                ("mappo", "random"),
                ("mappo-time", "mappo"),
            )
        }
        for key, s in summary.items():
            print(
                f"{env_id}: {key:22s} {100 * s['win_rate']:5.1f}% of {s['games']} games, "
                f"Wilson [{100 * s['win_ci'][0]:.0f}, {100 * s['win_ci'][1]:.0f}], "
                f"seeds [{100 * s['seed_ci'][0]:.0f}, {100 * s['seed_ci'][1]:.0f}]"
            )
        report["envs"][env_id] = {
            "training": training,
            "tournament": str(shown),
            "matches": run.played,
            "summary": summary,
            "pairings": pairings,
            "ratings": ratings,
            "lineups": lineup_returns(db, f"crossplay-{env_id}"),
        }
    (RESULTS / "crossplay.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
