"""The maths on every available Array API namespace, against the NumPy path.

Each test runs on NumPy, array-api-strict and PyTorch on the CPU (when installed: the
``array-api`` extra), and on PyTorch-CUDA and CuPy where a GPU exists; elsewhere those
cases skip and say why. The NumPy path is the reference: in float64 the generic path
must reproduce it to 1e-12, from the same NumPy draws.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning

from skl_softmaxnet import SoftmaxNetClassifier, check_gradients, numerical_gradients
from skl_softmaxnet._compat import (
    device_of,
    get_namespace_and_device,
    namespace_of,
    to_numpy,
)
from skl_softmaxnet._math import (
    backward,
    forward,
    init_params,
    inplace_softmax_cross_entropy,
    log_softmax,
    loss_and_grads,
    penalty,
    softmax,
    weighted_cross_entropy,
)
from skl_softmaxnet._optim import SGD

NAMESPACES = [
    pytest.param(("numpy", None), id="numpy"),
    pytest.param(("array_api_strict", None), id="array_api_strict"),
    # a second (simulated) device: arrays made on the way must follow the inputs
    pytest.param(("array_api_strict", "device1"), id="array_api_strict-device1"),
    pytest.param(("torch", "cpu"), id="torch-cpu"),
    pytest.param(("torch", "cuda"), id="torch-cuda"),
    pytest.param(("cupy", None), id="cupy"),
]


@pytest.fixture(params=NAMESPACES)
def xp_device(request):
    """``(xp, device)``: the namespace to compute with and where its arrays live."""
    name, device = request.param
    if name == "numpy":
        return np, None
    reasons = {
        "array_api_strict": "array-api-strict is not installed (the array-api extra)",
        "torch": "PyTorch is not installed (the array-api extra)",
        "cupy": "CuPy is not installed: it needs a CUDA GPU, which this machine lacks",
    }
    module = pytest.importorskip(name, reason=reasons[name])
    if device == "cuda" and not module.cuda.is_available():
        pytest.skip("PyTorch sees no CUDA device on this machine")
    if name == "cupy" and module.cuda.runtime.getDeviceCount() == 0:
        pytest.skip("CuPy sees no CUDA device on this machine")
    if name == "array_api_strict" and device is not None:
        device = module.Device(device)
    return namespace_of(module.asarray([0.0], device=device))[0], device


def _to(xp, device, *arrays):
    """NumPy arrays moved to ``xp`` on ``device`` (NumPy: unchanged)."""
    if xp is np:
        return arrays
    return tuple(None if a is None else xp.asarray(a, device=device) for a in arrays)


def _assert_on(xp, device, *arrays):
    """Every array is of namespace ``xp`` and lives on ``device``."""
    for a in arrays:
        if xp is np:
            assert type(a) is np.ndarray
            continue
        assert namespace_of(a)[0] is xp
        if device is not None:
            assert str(device_of(a)) == str(device)


def _assert_close(got, want, tol):
    np.testing.assert_allclose(to_numpy(got), want, rtol=tol, atol=tol)


def test_the_test_run_has_scipy_array_api_on():
    # conftest.py sets SCIPY_ARRAY_API before SciPy is imported, as SciPy requires
    from scipy._lib._array_api import SCIPY_ARRAY_API

    assert SCIPY_ARRAY_API
    with sklearn.config_context(array_api_dispatch=True):
        xp, is_array_api, device = get_namespace_and_device(np.ones(2))
    assert is_array_api and device == "cpu"


def _problem(seed=0, sizes=(6, 7, 5, 4), n=11):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.randint(sizes[-1], size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    return list(sizes), X, y, w


def test_init_params_moves_the_same_numpy_draws(xp_device):
    xp, device = xp_device
    sizes = [6, 7, 4]
    ref = init_params(sizes, np.random.RandomState(0))
    got = init_params(sizes, np.random.RandomState(0), xp=xp, device=device)
    for (W, b), (W_ref, b_ref) in zip(got, ref, strict=True):
        _assert_on(xp, device, W, b)
        assert W.dtype == xp.float64
        np.testing.assert_array_equal(to_numpy(W), W_ref)
        np.testing.assert_array_equal(to_numpy(b), b_ref)


def test_init_params_takes_the_dtype_of_either_namespace(xp_device):
    xp, device = xp_device
    for dtype in (np.float32, xp.float32):
        params = init_params([3, 2], np.random.RandomState(0), dtype, xp=xp)
        _assert_on(xp, None, *params[0])
        assert params[0][0].dtype == params[0][1].dtype == xp.float32


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_forward_and_loss_and_grads_match_numpy_float64(xp_device, weighted):
    xp, device = xp_device
    sizes, X, y, w = _problem()
    w = w if weighted else None
    ref_params = init_params(sizes, np.random.RandomState(1))
    params = init_params(sizes, np.random.RandomState(1), xp=xp, device=device)
    Xd, yd, wd = _to(xp, device, X, y, w)

    acts = forward(params, Xd)
    _assert_on(xp, device, *acts[1:])
    for got, want in zip(acts, forward(ref_params, X), strict=True):
        _assert_close(got, want, 1e-12)

    loss_ref, grads_ref = loss_and_grads(ref_params, X, y, 0.3, w)
    loss, grads = loss_and_grads(params, Xd, yd, 0.3, wd)
    assert isinstance(loss, float)
    assert loss == pytest.approx(loss_ref, rel=1e-12, abs=1e-12)
    for (gW, gb), (rW, rb) in zip(grads, grads_ref, strict=True):
        _assert_on(xp, device, gW, gb)
        _assert_close(gW, rW, 1e-12)
        _assert_close(gb, rb, 1e-12)
    assert penalty(params) == pytest.approx(penalty(ref_params), rel=1e-12)


def test_log_softmax_softmax_and_cross_entropy_match_numpy(xp_device):
    xp, device = xp_device
    rng = np.random.RandomState(2)
    z = rng.normal(size=(5, 4)) * 30
    z[0, 1] = 1e4  # one dominant logit: the shifted form stays finite
    y, w = rng.randint(4, size=5), rng.uniform(0.5, 2.0, size=5)
    zd, yd, wd = _to(xp, device, z, y, w)
    lp = log_softmax(zd)
    _assert_on(xp, device, lp)
    _assert_close(lp, log_softmax(z), 1e-12)
    _assert_close(softmax(zd), softmax(z), 1e-12)
    ref = weighted_cross_entropy(log_softmax(z), y, w)
    assert weighted_cross_entropy(lp, yd, wd) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fused_softmax_cross_entropy_matches_numpy(xp_device, weighted):
    xp, device = xp_device
    rng = np.random.RandomState(3)
    z = rng.normal(size=(6, 3)) * 5
    y = rng.randint(3, size=6)
    w = rng.uniform(0.5, 2.0, size=6) if weighted else None
    loss_ref, delta_ref = inplace_softmax_cross_entropy(z.copy(), y, w)
    zd, yd, wd = _to(xp, device, z, y, w)
    loss, delta = inplace_softmax_cross_entropy(zd, yd, wd)
    _assert_on(xp, device, delta)
    _assert_close(delta, delta_ref, 1e-12)
    # NumPy hands back a float; elsewhere a 0-d array on the device (no sync)
    if xp is np:
        assert isinstance(loss, float)
    else:
        _assert_on(xp, device, loss)
        assert loss.shape == ()
    assert float(loss) == pytest.approx(loss_ref, rel=1e-12)


@pytest.mark.parametrize(
    "momentum, nesterov",
    [(0.0, False), (0.9, False), (0.9, True)],
    ids=["plain", "classical", "nesterov"],
)
def test_sgd_steps_match_numpy(xp_device, momentum, nesterov):
    xp, device = xp_device
    sizes, X, y, _ = _problem(seed=4, n=12)
    ref = init_params(sizes, np.random.RandomState(5))
    params = init_params(sizes, np.random.RandomState(5), xp=xp, device=device)
    Xd, yd = _to(xp, device, X, y)
    ref_opt, opt = SGD(momentum, nesterov), SGD(momentum, nesterov)
    for step in range(3):
        rows = slice(4 * step, 4 * step + 4)
        for ps, o, Xs, ys in ((ref, ref_opt, X, y), (params, opt, Xd, yd)):
            acts = forward(ps, Xs[rows, ...])
            _, delta = inplace_softmax_cross_entropy(acts[-1], ys[rows])
            deltas = backward(ps, acts, delta)
            o.step(ps, acts[:-1], deltas, scale=0.25, decay=0.3 / 4, lr=0.05)
    for (W, b), (W_ref, b_ref) in zip(params, ref, strict=True):
        _assert_on(xp, device, W, b)
        _assert_close(W, W_ref, 1e-12)
        _assert_close(b, b_ref, 1e-12)
    if momentum:
        _assert_on(xp, device, *opt.velocities)
        for v, v_ref in zip(opt.velocities, ref_opt.velocities, strict=True):
            _assert_close(v, v_ref, 1e-12)
    else:
        assert opt.velocities is None


def test_float32_stays_float32(xp_device):
    xp, device = xp_device
    sizes, X, y, w = _problem(seed=6)
    X32, w32 = X.astype(np.float32), w.astype(np.float32)
    ref = init_params(sizes, np.random.RandomState(7), np.float32)
    params = init_params(
        sizes, np.random.RandomState(7), xp.float32, xp=xp, device=device
    )
    Xd, yd, wd = _to(xp, device, X32, y, w32)
    acts = forward(params, Xd)
    loss, grads = loss_and_grads(params, Xd, yd, 0.1, wd)
    assert all(a.dtype == xp.float32 for a in acts)
    assert all(g.dtype == xp.float32 for layer in grads for g in layer)
    loss_ref, grads_ref = loss_and_grads(ref, X32, y, 0.1, w32)
    assert loss == pytest.approx(loss_ref, rel=1e-5)
    for (gW, _), (rW, _) in zip(grads, grads_ref, strict=True):
        _assert_close(gW, rW, 1e-5)
    opt = SGD(0.9, True)
    acts = forward(params, Xd)
    _, delta = inplace_softmax_cross_entropy(acts[-1], yd)
    opt.step(params, acts[:-1], backward(params, acts, delta), 0.1, 0.0, 0.1)
    assert all(p.dtype == xp.float32 for layer in params for p in layer)
    assert all(v.dtype == xp.float32 for v in opt.velocities)


def test_gradient_checker_on_the_namespace(xp_device):
    xp, device = xp_device
    sizes, X, y, w = _problem(seed=8, sizes=(4, 5, 3), n=7)
    ref = init_params(sizes, np.random.RandomState(9))
    params = init_params(sizes, np.random.RandomState(9), xp=xp, device=device)
    Xd, yd, wd = _to(xp, device, X, y, w)
    result = check_gradients(params, Xd, yd, alpha=0.2, sample_weight=wd)
    assert result.worst < 1e-6
    _assert_on(xp, device, *[g for layer in result.numerical for g in layer])
    # the same finite differences as on NumPy: the losses agree to rounding
    num_ref, n_ref = numerical_gradients(ref, X, y, 0.2, w)
    num, n_one_sided = numerical_gradients(params, Xd, yd, 0.2, wd)
    assert n_one_sided == n_ref
    for layer, layer_ref in zip(num, num_ref, strict=True):
        for g, g_ref in zip(layer, layer_ref, strict=True):
            _assert_close(g, g_ref, 1e-8)
    # the input parameters are left as they were
    for (W, _), (W_ref, _) in zip(params, ref, strict=True):
        np.testing.assert_array_equal(to_numpy(W), W_ref)


def test_sparse_input_needs_numpy_parameters(xp_device):
    xp, device = xp_device
    X = sp.random(5, 4, density=0.5, format="csr", random_state=0)
    params = init_params([4, 3, 2], np.random.RandomState(0), xp=xp, device=device)
    _assert_on(xp, device, *params[0])
    if xp is np:
        assert forward(params, X)[-1].shape == (5, 2)
        return
    with pytest.raises(TypeError, match="Sparse input needs NumPy parameters"):
        forward(params, X)


# ------------------------------------------------------------------ the estimator
# The same class with array_api_dispatch on: fit, partial_fit and every predict
# method in X's namespace, on X's device, against the NumPy fit of the same data.


def _fit_data(n=90, seed=0):
    rng = np.random.RandomState(seed)
    # unscaled columns, so the standardisation (the default) has work to do
    X = rng.normal(size=(n, 5)) * np.array([1.0, 10.0, 100.0, 0.1, 1.0]) + 3.0
    y = rng.randint(3, size=n)
    X[:, 0] += y  # something to learn
    w = rng.uniform(0.5, 2.0, size=n)
    return X, y, w


# each configuration runs a different part of the loop: the defaults ('adaptive',
# Nesterov, standardisation, 'auto' values), cosine with classical momentum and
# class weights, early stopping on a split with a scorer, plain SGD with
# 'invscaling', two hidden layers with explicit validation data
FIT_CONFIGS = [
    pytest.param({}, id="defaults"),
    pytest.param(
        {
            "learning_rate": "cosine",
            "warmup_iters": 2,
            "nesterovs_momentum": False,
            "class_weight": "balanced",
        },
        id="cosine-classical-balanced",
    ),
    pytest.param(
        {"early_stopping": True, "scoring": "accuracy", "validation_fraction": 0.2},
        id="early-stopping-accuracy",
    ),
    # two batches an epoch, as before the 'auto' batch size: on unscaled columns
    # (std up to 100) five times the steps let the two libraries' summation orders
    # drift apart to ~5e-8 relative, past the 1e-10 this test holds the loop to
    pytest.param(
        {
            "momentum": 0.0,
            "learning_rate": "invscaling",
            "standardize": False,
            "batch_size": 64,
        },
        id="sgd-invscaling-unstandardized",
    ),
    pytest.param(
        {"hidden_layer_sizes": (6, 4), "batch_size": 16, "X_val": True},
        id="two-layers-X_val",
    ),
]


def _fit_both(xp, device, params, *, dtype=np.float64, n=90):
    """The NumPy fit and the fit on ``xp`` of the same data and parameters."""
    X, y, w = _fit_data(n)
    X = X.astype(dtype)
    params = dict(params)
    fit_kwargs = {"sample_weight": w.astype(dtype)}
    if params.pop("X_val", False):
        Xv, yv, _ = _fit_data(40, seed=1)
        fit_kwargs.update(X_val=Xv.astype(dtype), y_val=yv)
    params = {"random_state": 0, "max_iter": 12, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SoftmaxNetClassifier(**params).fit(X, y, **fit_kwargs)
        kwargs = {k: _to(xp, device, v)[0] for k, v in fit_kwargs.items()}
        with sklearn.config_context(array_api_dispatch=True):
            got = SoftmaxNetClassifier(**params).fit(*_to(xp, device, X, y), **kwargs)
    return ref, got, _to(xp, device, X)[0], X, y


@pytest.mark.parametrize("params", FIT_CONFIGS)
def test_whole_fit_matches_the_numpy_fit_in_float64(xp_device, params):
    xp, device = xp_device
    ref, got, Xd, X, _ = _fit_both(xp, device, params)
    assert got.n_iter_ == ref.n_iter_ and got.t_ == ref.t_
    for a, b in zip(
        got.coefs_ + got.intercepts_, ref.coefs_ + ref.intercepts_, strict=True
    ):
        _assert_on(xp, device, a)
        _assert_close(a, b, 1e-10)
    np.testing.assert_allclose(got.loss_curve_, ref.loss_curve_, rtol=1e-10)
    if ref.validation_scores_ is not None:
        np.testing.assert_allclose(
            got.validation_scores_, ref.validation_scores_, rtol=1e-10
        )
        assert got.best_epoch_ == ref.best_epoch_
    with sklearn.config_context(array_api_dispatch=True):
        _assert_close(got.predict_proba(Xd), ref.predict_proba(X), 1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_and_fitted_arrays_live_in_the_namespace_of_X(xp_device, dtype):
    xp, device = xp_device
    ref, got, Xd, X, y = _fit_both(xp, device, {}, dtype=dtype)
    want = xp.float32 if dtype == np.float32 else xp.float64
    fitted = got.coefs_ + got.intercepts_ + got._velocities
    fitted += [got.feature_mean_, got.feature_scale_]
    _assert_on(xp, device, *fitted)
    assert all(a.dtype == want for a in fitted)
    with sklearn.config_context(array_api_dispatch=True):
        for method in ("predict_proba", "predict_log_proba", "decision_function"):
            out = getattr(got, method)(Xd)
            _assert_on(xp, device, out)
            assert out.dtype == want
            _assert_close(
                out, getattr(ref, method)(X), 1e-4 if dtype == np.float32 else 1e-10
            )
        labels = got.predict(Xd)
        _assert_on(xp, device, labels)
        np.testing.assert_array_equal(to_numpy(labels), ref.predict(X))
        score = got.score(Xd, _to(xp, device, y)[0])
    assert isinstance(score, float) and abs(score - ref.score(X, y)) < 1e-6


def test_partial_fit_matches_numpy_over_calls(xp_device):
    xp, device = xp_device
    X, y, w = _fit_data()
    params = dict(random_state=0, hidden_layer_sizes=(7,), batch_size=16)
    ref, got = SoftmaxNetClassifier(**params), SoftmaxNetClassifier(**params)
    Xd, yd, wd = _to(xp, device, X, y, w)
    for _ in range(3):
        ref.partial_fit(X, y, classes=[0, 1, 2], sample_weight=w)
        with sklearn.config_context(array_api_dispatch=True):
            got.partial_fit(Xd, yd, classes=[0, 1, 2], sample_weight=wd)
    for a, b in zip(
        got.coefs_ + got._velocities, ref.coefs_ + ref._velocities, strict=True
    ):
        _assert_on(xp, device, a)
        _assert_close(a, b, 1e-10)


def test_small_partial_fit_calls_pool_as_on_numpy(xp_device):
    # calls of 10 rows: the spike guard pools them (32 rows) on the host, from the
    # device's loss; the same weights and the same judgements as NumPy
    xp, device = xp_device
    X, y, w = _fit_data()
    params = dict(random_state=0, hidden_layer_sizes=(7,), standardize=False)
    ref, got = SoftmaxNetClassifier(**params), SoftmaxNetClassifier(**params)
    for start in range(0, 90, 10):
        rows = slice(start, start + 10)
        ref.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        with sklearn.config_context(array_api_dispatch=True):
            got.partial_fit(*_to(xp, device, X[rows], y[rows]), classes=[0, 1, 2])
    assert got._spike_streak == pytest.approx(ref._spike_streak, rel=1e-9)
    assert got._spike_streak[-1] == 10  # pools of 4 calls (40 >= 32 rows), 1 left
    for a, b in zip(got.coefs_, ref.coefs_, strict=True):
        _assert_close(a, b, 1e-10)


def test_a_stream_ordered_by_class_is_judged_as_on_numpy(xp_device):
    # calls of 40 rows sorted by class: the class mix is counted on the host, so
    # the same calls go unjudged, the same warning is given, and the plateau
    # windows and weights agree with NumPy's
    xp, device = xp_device
    X, y, _ = _fit_data(n=240)
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    params = dict(random_state=0, hidden_layer_sizes=(7,))
    ref, got = SoftmaxNetClassifier(**params), SoftmaxNetClassifier(**params)
    said = {}
    for name, clf, move in (("ref", ref, False), ("got", got, True)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for start in range(0, 240, 40):
                Xc, yc = X[start : start + 40], y[start : start + 40]
                with sklearn.config_context(array_api_dispatch=move):
                    if move:
                        Xc, yc = _to(xp, device, Xc, yc)
                    clf.partial_fit(Xc, yc, classes=[0, 1, 2])
        said[name] = [str(w.message) for w in caught]
    assert said["got"] == said["ref"]
    assert [m for m in said["ref"] if "ordered by class" in m]
    assert got._spike_streak == pytest.approx(ref._spike_streak, rel=1e-9)
    assert got._plateau_state == pytest.approx(ref._plateau_state, rel=1e-9)
    assert got.n_recoveries_ == ref.n_recoveries_ == 0
    for a, b in zip(got.coefs_, ref.coefs_, strict=True):
        _assert_close(a, b, 1e-10)


def test_y_and_weights_may_come_from_numpy_and_classes_follow_y(xp_device):
    xp, device = xp_device
    X, y, w = _fit_data()
    (Xd, yd) = _to(xp, device, X, y)
    with sklearn.config_context(array_api_dispatch=True):
        a = SoftmaxNetClassifier(max_iter=3, random_state=0).fit(Xd, y, w)
        _assert_on(xp, device, a.coefs_[0])
        assert type(a.classes_) is np.ndarray  # y was NumPy
        _assert_on(xp, device, a.predict(Xd))
        # and the other way round: NumPy X, y of the namespace
        b = SoftmaxNetClassifier(max_iter=3, random_state=0).fit(X, yd)
        assert type(b.coefs_[0]) is np.ndarray
        _assert_on(xp, device, b.classes_)
        assert type(b.predict(X)) is np.ndarray
    with sklearn.config_context(array_api_dispatch=True):
        c = SoftmaxNetClassifier(max_iter=3, random_state=0).fit(
            Xd, np.array(["a", "b", "c"])[y]
        )
        labels = c.predict(Xd)
    assert type(labels) is np.ndarray and labels.dtype.kind == "U"  # strings: NumPy


def test_predicting_with_another_namespace_is_a_clear_error(xp_device):
    xp, device = xp_device
    if xp is np:
        pytest.skip("a NumPy model predicts any array-like")
    X, y, _ = _fit_data()
    (Xd,) = _to(xp, device, X)
    with sklearn.config_context(array_api_dispatch=True):
        clf = SoftmaxNetClassifier(max_iter=2, random_state=0).fit(Xd, y)
        with pytest.raises(ValueError, match="must use the same namespace"):
            clf.predict(X)
    # dispatch off: X becomes NumPy, the weights are not
    with pytest.raises(ValueError, match="move_estimator_to"):
        clf.predict_proba(X)


def test_warm_start_moves_a_numpy_model_to_the_namespace_of_X(xp_device):
    xp, device = xp_device
    X, y, _ = _fit_data()
    clf = SoftmaxNetClassifier(max_iter=2, random_state=0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        with sklearn.config_context(array_api_dispatch=True):
            clf.fit(*_to(xp, device, X), y)
    _assert_on(xp, device, *clf.coefs_, clf.feature_mean_)
    assert clf.n_iter_ == 2 and len(clf.history_) == 4


def test_loss_spike_recovery_on_the_namespace_matches_numpy(xp_device):
    xp, device = xp_device
    params = {
        "learning_rate_init": 1e3,
        "standardize": False,
        "alpha": 0.1,
        "on_divergence": "warn",
    }
    ref, got, *_ = _fit_both(xp, device, {**params, "batch_size": 10}, n=60)
    events = [r.get("event") for r in got.history_]
    assert events == [r.get("event") for r in ref.history_]
    assert got.n_recoveries_ == ref.n_recoveries_ >= 1
    for a, b in zip(got.coefs_, ref.coefs_, strict=True):
        _assert_close(a, b, 1e-8)


def test_a_fit_at_or_near_the_class_prior_warns_as_on_numpy(xp_device):
    # the check evaluates the final weights on the host: the namespace's fit says
    # what the NumPy fit says, figures included
    xp, device = xp_device
    X, y, w = _fit_data()
    verdicts = set()
    for alpha in (5.0, 8.0):  # barely better, no better
        said = []
        for namespace, device_ in ((np, None), (xp, device)):
            clf = SoftmaxNetClassifier(random_state=0, alpha=alpha, max_iter=15)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with sklearn.config_context(array_api_dispatch=True):
                    clf.fit(*_to(namespace, device_, X, y, w)[:2], sample_weight=w)
            said.append(
                [str(c.message) for c in caught if "class prior" in str(c.message)]
            )
        assert said[0] == said[1] and len(said[0]) == 1
        verdicts.add(said[0][0].split(" than ")[0])
    assert verdicts == {"Training ended barely better", "Training ended no better"}


def test_a_fit_worse_than_the_prior_on_validation_data_warns_as_on_numpy(
    xp_device,
):
    # noisy labels: a fresh fit returns a trained epoch (never its random start),
    # and the validation check (the held weights' loss on the device, the rest on
    # the host) says what the NumPy fit says, figures included
    xp, device = xp_device
    from sklearn.datasets import make_classification

    X, y = make_classification(
        400, 40, n_informative=3, n_redundant=0, flip_y=0.3, class_sep=0.8,
        random_state=0,
    )  # fmt: skip
    said, epochs = [], []
    for namespace, device_ in ((np, None), (xp, device)):
        arrays = _to(namespace, device_, X[:200], y[:200], X[200:], y[200:])
        clf = SoftmaxNetClassifier(random_state=0, early_stopping=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with sklearn.config_context(array_api_dispatch=True):
                clf.fit(*arrays[:2], X_val=arrays[2], y_val=arrays[3])
        said.append([str(c.message) for c in caught if "prior" in str(c.message)])
        epochs.append(clf.best_epoch_)
    assert said[0] == said[1]
    assert any(
        m.startswith("On the validation data the model is worse") for m in said[0]
    )
    assert epochs[0] == epochs[1] >= 1


def test_rows_that_overflow_the_network_warn_at_predict_time_as_on_numpy(xp_device):
    xp, device = xp_device
    X, y, _ = _fit_data()
    X_new = X[:4].copy()
    X_new[2] = np.finfo(np.float64).max / 2
    said = []
    for namespace, device_ in ((np, None), (xp, device)):
        with sklearn.config_context(array_api_dispatch=True):
            Xd, yd, Xn = _to(namespace, device_, X, y, X_new)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf = SoftmaxNetClassifier(max_iter=3, random_state=0).fit(Xd, yd)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with np.errstate(all="ignore"):
                    clf.predict_proba(Xn)
        said.append([str(c.message) for c in caught if "overflow" in str(c.message)])
    assert said[0] == said[1] and len(said[0]) == 1
    assert said[0][0].startswith("predict_proba: 1 of 4 rows give non-finite")


def test_sparse_tensors_are_refused_with_a_clear_error():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    X, y, _ = _fit_data()
    Xs = torch.asarray(X).to_sparse_csr()
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="scipy.sparse.csr_matrix"):
            SoftmaxNetClassifier(max_iter=2).fit(Xs, torch.asarray(y))


def test_the_epoch_loop_reads_a_few_scalars_per_epoch_not_per_batch(monkeypatch):
    # every device -> host read of a tensor goes through one of these
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    reads = []
    for name in (
        "__float__",
        "__bool__",
        "__int__",
        "__index__",
        "item",
        "tolist",
        "numpy",
        "__array__",
    ):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            reads.append(1)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)

    def n_reads(batch_size):
        X, y, _ = _fit_data(n=240)
        Xd, yd = torch.asarray(X), torch.asarray(y)
        with sklearn.config_context(array_api_dispatch=True):
            clf = SoftmaxNetClassifier(
                max_iter=4,
                batch_size=batch_size,
                random_state=0,
                n_iter_no_change=np.inf,
            )
            reads.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(Xd, yd)
        return len(reads)

    few, many = n_reads(120), n_reads(8)  # 2 and 30 batches per epoch
    assert many == few  # not one more read for 28 more batches per epoch
    assert few <= 10 * 4  # a handful per epoch


def test_a_model_fitted_on_torch_saves_and_exports_through_numpy(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    pytest.importorskip("skops", reason="skops is not installed (the io extra)")
    from skl_softmaxnet.io import load, save

    X, y, _ = _fit_data()
    with sklearn.config_context(array_api_dispatch=True):
        clf = SoftmaxNetClassifier(max_iter=3, random_state=0).fit(
            torch.asarray(X), torch.asarray(y)
        )
        proba = to_numpy(clf.predict_proba(torch.asarray(X)))
    save(clf, tmp_path / "m.skops")
    assert type(clf.coefs_[0]) is torch.Tensor  # the model itself is unchanged
    loaded = load(tmp_path / "m.skops")
    assert type(loaded.coefs_[0]) is np.ndarray
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-12)
    pytest.importorskip("skl2onnx", reason="skl2onnx is not installed (the onnx extra)")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    from skl2onnx import to_onnx

    import skl_softmaxnet.onnx  # noqa: F401  (registers the converter)

    onx = to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    labels, onnx_proba = session.run(None, {"X": X.astype(np.float32)})
    np.testing.assert_array_equal(labels, proba.argmax(axis=1))
    np.testing.assert_allclose(onnx_proba, proba, atol=1e-5)


def test_partial_fit_moves_the_model_and_its_velocities_to_the_namespace_of_X(
    xp_device,
):
    xp, device = xp_device
    X, y, _ = _fit_data()
    clf = SoftmaxNetClassifier((7,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    ref = SoftmaxNetClassifier((7,), random_state=0).partial_fit(
        X, y, classes=[0, 1, 2]
    )
    with sklearn.config_context(array_api_dispatch=True):
        clf.partial_fit(*_to(xp, device, X, y))
    ref.partial_fit(X, y)
    fitted = clf.coefs_ + clf._velocities + [clf.feature_mean_]
    _assert_on(xp, device, *fitted)
    for a, b in zip(
        clf.coefs_ + clf._velocities, ref.coefs_ + ref._velocities, strict=True
    ):
        _assert_close(a, b, 1e-10)
