"""Cross-checks of coursework_lib.mixture: scikit-learn's estimator contract, parity with
sklearn.mixture.GaussianMixture from identical initial parameters, numerical safety in high
dimension and far from the origin, bounded memory, the EM monotonicity theorem (also as a property
test), restarts and warm starts, k-means++ seeding, and bad input (also as a property test)."""

import math
import re
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from coursework_lib.mixture import (
    COVARIANCE_TYPES,
    GaussianMixture,
    e_step,
    gaussian_parameters,
    kmeans_plusplus,
    kmeans_plusplus_responsibilities,
    log_gaussian_prob,
    marginal_ellipse,
    precisions_cholesky_from_covariances,
    squared_distances,
)


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    "These problems are tiny: extra BLAS threads only add overhead, and on a busy machine thrash."
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def blobs(n=1000, d=5, k=10, spread=4.0, seed=0):
    "Samples of a random k-component Gaussian mixture in d dimensions, random full covariances."
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=spread, size=(k, d))
    shapes = rng.normal(size=(k, d, d)) / np.sqrt(d) + np.eye(d)
    labels = rng.integers(0, k, size=n)
    return centres[labels] + np.einsum("nij,nj->ni", shapes[labels], rng.normal(size=(n, d)))


def initial_parameters(X, n_components, covariance_type, init_params="k-means++", seed=0):
    "weights/means/precisions after our initialisation and one EM step, for both estimators."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(
            n_components,
            covariance_type=covariance_type,
            init_params=init_params,
            max_iter=1,
            random_state=seed,
        ).fit(X)
    return dict(weights_init=gm.weights_, means_init=gm.means_, precisions_init=gm.precisions_)


def fit_both(X, n_components, covariance_type, max_iter, tol, **init):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(
            n_components, covariance_type=covariance_type, max_iter=max_iter, tol=tol, **init
        ).fit(X)
        ref = SkGaussianMixture(
            n_components, covariance_type=covariance_type, max_iter=max_iter, tol=tol, **init
        ).fit(X)
    return ours, ref


