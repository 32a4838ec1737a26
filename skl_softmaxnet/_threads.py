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
* Otherwise the weight updates go to NumPy's BLAS as well, so only NumPy's pool
  ever works and every product of the loop gets all the threads NumPy is allowed.
  Where NumPy's wheel bundles OpenBLAS (found by path, as SciPy's), the same fused
  ``gemm`` / ``axpy`` kernels are called in that library directly (``ctypes``,
  CBLAS); elsewhere, or for operands they do not fit, the product goes into a
  scratch buffer with ``np.matmul`` and the update is in-place NumPy arithmetic
  (two passes where ``axpy`` makes one). Calls small enough for OpenBLAS to run
  them on the calling thread (``SMALL_GEMM_WORK``, ``SMALL_AXPY_SIZE``) keep SciPy's
  kernels: they wake no pool, and small batches keep their speed.

Nothing here sets a thread limit, so the user's own limits (``threadpool_limits``,
``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``) hold as they are. The choice is
thread-local, like ``np.errstate``: concurrent fits in several threads each get their
own, with their own scratch buffers.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator

import numpy as np

__all__ = [
    "training_threads",
    "scipy_blas_would_contend",
    "numpy_blas_route",
    "NumpyBlasRoute",
]

_LOCAL = threading.local()
_LOCK = threading.Lock()
_CONTENDERS: list | None = None  # threadpoolctl controllers, found once
_NUMPY_OPENBLAS: list = []  # [the _NumpyOpenBLAS or None], found once

# OpenBLAS runs a call on the calling thread, whatever its thread setting, up to these
# sizes (interface/gemm.c: M*N*K <= 65536 * GEMM_MULTITHREAD_THRESHOLD, 4 by default;
# interface/axpy.c: n <= 10000; seen on 0.3.30 by watching its workers' CPU time).
# SciPy's fused kernels stay there: they wake no pool, and skip the per-call cost of
# the NumPy route (ctypes, or extra passes), which small batches would feel.
SMALL_GEMM_WORK = 65536 * 4
SMALL_AXPY_SIZE = 10000


