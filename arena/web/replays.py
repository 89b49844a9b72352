"""Replays in the viewer: a replay file read and checked once (`arena.replay.read_replay`), its moves as plain data,
and its pictures: the actions fed through a fresh env made with the replay's parameters and seed, each position drawn
by the env's own scene (`env.render()` in "rgb_array" mode) and sent as PNG.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arena.errors import ArenaError, ConfigError
from arena.registry import make_env
from arena.replay import read_replay

MAX_FRAMES = 2000  # positions drawn per replay; a longer replay shows its moves beyond that without pictures
DRAWING = threading.Lock()  # pygame and matplotlib draw one picture at a time


def png(frame: np.ndarray) -> bytes:
    """An H x W x 3 uint8 frame as PNG bytes."""
    import imageio.v3 as iio

    buffer = io.BytesIO()
    iio.imwrite(buffer, frame, extension=".png")
    return buffer.getvalue()


def draw_frames(header: dict[str, Any], steps: list[dict[str, Any]], source: str) -> tuple[list[bytes], str]:
    """PNG pictures of the position after the reset and after every step (at most MAX_FRAMES + 1), and a note
    saying why pictures stop early (empty when they do not)."""
    from arena.render.recording import replay_steps

    try:
        env = make_env(header["env_id"], render_mode="rgb_array", **header.get("env_params", {}))
    except ArenaError as exc:
        return [], f"no pictures: {exc}"
    frames: list[bytes] = []
    try:
        env.reset(seed=header.get("seed"))
        frames.append(png(env.render()))
        for _ in replay_steps(env, steps[:MAX_FRAMES], source):
            frames.append(png(env.render()))
    except (ArenaError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        return frames, f"the pictures stop at step {len(frames) - 1}: the replay does not re-play here ({exc})"
    finally:
        env.close()
    if len(steps) > MAX_FRAMES:
        return frames, f"pictures are drawn for the first {MAX_FRAMES} steps"
    return frames, ""


def decision(record: dict[str, Any]) -> dict[str, str]:
    """One request of an agent's transcript (an LLM's) as the viewer shows it: what kind of request, the prompt
    (its messages), the reply, the reasoning, and what went wrong, each where the record holds it."""
    if "transcript_error" in record:
        return {"kind": "no transcript", "error": str(record["transcript_error"])}
    messages = record.get("messages") or []
    prompt = "\n\n".join(f"{m.get('role', '?')}: {m.get('content', '')}" for m in messages if isinstance(m, dict))
    tool = record.get("tool_arguments") if record.get("answer") == "tool" else None
    shown = {
        "kind": str(record.get("kind", "request")),
        "prompt": prompt,
        "reply": str(tool or record.get("reply") or ""),
        "reasoning": str(record.get("reasoning") or ""),
        "error": str(record.get("error") or ""),
    }
    return {k: v for k, v in shown.items() if v}


@dataclass
class Replay:
    """One replay the viewer can show: where it came from, its header, steps and result, its pictures (drawn on
    first use)."""

    key: str
    title: str
    header: dict[str, Any]
    steps: list[dict[str, Any]]
    result: dict[str, Any] | None
    note: str = ""
    _frames: list[bytes] | None = field(default=None, repr=False)
    _frames_note: str = ""

    @classmethod
    def read(cls, key: str, path: str | Path, title: str | None = None, note: str = "") -> Replay:
        """A replay file read and checked (ConfigError when it is not a replay)."""
        header, steps, result = read_replay(path)
        return cls(key, title or Path(path).name, header, steps, result, note)

    def frames(self) -> list[bytes]:
        if self._frames is None:
            with DRAWING:
                if self._frames is None:
                    self._frames, self._frames_note = draw_frames(self.header, self.steps, self.title)
        return self._frames

    def frame(self, index: int) -> bytes:
        frames = self.frames()
        if not 0 <= index < len(frames):
            raise ConfigError(f"replay {self.title} has no picture {index}")
        return frames[index]

    def to_json(self) -> dict[str, Any]:
        """Everything the viewer shows, as plain data; `frames` is how many pictures there are."""
        players = self.header["players"]
        agents = dict(zip(players, self.header["agents"]))
        steps = []
        for step in self.steps:
            moves = []
            for move in step["moves"]:
                shown = {
                    "player": move["player"],
                    "agent": agents[move["player"]],
                    "action": move["action"],
                    "action_name": move.get("action_name", str(move["action"])),
                    "text": move.get("text", ""),
                }
                if move.get("transcript"):
                    shown["transcript"] = [decision(record) for record in move["transcript"]]
                moves.append(shown)
            steps.append({"t": step["t"], "moves": moves, "rewards": step["rewards"]})
        frames = self.frames()
        notes = [n for n in (self.note, self._frames_note) if n]
        return {
            "key": self.key,
            "title": self.title,
            "env": self.header["env_id"],
            "env_params": self.header.get("env_params", {}),
            "seed": self.header.get("seed"),
            "players": players,
            "agents": self.header["agents"],
            "steps": steps,
            "result": self.result,
            "frames": len(frames),
            "notes": notes,
        }
