"""Which BLAS library the training loop uses, chosen once per fit or partial_fit.

NumPy's and SciPy's wheels each bundle their own OpenBLAS, each with its own pool of
threads. The loop's forward and backward products go through NumPy (``np.matmul``);
the fused weight update (``gemm`` with ``beta``, ``axpy``) went through SciPy. With
both pools multi-threaded (the default), the calls alternate between the two
libraries batch after batch, and each pool's idle workers spin while the other pool
works: on 2 cores one epoch took five times as long as with one thread.

:func:`training_threads` looks once per call at the thread settings:

* If SciPy's BLAS would run on one thread anyway (inside
  ``threadpoolctl.threadpool_limits(1)``, with ``OPENBLAS_NUM_THREADS=1``, ...) or is
  the same library as NumPy's (conda, MKL, a system OpenBLAS), nothing changes: the
  fused SciPy kernels are the fastest one-thread path.
* Otherwise the weight updates go through NumPy as well: the product into a scratch
  buffer with ``np.matmul`` (NumPy's pool, with the user's thread limit), then
  in-place NumPy arithmetic. SciPy's pool is never woken, no thread setting is
  changed, and every product of the loop uses all the threads NumPy is allowed.

Nothing here sets a thread limit, so the user's own limits (``threadpool_limits``,
``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``) hold as they are. The choice is
thread-local, like ``np.errstate``: concurrent fits in several threads each get their
own, with their own scratch buffers.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import numpy as np

__all__ = ["training_threads", "numpy_blas_route", "NumpyBlasRoute"]

_LOCAL = threading.local()
_LOCK = threading.Lock()
_CONTENDERS: list | None = None  # threadpoolctl controllers, found once


class NumpyBlasRoute:
    """Scratch buffers for the NumPy route of the weight updates.

    ``gemm_grad_update`` and the optimizer's ``axpy`` ask for a buffer by name; a
    buffer is allocated on first use for each name, shape and dtype and reused for
    every later batch of the same ``fit`` / ``partial_fit`` call.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple, np.ndarray] = {}

    def buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """Return an uninitialised array of ``shape`` and ``dtype``, reused by name."""
        key = (name, shape, dtype)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buf

    def gemm_update(
        self, A: np.ndarray, delta: np.ndarray, C: np.ndarray, alpha: float, beta: float
    ) -> np.ndarray:
        """``C <- alpha * A.T @ delta + beta * C`` with NumPy's BLAS, in place.

        ``alpha`` scales a copy of ``delta`` (batch-sized, small) rather than the
        product; the product lands in a scratch buffer, or straight in ``C`` when
        ``beta == 0``.
        """
        if alpha != 1:
            scaled = self.buffer("delta", delta.shape, delta.dtype)
            np.multiply(delta, alpha, out=scaled)
            delta = scaled
        if beta == 0:
            return np.matmul(A.T, delta, out=C)
        product = self.buffer("product", C.shape, C.dtype)
        np.matmul(A.T, delta, out=product)
        if beta != 1:
            C *= beta
        C += product
        return C

    def axpy(self, x: np.ndarray, y: np.ndarray, a: float) -> None:
        """``y += a * x`` in place with NumPy arithmetic and a scratch buffer."""
        if a == 1:
            y += x
            return
        scaled = self.buffer("axpy", x.shape, x.dtype)
        np.multiply(x, a, out=scaled)
        y += scaled


def numpy_blas_route() -> NumpyBlasRoute | None:
    """The NumPy route of the current thread's training call, or None.

    None outside :func:`training_threads` and when the fused SciPy kernels were
    chosen; the kernels then behave exactly as they always did.
    """
    return getattr(_LOCAL, "route", None)


def _package_dirs(module) -> tuple[str, ...]:
    """Where a package and the libraries its wheel bundles live (``scipy.libs``)."""
    root = os.path.dirname(os.path.realpath(module.__file__))
    return (root + os.sep, root + ".libs" + os.sep)


def _find_contenders() -> list:
    """The BLAS library controllers whose pool would contend with NumPy's.

    SciPy's own BLAS, when its wheel bundles one (found by path); otherwise, if several
    BLAS libraries are loaded, all of them (which one SciPy calls is unknown); if only
    one is loaded, NumPy and SciPy share it and nothing contends.
    """
    import scipy
    from scipy.linalg import blas  # noqa: F401  (loads SciPy's BLAS)
    from threadpoolctl import ThreadpoolController

    libs = [
        lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"
    ]
    scipy_dirs = _package_dirs(scipy)
    own = [lib for lib in libs if os.path.realpath(lib.filepath).startswith(scipy_dirs)]
    if own:
        return own
    return libs if len(libs) > 1 else []


def _contenders() -> list:
    global _CONTENDERS
    if _CONTENDERS is None:
        with _LOCK:
            if _CONTENDERS is None:
                _CONTENDERS = _find_contenders()
    return _CONTENDERS


def scipy_blas_would_contend() -> bool:
    """True if SciPy's BLAS is a library of its own that would use several threads.

    Reads the current thread counts (a few microseconds); the libraries themselves
    are looked up once per process.
    """
    for lib in _contenders():
        n = lib.num_threads
        if n is None or n > 1:
            return True
    return False


@contextlib.contextmanager
def training_threads(numpy_blas: bool | None = None) -> Iterator[bool]:
    """Choose the BLAS route of the weight updates for one training call.

    Enter it once per ``fit`` / ``partial_fit``, around all the batches; it costs a
    few microseconds. Nested uses each choose afresh and restore the outer choice.

    Parameters
    ----------
    numpy_blas : bool, optional
        Force the route: True for NumPy's BLAS and in-place NumPy arithmetic, False
        for the fused SciPy kernels. By default the NumPy route is taken when
        :func:`scipy_blas_would_contend`.

    Yields
    ------
    bool
        Whether the NumPy route was taken.

    Examples
    --------
    >>> from threadpoolctl import threadpool_limits
    >>> from skl_softmaxnet._threads import training_threads, numpy_blas_route
    >>> with threadpool_limits(1), training_threads() as via_numpy:
    ...     via_numpy, numpy_blas_route() is None
    (False, True)
    """
    if numpy_blas is None:
        numpy_blas = scipy_blas_would_contend()
    previous = getattr(_LOCAL, "route", None)
    _LOCAL.route = NumpyBlasRoute() if numpy_blas else None
    try:
        yield numpy_blas
    finally:
        _LOCAL.route = previous
