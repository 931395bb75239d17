"""Inner products of stored rows with a query: the hot loop of every gallery search.

A search multiplies the rows that pass its filter by the query.  The rows come as runs of
consecutive row numbers (tag groups, see :mod:`vislab.engine.gallery.index`) and a few
scattered ones; runs are multiplied where they lie, scattered rows are gathered into
cache-sized blocks first.

Examples
--------
>>> m = np.eye(4, dtype=np.float32)[:, None, :]
>>> rows, s = score_rows(m, np.array([[1, 3]]), np.array([0]), np.ones(4, np.float32))
>>> rows.tolist(), s.tolist()
([1, 2, 0], [1.0, 1.0, 1.0])
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["score_rows", "matvec", "SEARCH_THREADS"]

# Scattered rows are gathered into cache-sized blocks of this many rows before the product.
_GATHER_ROWS = 256
# Runs shorter than this on average are gathered rather than multiplied run by run.
_MIN_RUN = 32
_HAS_VECDOT = hasattr(np, "vecdot")
#: Threads that share the products of one large search (the caller's thread and helpers).
SEARCH_THREADS = max(1, min(2, os.cpu_count() or 1))
# Products of fewer values than this run on the caller's thread alone (handing work over
# costs ~50 us); rows are handed out in pieces of _PIECE_ROWS.
_PARALLEL_MIN = 2_000_000
_PIECE_ROWS = 1024
_helpers: ThreadPoolExecutor | None = None
_helpers_lock = threading.Lock()


def matvec(matrix: np.ndarray, vector: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:] = matrix @ vector`` on the calling thread.

    numpy's ``vecdot`` runs a SIMD dot per row on the calling thread.  BLAS ``gemv`` splits
    the rows over its thread pool, which helps little here (the product is memory-bound) and
    hurts a lot when another process occupies a core: a search then waits for a descheduled
    BLAS thread (measured on 2 busy cores: 20k x 1280 rows 7 ms with gemv, 3 ms with vecdot).

    Examples
    --------
    >>> out = np.empty(2, np.float32)
    >>> matvec(np.eye(2, dtype=np.float32), np.array([2.0, 3.0], np.float32), out).tolist()
    [2.0, 3.0]
    """
    if _HAS_VECDOT:
        return np.vecdot(matrix, vector, out=out)
    return np.matmul(matrix, vector, out=out)  # numpy < 2.0


class _Pieces:
    """Row ranges scored by whichever thread claims them first.

    Pieces are claimed one at a time from a shared counter, so a helper thread that the OS
    does not schedule (another process busy on the other core) delays a search by at most
    the piece it holds: the caller's thread takes every piece left.
    """

    def __init__(self, flat, query, pieces, out):
        self.flat, self.query, self.pieces, self.out = flat, query, pieces, out
        self._next = itertools.count()
        self._left = len(pieces)
        self._done = threading.Condition()
        self.error: BaseException | None = None

    def work(self) -> None:
        while True:
            i = next(self._next)  # atomic under the GIL
            if i >= len(self.pieces):
                return
            s, e, o = self.pieces[i]
            try:
                _block_scores(self.flat[s:e], self.query, self.out[o : o + e - s])
            except BaseException as exc:  # pragma: no cover - re-raised by the caller
                self.error = exc
            with self._done:
                self._left -= 1
                if self._left == 0:
                    self._done.notify_all()

    def wait(self) -> None:
        with self._done:
            while self._left:
                self._done.wait()
        if self.error is not None:
            raise self.error


def _score_runs(flat, query, runs: list[tuple[int, int, int]], out: np.ndarray) -> None:
    """Score the row ranges ``(start, end, out_offset)``, split over SEARCH_THREADS threads."""
    size = sum(e - s for s, e, _ in runs) * flat.shape[1] * flat.shape[2]
    if SEARCH_THREADS < 2 or size < _PARALLEL_MIN:
        for s, e, o in runs:
            _block_scores(flat[s:e], query, out[o : o + e - s])
        return
    pieces = [(a, min(a + _PIECE_ROWS, e), o + a - s)
              for s, e, o in runs for a in range(s, e, _PIECE_ROWS)]  # fmt: skip
    job = _Pieces(flat, query, pieces, out)
    pool = _helper_pool()
    for _ in range(SEARCH_THREADS - 1):
        pool.submit(job.work)
    job.work()
    job.wait()


