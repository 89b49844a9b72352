"""Hostile agents in real tournaments: exiting, crashing, GIL-holding and noisy agents lose their own matches and
nothing else, and never stop, freeze or flood a run."""

import ctypes
import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import arena
from arena.core import Agent
from arena.errors import ConfigError
from arena.tournaments import ResultsStore
from arena.tournaments.analysis import analyse_tournament
from arena.tournaments.config import config_from_dict
from arena.tournaments.schedule import MAX_MATCHES, Schedule

HERE = Path(__file__).parent


class ExitingAgent(Agent):
    """Ends its worker process on its first move."""

    name = "exiting"

    def act(self, obs):
        os._exit(3)


class SystemExitAgent(Agent):
    name = "system_exit"

    def act(self, obs):
        raise SystemExit(3)


class InterruptingAgent(Agent):
    name = "interrupting"

    def act(self, obs):
        raise KeyboardInterrupt


class SegfaultingAgent(Agent):
    name = "segfaulting"

    def act(self, obs):
        ctypes.string_at(0)
        return obs.legal_actions[0]


class BacktrackingAgent(Agent):
    """A catastrophic-backtracking regular expression: C code that holds the GIL for a very long time."""

    name = "backtracking"

    def act(self, obs):
        re.match(r"(a+)+$", "a" * 40 + "b")
        return obs.legal_actions[0]


class ShoutingAgent(Agent):
    """Prints a megabyte per move, through Python and straight to the file descriptors."""

    name = "shouting"

    def act(self, obs):
        print("x" * 500_000)
        os.write(1, b"y" * 250_000)
        os.write(2, b"z" * 250_000)
        return int(self.rng.choice(obs.legal_actions))


def _config(agents, name, **extra):
    return {
        "name": name,
        "envs": ["kuhn_poker-v0"],
        "agents": agents,
        "games": 2,
        "exploitability": "off",
        "backend": "local",
        "workers": 2,
        **extra,
    }


def _check_only_culprit_loses(db, name, culprit, termination, text):
    with ResultsStore(db, readonly=True) as store:
        matches = store.matches(name)
    assert matches
    for m in matches:
        if culprit in m["seats"]:
            assert m["termination"] == termination, m
            assert m["seats"][m["culprit"]] == culprit and m["payoffs"][m["culprit"]] == -2.0
            assert text in m["message"]
        else:
            assert m["termination"] == "normal" and m["culprit"] is None, m


HOSTILE = [
    ("ExitingAgent", "made its worker process die (exit code 3)"),
    ("SystemExitAgent", "raised SystemExit: 3"),
    ("InterruptingAgent", "raised KeyboardInterrupt"),
    ("SegfaultingAgent", "made its worker process die (killed by signal SIGSEGV)"),
]


@pytest.mark.parametrize(("cls", "text"), HOSTILE)
def test_an_agent_that_ends_or_kills_its_worker_forfeits_only_its_own_matches(tmp_path, cls, text):
    db = str(tmp_path / "x.sqlite")
    agents = ["random", "fixed(action=0)", {"name": "culprit", "spec": f"test_hostile_agents:{cls}"}]
    run = arena.run_tournament(_config(agents, "hostile"), db=db)
    assert run.played == run.scheduled == 12 and run.given_up == []
    _check_only_culprit_loses(db, "hostile", "culprit", "agent_error", text)


def test_an_agent_exiting_in_the_inprocess_backend_forfeits(tmp_path):
    db = str(tmp_path / "x.sqlite")
    agents = ["random", {"name": "culprit", "spec": "test_hostile_agents:SystemExitAgent"}]
    run = arena.run_tournament(_config(agents, "inproc", backend="inprocess"), db=db)
    assert run.played == run.scheduled == 4
    _check_only_culprit_loses(db, "inproc", "culprit", "agent_error", "raised SystemExit")


