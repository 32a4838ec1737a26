"""Test configuration shared by every module.

BLAS is pinned to one thread: on a shared 2-core box a second OpenBLAS thread spins
against the neighbour and small fits get ten times slower.
"""

import os

import pytest
from threadpoolctl import threadpool_limits

try:  # the plot extra is optional; its tests skip without it
    import matplotlib
except ImportError:
    pass
else:
    matplotlib.use("Agg")

_LIMITS = threadpool_limits(limits=1)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture
def digits_scaled():
    """Standardised digits: a real, small multiclass problem."""
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y
