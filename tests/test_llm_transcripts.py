"""LLM transcripts (replay, result, store), structured answers with their fallback, reasoning, vote(k), chat history
and per-env templates, against the scripted chat-completions server on 127.0.0.1."""

import json
import sqlite3

import numpy as np
import pytest
from fake_openai_server import FakeChatServer, Reply, Status, default_responder, user_prompt

import arena
from arena.agents.llm import agent as llm_agent
from arena.agents.llm.prompts import PromptBook, env_template_parts
from arena.cli import main
from arena.core import ParameterError
from arena.registry import envs
from arena.replay import read_replay, replay_summary
from arena.tournaments import ResultsStore
from arena.tournaments.records import pack_transcripts, unpack_transcripts
from arena.tournaments.store import SCHEMA_VERSION

FAST = "timeout=2, retries=2, backoff=0.01, max_backoff=0.02, cache=false"


@pytest.fixture
def server():
    with FakeChatServer() as running:
        yield running


@pytest.fixture(autouse=True)
def no_refusals_remembered(monkeypatch):
    monkeypatch.setattr(llm_agent, "_REFUSED", {})


def llm(server, extra=""):
    return f"llm(model=test-model, base_url={server.url}, {FAST}{extra})"


def rps_obs(env_id="rps-v0"):
    env = arena.make_env(env_id)
    _, infos = env.reset(seed=0)
    return env, arena.Observation("player_0", None, infos["player_0"])


def test_an_unreadable_reply_that_forfeits_is_in_the_replay_and_the_result(server, tmp_path):
    server.push(Reply("I would rather not say."))
    replay = tmp_path / "match.jsonl"
    result = arena.play("rps-v0", [llm(server), "random"], seed=1, record=replay)
    assert result.termination == "illegal_move"
    (record,) = result.transcripts
    assert record["player"] == "player_0" and record["t"] == 1 and record["kind"] == "act"
    assert record["reply"] == "I would rather not say." and record["parsed_by"] == "none" and record["move"] is None
    assert [m["role"] for m in record["messages"]] == ["system", "user"]
    assert "Legal moves: rock (0)" in record["messages"][1]["content"]
    assert record["prompt_tokens"] == 100 and record["completion_tokens"] == 5 and record["latency_s"] > 0
    assert record["retries"] == 0 and record["cached"] is False
    header, steps, end = read_replay(replay)
    assert steps == [] and end["transcript"][0]["reply"] == "I would rather not say."
    assert "transcripts" not in end
    shown = replay_summary(replay)
    assert "the last decision, which made no move" in shown and "reply: I would rather not say." in shown


def test_reasks_and_their_replies_are_recorded_with_the_move(server, tmp_path):
    server.push(Reply("Hmm."), Reply("Move: lizard"), Reply("Move: paper"))
    replay = tmp_path / "match.jsonl"
    result = arena.play(
        "rps-v0(rounds=2)", [llm(server), "fixed(action=rock)"], seed=1, record=replay, illegal_moves="retry"
    )
    assert result.termination == "normal" and result.illegal_moves == [2, 0]
    first = [r for r in result.transcripts if r["t"] == 1]
    assert [r["reply"] for r in first] == ["Hmm.", "Move: lizard", "Move: paper"]
    assert [r.get("reask") for r in first] == [None] + ["your reply did not name a legal move"] * 2
    assert [r["move"] for r in first] == [None, None, "paper"] and first[2]["parsed_by"] == "answer line"
    _, steps, _ = read_replay(replay)
    assert [r["reply"] for r in steps[0]["moves"][0]["transcript"]] == ["Hmm.", "Move: lizard", "Move: paper"]
    assert "transcript" not in steps[0]["moves"][1]  # a fixed agent keeps none
    assert len(steps[1]["moves"][0]["transcript"]) == 1
    shown = replay_summary(replay)
    assert "re-asked: your reply did not name a legal move" in shown and "read (answer line): paper" in shown
    assert shown.count("You are a strategic game player") == 1  # a repeated system prompt is shown once


class Quiet(arena.Agent):
    def act(self, obs):
        return obs.legal_actions[0]


class BrokenTranscript(Quiet):
    def take_transcript(self):
        raise RuntimeError("no records today")


