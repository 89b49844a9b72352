"""A key in an agent's base_url, or in a secret-looking environment variable, appears nowhere a tournament writes:
not in the database file, the HTML, the CSV, stdout or stderr."""

import os

import pytest
from fake_openai_server import FakeChatServer

from arena.cli import main
from arena.core import Agent
from arena.specs import AgentSpec
from arena.tournaments.config import AgentEntry, public_spec, secret_values

USER_KEY = "sk-userinfo-SECRET-4242"
QUERY_KEY = "sk-query-SECRET-9191"
ENV_TOKEN = "tok-environment-SECRET-5353"


class LeakyAgent(Agent):
    """Fails with an error message that holds the value of a secret environment variable."""

    name = "leaky"

    def act(self, obs):
        raise RuntimeError(f"auth failed with token {os.environ['ARENA_LEAK_TOKEN']} (retry later)")


@pytest.mark.parametrize(
    "url, public",
    [
        (f"http://user:{USER_KEY}@host:8080/v1", "http://host:8080/v1"),
        (f"http://{USER_KEY}@host/v1", "http://host/v1"),
        (f"https://host/v1?api_key={QUERY_KEY}&x=1", "https://host/v1?x=1"),
        (f"http://user:{USER_KEY}@host/v1?api_key={QUERY_KEY}", "http://host/v1"),
        ("http://host/v1", "http://host/v1"),
    ],
)
def test_public_spec_drops_url_credentials(url, public):
    spec = AgentSpec.parse("llm").with_params(model="m", base_url=url)
    assert public_spec(spec).params["base_url"] == public
    assert USER_KEY not in AgentEntry.of(spec).name and QUERY_KEY not in AgentEntry.of(spec).name
    secrets = secret_values(spec)
    assert all(k in secrets for k in (USER_KEY, QUERY_KEY) if k in url)


def test_secret_environment_values_are_scrubbed(monkeypatch):
    monkeypatch.setenv("ARENA_LEAK_TOKEN", ENV_TOKEN)
    assert ENV_TOKEN in secret_values(AgentSpec.parse("random"))


def test_tournament_keeps_url_keys_and_secret_env_values_out_of_everything(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARENA_LEAK_TOKEN", ENV_TOKEN)
    with FakeChatServer() as server:
        host = server.url.split("://", 1)[1]
        url = f"http://user:{USER_KEY}@{host}?api_key={QUERY_KEY}"
        llm = f"llm(model=m, base_url={url!r}, timeout=0.5, retries=0, cache_dir={tmp_path / 'cache'})"
        db = tmp_path / "r.sqlite"
        argv = [
            "tournament",
            "--env",
            "rps-v0(rounds=2)",
            "--agents",
            llm,
            "test_secrets:LeakyAgent",
            "random",
            "--games",
            "1",
            "--backend",
            "inprocess",
            "--db",
            str(db),
        ]
        assert main(argv) == 0
        assert main([*argv, "--json"]) == 0
    html, csv = tmp_path / "r.html", tmp_path / "csv"
    assert main(["report", str(db), "--html", str(html), "--csv", str(csv), "--json"]) == 0
    captured = capsys.readouterr()
    written = [db.read_bytes(), html.read_bytes(), *(p.read_bytes() for p in csv.iterdir())]
    for extra in (tmp_path / "r.sqlite-wal",):
        if extra.exists():
            written.append(extra.read_bytes())
    written.append((captured.out + captured.err).encode())
    for secret in (USER_KEY, QUERY_KEY, ENV_TOKEN):
        assert not any(secret.encode() in blob for blob in written), secret
    assert b"auth failed with token ***" in db.read_bytes()  # the message is kept, the value masked
