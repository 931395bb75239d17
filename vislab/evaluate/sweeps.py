"""Score-threshold sweeps: TP / FP / FN, precision, recall and F1 at every operating point.

A service returns every box (or label) with a score; the application keeps those with
``score >= threshold``.  :func:`threshold_sweep` matches once and sorts once (O(N log N)), after
which the counts at any threshold are a binary search away (O(log N)) — fast enough to follow a
slider.  The trick that makes this exact for detection: COCO's matching is greedy by score, so
the matching of the predictions above a threshold is the prefix of the full matching.

A threshold is one number, or one per class (``{label: threshold}``): :meth:`Sweep.at` combines
the classes' counts into one row, and :attr:`Sweep.outcomes` says which prediction and which
object is right, wrong or missed, image by image.  :func:`vislab.evaluate.best_threshold`
picks an operating point by a rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.evaluate._curve import COUNT_COLUMNS
from vislab.evaluate._validate import (
    check_order,
    check_scores,
    plain,
    prediction_rows,
    report_unknown_labels,
)
from vislab.evaluate.outcomes import Outcomes
from vislab.evaluate.sweep import Sweep
from vislab.frames import require_columns

__all__ = ["Sweep", "threshold_sweep", "COUNT_COLUMNS"]


def _is_boxes(df: pd.DataFrame) -> bool:
    return all(c in df.columns for c in ("x", "y", "w", "h"))


def threshold_sweep(
    truth: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    iou: float = 0.5,
    by_class: bool = False,
    class_aware: bool = True,
    max_dets: int | None = 100,
) -> Sweep:
    """P / R / F1 and TP / FP / FN at every distinct score threshold.

    For detection (boxes frames) a prediction is a true positive when COCO's matching at
    ``iou`` pairs it with a true box; missed true boxes are false negatives.  For
    classification (labels frames) the sweep is one-vs-rest: each predicted (image, label) with
    its best score is right when the image truly has that label.

    Parameters
    ----------
    truth : DataFrame
        Truth boxes, or truth labels (``image, label``).
    pred : DataFrame
        Boxes frame (``image, label, score, x, y, w, h``) or labels frame (``image, rank,
        label, score``).  Failed-image rows (``error_code`` set) count as no predictions; a
        frame with no prediction at all gives a sweep where every object is missed.
    iou : float, default 0.5
        Detection only: minimum IoU for a match.
    by_class : bool, default False
        Whether :attr:`Sweep.frame` shows per-class rows.  Per-class queries
        (``at(t, label=...)``) work either way.
    class_aware, max_dets
        Detection only; see :func:`vislab.evaluate.match_detections`.

    Returns
    -------
    Sweep
        ``.frame``, ``.at(threshold)``, ``.at_many(...)``, ``.matches_at(threshold)``,
        ``.outcomes``.

    Examples
    --------
    >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat"] * 3,
    ...                      "score": [0.9, 0.6, 0.3], "x": [0, 50, 0], "y": [0, 50, 0],
    ...                      "w": [10, 10, 10], "h": [10, 10, 10]})
    >>> truth = pred.drop(columns="score").iloc[[0, 2]]
    >>> sweep = threshold_sweep(truth, pred)
    >>> sweep.frame[["threshold", "tp", "fp", "fn", "precision", "recall"]]
       threshold  tp  fp  fn  precision  recall
    0        0.9   1   0   1   1.000000     0.5
    1        0.6   1   1   1   0.500000     0.5
    2        0.3   2   1   0   0.666667     1.0
    >>> sweep.at(0.5)["f1"]
    np.float64(0.5)
    """
    check_order(truth, pred, call="threshold_sweep(truth, pred)")
    if _is_boxes(truth) or (_is_boxes(pred) and not {"rank"} <= set(pred.columns)):
        return _detection_sweep(
            truth, pred, iou=iou, by_class=by_class, class_aware=class_aware, max_dets=max_dets
        )
    return _label_sweep(truth, pred, by_class=by_class)


def _detection_sweep(truth, pred, *, iou, by_class, class_aware, max_dets) -> Sweep:
    from vislab.evaluate.detection import (
        missed_truth_rows,
        predicted_rows,
        prepare_detection,
        single_match,
    )

    data = prepare_detection(truth, pred)
    res = single_match(data, iou=iou, class_aware=class_aware, max_dets=max_dets)
    code = res["det_match"]
    labels = data.pred["label"].to_numpy(dtype=object)
    real = ~res["gt_ignore"]
    t_labels = data.truth["label"].to_numpy(dtype=object)
    npos = pd.Series(t_labels[real], dtype=object).value_counts().to_dict()
    sweep = Sweep.from_arrays(
        data.det_score,
        tp=code == 1,
        fp=code == 0,
        n_pos=int(real.sum()),
        labels=labels,
        n_pos_by_label=npos,
        by_class=by_class,
        kind="detection",
    )
    sweep.meta.update(iou=iou, failed_images=data.failed_images, unknown_labels=data.unknown_labels)

    def outcomes() -> Outcomes:
        # Every counted prediction (not those beyond max_dets) and every real object, with
        # the score of the prediction that finds it.
        predictions = predicted_rows(data, res, np.flatnonzero(code != 3))
        g = np.flatnonzero(real)
        gt_det = res["gt_det"][g]
        found = np.full(len(g), np.nan)
        found[gt_det >= 0] = data.det_score[gt_det[gt_det >= 0]]
        truth_rows = missed_truth_rows(data, g).assign(found_at=found)
        return Outcomes(predictions, truth_rows, kind="detection")

    sweep._make_outcomes = outcomes
    return sweep


def _label_sweep(truth, pred, *, by_class) -> Sweep:
    ok, failed = prediction_rows(pred, ["image", "label", "score"], name="pred")
    require_columns(truth, ["image", "label"], name="truth")
    truth = plain(truth)
    scores = check_scores(ok, name="pred")
    p = pd.DataFrame(
        {"image": ok["image"].to_numpy(), "label": ok["label"].to_numpy(), "score": scores}
    )
    # One score per (image, label): a service that repeats a label means its best score.
    p = p.groupby(["image", "label"], sort=False, dropna=False)["score"].max().reset_index()
    t = truth[["image", "label"]].drop_duplicates().reset_index(drop=True)
    report_unknown_labels(p["label"], t["label"])
    pos = pd.MultiIndex.from_frame(t)
    pairs = pd.MultiIndex.from_frame(p[["image", "label"]])
    is_tp = np.asarray(pairs.isin(pos), dtype=bool)
    npos = t["label"].value_counts().to_dict()
    sweep = Sweep.from_arrays(
        p["score"].to_numpy(),
        tp=is_tp,
        n_pos=len(t),
        labels=p["label"].to_numpy(),
        n_pos_by_label=npos,
        by_class=by_class,
        kind="classification",
    )
    sweep.meta.update(failed_images=failed)

    def outcomes() -> Outcomes:
        # The same (image, label) pairs tell the pictures what is right, wrong and missed.
        found = pd.Series(p["score"].to_numpy(), index=pairs)[is_tp]
        predictions = p.assign(match=np.where(is_tp, "tp", "fp"))
        truth_rows = t.assign(score=np.nan, match="fn", found_at=found.reindex(pos).to_numpy(float))
        return Outcomes(predictions, truth_rows, kind="classification")

    sweep._make_outcomes = outcomes
    return sweep
