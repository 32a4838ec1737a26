"""
=============================================
Early stopping and restoring the best epoch
=============================================

A network far too large for its training set learns it by heart: the training loss
keeps falling towards zero while the loss on unseen data turns and climbs. With
``early_stopping=True`` a :class:`~skl_softmaxnet.SoftmaxNetClassifier` watches a
validation set, stops once the validation score has not improved for
``n_iter_no_change`` epochs and, with ``restore_best_weights=True`` (the default),
ends with the weights of its best epoch rather than its last.

:class:`~skl_softmaxnet.TrainingCurveDisplay` draws both losses and marks the
restored epoch. Run it as a script::

    python examples/plot_early_stopping.py --output early_stopping.png
"""

import argparse
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skl_softmaxnet import SoftmaxNetClassifier

# %%
# Command-line options
# --------------------
parser = argparse.ArgumentParser(description="Early stopping on digits.")
parser.add_argument(
    "--output",
    type=Path,
    default=Path("early_stopping.png"),
    help="where to save the training-curve PNG (default: %(default)s)",
)
args, _ = parser.parse_known_args()

# %%
# Data: a small training set
# --------------------------
# 150 digits to train on (about 15 per class), 300 to validate on, and the remaining
# 1,347 kept aside to measure the final model. The scaler is fitted on the training
# part only.
X, y = load_digits(return_X_y=True)
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, train_size=150, stratify=y, random_state=0
)
X_val, X_test, y_val, y_test = train_test_split(
    X_rest, y_rest, train_size=300, stratify=y_rest, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (scaler.transform(a) for a in (X_train, X_val, X_test))

# %%
# An over-sized network
# ---------------------
# Two hidden layers of 512 units (about 300,000 weights for 150 images), no L2
# penalty (``alpha=0``) and large full-batch steps (``batch_size=150``). Early
# stopping monitors the validation log-loss (``scoring="loss"``, the default) on
# ``X_val``; ``n_iter_no_change=30`` lets it run long enough past the best epoch
# for the turn to be visible.
#
# On a machine with few cores, extra BLAS threads mostly wait for each other on
# matrices this size, so the fit runs on one.
net = SoftmaxNetClassifier(
    hidden_layer_sizes=(512, 512),
    alpha=0.0,
    batch_size=150,
    learning_rate_init=0.2,
    max_iter=300,
    early_stopping=True,
    n_iter_no_change=30,
    random_state=0,
)
with threadpool_limits(limits=1):
    net.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    accuracy = net.score(X_test, y_test)

best = net.history_[net.best_epoch_ - 1]
print(f"Stopped after {net.n_iter_} epochs.")
print(
    f"Best epoch: {net.best_epoch_} (validation loss {best['val_loss']:.3f}, "
    f"training loss {best['train_loss']:.4f}); its weights were restored."
)
print(
    f"Last epoch: validation loss {net.validation_loss_curve_[-1]:.3f}, "
    f"training loss {net.loss_curve_[-1]:.5f}."
)
print(f"Held-out accuracy: {accuracy:.3f}")

# %%
# The training curve
# ------------------
# The training loss falls by four orders of magnitude while the validation loss
# bottoms out within a few epochs and then climbs: the network grows over-confident
# on the validation digits it gets wrong. The dashed line marks the restored epoch.
#
# With ``scoring="loss"`` the validation score is minus the validation loss, so a
# score axis would only mirror the orange curve; it is switched off here. With
# ``SoftmaxNetClassifier(scoring="accuracy")`` early stopping watches the accuracy
# instead, and the display draws it on a second y-axis.
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print(
        "matplotlib is not installed, so the training curve was not plotted. "
        'To get it: pip install "skl_softmaxnet[plot]"'
    )

if plt is not None:
    from skl_softmaxnet import TrainingCurveDisplay

    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    display = TrainingCurveDisplay.from_estimator(
        net,
        ax=ax,
        show_validation_score=False,
        loss_scale="log",
        title="Over-sized network on 150 digits: early stopping",
    )
    fig.savefig(args.output, dpi=120)
    print(f"Training curve saved to {args.output.resolve()}")
