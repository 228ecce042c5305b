"""Gaussian mixture EM: coursework_lib.mixture.GaussianMixture against
sklearn.mixture.GaussianMixture.

Both estimators start from identical initial parameters (weights, means and precisions from our
k-means++ initialisation, passed as weights_init/means_init/precisions_init) and run exactly the
same number of EM iterations (tol=0). Reported: the best-of-R wall time of each fit, the ratio
ours/scikit-learn, and the relative difference of the final lower bound (mean log-likelihood per
sample) and of the whole lower-bound history. The main case is the coursework's: K = 10 on the first
5 principal components of 1,000 noisy MNIST training images.

Run on a quiet machine: `python benchmarks/bench_mixture.py` (writes
benchmarks/results/mixture.json).
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from threadpoolctl import threadpool_limits

from coursework_lib.data import load_noisy_mnist
from coursework_lib.decomposition import PCA, standardise
from coursework_lib.mixture import (
    GaussianMixture,
    gaussian_parameters,
    kmeans_plusplus_responsibilities,
)

# isort: split
from _common import machine, print_table, write_results  # benchmarks/_common.py

REPEATS = 7
MAX_ITER = 100
COLUMNS = [
    "case",
    "covariance",
    "BLAS threads",
    "EM iterations",
    "ours (ms)",
    "scikit-learn (ms)",
    "ours / scikit-learn",
    "lower bound rel. diff",
    "max rel. diff over history",
]


def coursework_data():
    """First 5 principal components of the first 1,000 noisy MNIST training images (training-set
    standardisation)."""
    noisy = load_noisy_mnist("train")
    X_noisy, _, _ = noisy
    Z = standardise(X_noisy)
    return PCA(5).fit(Z).transform(Z)[:1000], noisy.source


def synthetic(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, d))
    shapes = rng.normal(size=(k, d, d)) / np.sqrt(d) + np.eye(d)
    labels = rng.integers(0, k, size=n)
    return centres[labels] + np.einsum("nij,nj->ni", shapes[labels], rng.normal(size=(n, d)))


def initial_parameters(X, k, covariance_type):
    """weights_init / means_init / precisions_init from our k-means++ responsibilities and one
    M-step."""
    resp = kmeans_plusplus_responsibilities(X, k, random_state=0)
    nk, means, covariances = gaussian_parameters(X, resp, 1e-6, covariance_type)
    precisions = np.linalg.inv(covariances) if covariance_type == "full" else 1.0 / covariances
    return dict(weights_init=nk / nk.sum(), means_init=means, precisions_init=precisions)


def run_case(name, X, k, covariance_type, threads):
    init = initial_parameters(X, k, covariance_type)
    params = dict(covariance_type=covariance_type, max_iter=MAX_ITER, tol=0.0, **init)
    times = {GaussianMixture: [], SkGaussianMixture: []}
    fitted = {}
    with warnings.catch_warnings(), threadpool_limits(limits=threads, user_api="blas"):
        # tol=0 runs all MAX_ITER iterations by design
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Interleaved, so that a change in the machine's load affects both estimators alike.
        for _ in range(REPEATS):
            for cls in times:
                est = cls(k, **params)
                start = time.perf_counter()
                fitted[cls] = est.fit(X)
                times[cls].append(time.perf_counter() - start)
    ours, ref = fitted[GaussianMixture], fitted[SkGaussianMixture]
    assert ours.n_iter_ == ref.n_iter_ == MAX_ITER
    t_ours, t_ref = min(times[GaussianMixture]), min(times[SkGaussianMixture])
    rel = abs(ours.lower_bound_ - ref.lower_bound_) / abs(ref.lower_bound_)
    rel_hist = np.max(
        np.abs(ours.lower_bounds_ - np.asarray(ref.lower_bounds_)) / np.abs(ref.lower_bounds_)
    )
    return [
        name,
        covariance_type,
        "default" if threads is None else threads,
        MAX_ITER,
        round(1e3 * t_ours, 2),
        round(1e3 * t_ref, 2),
        round(t_ours / t_ref, 3),
        float(f"{rel:.2e}"),
        float(f"{rel_hist:.2e}"),
    ]


def main():
    info = machine()
    X_mnist, source = coursework_data()
    X_wide = synthetic(1000, 20, 10)
    cases = [
        ("noisy MNIST, 5 PCs, 1000 images, K=10", X_mnist, 10, cov, threads)
        for threads in (None, 1)
        for cov in ("full", "diag", "spherical")
    ]
    cases.append(("synthetic 1000 x 20, K=10", X_wide, 10, "full", 1))
    rows = [run_case(*case) for case in cases]
    print_table(COLUMNS, rows)
    result = {
        "title": "Gaussian mixture EM: coursework_lib vs scikit-learn GaussianMixture",
        "columns": COLUMNS,
        "rows": rows,
        "notes": [
            "Identical initial parameters for both (our k-means++ initialisation and one M-step, "
            "passed as weights_init, means_init, precisions_init) and tol=0, so both run exactly "
            f"{MAX_ITER} EM iterations.",
            f"Times are the best of {REPEATS} fits, the two estimators interleaved; the ratio "
            "below 1 means ours is faster. 'BLAS threads' 1 limits BLAS to one thread with "
            "threadpoolctl (default lets OpenBLAS choose).",
            "The relative differences compare the final lower bound (mean log-likelihood per "
            "sample) and every entry of the lower-bound history; the target is 1e-8.",
            f"Data: {source}; the 5 principal components come from "
            "coursework_lib.decomposition.PCA fitted on all 5,000 standardised training images.",
        ],
        "machine": info,
    }
    write_results("mixture", result)


if __name__ == "__main__":
    main()
