"""What the results store holds, as typed records, and their encoding to and from SQLite rows (only here).

A `MatchRecord` is one played match: workers build it from the match's result and encode it with `encode_match`
before sending it back (a row of plain values pickles cheaply and the coordinator only inserts it); the store
decodes rows with `MatchDecoder`. A match's transcript (the LLM agents' per-decision records) is packed with
`pack_transcripts`: every distinct text (a prompt, a reply, a reasoning) once per match, the records pointing to
them by index; the store keeps it in its own table. Specs are stored in their canonical JSON form
(`EnvSpec.json`); databases written before that (schema version 0) hold their text form, which `env_of` and
`agent_of` read too.
"""

from __future__ import annotations

import ast
import json
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeGuard, TypeVar

from arena.errors import ParameterError
from arena.specs import AgentSpec, EnvSpec, Spec, parse_value, split_top_level

# The columns a worker's row fills, in the order of the matches table (the store adds tournament and recorded).
ROW_COLUMNS = (
    "match_id",
    "env",
    "seats",
    "idx",
    "seed",
    "payoffs",
    "outcomes",
    "termination",
    "culprit",
    "message",
    "length",
    "illegal_moves",
    "timeouts",
    "errors",
    "random_fallbacks",
    "wall_time",
    "agent_stats",
    "stuck",
    "rounds",
)
MATCH_COLUMNS = (*ROW_COLUMNS[:1], "tournament", *ROW_COLUMNS[1:], "recorded")

ROW_FIELDS = (*ROW_COLUMNS, "transcript")  # a worker's row: these values in this order (the transcript has its table)
ROW_AT = {name: i for i, name in enumerate(ROW_FIELDS)}  # where a field is in a row: row[ROW_AT["seats"]]
# SQLite values (JSON text for lists and tables); a plain tuple, because rows cross a pipe by the thousand and a
# tuple pickles and loads in a third of a dict's time
Row = tuple[Any, ...]


@dataclass(eq=True, slots=True)
class MatchRecord:
    """One recorded match; per-seat values are tuples in seat order (one seat is one player, or one team).

    Slotted: a report holds every match of a tournament, and a slotted record is a third of a plain one's size."""

    match_id: str
    env: EnvSpec
    seats: tuple[str, ...]
    index: int
    seed: int | None
    payoffs: tuple[float, ...]
    outcomes: tuple[str | None, ...]
    termination: str
    culprit: int | None
    message: str
    length: int
    illegal_moves: tuple[int, ...]
    timeouts: tuple[int, ...]
    errors: tuple[int, ...]
    random_fallbacks: tuple[int, ...]
    wall_time: float
    agent_stats: tuple[dict[str, Any], ...]
    stuck: bool = False
    rounds: dict[str, Any] | None = None  # per-seat actions, full-information payoffs and policies of each round
    recorded: float | None = None  # when the store wrote it
    transcript: dict[str, Any] | None = None  # `pack_transcripts` of the match's transcript records

    def to_dict(self, tournament: str | None = None) -> dict[str, Any]:
        """The record as plain data with the store's column names (lists for per-seat values, the env's text)."""
        return {
            "match_id": self.match_id,
            "tournament": tournament,
            "env": self.env.text,
            "seats": list(self.seats),
            "idx": self.index,
            "seed": self.seed,
            "payoffs": list(self.payoffs),
            "outcomes": list(self.outcomes),
            "termination": self.termination,
            "culprit": self.culprit,
            "message": self.message,
            "length": self.length,
            "illegal_moves": list(self.illegal_moves),
            "timeouts": list(self.timeouts),
            "errors": list(self.errors),
            "random_fallbacks": list(self.random_fallbacks),
            "wall_time": self.wall_time,
            "agent_stats": [dict(s) for s in self.agent_stats],
            "stuck": int(self.stuck),
            "rounds": self.rounds,
            "recorded": self.recorded,
        }


@dataclass(frozen=True)
class AgentRecord:
    """A participant as stored: display name, public spec (no secrets), class, version, exact strategy or not."""

    name: str
    spec: AgentSpec
    cls: str | None = None
    version: str | None = None
    has_action_probs: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spec": self.spec.text,
            "class": self.cls,
            "version": self.version,
            "has_action_probs": self.has_action_probs,
        }


@dataclass(frozen=True)
class Analysis:
    """One stored analysis: `kind` (exploitability, exact_payoff) of `subject` (an agent, or `a\\nb`) on `env`."""

    kind: str
    env: EnvSpec
    subject: str
    value: Any


