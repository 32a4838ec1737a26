"""The network's maths: pure functions on arrays, no scikit-learn.

A network is a list of ``(W, b)`` layers; ``W`` has shape ``(n_in, n_out)``. Hidden
layers use ReLU; the last layer's outputs are the logits of a softmax with one unit
per class. For a batch with sample weights ``w`` and ``S = sum(w)`` the objective is::

    sum_i w_i * CE_i / S + alpha / (2 S) * sum_layers ||W||^2

(biases are not penalised), the objective of scikit-learn's ``MLPClassifier``.

The functions come in two flavours sharing one code path: ``forward`` / ``backward``
take optional preallocated buffers so the training loop allocates nothing per batch,
and ``loss_and_grads`` composes them into the plain "give me the gradients" call that
the gradient checker and the tests use. See ``docs/maths.md`` for the derivations.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

from ._sparse import csr_matmul_into, csr_t_matmul_add
from ._threads import numpy_blas_route

__all__ = [
    "relu",
    "inplace_relu",
    "inplace_relu_grad",
    "log_softmax",
    "softmax",
    "weighted_cross_entropy",
    "inplace_softmax_cross_entropy",
    "init_params",
    "forward",
    "backward",
    "gemm_grad_update",
    "penalty",
    "loss_and_grads",
]


# BLAS routines by dtype, looked up once: scipy's get_blas_funcs costs microseconds
# per call, which adds up at thousands of small batches per second.
_GEMM = {np.dtype(np.float64): blas.dgemm, np.dtype(np.float32): blas.sgemm}
_ROWS = np.arange(1024)


def _rows(n: int) -> np.ndarray:
    """``arange(n)``, sliced from a cached array (row indices for fancy indexing)."""
    global _ROWS
    rows = _ROWS
    if rows.shape[0] < n:
        rows = _ROWS = np.arange(max(n, 2 * rows.shape[0]))
    return rows[:n]


def relu(z: np.ndarray) -> np.ndarray:
    """Return ``max(z, 0)`` elementwise, as a new array."""
    return np.maximum(z, 0)


def inplace_relu(z: np.ndarray) -> None:
    """Apply ``max(z, 0)`` to ``z`` in place."""
    np.maximum(z, 0, out=z)


def inplace_relu_grad(delta: np.ndarray, activation: np.ndarray) -> None:
    """Multiply ``delta`` in place by the ReLU derivative at ``activation``.

    ``activation`` is the ReLU *output*. The derivative is taken as 0 where the unit
    is exactly at zero (the subgradient scikit-learn uses too), so a unit with
    pre-activation 0 passes no gradient back; the gradient checker steps around such
    kinks (see ``_gradcheck``).
    """
    # a multiply by the 0/1 mask is ~3x faster than boolean-index assignment
    np.multiply(delta, activation > 0, out=delta)


def log_softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise log-softmax, stable for any finite logits.

    Subtracting the row maximum before ``exp`` keeps every exponent <= 0, so no
    overflow, and ``log(sum(exp))`` >= 0 is never ``log(0)``.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_classes)
        Logits.
    out : ndarray of the same shape, optional
        Where to write the result; may be ``z`` itself.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        ``z - logsumexp(z, axis=1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet._math import log_softmax
    >>> np.round(log_softmax(np.array([[1e4, 0.0]])), 3)
    array([[     0., -10000.]])
    """
    if out is None:
        out = np.empty_like(z)
    z_max = z.max(axis=1, keepdims=True)
    np.subtract(z, z_max, out=out)
    # exp of the shifted logits into a scratch buffer, only to get the row sums
    lse = np.log(np.exp(out).sum(axis=1, keepdims=True))
    out -= lse
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax computed as ``exp(log_softmax(z))``."""
    return np.exp(log_softmax(z))


def weighted_cross_entropy(
    log_proba: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    """Return ``sum_i w_i * -log_proba[i, y_i]`` (not divided by the weight sum).

    Computed from log-probabilities, so it is finite whenever the logits are.
    """
    picked = log_proba[_rows(log_proba.shape[0]), y]
    if sample_weight is None:
        return float(-picked.sum())
    return float(-np.dot(sample_weight, picked))


def inplace_softmax_cross_entropy(
    z: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Fused softmax + cross-entropy: the loss, and ``z`` turned into the delta.

    Returns ``sum_i w_i CE_i`` and overwrites the logits ``z`` with
    ``w_i * (softmax(z) - onehot(y))``, the derivative of that sum with respect to the
    logits: the softmax Jacobian ``S_i (delta_ij - S_j)`` contracted with the
    cross-entropy gradient ``-1/S_y`` collapses to ``S - onehot(y)``. The caller
    divides by the weight sum later (it is folded into the weight-gradient GEMM).

    The loss stays in log space, ``CE_i = logsumexp(z_i) - z_iy`` with the row
    maximum subtracted first, so it is finite for any finite logits; no probability
    is ever clipped or logged.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet._math import inplace_softmax_cross_entropy
    >>> z = np.array([[0.0, 0.0], [1e4, 0.0]])
    >>> loss, delta = inplace_softmax_cross_entropy(z, np.array([0, 1]))
    >>> round(loss, 4), delta.round(2).tolist()
    (10000.6931, [[-0.5, 0.5], [1.0, -1.0]])
    """
    rows = _rows(z.shape[0])
    z -= z.max(axis=1, keepdims=True)
    ce = -z[rows, y]
    np.exp(z, out=z)
    sums = z.sum(axis=1)  # >= 1: the row maximum contributes exp(0)
    ce += np.log(sums)
    z /= sums[:, None]
    z[rows, y] -= 1
    if sample_weight is None:
        return float(ce.sum()), z
    z *= sample_weight[:, None]
    return float(np.dot(sample_weight, ce)), z


