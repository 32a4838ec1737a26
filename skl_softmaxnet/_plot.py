"""Display objects for training curves.

matplotlib is an optional dependency (the ``plot`` extra): it is imported inside
:meth:`TrainingCurveDisplay.plot`, never at module import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["TrainingCurveDisplay"]

_INSTALL_HINT = 'pip install "skl_softmaxnet[plot]"'


def _import_pyplot():
    """Import ``matplotlib.pyplot`` or explain which extra provides it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "TrainingCurveDisplay needs matplotlib, which is not installed. "
            f"Install it with: {_INSTALL_HINT}"
        ) from exc
    return plt


def _score_name(scoring: Any) -> str:
    """Human-readable name of the validation score for the axis label."""
    if scoring is None or scoring == "loss":
        return "negative log-loss"
    if isinstance(scoring, str):
        return scoring
    return getattr(scoring, "__name__", "score")


class TrainingCurveDisplay:
    """Training-curve visualization: losses and validation score per epoch.

    Draws the training loss and, when the model was fitted with validation data,
    the validation loss against the epoch, the validation score on a second
    y-axis, and a dashed vertical line at the best epoch.

    Build it with :meth:`from_estimator` from a fitted
    :class:`~skl_softmaxnet.SoftmaxNetClassifier` (or a pipeline ending in one), or
    directly from a ``history`` list and call :meth:`plot`. All attributes are
    stored by the constructor unchanged; nothing is drawn until :meth:`plot`.

    Parameters
    ----------
    history : list of dict
        One record per epoch as in ``SoftmaxNetClassifier.history_``: keys
        ``epoch`` (1-based) and ``train_loss``, plus ``val_loss`` and ``val_score``
        when there was validation data.
    best_epoch : int or None, default=None
        1-based epoch to mark with a vertical dashed line (``best_epoch_``);
        ``None`` or ``0`` draws no marker.
    scoring : str, callable or None, default=None
        The estimator's ``scoring`` parameter, used to label the score axis.
        ``None`` and ``"loss"`` mean the negative validation log-loss.
    estimator_name : str or None, default=None
        Name shown in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes holding the loss curves.
    figure_ : matplotlib Figure
        Figure containing the axes.
    lines_ : dict of str to matplotlib Line2D
        The drawn curves, keyed ``"train_loss"``, ``"val_loss"`` and ``"val_score"``
        (the last two only when validation data exist).
    score_ax_ : matplotlib Axes or None
        Twin y-axis (sharing x with ``ax_``) holding the validation score, or
        ``None`` when no score is drawn.
    best_epoch_line_ : matplotlib Line2D or None
        The vertical best-epoch marker, or ``None``.
    legend_ : matplotlib Legend
        The legend on ``ax_`` listing every drawn line.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against training-set size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skl_softmaxnet import SoftmaxNetClassifier, TrainingCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> net = SoftmaxNetClassifier(
    ...     learning_rate_init=0.1, early_stopping=True, n_iter_no_change=3,
    ...     random_state=0,
    ... )
    >>> clf = make_pipeline(StandardScaler(), net).fit(X, y)
    >>> disp = TrainingCurveDisplay.from_estimator(clf)
    >>> sorted(disp.lines_)
    ['train_loss', 'val_loss', 'val_score']
    >>> disp.best_epoch_line_.get_xdata()[0] == clf[-1].best_epoch_
    True
    >>> plt.close(disp.figure_)
    """

    def __init__(
        self,
        *,
        history: Sequence[Mapping[str, Any]],
        best_epoch: int | None = None,
        scoring: Any = None,
        estimator_name: str | None = None,
    ) -> None:
        self.history = history
        self.best_epoch = best_epoch
        self.scoring = scoring
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        *,
        ax: Axes | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> TrainingCurveDisplay:
        """Plot the training curves of a fitted estimator.

        Parameters
        ----------
        estimator : SoftmaxNetClassifier or Pipeline
            A fitted estimator with a ``history_``, or a fitted
            :class:`~sklearn.pipeline.Pipeline` whose last step is one.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when ``None``.
        name : str, default=None
            Name for the title; defaults to the estimator's class name.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : TrainingCurveDisplay
            The display, already plotted.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If the (final) estimator records no training history.
        """
        model = estimator
        while isinstance(model, Pipeline):
            model = model[-1]
        check_is_fitted(model)
        if not hasattr(model, "history_"):
            raise TypeError(
                "TrainingCurveDisplay.from_estimator expects a fitted estimator with "
                f"a `history_` attribute (e.g. SoftmaxNetClassifier), got "
                f"{type(model).__name__}."
            )
        # without validation data no epoch was chosen: the weights are the last's
        has_val = getattr(model, "validation_scores_", None) is not None
        display = cls(
            history=model.history_,
            best_epoch=getattr(model, "best_epoch_", None) if has_val else None,
            scoring=getattr(model, "scoring", None),
            estimator_name=type(model).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)

    def plot(
        self,
        ax: Axes | None = None,
        *,
        show_validation_score: bool = True,
        show_best_epoch: bool = True,
        loss_scale: str = "linear",
        title: str | None = None,
        train_kw: dict[str, Any] | None = None,
        val_kw: dict[str, Any] | None = None,
        score_kw: dict[str, Any] | None = None,
        best_epoch_kw: dict[str, Any] | None = None,
        legend_kw: dict[str, Any] | None = None,
    ) -> TrainingCurveDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when ``None``.
        show_validation_score : bool, default=True
            Draw the validation score on a twin y-axis (only when the history
            holds one).
        show_best_epoch : bool, default=True
            Draw a vertical dashed line at ``best_epoch``.
        loss_scale : {"linear", "log"}, default="linear"
            Scale of the loss axis.
        title : str, default=None
            Axes title; defaults to ``"<estimator_name> training curve"``.
        train_kw, val_kw, score_kw, best_epoch_kw : dict, default=None
            Keyword arguments overriding the style of the training-loss,
            validation-loss, validation-score and best-epoch lines.
        legend_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.legend`. By default
            the legend goes inside the axes (``loc="best"``), or below them when a
            score axis is drawn, since ``"best"`` cannot see the twin axis' line.

        Returns
        -------
        display : TrainingCurveDisplay
            ``self``, with ``ax_``, ``figure_``, ``lines_``, ``score_ax_``,
            ``best_epoch_line_`` and ``legend_`` set.

        Raises
        ------
        ImportError
            If matplotlib is not installed.
        ValueError
            If the history is empty.
        """
        plt = _import_pyplot()
        from matplotlib.ticker import MaxNLocator

        history = list(self.history)
        if not history:
            raise ValueError(
                "history is empty: fit the estimator for at least one epoch before "
                "plotting its training curve."
            )
        if ax is None:
            _, ax = plt.subplots(layout="constrained")

        epochs = np.array([r["epoch"] for r in history])
        train_loss = np.array([r["train_loss"] for r in history], dtype=float)
        has_val = any("val_loss" in r for r in history)
        has_score = any("val_score" in r for r in history)

        lines: dict[str, Any] = {}
        (lines["train_loss"],) = ax.plot(
            epochs,
            train_loss,
            **{"label": "training loss", "color": "C0", **(train_kw or {})},
        )
        if has_val:
            val_loss = np.array([r.get("val_loss", np.nan) for r in history], float)
            (lines["val_loss"],) = ax.plot(
                epochs,
                val_loss,
                **{"label": "validation loss", "color": "C1", **(val_kw or {})},
            )
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5
        ax.set_ylabel("log-loss")
        ax.set_yscale(loss_scale)

        score_ax = None
        if has_score and show_validation_score:
            score_ax = ax.twinx()
            score_name = _score_name(self.scoring)
            val_score = np.array([r.get("val_score", np.nan) for r in history], float)
            (lines["val_score"],) = score_ax.plot(
                epochs,
                val_score,
                **{
                    "label": f"validation score ({score_name})",
                    "color": "C2",
                    "linestyle": ":",
                    **(score_kw or {}),
                },
            )
            score_ax.set_ylabel(f"validation {score_name}")
            # Keep the loss axes (and their legend) above the twin axes.
            ax.set_zorder(score_ax.get_zorder() + 1)
            ax.patch.set_visible(False)

        best_line = None
        best = self.best_epoch
        if show_best_epoch and best is not None and best >= 1:
            best_line = ax.axvline(
                best,
                **{
                    "label": f"best epoch ({best})",
                    "color": "0.3",
                    "linestyle": "--",
                    "linewidth": 1.0,
                    **(best_epoch_kw or {}),
                },
            )

        handles = list(lines.values())
        if best_line is not None:
            handles.append(best_line)
        if score_ax is None:
            legend_defaults: dict[str, Any] = {"loc": "best"}
        else:
            # below the x-axis label, in font-size units so it does not depend on
            # the figure size
            legend_defaults = {
                "loc": "upper center",
                "bbox_to_anchor": (0.5, 0.0),
                "borderaxespad": 3.2,
                "ncol": 2,
                "frameon": False,
            }
        self.legend_ = ax.legend(
            handles=handles,
            labels=[h.get_label() for h in handles],
            **{**legend_defaults, **(legend_kw or {})},
        )
        if title is None:
            title = "Training curve"
            if self.estimator_name:
                title = f"{self.estimator_name} training curve"
        ax.set_title(title)

        self.ax_ = ax
        self.figure_ = ax.figure
        self.lines_ = lines
        self.score_ax_ = score_ax
        self.best_epoch_line_ = best_line
        return self
