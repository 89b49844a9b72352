"""Replays as hostile input: every malformed file is one line and exit 2; edited or cut replays never verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import arena
from arena.cli import main
from arena.replay import check_replay


@pytest.fixture
def arena_cli(capsys: pytest.CaptureFixture[str]):
    """Run the `arena` command in this process: (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    path = tmp_path_factory.mktemp("replay") / "kuhn.jsonl"
    arena.play("kuhn_poker-v0", ["random", "random"], seed=5, record=path)
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(tmp_path: Path, records: list) -> Path:
    path = tmp_path / "edited.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def _edit(records: list[dict], line: int, **changes) -> list[dict]:
    edited = [dict(r) for r in records]
    edited[line] = {**edited[line], **changes}
    return edited


MALFORMED = {
    "no header": lambda r: r[1:],
    "header without env_id": lambda r: [{k: v for k, v in r[0].items() if k != "env_id"}, *r[1:]],
    "string seed": lambda r: _edit(r, 0, seed="7"),
    "negative seed": lambda r: _edit(r, 0, seed=-1),
    "agents missing": lambda r: _edit(r, 0, agents=None),
    "step without moves": lambda r: _edit(r, 1, moves=[]),
    "move by a stranger": lambda r: _edit(r, 1, moves=[{**r[1]["moves"][0], "player": "player_9"}]),
    "string action": lambda r: _edit(r, 1, moves=[{**r[1]["moves"][0], "action": "1"}]),
    "rewards of the wrong length": lambda r: _edit(r, 1, rewards=[0.0]),
    "unknown line": lambda r: [*r, {"type": "note"}],
    "not json": lambda r: [*r, "{not json"],
    "deep json": lambda r: [*r, "[" * 5000 + "]" * 5000],
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_replays_are_one_line_and_exit_2(case: str, recorded: list[dict], tmp_path: Path, arena_cli) -> None:
    path = _write(tmp_path, MALFORMED[case](recorded))
    for args in (("replay", str(path)), ("replay", str(path), "--verify"), ("replay", str(path), "--json")):
        status, out, err = arena_cli(*args)
        assert status == 2, (case, args, out[-300:], err[-300:])
        assert len(err.strip().splitlines()) == 1 and "replay" in err


def test_devices_and_folders_are_refused(tmp_path: Path, arena_cli) -> None:
    for path in ("/dev/zero", str(tmp_path)):
        status, _, err = arena_cli("replay", path, "--verify")
        assert status == 2 and "not a regular file" in err


def test_edited_or_cut_replays_do_not_verify(recorded: list[dict], tmp_path: Path, arena_cli) -> None:
    assert check_replay(_write(tmp_path, recorded)) is None
    illegal = _edit(recorded, 1, moves=[{**recorded[1]["moves"][0], "action": 7}])
    assert "not a legal move" in check_replay(_write(tmp_path, illegal))
    truncated = recorded[:-1]
    assert "truncated" in check_replay(_write(tmp_path, truncated))
    cut = [*recorded[:2], recorded[-1]]  # steps removed: the game is not over, yet the result says it ended
    assert "truncated" in check_replay(_write(tmp_path, cut))
    payoffs = _edit(recorded, -1, payoffs=[9.0, -9.0])
    assert "result says" in check_replay(_write(tmp_path, payoffs))
    for replay, verified in ((truncated, False), (recorded, True)):
        path = _write(tmp_path, replay)
        status, out, _ = arena_cli("replay", str(path), "--verify")
        assert status == (0 if verified else 1)
        assert ("MISMATCH" in out) is not verified
        assert "What you see" not in out  # --verify shows a line a move, not every text
        as_json = json.loads(arena_cli("replay", str(path), "--json")[1])
        assert as_json["verified"] is verified and (as_json["problem"] is None) is verified