def test_a_move_holding_the_gil_is_a_time_out_and_the_run_ends(tmp_path):
    db = str(tmp_path / "g.sqlite")
    agents = ["random", "fixed(action=0)", {"name": "culprit", "spec": "test_hostile_agents:BacktrackingAgent"}]
    start = time.perf_counter()
    run = arena.run_tournament(_config(agents, "gil", move_time_limit=0.5, games=1), db=db)
    assert time.perf_counter() - start < 60
    assert run.played == run.scheduled == 6 and run.given_up == []
    _check_only_culprit_loses(db, "gil", "culprit", "time_limit", "exceeded the 0.5s move time limit")
    culprit = next(a for a in run.metrics["agents"] if a["name"] == "culprit")
    assert culprit["timeout_rate"] == 1.0


def test_what_agents_print_is_kept_with_the_match_and_never_reaches_the_output(tmp_path):
    toml = tmp_path / "t.toml"
    toml.write_text(
        'name = "loud"\nenvs = ["kuhn_poker-v0"]\ngames = 2\nexploitability = "off"\n'
        'agents = ["random", "test_hostile_agents:ShoutingAgent"]\n'
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "arena.cli", "tournament", str(toml), "--db", str(tmp_path / "l.sqlite"), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout) < 1_000_000 and len(done.stderr) < 100_000
    json.loads(done.stdout)
    with ResultsStore(tmp_path / "l.sqlite", readonly=True) as store:
        matches = store.matches("loud")
    assert len(matches) == 4
    for m in matches:
        seat = m["seats"].index("test_hostile_agents:ShoutingAgent")
        output = m["agent_stats"][seat]["output"]
        assert output.startswith("x") and 1000 < len(output) <= 4096
        assert "output" not in m["agent_stats"][1 - seat]


def test_a_huge_display_name_does_not_deadlock_the_local_backend(tmp_path):
    name = "n" * 600_000  # more than a socket buffer each way
    agents = ["random", {"name": name, "spec": "random"}]
    run = arena.run_tournament(_config(agents, "huge", games=20), db=str(tmp_path / "h.sqlite"))
    assert run.played == run.scheduled == 40


def test_no_more_workers_start_than_there_are_matches(tmp_path, monkeypatch):
    from arena.tournaments import pools

    started = []
    original = pools.LocalPool.start

    def counting(self):
        started.append(1)
        return original(self)

    monkeypatch.setattr(pools.LocalPool, "start", counting)
    run = arena.run_tournament(
        _config(["random", "fixed(action=0)"], "few", games=1, workers=8), db=str(tmp_path / "f.sqlite")
    )
    assert run.played == 2 and len(started) == 2 and run.workers == 2


