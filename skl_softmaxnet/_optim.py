"""Update rules and learning-rate schedules.

The optimizer knows nothing of X, y, stopping or printing. It receives each layer's
gradient in *factored* form: the weight gradient is
``scale * inputs.T @ delta + decay * W`` and the bias gradient is
``scale * delta.sum(axis=0)``. Keeping the matrix product unevaluated lets ``step`` fold
the product, the weight decay and the update into one BLAS ``gemm`` (``beta`` carries
the decay), instead of materialising a gradient and then walking the weights again.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import blas

from ._math import _namespace, _sum, gemm_grad_update
from ._threads import numpy_blas_route

__all__ = ["SGD", "LearningRateSchedule", "LR_SCHEDULES"]

LR_SCHEDULES = ("constant", "invscaling", "adaptive", "cosine")


_AXPY = {np.dtype(np.float64): blas.daxpy, np.dtype(np.float32): blas.saxpy}


def _axpy(x: np.ndarray, y: np.ndarray, a: float) -> None:
    """``y += a * x`` in place, one pass, no temporary (x, y C-contiguous)."""
    route = numpy_blas_route()  # SciPy's thread pool would fight NumPy's: _threads
    if route is not None and route.axpy(x, y, a):
        return
    _AXPY[y.dtype](x.ravel(), y.ravel(), a=a)


def _xp_axpy(x, y, a: float) -> None:
    """``y += a * x`` in place with the standard's operators (any namespace)."""
    y += a * x


class SGD:
    """Mini-batch SGD with optional classical or Nesterov momentum.

    Matches scikit-learn's ``SGDOptimizer``: with velocity ``v`` and gradient ``g``,
    ``v <- mu * v - lr * g`` and then ``W <- W + v`` (classical) or
    ``W <- W + mu * v - lr * g`` (Nesterov, in the form that evaluates the gradient at
    the stored weights).

    Parameters
    ----------
    momentum : float
        ``mu`` in [0, 1]. ``0`` is plain SGD (no velocity is kept).
    nesterov : bool
        Nesterov's momentum instead of the classical one.
    velocities : list of ndarray, optional
        Saved state, ``[v_W0, v_b0, v_W1, ...]``; carried across ``partial_fit`` calls.
        Created as zeros on the first ``step`` if not given.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet._optim import SGD
    >>> W, b = np.ones((2, 1)), np.zeros(1)
    >>> A, delta = np.array([[1.0, 0.0]]), np.array([[0.5]])
    >>> SGD(momentum=0.0).step([(W, b)], [A], [delta], scale=1.0, decay=0.0, lr=0.1)
    >>> W.ravel(), b
    (array([0.95, 1.  ]), array([-0.05]))
    """

    def __init__(
        self,
        momentum: float = 0.9,
        nesterov: bool = True,
        velocities: list[np.ndarray] | None = None,
    ):
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = velocities

    def reset(self) -> None:
        """Zero the velocities in place (after the weights were rolled back)."""
        for v in self.velocities or ():
            v[...] = 0

    def step(
        self,
        params: list[tuple[np.ndarray, np.ndarray]],
        inputs: list,
        deltas: list[np.ndarray],
        scale: float,
        decay: float,
        lr: float,
    ) -> None:
        """Update ``params`` in place from factored gradients.

        Parameters
        ----------
        params : list of (W, b)
        inputs : list of ndarray or sparse matrix
            The input of each layer (``activations[:-1]`` of the forward pass).
        deltas : list of ndarray
            Each layer's (unnormalised) delta, as returned by ``_math.backward``.
        scale : float
            ``1 / S``, the inverse of the batch's weight sum.
        decay : float
            ``alpha / S``, the weight-decay coefficient of this batch.
        lr : float
            The learning rate for this step.

        The parameters may be arrays of any Array API namespace: the same sequence
        of updates then runs with the standard's in-place operators instead of
        BLAS ``axpy`` (``gemm_grad_update`` picks its branch the same way), and the
        velocities are created in the parameters' namespace and on their device.
        """
        xp = _namespace(params[0][0])
        axpy = _axpy if xp is np else _xp_axpy
        mu = self.momentum
        if mu == 0:
            for (W, b), A, d in zip(params, inputs, deltas, strict=True):
                # W <- (1 - lr*decay) W - lr*scale A^T d: one gemm, no extra pass
                gemm_grad_update(A, d, W, -lr * scale, 1.0 - lr * decay)
                b -= (lr * scale) * _sum(d, xp, axis=0)
            return
        if self.velocities is None:
            self.velocities = [xp.zeros_like(p) for layer in params for p in layer]
        vel = self.velocities
        for i, ((W, b), A, d) in enumerate(zip(params, inputs, deltas, strict=True)):
            vW, vb = vel[2 * i], vel[2 * i + 1]
            d_sum = _sum(d, xp, axis=0)  # the bias gradient is scale * d_sum
            if not self.nesterov:
                # v <- mu v - lr (scale A^T d + decay W); W <- W + v
                gemm_grad_update(A, d, vW, -lr * scale, mu)
                axpy(W, vW, -lr * decay)
                axpy(vW, W, 1.0)
                vb *= mu
                axpy(d_sum, vb, -lr * scale)
                axpy(vb, b, 1.0)
            else:
                # W_t = W + mu v_t - lr g = W + (1 + mu) v_t - mu v_{t-1}. With
                # W' = W - mu v_{t-1} the decay term is lr*decay*(W' + mu v_{t-1}),
                # so v_t = mu (1 - lr decay) v_{t-1} - lr decay W' - lr scale A^T d
                # and W_t = W' + (1 + mu) v_t: four BLAS calls, no gradient buffer.
                axpy(vW, W, -mu)
                gemm_grad_update(A, d, vW, -lr * scale, mu * (1.0 - lr * decay))
                axpy(W, vW, -lr * decay)
                axpy(vW, W, 1.0 + mu)
                # the same for the bias, which has no decay
                axpy(vb, b, -mu)
                vb *= mu
                axpy(d_sum, vb, -lr * scale)
                axpy(vb, b, 1.0 + mu)


