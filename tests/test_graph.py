"""Graphs: Laplacian spectrum, components against SciPy, NJW embedding, Fiedler cuts, validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg
from scipy.sparse import csgraph
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import check_estimator

from coursework_lib.graph import (
    SpectralClustering,
    check_adjacency,
    connected_components,
    correlation_graph,
    degree_centrality,
    fiedler_partition,
    normalized_laplacian,
    spectral_embedding,
    zero_eigenvalue_tolerance,
)


@st.composite
def block_graphs(draw, max_blocks=6, max_size=7):
    "A random weighted graph of connected blocks (size-1 blocks: isolated nodes), nodes shuffled."
    seed = draw(st.integers(0, 2**32 - 1))
    sizes = draw(st.lists(st.integers(1, max_size), min_size=1, max_size=max_blocks))
    density = draw(st.floats(0.0, 1.0))
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    A = np.zeros((n, n))
    start = 0
    for size in sizes:
        nodes = np.arange(start, start + size)
        path = rng.permutation(nodes)  # a random spanning path keeps the block connected
        A[path[:-1], path[1:]] = rng.uniform(0.05, 1.0, size=size - 1)
        extra = np.triu(rng.uniform(size=(size, size)) < density, 1) * rng.uniform(
            0.05, 1.0, size=(size, size)
        )
        A[np.ix_(nodes, nodes)] += extra
        start += size
    A = np.maximum(A, A.T)
    perm = rng.permutation(n)
    blocks = np.repeat(np.arange(len(sizes)), sizes)
    return A[np.ix_(perm, perm)], blocks[perm], rng


@settings(max_examples=150, deadline=None)
@given(block_graphs())
def test_laplacian_spectrum_and_components(graph):
    A, blocks, _ = graph
    L = normalized_laplacian(A)
    np.testing.assert_array_equal(L, L.T)
    eigenvalues = linalg.eigvalsh(L)
    tol = zero_eigenvalue_tolerance(A)
    assert eigenvalues.min() >= -tol and eigenvalues.max() <= 2 + tol  # PSD, spectrum in [0, 2]
    n_blocks = np.unique(blocks).size
    assert (
        eigenvalues <= tol
    ).sum() == n_blocks  # one zero eigenvalue per component, isolated nodes included
    assert (
        eigenvalues[n_blocks:].min(initial=np.inf) > 1e3 * tol
    )  # and the tolerance sits far from the non-zeros
    n_scipy, labels_scipy = csgraph.connected_components(A, directed=False)
    n_ours, labels_ours = connected_components(A)
    assert n_ours == n_scipy == n_blocks
    np.testing.assert_array_equal(labels_ours, labels_scipy)


@settings(max_examples=100, deadline=None)
@given(block_graphs())
def test_quadratic_form(graph):
    A, _, rng = graph
    x = rng.normal(size=A.shape[0])
    d = A.sum(axis=1)
    g = np.divide(x, np.sqrt(d), out=np.zeros_like(x), where=d > 0)
    expected = 0.5 * np.sum(A * (g[:, None] - g[None, :]) ** 2)  # each unordered pair once
    np.testing.assert_allclose(
        x @ normalized_laplacian(A) @ x, expected, rtol=1e-10, atol=1e-12 * (x @ x)
    )


@settings(max_examples=60, deadline=None)
@given(block_graphs(max_blocks=5))
def test_embedding_collapses_components_and_clustering_recovers_them(graph):
    A, blocks, _ = graph
    k = np.unique(blocks).size
    T = spectral_embedding(A, k)
    np.testing.assert_allclose(np.linalg.norm(T, axis=1), 1.0, rtol=1e-12)
    for b in range(k):
        rows = T[blocks == b]
        np.testing.assert_allclose(rows, np.broadcast_to(rows[0], rows.shape), atol=1e-8)
    labels = SpectralClustering(k, random_state=0).fit(A).labels_
    assert adjusted_rand_score(blocks, labels) == 1.0


@settings(max_examples=80, deadline=None)
@given(block_graphs(max_blocks=1, max_size=12))
def test_fiedler_partition_of_connected_graphs(graph):
    A, _, rng = graph
    n = A.shape[0]
    if n < 2:
        return
    A_before = A.copy()
    part = fiedler_partition(A)
    np.testing.assert_array_equal(A, A_before)
    L = normalized_laplacian(A)
    np.testing.assert_allclose(L @ part.vector, part.value * part.vector, atol=1e-10)
    np.testing.assert_allclose(part.value, linalg.eigvalsh(L)[1], atol=1e-12)
    np.testing.assert_array_equal(part.labels, (part.vector > 0).astype(int))
    assert np.abs(part.vector).argmax() == np.argmax(part.vector)  # sign convention
    perm = rng.permutation(n)
    moved = fiedler_partition(A[np.ix_(perm, perm)])
    eigenvalues = linalg.eigvalsh(L)
    if (
        n == 2 or eigenvalues[2] - eigenvalues[1] > 1e-6
    ):  # a simple λ₂: the vector is unique up to sign
        sign = np.sign(moved.vector @ part.vector[perm])
        np.testing.assert_allclose(moved.vector, sign * part.vector[perm], atol=1e-8)


def test_fiedler_returns_fresh_arrays_and_splits_a_barbell():
    A = np.zeros((8, 8))
    A[:4, :4] = A[4:, 4:] = 1.0
    np.fill_diagonal(A, 0.0)
    A[3, 4] = A[4, 3] = 0.05
    A[0, 1] = A[1, 0] = 0.9  # break the mirror symmetry
    part = fiedler_partition(A)
    assert set(part.labels[:4]) != set(part.labels[4:]) and len(set(part.labels[:4])) == 1
    vector_copy = part.vector.copy()
    part.labels[:] = 7
    np.testing.assert_array_equal(part.vector, vector_copy)


def test_fiedler_warns_on_disconnected_graph():
    two = np.kron(np.eye(2), np.ones((3, 3)) - np.eye(3))
    with pytest.warns(UserWarning, match="disconnected"):
        part = fiedler_partition(two)
    np.testing.assert_allclose(part.value, 0.0, atol=1e-12)


def test_isolated_nodes():
    A = np.zeros((4, 4))
    A[0, 1] = A[1, 0] = 2.0
    L = normalized_laplacian(A)
    np.testing.assert_array_equal(L[2], 0.0)
    np.testing.assert_array_equal(L[:, 3], 0.0)
    assert np.isfinite(L).all()
    assert connected_components(A)[0] == 3
    np.testing.assert_array_equal(degree_centrality(A), [2.0, 2.0, 0.0, 0.0])
    assert connected_components(np.zeros((3, 3)))[0] == 3


def test_correlation_graph():
    rng = np.random.default_rng(0)
    z = rng.normal(size=300)
    X = np.column_stack(
        [z, z + 0.1 * rng.normal(size=300), -z + 0.2 * rng.normal(size=300), rng.normal(size=300)]
    )
    A = correlation_graph(X, threshold=0.75)
    r = np.corrcoef(X, rowvar=False)
    np.testing.assert_array_equal(A, A.T)
    np.testing.assert_array_equal(np.diag(A), 0.0)
    mask = (np.abs(r) > 0.75) & ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(A[mask], np.abs(r)[mask], rtol=1e-14)
    assert (A[~mask] == 0).all() and A[
        0, 2
    ] > 0.75  # an anti-correlated pair is an edge, weight |r|
    assert correlation_graph(X, threshold=A[0, 1])[0, 1] == 0.0  # strict >


@pytest.mark.parametrize(
    "A, message",
    [
        (np.ones((3, 4)), "must be square"),
        (np.array([[0.0, 1.0], [0.5, 0.0]]), "must be symmetric"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), "negative weights"),
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), "NaN"),
        (np.array([[0.0, np.inf], [np.inf, 0.0]]), "infinity"),
        (np.ones(3), "2D array"),
    ],
)
@pytest.mark.parametrize(
    "function",
    [
        check_adjacency,
        degree_centrality,
        normalized_laplacian,
        connected_components,
        fiedler_partition,
        lambda A: spectral_embedding(A, 1),
        lambda A: SpectralClustering(1).fit(A),
    ],
)
def test_bad_adjacency(function, A, message):
    with pytest.raises(ValueError) as err:
        function(A)
    assert message in str(err.value)


def test_bad_sizes_and_parameters():
    A = np.ones((4, 4)) - np.eye(4)
    with pytest.raises(ValueError, match="n_samples=4 should be >= n_clusters=5"):
        SpectralClustering(5).fit(A)
    with pytest.raises(
        ValueError, match="The 'n_clusters' parameter of SpectralClustering must be an int"
    ):
        SpectralClustering(0).fit(
            A
        )  # scikit-learn's wording since the move to _parameter_constraints
    with pytest.raises(ValueError, match="between 1 and the number of nodes 4"):
        spectral_embedding(A, 5)
    with pytest.raises(ValueError, match="at least 2 nodes"):
        fiedler_partition(np.zeros((1, 1)))
    with pytest.raises(ValueError, match="threshold"):
        correlation_graph(np.random.default_rng(0).normal(size=(5, 3)), threshold=-0.1)
    with pytest.raises(ValueError, match=r"features \[2\] are constant"):
        correlation_graph(np.column_stack([np.arange(5.0), np.arange(5.0) ** 2, np.ones(5)]))


def test_gene_graph_components_match_scipy(coursework_data):
    from coursework_lib.data import load_gene_expression

    genes, _ = load_gene_expression(data_dir=coursework_data)
    A = correlation_graph(genes)
    n_scipy, labels_scipy = csgraph.connected_components(A, directed=False)
    n_ours, labels_ours = connected_components(A)
    assert n_ours == n_scipy
    np.testing.assert_array_equal(labels_ours, labels_scipy)
    labels = SpectralClustering(n_ours, random_state=0).fit(A).labels_
    assert adjusted_rand_score(labels_scipy, labels) == 1.0


def test_check_estimator():
    check_estimator(
        SpectralClustering(3, n_init=2, random_state=0),
        expected_failed_checks={
            "check_clustering": "fits raw 50×2 feature data regardless of the pairwise tag; "
            "this estimator takes only a "
            "precomputed (square, symmetric) adjacency matrix and rightly rejects it",
        },
    )


def test_one_directional_edge_is_refused_despite_a_heavy_self_loop():
    "Issue 11 item 5: the tolerance was relative to the largest weight: this edge passed, halved."
    A = np.zeros((3, 3))
    A[0, 0] = 1e12
    A[1, 2] = 1.0
    for function in (
        check_adjacency,
        degree_centrality,
        normalized_laplacian,
        connected_components,
    ):
        with pytest.raises(
            ValueError, match=r"must be symmetric .*A\[1, 2\] = 1 but A\[2, 1\] = 0"
        ):
            function(A)
    rounded = np.array([[0.0, 0.3], [0.1 + 0.2, 0.0]])  # 0.3 and 0.1 + 0.2 differ in the last bit
    np.testing.assert_array_equal(check_adjacency(rounded), check_adjacency(rounded).T)


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e300])
def test_extreme_magnitudes(scale):
    "Issue 11 item 6: data whose squares overflow gave an empty correlation graph."
    rng = np.random.default_rng(0)
    z = rng.normal(size=100)
    X = np.column_stack([z, z + 0.1 * rng.normal(size=100), rng.normal(size=100)])
    A = correlation_graph(X)
    np.testing.assert_allclose(correlation_graph(X * scale), A, rtol=1e-12)
    np.testing.assert_allclose(
        normalized_laplacian(A * scale), normalized_laplacian(A), rtol=1e-14, atol=1e-15
    )
    assert connected_components(A * scale)[0] == connected_components(A)[0] == 2
    np.testing.assert_allclose(
        fiedler_partition(A[:2, :2] * scale).value, fiedler_partition(A[:2, :2]).value
    )


def test_degree_overflow_is_refused():
    with pytest.raises(ValueError, match="weights too large"):
        degree_centrality(np.full((2, 2), 1.5e308))


BAD_SCALARS = st.one_of(
    st.booleans(),
    st.integers(max_value=0),
    st.floats(),
    st.text(max_size=3),
    st.none(),
    st.just([1]),
)


@settings(max_examples=60, deadline=None)
@given(value=BAD_SCALARS)
def test_bad_n_components_is_named(value):
    "Issue 11 item 15: spectral_embedding(n_components=True) was accepted silently."
    A = np.ones((4, 4)) - np.eye(4)
    with pytest.raises((ValueError, TypeError), match="n_components"):
        spectral_embedding(A, value)


@settings(max_examples=60, deadline=None)
@given(value=BAD_SCALARS, name=st.sampled_from(["n_clusters", "n_init", "random_state"]))
def test_bad_hyperparameters_are_named(value, name):
    A = np.ones((4, 4)) - np.eye(4)
    est = SpectralClustering(2, random_state=0).set_params(**{name: value})
    try:
        est.fit(A)
    except (ValueError, TypeError) as err:
        assert name in str(err)
    else:
        assert est.labels_.shape == (4,)


@settings(max_examples=60, deadline=None)
@given(
    value=st.one_of(st.booleans(), st.floats(), st.text(max_size=3), st.integers()),
    target=st.sampled_from(["threshold", "tol"]),
)
def test_bad_options_are_named(value, target):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 4))
    call = (
        (lambda: correlation_graph(X, threshold=value))
        if target == "threshold"
        else (lambda: connected_components(correlation_graph(X), tol=value))
    )
    try:
        call()
    except (ValueError, TypeError) as err:
        assert target in str(err)


@pytest.mark.parametrize("A", [5.0, "abc", None])
@pytest.mark.parametrize(
    "function",
    [
        correlation_graph,
        connected_components,
        lambda A: spectral_embedding(A, 1),
        check_adjacency,
        degree_centrality,
        normalized_laplacian,
        zero_eigenvalue_tolerance,
        fiedler_partition,
    ],
)
def test_bad_arrays_are_named(function, A):
    with pytest.raises((ValueError, TypeError)) as err:
        function(A)
    assert "'A' parameter" in str(err.value) or "'X' parameter" in str(err.value)
