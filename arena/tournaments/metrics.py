"""All metrics of a stored tournament as plain JSON-able data: what `arena report` shows and `--json` prints.

Every figure is computed from the store's records, so a report reads the same whether the run finished, was
interrupted or is still going: results and ratings (statistics.py), the meta-game of every two-player env
(metagame.py), regret in repeated games (regret.py), and the stored exploitability and exact payoffs (analysis.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import fields
from typing import Any

from arena.specs import EnvSpec
from arena.tournaments.metagame import meta_game
from arena.tournaments.records import MatchRecord, StoredTournament
from arena.tournaments.regret import env_regret
from arena.tournaments.statistics import (
    agent_summaries,
    mean_interval,
    pairing_results,
    rating_tables,
    scored_games,
)


def plain(record: Any) -> dict[str, Any]:
    """A result dataclass as plain data for the report (fields in order; nested results and specs converted)."""
    out = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, EnvSpec):
            value = value.text
        elif hasattr(value, "__dataclass_fields__"):
            value = plain(value)
        out[f.name] = value
    return out


def compute_metrics(stored: StoredTournament, num_bootstrap: int = 200) -> dict[str, Any]:
    """All metrics of a tournament as plain JSON-able data (the report's content); envs are named by their text."""
    matches = stored.matches
    names = [a.name for a in stored.agents if any(a.name in m.seats for m in matches)]
    exact: dict[tuple[EnvSpec, str, str], float] = {}
    for a in stored.analyses:
        if a.kind == "exact_payoff":
            first, _, second = a.subject.partition("\n")
            exact[a.env, first, second] = a.value
    exploitability: dict[EnvSpec, dict[str, Any]] = defaultdict(dict)
    for a in stored.analyses:
        if a.kind == "exploitability":
            exploitability[a.env][a.subject] = a.value
    scoring = stored.config.get("scoring", "match")
    games = scored_games(matches, scoring, stored.config.get("seats", "all") == "all")
    summaries = agent_summaries(names, matches, games)
    tables = rating_tables(names, games, num_bootstrap)
    by_env: dict[EnvSpec, list[MatchRecord]] = defaultdict(list)
    for m in matches:
        by_env[m.env].append(m)
    envs = {}
    for env in dict.fromkeys(stored.envs + list(by_env)):
        env_matches = by_env.get(env, [])
        env_names = [n for n in names if any(n in m.seats for m in env_matches)]
        two_player = bool(env_matches) and len(env_matches[0].seats) == 2
        meta = meta_game(env_names, env_matches) if two_player else None
        envs[env.text] = {
            "matches": len(env_matches),
            "players": len(env_matches[0].seats) if env_matches else None,
            "meta_game": plain(meta) if meta else None,
            "exploitability": exploitability.get(env, {}),
            "regret": {name: plain(summary) for name, summary in env_regret(env_matches).items()},
            "mean_payoff": {
                n: mean_interval([m.payoffs[s] for m in env_matches for s, seat in enumerate(m.seats) if seat == n])
                for n in env_names
            },
        }
    bt = {r.name: r for r in tables.bradley_terry}
    elo = {r.name: r for r in tables.elo}
    agent_rows = [
        {
            "name": a.name,
            "spec": a.spec.text,
            "rank": bt[a.name].rank,
            "bradley_terry": bt[a.name].to_dict(),
            "elo": elo[a.name].to_dict(),
            **plain(summaries[a.name]),
        }
        for a in stored.agents
        if a.name in summaries
    ]
    agent_rows.sort(key=lambda r: (r["rank"], -r["bradley_terry"]["rating"]))
    return {
        "tournament": stored.name,
        "matches": len(matches),
        "terminations": dict(sorted(Counter(m.termination for m in matches).items())),
        "scoring": scoring,
        "games": len(games),
        "agents": agent_rows,
        "pairings": [plain(p) for p in pairing_results(names, games, exact)],
        "envs": envs,
    }
