"""Warnings that point at the user's line, and the advice they carry.

A warning raised inside ``fit`` would otherwise be reported at a line of this
package, or of scikit-learn's callback wrapper around ``fit``, never at the line
that called ``fit``. ``warn`` walks out of those frames first.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings

__all__ = ["warn", "warnings_at_caller"]


def _internal_dirs() -> tuple[str, ...]:
    dirs = [os.path.dirname(os.path.abspath(__file__)), contextlib.__file__]
    try:
        import sklearn.callback

        dirs.append(os.path.dirname(os.path.abspath(sklearn.callback.__file__)))
    except ImportError:  # pragma: no cover - scikit-learn < 1.9
        pass
    return tuple(dirs)


_INTERNAL = _internal_dirs()


def warn(message, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` at the first frame outside this package (the caller's)."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def warnings_at_caller(method):
    """Re-emit every warning ``method`` raises at the line that called it.

    Covers the warnings scikit-learn's validation raises on our behalf too (they
    name scikit-learn's own files). Re-emitted warnings meet the user's filters as
    usual; what a filter turns into an error is raised after the call's work is done.
    """

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                return method(*args, **kwargs)
        finally:
            for w in caught:
                warn(w.message, w.category)

    return wrapper
