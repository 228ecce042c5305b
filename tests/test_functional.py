"""Overflow-free primitives: agreement with scipy.special, no floating-point warnings anywhere,
property tests."""

import warnings

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from coursework_lib.functional import (
    cross_entropy,
    log_softmax,
    logsumexp,
    minibatches,
    one_hot,
    relu,
    sigmoid,
    softmax,
    softplus,
)

any_finite = st.floats(
    allow_nan=False, allow_infinity=False
)  # the whole float64 range, subnormals included
logits = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


class raise_on_any_fp_event:
    "Overflow/underflow/invalid/divide raise, and any warning is an error, inside the block."

    def __enter__(self):
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("error")
        self._e = np.errstate(all="raise")
        self._e.__enter__()

    def __exit__(self, *exc):
        self._e.__exit__(*exc)
        self._w.__exit__(*exc)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, array_shapes(max_dims=2, max_side=6), elements=any_finite))
def test_elementwise_no_fp_events_and_match_reference(x):
    with raise_on_any_fp_event():
        sp, sg, rl = softplus(x), sigmoid(x), relu(x)
    with np.errstate(all="ignore"):
        ref_sp = np.logaddexp(0, x)
        # expit flushes to 0 below about -709 where our branch keeps the subnormal value.
        ref_sg = sps.expit(x)
    np.testing.assert_allclose(sp, ref_sp, rtol=0, atol=0)
    np.testing.assert_allclose(sg, ref_sg, rtol=4e-16, atol=1e-300)
    np.testing.assert_array_equal(rl, np.maximum(x, 0))
    assert np.all((sg >= 0) & (sg <= 1)) and np.all(sp >= 0) and np.all(sp >= x)


@pytest.mark.parametrize(
    "x, sp, sg",
    [
        (1000.0, 1000.0, 1.0),
        (-1000.0, 0.0, 0.0),
        (1e308, 1e308, 1.0),
        (-1e308, 0.0, 0.0),
        (0.0, np.log(2), 0.5),
    ],
)
def test_exact_extremes(x, sp, sg):
    with raise_on_any_fp_event():
        assert softplus(x) == sp
        assert sigmoid(x) == sg


def test_sigmoid_keeps_subnormal_tail_and_relative_accuracy():
    x = np.array([-740.0, -720.0, -50.0, -30.0])
    with raise_on_any_fp_event():
        s = sigmoid(x)
    np.testing.assert_allclose(s[-2:], np.exp(x[-2:]) / (1 + np.exp(x[-2:])), rtol=1e-15)
    assert s[0] > 0 and s[1] > 0  # 1/(1+exp(740)) would be 0


