"""A gallery's vector index on Milvus (:class:`MilvusIndex`): Milvus Lite file or Milvus server.

It implements :class:`~vislab.engine.gallery.protocols.VectorIndex` and keeps its rules: one
Milvus entity per (stored row, view), ``tag1`` / ``tag2`` as scalar fields with the
:class:`~vislab.engine.gallery.protocols.TagFilter` as their boolean expression, inner
product on the unit (float16-rounded) vectors, the max over views and query vectors, ``clip``
before ranking, ties by store id (the final ranking is done here, on the scores Milvus
returns), ``k=None`` and ``total`` from a scalar query.  Needs ``pip install 'vislab[milvus]'``.

**The SQLite store stays the record of truth** (as the protocol says): an add is acknowledged
when the store has committed it, so an acknowledged add survives a SIGKILL of the process
whatever Milvus had flushed; :meth:`MilvusIndex.sync` makes the collection match the store
when a gallery opens it (adds the rows it lacks, drops rows the store does not hold, rewrites
rows whose brief or tags differ).  The collection is therefore a derived, persistent index: a
Milvus Lite file (``./galleries.db``) for one machine, or a Milvus server / cluster
(``http://host:19530`` with ``token=``) when one machine is not enough.

The collection index is ``FLAT`` (exact, as the numpy backend).  On a Milvus server an
``IVF_FLAT`` / ``HNSW`` index trades exactness for speed (``index_type=``); then the answers
are approximate (``benchmarks/bench_scale.py`` measures the embedded engine).

Connecting, the collection's schema, names and tag expressions are in
:mod:`~vislab.engine.gallery.milvus_schema`; bringing the collection in line with the store in
:mod:`~vislab.engine.gallery.milvus_sync` (both names stay importable from here).

Examples
--------
>>> import os, tempfile
>>> from vislab.engine.gallery.protocols import IndexItem, TagFilter
>>> uri = os.path.join(tempfile.mkdtemp(), "galleries.db")
>>> index = MilvusIndex(uri, "doc_example")
>>> for i, tags in enumerate([(1, 0), (2, 0), (1, 2)], start=1):
...     v = np.eye(3, dtype=np.float32)[i - 1]
...     index.add(IndexItem(i, f"{i},{i}", "b", tags, 0, 0, v[None]))
>>> m = index.search(np.array([0.6, 0.0, 0.8], np.float32), where=TagFilter((1,)), k=5)
>>> m.ids.tolist(), [round(float(s), 2) for s in m.scores], m.total
([3, 1], [0.8, 0.6], 2)
>>> index.close()
"""

from __future__ import annotations

import numpy as np

from vislab.engine.gallery.milvus_schema import (
    MAX_LIMIT,
    OUT_FIELDS,
    _Ref,
    as_int64,
    collection_dim,
    collection_name,
    connect,
    create_collection,
    query_all,
    tag_expression,
)
from vislab.engine.gallery.milvus_sync import sync_with_store
from vislab.engine.gallery.protocols import IndexItem, Matches, TagFilter, top_k
from vislab.errors import InvalidParameter

__all__ = ["MilvusIndex", "collection_name", "tag_expression"]


