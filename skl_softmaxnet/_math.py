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

One maths, two array paths
--------------------------
Every formula is written once with an array namespace ``xp`` (the Array API), so the
same code runs on NumPy, PyTorch, CuPy or array-api-strict arrays, on their device.
The namespace is read from the arrays once per call of a top-level function (or
passed down as ``xp=``); NumPy input gets ``numpy`` itself, and a few small helpers
(``_exp``, ``_relu``, ``_pick``, ``_sub_onehot``, ``_matmul``) specialise one
operation each for it: in place with ``out=``, fancy indexing, SciPy's sparse
kernels, BLAS ``gemm`` with ``beta``. Elsewhere they use the standard's plain
operations, so the ``inplace_`` functions may return a new array: always use the
returned value. The in-place operators (``+=``, ``*=``) are part of the standard and
update parameters in place in every namespace. Sparse input needs NumPy parameters.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

from ._compat import _is_numpy_namespace, device_of, namespace_of
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


def _namespace(array, xp=None):
    """The namespace to compute with: ``numpy`` itself for NumPy or SciPy sparse
    input (the specialised helpers test ``xp is np``), else the array's own."""
    if xp is None:
        if isinstance(array, np.ndarray) or sp.issparse(array):
            return np
        return namespace_of(array)[0]
    return np if xp is np or _is_numpy_namespace(xp) else xp


# -- the NumPy specialisations: one operation each, same result as the generic line --


def _sum(x, xp, axis=None):
    """``sum(x, axis)``; the method on NumPy, a third of ``np.sum``'s call cost."""
    return x.sum(axis=axis) if xp is np else xp.sum(x, axis=axis)


def array_sum(x):
    """The sum of all of ``x``'s entries, in its namespace (a 0-d array off NumPy)."""
    return _sum(x, _namespace(x))


def _rowmax(z, xp):
    """Each row's maximum, as a column."""
    if xp is np:
        return z.max(axis=1, keepdims=True)
    return xp.max(z, axis=1, keepdims=True)


def _exp(z, xp):
    """``exp(z)``; in place on NumPy."""
    return np.exp(z, out=z) if xp is np else xp.exp(z)


def _relu(z, xp, out=None):
    """``max(z, 0)``; into ``out`` on NumPy (NaN propagates on both paths)."""
    return np.maximum(z, 0, out=out) if xp is np else xp.clip(z, min=0)


def _pick(z, y, xp):
    """``z[i, y_i]`` for every row ``i``."""
    if xp is np:
        return z[_rows(z.shape[0]), y]
    if y.dtype != xp.int64:  # torch gathers with int64 indices only
        y = xp.astype(y, xp.int64)
    return xp.take_along_axis(z, y[:, None], axis=1)[:, 0]


def _sub_onehot(z, y, xp):
    """``z - onehot(y)``; in place on NumPy (no one-hot matrix is built there)."""
    if xp is np:
        z[_rows(z.shape[0]), y] -= 1
        return z
    classes = xp.arange(z.shape[1], dtype=y.dtype, device=device_of(z))
    return z - xp.astype(y[:, None] == classes, z.dtype)


def _matmul(A, W, out, xp):
    """``A @ W``; into ``out`` on NumPy, with SciPy's kernel for sparse ``A``."""
    if xp is not np:
        if sp.issparse(A):
            raise TypeError(
                "Sparse input needs NumPy parameters; got parameters from "
                f"{xp.__name__}. Pass a dense array of that namespace instead."
            )
        return A @ W
    if type(A) is not np.ndarray and sp.issparse(A):
        if out is None:
            return np.asarray(A @ W)
        return csr_matmul_into(A, W, out)
    return np.matmul(A, W, out=out)


def relu(z, *, xp=None):
    """Return ``max(z, 0)`` elementwise, as a new array."""
    return _relu(z, _namespace(z, xp))


def inplace_relu(z, *, xp=None):
    """Apply ``max(z, 0)`` to ``z``, in place on NumPy; return the result."""
    return _relu(z, _namespace(z, xp), out=z)


