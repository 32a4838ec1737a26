"""Sparse-times-dense products that write into given arrays.

The one place that uses SciPy's private ``scipy.sparse._sparsetools`` kernels: they
accumulate ``A @ B`` (or ``A.T @ B``) straight into an existing dense array, where the
public ``A @ B`` allocates a fresh result that the training loop would then have to
copy or add (a full extra pass over a weight-sized array per batch). When the private
module is missing or the dtypes do not fit, the public operators are used instead.
"""

from __future__ import annotations

import numpy as np

try:  # private SciPy API: kept behind this module so an upgrade touches one file
    from scipy.sparse import _sparsetools
except ImportError:  # pragma: no cover - depends on the SciPy build
    _sparsetools = None

__all__ = ["csr_matmul_into", "csr_t_matmul_add"]


def _fits(A, B: np.ndarray, C: np.ndarray) -> bool:
    return (
        _sparsetools is not None
        and A.format == "csr"
        and A.data.dtype == B.dtype == C.dtype
        and B.flags.c_contiguous
        and C.flags.c_contiguous
    )


def csr_matmul_into(A, B: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[...] = A @ B`` for a CSR matrix ``A`` and dense ``B``; returns ``out``."""
    if not _fits(A, B, out):
        out[...] = A @ B
        return out
    out.fill(0)
    n_row, n_col = A.shape
    _sparsetools.csr_matvecs(
        n_row, n_col, B.shape[1], A.indptr, A.indices, A.data, B.ravel(), out.ravel()
    )
    return out


def csr_t_matmul_add(A, D: np.ndarray, C: np.ndarray, alpha: float) -> np.ndarray:
    """``C += alpha * A.T @ D`` for a CSR matrix ``A``; returns ``C``.

    A CSR matrix's arrays read as CSC describe its transpose, so the CSC kernel
    accumulates ``A.T @ D`` into ``C`` with no temporary the size of ``C``.
    """
    if not _fits(A, D, C):
        C += alpha * (A.T @ D)
        return C
    n_row, n_col = A.shape
    Ds = D * alpha  # batch-sized, small next to C
    _sparsetools.csc_matvecs(
        n_col, n_row, D.shape[1], A.indptr, A.indices, A.data, Ds.ravel(), C.ravel()
    )
    return C
