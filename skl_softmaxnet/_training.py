"""The training loop: fit -> epoch -> batch -> optimizer step.

Nothing here knows scikit-learn's estimator API. The estimator hands over arrays
(``X`` dense or CSR, ``y`` as class indices, optional per-sample weights), a list of
``(W, b)`` layers, an optimizer and a schedule, plus two optional callables: one that
scores the current weights on validation data and one called at each epoch's end.

Two small policies decide what happens after each epoch: ``StoppingMonitor`` (when to
stop, which epoch was best) and ``SpikeGuard`` (when the training loss blew up: roll
back, cut the rate, or give up).
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

from ._compat import namespace_of
from ._math import (
    array_sum,
    backward,
    forward,
    inplace_softmax_cross_entropy,
    penalty,
)

__all__ = [
    "iter_minibatches",
    "Workspace",
    "run_epoch",
    "Snapshot",
    "StoppingMonitor",
    "SpikeGuard",
    "EpochResult",
    "fit_epochs",
    "interrupt_guard",
    "copy_array",
    "copy_params",
]


def iter_minibatches(
    n_samples: int,
    batch_size: int,
    rng: np.random.RandomState | None,
    rows: np.ndarray | None = None,
    *,
    xp=None,
    device=None,
):
    """Yield the row indices of each mini-batch.

    Without ``rng`` and ``rows`` the batches are slices (views, no gather). With
    ``rng`` the order is a fresh permutation; ``rows`` restricts the batches to those
    rows of X (the training part of a validation split). Shuffling permutes indices
    only; the data are gathered batch by batch into a reused buffer, never copied
    whole. The permutation is always drawn on the host from the fit's NumPy
    RandomState (so every namespace sees the same batches); with ``xp`` (a
    non-NumPy namespace) it is moved to ``device`` once per epoch, and the batches
    are slices of that device array.
    """
    if rng is None and rows is None:
        for start in range(0, n_samples, batch_size):
            yield slice(start, min(start + batch_size, n_samples))
        return
    order = rng.permutation(n_samples) if rng is not None else np.arange(n_samples)
    if rows is not None:
        order = rows[order]
    if xp is not None:
        order = xp.asarray(order.astype(np.int64), device=device)
    for start in range(0, n_samples, batch_size):
        # the standard leaves out-of-bounds slice ends unspecified: clip them
        yield order[start : min(start + batch_size, n_samples)]


class Workspace:
    """Preallocated per-batch buffers: gathered inputs, activations and deltas.

    A batch smaller than ``batch_size`` (the last one) uses leading-row views of the
    same buffers, which stay C-contiguous, so BLAS sees no copies. With ``xp`` (a
    non-NumPy namespace) there are no buffers: the standard has no ``out=``, so each
    batch is gathered with ``xp.take`` on the data's device and the layers allocate
    their outputs (the library's caching allocator reuses them).
    """

    def __init__(self, X, layer_sizes: list[int], batch_size: int, dtype, xp=None):
        self.batch_size = batch_size
        self.xp = xp
        if xp is not None:
            self.X, self.acts, self.deltas = None, None, None
            return
        self.X = (
            None
            if sp.issparse(X)
            else np.empty((batch_size, layer_sizes[0]), dtype=dtype)
        )
        self.acts = [np.empty((batch_size, n), dtype=dtype) for n in layer_sizes[1:]]
        self.deltas = [
            np.empty((batch_size, n), dtype=dtype) for n in layer_sizes[1:-1]
        ]

    def take(self, a, idx):
        """Rows ``idx`` of an array that needs no buffer (labels, weights)."""
        if isinstance(idx, slice) or self.xp is None:
            return a[idx]
        return self.xp.take(a, idx, axis=0)

    def gather(self, X, idx):
        """Rows ``idx`` of ``X``: a view for a slice, else gathered into the buffer."""
        if self.xp is not None or isinstance(idx, slice) or self.X is None:
            return self.take(X, idx)
        out = self.X[: len(idx)]
        # mode="clip" makes ``take`` write straight into ``out`` (no buffering);
        # the indices come from a permutation, so clipping never alters them.
        np.take(X, idx, axis=0, out=out, mode="clip")
        return out

    def views(self, n: int):
        """Activation and delta buffers for a batch of ``n`` rows (None: allocate)."""
        if self.acts is None or n == self.batch_size:
            return self.acts, self.deltas
        return [a[:n] for a in self.acts], [d[:n] for d in self.deltas]


@dataclass
class EpochStats:
    """What one pass over the batches saw."""

    data_loss: float = 0.0  # sum_i w_i CE_i, each at the weights of its batch
    first_loss: float = math.nan  # the first weighted batch's mean loss ...
    first_norm: float = math.nan  # ... and its S: the start weights' loss, sampled
    n_batches: int = 0  # batches whose update was applied
    n_seen: int = 0  # rows of those batches
    diverged: bool = False  # a batch loss was not finite: the weights are suspect
    interrupted: bool = False  # stop_requested() became true after a whole batch


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
    mean_weight: float = 1.0,
    stop_requested=lambda: False,
) -> EpochStats:
    """One pass over ``batches``.

    A batch of ``n`` rows is normalised by its *expected* weight ``n * mean_weight``
    (the mean training weight), not by its own weight sum: the step is then an
    unbiased estimate of the full objective's gradient, and its size does not depend
    on how much weight the batch happens to hold. Unweighted, ``mean_weight`` is 1 and
    this is MLPClassifier's per-batch mean; full-batch, it is the weight sum.
    """
    stats = EpochStats()
    losses = _LossSum(on_device=workspace.xp is not None)
    for idx in batches:
        Xb = workspace.gather(X, idx)
        yb = workspace.take(y, idx)
        swb = None if sample_weight is None else workspace.take(sample_weight, idx)
        n = yb.shape[0]
        acts, deltas_buf = workspace.views(n)
        acts = forward(params, Xb, acts)
        batch_loss, delta = inplace_softmax_cross_entropy(acts[-1], yb, swb)
        S = n * mean_weight
        if not losses.add(batch_loss, n if swb is None else swb, S):
            stats.diverged = True
            return stats
        deltas = backward(params, acts, delta, deltas_buf)
        optimizer.step(params, acts[:-1], deltas, 1.0 / S, alpha / S, lr)
        stats.n_batches += 1
        stats.n_seen += n
        if stop_requested():
            stats.interrupted = True
            break
    losses.finish(stats)
    return stats


class _LossSum:
    """The batch losses of an epoch, summed.

    On NumPy each loss is a float, checked at once (a non-finite batch ends the
    epoch before its update). On another namespace each is a 0-d array on the
    device: reading one back would wait for the device, so they are summed there
    and read once, in ``finish`` (a non-finite batch is then seen at the epoch's
    end; the spike guard rolls the epoch back either way). The first batch's mean
    loss is kept too: the spike guard's first reference.
    """

    def __init__(self, on_device: bool):
        self.on_device = on_device
        self.total = 0.0
        self.first = None

    def add(self, loss, weight, S: float) -> bool:
        """Add one batch (``weight``: its row count or its weights); False when a
        NumPy loss is not finite."""
        if not self.on_device and not math.isfinite(loss):
            return False
        if self.first is None:
            own = weight if isinstance(weight, int) else array_sum(weight)
            self.first = (loss, own, S)
        self.total = self.total + loss
        return True

    def finish(self, stats: EpochStats) -> None:
        if self.first is None:
            return
        stats.data_loss = float(self.total)
        loss, own, S = self.first
        own = float(own)
        if own > 0:  # its mean loss, comparable whatever weights the batch holds
            stats.first_loss, stats.first_norm = float(loss) / own, S
        stats.diverged = not math.isfinite(stats.data_loss)


def copy_array(a):
    """A copy of an array of any namespace, on its device."""
    if isinstance(a, np.ndarray):
        return a.copy()
    return namespace_of(a)[0].asarray(a, copy=True)


def assign_array(out, a) -> None:
    """``out[...] = a`` in place, for an array of any namespace."""
    if isinstance(out, np.ndarray):
        np.copyto(out, a)
    else:
        out[...] = a


def copy_params(params, out=None):
    """Copies of ``[(W, b), ...]``, or copy them into ``out`` in place."""
    if out is None:
        return [(copy_array(W), copy_array(b)) for W, b in params]
    for (W, b), (W_out, b_out) in zip(params, out, strict=True):
        assign_array(W_out, W)
        assign_array(b_out, b)
    return out


class Snapshot:
    """A reusable copy of the weights, with the epoch and loss it belongs to."""

    def __init__(self, params=None, epoch: int = -1, loss: float = math.inf):
        self.params = None if params is None else copy_params(params)
        self.epoch = epoch
        self.loss = loss

    def save(self, params, epoch: int, loss: float) -> None:
        self.params = copy_params(params, self.params)
        self.epoch, self.loss = epoch, loss

    def restore(self, params) -> None:
        copy_params(self.params, params)


@dataclass
class RowWindow:
    """Losses of a stream's calls, gathered until they hold ``size`` rows: the mean of
    a few rows is noise, the rows-weighted mean of a window is one observation.

    Used by the spike guard (pools of small calls), the ``'adaptive'`` plateau rule
    and the estimator's class-prior check of a stream (windows of calls).
    """

    size: int
    total: float = 0.0  # sum of rows * mean loss over the calls gathered so far
    rows: int = 0

    def add(self, loss: float, n_rows: int) -> tuple[float, int] | None:
        """Gather ``n_rows`` rows of mean ``loss``; return the window's ``(mean loss,
        rows)`` and empty it once it holds ``size`` rows, else None."""
        self.total += loss * n_rows
        self.rows += n_rows
        if self.rows < self.size:
            return None
        full = (self.total / self.rows, self.rows)
        self.clear()
        return full

    def clear(self) -> None:
        self.total, self.rows = 0.0, 0


# a stream's call (or pool of calls) whose class mix is further than this from the
# stream's so far (KL divergence, nats: log 2, what a call of one class that held half
# the stream's rows costs) is not compared with the stream's losses; sampling alone
# exceeds it rarely: 2 n KL is about chi-square with K - 1 degrees of freedom
# (simulated: 1.5% of 32-row calls of 26 equally frequent classes, none for 10)
MIX_SHIFT = math.log(2)


def class_mix_comparable(mix, before) -> bool:
    """Whether the loss of rows of class mix ``mix`` (rows per class) compares with
    the loss of a stream whose rows so far are ``before``: not when ``KL(mix ||
    before) > MIX_SHIFT`` nats, the extra log-loss per row that the mix alone costs a
    model of the stream's class prior (infinite for a class the stream has not seen).
    With no rows before (the first call) it is the stream's mix."""
    if before is None or before.sum() <= 0 or mix.sum() <= 0:
        return True
    p, q = mix / mix.sum(), before / before.sum()
    if np.any((p > 0) & (q == 0)):
        return False
    held = p > 0
    return float(np.sum(p[held] * np.log(p[held] / q[held]))) <= MIX_SHIFT


