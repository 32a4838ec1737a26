"""standardize=True (``_scaling``) and the 'auto' parameters, against oracles.

The oracle for the standardisation is scikit-learn itself: a fit with
``standardize=True`` must be the fit of ``StandardScaler`` followed by the network
with ``standardize=False`` (same seed, same steps), folded into the first layer.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier
from skl_softmaxnet._math import forward
from skl_softmaxnet._scaling import FeatureScaling


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6)) * np.array([1e-3, 1.0, 50.0, 1e4, 2.0, 1.0]) + 7.0
    X[:, 5] = 3.0  # a constant column: left as it is
    y = rng.randint(3, size=n)
    X[:, 1] += y
    return X, y


def _fit(X, y, **params):
    params = {"random_state": 0, "max_iter": 15, "hidden_layer_sizes": (9,), **params}
    fit_kwargs = {k: params.pop(k) for k in ("sample_weight",) if k in params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SoftmaxNetClassifier(**params).fit(X, y, **fit_kwargs)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_standardize_is_standardscaler_then_the_network_folded(weighted):
    X, y = _data()
    w = np.random.RandomState(1).uniform(0, 3, size=len(y)) if weighted else None
    scaler = StandardScaler().fit(X, sample_weight=w)
    ref = _fit(scaler.transform(X), y, standardize=False, sample_weight=w)
    ours = _fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.feature_mean_, scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.feature_scale_, scaler.scale_, rtol=1e-12)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)
    # coefs_ act on X as given: the raw forward pass is the scaled model's
    logits = forward(ours._params, X)[-1]
    ref_logits = forward(ref._params, scaler.transform(X))[-1]
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        ours.predict_proba(X), ref.predict_proba(scaler.transform(X)), atol=1e-12
    )


def test_sparse_input_is_scaled_not_centred_like_standardscaler_without_mean():
    X, y = _data()
    X[X < 7.0] = 0.0
    Xs = sp.csr_matrix(X)
    scaler = StandardScaler(with_mean=False).fit(Xs)
    ref = _fit(scaler.transform(Xs), y, standardize=False)
    ours = _fit(Xs, y)
    assert sp.issparse(Xs) and not np.any(ours.feature_mean_)
    np.testing.assert_allclose(ours.feature_scale_, scaler.scale_, rtol=1e-10)
    np.testing.assert_allclose(
        ours.predict_proba(Xs), ref.predict_proba(scaler.transform(Xs)), atol=1e-10
    )


def test_fold_and_unfold_are_inverse_and_exact_for_the_forward_pass():
    X, _ = _data()
    rng = np.random.RandomState(3)
    scaling = FeatureScaling.fit(X)
    W, b = rng.normal(size=(6, 4)), rng.normal(size=4)
    params = [(W.copy(), b.copy())]
    scaling.fold(params)
    # (the 1e4-scaled column costs some cancellation in the bias)
    np.testing.assert_allclose(
        X @ params[0][0] + params[0][1], scaling.transform(X) @ W + b, rtol=1e-8
    )
    scaling.unfold(params)
    np.testing.assert_allclose(params[0][0], W, rtol=1e-12)
    np.testing.assert_allclose(params[0][1], b, rtol=1e-9, atol=1e-9)


def test_features_of_any_scale_train_like_standardised_ones():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    base = _fit(X, y, max_iter=30)
    for factor in (1e-6, 1e6):
        scaled = _fit(X * factor, y, max_iter=30)
        assert scaled.n_recoveries_ == 0
        np.testing.assert_array_equal(scaled.predict(X * factor), base.predict(X))
    assert base.score(X, y) > 0.95


@pytest.mark.parametrize("factor", [1e150, 1e300])
def test_standardize_trains_on_features_of_any_scale(factor):
    # the data test_bad_input.py uses for a hopeless divergence when not
    # standardised; at 1e300 the columns' squares, sums and differences overflow
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    clf = _fit(X * factor, y, max_iter=50)
    assert clf.n_recoveries_ == 0 and clf.score(X * factor, y) > 0.9
    assert np.isfinite(clf.feature_scale_).all() and np.isfinite(clf.coefs_[0]).all()
    base = _fit(X, y, max_iter=50)
    np.testing.assert_allclose(clf.feature_scale_ / factor, base.feature_scale_)
    np.testing.assert_array_equal(clf.predict(X * factor), base.predict(X))


@pytest.mark.parametrize("sparse", [False, True])
def test_statistics_of_values_near_the_largest_float_are_finite(sparse):
    big = np.finfo(np.float64).max
    X = np.array([[0.9, -0.5], [-0.9, 0.5], [0.3, 0.0], [-0.3, 0.0]]) * big
    X = sp.csr_matrix(X) if sparse else X
    scaling = FeatureScaling.fit(X)
    dense = X.toarray() if sparse else X
    std = np.std(dense / big, axis=0)
    np.testing.assert_allclose(scaling.scale / big, std, rtol=1e-12)
    out = scaling.transform(X)
    assert np.all(np.isfinite(out.toarray() if sparse else out))


def test_warm_start_recomputes_the_statistics_and_partial_fit_keeps_its_first():
    X, y = _data()
    X2 = X * 3.0 + 1.0
    clf = _fit(X, y, warm_start=True, max_iter=40)
    first = clf.feature_mean_.copy()
    proba = clf.predict_proba(X)
    clf.set_params(max_iter=1, learning_rate_init=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        # continuing from the same function: a small step moves it only a little
        assert np.abs(clf.predict_proba(X) - proba).max() < 0.05
        clf.fit(X2, y)
    np.testing.assert_allclose(clf.feature_mean_, X2.mean(axis=0))
    inc = SoftmaxNetClassifier((9,), random_state=0)
    inc.partial_fit(X, y, classes=[0, 1, 2])
    inc.partial_fit(X2, y)
    np.testing.assert_allclose(inc.feature_mean_, first)


def test_standardize_false_keeps_no_statistics():
    X, y = _data()
    clf = _fit(X[:, :5] / X[:, :5].std(axis=0), y, standardize=False)
    assert clf.feature_mean_ is None and clf.feature_scale_ is None


def _resolved(n, n_weighted=None, stream=False, **params):
    clf = SoftmaxNetClassifier(early_stopping=False, **params)
    clf._resolve_auto(n, n if n_weighted is None else n_weighted, stream=stream)
    return clf


@pytest.mark.parametrize("n", [15, 27, 40, 150, 1000, 40000])
def test_auto_alpha_batch_and_max_iter_follow_their_formulas(n):
    b = min(64, math.ceil(n / min(max(n // 16, 1), 8)))
    alpha = max(0.03, 3 * b / n)
    max_iter = min(max(math.ceil(20000 / math.ceil(n / b)), 200), 2000)
    clf = _resolved(n)
    assert (clf.batch_size_, clf.max_iter_) == (b, max_iter)
    assert clf.alpha_ == pytest.approx(alpha)
    assert _resolved(n, stream=True).alpha_ == 0.03  # a stream: the large-n limit


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), data=st.data())
def test_auto_batch_size_properties(n, data):
    n_weighted = data.draw(st.integers(1, n))
    b = _resolved(n, n_weighted).batch_size_
    assert 1 <= b <= min(64, n)
    if n_weighted < 32:  # one full batch: weighting stays repetition on tiny data
        assert b == min(n, 64)
    elif n_weighted == n:  # batches of >= 16 rows, <= 8 per epoch until b is 64
        assert b >= 16 and (math.ceil(n / b) <= 8 or b == 64)
    if n_weighted >= 512:
        assert b == 64


def test_auto_batch_size_counts_only_weighted_rows():
    # 16 rows plus 16 rows of zero weight train as the 16 rows alone (one full
    # batch each), as scikit-learn's check_sample_weights_invariance asks
    X, y = _data(n=32)
    sw = np.r_[np.ones(16), np.zeros(16)]
    weighted = SoftmaxNetClassifier((5,), random_state=0).fit(X, y, sample_weight=sw)
    alone = SoftmaxNetClassifier((5,), random_state=0).fit(X[:16], y[:16])
    assert weighted.batch_size_ == 32 and alone.batch_size_ == 16
    np.testing.assert_allclose(
        weighted.predict_proba(X), alone.predict_proba(X), rtol=1e-7, atol=1e-9
    )


def test_early_stopping_auto_switches_on_at_5000_samples():
    rng = np.random.RandomState(0)
    for n, expected in ((4999, False), (5000, True)):
        X = rng.normal(size=(n, 3))
        y = (X[:, 0] > 0).astype(int)
        clf = _fit(X, y, hidden_layer_sizes=(2,), max_iter=1)
        assert clf.early_stopping_ is expected
        assert (clf.validation_scores_ is not None) is expected


def test_numbers_override_every_auto_value():
    X, y = _data()
    clf = _fit(X, y, alpha=0.2, max_iter=3, early_stopping=False)
    assert (clf.alpha_, clf.max_iter_, clf.early_stopping_) == (0.2, 3, False)
