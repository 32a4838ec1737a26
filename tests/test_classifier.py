"""SoftmaxNetClassifier: the scikit-learn API, data handling and training control."""

import os
import pickle
import signal
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier
from skl_softmaxnet._compat import HAS_CALLBACKS


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X, y


_FIT_KWARGS = ("sample_weight", "X_val", "y_val", "sample_weight_val")


def _fit(X, y, **params):
    """Fit with ConvergenceWarning silenced; fit-time arguments go to fit."""
    params.setdefault("random_state", 0)
    fit_kwargs = {k: params.pop(k) for k in _FIT_KWARGS if k in params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SoftmaxNetClassifier(**params).fit(X, y, **fit_kwargs)


# --------------------------------------------------------------------------- API


def test_fitted_attributes_and_shapes(iris):
    X, y = iris
    clf = _fit(X, y, hidden_layer_sizes=(5, 4), max_iter=5)
    assert [W.shape for W in clf.coefs_] == [(4, 5), (5, 4), (4, 3)]
    assert [b.shape for b in clf.intercepts_] == [(5,), (4,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert clf.n_features_in_ == 4
    assert clf.n_iter_ == 5 and clf.t_ == 5 * 150
    assert len(clf.loss_curve_) == 5 and clf.loss_ == clf.loss_curve_[-1]
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_no_hidden_layer_is_multinomial_logistic_regression(iris):
    X, y = iris
    clf = _fit(X, y, hidden_layer_sizes=(), max_iter=100, alpha=1e-4)
    assert [W.shape for W in clf.coefs_] == [(4, 3)]
    assert clf.score(X, y) > 0.9


def test_binary_uses_two_softmax_units_and_1d_decision_function(blobs):
    X, y = blobs
    yb = (y == 0).astype(int)
    clf = _fit(X, yb, max_iter=20)
    assert clf.coefs_[-1].shape[1] == 2
    dec = clf.decision_function(X)
    assert dec.shape == (X.shape[0],)
    np.testing.assert_array_equal(clf.classes_[(dec > 0).astype(int)], clf.predict(X))
    proba = clf.predict_proba(X)
    # logit difference is the log-odds of classes_[1]
    np.testing.assert_allclose(
        dec, np.log(proba[:, 1]) - np.log(proba[:, 0]), atol=1e-9
    )


def test_multiclass_decision_function_is_the_logits(iris):
    X, y = iris
    clf = _fit(X, y, max_iter=10)
    dec = clf.decision_function(X)
    assert dec.shape == (150, 3)
    np.testing.assert_allclose(
        clf.predict_log_proba(X),
        dec - np.log(np.exp(dec).sum(1, keepdims=True)),
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "labels",
    [np.array(["setosa", "versicolor", "virginica"]), np.array([-7, 3, 100])],
    ids=["strings", "non-contiguous-ints"],
)
def test_any_label_type(iris, labels):
    X, y = iris
    clf = _fit(X, labels[y], max_iter=30)
    np.testing.assert_array_equal(clf.classes_, labels)
    assert set(clf.predict(X)) <= set(labels)
    ref = _fit(X, y, max_iter=30)
    np.testing.assert_array_equal(clf.predict_proba(X), ref.predict_proba(X))


@pytest.mark.parametrize(
    "in_dtype, expected",
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)],
)
def test_dtype_handling(blobs, in_dtype, expected):
    X, y = blobs
    Xc = (X * 10).astype(in_dtype)
    clf = _fit(Xc, y, max_iter=3)
    assert all(W.dtype == expected for W in clf.coefs_)
    assert all(b.dtype == expected for b in clf.intercepts_)
    assert clf.predict_proba(Xc).dtype == expected
    assert clf.predict_log_proba(Xc).dtype == expected


def test_float32_model_predicts_float64_input_in_float32(blobs):
    X, y = blobs
    clf = _fit(X.astype(np.float32), y, max_iter=3)
    assert clf.predict_proba(X).dtype == np.float32


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_gives_the_same_model_as_dense(blobs, fmt):
    X, y = blobs
    X = X * (np.random.RandomState(0).uniform(size=X.shape) < 0.4)
    # standardize=False: sparse input is scaled but never centred (test_scaling.py)
    dense = _fit(X, y, max_iter=5, standardize=False)
    sparse = _fit(sp.csr_matrix(X).asformat(fmt), y, max_iter=5, standardize=False)
    for Wd, Ws in zip(dense.coefs_, sparse.coefs_, strict=True):
        np.testing.assert_allclose(Ws, Wd, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), atol=1e-12
    )