class _NumpyOpenBLAS:
    """The fused kernels of the OpenBLAS that NumPy's wheel bundles, via CBLAS.

    ``gemm_update`` and ``axpy`` return False, doing nothing, for operands they do
    not take (dtype other than float32/float64, not C-contiguous, mixed dtypes);
    the caller then falls back to NumPy arithmetic.
    """

    _ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112

    def __init__(self, dll: ctypes.CDLL, prefix: str, suffix: str) -> None:
        # suffixed symbols (scipy_cblas_dgemm64_) are the 64-bit-integer interface
        index = ctypes.c_int64 if suffix else ctypes.c_int
        self._gemm, self._axpy = {}, {}
        for dtype, letter, real in (
            (np.dtype(np.float64), "d", ctypes.c_double),
            (np.dtype(np.float32), "s", ctypes.c_float),
        ):
            gemm = getattr(dll, f"{prefix}cblas_{letter}gemm{suffix}")
            gemm.argtypes = [ctypes.c_int] * 3 + [index] * 3 + [real, ctypes.c_void_p]
            gemm.argtypes += [index, ctypes.c_void_p, index, real, ctypes.c_void_p]
            gemm.argtypes += [index]
            gemm.restype = None
            axpy = getattr(dll, f"{prefix}cblas_{letter}axpy{suffix}")
            axpy.argtypes = [
                index,
                real,
                ctypes.c_void_p,
                index,
                ctypes.c_void_p,
                index,
            ]
            axpy.restype = None
            self._gemm[dtype], self._axpy[dtype] = gemm, axpy

    def gemm_update(self, A, delta, C, alpha: float, beta: float) -> bool:
        """``C <- alpha * A.T @ delta + beta * C`` in one ``gemm``; False if unfit."""
        gemm = self._gemm.get(C.dtype)
        if (
            gemm is None
            or A.dtype != C.dtype
            or delta.dtype != C.dtype
            or not (A.flags.c_contiguous and delta.flags.c_contiguous)
            or not C.flags.c_contiguous
        ):
            return False
        (n, n_in), n_out = A.shape, C.shape[1]
        # row-major: C (n_in x n_out) = alpha A^T (n_in x n) delta (n x n_out) + beta C
        gemm(
            self._ROW_MAJOR, self._TRANS, self._NO_TRANS, n_in, n_out, n, alpha,
            A.ctypes.data, n_in, delta.ctypes.data, n_out, beta, C.ctypes.data, n_out,
        )  # fmt: skip
        return True

    def axpy(self, x, y, a: float) -> bool:
        """``y += a * x`` in one pass; False if unfit."""
        axpy = self._axpy.get(y.dtype)
        if (
            axpy is None
            or x.dtype != y.dtype
            or x.size != y.size
            or not (x.flags.c_contiguous and y.flags.c_contiguous)
        ):
            return False
        axpy(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
        return True


def _find_numpy_openblas() -> _NumpyOpenBLAS | None:
    """NumPy's bundled OpenBLAS with its CBLAS symbols, checked on a small product."""
    from threadpoolctl import ThreadpoolController

    numpy_dirs = _package_dirs(np)
    for lib in ThreadpoolController().lib_controllers:
        if lib.internal_api != "openblas" or not os.path.realpath(
            lib.filepath
        ).startswith(numpy_dirs):
            continue
        try:
            dll = ctypes.CDLL(lib.filepath)
        except OSError:
            continue
        for prefix in ("scipy_", ""):
            for suffix in ("64_", "_64", ""):
                names = [
                    f"{prefix}cblas_{k}{suffix}"
                    for k in ("dgemm", "sgemm", "daxpy", "saxpy")
                ]
                if all(hasattr(dll, name) for name in names):
                    blas = _NumpyOpenBLAS(dll, prefix, suffix)
                    if _self_check(blas):
                        return blas
    return None


def _self_check(blas: _NumpyOpenBLAS) -> bool:
    rng = np.random.default_rng(0)
    A, delta, C = rng.random((3, 4)), rng.random((3, 2)), rng.random((4, 2))
    x, y = rng.random(5), rng.random(5)
    expected_C, expected_y = 0.5 * A.T @ delta + 2.0 * C, y + 3.0 * x
    ok = blas.gemm_update(A, delta, C, 0.5, 2.0) and blas.axpy(x, y, 3.0)
    return bool(ok and np.allclose(C, expected_C) and np.allclose(y, expected_y))


def _numpy_openblas() -> _NumpyOpenBLAS | None:
    if not _NUMPY_OPENBLAS:
        with _LOCK:
            if not _NUMPY_OPENBLAS:
                _NUMPY_OPENBLAS.append(_find_numpy_openblas())
    return _NUMPY_OPENBLAS[0]


class NumpyBlasRoute:
    """Scratch buffers for the NumPy route of the weight updates.

    ``gemm_grad_update`` and the optimizer's ``axpy`` ask for a buffer by name; a
    buffer is allocated on first use for each name, shape and dtype and reused for
    every later batch of the same ``fit`` / ``partial_fit`` call.
    """

    def __init__(self, blas: _NumpyOpenBLAS | None = None) -> None:
        self._buffers: dict[tuple, np.ndarray] = {}
        self._blas = blas

    def buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """Return an uninitialised array of ``shape`` and ``dtype``, reused by name."""
        key = (name, shape, dtype)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buf

    def gemm_update(
        self, A: np.ndarray, delta: np.ndarray, C: np.ndarray, alpha: float, beta: float
    ) -> bool:
        """``C <- alpha * A.T @ delta + beta * C`` with NumPy's BLAS, in place.

        Returns False, doing nothing, when the product is small enough for SciPy's
        ``gemm`` to run on the calling thread (``SMALL_GEMM_WORK``): the caller
        keeps that one.

        One fused ``gemm`` in NumPy's OpenBLAS when it was found. Otherwise ``alpha``
        scales a copy of ``delta`` (batch-sized, small) rather than the product; the
        product lands in a scratch buffer, or straight in ``C`` when ``beta == 0``.
        """
        if A.shape[0] * A.shape[1] * C.shape[1] <= SMALL_GEMM_WORK:
            return False
        if self._blas is not None and self._blas.gemm_update(A, delta, C, alpha, beta):
            return True
        if alpha != 1:
            scaled = self.buffer("delta", delta.shape, delta.dtype)
            np.multiply(delta, alpha, out=scaled)
            delta = scaled
        if beta == 0:
            np.matmul(A.T, delta, out=C)
            return True
        product = self.buffer("product", C.shape, C.dtype)
        np.matmul(A.T, delta, out=product)
        if beta != 1:
            C *= beta
        C += product
        return True

    def axpy(self, x: np.ndarray, y: np.ndarray, a: float) -> bool:
        """``y += a * x`` in place: NumPy's ``axpy``, else NumPy arithmetic.

        Returns False, doing nothing, for vectors short enough for SciPy's ``axpy``
        to run on the calling thread (``SMALL_AXPY_SIZE``).
        """
        if y.size <= SMALL_AXPY_SIZE:
            return False
        if self._blas is not None and self._blas.axpy(x, y, a):
            return True
        if a == 1:
            y += x
        else:
            scaled = self.buffer("axpy", x.shape, x.dtype)
            np.multiply(x, a, out=scaled)
            y += scaled
        return True


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
def training_threads(numpy_blas: bool | str | None = None) -> Iterator[bool]:
    """Choose the BLAS route of the weight updates for one training call.

    Enter it once per ``fit`` / ``partial_fit``, around all the batches; it costs a
    few microseconds. Nested uses each choose afresh and restore the outer choice.

    Parameters
    ----------
    numpy_blas : bool or "arithmetic", optional
        Force the route: True for NumPy's BLAS (its fused kernels where found),
        ``"arithmetic"`` for NumPy's ``matmul`` and in-place arithmetic only (the
        fallback, for tests), False for the fused SciPy kernels. By default the
        NumPy route is taken when :func:`scipy_blas_would_contend`.

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
    if not numpy_blas:
        route = None
    elif numpy_blas == "arithmetic":
        route = NumpyBlasRoute()
    else:
        route = NumpyBlasRoute(_numpy_openblas())
    _LOCAL.route = route
    try:
        yield route is not None
    finally:
        _LOCAL.route = previous
