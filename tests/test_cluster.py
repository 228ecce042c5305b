"""KMeans: step-for-step parity with scikit-learn's Lloyd, fixed points, seeding, errors, memory."""

import tracemalloc
import warnings

import numpy as np
import pytest
import sklearn.cluster
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import check_estimator

from coursework_lib.cluster import KMeans, kmeans_plusplus


def _assert_same_run(ours, ref, rtol=1e-10):
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=rtol)
    scale = np.abs(ref.cluster_centers_).max()
    np.testing.assert_allclose(
        ours.cluster_centers_, ref.cluster_centers_, rtol=rtol, atol=rtol * scale
    )


def test_mnist_parity_with_sklearn_lloyd(coursework_data):
    from coursework_lib.data import load_mnist

    X, _ = load_mnist("train", data_dir=coursework_data)
    assert X.shape == (5000, 784)
    init = kmeans_plusplus(X, 10, random_state=0)[0]
    ours = KMeans(10, init=init, n_init=1).fit(X)
    ref = sklearn.cluster.KMeans(10, init=init, n_init=1, algorithm="lloyd").fit(X)
    _assert_same_run(ours, ref)


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_gene_parity_with_sklearn_lloyd(coursework_data, k):
    from coursework_lib.data import load_gene_expression

    genes, _ = load_gene_expression(data_dir=coursework_data)
    init = genes.to_numpy()[np.random.default_rng(k).choice(800, k, replace=False)]
    ours = KMeans(k, init=init, n_init=1).fit(genes)
    ref = sklearn.cluster.KMeans(k, init=init, n_init=1, algorithm="lloyd").fit(genes)
    _assert_same_run(ours, ref)


@pytest.mark.parametrize("max_iter, tol", [(3, 1e-4), (300, 0.0), (300, 1e-2)])
def test_parity_for_each_stopping_rule(max_iter, tol):
    "max_iter reached, strict convergence (tol = 0), and the relative centre-shift tolerance."
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(loc=c, size=(200, 4)) for c in rng.normal(scale=3, size=(6, 4))])
    init = X[rng.choice(len(X), 6, replace=False)]
    ours = KMeans(6, init=init, max_iter=max_iter, tol=tol).fit(X)
    ref = sklearn.cluster.KMeans(
        6, init=init, n_init=1, max_iter=max_iter, tol=tol, algorithm="lloyd"
    ).fit(X)
    _assert_same_run(ours, ref)


def test_empty_cluster_relocation_matches_sklearn():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(loc=c, size=(30, 2)) for c in ((0, 0), (8, 0), (0, 8))])
    init = np.array(
        [[0.0, 0.0], [8.0, 0.0], [500.0, 500.0], [-500.0, 0.0]]
    )  # two centres nobody is near
    ours = KMeans(4, init=init).fit(X)
    ref = sklearn.cluster.KMeans(4, init=init, n_init=1, algorithm="lloyd").fit(X)
    assert np.unique(ours.labels_).size == 4
    _assert_same_run(ours, ref)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(6, 150),
    d=st.integers(1, 5),
    k=st.integers(1, 6),
    init=st.sampled_from(["k-means++", "random"]),
)
def test_fixed_point_properties(seed, n, d, k, init):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 100) + rng.uniform(-100, 100)
    km = KMeans(k, init=init, n_init=2, tol=0.0, random_state=seed).fit(X)
    labels, centres = km.labels_, km.cluster_centers_
    d2 = cdist(X, centres, "sqeuclidean")
    # every point is (up to rounding ties) at its nearest centre
    np.testing.assert_allclose(
        d2[np.arange(n), labels], d2.min(axis=1), rtol=1e-9, atol=1e-9 * d2.max()
    )
    total = np.sum((X - X.mean(axis=0)) ** 2)
    np.testing.assert_allclose(
        km.inertia_, d2[np.arange(n), labels].sum(), rtol=1e-9, atol=1e-12 * total
    )
    np.testing.assert_allclose(-km.score(X), km.inertia_, rtol=1e-9, atol=1e-12 * total)
    # and, at strict convergence, every centre is the mean of its cluster
    if km.n_iter_ < km.max_iter:
        for j in np.unique(labels):
            np.testing.assert_allclose(
                centres[j], X[labels == j].mean(axis=0), rtol=1e-9, atol=1e-9 * np.abs(X).max()
            )
    np.testing.assert_allclose(
        km.transform(X), np.sqrt(d2), rtol=1e-7, atol=1e-6 * np.sqrt(d2.max())
    )


