"""Doctest collection: skip modules whose optional extra is not installed.

``pytest`` collects doctests from every module of the package (--doctest-modules);
without this, a user without the ``onnx`` or ``skops`` extra would get an import
error at collection instead of a green run.
"""

import importlib.util
import os

# scikit-learn's array API dispatch (tests/test_array_api.py, the estimator checks)
# needs SciPy's own array API support, which SciPy reads once, when it is imported:
# this file is loaded before any test module imports SciPy. An explicit setting wins.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

collect_ignore = []


def _missing(*modules: str) -> bool:
    return any(importlib.util.find_spec(m) is None for m in modules)


if _missing("skl2onnx", "onnxruntime", "onnx"):
    collect_ignore.append("skl_softmaxnet/onnx.py")
if _missing("skops"):
    collect_ignore.append("skl_softmaxnet/io.py")
if _missing("matplotlib"):
    collect_ignore.append("skl_softmaxnet/_plot.py")
