"""Shared helpers for the benchmark scripts in this folder.

Nothing here is part of the package. The helpers cover:

* data: a synthetic "teacher" problem (dense, float32/float64), a sparse CSR problem
  and scikit-learn's bundled digits;
* the environment: BLAS library, kernel and thread count (threadpoolctl), versions,
  CPU model, and a monitor that says whether the machine was busy while we timed;
* timing: paired rounds with a rotating order, median paired ratios with min-max;
* the "GEMM-only" floor: one epoch of only the matrix multiplies of the forward and
  backward passes, with preallocated outputs;
* child processes that report their peak RSS (``ru_maxrss``), for memory benchmarks;
* markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from threadpoolctl import threadpool_info

# --------------------------------------------------------------------------- data


def make_dense(n_samples, n_features, n_classes, dtype=np.float64, seed=0):
    """Standard-normal X with labels from a random linear "teacher" plus noise.

    X is generated directly in ``dtype`` (no float64 temporary for float32) and is
    C-contiguous, so an estimator that does not copy its input can be seen not to.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=dtype)
    W = rng.standard_normal((n_features, n_classes)).astype(dtype)
    scores = X @ W
    scores += rng.standard_normal(scores.shape).astype(dtype) * np.sqrt(n_features)
    y = np.argmax(scores, axis=1).astype(np.int64)
    return X, y


def make_sparse(n_samples, n_features, n_classes, density=0.01, seed=0):
    """CSR float64 X with ``density`` non-zeros, values in [0, 1), teacher labels."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_samples,
        n_features,
        density=density,
        format="csr",
        dtype=np.float64,
        random_state=rng,
    )
    X.sort_indices()
    W = rng.standard_normal((n_features, n_classes))
    scores = np.asarray(X @ W)
    scores += rng.standard_normal(scores.shape) * np.sqrt(density * n_features) * 0.5
    y = np.argmax(scores, axis=1).astype(np.int64)
    return X, y


def load_digits_data(dtype=np.float64):
    """Digits (1797 x 64), scaled to [0, 1], C-contiguous."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return np.ascontiguousarray(X / 16.0, dtype=dtype), y.astype(np.int64)


# -------------------------------------------------------------------- environment


