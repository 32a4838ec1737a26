"""The training loop's pieces: batches, buffers, stopping, divergence, interrupts."""

import math
import signal
import threading

import numpy as np
import pytest
import scipy.sparse as sp

from skl_softmaxnet._math import init_params, loss_and_grads
from skl_softmaxnet._optim import SGD, LearningRateSchedule
from skl_softmaxnet._training import (
    RowWindow,
    SpikeGuard,
    StoppingMonitor,
    Workspace,
    fit_epochs,
    interrupt_guard,
    iter_minibatches,
)


def test_minibatches_cover_every_row_once_per_epoch():
    batches = list(iter_minibatches(10, 4, np.random.RandomState(0)))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))


def test_minibatches_without_shuffle_are_slices_in_order():
    batches = list(iter_minibatches(10, 4, None))
    assert batches == [slice(0, 4), slice(4, 8), slice(8, 10)]


def test_minibatches_restricted_to_rows():
    rows = np.array([1, 3, 5, 7, 9])
    batches = list(iter_minibatches(5, 2, None, rows))
    np.testing.assert_array_equal(np.concatenate(batches), rows)
    shuffled = np.concatenate(
        list(iter_minibatches(5, 2, np.random.RandomState(0), rows))
    )
    assert sorted(shuffled) == list(rows)


def test_workspace_gathers_into_one_reused_buffer():
    X = np.arange(40.0).reshape(10, 4)
    ws = Workspace(X, [4, 3, 2], 4, np.float64)
    first = ws.gather(X, np.array([3, 1, 0, 9]))
    np.testing.assert_array_equal(first, X[[3, 1, 0, 9]])
    second = ws.gather(X, np.array([2, 5]))
    assert np.shares_memory(first, second)
    assert second.flags.c_contiguous
    # a slice is a view of X itself: nothing is copied
    assert np.shares_memory(ws.gather(X, slice(0, 4)), X)
    acts, deltas = ws.views(2)
    assert [a.shape for a in acts] == [(2, 3), (2, 2)]
    assert [d.shape for d in deltas] == [(2, 3)]


def test_workspace_for_sparse_input_indexes_rows():
    X = sp.random(10, 5, density=0.3, format="csr", random_state=0)
    ws = Workspace(X, [5, 2], 4, np.float64)
    assert ws.X is None
    np.testing.assert_array_equal(
        ws.gather(X, np.array([1, 2])).toarray(), X[[1, 2]].toarray()
    )


def test_stopping_monitor_counts_plateaus_as_mlpclassifier():
    mon = StoppingMonitor(
        tol=0.1, n_iter_no_change=2, early_stopping=False, keep_best=False
    )
    params = init_params([2, 2], np.random.RandomState(0))
    flags = [
        mon.update(e, loss, None, params)
        for e, loss in enumerate([1.0, 0.95, 0.93, 0.92])
    ]
    assert flags == [False, False, False, True]
    assert mon.best_loss == 0.92 and mon.best_epoch == 3


def test_stopping_monitor_keeps_a_copy_of_the_best_weights():
    params = init_params([2, 2], np.random.RandomState(0))
    mon = StoppingMonitor(
        tol=0.0, n_iter_no_change=5, early_stopping=True, keep_best=True
    )
    mon.update(0, 1.0, -0.5, params)
    best_W = params[0][0].copy()
    params[0][0][...] += 1.0
    mon.update(1, 0.9, -0.7, params)  # worse validation score
    assert mon.best_epoch == 0
    np.testing.assert_array_equal(mon.best_params[0][0], best_W)


