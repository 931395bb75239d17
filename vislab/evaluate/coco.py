"""COCO mAP from frames, equal to pycocotools' ``COCOeval`` (bbox).

:func:`coco_eval` reproduces ``COCOeval.evaluate(); accumulate(); summarize()`` number for
number — the 12 summary values, and the full precision / recall / score arrays — including
crowd regions, truth ``area`` for the size ranges, classes without truth, images without
predictions and the per-image-and-class cap on detections.  It is vectorised with numpy
(see :mod:`vislab.evaluate._engine` for the matching) and needs no per-box Python loop.

How the accumulation avoids pycocotools' per-(class, area, maxDets, IoU) Python loops:

* Detections are sorted once per class by (score descending, image, input order) — the order
  pycocotools' mergesort produces.
* Precision only changes at true positives, so only true-positive events are needed: the number
  of false positives before each one follows from its position in the sorted list minus the
  true positives and ignored detections before it.
* ``precision[r]`` is the maximum precision at recall >= ``recThrs[r]``; the event where recall
  first reaches each threshold comes from integer arithmetic, and the suffix maxima from one
  ``maximum.reduceat`` over all (class, area, maxDets, IoU) segments at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.evaluate._engine import stable_order
from vislab.evaluate._validate import check_order
from vislab.evaluate.coco_result import COCO_STAT_NAMES, CocoResult
from vislab.evaluate.detection import COCO_AREA_RANGES, prepare_detection, run_matching

__all__ = ["coco_eval", "CocoResult", "COCO_STAT_NAMES"]


def _default_iou_thresholds() -> np.ndarray:
    # Same construction as pycocotools (np.arange would drift from the exact values).
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def _default_recall_thresholds() -> np.ndarray:
    return np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def coco_eval(
    truth: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    iou_type: str = "bbox",
    class_aware: bool = True,
    iou_thresholds=None,
    recall_thresholds=None,
    max_dets=(1, 10, 100),
    area_ranges=None,
    images=None,
    labels=None,
) -> CocoResult:
    """COCO detection metrics (mAP and friends), equal to pycocotools' ``COCOeval``.

    Parameters
    ----------
    truth : DataFrame
        Truth boxes ``image, label, x, y, w, h``; optional ``iscrowd`` (crowd regions are
        ignored, and predictions on them too) and ``area`` (used for the small / medium / large
        ranges instead of ``w * h``, as COCO uses the mask area).
    pred : DataFrame
        Boxes frame ``image, label, score, x, y, w, h``; rows with ``error_code`` set are
        failed images and count as images with no predictions.
    iou_type : {"bbox"}
        Only boxes are supported (segmentation masks are not).
    class_aware : bool, default True
        ``False`` pools all classes, as pycocotools' ``useCats = 0``.
    iou_thresholds, recall_thresholds : array-like, optional
        Default: COCO's 0.50:0.05:0.95 and 0:0.01:1.
    max_dets : sequence of int, default (1, 10, 100)
        Caps on detections per image and class.
    area_ranges : dict name -> (lo, hi), optional
        Default: COCO's all / small / medium / large.
    images : sequence, optional
        Images to evaluate, in the order that breaks ties between equal scores
        (pycocotools: sorted image ids).  Default: all images of either frame, sorted; images
        that only appear in ``pred`` have no objects, so their boxes are false positives.
    labels : sequence, optional
        Classes to evaluate and report, in order.  Default: all labels of either frame,
        sorted.  Labels with predictions but no truth get AP -1 and do not count in the means.

    Returns
    -------
    CocoResult
        ``.stats`` (the 12 numbers), ``.per_class``, ``.precision`` / ``.recall`` /
        ``.scores`` arrays, ``.summary()``.

    Raises
    ------
    vislab.errors.InvalidFrame
        Missing columns, NaN or negative box sizes, NaN scores, duplicate truth ids.

    Notes
    -----
    Two deliberate differences, both outside pycocotools' default use: pycocotools treats a
    detection matched to a truth box whose ``id`` is 0 as unmatched (it tests the id for
    truth), vislab counts it as a true positive; and with custom ``max_dets`` pycocotools
    computes its first number (AP) at maxDets=100 whatever the parameters (-1 when 100 is not
    among them), vislab at the largest ``max_dets``.

    Examples
    --------
    >>> import pandas as pd
    >>> truth = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", "cat"],
    ...                       "x": [0, 50, 10], "y": [0, 50, 10], "w": [40, 30, 50],
    ...                       "h": [40, 30, 50]})
    >>> pred = truth.assign(score=[0.9, 0.3, 0.8], x=[0, 60, 10])
    >>> r = coco_eval(truth, pred)
    >>> r.stats[["AP", "AP50"]].round(3).tolist()
    [0.55, 1.0]
    >>> r.per_class["AP"].round(3).tolist()  # the dog box has IoU 0.5: right at one threshold of 10
    [1.0, 0.1]
    """
    check_order(truth, pred, call="coco_eval(truth, pred)")
    if iou_type != "bbox":
        raise NotImplementedError(
            f"iou_type={iou_type!r} is not supported; vislab evaluates boxes ('bbox') only"
        )
    iou_thr = (
        _default_iou_thresholds()
        if iou_thresholds is None
        else np.asarray(iou_thresholds, dtype=float)
    )
    rec_thr = (
        _default_recall_thresholds()
        if recall_thresholds is None
        else np.asarray(recall_thresholds, dtype=float)
    )
    max_dets = tuple(sorted(int(m) for m in max_dets))
    ranges = dict(COCO_AREA_RANGES if area_ranges is None else area_ranges)

    data = prepare_detection(truth, pred, images=images, labels=labels)
    m = run_matching(
        data,
        iou_thresholds=iou_thr,
        area_ranges=list(ranges.values()),
        max_det=max_dets[-1],
        class_aware=class_aware,
    )
    precision, recall, scores, npig, nd = _accumulate(
        m, data, iou_thr, rec_thr, max_dets, class_aware, list(ranges.values())
    )
    stats = _summarize(precision, recall, iou_thr, list(ranges), max_dets)
    labels_idx = data.labels if class_aware else pd.Index(["(all)"])
    per_class = _per_class(precision, recall, iou_thr, list(ranges), labels_idx, npig, data)
    return CocoResult(
        stats=stats,
        per_class=per_class,
        precision=precision,
        recall=recall,
        scores=scores,
        labels=labels_idx,
        iou_thresholds=iou_thr,
        recall_thresholds=rec_thr,
        area_ranges=ranges,
        max_dets=max_dets,
        class_aware=class_aware,
        unknown_labels=data.unknown_labels,
        failed_images=data.failed_images,
    )


def _first_count_reaching(npig: np.ndarray, rec_thr: np.ndarray) -> np.ndarray:
    """Smallest integer c with ``c / npig >= thr`` in float64, as searchsorted on recall does."""
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.ceil(rec_thr[None, None, :] * npig[..., None]).astype(np.int64)
        cands = np.maximum(est[..., None] + np.array([-1, 0, 1]), 0)
        ok = (cands / npig[..., None, None]) >= rec_thr[None, None, :, None]
    big = np.iinfo(np.int64).max
    return np.where(ok, cands, big).min(axis=-1)


def _accumulate(m, data, iou_thr, rec_thr, max_dets, class_aware, area_ranges):
    n_t, n_r = len(iou_thr), len(rec_thr)
    n_a = m.gt_ignore.shape[0]
    n_m = len(max_dets)
    n_k = len(data.labels) if class_aware else 1
    precision = -np.ones((n_t, n_r, n_k, n_a, n_m))
    recall = -np.ones((n_t, n_k, n_a, n_m))
    scores = -np.ones((n_t, n_r, n_k, n_a, n_m))

    rows = m.det_order  # input row of each kept detection
    k_det = data.det_cat[rows] if class_aware else np.zeros(len(rows), dtype=np.int64)
    score = data.det_score[rows]
    box = data.det_box[rows]
    area = box[:, 2] * box[:, 3]  # pycocotools' loadRes sets a box result's area to w * h
    rank = m.det_rank
    gk = data.gt_cat[m.gt_order] if class_aware else np.zeros(len(m.gt_order), dtype=np.int64)
    npig = (
        np.stack([np.bincount(gk[~ig], minlength=n_k) for ig in m.gt_ignore])
        if n_k
        else (np.zeros((n_a, 0), dtype=np.int64))
    )
    nd_all = np.zeros((n_k, n_m), dtype=np.int64)
    if n_k == 0:
        return precision, recall, scores, npig, nd_all

    # pycocotools' order inside a class: score descending, then image order, then the order
    # within the image (class, input row) — its stable mergesorts produce exactly this.
    # Kept detections are grouped by (image[, class]) with ties in input order, so a stable
    # sort on (class, score, image, class) leaves equal keys in input order, as required.
    acc_order = stable_order(k_det, m.det_srank, data.det_img[rows], data.det_cat[rows])
    accpos = np.empty(len(rows), dtype=np.int64)
    accpos[acc_order] = np.arange(len(rows))
    ranges = np.asarray(area_ranges, dtype=float).reshape(-1, 2)
    out_det = (area[None, :] < ranges[:, :1]) | (area[None, :] > ranges[:, 1:])  # (A, n)
    out_acc = out_det[:, acc_order]

    # Match events (area range, IoU threshold, candidate) ordered by accumulation position:
    # (area, threshold) major, then class, then accumulation order (candidates are sorted so).
    perm = np.argsort(accpos[m.cand], kind="stable")
    cand = m.cand[perm]
    n_c, ng = len(cand), m.gt_ignore.shape[1]
    # Permute the (small) matched mask, not the match array; read matches at the events only.
    flat = np.flatnonzero((m.match >= 0)[:, :, perm])
    ev_at = flat // n_c  # area * n_t + threshold
    ev_c = flat - ev_at * n_c
    ev_det = cand[ev_c]
    ev_gt = m.match.reshape(n_a * n_t, n_c)[ev_at, perm[ev_c]]
    ev_a = ev_at // n_t
    ev_ig = m.gt_ignore.ravel()[ev_a * ng + ev_gt]
    ev_out = out_det.ravel()[ev_a * len(rows) + ev_det]
    ev_seg = ev_at * n_k + k_det[ev_det]  # (area, threshold, class) segment, sorted
    del flat, ev_c, ev_gt

    cnum = _first_count_reaching(npig, rec_thr)  # (A, K, R)
    eps = np.spacing(1)
    n_seg = n_a * n_t * n_k
    k_acc_all = k_det[acc_order]
    score_acc_all = score[acc_order]
    full = None  # the arrays of a cap that keeps every detection, computed once
    for mi, max_det in enumerate(max_dets):
        keep_det = rank < max_det
        if keep_det.all() and full is not None:
            pos_det, k_acc, score_acc, outcum = full
        else:
            keep_acc = keep_det[acc_order]
            everything = bool(keep_acc.all())
            if everything:
                pos_det, k_acc, score_acc = accpos, k_acc_all, score_acc_all
            else:
                pos_acc = np.cumsum(keep_acc) - 1
                pos_det = np.empty(len(rows), dtype=np.int64)
                pos_det[acc_order] = pos_acc
                k_acc, score_acc = k_acc_all[keep_acc], score_acc_all[keep_acc]
            outcum = np.zeros((n_a, len(k_acc) + 1), dtype=np.int32)
            np.cumsum(out_acc if everything else out_acc[:, keep_acc], axis=1, out=outcum[:, 1:])
            if everything:
                full = (pos_det, k_acc, score_acc, outcum)
        nd = np.bincount(k_acc, minlength=n_k)
        nd_all[:, mi] = nd
        kstart = np.cumsum(nd) - nd
        n_kept = len(k_acc)

        sel = keep_det[ev_det]
        if sel.all():
            seg_e, d_e, ig_e, out_e = ev_seg, ev_det, ev_ig, ev_out
        else:
            seg_e, d_e, ig_e, out_e = ev_seg[sel], ev_det[sel], ev_ig[sel], ev_out[sel]
        # Precision only changes at true positives: every count below is read there.  In a
        # segment, before and at the j-th event: events = tp + matched-to-ignored, so
        # fp = position in class + 1 - events - (out-of-range and unmatched).
        ev_start = np.cumsum(np.bincount(seg_e, minlength=n_seg)) - np.bincount(
            seg_e, minlength=n_seg
        )
        out_cum = np.cumsum(out_e, dtype=np.int64)
        tp_at = np.flatnonzero(~ig_e)
        seg_tp = seg_e[tp_at]
        d_tp = d_e[tp_at]
        k_tp = seg_tp % n_k
        a_tp = seg_tp // (n_t * n_k)
        first_ev = ev_start[seg_tp]
        n_ev = tp_at - first_ev + 1
        mo = out_cum[tp_at] - np.where(first_ev > 0, out_cum[first_ev - 1], 0)
        n_tp = np.bincount(seg_tp, minlength=n_seg)
        tp_end = np.cumsum(n_tp)
        tp_start = tp_end - n_tp
        tp_c = (np.arange(len(tp_at)) - tp_start[seg_tp] + 1).astype(float)
        p_glob = pos_det[d_tp]
        row0 = a_tp * (n_kept + 1)
        out_in = outcum.ravel()[row0 + p_glob + 1] - outcum.ravel()[row0 + kstart[k_tp]]
        fp_c = (p_glob - kstart[k_tp] + 1 - n_ev - out_in + mo).astype(float)
        pr = tp_c / (fp_c + tp_c + eps)  # same expression as pycocotools
        sc = score[d_tp]
        n_tp = n_tp.reshape(n_a, n_t, n_k)
        tp_end = tp_end.reshape(n_a, n_t, n_k)
        tp_start = tp_end - n_tp

        c = cnum[:, None, :, :]  # (A, 1, K, R)
        nd_s = nd[None, None, :, None]
        valid = (c <= n_tp[..., None]) & (nd_s > 0)
        idx = tp_start[..., None] + np.maximum(c - 1, 0)
        starts = np.where(valid, idx, tp_end[..., None]).reshape(-1)
        prx = np.append(pr, 0.0)
        red = np.maximum.reduceat(prx, starts)
        nxt = np.append(starts[1:], len(pr))
        block = np.where(starts < nxt, red, 0.0).reshape(n_seg, n_r)
        env = np.maximum.accumulate(block[:, ::-1], axis=1)[:, ::-1].reshape(n_a, n_t, n_k, n_r)
        q = np.where(valid, env, 0.0)
        scx = np.append(sc, 0.0)
        top = np.where(
            nd > 0,
            score_acc[np.minimum(kstart, max(len(score_acc) - 1, 0))] if len(score_acc) else 0.0,
            0.0,
        )
        ss = np.where(valid & (c >= 1), scx[np.minimum(idx, len(sc))], 0.0)
        ss = np.where(valid & (c == 0), top[None, None, :, None], ss)
        with np.errstate(divide="ignore", invalid="ignore"):
            rc = np.where(nd[None, None, :] > 0, n_tp / npig[:, None, :], 0.0)

        absent = (npig == 0)[:, None, :]  # (A, 1, K)
        q = np.where(absent[..., None], -1.0, q)
        ss = np.where(absent[..., None], -1.0, ss)
        rc = np.where(absent, -1.0, rc)
        precision[:, :, :, :, mi] = q.transpose(1, 3, 2, 0)
        scores[:, :, :, :, mi] = ss.transpose(1, 3, 2, 0)
        recall[:, :, :, mi] = rc.transpose(1, 2, 0)
    return precision, recall, scores, npig, nd_all


def _mean_valid(s: np.ndarray) -> float:
    v = s[s > -1]
    return -1.0 if len(v) == 0 else float(np.mean(v))


def _summarize(precision, recall, iou_thr, area_names, max_dets) -> pd.Series:
    def one(ap, iou=None, area="all", max_det=max_dets[-1]):
        if area not in area_names or max_det not in max_dets:
            return -1.0
        a = area_names.index(area)
        mi = max_dets.index(max_det)
        s = precision if ap else recall
        if iou is not None:
            s = s[np.where(iou == iou_thr)[0]]
        s = s[:, :, :, a, mi] if ap else s[:, :, a, mi]
        return _mean_valid(s)

    values = {
        "AP": one(1),
        "AP50": one(1, 0.5),
        "AP75": one(1, 0.75),
        "APs": one(1, area="small"),
        "APm": one(1, area="medium"),
        "APl": one(1, area="large"),
    }
    for md in max_dets:
        values[f"AR{md}"] = one(0, max_det=md)
    values.update(
        {"ARs": one(0, area="small"), "ARm": one(0, area="medium"), "ARl": one(0, area="large")}
    )
    return pd.Series(values, dtype=float, name="value")


def _per_class(precision, recall, iou_thr, area_names, labels, npig, data) -> pd.DataFrame:
    rows = []
    mi = precision.shape[-1] - 1
    t50 = np.where(0.5 == iou_thr)[0]
    t75 = np.where(0.75 == iou_thr)[0]

    def mean_or_nan(s):
        v = s[s > -1]
        return float(np.mean(v)) if len(v) else np.nan

    a_all = area_names.index("all") if "all" in area_names else 0
    for k, label in enumerate(labels):
        row = {"label": label, "AP": mean_or_nan(precision[:, :, k, a_all, mi])}
        row["AP50"] = mean_or_nan(precision[t50][:, :, k, a_all, mi])
        row["AP75"] = mean_or_nan(precision[t75][:, :, k, a_all, mi])
        for name, short in (("small", "APs"), ("medium", "APm"), ("large", "APl")):
            row[short] = (
                mean_or_nan(precision[:, :, k, area_names.index(name), mi])
                if name in area_names
                else np.nan
            )
        row["AR100"] = mean_or_nan(recall[:, k, a_all, mi])
        row["n_truth"] = int(npig[a_all, k]) if npig.size else 0
        rows.append(row)
    out = pd.DataFrame(
        rows, columns=["label", "AP", "AP50", "AP75", "APs", "APm", "APl", "AR100", "n_truth"]
    )
    if len(labels) == len(data.labels):
        out["n_pred"] = np.bincount(data.det_cat, minlength=len(labels))[: len(labels)]
    else:
        out["n_pred"] = len(data.det_cat)
    return out.set_index("label")