# ---------------------------------------------------------------------------------------------------------------
# Specs


def _is_json(text: str) -> bool:
    return text.startswith("{")  # a spec's text starts with its name, its JSON form with a brace


S = TypeVar("S", bound=Spec)


def _string_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_string_keys(v) for v in value]
    return value


def legacy_spec(kind: type[S], text: str) -> S:
    """A spec from the text a version-0 database holds.

    arena 0.1.0 also wrote tables with integer keys (`mix(probs={0: 0.3, 1: 0.7})`), which specs no longer take:
    their keys become strings (`'0'`), which the agents read the same.
    """
    try:
        return kind.parse(text)
    except ParameterError:
        name, _, inner = text.strip().partition("(")
        if not inner.endswith(")"):
            raise
        params: dict[str, Any] = {}
        for item in split_top_level(inner[:-1]):
            key, _, value = item.partition("=")
            try:
                params[key.strip()] = parse_value(value)
            except ParameterError:
                try:
                    params[key.strip()] = _string_keys(ast.literal_eval(value.strip()))
                except (ValueError, SyntaxError):
                    raise ParameterError(f"cannot read the stored spec {text!r}") from None
        return kind.parse(name).with_params(**params)


def env_of(text: str) -> EnvSpec:
    """An env spec from a store column: canonical JSON, or the text form of a version-0 database."""
    return EnvSpec.from_json(text) if _is_json(text) else legacy_spec(EnvSpec, text)


def agent_of(text: str) -> AgentSpec:
    """An agent spec from a store column: canonical JSON, or the text form of a version-0 database."""
    return AgentSpec.from_json(text) if _is_json(text) else legacy_spec(AgentSpec, text)


# ---------------------------------------------------------------------------------------------------------------
# Transcripts

TEXT_FIELDS = ("reply", "reasoning", "tool_arguments")  # a record's long texts, stored once per match


def pack_transcripts(records: Sequence[dict[str, Any]], mask: Callable[[str], str] = str) -> dict[str, Any] | None:
    """A match's transcript records with each distinct text stored once: `{"texts": [...], "records": [...]}`,
    where message contents and the fields in TEXT_FIELDS are indices into `texts`. `mask` is applied to every
    text (each distinct one once) and every other string, to keep secrets out. None when there are no records."""
    if not records:
        return None
    texts: list[str] = []
    index: dict[str, int] = {}

    def intern(text: str) -> int:
        found = index.get(text)
        if found is None:
            found = index[text] = len(texts)
            texts.append(mask(text))
        return found

    packed = []
    for record in records:
        entry = {key: _masked(value, mask) for key, value in record.items() if key not in TEXT_FIELDS + ("messages",)}
        if isinstance(record.get("messages"), list):
            entry["messages"] = [[str(m.get("role")), intern(str(m.get("content") or ""))] for m in record["messages"]]
        for key in TEXT_FIELDS:
            if isinstance(record.get(key), str):
                entry[key] = intern(record[key])
        packed.append(entry)
    return {"texts": texts, "records": packed}


def _masked(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {str(k): _masked(v, mask) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v, mask) for v in value]
    return value


