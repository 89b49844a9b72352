"""`arena compare A B --env ENV`: a head-to-head decided with as few games as the evidence allows.

Games are played in pairs: seed k in both seat orders (the same deals in poker, swapped colours and roles), with
the ids and seeds a tournament of the two agents would give them, in the same results store; a compare is a
stored tournament that `arena report` reads and a later compare of the same agents resumes. Pairs are handed to
the engine's workers one seed at a time, in seed order, and the test (sequential.py) reads them in seed order
too: as soon as the pairs finished so far decide, no further pair is handed out, and the decision (and the pair it
was reached at) is the one the stored games give on every backend and after any kill.

- `--sprt elo0=0,elo1=5,...`: win/draw/loss pairs (pentanomial), H1 "A is at least elo1 stronger".
- `--sprt margin0=0,margin1=0.1`: A's mean payoff minus B's per game (games that pay amounts).
- no `--sprt`: a fixed number of games and the interval, in score and Elo and in payoff.
- Exact: when both agents have `action_probs` on a tabular game, the expected score and payoff are computed from
  the two strategies (in a process of their own) and nothing is played.
- Control variate (control.py): when one agent's strategy is known, in tabular and repeated matrix games, the
  margin test runs on payoffs corrected at every move drawn from a known distribution.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from arena.errors import ConfigError
from arena.isolation import isolated
from arena.specs import AgentSpec, EnvSpec
from arena.tournaments import control
from arena.tournaments.analysis import analysable
from arena.tournaments.check import check_run
from arena.tournaments.config import AgentEntry, TournamentConfig, public_spec, secret_values
from arena.tournaments.costs import Meter, cost_report
from arena.tournaments.pools import RunSummary, make_pool, run_matches
from arena.tournaments.protocol import MatchSettings
from arena.tournaments.records import ROW_AT, AgentRecord, Row, decode_rounds
from arena.tournaments.schedule import MatchTask, env_seats, match_id, match_seed
from arena.tournaments.sequential import Decision, Hypotheses, estimate, fixed_pairs, llr_path, pair_values
from arena.tournaments.store import ResultsStore, RunLock

SPRT_GAMES = 20_000  # the default budget of a sequential test
FIXED_GAMES = 200  # the default size of a fixed-N comparison
EXACT = "exact_compare"  # the analysis kind that holds an exact answer
_INDEX, _SEATS, _PAYOFFS, _ROUNDS = (ROW_AT[name] for name in ("idx", "seats", "payoffs", "rounds"))


@dataclass
class Comparison:
    """What `compare` found: the decision (sequential), the estimates, what was played and why it stopped."""

    name: str
    db: str
    env: str
    a: str
    b: str
    hypotheses: dict[str, Any] | None
    pairs: int
    played: int
    already_recorded: int
    stopped: str  # decided | budget | fixed | exact
    decision: dict[str, Any] | None
    score: dict[str, Any] | None
    margin: dict[str, Any] | None
    fixed_pairs: int | None = None
    exact: dict[str, Any] | None = None
    seconds: float = 0.0
    given_up: list[str] = field(default_factory=list)
    costs: dict[str, Any] = field(default_factory=dict)  # tokens, dollars and seconds per agent (costs.py)
    control_variate: dict[str, Any] | None = None  # pair standard deviations with and without it
    budget: str = ""  # the budget that ended the comparison, if one did

    @property
    def saving(self) -> float | None:
        """Pairs a fixed-N test of the same errors needs, per pair this test used (None before a decision)."""
        used = (self.decision or {}).get("decided_at")
        return self.fixed_pairs / used if used and self.fixed_pairs else None

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "saving": self.saving}


class _Evidence:
    """The pairs finished so far; the test reads the unbroken run of finished pairs from seed 0 on. With a control
    variate (`cv`, for the `known` agents), margins are those of the corrected payoffs (after its pilot pairs, which
    fix its coefficients) and `raw_margins` the played ones."""

    def __init__(
        self,
        a: str,
        b: str,
        hypotheses: Hypotheses | None,
        known: set[str] | None = None,
        cv: control.ControlVariate | None = None,
    ) -> None:
        self.a, self.b, self.hypotheses, self.known, self.cv = a, b, hypotheses, known, cv
        self.games: dict[int, dict[tuple[str, ...], tuple[float, ...]]] = {}
        self.components: dict[int, np.ndarray] = {}  # per seed: A's correction components of the pair's margin
        self.pair_components: list[np.ndarray] = []
        self.coefficients: np.ndarray | None = None
        self.points: list[float] = []
        self.margins: list[float] = []
        self.raw_margins: list[float] = []
        self.path = np.zeros(0)
        self.decision: Decision | None = None

    def add(
        self, index: int, seats: tuple[str, ...], payoffs: tuple[float, ...], rounds: dict[str, Any] | None = None
    ) -> None:
        self.games.setdefault(index, {})[seats] = payoffs
        if self.cv:
            found = self.cv.components(seats, payoffs, rounds)
            mine = found[seats.index(self.a)] - found[seats.index(self.b)]
            self.components[index] = self.components.get(index, 0) + mine / 2

    def advance(self) -> None:
        """Extend the unbroken run of finished pairs and the test's path; the first pair outside the bounds ends
        the test, and the pairs after it are not used."""
        if self.decided:
            return
        start = len(self.points)
        while (pair := self.games.get(len(self.points))) is not None and len(pair) == 2:
            points, margin = pair_values(pair, self.a, self.b)
            self.points.append(points)
            self.raw_margins.append(margin)
            if self.cv:
                margin = self._corrected(len(self.points) - 1, margin)
            self.margins.append(margin)
        if self.hypotheses is None or len(self.points) == start:
            return
        values = self.points if self.hypotheses.kind == "elo" else self.margins
        self.path = np.concatenate([self.path, llr_path(values, self.hypotheses, start)])
        lower, upper = self.hypotheses.bounds
        crossed = np.flatnonzero((self.path[start:] <= lower) | (self.path[start:] >= upper))
        if len(crossed):
            used = start + int(crossed[0]) + 1
            del self.points[used:], self.margins[used:], self.raw_margins[used:], self.pair_components[used:]
            self.path = self.path[:used]
            llr = float(self.path[-1])
            self.decision = Decision("H1" if llr >= upper else "H0", llr, used, used, lower, upper)
        else:
            self.decision = Decision(None, float(self.path[-1]), len(self.points), None, lower, upper)

    def _corrected(self, index: int, margin: float) -> float:
        """Pair `index`'s margin with the control variate: as played during the pilot; after it, corrected with
        the coefficients fitted on the pairs before it."""
        assert self.cv is not None
        components = np.asarray(self.components[index], dtype=float)
        if index >= self.cv.pilot:
            self.coefficients = self.cv.fit(self.raw_margins[:index], self.pair_components[:index])
            margin += float(self.coefficients @ components)
        self.pair_components.append(components)
        return margin

    @property
    def decided(self) -> bool:
        return self.decision is not None and self.decision.result is not None


def _names(a: AgentSpec, b: AgentSpec) -> tuple[str, str]:
    first, second = public_spec(a).text, public_spec(b).text
    return (f"{first} (A)", f"{second} (B)") if first == second else (first, second)


def compare(
    a: AgentSpec | str,
    b: AgentSpec | str,
    env: EnvSpec | str,
    *,
    hypotheses: Hypotheses | None = None,
    max_games: int | None = None,
    db: str = "arena-results.sqlite",
    name: str | None = None,
    seed: int = 0,
    move_time_limit: float | None = None,
    workers: int = 0,
    backend: str = "local",
    ray_address: str | None = None,
    exact: bool = True,
    control_variate: bool = True,
    progress: bool = False,
    prices: str | None = None,
    max_cost_usd: float | None = None,
    max_wall_s: float | None = None,
) -> Comparison:
    """Compare agent `a` with agent `b` on `env` (see the module's docstring); `max_games` bounds the games played
    (even: pairs), `exact` allows the exact shortcut and `control_variate` the correction of known strategies' moves
    (control.py); `prices` (a price table file), `max_cost_usd` and
    `max_wall_s` as in tournaments (costs.py)."""
    a, b, env = AgentSpec.of(a), AgentSpec.of(b), EnvSpec.of(env)
    games = max_games if max_games is not None else SPRT_GAMES if hypotheses else FIXED_GAMES
    if games < 2:
        raise ConfigError("--max-games must be at least 2 (one seed in both seat orders)")
    first, second = _names(a, b)
    config = TournamentConfig(
        name=name or f"compare {first} vs {second}",
        envs=[env],
        agents=[AgentEntry(first, a), AgentEntry(second, b)],
        games=games // 2,
        seats="all",
        seed=seed,
        move_time_limit=move_time_limit,
        exploitability="off",
        workers=workers,
        backend=backend,
        ray_address=ray_address,
        db=db,
        prices=prices,
        max_cost_usd=max_cost_usd,
        max_wall_s=max_wall_s,
        record_histories=analysable(env),  # for the control variate of tabular games
    )
    if env_seats(env, config.teams) != 2:
        raise ConfigError(f"arena compare plays two seats; {env.text} has {env_seats(env, config.teams)}")
    if os.path.isdir(config.db):
        raise ConfigError(f"the results database {config.db} is a folder")
    with RunLock(config.db, config.name):
        return _compare(config, hypotheses, exact, control_variate, progress)


def _compare(
    config: TournamentConfig, hypotheses: Hypotheses | None, exact: bool, control_variate: bool, progress: bool
) -> Comparison:
    start = time.perf_counter()
    env = config.envs[0]
    first, second = (e.name for e in config.agents)
    agents = check_run(config)[1]
    result = Comparison(
        config.name,
        str(config.db),
        env.text,
        first,
        second,
        None if hypotheses is None else {**vars(hypotheses), "text": hypotheses.text},
        0,
        0,
        0,
        "fixed",
        None,
        None,
        None,
    )
    with ResultsStore(config.db) as store:
        store.check()
        store.resumable(config, agents)
        store.begin(config, agents, _version())
        if exact and all(r.has_action_probs for r in agents) and analysable(env):
            found = _exact_answer(store, config, agents)
            if found is not None:
                result.exact = found
                result.stopped = "exact"
                result.score = {"mean": found["score"], "elo": found["elo"]}
                result.margin = {"mean": found["margin"]}
                if hypotheses is not None:
                    value = found["elo"] if hypotheses.kind == "elo" else found["margin"]
                    verdict = "H1" if value >= hypotheses.h1 else "H0" if value <= hypotheses.h0 else "between"
                    result.decision = {"result": verdict, "exact": True, "value": value}
                result.seconds = time.perf_counter() - start
                return result
        known, cv = _control_variate(config, agents) if control_variate else (set(), None)
        evidence = _Evidence(first, second, hypotheses, known or None, cv)
        stored = [m for m in store.tournament(config.name, with_rounds=bool(known)).matches if m.env == env]
        for match in stored:
            evidence.add(match.index, match.seats, match.payoffs, match.rounds)
        evidence.advance()
        result.already_recorded = len(stored)
        recorded = {m.match_id for m in stored}
        meter = Meter(config, stored)
        summary = _play(store, config, evidence, recorded, meter, progress) if not evidence.decided else None
        if summary is not None:
            result.played, result.given_up = summary.played, summary.given_up
        result.budget = meter.spent()
        result.costs = cost_report(config, store.records(config.name, with_rounds=False))
    decision = evidence.decision
    points, margins = evidence.points, evidence.margins
    result.pairs = len(points)
    if result.budget and not evidence.decided:
        result.stopped = "budget"
    result.score = estimate(points, "elo").to_dict()
    result.margin = estimate(margins, "margin").to_dict()
    if evidence.known:
        raw = estimate(evidence.raw_margins, "margin")
        result.control_variate = {
            "agents": sorted(evidence.known),
            "pair_sd_without": raw.pair_sd,
            "pair_sd_with": result.margin["pair_sd"],
            "mean_without": raw.mean,
            "variance_ratio": (result.margin["pair_sd"] / raw.pair_sd) ** 2 if raw.pair_sd else None,
            "pilot_pairs": evidence.cv.pilot if evidence.cv else 0,
            "coefficients": None if evidence.coefficients is None else evidence.coefficients.tolist(),
        }
    if hypotheses is not None:
        result.stopped = "decided" if evidence.decided else "budget"
        result.decision = decision.to_dict() if decision else None
        sd = result.score["pair_sd"] if hypotheses.kind == "elo" else result.margin["pair_sd"]
        result.fixed_pairs = fixed_pairs(sd, hypotheses) if sd and math.isfinite(sd) else None
    result.seconds = time.perf_counter() - start
    return result


def _version() -> str:
    import arena

    return str(arena.__version__)


def _play(
    store: ResultsStore,
    config: TournamentConfig,
    evidence: _Evidence,
    recorded: set[str],
    meter: Meter,
    progress: bool,
) -> RunSummary:
    """Hand pairs to the engine's workers in seed order until the evidence decides or the budget is spent."""
    env = config.envs[0]
    first, second = (e.name for e in config.agents)
    orders = [(first, second), (second, first)]
    bar = _Bar(config.games, evidence, enabled=progress)

    def tasks() -> Iterator[MatchTask]:
        for index in range(config.games):
            if evidence.decided or meter.spent():
                return
            seed = match_seed(config.seed, env, index)
            for seats in orders:
                task = MatchTask(match_id(config.name, env, seats, index), env, seats, index, seed)
                if task.match_id not in recorded:
                    yield task

    unsaved: list[Row] = []

    def save() -> None:
        if unsaved:
            store.add_matches(config.name, unsaved)
            unsaved.clear()

    def on_rows(rows: list[Row]) -> None:
        unsaved.extend(rows)
        meter.add_rows(rows)
        for row in rows:
            text = row[_ROUNDS]
            rounds = decode_rounds(text) if evidence.known and text else None
            evidence.add(row[_INDEX], tuple(json.loads(row[_SEATS])), tuple(json.loads(row[_PAYOFFS])), rounds)
        evidence.advance()
        save()
        bar.update()

    remaining = 2 * config.games - len(recorded)
    specs = {a.name: isolated(a.spec) if config.isolation == "process" else a.spec for a in config.agents}
    secrets = [v for a in config.agents for v in secret_values(a.spec)]
    pool = make_pool(config.backend, config.workers, specs, MatchSettings.of(config), secrets, config.ray_address)
    with bar:
        try:
            return run_matches(pool, tasks(), max(remaining, 1), on_rows, lambda _: save())
        finally:
            save()


def _exact_answer(store: ResultsStore, config: TournamentConfig, agents: list[AgentRecord]) -> dict[str, Any] | None:
    """The stored exact answer, or the one computed now (in a process of its own unless the backend is inprocess);
    None when the game does not compile or a strategy cannot be read."""
    env = config.envs[0]
    subject = f"{agents[0].name}\n{agents[1].name}"
    for analysis in store.analyses(config.name):
        if analysis.kind == EXACT and analysis.env == env and analysis.subject == subject:
            return dict(analysis.value)
    found = _apart(config, exact_outcome, env.json, *(e.spec.json for e in config.agents))
    if found is not None:
        store.set_analysis(config.name, EXACT, env, subject, found)
    return found


def _apart(config: TournamentConfig, function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a process of its own (in this one with the inprocess backend); None when an agent
    takes that process down."""
    if config.backend == "inprocess":
        return function(*args)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        try:
            return pool.submit(function, *args).result()
        except BrokenProcessPool:
            return None


def _control_variate(
    config: TournamentConfig, agents: list[AgentRecord]
) -> tuple[set[str], control.ControlVariate | None]:
    """The agents whose strategy is known and the correction of a match's payoffs by their control variate, where
    the env has one (control.py): repeated two-player zero-sum matrix games, and tabular games where one of the two
    is known (were both, every move would be corrected and the games would only repeat the exact answer)."""
    env = config.envs[0]
    known = {r.name for r in agents if r.has_action_probs}
    if not known:
        return set(), None
    if control.repeated_applies(env):
        return known, control.repeated(known)
    if not analysable(env) or len(known) == len(config.agents):  # both known: the exact answer, or play as asked
        return set(), None
    strategies = {}
    for entry in config.agents:
        if entry.name in known:
            found = _apart(config, known_strategy, env.json, entry.spec.json)
            if found is not None:
                strategies[entry.name] = found
    if not strategies:
        return set(), None
    from arena.games import tree

    return set(strategies), control.TreeCorrection(tree.load(env), strategies).variate()


def known_strategy(env_json: str, spec_json: str) -> list[np.ndarray] | None:
    """An agent's behavioural strategy at every information set of every player of a tabular game; None when it
    cannot be read."""
    import arena
    from arena.games import policy, tree

    try:
        game = tree.load(EnvSpec.from_json(env_json))
        agent = arena.make_agent(AgentSpec.from_json(spec_json))
        try:
            return policy.policy_from_agent(game, agent).probs
        finally:
            agent.close()
    except Exception:  # a strategy that cannot be read: no control variate
        return None


def exact_outcome(env_json: str, a_json: str, b_json: str) -> dict[str, Any] | None:
    """A's exact expected score and payoff margin per game against B over both seat orders, from their strategies
    at every information set (the game compiled once); None when it cannot be computed."""
    import arena
    from arena.games import policy, tree
    from arena.tournaments.sequential import score_elo

    try:
        game = tree.load(EnvSpec.from_json(env_json))
        plans = []
        for spec_json, player in ((a_json, 0), (b_json, 1), (b_json, 0), (a_json, 1)):
            agent = arena.make_agent(AgentSpec.from_json(spec_json))
            try:
                plans.append(policy.policy_from_agent(game, agent, players=[player]).plans()[player])
            finally:
                agent.close()
    except Exception:  # a strategy that cannot be read: the games are played instead
        return None
    score = margin = 0.0
    for (x0, x1), a_seat in (((plans[0], plans[1]), 0), ((plans[2], plans[3]), 1)):
        reach = game.terminal_chance * x0[game.terminal_seq[:, 0]] * x1[game.terminal_seq[:, 1]]
        mine, theirs = game.terminal_utility[:, a_seat], game.terminal_utility[:, 1 - a_seat]
        score += float(reach @ np.where(mine > theirs, 1.0, np.where(mine == theirs, 0.5, 0.0))) / 2
        margin += float(reach @ (mine - theirs)) / 2
    return {"score": score, "elo": float(score_elo(score)), "margin": margin}


class _Bar:
    """The live view on stderr: the log-likelihood ratio between its bounds (sequential) or games done (fixed)."""

    def __init__(self, pairs: int, evidence: _Evidence, enabled: bool) -> None:
        self.evidence, self.enabled = evidence, enabled
        if not enabled:
            return
        hypotheses = evidence.hypotheses
        self.lower, self.upper = hypotheses.bounds if hypotheses else (0.0, float(pairs))
        label = "LLR" if hypotheses else "pairs"
        self.progress = Progress(
            TextColumn(f"[bold]{label}"),
            TextColumn("{task.fields[low]}"),
            BarColumn(),
            TextColumn("{task.fields[high]}"),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task(
            label,
            total=self.upper - self.lower,
            completed=0,
            low=f"{self.lower:+.2f}" if hypotheses else "0",
            high=f"{self.upper:+.2f}" if hypotheses else str(pairs),
            state="",
        )
        self.update()

    def __enter__(self) -> _Bar:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.enabled:
            self.progress.stop()

    def update(self) -> None:
        if not self.enabled:
            return
        pairs = len(self.evidence.points)
        if self.evidence.hypotheses is None:
            self.progress.update(self.task, completed=pairs, state=f"{pairs} pairs")
            return
        llr = float(self.evidence.path[-1]) if len(self.evidence.path) else 0.0
        position = min(max(llr, self.lower), self.upper) - self.lower
        self.progress.update(self.task, completed=position, state=f"LLR {llr:+.2f} after {pairs} pairs")


def summary_lines(result: Comparison) -> list[str]:
    """The comparison in a few lines of text (what `arena compare` prints)."""
    head = f"{result.a} vs {result.b} on {result.env}"
    hypotheses = result.hypotheses
    claim = ""
    if hypotheses is not None:
        unit = "Elo" if hypotheses["kind"] == "elo" else "payoff per game"
        claim = f"  H1: A is stronger by at least {hypotheses['h1']:g} {unit}; H0: by at most {hypotheses['h0']:g}"
    if result.exact is not None:
        exact = result.exact
        lines = [
            f"{head}: computed exactly from both strategies, nothing played",
            f"  score per game {exact['score']:.4f} (Elo {exact['elo']:+.1f}); margin {exact['margin']:+.4f} payoff"
            " per game (A's minus B's)",
        ]
        if result.decision is not None:
            lines += [f"  decision: {result.decision['result']} (exact)", claim]
        return lines
    lines = []
    if result.decision is not None:
        d = result.decision
        low, high = d["bounds"]
        if d["result"]:
            lines.append(f"{head}: {d['result']} after {d['decided_at']} pairs ({2 * d['decided_at']} games)")
        else:
            lines.append(f"{head}: undecided after {d['pairs']} pairs, the budget")
        lines += [claim, f"  LLR {d['llr']:+.2f}, bounds [{low:+.2f}, {high:+.2f}]"]
    else:
        lines.append(f"{head}: {result.pairs} pairs ({2 * result.pairs} games)")
    score, margin = result.score or {}, result.margin or {}
    if result.pairs > 1:
        level = f"{100 * score['confidence']:g}%"
        elo = (
            f" = Elo {score['elo']:+.1f} [{score['elo_low']:+.1f}, {score['elo_high']:+.1f}]"
            if score.get("elo_low") is not None
            else ""
        )
        lines.append(f"  score per game {score['mean']:.4f} [{score['low']:.4f}, {score['high']:.4f}]{elo} ({level})")
        lines.append(
            f"  margin {margin['mean']:+.4f} [{margin['low']:+.4f}, {margin['high']:+.4f}] payoff per game, A's minus"
            f" B's ({level})"
        )
    if result.fixed_pairs is not None and result.saving is not None:
        lines.append(
            f"  a fixed-N test with the same errors needs {result.fixed_pairs} pairs: {result.saving:.1f}x the games"
        )
    cv = result.control_variate
    if cv and cv["pair_sd_without"]:
        lines.append(
            f"  control variate ({', '.join(cv['agents'])}'s strategies): pair sd {cv['pair_sd_with']:.4f}, without"
            f" {cv['pair_sd_without']:.4f} (variance x{cv['variance_ratio']:.3f}; margin as played"
            f" {cv['mean_without']:+.4f})"
        )
    total = result.costs.get("total", {})
    if total.get("dollars"):
        lines.append(f"  cost ${total['dollars']:.4f} for {total['matches']} games ({total['seconds']:.1f}s of play)")
    if result.budget:
        lines.append(f"  stopped: {result.budget}")
    lines.append(
        f"  {result.played} games played now, {result.already_recorded} already stored; results in {result.db}"
        f" (tournament {result.name!r})"
    )
    return lines
