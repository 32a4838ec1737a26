"""The one place that imports private scikit-learn names, or version-dependent ones.

An upgrade of scikit-learn that moves any of these touches this file only.
"""

from sklearn.utils._param_validation import (  # noqa: F401  (re-exported)
    Interval,
    StrOptions,
)
from sklearn.utils.validation import _check_sample_weight  # noqa: F401

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
    "_check_sample_weight",
    "CallbackSupportMixin",
    "with_callbacks",
    "HAS_CALLBACKS",
]
