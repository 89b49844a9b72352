"""All metrics of a stored tournament as plain JSON-able data: what `arena report` shows and `--json` prints.

Every figure is computed from the store's matches, so a report reads the same whether the run finished, was
interrupted or is still going: results and ratings (statistics.py, ratings.py), the meta-game and alpha-Rank
(metagame.py), regret in repeated games (regret.py), and the stored exploitability and exact payoffs (analysis.py).
The matches come as a `MatchTally` (each distinct match shape with its count, counted in SQL by
`ResultsStore.tally`, or from decoded records), and every table is computed from those counts; only regret reads
its matches one by one, from their rounds.

The ranking of each env follows what its results mean (its registry entry's `Outcomes`) unless `rank_by` says
otherwise: the expected payoff per game against the field where payoffs are amounts, general-sum or cooperative
(exact where both agents of a pairing have `action_probs` on a tabular game), the Davidson-Bradley-Terry rating in
win/draw/loss games. With several envs a leaderboard fits one Davidson model over all games, each env weighing the
same. No ranking is fitted over agents whose comparison graph is not connected.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np

import arena
from arena.errors import ConfigError
from arena.registry import Outcomes, env_outcomes
from arena.specs import EnvSpec
from arena.tournaments.metagame import MetaGame, alpha_rank_of, meta_game
from arena.tournaments.ratings import Outcome, components, davidson, interval_ranks
from arena.tournaments.records import MatchShape, MatchTally, StoredTournament, tally_records
from arena.tournaments.regret import env_regret
from arena.tournaments.statistics import (
    Counts,
    Games,
    agent_summaries,
    compare,
    complete_sets,
    counted,
    field_payoffs,
    game_counts,
    multiplayer_payoffs,
    pairing_results,
    payoff_cells,
    rating_tables,
    runoff_order,
)

if TYPE_CHECKING:
    from arena.tournaments.store import ResultsStore

RANK_BY = ("auto", "payoff", "rating", "nash", "runoff")
TIE_SHARE = 0.005  # agents whose intervals are closer than this share of the env's payoff range share a rank

MEANINGS = {
    "rank": "1 + the number of agents ranked above with intervals apart (by more than the tie margin); equal ranks"
    " are not told apart",
    "payoff": "expected payoff per game against the field: the mean over an agent's opponents of its mean payoff"
    " against each (exact where both have action_probs on a tabular game), 95% normal interval",
    "mbb_per_hand": "the same payoff in milli-big-blinds per hand (poker games with blinds)",
    "team_return": "mean return per game of the team an agent plays (cooperative envs), 95% normal interval",
    "rating": "Davidson-Bradley-Terry rating (draws modelled, 400-point scale around 1000), 95% bootstrap interval",
    "leaderboard": "one Davidson-Bradley-Terry fit over the games of every env, each env weighing the same",
    "nash": "Nash-averaging score: payoff against the maximum-entropy Nash mixture of the meta-game (0 is best)",
    "runoff": "instant-runoff bankroll: the agent with the lowest payoff against those still in leaves, repeatedly",
    "bradley_terry": "classic Bradley-Terry rating with a draw as half a win (Chatbot Arena's), bootstrap interval",
    "elo": "online Elo (K = 16), median over bootstrap replicates in random orders",
    "W-D-L": "wins, draws and losses against other agents, per game (a duplicate set under duplicate scoring)",
    "win_rate": "share of games won against other agents, Wilson 95% interval",
    "mean_payoff": "mean payoff per match on one env, 95% normal interval",
    "exploitability": "how much a best response gains against the agent's strategy in a two-player zero-sum game",
    "nash_conv": "NashConv: the sum over players of what a best response gains (more than two players, general-sum)",
    "regret": "external regret per round in repeated games, from full-information feedback",
    "growth_exponent": "b of R_t = c + a t^b fitted with the offset c free (a head start is not a rate); sublinear"
    " when b < 1",
    "sublinear": "yes: the exponent's whole 95% interval is below 1 (or regret is not positive); no: it reaches 1 and"
    " regret per round is clearly positive; inconclusive otherwise",
    "nash_weight": "weight of an agent in the maximum-entropy Nash equilibrium of the meta-game, bootstrap interval",
    "alpha_rank": "alpha-Rank stationary mass (single population): how much of the time evolution spends on the agent",
    "nra": "normalised relative advantage (GTBench): (own - opponent's) / (|own| + |opponent's|)",
    "seat": "mean payoff per match in one seat (first player, second player...), 95% normal interval",
    "illegal": "share of an agent's matches with an illegal move (time-outs and errors likewise)",
    "stats": "agent statistics: counts summed over matches (total), means and rates averaged (mean)",
}


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


def versions() -> dict[str, str | None]:
    """The versions of arena and OpenSpiel that computed these metrics: OpenSpiel's own where this process has
    loaded it, else its distribution's (importlib.metadata, 10-20 ms to import, is left to that case)."""
    pyspiel = sys.modules.get("pyspiel")
    openspiel: str | None = pyspiel.__version__ if pyspiel is not None else _installed_version("open_spiel")
    return {"arena": arena.__version__, "open_spiel": openspiel}


