"""
==============================
Checking the gradients
==============================

Backpropagation is easy to get almost right. :func:`~skl_softmaxnet.check_gradients`
compares the analytic gradients that train a
:class:`~skl_softmaxnet.SoftmaxNetClassifier` with numerical ones, computed by
central differences of the loss on every weight and bias
(:func:`~skl_softmaxnet.numerical_gradients`). This example checks a fitted model,
shows how the agreement depends on the finite-difference step, and what a wrong
gradient looks like to the checker.

Run it as a script::

    python examples/plot_gradient_check.py --output gradient_check.png
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier, check_gradients, numerical_gradients

# %%
# Command-line options
# --------------------
parser = argparse.ArgumentParser(description="Gradient checks.")
parser.add_argument(
    "--output",
    type=Path,
    default=Path("gradient_check.png"),
    help="where to save the figure (default: %(default)s)",
)
args, _ = parser.parse_known_args()

# %%
# Checking a fitted model
# -----------------------
# The checker works on a list of ``(W, b)`` layers, the data and the class
# *indices* (positions in ``classes_``), with the model's ``alpha_`` (the value
# ``alpha='auto'`` took): it checks the gradient of the exact objective the model
# was trained on. Any weights work; a
# fitted model's are a realistic case, with some ReLU units switched off.
X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)
clf = SoftmaxNetClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X, y)

params = list(zip(clf.coefs_, clf.intercepts_, strict=True))
y_indices = np.searchsorted(clf.classes_, y)
result = check_gradients(params, X, y_indices, alpha=clf.alpha_)
for layer, (err_W, err_b) in enumerate(result.max_rel_error, start=1):
    print(f"layer {layer}: max relative error  W {err_W:.1e}   b {err_b:.1e}")
print(f"worst: {result.worst:.1e} (a correct gradient gives 1e-8 or better)")

# %%
# The relative error of each entry is ``|a - n| / max(|a| + |n|, floor)`` for an
# analytic value ``a`` and a numerical one ``n``: 0 when they agree, 1 when they
# have opposite signs. :doc:`/maths` (section 9) derives the five-point stencil the
# checker uses and explains the floor.
#
# How the step matters
# --------------------
# The stencil's truncation error shrinks like ``eps**4``, while floating-point
# rounding grows like ``1e-16 / eps``: the error is smallest at a medium step, and
# the default ``eps=1e-4`` sits there. Large steps have a second problem: a step
# that switches a ReLU unit on or off crosses a kink of the loss. The checker then
# falls back to a one-sided difference on the side that keeps every unit as it is
# (``n_one_sided`` counts these entries), and when both sides cross a kink it
# reports NaN, which fails any check: no point is plotted for those steps.
steps = np.logspace(-1, -9, 17)
worst, one_sided = np.empty(len(steps)), []
for i, eps in enumerate(steps):
    r = check_gradients(params, X, y_indices, alpha=clf.alpha_, eps=eps)
    worst[i] = r.worst
    one_sided.append(r.n_one_sided)
    print(f"eps={eps:.0e}  worst={r.worst:.1e}  one-sided entries={r.n_one_sided}")

# %%
# What a bug looks like
# ---------------------
# A classic mistake, made by the student code this package started from: forgetting
# to divide the summed gradient by the number of samples. The analytic gradient is
# then 150 times too large; every entry's relative error becomes
# ``(150 - 1) / (150 + 1) = 0.987``, far above the ``1e-6`` a test would accept.
numerical, _ = numerical_gradients(params, X, y_indices, alpha=clf.alpha_)
n = X.shape[0]
wrong = [(n * gW, n * gb) for gW, gb in result.analytic]
errors = [
    np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-5))
    for wrong_layer, num_layer in zip(wrong, numerical, strict=True)
    for a, b in zip(wrong_layer, num_layer, strict=True)
]
print(f"gradient not divided by n: worst relative error {max(errors):.3f}")

# %%
# The plot
# --------
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print(
        "matplotlib is not installed, so the errors were not plotted. "
        'To get them: pip install "skl_softmaxnet[plot]"'
    )

if plt is not None:
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    ax.loglog(steps, worst, marker="o", label="worst relative error")
    ax.axvline(1e-4, color="0.3", linestyle="--", linewidth=1, label="default eps")
    ax.axhline(1e-6, color="C3", linestyle=":", linewidth=1, label="test threshold")
    for eps, err, k in zip(steps, worst, one_sided, strict=True):
        if k and np.isfinite(err):
            ax.annotate(
                f"{k} one-sided",
                (eps, err),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=8,
            )
    failed = ~np.isfinite(worst)
    if failed.any():
        ax.axvspan(
            steps[failed].min(),
            steps[failed].max(),
            color="0.85",
            label="NaN: kinks on both sides",
        )
    ax.set_xlim(steps.max() * 1.5, steps.min() / 1.5)  # large steps on the left
    ax.set_xlabel("finite-difference step eps")
    ax.set_ylabel("max relative error over all weights")
    ax.set_title("Analytic vs numerical gradients (iris, one hidden layer of 8)")
    ax.legend(loc="upper left")
    fig.savefig(args.output, dpi=120)
    print(f"Figure saved to {args.output.resolve()}")
