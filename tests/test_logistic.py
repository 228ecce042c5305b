"""LogisticRegression and the softmax-regression gradients: scikit-learn's estimator checks, bad
input, gradient checks, the per-sample/minibatch equivalence, parity with scikit-learn's solution,
stopping rules, restore on failure, partial_fit, thread safety, and the course data."""

import threading
import warnings

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_info

import coursework_lib.logistic
from coursework_lib.functional import one_hot
from coursework_lib.gradcheck import check_gradients
from coursework_lib.logistic import (
    LogisticRegression,
    MinibatchSGDClassifier,
    _sgd_epoch,
    logreg_gradient,
    logreg_gradients,
    logreg_log_likelihood,
    sgd_iter,
)

# Short schedules in the tests below stop at their cap on purpose; the warning's own tests catch it.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks(
    [LogisticRegression(max_epochs=5, tol=None), LogisticRegression(max_epochs=30)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    y = np.repeat(np.array(["b", "a", "c"]), 30)
    X = rng.normal(size=(90, 4))
    X[y == "a", 0] += 5
    X[y == "c", 1] += 5
    return X, y


# ---------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "make_X, match",
    [
        (lambda X: X[:, 0], "Expected 2D array"),
        (lambda X: np.where(X > 1.5, np.nan, X), "Input X contains NaN"),
        (lambda X: np.where(X > 1.5, np.inf, X), "Input X contains infinity"),
        (lambda X: np.full(X.shape, "pixel", dtype=object), "could not convert string to float"),
        (lambda X: X.astype(complex), "Complex data not supported"),
        (lambda X: X[:0], "0 sample"),
        (lambda X: X[:, :0], "0 feature"),
    ],
)
def test_fit_rejects_bad_X(blobs, make_X, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        LogisticRegression(max_epochs=1).fit(
            make_X(X), y[: len(make_X(X))] if make_X(X).ndim == 2 else y
        )


@pytest.mark.parametrize(
    "make_y, exc, match",
    [
        (lambda y: y[:-1], ValueError, "inconsistent numbers of samples"),
        (lambda y: np.full(len(y), "a"), ValueError, "only one class"),
        (lambda y: np.linspace(0, 1, len(y)), ValueError, "Unknown label type: continuous"),
        (
            lambda y: np.where(np.arange(len(y)) == 3, np.nan, 1.0),
            ValueError,
            "Input y contains NaN",
        ),
        (lambda y: None, ValueError, "requires y to be passed"),
    ],
)
def test_fit_rejects_bad_y(blobs, make_y, exc, match):
    X, y = blobs
    with pytest.raises(exc, match=match):
        LogisticRegression(max_epochs=1).fit(X, make_y(y))


def test_predict_rejects_bad_input(blobs):
    X, y = blobs
    with pytest.raises(NotFittedError):
        LogisticRegression().predict(X)
    clf = LogisticRegression(max_epochs=2).fit(X, y)
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        with pytest.raises(
            ValueError, match="X has 3 features, but LogisticRegression is expecting 4"
        ):
            method(X[:, :3])
        with pytest.raises(ValueError, match="Input X contains NaN"):
            method(np.where(X > 1, np.nan, X))
        with pytest.raises(ValueError, match="Expected 2D array"):
            method(X[0])


@pytest.mark.parametrize(
    "eval_set, match",
    [
        ("not a list", "list of \\(X, y\\) pairs"),
        ([(1, 2, 3)], "list of \\(X, y\\) pairs"),
        (lambda X, y: [(X[:, :2], y)], "X has 2 features"),
        (lambda X, y: [(X, y[:-1])], "inconsistent numbers of samples"),
        (
            lambda X, y: [(X, np.where(y == "a", "zebra", y))],
            "eval_set\\[0\\] has labels not among classes_ \\['a', 'b', 'c'\\]: \\['zebra'\\]",
        ),
        (lambda X, y: [(X, y), (np.where(X > 1, np.nan, X), y)], "NaN"),
    ],
)
def test_fit_rejects_bad_eval_set(blobs, eval_set, match):
    X, y = blobs
    es = eval_set(X, y) if callable(eval_set) else eval_set
    with pytest.raises(ValueError, match=match):
        LogisticRegression(max_epochs=1).fit(X, y, eval_set=es)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"learning_rate": 0},
            "The 'learning_rate' parameter of LogisticRegression must be a float in",
        ),
        ({"learning_rate": -0.1}, "'learning_rate' parameter"),
        ({"learning_rate": np.nan}, "'learning_rate' parameter"),
        ({"learning_rate": np.inf}, "'learning_rate' parameter"),
        ({"learning_rate": "0.1"}, "'learning_rate' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"batch_size": 8.0}, "'batch_size' parameter"),
        ({"max_epochs": 0}, "'max_epochs' parameter"),
        ({"max_epochs": True}, "'max_epochs' parameter"),
        ({"alpha": -1.0}, "'alpha' parameter"),
        ({"alpha": np.inf}, "'alpha' parameter"),
        ({"shuffle": "yes"}, "'shuffle' parameter"),
        ({"tol": -1.0}, "'tol' parameter"),
        ({"tol": "small"}, "'tol' parameter"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter"),
        ({"n_iter_no_change": 2.0}, "'n_iter_no_change'"),
        ({"early_stopping": "yes"}, "'early_stopping' parameter"),
        ({"validation_fraction": 0.0}, "'validation_fraction' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"learning_rate": 1.0, "alpha": 1.0}, "learning_rate \\* alpha = 1 must be < 1"),
    ],
)
def test_fit_rejects_bad_hyperparameters(blobs, params, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        LogisticRegression(max_epochs=1).set_params(**params).fit(X, y)


def test_divergence_is_reported(blobs):
    X, y = blobs
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="SGD diverged"):
        LogisticRegression(learning_rate=1e300, max_epochs=3).fit(X * 1e10, y)


# ----------------------------------------------------------------------------- the fitted estimator
def test_attributes_labels_and_history(blobs):
    X, y = blobs
    clf = LogisticRegression(max_epochs=30, tol=None, random_state=0)
    clf.fit(X, y, eval_set=[(X[:20], y[:20]), (X, y)])
    np.testing.assert_array_equal(clf.classes_, ["a", "b", "c"])
    assert clf.coef_.shape == (3, 4) and clf.intercept_.shape == (3,)
    assert clf.n_features_in_ == 4 and clf.n_iter_ == 30
    assert set(clf.history_) == {
        "loss",
        "accuracy",
        "eval_0_loss",
        "eval_0_accuracy",
        "eval_1_loss",
        "eval_1_accuracy",
    }
    assert all(len(v) == 30 and all(isinstance(e, float) for e in v) for v in clf.history_.values())
    # eval_1 is the training set itself, so it must reproduce the training history exactly.
    np.testing.assert_allclose(clf.history_["eval_1_loss"], clf.history_["loss"], rtol=1e-14)
    np.testing.assert_allclose(clf.history_["accuracy"][-1], clf.score(X, y), rtol=1e-14)
    log_p = clf.predict_log_proba(X)
    y_idx = np.searchsorted(clf.classes_, y)
    np.testing.assert_allclose(
        clf.history_["loss"][-1], -log_p[np.arange(len(y)), y_idx].mean(), rtol=1e-12
    )
    assert clf.score(X, y) > 0.95
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_arbitrary_label_values_map_consistently(blobs):
    X, y = blobs
    mapping = {"a": 10, "b": -3, "c": 7}
    y_int = np.array([mapping[v] for v in y])
    by_str = LogisticRegression(max_epochs=3, random_state=1).fit(X, y)
    by_int = LogisticRegression(max_epochs=3, random_state=1).fit(X, y_int)
    np.testing.assert_array_equal(by_int.classes_, [-3, 7, 10])
    # sorted classes: strings a<b<c, ints -3(b)<7(c)<10(a): the same rows, permuted.
    np.testing.assert_allclose(by_int.coef_, by_str.coef_[[1, 2, 0]], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(by_int.predict(X), [mapping[v] for v in by_str.predict(X)])


def test_two_classes_keep_the_softmax_parameterisation(blobs):
    X, y = blobs
    clf = LogisticRegression(max_epochs=3).fit(X[y != "c"], y[y != "c"])
    assert clf.coef_.shape == (2, 4)
    # From a zero start the two rows stay negatives of each other (the columns of every update sum
    # to zero).
    np.testing.assert_allclose(clf.coef_[0], -clf.coef_[1], rtol=1e-12, atol=1e-14)


def test_probabilities_are_normalised_and_safe_for_extreme_inputs(blobs):
    X, y = blobs
    clf = LogisticRegression(max_epochs=5).fit(X, y)
    with np.errstate(all="raise"):
        p, log_p = clf.predict_proba(X * 1e4), clf.predict_log_proba(X * 1e4)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(log_p)) and np.all(log_p <= 0)
    np.testing.assert_allclose(
        log_p,
        sps.log_softmax(X * 1e4 @ clf.coef_.T + clf.intercept_, axis=1),
        rtol=1e-12,
        atol=1e-9,
    )


def test_random_state_and_shuffle(blobs):
    X, y = blobs

    def fit(**kw):
        return LogisticRegression(max_epochs=3, batch_size=8, **kw).fit(X, y).coef_

    np.testing.assert_array_equal(fit(random_state=0), fit(random_state=0))
    assert not np.array_equal(fit(random_state=0), fit(random_state=1))
    np.testing.assert_array_equal(
        fit(shuffle=False, random_state=0), fit(shuffle=False, random_state=1)
    )


def test_verbose_shows_a_progress_bar(blobs, capsys):
    X, y = blobs
    LogisticRegression(max_epochs=2).fit(X, y)
    assert capsys.readouterr().err == ""
    LogisticRegression(max_epochs=2, verbose=True).fit(X, y)
    err = capsys.readouterr().err
    assert "LogisticRegression" in err and "2/2" in err and "loss=" in err


def test_features_are_used_as_given(blobs):
    X, y = blobs
    pixels = np.clip(np.round(X * 50 + 128), 0, 255).astype(np.uint8)  # raw, pixel-like integers
    clf = LogisticRegression(learning_rate=1e-5, max_epochs=3, random_state=0).fit(pixels, y)
    np.testing.assert_allclose(
        clf.predict_log_proba(pixels),
        sps.log_softmax(pixels.astype(float) @ clf.coef_.T + clf.intercept_, axis=1),
        rtol=1e-12,
        atol=1e-12,
    )
    # One full-batch step from zero (p = 1/K everywhere) is learning_rate * X^T (T - 1/K) / N in the
    # units of X itself.
    step = LogisticRegression(
        learning_rate=1e-5, batch_size=len(X), max_epochs=1, shuffle=False
    ).fit(pixels, y)
    T = one_hot(np.searchsorted(step.classes_, y), 3)
    np.testing.assert_allclose(
        step.coef_.T, 1e-5 * pixels.T.astype(float) @ (T - 1 / 3) / len(X), rtol=1e-12
    )


# ---------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("seed", range(4))
def test_single_datapoint_gradient_check(seed):
    rng = np.random.default_rng(seed)
    D, K = 6, 4
    x, t = rng.normal(size=D), int(rng.integers(K))
    W, b = rng.normal(size=(D, K)), rng.normal(size=K)
    dW, db = logreg_gradient(x, t, W, b)
    errors = check_gradients(
        lambda: logreg_log_likelihood(x[None], [t], W, b), {"W": W, "b": b}, {"W": dW, "b": db}
    )
    assert max(errors.values()) < 1e-6
    # Column vectors, as in seed 001.
    dW_c, db_c = logreg_gradient(x[:, None], t, W, b[:, None])
    np.testing.assert_array_equal(dW_c, dW)
    assert db_c.shape == (K, 1)
    np.testing.assert_array_equal(db_c[:, 0], db)


@pytest.mark.parametrize("average", [True, False])
def test_batched_gradient_check_and_sum_of_per_sample(average):
    rng = np.random.default_rng(42)
    X, t = rng.normal(size=(10, 5)), rng.integers(0, 3, size=10)
    W, b = rng.normal(size=(5, 3)), rng.normal(size=3)
    dW, db = logreg_gradients(X, t, W, b, average=average)
    errors = check_gradients(
        lambda: logreg_log_likelihood(X, t, W, b, average=average),
        {"W": W, "b": b},
        {"W": dW, "b": db},
    )
    assert max(errors.values()) < 1e-6
    per = [logreg_gradient(x, int(tn), W, b) for x, tn in zip(X, t, strict=False)]
    scale = 1 / len(t) if average else 1.0
    np.testing.assert_allclose(dW, scale * sum(g[0] for g in per), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, scale * sum(g[1] for g in per), rtol=1e-12, atol=1e-14)


def test_log_likelihood_matches_scipy():
    rng = np.random.default_rng(3)
    X, t = rng.normal(scale=30, size=(12, 4)), rng.integers(0, 5, size=12)
    W, b = rng.normal(size=(4, 5)), rng.normal(size=5)
    ref = sps.log_softmax(X @ W + b, axis=1)[np.arange(12), t]
    np.testing.assert_allclose(
        logreg_log_likelihood(X, t, W, b, average=False), ref.sum(), rtol=1e-13
    )
    np.testing.assert_allclose(logreg_log_likelihood(X, t, W, b), ref.mean(), rtol=1e-13)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda W, b: logreg_gradient(np.ones(5), 0, W, b),
            "x must have shape \\(4,\\) or \\(4, 1\\)",
        ),
        (lambda W, b: logreg_gradient(np.ones(4), 3, W, b), "0..2"),
        (lambda W, b: logreg_gradient(np.ones(4), True, W, b), "integer class index"),
        (
            lambda W, b: logreg_gradient(np.ones(4), 0, W, np.ones(4)),
            "b must have shape \\(3,\\) or \\(3, 1\\)",
        ),
        (lambda W, b: logreg_gradients(np.ones((2, 4)), [0], W, b), "one label per row"),
        (
            lambda W, b: logreg_gradients(np.ones((2, 5)), [0, 1], W, b),
            "X must have shape \\(N, 4\\)",
        ),
        (lambda W, b: logreg_gradients(np.ones((2, 4)), [0, 5], W, b), "0..2"),
        (
            lambda W, b: logreg_log_likelihood(np.ones((2, 4)), [0, 1], W.ravel(), b),
            "W must have shape \\(D, K\\)",
        ),
    ],
)
def test_gradient_functions_validate(call, match):
    W, b = np.zeros((4, 3)), np.zeros(3)
    with pytest.raises(ValueError, match=match):
        call(W, b)


