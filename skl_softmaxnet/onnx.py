"""ONNX export of :class:`~skl_softmaxnet.SoftmaxNetClassifier` through skl2onnx.

Importing this module registers a converter with `skl2onnx
<https://onnx.ai/sklearn-onnx/>`_, after which ``skl2onnx.to_onnx`` converts a
fitted :class:`~skl_softmaxnet.SoftmaxNetClassifier`, alone or as the last step
of a :class:`~sklearn.pipeline.Pipeline` with scikit-learn preprocessing::

    import skl_softmaxnet.onnx  # noqa: F401  (registers the converter)
    onx = skl2onnx.to_onnx(model, X[:1])

Needs the ``onnx`` extra: ``pip install "skl_softmaxnet[onnx]"``.

The exported graph is the network itself::

    X -> [Cast] -> (MatMul -> Add -> Relu) * n_hidden -> MatMul -> Add -> logits
    label         = Gather(classes_, ArgMax(logits, axis=1))
    probabilities = Softmax(logits, axis=1)

Like ``predict_proba``, it casts the input to the weights' floating type (the
type the model was trained in) and computes in that type; the probabilities come
back in the input's type. So ONNX Runtime's probabilities agree with
``predict_proba`` to float rounding and its labels with ``predict``.

Options (``to_onnx(..., options={"zipmap": False})``, or keyed by ``id(model)``
or by class to target one step of a pipeline):
``zipmap`` (``True``, the skl2onnx default, gives a list of ``{label: proba}``
dicts; ``False`` gives an ``(n_samples, n_classes)`` array; ``'columns'`` one
output per class) and ``nocl`` (``True`` replaces the labels by class indices).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import numpy as np

try:
    from onnx import TensorProto
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import guess_proto_type
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "skl_softmaxnet.onnx needs skl2onnx and onnx: "
        'pip install "skl_softmaxnet[onnx]"'
    ) from exc

from skl_softmaxnet import SoftmaxNetClassifier
from skl_softmaxnet._compat import to_numpy

if TYPE_CHECKING:  # skl2onnx's graph-building types, for annotations only
    from skl2onnx.common._container import ModelComponentContainer
    from skl2onnx.common._topology import Operator, Scope

__all__ = ["ALIAS", "convert_softmaxnet_classifier", "register"]

#: Name under which the converter is registered with skl2onnx.
ALIAS = "SklSoftmaxNetClassifier"

_OPTIONS: dict[str, list[Any]] = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
}

_NUMPY_OF_PROTO = {TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64}


def _compute_proto_type(weights_dtype: np.dtype) -> int:
    """ONNX element type the network runs in: the weights' type, as in predict."""
    return TensorProto.DOUBLE if weights_dtype == np.float64 else TensorProto.FLOAT


def _label_initializer(classes: np.ndarray) -> tuple[int, np.ndarray]:
    """ONNX element type and values of the ``classes_`` lookup table.

    skl2onnx's shape calculator declares the label output int64 for numeric
    classes and string otherwise, so the table follows that choice.
    """
    classes = np.asarray(classes)
    if classes.dtype.kind in "biu":
        return TensorProto.INT64, classes.astype(np.int64)
    if classes.dtype.kind == "f":
        as_int = classes.astype(np.int64)
        if not np.array_equal(as_int, classes):
            raise NotImplementedError(
                "ONNX export supports integer or string class labels; got "
                f"non-integral float labels {classes!r}."
            )
        return TensorProto.INT64, as_int
    if all(isinstance(c, str) for c in classes):
        return TensorProto.STRING, np.array([c.encode("utf-8") for c in classes])
    raise NotImplementedError(
        "ONNX export supports integer or string class labels; got classes_ of "
        f"dtype {classes.dtype} with values {classes!r}."
    )


def _add_node(
    scope: Scope,
    container: ModelComponentContainer,
    op_type: str,
    inputs: list[str],
    output: str | None = None,
    **attrs: Any,
) -> str:
    """Append one ONNX node and return the name of its (single) output."""
    if output is None:
        output = scope.get_unique_variable_name(op_type.lower())
    container.add_node(
        op_type, inputs, output, name=scope.get_unique_operator_name(op_type), **attrs
    )
    return output


