"""SoftmaxNetClassifier: the scikit-learn face of the network.

This module does the scikit-learn API only (parameters, validation, tags, fitted
attributes) and composes ``_math`` (the network), ``_optim`` (the update rule and
the schedule) and ``_training`` (the loop).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import (
    HAS_CALLBACKS,
    CallbackSupportMixin,
    Interval,
    Options,
    StrOptions,
    _check_sample_weight,
    _get_feature_names,
    _is_numpy_namespace,
    check_same_namespace,
    get_namespace_and_device,
    is_foreign_array,
    move_to,
    namespace_of,
    to_numpy,
    with_callbacks,
)
from ._math import (
    array_sum,
    forward,
    init_params,
    log_softmax,
    weighted_cross_entropy,
)
from ._messages import warn, warnings_at_caller
from ._optim import LR_SCHEDULES, SGD, LearningRateSchedule
from ._scaling import FeatureScaling
from ._threads import training_threads
from ._training import (
    EpochResult,
    RowWindow,
    SpikeGuard,
    StoppingMonitor,
    class_mix_comparable,
    copy_array,
    copy_params,
    fit_epochs,
    interrupt_guard,
)

__all__ = ["SoftmaxNetClassifier", "TrainingDivergedError"]

# Rows per chunk at predict time: bounds the extra memory of predicting any number of
# rows to CHUNK_ROWS * (sum of layer widths) floats, while keeping BLAS calls large.
CHUNK_ROWS = 4096


_X_CHECKS = {"accept_sparse": ("csr", "csc"), "dtype": (np.float64, np.float32)}
# scikit-learn's guess that y may be a regression target (check_classification_targets)
_MANY_CLASSES = "The number of unique classes is greater than 50%"

_INT32_MAX = np.iinfo(np.int32).max

# The 'auto' rules, chosen on the tuning panel of benchmarks/bench_defaults.py by
# benchmarks/tune_defaults.py (issue 11). With n training rows, n+ of them with a
# positive weight:
# batch_size = min(MAX, ceil(n / clip(floor(n+ / MIN_ROWS), 1, PER_EPOCH))): small
# sets get about PER_EPOCH batches of at least MIN_ROWS rows per epoch (SGD noise
# that a 3-batch epoch lacks), one full batch below 2 * MIN_ROWS weighted rows (so
# that weighting stays repetition: 15 weighted rows and their 27 repeats both train
# full-batch), MAX rows from n = 8 * MAX on;
_AUTO_BATCH_MAX, _AUTO_BATCH_MIN_ROWS, _AUTO_BATCH_PER_EPOCH = 64, 16, 8
# alpha = max(ALPHA_MIN, ALPHA_C * b / n): the penalty of the whole training
# objective, sum_i CE_i + ALPHA_C / 2 ||W||^2, is then a fixed prior whatever n and b
# (alpha / (2 b) per batch), with a floor for large, noisy sets;
_AUTO_ALPHA_C, _AUTO_ALPHA_MIN = 3.0, 0.03
# max_iter = clip(ceil(STEPS / ceil(n / b)), MIN, MAX): a budget of SGD steps;
_AUTO_STEPS, _AUTO_MIN_EPOCHS, _AUTO_MAX_EPOCHS = 20000, 200, 2000
# early_stopping = n_samples >= EARLY_STOPPING_N.
_AUTO_EARLY_STOPPING_N = 5000


def _n_weighted(sw, rows, n_train: int) -> int:
    """The number of training rows with a positive weight (``sw`` on the host)."""
    if sw is None:
        return n_train
    return int(np.count_nonzero((sw if rows is None else sw[rows]) > 0))


def _is_host(a) -> bool:
    """NumPy, SciPy sparse or a plain array-like: not an array of another library."""
    return not is_foreign_array(a)


def _namespace(X):
    """``(xp, device)`` of a validated X to compute in; ``(None, None)`` for NumPy
    and SciPy sparse (the NumPy fast paths)."""
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return None, None
    return namespace_of(X)


def _x_checks(X) -> dict:
    """``validate_data`` options for X: float64/float32 of X's own namespace."""
    xp, _, _ = get_namespace_and_device(X)
    if _is_numpy_namespace(xp):
        return dict(_X_CHECKS)
    return {"accept_sparse": False, "dtype": [xp.float64, xp.float32]}


def _check_not_device_sparse(X) -> None:
    if _is_host(X):
        return
    if "sparse" in str(getattr(X, "layout", "")) or hasattr(X, "indptr"):
        raise TypeError(
            f"Sparse {type(X).__module__} input is not supported: sparse data "
            "train as SciPy sparse matrices (CSR/CSC) in NumPy on the CPU. Pass a "
            "scipy.sparse.csr_matrix, or a dense array to train on its device."
        )


def _host_dtype(X):
    """The NumPy float dtype of X's precision, whatever X's namespace."""
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return X.dtype
    xp = namespace_of(X)[0]
    return np.dtype(np.float32 if X.dtype == xp.float32 else np.float64)


def _astype(a, dtype):
    """``a`` (any namespace, or a SciPy matrix) in ``dtype`` of its namespace."""
    if isinstance(a, np.ndarray) or sp.issparse(a):
        return a.astype(dtype)
    return namespace_of(a)[0].astype(a, dtype)


def _move(a, xp, device):
    """``a`` moved to ``(xp, device)`` as ``_namespace`` gives them (None: NumPy)."""
    if xp is None:
        return move_to(a, xp=np, device="cpu")
    return move_to(a, xp=xp, device=device)


def _prior_entropy(counts: np.ndarray) -> float | None:
    """The log-loss of predicting the class frequencies ``counts`` (weighted); None
    when one class holds all the weight (nothing to beat)."""
    prior = counts[counts > 0] / counts.sum()
    if prior.shape[0] < 2:
        return None
    return float(-np.sum(prior * np.log(prior)))


def _all_rows_equal(X) -> bool:
    """Every row of the (host) matrix X is the same."""
    if X.shape[0] < 2:
        return False
    if sp.issparse(X):
        return (X.max(axis=0) - X.min(axis=0)).count_nonzero() == 0
    return not np.any(X != X[:1])


def _take_rows(X, rows: np.ndarray):
    """Rows of X (NumPy, SciPy sparse or any namespace) at host indices ``rows``."""
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return X[rows]
    xp, device = namespace_of(X)
    return xp.take(X, xp.asarray(rows.astype(np.int64), device=device), axis=0)


class TrainingDivergedError(ValueError, FloatingPointError):
    """Raised when training diverged and the loss-spike recovery could not help.

    A ``ValueError``, as MLPClassifier's "Solver produced non-finite parameter
    weights", so code written against it catches ours; a ``FloatingPointError`` for
    code written against earlier versions of this package. The estimator holds the
    best epoch's finite weights when it is raised, so it is still usable.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_softmaxnet import SoftmaxNetClassifier, TrainingDivergedError
    >>> X = np.finfo(np.float64).max * np.random.RandomState(0).uniform(size=(10, 2))
    >>> y = np.array([0, 1] * 5)
    >>> try:  # features near the largest float, not standardised
    ...     SoftmaxNetClassifier(random_state=0, standardize=False).fit(X, y)
    ... except ValueError as exc:
    ...     print(type(exc).__name__)
    TrainingDivergedError
    """


_DIVERGED_MSG = (
    "Training diverged at epoch {epoch}: {n} loss spikes (an epoch whose mean "
    "cross-entropy was non-finite or above 2 x the best epoch's + log(n_classes), or "
    "whose objective rose above 2 x the starting one + log(n_classes)), each rolled "
    "back with the learning rate cut, without lasting progress. The model holds the "
    "finite weights the best epoch started from (the end of epoch {best}; that "
    "epoch's mean cross-entropy {loss:.4g}). {advice}"
)
_RECOVERED_MSG = (
    "Loss-spike recovery rolled back {n} epoch(s) and cut the learning rate "
    "{fold:.4g}-fold, to {rate:.3g} (the events are in history_). learning_rate_init="
    "{lr0} is too large for this data. {advice}"
)
# what to do about spikes: scaling is the first cure, unless the features are
# already standardised inside, where only a smaller or less noisy step helps
_SCALE_ADVICE = (
    "Scale the features (standardize=True, or a StandardScaler) or lower "
    "learning_rate_init (currently {lr0})."
)
_STEP_ADVICE = (
    "The features are standardised already (standardize=True): lower "
    "learning_rate_init (currently {lr0}) or use larger batches (batch_size)."
)
_SPARSE_ADVICE = (
    "Sparse features are scaled but not centred (centring would densify them), so "
    "a column whose values sit far from zero next to a small spread still feeds "
    "the network large inputs: subtract its offset (or pass X dense), or lower "
    "learning_rate_init (currently {lr0})."
)
# the decay the penalty alone applies per step: above 1 it overshoots zero every
# step, whatever the data (S, the batch's weight, shrinks with the sample weights)
_DECAY_ADVICE = (
    " The penalty alone shrinks the weights by learning_rate_init x alpha / (batch "
    "weight) = {decay:.3g} per step (above 1 it overshoots): with sample weights "
    "this small (mean {mean_w:.3g}) the penalty alpha / (2 S) swamps the data term; "
    "rescale the sample weights (e.g. to mean 1) or lower alpha (now {alpha:.4g})."
)
# partial_fit: calls smaller than this are judged by finiteness alone (SpikeGuard)
_MIN_STREAM_ROWS = 32
_SMALL_FIRST_CALL = (
    "standardize=True takes the feature statistics from the first partial_fit call, "
    "which has {n} row(s): too few for a mean and a scale per feature. Give the "
    "first call a larger sample (a few hundred rows), or set standardize=False and "
    "scale the stream with a StandardScaler fitted on a sample."
)
_ORDERED_STREAM = (
    "partial_fit was given {n} rows in a row of class {cls!r} only, which had "
    "{share:.0%} of the stream's rows before them: the stream looks ordered by "
    "class. SGD on such a stream forgets the classes of earlier calls, and the loss "
    "of a call of other classes says nothing about the step, so the loss-spike guard "
    "judges such calls by finiteness alone. Shuffle the rows before streaming them "
    "(e.g. sklearn.utils.shuffle), so that each call holds a mix of the classes."
)
# partial_fit: rows per observation of the 'adaptive' plateau rule and of the
# stream's class-prior check (judged calls and pools are gathered into windows of
# this many rows: StoppingMonitor.observe, _warn_if_stream_at_chance)
_PLATEAU_ROWS = 1000

