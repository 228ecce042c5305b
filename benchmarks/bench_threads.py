"""The thread policy: every estimator with the library's default threading against one BLAS thread,
quiet and busy.

The library runs each estimator's numeric work inside `coursework_lib.core.limit_blas_threads()`,
which holds BLAS at one thread for the duration of the call. This script checks the promise that
follows from it: the default is never slower than one thread, on a quiet machine and with the other
core busy. Three ways of running each operation are timed side by side, interleaved, on the course's
data:

- **default**: what a user gets (`COURSEWORK_BLAS_THREADS` unset, so the library's one-thread
  policy);
- **1 thread**: the whole process held at one BLAS thread around the call
  (`threadpoolctl.threadpool_limits(1)`);
- **no limit**: the policy switched off (`COURSEWORK_BLAS_THREADS=none`), so OpenBLAS uses one
  thread per core: what the library did before the policy, and what the policy saves.

Each is measured twice: quiet, and with the other core busy, by a spinning process that this script
starts and stops itself (a JupyterHub serving a class, a browser with a video). The ratios are
default / 1 thread (the promise: at most 1 up to noise) and no limit / default (what the limit
buys). PyTorch's epoch of the same MLP, with its default threads and with one, is a reference row
when PyTorch is installed (`pip install torch==2.13.0`).

Run on an otherwise quiet machine: `python benchmarks/bench_threads.py` (writes
benchmarks/results/threads.json).
"""

import os
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager, nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

from coursework_lib.cluster import KMeans
from coursework_lib.data import load_gene_expression, load_mnist
from coursework_lib.decomposition import NMF, PCA
from coursework_lib.graph import SpectralClustering, correlation_graph
from coursework_lib.logistic import LogisticRegression
from coursework_lib.metrics import calinski_harabasz_score
from coursework_lib.mixture import GaussianMixture
from coursework_lib.mlp import MLPClassifier

# isort: split
from _common import machine, print_table, write_results  # benchmarks/_common.py
from bench_mlp import pytorch, torch  # the PyTorch epoch the MLP benchmark already times

REPEATS = 6
SETTLE = 0.2  # seconds between runs: OpenBLAS's idle workers spin a while after a multi-thread call
MODES = ("default", "1 thread", "no limit")
COLUMNS = [
    "operation",
    "load",
    "default (s)",
    "1 thread (s)",
    "no limit (s)",
    "default / 1 thread",
    "no limit / default",
]


@contextmanager
def mode(name):
    "Run the block the way `name` says (see the module docstring)."
    saved = os.environ.pop("COURSEWORK_BLAS_THREADS", None)
    try:
        if name == "no limit":
            os.environ["COURSEWORK_BLAS_THREADS"] = "none"
        with threadpool_limits(limits=1, user_api="blas") if name == "1 thread" else nullcontext():
            yield
    finally:
        os.environ.pop("COURSEWORK_BLAS_THREADS", None)
        if saved is not None:
            os.environ["COURSEWORK_BLAS_THREADS"] = saved


@contextmanager
def busy_core():
    "A process spinning on one core for the duration of the block."
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let the scheduler see it before the first measurement
        yield
    finally:
        spinner.kill()
        spinner.wait()


