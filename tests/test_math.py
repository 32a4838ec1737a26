"""The network maths against independent oracles: closed forms, finite differences."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_softmax as scipy_log_softmax

from skl_softmaxnet import check_gradients
from skl_softmaxnet._math import (
    backward,
    forward,
    gemm_grad_update,
    init_params,
    inplace_relu_grad,
    inplace_softmax_cross_entropy,
    log_softmax,
    loss_and_grads,
    penalty,
    relu,
    softmax,
    weighted_cross_entropy,
)

finite_logits = arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.integers(2, 5)),
    elements=st.floats(-1e4, 1e4, allow_nan=False),
)


@settings(max_examples=50, deadline=None, database=None)
@given(finite_logits)
def test_log_softmax_matches_scipy_and_is_finite(z):
    out = log_softmax(z)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, scipy_log_softmax(z, axis=1), atol=1e-9)
    np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0, rtol=1e-12)


def test_log_softmax_huge_logits_stay_finite():
    z = np.array([[1e4, 0.0, -1e4], [1e300, 1e300, 0.0]])
    out = log_softmax(z)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0], [0.0, -1e4, -2e4])
    np.testing.assert_allclose(out[1, :2], np.log(0.5))


def test_log_softmax_can_write_in_place():
    z = np.array([[1.0, 2.0, 3.0]])
    expected = scipy_log_softmax(z, axis=1)
    out = log_softmax(z, out=z)
    assert out is z
    np.testing.assert_allclose(z, expected)


def test_softmax_is_exp_of_log_softmax_and_keeps_float32():
    z = np.array([[1.0, 2.0], [3.0, -1.0]], dtype=np.float32)
    p = softmax(z)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, np.exp(scipy_log_softmax(z, axis=1)), rtol=1e-6)


def test_weighted_cross_entropy_closed_form():
    log_proba = np.log(np.array([[0.25, 0.75], [0.5, 0.5]]))
    y = np.array([1, 0])
    assert weighted_cross_entropy(log_proba, y) == pytest.approx(
        -np.log(0.75) - np.log(0.5)
    )
    w = np.array([2.0, 0.5])
    assert weighted_cross_entropy(log_proba, y, w) == pytest.approx(
        -2 * np.log(0.75) - 0.5 * np.log(0.5)
    )


def test_fused_softmax_cross_entropy_gives_the_loss_and_softmax_minus_onehot():
    z = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]])
    y = np.array([2, 0])
    w = np.array([1.5, 0.5])
    expected_delta = (softmax(z) - np.eye(3)[y]) * w[:, None]
    expected_loss = weighted_cross_entropy(log_softmax(z), y, w)
    loss, delta = inplace_softmax_cross_entropy(z, y, w)
    assert delta is z  # in place
    assert loss == pytest.approx(expected_loss, rel=1e-14)
    np.testing.assert_allclose(delta, expected_delta, atol=1e-15)


def test_fused_softmax_cross_entropy_is_finite_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [1e300, 1e300, 0.0]])
    loss, delta = inplace_softmax_cross_entropy(z, np.array([2, 0]))
    assert loss == pytest.approx(2e4 + np.log(2))
    assert np.all(np.isfinite(delta))


def test_output_delta_equals_softmax_jacobian_contracted_with_ce_gradient():
    # dL/dz_j = sum_i dL/dS_i dS_i/dz_j with dS_i/dz_j = S_i (delta_ij - S_j)
    z = np.array([[0.3, -1.2, 2.0, 0.1]])
    y = 2
    S = softmax(z)[0]
    jac = np.diag(S) - np.outer(S, S)
    dL_dS = np.zeros(4)
    dL_dS[y] = -1.0 / S[y]
    np.testing.assert_allclose(
        inplace_softmax_cross_entropy(z.copy(), np.array([y]))[1][0],
        dL_dS @ jac,
        atol=1e-12,
    )


def test_relu_and_its_gradient_mask_at_zero():
    z = np.array([[-1.0, 0.0, 2.0]])
    a = relu(z)
    np.testing.assert_array_equal(a, [[0.0, 0.0, 2.0]])
    delta = np.ones_like(z)
    inplace_relu_grad(delta, a)
    np.testing.assert_array_equal(delta, [[0.0, 0.0, 1.0]])


def test_init_params_shapes_scales_and_determinism():
    sizes = [400, 300, 10]
    params = init_params(sizes, np.random.RandomState(0), np.float32)
    again = init_params(sizes, np.random.RandomState(0), np.float32)
    for (W, b), (W2, _) in zip(params, again, strict=True):
        np.testing.assert_array_equal(W, W2)
        assert W.dtype == b.dtype == np.float32
        assert not b.any()
    assert [W.shape for W, _ in params] == [(400, 300), (300, 10)]
    # He for the ReLU layer, 1/fan_in for the softmax layer
    assert params[0][0].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert params[1][0].std() == pytest.approx(np.sqrt(1 / 300), rel=0.05)


def test_forward_writes_into_given_buffers_without_reallocating():
    rng = np.random.RandomState(0)
    params = init_params([5, 4, 3], rng)
    X = rng.normal(size=(6, 5))
    bufs = [np.empty((6, 4)), np.empty((6, 3))]
    acts = forward(params, X, bufs)
    assert acts[1] is bufs[0] and acts[2] is bufs[1]
    np.testing.assert_allclose(acts[2], forward(params, X)[2])


def test_gemm_grad_update_matches_numpy_for_dense_sparse_and_float32():
    rng = np.random.RandomState(0)
    for dtype in (np.float64, np.float32):
        A = rng.normal(size=(7, 5)).astype(dtype)
        D = rng.normal(size=(7, 3)).astype(dtype)
        C0 = rng.normal(size=(5, 3)).astype(dtype)
        expected = 0.3 * A.T @ D + 0.7 * C0
        for operand in (A, sp.csr_matrix(A), np.asfortranarray(A)):
            C = C0.copy()
            out = gemm_grad_update(operand, D, C, 0.3, 0.7)
            assert out is C and C.dtype == dtype
            np.testing.assert_allclose(C, expected, rtol=1e-5)


def test_loss_matches_closed_form_objective():
    rng = np.random.RandomState(1)
    params = init_params([4, 6, 3], rng)
    X, y = rng.normal(size=(8, 4)), rng.randint(3, size=8)
    w = rng.uniform(0.5, 2.0, size=8)
    alpha = 0.3
    logits = relu(X @ params[0][0] + params[0][1]) @ params[1][0] + params[1][1]
    ce = -scipy_log_softmax(logits, axis=1)[np.arange(8), y]
    expected = (w @ ce + 0.5 * alpha * penalty(params)) / w.sum()
    loss, _ = loss_and_grads(params, X, y, alpha, w)
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "hidden", [(), (7,), (6, 5)], ids=["0hidden", "1hidden", "2hidden"]
)
@pytest.mark.parametrize("n_classes", [2, 4], ids=["binary", "multiclass"])
@pytest.mark.parametrize("alpha", [0.0, 0.5], ids=["alpha0", "alpha0.5"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_gradients_match_finite_differences(hidden, n_classes, alpha, weighted):
    rng = np.random.RandomState(hash((hidden, n_classes, alpha, weighted)) % 2**31)
    n = 9
    X = rng.normal(size=(n, 5))
    y = rng.randint(n_classes, size=n)
    y[:n_classes] = np.arange(n_classes)
    w = rng.uniform(0.1, 3.0, size=n) if weighted else None
    params = init_params([5, *hidden, n_classes], rng)
    result = check_gradients(params, X, y, alpha, w)
    for err_W, err_b in result.max_rel_error:
        assert err_W < 1e-6
        assert err_b < 1e-6


def test_gradients_at_relu_units_exactly_at_zero():
    # A zero input row with zero biases puts every hidden unit of that sample exactly
    # at the kink. The analytic gradient treats them as off (relu'(0) = 0); the
    # checker must agree, using one-sided differences on the branch that keeps them
    # off, rather than averaging the two branches.
    rng = np.random.RandomState(3)
    X = rng.normal(size=(6, 5))
    X[0] = 0.0
    y = np.array([0, 1, 2, 0, 1, 2])
    params = init_params([5, 4, 3], rng)
    acts = forward(params, X)
    assert np.all(acts[1][0] == 0.0)
    result = check_gradients(params, X, y, alpha=0.1)
    assert result.n_one_sided > 0
    assert result.worst < 1e-6


def test_backward_delta_is_masked_by_relu():
    rng = np.random.RandomState(0)
    params = init_params([3, 4, 2], rng)
    X = rng.normal(size=(5, 3))
    acts = forward(params, X)
    _, out = inplace_softmax_cross_entropy(acts[-1], np.array([0, 1, 0, 1, 1]))
    deltas = backward(params, acts, out)
    assert np.all(deltas[0][acts[1] <= 0] == 0)
    np.testing.assert_allclose(
        deltas[0], (out @ params[1][0].T) * (acts[1] > 0), atol=1e-15
    )


def test_sparse_and_dense_give_the_same_gradients():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(8, 6)) * (rng.uniform(size=(8, 6)) < 0.3)
    y = rng.randint(3, size=8)
    params = init_params([6, 5, 3], rng)
    loss_d, grads_d = loss_and_grads(params, X, y, 0.1)
    loss_s, grads_s = loss_and_grads(params, sp.csr_matrix(X), y, 0.1)
    assert loss_s == pytest.approx(loss_d, rel=1e-12)
    for (gW, gb), (sW, sb) in zip(grads_d, grads_s, strict=True):
        np.testing.assert_allclose(sW, gW, atol=1e-12)
        np.testing.assert_allclose(sb, gb, atol=1e-12)


def test_extreme_inputs_give_finite_loss_and_gradients():
    rng = np.random.RandomState(0)
    params = init_params([3, 4, 2], rng)
    X = rng.normal(size=(5, 3)) * 1e6
    loss, grads = loss_and_grads(params, X, np.array([0, 1, 0, 1, 0]), 1e-4)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for layer in grads for g in layer)