def test_a_script_without_a_main_guard_fails_at_once_with_one_line(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import arena
            arena.run_tournament({{"name": "s", "envs": ["kuhn_poker-v0"], "agents": ["random", "fixed(action=0)"],
                                  "games": 1, "exploitability": "off", "backend": "local", "workers": 1}},
                                 db={str(tmp_path / "s.sqlite")!r})
            print("finished")
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "EngineError" in last and "__main__" in last and "run_tournament" in last, done.stderr[-3000:]


def test_an_absurd_number_of_games_is_refused_with_one_line_before_anything_is_built(tmp_path):
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="matches") as caught:
        arena.run_tournament(_config(["random", "fixed(action=0)"], "big", games=10**12), db=str(tmp_path / "b.sqlite"))
    assert time.perf_counter() - start < 30 and "\n" not in str(caught.value)
    config = config_from_dict(_config(["random", "fixed(action=0)"], "lazy", games=MAX_MATCHES // 2))
    schedule = Schedule.of(config)  # the largest allowed: counted at once, produced one match at a time
    assert len(schedule) == MAX_MATCHES
    first = list(itertools.islice(schedule, 3))
    assert [t.index for t in first] == [0, 0, 1]


class ProbeHangingAgent(Agent):
    """Plays its few match moves normally but hangs once asked many times (the analysis samples it hundreds of
    times)."""

    name = "probe_hanging"
    calls = 0

    def act(self, obs):
        self.calls += 1
        if self.calls > 50:
            time.sleep(3600)
        return int(self.rng.choice(obs.legal_actions))


def test_a_hanging_agent_costs_the_analysis_at_most_its_budget(tmp_path):
    db = str(tmp_path / "a.sqlite")
    agents = ["random", {"name": "hanger", "spec": "test_hostile_agents:ProbeHangingAgent"}]
    heard = []
    config = config_from_dict(_config(agents, "probe", exploitability="auto", analysis_budget=3, games=1))
    start = time.perf_counter()
    arena.run_tournament(config, db=db, analyse=False)
    with ResultsStore(db) as store:
        analyse_tournament(store, config, announce=heard.append)
        found = {a.subject: a.value for a in store.analyses("probe") if a.kind == "exploitability"}
    assert time.perf_counter() - start < 60
    assert "exceeded the analysis budget of 3s" in found["hanger"]["error"]
    assert found["random"]["value"] is not None
    assert heard and "at most 3s each" in heard[0]


def test_agents_are_probed_at_once_and_each_keeps_its_own_budget(tmp_path):
    db = str(tmp_path / "c.sqlite")
    agents = [
        "random",
        {"name": "first", "spec": "test_hostile_agents:ProbeHangingAgent"},
        {"name": "second", "spec": "test_hostile_agents:ProbeHangingAgent"},
    ]
    config = config_from_dict(_config(agents, "together", exploitability="auto", analysis_budget=3, games=1))
    arena.run_tournament(config, db=db, analyse=False)
    with ResultsStore(db) as store:
        start = time.perf_counter()
        analyse_tournament(store, config)
        seconds = time.perf_counter() - start
        found = {a.subject: a.value for a in store.analyses("together") if a.kind == "exploitability"}
    assert seconds < 5.5  # two workers: the hanging agents' budgets run side by side (one after the other: 6 s)
    for name in ("first", "second"):
        assert "exceeded the analysis budget of 3s" in found[name]["error"]
        assert 3 <= found[name]["cost"]["seconds"] < 4.5
    assert found["random"]["value"] == pytest.approx(0.4583333333333333)


def test_an_agent_can_be_left_out_of_the_analysis(tmp_path):
    db = str(tmp_path / "o.sqlite")
    agents = ["random", {"name": "hanger", "spec": "test_hostile_agents:ProbeHangingAgent", "analysis": False}]
    config = config_from_dict(_config(agents, "skip", exploitability="auto", games=1))
    assert [a.analysis for a in config.agents] == [True, False]
    start = time.perf_counter()
    arena.run_tournament(config, db=db)
    assert time.perf_counter() - start < 60
    with ResultsStore(db, readonly=True) as store:
        subjects = {a.subject for a in store.analyses("skip") if a.kind == "exploitability"}
    assert subjects == {"random"}
    with pytest.raises(ConfigError, match="analysis must be true or false"):
        config_from_dict(_config([{"spec": "random", "analysis": "no"}, "random"], "bad"))


class ShoutsWhenBuilt(Agent):
    """Prints when it is constructed, straight to the file descriptor."""

    name = "shouts_when_built"

    def __init__(self) -> None:
        os.write(1, b"built!" * 10_000)


def test_agents_are_built_outside_the_coordinator(tmp_path, capfd):
    """The coordinator checks every agent before play by building it in a process of its own."""
    agents = ["random", {"name": "loud", "spec": "test_hostile_agents:ShoutsWhenBuilt"}]
    run = arena.run_tournament(_config(agents, "built", games=1), db=str(tmp_path / "b.sqlite"))
    assert run.played == run.scheduled
    out, _ = capfd.readouterr()
    assert "built!" not in out


class FailsWhenBuilt(Agent):
    """Its constructor raises something other than a parameter error."""

    name = "fails_when_built"

    def __init__(self) -> None:
        raise RuntimeError("no model file")


class ExitsWhenBuilt(Agent):
    """Its constructor ends the process it runs in."""

    name = "exits_when_built"

    def __init__(self) -> None:
        raise SystemExit(5)


@pytest.mark.parametrize("backend", ["local", "inprocess"])
@pytest.mark.parametrize(
    ("cls", "raised"), [("FailsWhenBuilt", "RuntimeError: no model file"), ("ExitsWhenBuilt", "SystemExit: 5")]
)
def test_an_agent_whose_constructor_raises_is_one_line_and_status_2(tmp_path, capsys, backend, cls, raised):
    from arena.cli import main

    spec = f"test_hostile_agents:{cls}"
    argv = ["tournament", "--env", "kuhn_poker-v0", "--agents", "random", spec, "--games", "1"]
    code = main([*argv, "--db", str(tmp_path / "f.sqlite"), "--backend", backend])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"arena: agent {spec}: building it raised {raised}"]
    assert main(["play", "kuhn_poker-v0", "--agents", "random", spec]) == 2
    assert capsys.readouterr().err.strip() == err[0]


def test_an_agent_that_changes_the_env_does_not_take_the_run_down(tmp_path):
    """test_match.Briber makes the env pay outside the game's range: its matches are given up (retried once in a
    fresh worker), every other match is played and stored as usual."""
    agents = ["random", "fixed(action=Bet)", {"name": "briber", "spec": "test_match:Briber"}]
    run = arena.run_tournament(_config(agents, "bribe", games=3), db=str(tmp_path / "b.sqlite"))
    assert run.scheduled == 18 and run.played == 6 and len(run.given_up) == 12
    with ResultsStore(tmp_path / "b.sqlite", readonly=True) as store:
        matches = store.matches("bribe")
    assert len(matches) == 6
    assert all("briber" not in m["seats"] and m["termination"] == "normal" for m in matches)


class ExitingTranscript(Agent):
    """Plays legally, then ends its process when asked for its transcript."""

    name = "exiting_transcript"

    def act(self, obs):
        return obs.legal_actions[0]

    def take_transcript(self):
        raise SystemExit(4)


def test_a_transcript_call_is_guarded_like_a_move(tmp_path):
    db = str(tmp_path / "t.sqlite")
    agents = ["random", {"name": "culprit", "spec": "test_hostile_agents:ExitingTranscript"}]
    run = arena.run_tournament(_config(agents, "transcript", workers=1), db=db)
    assert run.played == run.scheduled == 4 and run.given_up == [] and run.replaced_workers == 0
    with ResultsStore(db, readonly=True) as store:
        assert {m["termination"] for m in store.matches("transcript")} == {"normal"}


def exiting_env(render_mode=None):
    """An env whose constructor ends its process."""
    os._exit(4)


def shouting_env(render_mode=None):
    """An env whose constructor writes to the process's output, then fails."""
    os.write(1, b"env says hello\n")
    raise RuntimeError("no such game here")


def test_an_env_that_kills_or_fails_its_check_is_one_clear_error_and_the_coordinator_builds_none(tmp_path, capfd):
    """With workers the coordinator builds no env: the check's process does, and what it meets ends the run with
    the env's name."""
    here = {"envs": ["test_hostile_agents:exiting_env"], "agents": ["random", "fixed"]}
    with pytest.raises(ConfigError, match="env 'test_hostile_agents:exiting_env': its process died while it was being"):
        arena.run_tournament({**_config(["random"], "env-exit"), **here}, db=str(tmp_path / "e.sqlite"))
    here["envs"] = ["test_hostile_agents:shouting_env"]
    with pytest.raises(ConfigError, match="no such game here"):
        arena.run_tournament({**_config(["random"], "env-shout"), **here}, db=str(tmp_path / "s.sqlite"))
    assert "hello" not in capfd.readouterr().out


def test_the_command_reports_an_env_that_kills_its_check_in_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "arena.cli", "tournament", "--env", "test_hostile_agents:exiting_env"]
    cmd += ["--agents", "random", "fixed", "--db", str(tmp_path / "x.sqlite")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "arena: env 'test_hostile_agents:exiting_env': its process died while it was being built"
    ]
