"""Publishing trained EasyDL versions at EasyDL's wire paths (spec F5, F6).

:func:`publish` serves a version of a model at ``/rpc/2.0/ai_custom/v1/classification/<suffix>``
or ``/rpc/2.0/ai_custom/v1/detection/<suffix>`` (by the model's kind): ``vislab serve`` and the
in-process clients answer it at once (EasyDL's T+1 review has no counterpart here).
Publishing a newer version of a model keeps its suffix, so the URL does not change (F5); at most
10 models are published at a time (F6).  The registry is one JSON file under
``VISLAB_HOME/easydl`` written atomically (:class:`~vislab.engine.training.store.ModelStore`).
Unlike the cloud, a local model can be unpublished.
"""

from __future__ import annotations

import pandas as pd

from vislab.catalogue.baidu_easydl import BUILTIN, CLASSIFY, DETECT
from vislab.engine.training.store import ModelStore
from vislab.errors import InvalidParameter

__all__ = ["publish", "unpublish", "published", "service_path"]


def service_path(kind: str, suffix: str) -> str:
    """The wire path a model of ``kind`` published at ``suffix`` answers at.

    Parameters
    ----------
    kind : {"classification", "detection"}
    suffix : str

    Returns
    -------
    str

    Examples
    --------
    >>> service_path("detection", "cells")
    '/rpc/2.0/ai_custom/v1/detection/cells'
    """
    if kind not in ("classification", "detection"):
        raise InvalidParameter(
            f"kind must be 'classification' or 'detection', got {kind!r}", name="kind"
        )
    return (CLASSIFY if kind == "classification" else DETECT).url_path(suffix=suffix)


def _entry(suffix: str, entry: dict) -> dict:
    return {"suffix": suffix, **entry, "path": service_path(entry["kind"], suffix)}


def publish(name: str, version: str = "V1", *, suffix: str | None = None, home=None) -> dict:
    """Serve ``version`` of model ``name`` at EasyDL's path for its kind.

    Parameters
    ----------
    name : str
        A model trained with :func:`vislab.easydl.train`.
    version : str, default "V1"
        The version to serve (``"V1"``, ``"V2"``...).  Publishing another version of a model
        that is already published replaces it at the same suffix.
    suffix : str, optional
        The custom URL suffix (letters, digits, ``_``).  Default: the suffix the model is
        published at already, else its name with ``-`` turned into ``_``.
    home : path-like, optional
        The vislab home folder (default ``VISLAB_HOME``).

    Returns
    -------
    dict
        ``suffix, name, version, kind, published`` (time) and ``path`` (the wire path; a
        ``vislab serve`` URL is ``http://<host>:<port>`` + ``path``).

    Raises
    ------
    vislab.errors.InvalidParameter
        Unknown model or version, a suffix taken by another model or reserved by the
        emulator (``imagenet``, ``objects``), or an eleventh published model.

    Examples
    --------
    >>> import tempfile
    >>> publish("never_trained", home=tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidParameter: no trained model named 'never_trained' (models: none yet); train one with vislab.easydl.train
    """
    if suffix in BUILTIN:
        raise InvalidParameter(
            f"suffix {suffix!r} is reserved for the emulator's built-in model "
            f"({BUILTIN[suffix]}); choose another",
            name="suffix",
        )
    store = ModelStore(home)
    if suffix is None and name.replace("-", "_") in BUILTIN:
        current = [s for s, e in store.published().items() if e["name"] == name]
        if not current:
            raise InvalidParameter(
                f"the default suffix of {name!r} is reserved for a built-in model; give suffix=",
                name="suffix",
            )
    entry = store.publish(name, version, suffix=suffix)
    suffix = entry.pop("suffix")
    return _entry(suffix, entry)


def _suffix_of(store: ModelStore, name_or_suffix: str) -> str | None:
    registry = store.published()
    for suffix, entry in registry.items():
        if entry["name"] == name_or_suffix:
            return suffix
    return name_or_suffix if name_or_suffix in registry else None


def unpublish(name: str, *, home=None) -> dict | None:
    """Stop serving a model (by name or suffix); its versions stay trained.

    Parameters
    ----------
    name : str
        The model's name or the suffix it is published at.
    home : path-like, optional
        The vislab home folder (default ``VISLAB_HOME``).

    Returns
    -------
    dict or None
        The entry that was removed (as :func:`publish` returns it), or None if nothing was
        published under that name or suffix.

    Examples
    --------
    >>> import tempfile
    >>> unpublish("defects", home=tempfile.mkdtemp()) is None
    True
    """
    store = ModelStore(home)
    suffix = _suffix_of(store, name)
    if suffix is None:
        return None
    entry = store.unpublish(suffix)
    return None if entry is None else _entry(suffix, entry)


def published(*, home=None) -> pd.DataFrame:
    """The published models: one row per suffix.

    Parameters
    ----------
    home : path-like, optional
        The vislab home folder (default ``VISLAB_HOME``).

    Returns
    -------
    DataFrame
        ``suffix, name, version, kind, published, path``, sorted by suffix.

    Examples
    --------
    >>> import tempfile
    >>> published(home=tempfile.mkdtemp()).columns.tolist()
    ['suffix', 'name', 'version', 'kind', 'published', 'path']
    """
    rows = [_entry(s, e) for s, e in sorted(ModelStore(home).published().items())]
    columns = ["suffix", "name", "version", "kind", "published", "path"]
    return pd.DataFrame(rows, columns=columns)