@dataclass
class StoppingMonitor:
    """When to stop, and which epoch was best.

    ``tol`` and ``n_iter_no_change`` have MLPClassifier's meaning. The plateau counter
    watches the validation score when ``early_stopping`` is set and the training loss
    otherwise. Whenever validation scores exist, the best epoch is the best-scoring
    one; otherwise the one with the lowest training loss. With ``keep_best`` a copy
    of the best weights is kept. On a warm start, ``start`` records the score of the
    weights training starts from (epoch 0), so a fit that never beats the previous
    one keeps its weights; a fresh fit never calls it: its random starting weights
    are no model to return, however they score.

    ``window`` (a ``partial_fit`` stream): the plateau counter sees one loss per
    window of calls (``observe``): a call's online loss is measured on rows it has
    not seen, and the lowest of many small, noisy calls is biased low, so most calls
    would "fail to improve" on it while the model is still learning, and
    ``'adaptive'`` would cut the rate to its floor within a few hundred rows.
    """

    tol: float
    n_iter_no_change: float
    early_stopping: bool
    keep_best: bool
    best_loss: float = math.inf
    best_score: float = -math.inf
    best_epoch: int = -1
    no_improvement_count: int = 0
    best_params: list | None = field(default=None, repr=False)
    window: RowWindow | None = None

    def observe(self, loss: float, n_rows: int) -> float | None:
        """The loss the plateau counter sees for ``n_rows`` rows of mean ``loss``:
        that loss (a fit's epoch), or a full window's mean (else None)."""
        if self.window is None:
            return loss
        full = self.window.add(loss, n_rows)
        return None if full is None else full[0]

    def start(self, val_score: float, params) -> None:
        """The starting weights are the best so far (epoch 0)."""
        self.best_score = val_score
        self.best_epoch = 0
        if self.keep_best:
            self.best_params = copy_params(params, self.best_params)

    def update(self, epoch: int, train_loss: float, val_score, params) -> bool:
        """Record 1-based ``epoch``; return True when a plateau is reached."""
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
                self.best_params = copy_params(params, self.best_params)
        return self.no_improvement_count > self.n_iter_no_change


