"""Sparse products into given arrays: the private-kernel path and the fallback."""

import numpy as np
import pytest
import scipy.sparse as sp

from skl_softmaxnet import _sparse


@pytest.fixture(params=["kernel", "fallback"])
def path(request, monkeypatch):
    if request.param == "fallback":
        monkeypatch.setattr(_sparse, "_sparsetools", None)
    return request.param


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_matmul_into_matches_the_public_product(path, dtype):
    rng = np.random.RandomState(0)
    A = sp.random(7, 12, density=0.3, format="csr", random_state=0, dtype=dtype)
    B = rng.normal(size=(12, 5)).astype(dtype)
    out = np.full((7, 5), np.nan, dtype=dtype)  # stale content must not leak
    res = _sparse.csr_matmul_into(A, B, out)
    assert res is out
    np.testing.assert_allclose(out, A @ B, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_t_matmul_add_accumulates_the_scaled_transpose_product(path, dtype):
    rng = np.random.RandomState(1)
    A = sp.random(7, 12, density=0.3, format="csr", random_state=1, dtype=dtype)
    D = rng.normal(size=(7, 5)).astype(dtype)
    C0 = rng.normal(size=(12, 5)).astype(dtype)
    C = C0.copy()
    res = _sparse.csr_t_matmul_add(A, D, C, -0.5)
    assert res is C
    np.testing.assert_allclose(C, C0 - 0.5 * (A.T @ D), rtol=1e-5, atol=1e-6)


def test_mismatched_dtypes_take_the_public_path():
    A = sp.random(4, 6, density=0.5, format="csr", random_state=0, dtype=np.float32)
    B = np.ones((6, 2))  # float64
    out = np.empty((4, 2))
    np.testing.assert_allclose(_sparse.csr_matmul_into(A, B, out), A @ B, rtol=1e-6)
