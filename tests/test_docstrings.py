"""Every public object has a doctested ``Examples`` section.

The docs build validates the rest of each docstring against numpydoc (the checks
are listed in ``docs/conf.py``); its ``EX01`` check is off there because it would
demand an example on every method too. This test keeps the rule of the design
notes: each public class and function, in the package and in its optional public
modules, shows how it is used, and ``pytest --doctest-modules`` runs that example.
"""

import importlib
import inspect

import pytest

_HEADING = "\nExamples\n--------\n"


@pytest.mark.parametrize(
    "module, extra",
    [
        ("skl_softmaxnet", None),
        ("skl_softmaxnet.io", "skops"),
        ("skl_softmaxnet.onnx", "skl2onnx"),
    ],
)
def test_public_objects_have_doctested_examples(module, extra):
    if extra is not None:
        pytest.importorskip(extra)
    mod = importlib.import_module(module)
    missing = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # a constant, documented by a ``#:`` comment
        doc = inspect.getdoc(obj) or ""
        if _HEADING not in doc or ">>> " not in doc.split(_HEADING, 1)[1]:
            missing.append(name)
    assert not missing, f"{module}: no doctested Examples section in {missing}"
