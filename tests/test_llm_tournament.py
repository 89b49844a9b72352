"""A whole tournament against a faulty chat-completions server: every fault counted, nothing lost, reruns free."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fake_openai_server import DROP, MALFORMED, FakeChatServer, Reply, Status, default_responder, kuhn_responder

import arena
from arena.specs import AgentSpec
from arena.tournaments import ResultsStore
from arena.tournaments.config import AgentEntry, load_config

SECRET = "sk-tournament-SECRET-77"
TRANSPORT_FAULTS = ("500", "429", "malformed", "drop", "slow")


class FaultySchedule:
    """Answers by request number: a fixed mix of transport faults, unreadable replies and good moves."""

    def __init__(self) -> None:
        self.served: Counter[str] = Counter()
        self.count = 0

    def __call__(self, body):
        self.count += 1
        kind = {2: "500", 5: "429", 8: "malformed", 11: "drop", 14: "slow", 17: "unreadable"}.get(
            self.count % 18, "good"
        )
        self.served[kind] += 1
        return {
            "500": Status(500),
            "429": Status(429, retry_after="0"),
            "malformed": MALFORMED,
            "drop": DROP,
            "slow": Reply("Move: paper", delay=0.6),
            "unreadable": Reply("Hmm, hard to say."),
            "good": default_responder(body),
        }[kind]


def _config(server, tmp_path, name="llm-faults"):
    llm = (
        f"llm(model=test-model, base_url={server.url}, api_key_env=ARENA_TEST_KEY, timeout=0.3, retries=6, "
        f"backoff=0.01, max_backoff=0.02, cache_dir={tmp_path / 'cache'})"
    )
    return {
        "name": name,
        "envs": ["rps-v0(rounds=6)", "kuhn_poker-v0"],
        "games": 3,
        "seed": 11,
        "illegal_moves": "retry",
        "max_retries": 3,
        "exploitability": "off",
        "backend": "inprocess",
        "agents": [{"name": "model", "spec": llm}, "random"],
    }


@pytest.fixture
def faulty(monkeypatch):
    monkeypatch.setenv("ARENA_TEST_KEY", SECRET)
    schedule = FaultySchedule()
    with FakeChatServer(schedule) as server:
        yield server, schedule


def _model_stats(db):
    with ResultsStore(db, readonly=True) as store:
        matches = store.matches("llm-faults")
    totals: Counter[str] = Counter()
    illegal = 0
    for match in matches:
        seat = match["seats"].index("model")
        stats = match["agent_stats"][seat]
        totals.update({k: v for k, v in stats.items() if isinstance(v, int)})
        illegal += match["illegal_moves"][seat]
    return matches, totals, illegal


def test_tournament_counts_every_fault_and_loses_nothing(faulty, tmp_path):
    server, schedule = faulty
    db = tmp_path / "results.sqlite"
    run = arena.run_tournament(_config(server, tmp_path), db=str(db))
    assert run.scheduled == run.played == 12 and not run.given_up
    matches, totals, illegal = _model_stats(db)
    assert len(matches) == 12 and all(m["termination"] == "normal" for m in matches)
    transport = sum(schedule.served[k] for k in TRANSPORT_FAULTS)
    assert transport >= 5 and schedule.served["unreadable"] >= 1
    assert totals["retries"] == transport
    assert totals["parse_failures"] == illegal == totals["reasks"] == schedule.served["unreadable"]
    assert totals["calls"] == len(server.requests) - transport
    assert totals["prompt_tokens"] == 100 * totals["calls"]
    model = next(a for a in run.metrics["agents"] if a["name"] == "model")
    assert model["stats"]["retries"] == transport  # summed in the report

    assert SECRET.encode() not in db.read_bytes()
    assert all(h["Authorization"] == f"Bearer {SECRET}" for h in server.headers)

    # resuming plays nothing; a fresh database replays every reply from the cache and sends no request
    sent = len(server.requests)
    assert arena.run_tournament(_config(server, tmp_path), db=str(db)).played == 0
    again = tmp_path / "again.sqlite"
    rerun = arena.run_tournament(_config(server, tmp_path), db=str(again))
    assert rerun.played == 12 and len(server.requests) == sent
    rematches, retotals, reillegal = _model_stats(again)
    assert [m["payoffs"] for m in rematches] == [m["payoffs"] for m in matches]
    assert retotals["calls"] == 0 and retotals["cache_hits"] == totals["calls"] and reillegal == illegal


def test_tournament_cli_no_cache_asks_again(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_TEST_KEY", SECRET)
    arena_bin = Path(sys.executable).parent / "arena"
    with FakeChatServer() as server:
        llm = f"llm(model=m, base_url={server.url}, api_key_env=ARENA_TEST_KEY, cache_dir={tmp_path / 'cache'})"
        command = [
            str(arena_bin),
            "tournament",
            "--env",
            "rps-v0(rounds=3)",
            "--agents",
            llm,
            "random",
            "--games",
            "1",
            "--seats",
            "fixed",
            "--backend",
            "inprocess",
            "--db",
            str(tmp_path / "a.sqlite"),
            "--json",
        ]
        first = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        assert len(server.requests) == 3 and SECRET not in first.stdout + first.stderr
        command[command.index("--db") + 1] = str(tmp_path / "b.sqlite")  # a rerun would be served by the cache
        subprocess.run([*command, "--no-cache"], capture_output=True, text=True, timeout=60, check=True)
        assert len(server.requests) == 6


def _pointed_at(path, server, tmp_path, **changes):
    """An example config with its language model pointed at the test server (and its cache in tmp_path)."""
    config = load_config(path)
    agents = [
        AgentEntry(
            a.name,
            AgentSpec.parse(
                a.spec.text.replace("http://localhost:11434/v1", server.url).replace(
                    ")", f", cache_dir={tmp_path / 'cache'})"
                )
            ),
        )
        if a.spec.text.startswith("llm(")
        else a
        for a in config.agents
    ]
    assert any(a.spec.text.startswith("llm(") and server.url in a.spec.text for a in agents)
    return config.replace(agents=agents, backend="inprocess", db=str(tmp_path / "results.sqlite"), **changes)


def test_kuhn_example_measures_the_models_exact_exploitability(tmp_path):
    with FakeChatServer(kuhn_responder) as server:
        run = arena.run_tournament(_pointed_at("examples/llm_kuhn.toml", server, tmp_path, games=1))
    assert run.played == run.scheduled == 9 and not run.given_up
    measured = run.metrics["envs"]["kuhn_poker-v0"]["exploitability"]
    assert measured["llm"]["exact"] and measured["llm"]["value"] == pytest.approx(0.25, abs=1e-12)
    assert measured["cfr_plus"]["value"] < 1e-3 and measured["random"]["value"] == pytest.approx(11 / 24)
    assert len(server.requests) == 12  # one stated strategy per information set, whatever the number of matches


def test_regret_example_reports_the_models_regret_next_to_hedge(tmp_path):
    config = load_config("examples/llm_regret.toml")
    envs = [env.text.replace("rounds=25", "rounds=6") for env in config.envs[:2]]
    with FakeChatServer() as server:  # the default responder states the uniform strategy
        run = arena.run_tournament(_pointed_at("examples/llm_regret.toml", server, tmp_path, games=1, envs=envs))
    assert run.played == run.scheduled == 2 * 20
    regret = run.metrics["envs"]["rps-v0(rounds=6)"]["regret"]
    for name in ("llm", "hedge"):
        assert regret[name]["rounds"] == 6 and len(regret[name]["curve_external"]) == 6
        assert regret[name]["loglog_slope"] is None or regret[name]["loglog_slope"] < 2
    # uniform play in rock-paper-scissors earns 0 in expectation whatever the opponent does, so the model's
    # expected regret is exactly the best fixed action's payoff in hindsight
    assert regret["llm"]["external_regret_per_round"] >= 0
