"""Concurrency and persistence: threads, pickle, joblib and skops.

A fitted model is read-only at predict time, so threads share it safely; every
round trip must reproduce the predictions bit for bit and carry the whole training
state (weights, momentum, learning rate, shuffling seed, history), so that
``partial_fit`` continues on the copy exactly as on the original.
"""

from __future__ import annotations

import copy
import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier

N_THREADS = 8

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=120, n_features=5, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, n_features))
    y = np.r_[np.arange(n_classes), rng.randint(n_classes, size=n - n_classes)]
    return X, y


def _fit(X, y, **params):
    params = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0, **params}
    fit_kwargs = {k: params.pop(k) for k in ("X_val", "y_val") if k in params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SoftmaxNetClassifier(**params).fit(X, y, **fit_kwargs)


def _assert_same_state(a, b):
    """Same weights, momentum and training bookkeeping, bit for bit."""
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(u, v)
    if a._velocities is None:
        assert b._velocities is None
    else:
        for u, v in zip(a._velocities, b._velocities, strict=True):
            np.testing.assert_array_equal(u, v)
    for attr in (
        "n_iter_",
        "t_",
        "loss_curve_",
        "_schedule_state",
        "_plateau_state",
        "_spike_streak",
        "_shuffle_seed",
    ):
        assert getattr(a, attr) == getattr(b, attr), attr
    np.testing.assert_array_equal(a.classes_, b.classes_)


# ------------------------------------------------------------------ concurrency


def test_predict_proba_from_8_threads_equals_the_serial_results():
    X, y = _data()
    clf = _fit(X, y)
    # inputs of different sizes, one larger than a predict chunk (4096 rows)
    rng = np.random.RandomState(1)
    inputs = [rng.normal(size=(n, X.shape[1])) for n in (1, 7, 64, 500, 5000)]
    inputs *= 2  # each input predicted by two threads at the same time
    serial = [clf.predict_proba(Xi) for Xi in inputs]
    barrier = threading.Barrier(N_THREADS)

    def work(i):
        barrier.wait()  # all threads start together
        out = []
        for k in range(i, i + len(inputs)):
            j = k % len(inputs)
            out.append((j, clf.predict_proba(inputs[j])))
        return out

    with ThreadPoolExecutor(N_THREADS) as pool:
        results = list(pool.map(work, range(N_THREADS)))
    assert len(results) == N_THREADS
    for out in results:
        for j, proba in out:
            np.testing.assert_array_equal(proba, serial[j])


def test_threads_do_not_change_the_model():
    X, y = _data()
    clf = _fit(X, y)
    before = pickle.dumps(clf)
    with ThreadPoolExecutor(N_THREADS) as pool:
        list(pool.map(lambda _: clf.predict(X), range(4 * N_THREADS)))
    assert pickle.dumps(clf) == before


# ---------------------------------------------------------- pickle and joblib


def _pickle_round_trip(model, tmp_path):
    return pickle.loads(pickle.dumps(model))


def _joblib_round_trip(model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    return joblib.load(path)


def _joblib_compressed_round_trip(model, tmp_path):
    path = tmp_path / "model.joblib.gz"
    joblib.dump(model, path, compress=3)
    return joblib.load(path)


def _skops_round_trip(model, tmp_path):
    pytest.importorskip("skops")
    from skl_softmaxnet.io import load, save

    path = tmp_path / "model.skops"
    save(model, path)
    return load(path)


ROUND_TRIPS = {
    "pickle": _pickle_round_trip,
    "joblib": _joblib_round_trip,
    "joblib-compressed": _joblib_compressed_round_trip,
    "skops": _skops_round_trip,
}


@cache
def _build_fitted_models():
    """Fitted models covering the kinds of fitted state (built once)."""
    X, y = _data()
    return {
        "plain": (_fit(X, y), X, y),
        "no-hidden-layer": (_fit(X, y, hidden_layer_sizes=()), X, y),
        "string-labels": (_fit(X, np.array(["ant", "bee", "cat"])[y]), X, y),
        "float32": (_fit(X.astype(np.float32), y), X.astype(np.float32), y),
        "sparse": (_fit(sp.csr_matrix(X), y), X, y),
        "early-stopping": (_fit(X, y, early_stopping=True, scoring="accuracy"), X, y),
        "class-weight": (_fit(X, y, class_weight={0: 2.0, 1: 1.0, 2: 0.5}), X, y),
        "validation-data": (_fit(X, y, X_val=X[:30], y_val=y[:30]), X, y),
        "partial-fit": (
            SoftmaxNetClassifier((6,), random_state=0).partial_fit(
                X, y, classes=[0, 1, 2]
            ),
            X,
            y,
        ),
    }


MODEL_KINDS = [
    "plain",
    "no-hidden-layer",
    "string-labels",
    "float32",
    "sparse",
    "early-stopping",
    "class-weight",
    "validation-data",
    "partial-fit",
]


def _fitted_model(kind):
    """(a deep copy of the model, X, y): tests may train their copy further."""
    model, X, y = _build_fitted_models()[kind]
    return copy.deepcopy(model), X, y


def _labels_of(model, y):
    return model.classes_[np.searchsorted(np.unique(y), y)]


@pytest.mark.parametrize("how", ROUND_TRIPS)
@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_round_trip_predicts_identically_and_continues_with_partial_fit(
    kind, how, tmp_path
):
    model, X, y = _fitted_model(kind)
    loaded = ROUND_TRIPS[how](model, tmp_path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    methods = ("predict", "predict_proba", "predict_log_proba", "decision_function")
    for method in methods:
        np.testing.assert_array_equal(
            getattr(loaded, method)(X), getattr(model, method)(X)
        )
    _assert_same_state(loaded, model)
    # continue training both: identical results, the original is unaffected by
    # the copy and vice versa
    y_labels = _labels_of(model, y)
    for _ in range(2):
        model.partial_fit(X, y_labels)
        loaded.partial_fit(X, y_labels)
    _assert_same_state(loaded, model)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("how", ROUND_TRIPS)
def test_round_trip_of_a_pipeline(how, tmp_path):
    X, y = _data()
    pipe = make_pipeline(
        StandardScaler(), SoftmaxNetClassifier((6,), max_iter=5, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X * 10 + 3, y)
    loaded = ROUND_TRIPS[how](pipe, tmp_path)
    np.testing.assert_array_equal(
        loaded.predict_proba(X * 10 + 3), pipe.predict_proba(X * 10 + 3)
    )


# ------------------------------------------------------------------------ skops


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_skops_sees_only_our_class_as_untrusted(kind):
    """The fitted state is arrays, lists of arrays and builtins only."""
    sio = pytest.importorskip("skops.io")
    model, _, _ = _fitted_model(kind)
    untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    assert untrusted == ["skl_softmaxnet._classifier.SoftmaxNetClassifier"]


def test_skops_sees_only_our_class_in_a_pipeline_with_a_dataframe():
    sio = pytest.importorskip("skops.io")
    pd = pytest.importorskip("pandas")
    X, y = _data()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    pipe = make_pipeline(
        StandardScaler(), SoftmaxNetClassifier((6,), max_iter=3, random_state=0)
    ).fit(df, y)
    untrusted = sio.get_untrusted_types(data=sio.dumps(pipe))
    assert untrusted == ["skl_softmaxnet._classifier.SoftmaxNetClassifier"]


def test_fitted_state_holds_only_arrays_lists_of_arrays_and_builtins():
    """What skops can trust, checked directly on every fitted attribute."""
    builtins = (bool, int, float, str, type(None))

    def ok(value):
        if isinstance(value, np.ndarray):
            return value.dtype != object or all(isinstance(v, str) for v in value.flat)
        if isinstance(value, (list, tuple)):
            return all(ok(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and ok(v) for k, v in value.items())
        return type(value) in builtins

    assert sorted(_build_fitted_models()) == sorted(MODEL_KINDS)
    for kind in MODEL_KINDS:
        model, _, _ = _fitted_model(kind)
        params = model.get_params()
        for name, value in vars(model).items():
            if name in params:
                continue
            assert ok(value), f"{kind}: {name} is {type(value)}"