@parametrize_with_checks(
    [GaussianMixture(2, covariance_type=c, max_iter=50, random_state=0) for c in COVARIANCE_TYPES]
)
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["k-means++", "random"])
def test_lower_bound_parity_with_sklearn_after_same_iterations(covariance_type, init_params):
    X = blobs()
    init = initial_parameters(X, 10, covariance_type, init_params)
    ours, ref = fit_both(X, 10, covariance_type, max_iter=40, tol=0.0, **init)
    assert ours.n_iter_ == ref.n_iter_ == 40
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-8, atol=0)
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-8, atol=0)
    np.testing.assert_allclose(ours.weights_, ref.weights_, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.covariances_, ref.covariances_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        ours.precisions_cholesky_, ref.precisions_cholesky_, rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(ours.precisions_, ref.precisions_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_convergence_and_predictions_match_sklearn(covariance_type):
    X = blobs(n=600, d=3, k=4, seed=1)
    X_new = blobs(n=100, d=3, k=4, seed=2)
    ours, ref = fit_both(
        X, 4, covariance_type, max_iter=200, tol=1e-3, **initial_parameters(X, 4, covariance_type)
    )
    assert ours.converged_ and ref.converged_
    assert ours.n_iter_ == ref.n_iter_ == len(ours.lower_bounds_)
    assert ours.lower_bounds_[-1] == ours.lower_bound_
    np.testing.assert_allclose(ours.score_samples(X_new), ref.score_samples(X_new), rtol=1e-8)
    np.testing.assert_allclose(ours.score(X_new), ref.score(X_new), rtol=1e-8)
    np.testing.assert_allclose(
        ours.predict_proba(X_new), ref.predict_proba(X_new), rtol=1e-6, atol=1e-10
    )
    np.testing.assert_array_equal(ours.predict(X_new), ref.predict(X_new))
    np.testing.assert_allclose(ours.bic(X_new), ref.bic(X_new), rtol=1e-8)
    np.testing.assert_allclose(ours.aic(X_new), ref.aic(X_new), rtol=1e-8)
    np.testing.assert_array_equal(ours.fit_predict(X), ours.predict(X))


def scipy_log_densities(X, means, covariances, covariance_type):
    "log N(x_n | mu_k, Sigma_k) from scipy.stats, one component at a time."
    d = X.shape[1]
    full = {"full": lambda c: c, "diag": np.diag, "spherical": lambda c: c * np.eye(d)}[
        covariance_type
    ]
    return np.stack(
        [
            scipy.stats.multivariate_normal(m, full(c)).logpdf(X)
            for m, c in zip(means, covariances, strict=True)
        ],
        axis=1,
    )


def random_covariances(rng, k, d, covariance_type, scale=1.0):
    if covariance_type == "full":
        A = rng.normal(size=(k, d, d))
        return scale * (A @ np.swapaxes(A, 1, 2) / d + 0.5 * np.eye(d))
    return scale * rng.uniform(0.5, 2.0, size=(k, d) if covariance_type == "diag" else k)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_log_gaussian_prob_matches_scipy_near_and_far_from_the_origin(covariance_type, offset):
    rng = np.random.default_rng(3)
    X = offset + rng.normal(size=(200, 4))
    means = offset + rng.normal(size=(3, 4))
    covariances = random_covariances(rng, 3, 4, covariance_type)
    got = log_gaussian_prob(
        X,
        means,
        precisions_cholesky_from_covariances(covariances, covariance_type),
        covariance_type,
    )
    np.testing.assert_allclose(
        got, scipy_log_densities(X, means, covariances, covariance_type), rtol=1e-9
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_densities_of_tight_clusters_far_apart_match_scipy(covariance_type):
    """Issue 11 item 2: components at 0 and 1e5 with sd 1e-3. Expanded moments (even shifted by the
    centre of the means) gave log-densities many nats above the Gaussian's peak."""
    rng = np.random.default_rng(12)
    means = np.array([[0.0, 0.0, 0.0], [1e5, 1e5, 1e5]])
    X = means[rng.integers(0, 2, size=100)] + 1e-3 * rng.normal(size=(100, 3))
    covariances = random_covariances(rng, 2, 3, covariance_type, scale=1e-6)
    got = log_gaussian_prob(
        X,
        means,
        precisions_cholesky_from_covariances(covariances, covariance_type),
        covariance_type,
    )
    expected = scipy_log_densities(X, means, covariances, covariance_type)
    near = (
        expected > -1e6
    )  # the other component's log-density is about -1e16: compare it relatively
    np.testing.assert_allclose(got[near], expected[near], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got[~near], expected[~near], rtol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_tight_clusters_far_apart_fit_without_a_false_collapse(covariance_type):
    rng = np.random.RandomState(0)
    X = np.concatenate([rng.normal(0.0, 1e-3, (100, 2)), rng.normal(1e5, 1e-3, (100, 2))])
    gm = GaussianMixture(2, covariance_type=covariance_type, reg_covar=0.0, random_state=0).fit(X)
    order = np.argsort(gm.means_[:, 0])
    np.testing.assert_allclose(
        gm.means_[order], [X[:100].mean(axis=0), X[100:].mean(axis=0)], rtol=1e-12, atol=1e-9
    )
    variances = np.asarray(gm.covariances_)[order].reshape(2, -1)
    exact = np.stack([X[:100].var(axis=0), X[100:].var(axis=0)])
    if covariance_type == "full":
        exact = np.stack(
            [np.cov(X[:100].T, bias=True).ravel(), np.cov(X[100:].T, bias=True).ravel()]
        )
        np.testing.assert_allclose(variances, exact, rtol=1e-6, atol=1e-12)
    else:
        expected = exact if covariance_type == "diag" else exact.mean(axis=1, keepdims=True)
        np.testing.assert_allclose(variances, expected, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_never_lowers_the_bound_with_groups_far_apart(covariance_type):
    """Issue 11 item 2: half the samples moved 1e5 away. The expanded-moment diag/spherical M-step
    (centred on the data's mean, between the groups) lowered the bound in 31 and 26 of 79 steps."""
    X = blobs(n=500, d=3, k=4, seed=13)
    X[::2] += 1e5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(
            4, covariance_type=covariance_type, reg_covar=0.0, tol=0.0, max_iter=80, random_state=0
        ).fit(X)
    lb = gm.lower_bounds_
    assert np.all(np.diff(lb) >= -1e-12 * np.abs(lb[1:])) and lb[-1] > lb[0]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("offset", [1e4, 1e6])
def test_em_never_lowers_the_bound_far_from_the_origin(covariance_type, offset):
    "Issue 11 item 2: at offset 1e6 the uncentred full E-step (P^T x - P^T mu) fell 26 of 79 times."
    X = blobs(n=500, d=3, k=4, seed=13)
    init = initial_parameters(X, 4, covariance_type)
    fits = {}
    for shift in (0.0, offset):
        start = dict(init, means_init=init["means_init"] + shift)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits[shift] = GaussianMixture(
                4, covariance_type=covariance_type, reg_covar=0.0, tol=0.0, max_iter=80, **start
            ).fit(X + shift)
    lb = fits[offset].lower_bounds_
    assert np.all(np.diff(lb) >= -1e-12 * np.abs(lb[1:]))
    # EM is translation-equivariant: far from the origin it must follow the same path.
    np.testing.assert_allclose(lb, fits[0.0].lower_bounds_, rtol=1e-7)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_no_overflow_or_invalid_in_50_dimensions_where_pdf_underflows(covariance_type):
    rng = np.random.default_rng(4)
    d = 50
    centres = np.stack([np.full(d, -3.0), np.full(d, 3.0)])
    X = centres[rng.integers(0, 2, size=400)] + 0.5 * rng.normal(size=(400, d))
    midpoints = 0.2 * rng.normal(size=(5, d))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        gm = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
        log_p = gm.score_samples(midpoints)
        resp = gm.predict_proba(midpoints)
        gm.predict(X), gm.score(X), gm.bic(X), gm.aic(X)
    assert gm.converged_
    # The seed's approach: every component's density of the midpoints underflows to exactly 0.
    pdfs = np.stack(
        [
            scipy.stats.multivariate_normal(
                m, c if c.ndim == 2 else np.diag(np.broadcast_to(c, d))
            ).pdf(midpoints)
            for m, c in zip(gm.means_, gm.covariances_, strict=True)
        ],
        axis=1,
    )
    assert np.all(pdfs == 0)
    assert np.all(np.isfinite(log_p)) and np.all(log_p < -745)
    log_joint = np.log(gm.weights_) + np.stack(
        [
            scipy.stats.multivariate_normal(
                m, c if c.ndim == 2 else np.diag(np.broadcast_to(c, d))
            ).logpdf(midpoints)
            for m, c in zip(gm.means_, gm.covariances_, strict=True)
        ],
        axis=1,
    )
    np.testing.assert_allclose(log_p, scipy.special.logsumexp(log_joint, axis=1), rtol=1e-10)
    np.testing.assert_allclose(resp, scipy.special.softmax(log_joint, axis=1), rtol=1e-6, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SkGaussianMixture(
            2,
            covariance_type=covariance_type,
            weights_init=gm.weights_,
            means_init=gm.means_,
            precisions_init=gm.precisions_,
            max_iter=1,
        ).fit(X)
    # One more EM step from our fitted parameters moves them by less than the tolerance already met.
    np.testing.assert_allclose(ref.lower_bound_, gm.score(X), rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["k-means++", "random"])
def test_em_never_decreases_the_likelihood(covariance_type, init_params):
    X = blobs(n=500, d=3, k=4, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(
            4,
            covariance_type=covariance_type,
            init_params=init_params,
            reg_covar=0.0,
            tol=0.0,
            max_iter=150,
            random_state=0,
        ).fit(X)
    lb = gm.lower_bounds_
    assert np.all(np.diff(lb) >= -1e-12 * np.abs(lb[1:]))
    assert lb[-1] > lb[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_components=st.integers(1, 3),
    n_features=st.integers(1, 3),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    init_params=st.sampled_from(["k-means++", "random"]),
    scale=st.floats(1e-2, 1e2),
)
def test_em_monotone_property(seed, n_components, n_features, covariance_type, init_params, scale):
    """The theorem holds for the exact M-step (reg_covar=0) on any data, up to rounding, until a
    component collapses onto too few samples (where the likelihood is unbounded): set aside."""
    rng = np.random.default_rng(seed)
    n = 40 * n_components
    centres = rng.normal(scale=3.0, size=(n_components, n_features))
    X = scale * (centres[rng.integers(0, n_components, size=n)] + rng.normal(size=(n, n_features)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            gm = GaussianMixture(
                n_components,
                covariance_type=covariance_type,
                init_params=init_params,
                reg_covar=0.0,
                tol=0.0,
                max_iter=40,
                random_state=seed,
            ).fit(X)
        except ValueError as err:
            assume("not positive definite" not in str(err))
            raise
    smallest_variance = np.min(np.asarray(gm.covariances_).reshape(n_components, -1))
    assume(gm.weights_.min() * n > n_features + 1 and smallest_variance > 1e-6 * scale**2)
    lb = gm.lower_bounds_
    assert np.all(np.diff(lb) >= -1e-11 * np.maximum(1.0, np.abs(lb[1:])))


def test_regularisation_is_added_to_the_covariances():
    X = blobs(n=300, d=2, k=2, seed=6)
    init = initial_parameters(X, 2, "full")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain, reg = (
            GaussianMixture(2, reg_covar=r, max_iter=1, tol=0.0, **init).fit(X) for r in (0.0, 0.5)
        )
    np.testing.assert_allclose(
        reg.covariances_ - plain.covariances_,
        0.5 * np.broadcast_to(np.eye(2), (2, 2, 2)),
        atol=1e-12,
    )


def test_partial_initial_parameters_override_only_their_own_part():
    "means_init alone: the weights and precisions come from the k-means++ start, not the means."
    X = blobs(n=300, d=2, k=2, seed=11)
    means_init = np.array([[-1.0, 0.5], [2.0, -2.0]])
    resp = kmeans_plusplus_responsibilities(X, 2, random_state=np.random.RandomState(0))
    nk, _, covariances = gaussian_parameters(X, resp, 1e-6)
    expected = e_step(
        X, nk / len(X), means_init, precisions_cholesky_from_covariances(covariances)
    )[0].mean()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(2, means_init=means_init, max_iter=1, random_state=0).fit(X)
    np.testing.assert_allclose(gm.lower_bounds_[0], expected, rtol=1e-14)


def test_zero_initial_weight_is_valid_and_silent():
    X = blobs(n=300, d=2, k=2, seed=7)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        gm = GaussianMixture(2, weights_init=[1.0, 0.0], random_state=0, max_iter=500).fit(X)
    assert gm.converged_ and np.all(np.isfinite(gm.means_))


def test_seeded_fits_are_reproducible():
    X = blobs(n=400, d=3, k=4, seed=8)
    for init_params in ("k-means++", "random"):
        a = GaussianMixture(4, init_params=init_params, random_state=3).fit(X)
        b = GaussianMixture(4, init_params=init_params, random_state=3).fit(X)
        np.testing.assert_array_equal(a.means_, b.means_)
        np.testing.assert_array_equal(a.lower_bounds_, b.lower_bounds_)
    resp_a = kmeans_plusplus_responsibilities(X, 4, random_state=0)
    resp_b = kmeans_plusplus_responsibilities(X, 4, random_state=1)
    assert not np.array_equal(resp_a, resp_b)


def test_kmeans_plusplus_gives_every_component_a_sample_even_with_duplicates():
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]]), 4, axis=0)
    for seed in range(20):
        resp = kmeans_plusplus_responsibilities(X, 5, random_state=seed)
        assert np.all(resp.sum(axis=0) >= 1) and np.all(resp.sum(axis=1) == 1)


def test_nonconvergence_warns_and_verbose_prints(capsys):
    X = blobs(n=300, d=2, k=3, seed=9)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=2"):
        gm = GaussianMixture(3, max_iter=2, tol=0.0, verbose=1, random_state=0).fit(X)
    assert not gm.converged_ and gm.n_iter_ == 2
    assert capsys.readouterr().out.count("lower bound") == 2


GOOD = np.random.default_rng(10).normal(size=(20, 2))
BAD_INPUT = [
    (dict(n_components=5), GOOD[:3], ValueError, "n_samples=3 must be >= n_components=5"),
    (dict(n_components=2), np.where(np.eye(20, 2) == 1, np.nan, GOOD), ValueError, "NaN"),
    (dict(n_components=2), np.where(np.eye(20, 2) == 1, np.inf, GOOD), ValueError, "infinity"),
    (
        dict(n_components=0),
        GOOD,
        ValueError,
        "The 'n_components' parameter of GaussianMixture must be an int in the "
        "range [1, inf). Got 0 instead.",
    ),
    (
        dict(n_components=True),
        GOOD,
        ValueError,
        "The 'n_components' parameter of GaussianMixture must be an int",
    ),
    (
        dict(n_components=2, max_iter=0),
        GOOD,
        ValueError,
        "The 'max_iter' parameter of GaussianMixture must be an int",
    ),
    (dict(n_components=2, max_iter=True), GOOD, ValueError, "The 'max_iter' parameter"),
    (dict(n_components=2, n_init=0), GOOD, ValueError, "The 'n_init' parameter"),
    (
        dict(n_components=2, tol=-1.0),
        GOOD,
        ValueError,
        "The 'tol' parameter of GaussianMixture must be a float in the range [0.0, inf)",
    ),
    (dict(n_components=2, reg_covar=float("nan")), GOOD, ValueError, "The 'reg_covar' parameter"),
    (
        dict(n_components=2, covariance_type="tied"),
        GOOD,
        ValueError,
        "The 'covariance_type' parameter",
    ),
    (dict(n_components=2, init_params="kmeans"), GOOD, ValueError, "The 'init_params' parameter"),
    (dict(n_components=2, warm_start=1), GOOD, ValueError, "The 'warm_start' parameter"),
    (
        dict(n_components=2),
        GOOD * 1e153,
        ValueError,
        "X has values too large (largest |x| = 1.87e+153 > 1e+150)",
    ),
    (dict(n_components=2), GOOD[:, 0], ValueError, "X: Expected 2D array"),
    (
        dict(n_components=2, weights_init=[1.0]),
        GOOD,
        ValueError,
        "weights_init should have shape (2,)",
    ),
    (dict(n_components=2, weights_init=[0.7, 0.7]), GOOD, ValueError, "sum to 1"),
    (dict(n_components=2, weights_init=[1.5, -0.5]), GOOD, ValueError, "must lie in [0, 1]"),
    (
        dict(n_components=2, means_init=np.zeros((2, 3))),
        GOOD,
        ValueError,
        "means_init should have shape (2, 2)",
    ),
    (
        dict(n_components=2, precisions_init=np.ones((2, 3, 3))),
        GOOD,
        ValueError,
        "precisions_init should have shape (2, 2, 2)",
    ),
    (
        dict(n_components=2, covariance_type="diag", precisions_init=np.ones(2)),
        GOOD,
        ValueError,
        "precisions_init should have shape (2, 2)",
    ),
    (
        dict(n_components=2, precisions_init=np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])),
        GOOD,
        ValueError,
        "precisions_init[1] is not symmetric positive definite",
    ),
    (
        dict(n_components=2, precisions_init=np.stack([[[1.0, 0.5], [0.0, 1.0]], np.eye(2)])),
        GOOD,
        ValueError,
        "precisions_init[0] is not symmetric positive definite",
    ),
    (
        dict(n_components=2, covariance_type="spherical", precisions_init=[1.0, 0.0]),
        GOOD,
        ValueError,
        "precisions_init must be positive",
    ),
    (dict(n_components=2, reg_covar=0.0), np.ones((10, 2)), ValueError, "not positive definite"),
]


@pytest.mark.parametrize("params, X, error, message", BAD_INPUT)
def test_bad_input_is_refused_clearly(params, X, error, message):
    with pytest.raises(error, match=re.escape(message)):
        GaussianMixture(**params).fit(X)


def test_predicting_needs_a_fit_and_the_same_features():
    with pytest.raises(NotFittedError):
        GaussianMixture(2).predict(GOOD)
    gm = GaussianMixture(2, random_state=0).fit(GOOD)
    with pytest.raises(ValueError, match="features"):
        gm.score_samples(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        gm.predict(np.full((2, 2), np.nan))


def test_score_samples_memory_is_bounded_by_the_result_not_k_d_n():
    """Issue 11 item 12: the full type built a (K, d, n) array per E-step (4.36 GB for 60,000 x 784,
    K = 10). Now the peak is about 8 (4 n K + 2 * 2**18) bytes, here under X's own size; the old one
    took 10 times X."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(16_000, 80))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(10, max_iter=1, random_state=0).fit(X[:2000])
    tracemalloc.start()
    try:
        gm.score_samples(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * (4 * len(X) * 10 + 2 * 2**18) * 1.25
    assert peak < X.nbytes


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_huge_finite_values_are_refused_not_turned_into_nan(covariance_type):
    "Issue 11 item 6: squares of |x| ~ 1e155 overflow; the fit gave an all-NaN model."
    X = blobs(n=200, d=2, k=2, seed=14)
    with pytest.raises(ValueError, match=r"X has values too large .*largest \|x\| = .*rescale X"):
        GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X * 1e155)
    gm = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X * 1e100)
    assert np.all(np.isfinite(gm.means_)) and np.isfinite(gm.lower_bound_)
    with pytest.raises(ValueError, match="X has values too large"):
        gm.score_samples(X * 1e155)


def test_n_init_is_never_worse_than_one_run_from_the_same_random_state():
    X = np.concatenate(
        [blobs(n=600, d=2, k=6, seed=15), blobs(n=200, d=2, k=3, spread=1.0, seed=16)]
    )
    gains = []
    for seed in range(8):
        single = GaussianMixture(7, random_state=seed).fit(X)
        best = GaussianMixture(7, n_init=4, random_state=seed).fit(X)
        assert best.lower_bound_ >= single.lower_bound_
        assert (
            best.n_iter_ == len(best.lower_bounds_) and best.lower_bounds_[-1] == best.lower_bound_
        )
        gains.append(best.lower_bound_ - single.lower_bound_)
    assert max(gains) > 0  # the restarts did find a better optimum somewhere
    # n_init draws its starts one after another from one random state: run 1 is the n_init=1 run.
    first = GaussianMixture(7, n_init=1, random_state=np.random.RandomState(3)).fit(X)
    np.testing.assert_array_equal(first.means_, GaussianMixture(7, random_state=3).fit(X).means_)


def test_warm_start_continues_instead_of_restarting():
    X = blobs(n=400, d=2, k=3, seed=17)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = GaussianMixture(3, max_iter=4, tol=0.0, warm_start=True, random_state=0)
        histories = [warm.fit(X).lower_bounds_.copy() for _ in range(3)]
        cold = GaussianMixture(3, max_iter=12, tol=0.0, random_state=0).fit(X)
    np.testing.assert_array_equal(np.concatenate(histories), cold.lower_bounds_)
    np.testing.assert_array_equal(warm.means_, cold.means_)
    for before, after in zip(histories, histories[1:], strict=False):
        assert after[0] >= before[-1] - 1e-12 * abs(
            before[-1]
        )  # the bound picks up where it stopped
    # Converged, a warm refit stops at once: its first change is measured against the last bound.
    converged = GaussianMixture(3, warm_start=True, random_state=0).fit(X)
    previous = converged.lower_bound_
    converged.fit(X)
    assert converged.n_iter_ == 1 and converged.lower_bound_ >= previous - 1e-12 * abs(previous)
    with pytest.raises(ValueError, match="warm_start=True continues the previous fit"):
        converged.set_params(n_components=2).fit(X)
    with pytest.raises(ValueError, match="features"):
        converged.set_params(n_components=3).fit(np.hstack([X, X]))


def test_a_failed_fit_leaves_the_estimator_as_it_was():
    X = blobs(n=300, d=2, k=2, seed=18)
    gm = GaussianMixture(2, random_state=0).fit(X).set_params(reg_covar=0.0)
    state = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in vars(gm).items()}
    for bad in (np.ones((10, 3)), X * 1e155):
        with pytest.raises(ValueError):
            gm.fit(bad)
        assert set(vars(gm)) == set(state)
        for key, value in state.items():
            np.testing.assert_array_equal(getattr(gm, key), value)
    fresh = GaussianMixture(2, reg_covar=0.0)
    with pytest.raises(ValueError):
        fresh.fit(np.ones((10, 3)))
    assert not hasattr(fresh, "n_features_in_")
    with pytest.raises(NotFittedError):
        fresh.predict(X)


def naive_kmeans_plusplus(X, n_clusters, random_state, n_local_trials=None):
    "scikit-learn's greedy k-means++ with loops and direct differences: an independent reference."
    rs = np.random.RandomState(random_state)
    n_local_trials = 2 + int(math.log(n_clusters)) if n_local_trials is None else n_local_trials
    chosen = [rs.randint(len(X))]
    closest = ((X - X[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, n_clusters):
        draws = rs.uniform(size=n_local_trials) * closest.sum()
        candidates = np.minimum(np.searchsorted(np.cumsum(closest), draws), len(X) - 1)
        options = [np.minimum(closest, ((X - X[c]) ** 2).sum(axis=1)) for c in candidates]
        best = int(np.argmin([o.sum() for o in options]))
        chosen.append(int(candidates[best]))
        closest = options[best]
    return np.array(chosen)


@pytest.mark.parametrize("seed", range(6))
def test_kmeans_plusplus_is_scikit_learns_greedy_algorithm(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 3)) * rng.uniform(0.5, 5, size=3)
    k = int(rng.integers(2, 12))
    centers, indices = kmeans_plusplus(X, k, random_state=seed)
    np.testing.assert_array_equal(indices, naive_kmeans_plusplus(X, k, seed))
    np.testing.assert_array_equal(centers, X[indices])
    _, indices5 = kmeans_plusplus(X, k, random_state=seed, n_local_trials=5)
    np.testing.assert_array_equal(indices5, naive_kmeans_plusplus(X, k, seed, n_local_trials=5))


def test_squared_distances_match_direct_differences_and_are_never_negative():
    rng = np.random.default_rng(19)
    X, Y = rng.normal(size=(40, 3)) + 1e3, rng.normal(size=(7, 3)) + 1e3
    direct = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_allclose(squared_distances(X, Y), direct, rtol=1e-6, atol=1e-6)
    norms = (np.einsum("ij,ij->i", X, X), np.einsum("ij,ij->i", Y, Y))
    np.testing.assert_array_equal(squared_distances(X, Y, *norms), squared_distances(X, Y))
    assert squared_distances(X, X).min() >= 0


# Issue 11 item 15: bad scalars and arrays for every hyper-parameter and public function.
def _is_int(v, low):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= low


def _is_real(v):
    return isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) and v >= 0


VALID = {
    "n_components": lambda v: _is_int(v, 1),
    "max_iter": lambda v: _is_int(v, 1),
    "n_init": lambda v: _is_int(v, 1),
    "tol": _is_real,
    "reg_covar": _is_real,
    "covariance_type": lambda v: isinstance(v, str) and v in COVARIANCE_TYPES,
    "init_params": lambda v: isinstance(v, str) and v in ("k-means++", "random"),
    "warm_start": lambda v: isinstance(v, (bool, np.bool_)),
    "verbose": lambda v: isinstance(v, (bool, np.bool_)) or _is_int(v, 0),
    "random_state": lambda v: (
        v is None or _is_int(v, 0) and v < 2**32 or isinstance(v, np.random.RandomState)
    ),
}
BAD_SCALARS = st.one_of(
    st.sampled_from(
        [
            True,
            False,
            None,
            "",
            "full",
            "x",
            [1],
            (2,),
            {},
            float("nan"),
            float("inf"),
            -float("inf"),
            1e300,
            -1,
            0,
            2**33,
            np.int64(-3),
        ]
    ),
    st.integers(-3, 3),
    st.floats(-2, 2),
    st.text(max_size=3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(name=st.sampled_from(sorted(VALID)), value=BAD_SCALARS)
def test_property_bad_hyperparameters_are_refused_naming_them(name, value):
    assume(not VALID[name](value))
    gm = GaussianMixture(**{"n_components": 1, name: value})
    with pytest.raises((ValueError, TypeError), match=f"'{name}'"):
        gm.fit(GOOD)
    assert not hasattr(gm, "n_features_in_")


def _bad_arrays():
    finite = st.floats(-5, 5)
    return st.one_of(
        st.sampled_from(
            [
                np.zeros(4),
                np.zeros((0, 2)),
                np.zeros((2, 2, 2)),
                np.array([["a", "b"], ["c", "d"]]),
                np.full((20, 2), np.nan),
                np.full((20, 2), np.inf),
                np.full((20, 2), 1e200),
                "X",
                3.0,
            ]
        ),
        st.lists(st.lists(finite, min_size=2, max_size=2), min_size=2, max_size=4).map(
            lambda rows: np.where(np.eye(len(rows), 2) == 1, np.nan, np.array(rows))
        ),
    )


@settings(max_examples=60, deadline=None)
@given(X=_bad_arrays())
def test_property_bad_data_is_refused_naming_x(X):
    for call in (
        lambda: GaussianMixture(1).fit(X),
        lambda: GaussianMixture(1).fit(GOOD).score_samples(X),
        lambda: kmeans_plusplus(X, 1),
        lambda: squared_distances(X, GOOD),
    ):
        with pytest.raises((ValueError, TypeError), match=r"\bX\b"):
            call()


INIT_SHAPES = {"weights_init": (2,), "means_init": (2, 2), "precisions_init": (2, 2, 2)}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(INIT_SHAPES)),
    shape=st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple),
    fill=st.sampled_from([0.5, -1.0, np.nan, np.inf]),
)
def test_property_bad_initial_parameters_are_refused_naming_them(name, shape, fill):
    value = np.full(shape, fill)
    right_shape = shape == INIT_SHAPES[name]
    assume(not (right_shape and name == "means_init" and np.isfinite(fill)))  # valid means
    assume(not (right_shape and name == "weights_init" and fill == 0.5))  # valid weights
    # all-0.5 2 x 2 precisions are singular: Cholesky passes or fails on rounding, either is right
    assume(not (right_shape and name == "precisions_init" and fill == 0.5))
    with pytest.raises((ValueError, TypeError), match=name):
        GaussianMixture(2, **{name: value}).fit(GOOD)


@settings(max_examples=60, deadline=None)
@given(n_clusters=BAD_SCALARS, n_local_trials=st.one_of(st.none(), BAD_SCALARS))
def test_property_kmeans_plusplus_scalars_are_checked_naming_them(n_clusters, n_local_trials):
    valid_k = _is_int(n_clusters, 1) and n_clusters <= len(GOOD)
    valid_trials = n_local_trials is None or _is_int(n_local_trials, 1)
    assume(not (valid_k and valid_trials))
    names = [
        name for name, ok in [("n_clusters", valid_k), ("n_local_trials", valid_trials)] if not ok
    ]
    with pytest.raises((ValueError, TypeError), match="|".join(names)):
        kmeans_plusplus(GOOD, n_clusters, n_local_trials=n_local_trials)


def _good_component_args():
    rng = np.random.default_rng(20)
    X = rng.normal(size=(30, 2))
    resp = rng.dirichlet([1.0, 1.0], size=30)
    nk, means, covariances = gaussian_parameters(X, resp, 1e-6)
    P = precisions_cholesky_from_covariances(covariances)
    return dict(X=X, means=means, precisions_cholesky=P, weights=nk / 30, resp=resp)


LOW_LEVEL = {
    "log_gaussian_prob": (log_gaussian_prob, ("X", "means", "precisions_cholesky")),
    "e_step": (e_step, ("X", "weights", "means", "precisions_cholesky")),
    "gaussian_parameters": (gaussian_parameters, ("X", "resp")),
}
BAD_ARRAYS = st.sampled_from(
    [
        np.array([["a", "b"]]),
        np.zeros((2, 2, 2, 2)),
        np.zeros(7),
        np.zeros((3, 5)),
        "text",
        np.ones(()),
    ]
)


@settings(max_examples=80, deadline=None)
@given(function=st.sampled_from(sorted(LOW_LEVEL)), data=st.data(), bad=BAD_ARRAYS)
def test_property_low_level_functions_name_the_bad_array(function, data, bad):
    func, names = LOW_LEVEL[function]
    name = data.draw(st.sampled_from(names))
    args = _good_component_args()
    call = {n: args[n] for n in names}
    call[name] = bad
    extra = (1e-6,) if function == "gaussian_parameters" else ()
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        func(*call.values(), *extra)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(mean=np.zeros(3), covariance=np.eye(2)), "do not match"),
        (dict(mean=[["x"]], covariance=np.eye(2)), "mean"),
        (dict(mean=np.zeros(3), covariance=np.eye(3), dims=(0, 3)), "dims must be two different"),
        (dict(mean=np.zeros(3), covariance=np.eye(3), dims=(1, 1)), "dims must be two different"),
    ],
)
def test_marginal_ellipse_refuses_bad_input_naming_it(kwargs, message):
    with pytest.raises(ValueError, match=message):
        marginal_ellipse(**kwargs)


def test_precisions_from_an_inverse_are_accepted_as_scikit_learn_accepts_them():
    "np.linalg.inv of a covariance is symmetric only to rounding: scikit-learn's rule accepts it."
    rng = np.random.RandomState(0)
    A = rng.normal(size=(2, 30, 30)) * [[[1.0]], [[1e3]]]
    covariances = A @ A.transpose(0, 2, 1) / 30 + 1e-3 * np.eye(30)
    precisions = np.linalg.inv(covariances)
    assert not np.array_equal(precisions, precisions.transpose(0, 2, 1))
    X = rng.normal(size=(200, 30))
    init = dict(weights_init=[0.5, 0.5], means_init=X[:2], precisions_init=precisions, max_iter=1)
    ours, sk = GaussianMixture(2, **init), SkGaussianMixture(2, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        np.testing.assert_allclose(ours.fit(X).means_, sk.fit(X).means_, rtol=1e-8, atol=1e-10)
