"""The frames an :class:`~vislab.easydl.report.EvaluationReport` is computed from, made from a
model's answers on the held-out images, and their JSON form.

A classifier's probabilities become a labels frame with every class ranked for every image
(so top-k accuracy and one-vs-rest sweeps see every score); a detector's analyses become a
boxes frame, the recommended threshold (the best-F1 point of
:func:`vislab.evaluate.threshold_sweep`) and the per-image counts of its density head beside
the truth and the kept boxes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab import evaluate

__all__ = ["classifier_predictions", "detector_predictions", "json_records"]


def classifier_predictions(images, probs, classes) -> pd.DataFrame:
    """A labels frame (``image, rank, label, score``) ranking every class for every image.

    Examples
    --------
    >>> classifier_predictions(["a"], np.array([[.2, .8]]), ["ok", "bad"])
      image  rank label  score
    0     a     1   bad    0.8
    1     a     2    ok    0.2
    """
    order = np.argsort(-probs, axis=1, kind="stable")
    return pd.DataFrame(
        [
            {"image": i, "rank": r + 1, "label": classes[k], "score": float(p[k])}
            for i, p, o in zip(images, probs, order, strict=True)
            for r, k in enumerate(o)
        ],
        columns=["image", "rank", "label", "score"],
    )


def detector_predictions(truth, images, analyses, classes) -> dict:
    """A detector's boxes, recommended threshold, COCO box cap and counts on held-out images.

    COCO caps boxes per image at 100; a field of 300 cells needs more, so the cap is raised
    to 1.2 x the densest image (truth or prediction).

    Returns
    -------
    dict
        ``pred`` (boxes frame), ``recommended_threshold`` (None without boxes), ``max_dets``
        and ``counts`` (per image and label: ``true, predicted, boxes, error``).

    Examples
    --------
    >>> from vislab.engine.training.runtime import ImageAnalysis
    >>> truth = pd.DataFrame({"image": ["a"], "label": ["cell"], "x": [10.0], "y": [10.0],
    ...                       "w": [8.0], "h": [8.0]})
    >>> a = ImageAnalysis(np.array([[10.0, 10, 8, 8]]), np.array([.9]), np.array([0]),
    ...                   np.array([1.2]))
    >>> out = detector_predictions(truth, ["a"], [a], ["cell"])
    >>> out["recommended_threshold"], out["max_dets"], out["counts"]["error"].round(2).tolist()
    (0.9, 100, [0.2])
    """
    pred = pd.DataFrame(
        [
            {
                "image": i,
                "label": classes[int(k)],
                "score": float(s),
                "x": b[0],
                "y": b[1],
                "w": b[2],
                "h": b[3],
            }
            for i, a in zip(images, analyses, strict=True)
            for b, s, k in zip(a.boxes, a.scores, a.labels, strict=True)
        ],
        columns=["image", "label", "score", "x", "y", "w", "h"],
    )
    densest = max(
        truth.groupby("image").size().max() if len(truth) else 0,
        pred.groupby("image").size().max() if len(pred) else 0,
    )
    max_dets = max(100, int(np.ceil(densest * 1.2)))
    threshold = None
    if len(pred):
        sweep = evaluate.threshold_sweep(truth, pred, max_dets=max_dets)
        best = evaluate.best_threshold(sweep, rule="f1")
        threshold = None if pd.isna(best["threshold"]) else float(best["threshold"])
    true = truth.groupby(["image", "label"]).size()
    kept = pred[pred["score"] >= (threshold if threshold is not None else 0.0)]
    boxes = kept.groupby(["image", "label"]).size()
    rows = [
        (
            i,
            label,
            int(true.get((i, label), 0)),
            float(a.counts[k]),
            int(boxes.get((i, label), 0)),
        )
        for i, a in zip(images, analyses, strict=True)
        for k, label in enumerate(classes)
    ]
    counts = pd.DataFrame(rows, columns=["image", "label", "true", "predicted", "boxes"])
    counts["true"] = counts["true"].astype(float)
    counts["error"] = counts["predicted"] - counts["true"]
    return {
        "pred": pred,
        "recommended_threshold": threshold,
        "max_dets": max_dets,
        "counts": counts,
    }


def json_records(df: pd.DataFrame) -> list[dict]:
    """Rows of a frame as JSON-ready dicts (numpy scalars and NA turned into Python values).

    Examples
    --------
    >>> json_records(pd.DataFrame({"a": [1, None], "b": ["x", "y"]}))
    [{'a': 1.0, 'b': 'x'}, {'a': None, 'b': 'y'}]
    """
    out = []
    for row in df.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, np.generic):
                v = v.item()
            if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out
