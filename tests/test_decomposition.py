"""Cross-checks of `coursework_lib.decomposition` (PCA, Standardiser, NMF) against scikit-learn and
SciPy, the
scikit-learn estimator contract, property tests of the invariants, and bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import nnls
from sklearn.decomposition import NMF as SkNMF
from sklearn.decomposition import PCA as SkPCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import check_estimator

import coursework_lib.decomposition as decomposition
from coursework_lib.data import load_noisy_mnist
from coursework_lib.decomposition import NMF, PCA, Standardiser, standardise, unstandardise
from coursework_lib.decomposition.nmf import NMF as NMF_from_submodule


def _correlated(rng, n, p):
    "Data with a decaying spectrum and a non-zero mean, so that centring and ordering matter."
    return (
        rng.normal(size=(n, p))
        * np.geomspace(10, 0.1, p)
        @ np.linalg.qr(rng.normal(size=(p, p)))[0]
        + 3.0
    )


@pytest.fixture(scope="module")
def noisy_mnist(coursework_data):
    "The course's noisy training images (0-255 plus unclipped noise), from the course folder."
    return load_noisy_mnist("train", data_dir=coursework_data)[0]


# ---------------------------------------------------------------- scikit-learn's estimator contract


def test_check_estimator_pca_and_standardiser():
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", category=UserWarning
        )  # SkipTestWarning for the array-API check
        check_estimator(PCA())
        check_estimator(PCA(n_components=1, svd_solver="full"))
        check_estimator(Standardiser())


def test_check_estimator_nmf_rank_one():
    # k = 1: one multiplicative W-update is the exact least-squares solution, so fit_transform and
    # transform agree
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        check_estimator(NMF(n_components=1))


def test_check_estimator_nmf_default():
    # With k > 1 the multiplicative updates converge too slowly for fit_transform's W and
    # transform's W (two different runs towards the same NNLS solution) to agree to 1e-2 within
    # max_iter on the checks' data; scikit-learn's own NMF(solver="mu") fails exactly these checks
    # too. Everything else must pass.
    slow = (
        "multiplicative updates: fit_transform and transform not within 1e-2 after max_iter "
        "(as sklearn's mu)"
    )
    expected = {
        name: slow for name in ("check_transformer_general", "check_transformer_data_not_an_array")
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        check_estimator(NMF(), expected_failed_checks=expected)


# ---------------------------------------------------------------- Standardiser


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), p=st.integers(1, 12))
def test_standardise_round_trip_with_constant_columns(seed, n, p):
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=rng.uniform(0.1, 100), size=(n, p)) + rng.normal(size=p)
    X[:, rng.random(p) < 0.3] = (
        0.1  # constant columns, with a value whose mean is not exact in binary
    )
    X_new = rng.normal(size=(5, p)) * 50
    sc = Standardiser().fit(X)
    constant = np.ptp(X, axis=0) == 0
    np.testing.assert_array_equal(sc.scale_[constant], 1.0)
    np.testing.assert_allclose(
        sc.inverse_transform(sc.transform(X_new)), X_new, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        unstandardise(standardise(X_new, sc.mean_, sc.scale_), sc.mean_, sc.scale_),
        X_new,
        rtol=1e-12,
        atol=1e-12,
    )
    Z = sc.transform(X)
    np.testing.assert_allclose(Z.std(axis=0)[~constant], 1.0, rtol=1e-10)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-10)


def test_standardise_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        standardise(np.ones((2, 2)), np.zeros(2), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="fitted with 3"):
        Standardiser().fit(np.eye(3)).inverse_transform(np.ones((1, 2)))


# ---------------------------------------------------------------- PCA


def test_pca_parity_with_sklearn_on_noisy_mnist(noisy_mnist):
    "The benchmark's setting: 5000 x 784 -> 100 components, against scikit-learn's exact SVD."
    ours = PCA(100).fit(noisy_mnist)
    sk = SkPCA(100, svd_solver="full").fit(noisy_mnist)
    assert ours.fit_solver_ == "covariance_eigh"
    np.testing.assert_allclose(ours.explained_variance_, sk.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, sk.explained_variance_ratio_, rtol=1e-10
    )
    np.testing.assert_allclose(ours.singular_values_, sk.singular_values_, rtol=1e-10)
    np.testing.assert_allclose(ours.noise_variance_, sk.noise_variance_, rtol=1e-10)
    signs = np.sign(np.sum(ours.components_ * sk.components_, axis=1))
    np.testing.assert_allclose(ours.components_ * signs[:, None], sk.components_, atol=1e-8)
    # same sign convention (largest |loading| positive), so no flip is needed at all
    np.testing.assert_array_equal(signs, 1.0)
    np.testing.assert_allclose(ours.components_ @ ours.components_.T, np.eye(100), atol=1e-12)


@pytest.mark.parametrize("solver", ["covariance_eigh", "full"])
@pytest.mark.parametrize("shape", [(200, 30), (30, 200)])
def test_pca_parity_with_sklearn(solver, shape):
    X = _correlated(np.random.default_rng(1), *shape)
    k = min(shape) - 1
    ours, sk = PCA(k, svd_solver=solver).fit(X), SkPCA(k, svd_solver="full").fit(X)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, sk.explained_variance_ratio_, rtol=1e-9
    )
    np.testing.assert_allclose(ours.components_, sk.components_, atol=1e-7)
    np.testing.assert_allclose(ours.transform(X), sk.transform(X), atol=1e-6 * np.abs(X).max())
    np.testing.assert_allclose(
        ours.inverse_transform(ours.transform(X)),
        sk.inverse_transform(sk.transform(X)),
        atol=1e-7 * np.abs(X).max(),
    )


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.8, 0.95, 0.999])
def test_pca_variance_fraction_matches_sklearn(fraction):
    X = _correlated(np.random.default_rng(2), 300, 40)
    assert (
        PCA(fraction).fit(X).n_components_
        == SkPCA(fraction, svd_solver="full").fit(X).n_components_
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 40),
    p=st.integers(1, 40),
    solver=st.sampled_from(["auto", "covariance_eigh", "full"]),
)
def test_pca_invariants(seed, n, p, solver):
    X = np.random.default_rng(seed).normal(size=(n, p)) * 10
    pca = PCA(svd_solver=solver).fit(X)
    r = min(n, p)
    V = pca.components_
    assert V.shape == (r, p)
    # orthonormal components (both routes return an orthonormal basis, zero-variance directions
    # included),
    # in decreasing order of variance
    np.testing.assert_allclose(V @ V.T, np.eye(r), atol=1e-8)
    assert np.all(
        np.diff(pca.explained_variance_) <= 1e-9 * max(pca.explained_variance_[0], 1e-300)
    )
    np.testing.assert_allclose(
        pca.explained_variance_.sum(), np.var(X, axis=0, ddof=1).sum(), rtol=1e-9
    )
    # sign convention: the largest-magnitude loading of each component is positive
    assert np.all(V[np.arange(r), np.argmax(np.abs(V), axis=1)] > 0)


def test_pca_bad_input():
    X = np.random.default_rng(0).normal(size=(10, 4))
    # the hyper-parameter messages are scikit-learn's `_parameter_constraints` wording (issue 10)
    for bad, match in [
        (PCA(5), "between 1 and"),
        (PCA(0), "'n_components' parameter of PCA"),
        (PCA(1.0), "float in"),
        (PCA("mle"), "or None. Got 'mle'"),
        (PCA(svd_solver="arpack"), "svd_solver"),
    ]:
        with pytest.raises(ValueError, match=match):
            bad.fit(X)
    with pytest.raises(ValueError, match="NaN"):
        PCA().fit(np.where(X > 1, np.nan, X))
    with pytest.raises(ValueError, match="n_components_=2"):
        PCA(2).fit(X).inverse_transform(np.ones((3, 3)))


def test_pca_no_floating_point_warnings():
    X = np.zeros((20, 6))
    X[:, :3] = np.random.default_rng(0).normal(size=(20, 3)) * 1e3
    with np.errstate(divide="raise", over="raise", invalid="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        for solver in ("covariance_eigh", "full"):
            pca = PCA(0.99, svd_solver=solver).fit(X)
            pca.inverse_transform(pca.transform(X))
        PCA().fit(np.ones((5, 3)))


# ---------------------------------------------------------------- NMF


def _nonneg(rng, n, p):
    return rng.random((n, p)) * (rng.random((n, p)) < 0.7)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 25),
    p=st.integers(1, 25),
    k=st.integers(1, 8),
    iters=st.integers(1, 60),
)
def test_lee_seung_never_increases_the_loss(seed, n, p, k, iters):
    rng = np.random.default_rng(seed)
    X = _nonneg(rng, n, p) * rng.uniform(0.01, 100)
    nmf = NMF(k, max_iter=iters, tol=0, random_state=int(seed % 1000))
    W = nmf.fit_transform(X)
    # exact: the history adds each step's own change (eq. (3) of the chapter), never positive
    assert np.all(np.diff(nmf.loss_history_) <= 0), np.diff(nmf.loss_history_).max()
    assert len(nmf.loss_history_) == iters + 1 and nmf.n_iter_ == iters
    assert W.min() >= 0 and nmf.components_.min() >= 0
    np.testing.assert_allclose(
        nmf.loss_history_[-1], nmf.reconstruction_err_, rtol=1e-7, atol=1e-7 * np.linalg.norm(X)
    )
    np.testing.assert_allclose(
        nmf.reconstruction_err_, np.linalg.norm(X - W @ nmf.components_), rtol=1e-12
    )


def test_nmf_parity_with_sklearn_on_noisy_mnist(noisy_mnist):
    "k = 10, 100 iterations from identical W, H, on 1000 min-max scaled noisy images (quick)."
    X = (noisy_mnist[:1000] - noisy_mnist.min()) / np.ptp(noisy_mnist)
    rng = np.random.default_rng(0)
    avg = np.sqrt(X.mean() / 10)
    W0, H0 = avg * rng.random((len(X), 10)), avg * rng.random((10, X.shape[1]))
    ours = NMF(10, init="custom", max_iter=100, tol=0)
    W = ours.fit_transform(X, W=W0, H=H0)
    sk = SkNMF(10, init="custom", solver="mu", beta_loss="frobenius", max_iter=100, tol=0)
    W_sk = sk.fit_transform(X, W=W0.copy(), H=H0.copy())
    assert ours.n_iter_ == sk.n_iter_ == 100
    np.testing.assert_allclose(ours.reconstruction_err_, sk.reconstruction_err_, rtol=0.01)
    # the same arithmetic in the same order: in fact equal to round-off
    np.testing.assert_allclose(ours.reconstruction_err_, sk.reconstruction_err_, rtol=1e-9)
    np.testing.assert_allclose(ours.components_, sk.components_, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(W, W_sk, rtol=1e-7, atol=1e-12)


def test_nmf_random_init_and_stopping_match_sklearn():
    X = _nonneg(np.random.default_rng(3), 60, 20)
    ours = NMF(4, random_state=7, tol=1e-3, max_iter=500).fit(X)
    sk = SkNMF(4, init="random", solver="mu", random_state=7, tol=1e-3, max_iter=500).fit(X)
    assert ours.n_iter_ == sk.n_iter_ < 500
    np.testing.assert_allclose(ours.components_, sk.components_, rtol=1e-8, atol=1e-14)
    # transform: the same W-only updates from the same constant start
    X_new = _nonneg(np.random.default_rng(4), 7, 20)
    np.testing.assert_allclose(ours.transform(X_new), sk.transform(X_new), rtol=1e-8, atol=1e-14)


def test_nmf_transform_is_the_nnls_projection():
    rng = np.random.default_rng(5)
    X = _nonneg(rng, 80, 30)
    nmf = NMF(6, random_state=0, max_iter=300, tol=0, transform_max_iter=3000).fit(X)
    H = nmf.components_
    X_new = _nonneg(rng, 10, 30)
    W = nmf.transform(X_new)
    obj = ((X_new - W @ H) ** 2).sum(axis=1)
    exact = np.array([nnls(H.T, x)[1] ** 2 for x in X_new])
    assert np.all(obj >= exact * (1 - 1e-9))
    np.testing.assert_allclose(obj, exact, rtol=1e-5)
    # ... and not the course's X H^T H, which is not even on the right scale
    assert np.linalg.norm(X_new @ H.T @ H - W @ H) > 0.1 * np.linalg.norm(W @ H)
    np.testing.assert_allclose(nmf.inverse_transform(W), W @ H, rtol=1e-14)


def test_nmf_dead_components_and_zero_rows_raise_no_warnings():
    X = _nonneg(np.random.default_rng(6), 12, 9)
    X[3] = 0.0
    X[:, 4] = 0.0
    W0, H0 = np.random.default_rng(7).random((12, 4)), np.random.default_rng(8).random((4, 9))
    W0[:, 1] = 0.0  # a dead component: 0/0 in its H ratios
    H0[2, :3] = 0.0
    with np.errstate(divide="raise", over="raise", invalid="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        nmf = NMF(4, init="custom", max_iter=50, tol=0)
        W = nmf.fit_transform(X, W=W0, H=H0)
        nmf.transform(X)
        NMF(2, max_iter=20, tol=0, random_state=0).fit(np.zeros((5, 4)))
    assert np.all(W[:, 1] == 0) and np.all(W[3] == 0) and np.all(np.isfinite(nmf.components_))
    assert np.all(np.diff(nmf.loss_history_) <= 0)


def test_nmf_custom_init_does_not_modify_the_callers_arrays():
    X = _nonneg(np.random.default_rng(9), 10, 5)
    W0, H0 = np.ones((10, 2)), np.ones((2, 5))
    NMF(2, init="custom", max_iter=5, tol=0).fit(X, W=W0, H=H0)
    np.testing.assert_array_equal(W0, 1.0)
    np.testing.assert_array_equal(H0, 1.0)


def test_nmf_convergence_warning_only_when_not_converged():
    X = _nonneg(np.random.default_rng(10), 40, 15)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        NMF(3, max_iter=10, tol=1e-12, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NMF(3, max_iter=10, tol=0, random_state=0).fit(X)


def test_nmf_bad_input():
    rng = np.random.default_rng(11)
    X = _nonneg(rng, 10, 6)
    W0, H0 = rng.random((10, 2)), rng.random((2, 6))
    with pytest.raises(ValueError, match=r"Negative values in data passed to NMF \(input X\)"):
        NMF(2).fit(X - 0.5)
    nmf = NMF(2, max_iter=5, tol=0).fit(X)
    with pytest.raises(ValueError, match=r"Negative values in data passed to NMF \(input X\)"):
        nmf.transform(-X)
    cases = [
        (NMF(2, init="custom"), dict(W=W0, H=-H0), "initial H"),
        (NMF(2, init="custom"), dict(W=-W0, H=H0), "initial W"),
        (NMF(2, init="custom"), dict(H=H0), "needs both W and H"),
        (
            NMF(3, init="custom"),
            dict(W=W0, H=H0),
            r"initial W has shape \(10, 2\).*needs shape \(10, 3\)",
        ),
        (NMF(2), dict(W=W0, H=H0), "only used with init='custom'"),
        # scikit-learn's `_parameter_constraints` wording (issue 10): "The 'x' parameter of NMF ..."
        (NMF(0), {}, "'n_components' parameter of NMF.*Got 0"),
        (NMF(2.5), {}, "'n_components' parameter of NMF.*Got 2.5"),
        (NMF(2, max_iter=0), {}, "'max_iter' parameter.*Got 0"),
        (NMF(2, tol=-1e-3), {}, "'tol' parameter.*Got -0.001"),
        (NMF(2, init="nndsvd"), {}, "'init' parameter.*Got 'nndsvd'"),
        (NMF(2, transform_max_iter=-1), {}, "'transform_max_iter' parameter.*Got -1"),
        (NMF(2, n_inner=0), {}, "'n_inner' parameter.*Got 0"),
        (NMF(2, max_iter=True), {}, "'max_iter' parameter.*Got True"),
    ]
    for est, kw, match in cases:
        with pytest.raises(ValueError, match=match):
            est.fit(X, **kw)
    with pytest.raises(ValueError, match="NaN"):
        NMF(2).fit(np.where(X > 0.5, np.nan, X))
    with pytest.raises(ValueError, match="n_components_=2"):
        nmf.inverse_transform(np.ones((1, 3)))


# ---------------------------------------- issue 11: loss history, huge data, bad input


def test_nmf_loss_history_never_rises_in_the_recorded_numbers():
    "Item 14: the expanded-norm history rose through cancellation once the decreases became tiny."
    rng = np.random.default_rng(0)
    X = 0.4 + 0.2 * rng.random((400, 60))  # a grey plate, as the noisy digits
    # k = 1 converges within a few dozen iterations: the old history then rose 122 times in 300
    for k, n_inner in ((1, 1), (6, 1), (6, 4)):
        accelerated = {"n_inner": n_inner} if n_inner > 1 else {}  # the old class had no n_inner
        nmf = NMF(k, max_iter=300, tol=0, random_state=0, **accelerated).fit(X)
        steps = np.diff(nmf.loss_history_)
        assert np.all(steps <= 0), (k, n_inner, (steps > 0).sum(), steps.max())
        np.testing.assert_allclose(nmf.loss_history_[-1], nmf.reconstruction_err_, rtol=1e-9)
    W = nmf.transform(X[:50])
    assert np.all(np.isfinite(W)) and W.min() >= 0


def test_nmf_accelerated_updates_are_repeated_lee_seung_steps():
    "n_inner=r: each pass runs r W-updates with X H^T fixed, then r H-updates with W^T X fixed."
    rng = np.random.default_rng(13)
    X, W0, H0 = rng.random((30, 12)), rng.random((30, 3)), rng.random((3, 12))
    W, H = W0.copy(), H0.copy()
    for _ in range(4):
        XHt, HHt = X @ H.T, H @ H.T
        for _ in range(3):
            W *= XHt / (W @ HHt)
        WtX, WtW = W.T @ X, W.T @ W
        for _ in range(3):
            H *= WtX / (WtW @ H)
    nmf = NMF(3, init="custom", max_iter=4, tol=0, n_inner=3)
    W_ours = nmf.fit_transform(X, W=W0, H=H0)
    np.testing.assert_allclose(nmf.components_, H, rtol=1e-10)
    np.testing.assert_allclose(W_ours, W, rtol=1e-10)
    assert (
        nmf.loss_history_[-1]
        < NMF(3, init="custom", max_iter=4, tol=0).fit(X, W=W0, H=H0).loss_history_[-1]
    )


def test_nmf_factorises_data_whose_squares_overflow():
    "Item 6: finite data beyond 1e154 gave a NaN loss; now the same factorisation, exactly scaled."
    rng = np.random.default_rng(14)
    X, W0, H0 = rng.random((20, 9)), rng.random((20, 3)), rng.random((3, 9))
    small = NMF(3, init="custom", max_iter=30, tol=0)
    W_small = small.fit_transform(X, W=W0, H=H0)
    big = NMF(3, init="custom", max_iter=30, tol=0)
    W_big = big.fit_transform(X * 4.0**290, W=W0 * 2.0**290, H=H0 * 2.0**290)
    np.testing.assert_allclose(big.components_, small.components_ * 2.0**290, rtol=1e-12)
    np.testing.assert_allclose(W_big, W_small * 2.0**290, rtol=1e-12)
    np.testing.assert_allclose(big.loss_history_, small.loss_history_ * 4.0**290, rtol=1e-12)
    np.testing.assert_allclose(
        big.reconstruction_err_, small.reconstruction_err_ * 4.0**290, rtol=1e-12
    )
    np.testing.assert_allclose(
        big.transform(X[:4] * 4.0**290), small.transform(X[:4]) * 2.0**290, rtol=1e-10
    )
    rand = NMF(3, random_state=0, max_iter=20, tol=0).fit(X * 1e300)
    assert np.all(np.isfinite(rand.loss_history_)) and np.all(np.diff(rand.loss_history_) <= 0)


def test_pca_on_data_whose_squares_overflow():
    "Item 6: X^T X overflowed into an opaque LinAlgError; now exact scaling, or a clear refusal."
    X = _correlated(np.random.default_rng(15), 1000, 6)
    scale = (
        2.0**506
    )  # ~3e152: the largest singular value ~1e155, S**2 overflows, S**2 / (n - 1) does not
    for solver in ("covariance_eigh", "full"):
        ours, ref = PCA(3, svd_solver=solver).fit(X * scale), PCA(3, svd_solver=solver).fit(X)
        np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-12)
        np.testing.assert_allclose(
            ours.explained_variance_, ref.explained_variance_ * scale**2, rtol=1e-12
        )
        np.testing.assert_allclose(
            ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-12
        )
    with pytest.raises(ValueError, match="X's values are too large"):
        PCA().fit(X * 1e160)


def test_standardiser_on_data_whose_squares_overflow():
    X = np.array([[1e300, 1.0], [-1e300, 3.0], [5e299, 2.0]])
    sc = Standardiser().fit(X)
    np.testing.assert_allclose(
        sc.scale_, [(X[:, 0] / 1e300).std() * 1e300, X[:, 1].std()], rtol=1e-14
    )
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(X)), X, rtol=1e-14)


def test_failed_fit_leaves_the_model_as_it_was():
    X = _correlated(np.random.default_rng(16), 50, 5)
    pca = PCA(2).fit(X)
    before = {k: np.copy(v) for k, v in vars(pca).items() if k.endswith("_")}
    with pytest.raises(ValueError, match="too large"):
        pca.fit(X[:, :4] * 1e160)
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(pca, k), v)
    nmf = NMF(2, max_iter=5, tol=0, random_state=0).fit(np.abs(X))
    H = nmf.components_.copy()
    with pytest.raises(ValueError, match="Negative values"):
        nmf.fit(X[:, :3])
    assert nmf.n_features_in_ == 5
    np.testing.assert_array_equal(nmf.components_, H)


def test_the_package_re_exports_the_chapters_names():
    assert NMF is NMF_from_submodule
    assert {"PCA", "NMF", "Standardiser", "standardise", "unstandardise"} <= set(
        decomposition.__all__
    )


def test_each_chapter_has_its_module_and_nbdev_indexes_it():
    # Chapter 06 is `decomposition.pca`, chapter 07 `decomposition.nmf`; `__init__.py` only
    # re-exports, so nbdev's index (which skips files named `_*`) links every public name.
    from coursework_lib import _modidx
    from coursework_lib.decomposition import pca

    assert (PCA, Standardiser, standardise, unstandardise) == (
        pca.PCA,
        pca.Standardiser,
        pca.standardise,
        pca.unstandardise,
    )
    syms = _modidx.d["syms"]
    pca_syms = syms["coursework_lib.decomposition.pca"]
    for name in ("PCA", "Standardiser", "standardise", "unstandardise"):
        assert f"coursework_lib.decomposition.pca.{name}" in pca_syms
    assert "coursework_lib.decomposition.nmf.NMF" in syms["coursework_lib.decomposition.nmf"]
    assert "coursework_lib.decomposition" not in syms


# item 15: every public entry point, driven with bad scalars and arrays, fails with ValueError or
# TypeError naming
# the offending argument
_NOT_POSITIVE_INT = st.one_of(
    st.booleans(),
    st.integers(-5, 0),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.just([1]),
    st.just(None),
)
_BAD = {
    (PCA, "n_components"): st.one_of(
        st.booleans(),
        st.integers(-5, 0),
        st.floats(1.0, 1e6),
        st.floats(-1e6, 0.0),
        st.just(float("nan")),
        st.text(max_size=3),
        st.just([1]),
    ),
    (PCA, "svd_solver"): st.one_of(
        st.text(max_size=5).filter(lambda s: s not in ("auto", "full", "covariance_eigh")),
        st.integers(),
        st.just(None),
    ),
    (NMF, "n_components"): st.one_of(
        st.booleans(), st.integers(-5, 0), st.floats(allow_nan=True), st.text(max_size=3)
    ),
    (NMF, "max_iter"): _NOT_POSITIVE_INT,
    (NMF, "n_inner"): _NOT_POSITIVE_INT,
    (NMF, "transform_max_iter"): _NOT_POSITIVE_INT.filter(lambda v: v is not None),
    (NMF, "tol"): st.one_of(
        st.floats(max_value=-1e-300),
        st.just(float("nan")),
        st.text(max_size=3),
        st.booleans(),
        st.just(None),
    ),
    (NMF, "init"): st.one_of(
        st.text(max_size=5).filter(lambda s: s not in ("random", "custom")),
        st.just(None),
        st.integers(),
    ),
    (NMF, "random_state"): st.one_of(
        st.integers(max_value=-1), st.floats(), st.text(min_size=1, max_size=3)
    ),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_hyper_parameters_are_named(data):
    est, name = data.draw(st.sampled_from(sorted(_BAD, key=str)))
    value = data.draw(_BAD[(est, name)])
    X = np.random.default_rng(0).random((12, 4))
    with pytest.raises((ValueError, TypeError)) as info:
        est(**{name: value}).fit(X)
    assert f"'{name}'" in str(info.value) or f"{name}=" in str(info.value), str(info.value)


_BAD_ARRAYS = st.sampled_from(
    [
        np.ones(5),
        np.ones((2, 3, 4)),
        np.array([[np.nan, 1.0], [1.0, 2.0], [0.0, 1.0]]),
        np.array([[np.inf, 1.0], [1.0, 2.0], [0.0, 1.0]]),
        np.empty((0, 3)),
        np.array([["a", "b"], ["c", "d"]]),
        np.ones((3, 2)) * 1j,
        5.0,
        "text",
        [[1.0, 2.0], [3.0]],
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    bad=_BAD_ARRAYS,
    which=st.sampled_from(
        [
            "PCA",
            "NMF",
            "Standardiser",
            "standardise",
            "unstandardise",
            "NMF.transform",
            "PCA.transform",
            "NMF.W",
        ]
    ),
)
def test_bad_arrays_are_named(bad, which):
    X = np.random.default_rng(0).random((6, 2))
    calls = {
        "PCA": lambda: PCA().fit(bad),
        "NMF": lambda: NMF(1).fit(bad),
        "Standardiser": lambda: Standardiser().fit(bad),
        "standardise": lambda: standardise(bad),
        "unstandardise": lambda: unstandardise(bad, [0.0, 0.0], [1.0, 1.0]),
        "NMF.transform": lambda: NMF(1, max_iter=2, tol=0).fit(X).transform(bad),
        "PCA.transform": lambda: PCA(1).fit(X).transform(bad),
        "NMF.W": lambda: NMF(1, init="custom").fit(X, W=bad, H=np.ones((1, 2))),
    }
    with pytest.raises((ValueError, TypeError)) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calls[which]()
    expected = {"unstandardise": "Z", "NMF.W": "W"}.get(which, "X")
    assert expected in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "name, bad",
    [
        ("mean", [0.0]),
        ("std", [1.0, 2.0, 3.0]),
        ("mean", "abc"),
        ("std", [[1.0, 1.0]]),
        ("std", [np.nan, 1.0]),
    ],
)
def test_standardise_bad_statistics_are_named(name, bad):
    with pytest.raises((ValueError, TypeError), match=name):
        standardise(np.ones((3, 2)), **{name: bad})
