"""Update rules against scikit-learn's own SGD optimizer; schedules against formulas."""

import math

import numpy as np
import pytest

# Test-only oracle: MLPClassifier's optimizer, fed materialised gradients.
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

from skl_softmaxnet._math import (
    backward,
    forward,
    init_params,
    inplace_softmax_cross_entropy,
    loss_and_grads,
)
from skl_softmaxnet._optim import SGD, LearningRateSchedule


def _factored(params, X, y, alpha):
    """Forward/backward pieces for SGD.step, via loss_and_grads' building blocks."""
    acts = forward(params, X)
    _, delta = inplace_softmax_cross_entropy(acts[-1], y)
    return acts[:-1], backward(params, acts, delta)


@pytest.mark.parametrize(
    "momentum, nesterov",
    [(0.0, False), (0.9, False), (0.9, True), (0.5, True)],
    ids=["plain", "classical", "nesterov", "nesterov-0.5"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_step_matches_sklearn_sgd_optimizer(momentum, nesterov, dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(16, 5)).astype(dtype)
    y = rng.randint(3, size=16)
    alpha, lr = 0.3, 0.05
    ours = [(W.astype(dtype), b.astype(dtype)) for W, b in init_params([5, 6, 3], rng)]
    ref = [p.copy() for layer in ours for p in layer]
    ref_opt = SGDOptimizer(
        ref, learning_rate_init=lr, momentum=momentum, nesterov=nesterov
    )
    opt = SGD(momentum, nesterov)
    for step in range(5):
        batch = slice(4 * (step % 4), 4 * (step % 4) + 4)
        ref_params = [(ref[0], ref[1]), (ref[2], ref[3])]
        _, grads = loss_and_grads(
            ref_params, X[batch].astype(np.float64), y[batch], alpha
        )
        ref_opt.update_params(ref, [g for layer in grads for g in layer])
        inputs, deltas = _factored(ours, X[batch], y[batch], alpha)
        opt.step(ours, inputs, deltas, 1.0 / 4, alpha / 4, lr)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for got, want in zip([p for layer in ours for p in layer], ref, strict=True):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_velocities_are_exposed_and_reused():
    rng = np.random.RandomState(0)
    params = init_params([3, 2], rng)
    X, y = rng.normal(size=(4, 3)), np.array([0, 1, 0, 1])
    opt = SGD(0.9, False)
    inputs, deltas = _factored(params, X, y, 0.0)
    opt.step(params, inputs, deltas, 0.25, 0.0, 0.1)
    v = opt.velocities
    assert len(v) == 2 and v[0].shape == (3, 2)
    resumed = SGD(0.9, False, velocities=v)
    assert resumed.velocities is v


def test_constant_and_invscaling_rates():
    const = LearningRateSchedule("constant", 0.1)
    assert [const.rate(e, t=100 * e) for e in range(3)] == [0.1, 0.1, 0.1]
    inv = LearningRateSchedule("invscaling", 0.1, power_t=0.5)
    assert inv.rate(0, t=0) == pytest.approx(0.1)
    assert inv.rate(1, t=99) == pytest.approx(0.1 / math.sqrt(100))


def test_cosine_with_warmup():
    s = LearningRateSchedule("cosine", 1.0, max_iter=10, warmup_iters=2)
    rates = [s.rate(e, t=0) for e in range(10)]
    assert rates[:2] == [0.5, 1.0]
    assert rates[2] == pytest.approx(1.0)
    assert rates[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 7 / 8)))
    assert all(a >= b for a, b in zip(rates[1:], rates[2:], strict=False))


def test_adaptive_divides_by_five_then_stops_below_1e_6():
    s = LearningRateSchedule("adaptive", 1e-4)
    assert s.on_plateau() is False and s.current == pytest.approx(2e-5)
    assert s.on_plateau() is False and s.current == pytest.approx(4e-6)
    assert s.on_plateau() is False and s.current == pytest.approx(8e-7)
    assert s.on_plateau() is True


@pytest.mark.parametrize("kind", ["constant", "invscaling", "cosine"])
def test_non_adaptive_schedules_stop_on_plateau(kind):
    assert LearningRateSchedule(kind, 0.1).on_plateau() is True
