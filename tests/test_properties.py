"""Properties, not examples: hypothesis over shapes, dtypes, label types and seeds.

Every test is derandomized (the same examples on every run and machine) and keeps
no example database, so CI is reproducible. ``N_EXAMPLES`` per test keeps the module
at a few seconds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skl_softmaxnet import SoftmaxNetClassifier

N_EXAMPLES = 40
PROPERTY_SETTINGS = settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# sum-to-one tolerance of the probabilities, and float32 vs float64 agreement
SUM_TOL = {np.float32: 1e-6, np.float64: 1e-12}

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning"),
]


@st.composite
def problems(draw, dtypes=(np.float32, np.float64)):
    """A small classification problem and a small network to fit it."""
    n_classes = draw(st.integers(2, 5))
    n_samples = draw(st.integers(n_classes, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.RandomState(seed)
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    X = (rng.normal(size=(n_samples, n_features)) * scale).astype(dtype)
    # every class present at least once, the rest random
    y = np.r_[np.arange(n_classes), rng.randint(n_classes, size=n_samples - n_classes)]
    rng.shuffle(y)
    params = {
        "hidden_layer_sizes": draw(st.sampled_from([(), (4,), (5, 3)])),
        "batch_size": draw(st.sampled_from(["auto", 7])),
        "max_iter": draw(st.integers(1, 4)),
        "learning_rate_init": 10.0 ** draw(st.integers(-3, -1)),
        "random_state": seed,
    }
    return X, y, params


def _labels(y, kind):
    """Labels of type ``kind`` whose sort order is the order of the ints ``y``."""
    if kind == "int":
        return y
    if kind == "negative-int":
        return 10 * y - 7
    if kind == "float":
        return 2.0 * y - 3.0  # integral floats: non-integral ones are "continuous"
    if kind == "str":
        return np.array([f"class_{k:02d}" for k in y])
    if kind == "object":
        return np.array([f"c{k:03d}" for k in y], dtype=object)
    raise AssertionError(kind)


LABEL_KINDS = ["int", "negative-int", "float", "str", "object"]


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SoftmaxNetClassifier(**params).fit(X, y)


def _assert_models_equal(a, b):
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(u, v)


@PROPERTY_SETTINGS
@given(problem=problems(), kind=st.sampled_from(LABEL_KINDS), sparse=st.booleans())
def test_probabilities_are_a_distribution_and_predict_is_their_argmax(
    problem, kind, sparse
):
    X, y, params = problem
    labels = _labels(y, kind)
    Xin = sp.csr_matrix(X) if sparse else X
    X_before = X.copy()
    clf = _fit(Xin, labels, **params)
    proba = clf.predict_proba(Xin)
    dtype = X.dtype.type

    assert proba.dtype == X.dtype
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=0, atol=SUM_TOL[dtype])

    # predict is classes_[argmax(predict_proba)]; where exp maps two nearly equal
    # log-probabilities onto one float the argmax is a tie, and any tied class is
    # the argmax
    pred = clf.predict(Xin)
    picked = proba[np.arange(len(pred)), np.searchsorted(clf.classes_, pred)]
    np.testing.assert_array_equal(picked, proba.max(axis=1))
    unique_max = (proba == proba.max(axis=1, keepdims=True)).sum(axis=1) == 1
    np.testing.assert_array_equal(
        pred[unique_max], clf.classes_[np.argmax(proba, axis=1)][unique_max]
    )
    assert set(np.unique(pred)) <= set(np.unique(labels))

    # log-softmax equals log(softmax) wherever the latter is finite; a subnormal
    # probability (below finfo.tiny, e.g. exp(-101) in float32) keeps only a few
    # significant bits, so its log is compared only where the probability is normal
    log_proba = clf.predict_log_proba(Xin)
    assert np.all(np.isfinite(log_proba))
    with np.errstate(divide="ignore"):
        naive = np.log(proba)
    finite = np.isfinite(naive) & (proba >= np.finfo(dtype).tiny)
    rtol = 1e-5 if dtype is np.float32 else 1e-12
    np.testing.assert_allclose(log_proba[finite], naive[finite], rtol=rtol, atol=rtol)

    # the user's X is never written to
    np.testing.assert_array_equal(X, X_before)


@PROPERTY_SETTINGS
@given(problem=problems(), kind=st.sampled_from(LABEL_KINDS[1:]))
def test_relabelling_without_changing_the_order_gives_identical_probabilities(
    problem, kind
):
    X, y, params = problem
    reference = _fit(X, y, **params)
    relabelled = _fit(X, _labels(y, kind), **params)
    np.testing.assert_array_equal(
        relabelled.predict_proba(X), reference.predict_proba(X)
    )
    np.testing.assert_array_equal(
        relabelled.predict(X), _labels(reference.predict(X), kind)
    )


@PROPERTY_SETTINGS
@given(problem=problems(), early_stopping=st.booleans())
def test_same_seed_gives_the_same_model(problem, early_stopping):
    X, y, params = problem
    params = {**params, "early_stopping": early_stopping, "validation_fraction": 0.3}
    if early_stopping and np.min(np.bincount(y)) < 2:
        params["early_stopping"] = False  # a stratified split needs 2 per class
    a = _fit(X, y, **params)
    b = _fit(X, y, **params)
    _assert_models_equal(a, b)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@PROPERTY_SETTINGS
@given(problem=problems(), fmt=st.sampled_from(["csr", "csc"]), density=st.floats(0, 1))
def test_dense_and_sparse_input_give_the_same_model(problem, fmt, density):
    X, y, params = problem
    rng = np.random.RandomState(params["random_state"])
    X = np.where(rng.uniform(size=X.shape) < density, X, 0).astype(X.dtype)
    # standardize=False: sparse input is scaled but never centred
    params = {**params, "standardize": False}
    dense = _fit(X, y, **params)
    sparse = _fit(sp.csr_matrix(X).asformat(fmt), y, **params)
    # same arithmetic up to the summation order of the sparse products (measured:
    # 1.4e-7 relative in float32, 4e-16 in float64)
    tol = 1e-5 if X.dtype == np.float32 else 1e-12
    for u, v in zip(
        dense.coefs_ + dense.intercepts_,
        sparse.coefs_ + sparse.intercepts_,
        strict=True,
    ):
        np.testing.assert_allclose(u, v, rtol=tol, atol=tol * np.abs(u).max())
    np.testing.assert_allclose(
        dense.predict_proba(X),
        sparse.predict_proba(sp.csr_matrix(X)),
        rtol=0,
        atol=tol,
    )


@PROPERTY_SETTINGS
@given(problem=problems(dtypes=(np.float64,)))
def test_float32_and_float64_agree_to_float32_precision_on_well_scaled_data(problem):
    X, y, params = problem
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-12)  # well scaled
    params = {**params, "learning_rate_init": 1e-2}
    m64 = _fit(X, y, **params)
    m32 = _fit(X.astype(np.float32), y, **params)
    assert m32.coefs_[0].dtype == np.float32 and m64.coefs_[0].dtype == np.float64
    p64 = m64.predict_proba(X)
    p32 = m32.predict_proba(X.astype(np.float32))
    # float32 eps is 1.2e-7; a few SGD steps amplify the rounding a little
    # (measured: at most 1.5e-7 over these examples), so 1e-5 is float32 precision
    np.testing.assert_allclose(p32, p64, rtol=0, atol=1e-5)
