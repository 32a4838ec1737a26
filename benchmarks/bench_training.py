"""Per-epoch training time of SoftmaxNetClassifier vs MLPClassifier vs GEMM-only.

What it measures
----------------
For each configuration, the median time of one training epoch of

* **ours**: ``SoftmaxNetClassifier``;
* **MLP**: ``MLPClassifier(solver='sgd')`` with the same hidden sizes, batch size,
  alpha, learning rate, momentum / Nesterov setting, ``shuffle=True`` and epochs;
* **GEMM**: a loop doing only the matrix multiplies of one epoch's forward and
  backward passes, with preallocated outputs and contiguous batches (no gather, no
  activation, softmax, loss or update): the floor for this BLAS.

Both estimators get ``tol=0`` and a huge ``n_iter_no_change`` so that they run every
epoch; ``n_iter_`` is checked. By default an epoch time is the wall time of
``fit(max_iter=E)`` divided by ``E`` (so ``fit``'s one-time validation and
initialisation are amortised over ``E`` epochs, for both estimators); with
``--mode partial_fit`` it is ``E`` calls of ``partial_fit`` after a warm-up call.

The three contenders are run in ``--rounds`` rounds in a rotating order after one
warm-up each; ratios ours/MLP and ours/GEMM are formed within a round and reported
as median [min-max]. The BLAS libraries, their kernels and thread counts
(threadpoolctl) are printed, with the BLAS route our training loop takes under each
thread setting (``skl_softmaxnet._threads``), and for each configuration whether
the machine was busy (CPU used by other processes and hypervisor steal, from
/proc/stat, and the load average).

Threads: ``--threads 1`` (the default) pins every BLAS and OpenMP pool to one thread
with threadpoolctl; ``--threads N`` limits them to N; ``--threads default`` sets no
limit at all, as a user who never heard of threadpoolctl runs (OpenBLAS then uses
every core, or what ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` say). A
comma-separated list (``--threads 1,default``) times every configuration under each
setting in turn and adds a table with one column group per setting.

Configurations: synthetic 60000 x 784 (10 classes, hidden (256,), batch 128) in
float64 and float32 with plain SGD, classical and Nesterov momentum; the same with
two hidden layers (256, 128); digits 1797 x 64 (hidden (100,), batch 32 and 200);
CSR at 1% density, 100000 x 10000 (hidden (64,), batch 200).

How to run
----------
::

    python benchmarks/bench_training.py              # full run, 1 BLAS thread
    python benchmarks/bench_training.py --quick      # smoke test, < 1 minute
    python benchmarks/bench_training.py --only 'synth-f64-*' --rounds 7
    python benchmarks/bench_training.py --threads 2  # let BLAS use 2 threads
    python benchmarks/bench_training.py --threads default    # no limit at all
    python benchmarks/bench_training.py --threads 1,default  # both, one table
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_training.py

The output is a markdown table that can be pasted into the README.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from _common import (
    BusyMonitor,
    blas_lines,
    common_parser,
    describe_busy,
    load_digits_data,
    make_dense,
    make_gemm_epoch,
    make_sparse,
    markdown_table,
    paired_rounds,
    quiet_warnings,
    timeit_once,
)
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

MOMENTA = {
    "sgd": {"momentum": 0.0, "nesterovs_momentum": False},
    "momentum": {"momentum": 0.9, "nesterovs_momentum": False},
    "nesterov": {"momentum": 0.9, "nesterovs_momentum": True},
}


@dataclass
class Config:
    name: str
    data: str  # key into the data cache
    hidden: tuple
    batch_size: int
    momentum: str
    epochs: int
    learning_rate_init: float = 1e-3
    # targets on median paired ratios: ours/MLP <= 1/mlp_speedup, ours/GEMM <= gemm
    mlp_speedup: float | None = None
    gemm_max: float | None = None
    notes: list = field(default_factory=list)


def build_configs(quick):
    ep_synth = 1 if quick else 2
    ep_digits = 3 if quick else 20
    ep_sparse = 1 if quick else 2
    configs = []
    for dt in ("f64", "f32"):
        for mom in ("sgd", "momentum", "nesterov"):
            plain = mom != "nesterov"
            configs.append(
                Config(
                    f"synth-{dt}-{mom}",
                    f"synth-{dt}",
                    (256,),
                    128,
                    mom,
                    ep_synth,
                    mlp_speedup=2.0 if plain else 1.6,
                    gemm_max=1.15 if plain else 1.35,
                )
            )
    configs += [
        Config(
            "synth2-f64-nesterov", "synth-f64", (256, 128), 128, "nesterov", ep_synth
        ),
        Config(
            "digits-b32", "digits", (100,), 32, "nesterov", ep_digits, mlp_speedup=3.5
        ),
        Config("digits-b200", "digits", (100,), 200, "nesterov", ep_digits),
        Config(
            "sparse-csr",
            "sparse",
            (64,),
            200,
            "nesterov",
            ep_sparse,
            learning_rate_init=1e-2,
            mlp_speedup=1.5,
        ),
    ]
    return configs


class DataCache:
    def __init__(self, quick):
        self.quick = quick
        self._cache = {}

    def sizes(self):
        if self.quick:
            return {"synth": (3000, 784), "sparse": (5000, 10000)}
        return {"synth": (60000, 784), "sparse": (100000, 10000)}

    def get(self, key):
        if key not in self._cache:
            sizes = self.sizes()
            if key == "synth-f64":
                self._cache[key] = make_dense(*sizes["synth"], 10, np.float64)
            elif key == "synth-f32":
                X, y = self.get("synth-f64")
                self._cache[key] = (X.astype(np.float32), y)
            elif key == "digits":
                self._cache[key] = load_digits_data()
            elif key == "sparse":
                self._cache[key] = make_sparse(*sizes["sparse"], 10, density=0.01)
            else:
                raise KeyError(key)
        return self._cache[key]


def estimator_pair(cfg, random_state=0):
    from skl_softmaxnet import SoftmaxNetClassifier

    common = dict(
        hidden_layer_sizes=cfg.hidden,
        alpha=1e-4,
        batch_size=cfg.batch_size,
        learning_rate="constant",
        learning_rate_init=cfg.learning_rate_init,
        max_iter=cfg.epochs,
        shuffle=True,
        random_state=random_state,
        tol=0.0,
        n_iter_no_change=10**6,
        early_stopping=False,
        **MOMENTA[cfg.momentum],
    )
    # standardize=False: the loop per epoch, as MLPClassifier's (standardising is
    # one pass over X per fit, amortised over the epochs; bench_defaults times it)
    ours = SoftmaxNetClassifier(**common, standardize=False)
    mlp = MLPClassifier(solver="sgd", activation="relu", **common)
    return ours, mlp


def epoch_timer(template, X, y, epochs, mode, issues, label):
    """Return (warm_up, measure): measure() gives seconds per epoch."""
    if mode == "fit":

        def measure():
            est = clone(template).set_params(max_iter=epochs)
            t = timeit_once(lambda: est.fit(X, y))
            if est.n_iter_ != epochs:
                issues.add(f"{label}: n_iter_={est.n_iter_} != {epochs}")
            loss = getattr(est, "loss_curve_", [0.0])
            if len(loss) and not np.isfinite(loss[-1]):
                issues.add(f"{label}: non-finite training loss")
            return t / epochs

        def warm_up():
            clone(template).set_params(max_iter=1).fit(X, y)

        return warm_up, measure

    classes = np.unique(y)
    state = {}

    def warm_up():
        est = clone(template)
        est.partial_fit(X, y, classes=classes)
        state["est"] = est

    def measure():
        est = state["est"]

        def run():
            for _ in range(epochs):
                est.partial_fit(X, y)

        return timeit_once(run) / epochs

    return warm_up, measure


def parse_threads(text):
    """``'1'``, ``'default'``, ``'1,default'`` -> ``[1]``, ``[None]``, ``[1, None]``.

    ``None`` means no threadpoolctl limit: every library keeps its own default.
    """
    settings = []
    for part in text.split(","):
        part = part.strip().lower()
        if part == "default":
            settings.append(None)
        elif part.isdigit() and int(part) > 0:
            settings.append(int(part))
        else:
            raise argparse.ArgumentTypeError(
                f"--threads takes positive integers or 'default', got {part!r}"
            )
    return settings


def threads_label(setting):
    return "default" if setting is None else str(setting)


def thread_lines(setting):
    """What a thread setting means here: the limit and our loop's BLAS route."""
    from skl_softmaxnet._threads import _numpy_openblas, scipy_blas_would_contend

    if setting is None:
        limit = "no thread limit (--threads default): each library's own default"
    else:
        limit = f"threadpoolctl limit {setting} on every BLAS and OpenMP library"
    if scipy_blas_would_contend():
        kernels = (
            "its fused gemm/axpy called directly"
            if _numpy_openblas() is not None
            else "np.matmul and NumPy arithmetic"
        )
        route = (
            f"NumPy's BLAS for every product and large weight update ({kernels}), "
            "since SciPy's own BLAS would run several threads and fight NumPy's "
            "pool; calls too small for OpenBLAS to thread stay on SciPy's kernels"
        )
    else:
        route = "fused SciPy BLAS kernels for the weight updates"
    return [limit, f"our training loop: {route}"]


