"""Cross-checks of coursework_lib.mixture: scikit-learn's estimator contract, parity with
sklearn.mixture.GaussianMixture from identical initial parameters, numerical safety in high dimension, the EM
monotonicity theorem (also as a property test), and bad input."""
import re
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
    kmeans_plusplus_responsibilities,
    log_gaussian_prob,
    precisions_cholesky_from_covariances,
)


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    "These problems are tiny: extra BLAS threads only add overhead, and on a busy 2-core machine they thrash."
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def blobs(n=1000, d=5, k=10, spread=4.0, seed=0):
    "Samples of a random k-component Gaussian mixture in d dimensions, with random full covariances."
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=spread, size=(k, d))
    shapes = rng.normal(size=(k, d, d)) / np.sqrt(d) + np.eye(d)
    labels = rng.integers(0, k, size=n)
    return centres[labels] + np.einsum("nij,nj->ni", shapes[labels], rng.normal(size=(n, d)))


def initial_parameters(X, n_components, covariance_type, init_params="k-means++", seed=0):
    "weights/means/precisions after our own initialisation and one EM step, to hand to both estimators."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(n_components, covariance_type=covariance_type, init_params=init_params, max_iter=1,
                             random_state=seed).fit(X)
    return dict(weights_init=gm.weights_, means_init=gm.means_, precisions_init=gm.precisions_)


def fit_both(X, n_components, covariance_type, max_iter, tol, **init):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(n_components, covariance_type=covariance_type, max_iter=max_iter, tol=tol,
                               **init).fit(X)
        ref = SkGaussianMixture(n_components, covariance_type=covariance_type, max_iter=max_iter, tol=tol,
                                **init).fit(X)
    return ours, ref


@parametrize_with_checks([GaussianMixture(2, covariance_type=c, max_iter=50, random_state=0)
                          for c in COVARIANCE_TYPES])
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
    np.testing.assert_allclose(ours.precisions_cholesky_, ref.precisions_cholesky_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.precisions_, ref.precisions_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_convergence_and_predictions_match_sklearn(covariance_type):
    X = blobs(n=600, d=3, k=4, seed=1)
    X_new = blobs(n=100, d=3, k=4, seed=2)
    ours, ref = fit_both(X, 4, covariance_type, max_iter=200, tol=1e-3,
                         **initial_parameters(X, 4, covariance_type))
    assert ours.converged_ and ref.converged_
    assert ours.n_iter_ == ref.n_iter_ == len(ours.lower_bounds_)
    assert ours.lower_bounds_[-1] == ours.lower_bound_
    np.testing.assert_allclose(ours.score_samples(X_new), ref.score_samples(X_new), rtol=1e-8)
    np.testing.assert_allclose(ours.score(X_new), ref.score(X_new), rtol=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X_new), ref.predict_proba(X_new), rtol=1e-6, atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X_new), ref.predict(X_new))
    np.testing.assert_allclose(ours.bic(X_new), ref.bic(X_new), rtol=1e-8)
    np.testing.assert_allclose(ours.aic(X_new), ref.aic(X_new), rtol=1e-8)
    np.testing.assert_array_equal(ours.fit_predict(X), ours.predict(X))


