"""The state of a :class:`~vislab.widgets.ThresholdTuner`: a pure-Python object, no widget.

:class:`ThresholdState` holds the sweep, the chosen threshold(s), the numbers at them and the
page of images on show.  It imports no ipywidgets and draws nothing, so it can be driven and
tested anywhere (``state.threshold = 0.4; state.metrics``); the tuner is a view of it.  Every
number comes from :mod:`vislab.evaluate`: the sweep built once by
:func:`~vislab.evaluate.threshold_sweep` answers "what are TP/FP/FN/P/R/F1 at t" by binary
search, its :attr:`~vislab.evaluate.Sweep.outcomes` say which box or label is right, wrong or
missed on each image, and :func:`~vislab.evaluate.coco_eval` gives the threshold-free mAP.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import traitlets

from vislab.errors import InvalidFrame
from vislab.evaluate import (
    COUNT_COLUMNS,
    apply_threshold,
    best_threshold,
    coco_eval,
    threshold_sweep,
)
from vislab.widgets._base import check_overlap
from vislab.widgets._outcomes import OutcomeTiles

__all__ = ["ThresholdState", "METRIC_COLUMNS"]

METRIC_COLUMNS = ["threshold", "tp", "fp", "fn", "precision", "recall", "f1"]
_PICK = [COUNT_COLUMNS.index(c) for c in METRIC_COLUMNS]
_INT = {"tp": np.int64, "fp": np.int64, "fn": np.int64}


def ok_predictions(pred: pd.DataFrame) -> pd.DataFrame:
    """Rows of a result frame that carry a prediction (failed-image rows left out)."""
    if "error_code" in pred.columns:
        return pred[pred["error_code"].isna().to_numpy()]
    return pred


def score_range(scores) -> tuple[float, float]:
    """Slider range: [0, 1] widened to the scores when a service uses another scale."""
    s = pd.to_numeric(pd.Series(scores, dtype=object), errors="coerce").dropna()
    lo = min(0.0, float(s.min())) if len(s) else 0.0
    hi = max(1.0, float(s.max())) if len(s) else 1.0
    return lo, hi


def best(sweep, rule, *, label=None) -> float | None:
    """Threshold chosen by :func:`vislab.evaluate.best_threshold`, or ``None`` when no
    threshold satisfies the rule (or there is nothing to choose from)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            row = best_threshold(sweep, rule=rule, label=label)
    except (InvalidFrame, KeyError):
        return None
    t = row["threshold"]
    return None if pd.isna(t) else float(t)


