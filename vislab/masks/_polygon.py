"""Polygons (and boxes) to run lengths, pixel for pixel as pycocotools' ``rleFrPoly``.

COCO's truth masks are polygons; the segm metric is only equal to pycocotools if they are
rasterised exactly as ``maskApi.c`` does it.  Its steps, repeated here with numpy over all
polygons at once (no loop over polygons or points):

1. vertices scaled by 5 and rounded with C's ``(int)(v + .5)`` (truncation toward zero);
2. every edge walked densely along its longer axis (with its ``flip`` and its slope);
3. the points where the walk changes column, downsampled back to pixel columns, give one
   boundary (column, row) each; the boundaries, sorted, are the run lengths;
4. zero-length runs are merged away by ``maskApi.c``'s own rule (a zero run joins the next
   run to the one before it).

The C code divides 0 by 0 for an edge between two equal vertices and casts the NaN to int;
on x86-64 that gives ``INT_MIN``, which is reproduced explicitly.
"""

from __future__ import annotations

import numpy as np

from vislab.masks._codec import Runs

_SCALE = 5.0
_INT_MIN = np.int64(-(2**31))


def _c_int(values: np.ndarray) -> np.ndarray:
    """C's ``(int)`` of doubles: truncation toward zero, NaN as x86-64's ``INT_MIN``."""
    out = np.full(values.shape, _INT_MIN, dtype=np.int64)
    ok = np.isfinite(values)
    out[ok] = np.trunc(values[ok]).astype(np.int64)
    return out


