"""Reports of a tournament's metrics: rich tables in the terminal, CSV files, matplotlib plots, one-file HTML.

`build_report(db, tournament)` reads the store (read-only, so it works while a run is writing) and computes the
metrics; the writers below only format them.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from arena.console import make_console
from arena.tournaments.metrics import compute_metrics
from arena.tournaments.store import ResultsStore


def build_report(db: str | Path, tournament: str | None = None, num_bootstrap: int = 200) -> dict[str, Any]:
    """The metrics of a stored tournament (the latest one when no name is given)."""
    with ResultsStore(db, readonly=True) as store:
        stored = store.tournament(store.resolve(tournament))
    metrics = compute_metrics(stored, num_bootstrap)
    metrics["scheduled_config"] = stored.config
    return metrics


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


def ranking_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the ranking table: ratings with intervals, results, exploitability, regret, reliability."""
    envs = metrics["envs"]
    tabular = [e for e, d in envs.items() if d["exploitability"]]
    repeated = [e for e, d in envs.items() if d["regret"]]
    header = ["rank", "agent", "Bradley-Terry [95% CI]", "Elo [95% CI]", "W-D-L", "win rate [95% CI]"]
    header += [f"mean payoff {_short(e)}" for e in envs]
    header += [f"exploitability {_short(e)}" for e in tabular]
    header += [f"regret/round {_short(e)}" for e in repeated]
    header += ["illegal", "time-outs", "errors"]
    rows = []
    for a in metrics["agents"]:
        bt, elo = a["bradley_terry"], a["elo"]
        row = [
            str(a["rank"]),
            a["name"],
            _interval(bt["rating"], bt["lower"], bt["upper"]),
            _interval(elo["rating"], elo["lower"], elo["upper"]),
            f"{a['wins']}-{a['draws']}-{a['losses']}",
            _percent(a["win_rate"], a["win_ci"]),
        ]
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


def meta_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["env", "agent", "Nash weight", "Nash-averaging score", "meta regret"]
    rows = []
    for env, data in metrics["envs"].items():
        meta = data["meta_game"]
        if not meta:
            continue
        for i, name in enumerate(meta["agents"]):
            rows.append(
                [
                    _short(env),
                    name,
                    f"{meta['nash'][i]:.3f}",
                    f"{meta['nash_averaging'][i]:+.4f}",
                    f"{meta['regret'][i]:.4f}",
                ]
            )
    return header, rows


def regret_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = [
        "env",
        "agent",
        "matches",
        "rounds",
        "external regret/round [95% CI]",
        "dynamic regret/round",
        "log-log slope [95% CI]",
        "sublinear",
    ]
    rows = []
    for env, data in metrics["envs"].items():
        for name, r in data["regret"].items():
            low, high = r["external_regret_ci"]
            slope = "-" if r["loglog_slope"] is None else f"{r['loglog_slope']:.2f}"
            if r["loglog_slope_ci"]:
                slope += f" [{r['loglog_slope_ci'][0]:.2f}, {r['loglog_slope_ci'][1]:.2f}]"
            rows.append(
                [
                    _short(env),
                    name,
                    str(r["matches"]),
                    str(r["rounds"]),
                    f"{r['external_regret_per_round']:.4f} [{low:.4f}, {high:.4f}]",
                    f"{r['dynamic_regret_per_round']:.4f}",
                    slope,
                    "yes" if r["sublinear"] else "no",
                ]
            )
    return header, rows


def stats_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    keys = sorted({k for a in metrics["agents"] for k in a["stats"]})
    header = ["agent", "matches", "forfeits", *[f"{k} (total)" for k in keys]]
    rows = [
        [a["name"], str(a["matches"]), str(a["forfeits"]), *[_num(a["stats"].get(k), 1) for k in keys]]
        for a in metrics["agents"]
    ]
    return header, rows


TABLES = {
    "ranking": ranking_rows,
    "pairings": pairing_rows,
    "meta_game": meta_rows,
    "regret": regret_rows,
    "agent_stats": stats_rows,
}


# ---------------------------------------------------------------------------------------------------------------
# Terminal


