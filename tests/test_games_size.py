"""Size first: a cheap estimate before compiling, a refusal within a second, and a walk that keeps to its budget."""

from __future__ import annotations

import math
import resource
import subprocess
import sys
import time

import pytest

from arena.cli import main
from arena.games import size as size_module
from arena.games import tree as tree_module
from arena.games.size import GameTooLarge, estimate_size, memory_budget

GO = "openspiel:go(board_size=9)"


@pytest.fixture(autouse=True)
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_CACHE", str(tmp_path))
    monkeypatch.delenv("ARENA_COMPILE_MEMORY", raising=False)
    tree_module.clear_compiled()
    yield
    tree_module.clear_compiled()


@pytest.mark.parametrize(
    "env, histories",
    [("openspiel:tic_tac_toe", 549_946), ("kuhn_poker-v0", 58), ("rps-v0", 13), ("liars_dice-v0", 294_883)],
)
def test_estimates_are_of_the_right_order(env, histories):
    estimate = estimate_size(env)
    assert estimate.fits
    assert abs(estimate.log10_histories - math.log10(histories)) < 0.7  # within a factor of 5
    assert estimate.seconds < 1.0


def test_go_is_refused_within_a_second_and_little_memory():
    estimate_size("kuhn_poker-v0")  # imports done
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(GameTooLarge) as refused:
        tree_module.load(GO)
    assert time.perf_counter() - start < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KB: under 50 MB
    assert refused.value.histories > 1e100 and refused.value.budget == 2 * 1024**3
    assert "\n" not in str(refused.value) and "ARENA_COMPILE_MEMORY" in str(refused.value)
    estimate = estimate_size(GO)
    assert not estimate.fits and estimate.log10_histories > 100 and estimate.bytes > estimate.budget


def test_cli_refuses_in_one_line(capsys):
    assert main(["exploitability", GO, "--agent", "random", "--method", "exact"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "too large to compile exactly" in err


def test_the_exact_method_loads_no_bound_machinery():
    """`--method exact` never imports the best-response methods (torch, for rl): a refusal stays instant."""
    code = (
        "import sys; from arena.cli import main; main(['exploitability', 'openspiel:go(board_size=9)', '--agent',"
        " 'random', '--method', 'exact']); print(sorted(m for m in ('torch', 'arena.exploit.methods') if m in"
        " sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_walk_stops_at_the_budget(monkeypatch):
    monkeypatch.setattr(tree_module, "check_game", lambda game, name: None)  # past the estimate
    monkeypatch.setenv("ARENA_COMPILE_MEMORY", "300K")
    with pytest.raises(GameTooLarge, match="more than 4,096 histories"):
        tree_module.load("leduc_poker-v0")
    monkeypatch.setenv("ARENA_COMPILE_MEMORY", "4M")
    assert tree_module.load("leduc_poker-v0").num_histories == 9457


def test_memory_budget_setting(monkeypatch):
    assert memory_budget() == 2 * 1024**3
    monkeypatch.setenv("ARENA_COMPILE_MEMORY", "4G")
    assert memory_budget() == 4 * 1024**3
    monkeypatch.setenv("ARENA_COMPILE_MEMORY", "1500000")
    assert memory_budget() == 1_500_000
    monkeypatch.setattr(size_module, "MEMORY_BUDGET", 123)
    assert memory_budget() == 123
    monkeypatch.setattr(size_module, "MEMORY_BUDGET", None)
    for bad in ("lots", "-1G", "0"):
        monkeypatch.setenv("ARENA_COMPILE_MEMORY", bad)
        with pytest.raises(size_module.ParameterError, match="ARENA_COMPILE_MEMORY"):
            memory_budget()