# -------------------------------------------------------------------------------- SGD, equivalences
def test_batch_size_one_epoch_equals_the_seeds_per_sample_loop():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(40, 6)), rng.integers(0, 4, size=40)
    W_loop, b_loop = np.zeros((6, 4)), np.zeros(4)
    for n in np.random.RandomState(5).permutation(40):
        dW, db = logreg_gradient(X[n], int(y[n]), W_loop, b_loop)
        W_loop += 0.05 * dW
        b_loop += 0.05 * db
    clf = LogisticRegression(
        learning_rate=0.05, batch_size=1, max_epochs=1, tol=None, random_state=5
    )
    clf.fit(X, y)
    np.testing.assert_allclose(clf.coef_.T, W_loop, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(clf.intercept_, b_loop, rtol=1e-12, atol=1e-15)


def test_last_smaller_batch_is_averaged_over_its_own_length():
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 2, size=10)
    W, b = np.zeros((3, 2)), np.zeros(2)
    _sgd_epoch(
        X, one_hot(y, 2), W, b, learning_rate=0.3, batch_size=4, alpha=0.0, rng=None, shuffle=False
    )
    W_ref, b_ref = np.zeros((3, 2)), np.zeros(2)
    for sl in (slice(0, 4), slice(4, 8), slice(8, 10)):  # the last batch has 2 samples
        dW, db = logreg_gradients(
            X[sl], y[sl], W_ref, b_ref
        )  # the mean over the batch's actual length
        W_ref += 0.3 * dW
        b_ref += 0.3 * db
    np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-15)


