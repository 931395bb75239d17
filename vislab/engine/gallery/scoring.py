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

import numpy as np

__all__ = ["score_rows", "matvec"]

# Scattered rows are gathered into cache-sized blocks of this many rows before the product.
_GATHER_ROWS = 256
# Runs shorter than this on average are gathered rather than multiplied run by run.
_MIN_RUN = 32
_HAS_VECDOT = hasattr(np, "vecdot")


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
        _block_scores(flat[s:e], query, out)
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
        _block_scores(flat[:top], query, every)
        np.take(every, positions, out=out)
        return positions, out
    if m_runs and m_runs < _MIN_RUN * runs.shape[0]:
        gather = positions  # many short runs: gather them all
    else:
        gather = tail
        for (s, e), o in zip(runs.tolist(), offsets[:-1].tolist(), strict=True):
            _block_scores(flat[s:e], query, out[o : o + e - s])
    base = m - gather.size
    if gather.size:
        buf = np.empty((min(_GATHER_ROWS, gather.size),) + flat.shape[1:], np.float32)
        for s in range(0, gather.size, _GATHER_ROWS):
            part = gather[s : s + _GATHER_ROWS]
            block = buf[: part.size]
            np.take(flat, part, axis=0, out=block)
            _block_scores(block, query, out[base + s : base + s + part.size])
    return positions, out