def operations():
    "The timed calls: each estimator's fit and its predict/transform/score, on the course's data."
    X, y = load_mnist("train")
    X = (X / 255.0).astype(np.float64)
    X50 = PCA(n_components=50).fit_transform(X)
    genes = load_gene_expression()
    G = np.asarray(genes.X, dtype=np.float64)
    A = correlation_graph(G)
    fitted = {
        "pca": PCA(n_components=100).fit(X),
        "kmeans": KMeans(n_clusters=10, n_init=1, random_state=0).fit(X),
        "gmm": GaussianMixture(
            n_components=10, covariance_type="full", max_iter=20, random_state=0
        ).fit(X50),
        "logistic": LogisticRegression(
            learning_rate=0.1, batch_size=32, max_epochs=2, tol=None, random_state=0
        ).fit(X, y),
    }
    mlp = MLPClassifier(
        hidden_layer_sizes=(200, 200, 200),
        activation="softplus",
        learning_rate=0.1,
        batch_size=125,
        alpha=0.0,
        max_epochs=1,
        tol=None,
        random_state=0,
    )
    return {
        "LogisticRegression.fit, 2 epochs, 5000 x 784": lambda: LogisticRegression(
            learning_rate=0.1, batch_size=32, max_epochs=2, tol=None, random_state=0
        ).fit(X, y),
        "LogisticRegression.predict_proba, 5000 x 784": lambda: fitted["logistic"].predict_proba(X),
        "MLPClassifier.fit, 784-200-200-200-10, 1 epoch": lambda: mlp.fit(X, y),
        "MLPClassifier.predict_proba, 5000 images": lambda: mlp.predict_proba(X),
        "PCA.fit, 5000 x 784 -> 100": lambda: PCA(n_components=100).fit(X),
        "PCA.transform, 5000 x 784 -> 100": lambda: fitted["pca"].transform(X),
        "NMF.fit, k=10, 50 iterations": lambda: NMF(
            n_components=10, max_iter=50, tol=0, random_state=0
        ).fit(X),
        "GaussianMixture.fit, K=10 full, 20 EM steps, 5000 x 50": lambda: GaussianMixture(
            n_components=10, covariance_type="full", max_iter=20, tol=0, random_state=0
        ).fit(X50),
        "GaussianMixture.score, 5000 x 50": lambda: fitted["gmm"].score(X50),
        "KMeans.fit, k=10, 5000 x 784": lambda: KMeans(n_clusters=10, n_init=1, random_state=0).fit(
            X
        ),
        "KMeans.predict, 5000 x 784": lambda: fitted["kmeans"].predict(X),
        "calinski_harabasz_score, 5000 x 784": lambda: calinski_harabasz_score(X, y),
        "SpectralClustering.fit, gene graph": lambda: SpectralClustering(
            n_clusters=4, random_state=0
        ).fit(A),
    }


def time_all(ops, load):
    """Median-of-REPEATS time of every operation in every mode, the modes interleaved within each
    repetition."""
    rows = []
    for name, op in ops.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # short schedules warn that they stopped at their cap
            op()  # warm-up: first-call allocations and imports
            times = {m: [] for m in MODES}
            for r in range(REPEATS):
                # The order of the modes rotates, so that none always follows the multi-thread one.
                for m in MODES[r % len(MODES) :] + MODES[: r % len(MODES)]:
                    time.sleep(SETTLE)
                    with mode(m):
                        start = time.perf_counter()
                        op()
                        times[m].append(time.perf_counter() - start)
        med = {m: float(np.median(t)) for m, t in times.items()}
        rows.append(
            [
                name,
                load,
                round(med["default"], 4),
                round(med["1 thread"], 4),
                round(med["no limit"], 4),
                round(med["default"] / med["1 thread"], 3),
                round(med["no limit"] / med["default"], 3),
            ]
        )
        print(" | ".join(map(str, rows[-1])), flush=True)
    return rows


def torch_rows(load):
    "PyTorch's epoch of the same MLP, its default threads against one thread."
    if torch is None:
        return []
    X, y = load_mnist("train")
    epoch = pytorch((X / 255.0).astype(np.float32), y)
    default_threads = torch.get_num_threads()
    epoch()
    times = {"default": [], "1 thread": []}
    for _ in range(REPEATS):
        for m, n in (("default", default_threads), ("1 thread", 1)):
            torch.set_num_threads(n)
            start = time.perf_counter()
            epoch()
            times[m].append(time.perf_counter() - start)
    torch.set_num_threads(default_threads)
    d, one = (float(np.median(times[m])) for m in ("default", "1 thread"))
    return [
        [
            f"reference: PyTorch epoch, same MLP, {default_threads} threads by default",
            load,
            round(d, 4),
            round(one, 4),
            None,
            round(d / one, 3),
            None,
        ]
    ]


def main():
    info = machine(torch=torch.__version__ if torch is not None else "not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fitted models' short schedules stop at their caps
        ops = operations()
    print_table(COLUMNS, [])
    rows = time_all(ops, "quiet") + torch_rows("quiet")
    with busy_core():
        rows += time_all(ops, "other core busy") + torch_rows("other core busy")
    worst = max(r[5] for r in rows if not r[0].startswith("reference"))
    notes = [
        f"Median of {REPEATS} runs per cell, the three modes interleaved in a rotating order with "
        f"{SETTLE} s between runs; 'other core busy' is a spinning process the benchmark starts.",
        "'default' and '1 thread' run the same one-thread code: their ratio shows the noise of the "
        "measurement; 'no limit' shows what the limit costs on a quiet machine and saves on "
        "a busy one.",
        f"Worst default / 1 thread ratio over all operations and loads: {worst:.2f}.",
    ]
    write_results(
        "threads",
        {
            "title": "Thread policy: the default against one BLAS thread, quiet and busy",
            "columns": COLUMNS,
            "rows": rows,
            "notes": notes,
            "machine": info,
        },
    )


if __name__ == "__main__":
    main()
