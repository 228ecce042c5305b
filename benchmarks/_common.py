"""What the benchmark scripts share: the machine description, the results file, the interleaved
best-of-N timer and the plain table printout.

The scripts import it as `from _common import ...`: Python puts a script's own folder on `sys.path`,
both for `python benchmarks/bench_<topic>.py` and for the subprocesses that `benchmarks/run_all.py`
starts.
"""

import json
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy
import sklearn
from threadpoolctl import threadpool_info

RESULTS = Path(__file__).resolve().parent / "results"


def machine(**versions) -> dict:
    """The machine and library versions a result is measured on; `versions` adds more (e.g.
    `torch=...`).

    Call it at the start of a run: the load average it records is the one the measurements start
    from."""
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load average (1 min) at start": round(os.getloadavg()[0], 2),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        **versions,
        "BLAS": "; ".join(blas),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def write_results(topic: str, result: dict) -> Path:
    """Write `result` as `benchmarks/results/<topic>.json` and print its path.

    Atomic: the JSON goes to a temporary file in the same folder, which then replaces the results
    file, so an interrupted run leaves the previous file (or none), never half of a new one."""
    path = RESULTS / f"{topic}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not named *.json, so that nothing reading the folder's results (the Benchmarks page) picks it
    # up.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{topic}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(result, indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        # mkstemp creates it 0600; give it the mode a plain write would
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {path}")
    return path


def best_times(ours, reference, repeats):
    "Best-of-`repeats` wall times (s) of two callables run alternately, and their last results."
    times, results = ([], []), [None, None]
    for _ in range(repeats):
        for i, f in enumerate((ours, reference)):
            start = time.perf_counter()
            results[i] = f()
            times[i].append(time.perf_counter() - start)
    return min(times[0]), min(times[1]), results


def print_table(columns, rows):
    "Print the header and each row, values separated by ' | '."
    print(" | ".join(columns))
    for r in rows:
        print(" | ".join(str(v) for v in r))


def idx_dir():
    """The folder of the official MNIST IDX files: `mnist-idx` beside the course's folder in
    `$COURSEWORK_DATA` (as the shared data is laid out), or None."""
    env = os.environ.get("COURSEWORK_DATA")
    folder = Path(env).parent / "mnist-idx" if env else None
    return folder if folder is not None and folder.is_dir() else None
