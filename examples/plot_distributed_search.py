"""
=============================================
Distributed hyperparameter search with Dask
=============================================

scikit-learn's searches run their fits through joblib, and joblib has a Dask
backend: inside ``joblib.parallel_config(backend="dask")`` every fit of a
:class:`~sklearn.model_selection.GridSearchCV` becomes a task on a
`dask.distributed <https://distributed.dask.org>`_ cluster. Nothing else
changes: the same pipeline, the same grid, and the same ``cv_results_`` as a
sequential run.

By default the script starts a :class:`~distributed.LocalCluster` of worker
processes on this machine. To use a cluster of several machines, start a
scheduler and workers there (every worker needs ``skl_softmaxnet`` installed,
the same version as here) and pass the scheduler's address::

    # on the scheduler machine
    dask scheduler                                  # listens on tcp://HOST:8786
    # on each worker machine
    pip install "skl_softmaxnet[distributed]"
    dask worker tcp://HOST:8786 --nworkers 4 --nthreads 1

    # here
    python examples/plot_distributed_search.py --scheduler tcp://HOST:8786

Needs the ``distributed`` extra: ``pip install "skl_softmaxnet[distributed]"``.
"""

import argparse
import time
import warnings
from pathlib import Path

import joblib
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier

# %%
# Command-line options
# --------------------
parser = argparse.ArgumentParser(description="Grid search on a Dask cluster.")
parser.add_argument(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
    "(default: start a LocalCluster on this machine)",
)
parser.add_argument(
    "--n-workers",
    type=int,
    default=2,
    help="worker processes of the LocalCluster (default: %(default)s)",
)
parser.add_argument(
    "--output",
    type=Path,
    default=Path("distributed_search.png"),
    help="where to save the bar plot of scores (default: %(default)s)",
)
args, _ = parser.parse_known_args()

# %%
# The search
# ----------
# A scaler and a network in a pipeline, three architectures times three L2
# penalties, 3-fold stratified cross-validation on the digits: 27 fits plus the
# refit of the best candidate. Each fit is short (``max_iter=30``), so a
# ``ConvergenceWarning`` is expected and silenced.
X, y = load_digits(return_X_y=True)
pipe = make_pipeline(
    StandardScaler(), SoftmaxNetClassifier(max_iter=30, random_state=0)
)
param_grid = {
    "softmaxnetclassifier__hidden_layer_sizes": [(32,), (128,), (64, 32)],
    "softmaxnetclassifier__alpha": [1e-4, 1e-2, 1e-1],
}
search = GridSearchCV(
    pipe, param_grid, cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
)


# %%
# Running it on the cluster
# -------------------------
# ``Client`` connects to the scheduler and becomes the default client, which is
# the one joblib's ``"dask"`` backend sends the fits to. A ``LocalCluster`` with
# worker *processes* starts new Python interpreters that import this script's
# module, so the cluster is started under ``if __name__ == "__main__"``.
def run_search(client):
    """Fit ``search`` with every fit running as a task on ``client``'s cluster."""
    workers = client.scheduler_info()["workers"]
    n_threads = sum(w["nthreads"] for w in workers.values())
    print(f"Cluster: {len(workers)} workers, {n_threads} threads")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with joblib.parallel_config(backend="dask"):
            search.fit(X, y)
    print(
        f"Search of {len(search.cv_results_['params'])} candidates x 3 folds "
        f"took {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    from distributed import Client, LocalCluster

    if args.scheduler is None:
        with (
            LocalCluster(
                n_workers=args.n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            run_search(client)
    else:
        with Client(args.scheduler) as client:
            run_search(client)

# %%
# Results
# -------
# The table lists every candidate, best first; ``best_params_`` and the refitted
# ``best_estimator_`` are ready to use, exactly as after a sequential search.
if __name__ == "__main__":
    results = search.cv_results_
    order = results["rank_test_score"].argsort()
    print()
    print(f"{'rank':>4}  {'hidden':<10} {'alpha':>7}  {'accuracy':>15}")
    for i in order:
        params = results["params"][i]
        print(
            f"{results['rank_test_score'][i]:>4}  "
            f"{str(params['softmaxnetclassifier__hidden_layer_sizes']):<10} "
            f"{params['softmaxnetclassifier__alpha']:>7g}  "
            f"{results['mean_test_score'][i]:.3f} "
            f"+/- {results['std_test_score'][i]:.3f}"
        )
    print()
    print(f"Best parameters: {search.best_params_}")
    print(f"Best cross-validated accuracy: {search.best_score_:.3f}")

# %%
# A bar per candidate
# -------------------
# Mean cross-validated accuracy with one standard deviation over the folds.
if __name__ == "__main__":
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
        print(
            "matplotlib is not installed, so the scores were not plotted. "
            'To get them: pip install "skl_softmaxnet[plot]"'
        )
    if plt is not None:
        labels = [
            f"{p['softmaxnetclassifier__hidden_layer_sizes']}\n"
            f"alpha={p['softmaxnetclassifier__alpha']:g}"
            for p in results["params"]
        ]
        fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
        ax.bar(
            range(len(labels)),
            results["mean_test_score"],
            yerr=results["std_test_score"],
            color=["C1" if r == 1 else "C0" for r in results["rank_test_score"]],
        )
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        low = (results["mean_test_score"] - results["std_test_score"]).min()
        ax.set_ylim(max(0.0, low - 0.02), 1.0)
        ax.set_ylabel("mean CV accuracy")
        ax.set_title("GridSearchCV on a Dask cluster (best in orange)")
        fig.savefig(args.output, dpi=120)
        print(f"Bar plot saved to {args.output.resolve()}")
