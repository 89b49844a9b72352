"""process:SPEC: an agent in a process of its own reaches nothing of the match, and its failures are its own."""

from __future__ import annotations

import gc
import os
import time

import numpy as np
import pytest

import arena
from arena.core import Agent, Observation
from arena.envs.openspiel import OpenSpielEnv
from arena.isolation import ExactProcessAgent, ProcessAgent


class Spy(Agent):
    """Looks for the env through the garbage collector: plays Bet when it finds one (it could read the cards)."""

    def act(self, obs: Observation) -> int:
        found = any(isinstance(o, OpenSpielEnv) for o in gc.get_objects())
        return 1 if found else 0


class Exits(Agent):
    def act(self, obs: Observation) -> int:
        os._exit(3)


class SleepsInC(Agent):
    def act(self, obs: Observation) -> int:
        time.sleep(30)  # a blocking C call: a thread cannot be interrupted there, a process can be killed
        return 0


class Loud(Agent):
    def act(self, obs: Observation) -> int:
        print("x" * 10_000)
        os.write(2, b"y" * 10_000)
        return obs.legal_actions[0]


def test_in_process_the_spy_finds_the_env_isolated_it_does_not() -> None:
    assert arena.play("kuhn_poker-v0", [Spy(), "random"], seed=0).to_dict()["length"] >= 1
    spy = arena.make_agent("process:test_isolation:Spy")
    assert type(spy) is ProcessAgent  # no exact strategy: act only
    env = arena.make_env("kuhn_poker-v0")
    for seed in range(3):
        env.reset(seed=seed)
        _, _, _, _, info = env.last()
        spy.reset(seed, "player_0", env.spec)
        assert spy.act(Observation("player_0", None, info)) == 0
    assert Spy().act(Observation("player_0", None, info)) == 1
    spy.close()


def test_an_exact_agent_keeps_its_strategy() -> None:
    agent = arena.make_agent("process:mix(probs={Pass: 1, Bet: 3})")
    assert type(agent) is ExactProcessAgent
    result = arena.play("kuhn_poker-v0", [agent, "random"], seed=2)
    assert result.termination == "normal"
    env = arena.make_env("kuhn_poker-v0")
    env.reset(seed=0)
    agent.reset(0, "player_0", env.spec)
    assert np.allclose(agent.action_probs(Observation("player_0", None, env.infos["player_0"])), [0.25, 0.75])
    agent.close()


def test_an_exit_costs_its_own_match_and_the_next_match_plays() -> None:
    agent = arena.make_agent("process:test_isolation:Exits")
    died = arena.play("kuhn_poker-v0", [agent, "random"], seed=0)
    assert died.termination == "agent_error" and died.culprit == 0 and "process died" in died.message
    assert arena.play("kuhn_poker-v0", ["process:random", "random"], seed=0).termination == "normal"
    agent.close()


def test_a_hang_in_c_is_a_time_out_and_leaves_nothing_running() -> None:
    agent = arena.make_agent("process:test_isolation:SleepsInC")
    start = time.perf_counter()
    result = arena.play("kuhn_poker-v0", [agent, "random"], seed=0, move_time_limit=0.5)
    assert time.perf_counter() - start < 5
    assert result.termination == "time_limit" and result.timeouts == [1, 0]
    assert not result.stuck_agent  # the thread waiting on the process was interrupted; the process is killed
    assert agent.process is None
    agent.close()


def test_its_prints_go_nowhere(capfd: pytest.CaptureFixture[str]) -> None:
    agent = arena.make_agent("process:test_isolation:Loud")
    assert arena.play("kuhn_poker-v0", [agent, "random"], seed=0).termination == "normal"
    agent.close()
    out, err = capfd.readouterr()
    assert "xxx" not in out and "yyy" not in err


def test_bad_specs_are_the_users_errors() -> None:
    with pytest.raises(arena.ArenaError, match="did you mean random"):
        arena.make_agent("process:randm")
    with pytest.raises(arena.ArenaError, match="no action 'Raise'"):
        arena.play("kuhn_poker-v0", ["process:fixed(action=Raise)", "random"], seed=0)


def test_a_tournament_with_isolated_agents(tmp_path) -> None:
    """isolation = "process": every agent plays in a process of its own; the one that exits forfeits its matches,
    all the others are played as usual."""
    config = {
        "name": "isolated",
        "envs": ["kuhn_poker-v0"],
        "agents": ["random", "fixed(action=Bet)", {"name": "exits", "spec": "test_isolation:Exits"}],
        "games": 2,
        "isolation": "process",
        "backend": "inprocess",
        "exploitability": "off",
    }
    run = arena.run_tournament(config, db=str(tmp_path / "r.sqlite"))
    assert run.played == run.scheduled == 12
    with arena.tournaments.ResultsStore(tmp_path / "r.sqlite", readonly=True) as store:
        matches = store.matches("isolated")
    for match in matches:
        if "exits" in match["seats"]:
            assert match["termination"] == "agent_error" and match["seats"][match["culprit"]] == "exits"
        else:
            assert match["termination"] == "normal"
