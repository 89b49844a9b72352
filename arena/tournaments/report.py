"""Reports of a tournament's metrics: rich tables in the terminal, CSV files, matplotlib plots, one-file HTML.

`build_report(db, tournament)` reads the store (read-only, so it works while a run is writing) and computes the
metrics from its matches counted in SQL (`ResultsStore.tally`); it decodes match records only for the matches
with transcripts and, in tournaments whose agents report tokens, for the costs. The writers below only format them.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from arena.console import make_console
from arena.errors import ArenaError, ConfigError
from arena.tournaments.config import config_from_dict
from arena.tournaments.costs import cost_report
from arena.tournaments.metrics import stored_metrics
from arena.tournaments.records import MatchRecord, MatchTally, StoredTournament
from arena.tournaments.store import ResultsStore


def tournament_names(db: str | Path) -> list[str]:
    """The tournaments a results database holds, oldest first."""
    with ResultsStore(db, readonly=True) as store:
        return store.tournaments()


def build_report(
    db: str | Path, tournament: str | None = None, num_bootstrap: int = 200, rank_by: str | None = None
) -> dict[str, Any]:
    """The metrics of one stored tournament: the one named, or the only one the database holds (a database with
    several needs a name: a ConfigError lists them)."""
    with ResultsStore(db, readonly=True) as store:
        names = store.tournaments()
        if tournament is None and len(names) > 1:
            raise ConfigError(
                f"{db} holds {len(names)} tournaments: {', '.join(names)}; choose one with --tournament NAME, "
                "or report them all with --all"
            )
        stored, tally, metrics = stored_metrics(store, store.resolve(tournament), num_bootstrap, rank_by)
        transcribed = store.records(stored.name, with_rounds=False, transcribed=True)
        costs = stored_costs(stored, tally, lambda: store.records(stored.name, with_rounds=False))
    metrics["scheduled_config"] = stored.config
    metrics["transcripts"] = transcript_links(transcribed, str(db))
    metrics["costs"] = costs
    return metrics


def stored_costs(
    stored: StoredTournament, tally: MatchTally, records: Callable[[], list[MatchRecord]]
) -> dict[str, Any] | None:
    """Tokens, dollars (at the stored prices) and seconds per agent and pairing, from the match `records` (read
    only then), for tournaments whose agents report tokens; None otherwise (or when the stored config no
    longer reads)."""
    if not any(isinstance(s, dict) and s.get("prompt_tokens") for _, stats, _ in tally.stats for s in stats):
        return None
    try:
        config = config_from_dict({**stored.config, "name": stored.name})
    except ArenaError:
        return None
    return cost_report(config, records())


def transcript_links(matches: list[MatchRecord], db: str) -> list[dict[str, Any]]:
    """Per env and pairing, over the matches with transcripts: the match the first-named agent did worst in and
    the one it did best in (by its payoff, ties to the earlier match), with the command that shows each decision
    by decision."""
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[float, MatchRecord]]] = {}
    for m in matches:
        pairing = tuple(sorted(set(m.seats)))
        seat = m.seats.index(pairing[0])
        groups.setdefault((m.env.text, pairing), []).append((m.payoffs[seat], m))
    links = []
    for (env, pairing), scored in groups.items():
        worst = min(scored, key=lambda s: s[0])
        best = max(scored, key=lambda s: s[0])
        links.append(
            {
                "env": env,
                "agents": list(pairing),
                "matches": len(scored),
                **{
                    name: {"match_id": m.match_id, "payoff": payoff, "show": f"arena replay {db} --match {m.match_id}"}
                    for name, (payoff, m) in (("worst", worst), ("best", best))
                },
            }
        )
    return links


# ---------------------------------------------------------------------------------------------------------------
# Formatting helpers


def _num(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _interval(value: float, low: float, high: float, digits: int = 0) -> str:
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _percent(rate: float, ci: tuple[float, float] | list[float]) -> str:
    if rate is None or math.isnan(rate):
        return "-"
    return f"{100 * rate:.0f}% [{100 * ci[0]:.0f}, {100 * ci[1]:.0f}]"


def _short(env: str) -> str:
    return env.replace("-v0", "")


def _exploitability_cell(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "-"
    if entry.get("value") is None:
        return entry.get("error", "-")[:20]
    value = entry["value"]
    if entry.get("bound"):  # a best-response lower bound with its 95% interval
        return f">= {value:.3g} [{entry['low']:.3g}, {entry['high']:.3g}]"
    return f"{value:.4f}" if entry.get("exact") else f"~{value:.3f}±{entry.get('stderr', 0):.3f}"


def _payoff_cell(entry: tuple[float, float, float] | list[float] | None) -> str:
    if not entry or entry[0] is None or math.isnan(entry[0]):
        return "-"
    mean, low, high = entry
    return f"{mean:+.3f} ±{(high - low) / 2:.3f}"


def _ci(value: float | None, low: float | None, high: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if low is None or high is None or (low == value == high):
        return f"{value:+.{digits}f}" if digits else f"{value:.0f}"
    if digits:
        return f"{value:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"
    return f"{value:.0f} [{low:.0f}, {high:.0f}]"


def _mbb(row: dict[str, Any] | None) -> str:
    if not row or not row.get("mbb_per_hand"):
        return "-"
    value, low, high = row["mbb_per_hand"]
    return _ci(value, low, high, 1)


def _headline_cell(ranking: dict[str, Any], row: dict[str, Any] | None) -> str:
    if not row:
        return "-"
    digits = 0 if ranking["method"] == "rating" else 4
    cell = _ci(row["value"], row["lower"], row["upper"], digits)
    return cell + (" (exact)" if row.get("exact") else "")


def analysis_label(env_data: dict[str, Any]) -> str:
    """What an env's analysis column holds: exploitability (two-player zero-sum) or NashConv."""
    return "NashConv" if env_data.get("analysis_column") == "nash_conv" else "exploitability"


