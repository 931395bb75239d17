"""Columns of a list of JSON records (COCO annotations and results), read fast and checked.

A COCO results file holds hundreds of thousands of records.  Reading one field of every
record with a Python loop (``[r.get("score") for r in records]``) costs about half a
microsecond a record; ``map(itemgetter(key), records)`` does the same walk in C and creates
no new containers (so the garbage collector stays asleep).  These helpers take that fast path
and fall back to a loop only to say which record is wrong, or to fill a missing optional
field.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Mapping
from itertools import chain
from operator import itemgetter

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame

__all__ = ["record_column", "record_boxes", "names_of", "load_json"]

_REQUIRED = object()


def load_json(path):
    """``json.load`` of a large file, with the cyclic garbage collector paused meanwhile.

    Parsing allocates one dict per record; every 700 allocations the collector would walk the
    young objects, and, as they survive, the old generations too — 40 % of the time of a
    500,000-record results file (2.3 s -> 1.4 s measured).  JSON cannot hold cycles, so
    nothing is left for the collector to find; it is resumed (if it was running) afterwards.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.json"
    >>> _ = f.write_text('[{"image_id": 1}]')
    >>> load_json(f), gc.isenabled()
    ([{'image_id': 1}], True)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidFrame(f"{path} is not a JSON file ({exc}); give a COCO JSON file") from None
    finally:
        if was_enabled:
            gc.enable()


def record_column(records, key: str, *, default=_REQUIRED, dtype=None, what: str = "record"):
    """``key`` of every record as a numpy array.

    Parameters
    ----------
    records : list of dict
    key : str
    default : optional
        The value of records without ``key``; without a default such a record is an error.
    dtype : numpy dtype, optional
        Default: what numpy infers (integer ids stay integers).
    what : str
        How errors name a record (``"result"``, ``"annotation"``).

    Raises
    ------
    vislab.errors.InvalidFrame
        A record without ``key`` (and no default), or one that is not a dict.

    Examples
    --------
    >>> record_column([{"score": 0.5}, {}], "score", default=np.nan, dtype=float).tolist()
    [0.5, nan]
    """
    try:
        values = list(map(itemgetter(key), records))
    except (KeyError, TypeError, IndexError):
        if default is _REQUIRED:
            _raise_missing(records, key, what)
        _check_mappings(records, what)
        values = [r.get(key, default) for r in records]
    return np.array(values, dtype=dtype)


def record_boxes(records, *, what: str = "record") -> np.ndarray:
    """The ``bbox`` of every record as an ``(n, 4)`` float array.

    Raises
    ------
    vislab.errors.InvalidFrame
        A record without ``bbox`` or whose box is not four numbers, naming the first one.

    Examples
    --------
    >>> record_boxes([{"bbox": [1, 2, 3, 4]}]).tolist()
    [[1.0, 2.0, 3.0, 4.0]]
    """
    n = len(records)
    try:
        boxes = list(map(itemgetter("bbox"), records))
    except (KeyError, TypeError, IndexError):
        _raise_missing(records, "bbox", what)
    try:
        lengths = set(map(len, boxes))
    except TypeError:
        lengths = None
    if n and lengths == {4}:
        try:
            # Streamed into one array: no list of lists, no per-box array.
            return np.fromiter(chain.from_iterable(boxes), dtype=float, count=4 * n).reshape(n, 4)
        except (TypeError, ValueError):
            pass
    elif not n:
        return np.zeros((0, 4))
    for i, box in enumerate(boxes):
        try:
            ok = len(box) == 4 and np.asarray(box, dtype=float).shape == (4,)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidFrame(
                f"{what} {i}: 'bbox' must be four numbers [x, y, w, h], got {box!r:.80}",
                column="bbox",
            )
    return np.array(boxes, dtype=float).reshape(n, 4)  # pragma: no cover - every box was fine


def names_of(ids, keys, names):
    """The name of each id (``names[keys == id]``); an id that is not listed stays itself.

    Parameters
    ----------
    ids : array
        One id per row (hundreds of thousands).
    keys, names : array-like
        The id table (a few hundred entries).

    Returns
    -------
    array-like
        An extension array of the names' own dtype when every id is listed (a ``take`` from
        the small table: no object array of a row count), else an object array.

    Examples
    --------
    >>> list(names_of(np.array([3, 1]), [1, 3], ["cat", "dog"]))
    ['dog', 'cat']
    >>> names_of(np.array([3, 9]), [1, 3], ["cat", "dog"]).tolist()
    ['dog', 9]
    """
    pos = pd.Index(keys).get_indexer(ids)
    table = pd.Series(list(names)).array
    if len(pos) and (pos >= 0).all():
        return table.take(pos)
    # Annotations of unlisted images or categories keep their ids rather than vanish.
    found = np.asarray(table.take(np.maximum(pos, 0)), dtype=object) if len(table) else ids
    return np.where(pos >= 0, found, ids) if len(pos) else ids


def _check_mappings(records, what: str) -> None:
    for i, r in enumerate(records):
        if not isinstance(r, Mapping):
            raise InvalidFrame(f"{what} {i} must be a JSON object, got {type(r).__name__}")


def _raise_missing(records, key: str, what: str):
    _check_mappings(records, what)
    i = next(i for i, r in enumerate(records) if key not in r)
    raise InvalidFrame(f"{what} {i} has no {key!r} (keys: {sorted(records[i])[:8]})", column=key)
