"""A results database written before specs were stored as JSON (schema version 0) still reports and resumes.

tests/fixtures/legacy.sqlite was written by arena 0.1.0 from LEGACY below (36 matches). The expected figures are
that version's `arena report --json` of it. The fixture is never opened in place: each test works on a copy.
"""

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import arena
from arena.cli import main
from arena.specs import AgentSpec, EnvSpec
from arena.tournaments import ResultsStore
from arena.tournaments.store import SCHEMA_VERSION

FIXTURE = Path(__file__).parent / "fixtures" / "legacy.sqlite"
LEGACY = """
name = "legacy"
games = {games}
seed = 11
envs = ["kuhn_poker-v0", {{ id = "rps-v0", params = {{ rounds = 3 }} }}]
[[agents]]
spec = "random"
[[agents]]
name = "bet"
spec = "fixed(action=Bet)"
[[agents]]
spec = "mix"
params = {{ probs = {{ rock = 0.5, paper = 0.5 }} }}
"""
MIX = "mix(probs={'rock': 0.5, 'paper': 0.5})"  # the default display name arena 0.1.0 gave the third agent
# Elo is the median of bootstrap replicates: its figures are today's, whose replicates draw each step among the
# distinct games by their counts (0.1.0 drew positions in the schedule: 1008.60, 1008.54 and 980.39).
AGENTS = [  # name, rank, Bradley-Terry, Elo, wins, draws, losses, error rate, forfeits
    ("random", 1, 1019.4049401317686, 1012.1097302359832, 11, 4, 9, 0.0, 0),
    ("bet", 1, 1009.7026105748149, 1007.451001102704, 12, 1, 11, 0.0, 0),
    (MIX, 1, 970.8924492934165, 981.1923961695336, 9, 3, 12, 0.5, 12),
]
PAIRINGS = [  # env, agent, opponent, wins, draws, losses, mean payoff
    ("kuhn_poker-v0", "random", "bet", 3, 0, 3, 0.16666666666666666),
    ("kuhn_poker-v0", "random", MIX, 6, 0, 0, 2.0),
    ("kuhn_poker-v0", "bet", MIX, 6, 0, 0, 2.0),
    ("rps-v0(rounds=3)", "random", "bet", 2, 1, 3, -0.16666666666666666),
    ("rps-v0(rounds=3)", "random", MIX, 0, 3, 3, -0.8333333333333334),
    ("rps-v0(rounds=3)", "bet", MIX, 0, 0, 6, -1.6666666666666667),
]
EXPLOITABILITY = {"random": 0.4583333333333333, "bet": 0.3333333333333333, MIX: None}
REGRET = {"random": 0.8055555555555555, "bet": 0.75, MIX: 0.4583333333333333}
# Kuhn's meta-game now uses the stored exact payoff of random against bet (-0.375, which 6 sampled matches put at
# +0.167): bet is the pure equilibrium, where 0.1.0 put random from sampling noise.
NASH = {"kuhn_poker-v0": [0.0, 1.0, 0.0], "rps-v0(rounds=3)": [0.0, 0.0, 1.0]}


@pytest.fixture
def legacy(tmp_path):
    db = tmp_path / "legacy.sqlite"
    shutil.copyfile(FIXTURE, db)
    return db


def _version(db):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def _same(rows, expected):
    """Rows equal to the expected ones: text exactly, numbers to 1e-9 (None as None)."""
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected):
        assert len(row) == len(want)
        for value, wanted in zip(row, want):
            if isinstance(wanted, float):
                assert value == pytest.approx(wanted, rel=1e-9, abs=1e-12), (row, want)
            else:
                assert value == wanted, (row, want)


def _check_report(data):
    assert data["tournament"] == "legacy" and data["matches"] == 36
    assert data["terminations"] == {"agent_error": 12, "normal": 24}
    got = [
        (
            a["name"],
            a["rank"],
            a["bradley_terry"]["rating"],
            a["elo"]["rating"],
            a["wins"],
            a["draws"],
            a["losses"],
            a["error_rate"],
            a["forfeits"],
        )
        for a in data["agents"]
    ]
    _same(got, AGENTS)
    pairings = [
        (p["env"], p["agent"], p["opponent"], p["wins"], p["draws"], p["losses"], p["mean_payoff"])
        for p in data["pairings"]
    ]
    _same(pairings, PAIRINGS)
    kuhn, rps = data["envs"]["kuhn_poker-v0"], data["envs"]["rps-v0(rounds=3)"]
    _same(sorted((n, e["value"]) for n, e in kuhn["exploitability"].items()), sorted(EXPLOITABILITY.items()))
    _same(sorted((n, r["external_regret_per_round"]) for n, r in rps["regret"].items()), sorted(REGRET.items()))
    for env, nash in NASH.items():
        assert data["envs"][env]["meta_game"]["nash"] == pytest.approx(nash, abs=1e-6)


def test_report_of_a_version_0_database_is_unchanged_and_does_not_migrate_it(legacy, capsys):
    assert main(["report", str(legacy), "--json"]) == 0
    _check_report(json.loads(capsys.readouterr().out))
    assert _version(legacy) == 0  # a report opens read-only: nothing is rewritten
    assert main(["report", str(legacy)]) == 0
    out = capsys.readouterr().out
    assert "legacy: 36 matches" in out and "meta-game equilibrium" in out


