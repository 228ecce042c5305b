"""Calinski–Harabasz and homogeneity: parity with scikit-learn, invariances, identities, errors."""

import tracemalloc

import numpy as np
import pytest
import sklearn.metrics
from hypothesis import example, given, settings
from hypothesis import strategies as st

from coursework_lib.metrics import (
    between_cluster_dispersion,
    calinski_harabasz_score,
    contingency_table,
    homogeneity_score,
    within_cluster_dispersion,
)

seeds = st.integers(0, 2**32 - 1)


def _data(seed, n, d):
    "Gaussian data, random offset and scale (moderate: B's m_j - x̄ loses digits with big offsets)."
    rng = np.random.default_rng(seed)
    return rng.normal(
        loc=rng.uniform(-10, 10, size=d), scale=rng.uniform(0.1, 10), size=(n, d)
    ), rng


def _labels_with_k(rng, n, k, names):
    "A random labelling of n samples with exactly k distinct labels, drawn from `names`."
    codes = rng.permutation(np.arange(n) % k)
    return np.asarray(names)[rng.choice(len(names), size=k, replace=False)][codes]


NAMES = {"ints": np.arange(-50, 50), "strings": np.array([f"c{i}" for i in range(100)])}
name_kinds = st.sampled_from(list(NAMES))  # which NAMES a labelling draws from


@settings(max_examples=150, deadline=None)
@given(
    seed=seeds,
    n=st.integers(3, 120),
    d=st.integers(1, 6),
    k_frac=st.floats(0, 1),
    names=name_kinds,
)
@example(seed=111, n=62, d=1, k_frac=0.0, names="ints")  # B is a 1e-6 part of T here
def test_calinski_harabasz_matches_sklearn(seed, n, d, k_frac, names):
    X, rng = _data(seed, n, d)
    k = 2 + int(k_frac * (min(n - 1, 100) - 2))
    labels = _labels_with_k(rng, n, k, NAMES[names])
    # Both compute B from cluster-mean offsets, whose rounding error is a few eps times the total
    # dispersion T: when B is a tiny part of T (a 1e-6 part happens here), the index's relative
    # error grows by T / B, so the absolute tolerance is eps-sized on the scale T / W of B / W.
    T = np.sum((X - X.mean(axis=0)) ** 2)
    W = within_cluster_dispersion(X, labels)
    scale = (n - k) / (k - 1) * T / W if W > 0 else 0.0
    np.testing.assert_allclose(
        calinski_harabasz_score(X, labels),
        sklearn.metrics.calinski_harabasz_score(X, labels),
        rtol=1e-12,
        atol=16 * np.finfo(float).eps * scale,
    )


@settings(max_examples=100, deadline=None)
@given(seed=seeds, n=st.integers(3, 80), d=st.integers(1, 5), k=st.integers(2, 6))
def test_dispersions_identities_and_invariances(seed, n, d, k):
    X, rng = _data(seed, n, d)
    k = min(k, n - 1)
    labels = _labels_with_k(rng, n, k, NAMES["ints"])
    W, B = within_cluster_dispersion(X, labels), between_cluster_dispersion(X, labels)
    np.testing.assert_allclose(W + B, np.sum((X - X.mean(axis=0)) ** 2), rtol=1e-10)
    # W as the pairwise sum: sum over clusters of (1 / 2 n_j) sum_{i,l in C_j} ||x_i - x_l||^2
    pair = sum(
        np.sum((X[labels == c][:, None] - X[labels == c][None]) ** 2) / (2 * np.sum(labels == c))
        for c in np.unique(labels)
    )
    np.testing.assert_allclose(W, pair, rtol=1e-10)
    ch = calinski_harabasz_score(X, labels)
    renamed = (labels * 7 + 3).astype(str)  # any bijection of the label names
    np.testing.assert_allclose(calinski_harabasz_score(X, renamed), ch, rtol=1e-13)
    perm = rng.permutation(n)
    np.testing.assert_allclose(calinski_harabasz_score(X[perm], labels[perm]), ch, rtol=1e-11)
    np.testing.assert_allclose(calinski_harabasz_score(2.5 * X + 4.0, labels), ch, rtol=1e-10)


