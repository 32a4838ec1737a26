"""skl_softmaxnet.io: skops persistence that trusts exactly this package's types."""

from __future__ import annotations

import io
import json
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skl_softmaxnet
from skl_softmaxnet import SoftmaxNetClassifier
from skl_softmaxnet.io import UntrustedTypesError, load, save, trusted_types

sio = pytest.importorskip("skops.io")

OURS = "skl_softmaxnet._classifier.SoftmaxNetClassifier"


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4))
    return X, np.arange(40) % 3


def _fit(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*_data())


@pytest.fixture(scope="module")
def model():
    return _fit(SoftmaxNetClassifier((5,), max_iter=3, random_state=0))


class Identity(TransformerMixin, BaseEstimator):
    """A step of the user's own: skops does not trust it, nor do we."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


CANARY = []


class Canary:
    """Records any attempt to build it: a refused file must build nothing."""

    def __new__(cls, *args, **kwargs):
        CANARY.append("new")
        return super().__new__(cls)

    def __setstate__(self, state):
        CANARY.append("setstate")


def _qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


# ------------------------------------------------------------------ round trips


def test_trusted_types_are_the_exported_estimators():
    assert trusted_types() == {OURS}
    exported = [getattr(skl_softmaxnet, n) for n in skl_softmaxnet.__all__]
    estimators = [
        _qualname(o)
        for o in exported
        if isinstance(o, type) and issubclass(o, BaseEstimator)
    ]
    assert trusted_types() == set(estimators)


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_save_load_round_trip(model, tmp_path, as_path):
    path = as_path(tmp_path / "model.skops")
    assert save(model, path) is None
    loaded = load(path)
    assert type(loaded) is SoftmaxNetClassifier and loaded is not model
    X, _ = _data()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert sio.get_untrusted_types(file=path) == [OURS]


def test_pipeline_with_scikit_learn_steps_round_trips(tmp_path):
    pipe = _fit(
        make_pipeline(
            StandardScaler(), SoftmaxNetClassifier((5,), max_iter=3, random_state=0)
        )
    )
    path = tmp_path / "pipe.skops"
    save(pipe, path)
    # scikit-learn's Pipeline and StandardScaler are trusted by skops itself
    assert sio.get_untrusted_types(file=path) == [OURS]
    loaded = load(path)
    X, _ = _data()
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_loaded_model_continues_training(model, tmp_path):
    path = tmp_path / "model.skops"
    save(model, path)
    X, y = _data()
    a, b = load(path), load(path)
    a.partial_fit(X, y)
    b.partial_fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert a.n_iter_ == model.n_iter_ + 1


# ------------------------------------------------------------------ refusals


def _pipeline_with_own_step():
    return _fit(
        make_pipeline(
            Identity(), SoftmaxNetClassifier((5,), max_iter=2, random_state=0)
        )
    )


def test_load_refuses_a_file_with_another_type(tmp_path):
    pipe = _pipeline_with_own_step()
    path = tmp_path / "pipe.skops"
    sio.dump(pipe, path)  # written with skops directly: our save refuses it
    with pytest.raises(UntrustedTypesError, match="does not trust") as info:
        load(path)
    assert info.value.types == [_qualname(Identity)]
    assert _qualname(Identity) in str(info.value)
    assert OURS not in info.value.types
    assert isinstance(info.value, ValueError)
    # the documented way out: trust the type explicitly with skops
    loaded = sio.load(path, trusted=[OURS, _qualname(Identity)])
    assert isinstance(loaded[0], Identity)


def test_save_refuses_what_load_would_refuse_and_writes_nothing(tmp_path):
    path = tmp_path / "pipe.skops"
    with pytest.raises(UntrustedTypesError, match="save an object") as info:
        save(_pipeline_with_own_step(), path)
    assert info.value.types == [_qualname(Identity)]
    assert not path.exists()


def _tamper(src: Path, dst: Path, edit) -> None:
    """Copy a skops zip, passing its schema through ``edit(schema) -> schema``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "schema.json":
                data = json.dumps(edit(json.loads(data))).encode()
            zout.writestr(name, data)


def _retype_root(module, cls):
    def edit(schema):
        assert schema["__class__"] == "SoftmaxNetClassifier"
        schema["__module__"], schema["__class__"] = module, cls
        return schema

    return edit


