"""Reading and checking replays: the JSON-lines files `arena.play(..., record=PATH)` writes.

A replay is a header line (env id and parameters, seed, agents, players), one line per step (each move's player,
the text it saw, its action and the action's name, and for agents that keep one the transcript of the decision:
the messages sent, the replies, reasoning, tokens, latency, retries, how each reply was read; the step's rewards)
and a result line (which holds the transcript of a decision that made no move, a forfeit). `read_replay` checks
every line's shape once, so that a malformed file is one clear `ConfigError`; `check_replay` re-plays the actions
through a fresh env with the recorded seed and says what, if anything, does not match.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pettingzoo import AECEnv

from arena.errors import ArenaError, ConfigError
from arena.registry import make_env

MAX_REPLAY_BYTES = 256 * 2**20  # a longer file is refused rather than read into memory


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) and math.isfinite(value)


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        reason = "no such file" if not path.exists() else "not a regular file"
        raise ConfigError(f"cannot read replay {path}: {reason}")
    try:
        with path.open("rb") as file:
            data = file.read(MAX_REPLAY_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read replay {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_REPLAY_BYTES:
        raise ConfigError(f"{path} is not a replay file: larger than {MAX_REPLAY_BYTES // 2**20} MB")
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a replay file (not text)") from None


def _check_header(path: Path, header: Any) -> None:
    problems = []
    if not isinstance(header.get("env_id"), str) or not header["env_id"]:
        problems.append("env_id must be a non-empty string")
    if not isinstance(header.get("env_params", {}), dict):
        problems.append("env_params must be a table")
    seed = header.get("seed")
    if seed is not None and not (_is_int(seed) and seed >= 0):
        problems.append("seed must be a non-negative integer or null")
    players, agents = header.get("players"), header.get("agents")
    if not (isinstance(players, list) and players and all(isinstance(p, str) for p in players)):
        problems.append("players must be a list of names")
    elif not (isinstance(agents, list) and len(agents) == len(players) and all(isinstance(a, str) for a in agents)):
        problems.append("agents must name one agent per player")
    if problems:
        raise ConfigError(f"{path} is not a replay file: header: {problems[0]}")


def _is_transcript(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(r, dict) for r in value)


def _check_step(path: Path, number: int, step: Any, players: list[str]) -> None:
    where = f"{path} is not a replay file: line {number}"
    if not _is_int(step.get("t")):
        raise ConfigError(f"{where}: t must be an integer")
    moves, rewards = step.get("moves"), step.get("rewards")
    if not isinstance(moves, list) or not moves or not all(isinstance(m, dict) for m in moves):
        raise ConfigError(f"{where}: moves must be a non-empty list")
    for move in moves:
        if move.get("player") not in players:
            raise ConfigError(f"{where}: move by unknown player {str(move.get('player'))[:40]!r}")
        if not _is_int(move.get("action")):
            raise ConfigError(f"{where}: action must be an integer")
        if not isinstance(move.get("action_name", ""), str) or not isinstance(move.get("text", ""), str):
            raise ConfigError(f"{where}: action_name and text must be strings")
        if not _is_transcript(move.get("transcript", [])):
            raise ConfigError(f"{where}: a transcript must be a list of tables")
    if not (isinstance(rewards, list) and len(rewards) == len(players) and all(_is_number(r) for r in rewards)):
        raise ConfigError(f"{where}: rewards must be one finite number per player")


def read_replay(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    """The header, the steps and the result (None if the file has none) of a replay; ConfigError when the file
    is not a well-formed replay."""
    path = Path(path)
    header: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = []
    result: dict[str, Any] | None = None
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError(f"{path} is not a replay file: bad JSON on line {number}") from None
        except RecursionError:
            raise ConfigError(f"{path} is not a replay file: line {number} is nested too deeply") from None
        kind = record.get("type") if isinstance(record, dict) else None
        if header is None:
            if kind != "header":
                raise ConfigError(f"{path} is not a replay file: it has no header line")
            _check_header(path, record)
            header = record
        elif kind == "step":
            _check_step(path, number, record, header["players"])
            steps.append(record)
        elif kind == "result":
            if not (isinstance(record.get("payoffs"), list) and all(_is_number(p) for p in record["payoffs"])):
                raise ConfigError(f"{path} is not a replay file: line {number}: payoffs must be numbers")
            if not _is_transcript(record.get("transcript", [])):
                raise ConfigError(f"{path} is not a replay file: line {number}: a transcript must be a list of tables")
            result = record
        else:
            raise ConfigError(f"{path} is not a replay file: line {number} is neither a step nor a result")
    if header is None:
        raise ConfigError(f"{path} is not a replay file: it has no header line")
    return header, steps, result


def _close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) for x, y in zip(a, b))


def check_replay(path: str | Path) -> str | None:
    """Re-play the recorded actions through a fresh env with the recorded seed: None when every step's rewards,
    the end of the game and the result match, otherwise what does not."""
    header, steps, result = read_replay(path)
    if result is None:
        return "the replay is truncated: it has no result line"
    try:
        env = make_env(header["env_id"], **header.get("env_params", {}))
    except ArenaError as exc:
        return f"its env cannot be made: {exc}"
    players = list(env.possible_agents)
    if players != header["players"]:
        return f"the env's players are {players}, the replay's {header['players']}"
    totals = [0.0] * len(players)
    try:
        env.reset(seed=header.get("seed"))
        for step in steps:
            if isinstance(env, AECEnv):
                while env.agents and (env.terminations[env.agent_selection] or env.truncations[env.agent_selection]):
                    env.step(None)
                move = step["moves"][0]
                if not env.agents or env.agent_selection != move["player"]:
                    return f"step {step['t']}: {move['player']} moves, but the game waits for another player or is over"
                if move["action"] not in env.infos[move["player"]].get("legal_actions", [move["action"]]):
                    return f"step {step['t']}: {move['action']} is not a legal move of {move['player']}"
                env.step(move["action"])
                rewards = [float(env.rewards.get(a, 0.0)) for a in players]
            else:
                moves = {m["player"]: m["action"] for m in step["moves"]}
                if set(moves) != set(env.agents):
                    return f"step {step['t']}: the moves are not one per player still in the game"
                _, reward_map, *_ = env.step(moves)
                rewards = [float(reward_map.get(a, 0.0)) for a in players]
            if not _close(rewards, step["rewards"]):
                return f"step {step['t']}: the actions earn {rewards}, the replay says {step['rewards']}"
            totals = [t + r for t, r in zip(totals, rewards)]
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        return f"the env refused a recorded move: {exc}"
    if result.get("termination", "normal") == "normal":
        over = not env.agents or all(env.terminations[a] or env.truncations[a] for a in env.agents)
        if not over:
            return "the replay is truncated: the game is not over after its last step"
        if not _close(totals, [float(p) for p in result["payoffs"]]):
            return f"the steps earn {totals} in all, the result says {result['payoffs']}"
    return None


def verify_replay(path: str | Path) -> bool:
    """True when the recorded actions reproduce the recorded rewards, the game's end and the result."""
    return check_replay(path) is None


