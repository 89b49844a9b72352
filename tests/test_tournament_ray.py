"""The Ray backend against a real local Ray cluster: the same results as in-process, workers built once."""

import pytest

import arena
from arena.tournaments import ResultsStore

ray = pytest.importorskip("ray")


def _rows(db, name):
    with ResultsStore(db, readonly=True) as store:
        return {
            m["match_id"]: (m["seats"], m["seed"], m["payoffs"], m["termination"], m["rounds"])
            for m in store.matches(name)
        }


@pytest.mark.slow
def test_ray_cluster_gives_the_same_results_as_in_process(tmp_path):
    config = {
        "name": "ray",
        "envs": ["kuhn_poker-v0", "rps-v0(rounds=6)"],
        "games": 3,
        "seed": 2,
        "agents": ["random", "fixed(action=1)", "mix(probs={'0': 0.5, '1': 0.5})"],
        "exploitability": "off",
    }
    arena.run_tournament(config, db=str(tmp_path / "local.sqlite"), backend="inprocess")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run = arena.run_tournament(config, db=str(tmp_path / "ray.sqlite"), backend="ray")
    finally:
        ray.shutdown()
    assert run.backend == "ray" and run.workers == 2 and run.played == run.scheduled == 36
    assert _rows(tmp_path / "ray.sqlite", "ray") == _rows(tmp_path / "local.sqlite", "ray")
