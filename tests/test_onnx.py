"""ONNX export: skl2onnx converter checked against onnxruntime."""

import numpy as np
import pytest

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from sklearn.datasets import make_classification  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skl_softmaxnet.onnx  # noqa: E402, F401  (registers the converter)
from skl_softmaxnet import SoftmaxNetClassifier  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PROBA_ATOL = 1e-5
HIDDEN = [(), (16,), (16, 8)]


def _session(onx):
    return ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def _run(model, X_sample, X, **options):
    """Convert ``model`` and return ONNX Runtime's (labels, probabilities) on X."""
    onx = skl2onnx.to_onnx(model, X_sample, options={"zipmap": False, **options})
    labels, proba = _session(onx).run(None, {"X": X})
    return labels, proba


def _data(n_classes, label_kind, dtype, random_state=0):
    """Well-scaled held-out split with integer or string labels."""
    X, y = make_classification(
        n_samples=600,
        n_features=12,
        n_informative=6,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=random_state,
    )
    if label_kind == "str":
        y = np.array([f"class_{k}" for k in "abcdefgh"])[y]
    elif label_kind == "int":
        y = np.array([-3, 7, 11, 42])[y]  # not 0..k-1, to catch index/label mixups
    X = StandardScaler().fit_transform(X).astype(dtype)
    return train_test_split(X, y, test_size=0.5, random_state=random_state)


def _fit(hidden, X, y, **params):
    return SoftmaxNetClassifier(
        hidden_layer_sizes=hidden, max_iter=30, random_state=0, **params
    ).fit(X, y)


def _assert_agree(model, X_test, labels, proba):
    expected_labels = model.predict(X_test)
    expected_proba = model.predict_proba(X_test)
    assert labels.shape == expected_labels.shape
    np.testing.assert_array_equal(labels, expected_labels)
    assert proba.shape == expected_proba.shape
    assert proba.dtype == X_test.dtype
    max_diff = np.abs(proba - expected_proba).max()
    assert max_diff <= PROBA_ATOL, max_diff