def _number(value: Any) -> str:
    return f"{value:g}" if _is_number(value) else "?"


def transcript_lines(records: list[dict[str, Any]], seen: set[str]) -> list[str]:
    """Printable lines of a decision's transcript records: each request's kind, cost and reading, the messages
    sent (a text already shown in this replay is referred to, not repeated), the reply and the reasoning."""
    lines = []
    for record in records:
        if "transcript_error" in record:
            lines.append(f"  [no transcript: {record['transcript_error']}]")
            continue
        retried = f", {record['retries']} retries" if record.get("retries") else ""
        cost = f"{_number(record.get('latency_s'))}s{retried}"
        if "error" not in record:
            tokens = f"{_number(record.get('prompt_tokens'))}+{_number(record.get('completion_tokens'))} tokens"
            if record.get("reasoning_tokens"):
                tokens += f" ({_number(record['reasoning_tokens'])} reasoning)"
            cost = f"{tokens}, {cost}" + (", cached" if record.get("cached") else "")
        sample = f" #{record['sample']}" if "sample" in record else ""
        lines.append(f"  [{record.get('kind', 'request')}{sample}, answer={record.get('answer', 'text')}] {cost}")
        if record.get("reask"):
            lines.append(f"  re-asked: {record['reask']}")
        for message in record.get("messages") or []:
            content = str(message.get("content", ""))
            shown = "(as above)" if content in seen else content.replace("\n", "\n    ")
            seen.add(content)
            lines.append(f"  {message.get('role', '?')}: {shown}")
        if "error" in record:
            again = f" -> asked again: answer={record['fallback']}" if record.get("fallback") else ""
            lines.append(f"  failed: {record['error']}{again}")
            continue
        if record.get("reasoning"):
            lines.append("  reasoning: " + str(record["reasoning"]).replace("\n", "\n    "))
        reply = (
            record.get("tool_arguments") if record.get("answer") == "tool" and record.get("tool_arguments") else None
        )
        lines.append("  reply: " + str(reply or record.get("reply", "")).replace("\n", "\n    "))
        if record.get("distribution") is not None:
            lines.append(f"  read ({record.get('parsed_by')}): {json.dumps(record['distribution'])}")
        elif "move" in record:
            verdict = "" if record.get("legal", True) else " (illegal)"
            lines.append(f"  read ({record.get('parsed_by')}): {record['move']}{verdict}")
    return lines


def transcript_summary(records: list[dict[str, Any]]) -> str:
    """A printable walk through a match's transcript records (as the store keeps them, tagged with player and
    step), decision by decision."""
    lines: list[str] = []
    seen: set[str] = set()
    decision = None
    for record in records:
        if (record.get("t"), record.get("player")) != decision:
            decision = (record.get("t"), record.get("player"))
            lines.append(f"\n--- step {decision[0]}: {decision[1]} ---")
        lines += transcript_lines([record], seen)
    return "\n".join(lines).lstrip("\n")


def replay_summary(path: str | Path, texts: bool = True) -> str:
    """A printable walk through a replay, step by step, with what each player saw and, for agents that keep one,
    the transcript of each decision (`texts=False`: a line a move)."""
    header, steps, result = read_replay(path)
    seen: set[str] = set()
    lines = [
        f"{header['env_id']} {header.get('env_params') or ''} seed={header.get('seed')}",
        "players: " + ", ".join(f"{p}={a}" for p, a in zip(header["players"], header["agents"])),
    ]
    for step in steps:
        for move in step["moves"]:
            played = f"{move['player']} plays {move.get('action_name', move['action'])} ({move['action']})"
            if texts:
                lines.append(f"\n--- step {step['t']}: {move['player']} ---\n{move.get('text', '')}")
                lines += transcript_lines(move.get("transcript", []), seen)
                lines.append(f"=> {played}")
            else:
                lines.append(f"step {step['t']}: {played}")
        if any(step["rewards"]):
            lines.append(f"rewards: {step['rewards']}")
    if result and texts and result.get("transcript"):
        lines.append("\n--- the last decision, which made no move ---")
        lines += transcript_lines(result["transcript"], seen)
    if result:
        lines.append(
            f"\nresult: payoffs {result['payoffs']}, outcomes {result.get('outcomes')}, "
            f"ended by {result.get('termination')}{': ' + result['message'] if result.get('message') else ''}"
        )
    return "\n".join(lines)
