"""The public gradient checker: kink handling and its report."""

import numpy as np

from skl_softmaxnet import check_gradients, numerical_gradients
from skl_softmaxnet._math import init_params


def _net_with_unit0_preactivations(values, eps):
    """One hidden layer whose unit 0 has the given pre-activations (in eps)."""
    rng = np.random.RandomState(0)
    params = init_params([2, 3, 2], rng)
    W, b = params[0]
    W[:, 0] = [1.0, 0.0]
    b[0] = 0.0
    X = rng.normal(size=(len(values), 2))
    X[:, 0] = np.asarray(values) * eps
    return params, X, np.arange(len(values)) % 2


def test_unit_just_above_the_kink_uses_the_forward_difference():
    eps = 1e-4
    params, X, y = _net_with_unit0_preactivations([0.5, 3.0], eps)
    result = check_gradients(params, X, y, eps=eps)
    assert result.n_one_sided > 0
    assert result.worst < 1e-6


def test_kinks_on_both_sides_give_nan_and_fail_the_check():
    eps = 1e-4
    params, X, y = _net_with_unit0_preactivations([0.5, -0.5], eps)
    grads, _ = numerical_gradients(params, X, y, eps=eps)
    assert np.isnan(grads[0][1][0])  # the bias of unit 0 moves both samples across
    assert np.isnan(check_gradients(params, X, y, eps=eps).worst)
