"""Thin glue between the widgets and :mod:`vislab.evaluate` sweeps (no metric is defined here).

Every number comes from a :class:`vislab.evaluate.Sweep` (``at``, ``overall``,
``per_class``) or from :func:`vislab.evaluate.best_threshold`; this module only reshapes them
for display: rows as dicts, curves thinned for plotting, rules that may find nothing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["ok_predictions", "score_range", "at", "curve", "best"]

_FIELDS = ("tp", "fp", "fn", "precision", "recall", "f1")


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


def curve(sweep, *, label=None, max_points: int = 2000) -> pd.DataFrame:
    """``threshold, precision, recall, f1`` of the sweep (one class or all), thinned to at most
    ``max_points`` rows for drawing (first and last rows always kept)."""
    frame = sweep.curve(label)[["threshold", "precision", "recall", "f1"]]
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
