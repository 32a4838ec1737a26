"""Numerical gradients by central differences, and a checker for the analytic ones.

Public on purpose: anyone can verify the maths of ``_math.loss_and_grads``, and the
tests use it as their oracle. Works in any Array API namespace (the parameters', on
their device): each perturbed loss comes back to the host as a Python float, which
is what a finite difference needs, so keep such checks to small networks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._math import _namespace, forward, loss_and_grads

__all__ = ["GradientCheck", "check_gradients", "numerical_gradients"]


def _relu_pattern(params, X, xp) -> list:
    """Which hidden units are active (pre-activation > 0) for each sample."""
    return [a > 0 for a in forward(params, X, xp=xp)[1:-1]]


def _same(p, q, xp) -> bool:
    return all(bool(xp.all(a == b)) for a, b in zip(p, q, strict=True))


def _copy(a, xp):
    return a.copy() if xp is np else xp.asarray(a, copy=True)


def numerical_gradients(
    params: list[tuple[np.ndarray, np.ndarray]],
    X,
    y: np.ndarray,
    alpha: float = 0.0,
    sample_weight: np.ndarray | None = None,
    eps: float = 1e-4,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """Finite-difference gradients of the objective of ``loss_and_grads``.

    Central differences on every entry of every array, with the five-point stencil
    ``(8 (f(p+e) - f(p-e)) - (f(p+2e) - f(p-2e))) / (12 e)`` (error O(e^4), so a
    large step keeps rounding error small). ReLU makes the objective piecewise
    smooth: where a step of up to ``2 eps`` would switch a hidden unit on or off, a
    central difference would average two branches. There the checker uses the
    second-order one-sided difference on the side that keeps the current on/off
    pattern, which is the derivative the analytic code takes (a unit exactly at zero
    counts as off, so passes no gradient).

    Parameters
    ----------
    params : list of (W, b)
        The network, as for :func:`check_gradients`. Use float64.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The samples.
    y : ndarray of shape (n_samples,)
        Class indices (positions in ``classes_``), not labels.
    alpha : float, default=0.0
        L2 penalty, as the estimator's ``alpha``.
    sample_weight : ndarray of shape (n_samples,), default=None
        Per-sample weights; ``None`` weighs every sample 1.
    eps : float, default=1e-4
        Finite-difference step.

    Returns
    -------
    grads : list of (grad_W, grad_b)
        The numerical gradient of the objective with respect to every
        array of ``params``, in the same layout; NaN where a ReLU kink lies
        within ``2 eps`` on both sides.
    n_one_sided : int
        How many entries needed a one-sided difference.

    See Also
    --------
    check_gradients : Compares these with the analytic gradients.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet import numerical_gradients
    >>> from skl_softmaxnet._math import init_params
    >>> rng = np.random.RandomState(0)
    >>> params = init_params([4, 3], rng)  # no hidden layer: no kinks
    >>> X, y = rng.normal(size=(6, 4)), rng.randint(3, size=6)
    >>> grads, n_one_sided = numerical_gradients(params, X, y)
    >>> [g.shape for g in grads[0]], n_one_sided
    ([(4, 3), (3,)], 0)
    """

    xp = _namespace(params[0][0])

    def f(ps):
        return loss_and_grads(ps, X, y, alpha, sample_weight, xp=xp)[0]

    base_pattern = _relu_pattern(params, X, xp)
    check_kinks = len(params) > 1
    work = [(_copy(W, xp), _copy(b, xp)) for W, b in params]
    f0 = f(work)
    grads = []
    n_one_sided = 0
    for layer in work:
        layer_grads = []
        for arr in layer:
            g = xp.empty_like(arr)
            for i in np.ndindex(tuple(arr.shape)):
                orig = float(arr[i])  # a value, not a view of the entry
                vals, same = {}, {}
                for k in (1, -1, 2, -2):
                    arr[i] = orig + k * eps
                    vals[k] = f(work)
                    same[k] = not check_kinks or _same(
                        _relu_pattern(work, X, xp), base_pattern, xp
                    )
                arr[i] = orig
                if all(same.values()):
                    # five-point stencil: truncation error O(eps^4)
                    g[i] = (8 * (vals[1] - vals[-1]) - (vals[2] - vals[-2])) / (
                        12 * eps
                    )
                elif same[1] and same[2]:
                    g[i] = (-3 * f0 + 4 * vals[1] - vals[2]) / (2 * eps)
                    n_one_sided += 1
                elif same[-1] and same[-2]:
                    g[i] = (3 * f0 - 4 * vals[-1] + vals[-2]) / (2 * eps)
                    n_one_sided += 1
                else:  # a kink on both sides within 2 eps: no honest estimate
                    g[i] = np.nan
            layer_grads.append(g)
        grads.append(tuple(layer_grads))
    return grads, n_one_sided


@dataclass
class GradientCheck:
    """Result of :func:`check_gradients`.

    Parameters
    ----------
    analytic, numerical : list of (grad_W, grad_b)
        The analytic gradients and their finite-difference estimates, one
        ``(grad_W, grad_b)`` pair per layer.
    max_rel_error : list of (float, float)
        Per layer, the largest entrywise relative error of ``grad_W`` and ``grad_b``:
        ``|a - n| / max(|a| + |n|, floor)``.
    n_one_sided : int
        Entries that sat within ``2 eps`` of a ReLU kink (see
        :func:`numerical_gradients`).

    See Also
    --------
    check_gradients : Builds this result.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet import GradientCheck, check_gradients
    >>> from skl_softmaxnet._math import init_params
    >>> rng = np.random.RandomState(0)
    >>> params = init_params([4, 5, 3], rng)
    >>> X, y = rng.normal(size=(6, 4)), rng.randint(3, size=6)
    >>> result = check_gradients(params, X, y)
    >>> isinstance(result, GradientCheck), len(result.max_rel_error)
    (True, 2)
    >>> result.worst < 1e-6
    True
    """

    analytic: list
    numerical: list
    max_rel_error: list
    n_one_sided: int

    @property
    def worst(self) -> float:
        """The largest relative error over all arrays (NaN if any entry is NaN)."""
        return float(np.max(np.array(self.max_rel_error, dtype=float)))


def check_gradients(
    params: list[tuple[np.ndarray, np.ndarray]],
    X,
    y: np.ndarray,
    alpha: float = 0.0,
    sample_weight: np.ndarray | None = None,
    eps: float = 1e-4,
    floor: float = 1e-5,
) -> GradientCheck:
    """Compare ``loss_and_grads`` with central differences on every parameter.

    The objective checked is the full-batch one that training minimises,
    ``sum_i w_i CE_i / S + alpha / (2 S) * sum ||W||^2`` with ``S = sum_i w_i``
    (biases unpenalised). A training mini-batch of ``n_b`` rows uses
    ``S_b = n_b * mean(w)`` in place of ``S``: an unbiased estimate of this
    objective's gradient, equal to it on the full batch (``docs/maths.md`` §8).

    Parameters
    ----------
    params : list of (W, b)
        A network, e.g. from ``init_params`` or a fitted model's
        ``zip(coefs_, intercepts_)``. Use float64: float32 cannot resolve the
        differences.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The samples.
    y : ndarray of int
        Class indices.
    alpha : float
        L2 penalty.
    sample_weight : ndarray, optional
        Per-sample weights; ``None`` weighs every sample 1.
    eps : float
        Finite-difference step.
    floor : float
        Denominator floor of the relative error: an entry whose gradients are both
        below ``floor`` in size (a dead unit's bias, say) is judged by its absolute
        error instead, since the stencil's rounding noise (~1e-12 for a loss of
        order 1 in float64) would make its relative error meaningless.

    Returns
    -------
    GradientCheck
        The analytic and numerical gradients, the largest relative error of
        each array and the number of one-sided differences.

    See Also
    --------
    numerical_gradients : The finite differences alone.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet import check_gradients
    >>> from skl_softmaxnet._math import init_params
    >>> rng = np.random.RandomState(0)
    >>> params = init_params([4, 5, 3], rng)
    >>> X, y = rng.normal(size=(6, 4)), rng.randint(3, size=6)
    >>> result = check_gradients(params, X, y, alpha=0.1)
    >>> result.worst < 1e-6
    True
    """
    _, analytic = loss_and_grads(params, X, y, alpha, sample_weight)
    numerical, n_one_sided = numerical_gradients(
        params, X, y, alpha, sample_weight, eps
    )
    xp = _namespace(params[0][0])
    errors = []
    for a_layer, n_layer in zip(analytic, numerical, strict=True):
        errs = []
        for a, n in zip(a_layer, n_layer, strict=True):
            # clip, as maximum, propagates NaN: a NaN estimate fails the check
            err = xp.abs(a - n) / xp.clip(xp.abs(a) + xp.abs(n), min=floor)
            errs.append(float(xp.max(err)) if math.prod(err.shape) else 0.0)
        errors.append(tuple(errs))
    return GradientCheck(analytic, numerical, errors, n_one_sided)
