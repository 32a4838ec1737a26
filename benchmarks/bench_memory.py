"""Peak memory of ``fit``: does SoftmaxNetClassifier copy (or densify) X?

What it measures
----------------
Each case runs in a fresh child process that imports numpy, scikit-learn,
``sklearn.neural_network`` and ``skl_softmaxnet``, loads X and y from ``.npy`` /
``.npz`` files, and reports its peak resident set size
(``VmHWM``, i.e. what ``ru_maxrss`` reports, minus the value Linux carries
over from the parent across fork+exec):

* **baseline**: imports + X and y loaded, nothing else;
* **ours** / **MLP**: the same, then ``fit`` for one epoch (hidden (256,) dense,
  (64,) sparse; batch 128 / 200).

The ratio fit peak / baseline peak should be at most 1.10 for ours (the issue's
target: ``fit`` never copies X; a copy of a 60000 x 784 float64 X would add ~360 MiB
to a ~500 MiB baseline). Cases: dense 60000 x 784 float64 and float32, and CSR
100000 x 10000 at 1% density (densifying it would need ~7.5 GiB). MLPClassifier is
shown for reference. The predict-time memory lives in ``bench_predict.py``.

How to run
----------
::

    python benchmarks/bench_memory.py            # ~1 minute
    python benchmarks/bench_memory.py --quick    # small sizes, smoke test

(``/usr/bin/time -v python ...`` reports the same "Maximum resident set size".)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SELF = str(Path(__file__).resolve())


# ----------------------------------------------------------------------- child


def child(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=("baseline", "ours", "mlp"))
    p.add_argument("--data")
    p.add_argument("--hidden", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)

    import warnings

    import scipy.sparse as sp
    import sklearn  # noqa: F401
    from _common import current_rss_mb, peak_rss_mb
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    from skl_softmaxnet import SoftmaxNetClassifier

    warnings.simplefilter("ignore", ConvergenceWarning)
    data = Path(a.data)
    if (data / "X.npz").exists():
        X = sp.load_npz(data / "X.npz").tocsr()
        x_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    else:
        X = np.load(data / "X.npy")
        x_mb = X.nbytes / 2**20
    y = np.load(data / "y.npy")
    out = {"x_mb": x_mb, "rss_loaded_mb": current_rss_mb()}
    if a.kind != "baseline":
        params = dict(
            hidden_layer_sizes=(a.hidden,),
            batch_size=a.batch,
            max_iter=1,
            learning_rate_init=1e-3,
            random_state=0,
        )
        if a.kind == "ours":
            # the training path's memory: standardize=True (the default) adds one
            # standardised copy of X, early_stopping='auto' a copy of its tenth
            est = SoftmaxNetClassifier(
                **params, standardize=False, early_stopping=False
            )
        else:
            est = MLPClassifier(solver="sgd", **params)
        with threadpool_limits(limits=a.threads):
            t0 = time.perf_counter()
            est.fit(X, y)
            out["fit_s"] = time.perf_counter() - t0
        out["n_iter"] = int(est.n_iter_)
    out["peak_mb"] = peak_rss_mb()
    print(json.dumps(out))


# ---------------------------------------------------------------------- parent


def main(argv=None):
    from _common import (
        blas_lines,
        common_parser,
        make_dense,
        make_sparse,
        markdown_table,
        run_child,
    )

    p = common_parser(__doc__.split("\n\n")[0])
    args = p.parse_args(argv)
    if args.quick:
        dense_n, sparse_shape = 6000, (10000, 10000)
    else:
        dense_n, sparse_shape = 60000, (100000, 10000)

    print("## bench_memory" + (" (--quick)" if args.quick else ""))
    print()
    for line in blas_lines(args.threads):
        print(f"- {line}")
    print()

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_memory_") as tmp:
        cases = []
        X, y = make_dense(dense_n, 784, 10, np.float64)
        for dt in (np.float64, np.float32):
            d = Path(tmp) / f"dense_{np.dtype(dt).name}"
            d.mkdir()
            np.save(d / "X.npy", X.astype(dt, copy=False))
            np.save(d / "y.npy", y)
            cases.append((f"dense {dense_n}x784 {np.dtype(dt).name}", d, 256, 128))
        del X, y
        import scipy.sparse as sp

        Xs, ys = make_sparse(*sparse_shape, 10, density=0.01)
        d = Path(tmp) / "csr"
        d.mkdir()
        sp.save_npz(d / "X.npz", Xs, compressed=False)
        np.save(d / "y.npy", ys)
        dense_equiv_mb = sparse_shape[0] * sparse_shape[1] * 8 / 2**20
        cases.append((f"CSR {sparse_shape[0]}x{sparse_shape[1]} 1%", d, 64, 200))
        del Xs, ys

        for label, d, hidden, batch in cases:
            common = [
                "--data",
                str(d),
                "--hidden",
                str(hidden),
                "--batch",
                str(batch),
                "--threads",
                str(args.threads),
            ]
            print(f"[running {label} ...]", file=sys.stderr, flush=True)
            base = run_child(SELF, ["--child", "--kind", "baseline", *common])
            for kind in ("ours", "mlp"):
                r = run_child(SELF, ["--child", "--kind", kind, *common])
                ratio = r["peak_mb"] / base["peak_mb"]
                extra = r["peak_mb"] - base["peak_mb"]
                if kind == "ours":
                    target = "<= 1.10"
                    met = "yes" if ratio <= 1.10 else "NO"
                    if label.startswith("CSR"):
                        target += f" (dense X = {dense_equiv_mb:.0f} MiB)"
                else:
                    target, met = "(reference)", "-"
                rows.append(
                    [
                        label,
                        "ours" if kind == "ours" else "MLP",
                        f"{r['x_mb']:.0f}",
                        f"{base['peak_mb']:.0f}",
                        f"{r['peak_mb']:.0f}",
                        f"{extra:+.0f}",
                        f"{ratio:.3f}",
                        target,
                        met,
                    ]
                )

    header = [
        "data",
        "estimator",
        "X MiB",
        "baseline peak MiB",
        "fit peak MiB",
        "extra MiB",
        "fit/baseline",
        "target",
        "met?",
    ]
    print(markdown_table(header, rows))
    print()
    print(
        "baseline = fresh process with numpy, scikit-learn, skl_softmaxnet imported "
        "and X, y loaded; fit = the same plus one epoch of fit. "
        "Peak = VmHWM (ru_maxrss)."
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
