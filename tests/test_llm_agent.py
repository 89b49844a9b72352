"""The LLM agent against a real chat-completions server on 127.0.0.1: faults, prompts, cache, secrets, strategies."""

import json
import pickle
import threading
import time

import numpy as np
import pytest
from fake_openai_server import (
    DROP,
    MALFORMED,
    FakeChatServer,
    Reply,
    Status,
    default_responder,
    kuhn_responder,
    kuhn_rule,
    user_prompt,
)

import arena
from arena.agents.llm.client import retry_after_seconds
from arena.core import ParameterError

FAST = "timeout=0.5, retries=6, backoff=0.01, max_backoff=0.05"


@pytest.fixture
def server():
    with FakeChatServer() as running:
        yield running


def llm(server, tmp_path, extra=""):
    return f"llm(model=test-model, base_url={server.url}, {FAST}, cache_dir={tmp_path / 'cache'}{extra})"


def test_every_transport_fault_is_retried_and_counted(server, tmp_path):
    server.push(Status(500), Status(503), MALFORMED, DROP, Reply("Move: paper", delay=1.0))
    result = arena.play("rps-v0(rounds=3)", [llm(server, tmp_path), "fixed(action=scissors)"], seed=1)
    assert result.termination == "normal"
    stats = result.agent_stats[0]
    assert stats["retries"] == 5 and stats["calls"] == 3 and stats["cache_hits"] == 0
    assert len(server.requests) == 8
    assert stats["prompt_tokens"] == 300 and stats["completion_tokens"] > 0 and stats["latency_s"] > 0.5
    assert result.payoffs == [3.0, -3.0]  # the slow "paper" came too late; the default reply is rock each round
    assert result.agent_stats[1] == {}


def test_retry_after_is_honoured(server, tmp_path):
    server.push(Status(429, retry_after="1"))
    start = time.perf_counter()
    result = arena.play("rps-v0", [llm(server, tmp_path), "random"], seed=1)
    assert time.perf_counter() - start >= 1.0
    assert result.termination == "normal" and result.agent_stats[0]["retries"] == 1
    assert retry_after_seconds("2.5") == 2.5 and retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
    assert retry_after_seconds("soon") is None


def test_endpoint_that_keeps_failing_costs_the_match_not_the_run(server, tmp_path):
    server.push(*[Status(500)] * 7)
    result = arena.play("rps-v0", [llm(server, tmp_path), "random"], seed=1)
    assert result.termination == "agent_error" and result.errors == [1, 0] and result.culprit == 0
    assert "gave up after 7 attempts" in result.message and "HTTP 500" in result.message
    assert len(server.requests) == 7


def test_a_request_that_fails_is_counted_with_its_retries_and_time(server, tmp_path):
    server.push(*[Status(500)] * 7)
    stats = arena.play("rps-v0", [llm(server, tmp_path), "random"], seed=1).agent_stats[0]
    assert stats["failed_requests"] == 1 and stats["retries"] == 6 and stats["latency_s"] > 0
    assert stats["calls"] == 0


