"""Scaling out: hyperparameter search on a Dask cluster, out-of-core streaming.

The cluster test starts a real two-process ``LocalCluster``; the streaming tests
run dask-ml's ``Incremental`` wrapper on small chunked dask arrays. Both need
the ``distributed`` / ``scale`` extras and are skipped without them.
"""

import logging
import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
from sklearn.datasets import load_iris, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skl_softmaxnet import SoftmaxNetClassifier  # noqa: E402

# --------------------------------------------------------------------------- #
# Distributed hyperparameter search (joblib's dask backend)
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def dask_client():
    """A two-worker, one-thread-per-worker process cluster, closed afterwards."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _search(kind):
    pipe = make_pipeline(
        StandardScaler(), SoftmaxNetClassifier(max_iter=15, random_state=0)
    )
    grid = {
        "softmaxnetclassifier__hidden_layer_sizes": [(8,), (16, 8)],
        "softmaxnetclassifier__alpha": [1e-4, 1e-1],
    }
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    if kind == "grid":
        return GridSearchCV(pipe, grid, cv=cv)
    return RandomizedSearchCV(pipe, grid, n_iter=3, cv=cv, random_state=0)


def _fit_quietly(search, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


def _comparable(cv_results):
    """cv_results_ without the wall-clock timings, which always differ."""
    return {k: v for k, v in cv_results.items() if "time" not in k}


@pytest.mark.parametrize("kind", ["grid", "randomized"])
def test_search_on_dask_cluster_matches_sequential(dask_client, kind):
    X, y = load_iris(return_X_y=True)

    # Workers run one BLAS thread each; so does the reference, so that the
    # floating-point summation order -- and hence every score -- is identical.
    with threadpool_limits(limits=1):
        sequential = _fit_quietly(_search(kind), X, y)

    with distributed.get_task_stream(dask_client) as tasks:
        with joblib.parallel_config(backend="dask"):
            on_cluster = _fit_quietly(_search(kind), X, y)

    assert tasks.data, "no task ran on the cluster"
    expected, actual = (
        _comparable(sequential.cv_results_),
        _comparable(on_cluster.cv_results_),
    )
    assert expected.keys() == actual.keys()
    for key in expected:
        np.testing.assert_array_equal(actual[key], expected[key], err_msg=key)
    assert on_cluster.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(on_cluster.predict(X), sequential.predict(X))


# --------------------------------------------------------------------------- #
# Out-of-core training: dask-ml's Incremental streams blocks into partial_fit
# --------------------------------------------------------------------------- #


class _CountingSoftmaxNet(SoftmaxNetClassifier):
    """Records the size of every block handed to ``partial_fit``."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        self.block_sizes_ = [*getattr(self, "block_sizes_", []), len(X)]
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


def _blobs(n_samples, random_state):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=10,
        n_informative=6,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=random_state,
    )
    return X.astype(np.float32), y


@pytest.mark.parametrize("n_passes", [1, 4])
def test_incremental_streams_blocks_through_partial_fit(n_passes):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = _blobs(3000, random_state=0)
    X_train, y_train, X_test, y_test = X[:2400], y[:2400], X[2400:], y[2400:]
    chunk = 400
    X_dask = da.from_array(X_train, chunks=(chunk, X.shape[1]))
    y_dask = da.from_array(y_train, chunks=chunk)

    inc = wrappers.Incremental(
        _CountingSoftmaxNet(hidden_layer_sizes=(16,), random_state=0),
        scoring="accuracy",
        random_state=0,
    )
    with dask.config.set(scheduler="synchronous"):
        for _ in range(n_passes):
            inc.partial_fit(X_dask, y_dask, classes=np.unique(y))

    n_blocks = X_dask.numblocks[0]
    assert inc.estimator_.block_sizes_ == [chunk] * (n_blocks * n_passes)
    np.testing.assert_array_equal(inc.classes_, [0, 1, 2])
    accuracy = inc.score(da.from_array(X_test, chunks=chunk), y_test)
    assert accuracy > 0.8  # chance is 1/3
    # dask-ml's block-wise predict is the estimator's predict.
    labels = inc.predict(da.from_array(X_test, chunks=chunk)).compute()
    np.testing.assert_array_equal(labels, inc.estimator_.predict(X_test))


def test_more_passes_help_and_fit_restarts():
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = _blobs(3000, random_state=1)
    X_dask = da.from_array(X[:2400], chunks=(300, X.shape[1]))
    y_dask = da.from_array(y[:2400], chunks=300)
    est = SoftmaxNetClassifier(
        hidden_layer_sizes=(16,), learning_rate_init=1e-3, random_state=0
    )
    inc = wrappers.Incremental(est, scoring="accuracy", random_state=0)

    with dask.config.set(scheduler="synchronous"):
        inc.fit(X_dask, y_dask, classes=np.unique(y))
        first = inc.estimator_.predict_log_proba(X[2400:])
        loss_one = -first[np.arange(600), y[2400:]].mean()
        for _ in range(4):
            inc.partial_fit(X_dask, y_dask, classes=np.unique(y))
        last = inc.estimator_.predict_log_proba(X[2400:])
        loss_five = -last[np.arange(600), y[2400:]].mean()
        # fit() starts over from a fresh clone: same weights as the first pass.
        inc.fit(X_dask, y_dask, classes=np.unique(y))
        again = inc.estimator_.predict_log_proba(X[2400:])

    assert loss_five < loss_one
    np.testing.assert_allclose(again, first)


@pytest.mark.parametrize("window_blocks", [None, 2])
def test_streaming_matches_manual_partial_fit_loop(window_blocks):
    """Incremental without block shuffling is exactly partial_fit per block,
    whether it gets the whole array or windows of blocks (as the benchmark does)."""
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = _blobs(1200, random_state=2)
    X_dask = da.from_array(X, chunks=(250, X.shape[1]))
    y_dask = da.from_array(y, chunks=250)
    classes = np.unique(y)
    n_blocks = X_dask.numblocks[0]
    step = window_blocks or n_blocks

    inc = wrappers.Incremental(
        SoftmaxNetClassifier(hidden_layer_sizes=(8,), random_state=0),
        shuffle_blocks=False,
    )
    with dask.config.set(scheduler="synchronous"):
        for start in range(0, n_blocks, step):
            window = slice(start, start + step)
            inc.partial_fit(
                X_dask.blocks[window], y_dask.blocks[window], classes=classes
            )

    manual = SoftmaxNetClassifier(hidden_layer_sizes=(8,), random_state=0)
    for start in range(0, len(X), 250):
        manual.partial_fit(X[start : start + 250], y[start : start + 250], classes)

    assert inc.estimator_.n_iter_ == n_blocks
    for got, want in zip(inc.estimator_.coefs_, manual.coefs_, strict=True):
        np.testing.assert_array_equal(got, want)
