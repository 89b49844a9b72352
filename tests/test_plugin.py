"""Entry-point plugins: the example package installs and is found; a broken plugin never breaks the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plugin"


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> str:
    """The example package installed into a temporary directory (the test environment itself is left as it was);
    subprocesses find it on PYTHONPATH."""
    target = tmp_path_factory.mktemp("plugin")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return str(target)


def test_example_plugin_is_discovered(plugin_path) -> None:
    env = {**os.environ, "PYTHONPATH": plugin_path}
    listing = subprocess.run(
        [sys.executable, "-m", "arena.cli", "list", "envs", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "coin_match-v0" in {e["id"] for e in json.loads(listing.stdout)}
    agents = subprocess.run(
        [sys.executable, "-m", "arena.cli", "list", "agents", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "always_heads" in {a["name"] for a in json.loads(agents.stdout)}
    played = run(
        "import arena; r = arena.play('coin_match-v0', ['always_heads', 'fixed(action=tails)'], seed=0);"
        "print(r.payoffs, arena.make_env('coin_match-v0', stake=2.0).payoffs.max())",
        PYTHONPATH=plugin_path,
    )
    assert played.stdout.split() == ["[-3.0,", "3.0]", "2.0"]


def test_broken_plugin_warns_and_the_rest_works(tmp_path) -> None:
    dist = tmp_path / "broken_arena_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-arena-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[arena.agents]\nbroken = no_such_module_abc:Agent\n[arena.envs]\nbroken-v0 = no_such_module_abc:make\n"
    )
    done = run(
        "import arena; print(len(arena.list_agents()) > 3, arena.make_env('rps-v0').num_players)",
        PYTHONPATH=str(tmp_path),
    )
    assert done.returncode == 0 and done.stdout.split() == ["True", "2"]
    assert "skipping agent plugin 'broken'" in done.stderr and "skipping env plugin 'broken-v0'" in done.stderr
    cli = subprocess.run(
        [sys.executable, "-m", "arena.cli", "list", "agents"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert cli.returncode == 0 and "random" in cli.stdout


def _dist(folder: Path, name: str, points: str) -> Path:
    dist = folder / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(points)
    return dist


FOUND = (
    "import sys; from arena.registry import plugin_entry_points as p;"
    "print([(e.name, e.value) for e in p('arena.agents')], 'importlib.metadata' in sys.modules)"
)


def test_entry_points_are_kept_on_disk_and_read_again_when_packages_change(tmp_path) -> None:
    """The scan is kept between processes (no importlib.metadata at all the second time) and never goes stale: a
    package added, its entry_points.txt edited, the package removed, another folder on the path, a broken file."""
    site, env = tmp_path / "site", {"ARENA_CACHE": str(tmp_path / "cache")}
    site.mkdir()
    env["PYTHONPATH"] = str(site)
    assert run(FOUND, **env).stdout.split() == ["[]", "True"]
    assert run(FOUND, **env).stdout.split() == ["[]", "False"]  # read from the disk
    dist = _dist(site, "one_plugin", "[arena.agents]\none = one_mod:Agent\n")
    assert run(FOUND, **env).stdout.split() == ["[('one',", "'one_mod:Agent')]", "True"]
    assert run(FOUND, **env).stdout.split() == ["[('one',", "'one_mod:Agent')]", "False"]
    (dist / "entry_points.txt").write_text("[arena.agents]\none = one_mod:Other\n")
    assert run(FOUND, **env).stdout.split()[1] == "'one_mod:Other')]"
    for kept in (tmp_path / "cache" / "plugins").glob("*.json"):
        kept.write_text('{"fingerprint": 3, "points": [[1]]}')
    assert run(FOUND, **env).stdout.split() == ["[('one',", "'one_mod:Other')]", "True"]
    other = tmp_path / "other"
    other.mkdir()
    _dist(other, "two_plugin", "[arena.agents]\ntwo = two_mod:Agent\n")
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(other)])
    assert "'two_mod:Agent')]" in run(FOUND, **env).stdout
    for path in dist.iterdir():
        path.unlink()
    dist.rmdir()
    assert run(FOUND, **env).stdout.split() == ["[('two',", "'two_mod:Agent')]", "True"]


@pytest.mark.parametrize(
    "value", ["json:dumps", "json", "os.path:join", "json:JSONDecoder.decode [extra]", "no_such_x1"]
)
def test_a_kept_entry_point_loads_as_importlib_metadata_loads_it(value) -> None:
    from importlib.metadata import EntryPoint

    from arena.registry import PluginPoint

    ours, theirs = PluginPoint("x", value, "arena.agents"), EntryPoint("x", value, "arena.agents")
    if value == "no_such_x1":
        with pytest.raises(ModuleNotFoundError, match="no_such_x1"):
            ours.load()
        with pytest.raises(ModuleNotFoundError, match="no_such_x1"):
            theirs.load()
    else:
        assert ours.load() is theirs.load()
