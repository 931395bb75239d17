"""The Milvus side of :class:`~vislab.engine.gallery.milvus.MilvusIndex`: connecting, the
collection's schema, names and filter expressions, and reading every row.

One Milvus entity per (stored row, view): ``pk = row * n_views + view``, the row's
``cont_sign``, ``brief``, ``tag1`` / ``tag2`` (the gallery's tag slots as scalar fields), the
two image hashes (``INT64``: the same 64 bits as the store's unsigned ones) and the unit vector
``vec`` (and ``texture`` when the gallery has one).  The vector index is ``FLAT`` (exact, as the
numpy backend; Milvus Lite searches flat whatever is asked); a server can use ``IVF_FLAT`` /
``HNSW`` (``index_type=``), whose answers are approximate.
"""

from __future__ import annotations

import re

import numpy as np

from vislab.engine.gallery.protocols import TagFilter
from vislab.errors import TransportError

__all__ = ["collection_name", "tag_expression", "connect", "create_collection",
           "collection_dim", "query_all", "MAX_LIMIT", "PAGE", "OUT_FIELDS"]  # fmt: skip

# Milvus caps a search's limit (topk) and a query's page.
MAX_LIMIT = 16384
PAGE = 4096
_BRIEF_BYTES = 4096  # VARCHAR capacity (the products' briefs are at most 256 bytes)
OUT_FIELDS = ["row", "view", "cont_sign", "brief", "tag1", "tag2", "phash", "dhash"]


def collection_name(product: str, name: str) -> str:
    """The Milvus collection of one gallery (letters, digits and ``_`` only).

    Parameters
    ----------
    product, name : str

    Returns
    -------
    str

    Examples
    --------
    >>> collection_name("similar", "my-photos")
    'vislab_similar__my_photos'
    """
    return "vislab_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{product}__{name}")


def tag_expression(where: TagFilter | None) -> str:
    """A :class:`TagFilter` as a Milvus boolean expression on ``tag1`` / ``tag2``.

    Parameters
    ----------
    where : TagFilter or None

    Returns
    -------
    str
        ``""`` when every row passes.

    Examples
    --------
    >>> tag_expression(TagFilter((3, 4), any_of=True))
    '((tag1 == 3 or tag2 == 3) or (tag1 == 4 or tag2 == 4))'
    >>> tag_expression(TagFilter((3, None), positional=True))
    '((tag1 == 3))'
    """
    if where is None:
        return ""
    conds = []
    for pos, v in enumerate(where.values):
        if v is None:
            continue
        v = int(v)
        conds.append(f"tag{pos + 1} == {v}" if where.positional
                     else f"tag1 == {v} or tag2 == {v}")  # fmt: skip
    if not conds:
        return ""
    return "(" + (" or " if where.any_of else " and ").join(f"({c})" for c in conds) + ")"


class _Ref:
    """Columns of matched rows (what a Milvus hit carried): the payload handle of matches."""

    __slots__ = ("columns",)

    def __init__(self, columns: dict):
        self.columns = columns

    def take(self, selection: np.ndarray) -> _Ref:
        return _Ref({k: v[selection] for k, v in self.columns.items()})


def _as_int64(h) -> int:
    # Milvus INT64 is signed: the same 64 bits of an unsigned hash.
    return int(np.uint64(h).view(np.int64))


def as_int64(h) -> int:
    """An unsigned 64-bit hash as Milvus' signed ``INT64`` (the same 64 bits).

    Examples
    --------
    >>> as_int64(2**64 - 1)
    -1
    """
    return int(np.uint64(h).view(np.int64))