def test_more_restarts_never_worse_and_reproducible():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    one = KMeans(5, n_init=1, random_state=7).fit(X)
    many = KMeans(5, n_init=8, random_state=7).fit(X)
    assert many.inertia_ <= one.inertia_  # the first of the eight runs is the single run
    again = KMeans(5, n_init=8, random_state=7).fit(X)
    np.testing.assert_array_equal(again.labels_, many.labels_)
    assert KMeans(5, init="random", random_state=0).fit(X).n_iter_ >= 1


def test_kmeans_plusplus_seeds_are_spread():
    rng = np.random.default_rng(4)
    centres_true = np.array([[0, 0], [20, 0], [0, 20], [20, 20]])
    X = np.vstack([rng.normal(loc=c, size=(100, 2)) for c in centres_true])
    group = np.repeat(np.arange(4), 100)
    hits = [
        np.unique(group[kmeans_plusplus(X, 4, random_state=s)[1]]).size == 4 for s in range(100)
    ]
    assert (
        np.mean(hits) > 0.95
    )  # uniform seeding would get all four groups 4!/4^4 ≈ 9 % of the time
    c, idx = kmeans_plusplus(X, 4, random_state=0)
    np.testing.assert_array_equal(c, X[idx])


@pytest.mark.parametrize(
    "params, X, message",
    [
        (dict(n_clusters=11), np.zeros((10, 2)), "n_samples=10 should be >= n_clusters=11"),
        (
            dict(n_clusters=0),
            np.zeros((10, 2)),
            "The 'n_clusters' parameter of KMeans must be an int in the range [1, inf)",
        ),
        (
            dict(n_clusters=2.5),
            np.zeros((10, 2)),
            "The 'n_clusters' parameter of KMeans must be an int",
        ),
        (
            dict(n_clusters=True),
            np.zeros((10, 2)),
            "The 'n_clusters' parameter of KMeans must be an int",
        ),
        (
            dict(n_clusters=2, init="kmeans"),
            np.zeros((10, 2)),
            "The 'init' parameter of KMeans must be",
        ),
        (dict(n_clusters=2, init=np.zeros((3, 2))), np.zeros((10, 2)), "init has shape (3, 2)"),
        (
            dict(n_clusters=2, n_init=0),
            np.zeros((10, 2)),
            "The 'n_init' parameter of KMeans must be",
        ),
        (
            dict(n_clusters=2, max_iter=0),
            np.zeros((10, 2)),
            "The 'max_iter' parameter of KMeans must be",
        ),
        (
            dict(n_clusters=2, max_iter=True),
            np.zeros((10, 2)),
            "The 'max_iter' parameter of KMeans must be",
        ),
        (dict(n_clusters=2, tol=-1.0), np.zeros((10, 2)), "The 'tol' parameter of KMeans must be"),
        (
            dict(n_clusters=2, random_state="seed"),
            np.zeros((10, 2)),
            "The 'random_state' parameter of KMeans",
        ),
        (dict(n_clusters=2), np.full((10, 2), np.nan), "NaN"),
        (dict(n_clusters=2), np.full((10, 2), np.inf), "infinity"),
        (dict(n_clusters=2), np.arange(20.0).reshape(10, 2) * 1e160, "values too large"),
    ],
)
def test_bad_input(params, X, message):
    "Messages changed with _parameter_constraints: scikit-learn's wording, naming the parameter."
    with pytest.raises(ValueError) as err:
        KMeans(**params).fit(X)
    assert message in str(err.value)


def test_failed_refit_keeps_the_fitted_model():
    X = np.random.default_rng(0).normal(size=(30, 2))
    km = KMeans(3, random_state=0).fit(X)
    centres = km.cluster_centers_.copy()
    with pytest.raises(ValueError):
        km.set_params(n_clusters=40).fit(X)
    np.testing.assert_array_equal(km.cluster_centers_, centres)
    np.testing.assert_array_equal(km.predict(X), km.labels_)