def _add_attribute(name, node):
    def edit(schema):
        state = schema["content"]  # the DictNode of the estimator's __dict__
        state["content"][name] = node
        key_types = state["key_types"]["content"]
        key_types.append(dict(key_types[0]))  # the new key is a str, as the others
        return schema

    return edit


def _function_node(module, func):
    """How skops stores a function (e.g. a FunctionTransformer's ``func``)."""
    return {
        "__class__": func,
        "__module__": module,
        "__loader__": "FunctionNode",
        "__id__": 1,
    }


TAMPERS = {
    "root-is-a-canary-class": (
        _retype_root(Canary.__module__, Canary.__qualname__),
        _qualname(Canary),
    ),
    "root-is-an-internal-class-of-ours": (
        _retype_root("skl_softmaxnet._training", "StoppingMonitor"),
        "skl_softmaxnet._training.StoppingMonitor",
    ),
    "attribute-is-a-canary-object": (
        _add_attribute(
            "payload",
            {
                "__class__": Canary.__qualname__,
                "__module__": Canary.__module__,
                "__loader__": "ObjectNode",
                "content": {
                    "__class__": "dict",
                    "__module__": "builtins",
                    "__loader__": "DictNode",
                    "content": {},
                    "key_types": {
                        "__class__": "list",
                        "__module__": "builtins",
                        "__loader__": "ListNode",
                        "content": [],
                        "__id__": 3,
                    },
                    "__id__": 2,
                },
                "__id__": 1,
            },
        ),
        _qualname(Canary),
    ),
    "attribute-is-os-system": (
        _add_attribute("payload", _function_node("os", "system")),
        "os.system",
    ),
}


@pytest.mark.parametrize("tamper", TAMPERS)
def test_load_refuses_a_tampered_file_before_building_anything(model, tmp_path, tamper):
    edit, bad_type = TAMPERS[tamper]
    good, bad = tmp_path / "good.skops", tmp_path / "bad.skops"
    save(model, good)
    _tamper(good, bad, edit)
    assert bad_type in sio.get_untrusted_types(file=bad)
    CANARY.clear()
    with pytest.raises(UntrustedTypesError) as info:
        load(bad)
    assert bad_type in info.value.types
    assert bad_type in str(info.value)
    assert CANARY == []
    # the untouched copy still loads
    assert isinstance(load(good), SoftmaxNetClassifier)


def test_load_reads_the_file_once(model, tmp_path, monkeypatch):
    """The bytes checked are the bytes loaded (no swap between check and load)."""
    path = tmp_path / "model.skops"
    save(model, path)
    reads = []
    original = Path.read_bytes

    def counting(self):
        reads.append(self)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    load(path)
    assert len(reads) == 1


def test_missing_skops_gives_an_import_error_naming_the_extra(
    model, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match=r"skl_softmaxnet\[skops\]"):
        save(model, tmp_path / "model.skops")
    with pytest.raises(ImportError, match=r"skl_softmaxnet\[skops\]"):
        load(tmp_path / "model.skops")


def test_not_a_skops_file_is_an_error(tmp_path):
    path = tmp_path / "junk.skops"
    path.write_bytes(b"not a zip file")
    with pytest.raises(zipfile.BadZipFile):
        load(path)


def test_io_module_does_not_shadow_the_standard_library():
    assert io.BytesIO is not None and hasattr(io, "StringIO")


@pytest.mark.skipif(
    not skl_softmaxnet._compat.HAS_CALLBACKS, reason="needs scikit-learn's callbacks"
)
@pytest.mark.parametrize("in_pipeline", [False, True])
def test_save_leaves_out_callbacks_and_keeps_them_on_the_model(tmp_path, in_pipeline):
    from sklearn.base import clone
    from sklearn.callback import ProgressBar

    model = SoftmaxNetClassifier((8,), max_iter=3, random_state=0)
    if in_pipeline:  # a pipeline takes the auto-propagated callbacks itself
        model = make_pipeline(StandardScaler(), model)
    model = clone(model.set_callbacks(ProgressBar()))  # clone keeps the callbacks
    _fit(model)
    callbacks = model._skl_callbacks
    save(model, tmp_path / "m.skops")
    assert model._skl_callbacks is callbacks  # put back after the dump
    loaded = load(tmp_path / "m.skops")
    assert not hasattr(loaded, "_skl_callbacks")
    X, y = _data()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    _fit(loaded)  # and it trains without callbacks
    assert (loaded[-1] if in_pipeline else loaded).n_iter_ == 3