@dataclass
class SpikeGuard:
    """The loss-spike rule: go on, roll back and cut the rate, or give up.

    An epoch *spikes* when its data loss (the mean weighted cross-entropy) is not
    finite, or exceeds ``2 * best + log(n_classes)``, where ``best`` is the lowest
    so far:
    worse than doubling, and by more than a uniform guess costs. (Far above a chance
    model relative to the best epoch: no SGD noise does that; a blown-up step does.)
    On a spike the weights go back to ``best``, the velocities to zero, and the rate
    is multiplied by ``cut``. Training gives up (still on the ``best`` weights) after
    ``patience`` spikes in a row that show no progress (see ``roll_back``), or
    ``max_spikes`` in a row (the rate cut a million-fold); any epoch that does not
    spike ends the run. A fresh fit's first reference is its first batch's
    cross-entropy at the initial weights, so an epoch that blows up from the start
    is caught. An epoch also spikes when its training loss (the objective) exceeds
    the same bound relative to the objective at the starting weights: exploding
    weights show in the penalty before the cross-entropy measures them, while the
    penalty's own oscillation under momentum never rises above where it started.

    An epoch's loss is measured along the epoch, each batch before its update, so it
    vouches for the weights the epoch *started* from, not for those it ended on
    (with one batch per epoch it is exactly the starting weights' loss). ``best``
    therefore holds the starting weights of the best epoch.

    ``partial_fit`` sets ``min_rows``: each call is an epoch over *other* rows, and
    the mean loss of a few rows swings by more than the bound on sampling alone (one
    hard row against an easy one; a batch of one class after another). Calls of
    fewer rows are pooled (``pool``) until they hold ``min_rows``, and the pool's
    mean loss is judged as an epoch's; until then a call spikes only when its loss
    is not finite. In a stream ``best`` is a running mean of the judged losses
    (see ``improved``), and a spike goes back to the call's starting weights.
    ``comparable`` is False for a call whose classes, or those of the pool it fills,
    are not the stream's mix so far (a new class, or a stream ordered by class):
    its loss measures the shift, not the step, so it too is judged by finiteness
    alone, sets no reference, and the pool is emptied unjudged.
    """

    n_classes: int
    min_rows: int = 0
    pooled: RowWindow = field(default=None, repr=False)  # small calls (min_rows)
    judged_pool: tuple | None = None  # (mean loss, rows) judged this call (a stream)
    comparable: bool = True
    cut: float = 0.25
    patience: int = 5
    max_spikes: int = 10
    n_spikes: int = 0  # spikes seen by this guard
    streak: int = 0  # spikes since the last non-spiking epoch
    consecutive: int = 0  # ... of which without progress
    last_spike: float = math.inf
    best: Snapshot = field(default_factory=Snapshot, repr=False)

    start_objective: float = math.inf  # the objective at the starting weights

    def __post_init__(self):
        self.pooled = RowWindow(self.min_rows)

    def threshold(self) -> float:
        return 2.0 * self.best.loss + math.log(self.n_classes)

    def pool(self, loss: float, n_rows: int) -> tuple[float, bool]:
        """The loss to judge for an epoch of ``n_rows`` rows, and whether to judge it.

        With ``min_rows`` 0, or ``n_rows >= min_rows``: the epoch's own. Otherwise
        the epoch joins the pool; a pool of ``min_rows`` rows or more is judged by
        its mean loss, and emptied. A call that is not ``comparable`` is not judged.
        """
        if not self.comparable:  # (and the pool it would close goes unjudged)
            self.pooled.clear()
            return loss, False
        if self.alone(n_rows) or not math.isfinite(loss):
            if self.min_rows and math.isfinite(loss):
                self.judged_pool = (loss, n_rows)
            return loss, True
        self.judged_pool = self.pooled.add(loss, n_rows)
        if self.judged_pool is None:
            return loss, False
        mean = self.judged_pool[0]
        if self.best.loss == math.inf:  # the first full pool is the reference
            self.best.loss = mean
        return mean, True

    def alone(self, n_rows: int) -> bool:
        """Whether an epoch of ``n_rows`` rows is judged on its own (in a stream:
        a call of ``min_rows`` or more whose class mix is the stream's)."""
        return self.comparable and n_rows >= self.min_rows

    def first_reference(self, stats: EpochStats, alpha: float, start_params) -> None:
        """Until there is a reference: the starting weights' cross-entropy and
        objective, as the epoch's first batch measured them."""
        if self.best.loss == math.inf and math.isfinite(stats.first_loss):
            self.best.loss = stats.first_loss
            pen0 = penalty(start_params)
            self.start_objective = (
                stats.first_loss + 0.5 * alpha * pen0 / stats.first_norm
            )

    def is_spike(
        self, loss: float, objective: float = math.nan, judged: bool = True
    ) -> bool:
        """``loss`` is the epoch's cross-entropy, ``objective`` its training loss;
        ``judged``: False for a call still in the pool (only finiteness counts).

        The objective counts only when it exceeds the same bound relative to the
        *starting* objective: weights blowing up show there first, while a penalty
        oscillating under momentum stays below where it started.
        """
        if not math.isfinite(loss) or objective == math.inf:
            return True
        if not judged:
            return False
        if loss > self.threshold():
            return True
        bound = 2.0 * self.start_objective + math.log(self.n_classes)
        return objective > bound

    def improved(self, start: Snapshot, loss: float) -> None:
        """Record a finite, non-spiking epoch that began from ``start``.

        It ends any run of spikes: the recovery worked.
        """
        self.streak = self.consecutive = 0
        self.last_spike = math.inf
        if self.min_rows:
            # a stream: each judged loss is on other rows, and the lowest of many
            # noisy pools is biased low (a good model's next pool "spiked" past
            # it), so the reference is their running mean; the weights to go back
            # to are this call's start, which ``resume`` saved
            ref = self.best.loss
            ref = loss if ref == math.inf else 0.8 * ref + 0.2 * loss
            self.best.loss, self.best.epoch = ref, start.epoch
        elif loss < self.best.loss:
            self.best.save(start.params, start.epoch, loss)

    def roll_back(self, params, optimizer, loss: float) -> bool:
        """Restore the best weights; return False when it is time to give up.

        A spike less than half the previous one shows the cuts
        working (unscaled data need a rate thousands of times smaller), so only
        spikes without such progress count towards ``patience``.
        """
        self.best.restore(params)
        optimizer.reset()
        self.pooled.clear()  # judged at other weights
        self.n_spikes += 1
        self.streak += 1
        progress = math.isfinite(self.last_spike) and 2.0 * loss <= self.last_spike
        self.consecutive = self.consecutive if progress else self.consecutive + 1
        self.last_spike = loss
        return self.consecutive < self.patience and self.streak < self.max_spikes

    @property
    def state(self) -> tuple:
        """What ``partial_fit`` carries to its next call (``resume`` reads it)."""
        return (
            self.streak,
            self.consecutive,
            self.last_spike,
            self.best.loss,
            self.start_objective,
            self.pooled.total,
            self.pooled.rows,
        )

    def resume(self, state: tuple | None, params, epoch: int) -> None:
        """Start from ``params`` at ``epoch``, with the run a previous call left
        (its ``state``), or afresh (``None``: no reference loss yet)."""
        best_loss = math.inf
        if state is not None:
            (self.streak, self.consecutive, self.last_spike, best_loss) = state[:4]
            self.start_objective = state[4]
            if len(state) > 5:  # a model saved before pooling had none
                self.pooled.total, self.pooled.rows = state[5:7]
        self.best.save(params, epoch, best_loss)


