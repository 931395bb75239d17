"""Area, bounding box, union and IoU of run-length masks, vectorised over many masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vislab.masks._codec import Runs, intervals

_UINT = 2**32


def runs_area(runs: Runs) -> np.ndarray:
    """Foreground pixels of each mask (the odd runs' sum, as ``rleArea``)."""
    odd = runs.position() % 2 == 1
    return np.bincount(runs.owner()[odd], weights=runs.counts[odd], minlength=len(runs)).astype(
        np.int64
    )


def runs_bbox(runs: Runs) -> np.ndarray:
    """``[x, y, w, h]`` of each mask exactly as ``rleToBbox`` computes it (float64, (n, 4)).

    Only an even number of runs counts (a trailing background run is ignored); a run that
    crosses a column makes the box span the whole height; a mask with fewer than two runs
    gets ``[0, 0, 0, 0]``.  The C code works in 32-bit unsigned integers, and so does this.
    """
    n = len(runs)
    lens = runs.lengths()
    m_even = (lens // 2) * 2
    pos = runs.position()
    use = pos < np.repeat(m_even, lens)
    owner = runs.owner()
    cc = np.zeros(len(runs.counts), dtype=np.int64)
    if len(cc):
        first = pos == 0
        cs = np.cumsum(runs.counts)
        cc = cs - np.repeat((cs - runs.counts)[first], lens[lens > 0])
    h = np.repeat(runs.heights, lens)
    t = (cc - pos % 2) % _UINT
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(h > 0, t % np.maximum(h, 1), 0)
        x = np.where(h > 0, (t - y) // np.maximum(h, 1), 0)
    # A foreground run (odd position) whose end lies in a later column than its start.
    odd = (pos % 2 == 1) & use
    prev_x = np.append(0, x[:-1])
    spans = np.zeros(n, dtype=bool)
    spans[owner[odd & (prev_x < x)]] = True
    big = np.int64(2**62)
    xs = np.full(n, big)
    xe = np.full(n, -1)
    ys = np.full(n, big)
    ye = np.full(n, -1)
    ou, xu, yu = owner[use], x[use], y[use]
    if len(ou):
        # The used runs of a mask are contiguous (a prefix of its runs): reduce per segment.
        seg = np.flatnonzero(np.append(True, ou[1:] != ou[:-1]))
        who = ou[seg]
        xs[who] = np.minimum.reduceat(xu, seg)
        xe[who] = np.maximum.reduceat(xu, seg)
        ys[who] = np.minimum.reduceat(yu, seg)
        ye[who] = np.maximum.reduceat(yu, seg)
    ys = np.where(spans, 0, ys)
    ye = np.where(spans, runs.heights - 1, ye)
    out = np.stack([xs, ys, (xe - xs + 1) % _UINT, (ye - ys + 1) % _UINT], axis=1).astype(float)
    out[m_even == 0] = 0.0
    return out


def union_runs(runs: Runs, groups: np.ndarray, n_groups: int) -> Runs:
    """Union of the masks of each group (``maskApi``'s ``rleMerge``), canonical runs.

    Every group must hold masks of one size; a group with one mask keeps its runs untouched,
    as ``rleMerge`` does (and only groups of several masks are merged at all).
    """
    groups = np.asarray(groups, dtype=np.int64)
    count = np.bincount(groups, minlength=n_groups)
    single = count == 1
    index = np.zeros(n_groups, dtype=np.int64)  # row of each group in the combined table
    index[groups[single[groups]]] = np.flatnonzero(single[groups])
    multi_masks = np.flatnonzero(~single[groups])
    if len(multi_masks) == 0:
        return runs.take(index)
    multi_groups, inverse = np.unique(groups[multi_masks], return_inverse=True)
    merged = _union_all(runs.take(multi_masks), inverse, len(multi_groups))
    index[multi_groups] = len(runs) + np.arange(len(multi_groups))
    return Runs.concat([runs, merged]).take(index)


def _union_all(runs: Runs, groups: np.ndarray, n_groups: int) -> Runs:
    """Canonical runs of the union of each group's masks (every group non-empty)."""
    groups = np.asarray(groups, dtype=np.int64)
    size_h = np.zeros(n_groups, dtype=np.int64)
    size_w = np.zeros(n_groups, dtype=np.int64)
    size_h[groups] = runs.heights
    size_w[groups] = runs.widths
    start, end, owner = intervals(runs)
    g = groups[owner]
    hw = size_h * size_w
    order = np.lexsort((start, g))
    start, end, g = start[order], end[order], g[order]
    big = np.int64(int(hw.max()) + 1 if len(hw) else 1)
    reach = np.maximum.accumulate(g * big + end) - g * big if len(end) else end
    new = np.ones(len(start), dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (start[1:] > reach[:-1])
    first = np.flatnonzero(new)
    m_start = start[first]
    m_end = np.maximum.reduceat(end, first) if len(first) else end
    m_g = g[first]
    # Runs: background before each interval, the interval, then the rest of the image.
    k = np.bincount(m_g, minlength=n_groups)
    prev_end = np.append(0, m_end[:-1])
    first_of_g = np.ones(len(m_g), dtype=bool)
    first_of_g[1:] = m_g[1:] != m_g[:-1]
    prev_end = np.where(first_of_g, 0, prev_end)
    bg = m_start - prev_end
    fg = m_end - m_start
    last_end = np.zeros(n_groups, dtype=np.int64)
    last_end[m_g] = m_end
    tail = hw - last_end
    pieces_owner = np.concatenate([np.repeat(m_g, 2), np.arange(n_groups)])
    pieces = np.concatenate([np.stack([bg, fg], axis=1).ravel(), tail])
    rank = np.concatenate([np.arange(2 * len(m_g)), np.full(n_groups, 2 * len(m_g) + 1)])
    keep = np.ones(len(pieces), dtype=bool)
    # No trailing background run when the union reaches the last pixel (and none is empty).
    keep[2 * len(m_g) :] = (tail > 0) | (k == 0)
    order = np.lexsort((rank[keep], pieces_owner[keep]))
    counts = pieces[keep][order]
    cnt = np.bincount(pieces_owner[keep], minlength=n_groups)
    merged = Runs(size_h, size_w, counts.astype(np.int64), np.append(0, np.cumsum(cnt)))
    return merged


@dataclass
class MaskTable:
    """Masks ready for many IoUs: runs, areas, boxes and foreground intervals, computed once.

    Attributes
    ----------
    runs : Runs
    area : int64 array
    columns : int64 array, shape (n, 2)
        First and last column holding a foreground pixel (``[0, -1]`` for an empty mask).
    start, end : int64 arrays
        Foreground intervals ``[start, end)`` (column-major pixel index), by mask then start.
    offsets : int64 array
        Intervals of mask ``i`` are ``offsets[i]:offsets[i + 1]``.
    """

    runs: Runs
    area: np.ndarray
    columns: np.ndarray
    start: np.ndarray
    end: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of(cls, runs: Runs) -> MaskTable:
        """Build the table of ``runs``."""
        start, end, owner = intervals(runs)
        cnt = np.bincount(owner, minlength=len(runs))
        offsets = np.append(0, np.cumsum(cnt))
        area = np.bincount(owner, weights=end - start, minlength=len(runs)).astype(np.int64)
        # Intervals are sorted: a mask's first starts in its first column, its last ends in
        # its last one.
        columns = np.tile(np.array([0, -1], dtype=np.int64), (len(runs), 1))
        has = cnt > 0
        h = np.maximum(runs.heights[has], 1)
        columns[has, 0] = start[offsets[:-1][has]] // h
        columns[has, 1] = (end[offsets[1:][has] - 1] - 1) // h
        return cls(runs, area, columns, start, end, offsets)


def shared_pixels(a: MaskTable, ai: np.ndarray, b: MaskTable, bi: np.ndarray) -> np.ndarray:
    """Pixels in both ``a[ai[j]]`` and ``b[bi[j]]``, all pairs in one pass.

    ``cover(q)``: pixels of a ``b`` mask before position ``q``, from one ``searchsorted`` into
    all of ``b``'s intervals keyed by (mask, position).  Each interval ``[s, e)`` of the ``a``
    mask of a pair adds ``cover(e) - cover(s)``.
    """
    ai = np.asarray(ai, dtype=np.int64)
    bi = np.asarray(bi, dtype=np.int64)
    hw_a = (a.runs.heights * a.runs.widths).max(initial=0)
    hw_b = (b.runs.heights * b.runs.widths).max(initial=0)
    span = np.int64(max(int(hw_a), int(hw_b)) + 1)
    owner_b = np.repeat(np.arange(len(b.offsets) - 1), np.diff(b.offsets))
    ks = np.append(owner_b * span + b.start, np.iinfo(np.int64).max)
    ke = owner_b * span + b.end
    lcum = np.append(0, np.cumsum(b.end - b.start))

    take = a.offsets[ai + 1] - a.offsets[ai]
    pair = np.repeat(np.arange(len(ai)), take)
    first = np.repeat(a.offsets[ai] - (np.cumsum(take) - take), take)
    rows = np.arange(int(take.sum())) + first
    base = bi[pair] * span

    def cover(q):
        j = np.searchsorted(ke, q, side="right")
        return lcum[j] + np.maximum(0, q - ks[j])

    shared = cover(base + a.end[rows]) - cover(base + a.start[rows])
    return np.bincount(pair, weights=shared, minlength=len(ai)).astype(np.int64)


def table_iou(a: MaskTable, ai, b: MaskTable, bi, crowd=None) -> np.ndarray:
    """IoU of ``a[ai[j]]`` with ``b[bi[j]]`` exactly as ``rleIou`` (float64).

    Pairs whose masks share no column share no pixel and get 0 without further work (as in
    maskApi, whose boxes test comes first).  For a crowd region of ``b`` the union is the
    area of the ``a`` mask; no overlap gives 0.
    """
    ai = np.asarray(ai, dtype=np.int64)
    bi = np.asarray(bi, dtype=np.int64)
    out = np.zeros(len(ai), dtype=float)
    ca, cb = a.columns[ai], b.columns[bi]
    sel = np.flatnonzero((ca[:, 0] <= cb[:, 1]) & (cb[:, 0] <= ca[:, 1]))
    if len(sel) == 0:
        return out
    d, g = ai[sel], bi[sel]
    inter = shared_pixels(a, d, b, g)
    area_d = a.area[d]
    union = area_d + b.area[g] - inter
    if crowd is not None:
        union = np.where(np.asarray(crowd, dtype=bool)[g], area_d, union)
    union = np.where(inter == 0, 1, union)
    out[sel] = inter.astype(float) / union.astype(float)  # (double)i / (double)u in maskApi
    return out
