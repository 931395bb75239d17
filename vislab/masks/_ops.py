"""Area, bounding box, union and IoU of run-length masks, vectorised over many masks."""

from __future__ import annotations

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
    np.minimum.at(xs, ou, xu)
    np.maximum.at(xe, ou, xu)
    np.minimum.at(ys, ou, yu)
    np.maximum.at(ye, ou, yu)
    ys = np.where(spans, 0, ys)
    ye = np.where(spans, runs.heights - 1, ye)
    out = np.stack([xs, ys, (xe - xs + 1) % _UINT, (ye - ys + 1) % _UINT], axis=1).astype(float)
    out[m_even == 0] = 0.0
    return out


def union_runs(runs: Runs, groups: np.ndarray, n_groups: int) -> Runs:
    """Union of the masks of each group (``maskApi``'s ``rleMerge``), canonical runs.

    Every group must hold masks of one size; a group with one mask keeps its runs untouched,
    as ``rleMerge`` does.
    """
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
    # rleMerge leaves a single mask as it is.
    single = np.bincount(groups, minlength=n_groups) == 1
    if single.any():
        merged = _replace_groups(merged, runs, groups, single)
    return merged


def _replace_groups(merged: Runs, runs: Runs, groups: np.ndarray, single: np.ndarray) -> Runs:
    parts, lens = [], []
    src = {int(gr): i for i, gr in enumerate(groups.tolist()) if single[gr]}
    for gr in range(len(merged)):
        if gr in src:
            parts.append(runs.counts_of(src[gr]))
        else:
            parts.append(merged.counts_of(gr))
        lens.append(len(parts[-1]))
    counts = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return Runs(merged.heights, merged.widths, counts, np.append(0, np.cumsum(lens)))


def pair_intersections(a: Runs, ai: np.ndarray, b: Runs, bi: np.ndarray) -> np.ndarray:
    """Pixels shared by mask ``a[ai[j]]`` and mask ``b[bi[j]]`` for every pair ``j``.

    All pairs at once: each pair's foreground intervals become +1 / -1 events at their ends,
    keyed by pair, sorted once; the stretches where the running sum is 2 are the overlap.
    """
    ai = np.asarray(ai, dtype=np.int64)
    bi = np.asarray(bi, dtype=np.int64)
    n = len(ai)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sa, ea, oa = intervals(a)
    sb, eb, ob = intervals(b)
    ev = []
    for s, e, o, idx, nm in ((sa, ea, oa, ai, len(a)), (sb, eb, ob, bi, len(b))):
        cnt = np.bincount(o, minlength=nm)
        off = np.append(0, np.cumsum(cnt))
        take = cnt[idx]
        pair = np.repeat(np.arange(n), take)
        rows = np.arange(int(take.sum())) - np.repeat(np.cumsum(take) - take, take)
        rows = rows + off[idx][pair]
        ev.append((pair, s[rows], e[rows]))
    pair = np.concatenate([ev[0][0], ev[1][0]])
    s = np.concatenate([ev[0][1], ev[1][1]])
    e = np.concatenate([ev[0][2], ev[1][2]])
    span = np.int64(
        max(
            int(a.heights.max(initial=0) * a.widths.max(initial=0)),
            int(b.heights.max(initial=0) * b.widths.max(initial=0)),
        )
        + 1
    )
    key = np.concatenate([pair * span + s, pair * span + e])
    step = np.concatenate([np.ones(len(s), np.int8), -np.ones(len(e), np.int8)])
    order = np.argsort(key, kind="stable")
    key, step = key[order], step[order]
    level = np.cumsum(step)
    # Between an event and the next one of the same pair, ``level`` masks cover the pixels.
    length = np.append(np.diff(key), 0)
    both = level == 2
    owner = key // span
    return np.bincount(owner[both], weights=length[both], minlength=n).astype(np.int64)


def pair_iou(a: Runs, ai, b: Runs, bi, crowd=None) -> np.ndarray:
    """IoU of ``a[ai[j]]`` with ``b[bi[j]]`` as ``rleIou`` computes it (float64).

    For a crowd region of ``b`` the union is the area of the ``a`` mask; no overlap gives 0.
    """
    ai = np.asarray(ai, dtype=np.int64)
    bi = np.asarray(bi, dtype=np.int64)
    inter = pair_intersections(a, ai, b, bi)
    area_a = runs_area(a)[ai]
    union = area_a + runs_area(b)[bi] - inter
    if crowd is not None:
        union = np.where(np.asarray(crowd, dtype=bool)[bi], area_a, union)
    union = np.where(inter == 0, 1, union)
    return inter.astype(float) / union.astype(float)
