"""The maths on every available Array API namespace, against the NumPy path.

Each test runs on NumPy, array-api-strict and PyTorch on the CPU (when installed: the
``array-api`` extra), and on PyTorch-CUDA and CuPy where a GPU exists; elsewhere those
cases skip and say why. The NumPy path is the reference: in float64 the generic path
must reproduce it to 1e-12, from the same NumPy draws.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn

from skl_softmaxnet import check_gradients, numerical_gradients
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
