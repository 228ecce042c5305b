"""k-means, clustering metrics and the spectral pipeline: coursework_lib against scikit-learn /
SciPy.

* KMeans: both start from one identical initialisation (our k-means++ initial centres passed as
  `init=array`, `n_init=1`) and use the same stopping rule, so they run the same Lloyd iterations;
  scikit-learn with `algorithm="lloyd"`. Cases: the coursework's 5000 x 784 MNIST training images
  with k = 10, and the 800 x 95 gene-expression data with k = 4.
* calinski_harabasz_score and homogeneity_score against sklearn.metrics on the same inputs.
* The spectral pipeline on the 95-gene co-expression graph (|r| > 0.75): graph, components from the
  zero eigenvalues (checked equal to scipy.sparse.csgraph.connected_components), and
  SpectralClustering with k = #components, against
  sklearn.cluster.SpectralClustering(affinity="precomputed") for reference.

Times are the best of R runs, ours and the reference interleaved so that a change in the machine's
load hits both.
Run on a quiet machine: `python benchmarks/bench_cluster.py` (writes
benchmarks/results/cluster.json).
"""

import warnings

import numpy as np
import sklearn.cluster
import sklearn.metrics
from scipy.sparse import csgraph
from threadpoolctl import threadpool_limits

from coursework_lib.cluster import KMeans, kmeans_plusplus
from coursework_lib.data import load_gene_expression, load_mnist
from coursework_lib.graph import SpectralClustering, connected_components, correlation_graph
from coursework_lib.metrics import calinski_harabasz_score, homogeneity_score

# isort: split
from _common import best_times, machine, print_table, write_results  # benchmarks/_common.py

REPEATS = 7
COLUMNS = ["case", "ours (ms)", "reference (ms)", "ours / reference", "agreement"]


def row(case, t_ours, t_ref, agreement):
    return [
        case,
        round(1e3 * t_ours, 2),
        round(1e3 * t_ref, 2),
        round(t_ours / t_ref, 3),
        agreement,
    ]


def kmeans_case(name, X, k, threads=None):
    init = kmeans_plusplus(X, k, random_state=0)[0]
    with threadpool_limits(limits=threads):
        t_ours, t_ref, (ours, ref) = best_times(
            lambda: KMeans(k, init=init, n_init=1).fit(X),
            lambda: sklearn.cluster.KMeans(k, init=init, n_init=1, algorithm="lloyd").fit(X),
            REPEATS,
        )
    same = bool(np.array_equal(ours.labels_, ref.labels_))
    rel = abs(ours.inertia_ - ref.inertia_) / ref.inertia_
    assert same and rel <= 1e-10 and ours.n_iter_ == ref.n_iter_, (
        same,
        rel,
        ours.n_iter_,
        ref.n_iter_,
    )
    threads = "default threads" if threads is None else "1 thread (BLAS and OpenMP)"
    return row(
        f"KMeans {name}, k={k}, one identical init ({ours.n_iter_} Lloyd iterations), {threads}",
        t_ours,
        t_ref,
        f"labels identical, inertia rel. diff {rel:.1e}",
    )


def metric_case(name, ours, reference, repeats=REPEATS):
    t_ours, t_ref, (a, b) = best_times(ours, reference, repeats)
    rel = abs(a - b) / abs(b)
    assert rel <= 1e-12, rel
    return row(name, t_ours, t_ref, f"rel. diff {rel:.1e}")


def spectral_case(genes):
    def ours():
        A = correlation_graph(genes)
        n_components, labels = connected_components(A)
        return (
            A,
            n_components,
            labels,
            SpectralClustering(n_components, random_state=0).fit(A).labels_,
        )

    def reference():
        A = np.abs(np.corrcoef(genes, rowvar=False))
        A = np.where(A > 0.75, A, 0.0)
        np.fill_diagonal(A, 0.0)
        n_components, labels = csgraph.connected_components(A, directed=False)
        with warnings.catch_warnings():
            # "Graph is not fully connected": it has 18 components by construction, which is the
            # point here.
            warnings.simplefilter("ignore", UserWarning)
            sc = sklearn.cluster.SpectralClustering(
                n_components, affinity="precomputed", random_state=0
            ).fit(A)
        return n_components, labels, sc.labels_

    t_ours, t_ref, (got, ref) = best_times(ours, reference, REPEATS)
    _, n_ours, comp_ours, sc_ours = got
    n_ref, comp_ref, sc_ref = ref
    assert n_ours == n_ref and np.array_equal(comp_ours, comp_ref)
    ari = sklearn.metrics.adjusted_rand_score(comp_ref, sc_ours)
    ari_ref = sklearn.metrics.adjusted_rand_score(comp_ref, sc_ref)
    return row(
        "spectral pipeline, 95-gene graph: graph + components + SpectralClustering(k=#components)",
        t_ours,
        t_ref,
        f"{n_ours} components = SciPy's (labels identical); ARI vs components: ours {ari:.3f}, "
        f"scikit-learn {ari_ref:.3f}",
    )


