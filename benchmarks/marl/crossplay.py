"""adversary-v0 and tag-v0: MADDPG against MAPPO and random play in team cross-play, with win rates and intervals.

Both learners are trained on each env (one policy for both teams, a checkpoint controls whatever seat it is given);
then every pairing of controllers (adversary team x good team, from MADDPG, MAPPO and random) plays the same
`--games` seeded matches through `arena.play`. The tournament engine seats agents one by one, not as teams, so
the team lineups are played here with the same match loop it uses. Scoring is duplicate-style: in a given role and
against given opponents, MADDPG wins a game when its team earns more than the other controller's team earned in
the same role, against the same opponents, on the same seed (ties count half). Win rates carry 95% Wilson
intervals. Writes results/crossplay.json and results/crossplay_<env>.png (training curves).

    python benchmarks/marl/crossplay.py --minutes 10 --games 100
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from pathlib import Path

import numpy as np
import torch

import arena
from arena.agents.marl.runner import train

RESULTS = Path(__file__).parent / "results"
ENVS = ("adversary-v0", "tag-v0")
CONFIGS = {
    "maddpg": {"num_envs": 16},
    "mappo": {"num_envs": 64, "epochs": 5, "minibatches": 2, "lr": 1e-3, "critic_lr": 1e-3},
}


def wilson(wins: float, games: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a win rate."""
    if games == 0:
        return 0.0, 1.0
    p = wins / games
    centre = (p + z * z / (2 * games)) / (1 + z * z / games)
    half = z * math.sqrt(p * (1 - p) / games + z * z / (4 * games * games)) / (1 + z * z / games)
    return centre - half, centre + half


def team_returns(env_id: str, controllers: tuple[str, str], specs: dict[str, str], games: int) -> np.ndarray:
    """Team totals [games, 2] of the lineup (adversary team, good team) over seeded matches."""
    env = arena.make_env(env_id)
    teams = list(env.world.teams)  # the particle world under the PettingZoo view: 0 adversaries, 1 good agents
    lineup = [specs[controllers[team]] for team in teams]
    totals = np.zeros((games, 2))
    for game in range(games):
        result = arena.play(env, lineup, seed=game)
        for team, payoff in zip(teams, result.payoffs):
            totals[game, team] += payoff
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per learner and env")
    parser.add_argument("--steps", type=int, default=5_000_000)
    parser.add_argument("--games", type=int, default=100)
    parser.add_argument("--out", default="runs/bench/crossplay")
    args = parser.parse_args()
    torch.set_num_threads(1)
    report: dict[str, object] = {"minutes": args.minutes, "games": args.games, "configs": CONFIGS, "envs": {}}
    from plots import plot_curves

    for env_id in ENVS:
        specs, curves, training = {"random": "random"}, {}, {}
        for algo, config in CONFIGS.items():
            out = f"{args.out}/{env_id}-{algo}"
            run = train(env_id, algo, steps=args.steps, seed=0, out=out, config=config, eval_every=100_000,
                        eval_episodes=100, max_seconds=args.minutes * 60)
            specs[algo] = f"checkpoint:{out}/last.pt"
            curves[algo.upper()] = [(s / 1e6, v) for s, v in run.curve]
            training[algo] = {"env_steps": run.env_steps, "wall_time": run.wall_time}
        plot_curves(curves, RESULTS / f"crossplay_{env_id.split('-')[0]}.png", f"{env_id}: training (self-play)",
                    "env steps (millions)", "mean return over all agents")
        lineups = {pair: team_returns(env_id, pair, specs, args.games)
                   for pair in itertools.product(specs, repeat=2)}
        comparisons = []
        for role, role_name in ((0, "adversaries"), (1, "good agents")):
            for rival in ("mappo", "random"):
                for opponent in specs:
                    mine = lineups[("maddpg", opponent) if role == 0 else (opponent, "maddpg")][:, role]
                    theirs = lineups[(rival, opponent) if role == 0 else (opponent, rival)][:, role]
                    wins = float((mine > theirs).sum() + 0.5 * (mine == theirs).sum())
                    low, high = wilson(wins, args.games)
                    comparisons.append({"role": role_name, "maddpg_vs": rival, "opponents": opponent,
                                        "win_rate": wins / args.games, "ci95": [low, high],
                                        "maddpg_team_return": float(mine.mean()),
                                        "rival_team_return": float(theirs.mean())})
                    print(f"{env_id} {role_name:12s} vs {opponent:7s} opponents: MADDPG beats {rival:6s} in "
                          f"{100 * wins / args.games:5.1f}% [{100 * low:.0f}, {100 * high:.0f}] "
                          f"(team return {mine.mean():+.2f} vs {theirs.mean():+.2f})")
        report["envs"][env_id] = {"training": training, "comparisons": comparisons,
                                  "lineups": {f"{a} vs {g}": lineups[(a, g)].mean(axis=0).tolist()
                                              for a, g in lineups}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "crossplay.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