def _setup(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    y = rng.randint(3, size=n)
    return X, y, init_params([4, 5, 3], rng)


def _train(params, X, y, *, lr, momentum=0.0, sample_weight=None, **kwargs):
    """fit_epochs with plain defaults: constant rate, no shuffling, no monitor."""
    kwargs.setdefault("history", [])
    return fit_epochs(
        params,
        SGD(momentum),
        LearningRateSchedule("constant", lr),
        X,
        y,
        sample_weight,
        alpha=0.0,
        rng=None,
        monitor=None,
        **kwargs,
    )


def test_fit_epochs_loss_is_the_sample_share_weighted_batch_objective():
    # With one batch per epoch (and alpha = 0, so no penalty term), the epoch loss
    # is the objective of loss_and_grads at the weights the epoch started from.
    X, y, params = _setup()
    start = [(W.copy(), b.copy()) for W, b in params]
    history = []
    _train(params, X, y, lr=0.1, n_epochs=1, batch_size=60, history=history)
    expected, _ = loss_and_grads(start, X, y, 0.0)
    assert history[0]["train_loss"] == pytest.approx(expected, rel=1e-12)


def test_fit_epochs_restores_the_last_finite_weights_on_divergence():
    X, y, params = _setup()
    X = X * 1e150
    before = [(W.copy(), b.copy()) for W, b in params]
    with np.errstate(all="ignore"):
        result = _train(params, X, y, lr=1e3, momentum=0.9, n_epochs=5, batch_size=8)
    assert result.diverged
    for (W, b), (W0, b0) in zip(params, before, strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


def test_fit_epochs_stops_after_the_batch_when_asked():
    X, y, params = _setup()
    calls = []

    def stop_requested():
        calls.append(1)
        return len(calls) >= 3

    history = []
    result = _train(
        params,
        X,
        y,
        lr=0.1,
        n_epochs=10,
        batch_size=10,
        history=history,
        stop_requested=stop_requested,
    )
    assert result.interrupted and result.n_epochs == 1 and result.t == 30
    assert math.isfinite(history[0]["train_loss"])


def test_fit_epochs_normalises_each_batch_by_its_expected_weight():
    # Weights 0 then 1: the mean weight is 0.5, so the zero-weight batch moves
    # nothing (alpha = 0) and the other's gradient is scaled by 1 / (10 * 0.5),
    # twice its own mean: an unbiased estimate of the full-batch gradient.
    X, y, params = _setup(n=20)
    sw = np.ones(20)
    sw[:10] = 0.0
    before = [(W.copy(), b.copy()) for W, b in params]
    _train(params, X, y, lr=0.1, sample_weight=sw, n_epochs=1, batch_size=10)
    _, grads = loss_and_grads(before, X[10:], y[10:], 0.0)
    np.testing.assert_allclose(params[0][0], before[0][0] - 0.2 * grads[0][0])


def test_fit_epochs_with_weights_steps_along_the_full_gradient_on_one_batch():
    # full batch: n * mean weight is the weight sum, the objective's own normaliser
    X, y, params = _setup(n=30)
    sw = np.random.RandomState(1).uniform(1e-4, 1e3, size=30)
    before = [(W.copy(), b.copy()) for W, b in params]
    _train(params, X, y, lr=0.1, sample_weight=sw, n_epochs=1, batch_size=30)
    _, grads = loss_and_grads(before, X, y, 0.0, sample_weight=sw)
    np.testing.assert_allclose(params[0][0], before[0][0] - 0.1 * grads[0][0])


def test_interrupt_guard_turns_sigint_into_a_flag_and_restores_the_handler():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals can only be handled in the main thread")
    previous = signal.getsignal(signal.SIGINT)
    with interrupt_guard() as stop_requested:
        assert not stop_requested()
        signal.raise_signal(signal.SIGINT)
        assert stop_requested()
    assert signal.getsignal(signal.SIGINT) is previous


def test_interrupt_guard_outside_the_main_thread_is_inert():
    seen = []

    def run():
        with interrupt_guard() as stop_requested:
            seen.append(stop_requested())

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen == [False]


def test_spike_guard_judges_an_epoch_of_few_rows_by_finiteness_alone():
    guard = SpikeGuard(n_classes=2, min_rows=32)
    guard.best.loss = 0.01
    assert guard.is_spike(50.0, 50.0)  # far above 2 x 0.01 + log(2)
    assert not guard.is_spike(50.0, 50.0, judged=False)
    assert guard.is_spike(math.inf, judged=False)
    assert guard.is_spike(1.0, math.inf, judged=False)


def test_epochs_of_fewer_than_min_rows_are_pooled_and_judged_by_the_pool_mean():
    guard = SpikeGuard(n_classes=2, min_rows=32)
    assert guard.pool(1.0, 10) == (1.0, False)
    assert guard.pool(3.0, 10) == (3.0, False)
    # 10 x 1 + 10 x 3 + 12 x 2 = 64 over 32 rows: judged, the first reference
    assert guard.pool(2.0, 12) == (2.0, True)
    assert guard.judged_pool == (2.0, 32) and guard.best.loss == 2.0
    assert guard.pooled.rows == 0
    assert guard.pool(5.0, 40) == (5.0, True)  # large enough on its own
    assert guard.pool(math.inf, 1) == (math.inf, True)  # never pooled


def test_a_row_window_gives_the_rows_weighted_mean_once_full():
    window = RowWindow(100)
    assert window.add(1.0, 60) is None and window.add(3.0, 20) is None
    mean, rows = window.add(0.5, 40)  # 120 rows: (60 + 60 + 20) / 120
    assert rows == 120 and mean == pytest.approx(140 / 120)
    assert (window.total, window.rows) == (0.0, 0)  # emptied
    assert window.add(2.0, 500) == (2.0, 500)  # a large call is its own window


@pytest.mark.parametrize("min_rows", [0, 32])
def test_a_fit_of_fewer_rows_than_min_rows_sets_no_reference_until_pooled(min_rows):
    X, y, params = _setup(n=10)
    guard = SpikeGuard(n_classes=3, min_rows=min_rows)
    guard.resume(None, params, 0)
    _train(params, X, y, lr=0.1, n_epochs=3, batch_size=5, guard=guard)
    assert math.isfinite(guard.best.loss) == (min_rows <= 10)
    assert guard.pooled.rows == (0 if min_rows <= 10 else 30)


def test_stopping_monitor_of_a_fresh_fit_takes_its_first_epoch_as_best():
    # no start(): the random starting weights are no candidate, however they score
    params = init_params([2, 2], np.random.RandomState(0))
    mon = StoppingMonitor(tol=0.0, n_iter_no_change=5, early_stopping=True,
                          keep_best=True)  # fmt: skip
    mon.update(1, 1.0, -50.0, params)
    assert mon.best_epoch == 1 and mon.best_score == -50.0
    warm = StoppingMonitor(tol=0.0, n_iter_no_change=5, early_stopping=True,
                           keep_best=True)  # fmt: skip
    warm.start(-0.5, params)
    warm.update(1, 1.0, -50.0, params)
    assert warm.best_epoch == 0