def unpack_transcripts(packed: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The records `pack_transcripts` packed, with their texts in place."""
    if not packed:
        return []
    texts = packed["texts"]
    records = []
    for entry in packed["records"]:
        record = dict(entry)
        if "messages" in record:
            record["messages"] = [{"role": role, "content": texts[i]} for role, i in record["messages"]]
        for key in TEXT_FIELDS:
            if isinstance(record.get(key), int):
                record[key] = texts[record[key]]
        records.append(record)
    return records


# ---------------------------------------------------------------------------------------------------------------
# Encoding (in the worker)


_JSON_MEMO: dict[tuple[tuple[Any, ...], ...], tuple[str, ...]] = {}


def _per_seat_json(*lists: tuple[Any, ...]) -> tuple[str, ...]:
    """JSON texts of a match's per-seat tuples; the few distinct combinations a tournament has are encoded once."""
    texts = _JSON_MEMO.get(lists)
    if texts is None:
        if len(_JSON_MEMO) > 10_000:
            _JSON_MEMO.clear()
        texts = _JSON_MEMO[lists] = tuple(json.dumps(list(values)) for values in lists)
    return texts


def _stats_json(stats: Sequence[dict[str, Any]]) -> str:
    """JSON text of the agents' match statistics (most agents keep none: that text is built without json)."""
    if any(stats):
        return json.dumps(list(stats), default=str)
    return "[" + ", ".join(["{}"] * len(stats)) + "]"


def encode_match(record: MatchRecord) -> Row:
    """The matches-table row of a record, in `ROW_FIELDS` order (without the tournament and the time it is
    written)."""
    seats, payoffs, outcomes, illegal, timeouts, errors, fallbacks = _per_seat_json(
        record.seats,
        record.payoffs,
        record.outcomes,
        record.illegal_moves,
        record.timeouts,
        record.errors,
        record.random_fallbacks,
    )
    return (
        record.match_id,
        record.env.json,
        seats,
        record.index,
        record.seed,
        payoffs,
        outcomes,
        record.termination,
        record.culprit,
        record.message,
        record.length,
        illegal,
        timeouts,
        errors,
        fallbacks,
        record.wall_time,
        _stats_json(record.agent_stats),
        int(record.stuck),
        None if record.rounds is None else encode_rounds(record.rounds),
        None if record.transcript is None else json.dumps(record.transcript, separators=(",", ":")),
    )


# ---------------------------------------------------------------------------------------------------------------
# Decoding (in the store)


# The columns whose texts repeat across a tournament's rows: decoded once per distinct combination.
_MEMO = 100_000
_SHARED_COLUMNS = ("env", "seats", "payoffs", "outcomes", "illegal_moves", "timeouts", "errors", "random_fallbacks")


class MatchDecoder:
    """Decodes matches-table rows; a tournament has few distinct envs and per-seat lists, each is decoded once."""

    def __init__(self) -> None:
        self.envs: dict[str, EnvSpec] = {}
        self.lists: dict[str, tuple[Any, ...]] = {}
        self.empty_stats: dict[str, tuple[dict[str, Any], ...]] = {}

    def env(self, text: str) -> EnvSpec:
        spec = self.envs.get(text)
        if spec is None:
            spec = self.envs[text] = env_of(text)
        return spec

    def seat_list(self, text: str | None) -> tuple[Any, ...]:
        if text is None:
            return ()
        value = self.lists.get(text)
        if value is None:
            value = self.lists[text] = tuple(json.loads(text))
        return value

    def stats(self, text: str | None) -> tuple[dict[str, Any], ...]:
        """Agents' statistics; texts of only empty tables (most agents keep none) are parsed once per decoder and
        their records share those (never modified) empty tables."""
        if text is None:
            return ()
        empty = self.empty_stats.get(text)
        if empty is not None:
            return empty
        value = tuple(json.loads(text))
        if all(s == {} for s in value):
            self.empty_stats[text] = value
        return value

    def decode(self, columns: Sequence[str], values: Iterable[Any]) -> MatchRecord:
        return self.decode_all(columns, [tuple(values)])[0]

    def decode_all(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[MatchRecord]:
        """The records of rows whose values come in `columns` order (rounds and recorded may be absent).

        A tournament's rows repeat a few combinations of env and per-seat texts, so each combination is decoded
        once (up to `_MEMO` of them) and its records share the decoded values."""
        at = {c: i for i, c in enumerate(columns)}
        shared = itemgetter(*(at[c] for c in _SHARED_COLUMNS))
        match, index, seed, termination, culprit, message, length, wall, stuck = (
            at[c]
            for c in ("match_id", "idx", "seed", "termination", "culprit", "message", "length", "wall_time", "stuck")
        )
        rounds, recorded = at.get("rounds"), at.get("recorded")
        stats_at = at["agent_stats"]
        seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        texts: dict[Any, Any] = {}  # terminations and messages repeat: one string each
        seeds: dict[Any, Any] = {}  # a seed is shared by the seat orders and pairings of one game: one int each
        stats_of = self.stats
        records: list[MatchRecord] = []
        append = records.append
        for row in rows:
            key = shared(row)
            values = seen.get(key)
            if values is None:
                env_text, *lists = key
                values = (self.env(env_text), *(self.seat_list(t) for t in lists))
                if len(seen) < _MEMO:
                    seen[key] = values
            env, seats, payoffs, outcomes, illegal, timeouts, errors, fallbacks = values
            text = row[rounds] if rounds is not None else None
            append(
                MatchRecord(
                    row[match],
                    env,
                    seats,
                    row[index],
                    seeds.setdefault(row[seed], row[seed]) if len(seeds) < _MEMO else row[seed],
                    payoffs,
                    outcomes,
                    texts.setdefault(row[termination], row[termination]),
                    row[culprit],
                    texts.setdefault(row[message], row[message]) if len(texts) < _MEMO else row[message],
                    row[length],
                    illegal,
                    timeouts,
                    errors,
                    fallbacks,
                    row[wall],
                    stats_of(row[stats_at]),
                    bool(row[stuck]),
                    decode_rounds(text) if text is not None else None,
                    row[recorded] if recorded is not None else None,
                )
            )
        return records


# ---------------------------------------------------------------------------------------------------------------
# Tallies (what a report reads)


@dataclass(frozen=True, slots=True)
class MatchShape:
    """What a report reads of a match, shared by every match of the tournament that has the same."""

    env: EnvSpec
    seats: tuple[str, ...]
    payoffs: tuple[float, ...]
    termination: str
    culprit: int | None
    illegal_moves: tuple[int, ...]
    timeouts: tuple[int, ...]
    errors: tuple[int, ...]

    def sort_key(self) -> tuple[Any, ...]:
        """The canonical order of shapes: every tally lists them in it, so bootstraps draw the same numbers."""
        culprit = -1 if self.culprit is None else self.culprit
        return (
            self.env.json,
            self.seats,
            self.payoffs,
            self.termination,
            culprit,
            self.illegal_moves,
            self.timeouts,
            self.errors,
        )


@dataclass(frozen=True, slots=True)
class DuplicateSet:
    """The matches of one env and game index among the same agents, as a report reads them: the agents (each
    once, sorted), each one's mean payoff over the set's matches, and how many matches the set holds (a set is
    complete once it holds every seat order)."""

    env: EnvSpec
    names: tuple[str, ...]
    payoffs: tuple[float, ...]
    matches: int


Seats = tuple[str, ...]
Stats = tuple[dict[str, Any], ...]


@dataclass
class MatchTally:
    """A tournament's matches as its report reads them, without a record per match.

    `shapes`: each distinct shape with how many matches have it (in canonical order); `stats`: the agents'
    statistics of the matches that keep any (seats, statistics, count); `seeds`: how many distinct seeds;
    `rounds`: per env, the seats and rounds of its matches with full-information feedback in schedule order
    (regret reads every one); `sets`: for the envs scored in duplicate sets, each distinct set with how many there
    are (sets of an agent with itself are left out)."""

    shapes: dict[MatchShape, int]
    stats: list[tuple[Seats, Stats, int]]
    seeds: int
    rounds: dict[EnvSpec, list[tuple[Seats, dict[str, Any]]]]
    sets: dict[DuplicateSet, int]

    @property
    def matches(self) -> int:
        return sum(self.shapes.values())


class _Tallier:
    """Counts shapes and statistics (each distinct value once) into a `MatchTally`."""

    def __init__(self) -> None:
        self.shapes: dict[MatchShape, int] = {}
        self.stats: dict[tuple[Seats, str], tuple[Stats, int]] = {}

    def add(self, shape: MatchShape, stats: Stats, count: int) -> None:
        self.shapes[shape] = self.shapes.get(shape, 0) + count
        if any(stats):  # most agents keep no statistics
            key = (shape.seats, json.dumps(stats, sort_keys=True, default=str))
            held = self.stats.get(key)
            self.stats[key] = (stats, count + (held[1] if held else 0))

    def tally(
        self,
        seeds: int,
        rounds: dict[EnvSpec, list[tuple[Seats, dict[str, Any]]]],
        sets: dict[DuplicateSet, int],
    ) -> MatchTally:
        shapes = {s: self.shapes[s] for s in sorted(self.shapes, key=MatchShape.sort_key)}
        stats = [(seats, *self.stats[seats, text]) for seats, text in sorted(self.stats)]
        ordered = {s: sets[s] for s in sorted(sets, key=lambda s: (s.env.json, s.names, s.payoffs, s.matches))}
        return MatchTally(shapes, stats, seeds, rounds, ordered)


def _seating(seats: Seats) -> tuple[Seats, tuple[int, ...]] | None:
    """A duplicate set's agents for a match's seats (sorted, each once) and the seat of each, or None where an agent
    plays itself (such sets say nothing about ratings and are left out)."""
    names = tuple(sorted(seats))
    if len(set(names)) < len(names):
        return None
    return names, tuple(seats.index(n) for n in names)


def duplicate_sets(matches: Iterable[tuple[EnvSpec, int, Seats, tuple[float, ...], int]]) -> dict[DuplicateSet, int]:
    """Matches (env, game index, seats, payoffs, count) grouped into duplicate sets by env, game index and agents,
    each distinct set with how many there are."""
    totals: dict[tuple[EnvSpec, int, Seats], list[float]] = {}
    for env, index, seats, payoffs, count in matches:
        seated = _seating(seats)
        if seated is None:
            continue
        names, at = seated
        held = totals.setdefault((env, index, names), [0.0] * (len(names) + 1))
        for q, seat in enumerate(at):
            held[q] += count * payoffs[seat]
        held[-1] += count
    sets: dict[DuplicateSet, int] = {}
    for (env, _, names), held in totals.items():
        played = int(held[-1])
        found = DuplicateSet(env, names, tuple(total / played for total in held[:-1]), played)
        sets[found] = sets.get(found, 0) + 1
    return sets


def full_information(rounds: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """Whether a match's rounds carry full-information feedback (what regret is computed from)."""
    return rounds is not None and "action_payoffs" in rounds


FULL_INFORMATION_TAG, OTHER_ROUNDS_TAG = b"F", b"R"  # the first byte of stored rounds: with or without feedback


def encode_rounds(rounds: dict[str, Any]) -> bytes:
    """A match's rounds as the store keeps them: one byte that says whether they carry full-information feedback
    (which SQL reads), then zlib of their JSON. A player's per-round vectors of one length (action payoffs,
    policies) are packed: the JSON holds `{"f8": [first, count], "width": k}` and the floats follow it, after a
    newline, as little-endian float64 bytes: exact, and a fraction of the cost of writing each float as decimal
    text (a 100-round RPS match of FTRL against CFR+: 2.7 KB stored, 3.2 KB as JSON). Rounds without such
    vectors are plain JSON, as databases of schema version 3 wrote them all."""
    tag = FULL_INFORMATION_TAG if full_information(rounds) else OTHER_ROUNDS_TAG
    floats = array("d")
    packed = {
        key: [_pack(v, floats) for v in value] if key in _PACKED and isinstance(value, list) else value
        for key, value in rounds.items()
    }
    body = json.dumps(packed, separators=(",", ":")).encode()
    if floats:
        if sys.byteorder == "big":
            floats.byteswap()
        body += b"\n" + floats.tobytes()  # JSON text never holds a raw newline
    return tag + _deflate(body)


def _deflate(body: bytes) -> bytes:
    """`zlib.compress(body, 3)` with a window no larger than `body` needs: the same deflate bytes (the header names
    the window, which any reader takes) without setting up zlib's whole 64 KB window for a 10-round match's 1.2 KB
    (7 us instead of 15 in a worker, 47 where the memory goes back to the system between calls). The window holds
    the body and zlib's lookahead (262 bytes), so no match is out of reach."""
    window = min(max((len(body) + 261).bit_length(), 9), 15)
    compressor = zlib.compressobj(3, zlib.DEFLATED, window, zlib.DEF_MEM_LEVEL)
    return compressor.compress(body) + compressor.flush()


_PACKED = ("action_payoffs", "policies")  # the keys whose per-player values are lists of per-round vectors


def _pack(rows: Any, floats: array[float]) -> Any:
    """Per-round vectors of one length appended to `floats` and named by their place; anything else as is."""
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], list) or not rows[0]:
        return rows
    first, width = len(floats), len(rows[0])
    try:
        for row in rows:
            if len(row) != width:
                raise TypeError("vectors of different lengths")
            floats.fromlist(row)
    except TypeError:  # not all lists of numbers of one length: kept as JSON
        del floats[first:]
        return rows
    return {"f8": [first, len(floats) - first], "width": width}


def _unpack(value: Any, floats: array[float]) -> Any:
    if not isinstance(value, dict):
        return value
    try:
        (first, count), width = value["f8"], value["width"]
        valid = all(type(v) is int for v in (first, count, width)) and width > 0 and count % width == 0
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"stored rounds hold a malformed packed vector ({exc})") from None
    if not valid or first < 0 or first + count > len(floats):
        raise ValueError(f"stored rounds hold a packed vector outside their floats: {value}")
    values = floats[first : first + count].tolist()
    return [values[i : i + width] for i in range(0, count, width)]