@dataclass
class EpochResult:
    """How a call to ``fit_epochs`` ended."""

    n_epochs: int = 0
    t: int = 0
    converged: bool = False
    interrupted: bool = False
    diverged: bool = False
    stopped_by_callback: bool = False
    data_loss: float = math.nan  # mean weighted CE of the last recorded epoch


def _data_loss(stats: EpochStats, mean_weight) -> float:
    """The epoch's mean weighted cross-entropy (NaN when no batch ran)."""
    if stats.n_seen == 0:
        return math.nan
    return stats.data_loss / (stats.n_seen * mean_weight)


def _epoch_loss(stats: EpochStats, alpha, pen, mean_weight) -> float:
    # As MLPClassifier: each batch's objective weighted by its share of the weight
    # seen; the penalty term is evaluated once, at the epoch's end weights, instead
    # of once per batch (a full pass over the weights per batch).
    if stats.n_seen == 0:
        return math.nan
    weight_seen = stats.n_seen * mean_weight
    return (stats.data_loss + 0.5 * alpha * stats.n_batches * pen) / weight_seen


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
    guard: SpikeGuard | None = None,
    rows: np.ndarray | None = None,
    monitor: StoppingMonitor | None = None,
    history: list,
    epoch_offset: int = 0,
    t: int = 0,
    validate=None,
    on_epoch_end=None,
    stop_requested=lambda: False,
    log=None,
) -> EpochResult:
    """Train for up to ``n_epochs`` epochs, appending one record per epoch to history.

    ``validate(params) -> (val_loss, val_score)`` is called after each epoch when
    given; ``on_epoch_end(record) -> bool`` may ask to stop; ``log(message)`` hears
    the events (spikes, early stopping). ``monitor=None`` disables stopping
    (``partial_fit``). ``guard`` decides on loss spikes (see ``SpikeGuard``); its
    ``best`` snapshot holds the starting weights (a fresh guard by default).

    A ``KeyboardInterrupt`` raised anywhere in an epoch (not through
    ``stop_requested``, which ends the epoch after a whole batch) may have left a
    batch half applied: the weights go back to the epoch's start, the velocities to
    zero, the epoch is not recorded, and ``interrupted`` is set.
    """
    data = _EpochData.of(params, X, y, sample_weight, rows, batch_size)
    if guard is None:
        guard = SpikeGuard(n_classes=params[-1][0].shape[1])
        guard.resume(None, params, epoch_offset)
    start = Snapshot()
    result = EpochResult(t=t)
    for epoch in range(epoch_offset + 1, epoch_offset + n_epochs + 1):
        start.save(params, epoch - 1, math.nan)
        try:
            record, stats, data_loss, go_on, plateau = _epoch(
                params, optimizer, schedule, data, epoch, result.t, alpha, rng,
                guard, start, validate, stop_requested,
            )  # fmt: skip
        except KeyboardInterrupt:
            start.restore(params)
            optimizer.reset()
            result.interrupted = True
            return result
        history.append(record)
        result.n_epochs += 1
        result.t += stats.n_seen
        if "event" in record:
            if log is not None:
                log(f"Epoch {epoch}: {record['event']}")
            if not go_on:
                result.diverged = True
                return result
            continue
        result.data_loss = data_loss
        if stats.interrupted:
            if monitor is not None:  # its weights were scored: they may be the best
                val_score = record.get("val_score")
                monitor.update(epoch, record["train_loss"], val_score, params)
            result.interrupted = True
            return result
        if on_epoch_end is not None and on_epoch_end(record):
            result.stopped_by_callback = True
            return result
        if _plateau_ends(monitor, schedule, record, params, log, plateau):
            result.converged = True
            return result
    return result


