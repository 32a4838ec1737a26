"""Tests for skl_softmaxnet._plot (TrainingCurveDisplay)."""

import importlib.util
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier, TrainingCurveDisplay, _plot

# the plot extra is optional: without matplotlib this module skips
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _fit(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def clf_train_only(iris):
    return _fit(SoftmaxNetClassifier(max_iter=15, random_state=0), *iris)


@pytest.fixture(scope="module")
def clf_early(iris):
    # a large step on a wide net: the validation loss turns up within 30 epochs
    est = SoftmaxNetClassifier(
        hidden_layer_sizes=(50, 50),
        alpha=0.0,
        learning_rate_init=0.3,
        max_iter=30,
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
    )
    return _fit(est, *iris)


@pytest.fixture(scope="module")
def clf_accuracy(iris):
    X, y = iris
    est = SoftmaxNetClassifier(max_iter=10, scoring="accuracy", random_state=0)
    return _fit(est, X[::2], y[::2], X_val=X[1::2], y_val=y[1::2])


def _legend_labels(display):
    return [t.get_text() for t in display.legend_.get_texts()]


def test_module_import_does_not_import_matplotlib(monkeypatch):
    # Execute a fresh copy of the module with matplotlib unavailable: a top-level
    # matplotlib import would fail here.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    spec = importlib.util.spec_from_file_location("_plot_copy", _plot.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert hasattr(module, "TrainingCurveDisplay")


def test_constructor_only_stores(clf_early):
    disp = TrainingCurveDisplay(history=clf_early.history_, best_epoch=3)
    assert disp.history is clf_early.history_
    assert disp.best_epoch == 3
    assert disp.scoring is None and disp.estimator_name is None
    assert not hasattr(disp, "ax_")


def test_training_loss_only(clf_train_only):
    clf = clf_train_only
    disp = TrainingCurveDisplay.from_estimator(clf)

    assert set(disp.lines_) == {"train_loss"}
    line = disp.lines_["train_loss"]
    assert_array_equal(line.get_xdata(), np.arange(1, clf.n_iter_ + 1))
    assert_allclose(line.get_ydata(), clf.loss_curve_)
    assert line.get_label() == "training loss"

    assert disp.score_ax_ is None
    assert disp.figure_.axes == [disp.ax_]
    assert disp.ax_.get_xlabel() == "epoch"
    assert disp.ax_.get_ylabel() == "log-loss"
    assert "SoftmaxNetClassifier" in disp.ax_.get_title()
    assert disp.ax_.get_legend() is disp.legend_
    # no validation data, so no epoch was chosen: no best-epoch marker
    assert _legend_labels(disp) == ["training loss"]


def test_with_validation(clf_early):
    clf = clf_early
    disp = TrainingCurveDisplay.from_estimator(clf)
    epochs = np.arange(1, clf.n_iter_ + 1)

    assert set(disp.lines_) == {"train_loss", "val_loss", "val_score"}
    assert_allclose(disp.lines_["train_loss"].get_ydata(), clf.loss_curve_)
    assert_array_equal(disp.lines_["val_loss"].get_xdata(), epochs)
    assert_allclose(disp.lines_["val_loss"].get_ydata(), clf.validation_loss_curve_)

    # the score lives on a twin y-axis sharing the epoch axis
    score_ax = disp.score_ax_
    assert score_ax is not None and score_ax is not disp.ax_
    assert disp.lines_["val_score"].axes is score_ax
    assert disp.lines_["val_loss"].axes is disp.ax_
    assert score_ax.get_shared_x_axes().joined(disp.ax_, score_ax)
    assert len(disp.figure_.axes) == 2
    assert_array_equal(disp.lines_["val_score"].get_xdata(), epochs)
    assert_allclose(disp.lines_["val_score"].get_ydata(), clf.validation_scores_)
    assert score_ax.get_ylabel() == "validation negative log-loss"

    assert _legend_labels(disp) == [
        "training loss",
        "validation loss",
        "validation score (negative log-loss)",
        f"best epoch ({clf.best_epoch_})",
    ]


def test_best_epoch_marker(clf_early):
    clf = clf_early
    # early stopping ran past the best epoch and restored it
    assert 1 <= clf.best_epoch_ < clf.n_iter_
    disp = TrainingCurveDisplay.from_estimator(clf)
    marker = disp.best_epoch_line_
    assert marker.axes is disp.ax_
    assert_array_equal(marker.get_xdata(), [clf.best_epoch_, clf.best_epoch_])
    assert marker.get_linestyle() == "--"
    # the marked epoch is the one with the best validation score
    assert clf.validation_scores_[clf.best_epoch_ - 1] == pytest.approx(
        clf.best_validation_score_
    )

    hidden = TrainingCurveDisplay.from_estimator(clf, show_best_epoch=False)
    assert hidden.best_epoch_line_ is None
    assert not any(lbl.startswith("best epoch") for lbl in _legend_labels(hidden))


def test_scoring_names_score_axis(clf_accuracy):
    clf = clf_accuracy
    disp = TrainingCurveDisplay.from_estimator(clf)
    assert disp.score_ax_.get_ylabel() == "validation accuracy"
    assert disp.lines_["val_score"].get_label() == "validation score (accuracy)"
    scores = disp.lines_["val_score"].get_ydata()
    assert_allclose(scores, clf.validation_scores_)
    assert np.all((scores >= 0) & (scores <= 1))


def test_hide_validation_score(clf_early):
    disp = TrainingCurveDisplay.from_estimator(clf_early, show_validation_score=False)
    assert disp.score_ax_ is None
    assert set(disp.lines_) == {"train_loss", "val_loss"}
    assert len(disp.figure_.axes) == 1


def test_pipeline(iris):
    pipe = make_pipeline(
        StandardScaler(), SoftmaxNetClassifier(max_iter=10, random_state=0)
    )
    _fit(pipe, *iris)
    disp = TrainingCurveDisplay.from_estimator(pipe)
    assert_allclose(disp.lines_["train_loss"].get_ydata(), pipe[-1].loss_curve_)
    assert disp.estimator_name == "SoftmaxNetClassifier"


def test_user_supplied_ax_and_name(clf_early):
    fig, (ax_left, ax_right) = plt.subplots(1, 2)
    disp = TrainingCurveDisplay.from_estimator(clf_early, ax=ax_right, name="net")
    assert disp.ax_ is ax_right
    assert disp.figure_ is fig
    assert disp.ax_.get_title() == "net training curve"
    assert ax_left.get_lines() == []
    assert len(fig.axes) == 3  # the two user axes plus the twin


def test_plot_options(clf_early):
    disp = TrainingCurveDisplay.from_estimator(
        clf_early,
        loss_scale="log",
        title="custom",
        train_kw={"color": "red", "label": "train"},
        best_epoch_kw={"color": "black"},
        legend_kw={"title": "curves"},
    )
    assert disp.ax_.get_yscale() == "log"
    assert disp.ax_.get_title() == "custom"
    assert disp.lines_["train_loss"].get_color() == "red"
    assert disp.best_epoch_line_.get_color() == "black"
    assert _legend_labels(disp)[0] == "train"
    assert disp.legend_.get_title().get_text() == "curves"


def test_plot_from_history_without_best_epoch():
    history = [
        {"epoch": 1, "train_loss": 1.0},
        {"epoch": 2, "train_loss": 0.5, "val_loss": 0.7, "val_score": -0.7},
    ]
    disp = TrainingCurveDisplay(history=history).plot()
    assert disp.best_epoch_line_ is None
    assert disp.ax_.get_title() == "Training curve"
    # epochs without validation are gaps, not zeros
    assert_allclose(disp.lines_["val_loss"].get_ydata(), [np.nan, 0.7])
    assert_allclose(disp.lines_["val_score"].get_ydata(), [np.nan, -0.7])


def test_empty_history_raises():
    with pytest.raises(ValueError, match="history is empty"):
        TrainingCurveDisplay(history=[]).plot()


def test_unfitted_raises():
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(SoftmaxNetClassifier())
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(
            make_pipeline(StandardScaler(), SoftmaxNetClassifier())
        )


def test_estimator_without_history_raises(iris):
    lr = LogisticRegression().fit(*iris)
    with pytest.raises(TypeError, match="history_"):
        TrainingCurveDisplay.from_estimator(lr)


def test_missing_matplotlib_names_extra(monkeypatch, clf_train_only):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    msg = r'pip install "skl_softmaxnet\[plot\]"'
    with pytest.raises(ImportError, match=msg):
        TrainingCurveDisplay.from_estimator(clf_train_only)
    with pytest.raises(ImportError, match=msg):
        TrainingCurveDisplay(history=clf_train_only.history_).plot()


def test_short_run_has_integer_epoch_ticks(iris):
    clf = _fit(SoftmaxNetClassifier((8,), max_iter=3, random_state=0), *iris)
    disp = TrainingCurveDisplay.from_estimator(clf)
    disp.figure_.canvas.draw()
    ticks = [t for t in disp.ax_.get_xticks() if 1 <= t <= 3]
    assert ticks, "no tick inside the epoch range"
    assert all(float(t).is_integer() for t in disp.ax_.get_xticks())


def test_no_best_epoch_line_without_validation_data(clf_train_only):
    assert clf_train_only.validation_scores_ is None
    disp = TrainingCurveDisplay.from_estimator(clf_train_only)
    assert disp.best_epoch is None
    assert disp.best_epoch_line_ is None
    assert not any("best epoch" in t.get_text() for t in disp.legend_.get_texts())


def test_best_epoch_line_with_validation_data(clf_early):
    disp = TrainingCurveDisplay.from_estimator(clf_early)
    assert disp.best_epoch == clf_early.best_epoch_
    assert disp.best_epoch_line_ is not None