def test_prompt_holds_rules_legal_moves_and_answer_format(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-123")
    arena.play("kuhn_poker-v0", [llm(server, tmp_path, ", temperature=0.3, max_tokens=50"), "random"], seed=4)
    body = server.requests[0]
    assert body["model"] == "test-model" and body["temperature"] == 0.3 and body["max_tokens"] == 50
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    prompt = user_prompt(body)
    assert "Kuhn poker" in prompt and "Your card:" in prompt
    assert "Legal moves: Pass (0); Bet (1)." in prompt
    assert "Choose one of the legal moves: Pass, Bet." in prompt and "Move: <one legal move" in prompt
    assert server.headers[0]["Authorization"] == "Bearer sk-local-123"


def test_moves_buried_in_reasoning_are_found(server, tmp_path):
    def chatty(body):
        return Reply(
            "Rock is the most common opening, so paper beats it; but they may expect paper, and "
            "scissors beat paper. Final answer: scissors."
        )

    server.responder = chatty
    replay = tmp_path / "match.jsonl"
    result = arena.play("rps-v0(rounds=2)", [llm(server, tmp_path), "fixed(action=paper)"], seed=2, record=replay)
    assert result.payoffs == [2.0, -2.0] and result.agent_stats[0]["parse_failures"] == 0
    moves = [json.loads(line) for line in replay.read_text().splitlines()[1:-1]]
    assert [m["moves"][0]["action_name"] for m in moves] == ["scissors", "scissors"]


@pytest.mark.parametrize(
    "policy, termination, fallbacks", [("retry", "normal", 0), ("random", "normal", 1), ("forfeit", "illegal_move", 0)]
)
def test_unreadable_reply_follows_the_match_policy(server, tmp_path, policy, termination, fallbacks):
    server.push(Reply("I would rather not say."))
    result = arena.play("rps-v0", [llm(server, tmp_path), "fixed(action=rock)"], seed=1, illegal_moves=policy)
    assert result.termination == termination
    assert result.illegal_moves == [1, 0] and result.random_fallbacks == [fallbacks, 0]
    stats = result.agent_stats[0]
    assert stats["parse_failures"] == 1 and stats["reasks"] == (1 if policy == "retry" else 0)
    if policy == "retry":
        assert len(server.requests) == 2
        assert "rejected: your reply did not name a legal move" in user_prompt(server.requests[1])


def test_illegal_move_is_reasked_with_its_name(server, tmp_path):
    server.push(Reply("Move: x(0,0)"), Reply("Move: x(0,0)"), Reply("Move: x(2,2)"))
    result = arena.play(
        "tic_tac_toe-v0", [llm(server, tmp_path), "fixed(action=4)"], seed=0, illegal_moves="retry", max_steps=3
    )
    assert result.illegal_moves == [1, 0] and result.agent_stats[0]["reasks"] == 1
    assert "rejected: x(0,0) is not a legal move now" in user_prompt(server.requests[2])
    assert "Legal moves:" in user_prompt(server.requests[2]) and "x(0,0) (0)" not in user_prompt(server.requests[2])


def test_cache_makes_a_rerun_free_and_identical(server, tmp_path, monkeypatch):
    spec = llm(server, tmp_path)
    first = arena.play("rps-v0(rounds=4)", [spec, "random"], seed=5)
    sent = len(server.requests)
    assert sent == 4
    again = arena.play("rps-v0(rounds=4)", [spec, "random"], seed=5)
    assert len(server.requests) == sent  # nothing sent
    assert again.payoffs == first.payoffs
    assert again.agent_stats[0]["cache_hits"] == 4 and again.agent_stats[0]["calls"] == 0
    assert again.agent_stats[0]["completion_tokens"] == first.agent_stats[0]["completion_tokens"]

    arena.play("rps-v0(rounds=4)", [spec.replace(")", ", cache=false)"), "random"], seed=5)
    assert len(server.requests) == sent + 4
    monkeypatch.setenv("ARENA_LLM_NO_CACHE", "1")
    arena.play("rps-v0(rounds=4)", [spec, "random"], seed=5)
    assert len(server.requests) == sent + 8


def test_sampled_draws_differ_by_seed_unless_decoding_is_greedy(server, tmp_path):
    spec = llm(server, tmp_path)
    arena.play("rps-v0", [spec, "random"], seed=1)
    arena.play("rps-v0", [spec, "random"], seed=2)
    assert len(server.requests) == 2  # temperature 1: each match seed is a fresh draw
    greedy = llm(server, tmp_path, ", temperature=0")
    arena.play("rps-v0", [greedy, "random"], seed=1)
    arena.play("rps-v0", [greedy, "random"], seed=2)
    assert len(server.requests) == 3  # temperature 0: the same prompt is the same reply

    env = arena.make_env("rps-v0")
    _, infos = env.reset(seed=0)
    obs = arena.Observation("player_0", None, infos["player_0"])
    for spec, new_requests in ((llm(server, tmp_path, ", cache=false"), 3), (greedy, 0)):
        agent = arena.make_agent(spec)
        agent.reset(9, "player_0", env.spec)
        before = len(server.requests)
        assert [agent.act(obs) for _ in range(3)] == [0, 0, 0]
        assert len(server.requests) - before == new_requests  # repeated asks are new draws unless greedy


def test_secrets_stay_out_of_names_results_replays_errors_and_cache(server, tmp_path, monkeypatch):
    secret = "sk-test-SECRET-4242"
    monkeypatch.setenv("MY_ENDPOINT_KEY", secret)
    spec = llm(server, tmp_path, ", api_key_env=MY_ENDPOINT_KEY")
    agent = arena.make_agent(spec)
    assert secret not in agent.name and secret not in repr(agent) and secret not in str(vars(agent))
    assert secret not in str(pickle.dumps(agent))
    replay = tmp_path / "match.jsonl"
    result = arena.play("rps-v0(rounds=2)", [agent, "random"], seed=3, record=replay)
    assert all(h["Authorization"] == f"Bearer {secret}" for h in server.headers)
    stored = [json.dumps(result.to_dict()), replay.read_text()]
    stored += [p.read_text() for p in (tmp_path / "cache").rglob("*.json")]
    assert len(stored) > 2 and not any(secret in text for text in stored)

    server.push(Status(401, body=json.dumps({"error": {"message": f"Incorrect API key provided: {secret}"}})))
    failed = arena.play("rps-v0", [spec.replace(")", ", cache=false)"), "random"], seed=3)
    assert failed.termination == "agent_error" and "HTTP 401" in failed.message
    assert secret not in failed.message and "Incorrect API key provided: ***" in failed.message

    monkeypatch.delenv("MY_ENDPOINT_KEY")
    with pytest.raises(ParameterError, match="MY_ENDPOINT_KEY"):
        arena.make_agent(spec)


def test_credentials_in_the_url_are_not_shown(server, tmp_path):
    url = server.url.replace("http://", "http://user:pa55word@") + "?api-key=zzz"
    agent = arena.make_agent(f"llm(model=m, base_url={url}, cache=false)")
    assert "pa55word" not in agent.name and "zzz" not in agent.name and agent.endpoint == server.url


def test_endpoint_and_model_from_the_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_LLM_BASE_URL", server.url)
    monkeypatch.setenv("ARENA_LLM_MODEL", "env-model")
    result = arena.play("rps-v0", [f"llm(cache_dir={tmp_path})", "random"], seed=1)
    assert result.termination == "normal" and server.requests[0]["model"] == "env-model"
    assert result.agents[0].startswith("llm(model=env-model, base_url=http://127.0.0.1:")


@pytest.mark.parametrize(
    "spec, message",
    [
        ("llm(model=m)", "no endpoint configured"),
        ("llm(base_url=http://localhost:1/v1)", "no model given"),
        ("llm(model=m, base_url=localhost:1)", "must start with http"),
        ("llm(model=m, base_url=http://x/v1, strategy=guess)", "strategy must be one of"),
        ("llm(model=m, base_url=http://x/v1, samples=0)", "samples must be at least 1"),
        ("llm(model=m, base_url=http://x/v1, timeout=0)", "timeout must be positive"),
    ],
)
def test_bad_parameters_are_one_clear_line(spec, message, monkeypatch):
    monkeypatch.delenv("ARENA_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("ARENA_LLM_MODEL", raising=False)
    with pytest.raises(ParameterError, match=message):
        arena.make_agent(spec)


def test_distribution_strategy_states_a_mixed_strategy(server, tmp_path):
    server.responder = lambda body: Reply('Mixing.\n{"rock": 0.5, "paper": 0.3, "scissors": 0.2}')
    agent = arena.make_agent(llm(server, tmp_path, ", strategy=distribution"))
    env = arena.make_env("rps-v0")
    _, infos = env.reset(seed=0)
    agent.reset(7, "player_0", env.spec)
    obs = arena.Observation("player_0", None, infos["player_0"])
    np.testing.assert_allclose(agent.action_probs(obs), [0.5, 0.3, 0.2])
    assert "mixed strategy" in user_prompt(server.requests[0])
    moves = np.bincount([agent.act(obs) for _ in range(600)], minlength=3) / 600
    np.testing.assert_allclose(moves, [0.5, 0.3, 0.2], atol=0.06)
    assert len(server.requests) == 1  # one stated strategy per decision, however often it is used
    assert agent.match_stats()["calls"] == 1 and agent.match_stats()["cache_hits"] == 0

    server.responder = lambda body: Reply("No idea.")
    fresh = arena.make_agent(llm(server, tmp_path, ", strategy=distribution, cache=false"))
    fresh.reset(0, "player_0", env.spec)
    np.testing.assert_allclose(fresh.action_probs(obs), [1 / 3] * 3)
    assert fresh.act(obs) == -1
    assert fresh.match_stats()["fallbacks"] == 1 and fresh.match_stats()["parse_failures"] == 2


def test_sample_strategy_counts_replies_within_the_concurrency_limit(server, tmp_path):
    answers, in_flight, most = ["rock", "rock", "paper", "lizard"], [0], [0]
    lock = threading.Lock()

    def counted(body):
        with lock:
            index = len(server.requests) - 1
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.15)
        with lock:
            in_flight[0] -= 1
        return Reply(f"Move: {answers[index % 4]}")

    server.responder = counted
    agent = arena.make_agent(llm(server, tmp_path, ", strategy=sample, samples=8, concurrency=2"))
    env = arena.make_env("rps-v0")
    _, infos = env.reset(seed=0)
    agent.reset(0, "player_0", env.spec)
    obs = arena.Observation("player_0", None, infos["player_0"])
    np.testing.assert_allclose(agent.action_probs(obs), [4 / 6, 2 / 6, 0.0])
    assert most[0] == 2 and len(server.requests) == 8
    stats = agent.match_stats()
    assert stats["calls"] == 8 and stats["parse_failures"] == 2
    assert agent.act(obs) in (0, 1) and len(server.requests) == 8  # act samples the cached estimate


class _ScriptedKuhn(arena.Agent):
    def action_probs(self, obs):
        rule = kuhn_rule(obs.text)
        return np.array([rule["Pass"], rule["Bet"]])


def test_exact_exploitability_probes_each_information_set_once(server, tmp_path):
    from arena.games import load
    from arena.games.exploitability import exploitability
    from arena.games.policy import policy_from_agent

    server.responder = kuhn_responder
    game = load("kuhn_poker-v0")
    agent = arena.make_agent(llm(server, tmp_path, ", strategy=distribution"))
    measured = exploitability(game, policy_from_agent(game, agent))
    expected = exploitability(game, policy_from_agent(game, _ScriptedKuhn()))
    assert measured == pytest.approx(expected, abs=1e-12) and expected > 0.01
    assert len(server.requests) == sum(p.num_infosets for p in game.players) == 12
    assert exploitability(game, policy_from_agent(game, agent)) == pytest.approx(expected, abs=1e-12)
    assert len(server.requests) == 12  # the second probe comes from the cache


def test_default_responder_answers_distribution_prompts():
    body = {"messages": [{"role": "user", "content": "Legal moves: a (0); b (1).\nChoose a mixed strategy"}]}
    assert json.loads(default_responder(body).text.split("\n")[1]) == {"a": 0.5, "b": 0.5}


def test_the_strategy_picks_whether_there_is_a_mixed_strategy(server, tmp_path):
    from arena.agents.llm import LLMAgent, MixedLLMAgent

    act = arena.make_agent(llm(server, tmp_path))
    mixed = arena.make_agent(llm(server, tmp_path, ", strategy=sample, samples=3"))
    assert type(act) is LLMAgent and not act.has_action_probs()
    assert type(mixed) is MixedLLMAgent and mixed.has_action_probs() and mixed.samples == 3
    assert "strategy=sample, samples=3" in mixed.name
    clone = pickle.loads(pickle.dumps(mixed))
    assert type(clone) is MixedLLMAgent and clone.name == mixed.name