def test_weight_decay_step():
    rng = np.random.default_rng(9)
    X, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 0, 1, 2])
    W, b = rng.normal(size=(3, 3)), rng.normal(size=3)
    W0, b0 = W.copy(), b.copy()
    _sgd_epoch(
        X, one_hot(y, 3), W, b, learning_rate=0.2, batch_size=6, alpha=0.5, rng=None, shuffle=False
    )
    dW, db = logreg_gradients(X, y, W0, b0)
    # The prior per sample seen: every sample's gradient carries -alpha W, so the mean does too.
    np.testing.assert_allclose(W, W0 + 0.2 * (dW - 0.5 * W0), rtol=1e-12)
    np.testing.assert_allclose(b, b0 + 0.2 * db, rtol=1e-12)  # no prior on the biases


def test_map_solution_equals_sklearn_with_C_equal_one_over_n_alpha():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    lam = 10.0  # the prior precision over the whole data set; alpha is its share per sample
    ours = LogisticRegression(
        learning_rate=0.5,
        batch_size=len(X),
        max_epochs=1500,
        alpha=lam / len(X),
        shuffle=False,
        tol=None,
    ).fit(X, y)
    ref = SkLogisticRegression(C=1 / lam, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_accuracy_on_par_with_sklearn_on_digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, y_tr, X_te, y_te = X[:1200], y[:1200], X[1200:], y[1200:]
    ours = LogisticRegression(max_epochs=100, tol=None, random_state=0)
    ours = ours.fit(X_tr, y_tr).score(X_te, y_te)
    ref = SkLogisticRegression(max_iter=2000).fit(X_tr, y_tr).score(X_te, y_te)
    assert ours >= ref - 0.02, (ours, ref)


def test_course_mnist(coursework_data):
    from coursework_lib.data import load_mnist

    X, y = load_mnist("train", data_dir=coursework_data)
    X_te, y_te = load_mnist("test", data_dir=coursework_data)
    clf = LogisticRegression(max_epochs=20, tol=None, random_state=0)
    clf.fit(X / 255.0, y, eval_set=[(X_te / 255.0, y_te)])
    assert clf.history_["eval_0_accuracy"][-1] > 0.87
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    np.testing.assert_allclose(clf.coef_.sum(axis=0), 0.0, atol=1e-10)


# ------------------------------------------------------------------ default fits vs scikit-learn
def _standardised_split(load):
    X, y = load(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


@pytest.mark.parametrize("load", [load_digits, load_breast_cancer, load_wine])
def test_default_fit_within_one_point_of_sklearns_default(load):
    X_tr, X_te, y_tr, y_te = _standardised_split(load)
    ours = LogisticRegression(random_state=0).fit(X_tr, y_tr)
    ref = SkLogisticRegression().fit(X_tr, y_tr)
    ours_acc, ref_acc = ours.score(X_te, y_te), ref.score(X_te, y_te)
    assert ours_acc >= ref_acc - 0.01, (ours_acc, ref_acc)
    assert ours.n_iter_ <= ours.max_epochs and len(ours.history_["loss"]) == ours.n_iter_


# ------------------------------------------------------------------------------ stopping rules
@pytest.fixture(scope="module")
def overlapping():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 40)
    X = rng.normal(size=(120, 3))
    X[y == 1, 0] += 1.5
    X[y == 2, 1] += 1.5
    return X, y


def test_training_loss_rule_stops_and_history_covers_the_epochs(overlapping):
    X, y = overlapping
    clf = LogisticRegression(random_state=0, n_iter_no_change=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it stops by the rule: no warning
        clf.fit(X, y)
    assert 6 <= clf.n_iter_ < clf.max_epochs
    assert all(len(v) == clf.n_iter_ for v in clf.history_.values())
    loss = np.array(clf.history_["loss"])  # alpha = 0: the objective is the loss
    stale = clf.n_iter_no_change + 1
    # Each of the last n_iter_no_change + 1 epochs failed to beat the running best by tol.
    running = np.minimum.accumulate(loss)
    assert np.all(loss[-stale:] > running[-stale - 1 : -1] - clf.tol)
    assert clf.best_loss_ == pytest.approx(loss.min())
    assert clf.best_validation_score_ is None


def test_cap_reached_first_warns_once_and_tol_none_runs_the_schedule(overlapping):
    X, y = overlapping
    match = "reached max_epochs=3 before its training loss"
    with pytest.warns(ConvergenceWarning, match=match) as record:
        clf = LogisticRegression(max_epochs=3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and len(record) == 1
    assert record[0].filename == __file__  # stacklevel=2: the warning points at the caller
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fixed = LogisticRegression(max_epochs=7, tol=None, random_state=0).fit(X, y)
    assert fixed.n_iter_ == 7 and len(fixed.history_["loss"]) == 7


def test_early_stopping_on_a_stratified_split_keeps_the_best_weights(overlapping):
    X, y = overlapping
    clf = LogisticRegression(
        early_stopping=True, validation_fraction=0.25, n_iter_no_change=3, random_state=0
    )
    clf.fit(X, y)
    h = clf.history_
    assert {"validation_loss", "validation_accuracy"} <= set(h) and clf.best_loss_ is None
    assert clf.n_iter_ < clf.max_epochs and all(len(v) == clf.n_iter_ for v in h.values())
    assert clf.best_validation_score_ == max(h["validation_accuracy"])
    # The split: 30 of 120 held out, 10 of each class; the training history is over the rest.
    rs = np.random.RandomState(0)
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=30, stratify=y, random_state=rs)
    assert np.bincount(y_val).tolist() == [10, 10, 10]
    # The weights kept are the best epoch's.
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)
    log_p = clf.predict_log_proba(X_tr)
    best = int(np.argmax(h["validation_accuracy"]))
    train_loss = -log_p[np.arange(len(y_tr)), y_tr].mean()
    np.testing.assert_allclose(train_loss, h["loss"][best], rtol=1e-12)


@pytest.mark.parametrize(
    "fraction, match",
    [
        (
            0.01,
            "validation_fraction=0.01 holds out 2 of 120 samples, too few to hold one sample of "
            "each of the 3",
        ),
        (0.99, "validation_fraction=0.99 holds out 119 of 120 samples, too few"),
    ],
)
def test_validation_fraction_too_small_for_the_classes_is_an_error(overlapping, fraction, match):
    X, y = overlapping
    with pytest.raises(ValueError, match=match):
        LogisticRegression(early_stopping=True, validation_fraction=fraction).fit(X, y)
    with pytest.raises(ValueError, match="the rarest class has 1"):
        LogisticRegression(early_stopping=True).fit(X[:81], np.r_[y[:80], 3])


# -------------------------------------------------------------------------- restore on failure
def _state(clf):
    return {
        k: (v.copy() if isinstance(v, np.ndarray) else v)
        for k, v in vars(clf).items()
        if k.endswith("_")
    }


def test_failed_fit_leaves_an_unfitted_model_unfitted(blobs):
    X, y = blobs
    clf = LogisticRegression(learning_rate=1e300, max_epochs=3, random_state=0)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="SGD diverged"):
        clf.fit(X * 1e300, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [k for k in vars(clf) if k.endswith("_") or k.startswith("_")]


@pytest.mark.parametrize(
    "bad_call",
    [
        lambda clf, X, y: clf.set_params(learning_rate=1e300).fit(X * 1e300, y),
        lambda clf, X, y: clf.set_params(learning_rate=1e300).partial_fit(X * 1e300, y),
        lambda clf, X, y: clf.fit(X, y, eval_set=[(X[:, :2], y)]),
        lambda clf, X, y: clf.partial_fit(X, np.where(y == "a", "zebra", y)),
        lambda clf, X, y: clf.set_params(early_stopping=True, validation_fraction=0.01).fit(X, y),
    ],
)
def test_failed_refit_keeps_the_previous_model(blobs, bad_call):
    X, y = blobs
    clf = LogisticRegression(max_epochs=4, tol=None, random_state=0).fit(X, y)
    before, proba = _state(clf), clf.predict_proba(X)
    with np.errstate(all="ignore"), pytest.raises(ValueError):
        bad_call(clf, X, y)
    after = _state(clf)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


# --------------------------------------------------------------------------------- partial_fit
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_partial_fit_in_chunks_equals_one_fit_epoch_with_the_prior(blobs, alpha):
    X, y = blobs
    whole = LogisticRegression(batch_size=10, max_epochs=1, alpha=alpha, shuffle=False, tol=None)
    whole.fit(X, y)
    chunked = LogisticRegression(batch_size=10, alpha=alpha, shuffle=False)
    for chunk in (slice(0, 40), slice(40, 50), slice(50, 90)):
        chunked.partial_fit(X[chunk], y[chunk], classes=np.unique(y))
    np.testing.assert_allclose(chunked.coef_, whole.coef_, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(chunked.intercept_, whole.intercept_, rtol=1e-13, atol=1e-15)
    assert chunked.n_iter_ == 3 and len(chunked.history_["loss"]) == 3


def test_partial_fit_needs_classes_first_and_continues_a_fit(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="classes must be passed to the first call"):
        LogisticRegression().partial_fit(X, y)
    clf = LogisticRegression(max_epochs=2, tol=None, random_state=0).fit(X, y)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.history_["loss"]) == 3
    with pytest.raises(ValueError, match="differs from classes_"):
        clf.partial_fit(X, y, classes=["a", "b"])


# ------------------------------------------------------------------------------------- threads
def _blas_threads():
    return [m["num_threads"] for m in threadpool_info() if m["user_api"] == "blas"]


def test_two_fits_in_two_threads_leave_the_blas_threads_as_they_were(blobs):
    X, y = blobs
    events = [threading.Event() for _ in range(4)]

    def overlapping_fit(go_in, may_leave):
        class Overlapping(LogisticRegression):
            def _sgd_epoch(self, X, T):
                go_in.set()
                may_leave.wait(10)
                super()._sgd_epoch(X, T)

        return Overlapping(max_epochs=1, tol=None)

    first, second = overlapping_fit(*events[:2]), overlapping_fit(*events[2:])
    outside = _blas_threads()
    if not outside or max(outside) == 1:
        pytest.skip("BLAS runs one thread already: a leaked cap could not be seen")
    runs = [threading.Thread(target=m.fit, args=(X, y)) for m in (first, second)]
    runs[0].start()
    events[0].wait(10)
    runs[1].start()
    events[2].wait(10)  # both fits are inside their BLAS block now
    events[1].set()
    runs[0].join(10)  # the first leaves while the second is still inside
    events[3].set()
    runs[1].join(10)
    # The earlier per-fit threadpool_limits left the process at one thread here.
    assert _blas_threads() == outside
    assert hasattr(first, "coef_") and hasattr(second, "coef_")


# ------------------------------------------------------------------------------------ sgd_iter
def test_sgd_iter_is_one_per_sample_pass_equal_to_the_batch_one_epoch():
    rng = np.random.default_rng(11)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 3, size=30)
    W0, b0 = rng.normal(size=(5, 3)), rng.normal(size=3)
    W0_copy, b0_copy = W0.copy(), b0.copy()
    W, b = sgd_iter(X, y, W0, b0, learning_rate=0.05, random_state=4)
    np.testing.assert_array_equal(W0, W0_copy)  # the inputs are left alone
    np.testing.assert_array_equal(b0, b0_copy)
    W_loop, b_loop = W0.copy(), b0.copy()
    for n in np.random.RandomState(4).permutation(30):  # the contract, written out
        dW, db = logreg_gradient(X[n], int(y[n]), W_loop, b_loop)
        W_loop += 0.05 * dW
        b_loop += 0.05 * db
    np.testing.assert_allclose(W, W_loop, rtol=1e-13, atol=1e-15)
    W_e, b_e = W0.copy(), b0.copy()
    rs = np.random.RandomState(4)
    _sgd_epoch(X, one_hot(y, 3), W_e, b_e, 0.05, batch_size=1, alpha=0.0, rng=rs, shuffle=True)
    np.testing.assert_allclose(W, W_e, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b, b_e, rtol=1e-12, atol=1e-15)
    clf = LogisticRegression(
        learning_rate=0.05, batch_size=1, max_epochs=1, tol=None, random_state=4
    ).fit(X, y)
    W_z, b_z = sgd_iter(X, y, np.zeros((5, 3)), np.zeros(3), learning_rate=0.05, random_state=4)
    np.testing.assert_allclose(clf.coef_.T, W_z, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(clf.intercept_, b_z, rtol=1e-12, atol=1e-15)
    # Sheet 1's column layout for b is kept.
    assert sgd_iter(X, y, W0, b0[:, None], random_state=0)[1].shape == (3, 1)


def test_module_docstring_names_the_sheet():
    assert coursework_lib.logistic.__doc__.startswith("Sheet 1 answered in full")
    assert "seed 00" not in coursework_lib.logistic.__doc__.lower()


# -------------------------------------------------------------------- bad input, property-based
BAD_SCALARS = [
    -1,
    -0.5,
    0,
    0.0,
    1.5,
    2,
    np.nan,
    np.inf,
    -np.inf,
    True,
    False,
    None,
    "0.1",
    "auto",
    [1],
    (2,),
    1e300,
    np.float64(-3.0),
    np.int64(-2),
    3 + 0j,
]
PARAMS = sorted(MinibatchSGDClassifier._parameter_constraints)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(PARAMS), value=st.sampled_from(BAD_SCALARS))
def test_any_bad_hyperparameter_fails_naming_it(blobs, name, value):
    X, y = blobs
    clf = LogisticRegression(max_epochs=2, tol=None).set_params(**{name: value})
    calls = [lambda: clf.fit(X, y), lambda: clf.partial_fit(X, y, classes=np.unique(y))]
    for call in calls[:1] if name == "max_epochs" else calls:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call()
        except (ValueError, TypeError) as error:
            diverged = name in ("learning_rate", "alpha") and "diverged" in str(error)
            assert name in str(error) or diverged, error


