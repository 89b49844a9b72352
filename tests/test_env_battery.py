"""PettingZoo's and Gymnasium's own test batteries on every registered env, discrete and continuous."""

from __future__ import annotations

import contextlib
import io
import itertools
import sys
import types

import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo import AECEnv
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    performance_benchmark,
    render_test,
    seed_test,
)
from pettingzoo.utils.conversions import aec_to_parallel, parallel_to_aec

import arena
from arena.envs.wrappers import MaskInObservation
from arena.specs import EnvSpec

# every env with its registry example parameters, and the particle worlds again with continuous actions
SPECS = [EnvSpec.parse(e.id).with_params(**e.metadata.get("example", {})) for e in arena.list_envs()] + [
    EnvSpec.parse(e.id).with_params(continuous_actions=True) for e in arena.list_envs() if "particles" in e.tags
]
IDS = [spec.text if "continuous_actions" in spec.params else spec.id for spec in SPECS]
LENGTH = {"particles": "max_steps", "normal-form": "rounds"}  # the parameter that bounds an episode


def _entry(spec: EnvSpec) -> arena.registry.EnvEntry:
    return arena.registry.envs.get(spec.id)


@pytest.fixture(autouse=True)
def _headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


class _FastClock:
    """`time.time` for performance_benchmark: a second passes at every reading, so its 5-second loop is short."""

    def __init__(self) -> None:
        self.now = itertools.count(step=1.0)

    def time(self) -> float:
        return next(self.now)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_pettingzoo_battery(spec: EnvSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    def make(render_mode: str | None = None):
        return arena.make_env(spec, render_mode=render_mode)

    def as_aec(render_mode: str | None = None):
        env = make(render_mode)  # tools that look for the legal moves in the observation get them there
        return MaskInObservation(env) if isinstance(env, AECEnv) else parallel_to_aec(env)

    monkeypatch.setattr(sys.modules["pettingzoo.test.performance_benchmark"], "time", _FastClock())
    with contextlib.redirect_stdout(io.StringIO()):
        if isinstance(make(), AECEnv):
            api_test(make(), num_cycles=100)
            seed_test(make, num_cycles=100)
        else:
            parallel_api_test(make(), num_cycles=100)
            parallel_seed_test(make, num_cycles=100)
        render_test(as_aec)
        performance_benchmark(as_aec())


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_max_cycles(spec: EnvSpec) -> None:
    """PettingZoo's max_cycles_test on the envs whose episode length is a parameter; OpenSpiel games fix theirs."""
    length = next((LENGTH[tag] for tag in _entry(spec).tags if tag in LENGTH), None)
    if length is None:
        pytest.skip(f"{spec.id}: the game's rules fix the length of an episode")

    def parallel(max_cycles: int):
        env = arena.make_env(spec.with_params(**{length: max_cycles}))
        return env if not isinstance(env, AECEnv) else aec_to_parallel(env)

    def aec(max_cycles: int):
        return parallel_to_aec(parallel(max_cycles))

    max_cycles_test(types.SimpleNamespace(parallel_env=parallel, env=aec))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_gymnasium_check_env(spec: EnvSpec) -> None:
    check_env(arena.as_gymnasium(spec), skip_render_check=True)
