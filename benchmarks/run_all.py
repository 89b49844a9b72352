"""Run every benchmarks/bench_*.py in turn, each in its own process, and stop at the first failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"=== {script.name}", flush=True)
        code = subprocess.call([sys.executable, str(script)])
        if code:
            print(f"{script.name} failed with exit status {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