ARRAYS = st.sampled_from(
    [
        np.zeros(0),
        np.zeros((2, 2)),
        np.zeros((3, 4, 1)),
        np.full(4, np.nan),
        np.ones(4),
        np.ones((4, 3)),
        np.ones((4, 3), dtype=complex),
        np.array(["a", "b", "c"]),
        1.0,
        "x",
        None,
        np.array([0.5, 1.0, 2.0]),
        np.array([-1, 0, 5]),
    ]
)


@settings(max_examples=200, deadline=None)
@given(arg=st.sampled_from(["x", "t", "W", "b"]), value=ARRAYS)
def test_gradient_functions_fail_naming_the_bad_argument(arg, value):
    one = {"x": np.ones(4), "t": 1, "W": np.zeros((4, 3)), "b": np.zeros(3)}
    batch = {"X": np.ones((2, 4)), "t": np.array([0, 2]), "W": one["W"], "b": one["b"]}
    batch_arg = "X" if arg == "x" else arg
    calls = [(logreg_gradient, dict(one, **{arg: value}), arg)]
    for f in (logreg_gradients, logreg_log_likelihood):
        calls.append((f, dict(batch, **{batch_arg: value}), batch_arg))
    sheet = {"x_train": batch["X"], "t_train": batch["t"], "W": batch["W"], "b": batch["b"]}
    sheet[{"x": "x_train", "t": "t_train"}.get(arg, arg)] = value
    calls.append((sgd_iter, sheet, {"x": "x_train", "t": "t_train"}.get(arg, arg)))
    for f, kwargs, name in calls:
        try:
            with np.errstate(all="ignore"):
                f(**kwargs)
        except (ValueError, TypeError) as error:
            message = str(error)
            named = (
                message.startswith(f"{name} ") or f"'{name}'" in message or f" {name} " in message
            )
            assert named, (f.__name__, kwargs, message)
