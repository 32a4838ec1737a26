"""Consistent state (issue 10): warm start, partial_fit, errors and interrupts.

One regression test (or a few) per reproduction of the issue, then a hypothesis
state machine that interleaves fit / warm fit / partial_fit / set_params / failing
calls and checks the invariants after every step.
"""

from __future__ import annotations

import copy
import math
import pickle
import signal
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier, _compat, _training
from skl_softmaxnet._classifier import _PLATEAU_ROWS

# ----------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return call(*args, **kwargs)


def _net(**params):
    defaults = dict(hidden_layer_sizes=(8,), batch_size=16, random_state=0)
    return SoftmaxNetClassifier(**{**defaults, **params})


def snapshot(est) -> dict:
    """A deep copy of everything fit / partial_fit may change."""
    params = set(est.get_params(deep=False)) | {"_skl_callbacks"}
    return copy.deepcopy({k: v for k, v in vars(est).items() if k not in params})


def assert_same_state(est, before: dict) -> None:
    now = snapshot(est)
    assert sorted(now) == sorted(before)
    for key, value in before.items():
        _assert_equal(now[key], value, key)


def _assert_equal(a, b, where):
    if isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray), where
        assert a.dtype == b.dtype, where
        assert_array_equal(a, b, err_msg=where)
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_equal(x, y, f"{where}[{i}]")
    elif isinstance(b, dict):
        assert sorted(a) == sorted(b), where
        for k in b:
            _assert_equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(b, float) and math.isnan(b):
        assert isinstance(a, float) and math.isnan(a), where
    else:
        assert a == b, where


def _velocities_zero(est) -> bool:
    return est._velocities is None or all(not np.any(v) for v in est._velocities)


# ----------------------------------------- 1. warm_start and partial_fit x cosine


def test_warm_fit_restarts_the_cosine_schedule(iris):
    clf = _net(
        learning_rate="cosine", max_iter=20, warm_start=True, n_iter_no_change=np.inf
    )
    _quiet(clf.fit, *iris)
    first = [r["learning_rate"] for r in clf.history_]
    _quiet(clf.fit, *iris)
    second = [r["learning_rate"] for r in clf.history_[20:]]
    assert clf.n_iter_ == 20 and len(clf.history_) == 40
    assert second == first  # anneals again over max_iter, never 0
    assert second[0] == clf.learning_rate_init and min(second) > 0


def test_partial_fit_cosine_restarts_every_max_iter_calls_and_keeps_learning(iris):
    X, y = iris
    clf = _net(learning_rate="cosine", max_iter=5)
    for _ in range(8):
        clf.partial_fit(X, y, classes=np.unique(y))
        before = [W.copy() for W in clf.coefs_]
    rates = [r["learning_rate"] for r in clf.history_]
    assert rates[5:] == rates[:3]  # a new cycle from call 6 on
    assert rates[5] == clf.learning_rate_init
    assert min(rates) > 0
    clf.partial_fit(X, y)  # call 9 still moves the weights
    assert any(
        not np.array_equal(a, b) for a, b in zip(before, clf.coefs_, strict=True)
    )


# -------------------------------------------------- 2. momentum after divergence


def test_divergence_resets_velocities_so_a_later_small_step_does_not_diverge(iris):
    X, y = iris
    clf = _net(learning_rate_init=1e6, on_divergence="warn", max_iter=20)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X * 1e6, y)
    assert np.all([np.isfinite(W).all() for W in clf.coefs_])
    assert _velocities_zero(clf)
    clf.set_params(learning_rate_init=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.partial_fit(X, y)
    messages = " ".join(str(w.message) for w in caught)
    assert "diverged" not in messages and "rolled back" not in messages
    assert "event" not in clf.history_[-1]
    assert math.isfinite(clf.history_[-1]["train_loss"])


def test_a_rolled_back_epoch_is_marked_counted_and_zeroes_the_velocities(iris):
    X, y = iris
    clf = _net(learning_rate_init=50.0, on_divergence="warn", max_iter=10)
    _quiet(clf.fit, X * 100, y)
    events = [r for r in clf.history_ if "event" in r]
    assert events and clf.n_recoveries_ == len(events)
    assert "rolled back" in events[0]["event"]
    assert all(np.isfinite(W).all() for W in clf.coefs_)


# ------------------------------------------- 3. errors before and during training


def test_scorer_that_fails_on_validation_data_leaves_the_fitted_model(iris):
    X, y = iris
    clf = _quiet(_net(max_iter=30).fit, X, y)
    score = clf.score(X, y)
    before = snapshot(clf)
    clf.set_params(scoring="roc_auc", early_stopping=True)  # multiclass roc_auc
    with pytest.raises(ValueError):
        clf.fit(X, y)
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError):
        clf.fit(X, y)
    assert_same_state(clf, before)
    assert clf.score(X, y) == score


def test_all_zero_validation_weights_fail_before_training(iris):
    X, y = iris
    clf = _quiet(_net(max_iter=5).fit, X, y)
    before = snapshot(clf)
    with pytest.raises(ValueError, match="non-zero"):
        clf.fit(X, y, X_val=X[:20], y_val=y[:20], sample_weight_val=np.zeros(20))
    # non-zero sample weights, but a class weight of 0 on the only class there
    clf.set_params(class_weight={0: 0.0}, warm_start=True)
    with pytest.raises(ValueError, match="sample_weight_val .*is zero for every"):
        clf.fit(X, y, X_val=X[:20], y_val=y[:20], sample_weight_val=np.ones(20))
    assert_same_state(clf, before)