def blas_lines(threads=None):
    """Human-readable lines about versions, BLAS libraries, kernels and threads."""
    lines = [
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}",
        f"cpu: {_cpu_model()} ({os.cpu_count()} logical CPUs)",
    ]
    for info in threadpool_info():
        name = os.path.basename(info.get("filepath", "?"))
        lines.append(
            f"{info.get('user_api')}: {info.get('internal_api')} "
            f"{info.get('version')} kernel={info.get('architecture', '-')} "
            f"num_threads={info.get('num_threads')} ({name})"
        )
    for var in (
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    ):
        if var in os.environ:
            lines.append(f"env {var}={os.environ[var]}")
    if "OPENBLAS_CORETYPE" in os.environ:
        lines.append(
            "note: OPENBLAS_CORETYPE forces an OpenBLAS kernel and may slow numpy; "
            "rerun with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` to compare."
        )
    if threads is not None:
        lines.append(f"thread limit applied with threadpoolctl: {threads}")
    return lines


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _proc_stat():
    """(busy, steal) jiffies summed over all CPUs, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            parts = f.readline().split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    vals = [int(v) for v in parts[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = vals[:7]
    steal = vals[7] if len(vals) > 7 else 0
    # guest time is already included in user/nice.
    return user + nice + system + irq + softirq, steal


class BusyMonitor:
    """Say whether something else used the CPUs while we were timing.

    Over an interval it compares the machine-wide busy CPU time (``/proc/stat``)
    with this process's own CPU time: the difference is what the neighbours used,
    in cores. It also records hypervisor steal time and the 1-minute load average.
    """

    def __init__(self, threads):
        self.threads = threads
        self.start()

    def start(self):
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self._stat = _proc_stat()
        self._load = os.getloadavg()[0]

    def stop(self):
        wall = max(time.perf_counter() - self._wall, 1e-9)
        cpu = time.process_time() - self._cpu
        stat = _proc_stat()
        out = {
            "wall_s": wall,
            "self_cores": cpu / wall,
            "load_before": self._load,
            "load_after": os.getloadavg()[0],
        }
        if stat is not None and self._stat is not None:
            tick = os.sysconf("SC_CLK_TCK")
            busy = (stat[0] - self._stat[0]) / tick
            steal = (stat[1] - self._stat[1]) / tick
            out["others_cores"] = max(busy - cpu, 0.0) / wall
            out["steal_cores"] = steal / wall
        if "others_cores" in out:
            # Direct measurement: CPU time used by everyone else, and steal.
            out["busy"] = out["others_cores"] > 0.25 or out["steal_cores"] > 0.05
        else:
            # The load average lags and counts this process too.
            threads = self.threads or os.cpu_count() or 1
            out["busy"] = out["load_after"] > threads + 0.5
        return out


def describe_busy(b):
    s = (
        f"load {b['load_before']:.2f}->{b['load_after']:.2f}, "
        f"this process {b['self_cores']:.2f} cores"
    )
    if "others_cores" in b:
        s += f", others {b['others_cores']:.2f} cores, steal {b['steal_cores']:.2f}"
    return s + (" => BUSY" if b["busy"] else " => quiet")


# ------------------------------------------------------------------------- timing


@dataclass
class RatioStats:
    median: float
    lo: float
    hi: float

    @classmethod
    def of(cls, values):
        return cls(statistics.median(values), min(values), max(values))

    def fmt(self, digits=2):
        return f"{self.median:.{digits}f} [{self.lo:.{digits}f}-{self.hi:.{digits}f}]"


@dataclass(frozen=True)
class Timing:
    """Wall-clock and process-CPU seconds of one measurement.

    With one BLAS thread, CPU time is the time the work itself took even when a
    neighbour preempts us (cache and memory-bandwidth contention still show), so it is
    the steadier clock on a shared machine; wall time is what a user waits.
    """

    wall: float
    cpu: float

    def __truediv__(self, k):
        return Timing(self.wall / k, self.cpu / k)

    def get(self, clock):
        return getattr(self, clock)


@dataclass
class RoundsResult:
    times: dict[str, list[Timing]] = field(default_factory=dict)
    clock: str = "wall"

    def values(self, name, clock=None):
        return [t.get(clock or self.clock) for t in self.times[name]]

    def median(self, name, clock=None):
        return statistics.median(self.values(name, clock))

    def ratio(self, num, den, clock=None):
        """Paired ratios: one per round, num/den measured in the same round."""
        a, b = self.values(num, clock), self.values(den, clock)
        return RatioStats.of([x / y for x, y in zip(a, b, strict=True)])


def timeit_once(fn):
    """Time one call of ``fn``; return a :class:`Timing`."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return Timing(time.perf_counter() - t0, time.process_time() - c0)


def paired_rounds(
    contenders: dict[str, Callable[[], Timing]], rounds: int, clock="wall"
):
    """Run every contender once per round, rotating the order between rounds.

    Each callable returns a :class:`Timing` (e.g. seconds per epoch); ``clock``
    ("wall" or "cpu") is the default clock of the result. Rotating
    the order spreads slow drifts (thermal, neighbours) over all contenders, and
    ratios are then formed within a round.
    """
    names = list(contenders)
    res = RoundsResult({n: [] for n in names}, clock)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            res.times[name].append(contenders[name]())
    return res


def quiet_warnings():
    """Silence ConvergenceWarning (and friends) raised by max_iter-limited fits."""
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.filterwarnings("ignore", message=".*[Mm]aximum iterations.*")


# ---------------------------------------------------------------------- GEMM-only


