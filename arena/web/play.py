"""A person plays in the browser: the game runs through the one match loop (`arena.match.play`) in a thread of its
own, with `BrowserPlayer` in the person's seat; its `act` shows the legal moves and waits for a click. The replay is
written as the game goes (the page's move list is read from it), and the finished game is stored as a match of the
tournament "play" in the play database (`ResultsStore.begin` and `add_matches`, as a tournament stores its matches),
its replay kept beside the database under the match's id.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import arena
from arena.core import Agent, MatchResult, Observation
from arena.errors import ArenaError, ConfigError, ParameterError
from arena.registry import make_agent, make_env
from arena.specs import AgentSpec, EnvSpec
from arena.web.data import PERSON, replay_dir  # PERSON: the person's name and spec in the store
from arena.web.replays import DRAWING, png

PLAY_TOURNAMENT = "play"
IDLE_SECONDS = 1800.0  # a person who does not move for this long forfeits the game


class BrowserPlayer(Agent):
    """The person in the browser: each move is asked of the page and waited for."""

    name = PERSON

    def __init__(self, session: PlaySession) -> None:
        self.session = session

    def act(self, obs: Observation) -> int:
        return self.session.ask(obs)


class PlaySession:
    """One game of a person against agents; `start()` runs it, `state()` is what the page shows."""

    def __init__(self, db: Path, env: str, opponent: str, seat: int) -> None:
        self.db = db
        self.env = make_env(env, render_mode="rgb_array")
        self.env_spec: EnvSpec = self.env.spec
        players = list(self.env.possible_agents)
        if not 0 <= seat < len(players):
            raise ParameterError(f"{self.env_spec.text} has seats 0 to {len(players) - 1}, not {seat}")
        self.opponent_spec = AgentSpec.of(opponent)
        if self.opponent_spec.name == PERSON:
            raise ParameterError("play against an agent: the person is the human here")
        self.agents: list[Agent] = [
            BrowserPlayer(self) if i == seat else make_agent(self.opponent_spec) for i in range(len(players))
        ]
        self.seat, self.players = seat, players
        self.seed = secrets.randbelow(2**31)
        self.id = secrets.token_urlsafe(9)
        self.replay = Path(tempfile.mkdtemp(prefix="arena-play-")) / "game.jsonl"
        self._changed = threading.Condition()
        self.status = "starting"
        self.prompt: dict[str, Any] | None = None
        self._move: int | None = None
        self.picture: bytes | None = None
        self.picture_number = 0
        self.log: list[dict[str, Any]] = []
        self._read = 0  # how much of the replay the move list has read
        self.result: dict[str, Any] | None = None
        self.match_id: str | None = None
        self.error = ""

    # -- the game's thread --------------------------------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"play-{self.id}", daemon=True).start()

    def _run(self) -> None:
        from arena.match import play

        try:
            with self._changed:
                self.status = "opponent"
            result = play(self.env, self.agents, seed=self.seed, record=self.replay, on_step=self._stepped)
            self._draw()
            match_id = store_game(self.db, self.env_spec, self.players, self.seat, self.opponent_spec, result, self)
            with self._changed:
                self.result = result.to_dict()
                self.match_id = match_id
                self.status = "over"
        except (ArenaError, OSError) as exc:
            with self._changed:
                self.status, self.error = "error", str(exc)
        except Exception as exc:  # the page must hear of whatever ended the game's thread
            with self._changed:
                self.status, self.error = "error", f"the game stopped: {type(exc).__name__}: {exc}"
        finally:
            self.env.close()

    def _draw(self) -> None:
        with DRAWING:
            picture = png(self.env.render())
        with self._changed:
            self.picture = picture
            self.picture_number += 1

    def _stepped(self, env: Any) -> None:
        """After each step: the new moves (read from the replay being written) and the new picture."""
        names = dict(zip(self.players, [a.name for a in self.agents]))
        with self.replay.open(encoding="utf-8") as file:
            file.seek(self._read)
            lines = file.read().splitlines()
            self._read = file.tell()
        moves = [
            {"t": step["t"], "player": m["player"], "agent": names[m["player"]], "move": m.get("action_name", "")}
            for step in map(json.loads, lines)
            if step.get("type") == "step"
            for m in step["moves"]
        ]
        with self._changed:
            self.log = self.log + moves
            self.status = "opponent"
        self._draw()

    def ask(self, obs: Observation) -> int:
        """The person's move: shown as buttons, waited for (a person who leaves forfeits)."""
        self._draw()
        names = obs.action_names
        legal = [{"action": int(a), "name": names[a] if a < len(names) else str(a)} for a in obs.legal_actions]
        with self._changed:
            self.prompt = {"player": obs.player, "text": obs.text, "legal": legal, "error": obs.error}
            self._move = None
            self.status = "your move"
            self._changed.notify_all()
            if not self._changed.wait_for(lambda: self._move is not None, timeout=IDLE_SECONDS):
                raise TimeoutError("the person left the game")
            move, self._move, self.prompt = self._move, None, None
            self.status = "opponent"
            assert move is not None  # the wait ended on a move
            return move

    # -- the page's side ----------------------------------------------------------------------------------------

    def submit(self, action: Any) -> None:
        """The person's click; a move that is not legal now is a ParameterError."""
        with self._changed:
            if self.status != "your move" or self.prompt is None:
                raise ParameterError("it is not your move")
            if not isinstance(action, int) or action not in [m["action"] for m in self.prompt["legal"]]:
                raise ParameterError(f"{action!r} is not a legal move now")
            self._move = action
            self._changed.notify_all()

    def state(self) -> dict[str, Any]:
        with self._changed:
            return {
                "id": self.id,
                "env": self.env_spec.text,
                "players": self.players,
                "agents": [a.name for a in self.agents],
                "seat": self.seat,
                "status": self.status,
                "prompt": self.prompt,
                "picture": self.picture_number if self.picture is not None else None,
                "log": self.log,
                "result": self.result,
                "match_id": self.match_id,
                "error": self.error,
            }


