"""predict_proba throughput and peak extra memory vs MLPClassifier.

What it measures
----------------
1. **Throughput**: rows per second of ``predict_proba`` on 100000 x 784 rows
   (float64 and float32), for SoftmaxNetClassifier and for an MLPClassifier holding
   *the same weights* (ours is fitted briefly, its ``coefs_`` / ``intercepts_`` are
   copied into a fitted MLPClassifier, and the two outputs are checked to agree).
   Hidden layer (256,), 10 classes. The two are timed in ``--rounds`` rounds in
   alternating order; the paired ratio ours/MLP (time) is reported as median
   [min-max]. Target: ratio <= 1, i.e. at least MLP's throughput.
2. **Peak extra memory** of ``predict_proba`` on 1,000,000 x 784 rows, and on
   250,000 rows to see how it grows. Each measurement runs in a fresh child process
   which builds X in **float32** (3 GiB; float64 would need 6 GiB, see
   ``--memory-dtype``) without temporaries, records its peak RSS (``VmHWM``, i.e.
   ``ru_maxrss``), calls ``predict_proba`` and records the peak again. Extra = the
   difference; the output array itself is part of it and is shown separately.
   Target: bounded, i.e. the extra memory beyond the output does not grow with the
   number of rows (at 1M rows at most max(64 MiB, 1.25x its value at 250k rows)).

How to run
----------
::

    python benchmarks/bench_predict.py             # ~2 minutes, 1 BLAS thread
    python benchmarks/bench_predict.py --quick     # smoke test
    python benchmarks/bench_predict.py --skip-memory --rounds 9
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

SELF = str(Path(__file__).resolve())
N_FEATURES = 784
HIDDEN = (256,)


def child(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--model")
    p.add_argument("--rows", type=int)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)

    from _common import peak_rss_mb
    from threadpoolctl import threadpool_limits

    import skl_softmaxnet  # noqa: F401  (so both children import the same modules)

    with open(a.model, "rb") as f:
        est = pickle.load(f)
    dtype = est.coefs_[0].dtype
    X = np.empty((a.rows, N_FEATURES), dtype=dtype)
    rng = np.random.default_rng(0)
    step = 50_000
    for s in range(0, a.rows, step):
        rng.standard_normal(out=X[s : s + step], dtype=dtype)
    before = peak_rss_mb()
    with threadpool_limits(limits=a.threads):
        t0 = time.perf_counter()
        P = est.predict_proba(X)
        secs = time.perf_counter() - t0
    after = peak_rss_mb()
    print(
        json.dumps(
            {
                "before_mb": before,
                "after_mb": after,
                "x_mb": X.nbytes / 2**20,
                "out_mb": P.nbytes / 2**20,
                "out_dtype": str(P.dtype),
                "secs": secs,
            }
        )
    )


def fitted_pair(dtype, n_fit=2000, seed=0):
    """Ours fitted briefly, and an MLPClassifier carrying exactly its weights."""
    from _common import make_dense
    from sklearn.neural_network import MLPClassifier

    from skl_softmaxnet import SoftmaxNetClassifier

    X, y = make_dense(n_fit, N_FEATURES, 10, dtype, seed=seed)
    ours = SoftmaxNetClassifier(
        hidden_layer_sizes=HIDDEN, max_iter=2, random_state=0, learning_rate_init=1e-3
    ).fit(X, y)
    mlp = MLPClassifier(
        hidden_layer_sizes=HIDDEN, solver="sgd", max_iter=1, random_state=0
    ).fit(X, y)
    mlp.coefs_ = [np.array(w, dtype=dtype) for w in ours.coefs_]
    mlp.intercepts_ = [np.array(b, dtype=dtype) for b in ours.intercepts_]
    P_ours, P_mlp = ours.predict_proba(X[:500]), mlp.predict_proba(X[:500])
    diff = float(np.max(np.abs(P_ours - P_mlp)))
    return ours, mlp, diff


def main(argv=None):
    from _common import (
        BusyMonitor,
        blas_lines,
        common_parser,
        describe_busy,
        make_dense,
        markdown_table,
        paired_rounds,
        quiet_warnings,
        run_child,
        timeit_once,
    )
    from threadpoolctl import threadpool_limits

    p = common_parser(__doc__.split("\n\n")[0])
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--memory-dtype", choices=("float32", "float64"), default="float32")
    args = p.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 7)
    n_pred = 5000 if args.quick else 100_000
    mem_rows = (20_000, 80_000) if args.quick else (250_000, 1_000_000)
    quiet_warnings()
    warnings.filterwarnings("ignore", category=RuntimeWarning)

    print("## bench_predict" + (" (--quick)" if args.quick else ""))
    print()
    for line in blas_lines(args.threads):
        print(f"- {line}")
    print()

    if not args.skip_throughput:
        rows, busy_lines = [], []
        with threadpool_limits(limits=args.threads):
            for dtype in (np.float64, np.float32):
                name = np.dtype(dtype).name
                print(f"[throughput {name} ...]", file=sys.stderr, flush=True)
                ours, mlp, diff = fitted_pair(dtype)
                X, _ = make_dense(n_pred, N_FEATURES, 10, dtype, seed=1)
                monitor = BusyMonitor(args.threads)
                ours.predict_proba(X[:1000])
                mlp.predict_proba(X[:1000])
                res = paired_rounds(
                    {
                        "ours": lambda o=ours, X=X: timeit_once(
                            lambda: o.predict_proba(X)
                        ),
                        "MLP": lambda m=mlp, X=X: timeit_once(
                            lambda: m.predict_proba(X)
                        ),
                    },
                    rounds,
                    clock=args.clock,
                )
                busy = monitor.stop()
                r = res.ratio("ours", "MLP")
                rows.append(
                    [
                        f"{n_pred}x{N_FEATURES} {name}",
                        f"{n_pred / res.median('ours'):,.0f}",
                        f"{n_pred / res.median('MLP'):,.0f}",
                        r.fmt(),
                        f"{1 / r.median:.2f}x",
                        f"{diff:.1e}",
                        "yes" if r.median <= 1.0 else "NO",
                        "BUSY" if busy["busy"] else "quiet",
                    ]
                )
                busy_lines.append(f"{name}: {describe_busy(busy)}")
        print(f"### predict_proba throughput (hidden {HIDDEN}, {rounds} rounds)")
        print()
        print(
            markdown_table(
                [
                    "X",
                    "ours rows/s",
                    "MLP rows/s",
                    "ours/MLP time median [min-max]",
                    "speed-up vs MLP",
                    "max |P_ours - P_MLP|",
                    "met? (ratio <= 1)",
                    "machine",
                ],
                rows,
            )
        )
        print()
        for line in busy_lines:
            print(f"- {line}")
        print()

    if not args.skip_memory:
        dtype = np.dtype(args.memory_dtype)
        rows = []
        extra_beyond = {}
        with tempfile.TemporaryDirectory(prefix="bench_predict_") as tmp:
            ours, mlp, _ = fitted_pair(dtype)
            paths = {}
            for label, est in (("ours", ours), ("MLP", mlp)):
                paths[label] = str(Path(tmp) / f"{label}.pkl")
                with open(paths[label], "wb") as f:
                    pickle.dump(est, f)
            for n in mem_rows:
                for label in ("ours", "MLP"):
                    print(f"[memory {label} {n} rows ...]", file=sys.stderr, flush=True)
                    r = run_child(
                        SELF,
                        [
                            "--child",
                            "--model",
                            paths[label],
                            "--rows",
                            str(n),
                            "--threads",
                            str(args.threads),
                        ],
                    )
                    extra = r["after_mb"] - r["before_mb"]
                    extra_beyond[label, n] = extra - r["out_mb"]
                    rows.append(
                        [
                            label,
                            f"{n:,}",
                            f"{r['x_mb']:.0f}",
                            f"{r['out_mb']:.0f} ({r['out_dtype']})",
                            f"{extra:.0f}",
                            f"{extra - r['out_mb']:.0f}",
                            f"{extra / r['x_mb']:.3f}",
                            f"{n / r['secs']:,.0f}",
                        ]
                    )
        print(
            f"### predict_proba peak extra memory (X in {dtype.name}, hidden {HIDDEN})"
        )
        print()
        print(
            markdown_table(
                [
                    "estimator",
                    "rows",
                    "X MiB",
                    "output MiB",
                    "peak extra MiB",
                    "extra beyond output MiB",
                    "extra / X",
                    "rows/s",
                ],
                rows,
            )
        )
        print()
        small, big = mem_rows
        for label in ("ours", "MLP"):
            a, b = extra_beyond[label, small], extra_beyond[label, big]
            bounded = b <= max(64.0, 1.25 * a)
            print(
                f"- {label}: extra beyond output {a:.0f} MiB at {small:,} rows, "
                f"{b:.0f} MiB at {big:,} rows => "
                + ("bounded" if bounded else "grows with rows")
                + (" (target: bounded)" if label == "ours" else "")
            )
        print(
            "- extra = peak RSS (VmHWM) after predict_proba minus peak after X was "
            "built, in a fresh process per row."
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