def make_gemm_epoch(X, hidden_layer_sizes, n_classes, batch_size, dtype=None):
    """Return ``epoch()``: only the matmuls of one epoch's forward+backward passes.

    For each contiguous batch ``X_b`` (no gather, no shuffle) and layer widths
    ``d0 -> d1 -> ... -> dL`` (dL = n_classes), it computes

    * forward: ``A_1 = X_b @ W_1``, ``A_{l+1} = A_l @ W_{l+1}``
    * backward: ``gW_l = A_{l-1}.T @ D_l`` for every layer and
      ``D_{l-1} = D_l @ W_l.T`` down to the first hidden layer (no delta for X),

    into preallocated outputs with ``np.matmul(..., out=...)``, in ``dtype``. No bias,
    activation, softmax, loss or update: it is the floor an epoch cannot beat with
    the same BLAS. For sparse X the first layer is ``X_b @ W_1`` and
    ``X_b.T @ D_1`` through scipy (which allocates); batches are sliced beforehand.
    """
    dtype = np.dtype(dtype or X.dtype)
    rng = np.random.default_rng(0)
    widths = [X.shape[1], *hidden_layer_sizes, n_classes]
    W = [
        (rng.standard_normal((a, b)) * 0.01).astype(dtype)
        for a, b in zip(widths[:-1], widths[1:], strict=True)
    ]
    gW = [np.empty_like(w) for w in W]
    n = X.shape[0]
    bs = min(batch_size, n)
    A = [np.empty((bs, w), dtype=dtype) for w in widths[1:]]  # layer outputs
    D = [np.empty((bs, w), dtype=dtype) for w in widths[1:]]  # deltas
    for d in D:
        d.fill(0.01)
    starts = list(range(0, n, bs))
    L = len(W)

    if sp.issparse(X):
        batches = [X[s : s + bs] for s in starts]

        def epoch():
            for Xb in batches:
                m = Xb.shape[0]
                outs = [Xb @ W[0]] + [a[:m] for a in A[1:]]  # scipy allocates
                for i in range(1, L):
                    np.matmul(outs[i - 1], W[i], out=outs[i])
                for i in range(L - 1, 0, -1):
                    np.matmul(outs[i - 1].T, D[i][:m], out=gW[i])
                    np.matmul(D[i][:m], W[i].T, out=D[i - 1][:m])
                gW[0] = Xb.T @ D[0][:m]

        return epoch

    X = np.ascontiguousarray(X, dtype=dtype)

    def epoch():
        for s in starts:
            Xb = X[s : s + bs]
            m = Xb.shape[0]
            np.matmul(Xb, W[0], out=A[0][:m])
            for i in range(1, L):
                np.matmul(A[i - 1][:m], W[i], out=A[i][:m])
            for i in range(L - 1, 0, -1):
                np.matmul(A[i - 1][:m].T, D[i][:m], out=gW[i])
                np.matmul(D[i][:m], W[i].T, out=D[i - 1][:m])
            np.matmul(Xb.T, D[0][:m], out=gW[0])

    return epoch


# ------------------------------------------------------------- child processes


def run_child(script, args, env=None):
    """Run ``python script *args`` and parse the JSON on its last stdout line."""
    proc = subprocess.run(
        [sys.executable, script, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"child {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mb():
    """Peak resident set size of this process so far, in MiB.

    On Linux this reads ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` would be
    the same number except that the kernel carries the *parent's* peak over
    fork+exec, so a child started from a big parent would report the parent's peak.
    Elsewhere it falls back to ``resource.getrusage(RUSAGE_SELF).ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        return r / 2**20
    return r / 2**10


def current_rss_mb():
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


# ------------------------------------------------------------------------ output


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]):
    widths = [
        max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
        for i, h in enumerate(header)
    ]

    def line(cells):
        return (
            "| "
            + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))
            + " |"
        )

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def common_parser(
    description,
    threads_type=int,
    threads_help="BLAS/OpenMP threads (threadpoolctl limit); default 1",
):
    p = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--threads", type=threads_type, default="1", help=threads_help)
    p.add_argument(
        "--quick", action="store_true", help="small sizes, 1 round: a smoke test"
    )
    p.add_argument("--rounds", type=int, default=None, help="paired rounds")
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="clock of the main table: wall time (default) or process CPU time, "
        "steadier on a busy machine with --threads 1; the other is printed too",
    )
    return p
