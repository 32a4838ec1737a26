"""
=========================================================
Tuning with GridSearchCV and reading ``cv_results_``
=========================================================

:class:`~skl_softmaxnet.SoftmaxNetClassifier` is a scikit-learn estimator, so
:class:`~sklearn.model_selection.GridSearchCV` tunes it like any other, with the
parameter names of :class:`~sklearn.neural_network.MLPClassifier`. This example
searches the width of the hidden layer and the L2 penalty ``alpha`` on the digits,
then reads the search's ``cv_results_`` as a table and as a plot.

Run it as a script::

    python examples/plot_grid_search.py --output grid_search.png
"""

import argparse
import warnings
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skl_softmaxnet import SoftmaxNetClassifier

# %%
# Command-line options
# --------------------
parser = argparse.ArgumentParser(description="GridSearchCV on digits.")
parser.add_argument(
    "--output",
    type=Path,
    default=Path("grid_search.png"),
    help="where to save the figure (default: %(default)s)",
)
args, _ = parser.parse_known_args()

# %%
# The search
# ----------
# The scaler and the network form one pipeline, so each cross-validation fold fits
# the scaler on its own training part. Parameters of a pipeline step are named
# ``<step>__<parameter>``. Two widths times five penalties, 3-fold stratified
# cross-validation: 30 fits, then one refit of the best candidate on all the
# training data. ``max_iter=40`` keeps each fit short, so the ``ConvergenceWarning``
# some fits raise is silenced.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.25, random_state=0
)
pipe = make_pipeline(
    StandardScaler(), SoftmaxNetClassifier(max_iter=40, random_state=0)
)
param_grid = {
    "softmaxnetclassifier__hidden_layer_sizes": [(16,), (128,)],
    "softmaxnetclassifier__alpha": [1e-4, 1e-3, 1e-2, 1e-1, 1.0],
}
search = GridSearchCV(
    pipe,
    param_grid,
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
    return_train_score=True,
)
with threadpool_limits(limits=1), warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)

print(f"Best parameters: {search.best_params_}")
print(f"Best mean CV accuracy: {search.best_score_:.3f}")
test_accuracy = search.score(X_test, y_test)
print(f"Held-out accuracy of the refitted best model: {test_accuracy:.3f}")

# %%
# Reading ``cv_results_``
# -----------------------
# ``cv_results_`` is a dict of equal-length arrays, one entry per candidate, so it
# makes a :class:`pandas.DataFrame` directly. The ``param_*`` columns hold the
# candidates' parameters; ``mean_test_score`` and ``std_test_score`` summarise the
# folds' validation accuracy, ``rank_test_score`` orders them (1 is best), and
# ``mean_fit_time`` is the mean time of one fit in seconds.
results = pd.DataFrame(search.cv_results_)
results = results.rename(
    columns={
        "param_softmaxnetclassifier__hidden_layer_sizes": "hidden",
        "param_softmaxnetclassifier__alpha": "alpha",
    }
)
columns = ["hidden", "alpha", "mean_test_score", "std_test_score"]
columns += ["mean_train_score", "mean_fit_time", "rank_test_score"]
table = results[columns].sort_values("rank_test_score")
print(
    table.to_string(
        index=False, float_format="{:.3f}".format, formatters={"alpha": "{:g}".format}
    )
)

# %%
# Validation accuracy against the penalty
# ---------------------------------------
# One line per width, with one standard deviation over the folds; the dotted lines
# are the training folds' accuracy. A large ``alpha`` shrinks the weights until
# both networks underfit (training and validation accuracy fall together). Below
# that, both networks fit their training folds almost perfectly, the validation
# scores differ by about a fold's standard deviation, and the wider network is the
# more accurate one. With ``refit=True`` (the default) ``best_estimator_`` is the
# best candidate refitted on all the training data.
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print(
        "matplotlib is not installed, so the scores were not plotted. "
        'To get them: pip install "skl_softmaxnet[plot]"'
    )

if plt is not None:
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for i, (hidden, part) in enumerate(results.groupby("hidden", sort=False)):
        part = part.sort_values("alpha")
        ax.errorbar(
            part["alpha"].astype(float),
            part["mean_test_score"],
            yerr=part["std_test_score"],
            marker="o",
            capsize=3,
            color=f"C{i}",
            label=f"hidden {hidden}: validation",
        )
        ax.plot(
            part["alpha"].astype(float),
            part["mean_train_score"],
            linestyle=":",
            color=f"C{i}",
            label=f"hidden {hidden}: training",
        )
    ax.set_xscale("log")
    ax.set_xlabel("alpha (L2 penalty)")
    ax.set_ylabel("mean accuracy over 3 folds")
    ax.set_title("GridSearchCV over width and alpha")
    ax.legend()
    fig.savefig(args.output, dpi=120)
    print(f"Figure saved to {args.output.resolve()}")