def test_same_random_state_gives_bit_identical_models(blobs):
    X, y = blobs
    a = _fit(X, y, hidden_layer_sizes=(16, 8), max_iter=5, random_state=7)
    b = _fit(X, y, hidden_layer_sizes=(16, 8), max_iter=5, random_state=7)
    c = _fit(X, y, hidden_layer_sizes=(16, 8), max_iter=5, random_state=8)
    for Wa, Wb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_random_state_none_follows_the_sklearn_convention(blobs):
    # random_state=None means numpy's global RandomState (check_random_state(None)),
    # as everywhere in scikit-learn; an int or RandomState makes the fit independent.
    X, y = blobs
    np.random.seed(0)  # noqa: NPY002 - the global state is what is being tested
    a = _fit(X, y, max_iter=2, random_state=None)
    np.random.seed(0)  # noqa: NPY002
    b = _fit(X, y, max_iter=2, random_state=None)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    c = _fit(X, y, max_iter=2, random_state=np.random.RandomState(0))
    d = _fit(X, y, max_iter=2, random_state=0)
    np.testing.assert_array_equal(c.coefs_[0], d.coefs_[0])


def test_huge_inputs_give_finite_log_proba(blobs):
    X, y = blobs
    clf = _fit(X, y, max_iter=3)
    log_proba = clf.predict_log_proba(X * 1e6)
    assert np.all(np.isfinite(log_proba))
    # where exp underflows, log(predict_proba) would be -inf; log_softmax is not
    with np.errstate(divide="ignore"):
        naive = np.log(clf.predict_proba(X * 1e6))
    assert np.isinf(naive).any()


@pytest.mark.parametrize("standardize", [False, True])
def test_fit_copies_X_only_to_standardize_it(standardize):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20000, 100))
    y = rng.randint(3, size=20000)
    tracemalloc.start()
    # early_stopping=False: the validation split would copy its tenth of X
    _fit(
        X, y, hidden_layer_sizes=(8,), max_iter=2, standardize=standardize,
        early_stopping=False,
    )  # fmt: skip
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # standardize=True: one standardised copy, plus the temporaries of the
    # statistics, computed 4096 rows at a time (a fifth of this X)
    assert peak < (1.4 if standardize else 0.2) * X.nbytes


def test_batch_size_too_large_is_clipped_to_n_samples(iris):
    X, y = iris
    big = _fit(X, y, max_iter=1, batch_size=1000, shuffle=False)
    full = _fit(X, y, max_iter=1, batch_size=150, shuffle=False)
    # one full batch each: identical single steps
    np.testing.assert_array_equal(big.coefs_[0], full.coefs_[0])
    assert big.batch_size_ == 150
    two = _fit(X, y, max_iter=1, batch_size=75, shuffle=False)
    assert not np.array_equal(two.coefs_[0], full.coefs_[0])


def test_batch_size_auto_trains_as_the_size_it_resolves_to(iris):
    X, y = iris
    auto = _fit(X, y, max_iter=2, batch_size="auto")
    # 150 rows: eight batches of ceil(150 / 8) = 19 rows
    assert auto.batch_size_ == 19
    fixed = _fit(X, y, max_iter=2, batch_size=19)
    np.testing.assert_array_equal(auto.coefs_[0], fixed.coefs_[0])


