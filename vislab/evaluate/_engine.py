"""Array core of detection matching: COCO's greedy matching, vectorised with numpy.

No pandas here: the frame functions in :mod:`vislab.evaluate.detection` and
:mod:`vislab.evaluate.coco` turn frames into integer codes and float arrays, call
:func:`greedy_match`, and turn the result back into frames.

How the matching stays equal to pycocotools ``COCOeval.evaluateImg`` while never looping over
boxes in Python:

* Detections are ranked inside each group (image, or image and class) by score, ties by input
  order (pycocotools uses a stable mergesort on ``-score``); only the first ``max_det`` take part.
* IoU is computed for every (detection, truth) pair of a group in one numpy expression
  (:func:`vislab.geometry.iou_by_index`) that repeats the arithmetic of pycocotools' C
  ``bbIou`` operation for operation, so every value is bit-identical.  Pairs below the lowest
  IoU threshold can never match and are dropped.
* pycocotools walks the truth of a group in (not ignored, input order) order and keeps the last
  available truth with the highest IoU >= t, preferring truth that is not ignored.  That is the
  maximum of one integer key per pair: (not ignored, rank of IoU, position in group).
* Greedy order only matters where two detections compete for one truth.  A truth with a single
  candidate detection (or a crowd region, which is never used up) cannot be contested, so all
  detections that touch only such truth are resolved at once.  The commonest contest —
  near-duplicate detections of one object that overlap nothing else — is a *chain*: at each
  IoU threshold the first of them in score order that reaches it takes the truth, in every
  area range alike (one ``minimum.reduceat``).  The rest are resolved in rounds: round r takes
  the r-th contested detection of every group, for every (area range, IoU threshold)
  configuration at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vislab.geometry import iou_by_index

__all__ = ["rank_within_groups", "greedy_match", "MatchArrays"]

# pycocotools caps the IoU threshold just below 1 so that t=1.0 can still match a perfect box.
_MAX_THRESHOLD = 1 - 1e-10
# Upper bound of (configurations x pairs) handled by one numpy call, to bound memory.
_BATCH_ELEMENTS = 4_000_000
# Detection-truth pairs whose IoU is computed in one go.
_PAIR_CHUNK = 2_000_000


def rank_within_groups(group: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort rows by ``group`` then ``keys`` (first key most significant); rank inside each group.

    Ties keep input order (the sort is stable).

    Returns
    -------
    order : ndarray
        Row indices in sorted order.
    rank : ndarray
        ``rank[i]`` is the 0-based position of row ``order[i]`` inside its group.
    """
    n = len(group)
    order = stable_order(group, *keys) if n else np.zeros(0, dtype=np.intp)
    g = group[order]
    first = np.ones(n, dtype=bool)
    first[1:] = g[1:] != g[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else np.zeros(0, int)
    return order, np.arange(n) - start


def stable_order(*keys: np.ndarray) -> np.ndarray:
    """Indices sorting by ``keys`` (first most significant), ties in input order.

    Non-negative integer keys are packed into one int64 and sorted once (much faster than
    ``np.lexsort``'s one pass per key); keys that do not fit fall back to ``np.lexsort``.
    """
    n = len(keys[0])
    sizes = []
    for k in keys:
        if not np.issubdtype(k.dtype, np.integer) or (n and k.min() < 0):
            return np.lexsort(tuple(reversed(keys)) + (np.arange(n),))
        sizes.append(int(k.max()) + 1 if n else 1)
    if np.prod([float(v) for v in sizes]) >= 2.0**62:
        return np.lexsort(tuple(reversed(keys)) + (np.arange(n),))
    packed = np.zeros(n, dtype=np.int64)
    for k, size in zip(keys, sizes, strict=True):
        packed *= size
        packed += k
    return np.argsort(packed, kind="stable")


def descending_rank(values: np.ndarray) -> np.ndarray:
    """Dense integer rank of each value, 0 for the largest (equal values share a rank)."""
    uniq, inv = np.unique(values, return_inverse=True)
    return (len(uniq) - 1 - inv).astype(np.int64)


@dataclass
class MatchArrays:
    """Result of :func:`greedy_match` (all indices refer to the sorted arrays described).

    Attributes
    ----------
    det_order : ndarray
        Input row of each kept detection; kept detections are sorted by group, then score.
    det_rank : ndarray
        Rank of each kept detection inside its group (0 = highest score).
    det_srank : ndarray
        Dense rank of each kept detection's score among all scores (0 = highest).
    dropped : ndarray
        Input rows of detections beyond ``max_det`` in their group (not evaluated).
    gt_order : ndarray
        Input row of each truth box; truth is sorted by group, then input order.
    cand : ndarray
        Kept-detection indices that have at least one truth at IoU >= the lowest threshold.
    match : ndarray, shape (A, T, len(cand))
        Sorted-truth index matched to each candidate detection for each (area range, IoU
        threshold), or -1.
    gt_ignore : ndarray, shape (A, n_truth)
        Whether each sorted truth box is ignored (crowd, or area outside the range).
    best_iou : ndarray
        For each kept detection, its highest IoU with any truth of its group (0 if none).
    """

    det_order: np.ndarray
    det_rank: np.ndarray
    det_srank: np.ndarray
    dropped: np.ndarray
    gt_order: np.ndarray
    cand: np.ndarray
    match: np.ndarray
    gt_ignore: np.ndarray
    best_iou: np.ndarray


def greedy_match(
    det_group: np.ndarray,
    det_tiebreak: np.ndarray,
    det_score: np.ndarray,
    det_box: np.ndarray,
    gt_group: np.ndarray,
    gt_tiebreak: np.ndarray,
    gt_box: np.ndarray,
    gt_area: np.ndarray,
    gt_crowd: np.ndarray,
    *,
    iou_thresholds,
    area_ranges,
    max_det: int | None,
) -> MatchArrays:
    """COCO greedy matching of detections to truth for several IoU thresholds and area ranges.

    Parameters
    ----------
    det_group, gt_group : int arrays
        Group of each box (image, or image x class); only boxes of one group can match.
    det_tiebreak, gt_tiebreak : int arrays
        Order inside a group before scores are considered (pycocotools: class, then input row).
    det_score, det_box, gt_box, gt_area, gt_crowd : arrays
        Scores, xywh boxes, truth areas (used for area ranges) and crowd flags.
    iou_thresholds : sequence of float
    area_ranges : sequence of (lo, hi)
    max_det : int or None
        Detections kept per group, best scores first.
    """
    thr = np.minimum(np.asarray(iou_thresholds, dtype=float), _MAX_THRESHOLD)
    ranges = np.asarray(area_ranges, dtype=float).reshape(-1, 2)
    n_a, n_t = len(ranges), len(thr)

    # Detections: group, then score descending, then tiebreak, then input order (stable).
    srank = descending_rank(det_score)
    order, rank = rank_within_groups(det_group, srank, det_tiebreak)
    if max_det is not None:
        keep = rank < max_det
        dropped = order[~keep]
        order, rank = order[keep], rank[keep]
    else:
        dropped = np.zeros(0, dtype=np.intp)
    dgroup = det_group[order]
    dcols = [np.ascontiguousarray(det_box[:, j])[order] for j in range(4)]
    nd = len(order)

    # Truth: group, then tiebreak, then input order.
    ng = len(gt_group)
    gt_order = stable_order(gt_group, gt_tiebreak) if ng else np.zeros(0, np.intp)
    ggroup = gt_group[gt_order]
    gcols = [np.ascontiguousarray(gt_box[:, j])[gt_order] for j in range(4)]
    garea = gt_area[gt_order]
    gcrowd = gt_crowd[gt_order].astype(bool)
    gt_ignore = (
        gcrowd[None, :] | (garea[None, :] < ranges[:, :1]) | (garea[None, :] > ranges[:, 1:])
    )

    # Truth range of each detection's group.
    lo = np.searchsorted(ggroup, dgroup, side="left")
    hi = np.searchsorted(ggroup, dgroup, side="right")
    cnt = hi - lo
    n_pairs = int(cnt.sum())
    best_iou = np.zeros(nd)

    empty = MatchArrays(
        det_order=order,
        det_rank=rank,
        det_srank=srank[order],
        dropped=dropped,
        gt_order=gt_order,
        cand=np.zeros(0, dtype=np.intp),
        match=np.zeros((n_a, n_t, 0), dtype=np.int32),
        gt_ignore=gt_ignore,
        best_iou=best_iou,
    )
    if n_pairs == 0:
        return empty

    # All (detection, truth) pairs of each group, detection-major, in chunks of detections so
    # that memory stays bounded when groups are large; only pairs at or above the lowest
    # threshold (the only ones that can ever match) are kept.
    thr_min = thr.min()
    cum = np.cumsum(cnt)
    bounds = np.unique(np.searchsorted(cum, np.arange(0, n_pairs, _PAIR_CHUNK), side="right"))
    bounds = np.unique(np.concatenate([[0], bounds, [nd]]))
    kept = []
    for d0, d1 in zip(bounds[:-1], bounds[1:], strict=True):
        c = cnt[d0:d1]
        n = int(c.sum())
        if n == 0:
            continue
        offs = np.cumsum(c) - c
        pd_ = np.repeat(np.arange(d0, d1), c)
        pg_ = np.arange(n) - np.repeat(offs, c) + np.repeat(lo[d0:d1], c)
        iou_ = iou_by_index(dcols, gcols, pd_, pg_, gcrowd)
        has = c > 0
        best_iou[d0:d1][has] = np.maximum.reduceat(iou_, offs[has])
        sel = iou_ >= thr_min
        kept.append((pd_[sel], pg_[sel], iou_[sel]))
    pair_det = np.concatenate([k[0] for k in kept])
    pair_gt = np.concatenate([k[1] for k in kept])
    iou = np.concatenate([k[2] for k in kept])
    if len(iou) == 0:
        return empty

    # Candidate detections (sorted, since pairs are detection-major) and their pair segments.
    cand, seg_start, per_det = np.unique(pair_det, return_index=True, return_counts=True)
    cand_of_pair = np.repeat(np.arange(len(cand)), per_det)

    # Selection key per (area range, pair): not ignored > IoU > later position in group.
    group_first = np.searchsorted(ggroup, ggroup, side="left")
    gpos = np.arange(ng) - group_first
    n_pos = int(gpos.max()) + 1
    _, iou_rank = np.unique(iou, return_inverse=True)
    n_iou = int(iou_rank.max()) + 1
    nonign = ~gt_ignore[:, pair_gt]
    key = (nonign.astype(np.int64) * n_iou + iou_rank[None, :]) * n_pos + gpos[pair_gt][None, :] + 1
    thr_ok = iou[None, :] >= thr[:, None]  # (T, pairs)

    # A truth is contested when two detections may claim it; crowd regions never run out.
    contested_gt = (np.bincount(pair_gt, minlength=ng) >= 2) & ~gcrowd
    match = np.full((n_a, n_t, len(cand)), -1, dtype=np.int32 if ng < 2**31 else np.int64)
    # Chains: a contested truth whose every candidate detection has no other candidate.  At
    # each IoU threshold the first of them (in score order) that reaches it takes the truth
    # and the others get nothing — in every area range, since with one candidate the
    # preference for not-ignored truth never comes into play.  Resolved here at once.
    single = per_det == 1
    shared_gt = np.zeros(ng, dtype=bool)
    shared_gt[pair_gt[~single[cand_of_pair]]] = True
    chain_pair = contested_gt[pair_gt] & ~shared_gt[pair_gt]
    if chain_pair.any():
        _resolve_chains(np.flatnonzero(chain_pair), pair_gt, cand_of_pair, iou, thr, match)
    contested = np.logical_or.reduceat(contested_gt[pair_gt] & ~chain_pair, seg_start)
    # Round of each other candidate: 0 for uncontested ones, else its order among the
    # contested detections of its group (detections are already in score order in a group).
    cgroup = dgroup[cand]
    crank = np.zeros(len(cand), dtype=np.int64)
    if contested.any():
        ci = np.flatnonzero(contested)
        _, r = rank_within_groups(cgroup[ci])
        # rank_within_groups sorts by group; ci is already group-sorted so ranks line up.
        crank[ci] = r

    taken = np.zeros((n_a, n_t, ng), dtype=bool)
    pair_round = np.where(chain_pair, -1, crank[cand_of_pair])  # -1: resolved as a chain
    pair_sorted = np.argsort(pair_round, kind="stable")
    round_bounds = np.searchsorted(pair_round[pair_sorted], np.arange(int(crank.max()) + 2))
    gstart_of_cand = lo[cand]
    configs = n_a * n_t
    for r in range(len(round_bounds) - 1):
        a0, a1 = round_bounds[r], round_bounds[r + 1]
        if a0 == a1:
            continue
        # Split a round into batches at detection boundaries to bound memory.
        step = max(1, _BATCH_ELEMENTS // configs)
        b0 = a0
        while b0 < a1:
            b1 = min(a1, b0 + step)
            if b1 < a1:
                # Extend to the end of the detection whose pairs straddle b1.
                last = cand_of_pair[pair_sorted[b1 - 1]]
                while b1 < a1 and cand_of_pair[pair_sorted[b1]] == last:
                    b1 += 1
            _match_batch(
                pair_sorted[b0:b1],
                r,
                pair_gt,
                cand_of_pair,
                key,
                n_pos,
                thr_ok,
                gcrowd,
                taken,
                match,
                gstart_of_cand,
            )
            b0 = b1

    return MatchArrays(
        det_order=order,
        det_rank=rank,
        det_srank=srank[order],
        dropped=dropped,
        gt_order=gt_order,
        cand=cand,
        match=match,
        gt_ignore=gt_ignore,
        best_iou=best_iou,
    )


def _resolve_chains(pairs, pair_gt, cand_of_pair, iou, thr, match) -> None:
    """Match chain pairs: per truth and IoU threshold, the first detection reaching it."""
    order = pairs[np.argsort(pair_gt[pairs], kind="stable")]  # truth-major, score order kept
    g = pair_gt[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(first)
    pos = np.where(iou[order][None, :] >= thr[:, None], np.arange(len(order)), len(order))
    winner = np.minimum.reduceat(pos, starts, axis=1)  # (T, chains)
    ti, ci = np.nonzero(winner < len(order))
    won = order[winner[ti, ci]]
    match[:, ti, cand_of_pair[won]] = pair_gt[won]


def _match_batch(
    idx, round_no, pair_gt, cand_of_pair, key, n_pos, thr_ok, gcrowd, taken, match, gstart
):
    """Resolve one batch of independent candidate detections (pairs ``idx``, detection-major)."""
    pg = pair_gt[idx]
    pc = cand_of_pair[idx]
    valid = thr_ok[None, :, idx]  # (1, T, p)
    if round_no > 0:
        # Earlier rounds may have used up truth; crowd regions stay available.
        valid = valid & (~taken[:, :, pg] | gcrowd[pg][None, None, :])
    k = np.where(valid, key[:, None, idx], 0)  # (A, T, p)
    first = np.ones(len(pc), dtype=bool)
    first[1:] = pc[1:] != pc[:-1]
    starts = np.flatnonzero(first)
    best = np.maximum.reduceat(k, starts, axis=2)  # (A, T, dets)
    hit = best > 0
    if not hit.any():
        return
    dets = pc[starts]
    # The key ends in "position in group + 1", so the matched truth is group start + position.
    gt = np.where(hit, gstart[dets][None, None, :] + (best - 1) % n_pos, -1)
    match[:, :, dets] = gt
    ai, ti, di = np.nonzero(hit)
    taken[ai, ti, gt[ai, ti, di]] = True