def test_opening_for_writing_migrates_every_spec_to_canonical_json(legacy, capsys):
    with sqlite3.connect(legacy) as conn:
        ids = {r[0] for r in conn.execute("SELECT match_id FROM matches")}
    with ResultsStore(legacy) as store:
        assert store.version == SCHEMA_VERSION
        (config,) = [json.loads(r[0]) for r in store.conn.execute("SELECT config FROM tournaments")]
        assert config["envs"] == [EnvSpec.parse("kuhn_poker-v0").json, EnvSpec.parse("rps-v0(rounds=3)").json]
        specs = [r[0] for r in store.conn.execute("SELECT spec FROM agents ORDER BY rowid")]
        assert specs == [AgentSpec.parse(s).json for s in ("random", "fixed(action=Bet)", MIX)]
        assert {r[0] for r in store.conn.execute("SELECT DISTINCT env FROM matches")} == {
            EnvSpec.parse("kuhn_poker-v0").json,
            EnvSpec.parse("rps-v0(rounds=3)").json,
        }
        assert {r[0] for r in store.conn.execute("SELECT DISTINCT env FROM analyses")} == {
            EnvSpec.parse("kuhn_poker-v0").json
        }
        assert store.recorded_ids("legacy") == ids  # the ids hash canonical texts: none changed
    assert _version(legacy) == SCHEMA_VERSION
    assert main(["report", str(legacy), "--json"]) == 0
    _check_report(json.loads(capsys.readouterr().out))


def test_resuming_with_more_games_plays_only_the_new_matches(legacy, tmp_path):
    with sqlite3.connect(legacy) as conn:
        before = {r[0]: r[1:] for r in conn.execute("SELECT match_id, seats, idx, seed, payoffs FROM matches")}
    config = tmp_path / "legacy.toml"
    config.write_text(LEGACY.format(games=4))
    run = arena.run_tournament(config, db=str(legacy), backend="inprocess")
    assert (run.scheduled, run.already_recorded, run.played) == (48, 36, 12)
    with ResultsStore(legacy, readonly=True) as store:
        assert [a["name"] for a in store.agents("legacy")] == ["random", "bet", MIX]  # old names kept
        after = {m["match_id"]: m for m in store.matches("legacy")}
    assert len(after) == 48 and set(before) <= set(after)
    for match_id, (seats, idx, seed, payoffs) in before.items():
        row = after[match_id]
        assert (json.dumps(row["seats"]), row["idx"], row["seed"], json.dumps(row["payoffs"])) == (
            seats,
            idx,
            seed,
            payoffs,
        )
    assert sorted(m["idx"] for m in after.values() if m["match_id"] not in before) == [3] * 12
    assert arena.run_tournament(config, db=str(legacy), backend="inprocess").played == 0


def _legacy_id(env_text, seats, index):
    """A match id as arena 0.1.0 computed it: from the env's text as written."""
    payload = json.dumps(["match", "legacy", env_text, seats, index], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def test_a_version_0_env_written_another_way_gets_the_ids_of_its_canonical_text(legacy, tmp_path):
    written = "rps-v0( rounds = 3 )"  # as arena 0.1.0 kept an env string it was given
    with sqlite3.connect(legacy) as conn:
        ids = {r[0] for r in conn.execute("SELECT match_id FROM matches")}
        rows = conn.execute("SELECT match_id, seats, idx FROM matches WHERE env = 'rps-v0(rounds=3)'").fetchall()
        for old, seats, idx in rows:
            conn.execute(
                "UPDATE matches SET match_id = ?, env = ? WHERE match_id = ?",
                (_legacy_id(written, json.loads(seats), idx), written, old),
            )
        (config,) = conn.execute("SELECT config FROM tournaments").fetchone()
        config = json.loads(config)
        config["envs"][1] = written
        conn.execute("UPDATE tournaments SET config = ?", (json.dumps(config),))
    with ResultsStore(legacy, readonly=True) as store:  # read as it is: one env, named by its canonical text
        assert {m.env.text for m in store.records("legacy")} == {"kuhn_poker-v0", "rps-v0(rounds=3)"}
    with ResultsStore(legacy) as store:
        assert store.recorded_ids("legacy") == ids  # the canonical text's ids, as the schedule gives them
    path = tmp_path / "legacy.toml"
    path.write_text(LEGACY.format(games=3))
    assert arena.run_tournament(path, db=str(legacy), backend="inprocess").played == 0


def test_a_version_0_table_with_integer_keys_is_read_with_string_keys(legacy):
    with sqlite3.connect(legacy) as conn:
        conn.execute("UPDATE agents SET spec = 'mix(probs={0: 0.5, 1: 0.5})' WHERE name = ?", (MIX,))
    expected = AgentSpec("mix", None, {"probs": {"0": 0.5, "1": 0.5}})
    with ResultsStore(legacy, readonly=True) as store:
        assert store.agent_records("legacy")[2].spec == expected
    with ResultsStore(legacy) as store:
        assert store.conn.execute("SELECT spec FROM agents WHERE name = ?", (MIX,)).fetchone()[0] == expected.json