def test_convergence_warning_when_max_iter_reached(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        SoftmaxNetClassifier(max_iter=2, random_state=0).fit(*iris)


def test_tol_and_n_iter_no_change_stop_on_the_training_loss(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SoftmaxNetClassifier(
            tol=1e-2,
            n_iter_no_change=3,
            max_iter=500,
            learning_rate="constant",  # 'adaptive' would divide the rate instead
            random_state=0,
        ).fit(X, y)
    assert clf.n_iter_ < 500
    # MLPClassifier's rule: an epoch that does not beat the best loss so far by tol
    # counts; n_iter_no_change + 1 such epochs in a row stop training.
    count, best = 0, np.inf
    stop_epoch = None
    for epoch, loss in enumerate(clf.loss_curve_, start=1):
        count = count + 1 if loss > best - 1e-2 else 0
        best = min(best, loss)
        if count > 3:
            stop_epoch = epoch
            break
    assert stop_epoch == clf.n_iter_


def test_invalid_hyperparameters_name_the_parameter(iris):
    for params, name in [
        ({"alpha": -1.0}, "alpha"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"momentum": 1.5}, "momentum"),
        ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes"),
        ({"batch_size": 0}, "batch_size"),
    ]:
        with pytest.raises(ValueError, match=name):
            SoftmaxNetClassifier(**params).fit(*iris)


def test_parameter_names_are_a_subset_of_mlpclassifier_where_shared():
    ours = set(SoftmaxNetClassifier().get_params())
    mlp = set(MLPClassifier().get_params())
    shared = {
        "hidden_layer_sizes",
        "alpha",
        "batch_size",
        "learning_rate",
        "learning_rate_init",
        "power_t",
        "max_iter",
        "shuffle",
        "random_state",
        "tol",
        "verbose",
        "warm_start",
        "momentum",
        "nesterovs_momentum",
        "early_stopping",
        "validation_fraction",
        "n_iter_no_change",
    }
    assert shared <= ours and shared <= mlp


def test_similar_accuracy_to_mlpclassifier_on_the_same_data(blobs):
    X, y = blobs
    X = StandardScaler().fit_transform(X)
    ours = _fit(X[:200], y[:200], max_iter=100).score(X[200:], y[200:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = MLPClassifier(max_iter=300, random_state=0).fit(X[:200], y[:200])
    assert ours >= ref.score(X[200:], y[200:]) - 0.05


# -------------------------------------------------------------- training control


def test_early_stopping_uses_a_stratified_split_and_stops(blobs):
    X, y = blobs
    clf = _fit(
        X,
        y,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        max_iter=300,
        learning_rate_init=0.05,
    )
    assert clf.n_iter_ < 300
    assert clf.t_ % 240 == 0  # 80% of 300 rows trained per epoch
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    np.testing.assert_allclose(
        clf.validation_scores_, -np.array(clf.validation_loss_curve_)
    )


def test_early_stopping_split_falls_back_with_a_warning_for_tiny_classes():
    X = np.random.RandomState(0).normal(size=(30, 3))
    y = np.array([0] * 15 + [1] * 14 + [2])
    with pytest.warns(UserWarning, match="stratified"):
        _fit(X, y, early_stopping=True, max_iter=2)


def test_early_stopping_split_that_leaves_no_training_data_is_an_error():
    X = np.random.RandomState(0).normal(size=(2, 3))
    with pytest.raises(ValueError, match="validation_fraction"):
        SoftmaxNetClassifier(early_stopping=True, validation_fraction=0.9).fit(
            X, [0, 1]
        )


def test_early_stopping_split_with_an_all_zero_weight_training_part_is_an_error():
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = np.array([0, 1] * 10)
    sw = np.zeros(20)
    sw[:2] = 1.0  # whatever the split, at most two rows keep a weight
    clf = SoftmaxNetClassifier(early_stopping=True, validation_fraction=0.9)
    with pytest.raises(ValueError, match="zero sample weights"):
        # 18 of 20 rows go to validation; among 50 seeds, some split leaves both
        # training rows weightless (the loop ends at the first error)
        for seed in range(50):
            clf.set_params(random_state=seed).fit(X, y, sample_weight=sw)


def test_explicit_validation_data_are_recorded_without_early_stopping(blobs):
    X, y = blobs
    clf = _fit(X[:200], y[:200], max_iter=15, X_val=X[200:], y_val=y[200:])
    assert clf.n_iter_ == 15
    assert len(clf.history_) == 15
    assert all({"val_loss", "val_score"} <= set(r) for r in clf.history_)
    # the model holds the best-scoring epoch's weights
    best = int(np.argmax(clf.validation_scores_)) + 1
    assert clf.best_epoch_ == best
    val_loss = -np.mean(clf.predict_log_proba(X[200:])[np.arange(100), y[200:]])
    assert val_loss == pytest.approx(clf.validation_loss_curve_[best - 1], rel=1e-9)


def test_restore_best_weights_off_keeps_the_last_epoch(blobs):
    X, y = blobs
    Xs = StandardScaler().fit_transform(X)
    params = dict(
        hidden_layer_sizes=(64, 64),
        alpha=0,
        max_iter=40,
        learning_rate_init=0.1,
        X_val=Xs[250:],
        y_val=y[250:],
    )
    fit = {k: params.pop(k) for k in ("X_val", "y_val")}
    last = SoftmaxNetClassifier(restore_best_weights=False, random_state=0, **params)
    best = SoftmaxNetClassifier(restore_best_weights=True, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        last.fit(Xs[:50], y[:50], **fit)
        best.fit(Xs[:50], y[:50], **fit)
    lp = last.predict_log_proba(fit["X_val"])[np.arange(50), fit["y_val"]]
    bp = best.predict_log_proba(fit["X_val"])[np.arange(50), fit["y_val"]]
    assert -lp.mean() == pytest.approx(last.validation_loss_curve_[-1], rel=1e-9)
    assert -bp.mean() == pytest.approx(min(best.validation_loss_curve_), rel=1e-9)
    assert min(best.validation_loss_curve_) < last.validation_loss_curve_[-1]


def test_y_val_with_an_unseen_label_is_an_error(iris):
    X, y = iris
    with pytest.raises(ValueError, match="y_val contains labels not in classes_"):
        SoftmaxNetClassifier().fit(X, y, X_val=X[:3], y_val=[0, 1, 7])


def test_scoring_accepts_scorer_names_and_callables(blobs):
    X, y = blobs
    acc = _fit(X[:200], y[:200], max_iter=5, scoring="accuracy", early_stopping=True)
    assert all(0 <= s <= 1 for s in acc.validation_scores_)

    def neg_errors(est, X_val, y_val):
        return -float(np.sum(est.predict(X_val) != y_val))

    custom = _fit(
        X[:200], y[:200], max_iter=5, scoring=neg_errors, X_val=X[200:], y_val=y[200:]
    )
    assert all(s <= 0 and s == int(s) for s in custom.validation_scores_)


def test_x_val_passes_through_a_pipeline_with_transform_input(blobs):
    import sklearn
    from sklearn.pipeline import Pipeline

    X, y = blobs
    with sklearn.config_context(enable_metadata_routing=True):
        clf = SoftmaxNetClassifier(max_iter=5, random_state=0).set_fit_request(
            X_val=True, y_val=True
        )
        pipe = Pipeline(
            [("scale", StandardScaler()), ("clf", clf)], transform_input=["X_val"]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X[:200] * 1000, y[:200], X_val=X[200:] * 1000, y_val=y[200:])
    # the validation data were scaled: the recorded loss equals the scaled one
    fitted = pipe[-1]
    Xv = pipe[0].transform(X[200:] * 1000)
    lp = fitted.predict_log_proba(Xv)[np.arange(100), y[200:]]
    best = fitted.best_epoch_ - 1
    assert -lp.mean() == pytest.approx(fitted.validation_loss_curve_[best], rel=1e-9)


def test_history_is_one_record_per_epoch_and_makes_a_dataframe(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    clf = _fit(X, y, max_iter=4, early_stopping=True)
    df = pd.DataFrame(clf.history_)
    assert list(df.columns) == [
        "epoch",
        "train_loss",
        "val_loss",
        "val_score",
        "learning_rate",
        "time",
    ]
    assert df["epoch"].tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(df["train_loss"], clf.loss_curve_)
    assert (df["time"] > 0).all()


def test_partial_fit_needs_classes_first_and_equals_fit_without_shuffling(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="classes must be passed"):
        SoftmaxNetClassifier().partial_fit(X, y)
    params = dict(
        hidden_layer_sizes=(10,),
        shuffle=False,
        random_state=3,
        n_iter_no_change=1000,
        batch_size=64,
        alpha=0.1,  # alpha='auto' is data-dependent in fit, fixed in partial_fit
        # bit for bit: partial_fit folds the standardisation in and out each call
        standardize=False,
    )
    inc = SoftmaxNetClassifier(**params)
    for _ in range(100):
        inc.partial_fit(X, y, classes=np.unique(y))
    full = _fit(X, y, max_iter=100, **params)
    for Wi, Wf in zip(
        inc.coefs_ + inc.intercepts_, full.coefs_ + full.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(Wi, Wf)
    assert inc.n_iter_ == 100 and inc.t_ == full.t_
    np.testing.assert_allclose(inc.loss_curve_, full.loss_curve_, rtol=1e-12)
    # standardised, the same to rounding (the statistics of the first call: all X)
    params["standardize"] = True
    inc = SoftmaxNetClassifier(**params)
    for _ in range(100):
        inc.partial_fit(X, y, classes=np.unique(y))
    full = _fit(X, y, max_iter=100, **params)
    np.testing.assert_allclose(inc.predict_proba(X), full.predict_proba(X), atol=1e-9)


def test_partial_fit_carries_momentum_across_calls(blobs):
    X, y = blobs
    clf = SoftmaxNetClassifier(momentum=0.9, random_state=0, shuffle=False)
    clf.partial_fit(X, y, classes=np.unique(y))
    assert clf._velocities is not None
    v_before = [v.copy() for v in clf._velocities]
    clf.partial_fit(X, y)
    assert not np.array_equal(clf._velocities[0], v_before[0])


def test_partial_fit_with_a_different_classes_is_an_error(blobs):
    X, y = blobs
    clf = SoftmaxNetClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])


def test_warm_start_continues_and_rejects_new_classes(blobs):
    X, y = blobs
    clf = _fit(X, y, max_iter=3, warm_start=True)
    W_after_3 = clf.coefs_[0].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    # as MLPClassifier: n_iter_ counts this fit's epochs, the curve keeps growing
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 6
    assert not np.array_equal(clf.coefs_[0], W_after_3)
    cold = _fit(X, y, max_iter=3)
    np.testing.assert_array_equal(cold.coefs_[0], W_after_3)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])


def test_class_weight_dict_equals_the_matching_sample_weight(blobs):
    X, y = blobs
    a = _fit(X, y, max_iter=5, class_weight={0: 3.0, 2: 0.5})
    sw = np.select([y == 0, y == 2], [3.0, 0.5], 1.0)
    b = _fit(X, y, max_iter=5, sample_weight=sw)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


def test_class_weight_multiplies_sample_weight(blobs):
    X, y = blobs
    sw = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    a = _fit(X, y, max_iter=5, class_weight="balanced", sample_weight=sw)
    balanced = len(y) / (3 * np.bincount(y)[y])  # scikit-learn's 'balanced' formula
    b = _fit(X, y, max_iter=5, sample_weight=sw * balanced)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-10)


def test_class_weight_with_unknown_label_is_an_error(blobs):
    with pytest.raises(ValueError, match="class_weight"):
        SoftmaxNetClassifier(class_weight={9: 1.0}).fit(*blobs)


def test_invscaling_and_cosine_rates_are_recorded(blobs):
    X, y = blobs
    inv = _fit(X, y, max_iter=3, learning_rate="invscaling", learning_rate_init=0.1)
    rates = [r["learning_rate"] for r in inv.history_]
    assert rates == pytest.approx([0.1, 0.1 / 301**0.5, 0.1 / 601**0.5])
    cos = _fit(
        X,
        y,
        max_iter=4,
        learning_rate="cosine",
        warmup_iters=1,
        learning_rate_init=0.01,
    )
    rates = [r["learning_rate"] for r in cos.history_]
    assert rates == pytest.approx([0.01, 0.01, 0.01 * 0.75, 0.01 * 0.25])


def test_adaptive_rate_divides_by_five_on_plateaus(iris):
    X, y = iris
    clf = _fit(
        X,
        y,
        learning_rate="adaptive",
        tol=10.0,
        n_iter_no_change=2,
        max_iter=40,
        learning_rate_init=0.01,
    )
    rates = [r["learning_rate"] for r in clf.history_]
    # tol is huge, so every epoch after the first is a non-improvement; the third
    # in a row (> n_iter_no_change) divides the rate by 5 and resets the count
    assert rates[:4] == [0.01] * 4
    assert rates[4:7] == pytest.approx([0.002] * 3)
    assert rates[7] == pytest.approx(0.0004)
    assert clf.n_iter_ < 40  # stopped once the rate reached 1e-6


def test_verbose_prints_one_aligned_row_per_epoch(blobs, capsys):
    X, y = blobs
    _fit(X, y, max_iter=3, verbose=1, early_stopping=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == [
        "epoch",
        "train_loss",
        "val_loss",
        "val_score",
        "lr",
        "secs",
    ]
    assert len(lines) == 5 and lines[-1].startswith("Restored the weights of epoch")
    rows = lines[1:4]
    assert len({len(line) for line in rows}) == 1
    assert [int(line.split()[0]) for line in rows] == [1, 2, 3]


def test_keyboard_interrupt_stops_after_the_current_batch(blobs):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals can only be handled in the main thread")
    X, y = blobs
    X = np.tile(X, (20, 1))
    y = np.tile(y, 20)
    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT))
    clf = SoftmaxNetClassifier(max_iter=100000, batch_size=16, random_state=0)
    timer.start()
    try:
        with pytest.warns(UserWarning, match="interrupted"):
            clf.fit(X, y)
    finally:
        timer.cancel()
    assert 0 < clf.n_iter_ < 100000
    assert np.all(np.isfinite(clf.predict_proba(X)))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(not HAS_CALLBACKS, reason="scikit-learn < 1.9 has no callbacks")
