"""Box geometry shared by the whole library: one IoU, computed exactly as pycocotools does.

Every box here is ``x, y, w, h`` in pixels with a top-left origin (the canonical frames'
convention, DESIGN.md §2).  The arithmetic repeats pycocotools' C ``bbIou`` operation for
operation, so the values are bit-identical to COCO's and the evaluation in
:mod:`vislab.evaluate` equals pycocotools exactly; the local engine (duplicate boxes) and the
sample data (non-overlapping objects) use the same numbers.

This module needs numpy only: the engine imports it and must stay free of pandas and of
:mod:`vislab.evaluate`.

===========================  ==========================================================
function                     what it answers
===========================  ==========================================================
:func:`box_iou`              IoU matrix between two sets of boxes (N x M)
:func:`paired_iou`           IoU of box ``a[i]`` with box ``b[i]`` (N pairs)
:func:`iou_by_index`         IoU of pairs given as indices into two box tables (hot path)
===========================  ==========================================================
"""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "paired_iou", "iou_by_index"]


def iou_by_index(a_cols, b_cols, ai, bi, crowd=None) -> np.ndarray:
    """IoU of box ``ai[j]`` of table A with box ``bi[j]`` of table B, for every ``j``.

    The tables are given as four columns (``x, y, w, h``) so that the evaluation's hot loop
    can index them without copying whole boxes.  Pairs that do not overlap horizontally are
    dropped before the rest is computed, which skips most of the work on real data.

    Parameters
    ----------
    a_cols, b_cols : sequence of four 1-d float arrays
        ``x, y, w, h`` columns of each table.
    ai, bi : 1-d int arrays of equal length
        Row of table A and row of table B of each pair.
    crowd : 1-d bool array over table B, optional
        For a crowd region of B the union is the area of the A box (COCO's rule: what lies
        inside a crowd region is covered by it).

    Returns
    -------
    numpy.ndarray of float, shape (len(ai),)

    Examples
    --------
    >>> cols = [np.array([0.0, 5.0]), np.array([0.0, 0.0]), np.array([10.0, 10.0]),
    ...         np.array([10.0, 10.0])]
    >>> iou_by_index(cols, cols, np.array([0, 0]), np.array([0, 1])).round(3).tolist()
    [1.0, 0.333]
    """
    dx, dy, dw, dh = a_cols
    gx, gy, gw, gh = b_cols
    ai = np.asarray(ai, dtype=np.intp)
    bi = np.asarray(bi, dtype=np.intp)
    out = np.zeros(len(ai), dtype=float)
    x0, x1 = dx[ai], gx[bi]
    w = np.minimum(dw[ai] + x0, gw[bi] + x1) - np.maximum(x0, x1)
    sel = np.flatnonzero(w > 0)
    ai, bi, w = ai[sel], bi[sel], w[sel]
    y0, y1 = dy[ai], gy[bi]
    ddh, ggh = dh[ai], gh[bi]
    h = np.minimum(ddh + y0, ggh + y1) - np.maximum(y0, y1)
    ok = h > 0
    sel, ai, bi, w, h, ddh, ggh = sel[ok], ai[ok], bi[ok], w[ok], h[ok], ddh[ok], ggh[ok]
    da = dw[ai] * ddh
    ga = gw[bi] * ggh
    inter = w * h
    union = da + ga - inter
    if crowd is not None:
        union = np.where(np.asarray(crowd, dtype=bool)[bi], da, union)
    out[sel] = inter / union
    return out


def _as_boxes(boxes) -> np.ndarray:
    return np.asarray(boxes, dtype=float).reshape(-1, 4)


def paired_iou(boxes_a, boxes_b, *, crowd=None) -> np.ndarray:
    """IoU of ``boxes_a[i]`` with ``boxes_b[i]`` for every ``i`` (same length).

    Parameters
    ----------
    boxes_a, boxes_b : array-like, shape (N, 4)
        ``x, y, w, h`` boxes; a single box may be given as a flat sequence of four numbers.
    crowd : array-like of bool, shape (N,), optional
        Whether ``boxes_b[i]`` is a crowd region (the union is then the area of ``boxes_a[i]``).

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> paired_iou([[0, 0, 10, 10], [0, 0, 10, 10]], [[5, 0, 10, 10], [20, 20, 5, 5]]).round(3)
    array([0.333, 0.   ])
    >>> float(paired_iou((0, 0, 4, 4), (2, 0, 4, 4))[0])
    0.3333333333333333
    """
    a = _as_boxes(boxes_a)
    b = _as_boxes(boxes_b)
    if len(a) != len(b):
        raise ValueError(f"paired_iou needs as many boxes on each side, got {len(a)} and {len(b)}")
    n = np.arange(len(a))
    return iou_by_index(a.T, b.T, n, n, None if crowd is None else np.asarray(crowd, bool))


def box_iou(boxes_a, boxes_b, *, crowd=None) -> np.ndarray:
    """IoU matrix between two sets of ``x, y, w, h`` boxes, as pycocotools computes it.

    Parameters
    ----------
    boxes_a : array-like, shape (N, 4)
        Usually detections.
    boxes_b : array-like, shape (M, 4)
        Usually truth.
    crowd : array-like of bool, shape (M,), optional
        For crowd truth regions the union is the area of the box from ``boxes_a`` (COCO's rule:
        what lies inside a crowd region is covered by it).

    Returns
    -------
    numpy.ndarray, shape (N, M)

    Examples
    --------
    >>> box_iou([[0, 0, 10, 10]], [[5, 0, 10, 10], [0, 0, 10, 10]]).round(3).tolist()
    [[0.333, 1.0]]
    >>> box_iou([[0, 0, 10, 10]], [[0, 0, 100, 100]], crowd=[True]).tolist()
    [[1.0]]
    """
    a = _as_boxes(boxes_a)
    b = _as_boxes(boxes_b)
    ia, ib = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
    c = None if crowd is None else np.asarray(crowd, dtype=bool)
    return iou_by_index(a.T, b.T, ia.ravel(), ib.ravel(), c).reshape(len(a), len(b))
