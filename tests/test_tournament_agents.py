"""Faulty agents in real tournaments: raising, hanging and secret-holding agents never stop a run or leak."""

import time

import numpy as np

import arena
from arena.core import Agent
from arena.tournaments import ResultsStore


class RaisingAgent(Agent):
    """Fails on its first move of every match."""

    name = "raising"

    def act(self, obs):
        raise RuntimeError("this agent always fails")


class ResetFailingAgent(Agent):
    """Fails before the match starts."""

    name = "reset_failing"

    def reset(self, seed, player, env_spec):
        raise ValueError("cannot start")


class SleepingAgent(Agent):
    """Blocks inside C code (time.sleep), which no time limit can interrupt: its worker must be replaced."""

    name = "sleeping"

    def act(self, obs):
        time.sleep(60)
        return obs.legal_actions[0]


class KeyedAgent(Agent):
    """Holds a credential and, when asked to, leaks it into an exception message."""

    name = "keyed"

    def __init__(self, api_key: str = "", leak: bool = False) -> None:
        self.api_key, self.leak = api_key, leak

    def action_probs(self, obs):
        mask = obs.action_mask.astype(float)
        return mask / mask.sum()

    def act(self, obs):
        if self.leak:
            raise RuntimeError(f"request failed with key {self.api_key}")
        return int(self.rng.choice(obs.legal_actions))


def _config(agents, name, **extra):
    return {
        "name": name,
        "envs": ["kuhn_poker-v0"],
        "agents": agents,
        "games": 2,
        "exploitability": "off",
        "backend": "inprocess",
        **extra,
    }


def test_raising_agents_forfeit_and_the_tournament_finishes(tmp_path):
    db = str(tmp_path / "r.sqlite")
    agents = [
        "random",
        {"name": "raiser", "spec": "test_tournament_agents:RaisingAgent"},
        {"name": "no_start", "spec": "test_tournament_agents:ResetFailingAgent"},
    ]
    run = arena.run_tournament(_config(agents, "faults"), db=db)
    assert run.played == run.scheduled == 12
    rows = {a["name"]: a for a in run.metrics["agents"]}
    assert rows["no_start"]["error_rate"] == 1.0
    assert rows["raiser"]["error_rate"] == 0.5  # against no_start the match ends at reset, before it moves
    assert rows["random"]["error_rate"] == 0.0 and rows["random"]["losses"] == 0
    with ResultsStore(db, readonly=True) as store:
        matches = store.matches("faults")
    for m in matches:
        culprit = m["seats"][m["culprit"]]
        assert m["termination"] == "agent_error" and culprit in ("raiser", "no_start")
        assert m["payoffs"][m["culprit"]] == -2.0  # Kuhn's worst payoff
        if "no_start" in m["seats"]:
            assert culprit == "no_start" and "at reset" in m["message"]


def test_a_hanging_agent_is_stopped_and_its_worker_replaced(tmp_path):
    db = str(tmp_path / "h.sqlite")
    agents = ["random", {"name": "sleeper", "spec": "test_tournament_agents:SleepingAgent"}]
    start = time.perf_counter()
    run = arena.run_tournament(_config(agents, "hang", move_time_limit=0.2, games=2), db=db, backend="local", workers=2)
    assert time.perf_counter() - start < 30
    assert run.played == run.scheduled == 4 and run.replaced_workers == 4
    with ResultsStore(db, readonly=True) as store:
        matches = store.matches("hang")
    assert all(
        m["termination"] == "time_limit" and m["seats"][m["culprit"]] == "sleeper" and m["stuck"] for m in matches
    )
    sleeper = next(a for a in run.metrics["agents"] if a["name"] == "sleeper")
    assert sleeper["timeout_rate"] == 1.0 and sleeper["forfeits"] == 4


def test_secrets_are_used_but_never_stored(tmp_path):
    db = tmp_path / "s.sqlite"
    secret = "sk-very-secret-123"
    spec = f"test_tournament_agents:KeyedAgent(api_key={secret}, leak=true)"
    run = arena.run_tournament(_config([spec, "random"], "secrets"), db=str(db))
    assert run.played == 4
    names = [a["name"] for a in run.metrics["agents"]]
    assert "test_tournament_agents:KeyedAgent(leak=true)" in names  # the public spec's canonical text
    with ResultsStore(db, readonly=True) as store:
        messages = [m["message"] for m in store.matches("secrets")]
        assert all("***" in m for m in messages)  # the agent's error text, scrubbed
        assert all("api_key" not in a["spec"] for a in store.agents("secrets"))
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes()


def test_the_same_agent_in_both_seats_gets_two_instances(tmp_path):
    run = arena.run_tournament(
        _config(["random", "fixed(action=1)"], "selfplay", self_play=True, games=3), db=str(tmp_path / "p.sqlite")
    )
    assert run.scheduled == 3 * (1 + 2 + 1)  # random-random, both orders of the pair, fixed-fixed
    with ResultsStore(tmp_path / "p.sqlite", readonly=True) as store:
        mirror = [m for m in store.matches("selfplay") if m["seats"] == ["random", "random"]]
    assert len(mirror) == 3 and all(m["termination"] == "normal" for m in mirror)
    assert np.isclose(sum(sum(m["payoffs"]) for m in mirror), 0.0)
