"""Run every benchmark script in turn (one at a time, so they do not compete for the two cores).

Each `bench_*.py` prints its own comparison table and writes `benchmarks/results/<topic>.json`,
which the docs' Benchmarks page shows. Run on a quiet machine:
`python benchmarks/run_all.py [name ...]`. Like the test suite, it reads the course's files from
`$COURSEWORK_DATA` (unset, the loaders fall back to their embedded defaults).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names):
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        unknown = set(names) - {s.stem.removeprefix("bench_") for s in scripts}
        if unknown:
            raise SystemExit(
                f"no benchmark named {sorted(unknown)}; have {[s.stem for s in scripts]}"
            )
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    given = "COURSEWORK_DATA" in os.environ
    print(f"course data: {'$COURSEWORK_DATA' if given else 'not set (the embedded defaults)'}")
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode:
            failed.append(script.name)
        print(f"--- {script.name}: {time.perf_counter() - start:.1f} s", flush=True)
    if failed:
        raise SystemExit(f"failed: {failed}")


if __name__ == "__main__":
    main(sys.argv[1:])
