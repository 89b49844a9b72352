"""Fixed costs: what `import arena` and the `arena` command's light verbs import (`python -X importtime`), and the
agent registry's staged loading that keeps playing `random` free of the solvers."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from arena.registry import Entry, Registry

HEAVY = ("torch", "scipy", "matplotlib", "pygame", "ray")


def imported(*args: str) -> set[str]:
    """Top-level packages a fresh interpreter imports to run `python -X importtime ARGS`."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, timeout=120, check=True
    )
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.add(name.split(".")[0])
    return names


def test_import_arena_alone_imports_no_heavy_package() -> None:
    found = imported("-c", "import arena")
    assert "arena" in found
    assert not found & {*HEAVY, "numpy", "pyspiel", "rich", "gymnasium", "pettingzoo"}


@pytest.mark.parametrize("argv", [["--help"], ["list", "envs"], ["list", "agents"]])
def test_help_and_list_import_none_of_the_heavy_packages(argv: list[str]) -> None:
    """Every verb's parser is built for any command: no verb module may import numpy, rich or httpx to build it."""
    found = imported("-m", "arena.cli", *argv)
    assert "arena" in found
    assert not found & {*HEAVY, "numpy", "pyspiel", "gymnasium", "pettingzoo", "httpx"}
    if argv == ["--help"]:
        assert "rich" not in found


def imported_modules(*argv: str) -> set[str]:
    """Every module `arena ARGV` imports, dotted names included."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "arena.cli", *argv], capture_output=True, text=True, timeout=120
    )
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_only_the_chosen_verb_builds_its_options() -> None:
    """The tournament's options come from the config schema and training's from the learners: `arena --help` and
    the other verbs name those verbs without loading either."""
    for argv in (["--help"], ["list", "envs"]):
        found = imported_modules(*argv)
        assert "arena.tournaments.config" not in found and "arena.agents.marl.algorithms" not in found
    assert "arena.tournaments.config" in imported_modules("tournament", "--help")


def test_importing_the_tournament_engine_costs_no_scipy_and_no_openspiel() -> None:
    found = imported("-c", "import arena.tournaments.run, arena.tournaments.cli")
    assert not found & {*HEAVY, "pyspiel"}


def test_playing_a_matrix_game_imports_no_solver_and_no_drawing() -> None:
    found = imported("-m", "arena.cli", "play", "rps-v0", "--agents", "random", "random", "--seed", "0")
    assert not found & {*HEAVY, "pyspiel"}
    modules = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, arena; arena.make_agent('random');"
            "print(' '.join(m for m in sys.modules if m.startswith(('arena.games', 'arena.agents.'))))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert "arena.agents.random" in modules and "arena.agents.cfr" not in modules
    assert not [m for m in modules if m.startswith("arena.games.")]


def test_later_builtins_load_only_for_names_not_found(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry[Entry] = Registry("thing", "arena.test-things", ("things_light_x1", "things_heavy_x1"))
    holder = types.ModuleType("things_holder_x1")
    holder.__dict__["registry"] = registry
    monkeypatch.setitem(sys.modules, "things_holder_x1", holder)
    for module, names in [("things_light_x1", ("light", "shared")), ("things_heavy_x1", ("heavy", "shared"))]:
        lines = [f"registry.register(Entry({n!r}, 'x:y', description={module!r}))" for n in names]
        (tmp_path / f"{module}.py").write_text(
            "from arena.registry import Entry\nfrom things_holder_x1 import registry\n" + "\n".join(lines) + "\n"
        )
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = Entry("shared", "plugin:shared", description="plugin")

    class Point:
        name, value = "shared", "plugin:shared"

        @staticmethod
        def load() -> Entry:
            return plugin

    import arena.registry

    points = {registry.group: [Point()]}
    monkeypatch.setattr(arena.registry, "plugin_entry_points", lambda group: points.get(group, []))
    assert registry.get("light").description == "things_light_x1"
    assert "things_heavy_x1" not in sys.modules
    assert registry.get("shared") is plugin  # a plugin overrides the built-in of its name
    assert "heavy" in registry and "things_heavy_x1" in sys.modules
    assert registry.get("shared") is plugin  # still, after the later built-ins registered theirs
    assert registry.names() == ["heavy", "light", "shared"]
    monkeypatch.delitem(sys.modules, "things_light_x1")
    monkeypatch.delitem(sys.modules, "things_heavy_x1")


def printed(code: str) -> list[str]:
    """The words a fresh interpreter prints running `code`."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()


def test_a_builtin_solver_loads_when_its_agent_is_made() -> None:
    """The solvers are named without importing them; making one's agent loads its module and the class."""
    code = (
        "import sys, arena\n"
        "from arena.registry import agents, solvers\n"
        "names = agents.names()\n"
        "assert 'cfr_plus' in names and 'arena.agents.cfr' not in sys.modules\n"
        "agent = arena.make_agent('cfr_plus(iterations=3)')\n"
        "from arena.agents.cfr import CFRPlusSolver\n"
        "assert solvers.get('cfr_plus').load() is CFRPlusSolver\n"
        "assert agents.get('cfr_plus').load() is CFRPlusSolver.agent_factory\n"
        "print(agent.name, 'iterations' in agents.get('cfr_plus').parameters())\n"
    )
    assert printed(code) == ["cfr_plus(iterations=3)", "True"]


def test_a_cpp_openspiel_game_loads_without_openspiels_python_games() -> None:
    """OpenSpiel's Python games (a tenth of a second to import) load only for a name its C++ games lack."""
    code = (
        "import sys, arena\n"
        "arena.make_env('kuhn_poker-v0'); arena.make_env('openspiel:leduc_poker')\n"
        "print('open_spiel.python.games' in sys.modules)\n"
        "arena.make_env('openspiel:python_kuhn_poker')\n"
        "print('open_spiel.python.games' in sys.modules)\n"
    )
    assert printed(code) == ["False", "True"]


def test_a_tournament_with_workers_imports_no_env_module_in_its_coordinator(tmp_path) -> None:
    """The check and the workers build the envs (their modules come from the forkserver): the coordinator never
    loads OpenSpiel, PettingZoo, Gymnasium, torch or the match loop."""
    config = tmp_path / "t.toml"
    config.write_text('envs = ["kuhn_poker-v0"]\nagents = ["random", "fixed"]\ngames = 1\nexploitability = "off"\n')
    code = (
        "import sys; from arena.cli import main;"
        f"main(['tournament', {str(config)!r}, '--db', {str(tmp_path / 't.db')!r}, '--json']);"
        "print(' '.join(sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    modules = set(done.stderr.split())
    assert "arena.tournaments.run" in modules and '"played": 2' in done.stdout
    assert not modules & {*HEAVY, "pyspiel", "pettingzoo", "gymnasium", "arena.match", "arena.envs.openspiel"}


def test_openspiels_version_is_read_without_importlib_metadata() -> None:
    """The compiled games' cache key and the metrics' versions take OpenSpiel's version from pyspiel where it is
    loaded: importlib.metadata costs 10-20 ms to import and 2-6 ms a lookup, in the coordinator and every probe."""
    import importlib.metadata

    from arena.games.tree import _stored_identity
    from arena.tournaments.metrics import versions

    installed = importlib.metadata.version("open_spiel")
    assert _stored_identity("kuhn_poker")["openspiel"] == installed
    assert versions()["open_spiel"] == installed
    code = (
        "import sys; from arena.games.tree import _stored_identity; from arena.tournaments.metrics import versions;"
        "_stored_identity('kuhn_poker'); versions(); print('importlib.metadata' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["False"]
