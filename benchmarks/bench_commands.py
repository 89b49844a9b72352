"""Seconds per `arena` command against the interpreter's own start and a bare pyspiel match: the fixed cost a user
pays before any game is played (wall, and CPU of the command's process and of the children it waits for, which
leaves out the forkserver's processes).

Each command runs as a fresh process, in turns with its peers (interleaved), `--repeats` times; the table shows
medians. The bytecode is compiled first, as an installed package has it. The tournament rows play two Kuhn matches
into a fresh database, in-process and with local workers (the default), with the exploitability analysis and
without it; the last row plays two matches of a particle world (torch) with local workers.

    python benchmarks/bench_commands.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import arena

TOURNAMENT = ["tournament", "--env", "kuhn_poker-v0", "--agents", "random", "fixed", "--games", "1", "--db"]
# a particle world: torch, which only the check and the workers import (through the forkserver), never the coordinator
PARTICLES = ["tournament", "--env", "spread-v0", "--agents", "random", "heuristic", "--self-play", "--games", "1"]
# the same tournament without the exploitability analysis (a config key, not an option), written to off.toml
OFF_CONFIG = 'name = "off"\nenvs = ["kuhn_poker-v0"]\nagents = ["random", "fixed"]\ngames = 1\nexploitability = "off"\n'


def commands(folder: str) -> dict[str, list[str]]:
    """What is timed: a label and its argv (the `arena` entry point installed beside this interpreter)."""
    arena_cmd = [str(Path(sys.executable).with_name("arena"))]
    off = [*arena_cmd, "tournament", f"{folder}/off.toml", "--db"]
    return {
        "bare interpreter (peer)": [sys.executable, "-c", "pass"],
        "bare pyspiel match (peer)": [
            sys.executable,
            "-c",
            "import pyspiel, random\ns = pyspiel.load_game('matrix_rps').new_initial_state()\n"
            "s.apply_actions([random.randrange(3), random.randrange(3)])\nprint(s.returns())",
        ],
        "arena --help": [*arena_cmd, "--help"],
        "arena list envs": [*arena_cmd, "list", "envs"],
        "arena list agents": [*arena_cmd, "list", "agents"],
        "arena play rps-v0 --agents random random": [*arena_cmd, "play", "rps-v0", "--agents", "random", "random"],
        "arena tournament, two Kuhn matches, in-process": [
            *arena_cmd,
            *TOURNAMENT,
            f"{folder}/inprocess.db",
            "--backend",
            "inprocess",
        ],
        "arena tournament, two Kuhn matches, local workers": [*arena_cmd, *TOURNAMENT, f"{folder}/local.db"],
        "the same, in-process, exploitability off": [*off, f"{folder}/off-inprocess.db", "--backend", "inprocess"],
        "the same, local workers, exploitability off": [*off, f"{folder}/off-local.db"],
        "arena tournament, two particle-world matches (spread-v0, torch), local workers": [
            *arena_cmd,
            *PARTICLES,
            "--db",
            f"{folder}/particles.db",
        ],
    }


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (the process and its children) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile("w+") as errors:  # files, not pipes: the command ends when its process does, as in
        start = time.perf_counter()  # a terminal (a pipe would also wait for the forkserver, which shares it)
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=errors)
        wall = time.perf_counter() - start
        errors.seek(0)
        failure = errors.read().strip()[-400:]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{argv} failed with status {done.returncode}: {failure}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    compileall.compile_dir(str(Path(arena.__file__).parent), quiet=1)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # read the compiled bytecode, as an installed package does
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "off.toml").write_text(OFF_CONFIG)
        table = commands(folder)
        walls: dict[str, list[float]] = {label: [] for label in table}
        cpus: dict[str, list[float]] = {label: [] for label in table}
        for _ in range(args.repeats):
            for label, argv in table.items():
                for db in Path(folder).glob("*.db*"):
                    db.unlink()  # every tournament starts from an empty database
                wall, cpu = timed(argv)
                walls[label].append(wall)
                cpus[label].append(cpu)
    load = os.getloadavg()[0]
    print(f"| command (median of {args.repeats}, load average {load:.1f}) | wall s | CPU s |")
    print("|---|---|---|")
    for label in table:
        print(f"| {label} | {statistics.median(walls[label]):.2f} | {statistics.median(cpus[label]):.2f} |")


if __name__ == "__main__":
    main()