def run_config(cfg, data, rounds, mode, threads, clock):
    X, y = data.get(cfg.data)
    ours, mlp = estimator_pair(cfg)
    issues = set()
    warm_ours, m_ours = epoch_timer(ours, X, y, cfg.epochs, mode, issues, "ours")
    warm_mlp, m_mlp = epoch_timer(mlp, X, y, cfg.epochs, mode, issues, "MLP")
    gemm_epoch = make_gemm_epoch(
        X, cfg.hidden, len(np.unique(y)), cfg.batch_size, dtype=X.dtype
    )

    def m_gemm():
        def run():
            for _ in range(cfg.epochs):
                gemm_epoch()

        return timeit_once(run) / cfg.epochs

    monitor = BusyMonitor(threads or os.cpu_count())
    warm_ours()
    warm_mlp()
    gemm_epoch()
    res = paired_rounds(
        {"ours": m_ours, "MLP": m_mlp, "GEMM": m_gemm}, rounds, clock=clock
    )
    busy = monitor.stop()
    return res, busy, issues


def fmt_target(cfg):
    parts = []
    if cfg.mlp_speedup:
        parts.append(f">={cfg.mlp_speedup:g}x vs MLP")
    if cfg.gemm_max:
        parts.append(f"<={cfg.gemm_max:g}x GEMM")
    return ", ".join(parts) or "-"


