"""The one place that imports private scikit-learn names, or version-dependent ones.

An upgrade of scikit-learn that moves any of these touches this file only.
"""

# Array API: scikit-learn's helpers, which follow ``array_api_dispatch`` (the estimator
# takes its namespace and device from its inputs once with
# ``get_namespace_and_device`` and moves ``y`` / sample weights there with
# ``move_to``), and its vendored ``array_api_compat`` for the maths modules.
from sklearn.externals import array_api_compat as _aac
from sklearn.utils._array_api import (  # noqa: F401  (re-exported)
    _convert_to_numpy,
    _is_numpy_namespace,
    check_same_namespace,
    device,
    get_namespace,
    get_namespace_and_device,
    size,
)
from sklearn.utils._param_validation import (  # noqa: F401  (re-exported)
    Interval,
    Options,
    StrOptions,
)
from sklearn.utils.validation import (  # noqa: F401  (re-exported)
    _check_sample_weight,
    _get_feature_names,
)

try:  # recent scikit-learn: move arrays / every fitted array of an estimator
    from sklearn.utils._array_api import move_estimator_to, move_to
except ImportError:  # pragma: no cover - older scikit-learn
    move_to = move_estimator_to = None


def namespace_of(*arrays):
    """``(xp, device)`` of non-NumPy arrays, read from the arrays themselves.

    The maths modules use this: a torch tensor is computed with torch whatever
    ``array_api_dispatch`` says (that setting decides whether the *estimator*
    converts its inputs to NumPy, not how a tensor multiplies). The namespace is
    scikit-learn's vendored ``array_api_compat`` wrapper, as ``get_namespace``
    returns under dispatch. NumPy inputs never come here: the maths modules
    recognise ``numpy.ndarray`` first and take their NumPy specialisations.
    """
    arrays = [a for a in arrays if a is not None]
    return _aac.array_namespace(*arrays), _aac.device(arrays[0])


def is_foreign_array(obj) -> bool:
    """An array of an Array API library other than NumPy (torch, CuPy, ...)."""
    return _aac.is_array_api_obj(obj) and not _aac.is_numpy_array(obj)


def host_estimator(estimator):
    """``estimator`` itself, or, if any of its fitted arrays (or those of the
    estimators inside it) live in another namespace or on a device, a clone with
    every array moved to NumPy on the CPU (scikit-learn's ``move_estimator_to``)."""
    if not _has_foreign_arrays(estimator, depth=0):
        return estimator
    import numpy

    return move_estimator_to(estimator, numpy, "cpu")


def _has_foreign_arrays(obj, depth) -> bool:
    if depth > 6:
        return False
    if is_foreign_array(obj):
        return True
    if isinstance(obj, dict):
        return any(_has_foreign_arrays(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_has_foreign_arrays(v, depth + 1) for v in obj)
    if hasattr(obj, "get_params") and hasattr(obj, "__dict__"):
        return any(_has_foreign_arrays(v, depth + 1) for v in vars(obj).values())
    return False


def device_of(array):
    """The device of a non-NumPy array (array API ``device``), whatever the config."""
    return _aac.device(array)


def to_numpy(array):
    """A NumPy copy (or view) of any supported array, on the host."""
    if not is_foreign_array(array):  # NumPy, SciPy sparse, lists, None: as given
        return array
    return _convert_to_numpy(array, namespace_of(array)[0])


try:  # scikit-learn >= 1.9 has the callback API
    from sklearn.callback import CallbackSupportMixin, with_callbacks

    HAS_CALLBACKS = True
except ImportError:  # pragma: no cover - exercised only with scikit-learn < 1.9
    HAS_CALLBACKS = False

    class CallbackSupportMixin:  # type: ignore[no-redef]
        """Stand-in so the class hierarchy is the same on older scikit-learn."""

    def with_callbacks(method):  # type: ignore[no-redef]
        return method


__all__ = [
    "Interval",
    "StrOptions",
    "Options",
    "_get_feature_names",
    "_check_sample_weight",
    "_is_numpy_namespace",
    "check_same_namespace",
    "device",
    "device_of",
    "host_estimator",
    "is_foreign_array",
    "get_namespace",
    "get_namespace_and_device",
    "move_to",
    "move_estimator_to",
    "namespace_of",
    "size",
    "to_numpy",
    "CallbackSupportMixin",
    "with_callbacks",
    "HAS_CALLBACKS",
]
