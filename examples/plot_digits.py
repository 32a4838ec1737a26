"""
===============================================
Classifying hand-written digits in a pipeline
===============================================

Fit a :class:`~skl_softmaxnet.SoftmaxNetClassifier` with its default parameters
(one hidden layer of 100 ReLU units, SGD with Nesterov momentum) on scikit-learn's
bundled 8x8 digits, score it on a held-out quarter of the data and save its
training-loss curve with :class:`~skl_softmaxnet.TrainingCurveDisplay`.

Run it as a script::

    python examples/plot_digits.py --output digits_training_curve.png

The plot needs matplotlib (``pip install "skl_softmaxnet[plot]"``); without it the
script still trains and reports the accuracy.
"""

import argparse
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier

# %%
# Command-line options
# --------------------
# ``--output`` is where the PNG goes. ``parse_known_args`` keeps the script runnable
# under sphinx-gallery or a notebook, which pass their own arguments.
parser = argparse.ArgumentParser(description="Digits with SoftmaxNetClassifier.")
parser.add_argument(
    "--output",
    type=Path,
    default=Path("digits_training_curve.png"),
    help="where to save the training-curve PNG (default: %(default)s)",
)
args, _ = parser.parse_known_args()

# %%
# Data
# ----
# 1,797 images of 8x8 pixels, ten classes. A stratified split keeps the class
# proportions equal in the training and the held-out set.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.25, random_state=0
)
print(f"{X_train.shape[0]} training and {X_test.shape[0]} held-out images")

# %%
# Model
# -----
# Stochastic gradient descent works best on standardised features, so the network
# sits behind a :class:`~sklearn.preprocessing.StandardScaler` in a pipeline.
model = make_pipeline(StandardScaler(), SoftmaxNetClassifier(random_state=0))
model.fit(X_train, y_train)
accuracy = model.score(X_test, y_test)

net = model[-1]
print(f"Trained for {net.n_iter_} epochs, final training loss {net.loss_:.4f}")
print(f"Held-out accuracy: {accuracy:.3f}")

# %%
# Training curve
# --------------
# :meth:`TrainingCurveDisplay.from_estimator
# <skl_softmaxnet.TrainingCurveDisplay.from_estimator>` accepts the pipeline and
# reads the per-epoch history of its last step. A logarithmic loss axis shows both
# the steep first epochs and the slow end. There is no validation data here, so no
# epoch is singled out: the model holds the last epoch's weights, and the display
# draws no best-epoch line (:ref:`sphx_glr_auto_examples_plot_early_stopping.py`
# has one).
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
    display = TrainingCurveDisplay.from_estimator(model, ax=ax, loss_scale="log")
    fig.savefig(args.output, dpi=120)
    print(f"Training curve saved to {args.output.resolve()}")