@pytest.mark.parametrize("hidden", HIDDEN, ids=["h0", "h1", "h2"])
@pytest.mark.parametrize("n_classes", [2, 4], ids=["binary", "multiclass"])
@pytest.mark.parametrize("label_kind", ["int", "str"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimator_matches_onnxruntime(hidden, n_classes, label_kind, dtype):
    X_train, X_test, y_train, y_test = _data(n_classes, label_kind, dtype)
    model = _fit(hidden, X_train, y_train)

    labels, proba = _run(model, X_train[:1], X_test)

    _assert_agree(model, X_test, labels, proba)
    # The test is meaningful only if the network learned something.
    assert model.score(X_test, y_test) > 1.5 / n_classes


@pytest.mark.parametrize("hidden", HIDDEN, ids=["h0", "h1", "h2"])
@pytest.mark.parametrize("label_kind", ["int", "str"])
def test_float64_model_with_float32_input(hidden, label_kind):
    """A float64-trained network fed float32 still agrees to 1e-5."""
    X_train, X_test, y_train, _ = _data(3, label_kind, np.float64)
    model = _fit(hidden, X_train, y_train)
    X_test32 = X_test.astype(np.float32)

    labels, proba = _run(model, X_train[:1].astype(np.float32), X_test32)

    np.testing.assert_array_equal(labels, model.predict(X_test32))
    assert proba.dtype == np.float32
    max_diff = np.abs(proba - model.predict_proba(X_test32)).max()
    assert max_diff <= PROBA_ATOL, max_diff


@pytest.mark.parametrize("hidden", HIDDEN, ids=["h0", "h1", "h2"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pipeline_with_preprocessing(hidden, n_classes, dtype):
    X_train, X_test, y_train, _ = _data(n_classes, "str", dtype)
    # Un-scale the data so the pipeline's scaler has real work to do.
    shift, scale = np.linspace(-50, 50, X_train.shape[1]), np.geomspace(0.1, 100, 12)
    X_train = (X_train * scale + shift).astype(dtype)
    X_test = (X_test * scale + shift).astype(dtype)
    pipe = make_pipeline(
        StandardScaler(),
        SoftmaxNetClassifier(hidden_layer_sizes=hidden, max_iter=30, random_state=0),
    ).fit(X_train, y_train)

    labels, proba = _run(pipe, X_train[:1], X_test)

    _assert_agree(pipe, X_test, labels, proba)


def test_default_zipmap_output():
    X_train, X_test, y_train, _ = _data(3, "str", np.float32)
    model = _fit((8,), X_train, y_train)

    onx = skl2onnx.to_onnx(model, X_train[:1])
    labels, proba_maps = _session(onx).run(None, {"X": X_test})

    np.testing.assert_array_equal(labels, model.predict(X_test))
    assert isinstance(proba_maps, list) and len(proba_maps) == len(X_test)
    assert set(proba_maps[0]) == set(model.classes_)
    proba = np.array([[row[c] for c in model.classes_] for row in proba_maps])
    np.testing.assert_allclose(proba, model.predict_proba(X_test), atol=PROBA_ATOL)


def test_zipmap_columns_and_nocl_options():
    X_train, X_test, y_train, _ = _data(3, "int", np.float32)
    model = _fit((8,), X_train, y_train)
    expected = model.predict_proba(X_test)

    onx = skl2onnx.to_onnx(model, X_train[:1], options={"zipmap": "columns"})
    outputs = _session(onx).run(None, {"X": X_test})
    np.testing.assert_array_equal(outputs[0], model.predict(X_test))
    np.testing.assert_allclose(np.column_stack(outputs[1:]), expected, atol=PROBA_ATOL)

    labels, proba = _run(model, X_train[:1], X_test, nocl=True)
    np.testing.assert_array_equal(
        labels, np.searchsorted(model.classes_, model.predict(X_test))
    )
    np.testing.assert_allclose(proba, expected, atol=PROBA_ATOL)


def test_options_by_model_id():
    X_train, X_test, y_train, _ = _data(2, "int", np.float32)
    model = _fit((), X_train, y_train)
    onx = skl2onnx.to_onnx(model, X_train[:1], options={id(model): {"zipmap": False}})
    labels, proba = _session(onx).run(None, {"X": X_test})
    _assert_agree(model, X_test, labels, proba)


def test_graph_is_the_network():
    """One MatMul per layer, a Relu per hidden layer, one Softmax, no extras."""
    X_train, _, y_train, _ = _data(3, "int", np.float32)
    model = _fit((16, 8), X_train, y_train)
    onx = skl2onnx.to_onnx(model, X_train[:1], options={"zipmap": False})
    ops = [node.op_type for node in onx.graph.node]
    assert ops.count("MatMul") == 3
    assert ops.count("Relu") == 2
    assert ops.count("Softmax") == 1
    assert ops.count("ArgMax") == 1
    assert "Cast" not in ops  # float32 model, float32 input: no conversion


def test_register_is_idempotent():
    skl_softmaxnet.onnx.register()
    skl_softmaxnet.onnx.register()
    X_train, X_test, y_train, _ = _data(2, "str", np.float64)
    model = _fit((4,), X_train, y_train)
    labels, proba = _run(model, X_train[:1], X_test)
    _assert_agree(model, X_test, labels, proba)


@pytest.mark.parametrize("labels", [[0.0, 1.0, 2.0], [False, True]], ids=repr)
def test_integral_float_and_bool_labels_export_as_int64(labels):
    X_train, X_test, y_train, _ = _data(len(labels), "index", np.float32)
    y_train = np.asarray(labels)[y_train]
    model = _fit((4,), X_train, y_train)
    labels_onnx, proba = _run(model, X_train[:1], X_test)
    assert labels_onnx.dtype == np.int64
    np.testing.assert_array_equal(labels_onnx, model.predict(X_test).astype(np.int64))
    assert np.abs(proba - model.predict_proba(X_test)).max() <= PROBA_ATOL


def test_non_integral_float_labels_are_rejected():
    # The estimator itself refuses such targets; the converter guards anyway.
    from skl_softmaxnet.onnx import _label_initializer

    with pytest.raises(NotImplementedError, match="integer or string class labels"):
        _label_initializer(np.array([0.5, 1.5]))
    with pytest.raises(NotImplementedError, match="integer or string class labels"):
        _label_initializer(np.array([1, "a"], dtype=object))
    # Strings held in an object array (as pandas gives them) are fine.
    kind, values = _label_initializer(np.array(["no", "yes"], dtype=object))
    assert values.tolist() == [b"no", b"yes"]
