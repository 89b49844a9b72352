"""The HTML of every page, written on the server; every value from a database, a replay or a spec is escaped.
Tables are those of `arena report` (`arena.tournaments.report`'s row builders), so that a page and the terminal
show the same numbers in the same form.
"""

from __future__ import annotations

import datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

from arena.tournaments.records import MatchRecord
from arena.web.data import Progress

MATCHES_SHOWN = 500  # rows of the match list; the filters narrow a longer one


def url(path: str, **query: Any) -> str:
    """A link with its query string (values encoded; empty ones left out)."""
    shown = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode(shown)}" if shown else path


def layout(title: str, body: str, script: str = "") -> str:
    scripts = f'<script src="/static/{script}" defer></script>' if script else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} - arena</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/arena.css">{scripts}</head>
<body><nav><b>arena</b> <a href="/">tournaments</a> <a href="/replays">replays</a> <a href="/play">play</a></nav>
<main><h1>{escape(title)}</h1>
{body}
</main></body></html>
"""


def table(header: list[str], rows: list[list[str]], table_id: str = "", links: list[str] | None = None) -> str:
    """An HTML table of text cells; `links[i]` makes row i's first cell a link."""
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = [escape(c) for c in row]
        if links and links[i]:
            cells[0] = f'<a href="{escape(links[i])}">{cells[0]}</a>'
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def duration(seconds: float) -> str:
    """`42s`, `5m 03s`, `2h 07m`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def progress_text(progress: Progress) -> str:
    """`120 / 300 matches (40%), 35.2 matches/s, about 5s left` or `120 matches, finished`."""
    done, total = progress.done, progress.scheduled
    text = f"{done} / {total} matches ({100 * done / total:.0f}%)" if total else f"{done} matches"
    if progress.running:
        text += f", {progress.rate:.1f} matches/s"
        if progress.eta is not None:
            text += f", about {duration(progress.eta)} left"
        return text + " (running)"
    if total is None:
        return text
    return text + (", finished" if done >= total else ", stopped (resume it to play the rest)")


def index_page(tournaments: list[dict[str, Any]], paths: list[str]) -> str:
    if not tournaments:
        return layout("tournaments", f"<p>No tournaments yet in {escape(', '.join(paths)) or 'no database'}.</p>")
    rows = [[t["name"], t["path"], progress_text(t["progress"])] for t in tournaments]
    links = [url("/tournament", db=t["db"], name=t["name"]) for t in tournaments]
    body = table(["tournament", "database", "progress"], rows, "tournaments", links)
    return layout("tournaments", body)


def ranking_method(metrics: dict[str, Any], bootstrap: int) -> str:
    """How the ranking was made, in the report's words where it states them."""
    ranking = metrics.get("ranking")
    if isinstance(ranking, dict) and ranking.get("meaning"):
        text = f"Ranked by {ranking.get('method', 'rating')}: {ranking['meaning']}."
        if ranking.get("note"):
            text += f" {ranking['note']}."
        return text + f" Bootstrap intervals come from {bootstrap} refits on resampled matches."
    return (
        f"Ranked by Bradley-Terry rating over all {metrics['matches']} matches; Elo for comparison. Intervals are "
        f"95% bootstrap intervals ({bootstrap} refits on resampled matches); an agent's rank is one plus the number "
        "of agents whose interval lies wholly above its own, so agents whose intervals overlap share a rank."
    )