def ranking_title(metrics: dict[str, Any], ranking: dict[str, Any] | None, scope: str | None = None) -> str:
    """A ranking table's title: what it ranks, by which method, and whether its payoffs are exact."""
    where = scope or metrics["tournament"]
    if not ranking:
        return f"{where}: {metrics['matches']} matches, nothing ranked"
    by = {"payoff": "expected payoff per game against the field", "rating": "Davidson-Bradley-Terry rating",
          "nash": "Nash-averaging score", "runoff": "instant-runoff bankroll"}[ranking["method"]]  # fmt: skip
    if ranking.get("scope") == "all envs" or "envs" in ranking:
        by += ", every env weighing the same"
    if ranking.get("kind") == "cooperative" and ranking["method"] == "payoff":
        by = "team return per game"
    exact = {"all": "; exact expected payoffs (no sampling noise)", "some": "; exact where both agents have"
             " action_probs, sampled elsewhere"}.get(ranking.get("exact", "none"), "")  # fmt: skip
    note = f" ({ranking['note']})" if ranking.get("note") else ""
    return f"{where}: {metrics['matches']} matches; ranked by {by}{exact}{note}"


def never_compared_line(ranking: dict[str, Any] | None) -> str | None:
    """The line that says why nothing was ranked: the groups of agents that never met."""
    if not ranking or not ranking.get("never_compared"):
        return None
    groups = " | ".join("{" + ", ".join(g) + "}" for g in ranking["never_compared"])
    return f"not ranked: these groups of agents were never compared with each other: {groups}"