def test_sklearn_scoring_monitor_callback_sees_every_epoch(blobs):
    from sklearn.callback import ScoringMonitor

    X, y = blobs
    monitor = ScoringMonitor(scoring="accuracy")
    clf = SoftmaxNetClassifier(max_iter=4, random_state=0).set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == 4
    assert all(0 <= r["accuracy"] <= 1 for r in rows)


@pytest.mark.skipif(not HAS_CALLBACKS, reason="scikit-learn < 1.9 has no callbacks")
def test_sklearn_progress_bar_callback_runs(blobs):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = blobs
    clf = SoftmaxNetClassifier(max_iter=3, random_state=0).set_callbacks(ProgressBar())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == 3


@pytest.mark.skipif(not HAS_CALLBACKS, reason="scikit-learn < 1.9 has no callbacks")
def test_callback_hooks_see_the_fit_task_and_one_task_per_epoch(blobs):
    X, y = blobs
    events = []

    class Recorder:
        def setup(self, estimator, context):
            events.append(("setup", None))

        def on_fit_task_begin(self, estimator, context):
            events.append(("begin", context.task_name))

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            events.append(("end", context.task_name))
            if context.task_name == "epoch":
                # a snapshot that predicts as the model stood at this epoch's end
                assert fitted_estimator is not estimator
                assert fitted_estimator.predict(X).shape == y.shape
            return False

        def teardown(self, estimator, context):
            events.append(("teardown", None))

    clf = SoftmaxNetClassifier(max_iter=3, random_state=0).set_callbacks(Recorder())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert events[0] == ("setup", None) and events[-1] == ("teardown", None)
    assert events.count(("begin", "epoch")) == events.count(("end", "epoch")) == 3
    assert events.count(("end", "fit")) == 1


@pytest.mark.skipif(not HAS_CALLBACKS, reason="scikit-learn < 1.9 has no callbacks")
def test_a_callback_returning_true_stops_training(blobs):
    X, y = blobs

    class StopAfterTwo:
        def setup(self, estimator, context):
            self.epochs = 0

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context):
            self.epochs += context.task_name == "epoch"
            return self.epochs >= 2

        def teardown(self, estimator, context):
            pass

    clf = SoftmaxNetClassifier(max_iter=50, random_state=0)
    clf.set_callbacks(StopAfterTwo()).fit(X, y)
    assert clf.n_iter_ == 2


def test_without_callbacks_the_estimator_has_no_callback_state(blobs):
    X, y = blobs
    clf = _fit(X, y, max_iter=2)
    assert not hasattr(clf, "_skl_callbacks")
    assert not hasattr(clf, "_callback_fit_ctx")


def test_pickle_round_trip_keeps_predictions(blobs):
    X, y = blobs
    clf = _fit(X, y, max_iter=3)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
