"""A person at the terminal: reads the env's text and legal moves, types a move by name or number."""

from __future__ import annotations

import sys
from typing import TextIO

from arena.agents.scripted import action_index
from arena.core import Agent, Observation


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
