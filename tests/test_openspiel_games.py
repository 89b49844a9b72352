"""Any OpenSpiel game: every registered game either plays 20 random moves or is refused with one clear error."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import arena
from arena.envs.openspiel import registered_games

GAMES = sorted(registered_games())


def random_moves(name: str, moves: int = 20) -> str:
    """Play `moves` random legal moves of `openspiel:name`; "refused: ..." when arena refuses the game."""
    try:
        env = arena.make_env(f"openspiel:{name}")
        env.reset(seed=0)
    except arena.ArenaError as exc:
        return f"refused: {exc}"
    rng = np.random.default_rng(0)
    played = 0
    while env.agents and played < moves:
        agent = env.agent_selection
        if env.terminations[agent] or env.truncations[agent]:
            env.step(None)
            continue
        _, _, _, _, info = env.last()
        legal = info["legal_actions"]
        assert all(isinstance(info["action_names"][a], str) for a in legal)
        env.step(int(rng.choice(legal)))
        played += 1
    env.close()
    return f"played {played}"


def test_game_transforms_take_their_game_parameter() -> None:
    spec = "openspiel:turn_based_simultaneous_game(game=goofspiel(num_cards=3,imp_info=True,points_order=descending))"
    env = arena.make_env(spec)
    assert env.game_string.startswith("turn_based_simultaneous_game(game=goofspiel(")
    assert arena.play(spec, ["random", "random"], seed=0).termination == "normal"


def test_openspiel_python_games_are_known() -> None:
    assert {"python_kuhn_poker", "python_tic_tac_toe"} <= set(GAMES)
    assert arena.play("openspiel:python_kuhn_poker", ["random", "random"], seed=1).length >= 2


def test_every_openspiel_game_plays_or_is_refused_quietly() -> None:
    """In a child process, so that a crash in C++ (chess used to segfault) fails the test instead of the run;
    nothing may reach stderr (OpenSpiel's C++ messages are silenced)."""
    code = (
        "import sys; sys.path.insert(0, 'tests'); from test_openspiel_games import GAMES, random_moves\n"
        "for name in GAMES: print(name, random_moves(name), flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-500:] + done.stderr[-2000:]
    assert done.stderr == ""
    results = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert set(results) == set(GAMES)
    played = {name for name, outcome in results.items() if outcome.startswith("played")}
    assert {"chess", "shogi", "backgammon", "go", "hex", "hanabi", "tarok", "colored_trails"} <= played
    assert len(played) >= len(GAMES) - 20, {n: r for n, r in results.items() if n not in played}
