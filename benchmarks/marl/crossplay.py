"""adversary-v0 and tag-v0: MADDPG against MAPPO and random play in team cross-play tournaments.

MADDPG, MADDPG with the paper's policy ensembles (3 sub-policies per agent, one drawn per episode) and MAPPO
train on each env for the same wall-clock budget (one torch thread each, self-play: one policy for both teams,
so a checkpoint plays whichever team it is seated on). MAPPO makes about twice as many env steps in that time,
so `mappo-steps` is MAPPO trained for exactly as many env steps as plain MADDPG made: the two usual budgets of
MARL comparisons, wall-clock and samples. Then `arena tournament` runs one tournament per env among the four
and random play, with team seats (an agent controls every member of its team) and
duplicate scoring: game k of a pairing is the two matches on seed k with the teams swapped, and an agent wins it
when its mean team return over the two beats the other's, so the predators' and the prey's different scales
cancel. The tournament gives win rates with Wilson 95% intervals and Bradley-Terry ratings; this script adds the
mean team return of every (adversary controller, good controller) lineup from the same matches.
Runs already trained in --out (a last.pt) are reused; --retrain trains them again.
Writes results/crossplay.json, results/crossplay_<env>.toml (the tournaments) and results/crossplay_<env>.png.

    python benchmarks/marl/crossplay.py --minutes 15 --games 100 [--retrain]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import defaultdict
from pathlib import Path

import arena
from arena.agents.marl.runner import train
from arena.tournaments import ResultsStore, load_config

RESULTS = Path(__file__).parent / "results"
ENVS = ("adversary-v0", "tag-v0")
MADDPG = {"num_envs": 64, "lr": 3e-3, "critic_lr": 3e-3}
MAPPO = {"num_envs": 64, "epochs": 5, "minibatches": 2, "lr": 1e-3, "critic_lr": 1e-3}
LEARNERS = {  # name: (algorithm, hyperparameters), each trained for the same wall-clock budget
    "maddpg": ("maddpg", MADDPG),
    "maddpg-ensemble": ("maddpg", {**MADDPG, "ensemble": 3}),  # the paper's policy ensembles
    "mappo": ("mappo", MAPPO),
}
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


def training_curve(run_dir: Path) -> list[tuple[float, float]]:
    """(millions of env steps, evaluation return) from a run's metrics.csv."""
    with open(run_dir / "metrics.csv", newline="") as file:
        return [(int(row["env_steps"]) / 1e6, float(row["eval_return"])) for row in csv.DictReader(file)
                if row["eval_return"]]


def final_row(run_dir: Path) -> dict[str, float]:
    """Env steps and wall-clock seconds at the end of a run."""
    with open(run_dir / "metrics.csv", newline="") as file:
        last = list(csv.DictReader(file))[-1]
    return {"env_steps": int(last["env_steps"]), "wall_time": float(last["wall_time"])}


def lineup_returns(db: Path, tournament: str) -> dict[str, list[float]]:
    """Mean team returns [adversaries, good agents] of every 'adversary controller vs good controller' lineup."""
    totals: dict[str, list[list[float]]] = defaultdict(list)
    with ResultsStore(db, readonly=True) as store:
        for match in store.matches(tournament, with_rounds=False):
            totals[f"{match['seats'][0]} vs {match['seats'][1]}"].append(match["payoffs"])
    return {lineup: [sum(p[t] for p in rows) / len(rows) for t in (0, 1)] for lineup, rows in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="training budget per learner and env")
    parser.add_argument("--steps", type=int, default=50_000_000)
    parser.add_argument("--games", type=int, default=100, help="duplicate games per pairing (2 matches each)")
    parser.add_argument("--out", default="runs/crossplay")
    parser.add_argument("--retrain", action="store_true", help="train again runs already in --out")
    args = parser.parse_args()
    from plots import plot_curves

    RESULTS.mkdir(exist_ok=True)
    report: dict[str, object] = {"minutes": args.minutes, "games": args.games, "learners": LEARNERS, "envs": {}}
    for env_id in ENVS:
        short = env_id.split("-")[0]
        runs = {name: Path(args.out) / f"{env_id}-{name}" for name in (*LEARNERS, "mappo-steps")}
        for name, (algo, config) in LEARNERS.items():
            if args.retrain or not (runs[name] / "last.pt").exists():
                train(env_id, algo, steps=args.steps, seed=0, out=runs[name], config=config, eval_every=100_000,
                      eval_episodes=100, max_seconds=args.minutes * 60)
        if args.retrain or not (runs["mappo-steps"] / "last.pt").exists():  # MADDPG's number of env steps
            train(env_id, "mappo", steps=final_row(runs["maddpg"])["env_steps"], seed=0, out=runs["mappo-steps"],
                  config=MAPPO, eval_every=100_000, eval_episodes=100)
        training = {name: final_row(run_dir) for name, run_dir in runs.items()}
        plot_curves({name.upper(): training_curve(run_dir) for name, run_dir in runs.items()},
                    RESULTS / f"crossplay_{short}.png", f"{env_id}: training (self-play)", "env steps (millions)",
                    "mean return over all agents")
        agents = "".join(f'\n[[agents]]\nname = "{name}"\nspec = "checkpoint:{run_dir / "last.pt"}"\n'
                         for name, run_dir in runs.items()) + '\n[[agents]]\nname = "random"\nspec = "random"\n'
        path = RESULTS / f"crossplay_{short}.toml"
        shown = path.relative_to(RESULTS.parents[2])
        path.write_text(TOURNAMENT.format(path=shown, env=env_id, games=args.games, agents=agents))
        db = Path(args.out) / f"crossplay-{short}.sqlite"
        db.unlink(missing_ok=True)
        run = arena.run_tournament(load_config(path), db=str(db), workers=os.cpu_count())
        metrics = run.metrics
        pairings = [{key: p[key] for key in ("agent", "opponent", "games", "wins", "draws", "losses", "win_rate",
                                             "win_ci", "mean_payoff", "payoff_ci")} for p in metrics["pairings"]]
        ratings = [{"name": a["name"], "rank": a["rank"], "bradley_terry": a["bradley_terry"],
                    "wins": a["wins"], "draws": a["draws"], "losses": a["losses"], "win_rate": a["win_rate"],
                    "win_ci": a["win_ci"]} for a in metrics["agents"]]
        for p in pairings:
            print(f"{env_id}: {p['agent']:15s} vs {p['opponent']:15s} {p['wins']}-{p['draws']}-{p['losses']} "
                  f"win rate {100 * p['win_rate']:5.1f}% [{100 * p['win_ci'][0]:.0f}, {100 * p['win_ci'][1]:.0f}]")
        report["envs"][env_id] = {"training": training, "tournament": str(shown), "matches": run.played,
                                  "pairings": pairings, "ratings": ratings,
                                  "lineups": lineup_returns(db, f"crossplay-{env_id}")}
    (RESULTS / "crossplay.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
