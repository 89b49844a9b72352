"""The `arena` command with LLM agents: a missing endpoint, a played match, exact exploitability of a model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai_server import FakeChatServer, kuhn_responder, kuhn_rule

import arena

ARENA = str(Path(sys.executable).parent / "arena")


def _run(*args, env=None):
    return subprocess.run([ARENA, *args], capture_output=True, text=True, timeout=60, env=env)


def test_play_without_an_endpoint_fails_with_one_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARENA_LLM_")}
    done = _run("play", "rps-v0", "--agents", "llm", "random", env=env)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no endpoint configured" in lines[0] and "ARENA_LLM_BASE_URL" in lines[0]
    assert "base_url=" in lines[0]


def test_play_and_exact_exploitability_through_the_command_line(tmp_path):
    with FakeChatServer(kuhn_responder) as server:
        spec = f"llm(model=m, base_url={server.url}, strategy=distribution, cache_dir={tmp_path})"
        played = _run("play", "kuhn_poker-v0", "--agents", spec, "random", "--seed", "3", "--json")
        assert played.returncode == 0, played.stderr
        result = json.loads(played.stdout)
        assert result["termination"] == "normal" and result["agent_stats"][0]["calls"] >= 1
        assert result["agents"][0].startswith("llm(model=m, base_url=http://127.0.0.1:")

        before = len(server.requests)
        done = _run(
            "exploitability", "kuhn_poker-v0", "--agent", spec.replace(str(tmp_path), str(tmp_path / "x")), "--json"
        )
        assert done.returncode == 0, done.stderr
        measured = json.loads(done.stdout)
        assert len(server.requests) - before == 12  # every information set of Kuhn poker, once

    class Scripted(arena.Agent):
        def action_probs(self, obs):
            rule = kuhn_rule(obs.text)
            return [rule["Pass"], rule["Bet"]]

    from arena.games import load
    from arena.games.exploitability import exploitability
    from arena.games.policy import policy_from_agent

    game = load("kuhn_poker-v0")
    expected = exploitability(game, policy_from_agent(game, Scripted()))
    assert measured["exact"] is True
    assert measured["exploitability"] == pytest.approx(expected, abs=1e-9) and expected > 0.01