def decode_rounds(stored: bytes | str) -> dict[str, Any]:
    """Stored rounds back, as lists: compressed, or JSON text in databases written before rounds were compressed."""
    if isinstance(stored, str):
        return json.loads(stored)
    try:
        text, packed, tail = zlib.decompress(stored[1:]).partition(b"\n")
    except zlib.error as exc:
        raise ValueError(f"stored rounds do not decompress ({exc})") from None
    rounds = json.loads(text)
    if not packed:
        return rounds
    if len(tail) % 8 or not isinstance(rounds, dict):
        raise ValueError("stored rounds hold a malformed block of floats")
    floats = array("d", tail)
    if sys.byteorder == "big":
        floats.byteswap()
    for key in _PACKED:
        if isinstance(rounds.get(key), list):
            rounds[key] = [_unpack(v, floats) for v in rounds[key]]
    return rounds


def tally_records(matches: Iterable[MatchRecord], duplicate: Callable[[EnvSpec], bool]) -> MatchTally:
    """The tally of decoded records (in schedule order), with the duplicate sets of the envs `duplicate` picks."""
    tallier = _Tallier()
    scored: dict[EnvSpec, bool] = {}
    seeds = set()
    rounds: dict[EnvSpec, list[tuple[Seats, dict[str, Any]]]] = {}
    members = []
    for m in matches:
        shape = MatchShape(m.env, m.seats, m.payoffs, m.termination, m.culprit, m.illegal_moves, m.timeouts, m.errors)
        tallier.add(shape, m.agent_stats, 1)
        in_sets = scored.get(m.env)
        if in_sets is None:
            in_sets = scored[m.env] = duplicate(m.env)
        if in_sets:
            members.append((m.env, m.index, m.seats, m.payoffs, 1))
        seeds.add(m.seed)
        if full_information(m.rounds):
            rounds.setdefault(m.env, []).append((m.seats, m.rounds))
    return tallier.tally(len(seeds), rounds, duplicate_sets(members))


