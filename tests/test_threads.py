"""The training loop under the thread settings users actually have (issue 14).

NumPy's and SciPy's wheels bundle one OpenBLAS each. With both multi-threaded, a loop
that alternates NumPy's ``matmul`` with SciPy's ``gemm`` / ``axpy`` keeps two thread
pools busy-waiting against each other (a 5x slower epoch on 2 cores). These tests
check, without timing, that the loop never calls SciPy's BLAS while SciPy's pool may
run several threads, that it sets no thread limit of its own, and that the model does
not depend on the thread setting beyond rounding.

``conftest.py`` pins every pool to one thread for the whole suite; the tests below
lift that pin inside ``threadpool_limits(limits=2)`` where they need threads.
"""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from threadpoolctl import ThreadpoolController, threadpool_limits

import skl_softmaxnet._math as _math
import skl_softmaxnet._optim as _optim
from skl_softmaxnet import SoftmaxNetClassifier
from skl_softmaxnet._math import gemm_grad_update
from skl_softmaxnet._threads import (
    NumpyBlasRoute,
    numpy_blas_route,
    scipy_blas_would_contend,
    training_threads,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_CONTROLLER = ThreadpoolController()
_BLAS = [lib for lib in _CONTROLLER.lib_controllers if lib.user_api == "blas"]


def _thread_counts():
    return [lib.num_threads for lib in _CONTROLLER.lib_controllers]


def _two_threads_or_skip():
    """Call inside ``threadpool_limits(2)``: skip where nothing could contend."""
    if len(_BLAS) < 2:
        pytest.skip("NumPy and SciPy share one BLAS library: nothing contends")
    if max(lib.num_threads for lib in _BLAS) < 2:
        pytest.skip("this BLAS would not run two threads here")


def _data(sparse=False):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 300))
    y = (X[:, :3] @ rng.standard_normal((3, 4))).argmax(axis=1)
    return (sp.csr_matrix(np.where(np.abs(X) > 1.5, X, 0.0)) if sparse else X), y


def _model(**kw):
    params = dict(hidden_layer_sizes=(64, 16), batch_size=64, max_iter=4)
    params.update(random_state=0, alpha=1e-3)
    return SoftmaxNetClassifier(**{**params, **kw})


# OpenBLAS runs a call on the calling thread up to these sizes, whatever its thread
# setting (interface/gemm.c: M*N*K <= 65536 * 4; interface/axpy.c: n <= 10000): such
# SciPy calls wake no pool and cannot contend.
_SINGLE_THREAD = {"_GEMM": 65536 * 4, "_AXPY": 10000}


def _work(name, args):
    if name == "_AXPY":
        return args[0].size
    a, b = args[1], args[2]  # gemm(alpha, delta.T, A.T, ...): M*N*K
    return a.shape[0] * a.shape[1] * b.shape[0]


@pytest.fixture
def scipy_blas_calls(monkeypatch):
    """Record every SciPy BLAS call of the loop: (name, size, BLAS threads then)."""
    calls = []

    def spy(name, fn):
        def wrapper(*args, **kwargs):
            threads = max(lib.num_threads for lib in _BLAS)
            calls.append((name, _work(name, args), threads))
            return fn(*args, **kwargs)

        return wrapper

    for module, table in ((_math, "_GEMM"), (_optim, "_AXPY")):
        for dtype, fn in getattr(module, table).items():
            monkeypatch.setitem(getattr(module, table), dtype, spy(table, fn))
    return calls


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_no_scipy_blas_call_while_its_pool_may_thread(
    scipy_blas_calls, method, sparse, momentum
):
    """The regression test: the loop ran SciPy's gemm on a 2-thread pool."""
    X, y = _data(sparse)
    est = _model(momentum=momentum)
    with threadpool_limits(limits=2):
        _two_threads_or_skip()
        if method == "fit":
            est.fit(X, y)
        else:
            est.partial_fit(X, y, classes=np.unique(y))
            est.partial_fit(X, y)
    threaded = [
        (name, size)
        for name, size, threads in scipy_blas_calls
        if threads > 1 and size > _SINGLE_THREAD[name]
    ]
    assert not threaded, (
        f"{len(threaded)} SciPy BLAS calls while a BLAS pool had several threads: "
        "the training loop must enter _threads.training_threads() once per "
        "fit / partial_fit (issue 14)"
    )
    assert np.isfinite(est.loss_curve_).all()


def test_one_thread_keeps_the_fused_scipy_kernels(scipy_blas_calls):
    """Pinned to one thread, the loop still uses the fused gemm / axpy (fastest)."""
    X, y = _data()
    with threadpool_limits(limits=1):
        _model(momentum=0.9).fit(X, y)
    names = {name for name, _, _ in scipy_blas_calls}
    assert names == {"_GEMM", "_AXPY"}
    assert all(threads == 1 for _, _, threads in scipy_blas_calls)
    assert max(size for _, size, _ in scipy_blas_calls) > _SINGLE_THREAD["_GEMM"]


@pytest.mark.parametrize("limit", [1, 2])
def test_fit_keeps_the_users_thread_limits(monkeypatch, limit):
    """No library is given more threads than the user allowed, during or after."""
    seen = []
    update = _optim.gemm_grad_update

    def spy(*args, **kwargs):
        seen.append(_thread_counts())
        return update(*args, **kwargs)

    monkeypatch.setattr(_optim, "gemm_grad_update", spy)
    X, y = _data()
    with threadpool_limits(limits=limit):
        before = _thread_counts()
        _model().fit(X, y)
        after = _thread_counts()
    assert max(before) <= limit
    assert seen and all(counts == before for counts in seen)
    assert after == before


