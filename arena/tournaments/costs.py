"""What matches cost: tokens, dollars and seconds per agent and per pairing, and the budgets that stop a run.

Tokens are what each agent reports in its match statistics (`prompt_tokens`, `completion_tokens`: LLM agents;
others use none); an agent's price is its table's `prompt_price` and `completion_price` (dollars per million
tokens), else its model's line in the `prices` table file, else nothing. Seconds are the matches' wall times.
A `Meter` adds up what the stored matches, the new rows and the exploitability analysis cost, and says when a
budget is spent: the tournament's (`max_cost_usd`, `max_wall_s`: no further match is handed out, those in flight
finish, and the analysis gets only what is left) or a pairing's (`pairing_max_games`, `pairing_max_cost_usd`,
`pairing_max_wall_s`, summed over envs: that pairing's further matches are skipped, the others play on).
"""

from __future__ import annotations

import json
import math
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.errors import ConfigError
from arena.tournaments.config import TournamentConfig
from arena.tournaments.records import ROW_AT, MatchRecord, Row
from arena.tournaments.schedule import MatchTask

_SEATS, _STATS, _WALL = ROW_AT["seats"], ROW_AT["agent_stats"], ROW_AT["wall_time"]


@dataclass(frozen=True)
class Price:
    """Dollars per million prompt and completion tokens."""

    prompt: float = 0.0
    completion: float = 0.0

    def dollars(self, stats: Mapping[str, Any]) -> float:
        prompt = float(stats.get("prompt_tokens") or 0)
        completion = float(stats.get("completion_tokens") or 0)
        return (prompt * self.prompt + completion * self.completion) / 1e6


