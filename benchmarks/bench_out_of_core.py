"""Out-of-core training: peak memory stays flat as the data grows.

What it measures
----------------
X is a *lazy* dask array, ``--gb`` gigabytes of standard-normal float32 features
in blocks of ``--chunk-rows`` rows (``dask.array.random`` with a fixed seed),
and y comes block by block from a fixed random linear "teacher"
(``argmax(X @ W + b)``), so the problem is learnable and nothing is ever held
whole. ``dask_ml.wrappers.Incremental(SoftmaxNetClassifier(...))`` streams the
blocks through ``partial_fit`` (one epoch per block, block order shuffled each
pass) for ``--passes`` passes, with dask's synchronous scheduler: one block is
generated, trained on and dropped before the next. Each ``Incremental`` call gets
a window of ``--window-blocks`` blocks, so that the size of dask's task graph,
and the memory dask needs to order it, do not grow with X (see ``stream``).

Each case runs in a fresh child process that reports its peak resident set size
(``VmHWM``):

* **stream s** and **stream 4s**: streaming at ``s = --gb / 4`` and at ``--gb``.
  The issue's target: peak RSS at 4s within 20% of the peak at s;
* **in-memory s**: X and y materialised in NumPy arrays, then ``fit`` with
  ``max_iter=--passes`` (the same number of epochs over the same rows): the
  reference for held-out accuracy, and for how much memory holding X costs.

Held-out accuracy is measured on 200,000 rows drawn from the same teacher with
another seed (the same rows in every child).

How to run
----------
::

    python benchmarks/bench_out_of_core.py              # 2 GB (and 0.5 GB): ~1 min
    python benchmarks/bench_out_of_core.py --quick      # 0.4 GB: ~20 s
    python benchmarks/bench_out_of_core.py --gb 30 --skip-in-memory  # ~10 min

(``--gb 30`` without ``--skip-in-memory`` also holds 7.5 GB in RAM for the
in-memory reference.)

Needs the ``scale`` extra (``pip install "skl_softmaxnet[scale]"``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

SELF = str(Path(__file__).resolve())
N_TEST = 200_000
SEED_TRAIN, SEED_TEST, SEED_TEACHER = 0, 1, 2


# ------------------------------------------------------------------------ data


def teacher(n_features, n_classes):
    """The fixed linear teacher: weights and biases from ``SEED_TEACHER``."""
    rng = np.random.default_rng(SEED_TEACHER)
    W = rng.standard_normal((n_features, n_classes)).astype(np.float32)
    b = 0.5 * rng.standard_normal(n_classes).astype(np.float32)
    return W, b


def _teacher_labels(X_block, W, b):
    return np.argmax(X_block @ W + b, axis=1).astype(np.int64)


def lazy_data(n_rows, n_features, n_classes, chunk_rows, seed):
    """Lazily generated (X, y) dask arrays: nothing is computed here."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal(
        (n_rows, n_features), chunks=(chunk_rows, n_features), dtype=np.float32
    )
    W, b = teacher(n_features, n_classes)
    y = X.map_blocks(_teacher_labels, W, b, drop_axis=1, dtype=np.int64)
    return X, y


def n_rows_for(gb, n_features):
    return int(gb * 1e9 / (n_features * np.dtype(np.float32).itemsize))


# ------------------------------------------------------------------- streaming


def stream(inc, X, y, classes, passes, window_blocks, seed=0):
    """``passes`` passes of ``inc.partial_fit`` over X, ``window_blocks`` at a time.

    Each ``Incremental.partial_fit`` call builds one task graph over the blocks
    it is given, and dask orders a graph before running it with memory that
    grows faster than linearly in its number of tasks (measured: +140 MiB for
    one 2,344-block graph, 30 GB here). Windows of a fixed number of blocks keep
    every graph -- and so the memory -- the same size whatever the length of X.
    Windows are visited in a new random order each pass, blocks in a new random
    order within each window (``Incremental``'s ``shuffle_blocks``).
    """
    import dask

    rng = np.random.default_rng(seed)
    n_blocks = X.numblocks[0]
    starts = np.arange(0, n_blocks, window_blocks)
    with dask.config.set(scheduler="synchronous"):
        for _ in range(passes):
            for start in rng.permutation(starts):
                stop = min(start + window_blocks, n_blocks)
                window_X, window_y = X.blocks[start:stop], y.blocks[start:stop]
                inc.partial_fit(window_X, window_y, classes=classes)


# ----------------------------------------------------------------------- child