def ranking_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the ranking table: the headline ranking (the env's, or the leaderboard over all envs)
    with its interval, results, exploitability or NashConv, regret and reliability."""
    envs = metrics["envs"]
    ranking = metrics.get("ranking") or {"method": "payoff", "label": "-"}
    tabular = [e for e, d in envs.items() if d["exploitability"]]
    repeated = [e for e, d in envs.items() if d["regret"]]
    winning = any(d.get("result") in ("amounts", "win-draw-loss", None) for d in envs.values())
    mbb = any(r.get("mbb_per_hand") for r in (a.get("headline") or {} for a in metrics["agents"]))
    header = ["rank", "agent", ranking["label"]]
    header += ["mbb/hand [95% CI]"] if mbb else []
    header += ["W-D-L", "win rate [95% CI]"] if winning else []
    header += [f"mean payoff {_short(e)}" for e in envs]
    header += [f"{analysis_label(envs[e])} {_short(e)}" for e in tabular]
    header += [f"regret/round {_short(e)}" for e in repeated]
    header += ["illegal", "time-outs", "errors"]
    rows = []
    for a in metrics["agents"]:
        head = a.get("headline")
        row = ["-" if a["rank"] is None else str(a["rank"]), a["name"], _headline_cell(ranking, head)]
        if mbb:
            row.append(_mbb(head))
        if winning:
            row += [f"{a['wins']}-{a['draws']}-{a['losses']}", _percent(a["win_rate"], a["win_ci"])]
        row += [_payoff_cell(envs[e]["mean_payoff"].get(a["name"])) for e in envs]
        row += [_exploitability_cell(envs[e]["exploitability"].get(a["name"])) for e in tabular]
        row += [_num(envs[e]["regret"].get(a["name"], {}).get("external_regret_per_round")) for e in repeated]
        row += [
            f"{100 * a['illegal_move_rate']:.0f}%",
            f"{100 * a['timeout_rate']:.0f}%",
            f"{100 * a['error_rate']:.0f}%",
        ]
        rows.append(row)
    return header, rows


def env_ranking_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Every env's own ranking (next to the leaderboard when there are several envs)."""
    header = ["env", "rank", "agent", "ranked by", "value [95% CI]", "mbb/hand [95% CI]", "runoff place"]
    rows = []
    for env, data in metrics["envs"].items():
        ranking = data.get("ranking")
        if not ranking:
            continue
        line = never_compared_line(ranking)
        if line:
            rows.append([_short(env), "-", "-", ranking["method"], line, "-", "-"])
            continue
        place = {n: k + 1 for k, n in enumerate(ranking.get("runoff", []))}
        for r in sorted(ranking["rows"], key=lambda r: (r["rank"], -r["value"])):
            mbb = _mbb(r)
            rows.append(
                [
                    _short(env),
                    str(r["rank"]),
                    r["name"],
                    ranking["method"] + (" (exact)" if r.get("exact") else ""),
                    _headline_cell(ranking, r).removesuffix(" (exact)"),
                    mbb,
                    str(place.get(r["name"], "-")),
                ]
            )
    return header, rows


def ratings_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Classic Bradley-Terry (a draw as half a win) and Elo over every game, for comparison with other arenas."""
    header = ["agent", "Bradley-Terry [95% CI]", "Elo [95% CI]"]
    rows = []
    for a in metrics["agents"]:
        bt, elo = a["bradley_terry"], a["elo"]
        if bt is None or elo is None:  # agents never compared: nothing is fitted
            continue
        rows.append(
            [
                a["name"],
                _interval(bt["rating"], bt["lower"], bt["upper"]),
                _interval(elo["rating"], elo["lower"], elo["upper"]),
            ]
        )
    return header, rows


def pairing_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["env", "agent", "opponent", "games", "W-D-L", "win rate [95% CI]", "mean payoff [95% CI]", "exact", "NRA"]
    rows = []
    for p in metrics["pairings"]:
        low, high = p["payoff_ci"]
        rows.append(
            [
                _short(p["env"]),
                p["agent"],
                p["opponent"],
                str(p["games"]),
                f"{p['wins']}-{p['draws']}-{p['losses']}",
                _percent(p["win_rate"], p["win_ci"]),
                f"{p['mean_payoff']:+.3f} [{low:+.3f}, {high:+.3f}]",
                "-" if p["exact_payoff"] is None else f"{p['exact_payoff']:+.4f}",
                f"{p['nra']:+.3f}",
            ]
        )
    return header, rows


def seat_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Seat-level results: the mean payoff in each seat, of everyone and of each agent."""
    header = ["env", "seat", "agent", "mean payoff [95% CI]"]
    rows = []
    for env, data in metrics["envs"].items():
        for seat in data.get("seats", []):
            where = "first player" if seat["seat"] == 0 else f"player {seat['seat'] + 1}"
            rows.append([_short(env), where, "(all)", _payoff_cell(seat["mean_payoff"])])
            rows += [[_short(env), where, name, _payoff_cell(v)] for name, v in seat["agents"].items()]
    return header, rows


def meta_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["env", "agent", "Nash weight [95% CI]", "Nash-averaging score [95% CI]", "meta regret", "payoffs"]
    rows = []
    for env, data in metrics["envs"].items():
        meta = data["meta_game"]
        if not meta:
            continue
        exact = sum(map(sum, meta["exact"]))
        played = sum(v is not None for row in meta["payoffs"] for v in row)
        basis = "exact" if played and exact == played else ("sampled" if not exact else "exact and sampled")
        for i, name in enumerate(meta["agents"]):
            low, high = meta["nash_ci"][i]
            a_low, a_high = meta["nash_averaging_ci"][i]
            rows.append(
                [
                    _short(env),
                    name,
                    f"{meta['nash'][i]:.3f}" + ("" if low == high else f" [{low:.3f}, {high:.3f}]"),
                    _ci(meta["nash_averaging"][i], a_low, a_high, 4),
                    f"{meta['regret'][i]:.4f}",
                    basis,
                ]
            )
    return header, rows


def alpha_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["env", "rank", "agent", "alpha-Rank mass"]
    rows = []
    for env, data in metrics["envs"].items():
        alpha = data.get("alpha_rank")
        if alpha:
            order = sorted(range(len(alpha["agents"])), key=lambda i: alpha["rank"][i])
            rows += [[_short(env), str(alpha["rank"][i]), alpha["agents"][i], f"{alpha['mass'][i]:.3f}"] for i in order]
    return header, rows


def regret_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = [
        "env",
        "agent",
        "matches",
        "rounds",
        "external regret/round [95% CI]",
        "dynamic regret/round",
        "growth exponent b [95% CI]",
        "log-log slope",
        "sublinear",
    ]
    rows = []
    for env, data in metrics["envs"].items():
        for name, r in data["regret"].items():
            low, high = r["external_regret_ci"]
            exponent = "-" if r["growth_exponent"] is None else f"{r['growth_exponent']:.2f}"
            if r["growth_exponent_ci"]:
                exponent += f" [{r['growth_exponent_ci'][0]:.2f}, {r['growth_exponent_ci'][1]:.2f}]"
            rows.append(
                [
                    _short(env),
                    name,
                    str(r["matches"]),
                    str(r["rounds"]),
                    f"{r['external_regret_per_round']:.4f} [{low:.4f}, {high:.4f}]",
                    f"{r['dynamic_regret_per_round']:.4f}",
                    exponent,
                    _num(r["loglog_slope"], 2),
                    r["sublinear"],
                ]
            )
    return header, rows


def stats_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Agent statistics: counts summed over an agent's matches, means and rates averaged; each column says which."""
    kinds: dict[str, str] = {}
    for a in metrics["agents"]:
        kinds.update(a.get("stat_kinds", {}))
    keys = sorted(kinds)
    labels = [f"{k} ({'total' if kinds[k] == 'total' else 'mean per match'})" for k in keys]
    header = ["agent", "matches (total)", "forfeits (total)", *labels]
    rows = [
        [a["name"], str(a["matches"]), str(a["forfeits"]), *[_num(a["stats"].get(k), 3) for k in keys]]
        for a in metrics["agents"]
    ]
    return header, rows


def cost_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["agent", "matches", "prompt tokens", "completion tokens", "dollars", "seconds", "payoff per dollar"]
    agents = (metrics.get("costs") or {}).get("agents", {})
    rows = [
        [
            name,
            str(c["matches"]),
            f"{c['prompt_tokens']:,}",
            f"{c['completion_tokens']:,}",
            f"{c['dollars']:.4f}",
            f"{c['seconds']:.1f}",
            "-" if c["payoff_per_dollar"] is None else f"{c['payoff_per_dollar']:+.3g}",
        ]
        for name, c in agents.items()
        if c["prompt_tokens"] or c["completion_tokens"] or c["dollars"]
    ]
    return header, rows


def transcript_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["env", "pairing", "matches", "worst for the first (payoff)", "best for the first (payoff)"]
    rows = [
        [
            _short(t["env"]),
            " vs ".join(t["agents"]),
            str(t["matches"]),
            f"{t['worst']['match_id']} ({t['worst']['payoff']:+.3g})",
            f"{t['best']['match_id']} ({t['best']['payoff']:+.3g})",
        ]
        for t in metrics.get("transcripts") or []
    ]
    return header, rows


TABLES = {
    "ranking": ranking_rows,
    "env_rankings": env_ranking_rows,
    "ratings": ratings_rows,
    "pairings": pairing_rows,
    "seats": seat_rows,
    "meta_game": meta_rows,
    "alpha_rank": alpha_rows,
    "regret": regret_rows,
    "agent_stats": stats_rows,
    "costs": cost_rows,
    "transcripts": transcript_rows,
}

TITLES = {
    "ranking": "Ranking",
    "env_rankings": "Ranking on each env",
    "ratings": "Ratings over every game (Bradley-Terry with a draw as half a win, and Elo)",
    "pairings": "Head to head",
    "seats": "Results by seat",
    "meta_game": "Meta-game equilibrium (Nash averaging)",
    "alpha_rank": "alpha-Rank",
    "regret": "Regret in repeated games",
    "agent_stats": "Agent statistics",
    "costs": "Costs per agent (tokens it reported, dollars at the tournament's prices, seconds of its matches)",
    "transcripts": "Transcripts: each pairing's worst and best match (arena replay DB --match ID shows one)",
}


def _table_title(metrics: dict[str, Any], key: str, terminal: bool = False) -> str:
    """A table's title: a heading in HTML, a lower-case caption in the terminal (as rich shows titles)."""
    if key == "ranking":
        ranking = metrics.get("ranking")
        scope = ranking.get("scope") if ranking else None
        return ranking_title(metrics, ranking, None if scope in (None, "all envs") else _short(scope))
    title = TITLES[key]
    return title[0].lower() + title[1:] if terminal and not title.startswith("alpha") else title


def _shown(metrics: dict[str, Any], key: str, header: list[str], rows: list[list[str]]) -> bool:
    if not rows or (key == "agent_stats" and len(header) == 3):
        return False
    return not (key == "env_rankings" and not metrics.get("leaderboard"))  # one env: the ranking is its ranking


# ---------------------------------------------------------------------------------------------------------------
# Terminal


def _natural_width(console: Any, table: Table) -> int:
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update(max_width=100_000), table).maximum