def results_section(metrics: dict[str, Any], figures: dict[str, str], bootstrap: int) -> str:
    """The ranking, the crosstable and the plots of a tournament (what live updates replace)."""
    from arena.tournaments.report import TABLES

    parts = []
    header, rows = TABLES["ranking"](metrics)
    parts.append("<h2>ranking</h2>" + table(header, rows, "ranking"))
    parts.append(f'<p class="method" id="ranking-method">{escape(ranking_method(metrics, bootstrap))}</p>')
    header, rows = TABLES["pairings"](metrics)
    if rows:
        parts.append("<h2>crosstable</h2>" + table(header, rows, "pairings"))
    sections = [
        ("winrate_", "score of row against column"),
        ("exploitability", "exploitability"),
        ("regret_", "regret"),
    ]
    placed = set()
    for prefix, title in sections:
        chosen = [k for k in figures if k.startswith(prefix)]
        if chosen:
            placed.update(chosen)
            ident = prefix.strip("_")
            parts.append(f'<h2>{title}</h2><div class="figures" id="plot-{ident}">')
            parts.append("".join(figures[k] for k in chosen) + "</div>")
        if prefix == "regret_" and "regret" in TABLES:
            header, rows = TABLES["regret"](metrics)
            if rows:
                parts.append(table(header, rows, "regret"))
    rest = [k for k in figures if k not in placed]
    if rest:
        parts.append('<h2>ratings</h2><div class="figures" id="plot-ratings">')
        parts.append("".join(figures[k] for k in rest) + "</div>")
    header, rows = TABLES["meta_game"](metrics)
    if rows:
        parts.append("<h2>meta-game (Nash averaging)</h2>" + table(header, rows, "meta-game"))
    return "\n".join(parts)


def tournament_page(db: int, name: str, path: str, progress: Progress, results: str) -> str:
    events = url("/api/progress", db=db, name=name)
    refresh = url("/api/results", db=db, name=name)
    body = f"""<p>{escape(path)} &middot; <a href="{escape(url("/matches", db=db, name=name))}">matches</a></p>
<p id="progress" data-events="{escape(events)}" data-results="{escape(refresh)}">{escape(progress_text(progress))}</p>
<section id="results">{results}</section>"""
    return layout(f"tournament {name}", body, "progress.js")


def _when(stamp: float | None) -> str:
    return "" if stamp is None else datetime.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


def matches_page(
    db: int,
    name: str,
    records: list[MatchRecord],
    choices: dict[str, list[str]],
    chosen: dict[str, str],
) -> str:
    selects = []
    for key, values in choices.items():
        options = ['<option value="">any</option>'] + [
            f'<option value="{escape(v)}"{" selected" if chosen.get(key) == v else ""}>{escape(v)}</option>'
            for v in values
        ]
        selects.append(f'<label>{key} <select name="{key}">{"".join(options)}</select></label>')
    form = (
        f'<form method="get" action="/matches" id="filters"><input type="hidden" name="db" value="{db}">'
        f'<input type="hidden" name="name" value="{escape(name)}">{" ".join(selects)} <button>filter</button></form>'
    )
    shown = records[:MATCHES_SHOWN]
    rows = [
        [
            r.match_id,
            " vs ".join(r.seats),
            r.env.text,
            " ".join(f"{p:+g}" for p in r.payoffs),
            r.termination,
            str(r.length),
            _when(r.recorded),
        ]
        for r in shown
    ]
    links = [url("/match", db=db, name=name, id=r.match_id) for r in shown]
    count = f"{len(records)} matches" + (f", the first {MATCHES_SHOWN} shown" if len(records) > MATCHES_SHOWN else "")
    body = (
        f'<p><a href="{escape(url("/tournament", db=db, name=name))}">back to the tournament</a> &middot; {count}</p>'
        + form
        + table(["match", "seats", "env", "payoffs", "termination", "steps", "stored"], rows, "matches", links)
    )
    return layout(f"matches of {name}", body)


def viewer_page(title: str, api: str, back: str = "") -> str:
    link = f'<p><a href="{escape(back)}">back</a></p>' if back else ""
    body = f"""{link}<div id="viewer" data-src="{escape(api)}">
<div class="controls"><button id="first" title="first">|&lt;</button><button id="back" title="step back">&lt;</button>
<button id="playing" title="play">play</button><button id="forward" title="step forward">&gt;</button>
<button id="last" title="last">&gt;|</button>
<label>speed <select id="speed"><option value="0.5">0.5 steps/s</option><option value="1">1 step/s</option>
<option value="2" selected>2 steps/s</option><option value="5">5 steps/s</option><option value="10">10 steps/s</option>
</select></label> <span id="counter"></span></div>
<div class="stage"><img id="picture" alt="the position"><div id="moves"></div></div>
<p id="notes"></p><pre id="outcome"></pre></div>"""
    return layout(title, body, "viewer.js")


