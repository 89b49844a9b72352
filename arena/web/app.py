"""The Starlette app of `arena serve`: pages, their JSON, pictures as PNG, live progress as server-sent events.

Every view of a database is read-only; the only writes are the play page's finished games, into the play database.
Handlers that read files or draw are plain functions, which Starlette runs in its thread pool.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from arena.errors import ArenaError, ConfigError
from arena.web import pages
from arena.web.data import NUM_BOOTSTRAP, Databases, NotReplayed
from arena.web.play import PlaySession
from arena.web.replays import Replay, decision

STATIC = Path(__file__).parent / "static"
PROGRESS_EVERY = 1.0  # seconds between progress events
MAX_UPLOAD = 64 * 2**20  # a dropped replay larger than this is refused


class Server:
    """What the app serves: the databases, the replays opened so far, the games in play."""

    def __init__(self, dbs: list[Path], replays: list[Path], play_db: Path) -> None:
        self.dbs = Databases(dbs)
        self.replays: dict[str, Replay] = {}
        for i, path in enumerate(replays):
            self.replays[f"f{i}"] = Replay.read(f"f{i}", path)
        self.play_db = play_db
        if play_db.exists():
            self.dbs.add(play_db)
        self.games: dict[str, PlaySession] = {}
        self._lock = threading.Lock()
        self._uploads = Path(tempfile.mkdtemp(prefix="arena-uploads-"))

    def replay(self, key: str) -> Replay:
        replay = self.replays.get(key)
        if replay is None:
            raise ConfigError(f"no replay {key!r} is open")
        return replay

    def upload(self, data: bytes, filename: str) -> Replay:
        if len(data) > MAX_UPLOAD:
            raise ConfigError(f"{filename} is not a replay file: larger than {MAX_UPLOAD // 2**20} MB")
        with self._lock:
            key = f"u{len(self.replays)}"
            path = self._uploads / f"{key}.jsonl"
            path.write_bytes(data)
            self.replays[key] = Replay.read(key, path, Path(filename).name or key)
        return self.replays[key]

    def game(self, session_id: str) -> PlaySession:
        game = self.games.get(session_id)
        if game is None:
            raise ConfigError(f"no game {session_id!r}")
        return game

    def new_game(self, env: str, opponent: str, seat: int) -> PlaySession:
        game = PlaySession(self.play_db, env, opponent, seat)
        with self._lock:
            self.games[game.id] = game
        game.start()
        return game


def _db_and_name(request: Request) -> tuple[int, str]:
    db, name = request.query_params.get("db", ""), request.query_params.get("name", "")
    if not db.isdigit() or not name:
        raise ConfigError("the page needs ?db=N&name=TOURNAMENT")
    return int(db), name


def build_app(
    dbs: list[Path],
    replays: list[Path] | None = None,
    play_db: Path | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> Starlette:
    """The ASGI app over `dbs` (read-only), the replay files `replays`, and the play database `play_db`; live
    streams end when `stopping()` says the server is shutting down."""
    server = Server(dbs, replays or [], play_db or Path("arena-play.sqlite"))

    def index(request: Request) -> HTMLResponse:
        if server.play_db.exists():
            server.dbs.add(server.play_db)  # games stored since the start are shown too
        return HTMLResponse(pages.index_page(server.dbs.tournaments(), [str(p) for p in server.dbs.paths]))

    def results(db: int, name: str) -> str:
        return pages.results_section(server.dbs.metrics(db, name), server.dbs.figures(db, name), NUM_BOOTSTRAP)

    def tournament(request: Request) -> HTMLResponse:
        db, name = _db_and_name(request)
        progress = server.dbs.progress(db, name)
        html = pages.tournament_page(db, name, str(server.dbs.path(db)), progress, results(db, name))
        return HTMLResponse(html)

    def results_fragment(request: Request) -> HTMLResponse:
        return HTMLResponse(results(*_db_and_name(request)))

    async def progress_events(request: Request) -> StreamingResponse:
        db, name = _db_and_name(request)
        server.dbs.progress(db, name)  # an unknown tournament is an error now, not inside the stream

        async def events() -> AsyncIterator[str]:
            while not stopping() and not await request.is_disconnected():
                progress = await asyncio.to_thread(server.dbs.progress, db, name)
                data = {**progress.to_json(), "text": pages.progress_text(progress)}
                yield f"data: {json.dumps(data)}\n\n"
                await asyncio.sleep(PROGRESS_EVERY)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    def progress_json(request: Request) -> JSONResponse:
        return JSONResponse(server.dbs.progress(*_db_and_name(request)).to_json())

    def matches(request: Request) -> HTMLResponse:
        db, name = _db_and_name(request)
        chosen = {k: request.query_params.get(k, "") for k in ("pairing", "env", "termination")}
        records, choices = server.dbs.matches(db, name, **chosen)
        return HTMLResponse(pages.matches_page(db, name, records, choices, chosen))

    def match(request: Request) -> HTMLResponse:
        db, name = _db_and_name(request)
        match_id = request.query_params.get("id", "")
        back = pages.url("/matches", db=db, name=name)
        try:
            replay = server.dbs.match_replay(db, name, match_id)
        except NotReplayed as exc:  # an LLM's match: what it was asked and answered, decision by decision
            records = server.dbs.transcript(db, name, match_id)
            if not records:
                raise
            record, _ = server.dbs.match(db, name, match_id)
            return HTMLResponse(pages.transcript_page(record, [decision(r) for r in records], records, str(exc), back))
        server.replays[replay.key] = replay
        return HTMLResponse(pages.viewer_page(replay.title, f"/api/replay/{replay.key}", back))

    def replay_list(request: Request) -> HTMLResponse:
        return HTMLResponse(pages.replays_page([(k, r.title) for k, r in server.replays.items()]))

    def replay_page(request: Request) -> HTMLResponse:
        replay = server.replay(request.path_params["key"])
        return HTMLResponse(pages.viewer_page(replay.title, f"/api/replay/{replay.key}", "/replays"))

    def replay_json(request: Request) -> JSONResponse:
        return JSONResponse(server.replay(request.path_params["key"]).to_json())

    def replay_frame(request: Request) -> Response:
        replay = server.replay(request.path_params["key"])
        return Response(replay.frame(request.path_params["index"]), media_type="image/png")

    async def upload(request: Request) -> JSONResponse:
        data = await request.body()
        filename = request.headers.get("x-filename", "dropped.jsonl")
        replay = await asyncio.to_thread(server.upload, data, filename)
        return JSONResponse({"key": replay.key, "url": f"/replay/{replay.key}"})

    def play_form(request: Request) -> HTMLResponse:
        import arena

        envs = [e.name for e in arena.list_envs() if getattr(e, "vector_target", None) is None]
        agents = [a.name for a in arena.list_agents() if a.name != "human"]
        return HTMLResponse(pages.play_form(envs, agents))

    async def new_game(request: Request) -> JSONResponse:
        try:
            form = await request.json()
        except ValueError:
            raise ConfigError("send the game as JSON: env, opponent, seat") from None
        if not isinstance(form, dict):
            raise ConfigError("send the game as JSON: env, opponent, seat")
        seat = form.get("seat", 0)
        if not isinstance(seat, int):
            seat = int(seat) if str(seat).isdigit() else -1
        game = await asyncio.to_thread(server.new_game, str(form.get("env", "")), str(form.get("opponent", "")), seat)
        return JSONResponse({"id": game.id, "url": f"/play/{game.id}"})

    def game_page(request: Request) -> HTMLResponse:
        game = server.game(request.path_params["id"])
        return HTMLResponse(pages.game_page(game.id, f"{game.env_spec.text}: you against {game.opponent_spec.text}"))

    def game_state(request: Request) -> JSONResponse:
        state = server.game(request.path_params["id"]).state()
        if state["match_id"]:
            key = server.dbs.add(server.play_db)
            state["match_url"] = pages.url("/match", db=key, name="play", id=state["match_id"])
        return JSONResponse(state)

    def game_picture(request: Request) -> Response:
        game = server.game(request.path_params["id"])
        if game.picture is None:
            raise ConfigError("nothing is drawn yet")
        return Response(game.picture, media_type="image/png", headers={"Cache-Control": "no-store"})

    async def game_move(request: Request) -> JSONResponse:
        game = server.game(request.path_params["id"])
        try:
            move = await request.json()
        except ValueError:
            raise ConfigError('send the move as JSON: {"action": N}') from None
        game.submit(move.get("action") if isinstance(move, dict) else None)
        return JSONResponse({"ok": True})

    async def arena_error(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return HTMLResponse(pages.error_page(str(exc)), status_code=404)

    routes = [
        Route("/", index),
        Route("/tournament", tournament),
        Route("/matches", matches),
        Route("/match", match),
        Route("/replays", replay_list),
        Route("/replay/{key}", replay_page),
        Route("/play", play_form),
        Route("/play/{id}", game_page),
        Route("/api/results", results_fragment),
        Route("/api/progress", progress_events),
        Route("/api/progress.json", progress_json),
        Route("/api/replay/{key}", replay_json),
        Route("/api/replay/{key}/frame/{index:int}.png", replay_frame),
        Route("/api/replays", upload, methods=["POST"]),
        Route("/api/play", new_game, methods=["POST"]),
        Route("/api/play/{id}", game_state),
        Route("/api/play/{id}/picture.png", game_picture),
        Route("/api/play/{id}/move", game_move, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={ArenaError: arena_error})
    app.state.server = server
    return app
