"""`arena serve` in a real browser: Chromium (Debian's package) driven by Playwright, against a server started as a
user starts it, over a database this module makes. Screenshots of each page go to $ARENA_SCREENSHOTS when it is
set (the README's are made with ARENA_SCREENSHOTS=docs/images), else into the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
sync_api = pytest.importorskip("playwright.sync_api")

import arena  # noqa: E402
from arena.tournaments.store import ResultsStore  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]
KUHN = {
    "name": "kuhn-browser",
    "envs": ["kuhn_poker-v0"],
    "agents": ["cfr(iterations=200)", "random", "fixed(action=Bet)"],
    "games": 6,
    "backend": "inprocess",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`arena serve` over a Kuhn tournament, with a tag-v0 replay and a play database; its address."""
    folder = tmp_path_factory.mktemp("served")
    db = folder / "kuhn.sqlite"
    arena.run_tournament(KUHN, db=str(db))
    replay = folder / "tag.jsonl"
    arena.play("tag-v0", ["heuristic"] * 4, seed=5, record=replay)
    play_db = folder / "play.sqlite"
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "arena.cli", "serve", str(db), "--replay", str(replay), "--play-db", str(play_db)]
        + ["--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
    )
    assert server.stderr is not None
    line = server.stderr.readline()
    assert line.startswith(f"arena serve: http://127.0.0.1:{port}/"), line + server.stderr.read()
    shots = Path(os.environ.get("ARENA_SCREENSHOTS") or folder / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "db": db, "play_db": play_db, "shots": shots}
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(served: dict[str, Any]) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    yield page
    page.close()


def table_rows(page: Any, table_id: str) -> list[dict[str, str]]:
    header = page.locator(f"#{table_id} thead th").all_inner_texts()
    rows = page.locator(f"#{table_id} tbody tr").all()
    return [dict(zip(header, row.locator("td").all_inner_texts())) for row in rows]