@dataclass
class _EpochData:
    """The training arrays and what every epoch needs to batch them."""

    X: object
    y: object
    sample_weight: object
    rows: np.ndarray | None
    n_samples: int
    batch_size: int
    mean_weight: float
    workspace: Workspace
    xp: object = None  # None: NumPy
    device: object = None

    @classmethod
    def of(cls, params, X, y, sample_weight, rows, batch_size) -> _EpochData:
        n_samples = X.shape[0] if rows is None else rows.shape[0]
        xp = device = None
        if not isinstance(params[0][0], np.ndarray):  # stay on its device
            xp, device = namespace_of(params[0][0])
        mean_weight = 1.0
        if sample_weight is not None:
            w = sample_weight
            if rows is not None:
                w = (
                    w[rows]
                    if xp is None
                    else xp.take(w, xp.asarray(rows, device=device))
                )
            mean_weight = float(w.sum() if xp is None else xp.sum(w)) / n_samples
        sizes = [params[0][0].shape[0]] + [W.shape[1] for W, _ in params]
        batch_size = min(batch_size, n_samples)
        ws = Workspace(X, sizes, batch_size, params[0][0].dtype, xp=xp)
        return cls(
            X,
            y,
            sample_weight,
            rows,
            n_samples,
            batch_size,
            mean_weight,
            ws,
            xp,
            device,
        )