# The columns of the store's grouped rows `tally_rows` reads (then each group's count).
TALLY_COLUMNS = (
    "env",
    "seats",
    "payoffs",
    "termination",
    "culprit",
    "illegal_moves",
    "timeouts",
    "errors",
    "agent_stats",
)


def tally_rows(
    rows: Iterable[Sequence[Any]],
    seated: Sequence[tuple[str, str, str]],
    games: Iterable[tuple[str, int]],
    seeds: int,
    rounds: Iterable[tuple[str, str, bytes | str]],
    decoder: MatchDecoder,
) -> MatchTally:
    """The tally of the store's grouped rows (TALLY_COLUMNS and the group's count); the games of the envs scored in
    duplicate sets, each as its matches' positions in `seated` (their env, seats and payoffs texts) joined by
    commas, with how many games have it; the number of distinct seeds; and the (env, seats, rounds) texts of the
    matches with full-information rounds in schedule order. Texts that differ but decode alike (a version-0
    database's specs) count as one."""
    tallier = _Tallier()
    lists = decoder.seat_list
    for env, seats, payoffs, termination, culprit, illegal, timeouts, errors, stats, count in rows:
        shape = MatchShape(
            decoder.env(env),
            lists(seats),
            lists(payoffs),
            termination,
            culprit,
            lists(illegal),
            lists(timeouts),
            lists(errors),
        )
        tallier.add(shape, decoder.stats(stats), count)
    members = [(decoder.env(env), 0, lists(seats), lists(payoffs)) for env, seats, payoffs in seated]
    alike: dict[tuple[int, ...], int] = {}  # a game's matches in whatever order the store read them
    for game, count in games:
        key = tuple(sorted(map(int, game.split(","))))
        alike[key] = alike.get(key, 0) + count
    sets: dict[DuplicateSet, int] = {}
    for key, count in alike.items():
        for found in duplicate_sets((*members[at], 1) for at in key):
            sets[found] = sets.get(found, 0) + count
    by_env: dict[EnvSpec, list[tuple[Seats, dict[str, Any]]]] = {}
    for env, seats, text in rounds:
        value = decode_rounds(text)
        if full_information(value):
            by_env.setdefault(decoder.env(env), []).append((lists(seats), value))
    return tallier.tally(seeds, by_env, sets)


@dataclass
class StoredTournament:
    """Everything the store holds about one tournament: what a report is computed from. `matches` holds every
    decoded record, or nothing where the store tallied them instead (`ResultsStore.tally`)."""

    name: str
    config: dict[str, Any]  # the stored public config as plain data (specs in their canonical text)
    envs: list[EnvSpec]
    agents: list[AgentRecord]
    matches: list[MatchRecord]
    analyses: list[Analysis]
    played_with: str | None = None  # the arena version that last ran it