def transcript_page(
    record: MatchRecord, decisions: list[dict[str, str]], tags: list[dict[str, Any]], reason: str, back: str
) -> str:
    """A stored match that is not re-played: its result and its LLM agents' decisions (`decisions`, each shown
    under the step and player its raw record `tags` names)."""
    result = ", ".join(f"{seat} {payoff:+g}" for seat, payoff in zip(record.seats, record.payoffs))
    parts = [
        f'<p><a href="{escape(back)}">back</a></p>',
        f"<p>{escape(result)} ({escape(record.termination)}, {record.length} steps, seed {record.seed})</p>",
        f'<p class="method">{escape(reason)}; the decisions its agents recorded are shown instead.</p>',
        '<div id="transcript">',
    ]
    for shown, tag in zip(decisions, tags):
        parts.append(
            f'<div class="move"><b>step {escape(str(tag.get("t", "?")))}: {escape(str(tag.get("player", "?")))}</b>'
            f" ({escape(shown.get('kind', 'request'))})"
        )
        for key in ("prompt", "reply", "reasoning", "error"):
            if shown.get(key):
                opened = "" if key == "prompt" else " open"
                parts.append(
                    f'<details class="transcript-{key}"{opened}><summary>{key}</summary>'
                    f"<pre>{escape(shown[key])}</pre></details>"
                )
        if tag.get("move") is not None:
            parts.append(f"<p>read as: {escape(str(tag['move']))}</p>")
        parts.append("</div>")
    parts.append("</div>")
    return layout(f"{' vs '.join(record.seats)} on {record.env.text}", "\n".join(parts))


def replays_page(replays: list[tuple[str, str]]) -> str:
    rows = [[title] for _, title in replays]
    links = [f"/replay/{key}" for key, _ in replays]
    listing = table(["replay"], rows, "replays", links) if replays else "<p>No replay files given.</p>"
    body = f"""{listing}
<div id="drop" class="drop">Drop a replay file (<code>.jsonl</code>, as <code>arena play --record</code> writes) here,
or <label><input type="file" id="file" accept=".jsonl,.json,.txt"> choose one</label>.</div><p id="drop-error"></p>"""
    return layout("replays", body, "drop.js")


def play_form(envs: list[str], agents: list[str]) -> str:
    env_options = "".join(f'<option value="{escape(e)}">' for e in envs)
    agent_options = "".join(f'<option value="{escape(a)}">' for a in agents)
    body = f"""<form id="new-game">
<label>game <input name="env" id="env" list="envs" value="tic_tac_toe-v0" size="40"></label>
<datalist id="envs">{env_options}</datalist>
<label>against <input name="opponent" id="opponent" list="agents" value="random" size="40"></label>
<datalist id="agents">{agent_options}</datalist>
<label>your seat <select name="seat" id="seat"><option value="0">first</option><option value="1">second</option>
</select></label> <button id="start">start</button></form><p id="play-error"></p>
<p>Any env id, OpenSpiel game (<code>openspiel:GAME</code>) or matrix game, against any agent spec
(<code>cfr</code>, <code>mix(p=[0.5,0.5])</code>, <code>llm(model=...)</code>). The finished game is stored as a
match of the tournament <code>play</code>, with its replay.</p>"""
    return layout("play", body, "play.js")


def game_page(session_id: str, title: str) -> str:
    body = f"""<div id="game" data-src="/api/play/{escape(session_id)}">
<p id="status">starting</p><div class="stage"><img id="picture" alt="the position">
<div><div id="legal"></div><pre id="seen"></pre><ol id="log"></ol></div></div><p id="outcome"></p></div>"""
    return layout(title, body, "play.js")


def error_page(message: str) -> str:
    return layout("not found", f'<p class="error">{escape(message)}</p>')