def print_ranking(metrics: dict[str, Any], console: Any = None, full: bool = False) -> None:
    """The ranking table (and, with `full`, every other table) with rich. Output that is not a terminal gets every
    table at its full width, never squeezed to the console's."""
    console = console or make_console()
    for key, rows_of in TABLES.items():
        if key != "ranking" and not full:
            break
        header, rows = rows_of(metrics)
        if key == "ranking":
            line = never_compared_line(metrics.get("ranking"))
            if line:
                console.print(line, soft_wrap=True)
        if not _shown(metrics, key, header, rows):
            continue
        table = Table(title=_table_title(metrics, key, terminal=True))
        for column in header:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        if console.is_terminal:
            console.print(table)
        else:  # a file or a pipe: as wide as the table needs
            width = console.width
            console.width = max(width, _natural_width(console, table))
            try:
                console.print(table)
            finally:
                console.width = width


# ---------------------------------------------------------------------------------------------------------------
# CSV


def write_csv(metrics: dict[str, Any], directory: str | Path) -> list[Path]:
    """One CSV file per table, plus the meta-game payoff matrices."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for key, rows_of in TABLES.items():
        header, rows = rows_of(metrics)
        path = directory / f"{key}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(path)
    for env, data in metrics["envs"].items():
        meta = data["meta_game"]
        if not meta:
            continue
        path = directory / f"payoff_matrix_{slug(env)}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["agent \\ opponent", *meta["agents"]])
            for name, row in zip(meta["agents"], meta["payoffs"]):
                writer.writerow([name, *["" if v is None else f"{v:.6g}" for v in row]])
        written.append(path)
    return written


def slug(text: str) -> str:
    """A text as a safe file-name part."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


