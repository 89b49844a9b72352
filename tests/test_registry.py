"""Names with parameters, parameter checking, registration and lookup with suggestions."""

from __future__ import annotations

import pytest

import arena
from arena.core import ParameterError, UnknownNameError
from arena.specs import format_spec, parse_spec


def test_parse_spec_values() -> None:
    name, params = parse_spec("llm(model=qwen2.5:7b, base_url=http://localhost:11434/v1, temperature=0.2)")
    assert name == "llm"
    assert params == {"model": "qwen2.5:7b", "base_url": "http://localhost:11434/v1", "temperature": 0.2}
    assert parse_spec("mix(probs={'rock': 1, 'paper': 2}, flag=true)")[1] == {
        "probs": {"rock": 1, "paper": 2},
        "flag": True,
    }
    assert parse_spec("matrix-v0(payoffs=[[[1, 0]], [[0, 1]]])")[1] == {"payoffs": [[[1, 0]], [[0, 1]]]}
    assert parse_spec("random") == ("random", {})
    assert format_spec("fixed", {"action": "rock"}) == "fixed(action=rock)"
    with pytest.raises(ParameterError):
        parse_spec("fixed(rock)")
    with pytest.raises(ParameterError):
        parse_spec("fixed(action=[1, 2)")


def test_make_agent_by_name_module_and_instance() -> None:
    assert arena.make_agent("fixed(action=rock)").name == "fixed(action=rock)"
    assert arena.make_agent("fixed", action=2).action == 2
    agent = arena.make_agent("arena.agents.random:RandomAgent")
    assert type(agent).__name__ == "RandomAgent"
    assert arena.make_agent(agent) is agent


def test_unknown_names_suggest_close_matches() -> None:
    with pytest.raises(UnknownNameError, match="did you mean random"):
        arena.make_agent("randon")
    with pytest.raises(UnknownNameError, match="did you mean kuhn_poker-v0"):
        arena.make_env("kuhn_poker-v1")
    with pytest.raises(UnknownNameError, match="unknown OpenSpiel game"):
        arena.make_env("openspiel:kuhn_pokr")
    with pytest.raises(UnknownNameError, match="cannot import"):
        arena.make_agent("no_such_module_xyz:Agent")


def test_parameters_are_checked() -> None:
    with pytest.raises(ParameterError, match="no parameter 'playrs'; did you mean players"):
        arena.make_env("kuhn_poker-v0", playrs=3)
    with pytest.raises(ParameterError, match="rounds='many' should be int"):
        arena.make_env("rps-v0(rounds=many)")
    with pytest.raises(ParameterError, match="players must be 2 or 3"):
        arena.make_env("kuhn_poker-v0", players=5)
    env = arena.make_env("rps-v0(rounds=3.0)")
    assert env.rounds == 3 and env.spec.params == {"rounds": 3}


def test_specs_describe_envs_and_agents() -> None:
    specs = {s.id: s for s in arena.list_envs()}
    kuhn = specs["kuhn_poker-v0"].to_dict()
    assert kuhn["turn_based"] and kuhn["params"] == {"players": 2}
    assert {"imperfect-information", "zero-sum", "competitive"} <= set(kuhn["tags"])
    assert specs["rps-v0"].to_dict()["turn_based"] is False
    assert specs["rps-v0"].parameters() == {"rounds": 1}
    agents = {s.name: s for s in arena.list_agents()}
    assert {"random", "fixed", "mix", "human"} <= set(agents)
    assert agents["fixed"].parameters() == {"action": 0}


def test_register_in_code() -> None:
    arena.register_env("tiny_rps-v0", "arena.envs.matrix:rps", description="test", turn_based=False)
    assert arena.make_env("tiny_rps-v0", rounds=2).rounds == 2
    arena.register_agent("always_rock", lambda: arena.make_agent("fixed(action=rock)"), description="test")
    assert arena.play("tiny_rps-v0", ["always_rock", "fixed(action=scissors)"], seed=0).payoffs == [1.0, -1.0]


def test_mix_agent_probabilities() -> None:
    env = arena.make_env("rps-v0")
    _, infos = env.reset(seed=0)
    agent = arena.make_agent("mix(probs={rock: 1, paper: 3})")
    agent.reset(0, "player_0", env.spec)
    obs = arena.Observation("player_0", None, infos["player_0"])
    assert agent.action_probs(obs).tolist() == [0.25, 0.75, 0.0]


def test_installed_entry_points_are_read_once_per_process_even_when_there_are_none(monkeypatch):
    """With no plugin installed the scan found nothing, and every lookup (each agent a worker built) scanned the
    installed packages again: 2-5 ms each in the check, every worker and the coordinator."""
    import arena.registry as registry

    reads = []
    monkeypatch.setattr(registry, "_SCANNED", [])
    monkeypatch.setattr(registry, "_entry_points", lambda: reads.append(1) or [])
    assert registry.plugin_entry_points("arena.agents") == []
    assert registry.plugin_entry_points("arena.envs") == []
    assert len(reads) == 1


def test_a_factory_without_a_constructor_of_its_own_takes_no_parameters():
    from arena.registry import check_params

    class Bare:
        pass

    assert check_params(Bare, {}, "bare") == {}
    with pytest.raises(ParameterError, match="bare has no parameter 'speed'; it takes none"):
        check_params(Bare, {"speed": 1}, "bare")
