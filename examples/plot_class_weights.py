"""
====================================
Class weights on imbalanced data
====================================

When one class is rare, a classifier that minimises the average loss can do well
by mostly predicting the common class. ``class_weight="balanced"`` weights each
sample by ``n_samples / (n_classes * count(its class))``, so that both classes
carry the same total weight in the loss of
:class:`~skl_softmaxnet.SoftmaxNetClassifier`. This example fits the same network
with and without it on a two-feature problem where 1 sample in 20 is positive, and
compares the decision boundaries and the per-class recall.

Run it as a script::

    python examples/plot_class_weights.py --output class_weights.png
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier

# %%
# Command-line options
# --------------------
parser = argparse.ArgumentParser(description="Class weights on imbalanced data.")
parser.add_argument(
    "--output",
    type=Path,
    default=Path("class_weights.png"),
    help="where to save the figure (default: %(default)s)",
)
args, _ = parser.parse_known_args()

# %%
# Imbalanced data
# ---------------
# 2,000 points in two dimensions: 1,900 of class 0 around the origin and 100 of
# class 1 in a tighter cloud that overlaps its edge, so that no boundary separates
# the classes perfectly: where to put it is a trade-off.
rng = np.random.RandomState(0)
X = np.vstack(
    [rng.normal(0.0, 1.0, size=(1900, 2)), rng.normal(1.6, 0.6, size=(100, 2))]
)
y = np.repeat([0, 1], [1900, 100])
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.5, random_state=0
)
print(f"Training samples per class: {np.bincount(y_train)}")

# %%
# The same network, weighted and not
# ----------------------------------
# ``class_weight`` also accepts a dict such as ``{0: 1, 1: 19}``; it multiplies any
# ``sample_weight`` passed to ``fit``.
models = {}
for class_weight in [None, "balanced"]:
    model = make_pipeline(
        StandardScaler(),
        SoftmaxNetClassifier(
            hidden_layer_sizes=(16,), class_weight=class_weight, random_state=0
        ),
    )
    models[str(class_weight)] = model.fit(X_train, y_train)

print("class_weight  recall 0  recall 1  precision 1  balanced accuracy")
for name, model in models.items():
    pred = model.predict(X_test)
    recall = recall_score(y_test, pred, average=None)
    print(
        f"{name:<12} {recall[0]:>9.3f} {recall[1]:>9.3f} "
        f"{precision_score(y_test, pred):>12.3f} "
        f"{balanced_accuracy_score(y_test, pred):>18.3f}"
    )

# %%
# Decision boundaries
# -------------------
# Without weights the boundary sits tight around the rare class, and close to a
# third of its points fall on the wrong side. With balanced weights the boundary
# moves into the common class: almost every rare point is now found (the recall
# of class 1 goes up), at the price of more common points taken for rare ones (its
# precision goes down). Which trade-off is right depends on what a mistake costs;
# balanced accuracy, the mean of the two recalls, counts both classes equally.
try:
    import matplotlib.pyplot as plt
    from sklearn.inspection import DecisionBoundaryDisplay
except ImportError:
    plt = None
    print(
        "matplotlib is not installed, so the boundaries were not plotted. "
        'To get them: pip install "skl_softmaxnet[plot]"'
    )

if plt is not None:
    fig, axes = plt.subplots(
        1, 2, figsize=(10, 4.5), sharex=True, sharey=True, layout="constrained"
    )
    for ax, (name, model) in zip(axes, models.items(), strict=True):
        DecisionBoundaryDisplay.from_estimator(
            model,
            X,
            response_method="predict",
            cmap="coolwarm",
            alpha=0.25,
            ax=ax,
            grid_resolution=200,
        )
        for label, color, size in [(0, "C0", 6), (1, "C3", 14)]:
            mask = y_test == label
            ax.scatter(
                *X_test[mask].T, s=size, color=color, label=f"class {label}", zorder=2
            )
        pred = model.predict(X_test)
        ax.set_title(
            f"class_weight={name}\n"
            f"balanced accuracy {balanced_accuracy_score(y_test, pred):.3f}",
            fontsize=10,
        )
        ax.set_xlabel("feature 1")
        ax.legend(loc="lower right")
    axes[0].set_ylabel("feature 2")
    fig.savefig(args.output, dpi=120)
    print(f"Figure saved to {args.output.resolve()}")
