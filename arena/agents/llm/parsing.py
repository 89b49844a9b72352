"""Reading a move or a mixed strategy out of a language model's free-form reply.

Replies mix reasoning with the answer, change case and punctuation, and sometimes name several moves. The rules,
in order: an explicit answer line (`Move: ...`, `Answer: ...`, `Action: ...`, the last one wins) or a JSON answer
(`{"move": ...}`), then a TextArena-style bracketed move (`[rock]`), then the last legal move mentioned anywhere,
then a bare number. Names are compared case- and punctuation-insensitively; an action id is accepted as a number.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_ANSWER_LINE = re.compile(
    r"^[\s>*#_`\-]*(?:final\s+)?(?:answer|move|action|choice|decision|play)\s*\**\s*[:=]\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BRACKETED = re.compile(r"\[\s*([^\[\]]{1,60}?)\s*\]")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?![\w.])")
_MOVE_KEYS = ("move", "action", "answer", "choice")
_POLICY_KEYS = ("policy", "probabilities", "distribution", "strategy", "probs")


def strip_reasoning(reply: str) -> str:
    """Drop `<think>...</think>` blocks that reasoning models put before their answer."""
    return _THINK.sub(" ", reply)


def think_blocks(reply: str) -> str:
    """The text inside a reply's `<think>` (`<thinking>`, `<reasoning>`) blocks, joined by blank lines."""
    return "\n\n".join(
        found.group(0)[len(found.group(1)) + 2 : -len(found.group(1)) - 3].strip() for found in _THINK.finditer(reply)
    )