class LearningRateSchedule:
    """Per-epoch learning rate, with MLPClassifier's meanings.

    - ``'constant'``: ``learning_rate_init`` throughout.
    - ``'invscaling'``: after each epoch,
      ``lr = learning_rate_init / (t + 1) ** power_t``
      with ``t`` the number of samples seen so far (``t_``), as MLPClassifier.
    - ``'adaptive'``: constant while training goes well; each time the stopping monitor
      sees ``n_iter_no_change`` consecutive epochs without an improvement of ``tol``
      (training loss, or validation score with early stopping), the rate is divided
      by 5 instead of stopping. Training stops at a plateau once the rate is <= 1e-6;
      where nothing stops (``partial_fit``) the rate stays there, never reaching 0.
    - ``'cosine'``: linear warm-up from ``learning_rate_init / warmup_iters`` over the
      first ``warmup_iters`` epochs, then cosine annealing from ``learning_rate_init``
      towards 0 over the remaining epochs up to ``max_iter``. Past ``max_iter`` (only
      ``partial_fit`` gets there) the annealing restarts: a new cycle of
      ``max_iter - warmup_iters`` epochs, so the rate never stays at 0.

    Every rate is multiplied by ``factor``, which the loss-spike recovery cuts.
    A schedule is one fit's: ``fit`` (warm or not) starts a fresh one; ``partial_fit``
    carries ``current`` and ``factor`` from call to call (``state``).

    Examples
    --------
    >>> from skl_softmaxnet._optim import LearningRateSchedule
    >>> s = LearningRateSchedule("cosine", 0.1, max_iter=4)
    >>> [round(s.rate(epoch, t=0), 4) for epoch in range(5)]
    [0.1, 0.0854, 0.05, 0.0146, 0.1]
    """

    def __init__(
        self,
        kind: str,
        learning_rate_init: float,
        *,
        power_t: float = 0.5,
        max_iter: int = 200,
        warmup_iters: int = 0,
        state: dict | None = None,
    ):
        self.kind = kind
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.warmup_iters = warmup_iters
        state = state or {}
        self.current = float(state.get("current", learning_rate_init))
        self.factor = float(state.get("factor", 1.0))

    @property
    def state(self) -> dict:
        """What ``partial_fit`` carries to its next call (builtins only)."""
        return {"current": self.current, "factor": self.factor}

    def rate(self, epoch: int, t: int) -> float:
        """Learning rate for epoch ``epoch`` (0-based) after ``t`` samples seen."""
        lr0 = self.learning_rate_init
        if self.kind == "invscaling":
            self.current = lr0 / (t + 1) ** self.power_t
        elif self.kind == "cosine":
            w = min(self.warmup_iters, self.max_iter - 1)
            span = self.max_iter - w
            if epoch < w:
                self.current = lr0 * (epoch + 1) / w
            else:
                progress = ((epoch - w) % span) / span
                self.current = 0.5 * lr0 * (1.0 + math.cos(math.pi * progress))
        elif self.kind == "constant":
            self.current = lr0
        return self.current * self.factor

    def on_plateau(self) -> bool:
        """React to a plateau; return True if training should stop."""
        if self.kind != "adaptive" or self.current <= 1e-6:
            return True
        self.current /= 5.0
        return False

    def cut(self, factor: float) -> None:
        """Multiply every later rate by ``factor`` (the spike recovery's step)."""
        self.factor *= factor
