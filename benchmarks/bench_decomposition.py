"""PCA and NMF: coursework_lib.decomposition against scikit-learn.

* PCA of the coursework's 5000 x 784 noisy MNIST training images -> 100 components: ours
  (svd_solver="auto", which takes the covariance eigenproblem for n_samples >= n_features) against
  sklearn PCA(svd_solver="full") (LAPACK SVD), the target being ours <= 0.5x; sklearn's own
  covariance_eigh solver is listed for context. Agreement: the largest relative difference of the
  explained variances, and of the components (equal signs: both use the largest-loading-positive
  convention).
* NMF k = 10 on the same images min-max scaled to [0, 1] with their own minimum and maximum: both
  start from identical W, H (init="custom") and run exactly 100 multiplicative-update iterations
  (tol=0); sklearn NMF(solver="mu", beta_loss="frobenius"); target ours <= 1.0x. Agreement: the
  relative difference of the final reconstruction error (target < 1 %) and of H.

Times are the best of R runs, ours and the reference interleaved so that a change in the machine's
load hits both; each case is run with BLAS at its default thread count and limited to one thread.
Run on a quiet machine: `python benchmarks/bench_decomposition.py` (writes
benchmarks/results/decomposition.json).
"""

import numpy as np
from sklearn.decomposition import NMF as SkNMF
from sklearn.decomposition import PCA as SkPCA
from threadpoolctl import threadpool_limits

from coursework_lib.data import load_noisy_mnist
from coursework_lib.decomposition import NMF, PCA

# isort: split
from _common import best_times, machine, write_results  # benchmarks/_common.py

REPEATS = 3
COLUMNS = [
    "case",
    "BLAS threads",
    "ours (ms)",
    "reference (ms)",
    "ours / reference",
    "target",
    "agreement",
]


def row(case, threads, t_ours, t_ref, target, agreement):
    return [
        case,
        threads,
        round(1e3 * t_ours, 1),
        round(1e3 * t_ref, 1),
        round(t_ours / t_ref, 3),
        target,
        agreement,
    ]


def pca_rows(X, threads):
    n, p = X.shape
    t_ours, t_full, (ours, full) = best_times(
        lambda: PCA(100).fit(X), lambda: SkPCA(100, svd_solver="full").fit(X), REPEATS
    )
    ev = np.abs(ours.explained_variance_ / full.explained_variance_ - 1).max()
    comp = np.abs(ours.components_ - full.components_).max()
    agreement = (
        f"explained variance max rel. diff {ev:.1e}; components max abs. diff {comp:.1e} "
        "(same signs)"
    )
    rows = [
        row(
            f"PCA {n} x {p} -> 100, ours ({ours.fit_solver_}) vs sklearn full SVD",
            threads,
            t_ours,
            t_full,
            "<= 0.5",
            agreement,
        )
    ]
    t_ours2, t_eigh, (_, eigh) = best_times(
        lambda: PCA(100).fit(X), lambda: SkPCA(100, svd_solver="covariance_eigh").fit(X), REPEATS
    )
    ev2 = np.abs(ours.explained_variance_ / eigh.explained_variance_ - 1).max()
    rows.append(
        row(
            f"PCA {n} x {p} -> 100, ours vs sklearn covariance_eigh (context)",
            threads,
            t_ours2,
            t_eigh,
            "-",
            f"explained variance max rel. diff {ev2:.1e}",
        )
    )
    return rows, ours.fit_solver_


def nmf_row(X, threads, k=10, iterations=100):
    n, p = X.shape
    rng = np.random.default_rng(0)
    avg = np.sqrt(X.mean() / k)
    W0, H0 = avg * rng.random((n, k)), avg * rng.random((k, p))
    t_ours, t_sk, (ours, sk) = best_times(
        lambda: NMF(k, init="custom", max_iter=iterations, tol=0).fit(X, W=W0, H=H0),
        lambda: SkNMF(
            k, init="custom", solver="mu", beta_loss="frobenius", max_iter=iterations, tol=0
        ).fit(X, W=W0.copy(), H=H0.copy()),
        REPEATS,
    )
    assert ours.n_iter_ == sk.n_iter_ == iterations
    loss = abs(ours.reconstruction_err_ / sk.reconstruction_err_ - 1)
    h = np.abs(ours.components_ - sk.components_).max() / np.abs(sk.components_).max()
    return row(
        f"NMF {n} x {p}, k={k}, {iterations} iterations from identical W, H vs sklearn mu",
        threads,
        t_ours,
        t_sk,
        "<= 1.0",
        f"final loss rel. diff {loss:.1e} (target < 1e-2); H max rel. diff {h:.1e}",
    )


def main():
    info = machine()
    noisy = load_noisy_mnist("train")  # the course's files through $COURSEWORK_DATA
    X = noisy[0]
    X_unit = (X - X.min()) / np.ptp(X)
    rows = []
    for threads in (None, 1):
        with threadpool_limits(limits=threads, user_api="blas"):
            label = "default" if threads is None else str(threads)
            pca, solver = pca_rows(X, label)
            rows += pca
            rows.append(nmf_row(X_unit, label))
    result = {
        "title": "PCA and NMF: coursework_lib.decomposition vs scikit-learn",
        "columns": COLUMNS,
        "rows": rows,
        "notes": [
            f"Times are the best of {REPEATS} fits, ours and the reference interleaved; a ratio "
            "below 1 means ours is faster. 'BLAS threads' 1 limits BLAS to one thread with "
            "threadpoolctl (default lets OpenBLAS choose).",
            f"PCA: ours with svd_solver='auto' took '{solver}' (X^T X with one BLAS call, then "
            "LAPACK's symmetric divide-and-conquer eigensolver), against LAPACK's SVD of the "
            "centred data in sklearn's 'full'.",
            "NMF: identical initial W, H (init='custom') and tol=0, so both run exactly 100 "
            "Lee-Seung iterations (W then H, the same arithmetic); ours records the loss every "
            "iteration at O(kp + k^2) extra cost via ||X||^2 - 2<W^T X, H> + <W^T W, H H^T>.",
            f"Data: {noisy.source}; NMF on the same images min-max scaled to [0, 1].",
        ],
        "machine": info,
    }
    widths = [max(len(str(r[i])) for r in rows + [COLUMNS]) for i in range(len(COLUMNS))]
    for r in [COLUMNS] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)))
    print()
    write_results("decomposition", result)


if __name__ == "__main__":
    main()