def normalise(text: str) -> str:
    """Lower case with everything but letters and digits removed: `X(0, 0)` and `x00` compare equal."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _mention_pattern(name: str) -> re.Pattern[str] | None:
    tokens = re.findall(r"[0-9a-z]+", name.lower())
    if not tokens:
        return None
    return re.compile(r"(?<![0-9a-z])" + r"[^0-9a-z]*".join(map(re.escape, tokens)) + r"(?![0-9a-z])")


def _resolve_exact(candidate: str, names: Sequence[str], num_actions: int) -> int | None:
    """A candidate answer that is exactly a move name or an action id."""
    key = normalise(candidate)
    if not key:
        return None
    for index, name in enumerate(names):
        if normalise(name) == key:
            return index
    number = candidate.strip().strip(".()[]<>\"'`*")
    if re.fullmatch(r"-?\d+", number) and 0 <= int(number) < num_actions:
        return int(number)
    return None


def _last_mention(text: str, names: Sequence[str], allowed: Sequence[int]) -> int | None:
    """The allowed move whose name occurs last in `text` (the longest name wins at the same place)."""
    lowered = text.lower()
    best: tuple[int, int, int] | None = None  # (end position, name length, action)
    for action in allowed:
        pattern = _mention_pattern(names[action]) if action < len(names) else None
        if pattern is None:
            continue
        for found in pattern.finditer(lowered):
            key = (found.end(), found.end() - found.start(), action)
            if best is None or key[:2] > best[:2]:
                best = key
    return None if best is None else best[2]


def _resolve_answer(candidate: str, names: Sequence[str], num_actions: int) -> int | None:
    """Resolve the content of an explicit answer: a name or id (legal or not), else a legal name or id in it."""
    exact = _resolve_exact(candidate, names, num_actions)
    if exact is not None:
        return exact
    mentioned = _last_mention(candidate, names, range(len(names)))
    if mentioned is not None:
        return mentioned
    numbers = [int(n) for n in _NUMBER.findall(candidate) if 0 <= int(n) < num_actions]
    return numbers[-1] if numbers else None


def find_json_values(text: str) -> list[Any]:
    """Every JSON (or Python-literal) object or list embedded in `text`, in order, tolerating trailing commas."""
    values, starts = [], [i for i, ch in enumerate(text) if ch in "{["]
    consumed = -1
    for start in starts:
        if start < consumed:
            continue
        closing = {"{": "}", "[": "]"}
        stack, quote, escape = [], "", False
        for end in range(start, len(text)):
            ch = text[end]
            if quote:
                if escape:
                    escape = False
                elif ch == "\\":
                    escape = True
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch in closing:
                stack.append(closing[ch])
            elif ch in "}]":
                if not stack or stack.pop() != ch:
                    break
                if not stack:
                    value = _load_literal(text[start : end + 1])
                    if value is not None:
                        values.append(value)
                        consumed = end + 1
                    break
    return values


def _load_literal(snippet: str) -> Any:
    cleaned = re.sub(r",\s*([}\]])", r"\1", snippet)
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(
            re.sub(
                r"\btrue\b|\bfalse\b|\bnull\b",
                lambda m: {"true": "True", "false": "False", "null": "None"}[m.group()],
                cleaned,
            )
        )
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def read_move(
    reply: str, names: Sequence[str], legal: Sequence[int], num_actions: int | None = None
) -> tuple[int | None, str]:
    """The action a reply chooses (None when it names none) and the rule that found it: `answer line`, `json`,
    `bracketed`, `mention`, `number` or `none`.

    An explicit answer may name an illegal move (its id is returned so the match's policy can deal with it);
    free-text mentions count only legal moves.
    """
    num_actions = len(names) if num_actions is None else num_actions
    text = strip_reasoning(reply)
    for line in reversed(_ANSWER_LINE.findall(text)):
        action = _resolve_answer(line, names, num_actions)
        if action is not None:
            return action, "answer line"
    for value in reversed(find_json_values(text)):
        if isinstance(value, dict):
            lowered = {str(k).lower(): v for k, v in value.items()}
            for key in _MOVE_KEYS:
                if key in lowered and isinstance(lowered[key], (str, int)) and not isinstance(lowered[key], bool):
                    action = _resolve_answer(str(lowered[key]), names, num_actions)
                    if action is not None:
                        return action, "json"
    for bracketed in reversed(_BRACKETED.findall(text)):
        action = _resolve_exact(bracketed, names, num_actions)
        if action is not None:
            return action, "bracketed"
    mentioned = _last_mention(text, names, legal)
    if mentioned is not None:
        return mentioned, "mention"
    action = _resolve_exact(text, names, num_actions)
    return action, "none" if action is None else "number"


def parse_move(reply: str, names: Sequence[str], legal: Sequence[int], num_actions: int | None = None) -> int | None:
    """The action a reply chooses, or None when it names none (`read_move` without the rule)."""
    return read_move(reply, names, legal, num_actions)[0]


def _probability(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        found = re.fullmatch(r"\s*(-?\d+(?:\.\d*)?|-?\.\d+)\s*(%?)\s*", value)
        if found:
            return float(found.group(1)) / (100.0 if found.group(2) else 1.0)
    return None


def _weights_from_value(
    value: Any, names: Sequence[str], legal: Sequence[int], num_actions: int
) -> dict[int, float] | None:
    """Weights per action from `{move: p}`, `{"policy": {...} | [...]}` or a list over the legal moves."""
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        for key in _POLICY_KEYS:
            if key in lowered and isinstance(lowered[key], (dict, list)):
                return _weights_from_value(lowered[key], names, legal, num_actions)
        weights: dict[int, float] = {}
        for key, raw in value.items():
            action = _resolve_exact(str(key), names, num_actions)
            probability = _probability(raw)
            if action is None or probability is None:
                continue
            weights[action] = weights.get(action, 0.0) + probability
        return weights or None
    if isinstance(value, list) and len(value) in (len(legal), num_actions) and value:
        parsed = [_probability(v) for v in value]
        probabilities = [p for p in parsed if p is not None]
        if len(probabilities) != len(parsed):
            return None
        order = list(legal) if len(value) == len(legal) else list(range(num_actions))
        return dict(zip(order, probabilities))
    return None


def _weights_from_lines(text: str, names: Sequence[str], legal: Sequence[int]) -> dict[int, float] | None:
    """`rock: 0.3` / `paper = 30%` lines when no JSON was given."""
    weights = {}
    for action in legal:
        pattern = _mention_pattern(names[action]) if action < len(names) else None
        if pattern is None:
            continue
        found = re.findall(pattern.pattern + r"[\"'*]*\s*[:=]\s*(-?\d+(?:\.\d+)?|-?\.\d+)\s*(%?)", text.lower())
        if found:
            number, percent = found[-1]
            weights[action] = float(number) / (100.0 if percent else 1.0)
    return weights or None


def parse_distribution(
    reply: str, names: Sequence[str], legal: Sequence[int], num_actions: int | None = None
) -> np.ndarray | None:
    """A probability vector over all actions (zero off the legal ones), renormalised; None when unreadable.

    The last JSON object or list in the reply is used, else `move: probability` lines. Negative weights or a
    zero total make the reply unreadable; weight on illegal moves is dropped before renormalising.
    """
    num_actions = len(names) if num_actions is None else num_actions
    text = strip_reasoning(reply)
    weights = None
    for value in reversed(find_json_values(text)):
        weights = _weights_from_value(value, names, legal, num_actions)
        if weights:
            break
    if not weights:
        weights = _weights_from_lines(text, names, legal)
    if not weights or any(w < 0 or not np.isfinite(w) for w in weights.values()):
        return None
    probs = np.zeros(num_actions)
    for action, weight in weights.items():
        if action in legal:
            probs[action] = weight
    total = probs.sum()
    if total <= 0:
        return None
    return probs / total