def polygon_runs(polys: list[np.ndarray], heights: np.ndarray, widths: np.ndarray) -> Runs:
    """Run lengths of each polygon (flat ``[x0, y0, x1, y1, ...]`` arrays) in its h x w image.

    Parameters
    ----------
    polys : list of 1-d float arrays
        One polygon each (at least 3 points: 6 numbers).
    heights, widths : int arrays
        The image size of each polygon.

    Returns
    -------
    Runs
    """
    n = len(polys)
    heights = np.asarray(heights, dtype=np.int64)
    widths = np.asarray(widths, dtype=np.int64)
    if n == 0:
        return Runs(heights, widths, np.zeros(0, np.int64), np.zeros(1, np.int64))
    k = np.fromiter((len(p) // 2 for p in polys), dtype=np.int64, count=n)
    xy = np.concatenate([np.asarray(p, dtype=float)[: 2 * (len(p) // 2)] for p in polys])
    vx = _c_int(_SCALE * xy[0::2] + 0.5)
    vy = _c_int(_SCALE * xy[1::2] + 0.5)
    # Edges j -> j + 1, the last vertex joined to the first.
    v_start = np.cumsum(k) - k
    poly_of_v = np.repeat(np.arange(n), k)
    nxt = np.arange(len(vx)) + 1
    last = v_start + k - 1
    nxt[last] = v_start
    xs, ys, xe, ye = vx, vy, vx[nxt], vy[nxt]
    dx, dy = np.abs(xe - xs), np.abs(ys - ye)
    major_x = dx >= dy
    flip = (major_x & (xs > xe)) | (~major_x & (ys > ye))
    xs, xe = np.where(flip, xe, xs), np.where(flip, xs, xe)
    ys, ye = np.where(flip, ye, ys), np.where(flip, ys, ye)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(major_x, (ye - ys) / dx, (xe - xs) / dy)
    xcol, yrow, owner = _column_steps(xs, ys, dx, dy, s, major_x, poly_of_v)
    hh = heights[owner].astype(float)
    keep = (xcol >= 0) & (xcol <= widths[owner] - 1)
    yd = (yrow.astype(float) + 0.5) / _SCALE - 0.5
    yd = np.ceil(np.where(yd < 0, 0.0, np.where(yd > hh, hh, yd)))
    pj = owner[keep]
    a = (xcol[keep] * heights[pj] + yd[keep].astype(np.int64)) % 2**32

    # Boundaries per polygon, plus h * w as the last one; sorted; differences are the runs.
    # One sort of packed (polygon, boundary) keys: boundaries are below 2**32.
    hw = (heights * widths) % 2**32
    key = np.concatenate([(pj << 32) | a, (np.arange(n, dtype=np.int64) << 32) | hw])
    key.sort()
    owner = key >> 32
    a = key & 0xFFFFFFFF
    first = np.ones(len(a), dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    runs = a - np.where(first, 0, np.append(0, a[:-1]))

    # maskApi's merge of zero runs: the first run always stays; after it, in every stretch of
    # zeros the 1st, 3rd, ... are dropped and each drops the element after it into the run
    # before (an even stretch thus ends at a zero, an odd one swallows the next run).
    zero = np.flatnonzero((runs == 0) & ~first)
    if len(zero):
        # Rank of each zero in its stretch of consecutive zeros (of one polygon).
        new = np.ones(len(zero), dtype=bool)
        new[1:] = (zero[1:] != zero[:-1] + 1) | first[zero[1:]]
        stretch = np.flatnonzero(new)
        rank = np.arange(len(zero)) - np.repeat(stretch, np.diff(np.append(stretch, len(zero))))
        skip = zero[rank % 2 == 0]
        gone = np.zeros(len(a), dtype=bool)
        gone[skip] = True
        after = skip + 1
        after = after[after < len(a)]
        gone[after[~first[after]]] = True
        starts = np.flatnonzero(~gone)
        counts = np.add.reduceat(runs, starts)
        m = np.bincount(owner[starts], minlength=n)
    else:
        counts = runs
        m = np.bincount(owner, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(m)]).astype(np.int64)
    return Runs(heights, widths, counts.astype(np.int64), offsets)


def _c_walk(start, s, t) -> np.ndarray:
    """``(int)(start + s * t + .5)``: a dense boundary point of maskApi's edge walk.

    Only called on edges with a finite slope; numpy's float -> int64 cast truncates toward
    zero as C's does.
    """
    return (start + s * t + 0.5).astype(np.int64)


def _column_steps(xs, ys, dx, dy, s, major_x, poly):
    """The steps of maskApi's dense boundary walk that give a boundary point, directly.

    The walk visits ``max(dx, dy) + 1`` points per edge on the 5x grid, but only a step
    between two points whose columns differ, the lower one being a pixel centre
    (``5 X + 2``), yields a point (column ``X``; row from the lower of the two rows).  Those
    steps are computed here without visiting the rest: on an x-major edge the column moves
    by one every step; on a y-major edge it is monotone in the step, so the step where it
    passes each pixel centre is found by bisection on the exact C expression.  (Steps across
    two edges never change column at a non-negative vertex; at a negative one the column is
    out of the image.)  Returns ``(X, lower row on the 5x grid, polygon)`` per point.
    """
    # x-major edges: u(t) = xs + t; the step t -> t + 1 has lower column xs + t.
    ex = np.flatnonzero(major_x & (dx > 0))
    t0 = (2 - xs[ex]) % 5
    nx = np.maximum(0, (dx[ex] - t0 + 4) // 5)
    e = np.repeat(ex, nx)
    t = np.repeat(t0, nx) + 5 * (np.arange(int(nx.sum())) - np.repeat(np.cumsum(nx) - nx, nx))
    col_x = (xs[e] + t - 2) // 5
    row_x = np.minimum(_c_walk(ys[e], s[e], t), _c_walk(ys[e], s[e], t + 1))
    poly_x = poly[e]

    # y-major edges: u(t) = (int)(xs + s t + .5), monotone; v(t) = ys + t increasing.
    ey = np.flatnonzero(~major_x)
    u0 = _c_walk(xs[ey], s[ey], np.zeros(len(ey)))
    u1 = _c_walk(xs[ey], s[ey], dy[ey].astype(float))
    lo, hi = np.minimum(u0, u1), np.maximum(u0, u1)
    first = lo + (2 - lo) % 5  # the lowest column 5X + 2 >= lo
    ny = np.maximum(0, (hi - first + 4) // 5)  # columns c with lo <= c < hi
    e = np.repeat(ey, ny)
    c = np.repeat(first, ny) + 5 * (np.arange(int(ny.sum())) - np.repeat(np.cumsum(ny) - ny, ny))
    rising = np.repeat(u1 > u0, ny)
    # Smallest t in [1, dy] with u(t) >= c + 1 (rising) or u(t) <= c (falling): estimated
    # from the line (trunc moves at c + 1 for c >= 0, at c below), then corrected one step at
    # a time on the exact C expression (u is monotone in t).
    xs_e, s_e, dy_e = xs[e], s[e], dy[e]
    edge = np.where(c >= 0, c + 1, c).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        guess = np.ceil((edge - 0.5 - xs_e) / s_e)
    t = np.clip(np.nan_to_num(guess, nan=1.0), 1, dy_e).astype(np.int64)

    def past(tt):
        u = _c_walk(xs_e, s_e, tt.astype(float))
        return np.where(rising, u >= c + 1, u <= c)

    for _ in range(64):
        up = ~past(t)  # not there yet
        down = ~up & (t > 1) & past(t - 1)  # already there one step earlier
        if not (up.any() or down.any()):
            break
        t = t + up - down
    else:  # pragma: no cover - the estimate is within a step or two of the answer
        raise RuntimeError("polygon rasterisation did not converge")
    left = t
    col_y = (c - 2) // 5
    row_y = ys[e] + left - 1
    poly_y = poly[e]
    return (
        np.concatenate([col_x, col_y]),
        np.concatenate([row_x, row_y]),
        np.concatenate([poly_x, poly_y]),
    )


def box_polygons(boxes: np.ndarray) -> list[np.ndarray]:
    """The four-corner polygon ``rleFrBbox`` rasterises for each ``[x, y, w, h]`` box."""
    b = np.asarray(boxes, dtype=float).reshape(-1, 4)
    xs, ys = b[:, 0], b[:, 1]
    xe, ye = xs + b[:, 2], ys + b[:, 3]
    return list(np.stack([xs, ys, xs, ye, xe, ye, xe, ys], axis=1))
