"""SoftmaxNetClassifier: the scikit-learn face of the network.

This module does the scikit-learn API only (parameters, validation, tags, fitted
attributes) and composes ``_math`` (the network), ``_optim`` (the update rule and
the schedule) and ``_training`` (the loop).
"""

from __future__ import annotations

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import (
    HAS_CALLBACKS,
    CallbackSupportMixin,
    Interval,
    StrOptions,
    _check_sample_weight,
    with_callbacks,
)
from ._math import forward, init_params, log_softmax, weighted_cross_entropy
from ._optim import LR_SCHEDULES, SGD, LearningRateSchedule
from ._training import StoppingMonitor, fit_epochs, interrupt_guard

__all__ = ["SoftmaxNetClassifier", "TrainingDivergedError"]

# Rows per chunk at predict time: bounds the extra memory of predicting any number of
# rows to CHUNK_ROWS * (sum of layer widths) floats, while keeping BLAS calls large.
CHUNK_ROWS = 4096


class TrainingDivergedError(FloatingPointError):
    """Raised when training produced a non-finite loss or weight.

    The estimator keeps the last finite weights, so it is still usable.
    """


_DIVERGED_MSG = (
    "Training diverged at epoch {epoch}: the loss or the weights became non-finite "
    "(NaN or inf). The last finite weights were restored. Scale the features (e.g. "
    "with StandardScaler) or lower learning_rate_init (currently {lr})."
)


class SoftmaxNetClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """ReLU network with a softmax output, trained by mini-batch SGD.

    A drop-in alternative to ``MLPClassifier(solver='sgd')`` with the same parameter
    names where the meaning is the same, a log-space softmax output (one unit per
    class, binary included), exact gradients checked against finite differences,
    validation data with best-weight restoring, class weights, learning-rate
    schedules, ``partial_fit``, and float32 / sparse training without copies.

    The objective for a batch with sample weights ``w`` (ones by default) and
    ``S = sum(w)`` is ``sum_i w_i CE_i / S + alpha / (2 S) * sum ||W||^2``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each ReLU hidden layer; ``()`` gives multinomial logistic regression.
    alpha : float, default=0.1
        L2 penalty on the weights (not the biases), scaled as in MLPClassifier
        (``alpha / (2 S)`` per batch of weight ``S``). The default differs from
        MLPClassifier's 1e-4: see the README's accuracy table for why.
    batch_size : int or "auto", default=64
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)`` as in MLPClassifier.
        Batches larger than the data are clipped to ``n_samples``.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        Schedule; see :class:`~skl_softmaxnet._optim.LearningRateSchedule`. The first
        three mean what they mean in MLPClassifier; ``"cosine"`` anneals to 0 over
        ``max_iter`` epochs after ``warmup_iters`` epochs of linear warm-up.
    learning_rate_init : float, default=0.1
        Initial step size.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the sample order every epoch (indices only; X is never copied).
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling and the validation split.
    tol : float, default=1e-4
        Minimum improvement of the monitored quantity (training loss, or validation
        score with ``early_stopping``) that resets the plateau counter.
    verbose : int, default=0
        ``>= 1`` prints one table row per epoch.
    warm_start : bool, default=False
        Continue from the fitted weights (and momentum) on the next ``fit``.
    momentum : float, default=0.9
        Momentum in [0, 1]; 0 is plain SGD.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum instead of the classical one.
    early_stopping : bool, default=False
        Stop when the validation score has not improved by ``tol`` for
        ``n_iter_no_change`` epochs. Without ``X_val``, a stratified
        ``validation_fraction`` of the training data is held out.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping`` and no ``X_val``.
    n_iter_no_change : int, default=10
        Epochs without improvement tolerated before stopping (or, with
        ``learning_rate="adaptive"``, before the rate is divided by 5).
    class_weight : dict, "balanced" or None, default=None
        Per-class weights, multiplied with ``sample_weight``.
    scoring : str, callable or None, default="loss"
        Validation score: ``"loss"`` is the negative validation log-loss; any
        scikit-learn scorer name or callable ``scorer(estimator, X, y)`` is accepted.
        Higher is better.
    restore_best_weights : bool, default=True
        When validation data exist, end with the best-scoring epoch's weights.
    warmup_iters : int, default=0
        Warm-up epochs of the ``"cosine"`` schedule.
    on_divergence : {"raise", "warn"}, default="raise"
        What to do when training diverges (non-finite loss or weights): raise
        :class:`TrainingDivergedError` or warn with a ``ConvergenceWarning``. Either
        way the model keeps the last finite weights.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has feature names that are all strings.
    coefs_ : list of ndarray
        ``coefs_[i]`` has shape ``(n_in, n_out)`` of layer ``i``.
    intercepts_ : list of ndarray
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
    best_epoch_ : int
        1-based epoch whose weights the model holds at the end of ``fit`` when they
        were restored, else the best epoch seen.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_score``
        (with validation), ``learning_rate``, ``time`` (seconds).

    See Also
    --------
    sklearn.neural_network.MLPClassifier

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
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions(set(LR_SCHEDULES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "scoring": [str, callable, None],
        "restore_best_weights": ["boolean"],
        "warmup_iters": [Interval(Integral, 0, None, closed="left")],
        "on_divergence": [StrOptions({"raise", "warn"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        alpha=0.1,
        batch_size=64,
        learning_rate="constant",
        learning_rate_init=0.1,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        class_weight=None,
        scoring="loss",
        restore_best_weights=True,
        warmup_iters=0,
        on_divergence="raise",
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = False
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
        if self.scoring not in ("loss", None):
            # an unknown scorer name must fail here, before fit touches any state
            check_scoring(self, scoring=self.scoring)

    def _validate_X_y(self, X, y, reset: bool):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None."
            )
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
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
        )
        if sp.issparse(X) and X.format == "csc":
            X = X.tocsr()  # row slicing is what minibatches need
        check_classification_targets(y)
        return X, y

    def _weights(self, X, y_idx, sample_weight, classes):
        """Per-sample weights (class weights times sample weights), or None."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            sample_weight = np.array(sample_weight, dtype=X.dtype)  # never alias
        if self.class_weight is not None:
            cw = compute_sample_weight(self._class_weight_dict(classes), y_idx).astype(
                X.dtype
            )
            sample_weight = cw if sample_weight is None else sample_weight * cw
        if sample_weight is not None and not np.any(sample_weight > 0):
            raise ValueError(
                "sample_weight (times class_weight) is zero for every sample: at least "
                "one weight must be non-zero."
            )
        return sample_weight

    def _class_weight_dict(self, classes):
        """class_weight keyed by class index, as compute_sample_weight expects."""
        if self.class_weight == "balanced":
            return "balanced"
        out = {}
        for label, w in self.class_weight.items():
            pos = np.flatnonzero(classes == label)
            if pos.size == 0:
                raise ValueError(
                    f"class_weight has a label {label!r} that is not in the classes "
                    f"{classes.tolist()}."
                )
            out[int(pos[0])] = w
        return out

    def _encode(self, y, name="y"):
        """Map labels to indices of classes_; unknown labels are an error."""
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        bad = self.classes_[idx] != y
        if np.any(bad):
            unknown = np.unique(np.asarray(y)[bad])
            raise ValueError(
                f"{name} contains labels not in classes_ {self.classes_.tolist()}: "
                f"{unknown.tolist()}."
            )
        return idx.astype(np.intp)

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        # clipped silently (documented): the default of 64 exceeds many small data
        # sets, and a warning on every such fit would be noise
        return min(self.batch_size, n_samples)

    # ---------------------------------------------------------------- fitted state
    @property
    def _params(self):
        return list(zip(self.coefs_, self.intercepts_, strict=True))

    def _init_state(self, n_features, n_classes, dtype, rng):
        sizes = [n_features, *self._hidden_sizes(), n_classes]
        params = init_params(sizes, rng, dtype)
        self.coefs_ = [W for W, _ in params]
        self.intercepts_ = [b for _, b in params]
        self.n_layers_ = len(sizes)
        self.n_outputs_ = n_classes
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.history_ = []
        self.best_loss_ = np.inf
        self.best_epoch_ = 0
        self._velocities = None
        self._learning_rate = float(self.learning_rate_init)
        self._shuffle_seed = int(rng.randint(np.iinfo(np.int32).max))

    @contextlib.contextmanager
    def _rolled_back_on_error(self):
        """Undo attribute changes if the block raises.

        Validation rebinds attributes (``n_features_in_``, ``classes_``, fresh
        weights) before it can fail; nothing is modified in place before training
        starts, so restoring the old bindings leaves a fitted model untouched.
        """
        state = dict(self.__dict__)
        try:
            yield
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    # ----------------------------------------------------------------------- fit
    @with_callbacks
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

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 input trains in float32; other dtypes become float64. Sparse CSR
            (or CSC, converted once to CSR) input is never densified.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
        X_val, y_val : array-like, default=None
            Validation data, used instead of a ``validation_fraction`` split. Given,
            the validation loss and score are recorded every epoch and the best epoch
            is tracked (and restored with ``restore_best_weights``) whether or not
            ``early_stopping`` is on. In a Pipeline, route ``X_val`` through the
            preprocessing with ``Pipeline(..., transform_input=["X_val"])``.
        sample_weight_val : array-like of shape (n_val,), default=None

        Returns
        -------
        self : SoftmaxNetClassifier
        """
        self._check_params()
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together.")
        if sample_weight_val is not None and X_val is None:
            raise ValueError("sample_weight_val requires X_val and y_val.")
        warm = self.warm_start and hasattr(self, "coefs_")
        with self._rolled_back_on_error():
            X, y = self._validate_X_y(X, y, reset=not warm)
            classes = np.unique(y)
            if warm and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    "warm_start=True needs the same classes as the previous fit: got "
                    f"{classes.tolist()}, fitted {self.classes_.tolist()}. Use "
                    "warm_start=False to train a new model."
                )
            if len(classes) < 2:
                raise ValueError(
                    "The number of classes has to be greater than one; got 1 class "
                    f"({classes[0]!r}) in y."
                )
            y_idx = np.searchsorted(classes, y).astype(np.intp)
            sw = self._weights(X, y_idx, sample_weight, classes)
            rng = check_random_state(self.random_state)
            if not warm:
                self.classes_ = classes
                self._init_state(X.shape[1], len(classes), X.dtype, rng)
            elif self.coefs_[0].dtype != X.dtype:
                self.coefs_ = [W.astype(X.dtype) for W in self.coefs_]
                self.intercepts_ = [b.astype(X.dtype) for b in self.intercepts_]
                self._velocities = None
            rows = val = None
            if X_val is not None:
                val = self._validation_data(X_val, y_val, sample_weight_val, X.dtype)
            elif self.early_stopping:
                rows, val_rows = self._split(y_idx, rng)
                if sw is not None and not np.any(sw[rows] > 0):
                    raise ValueError(
                        "The validation split left only zero sample weights in the "
                        "training part; pass X_val and y_val, or another "
                        "random_state."
                    )
                val = (
                    X[val_rows],
                    y_idx[val_rows],
                    None if sw is None else sw[val_rows],
                )
        self._run(
            X,
            y_idx,
            sw,
            rows=rows,
            val=val,
            n_epochs=self.max_iter,
            rng=rng if self.shuffle else None,
            stopping=True,
            fit_args=(X, y),
        )
        return self

    def _validation_data(self, X_val, y_val, sample_weight_val, dtype):
        X_val = validate_data(
            self, X_val, reset=False, accept_sparse=("csr", "csc"), dtype=dtype
        )
        y_val = np.asarray(y_val)
        if y_val.ndim != 1 or y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"y_val must be 1-D with one label per row of X_val ({X_val.shape[0]})"
                f", got shape {y_val.shape}."
            )
        y_val_idx = self._encode(y_val, name="y_val")
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=dtype, ensure_non_negative=True
            )
        return X_val, y_val_idx, sample_weight_val

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
            warnings.warn(
                "A class has too few members for a stratified validation split; "
                "falling back to a random split.",
                UserWarning,
                stacklevel=3,
            )
            train, val = train_test_split(idx, test_size=n_val, random_state=seed)
        return np.sort(train), np.sort(val)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of training on (X, y), continuing from the current state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, and if given later it must
            equal ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : SoftmaxNetClassifier
        """
        first = not hasattr(self, "coefs_")
        self._check_params()
        if first:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            classes = np.asarray(classes)
            if np.unique(classes).shape[0] != classes.shape[0]:
                raise ValueError("classes must not contain duplicates.")
            if classes.shape[0] < 2:
                raise ValueError(
                    "classes must contain at least two classes for partial_fit."
                )
        elif classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} is not the same as on the "
                f"first call to partial_fit ({self.classes_.tolist()})."
            )
        with self._rolled_back_on_error():
            X, y = self._validate_X_y(X, y, reset=first)
            if first:
                self.classes_ = np.unique(classes)
            y_idx = self._encode(y)
            sw = self._weights(X, y_idx, sample_weight, self.classes_)
            if first:
                rng = check_random_state(self.random_state)
                self._init_state(X.shape[1], len(self.classes_), X.dtype, rng)
            elif self.coefs_[0].dtype != X.dtype:
                X = X.astype(self.coefs_[0].dtype)
        rng = None
        if self.shuffle:
            rng = np.random.RandomState(
                (self._shuffle_seed + self.n_iter_) % np.iinfo(np.int32).max
            )
        self._run(
            X,
            y_idx,
            sw,
            rows=None,
            val=None,
            n_epochs=1,
            rng=rng,
            stopping=False,
            fit_args=None,
        )
        return self

    def _run(self, X, y_idx, sw, *, rows, val, n_epochs, rng, stopping, fit_args):
        """Compose optimizer, schedule and monitor; train; store the results."""
        params = self._params
        optimizer = SGD(self.momentum, self.nesterovs_momentum, self._velocities)
        schedule = LearningRateSchedule(
            self.learning_rate,
            self.learning_rate_init,
            power_t=self.power_t,
            max_iter=self.max_iter,
            warmup_iters=self.warmup_iters,
            current=self._learning_rate,
        )
        has_val = val is not None
        monitor = StoppingMonitor(
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            early_stopping=self.early_stopping and has_val,
            keep_best=has_val and self.restore_best_weights,
        )
        if not stopping:
            monitor.n_iter_no_change = np.inf
            monitor.best_loss = self.best_loss_
            monitor.best_epoch = self.best_epoch_ - 1
        validate = None
        if has_val:
            validate = self._make_validator(*val)
        on_epoch_end, finish_callbacks = self._epoch_hooks(fit_args, has_val)
        n_train = y_idx.shape[0] if rows is None else rows.shape[0]
        with interrupt_guard() as stop_requested:
            result = fit_epochs(
                params,
                optimizer,
                schedule,
                X,
                y_idx,
                sw,
                rows=rows,
                n_epochs=n_epochs,
                batch_size=self._batch_size(n_train),
                alpha=self.alpha,
                rng=rng,
                monitor=monitor,
                history=self.history_,
                epoch_offset=self.n_iter_,
                t=self.t_,
                validate=validate,
                on_epoch_end=on_epoch_end,
                stop_requested=stop_requested,
            )
        finish_callbacks()
        self._velocities = optimizer.velocities
        self._learning_rate = schedule.current
        self.n_iter_ += result.n_epochs
        self.t_ = result.t
        self._store_history()
        if monitor.best_params is not None:  # kept only to be restored
            for i, (W, b) in enumerate(monitor.best_params):
                np.copyto(self.coefs_[i], W)
                np.copyto(self.intercepts_[i], b)
        if monitor.best_epoch >= 0:
            self.best_epoch_ = monitor.best_epoch + 1
        if result.interrupted:
            warnings.warn(
                f"Training interrupted (KeyboardInterrupt) after {self.n_iter_} "
                "epochs; the model holds the "
                + ("best" if monitor.best_params is not None else "last")
                + " weights and is usable.",
                UserWarning,
                stacklevel=3,
            )
        elif result.diverged:
            msg = _DIVERGED_MSG.format(
                epoch=self.n_iter_ + 1, lr=self.learning_rate_init
            )
            if self.on_divergence == "raise":
                raise TrainingDivergedError(msg)
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        elif stopping and not result.converged and result.n_epochs == n_epochs:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _store_history(self):
        """Derive the MLPClassifier-style curves from history_ (one source)."""
        hist = self.history_
        self.loss_curve_ = [r["train_loss"] for r in hist]
        # None until an epoch completes (a fit that diverged in its first epoch)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        self.best_loss_ = min(self.loss_curve_, default=np.inf)
        if any("val_score" in r for r in hist):
            self.validation_scores_ = [r.get("val_score", np.nan) for r in hist]
            self.validation_loss_curve_ = [r.get("val_loss", np.nan) for r in hist]
            self.best_validation_score_ = float(np.nanmax(self.validation_scores_))
        else:
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None

    def _make_validator(self, X_val, y_val, sw_val):
        scorer = None
        if self.scoring not in ("loss", None):
            scorer = check_scoring(self, scoring=self.scoring)

        def validate(params):
            log_proba = self._log_proba(X_val, params)
            S = y_val.shape[0] if sw_val is None else float(np.sum(sw_val))
            val_loss = weighted_cross_entropy(log_proba, y_val, sw_val) / S
            if scorer is None:
                return val_loss, -val_loss
            kwargs = {} if sw_val is None else {"sample_weight": sw_val}
            return val_loss, float(scorer(self, X_val, self.classes_[y_val], **kwargs))

        return validate

    def _epoch_hooks(self, fit_args, has_val):
        """Verbose printing and scikit-learn callbacks, called at each epoch end."""
        verbose = self.verbose
        ctx = None
        if HAS_CALLBACKS and fit_args is not None and hasattr(self, "_skl_callbacks"):
            ctx = self._init_callback_context(max_subtasks=self.max_iter - self.n_iter_)
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
        return {
            "coefs_": [W.copy() for W in self.coefs_],
            "intercepts_": [b.copy() for b in self.intercepts_],
        }

    # ------------------------------------------------------------------- predict
    def _chunked_logits(self, X, params=None, *, log_softmax_=False):
        """Logits (or their log_softmax), CHUNK_ROWS rows at a time.

        Bounds the extra memory of predicting any number of rows to one chunk's
        activations, CHUNK_ROWS * (sum of layer widths) floats, plus the output.
        """
        params = self._params if params is None else params
        n = X.shape[0]
        out = np.empty((n, params[-1][0].shape[1]), dtype=params[-1][0].dtype)
        for start in range(0, n, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, n)
            logits = forward(params, X[start:stop])[-1]
            if log_softmax_:
                log_softmax(logits, out=out[start:stop])
            else:
                out[start:stop] = logits
        return out

    def _log_proba(self, X, params=None):
        return self._chunked_logits(X, params, log_softmax_=True)

    def _validate_predict(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
        )
        if sp.issparse(X) and X.format == "csc":
            X = X.tocsr()
        dtype = self.coefs_[0].dtype
        if X.dtype != dtype:
            X = X.astype(dtype)
        return X

    def decision_function(self, X):
        """Logits; for two classes, ``z_1 - z_0`` as a 1-D array (> 0: classes_[1]).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        out = self._chunked_logits(self._validate_predict(X))
        if self.n_outputs_ == 2:
            return out[:, 1] - out[:, 0]
        return out

    def predict_log_proba(self, X):
        """Log-probabilities from a stable log-softmax (finite for finite logits).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._log_proba(self._validate_predict(X))

    def predict_proba(self, X):
        """Class probabilities, ``exp(log_softmax(logits))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        out = self.predict_log_proba(X)
        return np.exp(out, out=out)

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        log_proba = self.predict_log_proba(X)
        return self.classes_[np.argmax(log_proba, axis=1)]
