"""The declared schema (Dask's ``meta``) of an endpoint's frame, and fitting a frame to it.

A frame built in one process has the core columns of its kind, the error columns and the
extra columns its rows happen to carry; pandas infers each column's dtype from the values.  A
lazy ``dask.dataframe`` must name every column and dtype before any image is sent, so
:func:`frame_meta` builds the frame of one row that carries every core column *and* every
column the endpoint declares (:attr:`vislab.catalogue.Endpoint.columns`) through the same
constructor as the in-process call (:func:`vislab.frames.result_frame`) and keeps its empty
head: the dtypes are those the running pandas infers for real values (``str`` on pandas 3,
``object`` on pandas 2), ``rank`` and ``error_code`` are the nullable ``Int64``, and declared
``"boolean"`` / ``"Int64"`` extras are pandas' nullable kinds (a partition whose images all
failed has no value to infer from).  :func:`conform` makes each partition that frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab import frames
from vislab.errors import InvalidFrame

__all__ = ["frame_meta", "conform", "CORE_KINDS"]

#: The kind of every core column (see :attr:`vislab.catalogue.Endpoint.columns` for kinds).
CORE_KINDS = {
    "image": "str",
    "query": "str",
    "rank": "Int64",
    "label": "str",
    "score": "float",
    "x": "float",
    "y": "float",
    "w": "float",
    "h": "float",
    "cont_sign": "str",
    "brief": "object",  # a parsed JSON brief (dict) or the text as stored
    "tags": "object",  # a list of ints
}
# One value of each kind, for pandas to infer the dtype the in-process frame would get.
_PROBE = {"str": "x", "float": 0.5, "Int64": 1, "boolean": True, "object": [1]}
_NULLABLE = {"Int64": "Int64", "boolean": "boolean"}


def frame_meta(endpoint) -> pd.DataFrame:
    """The empty frame every partition of ``endpoint``'s Dask call is made to match.

    Parameters
    ----------
    endpoint : vislab.catalogue.Endpoint

    Returns
    -------
    pandas.DataFrame
        No rows; core columns, ``error_code`` / ``error_msg`` / ``error_rule``, then the
        declared extras, in the in-process order.

    Examples
    --------
    >>> from vislab import catalogue
    >>> meta = frame_meta(catalogue.get("baidu.image_classify", "advanced_general"))
    >>> list(meta.columns)[4:]
    ['error_code', 'error_msg', 'error_rule', 'root', 'baike_url', 'description']
    >>> str(meta["error_code"].dtype), str(meta["rank"].dtype), len(meta)
    ('Int64', 'Int64', 0)
    """
    kinds = dict(CORE_KINDS)
    kinds.update(dict(endpoint.columns))
    probe = {c: _PROBE[kinds[c]] for c in frames._KIND_COLUMNS[endpoint.frame]}
    extras = {name: _PROBE[kind] for name, kind in endpoint.columns if name not in probe}
    df = frames.result_frame(endpoint.frame, [{**probe, **extras}])
    for name, kind in kinds.items():
        if name in df.columns and kind in _NULLABLE:
            df[name] = df[name].astype(_NULLABLE[kind])
    df = df.iloc[:0].copy()
    df.attrs = {"kind": endpoint.frame, "service": f"{endpoint.service}.{endpoint.name}"}
    return df


def conform(df: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """``df`` with exactly ``meta``'s columns (missing ones empty) and dtypes.

    Raises :class:`~vislab.errors.InvalidFrame` for a column ``meta`` does not declare: a
    parser that adds a column must declare it in its endpoint, or Dask would drop it.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of the in-process call.
    meta : pandas.DataFrame
        From :func:`frame_meta`.

    Returns
    -------
    pandas.DataFrame
        A new frame with a fresh ``RangeIndex``.

    Examples
    --------
    >>> from vislab import catalogue
    >>> meta = frame_meta(catalogue.get("baidu.image_classify", "advanced_general"))
    >>> failed = frames.labels_frame([{"image": "a.jpg", "error_code": 990100,
    ...                                "error_msg": "no such file", "error_rule": "missing"}])
    >>> out = conform(failed, meta)
    >>> out.dtypes.equals(meta.dtypes), out["error_code"].tolist()
    (True, [990100])
    """
    unknown = [c for c in df.columns if c not in meta.columns]
    if unknown:
        raise InvalidFrame(
            f"the frame has columns {unknown} its endpoint does not declare "
            f"({meta.attrs.get('service')}): add them to the endpoint's `columns` so the Dask "
            "frame keeps them",
            column=unknown[0],
        )
    out = df.reindex(columns=meta.columns).reset_index(drop=True)
    for col, dtype in meta.dtypes.items():
        if out[col].dtype != dtype:
            values = out[col]
            if dtype is np.dtype(object):
                values = values.astype(object).where(values.notna(), None)
            out[col] = values.astype(dtype)
    out.attrs = dict(meta.attrs)
    return out