@settings(max_examples=200, deadline=None)
@given(
    seed=seeds,
    n=st.integers(1, 400),
    n_classes=st.integers(1, 8),
    n_clusters=st.integers(1, 60),
    names=name_kinds,
)
def test_homogeneity_matches_sklearn(seed, n, n_classes, n_clusters, names):
    rng = np.random.default_rng(seed)
    y_true = NAMES[names][rng.integers(0, n_classes, size=n)]
    y_pred = rng.integers(-5, n_clusters, size=n)
    np.testing.assert_allclose(
        homogeneity_score(y_true, y_pred),
        sklearn.metrics.homogeneity_score(y_true, y_pred),
        rtol=1e-12,
        atol=1e-12,
    )


@settings(max_examples=100, deadline=None)
@given(
    seed=seeds, n=st.integers(2, 300), n_classes=st.integers(2, 6), n_clusters=st.integers(1, 10)
)
def test_homogeneity_properties(seed, n, n_classes, n_clusters):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, size=n)
    y_pred = rng.integers(0, n_clusters, size=n)
    h = homogeneity_score(y_true, y_pred)
    assert 0.0 <= h <= 1.0
    relabel = rng.permutation(n_clusters)
    np.testing.assert_allclose(
        homogeneity_score(y_true, relabel[y_pred]), h, rtol=1e-12, atol=1e-15
    )
    perm = rng.permutation(n)
    np.testing.assert_allclose(
        homogeneity_score(y_true[perm], y_pred[perm]), h, rtol=1e-12, atol=1e-15
    )
    finer = y_pred * 3 + rng.integers(0, 3, size=n)  # splitting clusters conditions on more
    assert homogeneity_score(y_true, finer) >= h - 1e-12
    assert homogeneity_score(y_true, y_true * 100 + y_pred) == 1.0  # every cluster pure


def test_homogeneity_extremes():
    assert homogeneity_score([], []) == 1.0
    assert homogeneity_score([1, 1, 1], [0, 1, 2]) == 1.0  # one class: H(C) = 0
    np.testing.assert_allclose(homogeneity_score([0, 0, 1, 1], [0, 1, 0, 1]), 0.0, atol=1e-15)
    np.testing.assert_allclose(homogeneity_score([0, 1, 0, 1], [5, 5, 5, 5]), 0.0, atol=1e-15)


def test_contingency_table_matches_sklearn():
    rng = np.random.default_rng(0)
    y, c = rng.choice(["a", "b", "c"], size=200), rng.integers(-2, 5, size=200)
    table, classes, clusters = contingency_table(y, c)  # sparse by default since issue 11 item 13
    np.testing.assert_array_equal(table.toarray(), sklearn.metrics.cluster.contingency_matrix(y, c))
    np.testing.assert_array_equal(contingency_table(y, c, sparse=False)[0], table.toarray())
    assert classes.tolist() == ["a", "b", "c"] and clusters.tolist() == list(range(-2, 5))


def _same_error(ours, theirs):
    with pytest.raises(Exception) as ref:
        theirs()
    with pytest.raises(type(ref.value)) as got:
        ours()
    assert str(got.value) == str(ref.value)


X_small = np.random.default_rng(0).normal(size=(10, 2))


@pytest.mark.parametrize(
    "X, labels",
    [
        (X_small, np.zeros(10)),  # one cluster: 0/0
        (X_small, np.arange(10)),  # n clusters
        (X_small, np.arange(9) % 2),  # length mismatch
        (np.where(X_small > 1, np.nan, X_small), np.arange(10) % 2),
        (np.where(X_small > 1, np.inf, X_small), np.arange(10) % 2),
        (X_small[:, 0], np.arange(10) % 2),  # 1-D X
    ],
)
def test_calinski_harabasz_errors_as_sklearn(X, labels):
    _same_error(
        lambda: calinski_harabasz_score(X, labels),
        lambda: sklearn.metrics.calinski_harabasz_score(X, labels),
    )


@pytest.mark.parametrize(
    "y_true, y_pred",
    [
        ([0, 1, 1], [0, 1]),
        ([[0, 1], [1, 0]], [0, 1]),
        ([0, 1], [[0, 1], [1, 0]]),
        ([0.0, np.nan], [0, 1]),
    ],
)
def test_homogeneity_errors_as_sklearn(y_true, y_pred):
    _same_error(
        lambda: homogeneity_score(y_true, y_pred),
        lambda: sklearn.metrics.homogeneity_score(y_true, y_pred),
    )


