"""Per-feature standardisation folded into the first layer (``standardize=True``).

The network trains on ``(X - mean) / scale``; a first layer ``(W_s, b_s)`` on that
input is the layer ``W = W_s / scale[:, None]``, ``b = b_s - mean @ W`` on X as given,
so the fitted weights act on the user's features and nothing else is stored for
``predict``. ``fold`` and ``unfold`` convert the first layer in place between the two
parametrisations (a warm start or ``partial_fit`` continues in the standardised one).

Pure array code: NumPy, SciPy sparse (scaled, never centred, so it stays sparse) or
any Array API namespace, no scikit-learn.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._compat import namespace_of

__all__ = ["FeatureScaling"]

# rows per pass of the NumPy statistics: bounds their temporaries to one chunk
_CHUNK_ROWS = 4096


# columns whose largest magnitude exceeds this are divided by it before their
# statistics are taken (their squares would overflow past ~1e154); the others are
# taken as they are, so ordinary data pay nothing for it
_HUGE = 1e100


def _column_scale(variance, mean, xp, eps):
    """``sqrt(variance)``, with 0 for (numerically) constant columns, which the
    callers leave unscaled (a scale of 1), as StandardScaler: dividing by a rounding
    error would blow those columns up. ``variance`` and ``mean`` are those of the
    columns divided by ``m`` (see ``_numpy_stats``), so "constant" is relative to it."""
    scale = xp.sqrt(xp.clip(variance, min=0.0))
    tiny = 10 * eps * xp.clip(xp.abs(mean), min=1.0)
    return xp.where(scale <= tiny, xp.zeros_like(scale), scale)


def _divisor(largest, xp=np):
    """``m``: a column's largest magnitude where it is huge, else 1."""
    return xp.where(largest > _HUGE, largest, xp.ones_like(largest))


def _numpy_stats(X, w):
    """Weighted mean and variance of each column of ``X / m`` in float64, chunk by
    chunk, and ``m`` (``_divisor``)."""
    n = X.shape[0]
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    total = w.sum()
    if sp.issparse(X):
        largest = np.maximum(X.max(axis=0).toarray(), -X.min(axis=0).toarray())
        m = _divisor(largest.ravel().astype(np.float64))
        Xm = X.tocsr(copy=True)  # the one copy, squared in place below
        if np.any(m != 1):
            Xm.data /= m[Xm.indices]
        mean = np.asarray(Xm.T @ w).ravel() / total
        Xm.data **= 2
        sq = np.asarray(Xm.T @ w).ravel() / total
        return mean, sq - mean * mean, m
    largest = np.zeros(X.shape[1])
    for start in range(0, n, _CHUNK_ROWS):
        chunk = X[start : start + _CHUNK_ROWS]
        np.maximum(largest, chunk.max(axis=0), out=largest)
        np.maximum(largest, -chunk.min(axis=0), out=largest)
    m = _divisor(largest)
    mean = np.zeros(X.shape[1])
    for start in range(0, n, _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        mean += w[start:stop] @ (X[start:stop].astype(np.float64, copy=False) / m)
    mean /= total
    var = np.zeros(X.shape[1])
    for start in range(0, n, _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        d = X[start:stop].astype(np.float64, copy=True)
        d /= m
        d -= mean
        d *= d
        var += w[start:stop] @ d
    return mean, var / total, m


class FeatureScaling:
    """``mean`` and ``scale`` of the training features, and what to do with them.

    Parameters
    ----------
    mean, scale : array of shape (n_features,)
        In the namespace, device and dtype of the data (and of the weights).
    """

    def __init__(self, mean, scale):
        self.mean = mean
        self.scale = scale

    @classmethod
    def fit(cls, X, sample_weight=None) -> FeatureScaling:
        """Statistics of X's rows (weighted: zero-weight rows count for nothing).

        Sparse X is scaled but not centred (``mean`` is zero), as
        ``StandardScaler(with_mean=False)``: centring would densify it.
        """
        if isinstance(X, np.ndarray) or sp.issparse(X):
            w = None if sample_weight is None else np.asarray(sample_weight)
            mean, var, m = _numpy_stats(X, w)
            scale = _column_scale(var, mean, np, np.finfo(X.dtype).eps)
            scale = np.where(scale > 0, scale * m, 1.0)
            mean = np.zeros_like(mean) if sp.issparse(X) else mean * m
            return cls(mean.astype(X.dtype), scale.astype(X.dtype))
        xp, device = namespace_of(X)
        largest = xp.maximum(xp.max(X, axis=0), -xp.min(X, axis=0))
        m = _divisor(largest, xp)
        # one host read; ordinary data skip the division (a copy of X on the device)
        Xm = X / m if bool(xp.any(m != 1)) else X
        if sample_weight is None:
            mean = xp.mean(Xm, axis=0)
            var = xp.mean((Xm - mean) ** 2, axis=0)
        else:
            w = xp.astype(sample_weight, X.dtype)
            w = w / xp.sum(w)
            mean = w @ Xm
            var = w @ ((Xm - mean) ** 2)
        scale = _column_scale(var, mean, xp, xp.finfo(X.dtype).eps)
        scale = xp.where(scale > 0, scale * m, xp.ones_like(scale))
        return cls(mean * m, scale)

    def transform(self, X):
        """``(X - mean) / scale`` as a new array (sparse: ``X / scale``, CSR)."""
        if sp.issparse(X):
            inv = (1.0 / self.scale).astype(X.dtype)
            return (X @ sp.diags(inv, format="csr")).tocsr()
        # X / scale first: X - mean overflows where X and mean have opposite signs
        # and magnitudes near the largest float, the standardised values do not
        out = X / self.scale  # the one copy of X
        out -= self.mean / self.scale
        return out

    def fold(self, params) -> None:
        """First layer from the standardised input to X as given, in place."""
        W, b = params[0]
        W /= self._column(W)
        b -= self.mean @ W

    def unfold(self, params) -> None:
        """First layer from X as given to the standardised input, in place."""
        W, b = params[0]
        b += self.mean @ W
        W *= self._column(W)

    def _column(self, W):
        if isinstance(W, np.ndarray):
            return self.scale[:, None]
        xp = namespace_of(W)[0]
        return xp.reshape(self.scale, (-1, 1))