def test_dtypes_and_scalars():
    assert softplus(np.float32(2)).dtype == np.float32
    assert sigmoid(np.float32(2)).dtype == np.float32
    assert log_softmax(np.zeros(3, dtype=np.float32)).dtype == np.float32
    assert softmax(np.arange(3)).dtype == np.float64
    assert isinstance(sigmoid(0.3), np.float64) and isinstance(logsumexp([0.0, 1.0]), np.float64)
    for fn in (softplus, sigmoid, relu, softmax, log_softmax, logsumexp):
        with pytest.raises(TypeError, match="real numbers"):
            fn(np.array(["a", "b"]))


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 7)), elements=logits),
    st.sampled_from([0, 1, -1]),
)
def test_softmax_family_matches_scipy_without_fp_events(z, axis):
    with raise_on_any_fp_event():
        lse, lsm, sm = logsumexp(z, axis=axis), log_softmax(z, axis=axis), softmax(z, axis=axis)
    np.testing.assert_allclose(lse, sps.logsumexp(z, axis=axis), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(lsm, sps.log_softmax(z, axis=axis), rtol=1e-13, atol=1e-13)
    with np.errstate(under="ignore"):
        np.testing.assert_allclose(sm, sps.softmax(z, axis=axis), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(sm.sum(axis=axis), 1.0, rtol=1e-14)
    assert np.all(lsm <= 0)
    # Shift invariance: adding a per-slice constant changes nothing.
    np.testing.assert_allclose(log_softmax(z + 17.0, axis=axis), lsm, rtol=1e-11, atol=1e-10)


@pytest.mark.parametrize(
    "row, expected",
    [
        ([-np.inf, -np.inf], -np.inf),
        ([np.inf, 0.0], np.inf),
        ([-1e308, -1e308], -1e308 + np.log(2)),
        ([1e308, 1e308], 1e308 + np.log(2)),
    ],
)
def test_logsumexp_infinite_and_huge_rows(row, expected):
    with raise_on_any_fp_event():
        assert logsumexp(np.array(row)) == expected


def test_logsumexp_keepdims_and_errors():
    a = np.random.default_rng(0).normal(size=(2, 3, 4))
    for axis in range(-3, 3):
        np.testing.assert_allclose(
            logsumexp(a, axis=axis, keepdims=True),
            sps.logsumexp(a, axis=axis, keepdims=True),
            rtol=1e-14,
        )
    with pytest.raises(ValueError, match="empty axis"):
        logsumexp(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="1-d"):
        softmax(np.float64(1.0))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 8).flatmap(
        lambda k: st.tuples(
            st.just(k), arrays(np.int64, st.integers(1, 20), elements=st.integers(0, k - 1))
        )
    )
)
def test_one_hot_and_cross_entropy_equal_kl(case):
    k, y = case
    T = one_hot(y, k)
    assert T.shape == (y.size, k) and T.dtype == np.float64
    np.testing.assert_array_equal(T.argmax(axis=1), y)
    np.testing.assert_array_equal(T.sum(axis=1), 1.0)
    z = np.random.default_rng(y.size).normal(scale=5, size=(y.size, k))
    kl = np.sum(sps.rel_entr(T, sps.softmax(z, axis=1)), axis=1).mean()
    np.testing.assert_allclose(cross_entropy(log_softmax(z), y), kl, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "y, k, exc, match",
    [
        ([0, 3], 3, ValueError, "0..2"),
        ([-1, 0], 3, ValueError, "0..2"),
        ([0.0, 1.0], 3, TypeError, "integers"),
        (["a"], 3, TypeError, "integers"),
        ([[0]], 3, ValueError, "1-d"),
        ([0], 0, ValueError, "'n_classes' parameter of one_hot"),
        ([0], 2.0, ValueError, "'n_classes' parameter of one_hot"),
        ([0], True, ValueError, "'n_classes' parameter"),
    ],
)
def test_one_hot_validates_labels(y, k, exc, match):
    with pytest.raises(exc, match=match):
        one_hot(y, k)


def test_cross_entropy_validation_and_extremes():
    lp = log_softmax(np.array([[0.0, -1e4], [0.0, 0.0]]))
    with raise_on_any_fp_event():
        np.testing.assert_allclose(cross_entropy(lp, [1, 0]), (1e4 + np.log(2)) / 2, rtol=1e-15)
    with pytest.raises(ValueError, match="2 rows but y has 1"):
        cross_entropy(lp, [0])
    with pytest.raises(ValueError, match="n_samples, n_classes"):
        cross_entropy(lp[0], [0])
    with pytest.raises(ValueError, match="0..1"):
        cross_entropy(lp, [0, 2])
    with pytest.raises(ValueError, match="empty"):
        cross_entropy(np.zeros((0, 2)), np.array([], dtype=int))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 300), st.integers(1, 64), st.integers(0, 2**32 - 1), st.booleans())
def test_minibatches_partition(n, bs, seed, shuffle):
    batches = list(minibatches(n, bs, np.random.default_rng(seed), shuffle=shuffle))
    sizes = [len(b) for b in batches]
    assert len(batches) == -(-n // bs)
    assert all(s == bs for s in sizes[:-1]) and (not sizes or 1 <= sizes[-1] <= bs)
    allidx = np.concatenate(batches) if batches else np.array([], dtype=int)
    np.testing.assert_array_equal(np.sort(allidx), np.arange(n))
    if not shuffle:
        np.testing.assert_array_equal(allidx, np.arange(n))
    assert all(b.dtype.kind == "i" for b in batches)


def test_minibatches_seeding():
    def order(rng):
        return np.concatenate(list(minibatches(50, 8, rng)))

    # An int is check_random_state(int); a Generator is used as given.
    np.testing.assert_array_equal(order(3), np.random.RandomState(3).permutation(50))
    gen_order = np.random.default_rng(3).permutation(50)
    np.testing.assert_array_equal(order(np.random.default_rng(3)), gen_order)
    np.random.seed(5)
    first = order(None)  # None is numpy's global RandomState: np.random.seed makes it reproducible
    np.random.seed(5)
    np.testing.assert_array_equal(order(None), first)
    np.testing.assert_array_equal(
        order(np.random.RandomState(3)), np.random.RandomState(3).permutation(50)
    )
    rng = np.random.default_rng(0)
    assert not np.array_equal(order(rng), order(rng))  # a fresh permutation every epoch


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((10, 0), ValueError, "The 'batch_size' parameter of minibatches"),
        ((-2, 3), ValueError, "'n_samples' parameter"),
        ((10.0, 3), TypeError, "'n_samples' parameter"),
        ((10, 2.5), TypeError, "'batch_size' parameter"),
        ((True, 3), TypeError, "'n_samples' parameter"),
    ],
)
def test_minibatches_validate_eagerly(args, exc, match):
    with pytest.raises(exc, match=match):
        minibatches(*args, random_state=0)  # raises at the call, before any iteration