def test_calinski_harabasz_zero_within_convention():
    X = np.array([[0.0, 1.0], [0.0, 1.0], [3.0, 2.0], [3.0, 2.0]])
    assert (
        calinski_harabasz_score(X, [0, 0, 1, 1])
        == sklearn.metrics.calinski_harabasz_score(X, [0, 0, 1, 1])
        == 1.0
    )


def test_real_data_parity(coursework_data):
    from coursework_lib.cluster import KMeans
    from coursework_lib.data import load_gene_expression, load_mnist

    genes, tumour = load_gene_expression(data_dir=coursework_data)
    for labels in (tumour, KMeans(4, n_init=3, random_state=0).fit(genes).labels_):
        np.testing.assert_allclose(
            calinski_harabasz_score(genes, labels),
            sklearn.metrics.calinski_harabasz_score(genes, labels),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            homogeneity_score(tumour, labels),
            sklearn.metrics.homogeneity_score(tumour, labels),
            rtol=1e-12,
            atol=1e-12,
        )
    X, y = load_mnist("test", data_dir=coursework_data)
    np.testing.assert_allclose(
        calinski_harabasz_score(X, y), sklearn.metrics.calinski_harabasz_score(X, y), rtol=1e-12
    )


def test_contingency_table_memory_is_sparse():
    "Issue 11 item 13: 8,000 labels each side made a dense 489 MiB table; homogeneity: < 1 MiB."
    labels = np.random.default_rng(0).permutation(8000)
    tracemalloc.start()
    table, _, _ = contingency_table(labels, labels[::-1])
    peak_table = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    h = homogeneity_score(labels, labels[::-1])
    peak_h = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert table.nnz == 8000 and h == 1.0
    assert peak_table < 4 * 2**20 and peak_h < 4 * 2**20, (peak_table, peak_h)


@pytest.mark.parametrize("scale", [1e200, 1e-200, 2.0**1000])
def test_calinski_harabasz_any_finite_magnitude(scale):
    "Issue 11 item 6: squares that overflow (or underflow) gave nan; the index is scale-free."
    X, rng = _data(1, 60, 3)
    labels = rng.integers(0, 4, size=60)
    np.testing.assert_allclose(
        calinski_harabasz_score(X * scale, labels), calinski_harabasz_score(X, labels), rtol=1e-10
    )


def test_dispersions_refuse_values_too_large():
    X, rng = _data(2, 30, 2)
    labels = np.arange(30) % 3
    with pytest.raises(ValueError, match="X has values too large"):
        within_cluster_dispersion(X * 1e160, labels)
    with pytest.raises(ValueError, match="X has values too large"):
        between_cluster_dispersion(X * 1e160, labels)
    np.testing.assert_allclose(
        within_cluster_dispersion(X * 1e120, labels),
        within_cluster_dispersion(X, labels) * 1e240,
        rtol=1e-12,
    )


BAD_ARGUMENTS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4))


@settings(max_examples=80, deadline=None)
@given(
    value=BAD_ARGUMENTS,
    position=st.integers(0, 1),
    function=st.sampled_from(
        [
            calinski_harabasz_score,
            within_cluster_dispersion,
            between_cluster_dispersion,
            homogeneity_score,
            contingency_table,
        ]
    ),
)
def test_bad_arguments_are_named(value, position, function):
    "Issue 11 item 15: a scalar, None or a string for an array is refused naming that argument."
    names = {
        calinski_harabasz_score: ("X", "labels"),
        within_cluster_dispersion: ("X", "labels"),
        between_cluster_dispersion: ("X", "labels"),
        homogeneity_score: ("labels_true", "labels_pred"),
        contingency_table: ("labels_true", "labels_pred"),
    }[function]
    good = [np.zeros((4, 2)), [0, 0, 1, 1]] if names[0] == "X" else [[0, 0, 1, 1], [0, 1, 1, 1]]
    good[position] = value
    with pytest.raises((ValueError, TypeError)) as err:
        function(*good)
    assert f"'{names[position]}' parameter" in str(err.value)


@settings(max_examples=20, deadline=None)
@given(value=st.one_of(st.none(), st.integers(), st.text(max_size=3), st.floats()))
def test_contingency_sparse_flag_is_validated(value):
    with pytest.raises((ValueError, TypeError), match="'sparse' parameter"):
        contingency_table([0, 1], [0, 1], sparse=value)