def inplace_relu_grad(delta, activation, *, xp=None):
    """Multiply ``delta`` by the ReLU derivative at ``activation``; return it.

    In place on NumPy; other namespaces return a new array. ``activation`` is the
    ReLU *output*. The derivative is taken as 0 where the unit is exactly at zero
    (the subgradient scikit-learn uses too), so a unit with pre-activation 0 passes
    no gradient back; the gradient checker steps around such kinks (see
    ``_gradcheck``).
    """
    xp = _namespace(delta, xp)
    if xp is np:
        # a multiply by the 0/1 mask is ~3x faster than boolean-index assignment
        return np.multiply(delta, activation > 0, out=delta)
    return delta * xp.astype(activation > 0, delta.dtype)


def log_softmax(z, out=None, *, xp=None):
    """Row-wise log-softmax, stable for any finite logits.

    Subtracting the row maximum before ``exp`` keeps every exponent <= 0, so no
    overflow, and ``log(sum(exp))`` >= 0 is never ``log(0)``.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_classes)
        Logits.
    out : ndarray of the same shape, optional
        NumPy only: where to write the result; may be ``z`` itself.
    xp : array namespace, optional
        Taken from ``z`` if not given.

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
    xp = _namespace(z, xp)
    z_max = _rowmax(z, xp)
    out = np.subtract(z, z_max, out=out) if xp is np else z - z_max
    # exp of the shifted logits into a scratch array, only to get the row sums
    out -= xp.log(_sum(xp.exp(out), xp, axis=1)[:, None])
    return out


def softmax(z, *, xp=None):
    """Row-wise softmax computed as ``exp(log_softmax(z))``."""
    xp = _namespace(z, xp)
    return xp.exp(log_softmax(z, xp=xp))


def weighted_cross_entropy(log_proba, y, sample_weight=None, *, xp=None) -> float:
    """Return ``sum_i w_i * -log_proba[i, y_i]`` (not divided by the weight sum).

    Computed from log-probabilities, so it is finite whenever the logits are.
    ``y`` holds class indices and ``sample_weight`` the weights, both in the
    namespace and on the device of ``log_proba`` (weights of its dtype).
    """
    xp = _namespace(log_proba, xp)
    picked = _pick(log_proba, y, xp)
    if sample_weight is None:
        return float(-_sum(picked, xp))
    return float(-(sample_weight @ picked))


def inplace_softmax_cross_entropy(z, y, sample_weight=None, *, xp=None):
    """Fused softmax + cross-entropy: the loss, and ``z`` turned into the delta.

    Returns ``sum_i w_i CE_i`` and the delta ``w_i * (softmax(z) - onehot(y))``,
    the derivative of that sum with respect to the logits: the softmax Jacobian
    ``S_i (delta_ij - S_j)`` contracted with the cross-entropy gradient ``-1/S_y``
    collapses to ``S - onehot(y)``. The caller divides by the weight sum later (it
    is folded into the weight-gradient GEMM).

    The loss stays in log space, ``CE_i = logsumexp(z_i) - z_iy`` with the row
    maximum subtracted first, so it is finite for any finite logits; no probability
    is ever clipped or logged.

    On NumPy the delta overwrites ``z`` and the loss is a Python float. In other
    namespaces ``z`` is consumed (its content afterwards is unspecified), the delta
    is a new array, and the loss is a 0-d array on ``z``'s device, so the training
    loop can sum it there and bring one number to the host per epoch (``float``).

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet._math import inplace_softmax_cross_entropy
    >>> z = np.array([[0.0, 0.0], [1e4, 0.0]])
    >>> loss, delta = inplace_softmax_cross_entropy(z, np.array([0, 1]))
    >>> round(loss, 4), delta.round(2).tolist()
    (10000.6931, [[-0.5, 0.5], [1.0, -1.0]])
    """
    xp = _namespace(z, xp)
    z -= _rowmax(z, xp)
    ce = -_pick(z, y, xp)
    z = _exp(z, xp)
    sums = _sum(z, xp, axis=1)  # >= 1: the row maximum contributes exp(0)
    ce += xp.log(sums)
    z /= sums[:, None]
    z = _sub_onehot(z, y, xp)
    if sample_weight is None:
        loss = _sum(ce, xp)
    else:
        z *= sample_weight[:, None]
        loss = sample_weight @ ce
    return (float(loss) if xp is np else loss), z


def init_params(
    layer_sizes: list[int],
    rng: np.random.RandomState,
    dtype=np.float64,
    *,
    xp=None,
    device=None,
) -> list[tuple]:
    """He-initialised ``(W, b)`` layers for ``layer_sizes = [n_in, ..., n_classes]``.

    Hidden layers get He-normal weights (std ``sqrt(2 / fan_in)``), which keeps the
    variance of ReLU activations constant from layer to layer. The softmax layer is
    linear, so it gets the LeCun/Glorot-style std ``sqrt(1 / fan_in)``: logits of unit
    scale at the start, neither saturated nor flat. Biases start at zero.
    Every draw comes from ``rng``, so the same seed gives the same network.

    With ``xp`` (and ``device``) the NumPy draws are converted to ``dtype`` and then
    moved once to that namespace and device: the same seed gives the same network
    in every namespace. ``dtype`` may be a NumPy dtype or one of ``xp``'s.
    """
    xp = _namespace(None, xp or np)
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:  # another namespace's dtype: its NumPy twin by name
        np_dtype = np.dtype(str(dtype).rsplit(".", 1)[-1])
    params = []
    n_layers = len(layer_sizes) - 1
    for i, (fan_in, fan_out) in enumerate(
        zip(layer_sizes[:-1], layer_sizes[1:], strict=True)
    ):
        gain = 1.0 if i == n_layers - 1 else 2.0
        W = rng.normal(0.0, np.sqrt(gain / fan_in), size=(fan_in, fan_out))
        W = W.astype(np_dtype)
        if xp is not np:
            W = xp.asarray(W, device=device)
        params.append((W, xp.zeros(fan_out, dtype=W.dtype, device=device)))
    return params


def forward(params: list[tuple], X, activations: list | None = None, *, xp=None):
    """Forward pass; return ``[X, h_1, ..., h_L-1, logits]``.

    Parameters
    ----------
    params : list of (W, b)
    X : array or scipy sparse matrix of shape (n_samples, n_features)
        In the namespace and on the device of the parameters (sparse: NumPy only).
    activations : list of ndarray, optional
        NumPy only: preallocated outputs, one per layer, each of shape
        (n_samples, n_out); the training loop passes these so that no array is
        allocated per batch.
    xp : array namespace, optional
        Taken from the parameters if not given.

    Returns
    -------
    list of ndarray
        The input followed by each layer's output (ReLU applied to hidden layers).
    """
    xp = _namespace(params[0][0], xp)
    outs = [X]
    n_layers = len(params)
    for i, (W, b) in enumerate(params):
        buf = None if activations is None else activations[i]
        z = _matmul(outs[-1], W, buf, xp)
        z += b
        if i < n_layers - 1:
            z = _relu(z, xp, out=z)
        outs.append(z)
    return outs


def backward(
    params: list[tuple],
    activations: list,
    output_delta,
    deltas: list | None = None,
    *,
    xp=None,
) -> list:
    """Backpropagate the output delta; return one delta per layer.

    ``deltas[i]`` is the derivative of the (unnormalised) weighted loss with respect
    to layer ``i``'s pre-activation: ``delta_L = output_delta`` and
    ``delta_{i} = (delta_{i+1} @ W_{i+1}.T) * relu'(h_i)``. The weight gradient of
    layer ``i`` is then ``activations[i].T @ deltas[i] / S + alpha / S * W_i``, which
    ``gemm_grad_update`` computes (fused with the update during training).
    ``deltas`` (NumPy only) are preallocated outputs, as ``forward``'s.
    """
    xp = _namespace(output_delta, xp)
    n_layers = len(params)
    out = [None] * n_layers
    out[-1] = output_delta
    for i in range(n_layers - 1, 0, -1):
        buf = None if deltas is None else deltas[i - 1]
        d = _matmul(out[i], params[i][0].T, buf, xp)
        out[i - 1] = inplace_relu_grad(d, activations[i], xp=xp)
    return out


def gemm_grad_update(
    A, delta: np.ndarray, C: np.ndarray, alpha: float, beta: float
) -> np.ndarray:
    """Compute ``C <- alpha * A.T @ delta + beta * C`` in place and return ``C``.

    One BLAS ``gemm`` call for dense ``A``: folding the scaling, the weight decay and
    the update into ``beta`` saves whole passes over the weight matrix. ``A`` is the
    layer input (dense or sparse), ``delta`` the layer's delta, ``C`` a C-contiguous
    ``(n_in, n_out)`` array (weights, velocity or a gradient buffer).

    Any other namespace takes the generic branch below, which NumPy shares for
    sparse or non-contiguous operands: the standard's in-place operators, so ``C``
    is updated in place there too.
    """
    gemm = _GEMM.get(C.dtype) if type(C) is np.ndarray else None
    if (
        gemm is None
        or type(A) is not np.ndarray
        or not A.flags.c_contiguous
        or not delta.flags.c_contiguous
    ):
        if beta == 0:
            C[...] = 0
        elif beta != 1:
            C *= beta
        if sp.issparse(A):
            return csr_t_matmul_add(A, delta, C, alpha)
        C += alpha * (A.T @ delta)
        return C
    route = numpy_blas_route()  # SciPy's thread pool would fight NumPy's: _threads
    if route is not None and route.gemm_update(A, delta, C, alpha, beta):
        return C
    # C-ordered (n_in, n_out) is Fortran-ordered (n_out, n_in): compute C.T, which is
    # delta.T @ A, with every operand a Fortran view, so BLAS copies nothing.
    gemm(alpha, delta.T, A.T, beta=beta, c=C.T, trans_b=True, overwrite_c=True)
    return C


def penalty(params: list[tuple], *, xp=None) -> float:
    """Return ``sum_layers ||W||^2`` (biases excluded)."""
    xp = _namespace(params[0][0], xp)
    if xp is np:
        return float(sum(np.vdot(W, W) for W, _ in params))
    return float(sum(xp.sum(W * W) for W, _ in params))


def loss_and_grads(
    params: list[tuple],
    X,
    y,
    alpha: float = 0.0,
    sample_weight=None,
    *,
    xp=None,
) -> tuple[float, list[tuple]]:
    """Objective and its exact gradients for one batch.

    Parameters
    ----------
    params : list of (W, b)
        NumPy arrays, or arrays of any Array API namespace (all on one device).
    X : array or sparse matrix of shape (n_samples, n_features)
        In the namespace and on the device of ``params`` (sparse: NumPy only).
    y : array of int, shape (n_samples,)
        Class indices in ``range(n_classes)``, in the namespace of ``params``.
    alpha : float
        L2 penalty strength.
    sample_weight : array of shape (n_samples,), optional
        In the namespace and dtype of ``params``.
    xp : array namespace, optional
        Taken from the parameters if not given.

    Returns
    -------
    loss : float
        ``sum_i w_i CE_i / S + alpha / (2 S) * sum ||W||^2``.
    grads : list of (grad_W, grad_b)
        Arrays of the parameters' namespace, device and dtype.

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
    xp = _namespace(params[0][0], xp)
    acts = forward(params, X, xp=xp)
    S = float(X.shape[0]) if sample_weight is None else float(xp.sum(sample_weight))
    data_loss, delta = inplace_softmax_cross_entropy(acts[-1], y, sample_weight, xp=xp)
    loss = (float(data_loss) + 0.5 * alpha * penalty(params, xp=xp)) / S
    deltas = backward(params, acts, delta, xp=xp)
    grads = []
    for (W, _), A, d in zip(params, acts[:-1], deltas, strict=True):
        gW = W * (alpha / S)
        gemm_grad_update(A, d, gW, 1.0 / S, 1.0)
        grads.append((gW, _sum(d, xp, axis=0) / S))
    return loss, grads