def main():
    info = machine()
    mnist = load_mnist("train")
    X_mnist, digits = mnist
    gene_data = load_gene_expression()
    genes, tumour = gene_data
    X_genes = genes.to_numpy()
    gene_labels = KMeans(4, n_init=10, random_state=0).fit(X_genes).labels_
    mnist_labels = KMeans(10, random_state=0).fit(X_mnist).labels_
    rows = [
        kmeans_case("MNIST 5000 x 784", X_mnist, 10),
        kmeans_case("MNIST 5000 x 784", X_mnist, 10, threads=1),
        kmeans_case("genes 800 x 95", X_genes, 4),
        metric_case(
            "calinski_harabasz_score, MNIST 5000 x 784, digit labels",
            lambda: calinski_harabasz_score(X_mnist, digits),
            lambda: sklearn.metrics.calinski_harabasz_score(X_mnist, digits),
        ),
        metric_case(
            "calinski_harabasz_score, genes 800 x 95, k-means labels (k=4)",
            lambda: calinski_harabasz_score(X_genes, gene_labels),
            lambda: sklearn.metrics.calinski_harabasz_score(X_genes, gene_labels),
            repeats=50,
        ),
        metric_case(
            "homogeneity_score, tumour types vs k-means labels (n=800)",
            lambda: homogeneity_score(tumour, gene_labels),
            lambda: sklearn.metrics.homogeneity_score(tumour, gene_labels),
            repeats=50,
        ),
        metric_case(
            "homogeneity_score, digits vs k-means labels (n=5000)",
            lambda: homogeneity_score(digits, mnist_labels),
            lambda: sklearn.metrics.homogeneity_score(digits, mnist_labels),
            repeats=50,
        ),
        spectral_case(X_genes),
    ]
    print_table(COLUMNS, rows)
    result = {
        "title": (
            "k-means, clustering metrics and spectral clustering: coursework_lib vs scikit-learn / "
            "SciPy"
        ),
        "columns": COLUMNS,
        "rows": rows,
        "notes": [
            "KMeans: both fits start from the same k-means++ initial centres (init=array, "
            "n_init=1); scikit-learn uses algorithm='lloyd'. The script asserts identical labels, "
            "the same iteration count and inertia within 1e-10 relative before it reports a time.",
            "Metrics: the script asserts agreement to 1e-12 relative. Reference = sklearn.metrics.",
            "Spectral pipeline: ours = correlation_graph + connected_components (zero eigenvalues "
            "of the normalised Laplacian) + SpectralClustering (NJW, k-means with n_init=10); "
            "reference = NumPy thresholding + scipy.sparse.csgraph.connected_components + "
            "sklearn.cluster.SpectralClustering(affinity='precomputed', n_init=10). ARI 1 means "
            "the clusters are exactly the connected components.",
            f"Times are the best of {REPEATS} (metrics on the small data: 50) runs, ours and the "
            "reference interleaved; ours / reference below 1 means ours is faster. 'default "
            "threads': OpenBLAS's threads for ours, OpenMP threads (BLAS limited to one) for "
            "scikit-learn's k-means; '1 thread' limits every thread pool to one with "
            "threadpoolctl, a per-core comparison that a busy machine distorts least. The metrics "
            "are single-threaded in both libraries (ours limits BLAS to one thread for its small "
            "per-block products).",
            f"Data: {mnist.source}; {gene_data.source}.",
        ],
        "machine": info,
    }
    write_results("cluster", result)


if __name__ == "__main__":
    main()
