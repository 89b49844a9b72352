"""`arena serve` without a browser: the app's pages and JSON through Starlette's test client, and the command's
bad input (one line, exit status 2)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from html import unescape
from pathlib import Path

import httpx
import pytest

pytest.importorskip("starlette")
with warnings.catch_warnings():  # Starlette asks for httpx2, a fork of the httpx this project uses
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import arena  # noqa: E402
from arena.replay import check_replay, read_replay  # noqa: E402
from arena.tournaments.config import config_from_dict  # noqa: E402
from arena.tournaments.report import build_report, ranking_rows  # noqa: E402
from arena.tournaments.store import ResultsStore  # noqa: E402
from arena.web.app import build_app  # noqa: E402
from arena.web.data import Databases, Progress, replay_dir  # noqa: E402
from arena.web.pages import progress_text  # noqa: E402

KUHN = {
    "name": "kuhn-web",
    "envs": ["kuhn_poker-v0"],
    "agents": ["random", "fixed(action=Pass)", "fixed(action=Bet)"],
    "games": 4,
    "backend": "inprocess",
}


def arena_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arena.cli", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, Path, Path]:
    """A client of the app over a small Kuhn tournament and a tag-v0 replay; the play database."""
    folder = tmp_path_factory.mktemp("web")
    db = folder / "kuhn.sqlite"
    arena.run_tournament(KUHN, db=str(db), analyse=False)
    replay = folder / "tag.jsonl"
    arena.play("tag-v0", ["random"] * 4, seed=3, record=replay)
    play_db = folder / "play.sqlite"
    return TestClient(build_app([db], [replay], play_db)), db, play_db


def cells(html: str, table_id: str) -> list[list[str]]:
    """The text of every body row of the table with this id."""
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, table_id
    return [
        [unescape(re.sub("<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


@pytest.mark.slow
def test_index_lists_the_tournament_with_its_progress(site) -> None:
    client, _, _ = site
    page = client.get("/")
    assert page.status_code == 200
    assert cells(page.text, "tournaments") == [["kuhn-web", str(site[1]), "24 / 24 matches (100%), finished"]]
    assert client.get("/api/progress.json", params={"db": 0, "name": "kuhn-web"}).json() == {
        "done": 24,
        "scheduled": 24,
        "rate": 0.0,
        "running": False,
        "eta": 0.0,
    }


@pytest.mark.slow
def test_progress_of_a_tournament_being_played(tmp_path) -> None:
    """Half of a tournament stored a moment ago, its config asking for twice as many games: running, with a rate."""
    db = tmp_path / "half.sqlite"
    arena.run_tournament({**KUHN, "games": 2}, db=str(db), analyse=False)
    config = config_from_dict({**KUHN, "db": str(db)})
    with ResultsStore(db) as store:
        store.begin(config, store.agent_records("kuhn-web"), arena.__version__)
    progress = Databases([db]).progress(0, "kuhn-web")
    assert (progress.done, progress.scheduled, progress.running) == (12, 24, True)
    assert progress.rate > 0 and progress.eta == pytest.approx(12 / progress.rate)


def test_progress_line_while_running_and_after() -> None:
    assert (
        progress_text(Progress(30, 120, 10.0, True, 9.0))
        == "30 / 120 matches (25%), 10.0 matches/s, about 9s left (running)"
    )
    assert (
        progress_text(Progress(30, 120, 0.0, False, None))
        == "30 / 120 matches (25%), stopped (resume it to play the rest)"
    )
    assert progress_text(Progress(1, 10**6, 2.5, True, 7384.0)).endswith("2.5 matches/s, about 2h 03m left (running)")
    assert progress_text(Progress(7, None, 0.0, False, None)) == "7 matches"


@pytest.mark.slow
def test_ranking_table_has_the_numbers_of_the_report(site) -> None:
    client, db, _ = site
    page = client.get("/tournament", params={"db": 0, "name": "kuhn-web"}).text
    report = build_report(db, "kuhn-web")
    header = [unescape(h) for h in re.findall(r"<th>(.*?)</th>", page.split('id="ranking"')[1].split("</thead>")[0])]
    assert (header, cells(page, "ranking")) == ranking_rows(report)  # the terminal's table, cell for cell
    rows = {row[header.index("agent")]: dict(zip(header, row)) for row in cells(page, "ranking")}
    assert set(rows) == {a["name"] for a in report["agents"]}
    for agent in report["agents"]:
        row = rows[agent["name"]]
        assert row["rank"] == str(agent["rank"])
        assert row["W-D-L"] == f"{agent['wins']}-{agent['draws']}-{agent['losses']}"
    assert "200 refits" in page and 'id="ranking-method"' in page
    assert len(cells(page, "pairings")) == len(report["pairings"])
    assert re.search(r'id="plot-winrate">\s*<svg', page)  # the score heatmap, drawn on the server


@pytest.mark.slow
def test_matches_filter_and_replay_rebuilt_from_the_seed(site) -> None:
    client, _, _ = site
    listed = cells(client.get("/matches", params={"db": 0, "name": "kuhn-web"}).text, "matches")
    assert len(listed) == 24
    pairing = "fixed(action=Bet) vs random"
    chosen = cells(client.get("/matches", params={"db": 0, "name": "kuhn-web", "pairing": pairing}).text, "matches")
    assert len(chosen) == 8 and all(set(row[1].split(" vs ")) == {"random", "fixed(action=Bet)"} for row in chosen)
    assert not cells(client.get("/matches", params={"db": 0, "name": "kuhn-web", "termination": "x"}).text, "matches")
    match_id = chosen[0][0]
    assert client.get("/match", params={"db": 0, "name": "kuhn-web", "id": match_id}).status_code == 200
    replay = client.get(f"/api/replay/m0-{match_id}").json()
    assert replay["notes"] == ["re-played from the stored seed: the same result as stored"]
    assert replay["frames"] == len(replay["steps"]) + 1
    assert [" ".join(f"{p:+g}" for p in replay["result"]["payoffs"])] == [chosen[0][3]]
    frame = client.get(f"/api/replay/m0-{match_id}/frame/0.png")
    assert frame.headers["content-type"] == "image/png" and frame.content[:4] == b"\x89PNG"


@pytest.mark.slow
def test_agents_named_by_module_are_not_replayed_from_a_database(tmp_path) -> None:
    """A database can name any `module:Class`: a read-only view imports and runs no code a database names."""
    db = tmp_path / "module.sqlite"
    config = {**KUHN, "name": "module", "agents": ["random", "arena.agents.random:RandomAgent"], "games": 1}
    arena.run_tournament(config, db=str(db), analyse=False)
    client = TestClient(build_app([db], [], tmp_path / "play.sqlite"))
    match_id = cells(client.get("/matches", params={"db": 0, "name": "module"}).text, "matches")[0][0]
    page = client.get("/match", params={"db": 0, "name": "module", "id": match_id})
    assert page.status_code == 404
    assert "arena.agents.random:RandomAgent is not re-played" in unescape(page.text)


@pytest.mark.slow
def test_an_llm_match_shows_what_the_model_was_asked_and_answered(tmp_path) -> None:
    """An LLM's tournament match is not re-played (that would ask the model again): its stored transcript is shown."""
    from fake_openai_server import FakeChatServer, Reply

    with FakeChatServer(lambda body: Reply("Bet, with a king.\nMove: Bet", reasoning="A king: bet.")) as server:
        llm = f"llm(model=test-model, base_url={server.url}, cache_dir={tmp_path / 'cache'})"
        config = {**KUHN, "name": "llm", "agents": [{"name": "model", "spec": llm}, "random"], "games": 1}
        arena.run_tournament(config, db=str(tmp_path / "llm.sqlite"), analyse=False)
    client = TestClient(build_app([tmp_path / "llm.sqlite"], [], tmp_path / "play.sqlite"))
    match_id = cells(client.get("/matches", params={"db": 0, "name": "llm"}).text, "matches")[0][0]
    page = client.get("/match", params={"db": 0, "name": "llm", "id": match_id})
    assert page.status_code == 200 and "is not re-played" in unescape(page.text)
    transcript = page.text.split('id="transcript"')[1]
    assert "Kuhn" in unescape(transcript)  # the prompt
    assert "Move: Bet" in transcript and "A king: bet." in transcript and "read as: Bet" in transcript