class ThresholdState(traitlets.HasTraits):
    """Threshold(s), numbers and pages of a threshold tuner, without any widget.

    Parameters
    ----------
    truth, pred, iou, per_class, threshold, page_size, show_map
        As for :class:`vislab.widgets.ThresholdTuner`.

    Attributes
    ----------
    threshold : float
        One threshold for all classes (a traitlet; setting it moves every class).
    thresholds : dict
        The threshold of each class (a traitlet).
    page, only_errors : int, bool
        The page of the image grid, and whether it shows only images with errors.
    revision : int
        Incremented after every change of the numbers: observe it to redraw.
    sweep : vislab.evaluate.Sweep
    kind : str
        ``"detection"`` or ``"classification"``.
    labels : list
    map : Series or None
        COCO's 12 numbers (detection, ``show_map``), which no threshold changes.

    Examples
    --------
    >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
    ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
    >>> state = ThresholdState(truth, truth.assign(score=[0.9, 0.4]), threshold=0.5,
    ...                        show_map=False)
    >>> state.metrics.loc["all", ["tp", "fp", "fn"]].tolist()
    [1, 0, 1]
    >>> state.threshold = 0.3
    >>> state.point()["recall"]
    1.0
    """

    threshold = traitlets.Float(0.5)
    thresholds = traitlets.Dict()
    page = traitlets.Int(0)
    only_errors = traitlets.Bool(False)
    revision = traitlets.Int(0)

    def __init__(
        self,
        truth: pd.DataFrame,
        pred: pd.DataFrame,
        *,
        iou: float = 0.5,
        per_class: bool = False,
        threshold: float | None = None,
        page_size: int = 12,
        show_map: bool = True,
    ):
        super().__init__()
        # The sweep validates both frames first (typed errors, the truth-first check).
        self.sweep = threshold_sweep(truth, pred, iou=iou, by_class=per_class)
        self.kind = self.sweep.kind
        self.iou = iou
        self.per_class = per_class
        self.page_size = page_size
        self.pred, self.truth = pred, truth
        ok = ok_predictions(pred)
        if "score" in ok.columns:
            ok = ok[pd.to_numeric(ok["score"], errors="coerce").notna().to_numpy()]
        else:
            ok = ok.iloc[0:0].assign(score=np.nan)
        check_overlap(ok, truth)
        self.labels = list(self.sweep.labels)
        self.map = None
        if show_map and self.kind == "detection" and len(truth) and len(ok):
            self.map = coco_eval(truth, pred).stats
        self.tiles_of = OutcomeTiles(self.sweep.outcomes)
        self.score_range = score_range(ok["score"])
        self.facts = {
            "n_pred": len(ok),
            "n_images": int(ok["image"].nunique()) if len(ok) else 0,
            "n_truth": len(truth),
            "failed_images": list(self.sweep.meta.get("failed_images", [])),
        }
        self._labels_index = pd.Index(self.labels + ["all"], name="label")
        self._metrics = None
        start = float(threshold) if threshold is not None else best(self.sweep, "f1")
        if start is None:
            start = sum(self.score_range) / 2
        self._values = self.sweep.values_at(start)
        self.set_trait("thresholds", {lab: start for lab in self.labels})
        self.set_trait("threshold", start)
        if per_class:
            self.set_trait(
                "thresholds",
                {lab: _or(best(self.sweep, "f1", label=lab), start) for lab in self.labels},
            )
        self._recompute()

    # -- changes -----------------------------------------------------------------------------
    @traitlets.observe("threshold")
    def _on_threshold(self, change) -> None:
        value = float(change["new"])
        # One threshold for all: every class follows it.
        self.thresholds = {lab: value for lab in self.labels}
        if not self.per_class:
            self._recompute()

    @traitlets.observe("thresholds")
    def _on_thresholds(self, change) -> None:
        if self.per_class:
            self._recompute()

    @traitlets.observe("only_errors")
    def _on_only_errors(self, change) -> None:
        self.page = 0

    def _recompute(self) -> None:
        self._values = self.sweep.values_at(self.operating_threshold)
        self._metrics = None
        self.revision += 1

    @property
    def operating_threshold(self):
        """What is applied: ``threshold``, or the dict of per-class thresholds."""
        return dict(self.thresholds) if self.per_class else self.threshold

    def set_class_threshold(self, label, value: float) -> None:
        """Set the threshold of one class (``per_class`` tuners; others follow ``.threshold``)."""
        if label not in self.thresholds:
            raise KeyError(f"unknown class {label!r}; classes: {list(self.labels)}")
        new = dict(self.thresholds)
        new[label] = float(value)
        self.thresholds = new

    def threshold_of(self, label=None) -> float:
        """The threshold of ``label`` (``None``: the one for all)."""
        return self.thresholds.get(label, self.threshold) if label is not None else self.threshold

    def apply_rule(self, rule: str) -> float | None:
        """Move the threshold(s) to the one chosen by ``rule`` (``best_threshold``'s rules).

        Returns the overall threshold chosen, or ``None`` when none satisfies the rule
        (then nothing moves).
        """
        t = best(self.sweep, rule)
        if t is None:
            return None
        self.threshold = t
        if self.per_class:
            self.thresholds = {
                lab: _or(best(self.sweep, rule, label=lab), self.thresholds[lab])
                for lab in self.labels
            }
        return t

    # -- numbers -----------------------------------------------------------------------------
    @property
    def values(self) -> np.ndarray:
        """``threshold, tp, fp, fn, precision, recall, f1`` per class, then overall (array)."""
        return self._values[:, _PICK]

    @property
    def metrics(self) -> pd.DataFrame:
        """TP/FP/FN/P/R/F1 at the current threshold(s): one row per class, then ``"all"``."""
        if self._metrics is None:
            v = self.values
            self._metrics = pd.DataFrame(
                {
                    c: v[:, i].astype(_INT[c]) if c in _INT else v[:, i]
                    for i, c in enumerate(METRIC_COLUMNS)
                },
                index=self._labels_index,
                copy=False,
            )
        return self._metrics

    def point(self, label=None) -> dict:
        """The operating point of one class (or of all) as plain numbers."""
        i = self.labels.index(label) if label is not None else len(self.labels)
        return dict(zip(METRIC_COLUMNS, self.values[i].tolist(), strict=True))

    def to_frame(self) -> pd.DataFrame:
        """The predictions kept at the current threshold(s) (rows of failed images stay)."""
        return apply_threshold(self.pred, self.operating_threshold)

    # -- images ------------------------------------------------------------------------------
    def error_images(self, threshold=None) -> list:
        """Images with a false positive or a missed object at ``threshold`` (default: now)."""
        return self.tiles_of.error_images(
            self.operating_threshold if threshold is None else threshold
        )

    def pool(self) -> list:
        """The images the grid pages through: all of them, or those with errors."""
        return self.error_images() if self.only_errors else self.tiles_of.images

    def grid_images(self) -> list:
        """Images on the current page of the grid."""
        pool = self.pool()
        page = min(self.page, self.n_pages(pool) - 1)
        return pool[page * self.page_size : (page + 1) * self.page_size]

    def n_pages(self, pool=None) -> int:
        pool = self.pool() if pool is None else pool
        return max(1, -(-len(pool) // self.page_size))

    def page_text(self) -> str:
        pool = self.pool()
        pages = self.n_pages(pool)
        what = "images with errors" if self.only_errors else "images"
        return f"page {min(self.page, pages - 1) + 1} / {pages} · {len(pool)} {what}"

    def tiles(self, keys, pictures=None) -> list:
        """What each image shows (``pictures``: ``key -> (pixels, size)``, optional)."""
        out = []
        for key in keys:
            pixels, size = pictures(key) if pictures is not None else (None, None)
            out.append(self.tiles_of.tile(key, self.operating_threshold, pixels=pixels, size=size))
        return out

    def summary(self) -> str:
        r = self.point()
        t = "per class" if self.per_class else f"{self.threshold:.3f}"
        return (
            f"ThresholdTuner(threshold={t}: tp={int(r['tp'])}, fp={int(r['fp'])}, "
            f"fn={int(r['fn'])}, precision={r['precision']:.4f}, recall={r['recall']:.4f}, "
            f"f1={r['f1']:.4f})"
        )


def _or(value, default):
    return default if value is None else value
