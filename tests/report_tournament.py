"""A small stored tournament with every kind of result a report reads, written row by row (no env is played).

Several envs (duplicate-scored poker, win/draw/loss tic-tac-toe with draws, a three-player poker, a repeated game
with full-information rounds, a general-sum game), incomplete duplicate sets and self-play, forfeits, time-outs,
errors and illegal moves, agents' statistics with tokens, transcripts, seeds left out, exact payoffs and
exploitability analyses.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

from arena.specs import EnvSpec
from arena.tournaments.config import config_from_dict
from arena.tournaments.records import AgentRecord, MatchRecord, encode_match, pack_transcripts
from arena.tournaments.store import ResultsStore

ENVS = ["kuhn_poker-v0", "tic_tac_toe-v0", "kuhn_poker-v0(players=3)", "rps-v0(rounds=4)", "prisoners_dilemma-v0"]
AGENTS = ["a", "b", "c"]


def _record(rng: random.Random, env: str, seats: tuple[str, ...], idx: int, **changes: object) -> MatchRecord:
    n = len(seats)
    values: dict = {
        "match_id": f"{env}/{'-'.join(seats)}/{idx}/{rng.random():.12f}",
        "env": EnvSpec.parse(env),
        "seats": seats,
        "index": idx,
        "seed": None if idx == 7 else 1000 + idx,
        "payoffs": (0.0,) * n,
        "outcomes": (None,) * n,
        "termination": "normal",
        "culprit": None,
        "message": "",
        "length": rng.randint(1, 9),
        "illegal_moves": (0,) * n,
        "timeouts": (0,) * n,
        "errors": (0,) * n,
        "random_fallbacks": (0,) * n,
        "wall_time": rng.random(),
        "agent_stats": tuple({} for _ in seats),
    }
    values.update(changes)
    return MatchRecord(**values)


def _kuhn(rng: random.Random) -> list[MatchRecord]:
    out = []
    for idx in range(12):
        for first, second in itertools.permutations(AGENTS, 2):
            if idx == 11 and first == "c":  # incomplete sets: one seat order only
                continue
            value = rng.choice([1.0, 2.0, -1.0, -2.0, 1.0])
            stats: tuple[dict, ...] = tuple({} for _ in range(2))
            if "a" in (first, second) and idx % 3 == 0:
                stats = tuple(
                    {"prompt_tokens": 100 + idx, "completion_tokens": 7, "mean_latency": 0.5 + idx / 10}
                    if s == "a"
                    else {}
                    for s in (first, second)
                )
            out.append(_record(rng, "kuhn_poker-v0", (first, second), idx, payoffs=(value, -value), agent_stats=stats))
    out.append(_record(rng, "kuhn_poker-v0", ("a", "a"), 3, payoffs=(1.0, -1.0)))  # self-play
    return out


def _tic_tac_toe(rng: random.Random) -> list[MatchRecord]:
    out = []
    for idx in range(15):
        for first, second in itertools.permutations(AGENTS, 2):
            kind = rng.choice(["win", "loss", "draw", "draw", "forfeit", "timeout", "error", "illegal"])
            payoffs = {"win": (1.0, -1.0), "loss": (-1.0, 1.0), "draw": (0.0, 0.0)}.get(kind, (1.0, -1.0))
            changes: dict = {"payoffs": payoffs}
            if kind in ("forfeit", "timeout", "error", "illegal"):
                changes.update(termination=kind if kind != "illegal" else "illegal_move", culprit=1, message=kind)
                changes["payoffs"] = (1.0, -1.0)
                column = {"timeout": "timeouts", "error": "errors", "illegal": "illegal_moves"}.get(kind)
                if column:
                    changes[column] = (0, 2 if kind == "illegal" else 1)
            out.append(_record(rng, "tic_tac_toe-v0", (first, second), idx, **changes))
    return out


def _three_players(rng: random.Random) -> list[MatchRecord]:
    out = []
    for idx in range(3):
        for seats in itertools.permutations(AGENTS):
            winner = rng.randrange(3)
            payoffs = tuple(2.0 if s == winner else -1.0 for s in range(3))
            out.append(_record(rng, "kuhn_poker-v0(players=3)", seats, idx, payoffs=payoffs))
    return out


def _repeated(rng: random.Random) -> list[MatchRecord]:
    out = []
    for idx in range(4):
        for first, second in itertools.permutations(AGENTS, 2):
            rounds = 4
            actions = [[rng.randrange(3) for _ in range(rounds)] for _ in range(2)]
            action_payoffs = [
                [[float(rng.choice([-1, 0, 1])) for _ in range(3)] for _ in range(rounds)] for _ in range(2)
            ]
            policies = [None, [[1 / 3, 1 / 3, 1 / 3] for _ in range(rounds)]]
            total = sum(action_payoffs[0][t][actions[0][t]] for t in range(rounds))
            out.append(
                _record(
                    rng,
                    "rps-v0(rounds=4)",
                    (first, second),
                    idx,
                    payoffs=(total, -total),
                    rounds={"actions": actions, "action_payoffs": action_payoffs, "policies": policies},
                )
            )
    return out


def _general_sum(rng: random.Random) -> list[MatchRecord]:
    table = [(3.0, 3.0), (0.0, 5.0), (5.0, 0.0), (1.0, 1.0)]
    return [
        _record(rng, "prisoners_dilemma-v0", (first, second), idx, payoffs=rng.choice(table))
        for idx in range(5)
        for first, second in itertools.permutations(AGENTS, 2)
    ]


def build(db: Path, name: str = "mixed") -> Path:
    """Write the tournament to `db` (a new file) and return it."""
    rng = random.Random(5)
    config = config_from_dict(
        {
            "name": name,
            "envs": ENVS,
            "agents": [{"name": "a", "spec": "random", "prompt_price": 0.15, "completion_price": 0.6}]
            + [{"name": n, "spec": f"fixed(action={k})"} for k, n in enumerate(AGENTS[1:])],
            "exploitability": "off",
        }
    )
    records = _kuhn(rng) + _tic_tac_toe(rng) + _three_players(rng) + _repeated(rng) + _general_sum(rng)
    rng.shuffle(records)
    with ResultsStore(db) as store:
        store.begin(config, [AgentRecord(a.name, a.spec) for a in config.agents], "test")
        transcript = json.dumps(pack_transcripts([{"reply": "ok", "step": 0}]))
        rows = [encode_match(r) for r in records]
        rows[:5] = [row[:-1] + (transcript,) for row in rows[:5]]
        for start in range(0, len(rows), 50):
            store.add_matches(name, rows[start : start + 50])
        kuhn = EnvSpec.parse("kuhn_poker-v0")
        store.set_analysis(name, "exact_payoff", kuhn, "a\nb", 0.125)
        store.set_analysis(name, "exploitability", kuhn, "b", {"value": 0.5, "exact": True})
    return db