@pytest.mark.slow
def test_replay_file_in_the_viewer(site) -> None:
    client, _, _ = site
    replay = client.get("/api/replay/f0").json()
    assert replay["env"] == "tag-v0" and len(replay["steps"]) == 25 and replay["frames"] == 26
    assert replay["steps"][0]["moves"][0]["text"]
    assert client.get("/api/replay/f0/frame/26.png").status_code == 400
    assert "viewer" in client.get("/replay/f0").text


@pytest.mark.slow
def test_the_viewer_shows_an_llm_decision_where_the_replay_recorded_it(site, tmp_path) -> None:
    client, _, _ = site
    path = tmp_path / "llm.jsonl"
    arena.play("kuhn_poker-v0", ["random", "random"], seed=2, record=path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    lines[1]["moves"][0]["transcript"] = [
        {
            "kind": "move",
            "messages": [{"role": "system", "content": "You play Kuhn poker."}, {"role": "user", "content": "Move?"}],
            "reply": "I bet.",
            "reasoning": "A king: bet.",
        }
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    key = client.post("/api/replays", content=path.read_bytes()).json()["key"]
    (request,) = client.get(f"/api/replay/{key}").json()["steps"][0]["moves"][0]["transcript"]
    assert request == {
        "kind": "move",
        "prompt": "system: You play Kuhn poker.\n\nuser: Move?",
        "reply": "I bet.",
        "reasoning": "A king: bet.",
    }


@pytest.mark.slow
def test_dropped_replay_is_checked(site, tmp_path) -> None:
    client, _, _ = site
    bad = client.post("/api/replays", content=b'{"type": "step"}\n', headers={"x-filename": "bad.jsonl"})
    assert bad.status_code == 400 and "has no header line" in bad.json()["error"]
    path = tmp_path / "rps.jsonl"
    arena.play("rps-v0", ["random", "random"], seed=1, record=path)
    good = client.post("/api/replays", content=path.read_bytes(), headers={"x-filename": "rps.jsonl"}).json()
    shown = client.get(f"/api/replay/{good['key']}").json()
    assert shown["title"] == "rps.jsonl" and shown["env"] == "rps-v0" and shown["frames"] == len(shown["steps"]) + 1


@pytest.mark.slow
def test_a_game_played_through_the_page_is_stored_with_its_replay(site) -> None:
    client, _, play_db = site
    assert (
        client.post("/api/play", json={"env": "tic_tac_tow-v0", "opponent": "random"})
        .json()["error"]
        .startswith("unknown env")
    )
    game = client.post("/api/play", json={"env": "tic_tac_toe-v0", "opponent": "random", "seat": 1}).json()
    api = f"/api/play/{game['id']}"
    assert client.get(game["url"]).status_code == 200
    for _ in range(400):
        state = client.get(api).json()
        if state["status"] == "over":
            break
        if state["status"] == "your move":
            assert client.post(f"{api}/move", json={"action": 99}).status_code == 400
            assert client.post(f"{api}/move", json={"action": state["prompt"]["legal"][-1]["action"]}).json()["ok"]
        time.sleep(0.02)
    assert state["status"] == "over", state
    assert state["agents"] == ["random", "human"] and client.get(f"{api}/picture.png").content[:4] == b"\x89PNG"
    with ResultsStore(play_db, readonly=True) as store:
        (record,) = store.records("play")
    assert record.match_id == state["match_id"] and record.seats == ("random", "human")
    assert list(record.payoffs) == state["result"]["payoffs"]
    replay = replay_dir(play_db) / f"{record.match_id}.jsonl"
    header, steps, _ = read_replay(replay)
    assert header["agents"] == ["random", "human"] and len(steps) == record.length
    assert check_replay(replay) is None
    assert client.get("/api/progress.json", params={"db": 1, "name": "play"}).json()["scheduled"] is None
    shown = client.get(state["match_url"])
    assert shown.status_code == 200 and client.get(f"/api/replay/m1-{record.match_id}").json()["notes"] == []


@pytest.mark.slow
def test_unknown_pages_are_one_line_errors(site) -> None:
    client, _, _ = site
    page = client.get("/tournament", params={"db": 0, "name": "nope"})
    assert page.status_code == 404 and "no tournament" in page.text
    assert client.get("/api/replay/zz").json() == {"error": "no replay 'zz' is open"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.sqlite"], "no results database at missing.sqlite"),
        (["--port", "70000"], "--port must be between 1 and 65535"),
        (["--replay", "missing.jsonl"], "cannot read replay missing.jsonl: no such file"),
        (["--play-db", "no/such/folder/p.sqlite"], "cannot write the play database"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "arena.cli", "serve", *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_printed_address_takes_connections_before_the_server_has_started() -> None:
    """`arena serve` prints its address once the socket is made: a browser that follows it at once is queued."""
    from arena.web.cli import check_port

    sock = check_port("127.0.0.1", _free_port())
    try:
        with socket.create_connection(sock.getsockname(), timeout=5):  # refused while the socket only was bound
            pass
    finally:
        sock.close()


def test_a_port_in_use_is_one_line(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = arena_cli("serve", "--port", str(port), "--play-db", str(tmp_path / "p.sqlite"))
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_listening_on_every_address_warns(tmp_path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "arena.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        assert first.startswith("arena: warning: listening on 0.0.0.0")
        assert f":{port}/" in server.stderr.readline()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_ctrl_c_stops_the_server_at_once_with_a_live_page_open(site) -> None:
    _, db, _ = site
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "arena.cli", "serve", str(db), "--port", str(port), "--play-db", str(db.parent / "p")],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    assert server.stderr.readline().startswith("arena serve: http://127.0.0.1:")
    events: list[str] = []

    def listen() -> None:
        url = f"http://127.0.0.1:{port}/api/progress?db=0&name=kuhn-web"
        with httpx.stream("GET", url, timeout=30) as stream:
            for line in stream.iter_lines():
                events.append(line)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    deadline = time.monotonic() + 30
    while not events and time.monotonic() < deadline:
        time.sleep(0.1)
    assert events and events[0].startswith("data: ")
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=15) == 130  # as every arena verb stopped by Ctrl-C
    assert server.stderr.read() == "arena: interrupted\n"