def connect(uri: str, token: str | None, timeout: float):
    """A ``pymilvus.MilvusClient`` on ``uri``, or one typed error naming it.

    Parameters
    ----------
    uri : str
        A Milvus Lite file or a server URL.
    token : str or None
    timeout : float
        Seconds to reach a server.

    Returns
    -------
    pymilvus.MilvusClient

    Raises
    ------
    vislab.errors.TransportError
        Nothing answered at ``uri`` (code ``"connection"``).

    Examples
    --------
    >>> connect("http://127.0.0.1:9", None, 1)
    Traceback (most recent call last):
    ...
    vislab.errors.TransportError: [connection] cannot reach Milvus at http://127.0.0.1:9: ...
    """
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:  # pragma: no cover - the extra is in the test environment
        raise ImportError("Milvus galleries need: pip install 'vislab[milvus]'") from exc
    try:
        client = MilvusClient(uri, token=token or "", timeout=timeout)
        client.list_collections()  # a server answers here (a Lite file is opened above)
    except Exception as exc:  # pymilvus raises its own MilvusException, or gRPC's errors
        raise TransportError(
            "connection",
            f"cannot reach Milvus at {uri}: {type(exc).__name__}: {exc}. Start the "
            "server, check the URI and token, or use a Milvus Lite file (./galleries.db).",
        ) from None
    return client


def collection_dim(client, collection: str) -> int | None:
    """The width of ``collection``'s ``vec`` field, or None when there is no such collection.

    Examples
    --------
    >>> import os, tempfile
    >>> client = connect(os.path.join(tempfile.mkdtemp(), "g.db"), None, 10)
    >>> collection_dim(client, "nothing_here") is None
    True
    """
    if not client.has_collection(collection):
        return None
    fields = client.describe_collection(collection)["fields"]
    return next(int(f["params"]["dim"]) for f in fields if f["name"] == "vec")


def create_collection(client, collection: str, dim: int, texture_dim: int | None,
                      index_type: str = "FLAT") -> None:  # fmt: skip
    """Create a gallery's collection (see the module docstring for its fields).

    Examples
    --------
    >>> import os, tempfile
    >>> client = connect(os.path.join(tempfile.mkdtemp(), "g.db"), None, 10)
    >>> create_collection(client, "doc_schema", 8, None)
    >>> collection_dim(client, "doc_schema")
    8
    """
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)  # row * n_views + view
    schema.add_field("row", DataType.INT64)
    schema.add_field("view", DataType.INT32)
    schema.add_field("cont_sign", DataType.VARCHAR, max_length=64)
    schema.add_field("brief", DataType.VARCHAR, max_length=_BRIEF_BYTES)
    schema.add_field("tag1", DataType.INT32)
    schema.add_field("tag2", DataType.INT32)
    schema.add_field("phash", DataType.INT64)
    schema.add_field("dhash", DataType.INT64)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim)
    params = client.prepare_index_params()
    params.add_index("vec", index_type=index_type, metric_type="IP")
    if texture_dim:
        schema.add_field("texture", DataType.FLOAT_VECTOR, dim=texture_dim)
        params.add_index("texture", index_type="FLAT", metric_type="IP")
    # Strong consistency: a search sees every write acknowledged before it.
    client.create_collection(collection, schema=schema, index_params=params,
                             consistency_level="Strong")  # fmt: skip


def query_all(client, collection: str, expr: str, fields: list[str]) -> list[dict]:
    """Every entity that passes ``expr`` (``""``: all), read page by page.

    Examples
    --------
    >>> import os, tempfile
    >>> client = connect(os.path.join(tempfile.mkdtemp(), "g.db"), None, 10)
    >>> create_collection(client, "doc_query", 2, None)
    >>> _ = client.insert("doc_query", [{"pk": 0, "row": 0, "view": 0, "cont_sign": "a",
    ...     "brief": "", "tag1": 0, "tag2": 0, "phash": 0, "dhash": 0, "vec": [1.0, 0.0]}])
    >>> [r["cont_sign"] for r in query_all(client, "doc_query", "", ["cont_sign"])]
    ['a']
    """
    it = client.query_iterator(collection, batch_size=PAGE, filter=expr or "row >= 0",
                               output_fields=fields)  # fmt: skip
    rows: list[dict] = []
    try:
        while True:
            page = it.next()
            if not page:
                return rows
            rows.extend(page)
    finally:
        it.close()