def child(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("stream", "memory"))
    p.add_argument("--gb", type=float)
    p.add_argument("--features", type=int)
    p.add_argument("--classes", type=int)
    p.add_argument("--chunk-rows", type=int)
    p.add_argument("--passes", type=int)
    p.add_argument("--window-blocks", type=int)
    p.add_argument("--hidden", type=int)
    p.add_argument("--threads", type=int)
    a = p.parse_args(argv)

    import dask
    import dask.array
    from _common import current_rss_mb, peak_rss_mb, quiet_warnings
    from dask_ml.wrappers import Incremental
    from threadpoolctl import threadpool_limits

    from skl_softmaxnet import SoftmaxNetClassifier

    quiet_warnings()
    n_rows = n_rows_for(a.gb, a.features)
    X, y = lazy_data(n_rows, a.features, a.classes, a.chunk_rows, SEED_TRAIN)
    X_test, y_test = lazy_data(N_TEST, a.features, a.classes, N_TEST, SEED_TEST)
    X_test, y_test = dask.compute(X_test, y_test, scheduler="synchronous")
    classes = np.arange(a.classes)
    est = SoftmaxNetClassifier(
        hidden_layer_sizes=(a.hidden,),
        batch_size=256,
        learning_rate_init=0.05,
        alpha=1e-4,
        max_iter=a.passes,
        n_iter_no_change=a.passes + 1,
        random_state=0,
    )
    out = {"mode": a.mode, "gb": a.gb, "rows": n_rows, "blocks": X.numblocks[0]}
    out["rss_before_mb"] = current_rss_mb()
    with threadpool_limits(limits=a.threads):
        t0 = time.perf_counter()
        if a.mode == "stream":
            inc = Incremental(est, random_state=np.random.RandomState(0))
            stream(inc, X, y, classes, a.passes, a.window_blocks)
            model = inc.estimator_
        else:
            # Fill preallocated arrays block by block: no concatenation copy.
            X_mem = np.empty(X.shape, dtype=X.dtype)
            y_mem = np.empty(y.shape, dtype=y.dtype)
            dask.array.store([X, y], [X_mem, y_mem], scheduler="synchronous")
            out["load_s"] = time.perf_counter() - t0
            model = est.fit(X_mem, y_mem)
        out["train_s"] = time.perf_counter() - t0
    # partial_fit counts one epoch per block; fit one per pass over all of X.
    calls_per_pass = X.numblocks[0] if a.mode == "stream" else 1
    out["passes"] = int(model.n_iter_) / calls_per_pass
    out["accuracy"] = float(model.score(X_test, y_test))
    out["peak_mb"] = peak_rss_mb()
    print(json.dumps(out))


# ---------------------------------------------------------------------- parent


def main(argv=None):
    from _common import blas_lines, markdown_table, run_child

    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--gb", type=float, default=2.0, help="size of X at the large size (4s)"
    )
    p.add_argument("--quick", action="store_true", help="--gb 0.4: a smoke test")
    p.add_argument("--features", type=int, default=32)
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--chunk-rows", type=int, default=100_000)
    p.add_argument("--passes", type=int, default=2)
    p.add_argument(
        "--window-blocks",
        type=int,
        default=32,
        help="blocks per Incremental.partial_fit call (default 32)",
    )
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument(
        "--skip-in-memory",
        action="store_true",
        help="skip the in-memory reference fit (it holds s = gb/4 in RAM)",
    )
    args = p.parse_args(argv)
    gb_large = 0.4 if args.quick else args.gb
    gb_small = gb_large / 4

    print("## bench_out_of_core" + (" (--quick)" if args.quick else ""))
    print()
    for line in blas_lines(args.threads):
        print(f"- {line}")
    block_mb = args.chunk_rows * args.features * 4 / 2**20
    print(
        f"- X: float32, {args.features} features, {args.classes} classes, blocks of "
        f"{args.chunk_rows} rows ({block_mb:.1f} MiB); hidden ({args.hidden},), "
        f"{args.passes} passes, {args.window_blocks} blocks per Incremental call; "
        f"held-out {N_TEST} rows"
    )
    print()

    common = [
        "--features", str(args.features), "--classes", str(args.classes),
        "--chunk-rows", str(args.chunk_rows), "--passes", str(args.passes),
        "--window-blocks", str(args.window_blocks),
        "--hidden", str(args.hidden), "--threads", str(args.threads),
    ]  # fmt: skip
    cases = [("stream s", "stream", gb_small), ("stream 4s", "stream", gb_large)]
    if not args.skip_in_memory:
        cases.append(("in-memory s", "memory", gb_small))
    results = {}
    for label, mode, gb in cases:
        print(f"running {label} ({gb:g} GB) ...", file=sys.stderr, flush=True)
        results[label] = run_child(
            SELF, ["--child", "--mode", mode, "--gb", str(gb), *common]
        )

    rows = [
        [
            label,
            f"{r['gb']:g}",
            f"{r['rows']:,}",
            r["blocks"],
            f"{r['passes']:g}",
            f"{r['train_s']:.1f}",
            f"{r['rss_before_mb']:.0f}",
            f"{r['peak_mb']:.0f}",
            f"{r['peak_mb'] - r['rss_before_mb']:.0f}",
            f"{r['accuracy']:.4f}",
        ]
        for label, r in results.items()
    ]
    header = [
        "case", "GB", "rows", "blocks", "passes", "train s",
        "RSS before MiB", "peak RSS MiB", "growth MiB", "held-out acc",
    ]  # fmt: skip
    print(markdown_table(header, rows))
    print()

    small, large = results["stream s"], results["stream 4s"]
    ratio = large["peak_mb"] / small["peak_mb"]
    verdict = "PASS" if ratio <= 1.2 else "FAIL"
    print(
        f"- peak RSS, stream 4s / stream s: {ratio:.3f} "
        f"(target <= 1.20: {verdict}); data grew {gb_large / gb_small:g}x"
    )
    if "in-memory s" in results:
        mem = results["in-memory s"]
        print(
            f"- held-out accuracy at s: streamed {small['accuracy']:.4f} vs "
            f"in-memory fit {mem['accuracy']:.4f} "
            f"(difference {small['accuracy'] - mem['accuracy']:+.4f}); "
            f"in-memory peak RSS {mem['peak_mb']:.0f} MiB"
        )
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
