"""Property and edge-case tests for coursework_lib.gradcheck (the checker every gradient test relies
on)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import coursework_lib.gradcheck
from coursework_lib.gradcheck import TINY, check_gradients, numerical_gradient, relative_error

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.floats(-3, 3))
)
def test_numerical_gradient_of_a_smooth_function_and_restoration(x):
    x0 = x.copy()
    g = numerical_gradient(lambda: np.sum(np.sin(x) + x**2), x)
    np.testing.assert_allclose(g, np.cos(x0) + 2 * x0, rtol=1e-6, atol=1e-8)
    assert np.array_equal(x, x0)


def test_numerical_gradient_is_second_order():
    x = np.array([0.7])

    def f():
        return float(np.exp(x[0]))

    errs = [abs(numerical_gradient(f, x, eps=h)[0] - np.exp(0.7)) for h in (1e-2, 5e-3)]
    np.testing.assert_allclose(errs[0] / errs[1], 4.0, rtol=1e-3)


def test_numerical_gradient_restores_on_exception_at_any_coordinate():
    x = np.arange(6.0).reshape(2, 3)
    x0 = x.copy()
    count = {"n": 0}

    def f():
        count["n"] += 1
        if count["n"] == 7:  # second evaluation of the fourth coordinate
            raise KeyError("inside f")
        return float(x.sum())

    with pytest.raises(KeyError, match="inside f"):
        numerical_gradient(f, x)
    assert np.array_equal(x, x0)


@pytest.mark.parametrize(
    "x, f, exc, match",
    [
        (np.ones(3, dtype=np.float32), lambda: 0.0, TypeError, "float64"),
        (np.ones(3, dtype=np.int64), lambda: 0.0, TypeError, "float64"),
        ([1.0, 2.0], lambda: 0.0, TypeError, "numpy.ndarray"),
        (np.ones(3), lambda: np.ones(2), TypeError, "scalar"),
        (np.ones(3), lambda: np.inf, ValueError, "inf"),
    ],
)
def test_numerical_gradient_bad_input(x, f, exc, match):
    with pytest.raises(exc, match=match):
        numerical_gradient(f, x)


@pytest.mark.parametrize("eps", [0, -1e-6, np.nan, np.inf, "1e-6", None])
def test_numerical_gradient_bad_eps(eps):
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda: 0.0, np.ones(2), eps=eps)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, 5, elements=finite), arrays(np.float64, 5, elements=finite))
def test_relative_error_properties(a, n):
    r = relative_error(a, n)
    assert 0.0 <= r <= 1.0
    assert r == relative_error(n, a)
    assert relative_error(a, a) == 0.0
    # Invariant under scaling both sides by a power of two (exact in binary floating point for
    # normal numbers).
    assert relative_error(a * 2.0**40, n * 2.0**40) == r


def test_relative_error_tiny_guards_only_zero_over_zero():
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error([TINY / 4], [0.0]) == pytest.approx(
        0.25
    )  # subnormal: floor in effect, result still <= 1
    assert (
        relative_error([1e-200], [0.0]) == 1.0
    )  # no absolute floor: a tiny non-zero gradient vs zero is wrong
    assert TINY == np.finfo(np.float64).tiny


@pytest.mark.parametrize(
    "a, n, exc, match",
    [
        (np.ones(3), np.ones(4), ValueError, "shape"),
        (np.ones((3, 1)), np.ones(3), ValueError, "shape"),
        ([np.nan], [0.0], ValueError, "analytic contains nan"),
        ([0.0], [np.inf], ValueError, "numeric contains nan or inf"),
        (["x"], [0.0], TypeError, "real numbers"),
        ([1 + 1j], [0.0], TypeError, "real numbers"),
    ],
)
def test_relative_error_bad_input(a, n, exc, match):
    with pytest.raises(exc, match=match):
        relative_error(a, n)


def _softmax_regression(rng):
    X, t = rng.normal(size=(6, 4)), np.array([0, 1, 2, 1, 0, 2])
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)

    def f():
        z = X @ W + b
        return float(np.sum(z[np.arange(6), t] - np.log(np.sum(np.exp(z), axis=1))))

    z = X @ W + b
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    delta = np.eye(3)[t] - p
    return f, {"W": W, "b": b}, {"W": X.T @ delta, "b": delta.sum(axis=0)}


def test_check_gradients_accepts_correct_and_names_the_wrong_parameter():
    f, params, grads = _softmax_regression(np.random.default_rng(0))
    errors = check_gradients(f, params, grads)
    assert set(errors) == {"W", "b"} and max(errors.values()) < 1e-7
    wrong = dict(grads, b=grads["b"] * 1.001)
    with pytest.raises(AssertionError, match="parameter 'b' has relative error"):
        check_gradients(f, params, wrong)


def test_check_gradients_validation():
    f, params, grads = _softmax_regression(np.random.default_rng(1))
    with pytest.raises(ValueError, match=r"missing from grads \['b'\]"):
        check_gradients(f, params, {"W": grads["W"]})
    with pytest.raises(ValueError, match="shape"):
        check_gradients(f, params, dict(grads, W=grads["W"].T))
    with pytest.raises(TypeError, match=r"grads\['W'\] must have dtype float64"):
        check_gradients(f, params, dict(grads, W=grads["W"].astype(np.float32)))
    match = "The 'params' parameter of check_gradients must be an instance of 'dict'"
    with pytest.raises(TypeError, match=match):
        check_gradients(f, list(params.values()), grads)
    with pytest.raises(ValueError, match="The 'rtol' parameter of check_gradients"):
        check_gradients(f, params, grads, rtol=-1)


# ------------------------------------------------------------- nan must fail (issue 11, item 3)
def test_wrong_sign_near_the_float64_limit_fails_the_check():
    x = np.array([0.5])

    def f():
        return float(1.5e308 * x[0])  # f' = 1.5e308: |a| + |n| overflows for a = -n

    assert relative_error([-1.5e308], [1.5e308]) == 1.0  # literally inf / inf = nan
    assert relative_error([1.5e308], [1.5e308 * (1 + 2**-40)]) == pytest.approx(2**-41, rel=1e-3)
    with pytest.raises(AssertionError, match="parameter 'x' has relative error 1.000e\\+00"):
        check_gradients(f, {"x": x}, {"x": np.array([-1.5e308])})
    assert check_gradients(f, {"x": x}, {"x": np.array([1.5e308])})["x"] < 1e-9


def test_a_nan_relative_error_fails_rather_than_passes(monkeypatch):
    x = np.array([1.0, 2.0])
    monkeypatch.setattr(coursework_lib.gradcheck, "relative_error", lambda a, n: float("nan"))
    with pytest.raises(AssertionError, match="parameter 'x' has relative error nan"):
        check_gradients(lambda: float(np.sum(x**2)), {"x": x}, {"x": 2 * x})


# ------------------------------------------------------------------ bad input, property-based
BAD = st.sampled_from(
    [
        -1,
        0,
        0.0,
        -1e-6,
        np.nan,
        np.inf,
        -np.inf,
        True,
        None,
        "1e-6",
        [1.0],
        (1e-6,),
        {},
        3 + 0j,
        np.zeros(3),
        np.zeros(3, dtype=np.float32),
        np.zeros((2, 2), dtype=int),
        "f",
        object(),
    ]
)
WHICH = ["f", "x", "eps", "params", "grads", "rtol", "analytic", "numeric"]


@settings(max_examples=200, deadline=None)
@given(which=st.sampled_from(WHICH), value=BAD)
def test_bad_arguments_fail_naming_the_argument(which, value):
    x = np.array([0.3, -0.2, 0.5])

    def f():
        return float(np.sum(x**2))

    good = {"f": f, "params": {"x": x}, "grads": {"x": 2 * x}, "eps": 1e-6, "rtol": 1e-6}
    calls = []
    if which in ("f", "x", "eps"):
        calls.append((numerical_gradient, {"f": f, "x": x, "eps": 1e-6, which: value}, which))
    if which in ("f", "eps", "params", "grads", "rtol"):
        calls.append((check_gradients, dict(good, **{which: value}), which))
    if which in ("analytic", "numeric"):
        calls.append((relative_error, {"analytic": 2 * x, "numeric": 2 * x, which: value}, which))
    for func, kwargs, name in calls:
        try:
            with np.errstate(all="ignore"):
                func(**kwargs)
        except (ValueError, TypeError) as error:
            message = str(error)
            assert name in message or (name == "f" and "f()" in message), (func.__name__, message)
        except AssertionError:
            assert func is check_gradients  # a (correctly) failed check, not a bad-input error
        np.testing.assert_array_equal(x, [0.3, -0.2, 0.5])  # a failure leaves the parameters alone
