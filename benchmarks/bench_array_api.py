"""Array API: per-epoch fit time and predict throughput, NumPy vs PyTorch / CuPy.

What it measures
----------------
The same ``SoftmaxNetClassifier`` on the same data, held as a NumPy array and as an
array of every other namespace / device found here: PyTorch on the CPU always (when
installed), PyTorch on CUDA and CuPy when a GPU is present. Under
``sklearn.config_context(array_api_dispatch=True)`` the estimator then trains and
predicts in that namespace on that device (see the "On a GPU" page of the docs).

* **epoch**: wall time of ``fit(max_iter=E)`` divided by ``E`` (``tol=0``, every
  epoch runs; ``standardize=False``, so only the training loop is timed); on a GPU
  the clock stops after a device synchronisation.
* **predict**: rows per second of ``predict_proba`` on the training rows.

Each contender is timed in ``--rounds`` rounds in a rotating order after a warm-up;
the table gives medians and the ratio to NumPy's median (epoch: < 1 is faster than
NumPy; predict: > 1 is faster). Configurations: synthetic 60000 x 784 (10 classes,
hidden (256,), batch 128, Nesterov) and digits 1797 x 64 (hidden (100,), batch 32),
each in float32 and float64.

Threads: by default no limit is set (``--threads default``), as users run: NumPy's
BLAS and PyTorch's intra-op pool use every core. ``--threads 1`` pins both.

How to run
----------
::

    python benchmarks/bench_array_api.py             # full run
    python benchmarks/bench_array_api.py --quick     # smoke test, seconds
    python benchmarks/bench_array_api.py --threads 1 --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # scikit-learn's array API needs it

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    blas_lines,
    load_digits_data,
    make_dense,
    markdown_table,
    quiet_warnings,
)

from skl_softmaxnet import SoftmaxNetClassifier  # noqa: E402


def namespaces():
    """``(label, to_array, synchronize)`` for every namespace / device found."""
    found = [("numpy", lambda a: a, lambda: None)]
    try:
        import torch
    except ImportError:
        return found, "PyTorch not installed (pip install -e '.[array-api]')"
    found.append(("torch-cpu", lambda a: torch.asarray(a, device="cpu"), lambda: None))
    notes = [f"PyTorch {torch.__version__}, {torch.get_num_threads()} CPU threads"]
    if torch.cuda.is_available():
        found.append(
            (
                f"torch-cuda ({torch.cuda.get_device_name(0)})",
                lambda a: torch.asarray(a, device="cuda"),
                torch.cuda.synchronize,
            )
        )
    else:
        notes.append("no CUDA device: torch-cuda not run")
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            found.append(("cupy", cupy.asarray, cupy.cuda.Device().synchronize))
    except Exception:  # noqa: BLE001 - not installed, or no driver / device
        notes.append("CuPy not available (it needs a CUDA GPU): not run")
    return found, "; ".join(notes)


def configs(quick):
    n = 6000 if quick else 60000
    out = []
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        out.append((f"{n}x784 {name} (256,) b128", ("synth", n, dtype), (256,), 128, 2))
        out.append((f"digits {name} (100,) b32", ("digits", 0, dtype), (100,), 32, 10))
    return out


def load(spec):
    kind, n, dtype = spec
    if kind == "digits":
        return load_digits_data(dtype)
    return make_dense(n, 784, 10, dtype=dtype)


def timers(X, y, hidden, batch_size, epochs, to_array, sync):
    Xa, ya = to_array(X), to_array(y)
    est = SoftmaxNetClassifier(
        hidden,
        alpha=1e-4,
        batch_size=batch_size,
        learning_rate="constant",
        learning_rate_init=0.01,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=np.inf,
        early_stopping=False,
        standardize=False,
        random_state=0,
    )

    def epoch():
        with sklearn.config_context(array_api_dispatch=True):
            t0 = time.perf_counter()
            est.fit(Xa, ya)
            sync()
            seconds = (time.perf_counter() - t0) / epochs
        assert est.n_iter_ == epochs
        return seconds

    def predict():
        with sklearn.config_context(array_api_dispatch=True):
            t0 = time.perf_counter()
            est.predict_proba(Xa)
            sync()
            return X.shape[0] / (time.perf_counter() - t0)

    return epoch, predict


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--threads", default="default", help="'default' (no limit) or N")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    quiet_warnings()
    limit = contextlib.nullcontext()
    if args.threads != "default":
        limit = threadpool_limits(int(args.threads))
        with contextlib.suppress(ImportError):
            import torch

            torch.set_num_threads(int(args.threads))
    found, note = namespaces()
    print(f"# bench_array_api ({'quick' if args.quick else 'full'}, {rounds} rounds)")
    print(f"threads: {args.threads}; namespaces: {[f[0] for f in found]}; {note}")
    for line in blas_lines():
        print(line)
    rows = []
    with limit, warnings.catch_warnings():
        quiet_warnings()
        for label, spec, hidden, batch_size, epochs in configs(args.quick):
            X, y = load(spec)
            contenders = {
                name: timers(X, y, hidden, batch_size, epochs, to_array, sync)
                for name, to_array, sync in found
            }
            for epoch, predict in contenders.values():  # warm-up
                epoch(), predict()
            results = {name: ([], []) for name in contenders}
            names = list(contenders)
            for r in range(rounds):
                k = r % len(names)
                for name in names[k:] + names[:k]:
                    epoch, predict = contenders[name]
                    results[name][0].append(epoch())
                    results[name][1].append(predict())
            base_epoch = statistics.median(results["numpy"][0])
            base_rate = statistics.median(results["numpy"][1])
            for name in names:
                e = statistics.median(results[name][0])
                r = statistics.median(results[name][1])
                rows.append(
                    [
                        label,
                        name,
                        f"{e * 1e3:.1f}",
                        f"{e / base_epoch:.2f}",
                        f"{r:,.0f}",
                        f"{r / base_rate:.2f}",
                    ]
                )
            print(f"done: {label}", flush=True)
    print()
    print(
        markdown_table(
            [
                "config",
                "namespace",
                "ms / epoch",
                "epoch / NumPy",
                "predict rows/s",
                "predict / NumPy",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
