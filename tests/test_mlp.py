"""MLPClassifier and back-propagation: scikit-learn's estimator checks, gradient checks, parity
with LogisticRegression, dropout wiring, bad input."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

import coursework_lib.mlp as mlp
from coursework_lib.dropout import dropout_mask
from coursework_lib.functional import relu, sigmoid, softplus
from coursework_lib.gradcheck import check_gradients
from coursework_lib.logistic import LogisticRegression, logreg_gradients
from coursework_lib.mlp import (
    ACTIVATIONS,
    MLPClassifier,
    glorot_init,
    loss_and_gradients,
    mlp_log_proba,
    mlp_sgd_iter,
    one_hidden_layer_gradient,
)

# Short schedules below (and scikit-learn's checks) stop at their cap on purpose; the warning's own
# tests catch it with pytest.warns, which sees it whatever the filters say.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def blobs(n=120, n_features=4, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % n_classes
    centres = rng.normal(0, 3, (n_classes, n_features))
    return centres[y] + rng.standard_normal((n, n_features)), y


@pytest.mark.parametrize(
    "params",
    [
        dict(hidden_layer_sizes=(8,), activation="softplus", max_epochs=10),
        dict(
            hidden_layer_sizes=(6, 5),
            activation="relu",
            dropout=0.2,
            max_epochs=10,
            dtype=np.float32,
        ),
        dict(hidden_layer_sizes=(), activation="sigmoid", alpha=0.1, max_epochs=10, batch_size=16),
        dict(hidden_layer_sizes=(5,), max_epochs=10, early_stopping=True, validation_fraction=0.2),
    ],
    ids=["softplus", "relu-dropout-float32", "no-hidden-layer", "early-stopping"],
)
def test_check_estimator(params):
    check_estimator(MLPClassifier(**params))


def _params_and_grads(coefs, intercepts, coef_grads, intercept_grads):
    params = {f"W{i}": W for i, W in enumerate(coefs)} | {
        f"b{i}": b for i, b in enumerate(intercepts)
    }
    grads = {f"W{i}": g.copy() for i, g in enumerate(coef_grads)}
    grads |= {f"b{i}": g.copy() for i, g in enumerate(intercept_grads)}
    return params, grads


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(), (4,), (5, 4, 3)], ids=str)
@pytest.mark.parametrize("l2", [0.0, 0.1])
@pytest.mark.parametrize("with_masks", [False, True], ids=["no-dropout", "fixed-dropout-masks"])
def test_every_gradient_float64(activation, hidden, l2, with_masks):
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((6, 5)), np.arange(6) % 3
    coefs, intercepts = glorot_init([5, *hidden, 3], rng)
    intercepts = [rng.normal(0, 0.5, b.shape) for b in intercepts]
    masks = [dropout_mask((6, W.shape[1]), 0.8, rng) for W in coefs[:-1]] if with_masks else None

    def f():
        return loss_and_gradients(X, y, coefs, intercepts, activation, l2, masks)[0]

    _, coef_grads, intercept_grads = loss_and_gradients(
        X, y, coefs, intercepts, activation, l2, masks
    )
    errors = check_gradients(
        f, *_params_and_grads(coefs, intercepts, coef_grads, intercept_grads), eps=1e-5
    )
    assert max(errors.values()) < 1e-6


def test_one_hidden_layer_gradient_matches_batched_backprop():
    rng = np.random.RandomState(1)
    X, y = rng.standard_normal((7, 6)), rng.randint(0, 4, 7)
    V, a = rng.standard_normal((6, 5)), rng.standard_normal(5)
    W, b = rng.standard_normal((5, 4)), rng.standard_normal(4)
    _, (dV, dW), (da, db) = loss_and_gradients(X, y, [V, W], [a, b], activation="sigmoid")
    per_sample = [
        one_hidden_layer_gradient(x, int(t), V, a, W, b) for x, t in zip(X, y, strict=False)
    ]
    for ours, seed_form in zip((dV, da, dW, db), zip(*per_sample, strict=False), strict=False):
        np.testing.assert_allclose(ours, -np.mean(seed_form, axis=0), rtol=1e-12, atol=1e-15)


def test_no_hidden_layer_is_logistic_regression():
    "Same gradients as logreg_gradients, and the same SGD trajectory as LogisticRegression."
    X, y = blobs(100, 5, 3)
    X = X / 4
    rng = np.random.RandomState(2)
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    _, (dW,), (db,) = loss_and_gradients(X, y, [W], [b])
    dW_lr, db_lr = logreg_gradients(X, y, W, b)
    np.testing.assert_allclose(dW, -dW_lr, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, -db_lr, rtol=1e-12, atol=1e-15)

    ours = MLPClassifier(
        hidden_layer_sizes=(), learning_rate=0.1, batch_size=16, alpha=2.0, shuffle=False, tol=None
    )
    ours.partial_fit(X[:3], y[:3], classes=[0, 1, 2])
    for param in ours.coefs_ + ours.intercepts_:
        param[...] = 0.0  # LogisticRegression starts from zero
    for _ in range(3):
        ours.partial_fit(X, y)
    theirs = LogisticRegression(
        learning_rate=0.1, batch_size=16, max_epochs=3, alpha=2.0, shuffle=False, tol=None
    ).fit(X, y)
    np.testing.assert_allclose(ours.coefs_[0], theirs.coef_.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercepts_[0], theirs.intercept_, rtol=1e-10, atol=1e-12)


def test_dropout_draws_a_fresh_mask_per_layer_and_batch(monkeypatch):
    drawn = []

    def recording_mask(out, keep_prob, rng):
        out = fill(out, keep_prob, rng)
        drawn.append((keep_prob, out.shape, out.copy()))
        return out

    fill = mlp._fill_dropout_mask
    monkeypatch.setattr(mlp, "_fill_dropout_mask", recording_mask)
    X, y = blobs(40)
    MLPClassifier(
        hidden_layer_sizes=(7, 6),
        dropout=0.25,
        batch_size=16,
        max_epochs=2,
        tol=None,
        random_state=0,
    ).fit(X, y)
    # 2 epochs x 3 batches (16, 16, 8) x 2 hidden layers
    assert [shape for _, shape, _ in drawn] == [
        (16, 7),
        (16, 6),
        (16, 7),
        (16, 6),
        (8, 7),
        (8, 6),
    ] * 2
    assert {keep for keep, _, _ in drawn} == {0.75}
    first_layer = [M for _, shape, M in drawn if shape == (16, 7)]
    assert not np.array_equal(first_layer[0], first_layer[1])
    assert len({row.tobytes() for row in first_layer[0]}) > 1


def test_no_dropout_no_masks(monkeypatch):
    monkeypatch.setattr(
        mlp, "_fill_dropout_mask", lambda *a, **k: pytest.fail("dropout=0 must not draw masks")
    )
    MLPClassifier(hidden_layer_sizes=(5,), max_epochs=2, random_state=0).fit(*blobs(30))


def test_prediction_is_deterministic_and_uses_the_full_network():
    X, y = blobs()
    clf = MLPClassifier(hidden_layer_sizes=(10, 10), dropout=0.5, max_epochs=5, random_state=0).fit(
        X, y
    )
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    log_p, hidden = mlp_log_proba(X, clf.coefs_, clf.intercepts_, clf.activation)
    np.testing.assert_allclose(clf.predict_log_proba(X), log_p, rtol=1e-12, atol=1e-12)
    for ours, ref in zip(clf.hidden_activations(X), hidden, strict=False):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)


def test_history_reproducibility_and_pickle():
    X, y = blobs()
    a = MLPClassifier(hidden_layer_sizes=(8,), max_epochs=6, tol=None, random_state=3).fit(
        X, y, eval_set=[(X[:30], y[:30])]
    )
    b = MLPClassifier(hidden_layer_sizes=(8,), max_epochs=6, tol=None, random_state=3).fit(
        X, y, eval_set=[(X[:30], y[:30])]
    )
    assert a.history_ == b.history_
    assert set(a.history_) == {"loss", "accuracy", "eval_0_loss", "eval_0_accuracy"}
    assert all(len(v) == 6 for v in a.history_.values())
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.predict_proba(X), a.predict_proba(X))


def test_float32_end_to_end():
    X, y = blobs()
    clf = MLPClassifier(
        hidden_layer_sizes=(8,), max_epochs=5, random_state=0, dtype=np.float32
    ).fit(X, y)
    assert {W.dtype for W in clf.coefs_ + clf.intercepts_} == {np.dtype(np.float32)}
    assert clf.predict_proba(X).dtype == np.float32


def test_verbose_shows_a_progress_bar(capsys):
    MLPClassifier(hidden_layer_sizes=(4,), max_epochs=3, verbose=True, random_state=0).fit(
        *blobs(30)
    )
    assert "MLPClassifier" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda X, y: MLPClassifier().fit(X, y[:-1]),
            ValueError,
            "inconsistent numbers of samples",
        ),
        (lambda X, y: MLPClassifier().fit(np.full_like(X, np.inf), y), ValueError, "infinity"),
        (
            lambda X, y: MLPClassifier().fit(X.astype(str).astype(object) + "x", y),
            ValueError,
            "could not convert",
        ),
        (lambda X, y: MLPClassifier().fit(X, np.ones_like(y)), ValueError, "only one class"),
        (lambda X, y: MLPClassifier().fit(X[:0], y[:0]), ValueError, "0 sample(s)"),
        (lambda X, y: MLPClassifier().predict(X), NotFittedError, "not fitted"),
        (
            lambda X, y: (
                MLPClassifier(hidden_layer_sizes=(3,), max_epochs=1).fit(X, y).predict(X[:, :2])
            ),
            ValueError,
            "X has 2 features, but MLPClassifier is expecting 4 features",
        ),
        (
            lambda X, y: MLPClassifier(hidden_layer_sizes=(3,), max_epochs=1).fit(
                X, y, eval_set=[(X[:, :2], y)]
            ),
            ValueError,
            "X has 2 features",
        ),
        (
            lambda X, y: MLPClassifier(hidden_layer_sizes=(3,), max_epochs=1).fit(
                X, y, eval_set=[(X, y + 5)]
            ),
            ValueError,
            "eval_set[0] has labels not among classes_",
        ),
        (
            lambda X, y: MLPClassifier(hidden_layer_sizes="big").fit(X, y),
            ValueError,
            "The 'hidden_layer_sizes' parameter of MLPClassifier must be",
        ),
        (
            lambda X, y: MLPClassifier(dropout=-0.1).fit(X, y),
            ValueError,
            "The 'dropout' parameter of MLPClassifier",
        ),
        (
            lambda X, y: MLPClassifier(learning_rate=np.inf).fit(X, y),
            ValueError,
            "The 'learning_rate' parameter",
        ),
        (
            lambda X, y: MLPClassifier(batch_size=True).fit(X, y),
            ValueError,
            "The 'batch_size' parameter",
        ),
        (
            lambda X, y: MLPClassifier(dtype="float16").fit(X, y),
            ValueError,
            "The 'dtype' parameter of MLPClassifier must be float32 or float64",
        ),
        (
            lambda X, y: MLPClassifier(alpha=1.0, learning_rate=1.0).fit(X, y),
            ValueError,
            "flips the weights' sign",
        ),
        (
            lambda X, y: MLPClassifier(hidden_layer_sizes=(3,), learning_rate=1e30, alpha=0.0).fit(
                X * 1e4, y
            ),
            ValueError,
            "SGD diverged",
        ),
    ],
)
def test_bad_input(make, error, message):
    X, y = blobs()
    with pytest.raises(error, match=None) as info:
        make(X, y)
    assert message in str(info.value)


def test_loss_and_gradients_bad_input():
    coefs, intercepts = glorot_init([3, 2, 2], 0)
    X, y = np.zeros((4, 3)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="need at least one layer"):
        loss_and_gradients(X, y, [], [])
    with pytest.raises(ValueError, match="y must hold 4 integer class indices"):
        loss_and_gradients(X, y.astype(float), coefs, intercepts)
    with pytest.raises(ValueError, match="activation must be one of"):
        loss_and_gradients(X, y, coefs, intercepts, activation="elu")
    with pytest.raises(ValueError, match="coefs must be float32 or float64 arrays, got int64"):
        loss_and_gradients(X, y, [W.astype(np.int64) for W in coefs], intercepts)


finite = st.floats(-1e6, 1e6, allow_nan=False, width=64)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 40), elements=finite))
def test_inplace_activations_match_reference(z):
    for name, reference in (("softplus", softplus), ("sigmoid", sigmoid), ("relu", relu)):
        s = np.empty_like(z)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out = ACTIVATIONS[name](z.copy(), np.empty_like(z), s)
        np.testing.assert_allclose(out, reference(z), rtol=1e-14, atol=0)
        assert np.all((s >= 0) & (s <= 1))


# Issue 11 item 1: a fit that raises leaves the estimator exactly as it was.
def test_failed_refit_keeps_the_previous_model():
    X, y = blobs()
    clf = MLPClassifier(
        hidden_layer_sizes=(6,), max_epochs=3, tol=None, alpha=0.0, random_state=0
    ).fit(X, y)
    before, coefs = clf.predict_proba(X), [W.copy() for W in clf.coefs_]
    with pytest.raises(ValueError, match="SGD diverged"):
        clf.set_params(learning_rate=1e30).fit(X * 1e4, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    for W, W0 in zip(clf.coefs_, coefs, strict=False):
        np.testing.assert_array_equal(W, W0)
    assert clf.n_iter_ == 3 and len(clf.history_["loss"]) == 3


def test_failed_first_fit_and_partial_fit_leave_it_unfitted():
    X, y = blobs()
    clf = MLPClassifier(hidden_layer_sizes=(6,), learning_rate=1e100, alpha=0.0, random_state=0)
    with pytest.raises(ValueError, match="SGD diverged"):
        clf.fit(X * 1e4, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(ValueError, match="SGD diverged"):
        clf.partial_fit(X * 1e4, y, classes=[0, 1, 2])
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "classes_")


def test_failed_partial_fit_keeps_the_weights():
    X, y = blobs()
    clf = MLPClassifier(hidden_layer_sizes=(6,), alpha=0.0, random_state=0).partial_fit(
        X, y, classes=[0, 1, 2]
    )
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="SGD diverged"):
        clf.set_params(learning_rate=1e100).partial_fit(X * 1e4, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_iter_ == 1


# Issue 11 item 7: random_state=None draws from numpy's global RandomState, as in scikit-learn.
def test_random_state_none_honours_np_random_seed():
    X, y = blobs()
    fits = []
    for seed in (0, 0, 1):
        np.random.seed(seed)
        fits.append(
            MLPClassifier(hidden_layer_sizes=(5,), dropout=0.2, max_epochs=2, tol=None)
            .fit(X, y)
            .coefs_[0]
        )
    np.testing.assert_array_equal(fits[0], fits[1])
    assert not np.array_equal(fits[0], fits[2])


def test_random_state_accepts_a_randomstate_and_refuses_a_generator():
    X, y = blobs()
    a = MLPClassifier(
        hidden_layer_sizes=(5,), max_epochs=2, tol=None, random_state=np.random.RandomState(4)
    ).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(5,), max_epochs=2, tol=None, random_state=4).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    with pytest.raises(ValueError, match="The 'random_state' parameter of MLPClassifier"):
        MLPClassifier(random_state=np.random.default_rng(0)).fit(X, y)


# Issue 12: stopping rules and defaults.
def _digits_split(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


@pytest.mark.slow  # a few seconds: outside the inner loop, run in CI
def test_default_fit_is_within_a_point_of_scikit_learn_on_digits():
    "load_digits, 75/25 stratified splits from random states 0-2, standardised on the training part"
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    ours, theirs = [], []
    for seed in range(3):
        X_tr, X_te, y_tr, y_te = _digits_split(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)  # ours must converge by its rule
            clf = MLPClassifier(random_state=seed).fit(X_tr, y_tr)
        assert clf.n_iter_ < clf.max_epochs
        ours.append(clf.score(X_te, y_te))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            theirs.append(SklearnMLP(random_state=seed).fit(X_tr, y_tr).score(X_te, y_te))
    assert abs(np.mean(ours) - np.mean(theirs)) < 0.01, (ours, theirs)


def test_convergence_warning_at_the_cap_and_none_without_a_rule():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = blobs()
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        MLPClassifier(hidden_layer_sizes=(4,), max_epochs=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_epochs=2, tol=None, random_state=0).fit(
            X, y
        )
    assert clf.n_iter_ == 2 and all(len(v) == 2 for v in clf.history_.values())


def test_early_stopping_keeps_the_best_validation_epoch():
    X, y = blobs(300, seed=3)
    clf = MLPClassifier(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        n_iter_no_change=3,
        max_epochs=100,
        random_state=0,
    ).fit(X, y)
    h = clf.history_
    assert {"validation_loss", "validation_accuracy"} <= set(h) and len(h["loss"]) == clf.n_iter_
    assert clf.best_validation_score_ == max(h["validation_accuracy"])


# Sheet 1's per-sample SGD.
def test_mlp_sgd_iter_is_per_sample_gradient_ascent():
    rng = np.random.RandomState(0)
    X, t = rng.uniform(0, 1, (4, 5)), np.array([0, 2, 1, 2])
    (V, W), (a, b) = glorot_init([5, 3, 3], 1)
    a = a + 0.2
    order = np.random.RandomState(7).permutation(4)
    expected = [p.copy() for p in (V, a, W, b)]
    for i in order:
        for p, g in zip(
            expected, one_hidden_layer_gradient(X[i], int(t[i]), *expected), strict=False
        ):
            p += 0.05 * g
    got = mlp_sgd_iter(X, t, V, a, W, b, learning_rate=0.05, random_state=7)
    for ours, ref in zip(got, expected, strict=False):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)
    before = mlp_log_proba(X, [V, W], [a, b], "sigmoid")[0][np.arange(4), t].mean()
    after = mlp_log_proba(X, [got[0], got[2]], [got[1], got[3]], "sigmoid")[0][
        np.arange(4), t
    ].mean()
    assert after > before


# Issue 11 item 15: bad scalars and arrays end in a ValueError or TypeError that names the argument.
BAD_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=3),
    st.floats(allow_nan=True),
    st.integers(-3, 0),
    st.lists(st.integers(-1, 2), max_size=2),
    st.just(np.float32),
)
HYPER = [
    "hidden_layer_sizes",
    "activation",
    "dropout",
    "learning_rate",
    "batch_size",
    "max_epochs",
    "alpha",
    "shuffle",
    "random_state",
    "tol",
    "n_iter_no_change",
    "early_stopping",
    "validation_fraction",
    "dtype",
]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(HYPER), BAD_SCALARS)
def test_bad_hyper_parameters_name_the_argument(param, value):
    import warnings

    X, y = blobs(60)
    params = dict(hidden_layer_sizes=(3,), max_epochs=2, n_iter_no_change=1) | {param: value}
    if param == "max_epochs" and isinstance(value, int) and not isinstance(value, bool):
        params["max_epochs"] = min(value, 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MLPClassifier(**params).fit(X, y)
    except (ValueError, TypeError) as error:
        assert param in str(error), (param, value, str(error))


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["x", "t", "learning_rate", "random_state"]),
    st.one_of(BAD_SCALARS, arrays(np.float64, st.integers(0, 3), elements=st.floats(-2, 2))),
)
def test_mlp_sgd_iter_bad_arguments_name_the_argument(name, value):
    (V, W), (a, b) = glorot_init([4, 3, 2], 0)
    args = dict(X=np.ones((3, 4)), t=np.array([0, 1, 0]), learning_rate=0.1, random_state=0)
    args[{"x": "X"}.get(name, name)] = value
    try:
        mlp_sgd_iter(
            args["X"],
            args["t"],
            V,
            a,
            W,
            b,
            learning_rate=args["learning_rate"],
            random_state=args["random_state"],
        )
    except (ValueError, TypeError) as error:
        assert {"x": "X"}.get(name, name) in str(error), (name, value, str(error))