def test_split_leaving_only_zero_weights_in_the_validation_part_is_a_value_error():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    clf = _quiet(_net(max_iter=3).fit, X, y)
    before = snapshot(clf)
    clf.set_params(early_stopping=True, validation_fraction=0.25, warm_start=True)
    # find the rows the split will hold out: the same rng path as fit's
    fit_rng = np.random.RandomState(0)
    _, val_rows = clf._split(np.asarray(y), fit_rng)
    sw = np.ones(40)
    sw[val_rows] = 0.0
    with pytest.raises(ValueError, match="validation part"):
        clf.fit(X, y, sample_weight=sw)
    assert_same_state(clf, before)


class _Interrupting:
    """An array-like whose conversion raises KeyboardInterrupt (a Ctrl-C then)."""

    def __init__(self, X):
        self.X = X
        self.shape = X.shape

    def __len__(self):
        return len(self.X)

    def __array__(self, dtype=None, copy=None):
        raise KeyboardInterrupt


def test_keyboard_interrupt_while_x_val_is_validated_leaves_the_fitted_model(iris):
    X, y = iris
    clf = _quiet(_net(max_iter=5, warm_start=True).fit, X, y)
    before = snapshot(clf)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y, X_val=_Interrupting(X[:30]), y_val=y[:30])
    assert_same_state(clf, before)


def test_error_raised_mid_training_restores_everything(iris):
    X, y = iris
    clf = _quiet(_net(max_iter=4, warm_start=True).fit, X, y)
    clf.partial_fit(X, y)  # velocities, schedule and plateau state exist
    before = snapshot(clf)
    calls = []

    def scorer(est, X_, y_):
        calls.append(1)
        if len(calls) == 3:  # the start check and epoch 1 pass, epoch 2 fails
            raise RuntimeError("boom")
        return 0.0

    clf.set_params(scoring=scorer)
    with pytest.raises(RuntimeError, match="boom"):
        clf.fit(X, y, X_val=X, y_val=y)
    assert len(calls) == 3
    assert_same_state(clf, before)


# ---------------------------------------------------- 4. callbacks x warm_start


@pytest.mark.skipif(not _compat.HAS_CALLBACKS, reason="needs scikit-learn callbacks")
def test_callbacks_with_warm_start_run_every_fit_in_full(iris):
    from sklearn.callback import ProgressBar

    X, y = iris
    clf = _net(max_iter=5, warm_start=True, tol=0).set_callbacks(ProgressBar())
    _quiet(clf.fit, X, y)
    _quiet(clf.fit, X, y)
    assert clf.n_iter_ == 5
    assert [r["epoch"] for r in clf.history_] == [1, 2, 3, 4, 5] * 2
    assert clf.t_ == 10 * len(y)


# ------------------------------------------------ 5. warm_start x early stopping


def test_warm_fit_keeps_the_starting_weights_when_no_epoch_beats_them(iris):
    X, y = iris
    clf = _quiet(_net(max_iter=60, warm_start=True).fit, X, y, X_val=X, y_val=y)
    start = [W.copy() for W in clf.coefs_]
    start_score = -log_loss(y, clf.predict_proba(X))
    # training on shuffled labels only makes the true-label validation loss worse
    y_bad = np.random.RandomState(0).permutation(y)
    clf.set_params(max_iter=5, learning_rate_init=0.5)
    _quiet(clf.fit, X, y_bad, X_val=X, y_val=y)
    assert all(r["val_score"] < start_score for r in clf.history_[-5:])
    assert clf.best_epoch_ == 0
    for W0, W in zip(start, clf.coefs_, strict=True):
        assert_array_equal(W, W0)
    assert clf.best_validation_score_ == pytest.approx(start_score, rel=1e-9)


def test_best_validation_score_is_the_score_of_the_weights_held(iris):
    X, y = iris
    X_val, y_val = X[::3], y[::3]
    clf = _net(max_iter=8, warm_start=True, early_stopping=True, n_iter_no_change=2)
    for _ in range(3):
        _quiet(clf.fit, X, y, X_val=X_val, y_val=y_val)
        held = -log_loss(y_val, clf.predict_proba(X_val))
        assert clf.best_validation_score_ == pytest.approx(held, rel=1e-9)
        if clf.best_epoch_ >= 1:
            fit_records = clf.history_[-clf.n_iter_ :]
            best = fit_records[clf.best_epoch_ - 1]
            assert best["epoch"] == clf.best_epoch_
            assert best["val_score"] == pytest.approx(held, rel=1e-9)


# ------------------------------------------------ 6. class_weight in partial_fit