def test_last_batch_weights_erratum():
    # Sheet 2 divides every batch's summed gradient by 128: every sample gets the weight eta / 128.
    # The per-batch mean divides by the batch's length: the 8 leftovers get eta / 8, 16 times more.
    sizes = np.array([len(b) for b in minibatches(5000, 128, 0)])
    assert sizes.tolist() == [128] * 39 + [8]
    weight_sheet = np.repeat(1 / 128, 5000)
    weight_mean = np.concatenate([np.full(s, 1 / s) for s in sizes])
    assert np.ptp(weight_sheet) == 0
    assert weight_mean[-1] / weight_mean[0] == 16.0 and np.all(weight_mean[:-8] == 1 / 128)
    # The same from SGD itself: one pass of each rule on f_i(w) = w (every gradient is 1) moves w
    # by the sum of the weights.
    step_sheet = sum(len(b) / 128 for b in minibatches(5000, 128, 0))
    step_mean = sum(len(b) / len(b) for b in minibatches(5000, 128, 0))
    assert step_sheet == pytest.approx(5000 / 128) and step_mean == 40.0


# ------------------------------------------------------------------ bad input, property-based
BAD = st.sampled_from(
    [
        None,
        "x",
        ["a", "b"],
        np.array(["a"]),
        np.array([1 + 2j]),
        {},
        object(),
        np.zeros(()),
        np.zeros((2, 0)),
        np.array([0.5, 1.5]),
        np.array([-1, 7]),
        np.zeros((2, 2, 2)),
        -1,
        2.5,
        True,
    ]
)
WHICH = [
    "x",
    "a",
    "z",
    "axis",
    "y",
    "n_classes",
    "log_probs",
    "n_samples",
    "batch_size",
    "random_state",
    "shuffle",
]


@settings(max_examples=300, deadline=None)
@given(which=st.sampled_from(WHICH), value=BAD)
def test_bad_arguments_fail_naming_the_argument(which, value):
    good = np.array([[0.0, 1.0], [2.0, -1.0]])
    batches = {"n_samples": 4, "batch_size": 2}
    calls = {
        "x": [(softplus, {"x": value}), (sigmoid, {"x": value}), (relu, {"x": value})],
        "a": [(logsumexp, {"a": value})],
        "z": [(log_softmax, {"z": value}), (softmax, {"z": value})],
        "axis": [(logsumexp, {"a": good, "axis": value}), (softmax, {"z": good, "axis": value})],
        "y": [
            (one_hot, {"y": value, "n_classes": 2}),
            (cross_entropy, {"log_probs": log_softmax(good), "y": value}),
        ],
        "n_classes": [(one_hot, {"y": [0, 1], "n_classes": value})],
        "log_probs": [(cross_entropy, {"log_probs": value, "y": [0, 1]})],
        "n_samples": [(minibatches, {"n_samples": value, "batch_size": 2})],
        "batch_size": [(minibatches, {"n_samples": 4, "batch_size": value})],
        "random_state": [(minibatches, dict(batches, random_state=value))],
        "shuffle": [(minibatches, dict(batches, shuffle=value))],
    }[which]
    for func, kwargs in calls:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                func(**kwargs)
        except (ValueError, TypeError) as error:
            assert which in str(error), (func.__name__, which, value, str(error))