# ---------------------------------------------------------------------------------------------------------------
# Plots


def make_figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """Matplotlib figures (Agg): win-rate heatmaps, ratings with intervals, regret curves, exploitability bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {}
    agents = metrics["agents"]
    ranked = [a for a in agents if a.get("headline")]
    if ranked:
        ranking = metrics["ranking"]
        fig, ax = plt.subplots(figsize=(7, 0.5 * len(ranked) + 1.5))
        ordered = ranked[::-1]
        for y, a in enumerate(ordered):
            r = a["headline"]
            ax.errorbar(
                r["value"],
                y,
                xerr=[[r["value"] - r["lower"]], [r["upper"] - r["value"]]],
                fmt="o",
                capsize=4,
                color="tab:blue",
            )
        ax.set_yticks(range(len(ordered)), [f"{a['rank']}. {a['name']}" for a in ordered])
        ax.set_xlabel(ranking["label"])
        ax.set_title(f"The ranking: {ranking['label'].replace(' [95% CI]', '')}, with 95% intervals")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        figures["ranking"] = fig
    names = [a["name"] for a in agents]
    for env in metrics["envs"]:
        pairs = [p for p in metrics["pairings"] if p["env"] == env]
        if not pairs:
            continue
        index = {n: i for i, n in enumerate(names)}
        grid = np.full((len(names), len(names)), np.nan)
        for p in pairs:
            i, j = index[p["agent"]], index[p["opponent"]]
            grid[i, j] = (p["wins"] + 0.5 * p["draws"]) / p["games"]
            grid[j, i] = (p["losses"] + 0.5 * p["draws"]) / p["games"]
        fig, ax = plt.subplots(figsize=(1.1 * len(names) + 2.5, 0.9 * len(names) + 1.8))
        image = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1)
        for i in range(len(names)):
            for j in range(len(names)):
                if not np.isnan(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("opponent")
        ax.set_title(f"How often the row agent beats the column agent in {_short(env)} (a draw counts half)")
        fig.colorbar(image, ax=ax, fraction=0.046)
        fig.tight_layout()
        figures[f"winrate_{slug(env)}"] = fig
    for env, data in metrics["envs"].items():
        if not data["regret"]:
            continue
        fig, ax = plt.subplots(figsize=(7, 4))
        for name, r in data["regret"].items():
            curve = np.asarray(r["curve_external"])
            slope = "" if r["growth_exponent"] is None else f" (b = {r['growth_exponent']:.2f}, {r['sublinear']})"
            ax.plot(np.arange(1, len(curve) + 1), curve, label=f"{name}{slope}")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("round t")
        ax.set_ylabel("average external regret R_t / t")
        ax.set_title(f"Average regret per round over time in {_short(env)}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        figures[f"regret_{slug(env)}"] = fig
    exploit = [
        (env, name, e)
        for env, d in metrics["envs"].items()
        for name, e in d["exploitability"].items()
        if e.get("value") is not None
    ]
    if exploit:
        envs = list(dict.fromkeys(env for env, _, _ in exploit))
        fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(names) * len(envs)), 4))
        width = 0.8 / len(envs)
        for k, env in enumerate(envs):
            values = {name: e for e_env, name, e in exploit if e_env == env}
            xs = [i + k * width for i, n in enumerate(names) if n in values]
            ys = [values[n]["value"] for n in names if n in values]
            errs = [values[n].get("stderr") or 0.0 for n in names if n in values]
            ax.bar(xs, ys, width, yerr=errs, capsize=3, label=_short(env))
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=30, ha="right")
        labels = {analysis_label(metrics["envs"][env]) for env in envs}
        ax.set_ylabel(" / ".join(sorted(labels)))
        ax.set_title(f"How much a best response gains against each agent ({' or '.join(sorted(labels))})")
        ax.legend(fontsize=8)
        fig.tight_layout()
        figures["exploitability"] = fig
    return figures


def write_plots(metrics: dict[str, Any], directory: str | Path) -> list[Path]:
    """Save every figure as a PNG in `directory`."""
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in make_figures(metrics).items():
        path = directory / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------------------------
# HTML


def _html_table(title: str, header: list[str], rows: list[list[str]], note: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    caption = f"<p>{html.escape(note)}</p>" if note else ""
    return (
        f"<h2>{html.escape(title)}</h2>{caption}<div class='scroll'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _provenance(metrics: dict[str, Any]) -> str:
    """What a reader needs to cite or redo the numbers: method, seeds, versions, config, what each metric means."""
    ranking = metrics.get("ranking") or {}
    versions = ", ".join(f"{k} {v}" for k, v in metrics.get("versions", {}).items() if v)
    seeds = metrics.get("seeds", {})
    items = [
        f"ranked by: {ranking.get('method', '-')} (rank_by = {metrics.get('rank_by')}): {ranking.get('meaning', '')}",
        f"scoring: {metrics.get('scoring')}; per env: "
        + ", ".join(f"{_short(e)} {d.get('scoring')} ({d.get('result')})" for e, d in metrics["envs"].items()),
        f"master seed {seeds.get('master')}; {seeds.get('distinct_match_seeds')} distinct match seeds (each match's"
        " seed is stored with it)",
        f"played with arena {(metrics.get('played_with') or {}).get('arena') or 'of unknown version'}; "
        f"computed with {versions}",
    ]
    meanings = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in metrics.get("meanings", {}).items()
    )
    config = html.escape(json.dumps(metrics.get("config", {}), indent=2, default=str))
    return (
        "<h2>How these numbers were made</h2><ul>"
        + "".join(f"<li>{html.escape(i)}</li>" for i in items)
        + f"</ul><h3>What each metric means</h3><ul>{meanings}</ul>"
        + f"<h3>Configuration</h3><pre>{config}</pre>"
    )


def write_html(metrics: dict[str, Any], path: str | Path) -> Path:
    """One self-contained HTML file: every table (wide ones scroll), every plot embedded as a base64 PNG under a
    heading that says what it shows, and how the numbers were made (method, seeds, versions, config, meanings)."""
    import matplotlib.pyplot as plt

    parts = [
        f"<h1>Tournament {html.escape(str(metrics['tournament']))}</h1>",
        f"<p>{metrics['matches']} matches; endings: "
        + html.escape(", ".join(f"{k} {v}" for k, v in metrics["terminations"].items()))
        + "</p>",
    ]
    line = never_compared_line(metrics.get("ranking"))
    if line:
        parts.append(f"<p><b>{html.escape(line)}</b></p>")
    for key, rows_of in TABLES.items():
        header, rows = rows_of(metrics)
        if _shown(metrics, key, header, rows):
            note = (metrics.get("ranking") or {}).get("meaning", "") if key == "ranking" else ""
            parts.append(_html_table(_table_title(metrics, key), header, rows, note))
    for env, data in metrics["envs"].items():
        meta = data["meta_game"]
        if meta:
            rows = [
                [n, *["-" if v is None else f"{v:+.3f}" + ("" if e else " (sampled)") for v, e in zip(row, exact)]]
                for n, row, exact in zip(meta["agents"], meta["payoffs"], meta["exact"])
            ]
            title = f"Payoff matrix {env}: the row agent's expected payoff against the column agent"
            parts.append(_html_table(title, ["", *meta["agents"]], rows))
    for name, fig in make_figures(metrics).items():
        heading = fig.axes[0].get_title() if fig.axes else name
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        plt.close(fig)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        parts.append(
            f'<h2>{html.escape(heading)}</h2><img alt="{html.escape(heading)}" src="data:image/png;base64,{data}">'
        )
    parts.append(_provenance(metrics))
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;white-space:nowrap}th{background:#eee}"
        "img{max-width:100%}.scroll{overflow-x:auto;max-width:100%}pre{overflow-x:auto}"
    )
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(str(metrics['tournament']))}"
        f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