def target_met(cfg, r_mlp, r_gemm):
    checks = []
    if cfg.mlp_speedup:
        checks.append(r_mlp.median <= 1.0 / cfg.mlp_speedup)
    if cfg.gemm_max:
        checks.append(r_gemm.median <= cfg.gemm_max)
    if not checks:
        return "-"
    return "yes" if all(checks) else "NO"


def main(argv=None):
    p = common_parser(
        __doc__.split("\n\n")[0],
        threads_type=parse_threads,
        threads_help="BLAS/OpenMP threads: a number (threadpoolctl limit), "
        "'default' (no limit), or a comma-separated list of them; default 1",
    )
    p.add_argument(
        "--only",
        default=None,
        help="comma-separated glob patterns of configuration names",
    )
    p.add_argument(
        "--mode",
        choices=("fit", "partial_fit"),
        default="fit",
        help="time fit(max_iter=E)/E (default) or E partial_fit calls / E",
    )
    p.add_argument("--epochs", type=int, default=None, help="override epochs E")
    p.add_argument("--list", action="store_true", help="list configurations")
    args = p.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)

    configs = build_configs(args.quick)
    if args.list:
        for c in configs:
            print(c.name)
        return 0
    if args.only:
        pats = [s.strip() for s in args.only.split(",") if s.strip()]
        configs = [c for c in configs if any(fnmatch.fnmatch(c.name, q) for q in pats)]
        if not configs:
            p.error(f"--only {args.only!r} matches no configuration")
    if args.epochs:
        for c in configs:
            c.epochs = args.epochs

    quiet_warnings()
    data = DataCache(args.quick)
    settings = args.threads
    multi = len(settings) > 1
    rows, results, busy_lines, issue_lines, other_lines = [], {}, [], [], []
    other = "cpu" if args.clock == "wall" else "wall"
    print("## bench_training" + (" (--quick)" if args.quick else ""))
    print()
    for line in blas_lines():
        print(f"- {line}")
    for setting in settings:
        with threadpool_limits(limits=setting):
            info = "; ".join(
                f"{os.path.basename(i['filepath'])} num_threads={i['num_threads']}"
                for i in threadpool_info()
            )
            print(f"- --threads {threads_label(setting)}: {info}")
            for line in thread_lines(setting):
                print(f"  - {line}")
    sizes = data.sizes()
    print(
        f"- sizes: synthetic {sizes['synth'][0]}x{sizes['synth'][1]}, "
        f"sparse CSR {sizes['sparse'][0]}x{sizes['sparse'][1]} at 1%, "
        f"digits 1797x64; mode={args.mode}; rounds={rounds}; "
        f"clock={args.clock} (the {other} clock is shown below the table)"
    )
    print()
    sys.stdout.flush()
    for cfg in configs:
        for setting in settings:
            label = cfg.name + (f" @{threads_label(setting)}" if multi else "")
            t0 = time.perf_counter()
            print(f"[running {label} ...]", file=sys.stderr, flush=True)
            with threadpool_limits(limits=setting):
                res, busy, issues = run_config(
                    cfg, data, rounds, args.mode, setting, args.clock
                )
            results[cfg.name, setting] = res
            r_mlp = res.ratio("ours", "MLP")
            r_gemm = res.ratio("ours", "GEMM")
            rows.append(
                [
                    f"{cfg.name} (E={cfg.epochs})",
                    threads_label(setting),
                    f"{1e3 * res.median('ours'):.1f}",
                    f"{1e3 * res.median('MLP'):.1f}",
                    f"{1e3 * res.median('GEMM'):.1f}",
                    r_mlp.fmt(),
                    r_gemm.fmt(),
                    f"{1.0 / r_mlp.median:.2f}x",
                    fmt_target(cfg) if setting == 1 else "-",
                    target_met(cfg, r_mlp, r_gemm) if setting == 1 else "-",
                    "BUSY" if busy["busy"] else "quiet",
                ]
            )
            busy_lines.append(f"{label}: {describe_busy(busy)}")
            other_lines.append(
                f"{label}: ours/MLP {res.ratio('ours', 'MLP', other).fmt()}, "
                f"ours/GEMM {res.ratio('ours', 'GEMM', other).fmt()}, "
                f"ours {1e3 * res.median('ours', other):.1f} ms/epoch"
            )
            issue_lines += [f"{label}: {s}" for s in sorted(issues)]
            print(
                f"[{label} done in {time.perf_counter() - t0:.0f}s: "
                f"ours {1e3 * res.median('ours'):.1f} ms, "
                f"MLP {1e3 * res.median('MLP'):.1f} ms, "
                f"GEMM {1e3 * res.median('GEMM'):.1f} ms per epoch; "
                f"ours/MLP {r_mlp.fmt()}, ours/GEMM {r_gemm.fmt()}; "
                f"{describe_busy(busy)}]",
                file=sys.stderr,
                flush=True,
            )

    header = [
        "config",
        "threads",
        "ours ms/epoch",
        "MLP ms/epoch",
        "GEMM ms/epoch",
        "ours/MLP median [min-max]",
        "ours/GEMM median [min-max]",
        "speed-up vs MLP",
        "target (1 thread)",
        "met?",
        "machine",
    ]
    print(markdown_table(header, rows))
    print()
    if multi:
        print(side_by_side(configs, settings, results))
        print()

    lines = []
    for setting in settings:
        for mom in MOMENTA:
            a = results.get((f"synth-f32-{mom}", setting))
            b = results.get((f"synth-f64-{mom}", setting))
            if a and b:
                ratio = a.median("ours") / b.median("ours")
                ok = "yes" if ratio <= 0.6 else "NO"
                lines.append(
                    f"- float32/float64 epoch, {mom}, threads "
                    f"{threads_label(setting)}: ours {ratio:.2f} "
                    f"(target <= 0.6: {ok}); MLP "
                    f"{a.median('MLP') / b.median('MLP'):.2f}; GEMM "
                    f"{a.median('GEMM') / b.median('GEMM'):.2f}"
                )
    if lines:
        print("\n".join(lines))
        print()
    print(f"Same rounds, {other} clock:")
    for line in other_lines:
        print(f"- {line}")
    print()
    print("Machine load per configuration (others = CPU used by other processes):")
    for line in busy_lines:
        print(f"- {line}")
    if issue_lines:
        print()
        print("Issues:")
        for line in issue_lines:
            print(f"- {line}")
    return 0


def side_by_side(configs, settings, results):
    """One row per configuration, one column group per thread setting.

    Each group: ours and MLP ms/epoch (medians) and the median paired ratio
    ours/MLP; the last column compares ours under the last setting with ours under
    the first (a ratio of medians: the settings ran in different rounds).
    """
    header = ["config"]
    for s in settings:
        t = threads_label(s)
        header += [f"ours ms ({t})", f"MLP ms ({t})", f"ours/MLP ({t})"]
    first, last = threads_label(settings[0]), threads_label(settings[-1])
    header.append(f"ours {last} / ours {first}")
    rows = []
    for cfg in configs:
        row = [f"{cfg.name} (E={cfg.epochs})"]
        for s in settings:
            res = results[cfg.name, s]
            row += [
                f"{1e3 * res.median('ours'):.1f}",
                f"{1e3 * res.median('MLP'):.1f}",
                f"{res.ratio('ours', 'MLP').median:.2f}",
            ]
        a, b = results[cfg.name, settings[-1]], results[cfg.name, settings[0]]
        row.append(f"{a.median('ours') / b.median('ours'):.2f}")
        rows.append(row)
    return markdown_table(header, rows)


if __name__ == "__main__":
    sys.exit(main())
