"""The in-memory vector index of a gallery (:class:`NumpyIndex`): exact search with numpy.

It implements :class:`~vislab.engine.gallery.protocols.VectorIndex`, the seam a vector
database can stand behind (see :mod:`vislab.engine.gallery.protocols` for what a backend
must keep).

Layout
------
Rows are grouped by their tags (``(min, max)`` of the two slots, or ``(slot 1, slot 2)`` for
positional class ids) and each group's row range is kept, so a tag filter is a handful of
contiguous runs multiplied in place — no mask over all rows and no gather.  Rows added since
the last regrouping form a tail that is filtered row by row; once it holds a quarter of the
rows (or a quarter are dead) the matrix is regrouped.  Writers are serialised by the caller;
readers work on an immutable snapshot and never block.

Large filtered searches
-----------------------
A search for the best ``k`` over at least :data:`~vislab.engine.gallery.coarse.MIN_ROWS`
filtered rows reads the float32 rows at memory speed, so from the second search with the same
filter on, it runs in two passes: an int8 scan of that filter's rows (a contiguous copy made
once per layout, :class:`~vislab.engine.gallery.coarse.ScanCache`) picks the best
``4 k + 64``, which are scored again exactly in float32.  Scores are always the float32 ones;
the hits equal the one-pass search's (tested; ``bench_search.py`` prints how often).

Examples
--------
>>> index = NumpyIndex()
>>> for i, tags in enumerate([(1, 0), (2, 0), (1, 2)], start=1):
...     v = np.eye(3, dtype=np.float32)[i - 1]
...     index.add(IndexItem(i, f"{i},{i}", "b", tags, 0, 0, v[None]))
>>> m = index.search(np.array([0.6, 0.0, 0.8], np.float32), where=TagFilter((1,)), k=5)
>>> m.ids.tolist(), [round(float(s), 2) for s in m.scores], m.total
([3, 1], [0.8, 0.6], 2)
"""

from __future__ import annotations

import sys

import numpy as np

from vislab.engine.gallery import coarse
from vislab.engine.gallery.protocols import IndexItem, Matches, TagFilter, top_k
from vislab.engine.gallery.scoring import score_rows
from vislab.engine.texture import TEXTURE_DIM
from vislab.errors import InvalidParameter

__all__ = ["NumpyIndex"]

# Regroup once this share of rows is out of place (appended since the last regrouping) and
# the index holds at least _RELAYOUT_MIN rows; compact once a quarter of the rows are dead.
_RELAYOUT_SHARE = 0.25
_RELAYOUT_MIN = 2048
# Rows converted per step when an index is built from stored float16 columns.
_LOAD_BLOCK = 4096
#: A large search re-scores exactly this many candidates per wanted hit (plus 64) after its
#: int8 pass; measured recall of the top 300 against the one-pass search: 1.0 (bench_search).
CANDIDATES_PER_HIT = 4
# The int8 scans of repeated filters may hold this share of the float32 matrix's bytes
# (a one-tag filter of 10 tags selects ~20 % of the rows: ten such filters fit in 0.5).
_SCAN_BUDGET = 0.5


class _RowRef:
    """A NumpyIndex snapshot and row numbers: the payload handle of its matches."""

    __slots__ = ("rows", "positions")

    def __init__(self, rows, positions: np.ndarray):
        self.rows = rows
        self.positions = positions

    def take(self, selection: np.ndarray) -> _RowRef:
        return _RowRef(self.rows, self.positions[selection])


