"""A person at the terminal: reads the env's text and legal moves, types a move by name or number; after the game,
`showdown` tells what everyone held (the cards or dice the person could not see) and what each one won."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from arena.agents.scripted import action_index
from arena.core import Agent, Feedback, MatchResult, Observation

KUHN_CARDS = "JQKA"  # OpenSpiel's Kuhn poker deals card ids 0.. (one more card than players)
LEDUC_RANKS = "JQKA98765432"  # OpenSpiel's Leduc poker: card id // 2 is the rank, card id % 2 the suit


class HumanAgent(Agent):
    """Asks at the terminal until the answer names a legal move; `quit` raises KeyboardInterrupt."""

    name = "human"

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin
        self.stdout = stdout

    def act(self, obs: Observation) -> int:
        stdin, stdout = self.stdin or sys.stdin, self.stdout or sys.stdout
        stdout.write(f"\n{obs.text}\n")
        if obs.error:
            stdout.write(f"({obs.error})\n")
        while True:
            stdout.write(f"{obs.player}, your move: ")
            stdout.flush()
            line = stdin.readline()
            if not line or line.strip().lower() in ("quit", "exit"):
                raise KeyboardInterrupt("the player quit")
            index = action_index(obs, line.strip())
            if index is not None and obs.action_mask[index]:
                return index
            legal = ", ".join(f"{obs.action_names[a]} ({a})" for a in obs.legal_actions)
            stdout.write(f"'{line.strip()}' is not a legal move; choose one of: {legal}\n")

    def observe(self, feedback: Feedback) -> None:
        if feedback.done:
            stdout = self.stdout or sys.stdout
            stdout.write(f"\nThe game is over: {feedback.player} gets {feedback.reward:+g}.\n")


def _hands(env: Any) -> list[str] | None:
    """What each player held in the OpenSpiel card and dice games, by name (None for other games)."""
    state: Any = getattr(env, "state", None)
    game: Any = getattr(env, "game", None)
    if game is None or not hasattr(state, "history"):
        return None
    name, players, picture = game.get_type().short_name, game.num_players(), str(state)
    if name == "kuhn_poker":
        return [KUHN_CARDS[c] for c in state.history()[:players]]
    if name == "leduc_poker":
        line = next((row for row in picture.splitlines() if row.startswith("Cards")), "")
        cards = [int(c) for c in line.partition(":")[2].split()]
        named = [f"{LEDUC_RANKS[c // 2]}{'sh'[c % 2]}" if c >= 0 else "?" for c in cards]
        return [f"{hand} (public card {named[0]})" for hand in named[1:]] if len(named) > players else None
    if name == "liars_dice":
        dice = picture.split(" - ")[0].split()[:players]
        return [" ".join(d) for d in dice]
    return None


def showdown(env: Any, result: MatchResult) -> str:
    """After a game, what a person could not see during it: every player's cards or dice (known card and dice
    games), else the final position with every hand shown (other OpenSpiel games); empty for other envs."""
    hands = _hands(env)
    if hands is not None:
        return "Showdown: " + ", ".join(f"{p} ({a}) held {h}" for p, a, h in zip(result.players, result.agents, hands))
    state = getattr(env, "state", None)
    return f"Final position:\n{state}" if hasattr(state, "is_terminal") else ""