def convert_softmaxnet_classifier(
    scope: Scope, operator: Operator, container: ModelComponentContainer
) -> None:
    """Convert a fitted :class:`~skl_softmaxnet.SoftmaxNetClassifier` (skl2onnx hook).

    Writes the forward pass (MatMul, Add, Relu per hidden layer, then the linear
    output layer), ``Softmax`` for the probabilities and ``ArgMax`` followed by a
    ``Gather`` on ``classes_`` for the labels.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Naming scope of the graph under construction.
    operator : skl2onnx.common._topology.Operator
        The operator to convert; ``operator.raw_operator`` is the fitted model,
        ``operator.outputs`` are the label and probability variables.
    container : skl2onnx.common._container.ModelComponentContainer
        Receives the nodes and initializers.

    See Also
    --------
    register : Registers this converter with skl2onnx (done on import).

    Examples
    --------
    skl2onnx calls the converter from ``to_onnx``; the graph it writes for one
    hidden layer:

    >>> import numpy as np
    >>> from skl2onnx import to_onnx
    >>> from skl_softmaxnet import SoftmaxNetClassifier
    >>> import skl_softmaxnet.onnx
    >>> X = np.random.RandomState(0).normal(size=(40, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = SoftmaxNetClassifier((4,), tol=1e-2, random_state=0).fit(X, y)
    >>> onx = to_onnx(clf, X[:1], options={"zipmap": False})
    >>> [node.op_type for node in onx.graph.node]
    ['MatMul', 'Add', 'Relu', 'MatMul', 'Add', 'ArgMax', 'Softmax', 'Gather']
    """
    model = operator.raw_operator
    input_proto = guess_proto_type(operator.inputs[0].type)
    proba_proto = guess_proto_type(operator.outputs[1].type)
    compute_proto = _compute_proto_type(to_numpy(model.coefs_[0]).dtype)
    compute_dtype = _NUMPY_OF_PROTO[compute_proto]

    activation = operator.inputs[0].full_name
    if input_proto != compute_proto:
        activation = _add_node(scope, container, "Cast", [activation], to=compute_proto)

    n_layers = len(model.coefs_)
    for i, (coef, intercept) in enumerate(
        zip(model.coefs_, model.intercepts_, strict=True)
    ):
        coef = np.asarray(to_numpy(coef), dtype=compute_dtype)
        intercept = np.asarray(to_numpy(intercept), dtype=compute_dtype)
        coef_name = scope.get_unique_variable_name(f"coef{i}")
        intercept_name = scope.get_unique_variable_name(f"intercept{i}")
        container.add_initializer(coef_name, compute_proto, coef.shape, coef.ravel())
        container.add_initializer(
            intercept_name, compute_proto, intercept.shape, intercept.ravel()
        )
        product = _add_node(scope, container, "MatMul", [activation, coef_name])
        activation = _add_node(scope, container, "Add", [product, intercept_name])
        if i < n_layers - 1:
            activation = _add_node(scope, container, "Relu", [activation])
    logits = activation

    # Labels: classes_[argmax(logits)], argmax taking the first maximum like NumPy.
    with _classes_on_host(model):
        class_proto, class_values = _label_initializer(get_label_classes(scope, model))
    classes_name = scope.get_unique_variable_name("classes")
    container.add_initializer(
        classes_name, class_proto, class_values.shape, class_values.tolist()
    )
    argmax = _add_node(scope, container, "ArgMax", [logits], axis=1, keepdims=0)
    _add_node(
        scope,
        container,
        "Gather",
        [classes_name, argmax],
        output=operator.outputs[0].full_name,
        axis=0,
    )

    # Probabilities: softmax over the class axis, returned in the input's type.
    proba_output = operator.outputs[1].full_name
    if proba_proto == compute_proto:
        _add_node(scope, container, "Softmax", [logits], output=proba_output, axis=1)
    else:
        proba = _add_node(scope, container, "Softmax", [logits], axis=1)
        _add_node(
            scope, container, "Cast", [proba], output=proba_output, to=proba_proto
        )


def register() -> None:
    """Register the :class:`~skl_softmaxnet.SoftmaxNetClassifier` converter.

    Importing :mod:`skl_softmaxnet.onnx` already calls this; calling it again is
    harmless (the registration is overwritten with the same converter).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skl2onnx import to_onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skl_softmaxnet import SoftmaxNetClassifier
    >>> from skl_softmaxnet.onnx import register
    >>> register()
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> model = make_pipeline(
    ...     StandardScaler(),
    ...     SoftmaxNetClassifier(hidden_layer_sizes=(8,), random_state=0),
    ... ).fit(X, y)
    >>> onx = to_onnx(model, X[:1], options={"zipmap": False})
    >>> session = ort.InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> labels, proba = session.run(None, {"X": X})
    >>> bool((labels == model.predict(X)).all())
    True
    >>> bool(np.abs(proba - model.predict_proba(X)).max() <= 1e-5)
    True
    """
    update_registered_converter(
        SoftmaxNetClassifier,
        ALIAS,
        _shapes_on_host,
        convert_softmaxnet_classifier,
        options=_OPTIONS,
        parser=_parse_on_host,
    )


def _shapes_on_host(operator):
    """skl2onnx's linear-classifier shape calculator, reading ``classes_`` on the
    host."""
    with _classes_on_host(operator.raw_operator):
        calculate_linear_classifier_output_shapes(operator)


@contextlib.contextmanager
def _classes_on_host(model):
    """``model.classes_`` as NumPy while skl2onnx reads it.

    A model fitted on PyTorch or CuPy arrays (``array_api_dispatch``) has its
    ``classes_`` there (and its weights, which the converter reads with
    ``to_numpy``). skl2onnx keys its options by the model object, so the model
    itself is used, not a moved copy; ``classes_`` is put back afterwards.
    """
    classes = model.classes_
    model.classes_ = to_numpy(classes)
    try:
        yield model
    finally:
        model.classes_ = classes


def _parse_on_host(scope, model, inputs, custom_parsers=None):
    """skl2onnx's classifier parser, reading ``classes_`` on the host."""
    from skl2onnx._parse import _parse_sklearn_classifier

    with _classes_on_host(model):
        return _parse_sklearn_classifier(
            scope, model, inputs, custom_parsers=custom_parsers
        )


register()