def test_environment_thread_limit_is_respected():
    """With ``OPENBLAS_NUM_THREADS=1`` / ``OMP_NUM_THREADS=1`` nothing threads."""
    code = """if True:
        import json
        import numpy as np
        from threadpoolctl import threadpool_info
        from skl_softmaxnet import SoftmaxNetClassifier
        from skl_softmaxnet._threads import training_threads
        X = np.random.default_rng(0).standard_normal((200, 8))
        y = (X[:, 0] > 0).astype(int)
        SoftmaxNetClassifier(hidden_layer_sizes=(8,), max_iter=2).fit(X, y)
        with training_threads() as via_numpy:
            counts = [i["num_threads"] for i in threadpool_info()]
        print(json.dumps({"via_numpy": via_numpy, "counts": counts}))
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["via_numpy"] is False
    assert report["counts"] and set(report["counts"]) == {1}


def test_route_follows_the_thread_setting():
    with threadpool_limits(limits=1), training_threads() as via_numpy:
        assert via_numpy is False
        assert numpy_blas_route() is None
    with threadpool_limits(limits=2):
        _two_threads_or_skip()
        assert scipy_blas_would_contend()
        with training_threads() as via_numpy:
            assert via_numpy is True
            assert isinstance(numpy_blas_route(), NumpyBlasRoute)
            with training_threads(numpy_blas=False):  # nested: restored on exit
                assert numpy_blas_route() is None
            assert numpy_blas_route() is not None
    assert numpy_blas_route() is None


def test_route_is_thread_local():
    seen = []
    with training_threads(numpy_blas=True):
        worker = threading.Thread(target=lambda: seen.append(numpy_blas_route()))
        worker.start()
        worker.join()
        assert numpy_blas_route() is not None
    assert seen == [None]


@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)]
)
def test_same_model_with_and_without_thread_limit(momentum, nesterov):
    """Pinned (fused SciPy kernels) and unpinned (NumPy route): equal to rounding.

    Not bit-identical: the two routes round differently (``alpha`` scales the product
    inside ``gemm`` or the delta before ``matmul``), and OpenBLAS itself does not
    promise the same bits for one and two threads. After 4 epochs the weights agree
    to about 1e-15.
    """
    X, y = _data()
    kw = dict(momentum=momentum, nesterovs_momentum=nesterov)
    with threadpool_limits(limits=1):
        pinned = _model(**kw).fit(X, y)
    with threadpool_limits(limits=2):
        free = _model(**kw).fit(X, y)
    pinned_params = pinned.coefs_ + pinned.intercepts_
    for a, b in zip(pinned_params, free.coefs_ + free.intercepts_, strict=True):
        assert_allclose(a, b, rtol=0, atol=1e-12)
    assert_allclose(pinned.loss_curve_, free.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("route", [True, "arithmetic"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.9])
def test_numpy_route_kernels_match_the_fused_ones(dtype, beta, route):
    rng = np.random.default_rng(1)
    # big enough for the route to take them (M*N*K > 65536 * 4, n > 10000)
    A = rng.standard_normal((70, 80)).astype(dtype)
    delta = rng.standard_normal((70, 60)).astype(dtype)
    C0 = rng.standard_normal((80, 60)).astype(dtype)
    x = rng.standard_normal((80, 60)).astype(dtype)
    fused = gemm_grad_update(A, delta, C0.copy(), -0.3, beta)
    with training_threads(numpy_blas=route):
        routed = gemm_grad_update(A, delta, C0.copy(), -0.3, beta)
        y = C0.copy()
        _optim._axpy(x, y, 0.7)
        y1 = C0.copy()
        _optim._axpy(x, y1, 1.0)
    expected = -0.3 * A.T @ delta + beta * C0
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    assert_allclose(routed, expected, rtol=rtol, atol=rtol)
    assert_allclose(fused, expected, rtol=rtol, atol=rtol)
    assert_allclose(y, C0 + 0.7 * x, rtol=rtol)
    assert_array_equal(y1, C0 + x)
    assert routed.dtype == dtype


def test_numpy_openblas_is_found_where_numpy_bundles_it():
    """With NumPy's wheel, the fused kernels run in NumPy's own OpenBLAS."""
    import skl_softmaxnet._threads as threads

    numpy_dirs = threads._package_dirs(np)
    bundled = [
        lib
        for lib in _BLAS
        if lib.internal_api == "openblas"
        and os.path.realpath(lib.filepath).startswith(numpy_dirs)
    ]
    if not bundled:
        pytest.skip("this NumPy does not bundle OpenBLAS")
    assert threads._numpy_openblas() is not None


def test_small_products_keep_scipys_kernels():
    """Below OpenBLAS's threading sizes the route declines; SciPy's call stays."""
    rng = np.random.default_rng(2)
    A, delta, C = rng.random((8, 5)), rng.random((8, 3)), rng.random((5, 3))
    with training_threads(numpy_blas=True):
        route = numpy_blas_route()
        assert route.gemm_update(A, delta, C.copy(), 1.0, 1.0) is False
        assert route.axpy(rng.random(100), rng.random(100), 2.0) is False
        assert route.gemm_update(
            rng.random((70, 80)), rng.random((70, 60)), np.zeros((80, 60)), 1.0, 0.0
        )
