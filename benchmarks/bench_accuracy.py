"""Held-out accuracy with default parameters: SoftmaxNetClassifier vs MLPClassifier.

Both estimators run inside ``make_pipeline(StandardScaler(), clf)`` on the same
stratified 75/25 splits of four bundled scikit-learn data sets, 5 seeds each. Ours
uses its defaults (only ``random_state`` set); the reference is
``MLPClassifier(max_iter=500)`` with its defaults otherwise (adam, hidden (100,)).

Run::

    python benchmarks/bench_accuracy.py            # 5 seeds, prints a Markdown table
    python benchmarks/bench_accuracy.py --seeds 2  # quicker
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skl_softmaxnet import SoftmaxNetClassifier

DATASETS = {
    "digits": load_digits,
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}


def evaluate(make_clf, X, y, seeds):
    """Mean held-out accuracy and mean fit time over stratified 75/25 splits."""
    scores, times = [], []
    for seed in seeds:
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        model = make_pipeline(StandardScaler(), make_clf(seed))
        tic = time.perf_counter()
        model.fit(X_tr, y_tr)
        times.append(time.perf_counter() - tic)
        scores.append(model.score(X_te, y_te))
    return float(np.mean(scores)), float(np.mean(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    args = parser.parse_args(argv)
    seeds = range(args.seeds)
    print(f"BLAS threads: {args.threads}; seeds: {args.seeds}; split 75/25 stratified")
    print()
    print("| data set | ours: accuracy | MLP: accuracy | ours: fit s | MLP: fit s |")
    print("|---|---|---|---|---|")
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, load in DATASETS.items():
            X, y = load(return_X_y=True)
            ours = evaluate(lambda s: SoftmaxNetClassifier(random_state=s), X, y, seeds)
            ref = evaluate(
                lambda s: MLPClassifier(max_iter=500, random_state=s), X, y, seeds
            )
            print(
                f"| {name} | {ours[0]:.3f} | {ref[0]:.3f} | {ours[1]:.2f} "
                f"| {ref[1]:.2f} |"
            )


if __name__ == "__main__":
    main()