def test_n_init_auto_as_sklearn():
    "n_init='auto' (scikit-learn >= 1.4): one run for k-means++ (and an array), ten for random."
    X = np.random.default_rng(5).normal(size=(200, 3))
    for init, runs in (("k-means++", 1), ("random", 10)):
        auto = KMeans(4, init=init, random_state=3).fit(X)
        explicit = KMeans(4, init=init, n_init=runs, random_state=3).fit(X)
        np.testing.assert_array_equal(auto.labels_, explicit.labels_)
        assert auto.inertia_ == explicit.inertia_


def test_memory_is_blocked():
    "Issue 11 item 13: k = 400, n = 40,000 (15 MiB of data) allocated 260 MiB of k × n temporaries."
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40_000, 50))
    init = X[:400].copy()
    tracemalloc.start()
    km = KMeans(400, init=init, max_iter=2).fit(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # fit's centred copy of X is 1 × X; the rest is O(256 · k + k · d) plus n-vectors of labels.
    assert peak < 2.5 * X.nbytes, (
        f"peak {peak / 2**20:.0f} MiB for {X.nbytes / 2**20:.0f} MiB of data"
    )
    tracemalloc.start()
    km.predict(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.2 * X.nbytes


@pytest.mark.parametrize("scale", [1e160, 1e-160])
def test_extreme_magnitudes(scale):
    "Issue 11 item 6: squares that overflow are refused by name; tiny data cluster as scaled up."
    X = np.vstack([np.zeros((20, 2)), np.ones((20, 2)) * 10]) + np.random.default_rng(1).normal(
        size=(40, 2)
    )
    if scale > 1:
        with pytest.raises(ValueError, match="X has values too large"):
            KMeans(2, random_state=0).fit(X * scale)
        with pytest.raises(ValueError, match="X has values too large"):
            KMeans(2, random_state=0).fit(X).predict(X * scale)
    else:
        labels = KMeans(2, random_state=0).fit(X).labels_
        tiny = KMeans(2, random_state=0).fit(X * scale).labels_
        assert adjusted_rand_score(labels, tiny) == 1.0


BAD_SCALARS = st.one_of(
    st.booleans(),
    st.just(0),
    st.integers(max_value=-1),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.just(None),
    st.just([1, 2]),
)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["n_clusters", "init", "n_init", "max_iter", "tol", "random_state"]),
    value=BAD_SCALARS,
)
def test_bad_hyperparameters_are_named(name, value):
    "Issue 11 item 15: a refused value raises ValueError/TypeError naming the parameter, or fits."
    X = np.random.default_rng(0).normal(size=(12, 2))
    km = KMeans(2, random_state=0).set_params(**{name: value})
    try:
        km.fit(X)
    except (ValueError, TypeError) as err:
        assert name in str(err)
    else:
        assert km.cluster_centers_.shape == (2, 2)


@settings(max_examples=40, deadline=None)
@given(value=BAD_SCALARS, name=st.sampled_from(["n_clusters", "n_local_trials", "random_state"]))
def test_kmeans_plusplus_bad_arguments_are_named(name, value):
    X = np.random.default_rng(0).normal(size=(12, 2))
    kwargs = {"n_clusters": 2, name: value}
    try:
        kmeans_plusplus(X, **kwargs)
    except (ValueError, TypeError) as err:
        assert name in str(err)


@pytest.mark.parametrize("X", [5.0, "abc", None, np.zeros((0, 2)), np.zeros((3, 2, 2)), [[1, "a"]]])
def test_bad_arrays_are_named(X):
    with pytest.raises((ValueError, TypeError)) as err:
        KMeans(1).fit(X)
    assert any(
        word in str(err.value) for word in ("X", "array", "sample", "could not convert", "dim")
    )


def test_warnings():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.warns(RuntimeWarning, match="replaced by 1"):
        KMeans(2, init=X[:2], n_init=4).fit(X)
    with pytest.warns(ConvergenceWarning, match="Number of distinct clusters"):
        KMeans(3).fit(np.ones((6, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KMeans(2, init=X[:2]).fit(X)  # n_init="auto" with an array: one run, no warning


def test_check_estimator():
    check_estimator(KMeans(3, max_iter=20, random_state=0))