class _Rows:
    """A snapshot of the in-memory matrix (rows ``0..n-1`` of arrays of capacity ``cap``).

    Readers only touch rows below ``n``; writers append beyond it into the shared arrays and
    publish a new snapshot, and replace (copy-on-write) ``briefs``/``alive`` to change rows.
    ``group_keys``/``group_starts``/``group_ends`` describe the grouped rows ``0..grouped-1``.
    """

    __slots__ = (
        "n", "ids", "signs", "briefs", "tags", "phash", "dhash", "vectors", "texture",
        "alive", "n_dead", "grouped", "group_keys", "group_starts", "group_ends", "coarse",
    )  # fmt: skip

    def __init__(self, cap: int, n_views: int, dim: int, with_texture: bool):
        self.n = 0
        self.ids = np.zeros(cap, np.int64)
        self.signs = np.empty(cap, object)
        self.briefs = np.empty(cap, object)
        self.tags = np.zeros((cap, 2), np.int32)
        self.phash = np.zeros(cap, np.uint64)
        self.dhash = np.zeros(cap, np.uint64)
        self.vectors = np.zeros((cap, n_views, dim), np.float32)
        self.texture = np.zeros((cap, TEXTURE_DIM), np.float32) if with_texture else None
        self.alive = np.zeros(cap, bool)
        self.n_dead = 0
        self.grouped = 0
        self.group_keys = np.zeros((0, 2), np.int32)
        self.group_starts = np.zeros(0, np.int64)
        self.group_ends = np.zeros(0, np.int64)
        # int8 scans of repeated filters (vislab.engine.gallery.coarse), shared by the
        # snapshots of one layout: their grouped rows are the same.
        self.coarse = coarse.ScanCache(budget=int(_SCAN_BUDGET * self.vectors.nbytes))

    @property
    def cap(self) -> int:
        return len(self.ids)

    def copy_meta(self) -> _Rows:
        other = object.__new__(_Rows)
        for name in self.__slots__:
            setattr(other, name, getattr(self, name))
        return other

    def nbytes(self) -> int:
        arrays = [self.ids, self.tags, self.phash, self.dhash, self.vectors, self.alive]
        if self.texture is not None:
            arrays.append(self.texture)
        return sum(a.nbytes for a in arrays) + 2 * self.signs.nbytes