def test_log_gaussian_prob_matches_scipy_far_from_the_origin():
    "The diag/spherical expansion is shifted by the centre of the means, so a large offset costs no accuracy."
    rng = np.random.default_rng(3)
    offset = 1e6
    X = offset + rng.normal(size=(200, 4))
    means = offset + rng.normal(size=(3, 4))
    variances = rng.uniform(0.5, 2.0, size=(3, 4))
    expected = np.stack([scipy.stats.multivariate_normal(m, np.diag(v)).logpdf(X) for m, v in zip(means, variances)],
                        axis=1)
    got = log_gaussian_prob(X, means, precisions_cholesky_from_covariances(variances, "diag"), "diag")
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    full = precisions_cholesky_from_covariances(np.stack([np.diag(v) for v in variances]))
    np.testing.assert_allclose(log_gaussian_prob(X, means, full, "full"), expected, rtol=1e-9)


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
    pdfs = np.stack([scipy.stats.multivariate_normal(m, c if c.ndim == 2 else np.diag(np.broadcast_to(c, d)))
                     .pdf(midpoints) for m, c in zip(gm.means_, gm.covariances_)], axis=1)
    assert np.all(pdfs == 0)
    assert np.all(np.isfinite(log_p)) and np.all(log_p < -745)
    log_joint = np.log(gm.weights_) + np.stack(
        [scipy.stats.multivariate_normal(m, c if c.ndim == 2 else np.diag(np.broadcast_to(c, d))).logpdf(midpoints)
         for m, c in zip(gm.means_, gm.covariances_)], axis=1)
    np.testing.assert_allclose(log_p, scipy.special.logsumexp(log_joint, axis=1), rtol=1e-10)
    np.testing.assert_allclose(resp, scipy.special.softmax(log_joint, axis=1), rtol=1e-6, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SkGaussianMixture(2, covariance_type=covariance_type, weights_init=gm.weights_, means_init=gm.means_,
                                precisions_init=gm.precisions_, max_iter=1).fit(X)
    # One more EM step from our fitted parameters moves them by less than the tolerance already met.
    np.testing.assert_allclose(ref.lower_bound_, gm.score(X), rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["k-means++", "random"])
def test_em_never_decreases_the_likelihood(covariance_type, init_params):
    X = blobs(n=500, d=3, k=4, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(4, covariance_type=covariance_type, init_params=init_params, reg_covar=0.0, tol=0.0,
                             max_iter=150, random_state=0).fit(X)
    lb = gm.lower_bounds_
    assert np.all(np.diff(lb) >= -1e-12 * np.abs(lb[1:]))
    assert lb[-1] > lb[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(seed=st.integers(0, 2**32 - 1), n_components=st.integers(1, 3), n_features=st.integers(1, 3),
       covariance_type=st.sampled_from(COVARIANCE_TYPES), init_params=st.sampled_from(["k-means++", "random"]),
       scale=st.floats(1e-2, 1e2))
def test_em_monotone_property(seed, n_components, n_features, covariance_type, init_params, scale):
    """The theorem holds for the exact M-step (reg_covar=0) on any data, up to rounding, until a component
    collapses onto too few samples (where the likelihood is unbounded); such runs are set aside."""
    rng = np.random.default_rng(seed)
    n = 40 * n_components
    centres = rng.normal(scale=3.0, size=(n_components, n_features))
    X = scale * (centres[rng.integers(0, n_components, size=n)] + rng.normal(size=(n, n_features)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            gm = GaussianMixture(n_components, covariance_type=covariance_type, init_params=init_params,
                                 reg_covar=0.0, tol=0.0, max_iter=40, random_state=seed).fit(X)
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
        plain, reg = (GaussianMixture(2, reg_covar=r, max_iter=1, tol=0.0, **init).fit(X) for r in (0.0, 0.5))
    np.testing.assert_allclose(reg.covariances_ - plain.covariances_, 0.5 * np.broadcast_to(np.eye(2), (2, 2, 2)),
                               atol=1e-12)


def test_partial_initial_parameters_override_only_their_own_part():
    "means_init alone: the weights and precisions still come from the seeded k-means++ start, the means do not."
    X = blobs(n=300, d=2, k=2, seed=11)
    means_init = np.array([[-1.0, 0.5], [2.0, -2.0]])
    resp = kmeans_plusplus_responsibilities(X, 2, random_state=np.random.RandomState(0))
    nk, _, covariances = gaussian_parameters(X, resp, 1e-6)
    expected = e_step(X, nk / len(X), means_init, precisions_cholesky_from_covariances(covariances))[0].mean()
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
    (dict(n_components=0), GOOD, ValueError, "n_components must be an integer >= 1"),
    (dict(n_components=2, max_iter=0), GOOD, ValueError, "max_iter must be an integer >= 1"),
    (dict(n_components=2, tol=-1.0), GOOD, ValueError, "tol must be a number >= 0"),
    (dict(n_components=2, reg_covar=float("nan")), GOOD, ValueError, "reg_covar must be a number >= 0"),
    (dict(n_components=2, covariance_type="tied"), GOOD, ValueError, "covariance_type must be one of"),
    (dict(n_components=2, init_params="kmeans"), GOOD, ValueError, "init_params must be 'k-means++' or 'random'"),
    (dict(n_components=2, weights_init=[1.0]), GOOD, ValueError, "weights_init should have shape (2,)"),
    (dict(n_components=2, weights_init=[0.7, 0.7]), GOOD, ValueError, "sum to 1"),
    (dict(n_components=2, weights_init=[1.5, -0.5]), GOOD, ValueError, "must lie in [0, 1]"),
    (dict(n_components=2, means_init=np.zeros((2, 3))), GOOD, ValueError, "means_init should have shape (2, 2)"),
    (dict(n_components=2, precisions_init=np.ones((2, 3, 3))), GOOD, ValueError,
     "precisions_init should have shape (2, 2, 2)"),
    (dict(n_components=2, covariance_type="diag", precisions_init=np.ones(2)), GOOD, ValueError,
     "precisions_init should have shape (2, 2)"),
    (dict(n_components=2, precisions_init=np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])), GOOD, ValueError,
     "precisions_init[1] is not symmetric positive definite"),
    (dict(n_components=2, precisions_init=np.stack([[[1.0, 0.5], [0.0, 1.0]], np.eye(2)])), GOOD, ValueError,
     "precisions_init[0] is not symmetric positive definite"),
    (dict(n_components=2, covariance_type="spherical", precisions_init=[1.0, 0.0]), GOOD, ValueError,
     "precisions_init must be positive"),
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
