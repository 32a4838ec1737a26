"""The training loop: fit -> epoch -> batch -> optimizer step.

Nothing here knows scikit-learn's estimator API. The estimator hands over arrays
(``X`` dense or CSR, ``y`` as class indices, optional per-sample weights), a list of
``(W, b)`` layers, an optimizer and a schedule, plus two optional callables: one that
scores the current weights on validation data and one called at each epoch's end.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._math import (
    backward,
    forward,
    inplace_softmax_cross_entropy,
    penalty,
)

__all__ = [
    "iter_minibatches",
    "Workspace",
    "run_epoch",
    "StoppingMonitor",
    "EpochResult",
    "fit_epochs",
    "interrupt_guard",
]


def iter_minibatches(
    n_samples: int,
    batch_size: int,
    rng: np.random.RandomState | None,
    rows: np.ndarray | None = None,
):
    """Yield the row indices of each mini-batch.

    Without ``rng`` and ``rows`` the batches are slices (views, no gather). With
    ``rng`` the order is a fresh permutation; ``rows`` restricts the batches to those
    rows of X (the training part of a validation split). Shuffling permutes indices
    only; the data are gathered batch by batch into a reused buffer, never copied
    whole.
    """
    if rng is None and rows is None:
        for start in range(0, n_samples, batch_size):
            yield slice(start, min(start + batch_size, n_samples))
        return
    order = rng.permutation(n_samples) if rng is not None else np.arange(n_samples)
    if rows is not None:
        order = rows[order]
    for start in range(0, n_samples, batch_size):
        yield order[start : start + batch_size]


class Workspace:
    """Preallocated per-batch buffers: gathered inputs, activations and deltas.

    A batch smaller than ``batch_size`` (the last one) uses leading-row views of the
    same buffers, which stay C-contiguous, so BLAS sees no copies.
    """

    def __init__(self, X, layer_sizes: list[int], batch_size: int, dtype):
        self.batch_size = batch_size
        self.X = (
            None
            if sp.issparse(X)
            else np.empty((batch_size, layer_sizes[0]), dtype=dtype)
        )
        self.acts = [np.empty((batch_size, n), dtype=dtype) for n in layer_sizes[1:]]
        self.deltas = [
            np.empty((batch_size, n), dtype=dtype) for n in layer_sizes[1:-1]
        ]

    def gather(self, X, idx):
        """Rows ``idx`` of ``X``: a view for a slice, else gathered into the buffer."""
        if isinstance(idx, slice) or self.X is None:
            return X[idx]
        out = self.X[: len(idx)]
        # mode="clip" makes ``take`` write straight into ``out`` (no buffering);
        # the indices come from a permutation, so clipping never alters them.
        np.take(X, idx, axis=0, out=out, mode="clip")
        return out

    def views(self, n: int):
        """Activation and delta buffers for a batch of ``n`` rows."""
        if n == self.batch_size:
            return self.acts, self.deltas
        return [a[:n] for a in self.acts], [d[:n] for d in self.deltas]


def run_epoch(
    params,
    optimizer,
    X,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    batches,
    workspace: Workspace,
    alpha: float,
    lr: float,
    stop_requested=lambda: False,
) -> tuple[float, int, int, bool, bool]:
    """One pass over ``batches``.

    Returns
    -------
    data_loss : float
        ``sum_i w_i CE_i`` over the samples seen, each at the weights of its batch.
    n_batches : int
        Batches that updated the weights (those with a non-zero weight sum).
    n_samples : int
    diverged : bool
        A batch loss was not finite; the weights must not be trusted.
    interrupted : bool
        ``stop_requested()`` became true; the epoch ended after a whole batch.
    """
    data_loss = 0.0
    n_batches = n_seen = 0
    for idx in batches:
        Xb = workspace.gather(X, idx)
        yb = y[idx]
        swb = None if sample_weight is None else sample_weight[idx]
        n = yb.shape[0]
        acts, deltas_buf = workspace.views(n)
        acts = forward(params, Xb, acts)
        batch_loss, delta = inplace_softmax_cross_entropy(acts[-1], yb, swb)
        if not math.isfinite(batch_loss):
            return data_loss, n_batches, n_seen, True, False
        S = float(n) if swb is None else float(swb.sum())
        data_loss += batch_loss
        n_seen += n
        if S > 0:
            n_batches += 1
            deltas = backward(params, acts, delta, deltas_buf)
            optimizer.step(params, acts[:-1], deltas, 1.0 / S, alpha / S, lr)
        if stop_requested():
            return data_loss, n_batches, n_seen, False, True
    return data_loss, n_batches, n_seen, False, False


def _copy_params(params, out=None):
    if out is None:
        return [(W.copy(), b.copy()) for W, b in params]
    for (W, b), (W_out, b_out) in zip(params, out, strict=True):
        np.copyto(W_out, W)
        np.copyto(b_out, b)
    return out


@dataclass
class StoppingMonitor:
    """When to stop, and which epoch was best.

    ``tol`` and ``n_iter_no_change`` have MLPClassifier's meaning. The plateau counter
    watches the validation score when ``early_stopping`` is set and the training loss
    otherwise. Whenever validation scores exist, the best epoch is the best-scoring
    one; otherwise the one with the lowest training loss. A snapshot of the best
    weights is kept when ``keep_best`` is set.
    """

    tol: float
    n_iter_no_change: int
    early_stopping: bool
    keep_best: bool
    best_loss: float = math.inf
    best_score: float = -math.inf
    best_epoch: int = -1
    no_improvement_count: int = 0
    best_params: list | None = field(default=None, repr=False)

    def update(self, epoch: int, train_loss: float, val_score, params) -> bool:
        """Record an epoch; return True when a plateau is reached."""
        if self.early_stopping:
            improved = val_score >= self.best_score + self.tol
        else:
            improved = train_loss <= self.best_loss - self.tol
        self.no_improvement_count = 0 if improved else self.no_improvement_count + 1

        if val_score is not None:
            is_best = val_score > self.best_score
        else:
            is_best = train_loss < self.best_loss
        self.best_loss = min(self.best_loss, train_loss)
        if val_score is not None:
            self.best_score = max(self.best_score, val_score)
        if is_best:
            self.best_epoch = epoch
            if self.keep_best:
                self.best_params = _copy_params(params, self.best_params)
        return self.no_improvement_count > self.n_iter_no_change


@dataclass
class EpochResult:
    """How a call to ``fit_epochs`` ended."""

    n_epochs: int = 0
    t: int = 0
    converged: bool = False
    interrupted: bool = False
    diverged: bool = False


def fit_epochs(
    params,
    optimizer,
    schedule,
    X,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    n_epochs: int,
    batch_size: int,
    alpha: float,
    rng: np.random.RandomState | None,
    rows: np.ndarray | None = None,
    monitor: StoppingMonitor | None,
    history: list,
    epoch_offset: int = 0,
    t: int = 0,
    validate=None,
    on_epoch_end=None,
    stop_requested=lambda: False,
) -> EpochResult:
    """Train for up to ``n_epochs`` epochs, appending one record per epoch to history.

    ``validate(params) -> (val_loss, val_score)`` is called after each epoch when
    given; ``on_epoch_end(record) -> bool`` may ask to stop. ``monitor=None`` disables
    stopping (``partial_fit``). On divergence the weights are restored in place to
    those at the end of the last finite epoch (one epoch further back when the
    epoch's first batch already failed).
    """
    layer_sizes = [params[0][0].shape[0]] + [W.shape[1] for W, _ in params]
    dtype = params[0][0].dtype
    n_samples = X.shape[0] if rows is None else rows.shape[0]
    if sample_weight is None:
        total_weight = float(n_samples)
    else:
        total_weight = float(
            (sample_weight if rows is None else sample_weight[rows]).sum()
        )
    ws = Workspace(X, layer_sizes, min(batch_size, n_samples), dtype)
    # The weights at the end of the last two finite epochs. A batch's loss is
    # computed before its update, so when the first batch of an epoch fails, the
    # weights the epoch started from are the culprits: step back one more epoch.
    last_good, prev_good = _copy_params(params), None
    result = EpochResult(t=t)
    for k in range(n_epochs):
        epoch = epoch_offset + k
        tic = time.perf_counter()
        lr = schedule.rate(epoch, result.t)
        batches = iter_minibatches(n_samples, batch_size, rng, rows)
        with np.errstate(over="ignore", invalid="ignore"):
            data_loss, n_batches, n_seen, diverged, interrupted = run_epoch(
                params,
                optimizer,
                X,
                y,
                sample_weight,
                batches,
                ws,
                alpha,
                lr,
                stop_requested,
            )
            pen = penalty(params)
            finite = math.isfinite(pen) and all(
                math.isfinite(float(b.sum())) for _, b in params
            )
        if diverged or not finite:
            back = diverged and n_batches == 0 and prev_good is not None
            _copy_params(prev_good if back else last_good, params)
            result.diverged = True
            return result
        result.t += n_seen
        # As MLPClassifier: each batch's objective weighted by its share of the data
        # (of the total sample weight, when weighted). The penalty term is evaluated
        # once, at the epoch's end weights, instead of once per batch (a full pass
        # over the weights per batch).
        train_loss = (data_loss + 0.5 * alpha * n_batches * pen) / total_weight
        record = {"epoch": epoch + 1, "train_loss": train_loss}
        val_score = None
        if validate is not None:
            record["val_loss"], val_score = validate(params)
            record["val_score"] = val_score
        record["learning_rate"] = lr
        record["time"] = time.perf_counter() - tic
        history.append(record)
        result.n_epochs += 1
        if interrupted:
            result.interrupted = True
            return result
        # rotate the two snapshots: no allocation after the second epoch
        prev_good, last_good = last_good, _copy_params(params, prev_good)
        stop = bool(on_epoch_end(record)) if on_epoch_end is not None else False
        if monitor is not None and monitor.update(epoch, train_loss, val_score, params):
            if schedule.on_plateau():
                result.converged = True
                return result
            monitor.no_improvement_count = 0
        if stop:
            return result
    return result


@contextlib.contextmanager
def interrupt_guard():
    """Turn Ctrl-C into a flag the loop checks after each batch.

    Yields a callable returning True once SIGINT was received. Outside the main
    thread (where signal handlers cannot be installed) the callable is always False
    and a KeyboardInterrupt propagates as usual.
    """
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag.is_set
        return

    def handler(signum, frame):
        flag.set()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # pragma: no cover - e.g. embedded interpreters
        yield flag.is_set
        return
    try:
        yield flag.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