class NumpyIndex:
    """Exact search over in-memory numpy arrays (float32 rows of float16-rounded values).

    Parameters
    ----------
    n_views : int, default 1
        Vectors per row (picture-book pages: 10).
    with_texture : bool, default False
        Rows carry a ``TEXTURE_DIM`` texture descriptor (searchable as ``field="texture"``).
    positional : bool, default False
        Group rows by ``(slot 1, slot 2)`` (class ids) rather than by their tag set.

    Examples
    --------
    >>> index = NumpyIndex()
    >>> index.add(IndexItem(1, "1,1", "one", (3, 0), 0, 0, np.ones((1, 2), np.float32)))
    >>> m = index.search(np.ones(2, np.float32), k=1)
    >>> index.payload(m, "brief")[0].tolist(), len(index)
    (['one'], 1)
    """

    def __init__(self, *, n_views: int = 1, with_texture: bool = False, positional: bool = False):
        self.n_views = n_views
        self.with_texture = with_texture
        self.positional = positional
        self._st = _Rows(64, n_views, 0, with_texture)
        self._pos: dict[int, int] = {}  # store id -> row (writers only)

    @classmethod
    def load(cls, ids, signs, briefs, tags, phash, dhash, vectors, texture=None, *,
             n_views: int = 1, with_texture: bool = False, positional: bool = False,
             ) -> NumpyIndex:  # fmt: skip
        """Build an index from columns (one entry per row; ``vectors`` ``(n, V, D)``, any float).

        Examples
        --------
        >>> v = np.eye(2, dtype=np.float16)[:, None, :]
        >>> ix = NumpyIndex.load([1, 2], ["1,1", "2,2"], ["a", "b"], [[2, 0], [1, 0]],
        ...                      [0, 0], [0, 0], v)
        >>> ix.search(np.array([0.0, 1.0], np.float32), k=1).ids.tolist()
        [2]
        """
        self = cls(n_views=n_views, with_texture=with_texture, positional=positional)
        ids = np.asarray(ids, np.int64)
        n = ids.size
        vectors = np.asarray(vectors)
        dim = vectors.shape[-1] if n else 0
        st = _Rows(max(64, n + n // 4), n_views, dim, with_texture)
        if n:
            tags = np.asarray(tags, np.int32).reshape(n, 2)
            order = self._layout_order(ids, tags)
            st.ids[:n] = ids[order]
            st.signs[:n] = np.asarray(signs, object)[order]
            st.briefs[:n] = np.asarray(briefs, object)[order]
            st.tags[:n] = tags[order]
            st.phash[:n] = np.asarray(phash, np.uint64)[order]
            st.dhash[:n] = np.asarray(dhash, np.uint64)[order]
            vectors = vectors.reshape(n, n_views, dim)
            # Reorder and widen to float32 a block at a time: no full-size temporary.
            for start in range(0, n, _LOAD_BLOCK):
                end = min(n, start + _LOAD_BLOCK)
                st.vectors[start:end] = vectors[order[start:end]]
            if st.texture is not None:
                st.texture[:n] = np.asarray(texture, np.float32).reshape(n, -1)[order]
            st.alive[:n] = True
        st.n = n
        self._set_groups(st, n)
        self._st = st
        self._pos = dict(zip(st.ids[:n].tolist(), range(n), strict=True))
        return self

    # -- the protocol -------------------------------------------------------------------------

    @property
    def dim(self) -> int | None:
        return self._st.vectors.shape[2] or None

    def __len__(self) -> int:
        st = self._st
        return st.n - st.n_dead

    def nbytes(self, *, headroom: bool = True) -> int:
        """Bytes held: the arrays (at their allocated capacity, or at the rows used with
        ``headroom=False``), the sign and brief strings and the int8 scans of filters."""
        st = self._st
        strings = sum(
            sys.getsizeof(s) + sys.getsizeof(b)
            for s, b in zip(st.signs[: st.n].tolist(), st.briefs[: st.n].tolist(), strict=True)
        )
        arrays = st.nbytes()
        if not headroom:
            arrays = arrays * st.n // st.cap
        return arrays + strings + st.coarse.nbytes

    def add(self, item: IndexItem) -> None:
        """Append one row (the caller serialises writers)."""
        st = self._st
        vectors = np.asarray(item.vectors, np.float32).reshape(self.n_views, -1)
        if st.vectors.shape[2] == 0:  # the first vector of an empty index fixes the width
            st = _Rows(st.cap, self.n_views, vectors.shape[1], self.with_texture)
        elif st.n == st.cap:
            st = self._regrouped(st, capacity=2 * st.cap)
        i = st.n
        st.ids[i] = item.id
        st.signs[i] = item.cont_sign
        st.briefs[i] = item.brief
        st.tags[i] = item.slots
        st.phash[i] = item.phash
        st.dhash[i] = item.dhash
        st.vectors[i] = vectors
        if st.texture is not None and item.texture is not None:
            st.texture[i] = item.texture
        st.alive[i] = True
        new = st.copy_meta()
        new.n = i + 1
        self._pos[item.id] = i
        ungrouped = new.n - new.grouped
        if new.n >= _RELAYOUT_MIN and ungrouped > _RELAYOUT_SHARE * max(new.grouped, 1):
            new = self._regrouped(new, capacity=new.cap)
        self._st = new

    def remove(self, ids) -> None:
        """Forget rows by store id (unknown ids are ignored)."""
        rows = [self._pos.pop(int(i)) for i in ids if int(i) in self._pos]
        if not rows:
            return
        st = self._st.copy_meta()
        st.alive = st.alive.copy()
        st.alive[rows] = False
        st.n_dead += len(rows)
        if st.n_dead > max(1024, st.n // 4):
            st = self._regrouped(st, capacity=st.cap)
        self._st = st

    def update(self, id: int, *, brief: str | None = None, slots=None) -> None:
        """Change a row's brief and/or slots (a re-tagged row moves to the tail)."""
        r = self._pos.get(int(id))
        if r is None:
            return
        st = self._st
        if slots is not None and tuple(st.tags[r].tolist()) != tuple(slots):
            # Its tag group no longer describes it: the row is added again at the end.
            texture = None if st.texture is None else st.texture[r].copy()
            item = IndexItem(int(id), st.signs[r], st.briefs[r] if brief is None else brief,
                             tuple(slots), int(st.phash[r]), int(st.dhash[r]),
                             st.vectors[r].copy(), texture)  # fmt: skip
            self.remove([id])
            self.add(item)
            return
        if brief is not None:
            new = st.copy_meta()
            new.briefs = st.briefs.copy()
            new.briefs[r] = brief
            self._st = new

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
        """
        st = self._st
        matrix = st.vectors if field == "embedding" else st.texture
        if matrix is None:
            raise InvalidParameter(f"this index holds no {field} vectors", name="field")
        query = np.asarray(query, np.float32)
        if st.n == 0 or matrix.shape[-1] == 0:
            empty = np.zeros(0, np.int64)
            return Matches(empty, np.zeros(0, np.float32), 0, _RowRef(st, empty))
        if query.shape[0] != matrix.shape[-1]:
            raise InvalidParameter(f"query {field} has {query.shape[0]} values, the gallery "
                                   f"holds {matrix.shape[-1]}", name=field)  # fmt: skip
        runs, tail = self._select(st, where)
        if k is not None and field == "embedding" and where is not None:
            found = self._two_pass(st, runs, tail, query, k, clip)
            if found is not None:
                return found
        positions, scores = score_rows(matrix[: st.n], runs, tail, query)
        if st.n_dead:
            keep = st.alive[positions]
            positions, scores = positions[keep], scores[keep]
        if clip is not None:
            np.clip(scores, clip[0], clip[1], out=scores)
        ids = st.ids[positions]
        if k is None:
            order = np.argsort(ids, kind="stable")
            return Matches(ids[order], scores[order], ids.size, _RowRef(st, positions[order]))
        return top_k(Matches(ids, scores, ids.size, _RowRef(st, positions)), k)

    def _two_pass(self, st: _Rows, runs, tail, query, k: int, clip) -> Matches | None:
        """The best ``k`` of a large search: int8 scan, then exact float32 scores of the
        ``CANDIDATES_PER_HIT * k`` best (:mod:`~vislab.engine.gallery.coarse`); None when the
        search is small, unfiltered (one pass over every row has no waste), multi-view, its filter is new to this layout (its int8 copy is made
        the second time it is asked for: :class:`~vislab.engine.gallery.coarse.ScanCache`),
        or its cut lies on the clip ceiling (ties decided by id
        there need every tied row, so the one-pass search answers)."""
        lengths = runs[:, 1] - runs[:, 0]
        m_runs = int(lengths.sum())
        count = CANDIDATES_PER_HIT * k + 64
        if (self.n_views != 1 or query.ndim != 1 or m_runs < coarse.MIN_ROWS
                or 4 * count > m_runs):  # fmt: skip
            return None
        scan = st.coarse.get(st.vectors[: st.grouped, 0], runs.tolist())
        if scan is None:
            return None
        approx = scan.scores(query)
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        run_rows = np.repeat(runs[:, 0] - offsets[:-1], lengths) + np.arange(m_runs)
        total = m_runs + tail.size
        if st.n_dead:
            dead = ~st.alive[run_rows]
            approx[dead] = -np.inf
            total -= int(dead.sum()) + int((~st.alive[tail]).sum())
        # In row order: the gather then walks memory forwards (measured ~1.3x faster).
        picked = run_rows[np.sort(coarse.candidates(approx, count))]
        positions = np.concatenate((picked, tail))
        positions, scores = score_rows(st.vectors[: st.n], np.zeros((0, 2), np.int64),
                                       positions, query)  # fmt: skip
        if st.n_dead:
            keep = st.alive[positions]
            positions, scores = positions[keep], scores[keep]
        if clip is not None:
            np.clip(scores, clip[0], clip[1], out=scores)
        best = top_k(Matches(st.ids[positions], scores, total, _RowRef(st, positions)), k)
        if clip is not None and best.scores.size and best.scores[-1] >= clip[1]:
            return None
        return best

    def payload(self, matches: Matches, *names: str) -> tuple:
        """Columns of the matched rows, in match order: ``cont_sign``, ``brief``, ``slots``
        (``(m, 2)`` ints, 0 = empty), ``phash``, ``dhash``."""
        st, rows = matches.ref.rows, matches.ref.positions
        columns = {"cont_sign": st.signs, "brief": st.briefs, "slots": st.tags,
                   "phash": st.phash, "dhash": st.dhash}  # fmt: skip
        return tuple(columns[n][rows] for n in names)

    # -- layout -------------------------------------------------------------------------------

    def _layout_order(self, ids: np.ndarray, tags: np.ndarray) -> np.ndarray:
        lo, hi = self._group_key(tags)
        return np.lexsort((ids, hi, lo))

    def _group_key(self, tags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.positional:
            return tags[:, 0], tags[:, 1]
        return np.minimum(tags[:, 0], tags[:, 1]), np.maximum(tags[:, 0], tags[:, 1])

    def _set_groups(self, st: _Rows, m: int) -> None:
        """Record the row range of each tag group of the (sorted) rows ``0..m-1``."""
        lo, hi = self._group_key(st.tags[:m])
        if m:
            cut = np.flatnonzero((np.diff(lo) != 0) | (np.diff(hi) != 0)) + 1
            starts = np.concatenate(([0], cut)).astype(np.int64)
            ends = np.concatenate((starts[1:], [m])).astype(np.int64)
        else:
            starts = ends = np.zeros(0, np.int64)
        st.group_starts, st.group_ends = starts, ends
        st.group_keys = np.stack((lo[starts], hi[starts]), axis=1).astype(np.int32)
        st.grouped = m

    def _select(self, st: _Rows, where: TagFilter | None) -> tuple[np.ndarray, np.ndarray]:
        """Runs ``(m, 2)`` of grouped rows and the tail rows that pass ``where``."""
        if where is None:
            return np.array([[0, st.n]], np.int64), np.zeros(0, np.int64)
        hit = where.matches(st.group_keys)
        starts, ends = st.group_starts[hit], st.group_ends[hit]
        if starts.size > 1:  # neighbouring groups form one run
            cut = np.flatnonzero(starts[1:] != ends[:-1]) + 1
            starts = starts[np.concatenate(([0], cut))]
            ends = ends[np.concatenate((cut - 1, [ends.size - 1]))]
        tail = st.grouped + np.flatnonzero(where.matches(st.tags[st.grouped : st.n]))
        return np.stack((starts, ends), axis=1), tail

    def _regrouped(self, st: _Rows, *, capacity: int) -> _Rows:
        """A new matrix of the live rows, grouped by tags (stable by id), of ``capacity`` rows."""
        live = np.flatnonzero(st.alive[: st.n])
        order = live[self._layout_order(st.ids[live], st.tags[live])]
        m = order.size
        new = _Rows(max(capacity, m + 1), self.n_views, st.vectors.shape[2], self.with_texture)
        new.ids[:m] = st.ids[order]
        new.signs[:m] = st.signs[order]
        new.briefs[:m] = st.briefs[order]
        new.tags[:m] = st.tags[order]
        new.phash[:m] = st.phash[order]
        new.dhash[:m] = st.dhash[order]
        np.take(st.vectors, order, axis=0, out=new.vectors[:m])
        if st.texture is not None:
            new.texture[:m] = st.texture[order]
        new.alive[:m] = True
        new.n = m
        self._set_groups(new, m)
        self._pos = dict(zip(new.ids[:m].tolist(), range(m), strict=True))
        return new