def _epoch(
    params, optimizer, schedule, data, epoch, t, alpha, rng, guard, start, validate,
    stop_requested,
):  # fmt: skip
    """Train one epoch, then let the guard judge it (and validate if it stands).

    Returns the history record, the epoch's stats, its mean cross-entropy, False
    when the guard gives up, and the ``(loss, rows)`` the plateau rule watches
    (None: none).
    """
    tic = time.perf_counter()
    lr = schedule.rate(epoch - 1, t)
    batches = iter_minibatches(
        data.n_samples, data.batch_size, rng, data.rows, xp=data.xp, device=data.device
    )
    with np.errstate(over="ignore", invalid="ignore"):
        stats = run_epoch(
            params, optimizer, data.X, data.y, data.sample_weight, batches,
            data.workspace, alpha, lr, data.mean_weight, stop_requested,
        )  # fmt: skip
        pen = penalty(params)
    train_loss = _epoch_loss(stats, alpha, pen, data.mean_weight)
    # the guard watches the data term: the penalty's own oscillation under
    # momentum (full batches, a large alpha / S) is not a blow-up
    data_loss = _data_loss(stats, data.mean_weight)
    if stats.diverged or not math.isfinite(pen):
        train_loss = data_loss = math.inf
    record = {"epoch": epoch, "train_loss": train_loss}
    # else pooled with other small calls, or a stream's class shift (not judged)
    if guard.alone(stats.n_seen):
        guard.first_reference(stats, alpha, start.params)
    judged_loss, judged = guard.pool(data_loss, stats.n_seen)
    # a stream's calls weigh the penalty by their own rows and batch size, so
    # their objectives do not compare: there only an infinite one says anything
    stream = guard.min_rows > 0
    objective = math.nan if stream and train_loss != math.inf else train_loss
    go_on = True
    if guard.is_spike(judged_loss, objective, judged):
        threshold = guard.threshold()
        go_on = guard.roll_back(params, optimizer, judged_loss)
        record["event"] = _spike_event(guard, judged_loss, threshold, lr, objective)
        schedule.cut(guard.cut)
    else:
        if judged:  # a call still in the pool ends no run of spikes
            guard.improved(start, judged_loss)
        if validate is not None:
            record["val_loss"], record["val_score"] = validate(params)
    record.update(learning_rate=lr, time=time.perf_counter() - tic)
    # what the plateau rule watches: in a stream, the judged calls and pools only
    # (a few rows' loss would look like a plateau every few calls, and the
    # adaptive rate would fall to its floor), by their cross-entropy
    plateau = (guard.judged_pool if judged else None) if stream else (train_loss, 0)
    return record, stats, data_loss, go_on, plateau