def load_price_table(path: str | Path) -> dict[str, Price]:
    """A TOML price table: one table per model with `prompt` and `completion` (dollars per million tokens)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the price table {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the price table {path} is not valid TOML: {exc}") from None
    table = {}
    for model, entry in data.items():
        if not isinstance(entry, dict) or set(entry) - {"prompt", "completion"}:
            raise ConfigError(f"price table {path}: {model!r} must be a table of prompt and completion prices")
        values = [entry.get(k, 0.0) for k in ("prompt", "completion")]
        if any(isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf for v in values):
            raise ConfigError(f"price table {path}: {model!r} prices must be non-negative numbers")
        table[model] = Price(float(values[0]), float(values[1]))
    return table


class Prices:
    """Each agent's price: its own (`prompt_price`/`completion_price`), else its model's in the price table."""

    def __init__(self, config: TournamentConfig) -> None:
        self.own = {
            a.name: Price(a.prompt_price or 0.0, a.completion_price or 0.0)
            for a in config.agents
            if a.prompt_price is not None or a.completion_price is not None
        }
        self.table = load_price_table(config.prices) if config.prices else {}
        self.models = {a.name: a.spec.params.get("model") for a in config.agents}  # when the stats name none

    def dollars(self, agent: str, stats: Mapping[str, Any]) -> float:
        price = self.own.get(agent) or self.table.get(str(stats.get("model") or self.models.get(agent)))
        return price.dollars(stats) if price else 0.0


@dataclass
class Spent:
    """What a set of matches cost."""

    matches: int = 0
    seconds: float = 0.0
    dollars: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    payoff: float = 0.0  # the agent's summed payoff (per agent only)

    def add(self, seconds: float, dollars: float, stats: Mapping[str, Any], payoff: float = 0.0) -> None:
        self.matches += 1
        self.payoff += payoff
        self.seconds += seconds
        self.dollars += dollars
        self.prompt_tokens += int(stats.get("prompt_tokens") or 0)
        self.completion_tokens += int(stats.get("completion_tokens") or 0)

    def include(self, other: Spent) -> None:
        """Add what `other` spent (its matches aside)."""
        self.seconds += other.seconds
        self.dollars += other.dollars
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "payoff"}

    def agent_dict(self) -> dict[str, Any]:
        """With the mean payoff per game and what it earns per dollar spent (None for agents that cost nothing)."""
        mean = self.payoff / self.matches if self.matches else 0.0
        per_dollar = self.payoff / self.dollars if self.dollars else None
        return {**self.to_dict(), "payoff": self.payoff, "mean_payoff": mean, "payoff_per_dollar": per_dollar}


def _seat_stats(stats: Any, seats: int) -> list[dict[str, Any]]:
    stats = list(stats) if stats else []
    return [dict(s) if isinstance(s, dict) else {} for s in stats] + [{}] * (seats - len(stats))


def pairing_of(seats: Iterable[str]) -> str:
    """The pairing a match belongs to: its agents, sorted ("cfr vs random"; one name in self-play)."""
    return " vs ".join(sorted(set(seats)))


def analysis_cost(found: Any) -> tuple[float, float, Mapping[str, Any]]:
    """(seconds, dollars, token counts) of a stored analysis result (nothing for those stored without a cost)."""
    cost = found.get("cost") if isinstance(found, Mapping) else None
    if not isinstance(cost, Mapping):
        return 0.0, 0.0, {}
    return float(cost.get("seconds") or 0.0), float(cost.get("dollars") or 0.0), cost


class Meter:
    """The running cost of a tournament (stored matches and analyses first, then each new row and analysis) against
    its budgets and its pairings' budgets."""

    def __init__(
        self, config: TournamentConfig, stored: Iterable[MatchRecord] = (), analyses: Iterable[Mapping[str, Any]] = ()
    ) -> None:
        self.config, self.prices = config, Prices(config)
        self.total, self.analysis = Spent(), Spent()
        self.pairings: dict[str, Spent] = defaultdict(Spent)
        self.handed: dict[str, int] = defaultdict(int)  # matches per pairing, stored and handed out
        self.skipped: dict[str, int] = defaultdict(int)  # matches a spent pairing budget kept from being played
        for m in stored:
            self._add(m.seats, m.agent_stats, m.wall_time)
            self.handed[pairing_of(m.seats)] += 1
        for found in analyses:
            self.add_analysis(*analysis_cost(found))

    def _add(self, seats: Iterable[str], stats: Any, wall_time: float | None) -> None:
        seats = list(seats)
        per_seat = _seat_stats(stats, len(seats))
        dollars = sum(self.prices.dollars(agent, s) for agent, s in zip(seats, per_seat))
        merged = {k: sum(int(s.get(k) or 0) for s in per_seat) for k in ("prompt_tokens", "completion_tokens")}
        self.total.add(float(wall_time or 0.0), dollars, merged)
        self.pairings[pairing_of(seats)].add(float(wall_time or 0.0), dollars, merged)

    def add_rows(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self._add(json.loads(row[_SEATS]), json.loads(row[_STATS] or "[]"), row[_WALL])

    def add_analysis(self, seconds: float, dollars: float, stats: Mapping[str, Any]) -> None:
        """What one agent's analysis on one env cost."""
        self.analysis.add(seconds, dollars, stats)

    def left(self) -> tuple[float, float]:
        """(dollars, seconds) the tournament's budgets leave (infinite where none is set)."""
        config = self.config
        dollars = math.inf if config.max_cost_usd is None else config.max_cost_usd - self._dollars()
        seconds = math.inf if config.max_wall_s is None else config.max_wall_s - self._seconds()
        return dollars, seconds

    def _dollars(self) -> float:
        return self.total.dollars + self.analysis.dollars

    def _seconds(self) -> float:
        return self.total.seconds + self.analysis.seconds

    def spent(self) -> str:
        """Why the run must stop now ("" while every budget holds)."""
        config = self.config
        if config.max_cost_usd is not None and self._dollars() >= config.max_cost_usd:
            return f"the budget of ${config.max_cost_usd:g} is spent (${self._dollars():.4f})"
        if config.max_wall_s is not None and self._seconds() >= config.max_wall_s:
            return f"the budget of {config.max_wall_s:g}s of play is spent ({self._seconds():.1f}s)"
        return ""

    def pairing_spent(self, pairing: str) -> str:
        """Why `pairing` may play no further match ("" while its budgets hold)."""
        config, spent = self.config, self.pairings.get(pairing, Spent())
        if config.pairing_max_games is not None and self.handed[pairing] >= config.pairing_max_games:
            return f"{config.pairing_max_games} games"
        if config.pairing_max_cost_usd is not None and spent.dollars >= config.pairing_max_cost_usd:
            return f"${config.pairing_max_cost_usd:g}"
        if config.pairing_max_wall_s is not None and spent.seconds >= config.pairing_max_wall_s:
            return f"{config.pairing_max_wall_s:g}s of play"
        return ""

    def admit(self, task: MatchTask) -> bool:
        """Whether `task` may be handed out: its pairing's budgets hold (it is then counted against them)."""
        pairing = pairing_of(task.seats)
        if self.pairing_spent(pairing):
            self.skipped[pairing] += 1
            return False
        self.handed[pairing] += 1
        return True

    def pairings_stopped(self) -> str:
        """Which pairings' budgets kept matches from being played ("" when none did)."""
        if not self.skipped:
            return ""
        named = ", ".join(f"{p} ({self.pairing_spent(p)})" for p in sorted(self.skipped))
        return f"the pairing budget is spent for {named}"


def cost_report(
    config: TournamentConfig, matches: Iterable[MatchRecord], analyses: Iterable[Any] = ()
) -> dict[str, Any]:
    """Cost per agent (its own tokens and dollars, the seconds of the matches it played, its mean payoff and payoff
    per dollar), per pairing, of the analyses (their stored values' `cost`), and in total (matches and analyses)."""
    prices = Prices(config)
    agents: dict[str, Spent] = defaultdict(Spent)
    pairings: dict[str, Spent] = defaultdict(Spent)
    total = Spent()
    for m in matches:
        per_seat = _seat_stats(m.agent_stats, len(m.seats))
        dollars = [prices.dollars(agent, s) for agent, s in zip(m.seats, per_seat)]
        for agent, s, d, payoff in zip(m.seats, per_seat, dollars, m.payoffs):
            agents[agent].add(m.wall_time or 0.0, d, s, float(payoff))
        merged = {k: sum(int(s.get(k) or 0) for s in per_seat) for k in ("prompt_tokens", "completion_tokens")}
        pairings[pairing_of(m.seats)].add(m.wall_time or 0.0, sum(dollars), merged)
        total.add(m.wall_time or 0.0, sum(dollars), merged)
    analysis = Spent()
    for found in analyses:
        seconds, spent_dollars, stats = analysis_cost(found)
        if stats:
            analysis.add(seconds, spent_dollars, stats)
    total.include(analysis)
    return {
        "agents": {name: spent.agent_dict() for name, spent in sorted(agents.items())},
        "pairings": {name: spent.to_dict() for name, spent in sorted(pairings.items())},
        "analysis": {**{k: v for k, v in analysis.to_dict().items() if k != "matches"}, "analyses": analysis.matches},
        "total": total.to_dict(),
    }