def test_agents_without_transcripts_cost_nothing_and_a_broken_one_costs_no_match(tmp_path):
    replay = tmp_path / "match.jsonl"
    result = arena.play("rps-v0(rounds=2)", [Quiet(), "random"], seed=0, record=replay)
    assert result.transcripts == []
    assert all("transcript" not in m for s in read_replay(replay)[1] for m in s["moves"])
    broken = arena.play("rps-v0(rounds=2)", [BrokenTranscript(), "random"], seed=0)
    assert broken.termination == "normal"
    assert [r["transcript_error"] for r in broken.transcripts] == ["RuntimeError: no records today"] * 2


def test_secrets_never_reach_a_transcript(server, tmp_path, monkeypatch):
    secret = "sk-transcript-SECRET-99"
    monkeypatch.setenv("MY_KEY", secret)
    server.responder = lambda body: Reply(f"My key is {secret}. Move: rock", reasoning=f"the key {secret}")
    replay = tmp_path / "match.jsonl"
    result = arena.play("rps-v0", [llm(server, ", api_key_env=MY_KEY"), "random"], seed=1, record=replay)
    assert server.headers[0]["Authorization"] == f"Bearer {secret}"
    assert secret not in json.dumps(result.transcripts) and secret not in replay.read_text()
    assert "My key is ***" in result.transcripts[0]["reply"]