def _installed_version(distribution: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def env_scoring(scoring: str, outcomes: Outcomes, all_orders: bool) -> str:
    """The scoring one env gets: `auto` is duplicate where chance deals and every seat order is played."""
    if scoring == "auto":
        return "duplicate" if outcomes.chance and all_orders else "match"
    return scoring


def _scoring(config: Mapping[str, Any]) -> tuple[str, bool]:
    # databases from before `auto` were scored match by match
    return config.get("scoring", "match"), config.get("seats", "all") == "all"


def duplicate_scored(config: Mapping[str, Any]) -> Callable[[EnvSpec], bool]:
    """Whether a tournament of this stored config scores an env in duplicate sets (whose matches a tally then
    keeps apart by game index)."""
    scoring, all_orders = _scoring(config)
    return lambda env: env_scoring(scoring, env_outcomes(env), all_orders) == "duplicate"


def never_compared(names: list[str], games: Games) -> list[list[str]] | None:
    """The groups of agents that were never compared with each other (None when all of them were)."""
    index = {n: i for i, n in enumerate(names)}
    pairs = [
        (index[a], index[b])
        for g, _ in counted(games)
        for a in g.seats
        for b in g.seats
        if a != b and a in index and b in index
    ]
    groups = components(len(names), pairs)
    return [[names[i] for i in group] for group in groups] if len(groups) > 1 else None


def _outcomes(names: list[str], games: Games) -> tuple[list[Outcome], np.ndarray]:
    """The decided comparisons of each distinct game (`Outcome.game` its position), and each game's count."""
    index = {n: i for i, n in enumerate(names)}
    out, counts = [], []
    for k, (g, count) in enumerate(counted(games)):
        counts.append(count)
        for a in range(len(g.seats)):
            for b in range(a + 1, len(g.seats)):
                i, j = index.get(g.seats[a]), index.get(g.seats[b])
                if i is not None and j is not None and i != j:
                    result = compare(g.payoffs[a], g.payoffs[b])
                    out.append(Outcome(k, i, j, 1.0 if result > 0 else (0.0 if result < 0 else 0.5)))
    return out, np.array(counts, dtype=np.int64)


def _rows(values: list[tuple[str, float, float, float]], tie: float, exact: dict[str, bool] | None = None) -> list:
    ranks = interval_ranks(np.array([v[2] for v in values]), np.array([v[3] for v in values]), tie)
    return [
        {"name": n, "rank": r, "value": v, "lower": lo, "upper": hi, "exact": (exact or {}).get(n)}
        for (n, v, lo, hi), r in zip(values, ranks)
    ]


def _rating_ranking(names: list[str], games: Games, num_bootstrap: int, seed: int = 0) -> dict[str, Any]:
    outcomes, counts = _outcomes(names, games)
    fit = davidson(names, outcomes, len(counts), num_bootstrap, seed, counts=counts)
    rows = _rows([(r.name, r.rating, r.lower, r.upper) for r in fit.ratings], 0.0)
    return {"method": "rating", "label": "rating [95% CI]", "rows": rows, "draw_parameter": fit.draw_parameter}


def env_ranking(
    env: EnvSpec,
    outcomes: Outcomes,
    rank_by: str,
    names: list[str],
    games: Games,
    exact: dict[tuple[EnvSpec, str, str], float],
    meta: MetaGame | None,
    num_bootstrap: int,
    spread: float,
) -> dict[str, Any]:
    """One env's ranking: its method (rank_by, or what `auto` picks for the env's result kind), label, meaning, the
    rows (name, rank, value, 95% interval, exact) and the groups never compared (then nothing is ranked).

    Payoff and Nash rankings put two agents in different ranks only when their intervals are more than
    `TIE_SHARE` of `spread` (the range of the env's match payoffs) apart: exact values have no interval, and
    differences that small are ties."""
    players = max((len(g.seats) for g, _ in counted(games)), default=2)
    method = rank_by
    note = None
    if rank_by == "auto":
        method = "rating" if outcomes.kind == "win-draw-loss" else "payoff"
    if method in ("nash", "runoff") and (players != 2 or (method == "nash" and meta is None)):
        note = f"{method} ranking needs a two-player meta-game; ranked by payoff instead"
        method = "payoff"
    base: dict[str, Any] = {"kind": outcomes.kind, "requested": rank_by, "note": note, "exact": "none"}
    groups = never_compared(names, games)
    if groups:
        return {**base, "method": method, "label": "-", "rows": [], "never_compared": groups, "meaning": ""}
    tie = TIE_SHARE * spread
    zero_sum = outcomes.kind in ("amounts", "win-draw-loss")
    cells = payoff_cells(env, games, exact, zero_sum) if players == 2 else {}
    exact_cells = sum(c.exact for c in cells.values())
    base["exact"] = "all" if cells and exact_cells == len(cells) else ("some" if exact_cells else "none")
    if method == "rating":
        ranking = _rating_ranking(names, games, num_bootstrap)
        return {**base, **ranking, "never_compared": None, "meaning": MEANINGS["rating"], "exact": "none"}
    if method == "nash" and meta is not None:
        values = [(a, v, *meta.nash_averaging_ci[i]) for i, (a, v) in enumerate(zip(meta.agents, meta.nash_averaging))]
        rows = _rows(values, tie)
        label = "Nash-averaging score [95% CI]"
        return {**base, "method": "nash", "label": label, "rows": rows, "never_compared": None,
                "meaning": MEANINGS["nash"], "tie": tie}  # fmt: skip
    if players == 2:
        field = field_payoffs(names, cells, tie)
        exact_of = {f.name: f.exact_pairings == f.opponents for f in field}
    else:
        field = multiplayer_payoffs(names, games, tie)
        exact_of = {f.name: False for f in field}
    rows = _rows([(f.name, f.value, f.lower, f.upper) for f in field], tie, exact_of)
    cooperative = outcomes.kind == "cooperative"
    label = "team return per game [95% CI]" if cooperative else "payoff per game vs field [95% CI]"
    if players > 2 and not cooperative:
        label = "payoff per game [95% CI]"
    meaning = MEANINGS["team_return" if cooperative else "payoff"]
    if outcomes.big_blind:
        for row in rows:
            row["mbb_per_hand"] = [1000.0 * row[k] / outcomes.big_blind for k in ("value", "lower", "upper")]
    result = {**base, "method": method, "label": label, "rows": rows, "never_compared": None, "meaning": meaning,
              "tie": tie}  # fmt: skip
    if players == 2:
        order = runoff_order(names, cells)
        result["runoff"] = order
        if method == "runoff":
            position = {n: k + 1 for k, n in enumerate(order)}
            for row in rows:
                row["rank"] = position[row["name"]]
            result["label"] = "runoff place (payoff per game vs field [95% CI])"
            result["meaning"] = MEANINGS["runoff"]
    return result


def leaderboard(names: list[str], games_by_env: Mapping[EnvSpec, Games], num_bootstrap: int) -> dict[str, Any] | None:
    """One Davidson fit over the games of every env, each env weighing the same, with intervals from resampling
    games within each env (None with fewer than two envs that have games)."""
    envs = [e for e, g in games_by_env.items() if g]
    if len(envs) < 2:
        return None
    by_env = {e: game_counts(games_by_env[e]) for e in envs}
    played = {e: sum(by_env[e].values()) for e in envs}
    games = {g: count for e in envs for g, count in by_env[e].items()}
    strata = np.concatenate([np.full(len(by_env[e]), k) for k, e in enumerate(envs)])
    total = sum(played.values())
    weights = np.concatenate([np.full(len(by_env[e]), total / (len(envs) * played[e])) for e in envs])
    groups = never_compared(names, games)
    base = {"method": "rating", "label": "rating over all envs [95% CI]", "meaning": MEANINGS["leaderboard"],
            "envs": [e.text for e in envs]}  # fmt: skip
    if groups:
        return {**base, "rows": [], "never_compared": groups}
    outcomes, counts = _outcomes(names, games)
    fit = davidson(names, outcomes, len(counts), num_bootstrap, 0, weights, strata, counts)
    rows = _rows([(r.name, r.rating, r.lower, r.upper) for r in fit.ratings], 0.0)
    return {**base, "rows": rows, "never_compared": None, "draw_parameter": fit.draw_parameter}


def seat_results(names: list[str], matches: Mapping[MatchShape, int]) -> list[dict[str, Any]]:
    """Per seat (first player, second player...): the mean payoff of whoever sat there and of each agent, from
    the matches' shapes and counts."""
    seats = max((len(m.seats) for m in matches), default=0)
    out = []
    for s in range(seats):
        everyone = Counts()
        own: dict[str, Counts] = defaultdict(Counts)
        for m, count in matches.items():
            if len(m.seats) > s:
                everyone.add(m.payoffs[s], count)
                own[m.seats[s]].add(m.payoffs[s], count)
        agents = {n: own[n].interval() for n in names if n in own}
        out.append({"seat": s, "mean_payoff": everyone.interval(), "agents": agents})
    return out


def stored_metrics(
    store: ResultsStore, name: str, num_bootstrap: int = 200, rank_by: str | None = None
) -> tuple[StoredTournament, MatchTally, dict[str, Any]]:
    """The metrics of the tournament `name` in `store` from its matches counted in SQL (`ResultsStore.tally`), with
    the tournament (without match records) and the tally: what a report, the end of a run and the web front end
    show; no match is decoded one by one."""
    stored = store.tournament(name, records=False)
    tally = store.tally(name, duplicate_scored(stored.config))
    return stored, tally, compute_metrics(stored, num_bootstrap, rank_by, tally)


def compute_metrics(
    stored: StoredTournament, num_bootstrap: int = 200, rank_by: str | None = None, tally: MatchTally | None = None
) -> dict[str, Any]:
    """All metrics of a tournament as plain JSON-able data (the report's content); envs are named by their text.

    `tally` holds its matches counted by shape (`ResultsStore.tally` with `duplicate_scored(stored.config)`);
    without one they are tallied from `stored.matches`. `rank_by` overrides the stored config's (`auto` by
    default); `num_bootstrap` (at least 2) replicates give every bootstrap interval."""
    if num_bootstrap < 2:
        raise ConfigError(f"bootstrap needs at least 2 replicates (got {num_bootstrap})")
    rank_by = rank_by or str(stored.config.get("rank_by", "auto"))
    if rank_by not in RANK_BY:
        raise ConfigError(f"rank_by must be one of {', '.join(RANK_BY)} (got {rank_by!r})")
    if tally is None:
        tally = tally_records(stored.matches, duplicate_scored(stored.config))
    shapes = tally.shapes
    names = [a.name for a in stored.agents if any(a.name in m.seats for m in shapes)]
    exact: dict[tuple[EnvSpec, str, str], float] = {}
    for a in stored.analyses:
        if a.kind == "exact_payoff" and a.value is not None:
            first, _, second = a.subject.partition("\n")
            exact[a.env, first, second] = a.value
    exploitability: dict[EnvSpec, dict[str, Any]] = defaultdict(dict)
    for a in stored.analyses:
        if a.kind == "exploitability":
            exploitability[a.env][a.subject] = a.value
    scoring, all_orders = _scoring(stored.config)
    by_env: dict[EnvSpec, dict[MatchShape, int]] = defaultdict(dict)
    for shape, count in shapes.items():
        by_env[shape.env][shape] = count
    env_list = list(dict.fromkeys(stored.envs + list(by_env)))
    outcomes = {env: env_outcomes(env) for env in env_list}
    scoring_of = {env: env_scoring(scoring, outcomes[env], all_orders) for env in env_list}
    sets = complete_sets(tally.sets, all_orders)
    games_by_env = {
        env: sets.get(env, {}) if scoring_of[env] == "duplicate" else game_counts(by_env.get(env, {}))
        for env in env_list
    }
    games = {g: count for env in env_list for g, count in games_by_env[env].items()}
    summaries = agent_summaries(names, tally, games)
    apart = never_compared(names, games)  # then no rating over all games is fitted either
    tables = rating_tables(names, games, num_bootstrap) if not apart else None
    envs: dict[str, dict[str, Any]] = {}
    for env in env_list:
        env_matches, env_games, kind = by_env.get(env, {}), games_by_env[env], outcomes[env]
        env_names = [n for n in names if any(n in m.seats for m in env_matches)]
        players = len(next(iter(env_matches)).seats) if env_matches else None
        zero_sum = kind.kind in ("amounts", "win-draw-loss")
        meta = meta_game(env_names, env_games, exact, zero_sum, num_bootstrap) if players == 2 else None
        alpha = alpha_rank_of(env_names, env_games) if players and (players > 2 or not zero_sum) else None
        payoffs = {p for m in env_matches for p in m.payoffs}
        own: dict[str, Counts] = defaultdict(Counts)  # each agent's payoffs with their counts
        for m, count in env_matches.items():
            for seat, payoff in zip(m.seats, m.payoffs):
                own[seat].add(payoff, count)
        spread = max(payoffs) - min(payoffs) if payoffs else 0.0
        envs[env.text] = {
            "matches": sum(env_matches.values()),
            "games": sum(env_games.values()),
            "players": players,
            "result": kind.kind,
            "chance": kind.chance,
            "big_blind": kind.big_blind,
            "scoring": env_scoring(scoring, kind, all_orders),
            "analysis_column": "exploitability" if players == 2 and zero_sum else "nash_conv",
            "ranking": env_ranking(env, kind, rank_by, env_names, env_games, exact, meta, num_bootstrap, spread)
            if env_games
            else None,
            "meta_game": plain(meta) if meta else None,
            "alpha_rank": plain(alpha) if alpha else None,
            "exploitability": exploitability.get(env, {}),
            "regret": {name: plain(summary) for name, summary in env_regret(tally.rounds.get(env, [])).items()},
            "mean_payoff": {n: own[n].interval() for n in env_names},
            "seats": seat_results(env_names, env_matches),
        }
    board = leaderboard(names, {e: games_by_env[e] for e in env_list}, num_bootstrap)
    ranked_env = next((e for e, d in envs.items() if d["ranking"]), None)
    headline = board if board is not None else (envs[ranked_env]["ranking"] if ranked_env else None)
    ranked = {r["name"]: r for r in headline["rows"]} if headline else {}
    bt = {r.name: r.to_dict() for r in tables.bradley_terry} if tables else {}
    elo = {r.name: r.to_dict() for r in tables.elo} if tables else {}
    agent_rows = [
        {
            "name": a.name,
            "spec": a.spec.text,
            "rank": ranked[a.name]["rank"] if a.name in ranked else None,
            "headline": ranked.get(a.name),
            "bradley_terry": bt.get(a.name),
            "elo": elo.get(a.name),
            **plain(summaries[a.name]),
        }
        for a in stored.agents
        if a.name in summaries
    ]
    agent_rows.sort(
        key=lambda r: (r["rank"] is None, r["rank"] or 0, -(r["headline"]["value"] if r["headline"] else 0.0))
    )
    config = stored.config
    terminations: Counter[str] = Counter()
    for m, count in shapes.items():
        terminations[m.termination] += count
    return {
        "tournament": stored.name,
        "matches": tally.matches,
        "terminations": dict(sorted(terminations.items())),
        "scoring": scoring,
        "rank_by": rank_by,
        "games": sum(games.values()),
        "ranking": (
            {k: v for k, v in headline.items() if k != "rows"} | {"scope": "all envs" if board else ranked_env}
            if headline
            else None
        ),
        "leaderboard": board,
        "agents": agent_rows,
        "pairings": [plain(p) for p in pairing_results(names, games, exact)],
        "envs": envs,
        "config": config,
        "seeds": {"master": config.get("seed", 0), "distinct_match_seeds": tally.seeds},
        "versions": versions(),
        "played_with": {"arena": stored.played_with},
        "meanings": MEANINGS,
    }
