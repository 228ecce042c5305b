"""Inverted dropout: the mask's distribution, freshness, reproducibility, backward, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursework_lib.dropout import dropout_backward, dropout_forward, dropout_mask
from coursework_lib.gradcheck import check_gradients


@pytest.mark.parametrize("keep_prob", [0.2, 0.5, 0.8, 0.95])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mask_is_unbiased_with_the_right_keep_rate(keep_prob, dtype):
    M = dropout_mask((500, 400), keep_prob, np.random.RandomState(0), dtype=dtype)
    assert M.dtype == dtype
    n = M.size
    # Five standard deviations of the sample mean of a Bernoulli(p) / p and of the keep indicator.
    np.testing.assert_allclose(M.mean(), 1.0, atol=5 * np.sqrt((1 - keep_prob) / keep_prob / n))
    np.testing.assert_allclose(
        (M > 0).mean(), keep_prob, atol=5 * np.sqrt(keep_prob * (1 - keep_prob) / n)
    )
    np.testing.assert_allclose(np.unique(M), [0.0, 1 / keep_prob], rtol=1e-7)


def test_mask_is_fresh_per_sample_and_per_call_and_reproducible():
    rng = np.random.RandomState(1)
    a, b = dropout_mask((64, 50), 0.5, rng), dropout_mask((64, 50), 0.5, rng)
    assert not np.array_equal(a, b)
    assert len({row.tobytes() for row in a}) == 64
    np.testing.assert_array_equal(
        dropout_mask((64, 50), 0.5, np.random.RandomState(9)),
        dropout_mask((64, 50), 0.5, np.random.RandomState(9)),
    )


def test_units_are_dropped_independently():
    "Pairs of units are kept together with probability p^2 (independence), not p (a shared mask)."
    M = dropout_mask((20000, 2), 0.7, np.random.RandomState(2)) > 0
    np.testing.assert_allclose(np.mean(M[:, 0] & M[:, 1]), 0.49, atol=0.015)


def test_keep_everything_is_the_identity():
    h = np.random.RandomState(3).standard_normal((5, 4))
    out, mask = dropout_forward(h, 1.0, np.random.RandomState(0))
    np.testing.assert_array_equal(out, h)
    np.testing.assert_array_equal(mask, 1.0)


def test_out_buffer_is_filled_in_place():
    buf = np.full((8, 3), 7.0, np.float32)
    assert dropout_mask(None, 0.5, np.random.RandomState(0), out=buf) is buf
    assert set(np.unique(buf)) <= {0.0, 2.0}


def test_forward_is_unbiased_and_backward_is_its_gradient():
    rng = np.random.RandomState(4)
    h = rng.uniform(0.5, 2.0, size=(3, 4))
    mean = np.mean([dropout_forward(h, 0.6, rng)[0] for _ in range(40000)], axis=0)
    np.testing.assert_allclose(
        mean, h, rtol=0.03
    )  # sd of each mean: sqrt(0.4/0.6/40000) h = 0.004 h
    out, mask = dropout_forward(h, 0.6, rng)
    np.testing.assert_array_equal(out, h * mask)
    upstream = rng.standard_normal(h.shape)
    errors = check_gradients(
        lambda: np.sum(upstream * h * mask),
        {"h": h},
        {"h": dropout_backward(upstream, mask)},
        eps=1e-3,
    )
    assert errors["h"] < 1e-9


@settings(max_examples=50, deadline=None)
@given(st.floats(1e-3, 1.0), st.integers(1, 30), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_mask_values_are_zero_or_one_over_p(keep_prob, rows, cols, seed):
    M = dropout_mask((rows, cols), keep_prob, np.random.RandomState(seed))
    assert M.shape == (rows, cols)
    assert np.all((M == 0) | np.isclose(M, 1 / keep_prob, rtol=1e-12))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda rng: dropout_mask((2, 2), 0.0, rng),
            ValueError,
            "The 'keep_prob' parameter of dropout_mask",
        ),
        (
            lambda rng: dropout_mask((2, 2), 1.2, rng),
            ValueError,
            "The 'keep_prob' parameter of dropout_mask",
        ),
        (
            lambda rng: dropout_mask((2, 2), np.nan, rng),
            ValueError,
            "The 'keep_prob' parameter of dropout_mask",
        ),
        (
            lambda rng: dropout_mask((2, 2), True, rng),
            ValueError,
            "The 'keep_prob' parameter of dropout_mask",
        ),
        (
            lambda rng: dropout_mask((2, 2), 0.5, "seed"),
            ValueError,
            "The 'random_state' parameter of dropout_mask",
        ),
        (
            lambda rng: dropout_mask((2, 2), 0.5, np.random.default_rng(0)),
            ValueError,
            "The 'random_state' parameter of dropout_mask",
        ),
        (
            lambda rng: dropout_mask(None, 0.5, rng, out=np.zeros((2, 2), np.int64)),
            ValueError,
            "float32 or float64",
        ),
        (lambda rng: dropout_forward(np.array(["a"]), 0.5, rng), TypeError, "h must hold floats"),
        (
            lambda rng: dropout_forward(np.ones(3), 2.0, rng),
            ValueError,
            "The 'keep_prob' parameter",
        ),
        (
            lambda rng: dropout_backward(np.ones((2, 3)), np.ones((3, 2))),
            ValueError,
            "pass the forward's mask",
        ),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error) as info:
        call(np.random.RandomState(0))
    assert message in str(info.value)


def test_random_state_none_honours_np_random_seed():
    np.random.seed(3)
    a = dropout_mask((8, 9), 0.5)
    np.random.seed(3)
    np.testing.assert_array_equal(dropout_mask((8, 9), 0.5), a)
    np.testing.assert_array_equal(
        dropout_mask((8, 9), 0.5, 11), dropout_mask((8, 9), 0.5, np.random.RandomState(11))
    )


def test_mlp_does_not_import_the_dropout_chapter():
    "Chapter 4's module must not import chapter 5's (issue 10): the shared sampler lives in mlp."
    import ast
    import inspect

    import coursework_lib.mlp as mlp

    imported = {
        node.module
        for node in ast.walk(ast.parse(inspect.getsource(mlp)))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not any(name.endswith("dropout") for name in imported), imported


# Issue 11 item 15: bad scalars and arrays end in a ValueError or TypeError naming the argument.
BAD = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=3),
    st.floats(allow_nan=True),
    st.integers(-3, 3),
    st.lists(st.floats(-1, 2), max_size=2),
)


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(["keep_prob", "random_state", "h", "grad_out", "mask"]), BAD)
def test_bad_arguments_name_the_argument(name, value):
    args = {
        "keep_prob": 0.5,
        "random_state": 0,
        "h": np.ones((2, 3)),
        "grad_out": np.ones((2, 3)),
        "mask": np.ones((2, 3)),
    } | {name: value}
    try:
        if name in ("grad_out", "mask"):
            dropout_backward(args["grad_out"], args["mask"])
        else:
            dropout_forward(args["h"], args["keep_prob"], args["random_state"])
    except (ValueError, TypeError) as error:
        assert name in str(error), (name, value, str(error))