def test_a_tournament_stores_each_match_transcript_with_its_texts_once(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARENA_TEST_KEY", "sk-stored-SECRET-1")
    server.responder = lambda body: Reply("sk-stored-SECRET-1 Move: rock")
    config = {
        "name": "transcripts",
        "envs": ["rps-v0(rounds=3)"],
        "games": 2,
        "seed": 3,
        "exploitability": "off",
        "backend": "inprocess",
        "agents": [
            {"name": "model", "spec": llm(server, ", api_key_env=ARENA_TEST_KEY"), "prompt_price": 2.0},
            "random",
        ],
    }
    db = tmp_path / "results.sqlite"
    arena.run_tournament(config, db=str(db))
    assert b"sk-stored-SECRET-1" not in db.read_bytes()
    with ResultsStore(db, readonly=True) as store:
        ids = store.recorded_ids("transcripts")
        assert store.transcribed_ids("transcripts") == ids and len(ids) == 4
        for match_id in ids:
            records = store.transcript(match_id)
            assert [r["t"] for r in records] == [1, 2, 3] and all(r["move"] == "rock" for r in records)
            assert records[0]["reply"] == "*** Move: rock"
        packed = json.loads(
            store.conn.execute("SELECT transcript FROM transcripts WHERE match_id = ?", (match_id,)).fetchone()[0]
        )
    assert main(["replay", str(db), "--match", match_id]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("--- step 1: player_") and shown.count("reply: *** Move: rock") == 3
    assert shown.count("You are a strategic game player") == 1
    assert main(["replay", str(db), "--match", "no-such-match"]) == 2
    assert "holds no transcript of a match 'no-such-match'" in capsys.readouterr().err
    system_prompts = [t for t in packed["texts"] if t.startswith("You are a strategic game player")]
    assert len(system_prompts) == 1 and len(packed["texts"]) == 1 + 3 + 1  # system, 3 user turns, 1 distinct reply
    # the report links the pairing's worst and best match (for the first-named agent) to their transcripts
    assert main(["report", str(db), "--json", "--bootstrap", "20"]) == 0
    (link,) = json.loads(capsys.readouterr().out)["transcripts"]
    with ResultsStore(db, readonly=True) as store:
        payoffs = {m["match_id"]: m["payoffs"][m["seats"].index("model")] for m in store.matches("transcripts")}
    assert link["agents"] == ["model", "random"] and link["matches"] == 4
    assert link["worst"]["payoff"] == min(payoffs.values()) == payoffs[link["worst"]["match_id"]]
    assert link["best"]["payoff"] == max(payoffs.values()) == payoffs[link["best"]["match_id"]]
    assert link["best"]["show"] == f"arena replay {db} --match {link['best']['match_id']}"
    # and what the model cost: 4 matches x 3 decisions x 100 prompt tokens at $2 per million
    assert main(["report", str(db), "--json", "--bootstrap", "20"]) == 0
    model = json.loads(capsys.readouterr().out)["costs"]["agents"]["model"]
    with ResultsStore(db, readonly=True) as store:
        completion = sum(
            m["agent_stats"][m["seats"].index("model")]["completion_tokens"] for m in store.matches("transcripts")
        )
    assert model["matches"] == 4 and model["prompt_tokens"] == 1200 and model["completion_tokens"] == completion > 0
    assert model["dollars"] == pytest.approx(1200 * 2.0 / 1e6)
    assert main(["report", str(db), "--bootstrap", "20"]) == 0
    shown = capsys.readouterr().out
    assert "worst and best match" in shown and "costs per agent" in shown.lower()


def test_packing_keeps_every_record_and_masks_each_text():
    records = [
        {"player": "p", "t": 1, "messages": [{"role": "user", "content": "a KEY"}], "reply": "b", "reask": "KEY c"},
        {"player": "p", "t": 2, "messages": [{"role": "user", "content": "a KEY"}], "reply": "b", "move": "x"},
    ]
    packed = pack_transcripts(records, lambda text: text.replace("KEY", "***"))
    assert packed["texts"] == ["a ***", "b"]
    unpacked = unpack_transcripts(packed)
    assert unpacked[0]["messages"] == [{"role": "user", "content": "a ***"}] and unpacked[0]["reask"] == "*** c"
    assert unpacked[1] == {**records[1], "messages": [{"role": "user", "content": "a ***"}]}
    assert pack_transcripts([]) is None and unpack_transcripts(None) == []


def test_a_version_1_database_gains_the_transcripts_table_when_opened_for_writing(tmp_path):
    db = tmp_path / "old.sqlite"
    with ResultsStore(db):
        pass
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE transcripts")
        conn.execute("PRAGMA user_version = 1")
    with ResultsStore(db, readonly=True) as store:
        assert store.version == 1 and store.transcript("any") == [] and store.transcribed_ids("t") == set()
        store.check()
    with ResultsStore(db) as store:
        assert store.version == SCHEMA_VERSION == 5
        assert store.conn.execute("SELECT count(*) FROM transcripts").fetchone() == (0,)


@pytest.mark.parametrize("answer", ["json", "tool"])
def test_structured_answers_send_the_legal_moves_as_an_enum(server, answer):
    result = arena.play("rps-v0(rounds=2)", [llm(server, f", answer={answer}"), "random"], seed=2)
    assert result.termination == "normal" and result.agent_stats[0]["parse_failures"] == 0
    body = server.requests[0]
    if answer == "json":
        schema = body["response_format"]["json_schema"]["schema"]
        assert body["response_format"]["type"] == "json_schema" and "tools" not in body
    else:
        schema = body["tools"][0]["function"]["parameters"]
        assert body["tool_choice"] == {"type": "function", "function": {"name": "play_move"}}
    assert schema["properties"]["move"]["enum"] == ["rock", "paper", "scissors"]
    assert "JSON object" in user_prompt(body)
    record = result.transcripts[0]
    assert record["answer"] == answer and record["move"] == "rock" and record["parsed_by"] == "json"
    if answer == "tool":
        assert json.loads(record["tool_arguments"])["move"] == "rock" and record["reply"] == ""


def test_a_structured_distribution_is_an_object_of_legal_moves_to_numbers(server):
    agent = arena.make_agent(llm(server, ", answer=json, strategy=distribution"))
    env, obs = rps_obs()
    agent.reset(0, "player_0", env.spec)
    np.testing.assert_allclose(agent.action_probs(obs), [1 / 3] * 3)
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["rock", "paper", "scissors"]
    assert schema["properties"]["rock"] == {"type": "number", "minimum": 0, "maximum": 1}
    (record,) = agent.take_transcript()
    assert record["kind"] == "distribution" and record["distribution"] == pytest.approx(
        {"rock": 1 / 3, "paper": 1 / 3, "scissors": 1 / 3}, abs=1e-6
    )


def test_a_server_that_refuses_structured_answers_is_asked_in_text_once_and_remembered():
    with FakeChatServer(refuse=("response_format",)) as server:
        result = arena.play("rps-v0(rounds=2)", [llm(server, ", answer=json"), "random"], seed=2)
        assert result.termination == "normal"
        formats = [b.get("response_format", {}).get("type") for b in server.requests]
        assert formats == ["json_schema", "json_object", None, None]
        assert result.agent_stats[0]["answer_fallbacks"] == 2
        first, second, played = result.transcripts[:3]
        assert first["answer"] == "json" and "HTTP 400" in first["error"] and first["fallback"] == "json_object"
        assert second["answer"] == "json_object" and second["fallback"] == "text"
        assert played["answer"] == "text" and played["move"] == "rock"
        assert "Move: <one legal move" in user_prompt(server.requests[2])  # the text template, not the JSON one
        again = arena.play("rps-v0", [llm(server, ", answer=json"), "random"], seed=3)
        assert len(server.requests) == 5 and "response_format" not in server.requests[4]
        assert again.agent_stats[0]["answer_fallbacks"] == 0


def test_a_server_with_llama_cpp_json_takes_a_schema_in_json_object():
    # llama-cpp-python's server answers HTTP 500 naming the field: a refusal, not a fault to retry
    with FakeChatServer(refuse=("response_format:json_schema",), refuse_status=500) as server:
        result = arena.play("rps-v0(rounds=2)", [llm(server, ", answer=json"), "random"], seed=2)
        formats = [b["response_format"]["type"] for b in server.requests]
        assert formats == ["json_schema", "json_object", "json_object"]
        assert server.requests[1]["response_format"]["schema"]["properties"]["move"]["enum"][0] == "rock"
        assert [r["answer"] for r in result.transcripts] == ["json", "json_object", "json_object"]
        assert [r.get("parsed_by") for r in result.transcripts] == [None, "json", "json"]


def test_reasoning_fields_and_think_blocks_are_kept_and_their_tokens_counted(server):
    server.push(
        Reply("Move: paper", reasoning="they open with rock", reasoning_tokens=12),
        Reply("Move: paper", reasoning="still rock", reasoning_field="reasoning"),
        Reply("<think>rock again, surely</think>Move: paper"),
    )
    result = arena.play("rps-v0(rounds=3)", [llm(server), "fixed(action=rock)"], seed=1)
    assert result.payoffs == [3.0, -3.0]
    reasonings = [r["reasoning"] for r in result.transcripts]
    assert reasonings == ["they open with rock", "still rock", "rock again, surely"]
    tokens = [r["reasoning_tokens"] for r in result.transcripts]
    assert tokens[0] == 12 and tokens[1] == 0 and 0 < tokens[2] < result.transcripts[2]["completion_tokens"]
    assert result.agent_stats[0]["reasoning_tokens"] == sum(tokens)


def test_reasoning_budgets_go_into_the_request(server):
    arena.play("rps-v0", [llm(server, ", reasoning_effort=low, max_completion_tokens=64"), "random"], seed=1)
    body = server.requests[0]
    assert body["reasoning_effort"] == "low" and body["max_completion_tokens"] == 64 and "max_tokens" not in body
    with pytest.raises(ParameterError, match="reasoning_effort must be one of"):
        arena.make_agent(llm(server, ", reasoning_effort=lots"))


def test_vote_plays_the_majority_and_reports_the_shares(server):
    answers = iter(["rock", "paper", "rock", "lizard", "paper", "rock", "scissors"])
    server.responder = lambda body: Reply(f"Move: {next(answers)}")
    agent = arena.make_agent(llm(server, ", strategy=vote(5), concurrency=1"))
    assert agent.name.endswith("strategy=vote(5), temperature=1.0)") and agent.samples == 5
    env, obs = rps_obs()
    agent.reset(4, "player_0", env.spec)
    np.testing.assert_allclose(agent.action_probs(obs), [2 / 4, 2 / 4, 0.0])
    assert {agent.act(obs) for _ in range(20)} == {0, 1}  # a tie, broken by the seeded generator
    assert len(server.requests) == 5  # the same five draws for every use
    records = agent.take_transcript()
    assert [r["sample"] for r in records] == [0, 1, 2, 3, 4] and [r["legal"] for r in records].count(False) == 1
    seeded = [arena.make_agent(llm(server, ", strategy=vote(5), temperature=0")) for _ in range(2)]
    server.responder = default_responder
    picks = []
    for agent in seeded:
        agent.reset(4, "player_0", env.spec)
        picks.append(agent.act(obs))
    assert picks == [0, 0]
    with pytest.raises(ParameterError, match="vote"):
        arena.make_agent(llm(server, ", strategy=vote(x)"))


def test_chat_history_keeps_the_match_as_one_conversation_within_its_budget(server):
    arena.play("rps-v0(rounds=3)", [llm(server, ", history=chat"), "random"], seed=1)
    roles = [[m["role"] for m in body["messages"]] for body in server.requests]
    assert roles == [
        ["system", "user"],
        ["system", "user", "assistant", "user"],
        ["system", "user", "assistant", "user", "assistant", "user"],
    ]
    last = server.requests[2]["messages"]
    assert (
        last[2]["content"].endswith("Move: rock") and last[1]["content"] == server.requests[0]["messages"][1]["content"]
    )
    turn = len(last[1]["content"]) // 4 + 4
    budget = len(last[0]["content"]) // 4 + 4 + 3 * turn + 60  # room for the new turn and one earlier exchange
    server.requests.clear()
    arena.play("rps-v0(rounds=3)", [llm(server, f", history=chat, history_tokens={budget}"), "random"], seed=1)
    assert [len(body["messages"]) for body in server.requests] == [2, 4, 4]  # the oldest exchange dropped
    assert server.requests[2]["messages"][1]["content"] == server.requests[1]["messages"][3]["content"]


def test_every_built_in_env_ships_a_template_and_a_file_overrides_it_per_env(server, tmp_path):
    book = PromptBook()
    default = book.for_env(None).system
    for entry in envs.entries():
        if entry.description.startswith("Plugin"):
            continue
        assert "system" in env_template_parts(entry.id), entry.id
        system = book.for_env(entry.id).system
        assert system.startswith(default) and len(system) > len(default) + 80, entry.id
    arena.play("kuhn_poker-v0", [llm(server), "random"], seed=1)
    assert "Kuhn poker with cards J < Q < K" in server.requests[0]["messages"][0]["content"]
    custom = tmp_path / "prompts.toml"
    custom.write_text('system = "Play well."\n["kuhn_poker-v0"]\nsystem = "Play Kuhn well."\n')
    server.requests.clear()
    arena.play("kuhn_poker-v0", [llm(server, f", template={custom}"), "random"], seed=1)
    arena.play("rps-v0", [llm(server, f", template={custom}"), "random"], seed=1)
    assert [b["messages"][0]["content"] for b in server.requests][0] == "Play Kuhn well."
    assert server.requests[-1]["messages"][0]["content"] == "Play well."
    custom.write_text('["kuhn_poker-v0"]\nact = "no text here"\n')
    with pytest.raises(ParameterError, match=r"\[kuhn_poker-v0\].*must contain \{text\}"):
        arena.make_agent(llm(server, f", template={custom}"))


def test_failed_requests_are_transcribed(server):
    server.push(*[Status(500)] * 3)
    result = arena.play("rps-v0", [llm(server), "random"], seed=1)
    assert result.termination == "agent_error"
    (record,) = result.transcripts
    assert "gave up after 3 attempts" in record["error"] and record["retries"] == 2


@pytest.mark.parametrize("name", ["llm_local.toml", "llm_local_rps.toml"])
def test_the_local_demo_configs_load(name):
    from arena.tournaments.config import load_config

    config = load_config(f"examples/{name}")
    specs = {a.name: a.spec for a in config.agents}
    assert specs["smollm2_json"].kwargs()["local"] is True and specs["smollm2_json"].kwargs()["answer"] == "json"
    assert "answer" not in specs["smollm2_text"].kwargs() and config.workers == 1


def test_an_isolated_llm_agent_keeps_its_transcript(server):
    """`process:llm(...)`: the proxy asks the agent's process for each decision's records."""
    result = arena.play("rps-v0(rounds=2)", [f"process:{llm(server)}", "random"], seed=2)
    assert result.termination == "normal"
    assert [r["player"] for r in result.transcripts] == ["player_0", "player_0"]
    assert all(r["reply"] and r["prompt_tokens"] == 100 for r in result.transcripts)
    isolated_random = arena.make_agent("process:random")
    assert not hasattr(isolated_random, "take_transcript")  # no round trip per decision for agents without one
    isolated_random.close()