def _plateau_ends(monitor, schedule, record, params, log, plateau) -> bool:
    """Tell the monitor about the epoch (``plateau``: the ``(loss, rows)`` it
    watches without validation, a stream's gathered into windows; None: nothing to
    watch); on a plateau, divide the rate (adaptive) or say training ends."""
    if monitor is None or plateau is None:
        return False
    epoch, loss = record["epoch"], monitor.observe(*plateau)
    if loss is None:
        return False
    if not monitor.update(epoch, loss, record.get("val_score"), params):
        return False
    if not schedule.on_plateau():
        if log is not None:
            log(f"Epoch {epoch}: plateau, learning rate divided by 5.")
        monitor.no_improvement_count = 0
        return False
    if log is not None:
        watched = "Validation score" if monitor.early_stopping else "Loss"
        log(
            f"Epoch {epoch}: {watched} did not improve more than tol={monitor.tol} "
            f"for {monitor.n_iter_no_change} consecutive epochs. Stopping."
        )
    return True


def _spike_event(
    guard: SpikeGuard, loss: float, threshold: float, lr: float, objective: float
) -> str:
    if not math.isfinite(loss) or loss > threshold:
        what = f"cross-entropy {loss:.4g} > {threshold:.4g} (2 x best + log(n_classes))"
    else:  # the objective tripped it (see SpikeGuard.is_spike)
        bound = 2.0 * guard.start_objective + math.log(guard.n_classes)
        what = (
            f"objective {objective:.4g} > {bound:.4g} (2 x the starting objective + "
            "log(n_classes))"
        )
    return (
        f"loss spike: {what}; weights rolled back to the end of epoch "
        f"{guard.best.epoch}, velocities reset, learning rate {lr:.3g} -> "
        f"{lr * guard.cut:.3g}"
    )


@contextlib.contextmanager
def interrupt_guard():
    """Turn Ctrl-C into a flag the loop checks after each batch.

    Yields a callable returning True once SIGINT was received. Outside the main
    thread (where signal handlers cannot be installed) the callable is always False
    and a KeyboardInterrupt propagates as usual (``fit_epochs`` catches it).
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
