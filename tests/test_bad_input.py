"""Bad input: a clear error (or scikit-learn's warning), and nothing changed.

The suite is table driven. Each ``Case`` is an input, the exception (or warning) type
and a phrase its message must contain; every case runs against every method it names
and every estimator state it names, and each run checks three things:

* the error (or warning) and its message;
* the arrays the user passed (X, y, sample_weight, classes, validation data) are
  unchanged afterwards;
* the estimator is untouched: its whole ``__dict__`` compares equal to a deep copy
  taken before the call, whether it was unfitted, fitted by ``fit``, by ``fit`` with
  ``warm_start`` or by ``partial_fit``.

The hyperparameter cases are generated from ``_parameter_constraints`` (scikit-learn's
own invalid-value generator plus a pool of wrong-type values), so a new parameter is
covered without editing this file. The end of the module covers training that goes
wrong (divergence) and extreme but valid data.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import (
    InvalidParameterError,
    generate_invalid_param_val,
    make_constraint,
)

from skl_softmaxnet import SoftmaxNetClassifier, TrainingDivergedError

pd = pytest.importorskip("pandas")

N, P, K = 30, 3, 3  # samples, features, classes of the reference data
SMALL = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0}


def _X():
    return np.random.RandomState(0).normal(size=(N, P))


def _y():
    return np.arange(N) % K


def _with(**kwargs):
    """Args of a call: the reference X and y, overridden by ``kwargs``."""

    def make():
        args = {"X": _X(), "y": _y()}
        args.update({k: v() if callable(v) else v for k, v in kwargs.items()})
        return args

    return make


def _X_set(i, j, value):
    def make():
        X = _X()
        X[i, j] = value
        return X

    return make


def _frame(columns=("a", "b", "c")):
    return lambda: pd.DataFrame(_X(), columns=list(columns))


def _sw(values):
    def make():
        sw = np.ones(N)
        sw[: len(values)] = values
        return sw

    return make


# ------------------------------------------------------------------ the case table

FIT_METHODS = ("fit", "partial_fit")
PREDICT_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "score",
)
# fresh: never fitted; fitted: fit(X, y); warm: fit with warm_start=True;
# partial: partial_fit(X, y, classes); frame: fit on a DataFrame with names a, b, c
ALL_STATES = ("fresh", "fitted", "warm", "partial")
FITTED_STATES = ("fitted", "warm", "partial")


@dataclass(frozen=True)
class Case:
    """One bad input: how to build the call's arguments, and what must happen."""

    id: str
    args: Callable[[], dict]
    exc: type
    match: str
    methods: tuple[str, ...] = FIT_METHODS
    states: tuple[str, ...] = ALL_STATES
    params: dict = field(default_factory=dict)


