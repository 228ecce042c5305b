"""MLPClassifier and back-propagation: scikit-learn's estimator checks, gradient checks of every parameter, parity
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
from coursework_lib.functional import relu, sigmoid, softplus
from coursework_lib.gradcheck import check_gradients
from coursework_lib.logistic import LogisticRegression, logreg_gradients
from coursework_lib.mlp import (ACTIVATIONS, MLPClassifier, glorot_init, loss_and_gradients, mlp_log_proba,
                                one_hidden_layer_gradient)


def blobs(n=120, n_features=4, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    centres = rng.normal(0, 3, (n_classes, n_features))
    return centres[y] + rng.standard_normal((n, n_features)), y


@pytest.mark.parametrize("params", [
    dict(hidden_layer_sizes=(8,), max_epochs=10),
    dict(hidden_layer_sizes=(6, 5), activation="relu", dropout=0.2, max_epochs=10, dtype=np.float32),
    dict(hidden_layer_sizes=(), activation="sigmoid", alpha=1.0, max_epochs=10, batch_size=16),
], ids=["softplus", "relu-dropout-float32", "no-hidden-layer"])
def test_check_estimator(params):
    check_estimator(MLPClassifier(**params))


def _params_and_grads(coefs, intercepts, coef_grads, intercept_grads):
    params = {f"W{l}": W for l, W in enumerate(coefs)} | {f"b{l}": b for l, b in enumerate(intercepts)}
    grads = {f"W{l}": g.copy() for l, g in enumerate(coef_grads)}
    grads |= {f"b{l}": g.copy() for l, g in enumerate(intercept_grads)}
    return params, grads


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(), (4,), (5, 4, 3)], ids=str)
@pytest.mark.parametrize("l2", [0.0, 0.1])
@pytest.mark.parametrize("with_masks", [False, True], ids=["no-dropout", "fixed-dropout-masks"])
def test_every_gradient_float64(activation, hidden, l2, with_masks):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 5)), np.arange(6) % 3
    coefs, intercepts = glorot_init([5, *hidden, 3], rng)
    intercepts = [rng.normal(0, 0.5, b.shape) for b in intercepts]
    masks = ([mlp.dropout_mask((6, W.shape[1]), 0.8, rng) for W in coefs[:-1]] if with_masks else None)
    f = lambda: loss_and_gradients(X, y, coefs, intercepts, activation, l2, masks)[0]
    _, coef_grads, intercept_grads = loss_and_gradients(X, y, coefs, intercepts, activation, l2, masks)
    errors = check_gradients(f, *_params_and_grads(coefs, intercepts, coef_grads, intercept_grads), eps=1e-5)
    assert max(errors.values()) < 1e-6


def test_one_hidden_layer_gradient_matches_batched_backprop():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((7, 6)), rng.integers(0, 4, 7)
    V, a = rng.standard_normal((6, 5)), rng.standard_normal(5)
    W, b = rng.standard_normal((5, 4)), rng.standard_normal(4)
    _, (dV, dW), (da, db) = loss_and_gradients(X, y, [V, W], [a, b], activation="sigmoid")
    per_sample = [one_hidden_layer_gradient(x, int(t), V, a, W, b) for x, t in zip(X, y)]
    for ours, seed_form in zip((dV, da, dW, db), zip(*per_sample)):
        np.testing.assert_allclose(ours, -np.mean(seed_form, axis=0), rtol=1e-12, atol=1e-15)


def test_no_hidden_layer_is_logistic_regression():
    "Same gradients as logreg_gradients, and the same SGD trajectory as LogisticRegression from the same start."
    X, y = blobs(100, 5, 3)
    X = X / 4
    rng = np.random.default_rng(2)
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    _, (dW,), (db,) = loss_and_gradients(X, y, [W], [b])
    dW_lr, db_lr = logreg_gradients(X, y, W, b)
    np.testing.assert_allclose(dW, -dW_lr, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, -db_lr, rtol=1e-12, atol=1e-15)

    ours = MLPClassifier(hidden_layer_sizes=(), learning_rate=0.1, batch_size=16, alpha=2.0, shuffle=False)
    ours.partial_fit(X[:3], y[:3], classes=[0, 1, 2])
    for param in ours.coefs_ + ours.intercepts_:
        param[...] = 0.0  # LogisticRegression starts from zero
    for _ in range(3):
        ours.partial_fit(X, y)
    theirs = LogisticRegression(learning_rate=0.1, batch_size=16, max_epochs=3, alpha=2.0, shuffle=False).fit(X, y)
    np.testing.assert_allclose(ours.coefs_[0], theirs.coef_.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercepts_[0], theirs.intercept_, rtol=1e-10, atol=1e-12)


def test_dropout_draws_a_fresh_mask_per_layer_and_batch(monkeypatch):
    drawn = []

    def recording_mask(shape, keep_prob, rng, dtype=np.float64, out=None):
        out = mlp_dropout_mask(shape, keep_prob, rng, dtype, out)
        drawn.append((keep_prob, out.shape, out.copy()))
        return out

    mlp_dropout_mask = mlp.dropout_mask
    monkeypatch.setattr(mlp, "dropout_mask", recording_mask)
    X, y = blobs(40)
    MLPClassifier(hidden_layer_sizes=(7, 6), dropout=0.25, batch_size=16, max_epochs=2, random_state=0).fit(X, y)
    # 2 epochs x 3 batches (16, 16, 8) x 2 hidden layers
    assert [shape for _, shape, _ in drawn] == [(16, 7), (16, 6), (16, 7), (16, 6), (8, 7), (8, 6)] * 2
    assert {keep for keep, _, _ in drawn} == {0.75}
    first_layer = [M for _, shape, M in drawn if shape == (16, 7)]
    assert not np.array_equal(first_layer[0], first_layer[1])
    assert len({row.tobytes() for row in first_layer[0]}) > 1


def test_no_dropout_no_masks(monkeypatch):
    monkeypatch.setattr(mlp, "dropout_mask", lambda *a, **k: pytest.fail("dropout=0 must not draw masks"))
    MLPClassifier(hidden_layer_sizes=(5,), max_epochs=2, random_state=0).fit(*blobs(30))


def test_prediction_is_deterministic_and_uses_the_full_network():
    X, y = blobs()
    clf = MLPClassifier(hidden_layer_sizes=(10, 10), dropout=0.5, max_epochs=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    log_p, hidden = mlp_log_proba(X, clf.coefs_, clf.intercepts_, clf.activation)
    np.testing.assert_allclose(clf.predict_log_proba(X), log_p, rtol=1e-12, atol=1e-12)
    for ours, ref in zip(clf.hidden_activations(X), hidden):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)


def test_history_reproducibility_and_pickle():
    X, y = blobs()
    a = MLPClassifier(hidden_layer_sizes=(8,), max_epochs=6, random_state=3).fit(X, y, eval_set=[(X[:30], y[:30])])
    b = MLPClassifier(hidden_layer_sizes=(8,), max_epochs=6, random_state=3).fit(X, y, eval_set=[(X[:30], y[:30])])
    assert a.history_ == b.history_
    assert set(a.history_) == {"loss", "accuracy", "eval_0_loss", "eval_0_accuracy"}
    assert all(len(v) == 6 for v in a.history_.values())
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.predict_proba(X), a.predict_proba(X))


def test_float32_end_to_end():
    X, y = blobs()
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_epochs=5, random_state=0, dtype=np.float32).fit(X, y)
    assert {W.dtype for W in clf.coefs_ + clf.intercepts_} == {np.dtype(np.float32)}
    assert clf.predict_proba(X).dtype == np.float32


def test_verbose_shows_a_progress_bar(capsys):
    MLPClassifier(hidden_layer_sizes=(4,), max_epochs=3, verbose=True, random_state=0).fit(*blobs(30))
    assert "MLPClassifier" in capsys.readouterr().err


@pytest.mark.parametrize("make, error, message", [
    (lambda X, y: MLPClassifier().fit(X, y[:-1]), ValueError, "inconsistent numbers of samples"),
    (lambda X, y: MLPClassifier().fit(np.full_like(X, np.inf), y), ValueError, "infinity"),
    (lambda X, y: MLPClassifier().fit(X.astype(str).astype(object) + "x", y), ValueError, "could not convert"),
    (lambda X, y: MLPClassifier().fit(X, np.ones_like(y)), ValueError, "only one class"),
    (lambda X, y: MLPClassifier().fit(X[:0], y[:0]), ValueError, "0 sample(s)"),
    (lambda X, y: MLPClassifier().predict(X), NotFittedError, "not fitted"),
    (lambda X, y: MLPClassifier(hidden_layer_sizes=(3,), max_epochs=1).fit(X, y).predict(X[:, :2]), ValueError,
     "X has 2 features, but MLPClassifier is expecting 4 features"),
    (lambda X, y: MLPClassifier(hidden_layer_sizes=(3,), max_epochs=1).fit(X, y, eval_set=[(X[:, :2], y)]),
     ValueError, "X has 2 features"),
    (lambda X, y: MLPClassifier(hidden_layer_sizes=(3,), max_epochs=1).fit(X, y, eval_set=[(X, y + 5)]),
     ValueError, "eval_set[0] has labels not among classes_"),
    (lambda X, y: MLPClassifier(hidden_layer_sizes="big").fit(X, y), ValueError, "hidden_layer_sizes must be"),
    (lambda X, y: MLPClassifier(dropout=-0.1).fit(X, y), ValueError, "dropout must be"),
    (lambda X, y: MLPClassifier(learning_rate=np.inf).fit(X, y), ValueError, "learning_rate must be"),
    (lambda X, y: MLPClassifier(batch_size=True).fit(X, y), ValueError, "batch_size must be"),
    (lambda X, y: MLPClassifier(dtype="float16").fit(X, y), ValueError, "dtype must be float32 or float64"),
    (lambda X, y: MLPClassifier(alpha=1e6, learning_rate=1.0).fit(X, y), ValueError, "flips the weights' sign"),
    (lambda X, y: MLPClassifier(hidden_layer_sizes=(3,), learning_rate=1e30).fit(X * 1e4, y), ValueError,
     "SGD diverged"),
])
def test_bad_input(make, error, message):
    X, y = blobs()
    with pytest.raises(error, match=None) as info:
        make(X, y)
    assert message in str(info.value)


def test_loss_and_gradients_bad_input():
    coefs, intercepts = glorot_init([3, 2, 2], np.random.default_rng(0))
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
