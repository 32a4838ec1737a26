"""Test configuration shared by every module.

BLAS is pinned to one thread: on a shared 2-core box a second OpenBLAS thread spins
against the neighbour and small fits get ten times slower.
"""

import os
import warnings

import numpy as np
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


def stream(clf, X, y, rows=1, n=None, order=None):
    """``partial_fit`` on the first ``n`` of ``order`` (default: every row, in order)
    in calls of ``rows`` rows, every class declared; the warnings, as strings."""
    order = np.arange(len(y)) if order is None else order
    classes = np.unique(y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(0, len(order) if n is None else n, rows):
            part = order[i : i + rows]
            clf.partial_fit(X[part], y[part], classes=classes)
    return [str(w.message) for w in caught]


@pytest.fixture(name="stream")
def stream_fixture():
    """:func:`stream`, for the tests of streams."""
    return stream