# a training log-loss above this fraction of the class prior's is a warning: a hidden
# layer of 100 units fits most training sets far below it (the noisiest panel and
# held-out sets end at 0.68-0.76 of it; bupa's 258 rows with batch_size=64 and
# alpha='auto', stopped by the plateau rule after a slow start, at 0.92-1.01 of it)
_BARELY = 0.9


@dataclass
class _Outcome:
    """How a ``fit`` or ``partial_fit`` call ended: what ``_report`` judges."""

    result: EpochResult
    guard: SpikeGuard
    fitting: bool
    data: tuple  # (X, y_idx, sw, rows) as trained on; y_idx and sw on the host
    held: tuple | None  # (validation loss of the weights returned, X, y, sw of it)
    restored: bool  # the weights returned are an earlier epoch's than the last


class SoftmaxNetClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """ReLU network with a softmax output, trained by mini-batch SGD.

    A drop-in alternative to ``MLPClassifier(solver='sgd')`` with the same parameter
    names where the meaning is the same, a log-space softmax output (one unit per
    class, binary included), exact gradients checked against finite differences,
    validation data with best-weight restoring, class weights, learning-rate
    schedules, ``partial_fit``, float32 / sparse training, and PyTorch / CuPy
    arrays on their device through scikit-learn's Array API dispatch.

    The defaults were chosen on a panel of 18 real data sets against
    ``MLPClassifier()`` (the Accuracy page of the documentation): features are
    standardised internally (``standardize``), and ``batch_size``, ``alpha``,
    ``max_iter`` and ``early_stopping`` adapt to the size of the data (``'auto'``).

    The objective for a batch with sample weights ``w`` (ones by default) and
    ``S = sum(w)`` is ``sum_i w_i CE_i / S + alpha / (2 S) * sum ||W||^2``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each ReLU hidden layer; ``()`` gives multinomial logistic regression.
    alpha : float or "auto", default="auto"
        L2 penalty on the weights (not the biases), scaled as in MLPClassifier
        (``alpha / (2 S)`` per batch of weight ``S``). ``"auto"`` is
        ``max(0.03, 3 * b / n)`` with ``n`` the training rows (after any validation
        split) and ``b`` the batch size: the whole training objective then carries
        the fixed penalty ``3 / 2 * ||W||^2`` (a Gaussian prior) whatever ``n`` and
        ``b``, floored at 0.03 for large sets. In ``partial_fit`` (a stream of
        unknown length) ``"auto"`` is 0.03. The value used is ``alpha_``.
    batch_size : int or "auto", default="auto"
        Mini-batch size. ``"auto"`` is
        ``min(64, ceil(n / clip(floor(n_pos / 16), 1, 8)))`` with ``n`` the training
        rows (after any validation split) and ``n_pos`` those of positive weight:
        about eight batches of at least 16 rows per epoch on small data, one full
        batch below 32 weighted rows (so that a weight is a repetition there, as
        scikit-learn's checks ask), 64 rows from ``n = 512`` on. (MLPClassifier's
        ``"auto"`` is ``min(200, n_samples)``: pass that number to get its batches.)
        A number larger than the data is clipped to ``n_samples``. The value used
        is ``batch_size_``.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, \
            default="adaptive"
        Learning-rate schedule, updated after each epoch. The first
        three mean what they mean in MLPClassifier; ``"cosine"`` anneals to 0 over
        ``max_iter`` epochs after ``warmup_iters`` epochs of linear warm-up.
    learning_rate_init : float, default=0.1
        Initial step size.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs. ``"auto"`` is a budget of 20000 SGD steps,
        ``clip(ceil(20000 / ceil(n / b)), 200, 2000)`` epochs (``n``, ``b`` as for
        ``alpha``); ``partial_fit`` computes it on its first call (it sets the
        ``"cosine"`` cycle). The value used is ``max_iter_``.
    shuffle : bool, default=True
        Shuffle the sample order every epoch (indices only; X is never copied).
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling and the validation split.
    tol : float, default=1e-3
        Minimum improvement of the monitored quantity (training loss, or validation
        score with ``early_stopping``) that resets the plateau counter.
    verbose : int, default=0
        ``>= 1`` prints one table row per epoch.
    warm_start : bool, default=False
        Continue from the fitted weights (and momentum) on the next ``fit``. The
        classes, the features and ``hidden_layer_sizes`` must be those of the
        fitted network.
    momentum : float, default=0.9
        Momentum in [0, 1]; 0 is plain SGD.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum instead of the classical one.
    early_stopping : bool or "auto", default="auto"
        Stop when the validation score has not improved by ``tol`` for
        ``n_iter_no_change`` epochs. Without ``X_val``, a stratified
        ``validation_fraction`` of the training data is held out. ``"auto"`` is
        True for 5000 samples or more (as HistGradientBoosting's rule, with a
        lower threshold). The value used is ``early_stopping_``.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping`` and no ``X_val``.
    n_iter_no_change : int, default=5
        Epochs without improvement tolerated before stopping (or, with
        ``learning_rate="adaptive"``, before the rate is divided by 5; in a
        ``partial_fit`` stream, windows of 1000 rows: see the User Guide).
    class_weight : dict, "balanced" or None, default=None
        Per-class weights, multiplied with ``sample_weight``.
    scoring : str, callable or None, default="loss"
        Validation score: ``"loss"`` is the negative validation log-loss; any
        scikit-learn scorer name or callable ``scorer(estimator, X, y)`` is accepted.
        Higher is better; a NaN score is an error.
    restore_best_weights : bool, default=True
        When validation data exist, end with the best-scoring epoch's weights (a
        trained epoch's; on a warm start the starting weights compete too).
    warmup_iters : int, default=0
        Warm-up epochs of the ``"cosine"`` schedule.
    on_divergence : {"raise", "warn"}, default="raise"
        What to do when training diverges (non-finite loss or weights): raise
        :class:`TrainingDivergedError` or warn with a ``ConvergenceWarning``. Either
        way the model keeps the last finite weights.
    standardize : bool, default=True
        Train on standardised features, ``(X - mean) / std`` per column (weighted
        by the sample weights; sparse X is divided by ``std`` only, never centred;
        constant columns are left as they are), as ``StandardScaler`` in front of
        the network would. The transform is folded into the first layer at the end
        of every fit, so ``coefs_`` and ``predict`` work on X as given and nothing
        else is needed to predict: ``coefs_[0] = W / std[:, None]`` and
        ``intercepts_[0] = b - mean @ coefs_[0]`` for the weights ``(W, b)``
        trained on the standardised input. The statistics are ``feature_mean_``
        and ``feature_scale_``; a warm start recomputes them, ``partial_fit``
        keeps those of its first call. It costs one standardised copy of X during
        ``fit``; ``False`` trains on X as given, without any copy.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        In the namespace and on the device of the y given to fit (as scikit-learn's
        array API classifiers); NumPy for NumPy or string labels.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has feature names that are all strings.
    coefs_ : list of ndarray
        ``coefs_[i]`` has shape ``(n_in, n_out)`` of layer ``i``; the first acts
        on X as given (see ``standardize``). Like every fitted array except
        ``classes_``, in X's namespace and on its device.
    intercepts_ : list of ndarray
    feature_mean_ : ndarray of shape (n_features,) or None
        Column means the input was standardised with (zeros for sparse input);
        None with ``standardize=False``.
    feature_scale_ : ndarray of shape (n_features,) or None
        Column standard deviations (1 for constant columns); None with
        ``standardize=False``.
    alpha_ : float
        The ``alpha`` used (the value of ``"auto"``).
    batch_size_ : int
        The batch size used (the value of ``"auto"``, or ``batch_size`` clipped to
        the training rows).
    max_iter_ : int
        The ``max_iter`` used.
    early_stopping_ : bool
        Whether the last ``fit`` stopped on a validation score (``fit`` only).
    n_layers_ : int
        Number of layers including input and output.
    n_outputs_ : int
        Number of output units (= number of classes).
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss per epoch.
    best_loss_ : float
        Lowest training loss seen.
    validation_scores_ : list of float or None
        Validation score per epoch (when there is validation data).
    validation_loss_curve_ : list of float or None
        Validation log-loss per epoch (when there is validation data).
    best_validation_score_ : float or None
        The validation score of the weights held, when one describes them: None
        without validation data, and after ``partial_fit`` (the weights moved on).
    best_epoch_ : int
        1-based epoch whose weights the model holds at the end of ``fit`` when they
        were restored, else the best epoch seen.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_score``
        (with validation), ``learning_rate``, ``time`` (seconds).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The scikit-learn network whose
        parameter names and objective this estimator follows.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skl_softmaxnet import SoftmaxNetClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), SoftmaxNetClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf[-1].predict_proba(StandardScaler().fit_transform(X[:1])).shape
    (1, 3)
    """

    _parameter_constraints: dict = {
        # an int n means (n,), as in MLPClassifier, so its grids work unchanged
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions(set(LR_SCHEDULES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "scoring": [str, callable, None],
        "restore_best_weights": ["boolean"],
        "warmup_iters": [Interval(Integral, 0, None, closed="left")],
        "on_divergence": [StrOptions({"raise", "warn"})],
        "standardize": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        alpha="auto",
        batch_size="auto",
        learning_rate="adaptive",
        learning_rate_init=0.1,
        power_t=0.5,
        max_iter="auto",
        shuffle=True,
        random_state=None,
        tol=1e-3,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        scoring="loss",
        restore_best_weights=True,
        warmup_iters=0,
        on_divergence="raise",
        standardize=True,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.scoring = scoring
        self.restore_best_weights = restore_best_weights
        self.warmup_iters = warmup_iters
        self.on_divergence = on_divergence
        self.standardize = standardize

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = False
        tags.array_api_support = True
        return tags

    # ------------------------------------------------------------------ validation
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, Integral) and not isinstance(sizes, bool):
            sizes = [sizes]
        try:
            sizes = list(sizes)
        except TypeError:
            sizes = None
        if sizes is None or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive integers (or () for no "
                f"hidden layer), got {self.hidden_layer_sizes!r}."
            )
        return [int(s) for s in sizes]

    def _check_params(self) -> None:
        self._validate_params()
        self._hidden_sizes()
        if isinstance(self.class_weight, dict):
            for label, w in self.class_weight.items():
                if not (isinstance(w, Real) and np.isfinite(w) and w >= 0):
                    raise ValueError(
                        f"class_weight[{label!r}] must be a finite, non-negative "
                        f"number, got {w!r}."
                    )
        if self.scoring not in ("loss", None):
            # an unknown scorer name must fail here, before fit touches any state
            check_scoring(self, scoring=self.scoring)

    def _validate_X_y(self, X, y, reset: bool, declared: bool = False):
        """``declared``: ``partial_fit``, whose ``classes`` say that y holds labels."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None."
            )
        y = to_numpy(y)  # labels live on the host; only their indices move
        target_type = type_of_target(y, input_name="y", raise_unknown=False)
        if target_type in (
            "multilabel-indicator",
            "multiclass-multioutput",
            "continuous-multioutput",
        ):
            raise ValueError(
                f"{type(self).__name__} does not support multilabel or multioutput "
                f"targets (got y of type {target_type!r}); y must be 1-D class labels."
            )
        _check_not_device_sparse(X)
        # fit and partial_fit re-emit scikit-learn's warnings at the caller's line
        X, y = validate_data(self, X, y, reset=reset, **_x_checks(X))
        if sp.issparse(X) and X.format == "csc":
            X = X.tocsr()  # row slicing is what minibatches need
        with warnings.catch_warnings():
            if declared:  # a call of 32 rows of 26 classes is no regression target
                warnings.filterwarnings("ignore", _MANY_CLASSES, UserWarning)
            check_classification_targets(y)
        return X, y

    def _validate_X(self, X, *, dtype):
        """``validate_data(reset=False)``, warning about feature names at the caller.

        scikit-learn's own feature-name warnings name its validation module; this
        mirrors them from the caller's line instead.
        """
        _check_not_device_sparse(X)
        checks = _x_checks(X)
        if dtype is not None:
            checks["dtype"] = dtype
        fitted = hasattr(self, "feature_names_in_")
        given = _get_feature_names(X) is not None
        if fitted == given:
            return validate_data(self, X, reset=False, **checks)
        name = type(self).__name__
        warn(
            f"X does not have valid feature names, but {name} was fitted with feature "
            "names"
            if fitted
            else f"X has feature names, but {name} was fitted without feature names",
            UserWarning,
        )
        X = check_array(X, estimator=self, **checks)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {name} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    def _class_weights(self, y_idx, *, partial: bool):
        """Weight of each class index (``classes_`` order), or None."""
        cw = self.class_weight
        if cw is None:
            return None
        classes = self._host_classes()
        n_classes = len(classes)
        if cw == "balanced":
            if partial:
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit: one call "
                    "sees only part of the data. Compute the weights once, e.g. "
                    "dict(zip(classes, compute_class_weight('balanced', classes="
                    "classes, y=y_all))), and pass that dict."
                )
            return compute_class_weight(
                "balanced", classes=np.arange(n_classes), y=y_idx
            )
        out = np.ones(n_classes)
        for label, w in cw.items():
            pos = np.flatnonzero(classes == label)
            if pos.size == 0:
                raise ValueError(
                    f"class_weight has a label {label!r} that is not in the classes "
                    f"{classes.tolist()}."
                )
            out[pos[0]] = w
        return out

    def _weights(self, X, y_idx, sample_weight, class_weights, name="sample_weight"):
        """Per-sample weights (sample weight times class weight) on the host, or None.

        They are computed in NumPy, whatever X's namespace (they are a vector), in
        X's precision; ``_training_arrays`` moves them to X's device once.
        """
        dtype = _host_dtype(X)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                to_numpy(sample_weight),
                np.empty((X.shape[0], 0)),
                dtype=dtype,
                ensure_non_negative=True,
            )
            sample_weight = np.array(sample_weight, dtype=dtype)  # never alias
        if class_weights is not None:
            cw = class_weights[y_idx].astype(dtype)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        if sample_weight is not None and not np.any(sample_weight > 0):
            raise ValueError(
                f"{name} (times class_weight) is zero for every sample: at least "
                "one weight must be non-zero."
            )
        return sample_weight

    def _encode(self, y, name="y"):
        """Map labels to indices of classes_; unknown labels are an error."""
        classes = self._host_classes()
        idx = np.searchsorted(classes, y)
        idx = np.clip(idx, 0, len(classes) - 1)
        bad = classes[idx] != y
        if np.any(bad):
            unknown = np.unique(np.asarray(y)[bad])
            raise ValueError(
                f"{name} contains labels not in classes_ {classes.tolist()}: "
                f"{unknown.tolist()}."
            )
        return idx.astype(np.intp)

    def _batch_size(self, n_samples: int, n_weighted: int) -> int:
        """The batch size for ``n_samples`` training rows, ``n_weighted`` of them with
        a positive weight (the 'auto' rule counts only those)."""
        if self.batch_size == "auto":
            n_batches = min(
                max(n_weighted // _AUTO_BATCH_MIN_ROWS, 1), _AUTO_BATCH_PER_EPOCH
            )
            return min(_AUTO_BATCH_MAX, math.ceil(n_samples / n_batches))
        # clipped silently (documented): a fixed size often exceeds small data sets,
        # and a warning on every such fit would be noise
        return min(self.batch_size, n_samples)

    def _host_classes(self) -> np.ndarray:
        """``classes_`` as a NumPy array (it follows y's namespace, as scikit-learn's
        array API classifiers do; the label logic runs on the host)."""
        return to_numpy(self.classes_)

    def _set_classes(self, classes: np.ndarray, y) -> None:
        """``classes_`` in the namespace and on the device of the y given to fit."""
        self.classes_ = classes
        if not _is_host(y):
            xp_y, _, device_y = get_namespace_and_device(y)
            if not _is_numpy_namespace(xp_y):
                self.classes_ = xp_y.asarray(classes, device=device_y)

    # ---------------------------------------------------------------- fitted state
    @property
    def _params(self):
        return list(zip(self.coefs_, self.intercepts_, strict=True))

    @property
    def _coef0(self):
        # what check_same_namespace reads: the first layer's weights
        return self.coefs_[0]

    def _resolve_auto(self, n_train: int, n_weighted: int, *, stream: bool) -> None:
        """Fix the values of the 'auto' parameters for this fit (the formulas are in
        the class docstring): ``batch_size_``, ``alpha_``, ``max_iter_``."""
        b = self.batch_size_ = self._batch_size(n_train, n_weighted)
        if self.alpha != "auto":
            self.alpha_ = float(self.alpha)
        elif stream:  # a stream's length is unknown: the large-n limit
            self.alpha_ = _AUTO_ALPHA_MIN
        else:
            self.alpha_ = max(_AUTO_ALPHA_MIN, _AUTO_ALPHA_C * b / n_train)
        if self.max_iter != "auto":
            self.max_iter_ = int(self.max_iter)
        elif stream and getattr(self, "max_iter_", None) is not None:
            pass  # fixed by the first call (it sets the 'cosine' cycle)
        else:
            epochs = math.ceil(_AUTO_STEPS / math.ceil(n_train / b))
            self.max_iter_ = int(min(max(epochs, _AUTO_MIN_EPOCHS), _AUTO_MAX_EPOCHS))

    def _early_stopping(self, n_samples: int) -> bool:
        if self.early_stopping == "auto":
            return n_samples >= _AUTO_EARLY_STOPPING_N
        return bool(self.early_stopping)

    def _init_state(self, n_features, n_classes, dtype, rng, xp=None, device=None):
        sizes = [n_features, *self._hidden_sizes(), n_classes]
        params = init_params(sizes, rng, dtype, xp=xp, device=device)
        self.coefs_ = [W for W, _ in params]
        self.intercepts_ = [b for _, b in params]
        self.n_layers_ = len(sizes)
        self.n_outputs_ = n_classes
        self.n_iter_ = 0
        self.t_ = 0
        self.history_ = []
        self.n_recoveries_ = 0
        self.best_epoch_ = 0
        self.best_validation_score_ = None
        self._velocities = None
        self._schedule_state = None
        self._plateau_state = None
        self._spike_streak = None  # SpikeGuard.state after each partial_fit call
        self._stream_counts = None  # partial_fit: class weight seen, over the calls
        self._stream_rows = None  # ... and rows per class
        self._pool_rows = None  # ... of the small calls pooled so far (SpikeGuard)
        self._stream_bad = None  # ... and its window (loss sum, rows, windows, warned)
        self._warned_flat_weights = False  # _warn_flat_weights: once per stream
        self._warned_ordered = False  # _warn_ordered_stream: once per stream
        self._shuffle_seed = int(rng.randint(np.iinfo(np.int32).max))
        self.feature_mean_ = self.feature_scale_ = None
        self._store_history()

    def _continue_on(self, X, how: str) -> None:
        """The fitted network continues on X (``how``: a warm fit or partial_fit):
        ``hidden_layer_sizes`` must still describe it; the weights (and velocities)
        move to X's namespace and device if they are elsewhere (the data moved)."""
        fitted = tuple(W.shape[1] for W, _ in self._params[:-1])
        if tuple(self._hidden_sizes()) != fitted:
            raise ValueError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r}, but the fitted "
                f"network's hidden layers are {fitted}: {how} continues training "
                "the fitted network. Use warm_start=False (or clone the estimator) "
                "to train a new one."
            )
        xp, device = _namespace(X)
        if _namespace(self.coefs_[0]) == (xp, device):
            return

        def move(arrays):
            return None if arrays is None else [_move(a, xp, device) for a in arrays]

        self.coefs_ = move(self.coefs_)
        self.intercepts_ = move(self.intercepts_)
        self._velocities = move(self._velocities)
        if self.feature_mean_ is not None:
            self.feature_mean_, self.feature_scale_ = move(
                [self.feature_mean_, self.feature_scale_]
            )

    def _cast_weights(self, dtype) -> None:
        """A warm fit's weights in the precision of its data (its velocities start
        at zero and its statistics are recomputed, in that precision)."""
        if self.coefs_[0].dtype != dtype:
            self.coefs_ = [_astype(W, dtype) for W in self.coefs_]
            self.intercepts_ = [_astype(b, dtype) for b in self.intercepts_]

    @contextlib.contextmanager
    def _transaction(self):
        """Leave the estimator exactly as it was if the block raises anything.

        Fresh attributes are rebound, but the weights, velocities and history of a
        fitted model are changed in place by a warm fit or partial_fit: those are
        copied first. ``KeyboardInterrupt`` is included: the training loop handles
        the interrupts it can end cleanly and never lets them out.
        """
        state = dict(self.__dict__)
        for key in ("coefs_", "intercepts_", "_velocities"):
            if state.get(key) is not None:
                state[key] = [copy_array(a) for a in state[key]]
        if "history_" in state:
            state["history_"] = list(state["history_"])
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    # ----------------------------------------------------------------------- fit
    @with_callbacks
    @warnings_at_caller
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Train the network on (X, y).

        With ``warm_start``, training continues from the current weights with a
        fresh optimizer and schedule, as MLPClassifier does: the velocities start at
        zero, the schedule from its start, and ``n_iter_`` counts this fit's epochs;
        ``t_`` and ``history_`` go on accumulating. If anything raises before or
        during training, the estimator is left exactly as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 input trains in float32; other dtypes become float64. Sparse CSR
            (or CSC, converted once to CSR) input is never densified.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied with ``class_weight``.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data, used instead of a ``validation_fraction`` split. Given,
            the validation loss and score are recorded every epoch and the best epoch
            is tracked (and restored with ``restore_best_weights``) whether or not
            ``early_stopping`` is on. In a Pipeline, route ``X_val`` through the
            preprocessing with ``Pipeline(..., transform_input=["X_val"])``.
        y_val : array-like of shape (n_val,), default=None
            Labels of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation rows; like the training weights, they are
            multiplied with ``class_weight``.

        Returns
        -------
        self : SoftmaxNetClassifier
            The fitted estimator.
        """
        self._check_params()
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together.")
        if sample_weight_val is not None and X_val is None:
            raise ValueError("sample_weight_val requires X_val and y_val.")
        warm = self.warm_start and hasattr(self, "coefs_")
        with self._transaction():
            y_given = y
            X, y = self._validate_X_y(X, y, reset=not warm)
            classes = self._fit_classes(y, warm)
            self._set_classes(classes, y_given)
            y_idx = np.searchsorted(classes, y).astype(np.intp)
            class_weights = self._class_weights(y_idx, partial=False)
            sw = self._weights(X, y_idx, sample_weight, class_weights)
            rng = check_random_state(self.random_state)
            if not warm:
                self._init_state(X.shape[1], len(classes), X.dtype, rng, *_namespace(X))
            else:
                self._velocities = None  # a fresh optimizer, as MLPClassifier
                self._continue_on(X, "warm_start=True")
                self._cast_weights(X.dtype)
            self._schedule_state = self._plateau_state = None
            self.early_stopping_ = self._early_stopping(X.shape[0])
            rows, val = self._validation_part(
                X, y_idx, sw, X_val, y_val, sample_weight_val, class_weights, rng
            )
            n_train = X.shape[0] if rows is None else rows.shape[0]
            self._resolve_auto(n_train, _n_weighted(sw, rows, n_train), stream=False)
            self._fit_scaling(X, sw, rows, fresh=not warm)
            outcome = self._run(
                X, y_idx, sw, rows=rows, val=val, rng=rng if self.shuffle else None,
                fitting=True, fit_args=(X, y), warm=warm,
            )  # fmt: skip
        self._report(outcome)
        return self

    def _fit_classes(self, y, warm: bool) -> np.ndarray:
        """The classes of y: at least two, and those of the model on a warm start."""
        classes = np.unique(y)
        if warm and not np.array_equal(classes, self._host_classes()):
            raise ValueError(
                "warm_start=True needs the same classes as the previous fit: got "
                f"{classes.tolist()}, fitted {self._host_classes().tolist()}. Use "
                "warm_start=False to train a new model."
            )
        if len(classes) < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got 1 class "
                f"({classes[0]!r}) in y."
            )
        return classes

    def _validation_part(
        self, X, y_idx, sw, X_val, y_val, sample_weight_val, class_weights, rng
    ):
        """Training rows (None: all) and validation data (None: no validation)."""
        if X_val is not None:
            return None, self._validation_data(
                X, X_val, y_val, sample_weight_val, class_weights
            )
        if not self.early_stopping_:
            return None, None
        rows, val_rows = self._split(y_idx, rng)
        if sw is not None:
            for part, name in ((rows, "training"), (val_rows, "validation")):
                if not np.any(sw[part] > 0):
                    raise ValueError(
                        f"The validation split left only zero sample weights in the "
                        f"{name} part; pass X_val and y_val, or another random_state."
                    )
        return rows, (
            _take_rows(X, val_rows),
            y_idx[val_rows],
            None if sw is None else sw[val_rows],
        )

    def _validation_data(self, X, X_val, y_val, sample_weight_val, class_weights):
        """X_val validated like X, in X's namespace, device and dtype."""
        X_val = self._validate_X(X_val, dtype=None)
        if sp.issparse(X_val) and X_val.format == "csc":
            X_val = X_val.tocsr()
        xp, device = _namespace(X)
        if _namespace(X_val) != (xp, device):
            if xp is not None and sp.issparse(X_val):
                raise TypeError(
                    "X_val is a SciPy sparse matrix but X is a dense "
                    f"{xp.__name__} array: pass X_val in X's namespace."
                )
            X_val = _move(X_val, xp, device)
        X_val = _astype(X_val, X.dtype) if X_val.dtype != X.dtype else X_val
        y_val = np.asarray(to_numpy(y_val))
        if y_val.ndim != 1 or y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"y_val must be 1-D with one label per row of X_val ({X_val.shape[0]})"
                f", got shape {y_val.shape}."
            )
        y_val_idx = self._encode(y_val, name="y_val")
        sw_val = self._weights(
            X_val, y_val_idx, sample_weight_val, class_weights, "sample_weight_val"
        )
        return X_val, y_val_idx, sw_val

    def _split(self, y_idx, rng):
        """Row indices of the training and validation parts (no copy of X)."""
        n = y_idx.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} on {n} samples "
                "leaves no validation or no training data; use more samples, another "
                "validation_fraction, or pass X_val and y_val."
            )
        idx = np.arange(n)
        seed = rng.randint(np.iinfo(np.int32).max)
        try:
            train, val = train_test_split(
                idx, test_size=n_val, stratify=y_idx, random_state=seed
            )
        except ValueError:
            warn(
                "A class has too few members for a stratified validation split; "
                "falling back to a random split.",
                UserWarning,
            )
            train, val = train_test_split(idx, test_size=n_val, random_state=seed)
        return np.sort(train), np.sort(val)

    @warnings_at_caller
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of training on (X, y), continuing from the current state.

        The velocities, the schedule's position (``'adaptive'`` and ``'cosine'``
        are defined over calls: see the User Guide) and the loss-spike guard carry
        over from call to call. If anything raises, the estimator is left exactly
        as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data of this call.
        y : array-like of shape (n_samples,)
            Class labels of this call.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, and if given later it must
            equal ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied with ``class_weight`` (a dict; classes
            it does not name get 1).

        Returns
        -------
        self : SoftmaxNetClassifier
            The updated estimator.
        """
        first = not hasattr(self, "coefs_")
        self._check_params()
        classes = self._partial_fit_classes(classes, first)
        with self._transaction():
            y_given = y
            X, y = self._validate_X_y(X, y, reset=first, declared=True)
            if first:
                self._set_classes(classes, y_given)
            y_idx = self._encode(y)
            class_weights = self._class_weights(y_idx, partial=True)
            sw = self._weights(X, y_idx, sample_weight, class_weights)
            if first:
                rng = check_random_state(self.random_state)
                self._init_state(X.shape[1], len(classes), X.dtype, rng, *_namespace(X))
            else:
                self._continue_on(X, "partial_fit")
                if self.coefs_[0].dtype != X.dtype:
                    X = _astype(X, self.coefs_[0].dtype)
            self._resolve_auto(
                X.shape[0], _n_weighted(sw, None, X.shape[0]), stream=True
            )
            comparable = self._add_to_stream(X, y_idx, sw, first)
            rng = None
            if self.shuffle:
                seed = (self._shuffle_seed + len(self.history_)) % _INT32_MAX
                rng = np.random.RandomState(seed)
            outcome = self._run(
                X, y_idx, sw, rows=None, val=None, rng=rng, fitting=False,
                fit_args=None, comparable=comparable,
            )  # fmt: skip
        self._report(outcome)
        return self

    def _add_to_stream(self, X, y_idx, sw, first: bool) -> bool:
        """What a ``partial_fit`` call adds to the stream: its class weight (the
        stream's prior), the first call's feature statistics (kept), and the
        warnings its weights, size or classes call for. Returns whether the spike
        guard may compare the call's loss with the stream's (``_judge_order``)."""
        one_class = bool(np.all(y_idx == y_idx[0]))
        if sw is not None and (
            sw.shape[0] == 1 or (one_class and self.class_weight is not None)
        ):
            self._warn_flat_weights(sw)
        call = np.bincount(y_idx, weights=sw, minlength=self.classes_.shape[0])
        before = getattr(self, "_stream_counts", None)  # (None in older pickles)
        self._stream_counts = call if before is None else call + before
        comparable = self._judge_order(y_idx)
        if not self.standardize:
            self.feature_mean_ = self.feature_scale_ = None
        elif self.feature_mean_ is None:  # the first call's statistics, kept
            self._fit_scaling(X, sw, None, fresh=first)
            if X.shape[0] < _MIN_STREAM_ROWS:
                warn(_SMALL_FIRST_CALL.format(n=X.shape[0]), UserWarning)
        return comparable

    def _judge_order(self, y_idx) -> bool:
        """Whether the spike guard may compare this call's loss with the stream's
        (``class_mix_comparable``), warning once if the stream looks ordered. The
        order is judged by rows per class, not by weight (a shuffled stream with
        ``class_weight={1: 49}`` is no ordered one)."""
        rows = np.bincount(y_idx, minlength=self.classes_.shape[0]).astype(float)
        before = getattr(self, "_stream_rows", None)
        self._stream_rows = rows if before is None else rows + before
        mix, mix_before = self._judged_mix(rows, before, y_idx.shape[0])
        comparable = mix is None or class_mix_comparable(mix, mix_before)
        if not comparable and np.count_nonzero(mix) == 1:
            self._warn_ordered_stream(mix, mix_before)
        return comparable

    def _judged_mix(self, rows, before, n_rows: int) -> tuple:
        """Rows per class of what the spike guard judges in this call, and of the
        stream before it: the call's own from ``_MIN_STREAM_ROWS`` rows, else the
        pool of small calls that this call fills (``(None, None)`` while it stays
        open: a sorted stream of one-row calls makes pools of one class)."""
        if n_rows >= _MIN_STREAM_ROWS:
            return rows, before
        state = self._spike_streak
        pooled = state[6] if state is not None and len(state) > 6 else 0
        pool = getattr(self, "_pool_rows", None) if pooled else None  # (emptied)
        pool = rows if pool is None else pool + rows
        if pooled + n_rows < _MIN_STREAM_ROWS:
            self._pool_rows = pool
            return None, None
        self._pool_rows = None
        return pool, self._stream_rows - pool

    def _warn_ordered_stream(self, call, before) -> None:
        """Once per stream: a call of one class that held under half the stream's
        rows (so ``class_mix_comparable`` refused it)."""
        if getattr(self, "_warned_ordered", False):
            return
        k = int(np.argmax(call))
        share = before[k] / before.sum()
        self._warned_ordered = True
        warn(
            _ORDERED_STREAM.format(
                n=int(call.sum()),
                cls=self._host_classes()[k : k + 1].tolist()[0],
                share=share,
            ),
            UserWarning,
        )

    def _warn_flat_weights(self, sw) -> None:
        """Once per stream: weights that cannot act on a call are not silent."""
        if getattr(self, "_warned_flat_weights", False) or np.ptp(sw) > 0:
            return
        self._warned_flat_weights = True
        warn(
            "partial_fit normalises each call by its own mean weight, and the "
            f"{sw.shape[0]} row(s) of this call all weigh {float(sw[0]):.4g}: "
            "sample_weight and class_weight have no effect on its step (nor on any "
            "call of one row, or of one class under class_weight). For them to "
            "act, give each call rows of several classes and weights.",
            UserWarning,
        )

    def _partial_fit_classes(self, classes, first: bool):
        """``classes`` checked: required, unique and >= 2 on the first call; equal
        to ``classes_`` when given later. Returns them sorted, as NumPy."""
        if not first:
            given = None if classes is None else np.unique(to_numpy(classes))
            if given is not None and not np.array_equal(given, self._host_classes()):
                raise ValueError(
                    f"classes={given.tolist()} is not the same as on the first call "
                    f"to partial_fit ({self._host_classes().tolist()})."
                )
            return given
        if classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        classes = np.asarray(to_numpy(classes))
        if np.unique(classes).shape[0] != classes.shape[0]:
            raise ValueError("classes must not contain duplicates.")
        if classes.shape[0] < 2:
            raise ValueError(
                "classes must contain at least two classes for partial_fit."
            )
        return np.unique(classes)

    def _run(
        self, X, y_idx, sw, *, rows, val, rng, fitting, fit_args, warm=False,
        comparable=True,
    ):  # fmt: skip
        """Compose optimizer, schedule, monitor and guard; train; store the results.

        ``X``, ``y_idx`` and ``sw`` come validated (``y_idx`` and ``sw`` on the host);
        here they move to X's device once and X is standardised (the weights train
        in the standardised parametrisation and are folded back at the end).
        ``warm``: a fit continuing from fitted weights, which stay a candidate for
        the best epoch (epoch 0). Returns what ``_report`` needs to warn or raise
        once the state is settled. ``comparable``: see ``_judge_order``.
        """
        scaling = self._scaling()
        X_train, y_train, sw_train = self._training_arrays(X, y_idx, sw, scaling)
        val_dev = None if val is None else self._training_arrays(*val, scaling)
        params = self._params
        optimizer = SGD(self.momentum, self.nesterovs_momentum, self._velocities)
        schedule = self._schedule()
        monitor = self._monitor(fitting, val is not None)
        guard = self._guard(fitting, comparable)
        start = 0 if fitting else self.n_iter_
        on_epoch_end, finish_callbacks = self._epoch_hooks(fit_args, val is not None)
        with self._standardised(params, scaling):
            validate = val_loss = None
            if val is not None:
                validate, val_loss = self._make_validator(*val_dev)
                score = validate(params)[1]  # fails here, not mid-training, if it does
                if warm:
                    monitor.start(score, params)
            guard.resume(None if fitting else self._spike_streak, params, start)
            # training_threads: one BLAS pool for the whole loop (two pools contend)
            with interrupt_guard() as stop_requested, training_threads():
                result = fit_epochs(
                    params, optimizer, schedule, X_train, y_train, sw_train,
                    rows=rows, n_epochs=self.max_iter_ if fitting else 1,
                    batch_size=self.batch_size_, alpha=self.alpha_, rng=rng,
                    guard=guard, monitor=monitor, history=self.history_,
                    epoch_offset=start, t=self.t_, validate=validate,
                    on_epoch_end=on_epoch_end, stop_requested=stop_requested,
                    log=print if self.verbose else None,
                )  # fmt: skip
            finish_callbacks()
            self._store_run(result, optimizer, schedule, guard, monitor, fitting)
            held, restored = None, False
            if fitting:
                held, restored = self._end_fit(monitor, result, val_loss, val)
        return _Outcome(result, guard, fitting, (X, y_idx, sw, rows), held, restored)

    def _guard(self, fitting: bool, comparable: bool) -> SpikeGuard:
        """A fit's loss-spike guard, or a stream call's: that one pools small calls,
        and carries its spikes in a row and reference loss across calls (``resume``).
        """
        if fitting:
            return SpikeGuard(n_classes=self.classes_.shape[0])
        return SpikeGuard(
            n_classes=self.classes_.shape[0],
            min_rows=_MIN_STREAM_ROWS,
            comparable=comparable,
        )

    def _schedule(self) -> LearningRateSchedule:
        """The learning-rate schedule, where the last ``partial_fit`` call left it.

        Afresh after a ``fit`` (its 'adaptive' rate ends where the fit converged,
        as low as 2.6e-7, and a stream of new rows would keep it for good) and after
        ``set_params(learning_rate_init=...)``: the rate asked for is the rate used.
        """
        state = self._schedule_state
        if state is not None and (
            not state.get("stream", True)  # (older pickles: a stream's)
            or state.get("init", self.learning_rate_init) != self.learning_rate_init
        ):
            state = None
        return LearningRateSchedule(
            self.learning_rate,
            self.learning_rate_init,
            power_t=self.power_t,
            max_iter=self.max_iter_,
            warmup_iters=self.warmup_iters,
            state=state,
        )

    def _store_run(self, result, optimizer, schedule, guard, monitor, fitting) -> None:
        """What the next ``partial_fit`` call (or warm fit) continues from."""
        self._velocities = optimizer.velocities
        self._schedule_state = {
            **schedule.state,
            "init": self.learning_rate_init,
            "stream": not fitting,
        }
        self.n_iter_ = result.n_epochs + (0 if fitting else self.n_iter_)
        self.t_ = result.t
        self.n_recoveries_ += guard.n_spikes
        # a stream after fit starts its own reference: the fit's best epoch is a
        # training loss on rows fitted many times, not a loss on new rows
        self._spike_streak = None if fitting else guard.state
        self._store_history()
        if not fitting:
            self._plateau_state = (
                monitor.best_loss,
                monitor.no_improvement_count,
                monitor.window.total,
                monitor.window.rows,
            )
            self.best_validation_score_ = None  # it scored other weights

    @contextlib.contextmanager
    def _standardised(self, params, scaling):
        """Inside the block the first layer acts on the standardised input (where
        the loop trains it); outside, on X as given (where ``coefs_`` always are)."""
        if scaling is None:
            yield
            return
        scaling.unfold(params)
        self._unfolded = scaling  # a callback's snapshot folds a copy (mid-fit)
        try:
            yield
        finally:
            scaling.fold(params)
            self._unfolded = None

    def _scaling(self) -> FeatureScaling | None:
        if self.feature_mean_ is None:
            return None
        return FeatureScaling(self.feature_mean_, self.feature_scale_)

    def _fit_scaling(self, X, sw, rows, *, fresh: bool) -> None:
        """``feature_mean_`` / ``feature_scale_`` of the training rows (weighted),
        with ``standardize``; None without.

        ``fresh``: the weights were just initialised, for the standardised input;
        they are folded, as ``coefs_`` always are outside the training loop.
        """
        self.feature_mean_ = self.feature_scale_ = None
        if not self.standardize:
            return
        if rows is not None:  # the validation rows weigh nothing: no copy of X
            w = np.zeros(X.shape[0], dtype=_host_dtype(X))
            w[rows] = 1.0 if sw is None else sw[rows]
            sw = w
        xp, device = _namespace(X)
        if sw is not None and xp is not None:
            sw = xp.asarray(sw, device=device)
        scaling = FeatureScaling.fit(X, sw)
        self.feature_mean_, self.feature_scale_ = scaling.mean, scaling.scale
        if fresh:
            scaling.fold(self._params)

    @staticmethod
    def _training_arrays(X, y_idx, sw, scaling):
        """X standardised; class indices and weights on X's device."""
        if scaling is not None:
            X = scaling.transform(X)
        xp, device = _namespace(X)
        if xp is None:
            return X, y_idx, sw
        y_dev = xp.asarray(y_idx.astype(np.int64), device=device)
        return X, y_dev, None if sw is None else xp.asarray(sw, device=device)

    def _monitor(self, fitting: bool, has_val: bool) -> StoppingMonitor:
        if fitting:
            return StoppingMonitor(
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                early_stopping=self.early_stopping_ and has_val,
                keep_best=has_val and self.restore_best_weights,
            )
        # partial_fit: the plateau counter runs over windows of calls ('adaptive'
        # decays on it); nothing ever stops
        best, count, *window = self._plateau_state or (math.inf, 0)
        window_loss, window_n = window or (0.0, 0)  # (older pickles: none)
        return StoppingMonitor(
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            early_stopping=False,
            keep_best=False,
            best_loss=best,
            no_improvement_count=count,
            window=RowWindow(_PLATEAU_ROWS, window_loss, window_n),
        )

    def _end_fit(self, monitor: StoppingMonitor, result, val_loss, val) -> tuple:
        """Restore the best validation epoch, and say what the weights are.

        Returns ``(held, restored)`` for ``_Outcome``: with ``scoring='loss'`` the
        validation loss of the weights returned, with the validation ``(X, y,
        sw)`` (else None), and whether they are an earlier epoch's than the last.
        """
        has_val = val is not None
        self.best_epoch_ = max(monitor.best_epoch, 0)
        # no score describes the weights held: a warm fit without validation data,
        # or a fresh fit that ended before its first epoch was scored
        scored = has_val and monitor.best_epoch >= 0
        self.best_validation_score_ = float(monitor.best_score) if scored else None
        if monitor.best_params is not None:  # kept only to be restored
            copy_params(monitor.best_params, self._params)
            if self.verbose:
                print(
                    f"Restored the weights of epoch {self.best_epoch_} (best "
                    f"validation score {self.best_validation_score_:.6g})."
                )
        held = None
        if has_val and self.scoring in ("loss", None):  # for the validation check
            held = (val_loss(self._params), *val)
        restored = monitor.best_params is not None and (
            monitor.best_epoch != result.n_epochs
        )
        return held, restored

    def _spike_advice(self, data) -> str:
        """What to do about loss spikes, for the ``(X, y_idx, sw, rows)`` trained on."""
        X, _, sw, rows = data
        if not self.standardize:
            advice = _SCALE_ADVICE
        else:
            advice = _SPARSE_ADVICE if sp.issparse(X) else _STEP_ADVICE
        advice = advice.format(lr0=self.learning_rate_init)
        mean_w = 1.0 if sw is None else float(np.mean(sw if rows is None else sw[rows]))
        if mean_w <= 0:
            return advice
        decay = self.learning_rate_init * self.alpha_ / (self.batch_size_ * mean_w)
        if decay > 1:
            advice += _DECAY_ADVICE.format(
                decay=decay, mean_w=mean_w, alpha=self.alpha_
            )
        return advice

    def _report(self, outcome: _Outcome) -> None:
        """Warn or raise about how training ended; the state is final by now."""
        result, guard, fitting = outcome.result, outcome.guard, outcome.fitting
        if result.interrupted:
            restored = fitting and self.restore_best_weights
            held = (
                f"the restored weights of its best epoch ({self.best_epoch_})"
                if restored and self.best_validation_score_ is not None
                else "the weights of a complete epoch or batch"
            )
            warn(
                f"Training interrupted (KeyboardInterrupt); n_iter_={self.n_iter_} "
                "(an epoch cut short by Ctrl-C counts, with the mean loss of the "
                f"batches that ran). The model holds {held}; it can predict, and "
                "warm_start=True or partial_fit continue from it.",
                UserWarning,
            )
        elif result.diverged:
            msg = _DIVERGED_MSG.format(
                epoch=self.history_[-1]["epoch"],
                n=guard.n_spikes,
                best=guard.best.epoch,
                loss=guard.best.loss,
                advice=self._spike_advice(outcome.data),
            )
            if self.on_divergence == "raise":
                raise TrainingDivergedError(msg)
            warn(msg, ConvergenceWarning)
        elif guard.n_spikes:
            factor = self._schedule_state["factor"]
            last = self.history_[-1]  # the rate now: the schedule's, times the cuts
            rate = last["learning_rate"] * (guard.cut if "event" in last else 1.0)
            warn(
                _RECOVERED_MSG.format(
                    n=guard.n_spikes,
                    fold=1.0 / factor,
                    rate=rate,
                    lr0=self.learning_rate_init,
                    advice=self._spike_advice(outcome.data),
                ),
                ConvergenceWarning,
            )
        elif (
            fitting
            and not (result.converged or result.stopped_by_callback)
            and result.n_epochs == self.max_iter_
        ):
            warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter_}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        self._warn_if_chance_level(outcome)
        if outcome.held is not None:
            self._warn_if_no_better_on_validation(outcome)

    def _class_prior(self, y_idx, sw, rows) -> np.ndarray:
        """The training rows' class frequencies (weighted), one per class."""
        if rows is not None:
            y_idx, sw = y_idx[rows], None if sw is None else sw[rows]
        counts = np.bincount(y_idx, weights=sw, minlength=self.classes_.shape[0])
        return counts / counts.sum()

    def _host_forward(self, X) -> tuple[np.ndarray, list[int]]:
        """The logits of host rows X, and the hidden layers (1-based) where no unit
        is active: the checks' rare forward pass, on the host whatever the
        weights' namespace."""
        acts = forward([(to_numpy(W), to_numpy(b)) for W, b in self._params], X)
        dead = [i + 1 for i, a in enumerate(acts[1:-1]) if not np.any(a > 0)]
        return acts[-1], dead

    def _warn_if_chance_level(self, outcome: _Outcome) -> None:
        """A model no better, or barely better, than the class prior is never
        returned silently.

        The last epoch's loss (free) is a running mean along the epoch; only when it
        is above ``_BARELY`` times the prior's log-loss, or when the weights returned
        are an earlier epoch's, are those weights evaluated, on up to 1000 training
        rows. A failure is certain when a hidden layer is dead or the fit is over
        (the stopping rule, Ctrl-C, an earlier epoch restored); otherwise it is
        called after 10 epochs, before which a slow start looks the same (a
        ``max_iter`` below 10 warns on its own).
        """
        if not outcome.fitting:  # a call is a few rows of a stream: judged as one
            self._warn_if_stream_at_chance(outcome)
            return
        result = outcome.result
        X, y_idx, sw, rows = outcome.data
        entropy = _prior_entropy(self._class_prior(y_idx, sw, rows))
        if entropy is None:
            return
        if not (outcome.restored or result.data_loss >= _BARELY * entropy):
            return  # (a NaN loss: no epoch to judge)
        if rows is not None:
            y_idx, sw = y_idx[rows], None if sw is None else sw[rows]
        n = min(y_idx.shape[0], 1000)
        # a rare check on a few rows: on the host, whatever X's namespace
        X = to_numpy(_take_rows(X, np.arange(n) if rows is None else rows[:n]))
        sw_n = None if sw is None else sw[:n]
        total_n = n if sw_n is None else float(sw_n.sum())
        if total_n <= 0:
            return
        logits, dead = self._host_forward(X)
        loss = weighted_cross_entropy(log_softmax(logits), y_idx[:n], sw_n) / total_n
        over = result.converged or result.interrupted or outcome.restored
        if loss < _BARELY * entropy or not (dead or over or len(self.history_) >= 10):
            return
        runs = self.history_[len(self.history_) - result.n_epochs :]  # this fit's
        kept = [r["train_loss"] for r in runs if "event" not in r]
        facts = {
            "dead": dead,
            "scale": float(abs(X).max()),
            "total": float(y_idx.shape[0] if sw is None else sw.sum()),
            "outcome": outcome,
            "same_rows": _all_rows_equal(X),
            # the loss curve of this run: flat *above* the prior's means the weights
            # hardly moved (any real step learns the prior, the output biases, first)
            "small_step": f"the training loss moved by {kept[0] - kept[-1]:.2g} over "
            f"{len(kept)} epochs"
            if len(kept) > 1 and abs(kept[0] - kept[-1]) < 0.01 and loss > entropy
            else None,
        }
        warn(self._chance_message(loss, entropy, facts), ConvergenceWarning)

    def _warn_if_stream_at_chance(self, outcome: _Outcome) -> None:
        """``partial_fit``: the calls as the spike guard judged them (on their own
        from 32 rows, else pooled to 32 or more), their loss taken online (each
        row before its update), against the class prior of the stream so far.

        32 or 64 rows of a good model often score near the prior (a call's own
        rows, a pool of one-row calls), so the judged losses are gathered into
        windows of ``_PLATEAU_ROWS`` rows, and a window whose mean is at or above
        ``_BARELY`` times the prior's log-loss warns, once per run of such windows.
        The stream's first window is not judged: a stream that learns starts there.
        """
        pool, counts = outcome.guard.judged_pool, self._stream_counts
        if pool is None or counts is None:
            return
        entropy = _prior_entropy(counts)
        if entropy is None:
            return
        window = self._stream_window(*pool, entropy)
        if window is None:
            return
        loss, rows = window
        X = to_numpy(outcome.data[0])
        logits, dead = self._host_forward(X)
        # what the online loss cannot tell: whether the predictions differ (then
        # the rows changed under a model that had learned, it is no step too small)
        varied = np.unique(np.argmax(logits, axis=1)).shape[0] > 1
        facts = {
            "dead": dead,
            "scale": float(abs(X).max()),
            "total": float(counts.sum()),
            "outcome": outcome,
            "same_rows": False,
            # a step that learns fits the class prior (the output biases) first
            "small_step": f"the online loss stayed above the prior's over {rows} "
            "rows with no loss spike"
            if loss > entropy and outcome.guard.n_spikes == 0 and not varied
            else None,
            "online_rows": rows,
            "varied": varied,
        }
        warn(self._chance_message(loss, entropy, facts), ConvergenceWarning)

    def _stream_window(self, loss: float, n_rows: int, entropy: float):
        """Add a judged loss of ``n_rows`` rows to the stream's window; return the
        window's ``(mean loss, rows)`` when it is full, near the prior, not the
        stream's first, and the first of its run (else None)."""
        state = getattr(self, "_stream_bad", None)
        if state is None or len(state) != 4:  # (older pickles: a count of calls)
            state = (0.0, 0, 0, False)
        total, rows, windows, warned = state
        window = RowWindow(_PLATEAU_ROWS, total, rows)
        full = window.add(loss, n_rows)
        if full is None:
            self._stream_bad = (window.total, window.rows, windows, warned)
            return None
        near = windows > 0 and full[0] >= _BARELY * entropy
        self._stream_bad = (0.0, 0, windows + 1, near)
        return full if near and not warned else None

    def _chance_message(self, loss, entropy, facts) -> str:
        """Why a fit is at or near the class prior, and what to try."""
        dead, outcome = facts["dead"], facts["outcome"]
        if dead:
            why = f"every unit of hidden layer(s) {dead} is inactive (dead ReLUs)"
        elif facts.get("varied"):  # a stream: confident, and wrong on new rows
            why = (
                "its predictions differ from row to row, but score no better than "
                "the prior on rows it had not seen (labels that changed, or steps "
                "that undo each other)"
            )
        elif loss >= 0.99 * entropy:
            why = "the network predicts about the same for every sample"
        else:
            why = (
                f"it explains less than {1 - _BARELY:.0%} of the prior's log-loss on "
                "the data it was trained on, where a network this size can usually "
                "fit far more"
            )
        verdict = "no better" if loss >= 0.99 * entropy else "barely better"
        which = (
            f" (the weights of epoch {self.best_epoch_}, restored as the best on the "
            "validation data)"
            if outcome.restored
            else ""
        )
        if "online_rows" in facts:
            which = (
                f" (online, each row before its update: the mean over the last "
                f"{facts['online_rows']} rows streamed)"
            )
        return (
            f"Training ended {verdict} than predicting the class prior: training "
            f"log-loss {loss:.4g}{which}, the prior's {entropy:.4g}; {why}. Likely "
            f"causes and fixes: {'; '.join(self._chance_causes(facts, verdict))}."
        )

    def _chance_causes(self, facts, verdict: str) -> list[str]:
        result = facts["outcome"].result
        if facts["same_rows"]:  # then nothing else matters
            return [
                "every training row checked (up to 1000) has the same features, so "
                "no model beats the prior on them: check the input"
            ]
        if result.interrupted:
            return [
                f"training was interrupted (Ctrl-C) after {result.n_epochs} epoch(s), "
                "before it learned: continue it with warm_start=True or partial_fit"
            ]
        causes = []
        if facts.get("varied"):
            causes.append(
                "rows unlike the earlier ones (a class back after a gap, labels that "
                "drift): if the next windows recover there is nothing to fix, else "
                "shuffle the stream"
            )
        if facts["outcome"].restored:
            causes.append(
                f"the validation score (scoring={self.scoring!r}) chose epoch "
                f"{self.best_epoch_} of {result.n_epochs}: a score other than the "
                "loss may not tell the epochs apart on a small validation part "
                "(scoring='loss', a larger validation_fraction, or "
                "restore_best_weights=False for the last epoch's weights)"
            )
        if self.feature_mean_ is None:  # standardised inside: not the scale of X
            causes.append(
                f"unscaled features (the largest feature value here is "
                f"{facts['scale']:.3g}): scale them with standardize=True (the "
                "default) or a StandardScaler"
            )
        moved = facts["small_step"]
        if moved is not None and not facts["dead"]:
            causes.append(
                f"a step too small ({moved}): raise learning_rate_init (now "
                f"{self.learning_rate_init})"
            )
        else:
            causes.append(
                f"a step too large: lower learning_rate_init (now "
                f"{self.learning_rate_init})"
            )
        causes.append(
            f"a penalty too strong: lower alpha (now {self.alpha_:.4g}) or rescale "
            f"the sample weights (the penalty is alpha / (2 S) with S = total sample "
            f"weight = {facts['total']:.4g})"
        )
        if verdict == "barely better" and not facts["dead"]:
            causes.append(
                "or data that hold little more than the prior (noisy labels, weak "
                "features): compare a LogisticRegression's training log-loss"
            )
        if result.converged and facts["outcome"].fitting and not facts["dead"]:
            # a slow start that the stopping rule took for the end
            causes.append(
                f"too few steps before the stopping rule (tol, n_iter_no_change) "
                f"ended it: smaller batches "
                f"(batch_size, now {self.batch_size_}) or a larger n_iter_no_change "
                f"(now {self.n_iter_no_change})"
            )
        return causes

    def _warn_if_no_better_on_validation(self, outcome: _Outcome) -> None:
        """Weights chosen by the validation loss that predict the validation data
        worse than the training class prior does are never returned silently.

        Only for ``scoring='loss'``: another score chose the epoch for what it
        measures, not for its log-loss (a score that cannot tell the epochs apart
        is named by the class-prior check). A small validation part is noisy (30
        rows of a good model can score worse than the prior), so the warning needs
        the excess loss to be more than twice its standard error.
        """
        val_loss, X_val, y_val, sw_val = outcome.held
        prior = self._class_prior(*outcome.data[1:])
        w = np.ones(y_val.shape[0]) if sw_val is None else np.asarray(sw_val)
        keep = w > 0
        if not np.all(prior[y_val[keep]] > 0):  # the prior cannot predict a class
            return
        y, w = y_val[keep], w[keep]
        prior_rows = -np.log(prior[y])
        if float(val_loss) < np.sum(w * prior_rows) / w.sum():
            return
        # per row, on the host (rare): the held weights' loss minus the prior's
        logits, _ = self._host_forward(
            to_numpy(_take_rows(X_val, np.flatnonzero(keep)))
        )
        log_proba = log_softmax(logits)
        diff = -log_proba[np.arange(y.shape[0]), y] - prior_rows
        mean = float(np.sum(w * diff) / w.sum())
        se = float(np.sqrt(np.sum(w**2 * (diff - mean) ** 2)) / w.sum())
        if mean <= 2 * se:
            return
        which = (
            f" (the weights of epoch {self.best_epoch_}, the best on it)"
            if outcome.restored
            else ""
        )
        warn(
            "On the validation data the model is worse than predicting the class "
            f"prior: validation log-loss {float(val_loss):.4g}{which}, the prior's "
            f"{float(val_loss) - mean:.4g}, worse by more than twice the standard "
            f"error ({se:.2g}) over {y.shape[0]} rows. Likely causes and fixes: "
            "features that carry little signal for this many training rows, or a "
            f"model that overfits them: a larger alpha (now {self.alpha_:.4g}) or "
            "more data.",
            ConvergenceWarning,
        )

    def _store_history(self):
        """Derive the MLPClassifier-style curves from history_ (one source).

        ``loss_`` and ``best_loss_`` skip the epochs the spike guard rolled back.
        """
        hist = self.history_
        self.loss_curve_ = [r["train_loss"] for r in hist]
        kept = [r["train_loss"] for r in hist if "event" not in r]
        # None until an epoch completes (a fit that diverged in its first epoch)
        self.loss_ = kept[-1] if kept else None
        self.best_loss_ = min(kept, default=np.inf)
        if any("val_score" in r for r in hist):
            self.validation_scores_ = [r.get("val_score", np.nan) for r in hist]
            self.validation_loss_curve_ = [r.get("val_loss", np.nan) for r in hist]
        else:
            self.validation_scores_ = None
            self.validation_loss_curve_ = None

    def _make_validator(self, X_val, y_val, sw_val):
        scorer = None
        if self.scoring not in ("loss", None):
            scorer = check_scoring(self, scoring=self.scoring)
        xp, device = _namespace(X_val)
        S = y_val.shape[0] if sw_val is None else float(array_sum(sw_val))
        kwargs = {} if sw_val is None else {"sample_weight": sw_val}
        labels = self._host_classes()[to_numpy(y_val)]
        if xp is not None and labels.dtype.kind in "biuf":  # predict's namespace
            labels = xp.asarray(labels, device=device)

        def loss(params):
            log_proba = self._log_proba(X_val, params)
            return weighted_cross_entropy(log_proba, y_val, sw_val) / S

        def validate(params):
            val_loss = loss(params)
            if scorer is None:
                return val_loss, -val_loss
            with warnings.catch_warnings():
                # X_val was validated already (names dropped): not the user's doing
                warnings.filterwarnings("ignore", message="X does not have valid")
                score = float(scorer(self, X_val, labels, **kwargs))
            if math.isnan(score):  # never better, never worse: it would pin epoch 1
                raise ValueError(
                    f"The validation score (scoring={self.scoring!r}) is NaN. The "
                    "best epoch and early stopping compare scores, and NaN is "
                    "neither better nor worse than any: make the scorer return a "
                    "number on the validation data, or use scoring='loss'."
                )
            return val_loss, score

        return validate, loss

    def _epoch_hooks(self, fit_args, has_val):
        """Verbose printing and scikit-learn callbacks, called at each epoch end."""
        verbose = self.verbose
        ctx = None
        if HAS_CALLBACKS and fit_args is not None and hasattr(self, "_skl_callbacks"):
            ctx = self._init_callback_context(max_subtasks=self.max_iter_)
            ctx.call_on_fit_task_begin(estimator=self, X=fit_args[0], y=fit_args[1])
        if verbose:
            cols = "epoch  train_loss" + ("    val_loss   val_score" if has_val else "")
            print(cols + "          lr     secs")

        def on_epoch_end(record):
            if verbose:
                line = f"{record['epoch']:5d} {record['train_loss']:11.6f}"
                if has_val:
                    line += f" {record['val_loss']:11.6f} {record['val_score']:11.6f}"
                print(line + f" {record['learning_rate']:11.3g} {record['time']:8.3f}")
            if ctx is None:
                return False
            sub = ctx.subcontext(task_name="epoch")
            sub.call_on_fit_task_begin(estimator=self, X=fit_args[0], y=fit_args[1])
            return sub.call_on_fit_task_end(
                estimator=self,
                X=fit_args[0],
                y=fit_args[1],
                reconstruction_attributes=self._reconstruction_attributes,
            )

        def finish():
            if ctx is not None:
                ctx.call_on_fit_task_end(
                    estimator=self,
                    X=fit_args[0],
                    y=fit_args[1],
                    reconstruction_attributes=self._reconstruction_attributes,
                )

        return on_epoch_end, finish

    def _reconstruction_attributes(self):
        params = copy_params(self._params)
        if getattr(self, "_unfolded", None) is not None:  # mid-fit: as fit returns them
            self._unfolded.fold(params)
        return {
            "coefs_": [W for W, _ in params],
            "intercepts_": [b for _, b in params],
        }

    # ------------------------------------------------------------------- predict
    def _chunked_logits(self, X, params=None, *, log_softmax_=False):
        """Logits (or their log_softmax), CHUNK_ROWS rows at a time.

        Bounds the extra memory of predicting any number of rows to one chunk's
        activations, CHUNK_ROWS * (sum of layer widths) floats, plus the output.
        """
        params = self._params if params is None else params
        n = X.shape[0]
        W_out = params[-1][0]
        on_numpy = isinstance(W_out, np.ndarray)
        xp, device = (np, None) if on_numpy else namespace_of(W_out)
        out = xp.empty((n, W_out.shape[1]), dtype=W_out.dtype, device=device)
        for start in range(0, n, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, n)
            logits = forward(params, X[start:stop, ...])[-1]
            if log_softmax_ and on_numpy:  # straight into the output, no temporary
                log_softmax(logits, out=out[start:stop])
            else:
                out[start:stop, ...] = log_softmax(logits) if log_softmax_ else logits
        return out

    def _log_proba(self, X, params=None):
        return self._chunked_logits(X, params, log_softmax_=True)

    def _outputs(self, X, method: str, *, log_softmax_: bool = True):
        """A predict method's log-probabilities (or logits), never NaN silently."""
        X = self._validate_predict(X, method)
        out = self._chunked_logits(X, log_softmax_=log_softmax_)
        if isinstance(out, np.ndarray):
            n_bad = int(np.count_nonzero(~np.isfinite(out).all(axis=1)))
        else:  # one scalar read per call
            xp = namespace_of(out)[0]
            n_bad = int(xp.sum(xp.astype(~xp.all(xp.isfinite(out), axis=1), xp.int32)))
        if n_bad:
            xp = _namespace(X)[0]  # None: NumPy or SciPy sparse
            scale = float(to_numpy(abs(X).max() if xp is None else xp.max(xp.abs(X))))
            warn(
                f"{method}: {n_bad} of {X.shape[0]} rows give non-finite outputs: "
                f"their features overflow the network (the largest |value| in X is "
                f"{scale:.3g}), so their predictions mean nothing. Check those rows "
                "(they should be on the scale of the training data).",
                UserWarning,
            )
        return out

    def _validate_predict(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="_coef0", method=method)
        X = self._validate_X(X, dtype=None)
        if sp.issparse(X) and X.format == "csc":
            X = X.tocsr()
        if _namespace(X) != _namespace(self.coefs_[0]):
            # array_api_dispatch is off now but was on in fit (or the reverse)
            raise ValueError(
                f"{type(self).__name__}.{method}() got X as "
                f"{type(X).__module__}.{type(X).__name__}, but the model's weights "
                f"are {type(self.coefs_[0]).__module__} arrays: the namespace and "
                "device of fit. Predict inside sklearn.config_context("
                "array_api_dispatch=True) with X in that namespace and device, or "
                "move the model first: 'from sklearn.utils._array_api import "
                'move_estimator_to; model = move_estimator_to(model, numpy, "cpu")\'.'
            )
        dtype = self.coefs_[0].dtype
        if X.dtype != dtype:
            X = _astype(X, dtype)
        return X

    def decision_function(self, X):
        """Logits; for two classes, ``z_1 - z_0`` as a 1-D array (> 0: classes_[1]).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            The output layer's values before the softmax; for two classes, the
            difference of its two units.
        """
        out = self._outputs(X, "decision_function", log_softmax_=False)
        if self.n_outputs_ == 2:
            return out[:, 1] - out[:, 0]
        return out

    def predict_log_proba(self, X):
        """Return log-probabilities from a stable log-softmax.

        Finite wherever the logits are finite, even where
        ``log(predict_proba(X))`` would be ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        return self._outputs(X, "predict_log_proba")

    def predict_proba(self, X):
        """Class probabilities, ``exp(log_softmax(logits))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``; rows sum
            to 1.
        """
        out = self._outputs(X, "predict_proba")
        if isinstance(out, np.ndarray):
            return np.exp(out, out=out)
        return namespace_of(out)[0].exp(out)

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted labels, taken from ``classes_``.
        """
        log_proba = self._outputs(X, "predict")
        if isinstance(log_proba, np.ndarray):
            return self._host_classes()[np.argmax(log_proba, axis=1)]
        xp, device = namespace_of(log_proba)
        idx = xp.argmax(log_proba, axis=1)
        if not _is_host(self.classes_) and namespace_of(self.classes_) == (xp, device):
            return xp.take(self.classes_, idx, axis=0)  # no trip to the host
        labels = self._host_classes()[to_numpy(idx)]
        if labels.dtype.kind not in "biuf":  # strings stay NumPy, as scikit-learn
            return labels
        return xp.asarray(labels, device=device)