class MilvusIndex:
    """A :class:`~vislab.engine.gallery.protocols.VectorIndex` on a Milvus collection.

    Parameters
    ----------
    uri : str
        A Milvus Lite file (``"./galleries.db"``, created) or a server (``"http://host:19530"``).
    collection : str
        The collection (one per gallery: :func:`collection_name`).
    token : str, optional
        A server's token (``"user:password"`` or an API key).
    n_views : int, default 1
        Vectors per row (picture-book pages: 10).
    with_texture : bool, default False
        Rows carry a texture descriptor (searchable as ``field="texture"``).
    dim : int, optional
        The embedding width the gallery needs; an existing collection of another width is
        refused.
    index_type : str, default "FLAT"
        The Milvus vector index (exact ``FLAT``; a server may use ``IVF_FLAT``, ``HNSW``...).
    timeout : float, default 10
        Seconds to reach a server.

    Raises
    ------
    vislab.errors.TransportError
        Nothing answered at ``uri`` (code ``"connection"``), naming it.
    vislab.errors.InvalidParameter
        The collection holds vectors of another dimension than ``dim`` (both numbers).

    Examples
    --------
    >>> import os, tempfile
    >>> uri = os.path.join(tempfile.mkdtemp(), "galleries.db")
    >>> index = MilvusIndex(uri, "doc_class")
    >>> index.add(IndexItem(1, "1,1", "one", (3, 0), 0, 0, np.ones((1, 2), np.float32)))
    >>> m = index.search(np.ones(2, np.float32), k=1)
    >>> index.payload(m, "brief")[0].tolist(), len(index), index.dim
    (['one'], 1, 2)
    >>> index.close()
    """

    def __init__(self, uri: str, collection: str, *, token: str | None = None, n_views: int = 1,
                 with_texture: bool = False, dim: int | None = None, index_type: str = "FLAT",
                 timeout: float = 10.0):  # fmt: skip
        self.uri = str(uri)
        self.collection = collection
        self.n_views = int(n_views)
        self.with_texture = bool(with_texture)
        self.index_type = index_type
        self._client = connect(self.uri, token, timeout)
        existing = collection_dim(self._client, collection)
        self._dim: int | None = existing
        # Tags of every row (row id -> (tag1, tag2)), kept here: ``total`` and ``len`` are
        # counted from it (a count(*) query costs Milvus Lite ~1.5 s); :meth:`sync` rebuilds it.
        self._tags: dict[int, tuple[int, int]] = {}
        self._tag_arrays = None
        if dim is not None:
            self._check_dim(int(dim))
        if existing is not None:
            self._set_tags({int(r["row"]): (r["tag1"], r["tag2"])
                            for r in self._query("view == 0", ["row", "tag1", "tag2"])})  # fmt: skip

    def _set_tags(self, tags: dict) -> None:
        self._tags = tags
        self._tag_arrays = None

    def _count_where(self, where: TagFilter | None) -> int:
        if self._tag_arrays is None:
            self._tag_arrays = np.array(list(self._tags.values()), np.int32).reshape(-1, 2)
        if where is None:
            return len(self._tags)
        return int(where.matches(self._tag_arrays).sum())

    def __repr__(self) -> str:
        return f"MilvusIndex({self.uri!r}, {self.collection!r})"

    def close(self) -> None:
        """Close the connection (a Milvus Lite file is flushed).

        Examples
        --------
        >>> import os, tempfile
        >>> MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c").close()
        """
        self._client.close()

    # -- the collection -----------------------------------------------------------------------

    def _check_dim(self, dim: int) -> None:
        if self._dim is not None and self._dim != dim:
            raise InvalidParameter(
                f"the Milvus collection {self.collection!r} at {self.uri} holds vectors of "
                f"dimension {self._dim}, the gallery's backbone makes {dim}: use another "
                "collection (gallery name) or drop this one",
                name="milvus_uri",
            )

    def _create(self, dim: int, texture_dim: int | None) -> None:
        create_collection(self._client, self.collection, dim, texture_dim, self.index_type)
        self._dim = dim

    def _entities(self, item: IndexItem) -> list[dict]:
        vectors = np.asarray(item.vectors, np.float32).reshape(self.n_views, -1)
        if self._dim is None:
            tex = None if item.texture is None else np.asarray(item.texture).size
            self._create(vectors.shape[1], tex if self.with_texture else None)
        self._check_dim(vectors.shape[1])
        base = {"row": int(item.id), "cont_sign": item.cont_sign, "brief": item.brief or "",
                "tag1": int(item.slots[0] or 0), "tag2": int(item.slots[1] or 0),
                "phash": as_int64(item.phash), "dhash": as_int64(item.dhash)}  # fmt: skip
        out = []
        for view in range(self.n_views):
            e = {**base, "pk": int(item.id) * self.n_views + view, "view": view,
                 "vec": vectors[view].tolist()}  # fmt: skip
            if self.with_texture:
                e["texture"] = np.asarray(item.texture, np.float32).ravel().tolist()
            out.append(e)
        return out

    def _query(self, expr: str, fields: list[str]) -> list[dict]:
        if self._dim is None:
            return []
        return query_all(self._client, self.collection, expr, fields)

    # -- the protocol -------------------------------------------------------------------------

    @property
    def dim(self) -> int | None:
        """The embedding width (None until the first row).

        Returns
        -------
        int or None

        Examples
        --------
        >>> import os, tempfile
        >>> MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c").dim is None
        True
        """
        return self._dim

    def __len__(self) -> int:
        return len(self._tags)

    def nbytes(self, *, headroom: bool = True) -> int:
        """Bytes of the vectors held by the collection (an estimate: Milvus keeps its own).

        Parameters
        ----------
        headroom : bool
            Ignored (Milvus allocates its own segments).

        Returns
        -------
        int

        Examples
        --------
        >>> import os, tempfile
        >>> MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c").nbytes()
        0
        """
        return len(self) * self.n_views * (self._dim or 0) * 4

    def add(self, item: IndexItem) -> None:
        """Insert one row (one entity per view).

        Parameters
        ----------
        item : IndexItem

        Examples
        --------
        >>> import os, tempfile
        >>> index = MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c")
        >>> index.add(IndexItem(7, "7,7", "b", (0, 0), 0, 0, np.ones((1, 4), np.float32)))
        >>> len(index)
        1
        """
        self._client.upsert(self.collection, self._entities(item))
        self._tags[int(item.id)] = (int(item.slots[0] or 0), int(item.slots[1] or 0))
        self._tag_arrays = None

    def remove(self, ids) -> None:
        """Forget rows by store id (unknown ids are ignored).

        Parameters
        ----------
        ids : iterable of int

        Examples
        --------
        >>> import os, tempfile
        >>> index = MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c")
        >>> index.add(IndexItem(7, "7,7", "b", (0, 0), 0, 0, np.ones((1, 4), np.float32)))
        >>> index.remove([7, 8]); len(index)
        0
        """
        ids = [int(i) for i in ids]
        if ids and self._dim is not None:
            self._client.delete(self.collection, filter=f"row in {ids}")
            for i in ids:
                self._tags.pop(i, None)
            self._tag_arrays = None

    def update(self, id: int, *, brief: str | None = None, slots=None) -> None:
        """Change a row's brief and/or slots (its entities are rewritten).

        Parameters
        ----------
        id : int
        brief : str, optional
        slots : (int, int), optional

        Examples
        --------
        >>> import os, tempfile
        >>> index = MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c")
        >>> index.add(IndexItem(7, "7,7", "b", (0, 0), 0, 0, np.ones((1, 4), np.float32)))
        >>> index.update(7, brief="new", slots=(5, 0))
        >>> m = index.search(np.ones(4, np.float32), where=TagFilter((5,)), k=1)
        >>> index.payload(m, "brief")[0].tolist()
        ['new']
        """
        fields = ["pk", *OUT_FIELDS, "vec"] + (["texture"] if self.with_texture else [])
        found = self._query(f"row == {int(id)}", fields)
        if not found:
            return
        for e in found:
            if brief is not None:
                e["brief"] = brief
            if slots is not None:
                e["tag1"], e["tag2"] = (int(s or 0) for s in slots)
        self._client.upsert(self.collection, found)
        self._tags[int(id)] = (found[0]["tag1"], found[0]["tag2"])
        self._tag_arrays = None

    def search(self, query, *, where=None, k=None, clip=None, field="embedding") -> Matches:
        """Score the rows that pass ``where``; the best ``k`` (ties by id) or all in id order.

        Parameters
        ----------
        query : numpy.ndarray
            ``(D,)`` or ``(D, Q)`` (the best of the Q query vectors counts).
        where : TagFilter, optional
        k : int, optional
            None = every row that passes, in id order.
        clip : (float, float), optional
            Clip scores to this range before ranking.
        field : {"embedding", "texture"}

        Returns
        -------
        Matches

        Examples
        --------
        >>> import os, tempfile
        >>> index = MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c")
        >>> index.search(np.ones(4, np.float32), k=3).total
        0
        """
        vec = {"embedding": "vec", "texture": "texture"}.get(field)
        if vec is None or (vec == "texture" and not self.with_texture):
            raise InvalidParameter(f"this index holds no {field} vectors", name="field")
        query = np.asarray(query, np.float32)
        queries = query.reshape(query.shape[0], -1).T  # (Q, D)
        if self._dim is None:
            return self._matches([], np.zeros(0, np.float32), 0)
        if vec == "vec" and queries.shape[1] != self._dim:
            raise InvalidParameter(f"query {field} has {queries.shape[1]} values, the gallery "
                                   f"holds {self._dim}", name=field)  # fmt: skip
        expr = tag_expression(where)
        # Texture is the same on every view: search it on view 0 only.
        views = 1 if vec == "texture" else self.n_views
        scoped = expr if views > 1 else " and ".join(filter(None, [expr, "view == 0"]))
        total = self._count_where(where)
        if total == 0:
            return self._matches([], np.zeros(0, np.float32), 0)
        every = total * views  # entities that pass the filter
        limit = every if k is None else min(every, (int(k) + 16) * views)
        hits = self._top(scoped, vec, queries, limit)
        if clip is not None and limit < every and k is not None:
            # Clipped scores tie and ties rank by id: when the cut falls among rows clipped
            # to one value, rows Milvus left out (lower raw score, lower id) may belong in.
            raw = sorted({int(e["row"]): s for e, s in hits}.values(), reverse=True)
            kth = raw[min(int(k), len(raw)) - 1] if raw else 0.0
            if kth <= clip[0] or kth >= clip[1]:
                hits = self._top(scoped, vec, queries, every)
        best: dict[int, tuple[dict, float]] = {}
        for entity, score in hits:  # the max over views and query vectors
            row = int(entity["row"])
            if row not in best or score > best[row][1]:
                best[row] = (entity, score)
        rows = sorted(best)
        scores = np.array([best[r][1] for r in rows], np.float32)
        if clip is not None:
            np.clip(scores, clip[0], clip[1], out=scores)
        matches = self._matches([best[r][0] for r in rows], scores, total)
        return matches if k is None else top_k(matches, k)

    def _top(self, expr: str, vec: str, queries: np.ndarray, limit: int):
        """(entity, score) of the best ``limit`` entities per query vector."""
        if limit > MAX_LIMIT:  # past Milvus' topk cap: every passing vector, scored here
            return self._scan(expr, vec, queries)
        got = self._client.search(self.collection, queries.tolist(), limit=limit, filter=expr,
                                  anns_field=vec, output_fields=OUT_FIELDS,
                                  search_params={"metric_type": "IP"})  # fmt: skip
        return [(h["entity"], float(h["distance"])) for per_query in got for h in per_query]

    def _scan(self, expr: str, vec: str, queries: np.ndarray) -> list[tuple[dict, float]]:
        # Every passing entity with its vector; scored here exactly as numpy would.
        rows = self._query(expr, [*OUT_FIELDS, vec])
        if not rows:
            return []
        matrix = np.asarray([r[vec] for r in rows], np.float32)
        scores = (matrix @ queries.T).max(axis=1)
        return list(zip(rows, scores.tolist(), strict=True))

    def _matches(self, entities: list[dict], scores: np.ndarray, total: int) -> Matches:
        ids = np.array([int(e["row"]) for e in entities], np.int64)
        cols = {
            "cont_sign": np.array([e["cont_sign"] for e in entities], object),
            "brief": np.array([e["brief"] for e in entities], object),
            "slots": np.array([[e["tag1"], e["tag2"]] for e in entities], np.int32).reshape(-1, 2),
            "phash": np.array([e["phash"] for e in entities], np.int64).view(np.uint64),
            "dhash": np.array([e["dhash"] for e in entities], np.int64).view(np.uint64),
        }
        return Matches(ids, scores, int(total), _Ref(cols))

    def payload(self, matches: Matches, *names: str) -> tuple:
        """Columns of the matched rows, in match order.

        Parameters
        ----------
        matches : Matches
        *names : {"cont_sign", "brief", "slots", "phash", "dhash"}

        Returns
        -------
        tuple of numpy.ndarray

        Examples
        --------
        >>> import os, tempfile
        >>> index = MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c")
        >>> index.add(IndexItem(7, "7,7", "b", (4, 0), 0, 0, np.ones((1, 4), np.float32)))
        >>> index.payload(index.search(np.ones(4, np.float32), k=1), "slots")[0].tolist()
        [[4, 0]]
        """
        return tuple(matches.ref.columns[n] for n in names)

    # -- the store is the record of truth (vislab.engine.gallery.milvus_sync) -----------------

    def sync(self, columns) -> dict:
        """Make the collection hold exactly the store's rows (run when a gallery opens it).

        Parameters
        ----------
        columns : vislab.engine.gallery.store.Columns
            Every stored row (``SQLiteStore.columns``).

        Returns
        -------
        dict
            How many rows were ``added``, ``removed`` and ``rewritten``.

        Examples
        --------
        >>> import os, tempfile
        >>> from vislab.engine.gallery.store import Columns
        >>> index = MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c")
        >>> index.add(IndexItem(7, "7,7", "b", (0, 0), 0, 0, np.ones((1, 4), np.float32)))
        >>> index.sync(Columns.empty(n_views=1))
        {'added': 0, 'removed': 1, 'rewritten': 0}
        """
        return sync_with_store(self, columns)