def test_partial_fit_class_weight_dict_is_taken_from_classes_not_the_batch(iris):
    X, y_num = iris
    labels = np.array(["setosa", "versicolor", "virginica"])
    y = labels[y_num]
    batch = y != "setosa"  # a batch without the weighted class
    weighted = _net(class_weight={"setosa": 2.0, "virginica": 0.5})
    weighted.partial_fit(X[batch], y[batch], classes=labels)
    weighted.partial_fit(X, y)
    # the same as explicit sample weights, missing classes weighing 1
    cw = {"setosa": 2.0, "versicolor": 1.0, "virginica": 0.5}
    explicit = _net()
    sw = np.array([cw[c] for c in y])
    explicit.partial_fit(X[batch], y[batch], classes=labels, sample_weight=sw[batch])
    explicit.partial_fit(X, y, sample_weight=sw)
    for a, b in zip(weighted.coefs_, explicit.coefs_, strict=True):
        assert_array_equal(a, b)


def test_partial_fit_refuses_balanced_class_weight_and_changes_nothing(iris):
    X, y = iris
    clf = _net()
    clf.partial_fit(X, y, classes=np.unique(y))
    before = snapshot(clf)
    clf.set_params(class_weight="balanced")
    with pytest.raises(ValueError, match="balanced.*partial_fit"):
        clf.partial_fit(X, y)
    assert_same_state(clf, before)
    with pytest.raises(ValueError, match="balanced.*partial_fit"):
        _net(class_weight="balanced").partial_fit(X, y, classes=np.unique(y))


def test_partial_fit_unknown_class_weight_label_is_an_error(iris):
    X, y = iris
    clf = _net(class_weight={7: 2.0})
    with pytest.raises(ValueError, match="class_weight has a label 7"):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert not hasattr(clf, "coefs_")


# ------------------------------------------------------------ 7. interrupted epochs


def _sigint_after_batches(monkeypatch, n_batches):
    """Deliver SIGINT (a real Ctrl-C) during batch ``n_batches`` of training."""
    real_backward = _training.backward
    calls = []

    def backward(*args, **kwargs):
        calls.append(1)
        if len(calls) == n_batches:
            signal.raise_signal(signal.SIGINT)
        return real_backward(*args, **kwargs)

    monkeypatch.setattr(_training, "backward", backward)


def test_ctrl_c_records_the_partial_epoch_with_the_mean_loss_of_its_batches(
    iris, monkeypatch
):
    X, y = iris
    params = dict(alpha=0.0, shuffle=False, batch_size=30, max_iter=3, warm_start=True)
    clf = _quiet(_net(**params).fit, X, y)
    # the first batch's loss is measured at the weights the epoch starts from
    expected = log_loss(y[:30], clf.predict_proba(X[:30]), labels=clf.classes_)
    _sigint_after_batches(monkeypatch, 1)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.history_) == 4
    assert clf.loss_ == pytest.approx(expected, rel=1e-10)
    assert clf.loss_curve_[-1] == clf.loss_
    assert clf.t_ == 3 * len(y) + 30  # the rows of the batch that ran
    assert accuracy_score(y, clf.predict(X)) > 0.5  # usable


def test_keyboard_interrupt_from_a_scorer_restores_the_epoch_start(iris):
    X, y = iris
    calls = []

    def scorer(est, X_, y_):
        calls.append(1)
        if len(calls) == 3:  # the start check and epoch 1 pass, epoch 2 fails
            raise KeyboardInterrupt
        return 0.0

    clf = _net(max_iter=5, scoring=scorer, restore_best_weights=False)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y, X_val=X, y_val=y)
    calls.clear()
    one_epoch = _net(max_iter=1, scoring=lambda *a: 0.0, restore_best_weights=False)
    _quiet(one_epoch.fit, X, y, X_val=X, y_val=y)
    assert clf.n_iter_ == 1 and len(clf.history_) == 1
    for a, b in zip(clf.coefs_, one_epoch.coefs_, strict=True):
        assert_array_equal(a, b)  # the weights epoch 2 started from
    assert _velocities_zero(clf)
    assert np.all(np.isfinite(clf.predict_proba(X)))


# --------------------------------------------------------- 8. feature-name warnings