def init_params(
    layer_sizes: list[int], rng: np.random.RandomState, dtype: np.dtype = np.float64
) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-initialised ``(W, b)`` layers for ``layer_sizes = [n_in, ..., n_classes]``.

    Hidden layers get He-normal weights (std ``sqrt(2 / fan_in)``), which keeps the
    variance of ReLU activations constant from layer to layer. The softmax layer is
    linear, so it gets the LeCun/Glorot-style std ``sqrt(1 / fan_in)``: logits of unit
    scale at the start, neither saturated nor flat. Biases start at zero.
    Every draw comes from ``rng``, so the same seed gives the same network.
    """
    params = []
    n_layers = len(layer_sizes) - 1
    for i, (fan_in, fan_out) in enumerate(
        zip(layer_sizes[:-1], layer_sizes[1:], strict=True)
    ):
        gain = 1.0 if i == n_layers - 1 else 2.0
        W = rng.normal(0.0, np.sqrt(gain / fan_in), size=(fan_in, fan_out))
        params.append((W.astype(dtype), np.zeros(fan_out, dtype=dtype)))
    return params


def _matmul(A, W: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    if type(A) is not np.ndarray and sp.issparse(A):
        if out is None:
            return np.asarray(A @ W)
        return csr_matmul_into(A, W, out)
    return np.matmul(A, W, out=out)


def forward(
    params: list[tuple[np.ndarray, np.ndarray]],
    X,
    activations: list[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """Forward pass; return ``[X, h_1, ..., h_L-1, logits]``.

    Parameters
    ----------
    params : list of (W, b)
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
    activations : list of ndarray, optional
        Preallocated outputs, one per layer, each of shape (n_samples, n_out); the
        training loop passes these so that no array is allocated per batch.

    Returns
    -------
    list of ndarray
        The input followed by each layer's output (ReLU applied to hidden layers).
    """
    outs = [X]
    n_layers = len(params)
    for i, (W, b) in enumerate(params):
        buf = None if activations is None else activations[i]
        z = _matmul(outs[-1], W, buf)
        z += b
        if i < n_layers - 1:
            inplace_relu(z)
        outs.append(z)
    return outs


def backward(
    params: list[tuple[np.ndarray, np.ndarray]],
    activations: list[np.ndarray],
    output_delta: np.ndarray,
    deltas: list[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """Backpropagate the output delta; return one delta per layer.

    ``deltas[i]`` is the derivative of the (unnormalised) weighted loss with respect
    to layer ``i``'s pre-activation: ``delta_L = output_delta`` and
    ``delta_{i} = (delta_{i+1} @ W_{i+1}.T) * relu'(h_i)``. The weight gradient of
    layer ``i`` is then ``activations[i].T @ deltas[i] / S + alpha / S * W_i``, which
    ``gemm_grad_update`` computes (fused with the update during training).
    """
    n_layers = len(params)
    out = [None] * n_layers
    out[-1] = output_delta
    for i in range(n_layers - 1, 0, -1):
        buf = None if deltas is None else deltas[i - 1]
        d = np.matmul(out[i], params[i][0].T, out=buf)
        inplace_relu_grad(d, activations[i])
        out[i - 1] = d
    return out


def gemm_grad_update(
    A, delta: np.ndarray, C: np.ndarray, alpha: float, beta: float
) -> np.ndarray:
    """Compute ``C <- alpha * A.T @ delta + beta * C`` in place and return ``C``.

    One BLAS ``gemm`` call for dense ``A``: folding the scaling, the weight decay and
    the update into ``beta`` saves whole passes over the weight matrix. ``A`` is the
    layer input (dense or sparse), ``delta`` the layer's delta, ``C`` a C-contiguous
    ``(n_in, n_out)`` array (weights, velocity or a gradient buffer).
    """
    gemm = _GEMM.get(C.dtype)
    if (
        gemm is None
        or type(A) is not np.ndarray
        or not A.flags.c_contiguous
        or not delta.flags.c_contiguous
    ):
        if beta == 0:
            C.fill(0)
        elif beta != 1:
            C *= beta
        if sp.issparse(A):
            return csr_t_matmul_add(A, delta, C, alpha)
        C += alpha * (A.T @ delta)
        return C
    route = numpy_blas_route()
    if route is not None:  # SciPy's thread pool would fight NumPy's: see _threads
        return route.gemm_update(A, delta, C, alpha, beta)
    # C-ordered (n_in, n_out) is Fortran-ordered (n_out, n_in): compute C.T, which is
    # delta.T @ A, with every operand a Fortran view, so BLAS copies nothing.
    gemm(alpha, delta.T, A.T, beta=beta, c=C.T, trans_b=True, overwrite_c=True)
    return C


def penalty(params: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Return ``sum_layers ||W||^2`` (biases excluded)."""
    return float(sum(np.vdot(W, W) for W, _ in params))