def test_tournament_pages_show_the_numbers_of_arena_report(served: dict[str, Any], page: Any) -> None:
    page.goto(served["url"] + "/")
    (listed,) = [row for row in table_rows(page, "tournaments") if row["tournament"] == "kuhn-browser"]
    assert listed["progress"] == "36 / 36 matches (100%), finished"
    page.screenshot(path=served["shots"] / "web-tournaments.png")
    page.click("text=kuhn-browser")
    page.wait_for_selector("#ranking")
    report = subprocess.run(
        [sys.executable, "-m", "arena.cli", "report", str(served["db"]), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    metrics = json.loads(report.stdout)
    rows = {row["agent"]: row for row in table_rows(page, "ranking")}
    assert set(rows) == {a["name"] for a in metrics["agents"]}
    for agent in metrics["agents"]:
        row = rows[agent["name"]]
        low, high = agent["win_ci"]
        assert row["rank"] == str(agent["rank"])
        assert row["W-D-L"] == f"{agent['wins']}-{agent['draws']}-{agent['losses']}"
        assert row["win rate [95% CI]"] == f"{100 * agent['win_rate']:.0f}% [{100 * low:.0f}, {100 * high:.0f}]"
        exploitability = metrics["envs"]["kuhn_poker-v0"]["exploitability"][agent["name"]]["value"]
        (cell,) = [v for k, v in row.items() if k.endswith("kuhn_poker") and ("xploit" in k or "Nash" in k)]
        assert cell == f"{exploitability:.4f}"
    assert len(table_rows(page, "pairings")) == len(metrics["pairings"])
    assert page.locator("#plot-winrate svg").count() == 1 and page.locator("#plot-exploitability svg").count() == 1
    assert "matches" in page.inner_text("#progress")
    page.screenshot(path=served["shots"] / "web-tournament.png", full_page=True)


def test_step_through_a_kuhn_match(served: dict[str, Any], page: Any) -> None:
    page.goto(served["url"] + "/matches?db=0&name=kuhn-browser&pairing=cfr(iterations%3D200) vs random")
    matches = table_rows(page, "matches")
    assert len(matches) == 12 and all(
        set(m["seats"].split(" vs ")) == {"cfr(iterations=200)", "random"} for m in matches
    )
    page.screenshot(path=served["shots"] / "web-matches.png")
    page.locator("#matches tbody a").first.click()
    page.wait_for_selector("#viewer[data-steps]")
    steps = int(page.get_attribute("#viewer", "data-steps"))
    assert steps >= 2 and page.inner_text("#counter") == f"step 0 / {steps}"
    replay = page.evaluate("fetch(document.getElementById('viewer').dataset.src).then(r => r.json())")
    assert replay["notes"] == ["re-played from the stored seed: the same result as stored"]
    for t in range(1, steps + 1):
        page.click("#forward")
        assert page.inner_text("#counter") == f"step {t} / {steps}"
        move = replay["steps"][t - 1]["moves"][0]
        assert f"{move['player']} ({move['agent']}) plays {move['action_name']}" in page.inner_text("#moves")
    page.wait_for_function(
        "document.getElementById('picture').complete && document.getElementById('picture').naturalWidth > 0"
    )
    page.screenshot(path=served["shots"] / "web-replay-kuhn.png", full_page=True)
    page.click("#back")
    assert page.inner_text("#counter") == f"step {steps - 1} / {steps}"
    assert page.get_attribute("#picture", "src").endswith(f"/frame/{steps - 1}.png")


def test_step_through_a_tag_replay(served: dict[str, Any], page: Any) -> None:
    page.goto(served["url"] + "/replays")
    page.click("text=tag.jsonl")
    page.wait_for_selector("#viewer[data-steps='25']")
    page.click("#forward")
    page.click("#forward")
    assert page.inner_text("#counter") == "step 2 / 25"
    assert "adversary_0 (heuristic) plays" in page.inner_text("#moves")
    page.select_option("#speed", "10")
    page.click("#playing")
    page.wait_for_function("document.getElementById('counter').textContent === 'step 25 / 25'", timeout=20_000)
    assert page.inner_text("#playing") == "play"  # stopped at the end
    page.wait_for_function(
        "document.getElementById('picture').complete && document.getElementById('picture').naturalWidth > 0"
    )
    assert page.get_attribute("#picture", "src").endswith("/frame/25.png")
    page.screenshot(path=served["shots"] / "web-replay-tag.png", full_page=True)


def test_play_tic_tac_toe_against_random_by_clicking(served: dict[str, Any], page: Any) -> None:
    page.goto(served["url"] + "/play")
    page.fill("#env", "tic_tac_toe-v0")
    page.fill("#opponent", "random")
    page.select_option("#seat", "0")
    page.click("#start")
    page.wait_for_selector("#game")
    clicks = 0
    while True:
        page.wait_for_selector(".legal-move, #stored-match")
        if page.locator("#stored-match").count():
            break
        if clicks == 2:
            page.screenshot(path=served["shots"] / "web-play.png", full_page=True)
        page.locator(".legal-move").first.click()
        clicks += 1
        page.wait_for_function(
            "n => document.querySelectorAll('#log li').length >= n || document.getElementById('stored-match')",
            arg=clicks,
        )
    assert 3 <= clicks <= 5
    outcome = page.inner_text("#outcome")
    with ResultsStore(served["play_db"], readonly=True) as store:
        (record,) = store.records("play")
    assert record.seats == ("human", "random") and record.match_id in outcome
    assert page.locator("#log li").count() == record.length
    page.click("#stored-match")
    page.wait_for_selector("#viewer[data-steps]")
    assert int(page.get_attribute("#viewer", "data-steps")) == record.length
    page.click("#last")
    assert page.inner_text("#counter") == f"step {record.length} / {record.length}"


def test_live_progress_while_a_run_writes_the_database(served: dict[str, Any], page: Any) -> None:
    """A tournament resumed with many more games while its page is open: the page says it is running, with a rate,
    refreshes its ranking table as matches arrive, and says it stopped once the run is interrupted."""
    live = {"name": "live", "envs": ["kuhn_poker-v0"], "agents": ["random", "fixed(action=Pass)"], "games": 1}
    arena.run_tournament({**live, "backend": "inprocess"}, db=str(served["db"]), analyse=False)
    page.goto(served["url"] + "/tournament?db=0&name=live")
    assert page.inner_text("#progress") == "2 / 2 matches (100%), finished"
    run = subprocess.Popen(
        [sys.executable, "-m", "arena.cli", "tournament", "--env", "kuhn_poker-v0", "--agents", "random"]
        + [
            "fixed(action=Pass)",
            "--name",
            "live",
            "--games",
            "1000000",
            "--db",
            str(served["db"]),
            "--backend",
            "inprocess",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    games = (
        "Array.from(document.querySelectorAll('#ranking tbody tr')).map(r => r.children[[...document.querySelectorAll("
        "'#ranking thead th')].findIndex(h => h.textContent === 'W-D-L')].textContent.split('-').map(Number)"
        ".reduce((a, b) => a + b))"
    )
    try:
        page.wait_for_function("document.getElementById('progress').textContent.includes('(running)')", timeout=60_000)
        assert "/ 2000000 matches" in page.inner_text("#progress") and "matches/s" in page.inner_text("#progress")
        page.wait_for_function(f"{games}.every(n => n > 2)", timeout=30_000)  # the table was fetched again
    finally:
        run.send_signal(signal.SIGINT)
        run.wait(timeout=60)
    page.wait_for_function("document.getElementById('progress').textContent.includes('stopped')", timeout=30_000)