def print_ranking(metrics: dict[str, Any], console: Any = None, full: bool = False) -> None:
    """The ranking table (and, with `full`, pairings, meta-game, regret and agent statistics) with rich."""
    console = console or make_console()
    titles = {
        "ranking": f"{metrics['tournament']}: {metrics['matches']} matches",
        "pairings": "head to head",
        "meta_game": "meta-game equilibrium (Nash averaging)",
        "regret": "regret in repeated games",
        "agent_stats": "agent statistics",
    }
    for key, rows_of in TABLES.items():
        if key != "ranking" and not full:
            break
        header, rows = rows_of(metrics)
        if not rows or (key == "agent_stats" and len(header) == 3):
            continue
        table = Table(title=titles[key])
        for column in header:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)


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
        path = directory / f"payoff_matrix_{_slug(env)}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["agent \\ opponent", *meta["agents"]])
            for name, row in zip(meta["agents"], meta["payoffs"]):
                writer.writerow([name, *["" if v is None else f"{v:.6g}" for v in row]])
        written.append(path)
    return written


def _slug(text: str) -> str:
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
    if agents:
        fig, ax = plt.subplots(figsize=(7, 0.5 * len(agents) + 1.5))
        ordered = agents[::-1]
        for y, a in enumerate(ordered):
            r = a["bradley_terry"]
            ax.errorbar(
                r["rating"],
                y,
                xerr=[[r["rating"] - r["lower"]], [r["upper"] - r["rating"]]],
                fmt="o",
                capsize=4,
                color="tab:blue",
            )
        ax.set_yticks(range(len(ordered)), [a["name"] for a in ordered])
        ax.set_xlabel("Bradley-Terry rating (95% bootstrap interval)")
        ax.set_title(f"{metrics['tournament']}: ratings")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        figures["ratings"] = fig
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
        ax.set_title(f"{_short(env)}: score of row vs column (wins + draws/2)")
        fig.colorbar(image, ax=ax, fraction=0.046)
        fig.tight_layout()
        figures[f"winrate_{_slug(env)}"] = fig
    for env, data in metrics["envs"].items():
        if not data["regret"]:
            continue
        fig, ax = plt.subplots(figsize=(7, 4))
        for name, r in data["regret"].items():
            curve = np.asarray(r["curve_external"])
            slope = "" if r["loglog_slope"] is None else f" (slope {r['loglog_slope']:.2f})"
            ax.plot(np.arange(1, len(curve) + 1), curve, label=f"{name}{slope}")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("round t")
        ax.set_ylabel("average external regret R_t / t")
        ax.set_title(f"{_short(env)}: regret curves")
        ax.legend(fontsize=8)
        fig.tight_layout()
        figures[f"regret_{_slug(env)}"] = fig
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
        ax.set_ylabel("exploitability (NashConv for >2 players)")
        ax.set_title("exploitability per agent")
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


def _html_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<h2>{html.escape(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(metrics: dict[str, Any], path: str | Path) -> Path:
    """One self-contained HTML file: every table, and every plot embedded as a base64 PNG."""
    import matplotlib.pyplot as plt

    parts = [
        f"<h1>Tournament {html.escape(str(metrics['tournament']))}</h1>",
        f"<p>{metrics['matches']} matches; endings: "
        + html.escape(", ".join(f"{k} {v}" for k, v in metrics["terminations"].items()))
        + "</p>",
    ]
    titles = {
        "ranking": "Ranking",
        "pairings": "Head to head",
        "meta_game": "Meta-game equilibrium",
        "regret": "Regret in repeated games",
        "agent_stats": "Agent statistics",
    }
    for key, rows_of in TABLES.items():
        header, rows = rows_of(metrics)
        if rows:
            parts.append(_html_table(titles[key], header, rows))
    for env, data in metrics["envs"].items():
        meta = data["meta_game"]
        if meta:
            rows = [
                [n, *["-" if v is None else f"{v:+.3f}" for v in row]]
                for n, row in zip(meta["agents"], meta["payoffs"])
            ]
            parts.append(_html_table(f"Payoff matrix {env} (row's mean payoff)", ["", *meta["agents"]], rows))
    for name, fig in make_figures(metrics).items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        plt.close(fig)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        parts.append(f'<h2>{html.escape(name)}</h2><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}th{background:#eee}img{max-width:100%}"
    )
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(str(metrics['tournament']))}"
        f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
