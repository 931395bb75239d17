"""Thin glue between the widgets and :mod:`vislab.evaluate` sweeps (no metric is defined here).

Every number comes from a :class:`vislab.evaluate.Sweep` (``at``, ``overall``,
``per_class``) or from :func:`vislab.evaluate.best_threshold`; this module only reshapes them
for display: rows as dicts, curves thinned for plotting, rules that may find nothing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = [
    "ok_predictions",
    "score_range",
    "at",
    "combine",
    "curve",
    "best",
]

_FIELDS = ("tp", "fp", "fn", "precision", "recall", "f1")


def sweep_of(pred: pd.DataFrame, truth: pd.DataFrame, *, iou: float, by_class: bool, kind: str):
    """:func:`vislab.evaluate.threshold_sweep`, plus an empty detection sweep when there is no
    prediction at all (the evaluate matcher needs at least one box)."""
    from vislab.evaluate import Sweep, threshold_sweep

    if kind == "detection" and len(ok_predictions(pred)) == 0:
        crowd = (
            pd.to_numeric(truth["iscrowd"], errors="coerce").fillna(0).to_numpy() != 0
            if "iscrowd" in truth.columns
            else np.zeros(len(truth), bool)
        )
        counts = truth.loc[~crowd, "label"].value_counts().to_dict()
        sweep = Sweep.from_arrays(
            [],
            tp=[],
            n_pos=int((~crowd).sum()),
            labels=[],
            n_pos_by_label=counts,
            by_class=by_class,
            kind="detection",
        )
        sweep.meta.update(iou=iou, failed_images=list(pd.unique(pred.get("image", []))))
        return sweep
    return threshold_sweep(pred, truth, iou=iou, by_class=by_class)


def ok_predictions(pred: pd.DataFrame) -> pd.DataFrame:
    """Rows of a result frame that carry a prediction (failed-image rows left out)."""
    if "error_code" in pred.columns:
        return pred[pred["error_code"].isna().to_numpy()]
    return pred


def score_range(ok: pd.DataFrame) -> tuple[float, float]:
    """Slider range: [0, 1] widened to the scores when a service uses another scale."""
    scores = pd.to_numeric(ok["score"], errors="coerce").dropna() if len(ok) else pd.Series([])
    lo = min(0.0, float(scores.min())) if len(scores) else 0.0
    hi = max(1.0, float(scores.max())) if len(scores) else 1.0
    return lo, hi


def at(sweep, threshold: float, *, label=None) -> dict:
    """``{tp, fp, fn, precision, recall, f1}`` of ``sweep.at(threshold, label=label)``."""
    row = sweep.at(threshold, label=label)
    out = {k: float(row[k]) for k in _FIELDS}
    for k in ("tp", "fp", "fn"):
        out[k] = int(out[k])
    return out


def combine(rows, *, threshold=np.nan) -> dict:
    """The overall row when each class has its own threshold: counts summed over classes.

    Precision, recall and F1 of the summed counts come from the sweep module's own formula.
    """
    from vislab.evaluate.sweeps import _metrics

    rows = list(rows)
    tp = sum(int(r["tp"]) for r in rows)
    fp = sum(int(r["fp"]) for r in rows)
    n_pos = sum(int(r["tp"]) + int(r["fn"]) for r in rows)
    m = _metrics([threshold], [tp], [fp], n_pos)
    out = {"threshold": threshold}
    out.update({k: m[k][0] for k in _FIELDS})
    for k in ("tp", "fp", "fn"):
        out[k] = int(out[k])
    return out


def curve(sweep, *, label=None, max_points: int = 2000) -> pd.DataFrame:
    """``threshold, precision, recall, f1`` of the sweep (one class or all), thinned to at most
    ``max_points`` rows for drawing (first and last rows always kept)."""
    if label is None:
        frame = sweep.overall
    else:
        pc = sweep.per_class
        frame = pc[pc["label"] == label]
    frame = frame[["threshold", "precision", "recall", "f1"]]
    if len(frame) > max_points:
        idx = np.unique(np.linspace(0, len(frame) - 1, max_points).astype(np.int64))
        frame = frame.iloc[idx]
    return frame.reset_index(drop=True)


def best(sweep, rule, *, label=None) -> float | None:
    """Threshold chosen by :func:`vislab.evaluate.best_threshold`, or ``None`` when no
    threshold satisfies the rule (or there is nothing to choose from)."""
    from vislab.errors import InvalidFrame
    from vislab.evaluate import best_threshold

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            row = best_threshold(sweep, rule=rule, label=label)
    except (InvalidFrame, KeyError):
        return None
    t = row["threshold"]
    return None if pd.isna(t) else float(t)
