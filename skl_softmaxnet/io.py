"""Safe persistence with `skops <https://skops.readthedocs.io>`_: no pickle.

A skops file is a zip of JSON and ``.npy`` arrays; loading it rebuilds the objects
from a list of type names instead of running pickled code. Before loading,
:func:`skops.io.get_untrusted_types` lists every type in the file that skops does not
trust by default (scikit-learn's own estimators, NumPy arrays and builtins are trusted
by default). A fitted :class:`~skl_softmaxnet.SoftmaxNetClassifier` holds only arrays,
lists of arrays and builtins, so the only type it adds is its own class.

:func:`load` trusts exactly the estimator classes of this package on top of skops'
defaults, and refuses (with :class:`UntrustedTypesError`, before constructing
anything) a file that names any other type: a file from someone else that smuggles in
an arbitrary callable or class is not loaded. :func:`save` refuses, symmetrically, to
write an object that :func:`load` would refuse. For a Pipeline with steps of your own,
use :func:`skops.io.dump` and :func:`skops.io.load` with an explicit ``trusted`` list.

Needs the ``skops`` extra: ``pip install "skl_softmaxnet[skops]"``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from ._compat import host_estimator

__all__ = ["UntrustedTypesError", "load", "save", "trusted_types"]

_INSTALL_HINT = (
    "skl_softmaxnet.io needs the optional dependency skops: pip install "
    '"skl_softmaxnet[skops]" (or pip install skops).'
)


class UntrustedTypesError(ValueError):
    """A skops file names types that :func:`load` does not trust.

    Raised by :func:`load` before anything is built, and by :func:`save` before
    anything is written. A subclass of :class:`ValueError`.

    Parameters
    ----------
    types : list of str
        The refused fully qualified type names.
    action : {"load", "save"}, default="load"
        What was refused; only the message depends on it.

    Attributes
    ----------
    types : list of str
        The refused fully qualified type names, sorted.

    See Also
    --------
    trusted_types : The types this module trusts beyond skops' defaults.

    Examples
    --------
    >>> from skl_softmaxnet.io import UntrustedTypesError
    >>> err = UntrustedTypesError(["os.system", "builtins.eval"])
    >>> err.types
    ['builtins.eval', 'os.system']
    >>> isinstance(err, ValueError)
    True
    """

    def __init__(self, types: list[str], action: str = "load") -> None:
        self.types = sorted(types)
        what = "load a skops file" if action == "load" else "save an object"
        super().__init__(
            f"Refusing to {what} with types that skl_softmaxnet.io does not trust: "
            f"{self.types}. It trusts only {sorted(trusted_types())} and the types "
            "skops trusts by default. If you trust these types, use skops.io.dump / "
            "skops.io.load(path, trusted=[...]) directly (inspect a file first with "
            "skops.io.get_untrusted_types)."
        )


def _skops_io() -> ModuleType:
    try:
        import skops.io as sio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_INSTALL_HINT) from exc
    return sio


def trusted_types() -> frozenset[str]:
    """Fully qualified names of the types :func:`load` trusts beyond skops' defaults.

    These are the scikit-learn estimator classes exported by ``skl_softmaxnet``, so
    a new public estimator is trusted without editing this module.

    Returns
    -------
    frozenset of str
        Names such as ``"skl_softmaxnet._classifier.SoftmaxNetClassifier"``, as
        :func:`skops.io.get_untrusted_types` reports them.

    Examples
    --------
    >>> from skl_softmaxnet.io import trusted_types
    >>> sorted(trusted_types())
    ['skl_softmaxnet._classifier.SoftmaxNetClassifier']
    """
    from sklearn.base import BaseEstimator

    import skl_softmaxnet

    names = set()
    for name in skl_softmaxnet.__all__:
        obj = getattr(skl_softmaxnet, name)
        if isinstance(obj, type) and issubclass(obj, BaseEstimator):
            names.add(f"{obj.__module__}.{obj.__qualname__}")
    return frozenset(names)


def _refused(sio: ModuleType, data: bytes) -> tuple[list[str], list[str]]:
    """(untrusted types in ``data``, those of them this module does not trust)."""
    untrusted = list(sio.get_untrusted_types(data=data))
    allowed = trusted_types()
    return untrusted, [t for t in untrusted if t not in allowed]


@contextlib.contextmanager
def _callbacks_detached(model: Any):
    """Leave out the callbacks of ``set_callbacks`` while ``model`` is serialised.

    Callbacks (a progress bar, a logger) are a fit-time concern, not part of the
    fitted model, and :func:`load` would not trust their types. They are taken off
    ``model`` and every estimator inside it for the dump only, and put back after.
    """
    parts = [model]
    if hasattr(model, "get_params"):
        parts += [v for v in model.get_params(deep=True).values() if v is not model]
    detached = []
    for part in parts:
        own = getattr(part, "__dict__", {})
        if "_skl_callbacks" in own and all(p is not part for p, _ in detached):
            detached.append((part, own.pop("_skl_callbacks")))
    try:
        yield
    finally:
        for part, callbacks in detached:
            part._skl_callbacks = callbacks


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model`` (an estimator or a Pipeline) to ``path`` in skops format.

    Callbacks attached with ``set_callbacks`` are not saved (they belong to a fit,
    not to the fitted model); ``model`` keeps them. A model fitted on PyTorch or
    CuPy arrays (``array_api_dispatch``) is saved with its arrays moved to NumPy:
    :func:`load` returns a NumPy model (scikit-learn's ``move_estimator_to`` moves
    it back); ``model`` itself is not changed.

    Parameters
    ----------
    model : estimator
        A :class:`~skl_softmaxnet.SoftmaxNetClassifier`, or a scikit-learn
        meta-estimator (e.g. a Pipeline) whose parts are this package's estimators or
        types skops trusts by default.
    path : str or path-like
        Destination file, conventionally with the ``.skops`` suffix; overwritten.

    Raises
    ------
    UntrustedTypesError
        If ``model`` contains types :func:`load` would refuse; nothing is written.
    ImportError
        If skops is not installed.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from skl_softmaxnet import SoftmaxNetClassifier
    >>> from skl_softmaxnet.io import load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
    >>> clf = SoftmaxNetClassifier((8,), tol=1e-2, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "model.skops")
    ...     save(clf, path)
    ...     loaded = load(path)
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    sio = _skops_io()
    with _callbacks_detached(model):
        # a model fitted on a device (torch, CuPy) is saved with NumPy arrays
        data = sio.dumps(host_estimator(model))
    _, refused = _refused(sio, data)
    if refused:
        raise UntrustedTypesError(refused, action="save")
    Path(path).write_bytes(data)


def load(path: str | os.PathLike[str]) -> Any:
    """Load a model written by :func:`save`, trusting only this package's types.

    The file is read once; its type list is checked before any object is built.

    Parameters
    ----------
    path : str or path-like
        A skops file.

    Returns
    -------
    estimator
        The estimator or meta-estimator that was saved, fitted as it was.

    Raises
    ------
    UntrustedTypesError
        If the file names a type that is neither trusted by skops by default nor
        one of :func:`trusted_types`. The message lists the refused types.
    ImportError
        If skops is not installed.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skl_softmaxnet import SoftmaxNetClassifier
    >>> from skl_softmaxnet.io import load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> pipe = make_pipeline(
    ...     StandardScaler(), SoftmaxNetClassifier((8,), tol=1e-2, random_state=0)
    ... )
    >>> pipe = pipe.fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "pipe.skops")
    ...     save(pipe, path)
    ...     loaded = load(path)
    >>> bool((loaded.predict(X) == pipe.predict(X)).all())
    True
    """
    sio = _skops_io()
    data = Path(path).read_bytes()
    untrusted, refused = _refused(sio, data)
    if refused:
        raise UntrustedTypesError(refused)
    return sio.loads(data, trusted=untrusted)
