"""SoftmaxNetClassifier inside scikit-learn's meta-estimators and tools."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl_softmaxnet import SoftmaxNetClassifier


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_pipeline_fits_and_scores(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), SoftmaxNetClassifier(random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.95
    assert pipe.predict_proba(X).shape == (150, 3)


def test_grid_search_with_two_jobs_and_an_mlpclassifier_grid(iris):
    X, y = iris
    # a grid written for MLPClassifier works unchanged
    grid = {
        "clf__hidden_layer_sizes": [(8,), (16,)],
        "clf__alpha": [1e-4, 1e-2],
        "clf__learning_rate_init": [0.05],
        "clf__max_iter": [30],
    }
    from sklearn.pipeline import Pipeline

    for clf in (
        MLPClassifier(solver="sgd", random_state=0),
        SoftmaxNetClassifier(random_state=0),
    ):
        search = GridSearchCV(
            Pipeline([("scale", StandardScaler()), ("clf", clf)]),
            grid,
            cv=3,
            n_jobs=2,
        ).fit(X, y)
        assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.8
    assert isinstance(search.best_estimator_[-1], SoftmaxNetClassifier)


def test_cross_val_score(iris):
    X, y = iris
    scores = cross_val_score(
        make_pipeline(StandardScaler(), SoftmaxNetClassifier(random_state=0)),
        X,
        y,
        cv=5,
    )
    assert scores.shape == (5,) and scores.mean() > 0.9


def test_clone_gives_an_unfitted_copy_with_the_same_params(iris):
    clf = SoftmaxNetClassifier(hidden_layer_sizes=(7,), alpha=0.3).fit(*iris)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "coefs_")


def test_pickle_round_trip_of_a_fitted_pipeline(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), SoftmaxNetClassifier(random_state=0))
    pipe.fit(X, y)
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict_proba(X), pipe.predict_proba(X))
