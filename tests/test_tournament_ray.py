"""The Ray backend against a real local Ray cluster: the same results as in-process, workers built once, and
hostile agents forfeiting by name as they do on the local backend."""

import os
import time
from pathlib import Path

import pytest

import arena
from arena.tournaments import ResultsStore

ray = pytest.importorskip("ray")

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def cluster():
    # The actors import agents of this folder (test_hostile_agents:...) by module name.
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


def _rows(db, name):
    with ResultsStore(db, readonly=True) as store:
        return {
            m["match_id"]: (m["seats"], m["seed"], m["payoffs"], m["termination"], m["rounds"])
            for m in store.matches(name)
        }


@pytest.mark.slow
def test_ray_cluster_gives_the_same_results_as_in_process(tmp_path, cluster):
    config = {
        "name": "ray",
        "envs": ["kuhn_poker-v0", "rps-v0(rounds=6)"],
        "games": 3,
        "seed": 2,
        "agents": ["random", "fixed(action=1)", "mix(probs={'0': 0.5, '1': 0.5})"],
        "exploitability": "off",
    }
    arena.run_tournament(config, db=str(tmp_path / "local.sqlite"), backend="inprocess")
    run = arena.run_tournament(config, db=str(tmp_path / "ray.sqlite"), backend="ray")
    assert run.backend == "ray" and run.workers == 2 and run.played == run.scheduled == 36
    assert _rows(tmp_path / "ray.sqlite", "ray") == _rows(tmp_path / "local.sqlite", "ray")


def _hostile(tmp_path, culprit, **extra):
    config = {
        "name": "hostile",
        "envs": ["kuhn_poker-v0"],
        "agents": ["random", "fixed(action=0)", {"name": "culprit", "spec": f"test_hostile_agents:{culprit}"}],
        "games": 2,
        "exploitability": "off",
        "backend": "ray",
        "workers": 2,
        **extra,
    }
    db = str(tmp_path / "h.sqlite")
    start = time.perf_counter()
    run = arena.run_tournament(config, db=db)
    with ResultsStore(db, readonly=True) as store:
        matches = store.matches("hostile")
    return run, matches, time.perf_counter() - start


def _only_culprit_loses(matches, termination):
    for m in matches:
        if "culprit" in m["seats"]:
            assert m["termination"] == termination, m
            assert m["seats"][m["culprit"]] == "culprit" and m["payoffs"][m["culprit"]] == -2.0
        else:
            assert m["termination"] == "normal" and m["culprit"] is None, m


@pytest.mark.slow
@pytest.mark.parametrize("culprit", ["ExitingAgent", "SegfaultingAgent"])
def test_an_agent_that_kills_its_ray_actor_forfeits_by_name(tmp_path, cluster, culprit):
    run, matches, _ = _hostile(tmp_path, culprit)
    assert run.played == run.scheduled == 12 and run.given_up == [] and run.replaced_workers >= 1
    _only_culprit_loses(matches, "agent_error")
    assert all("process died" in m["message"] for m in matches if m["termination"] == "agent_error")


@pytest.mark.slow
def test_a_move_holding_the_gil_in_a_ray_actor_is_a_time_out_and_the_run_ends(tmp_path, cluster):
    run, matches, seconds = _hostile(tmp_path, "BacktrackingAgent", move_time_limit=0.5, games=1)
    assert seconds < 90
    assert run.played == run.scheduled == 6 and run.given_up == []
    _only_culprit_loses(matches, "time_limit")