def _helper_pool() -> ThreadPoolExecutor:
    global _helpers
    with _helpers_lock:
        if _helpers is None:
            _helpers = ThreadPoolExecutor(SEARCH_THREADS - 1, thread_name_prefix="vislab-search")
        return _helpers


def _forget_helpers() -> None:
    # A forked child has the pool object but not its threads: make it start its own.
    global _helpers, _helpers_lock
    _helpers, _helpers_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


def _block_scores(block: np.ndarray, query: np.ndarray, out: np.ndarray) -> None:
    """Max over views (axis 1) and query vectors of ``block @ query``, one value per row."""
    if query.ndim == 1 and block.shape[1] == 1:
        matvec(block.reshape(block.shape[0], -1), query, out)
        return
    prod = block.reshape(-1, block.shape[-1]) @ query
    np.max(prod.reshape(block.shape[0], -1), axis=1, out=out)


def score_rows(
    matrix: np.ndarray, runs: np.ndarray, tail: np.ndarray, query: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers and scores of the rows in ``runs`` and ``tail``, in that order.

    Parameters
    ----------
    matrix : numpy.ndarray
        ``(n, V, D)`` or ``(n, D)`` float32 rows.
    runs : numpy.ndarray
        ``(r, 2)`` half-open ranges ``[start, end)`` of rows.
    tail : numpy.ndarray
        Further row numbers (scattered).
    query : numpy.ndarray
        ``(D,)``, or ``(D, Q)``: a row's score is its best product over views and queries.

    Returns
    -------
    rows : numpy.ndarray of int64
    scores : numpy.ndarray of float32

    Examples
    --------
    >>> m = np.arange(8, dtype=np.float32).reshape(4, 2)
    >>> rows, s = score_rows(m, np.array([[2, 4]]), np.array([], np.int64), np.ones(2, np.float32))
    >>> rows.tolist(), s.tolist()
    ([2, 3], [9.0, 13.0])
    """
    flat = matrix.reshape(matrix.shape[0], -1, matrix.shape[-1])
    lengths = runs[:, 1] - runs[:, 0]
    m_runs = int(lengths.sum())
    m = m_runs + tail.size
    out = np.empty(m, np.float32)
    if m == 0:
        return np.zeros(0, np.int64), out
    if runs.shape[0] == 1 and tail.size == 0:
        s, e = (int(v) for v in runs[0])
        _score_runs(flat, query, [(s, e, 0)], out)
        return np.arange(s, e, dtype=np.int64), out
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    positions = np.empty(m, np.int64)
    if m_runs:
        positions[:m_runs] = np.repeat(runs[:, 0] - offsets[:-1], lengths) + np.arange(m_runs)
    positions[m_runs:] = tail
    if m >= 0.6 * flat.shape[0]:
        # Most rows are wanted anyway: one product over everything beats gathering.
        top = int(positions.max()) + 1
        every = np.empty(top, np.float32)
        _score_runs(flat, query, [(0, top, 0)], every)
        np.take(every, positions, out=out)
        return positions, out
    if m_runs and m_runs < _MIN_RUN * runs.shape[0]:
        gather = positions  # many short runs: gather them all
    else:
        gather = tail
        starts_ends = runs.tolist()
        _score_runs(
            flat,
            query,
            [(s, e, o) for (s, e), o in zip(starts_ends, offsets[:-1].tolist(), strict=True)],
            out,
        )
    base = m - gather.size
    if gather.size:
        buf = np.empty((min(_GATHER_ROWS, gather.size),) + flat.shape[1:], np.float32)
        for s in range(0, gather.size, _GATHER_ROWS):
            part = gather[s : s + _GATHER_ROWS]
            block = buf[: part.size]
            np.take(flat, part, axis=0, out=block)
            _block_scores(block, query, out[base + s : base + s + part.size])
    return positions, out
