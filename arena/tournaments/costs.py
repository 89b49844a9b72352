"""What matches cost: tokens, dollars and seconds per agent and per pairing, and the budgets that stop a run.

Tokens are what each agent reports in its match statistics (`prompt_tokens`, `completion_tokens`: LLM agents;
others use none); an agent's price is its table's `prompt_price` and `completion_price` (dollars per million
tokens), else its model's line in the `prices` table file, else nothing. Seconds are the matches' wall times.
A `Meter` adds up what the stored matches and the new rows cost and says when a budget (`max_cost_usd`,
`max_wall_s`) is spent; the run then hands out no further match (those in flight finish) and says why.
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
from arena.tournaments.records import MatchRecord, Row


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

    def dollars(self, agent: str, stats: Mapping[str, Any]) -> float:
        price = self.own.get(agent) or self.table.get(str(stats.get("model")))
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


class Meter:
    """The running cost of a tournament (stored matches first, then each new row) against its budgets."""

    def __init__(self, config: TournamentConfig, stored: Iterable[MatchRecord] = ()) -> None:
        self.config, self.prices, self.total = config, Prices(config), Spent()
        for m in stored:
            self._add(m.seats, m.agent_stats, m.wall_time)

    def _add(self, seats: Iterable[str], stats: Any, wall_time: float | None) -> None:
        seats = list(seats)
        per_seat = _seat_stats(stats, len(seats))
        dollars = sum(self.prices.dollars(agent, s) for agent, s in zip(seats, per_seat))
        merged = {k: sum(int(s.get(k) or 0) for s in per_seat) for k in ("prompt_tokens", "completion_tokens")}
        self.total.add(float(wall_time or 0.0), dollars, merged)

    def add_rows(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self._add(json.loads(row["seats"]), json.loads(row["agent_stats"] or "[]"), row["wall_time"])

    def spent(self) -> str:
        """Why the run must stop now ("" while every budget holds)."""
        config = self.config
        if config.max_cost_usd is not None and self.total.dollars >= config.max_cost_usd:
            return f"the budget of ${config.max_cost_usd:g} is spent (${self.total.dollars:.4f})"
        if config.max_wall_s is not None and self.total.seconds >= config.max_wall_s:
            return f"the budget of {config.max_wall_s:g}s of play is spent ({self.total.seconds:.1f}s)"
        return ""


def cost_report(config: TournamentConfig, matches: Iterable[MatchRecord]) -> dict[str, Any]:
    """Cost per agent (its own tokens and dollars, the seconds of the matches it played, its mean payoff and payoff
    per dollar) and per pairing."""
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
        pairings[" vs ".join(sorted(set(m.seats)))].add(m.wall_time or 0.0, sum(dollars), merged)
        total.add(m.wall_time or 0.0, sum(dollars), merged)
    return {
        "agents": {name: spent.agent_dict() for name, spent in sorted(agents.items())},
        "pairings": {name: spent.to_dict() for name, spent in sorted(pairings.items())},
        "total": total.to_dict(),
    }
