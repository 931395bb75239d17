"""The SQLite store is the record of truth: bringing a Milvus collection in line with it.

A gallery acknowledges an add when its SQLite store has committed it, so an acknowledged add
survives a SIGKILL whatever Milvus had flushed.  When a gallery opens its collection,
:func:`sync_with_store` makes the collection hold exactly the store's rows: it adds the rows it
lacks (``insert``, in batches of :data:`~vislab.engine.gallery.milvus_schema.PAGE` entities),
drops rows the store does not hold, and rewrites (``upsert``) rows whose brief or tags differ;
then it flushes, so the new rows are sealed segments searched through the collection's index.
"""

from __future__ import annotations

import numpy as np

from vislab.engine.gallery.milvus_schema import OUT_FIELDS, PAGE
from vislab.engine.gallery.protocols import IndexItem

__all__ = ["sync_with_store"]


def sync_with_store(index, columns) -> dict:
    """Make ``index``'s collection hold exactly the store's rows.

    Parameters
    ----------
    index : vislab.engine.gallery.milvus.MilvusIndex
    columns : vislab.engine.gallery.store.Columns
        Every stored row (``SQLiteStore.columns``).

    Returns
    -------
    dict
        How many rows were ``added``, ``removed`` and ``rewritten``.

    Examples
    --------
    >>> import os, tempfile
    >>> from vislab.engine.gallery.milvus import MilvusIndex
    >>> from vislab.engine.gallery.store import Columns
    >>> index = MilvusIndex(os.path.join(tempfile.mkdtemp(), "g.db"), "c")
    >>> index.add(IndexItem(7, "7,7", "b", (0, 0), 0, 0, np.ones((1, 4), np.float32)))
    >>> sync_with_store(index, Columns.empty(n_views=1))
    {'added': 0, 'removed': 1, 'rewritten': 0}
    """
    held = {int(r["row"]): r for r in index._query("view == 0", OUT_FIELDS)}
    store = {int(i): n for n, i in enumerate(columns.ids.tolist())}
    gone = sorted(set(held) - set(store))
    index.remove(gone)
    added = rewritten = 0
    if store and columns.vectors.shape[-1]:
        index._check_dim(int(columns.vectors.shape[-1]))
    # New rows are inserted (an upsert is a delete and an insert: ~25 % slower on Milvus Lite);
    # rows whose brief or tags changed are upserted.
    pending: dict[str, list[dict]] = {"insert": [], "upsert": []}
    for row, n in store.items():
        have = held.get(row)
        slots = tuple(int(t) for t in columns.tags[n])
        if have is not None and (have["brief"], (have["tag1"], have["tag2"])) == (
            columns.briefs[n] or "", slots):  # fmt: skip
            continue
        texture = None if columns.texture is None else columns.texture[n]
        item = IndexItem(row, columns.signs[n], columns.briefs[n], slots,
                         int(columns.phash[n]), int(columns.dhash[n]),
                         np.asarray(columns.vectors[n], np.float32), texture)  # fmt: skip
        how = "insert" if have is None else "upsert"
        pending[how].extend(index._entities(item))
        added, rewritten = (added + 1, rewritten) if have is None else (added, rewritten + 1)
        if len(pending[how]) >= PAGE:
            getattr(index._client, how)(index.collection, pending[how])
            pending[how] = []
    for how, entities in pending.items():
        if entities:
            getattr(index._client, how)(index.collection, entities)
    if added or rewritten:
        # Sealed segments are searched through their index; growing ones row by row.
        index._client.flush(index.collection)
    index._set_tags({int(i): (int(a), int(b)) for i, (a, b) in zip(
        columns.ids.tolist(), columns.tags.tolist(), strict=True)})  # fmt: skip
    return {"added": added, "removed": len(gone), "rewritten": rewritten}
