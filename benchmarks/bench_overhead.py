"""What the training-control features cost per epoch.

Three contenders train the same network on the same data with the same optimizer,
alternating in rounds (median paired ratios, one BLAS thread by default):

- ``bare``: the training loop alone, ``_training.run_epoch`` over shuffled batches
  with a preallocated workspace: no estimator, no stopping monitor, no history;
- ``off``: ``SoftmaxNetClassifier.fit`` with the features off (the defaults: no
  validation data, no class weights, constant rate, verbose 0, no callbacks);
- ``on``: the same fit with validation data scored every epoch, ``class_weight=
  'balanced'``, the cosine schedule and best-weight restoring.

``off / bare`` is the price of the estimator's machinery when the features are off
(the target is ~1.0); ``on / bare`` shows what turning them on costs.

Run::

    python benchmarks/bench_overhead.py            # synthetic 60000 x 784 and digits
    python benchmarks/bench_overhead.py --quick    # small, a few seconds
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from skl_softmaxnet import SoftmaxNetClassifier
from skl_softmaxnet._math import init_params
from skl_softmaxnet._optim import SGD
from skl_softmaxnet._training import Workspace, iter_minibatches, run_epoch


def _params(cfg):
    """The estimator's settings for a config: the bare loop's (alpha 0.1, a
    constant rate, Nesterov 0.9), no standardisation, no validation split."""
    return dict(
        hidden_layer_sizes=cfg["hidden"],
        batch_size=cfg["batch"],
        max_iter=cfg["epochs"],
        learning_rate_init=0.01,
        learning_rate="constant",
        alpha=0.1,
        tol=0.0,
        n_iter_no_change=10**6,
        early_stopping=False,
        standardize=False,
        random_state=0,
    )


def time_bare(cfg, X, y):
    rng = np.random.RandomState(0)
    sizes = [X.shape[1], *cfg["hidden"], int(y.max()) + 1]
    params = init_params(sizes, rng, X.dtype)
    opt = SGD(0.9, True)
    ws = Workspace(X, sizes, cfg["batch"], X.dtype)
    tic = time.perf_counter()
    for _ in range(cfg["epochs"]):
        batches = iter_minibatches(X.shape[0], cfg["batch"], rng)
        run_epoch(params, opt, X, y, None, batches, ws, 0.1, 0.01)
    return (time.perf_counter() - tic) / cfg["epochs"]


def time_fit(cfg, X, y, features_on):
    params = _params(cfg)
    fit_kwargs = {}
    if features_on:
        n_val = X.shape[0] // 10
        params.update(
            class_weight="balanced", learning_rate="cosine", restore_best_weights=True
        )
        fit_kwargs = dict(X_val=X[:n_val], y_val=y[:n_val])
    clf = SoftmaxNetClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tic = time.perf_counter()
        clf.fit(X, y, **fit_kwargs)
    return (time.perf_counter() - tic) / clf.n_iter_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    rng = np.random.RandomState(0)
    n = 6000 if args.quick else 60000
    synth = (rng.normal(size=(n, 784)), rng.randint(10, size=n))
    Xd, yd = load_digits(return_X_y=True)
    configs = {
        "synthetic 60000x784, (256,), batch 128": (
            dict(hidden=(256,), batch=128, epochs=1 if args.quick else 2),
            synth,
        ),
        "digits, (100,), batch 32": (
            dict(hidden=(100,), batch=32, epochs=60),
            (StandardScaler().fit_transform(Xd), yd),
        ),
    }
    rounds = 2 if args.quick else args.rounds
    with threadpool_limits(args.threads):
        blas = [
            f"{i['internal_api']} {i.get('version')} threads={i['num_threads']}"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        ]
        print(f"BLAS: {'; '.join(blas)}; rounds: {rounds}")
        print()
        print(
            "| config | bare ms/epoch | off ms/epoch | on ms/epoch "
            "| off/bare median [min-max] | on/bare median [min-max] |"
        )
        print("|---|---|---|---|---|---|")
        for name, (cfg, (X, y)) in configs.items():
            times = {"bare": [], "off": [], "on": []}
            time_bare(cfg, X, y)  # warm-up
            for r in range(rounds):
                order = ["bare", "off", "on"]
                order = order[r % 3 :] + order[: r % 3]
                for who in order:
                    if who == "bare":
                        times[who].append(time_bare(cfg, X, y))
                    else:
                        times[who].append(time_fit(cfg, X, y, who == "on"))
            t = {k: np.array(v) for k, v in times.items()}
            off, on = t["off"] / t["bare"], t["on"] / t["bare"]
            print(
                f"| {name} | {1e3 * np.median(t['bare']):.1f} "
                f"| {1e3 * np.median(t['off']):.1f} | {1e3 * np.median(t['on']):.1f} "
                f"| {np.median(off):.3f} [{off.min():.3f}-{off.max():.3f}] "
                f"| {np.median(on):.3f} [{on.min():.3f}-{on.max():.3f}] |"
            )


if __name__ == "__main__":
    main()