def test_no_feature_name_warnings_from_our_scorer_calls(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = _net(max_iter=5, scoring="accuracy", early_stopping=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(df, y)
        clf.fit(df, y, X_val=df.iloc[::3], y_val=y[::3])
    assert not [w for w in caught if "feature names" in str(w.message)]
    assert clf.validation_scores_ is not None


# ---------------------------------------------------------- 9. validation weighting


class _RecordingScorer:
    """A callable scorer that records the sample weights it is given."""

    def __init__(self):
        self.weights = []

    def __call__(self, est, X, y, sample_weight=None):
        self.weights.append((np.asarray(y), sample_weight))
        return accuracy_score(y, est.predict(X), sample_weight=sample_weight)


def test_explicit_validation_data_are_weighted_by_sample_and_class_weight(iris):
    X, y = iris
    cw = {0: 3.0, 2: 0.5}
    X_val, y_val = X[::2], y[::2]
    sw_val = np.linspace(0.5, 1.5, len(y_val))
    expected = sw_val * np.array([3.0, 1.0, 0.5])[y_val]
    scorer = _RecordingScorer()
    clf = _net(max_iter=3, class_weight=cw, scoring=scorer, restore_best_weights=False)
    _quiet(clf.fit, X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw_val)
    for _, w in scorer.weights:
        assert_allclose(w, expected)
    val_loss = log_loss(y_val, clf.predict_proba(X_val), sample_weight=expected)
    assert clf.history_[-1]["val_loss"] == pytest.approx(val_loss, rel=1e-9)


def test_internal_split_is_weighted_by_sample_and_class_weight(iris):
    X, y = iris
    sw = np.linspace(0.5, 1.5, len(y))
    cw_arr = np.array([3.0, 1.0, 0.5])
    scorer = _RecordingScorer()
    clf = _net(
        max_iter=3,
        class_weight={0: 3.0, 2: 0.5},
        scoring=scorer,
        early_stopping=True,
        restore_best_weights=False,
    )
    _quiet(clf.fit, X, y, sample_weight=sw)
    y_part, w = scorer.weights[0]
    # sw's values are distinct: the rows are found back from the weights given
    rows = np.searchsorted(sw, w / cw_arr[y_part])
    assert len(rows) == 15  # validation_fraction=0.1 of 150
    assert_allclose(sw[rows], w / cw_arr[y_part])
    assert_array_equal(y[rows], y_part)
    val_loss = log_loss(y[rows], clf.predict_proba(X[rows]), sample_weight=w)
    assert clf.history_[-1]["val_loss"] == pytest.approx(val_loss, rel=1e-9)


# -------------------------------------------------------------------- 10. adaptive


def test_warm_fit_restarts_adaptive_at_learning_rate_init(iris):
    X, y = iris
    clf = _net(
        learning_rate="adaptive", max_iter=12, tol=10.0, n_iter_no_change=2,
        warm_start=True,
    )  # fmt: skip
    _quiet(clf.fit, X, y)
    assert clf.history_[-1]["learning_rate"] < clf.learning_rate_init  # decayed
    _quiet(clf.fit, X, y)
    assert clf.history_[-clf.n_iter_]["learning_rate"] == clf.learning_rate_init


def _rates_over_calls(clf, X, y, n_calls):
    """The learning rate of every epoch of ``n_calls`` partial_fit calls on (X, y)."""
    for _ in range(n_calls):
        clf.partial_fit(X, y, classes=np.unique(y))
    return [r["learning_rate"] for r in clf.history_]


def test_partial_fit_adaptive_divides_by_5_after_a_plateau_of_calls(iris):
    X, y = iris
    X, y = np.tile(X, (7, 1)), np.tile(y, 7)  # 1050 rows: each call a window
    assert X.shape[0] >= _PLATEAU_ROWS
    clf = _net(learning_rate="adaptive", tol=10.0, n_iter_no_change=2)
    rates = _rates_over_calls(clf, X, y, 9)
    # call 1 improves on nothing-yet; calls 2-4 do not improve by tol=10: after
    # n_iter_no_change + 1 = 3 of them the rate is divided by 5
    assert rates[:4] == [0.1] * 4
    assert rates[4] == pytest.approx(0.02)
    assert rates[7] == pytest.approx(0.004)


def test_partial_fit_adaptive_plateau_sees_windows_of_small_calls(iris):
    # the online loss of a small call is noisy and the lowest of many is biased
    # low: the rule sees one mean per window of _PLATEAU_ROWS rows (7 calls of
    # 150 here), so the rate is divided after 4 windows, not after 4 calls
    X, y = iris
    clf = _net(learning_rate="adaptive", tol=10.0, n_iter_no_change=2)
    rates = _rates_over_calls(clf, X, y, 29)
    per_window = -(-_PLATEAU_ROWS // X.shape[0])
    assert per_window == 7
    assert rates[: 4 * per_window] == [0.1] * (4 * per_window)
    assert rates[4 * per_window] == pytest.approx(0.02)
    best, count, window_loss, window_n = clf._plateau_state
    assert count == 0 and window_n == X.shape[0]  # one call into the next window
    assert 0 < window_loss < X.shape[0] * np.log(3)  # its rows' cross-entropy


def test_a_default_stream_of_small_calls_keeps_learning(stream):
    # 32-row calls at the defaults ('adaptive'): the plateau rule compared each
    # call's online loss with the lowest so far and cut the rate to 2.6e-7 within
    # 200 calls; the stream stalled at accuracy 0.73 and warned "raise
    # learning_rate_init" (a constant rate: 0.85)
    X, y = make_classification(6000, 20, n_informative=10, n_classes=3, random_state=0)
    order = np.random.RandomState(1).permutation(len(y))
    clf = SoftmaxNetClassifier(random_state=0)
    said = stream(clf, X, y, 32, order=order)
    assert not said, said
    assert min(r["learning_rate"] for r in clf.history_) >= clf.learning_rate_init / 5
    constant = SoftmaxNetClassifier(learning_rate="constant", random_state=0)
    stream(constant, X, y, 32, order=order)
    assert clf.score(X, y) >= constant.score(X, y) - 0.01 and clf.score(X, y) > 0.8


def test_a_stream_starts_its_own_schedule_after_fit_and_takes_a_new_rate(iris):
    # a fit's 'adaptive' rate ends where it converged (2.6e-7 at the defaults); a
    # stream of new rows kept it for good, and set_params(learning_rate_init=...)
    # between calls was ignored: the rate asked for is now the rate used
    X, y = iris
    X, y = np.tile(X, (7, 1)), np.tile(y, 7)  # 1050 rows: each call a window
    clf = _net(learning_rate="adaptive", tol=10.0, n_iter_no_change=1)
    _quiet(clf.fit, X[:150], y[:150])
    assert clf.history_[-1]["learning_rate"] < clf.learning_rate_init
    for _ in range(4):
        clf.partial_fit(X, y)
    rates = [r["learning_rate"] for r in clf.history_[-4:]]
    assert rates == [0.1, 0.1, 0.1, pytest.approx(0.02)]  # afresh, then a plateau
    clf.set_params(learning_rate_init=0.05)
    clf.partial_fit(X, y)
    assert clf.history_[-1]["learning_rate"] == 0.05


def test_partial_fit_adaptive_never_goes_below_its_floor(iris):
    X, y = iris
    clf = _net(learning_rate="adaptive", tol=10.0, n_iter_no_change=1)
    rates = _rates_over_calls(clf, X, y, 40)
    assert min(rates) > 0 and min(rates) >= 1e-6 / 5
    assert rates[-1] == rates[-2]  # stays at the floor


# ---------------------------------------------------------- 11. verbose messages


def test_verbose_says_when_early_stopping_fires(iris, capsys):
    X, y = iris
    clf = _net(max_iter=200, verbose=1, early_stopping=True, n_iter_no_change=2)
    _quiet(clf.fit, X, y)
    out = capsys.readouterr().out
    assert clf.n_iter_ < 200
    assert "did not improve" in out and "Stopping." in out
    assert "Restored the weights of epoch" in out


def test_verbose_says_when_training_loss_plateau_stops(iris, capsys):
    X, y = iris
    _quiet(_net(max_iter=50, verbose=1, tol=10.0, n_iter_no_change=2).fit, X, y)
    out = capsys.readouterr().out
    assert "Loss did not improve more than tol=10.0 for 2 consecutive" in out


def test_verbose_names_the_restored_epoch(iris, capsys):
    X, y = iris
    clf = _net(max_iter=10, verbose=1)
    _quiet(clf.fit, X, y, X_val=X[::3], y_val=y[::3])
    out = capsys.readouterr().out
    assert f"Restored the weights of epoch {clf.best_epoch_} " in out
    assert f"{clf.best_validation_score_:.6g}" in out


def test_verbose_is_silent_by_default(iris, capsys):
    X, y = iris
    _quiet(_net(max_iter=3, early_stopping=True).fit, X, y)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------- warm start: counters, history


def test_warm_fit_counters_and_history_follow_mlp(iris):
    X, y = iris
    clf = _net(max_iter=4, warm_start=True, tol=0)
    _quiet(clf.fit, X, y)
    _quiet(clf.fit, X, y)
    assert clf.n_iter_ == 4
    assert clf.t_ == 8 * len(y)
    assert [r["epoch"] for r in clf.history_] == [1, 2, 3, 4] * 2
    assert clf.loss_curve_ == [r["train_loss"] for r in clf.history_]
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 5 and clf.history_[-1]["epoch"] == 5
    clf.set_params(warm_start=False)
    _quiet(clf.fit, X, y)  # a cold fit forgets everything
    assert clf.n_iter_ == 4 and len(clf.history_) == 4 and clf.t_ == 4 * len(y)


def test_partial_fit_carries_the_velocities(iris):
    X, y = iris
    clf = _net()
    clf.partial_fit(X, y, classes=np.unique(y))
    velocities = [v.copy() for v in clf._velocities]
    assert any(np.any(v) for v in velocities)
    fresh = pickle.loads(pickle.dumps(clf))
    fresh._velocities = None
    clf.partial_fit(X, y)
    fresh.partial_fit(X, y)
    assert any(
        not np.array_equal(a, b) for a, b in zip(clf.coefs_, fresh.coefs_, strict=True)
    )


# ----------------------------------------------------------- the state machine

_SM_RNG = np.random.RandomState(0)
X_SM = _SM_RNG.normal(size=(60, 4))
y_SM = np.array(["a", "b", "c"])[np.arange(60) % 3]
X_VAL_SM = _SM_RNG.normal(size=(15, 4))
y_VAL_SM = np.array(["a", "b", "c"])[np.arange(15) % 3]
CLASSES_SM = np.array(["a", "b", "c"])


class _ScorerInterruptingAt:
    """A scorer that raises KeyboardInterrupt on its ``n``-th call (picklable)."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, est, X, y, sample_weight=None):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return accuracy_score(y, est.predict(X), sample_weight=sample_weight)


def _raising_scorer(est, X, y, sample_weight=None):
    raise RuntimeError("scorer failed")


class SoftmaxNetStateMachine(RuleBasedStateMachine):
    """Interleave every way of changing the model; check the invariants each step.

    ``expected_t`` models ``t_`` (training rows seen since the last cold fit) from
    the calls made; ``None`` after a Ctrl-C, whose partial epoch counts the rows of
    the batches that ran.
    """

    def __init__(self):
        super().__init__()
        self.est = SoftmaxNetClassifier(
            (8,), batch_size=16, max_iter=3, random_state=0, on_divergence="warn"
        )
        self.expected_t = 0
        self.last_call_was_fit = False

    # -------------------------------------------------------------- helpers
    @property
    def fitted(self):
        return hasattr(self.est, "coefs_")

    def _quietly(self, method, *args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return method(*args, **kwargs)

    def _fit(self, *, warm, explicit_val):
        was_fitted = self.fitted
        self.est.set_params(warm_start=warm)
        fit_params = {}
        if explicit_val:
            fit_params = dict(X_val=X_VAL_SM, y_val=y_VAL_SM)
        self._quietly(self.est.fit, X_SM, y_SM, **fit_params)
        self.last_call_was_fit = True
        split = self.est.early_stopping_ and not explicit_val
        n_train = 54 if split else 60
        if not (warm and was_fitted):
            self.expected_t = 0
        if self.expected_t is not None:
            self.expected_t += self.est.n_iter_ * n_train
        assert self.est.n_iter_ <= self.est.max_iter
        if self.est.validation_scores_ is not None and self.est.n_iter_:
            # the weights held are the best epoch's, or the starting ones (0)
            assert 0 <= self.est.best_epoch_ <= self.est.n_iter_

    def _fails(self, exc, method, *args, **kwargs):
        before = snapshot(self.est)
        with pytest.raises(exc):
            self._quietly(method, *args, **kwargs)
        assert_same_state(self.est, before)

    # ---------------------------------------------------------------- rules
    @rule(explicit_val=st.booleans())
    def cold_fit(self, explicit_val):
        self._fit(warm=False, explicit_val=explicit_val)

    @rule(explicit_val=st.booleans())
    def warm_fit(self, explicit_val):
        self._fit(warm=True, explicit_val=explicit_val)

    @rule(part=st.sampled_from(["all", "half", "without_a"]))
    def partial_fit(self, part):
        rows = {
            "all": slice(None),
            "half": slice(0, 30),
            "without_a": y_SM != "a",
        }[part]
        X, y = X_SM[rows], y_SM[rows]
        if self.est.class_weight == "balanced":
            if self.fitted:
                self._fails(ValueError, self.est.partial_fit, X, y, classes=CLASSES_SM)
            return
        n_iter = self.est.n_iter_ if self.fitted else 0
        if not self.fitted:
            self.expected_t = 0
        self._quietly(self.est.partial_fit, X, y, classes=CLASSES_SM)
        self.last_call_was_fit = False
        assert self.est.n_iter_ == n_iter + 1
        if self.expected_t is not None:
            self.expected_t += len(y)

    @rule(kind=st.sampled_from(["constant", "adaptive", "cosine", "invscaling"]))
    def set_learning_rate(self, kind):
        self.est.set_params(learning_rate=kind)

    @rule(lr=st.sampled_from([0.01, 0.1, 1.0, 50.0]))
    def set_learning_rate_init(self, lr):
        self.est.set_params(learning_rate_init=lr)

    @rule(momentum=st.sampled_from([0.0, 0.5, 0.9]), nesterov=st.booleans())
    def set_momentum(self, momentum, nesterov):
        self.est.set_params(momentum=momentum, nesterovs_momentum=nesterov)

    @rule(on=st.booleans())
    def set_early_stopping(self, on):
        self.est.set_params(early_stopping=on)

    @rule(cw=st.sampled_from([None, {"a": 2.0}, {"b": 0.5, "c": 3.0}, "balanced"]))
    def set_class_weight(self, cw):
        self.est.set_params(class_weight=cw)

    @precondition(lambda self: self.fitted)
    @rule()
    def pickled_copy_continues_identically(self):
        if self.est.class_weight == "balanced":
            return
        copy_ = pickle.loads(pickle.dumps(self.est))
        self._quietly(self.est.partial_fit, X_SM, y_SM)
        self._quietly(copy_.partial_fit, X_SM, y_SM)
        self.last_call_was_fit = False
        if self.expected_t is not None:
            self.expected_t += len(y_SM)
        for a, b in zip(self.est.coefs_, copy_.coefs_, strict=True):
            assert_array_equal(a, b)
        assert copy_.history_[-1]["train_loss"] == self.est.history_[-1]["train_loss"]

    # ------------------------------------------------ calls that must fail
    @precondition(lambda self: self.fitted)
    @rule(warm=st.booleans())
    def fail_bad_x_shape(self, warm):
        self._fails(ValueError, self.est.partial_fit, X_SM[:, :3], y_SM)
        if warm:
            self.est.set_params(warm_start=True)
            self._fails(ValueError, self.est.fit, X_SM[:, :3], y_SM)

    @precondition(lambda self: self.fitted)
    @rule()
    def fail_cold_fit_on_nan(self):
        X = X_SM.copy()
        X[0, 0] = np.nan
        self.est.set_params(warm_start=False)
        self._fails(ValueError, self.est.fit, X, y_SM)

    @precondition(lambda self: self.fitted)
    @rule(warm=st.booleans())
    def fail_scorer_raises(self, warm):
        scoring = self.est.scoring
        self.est.set_params(scoring=_raising_scorer, warm_start=warm)
        try:
            self._fails(RuntimeError, self.est.fit, X_SM, y_SM, X_val=X_VAL_SM,
                        y_val=y_VAL_SM)  # fmt: skip
        finally:
            self.est.set_params(scoring=scoring)

    @precondition(lambda self: self.fitted)
    @rule()
    def fail_unknown_class_in_partial_fit(self):
        y = y_SM.copy()
        y[0] = "z"
        self._fails(ValueError, self.est.partial_fit, X_SM, y)

    @precondition(lambda self: self.fitted)
    @rule(warm=st.booleans())
    def fail_keyboard_interrupt_before_training(self, warm):
        # the scorer's first call checks it on the validation data, before epoch 1
        scoring = self.est.scoring
        self.est.set_params(scoring=_ScorerInterruptingAt(1), warm_start=warm)
        try:
            self._fails(KeyboardInterrupt, self.est.fit, X_SM, y_SM, X_val=X_VAL_SM,
                        y_val=y_VAL_SM)  # fmt: skip
        finally:
            self.est.set_params(scoring=scoring)

    # ------------------------------------------ interrupts the model survives
    @rule(at=st.integers(2, 4), warm=st.booleans())
    def keyboard_interrupt_mid_training(self, at, warm):
        scoring = self.est.scoring
        scorer = _ScorerInterruptingAt(at)
        self.est.set_params(scoring=scorer)
        try:
            self._fit(warm=warm, explicit_val=True)
        finally:
            self.est.set_params(scoring=scoring)
        if scorer.calls < at:  # rolled-back epochs are not scored: max_iter first
            return
        # the interrupted epoch is not recorded (nor its rows counted)
        est = self.est
        this_fit = est.history_[len(est.history_) - est.n_iter_ :]
        assert sum("event" not in r for r in this_fit) == at - 2
        assert _velocities_zero(est)  # the epoch's start, no momentum

    @rule(batch=st.integers(1, 6), warm=st.booleans())
    def ctrl_c(self, batch, warm):
        real_backward = _training.backward
        calls = []

        def backward(*args, **kwargs):
            calls.append(1)
            if len(calls) == batch:
                signal.raise_signal(signal.SIGINT)
            return real_backward(*args, **kwargs)

        _training.backward = backward
        try:
            self._fit(warm=warm, explicit_val=False)
        finally:
            _training.backward = real_backward
        self.expected_t = None  # the partial epoch's rows depend on the batches

    # ----------------------------------------------------------- invariants
    @invariant()
    def consistent(self):
        est = self.est
        if not self.fitted:
            return
        for W, b in est._params:
            assert np.isfinite(W).all() and np.isfinite(b).all()
        for v in est._velocities or ():
            assert np.isfinite(v).all()
        assert est.loss_curve_ == [r["train_loss"] for r in est.history_]
        assert len(est.history_) >= est.n_iter_
        if est.history_ and est.n_iter_ == 0:
            # only a fit interrupted in its first epoch records nothing: history_
            # still holds the epochs of the fits before it
            assert self.last_call_was_fit
        elif est.history_:
            assert est.history_[-1]["epoch"] == est.n_iter_
            if "event" in est.history_[-1]:  # rolled back: weights and momentum
                assert _velocities_zero(est)
        assert est.n_recoveries_ == sum("event" in r for r in est.history_)
        if self.expected_t is not None:
            assert est.t_ == self.expected_t
        copy_ = pickle.loads(pickle.dumps(est))
        assert_array_equal(copy_.predict_proba(X_SM), est.predict_proba(X_SM))
        assert_array_equal(copy_.predict(X_SM), est.predict(X_SM))


SoftmaxNetStateMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_state_machine = SoftmaxNetStateMachine.TestCase


def test_warm_fit_without_validation_data_drops_the_old_validation_score(iris):
    X, y = iris
    clf = _quiet(_net(max_iter=3, warm_start=True).fit, X, y, X_val=X, y_val=y)
    assert clf.best_validation_score_ is not None
    _quiet(clf.fit, X, y)  # the weights move on: the old score no longer holds
    assert clf.best_validation_score_ is None
    assert clf.best_epoch_ >= 1


def test_interrupt_warning_says_what_the_weights_are(iris):
    X, y = iris
    clf = _net(max_iter=5, scoring=_ScorerInterruptingAt(3))
    with pytest.warns(UserWarning, match=r"n_iter_=1 .*best epoch \((0|1)\)"):
        clf.fit(X, y, X_val=X, y_val=y)
    clf = _net(max_iter=5, scoring=_ScorerInterruptingAt(3))
    clf.set_params(restore_best_weights=False)
    with pytest.warns(UserWarning, match="holds the weights of a complete epoch"):
        clf.fit(X, y, X_val=X, y_val=y)


# ------------------------------- 12. what a fresh fit returns (adversarial audit)


def _noisy_split(seed=0):
    """400 rows, 3 informative features of 40, 30% flipped labels, halved."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=400, n_features=40, n_informative=3, n_redundant=0, flip_y=0.3,
        class_sep=0.8, random_state=seed,
    )  # fmt: skip
    return X[:200], y[:200], X[200:], y[200:]


def test_a_fresh_fit_never_returns_its_random_starting_weights():
    # on noisy data no trained epoch may beat the random start's validation loss:
    # the start used to be restored silently (best_epoch_ 0, an untrained network)
    warned = 0
    for seed in range(3):
        X, y, X_val, y_val = _noisy_split(seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf = SoftmaxNetClassifier(early_stopping=True, random_state=0).fit(
                X, y, X_val=X_val, y_val=y_val
            )
        held = -log_loss(y_val, clf.predict_proba(X_val))
        assert clf.best_epoch_ >= 1
        assert clf.best_validation_score_ == pytest.approx(held, rel=1e-9)
        assert max(clf.validation_scores_) == pytest.approx(held, rel=1e-9)
        # oracle: per validation row, the model's log-loss minus the class prior's
        # (from the training labels); the warning needs the mean excess above
        # twice its standard error
        prior = np.bincount(y) / len(y)
        prior_loss = log_loss(y_val, np.tile(prior, (len(y_val), 1)))
        proba = clf.predict_proba(X_val)[np.arange(len(y_val)), y_val]
        diff = -np.log(proba) + np.log(prior[y_val])
        worse = diff.mean() > 2 * diff.std() / np.sqrt(len(diff))
        said = [str(c.message) for c in caught if "validation data" in str(c.message)]
        assert bool(said) == worse, (seed, -held, prior_loss, said)
        if said:
            warned += 1
            assert f"validation log-loss {-held:.4g}" in said[0]
            assert f"the prior's {prior_loss:.4g}" in said[0]
    assert warned >= 1  # the data are noisy enough to need the warning


def test_a_nan_validation_score_is_an_error_and_leaves_the_estimator_as_it_was(iris):
    X, y = iris
    clf = _net(max_iter=3, scoring=lambda est, X_, y_: float("nan"))
    before = snapshot(clf)
    with pytest.raises(ValueError, match="validation score .* is NaN"):
        clf.fit(X, y, X_val=X, y_val=y)
    assert_same_state(clf, before)
    assert not hasattr(clf, "coefs_")


def test_ctrl_c_in_the_first_epoch_keeps_its_scored_weights_not_the_start(
    iris, monkeypatch
):
    # the epoch cut short is validated and recorded: it is a candidate for the
    # best epoch, and best_validation_score_ agrees with validation_scores_
    X, y = iris
    _sigint_after_batches(monkeypatch, 3)
    clf = _net(max_iter=10, batch_size=10)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y, X_val=X, y_val=y)
    assert clf.n_iter_ == 1 and clf.best_epoch_ == 1
    assert clf.best_validation_score_ == clf.validation_scores_[0]
    assert clf.best_validation_score_ == pytest.approx(
        -log_loss(y, clf.predict_proba(X)), rel=1e-9
    )


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_new_hidden_layer_sizes_on_a_continued_fit_is_an_error(iris, how):
    X, y = iris
    clf = _net(hidden_layer_sizes=(5,), warm_start=True, max_iter=3)
    if how == "warm_start":
        _quiet(clf.fit, X, y)
    else:
        clf.partial_fit(X, y, classes=np.unique(y))
    before = snapshot(clf)
    clf.set_params(hidden_layer_sizes=(4, 4))
    call = clf.fit if how == "warm_start" else clf.partial_fit
    with pytest.raises(ValueError, match=r"fitted network's hidden layers are \(5,\)"):
        call(X, y)
    assert_same_state(clf, before)
    # the unchanged architecture continues as before
    clf.set_params(hidden_layer_sizes=[5])
    _quiet(call, X, y)
    assert [W.shape for W in clf.coefs_] == [(4, 5), (5, 3)]


def test_partial_fit_after_fit_drops_the_validation_score_of_other_weights(iris):
    X, y = iris
    clf = _quiet(_net(max_iter=3).fit, X, y, X_val=X, y_val=y)
    assert clf.best_validation_score_ is not None
    clf.partial_fit(X, y)  # the weights move on: the old score no longer holds
    assert clf.best_validation_score_ is None


def test_partial_fit_calls_still_in_a_pool_do_not_feed_the_adaptive_plateau(iris):
    # a few rows' loss looks like a plateau every few calls: the adaptive rate
    # fell to its floor within 60 calls of 8 rows; only judged losses count now
    X, y = iris
    order = np.random.RandomState(0).permutation(len(y))
    clf = _net(learning_rate="adaptive", standardize=False)
    for i in range(3):  # 24 rows: the pool of 32 is not full yet
        rows = order[i * 8 : (i + 1) * 8]
        clf.partial_fit(X[rows], y[rows], classes=np.unique(y))
    assert clf._plateau_state == (math.inf, 0, 0.0, 0)
    clf.partial_fit(X[order[24:32]], y[order[24:32]])  # full: one judged loss
    best, count, window_loss, window_n = clf._plateau_state
    # ... into the plateau rule's window (of _PLATEAU_ROWS rows), not yet a plateau
    assert best == math.inf and count == 0
    assert window_n == 32 and math.isfinite(window_loss) and window_loss > 0


@pytest.mark.parametrize("rows", [1, 20])
def test_weights_that_cannot_act_on_a_partial_fit_call_warn_once(iris, rows):
    # each call is normalised by its own mean weight: in a call of one row, or of
    # one class under class_weight, the weights cancel
    X, y = iris
    clf = _net(class_weight={0: 1.0, 1: 5.0, 2: 1.0}, standardize=False)
    clf.partial_fit(X[::3], y[::3], classes=np.unique(y))  # mixed: silent
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for start in (50, 50 + rows):  # class 1 only
            clf.partial_fit(X[start : start + rows], y[start : start + rows])
    (msg,) = [str(w.message) for w in caught if "own mean weight" in str(w.message)]
    assert f"the {rows} row(s) of this call all weigh 5" in msg