CASES = [
    # ---- X
    Case("X-nan", _with(X=_X_set(0, 0, np.nan)), ValueError, "NaN"),
    Case("X-posinf", _with(X=_X_set(1, 2, np.inf)), ValueError, "infinity"),
    Case("X-neginf", _with(X=_X_set(2, 1, -np.inf)), ValueError, "infinity"),
    Case(
        "X-sparse-nan",
        _with(X=lambda: sp.csr_matrix(_X_set(0, 0, np.nan)())),
        ValueError,
        "NaN",
    ),
    Case(
        "X-strings",
        _with(X=lambda: np.full((N, P), "abc")),
        ValueError,
        "could not convert string to float",
    ),
    Case(
        "X-objects",
        _with(X=lambda: np.array([[object()] * P] * N, dtype=object)),
        TypeError,
        "object",
    ),
    Case("X-complex", _with(X=lambda: _X() + 1j), ValueError, "Complex data"),
    Case("X-1d", _with(X=lambda: _X()[:, 0]), ValueError, "Expected 2D array"),
    Case("X-3d", _with(X=lambda: _X()[:, :, None]), ValueError, "dim 3"),
    Case("X-scalar", _with(X=1.0), ValueError, "Expected 2D array"),
    Case(
        "X-0-rows",
        _with(X=lambda: _X()[:0], y=lambda: _y()[:0]),
        ValueError,
        "0 sample(s)",
    ),
    Case("X-0-columns", _with(X=lambda: _X()[:, :0]), ValueError, "0 feature(s)"),
    # ---- y
    Case(
        "y-wrong-length",
        _with(y=lambda: _y()[:-1]),
        ValueError,
        "inconsistent numbers of samples",
    ),
    Case("y-none", _with(y=None), ValueError, "requires y"),
    Case(
        "y-nan",
        _with(y=lambda: np.where(_y() == 0, np.nan, _y())),
        ValueError,
        "NaN",
    ),
    Case(
        "y-continuous",
        _with(y=lambda: np.linspace(0, 1, N)),
        ValueError,
        "Unknown label type",
    ),
    Case(
        "y-single-class",
        _with(y=lambda: np.zeros(N, dtype=int)),
        ValueError,
        "number of classes has to be greater than one",
        methods=("fit",),
        states=("fresh", "fitted", "partial"),  # warm: "same classes" comes first
    ),
    Case(
        "y-multilabel",
        _with(y=lambda: np.eye(K, dtype=int)[_y()]),
        ValueError,
        "does not support multilabel or multioutput",
    ),
    Case(
        "y-multiclass-multioutput",
        _with(y=lambda: np.c_[_y(), (_y() + 1) % K]),
        ValueError,
        "does not support multilabel or multioutput",
    ),
    Case(
        "y-continuous-multioutput",
        _with(y=lambda: np.random.RandomState(1).normal(size=(N, 2))),
        ValueError,
        "does not support multilabel or multioutput",
    ),
    # ---- sample_weight
    Case(
        "sw-wrong-length",
        _with(sample_weight=lambda: np.ones(N - 1)),
        ValueError,
        "sample_weight",
    ),
    Case("sw-2d", _with(sample_weight=lambda: np.ones((N, 1))), ValueError, "1D"),
    Case("sw-negative", _with(sample_weight=_sw([-1.0])), ValueError, "Negative"),
    Case("sw-nan", _with(sample_weight=_sw([np.nan])), ValueError, "NaN"),
    Case("sw-inf", _with(sample_weight=_sw([np.inf])), ValueError, "infinity"),
    Case(
        "sw-all-zero",
        _with(sample_weight=lambda: np.zeros(N)),
        ValueError,
        "non-zero",
    ),
    Case(
        "class-weight-all-zero",
        _with(),
        ValueError,
        "zero for every sample",
        params={"class_weight": dict.fromkeys(range(K), 0.0)},
    ),
    Case(
        "class-weight-unknown-label",
        _with(),
        ValueError,
        "not in the classes",
        params={"class_weight": {7: 2.0}},
    ),
    # ---- fit's validation data
    Case(
        "X_val-without-y_val",
        _with(X_val=_X),
        ValueError,
        "X_val and y_val must be given together",
        methods=("fit",),
    ),
    Case(
        "y_val-unknown-label",
        _with(X_val=_X, y_val=lambda: _y() + 1),
        ValueError,
        "y_val contains labels not in classes_",
        methods=("fit",),
    ),
    Case(
        "X_val-wrong-n-features",
        _with(X_val=lambda: _X()[:, :2], y_val=_y),
        ValueError,
        "features",
        methods=("fit",),
    ),
    Case(
        "validation-split-too-small",
        _with(X=lambda: _X()[:2], y=lambda: _y()[:2]),
        ValueError,
        "validation_fraction",
        methods=("fit",),
        states=("fresh",),
        params={"early_stopping": True, "validation_fraction": 0.9},
    ),
    Case(
        "scoring-unknown-name",
        _with(),
        InvalidParameterError,
        "scoring",
        methods=("fit",),
        params={"early_stopping": True, "scoring": "not_a_scorer"},
    ),
    # ---- continuing training
    Case(
        "warm-start-other-classes",
        _with(y=lambda: _y() + 1),
        ValueError,
        "same classes",
        methods=("fit",),
        states=("warm",),
    ),
    Case(
        "warm-start-other-n-features",
        _with(X=lambda: _X()[:, :2]),
        ValueError,
        "X has 2 features, but SoftmaxNetClassifier is expecting 3 features",
        methods=("fit",),
        states=("warm",),
    ),
    Case(
        "partial_fit-other-n-features-later",
        _with(X=lambda: _X()[:, :2]),
        ValueError,
        "X has 2 features, but SoftmaxNetClassifier is expecting 3 features",
        methods=("partial_fit",),
        states=FITTED_STATES,
    ),
    Case(
        "continue-other-feature-names",
        _with(X=_frame(("a", "b", "z"))),
        ValueError,
        "feature names should match",
        states=("frame",),
        methods=("partial_fit",),
    ),
    # ---- partial_fit's classes
    Case(
        "partial_fit-no-classes-first",
        _with(classes=None),
        ValueError,
        "classes must be passed on the first call",
        methods=("partial_fit",),
        states=("fresh",),
    ),
    Case(
        "partial_fit-y-not-in-classes",
        _with(classes=lambda: np.arange(K - 1)),
        ValueError,
        "y contains labels not in classes_",
        methods=("partial_fit",),
        states=("fresh",),
    ),
    Case(
        "partial_fit-y-not-in-classes-later",
        _with(y=lambda: np.r_[_y()[:-1], 99]),
        ValueError,
        "y contains labels not in classes_",
        methods=("partial_fit",),
        states=FITTED_STATES,
    ),
    Case(
        "partial_fit-string-y-int-classes",
        _with(y=lambda: np.array(["a", "b", "c"])[_y()]),
        ValueError,
        "not in classes_",
        methods=("partial_fit",),
    ),
    Case(
        "partial_fit-classes-change",
        _with(classes=lambda: np.arange(K + 1)),
        ValueError,
        "is not the same as on the first call",
        methods=("partial_fit",),
        states=FITTED_STATES,
    ),
    Case(
        "partial_fit-duplicate-classes",
        _with(classes=lambda: np.r_[np.arange(K), 0]),
        ValueError,
        "duplicates",
        methods=("partial_fit",),
        states=("fresh",),
    ),
    Case(
        "partial_fit-one-class",
        _with(y=lambda: np.zeros(N, dtype=int), classes=lambda: np.array([0])),
        ValueError,
        "at least two classes",
        methods=("partial_fit",),
        states=("fresh",),
    ),
    # ---- predict methods
    Case(
        "predict-before-fit",
        _with(),
        NotFittedError,
        "is not fitted yet",
        methods=PREDICT_METHODS,
        states=("fresh",),
    ),
    Case(
        "predict-other-n-features",
        _with(X=lambda: _X()[:, :2]),
        ValueError,
        "X has 2 features, but SoftmaxNetClassifier is expecting 3 features",
        methods=PREDICT_METHODS,
        states=("fitted", "frame"),
    ),
    Case(
        "predict-other-feature-names",
        _with(X=_frame(("a", "b", "z"))),
        ValueError,
        "feature names should match",
        methods=PREDICT_METHODS,
        states=("frame",),
    ),
    Case(
        "predict-feature-names-reordered",
        _with(X=_frame(("b", "a", "c"))),
        ValueError,
        "must be in the same order",
        methods=PREDICT_METHODS,
        states=("frame",),
    ),
    # scikit-learn's convention: a mismatch in *having* names is a warning only
    Case(
        "predict-no-names-after-names",
        _with(),
        UserWarning,
        "X does not have valid feature names",
        methods=PREDICT_METHODS,
        states=("frame",),
    ),
    Case(
        "predict-names-after-no-names",
        _with(X=_frame()),
        UserWarning,
        "X has feature names, but SoftmaxNetClassifier was fitted without",
        methods=PREDICT_METHODS,
        states=("fitted",),
    ),
    Case(
        "predict-nan",
        _with(X=_X_set(0, 0, np.nan)),
        ValueError,
        "NaN",
        methods=PREDICT_METHODS,
        states=("fitted",),
    ),
    Case(
        "predict-inf",
        _with(X=_X_set(0, 0, -np.inf)),
        ValueError,
        "infinity",
        methods=PREDICT_METHODS,
        states=("fitted",),
    ),
    Case(
        "predict-1d",
        _with(X=lambda: _X()[0]),
        ValueError,
        "Expected 2D array",
        methods=PREDICT_METHODS,
        states=("fitted",),
    ),
    Case(
        "predict-strings",
        _with(X=lambda: np.full((N, P), "abc")),
        ValueError,
        "could not convert string to float",
        methods=PREDICT_METHODS,
        states=("fitted",),
    ),
]