def loss_and_grads(
    params: list[tuple[np.ndarray, np.ndarray]],
    X,
    y: np.ndarray,
    alpha: float = 0.0,
    sample_weight: np.ndarray | None = None,
) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]]:
    """Objective and its exact gradients for one batch.

    Parameters
    ----------
    params : list of (W, b)
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of int, shape (n_samples,)
        Class indices in ``range(n_classes)``.
    alpha : float
        L2 penalty strength.
    sample_weight : ndarray of shape (n_samples,), optional

    Returns
    -------
    loss : float
        ``sum_i w_i CE_i / S + alpha / (2 S) * sum ||W||^2``.
    grads : list of (grad_W, grad_b)

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet._math import init_params, loss_and_grads
    >>> rng = np.random.RandomState(0)
    >>> params = init_params([3, 4, 2], rng)
    >>> X, y = rng.normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])
    >>> loss, grads = loss_and_grads(params, X, y)
    >>> [g[0].shape for g in grads]
    [(3, 4), (4, 2)]
    """
    acts = forward(params, X)
    S = float(X.shape[0]) if sample_weight is None else float(np.sum(sample_weight))
    data_loss, delta = inplace_softmax_cross_entropy(acts[-1], y, sample_weight)
    loss = (data_loss + 0.5 * alpha * penalty(params)) / S
    deltas = backward(params, acts, delta)
    grads = []
    for (W, _), A, d in zip(params, acts[:-1], deltas, strict=True):
        gW = W * (alpha / S)
        gemm_grad_update(A, d, gW, 1.0 / S, 1.0)
        grads.append((gW, d.sum(axis=0) / S))
    return loss, grads
