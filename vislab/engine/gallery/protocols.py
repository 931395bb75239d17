"""The seam between a gallery and its vector index: filters, matches, rows, the protocol.

:class:`VectorIndex` is what :class:`~vislab.engine.gallery.Gallery` needs from an index —
add, remove, update, and ``search(query, where=filter, k=...)`` returning :class:`Matches`
(store ids, scores) plus the row payload a hit shows.
:class:`~vislab.engine.gallery.index.NumpyIndex` implements it in memory with numpy; an
embedded vector database (e.g. Milvus Lite, with ``tag1``/``tag2`` as scalar fields and the
:class:`TagFilter` as its boolean expression) can implement the same protocol without
touching the store, the policies or the facade.  What a backend must keep:

* scores are inner products of unit vectors (cosine), the **max over stored views and
  query vectors** when either has several; ``clip=(lo, hi)`` clips them *before* ranking,
  so rows clipped to the same value tie;
* ties rank by store id (insertion order), so pages never overlap or skip a row;
* ``k=None`` returns every row that passes the filter, in id order (policies that rescore
  everything — same-image verification, fabric texture — use it);
* ``total`` counts the rows that passed the filter, whatever ``k``;
* ``Matches.ref`` is the backend's handle of the rows: ``payload(matches, ...)`` reads their
  columns (``cont_sign``, ``brief``, ``slots``, ``phash``, ``dhash``), and
  ``ref.take(selection)`` narrows it, so policies can rescore and cut backend-neutrally;
* the store (:mod:`vislab.engine.gallery.store`) stays the record of truth: an index is
  rebuilt from it (``NumpyIndex.load``) and told every change.

Examples
--------
>>> f = TagFilter((3, None), positional=True)
>>> f.matches(np.array([[3, 1], [1, 3]])).tolist()
[True, False]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["VectorIndex", "IndexItem", "TagFilter", "Matches", "top_k"]


@dataclass(frozen=True)
class TagFilter:
    """Which rows a search looks at.

    Parameters
    ----------
    values : tuple
        Tag set products: 1 or 2 tags, a row matches a tag held in either slot.  Positional
        products: ``(class_id1, class_id2)`` with ``None`` for no condition on that slot.
    any_of : bool
        ``True`` = OR of the conditions, ``False`` = AND.
    positional : bool

    Examples
    --------
    >>> TagFilter((1, 2), any_of=True).matches(np.array([[1, 0], [3, 4]])).tolist()
    [True, False]
    """

    values: tuple
    any_of: bool = False
    positional: bool = False

    def matches(self, tags: np.ndarray) -> np.ndarray:
        """Boolean mask of the rows of ``tags`` (``(m, 2)`` slots, 0 = empty) that pass."""
        conds = []
        for pos, v in enumerate(self.values):
            if v is None:
                continue
            conds.append(tags[:, pos] == v if self.positional
                         else (tags[:, 0] == v) | (tags[:, 1] == v))  # fmt: skip
        if not conds:
            return np.ones(len(tags), bool)
        mask = conds[0]
        for c in conds[1:]:
            mask = (mask | c) if self.any_of else (mask & c)
        return mask


@dataclass(frozen=True, eq=False)
class Matches:
    """Rows found by a search: store ids and scores (best first, or id order for ``k=None``).

    ``total`` counts the rows that qualified (before the cut to ``k``).  ``ref`` is the
    backend's handle of the rows for :meth:`VectorIndex.payload`; it offers
    ``take(selection)``, which keeps :meth:`select` backend-neutral.

    Examples
    --------
    >>> m = Matches(np.array([5, 6, 7]), np.array([0.1, 0.9, 0.9], np.float32), 3)
    >>> top_k(m, 2).ids.tolist(), m.select([0, 2]).total
    ([6, 7], 2)
    """

    ids: np.ndarray
    scores: np.ndarray
    total: int
    ref: object = None

    def select(self, selection, *, scores=None) -> Matches:
        """The matches at ``selection`` (positions in this one), optionally with new scores
        (one per selected row); ``total`` becomes the number selected."""
        sel = np.asarray(selection, dtype=np.int64)
        new = self.scores[sel] if scores is None else np.asarray(scores, np.float32)
        ref = None if self.ref is None else self.ref.take(sel)
        return Matches(self.ids[sel], new, int(sel.size), ref)


def top_k(matches: Matches, k: int) -> Matches:
    """The ``k`` best of ``matches`` by score, ties by id; ``total`` is kept.

    Examples
    --------
    >>> m = Matches(np.array([3, 1, 2]), np.array([0.5, 0.5, 0.9], np.float32), 3)
    >>> best = top_k(m, 2)
    >>> best.ids.tolist(), best.total
    ([2, 1], 3)
    """
    ids, scores = matches.ids, matches.scores
    n = ids.size
    k = max(0, min(int(k), n))
    if 0 < k < n:
        part = np.argpartition(-scores, k - 1)[:k]
        # argpartition picks arbitrary members of a tie at the cut; take the whole tie so
        # that the id tie-break below decides, and pages stay consistent.
        kth = scores[part].min()
        part = np.concatenate((part[scores[part] > kth], np.flatnonzero(scores == kth)))
    else:
        part = np.arange(n if k else 0)
    order = part[np.lexsort((ids[part], -scores[part]))][:k]
    best = matches.select(order)
    return Matches(best.ids, best.scores, matches.total, best.ref)


@dataclass(frozen=True, eq=False)
class IndexItem:
    """One row for :meth:`VectorIndex.add`.

    ``slots`` are ints with 0 for an empty slot; ``vectors`` is ``(V, D)`` float32 (the whole
    picture first); ``texture`` is the fabric descriptor or None.

    Examples
    --------
    >>> IndexItem(1, "1,1", "", (0, 0), 0, 0, np.ones((1, 4), np.float32)).vectors.shape
    (1, 4)
    """

    id: int
    cont_sign: str
    brief: str
    slots: tuple[int, int]
    phash: int
    dhash: int
    vectors: np.ndarray
    texture: np.ndarray | None = None


@runtime_checkable
class VectorIndex(Protocol):
    """What :class:`~vislab.engine.gallery.Gallery` needs from a vector index.

    Examples
    --------
    >>> from vislab.engine.gallery.index import NumpyIndex
    >>> isinstance(NumpyIndex(), VectorIndex)
    True
    """

    @property
    def dim(self) -> int | None: ...

    def add(self, item: IndexItem) -> None: ...

    def remove(self, ids) -> None: ...

    def update(self, id: int, *, brief: str | None = None, slots=None) -> None: ...

    def search(self, query: np.ndarray, *, where: TagFilter | None = None,
               k: int | None = None, clip: tuple[float, float] | None = None,
               field: str = "embedding") -> Matches: ...  # fmt: skip

    def payload(self, matches: Matches, *names: str) -> tuple: ...

    def __len__(self) -> int: ...

    def nbytes(self, *, headroom: bool = True) -> int: ...