def _expand(cases):
    for case in cases:
        for method in case.methods:
            for state in case.states:
                case_id = f"{case.id}-{method}-{state}"
                yield pytest.param(case, method, state, id=case_id)


EXPANDED = list(_expand(CASES))


# ----------------------------------------------------------------- the machinery


@cache
def _fitted(state: str) -> SoftmaxNetClassifier:
    """A model in ``state``, built once; tests work on deep copies."""
    est = SoftmaxNetClassifier(**SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if state == "fitted":
            est.fit(_X(), _y())
        elif state == "warm":
            est.set_params(warm_start=True).fit(_X(), _y())
        elif state == "partial":
            est.partial_fit(_X(), _y(), classes=np.arange(K))
        elif state == "frame":
            est.fit(_frame()(), _y())
        else:
            assert state == "fresh"
    return est


def _estimator(state: str) -> SoftmaxNetClassifier:
    return copy.deepcopy(_fitted(state))


def _snapshot(value):
    """A copy for comparison; object arrays keep their (identical) elements."""
    if isinstance(value, np.ndarray) or sp.issparse(value):
        return value.copy()
    if isinstance(value, pd.DataFrame):
        return value.copy(deep=True)
    return copy.deepcopy(value)


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Recursive exact equality (NaN equals NaN, dtypes and types must match)."""
    assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        equal_nan = a.dtype.kind in "fc"
        assert np.array_equal(a, b, equal_nan=equal_nan), path
    elif sp.issparse(a):
        assert a.format == b.format and a.shape == b.shape, path
        for attr in ("data", "indices", "indptr"):
            assert_same(getattr(a, attr), getattr(b, attr), f"{path}.{attr}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: keys {a.keys()} != {b.keys()}"
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_same(u, v, f"{path}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _call(est, method: str, args: dict):
    args = dict(args)
    X, y = args.pop("X"), args.pop("y")
    if method == "fit":
        args.pop("classes", None)
        return est.fit(X, y, **args)
    if method == "partial_fit":
        args.setdefault("classes", np.arange(K))
        for key in ("X_val", "y_val", "sample_weight_val"):
            args.pop(key, None)
        return est.partial_fit(X, y, **args)
    if method == "score":
        return est.score(X, y)
    return getattr(est, method)(X)


def _check(est, method: str, args: dict, exc: type, match: str):
    """Call, expect ``exc`` (``match``: a literal phrase of its message); then
    assert that the inputs and the estimator are unchanged."""
    inputs = {k: _snapshot(v) for k, v in args.items()}
    state = copy.deepcopy(vars(est))
    if issubclass(exc, Warning):
        with pytest.warns(exc, match=re.escape(match)):
            _call(est, method, args)
    else:
        with pytest.raises(exc, match=re.escape(match)) as info:
            _call(est, method, args)
        assert str(info.value), "the error has no message"
    for key, before in inputs.items():
        assert_same(before, args[key], f"input {key}")
    assert_same(state, vars(est), "estimator")


# scikit-learn's type_of_target casts a y holding NaN to int before it rejects it;
# X without names sent to a model fitted with names warns before failing on n_features
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning")
@pytest.mark.parametrize("case, method, state", EXPANDED)
def test_bad_input_gives_a_clear_error_and_changes_nothing(case, method, state):
    est = _estimator(state)
    if case.params:
        est.set_params(**case.params)
    _check(est, method, case.args(), case.exc, case.match)


def test_case_table_covers_the_issue():
    ids = {c.id for c in CASES}
    for required in [
        "X-nan",
        "X-posinf",
        "X-neginf",
        "X-strings",
        "X-objects",
        "X-1d",
        "X-3d",
        "X-0-rows",
        "X-0-columns",
        "y-wrong-length",
        "y-nan",
        "y-continuous",
        "y-single-class",
        "y-multilabel",
        "y-multiclass-multioutput",
        "sw-wrong-length",
        "sw-negative",
        "sw-nan",
        "sw-inf",
        "sw-all-zero",
        "predict-other-n-features",
        "predict-other-feature-names",
        "partial_fit-no-classes-first",
        "partial_fit-y-not-in-classes",
        "partial_fit-classes-change",
        "predict-before-fit",
    ]:
        assert required in ids
    for method in PREDICT_METHODS:
        assert hasattr(SoftmaxNetClassifier, method)


# ------------------------------------------------------------------ hyperparameters


class _BadType:
    """A value of a type no parameter accepts."""

    def __repr__(self):
        return "_BadType()"

    def __eq__(self, other):  # a deep copy compares equal
        return type(other) is _BadType

    __hash__ = object.__hash__


# Wrong-type or out-of-range values tried on every parameter; each is used only
# where no constraint of that parameter accepts it.
_POOL = [
    _BadType(),
    "not-a-valid-option",
    -1,
    0,
    -0.5,
    1.5,
    np.nan,
    None,
    [1, 2],
    {"a": 1},
    object,
]


def _invalid_values(name: str) -> list:
    constraints = [
        make_constraint(c) for c in SoftmaxNetClassifier._parameter_constraints[name]
    ]
    candidates = []
    for c in constraints:
        try:
            candidates.append(generate_invalid_param_val(c))
        except NotImplementedError:
            pass
    candidates += _POOL
    out, seen = [], set()
    for v in candidates:
        key = (type(v).__name__, repr(v))
        if key in seen or any(c.is_satisfied_by(v) for c in constraints):
            continue
        seen.add(key)
        out.append(v)
    return out


PARAM_NAMES = sorted(SoftmaxNetClassifier().get_params())
GENERATED = [
    pytest.param(name, value, id=f"{name}={value!r}")
    for name in PARAM_NAMES
    for value in _invalid_values(name)
]
# Parameters with checks beyond their constraints (by hand, or by another API).
HAND_CHECKED = [
    ("hidden_layer_sizes", (0,)),
    ("hidden_layer_sizes", (4, 0)),
    ("hidden_layer_sizes", (-3,)),
    ("hidden_layer_sizes", (2.5,)),
    ("hidden_layer_sizes", ("a",)),
    ("hidden_layer_sizes", (True,)),
    ("hidden_layer_sizes", [[3]]),
    ("hidden_layer_sizes", "abc"),
    ("hidden_layer_sizes", 0),
    ("scoring", "not_a_scorer"),
]


def test_every_parameter_has_constraints_and_invalid_values():
    assert set(PARAM_NAMES) == set(SoftmaxNetClassifier._parameter_constraints)
    for name in PARAM_NAMES:
        assert _invalid_values(name), f"no invalid value generated for {name}"


@pytest.mark.parametrize("method", FIT_METHODS)
@pytest.mark.parametrize("state", ["fresh", "fitted"])
@pytest.mark.parametrize("name, value", GENERATED)
def test_invalid_hyperparameter_names_the_parameter(name, value, state, method):
    est = _estimator(state).set_params(**{name: value})
    _check(est, method, _with()(), InvalidParameterError, f"'{name}' parameter")


@pytest.mark.parametrize("method", FIT_METHODS)
@pytest.mark.parametrize("state", ["fresh", "fitted"])
@pytest.mark.parametrize(
    "name, value", [pytest.param(n, v, id=f"{n}={v!r}") for n, v in HAND_CHECKED]
)
def test_hand_checked_hyperparameters_name_the_parameter(name, value, state, method):
    est = _estimator(state).set_params(**{name: value})
    _check(est, method, _with()(), ValueError, name)


@pytest.mark.parametrize(
    "sizes, widths",
    [
        (5, [5]),
        (np.int64(5), [5]),
        ((5,), [5]),
        ([5, 3], [5, 3]),
        ((), []),
        (np.array([4]), [4]),
    ],
    ids=["int", "np.int64", "tuple", "list", "empty", "ndarray"],
)
def test_valid_hidden_layer_sizes_forms_are_accepted_as_in_mlpclassifier(sizes, widths):
    est = SoftmaxNetClassifier(sizes, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(_X(), _y())
    assert [W.shape[1] for W in est.coefs_] == [*widths, K]


# ------------------------------------------------------------ training gone wrong


def _blobs(n=60, scale=1.0):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    return X * scale, y


def _assert_finite_model(est, X):
    for W in est.coefs_ + est.intercepts_:
        assert np.all(np.isfinite(W))
    # the rolled-back epochs' losses may be inf: the kept ones never are
    assert est.loss_ is None or np.isfinite(est.loss_)
    with np.errstate(all="ignore"):
        proba = est.predict_proba(X)
    assert not np.isnan(proba).any(), "predict_proba returned NaN"
    assert np.all((proba >= 0) & (proba <= 1))


# learning_rate_init=1e3 no longer diverges for good: the loss-spike recovery cuts
# the rate to ~1 and trains (test_a_rate_of_1e3_is_recovered_loudly). A rate of
# 1e12 stays hopeless after the recovery's ten cuts (a million-fold).
DIVERGING = [
    pytest.param(
        {"learning_rate_init": 1e12, "batch_size": 10, "hidden_layer_sizes": (8,)},
        1.0,
        id="learning_rate_init=1e12",
    ),
    # standardize=False: standardised (the default), such features train
    # (test_standardize_trains_on_features_of_any_scale in test_classifier.py)
    pytest.param(
        {"hidden_layer_sizes": (8,), "standardize": False},
        1e150,
        id="features-1e150",
    ),
]


@pytest.mark.parametrize("params, scale", DIVERGING)
def test_divergence_raises_and_keeps_the_last_finite_weights(params, scale):
    X, y = _blobs(scale=scale)
    est = SoftmaxNetClassifier(max_iter=50, random_state=0, **params)
    X0 = X.copy()
    with pytest.raises(TrainingDivergedError, match="diverged") as info:
        est.fit(X, y)
    msg = str(info.value)
    assert isinstance(info.value, FloatingPointError)
    # the advice fits the case: scaling, unless the features are standardised
    advice = "standardised already" if params.get("standardize", True) else "Scale"
    assert "learning_rate_init" in msg and advice in msg
    assert est.n_iter_ < 50  # stopped as soon as it happened
    np.testing.assert_array_equal(X, X0)
    _assert_finite_model(est, X)


@pytest.mark.parametrize("params, scale", DIVERGING)
def test_divergence_warns_with_on_divergence_warn(params, scale):
    X, y = _blobs(scale=scale)
    est = SoftmaxNetClassifier(
        max_iter=50, random_state=0, on_divergence="warn", **params
    )
    advice = "standardised already" if params.get("standardize", True) else "Scale"
    with pytest.warns(ConvergenceWarning, match=f"diverged.*{advice}"):
        est.fit(X, y)
    assert est.n_iter_ < 50
    _assert_finite_model(est, X)


def test_divergence_in_partial_fit_keeps_the_last_finite_weights():
    X, y = _blobs()
    est = SoftmaxNetClassifier(
        (8,), learning_rate_init=1e12, batch_size=10, random_state=0
    )
    with pytest.raises(TrainingDivergedError, match="diverged"):
        for _ in range(50):
            est.partial_fit(X, y, classes=[0, 1, 2])
    _assert_finite_model(est, X)


def test_a_rate_of_1e3_is_recovered_loudly():
    X, y = _blobs()
    # alpha=0.1 without standardisation: the configuration where the cut rate trains
    est = SoftmaxNetClassifier(
        (8,), learning_rate_init=1e3, batch_size=10, max_iter=50, random_state=0,
        alpha=0.1, standardize=False,
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning, match="recovery.*Scale the features"):
        est.fit(X, y)
    events = [r for r in est.history_ if "event" in r]
    assert est.n_recoveries_ == len(events) >= 1
    assert all("rolled back" in r["event"] for r in events)
    _assert_finite_model(est, X)
    assert est.score(X, y) > 0.8


def test_a_rate_of_1e3_that_kills_the_network_says_so():
    # at the default alpha ('auto': 0.5 here) the rate cut to ~1 still kills the
    # eight ReLUs: the model is at the class prior, and a second warning says why
    X, y = _blobs()
    est = SoftmaxNetClassifier(
        (8,), learning_rate_init=1e3, batch_size=10, max_iter=50, random_state=0
    )
    with pytest.warns(ConvergenceWarning) as record:
        est.fit(X, y)
    messages = [str(w.message) for w in record]
    recovery = [m for m in messages if "recovery" in m]
    # standardised inside (the default): the advice is the step, not the scale
    assert recovery and "standardised already" in recovery[0]
    assert "learning_rate_init" in recovery[0] and "Scale" not in recovery[0]
    dead = [m for m in messages if "no better than predicting the class prior" in m]
    assert dead and "dead ReLUs" in dead[0] and "learning_rate_init" in dead[0]
    _assert_finite_model(est, X)


def _extreme(kind):
    rng = np.random.RandomState(0)
    X, y = _blobs()
    if kind == "magnitude-1e6":
        return X * 1e6, y
    if kind == "magnitude-1e-300":
        return X * 1e-300, y
    if kind == "constant-columns":
        return np.c_[X, np.full(len(X), 7.0), np.zeros(len(X))], y
    if kind == "duplicate-rows":
        return np.r_[X, X, X[:5]], np.r_[y, y, y[:5]]
    if kind == "one-sample-per-class":
        return X[:3], np.array([0, 1, 2])
    if kind == "one-feature":
        return X[:, :1], y
    if kind == "1000-classes":
        return rng.normal(size=(1000, 5)), np.arange(1000)
    raise AssertionError(kind)


@pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")
@pytest.mark.parametrize(
    "kind",
    [
        "magnitude-1e6",
        "magnitude-1e-300",
        "constant-columns",
        "duplicate-rows",
        "one-sample-per-class",
        "one-feature",
        "1000-classes",
    ],
)
@pytest.mark.parametrize("hidden", [(), (8,)], ids=["no-hidden", "hidden-8"])
def test_extreme_but_valid_data_trains_and_predicts_finite_probabilities(kind, hidden):
    X, y = _extreme(kind)
    est = SoftmaxNetClassifier(hidden, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), len(np.unique(y)))
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all(np.isfinite(est.predict_log_proba(X)))
    for W in est.coefs_ + est.intercepts_:
        assert np.all(np.isfinite(W))


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_log_proba", "decision_function"]
)
def test_rows_that_overflow_the_network_at_predict_time_warn(container, method):
    # finite input near the largest float: the logits overflow to NaN, and
    # predict used to return classes_[0] for those rows with no word
    X, y = _blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SoftmaxNetClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    X_new = X[:5].copy()
    X_new[1] = np.finfo(np.float64).max / 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            getattr(est, method)(container(X_new))
    (msg,) = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert msg.startswith(f"{method}: 1 of 5 rows give non-finite outputs")
    assert "8.99e+307" in msg
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(est, method)(container(X[:5]))  # ordinary rows: silent


def test_partial_fit_with_declared_classes_does_not_guess_a_regression_target():
    # 32 rows of 26 declared classes: scikit-learn's guess ("y could represent a
    # regression problem") warned on every call; fit still warns, as MLPClassifier
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(32, 4)), np.arange(32) % 26
    clf = SoftmaxNetClassifier(random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.partial_fit(X, y, classes=np.arange(26))
        clf.partial_fit(X, y)
    assert not [w for w in caught if "unique classes" in str(w.message)]
    with pytest.warns(UserWarning, match="unique classes is greater than 50%"):
        SoftmaxNetClassifier(max_iter=2, random_state=0).fit(X, y)
