"""Detection matching from frames: which predicted box found which true object.

:func:`match_detections` applies COCO's rule (greedy by score, IoU at least a threshold, crowd
truth as ignore regions) and returns a frame that says, for every predicted box, whether it is a
true positive, a false positive, or ignored, plus every missed true object as a false negative.
The same matching feeds :func:`vislab.evaluate.coco_eval` and
:func:`vislab.evaluate.threshold_sweep`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame
from vislab.evaluate._engine import greedy_match
from vislab.evaluate._validate import (
    check_boxes,
    check_order,
    check_scores,
    check_truth_ids,
    plain,
    positions,
    prediction_rows,
    report_unknown_labels,
)
from vislab.evaluate.outcomes import apply_threshold
from vislab.frames import BOXES, TRUTH_BOXES, require_columns
from vislab.geometry import box_iou, paired_iou

__all__ = ["match_detections", "box_iou", "DetectionInput", "prepare_detection"]

#: COCO's area ranges (pixels squared): all, small, medium, large.
COCO_AREA_RANGES = {
    "all": (0.0, 1e5**2),
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e5**2),
}


@dataclass
class DetectionInput:
    """Predictions and truth as validated arrays with integer codes (see :func:`prepare_detection`)."""

    pred: pd.DataFrame  # usable prediction rows (failed-image rows removed)
    truth: pd.DataFrame
    failed_images: list
    unknown_labels: list
    images: pd.Index  # evaluated images, in tie-break order
    labels: pd.Index  # classes, in report order
    det_img: np.ndarray
    det_cat: np.ndarray
    det_score: np.ndarray
    det_box: np.ndarray
    gt_img: np.ndarray
    gt_cat: np.ndarray
    gt_box: np.ndarray
    gt_area: np.ndarray
    gt_crowd: np.ndarray
    gt_id: np.ndarray


def _ordered_index(*columns, given=None, preferred=None) -> pd.Index:
    if given is not None:
        idx = pd.Index(list(given))
        if idx.has_duplicates:
            raise InvalidFrame("the list of images/labels has duplicates")
        return idx
    # Native dtypes (integer ids, strings) factorize many times faster than objects; mixed
    # columns become objects by themselves when concatenated.
    parts = [
        c.reset_index(drop=True) if isinstance(c, pd.Series) else pd.Series(list(c))
        for c in columns
        if len(c)
    ]
    values = pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)
    try:
        codes, uniq = pd.factorize(values, sort=True)
    except TypeError:  # mixed types that do not sort: keep order of first appearance
        codes, uniq = pd.factorize(values, sort=False)
    uniq = pd.Index(uniq)
    if preferred is not None:
        # A known list (e.g. COCO image ids or categories from read_coco) first, in its
        # order — including entries without boxes, as pycocotools lists them — the rest after.
        pref = pd.Index(pd.unique(pd.Series(list(preferred), dtype=object)))
        uniq = pref.append(uniq[~uniq.isin(pref)])
    return uniq


def _attr_column(df: pd.DataFrame, key: str, column: str):
    """A column of a table kept in ``df.attrs`` (dict of lists or DataFrame), or None."""
    table = df.attrs.get(key)
    try:
        return list(table[column]) if table is not None and column in table else None
    except TypeError:
        return None


def prepare_detection(truth, pred, *, images=None, labels=None) -> DetectionInput:
    """Validate a truth frame and a boxes frame and encode them for the array core.

    Parameters
    ----------
    truth : DataFrame
        Truth boxes ``image, label, x, y, w, h`` (+ optional ``iscrowd``, ``area``, ``id``).
    pred : DataFrame
        Boxes frame ``image, label, score, x, y, w, h`` (+ ``error_code``: failed images).
    images : sequence, optional
        Images to evaluate, in the order that breaks ties between equal scores (pycocotools
        uses sorted image ids).  Default: every image in either frame, in the order of
        ``truth.attrs["images"]`` (set by :func:`vislab.datasets.read_coco`: id order) and
        sorted otherwise.
    labels : sequence, optional
        Classes to report, in order.  Default: every label in either frame, sorted.

    Returns
    -------
    DetectionInput

    Examples
    --------
    >>> pred = pd.DataFrame({"image": ["a"], "label": ["cat"], "score": [0.9],
    ...                      "x": [0], "y": [0], "w": [10], "h": [10]})
    >>> truth = pd.DataFrame({"image": ["a"], "label": ["cat"], "x": [1], "y": [0],
    ...                       "w": [10], "h": [10]})
    >>> prepare_detection(truth, pred).gt_area.tolist()
    [100.0]
    """
    ok, failed = prediction_rows(pred, BOXES, name="pred")
    if not isinstance(truth, pd.DataFrame):
        raise InvalidFrame(f"truth must be a pandas DataFrame, got {type(truth).__name__}")
    require_columns(truth, TRUTH_BOXES, name="truth")
    preferred_images = _attr_column(truth, "images", "image")
    preferred_labels = _attr_column(truth, "categories", "label")
    truth = plain(truth)
    det_box = check_boxes(ok, name="pred")
    det_score = check_scores(ok, name="pred")
    gt_box = check_boxes(truth, name="truth")
    ids = check_truth_ids(truth)
    if "iscrowd" in truth.columns:
        crowd = pd.to_numeric(truth["iscrowd"], errors="coerce").fillna(0).to_numpy() != 0
    else:
        crowd = np.zeros(len(truth), dtype=bool)
    if "area" in truth.columns:
        area = pd.to_numeric(truth["area"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if (area < 0).any():
            raise InvalidFrame("truth column 'area' holds negative values", column="area")
        # A missing area falls back to the box area, as for boxes without polygons.
        area = np.where(np.isnan(area), gt_box[:, 2] * gt_box[:, 3], area)
    else:
        area = gt_box[:, 2] * gt_box[:, 3]
    unknown = report_unknown_labels(ok["label"], truth["label"])

    image_index = _ordered_index(
        truth["image"], ok["image"], failed, given=images, preferred=preferred_images
    )
    label_index = _ordered_index(
        truth["label"], ok["label"], given=labels, preferred=preferred_labels
    )
    det_img = positions(ok["image"], image_index)
    det_cat = positions(ok["label"], label_index)
    gt_img = positions(truth["image"], image_index)
    gt_cat = positions(truth["label"], label_index)
    # Rows outside the requested images or labels are not evaluated (pycocotools' imgIds/catIds).
    dsel = (det_img >= 0) & (det_cat >= 0)
    gsel = (gt_img >= 0) & (gt_cat >= 0)
    if not dsel.all():
        ok = ok.iloc[np.flatnonzero(dsel)]
        det_img, det_cat = det_img[dsel], det_cat[dsel]
        det_box, det_score = det_box[dsel], det_score[dsel]
    if not gsel.all():
        truth = truth.iloc[np.flatnonzero(gsel)]
        gt_img, gt_cat = gt_img[gsel], gt_cat[gsel]
        gt_box, area, crowd = gt_box[gsel], area[gsel], crowd[gsel]
        ids = None if ids is None else ids[gsel]
    if ids is None:
        ids = truth.index.to_numpy()
    return DetectionInput(
        pred=ok,
        truth=truth,
        failed_images=failed,
        unknown_labels=unknown,
        images=image_index,
        labels=label_index,
        det_img=det_img.astype(np.int64),
        det_cat=det_cat.astype(np.int64),
        det_score=det_score,
        det_box=det_box,
        gt_img=gt_img.astype(np.int64),
        gt_cat=gt_cat.astype(np.int64),
        gt_box=gt_box,
        gt_area=area,
        gt_crowd=crowd,
        gt_id=ids,
    )


def run_matching(
    data: DetectionInput, *, iou_thresholds, area_ranges, max_det, class_aware: bool, pair_iou=None
):
    """Group boxes (by image, or image and class) and run the greedy matching.

    ``pair_iou`` replaces the boxes' IoU (the segm metric passes the masks').
    """
    n_cat = max(len(data.labels), 1)
    if class_aware:
        det_group = data.det_img * n_cat + data.det_cat
        gt_group = data.gt_img * n_cat + data.gt_cat
    else:
        det_group, gt_group = data.det_img, data.gt_img
    # pycocotools (useCats=0) lists a group's boxes class by class, then in input order.
    return greedy_match(
        det_group,
        data.det_cat,
        data.det_score,
        data.det_box,
        gt_group,
        data.gt_cat,
        data.gt_box,
        data.gt_area,
        data.gt_crowd,
        iou_thresholds=iou_thresholds,
        area_ranges=area_ranges,
        max_det=max_det,
        pair_iou=pair_iou,
    )


def single_match(data: DetectionInput, *, iou: float, class_aware: bool, max_dets):
    """Match once at one IoU threshold over all areas; per detection and truth outcomes.

    Returns
    -------
    dict with arrays over *input* prediction rows (``det_match``: 0 fp, 1 tp, 2 ignore,
    3 beyond max_dets; ``det_gt``: matched truth row or -1; ``det_iou``) and over truth rows
    (``gt_matched``: bool; ``gt_ignore``: crowd; ``gt_det``: matching prediction row or -1).
    """
    m = run_matching(
        data,
        iou_thresholds=[iou],
        area_ranges=[COCO_AREA_RANGES["all"]],
        max_det=max_dets,
        class_aware=class_aware,
    )
    nd, ng = len(data.det_score), len(data.gt_box)
    det_match = np.full(nd, 3, dtype=np.int8)
    det_match[m.det_order] = 0
    det_gt = np.full(nd, -1, dtype=np.int64)
    det_iou = np.full(nd, np.nan)
    det_iou[m.det_order] = m.best_iou
    gt_det = np.full(ng, -1, dtype=np.int64)
    g_ignore = np.zeros(ng, dtype=bool)
    g_ignore[m.gt_order] = m.gt_ignore[0]
    if len(m.cand):
        sorted_gt = m.match[0, 0]
        hit = sorted_gt >= 0
        rows = m.det_order[m.cand[hit]]
        gt_rows = m.gt_order[sorted_gt[hit]]
        det_gt[rows] = gt_rows
        det_match[rows] = np.where(g_ignore[gt_rows], 2, 1)
        det_iou[rows] = paired_iou(
            data.det_box[rows], data.gt_box[gt_rows], crowd=data.gt_crowd[gt_rows]
        )
        # A crowd region can absorb many detections; the truth side records only real objects.
        real = ~g_ignore[gt_rows]
        gt_det[gt_rows[real]] = rows[real]
    # Unmatched detections outside COCO's "all" range (area > 1e10) are ignored, as in COCO.
    big = (data.det_box[:, 2] * data.det_box[:, 3]) > COCO_AREA_RANGES["all"][1]
    det_match[(det_match == 0) & big] = 2
    return {
        "det_match": det_match,
        "det_gt": det_gt,
        "det_iou": det_iou,
        "gt_matched": gt_det >= 0,
        "gt_ignore": g_ignore,
        "gt_det": gt_det,
    }


def _ids_or_none(ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.full(len(rows), None, dtype=object)
    hit = rows >= 0
    out[hit] = ids[rows[hit]]
    return out


def _tidy_ids(col: pd.Series) -> pd.Series:
    # Integer ids with gaps read best as nullable integers, not floats.
    values = col.dropna()
    if len(values) and all(isinstance(v, (int, np.integer)) for v in values):
        return col.astype("Int64")
    return col


_MATCH_NAMES = np.array(["fp", "tp", "ignore", "skipped"], dtype=object)


def _take(column: pd.Series, rows):
    """``column``'s values at ``rows`` (a mask or positions), for a new frame's column.

    Strings are taken in their own dtype (a million Arrow strings are not turned into Python
    objects and inferred back to strings); other columns go through objects as before, so the
    new frame has the dtype it always had (integer image ids stay objects).
    """
    if isinstance(column.dtype, pd.StringDtype):
        return column.array[rows]
    return column.to_numpy(dtype=object)[rows]


def predicted_rows(data, res, rows) -> pd.DataFrame:
    """The prediction rows of a match frame, for the predictions selected by ``rows``.

    Shared by :func:`match_detections` and the sweep's outcomes
    (:attr:`vislab.evaluate.Sweep.outcomes`), so both describe a prediction the same way.
    """
    code = res["det_match"][rows]
    out = pd.DataFrame(
        {
            "image": _take(data.pred["image"], rows),
            "label": _take(data.pred["label"], rows),
            "score": data.det_score[rows],
            "x": data.det_box[rows, 0],
            "y": data.det_box[rows, 1],
            "w": data.det_box[rows, 2],
            "h": data.det_box[rows, 3],
            "match": _MATCH_NAMES[code],
            "iou": res["det_iou"][rows],
            "truth_id": _ids_or_none(data.gt_id, res["det_gt"][rows]),
        }
    )
    # A false positive with no overlapping truth at all has no IoU to report.
    out.loc[(code == 0) & (out["iou"].to_numpy() == 0), "iou"] = np.nan
    if "mask" in data.pred.columns:  # masks travel with their predictions (pictures)
        out["mask"] = data.pred["mask"].to_numpy(dtype=object)[rows]
    return out


def missed_truth_rows(data, rows) -> pd.DataFrame:
    """The ``fn`` rows of a match frame: the truth boxes selected by ``rows`` (mask or indices).

    Shared by :func:`match_detections` and the sweep's outcomes (``Sweep.matches_at``) so both
    describe a missed object the same way: no score, no IoU, the truth's own id.
    """
    t = data.truth
    out = pd.DataFrame(
        {
            "image": _take(t["image"], rows),
            "label": _take(t["label"], rows),
            "score": np.nan,
            "x": data.gt_box[rows, 0],
            "y": data.gt_box[rows, 1],
            "w": data.gt_box[rows, 2],
            "h": data.gt_box[rows, 3],
            "match": "fn",
            "iou": np.nan,
            "truth_id": data.gt_id[rows],
        }
    )
    if "mask" in t.columns:
        out["mask"] = t["mask"].to_numpy(dtype=object)[rows]
    return out


def match_detections(
    truth: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    iou: float = 0.5,
    class_aware: bool = True,
    max_dets: int | None = 100,
    score_threshold: float | None = None,
) -> pd.DataFrame:
    """Match predicted boxes to true boxes; label each one tp, fp or fn.

    The rule is COCO's: predictions are taken in order of decreasing score (per image, and per
    class when ``class_aware``); each takes the still-unmatched true box with the highest IoU
    if that IoU is at least ``iou``.  True boxes marked ``iscrowd`` are ignore regions: a
    prediction that lands on one is neither right nor wrong, and a crowd region is never missed.

    Parameters
    ----------
    truth : DataFrame
        Truth boxes (``image, label, x, y, w, h``, optional ``iscrowd``, ``area``, ``id``).
    pred : DataFrame
        Boxes frame (``image, label, score, x, y, w, h``).  Rows with ``error_code`` set are
        failed images: they count as images with no predictions (listed in
        ``attrs["failed_images"]``).
    iou : float, default 0.5
        Minimum IoU for a match.
    class_aware : bool, default True
        Whether a prediction can only match a true box of its own label.  With ``False`` any
        label matches (useful to separate "found it" from "named it right").
    max_dets : int or None, default 100
        Predictions kept per image and class (COCO's maxDets); the rest get ``match ==
        "skipped"``.  ``None`` keeps all.
    score_threshold : float, optional
        Only predictions with ``score >= score_threshold`` take part (others are left out of
        the result).  Because matching is greedy by score, this equals the matching of all
        predictions restricted to those above the threshold.

    Returns
    -------
    DataFrame
        One row per prediction (``match`` in ``tp``, ``fp``, ``ignore``, ``skipped``) followed by
        one row per missed true box (``match == "fn"``, ``score`` NaN).  Columns: ``image,
        label, score, x, y, w, h, match, iou, truth_id, pred_index``.  ``iou`` is the IoU with
        the matched true box, or for a false positive the best IoU with any true box it could
        have matched (NaN if none), which separates poor localisation from hallucination.
        ``truth_id`` is the truth ``id`` (or truth row index); ``pred_index`` the prediction's
        index label.  Masks frames keep their ``mask`` column (before ``pred_index``), for
        pictures; the matching itself is by boxes (``coco_eval(iou_type="segm")`` for masks).

    Raises
    ------
    vislab.errors.InvalidFrame
        Missing columns, NaN or negative box sizes, NaN scores, duplicate truth ids.

    Examples
    --------
    >>> pred = pd.DataFrame({"image": ["a", "a"], "label": ["cat", "cat"], "score": [0.9, 0.8],
    ...                      "x": [0, 50], "y": [0, 50], "w": [10, 10], "h": [10, 10]})
    >>> truth = pd.DataFrame({"image": ["a", "a"], "label": ["cat", "cat"], "x": [1, 90],
    ...                       "y": [0, 90], "w": [10, 10], "h": [10, 10]})
    >>> match_detections(truth, pred)[["score", "match", "truth_id"]]
       score match  truth_id
    0    0.9    tp         0
    1    0.8    fp      <NA>
    2    NaN    fn         1
    """
    check_order(truth, pred, call="match_detections(truth, pred)")
    if score_threshold is not None and "score" in pred.columns:
        pred = apply_threshold(pred, score_threshold)
    data = prepare_detection(truth, pred)
    res = single_match(data, iou=iou, class_aware=class_aware, max_dets=max_dets)
    out = predicted_rows(data, res, np.arange(len(data.det_score)))
    out["pred_index"] = data.pred.index.to_numpy()
    fn = missed_truth_rows(data, ~res["gt_matched"] & ~res["gt_ignore"])
    fn["pred_index"] = None
    frames = [f for f in (out, fn) if len(f)]
    result = pd.concat(frames, ignore_index=True) if frames else out
    for col in ("truth_id", "pred_index"):
        result[col] = _tidy_ids(result[col])
    result.attrs["kind"] = "detection_matches"
    result.attrs["iou"] = iou
    result.attrs["failed_images"] = data.failed_images
    result.attrs["unknown_labels"] = data.unknown_labels
    return result