def store_game(
    db: Path,
    env: EnvSpec,
    players: list[str],
    seat: int,
    opponent: AgentSpec,
    result: MatchResult,
    session: PlaySession,
) -> str:
    """Store a finished game as a match of the tournament "play" in `db` (made if missing), with its replay kept
    beside the database; returns the match's id."""
    from arena.tournaments.config import config_from_dict, public_spec
    from arena.tournaments.records import AgentRecord, encode_match
    from arena.tournaments.schedule import MatchTask, match_id
    from arena.tournaments.store import ResultsStore, RunLock
    from arena.tournaments.worker import match_record

    rival = public_spec(opponent).text
    seats = tuple(PERSON if i == seat else rival for i in range(len(players)))
    config = config_from_dict(
        {
            "name": PLAY_TOURNAMENT,
            "envs": [env.text],
            "agents": [{"name": PERSON, "spec": PERSON}, {"name": rival, "spec": opponent.text}],
            "db": str(db),
        }
    )
    rival_class = type(next(a for a in session.agents if not isinstance(a, BrowserPlayer)))
    agents = [
        AgentRecord(PERSON, AgentSpec.of(PERSON), f"{BrowserPlayer.__module__}:{BrowserPlayer.__qualname__}"),
        AgentRecord(
            rival,
            public_spec(opponent),
            f"{rival_class.__module__}:{rival_class.__qualname__}",
            arena.__version__ if rival_class.__module__.startswith("arena.") else None,
            rival_class.has_action_probs(),
        ),
    ]
    with RunLock(db, PLAY_TOURNAMENT), ResultsStore(db) as store:
        store.begin(config, agents, arena.__version__)
        index = store.count(PLAY_TOURNAMENT)
        task = MatchTask(match_id(PLAY_TOURNAMENT, env, seats, index), env, seats, index, session.seed)
        store.add_matches(PLAY_TOURNAMENT, [encode_match(match_record(task, result, None))])
    folder = replay_dir(db)
    try:
        folder.mkdir(exist_ok=True)
        shutil.move(str(session.replay), folder / f"{task.match_id}.jsonl")
    except OSError as exc:
        raise ConfigError(f"the game is stored in {db}, but its replay could not be kept in {folder}: {exc}") from None
    return task.match_id
