"""The :class:`Sweep`: counts and metrics at every score threshold, queried in O(log N).

Built by :func:`vislab.evaluate.threshold_sweep` (or :func:`vislab.evaluate.retrieval_sweep`,
or :meth:`Sweep.from_arrays` / :meth:`Sweep.from_frame`); every number is read through the one
formula of :mod:`vislab.evaluate._curve`; the curves are built by
:mod:`vislab.evaluate._sweep_curves`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from vislab.errors import InvalidParameter
from vislab.evaluate._curve import (
    COUNT_COLUMNS,
    Curve,
    CurveSet,
    curve_table,
    point1,
    point_values,
)
from vislab.evaluate._sweep_curves import curves_from_arrays, curves_from_frame
from vislab.evaluate.outcomes import Outcomes, check_threshold_labels

__all__ = ["Sweep", "COUNT_COLUMNS"]

_ROW_INDEX = pd.Index(list(COUNT_COLUMNS))
_INT_COLUMNS = ("n_pred", "tp", "fp", "fn")
_SCALARS = (float, int, np.float64, np.float32, np.int64)


class Sweep:
    """Precision, recall and F1 at every score threshold, overall and per class.

    Built by :func:`threshold_sweep` (or :func:`vislab.evaluate.retrieval_sweep`, or
    :meth:`from_arrays` / :meth:`from_frame` — the constructor takes the private curve
    objects those build); build once in O(N log N), query in O(log N).

    Parameters
    ----------
    curve : vislab.evaluate._curve.Curve
        Counts at every distinct score of all predictions.
    class_curves : dict
        Label -> the curve of that class's predictions (empty for sweeps without classes).
    by_class : bool, default False
        Whether :attr:`frame` is the per-class view (else the overall one).
    kind : str, default ""
        What was swept (see the ``kind`` attribute).
    meta : dict, optional
        Facts of the evaluation kept beside the numbers (e.g. ``failed_images``).

    Attributes
    ----------
    frame : DataFrame
        One row per distinct score threshold (highest first): ``threshold, n_pred, tp, fp, fn,
        precision, recall, f1`` — per class with a ``label`` column when built with
        ``by_class=True``.
    overall, per_class : DataFrame
        Both views, whatever ``by_class`` was.
    labels : list
        Classes (empty for sweeps without classes).
    n_pos : int
        Number of positives (true objects, true labels, relevant hits).
    kind : str
        ``"detection"``, ``"classification"`` or ``"retrieval"``.
    outcomes : Outcomes
        Per-prediction and per-object outcomes (sweeps built by :func:`threshold_sweep`).

    Notes
    -----
    ``n_pred`` counts predictions with ``score >= threshold``; ``fn = n_pos - tp``.  When
    nothing is predicted precision is 1 (the convention of precision-recall curves).

    Examples
    --------
    >>> s = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=3)
    >>> s.at(0.5)[["tp", "fp", "fn", "precision"]].tolist()
    [1.0, 1.0, 2.0, 0.5]
    """

    def __init__(self, curve: Curve, class_curves: dict, *, by_class=False, kind="", meta=None):
        self._curve = curve
        self._classes = class_curves
        self.by_class = by_class
        self.kind = kind
        self.meta = dict(meta or {})
        self._overall = None
        self._per_class = None
        self._outcomes = None
        self._make_outcomes = None
        self._class_set = None  # built on the first query of every class at once
        self._class_npos = np.array([c.n_pos for c in class_curves.values()], dtype=float)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        scores,
        tp,
        fp=None,
        *,
        n_pos,
        labels=None,
        n_pos_by_label=None,
        by_class=False,
        kind="",
    ) -> Sweep:
        """Build a sweep from per-prediction outcomes.

        Parameters
        ----------
        scores : array-like
            Score of each prediction.
        tp : array-like of bool
            Whether each prediction is right.
        fp : array-like of bool, optional
            Whether each prediction is wrong; default ``~tp``.  A prediction that is neither
            (e.g. on a COCO crowd region) is not counted at all.
        n_pos : int
            Number of positives (for recall and FN).
        labels : array-like, optional
            Class of each prediction, for per-class curves.
        n_pos_by_label : mapping, optional
            Positives per class (classes without predictions included).
        by_class : bool, default False
            Make :attr:`frame` the per-class view.
        kind : str, default ""
            ``"detection"``, ``"classification"`` or ``"retrieval"``, for the reader.

        Returns
        -------
        Sweep
            Predictions that are neither TP nor FP left out.

        Examples
        --------
        >>> Sweep.from_arrays([0.9, 0.1], tp=[True, False], n_pos=1).frame["f1"].tolist()
        [1.0, 0.6666666666666666]
        """
        curve, classes = curves_from_arrays(
            scores, tp, fp, n_pos=n_pos, labels=labels, n_pos_by_label=n_pos_by_label
        )
        return cls(curve, classes, by_class=by_class, kind=kind)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, kind: str = "") -> Sweep:
        """Rebuild a sweep from a sweep frame (``threshold, tp, fp, fn``, optional ``label``).

        Lets a frame that was saved, filtered or built elsewhere be queried with the same rule
        as a sweep (:meth:`at`): the counts of the lowest listed threshold at or above ``t``.

        Parameters
        ----------
        frame : DataFrame
            Columns ``threshold, tp, fp, fn`` (one row per threshold; ``tp + fn`` is the
            number of positives and must be the same on every row of a class), and
            ``label`` for a per-class frame (the overall curve is then the classes' counts
            summed at every threshold).
        kind : str, default ""
            ``"detection"``, ``"classification"`` or ``"retrieval"``, for the reader.

        Returns
        -------
        Sweep
            Per-class (``by_class=True``) when ``frame`` has a ``label`` column.

        Examples
        --------
        >>> s = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2)
        >>> Sweep.from_frame(s.frame).at(0.5).equals(s.at(0.5))
        True
        """
        curve, classes, by_class = curves_from_frame(frame)
        return cls(curve, classes, by_class=by_class, kind=kind)

    # ----------------------------------------------------------------- queries
    @property
    def labels(self) -> list:
        """Classes of the sweep, in the order of its per-class rows (empty without classes)."""
        return list(self._classes)

    @property
    def n_pos(self) -> int:
        """Number of positives: true objects, true labels or relevant (query, item) pairs."""
        return self._curve.n_pos

    @property
    def thresholds(self) -> np.ndarray:
        """Distinct scores, highest first (the rows of :attr:`overall`)."""
        return self._curve.thr

    def _curve_of(self, label) -> Curve:
        if label is None:
            return self._curve
        try:
            return self._classes[label]
        except KeyError:
            raise KeyError(
                f"no class {label!r} in this sweep; classes: {self.labels[:10]}"
            ) from None

    def curve(self, label=None) -> pd.DataFrame:
        """The sweep frame of one class (or of all predictions): one row per distinct score.

        Parameters
        ----------
        label : optional
            A class of :attr:`labels`; ``None`` (default): all predictions.

        Returns
        -------
        DataFrame
            ``threshold, n_pred, tp, fp, fn, precision, recall, f1``, highest threshold
            first.

        Examples
        --------
        >>> s = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2,
        ...                       labels=["cat", "dog", "cat"], n_pos_by_label={"cat": 2})
        >>> s.curve("cat")["tp"].tolist()
        [1, 2]
        """
        return pd.DataFrame(self._curve_of(label).table())

    def average_precision(self, label=None) -> float:
        """Step-wise average precision of the curve, scikit-learn's definition.

        ``sum((R_n - R_(n-1)) * P_n)`` over the distinct thresholds, recall counted against
        every positive (objects never predicted lower it, as they should).  COCO's AP
        interpolates instead: see :meth:`vislab.evaluate.CocoResult.average_precision`.

        Parameters
        ----------
        label : optional
            A class of :attr:`labels`; ``None`` (default): all predictions.

        Returns
        -------
        float
            NaN when there are no predictions or no positives.

        Examples
        --------
        >>> Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2).average_precision()
        0.8333333333333333
        """
        curve = self._curve_of(label)
        if not len(curve.tp) or curve.n_pos <= 0:
            return float("nan")
        table = curve.table()
        recall = np.concatenate([[0.0], table["recall"]])
        return float(np.sum(np.diff(recall) * table["precision"]))

    def values_at(self, threshold) -> np.ndarray:
        """The numbers of :meth:`at` as one array: a row per class, then the overall row.

        The fast path for views that follow a slider (no pandas object is built).

        Parameters
        ----------
        threshold : float or mapping label -> float
            One threshold for all, or one per class (classes not in the mapping keep no
            prediction; the overall row then sums the classes' counts, threshold NaN).

        Returns
        -------
        ndarray, shape (len(labels) + 1, 8)
            Columns ``threshold, n_pred, tp, fp, fn, precision, recall, f1``; rows in
            :attr:`labels` order, the overall row last.

        Examples
        --------
        >>> s = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2,
        ...                       labels=["cat", "dog", "cat"], n_pos_by_label={"cat": 2})
        >>> s.values_at({"cat": 0.2, "dog": 0.85})[:, 2].tolist()  # tp: cat, dog, all
        [2.0, 0.0, 2.0]
        """
        per_class = isinstance(threshold, Mapping)
        if per_class:
            if not self._classes:
                raise InvalidParameter(
                    "per-class thresholds need a sweep with classes", name="threshold"
                )
            check_threshold_labels(threshold, self._classes)
            thr = np.array([float(threshold.get(lab, np.inf)) for lab in self._classes])
        else:
            thr = np.full(len(self._classes), float(threshold))
        if self._class_set is None:
            self._class_set = CurveSet(list(self._classes.values()))
        k = len(thr)
        tp = np.empty(k + 1)
        fp = np.empty(k + 1)
        tp[:k], fp[:k] = self._class_set.counts(thr)
        n_pos = np.empty(k + 1)
        n_pos[:k] = self._class_npos
        t_all = np.empty(k + 1)
        t_all[:k] = thr
        if per_class:
            t_all[k], tp[k], fp[k], n_pos[k] = np.nan, tp[:k].sum(), fp[:k].sum(), n_pos[:k].sum()
        else:
            t_all[k] = float(threshold)
            tp[k], fp[k] = self._curve.count1(t_all[k])
            n_pos[k] = self._curve.n_pos
        return point_values(t_all, tp, fp, n_pos)

    def at(self, threshold, *, label=None, by_class: bool = False):
        """Counts and metrics when predictions with ``score >= threshold`` are kept.

        O(log N): a binary search over the sorted scores.

        Parameters
        ----------
        threshold : float or mapping label -> float
            One threshold, or one per class: the overall row then sums the classes' counts
            (each class at its own threshold; classes not named keep nothing) and its
            ``threshold`` is NaN.
        label : optional
            One class instead of all predictions.
        by_class : bool
            Return one row per class (a DataFrame indexed by label).

        Returns
        -------
        Series (``threshold, n_pred, tp, fp, fn, precision, recall, f1``) or DataFrame.

        Examples
        --------
        >>> s = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2,
        ...                       labels=["cat", "dog", "cat"], n_pos_by_label={"cat": 2})
        >>> s.at(0.5, label="cat")["recall"]
        np.float64(0.5)
        >>> s.at(0.0, by_class=True)["tp"].tolist()
        [2, 0]
        >>> s.at({"cat": 0.2, "dog": 0.85})[["tp", "fp", "recall"]].tolist()
        [2.0, 0.0, 1.0]
        """
        if not by_class and threshold.__class__ in _SCALARS:  # the hot path: one binary search
            curve = self._curve if label is None else self._curve_of(label)
            values = point1(threshold, *curve.count1(threshold), curve.n_pos)
            return pd.Series(np.array(values, dtype=float), index=_ROW_INDEX, copy=False)
        if label is not None and isinstance(threshold, Mapping):
            check_threshold_labels(threshold, self._classes)
            threshold = float(threshold.get(label, np.inf))
        if by_class or isinstance(threshold, Mapping):
            values = self.values_at(threshold)
            if not by_class:
                return pd.Series(values[-1], index=_ROW_INDEX, copy=False)
            out = pd.DataFrame(
                values[:-1],
                index=pd.Index(self.labels, name="label"),
                columns=list(COUNT_COLUMNS),
            )
            for col in _INT_COLUMNS:
                out[col] = out[col].astype(np.int64)
            return out if label is None else out.loc[label]
        curve = self._curve_of(label)
        values = point1(threshold, *curve.count1(threshold), curve.n_pos)
        return pd.Series(np.array(values, dtype=float), index=_ROW_INDEX, copy=False)

    def at_many(self, thresholds, *, label=None) -> pd.DataFrame:
        """Counts and metrics at many thresholds at once (vectorised).

        Parameters
        ----------
        thresholds : array-like of float
            Thresholds in any order; each keeps the predictions with ``score >= threshold``.
        label : optional
            A class of :attr:`labels`; ``None`` (default): all predictions.

        Returns
        -------
        DataFrame
            One row per threshold, in the order given: ``threshold, n_pred, tp, fp, fn,
            precision, recall, f1``.

        Examples
        --------
        >>> s = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2)
        >>> s.at_many([0.95, 0.5, 0.0])["tp"].tolist()
        [0, 1, 2]
        """
        curve = self._curve_of(label)
        tp, fp = curve.counts(thresholds)
        return pd.DataFrame(curve_table(thresholds, tp, fp, curve.n_pos))

    # ----------------------------------------------------------------- frames
    @property
    def overall(self) -> pd.DataFrame:
        """The sweep frame of all predictions: one row per distinct score, highest first."""
        if self._overall is None:
            self._overall = pd.DataFrame(self._curve.table())
        return self._overall

    @property
    def per_class(self) -> pd.DataFrame:
        """The sweep frames of every class, one after the other, with a ``label`` column."""
        if self._per_class is None:
            parts = []
            for name, c in self._classes.items():
                t = pd.DataFrame(c.table())
                t.insert(0, "label", name)
                parts.append(t)
            cols = ["label", *COUNT_COLUMNS]
            self._per_class = (
                pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
            )
        return self._per_class

    @property
    def frame(self) -> pd.DataFrame:
        """:attr:`per_class` when built with ``by_class=True``, else :attr:`overall`."""
        return self.per_class if self.by_class else self.overall

    @property
    def outcomes(self) -> Outcomes:
        """Which prediction and which object is right, wrong or missed, at any threshold."""
        if self._outcomes is None:
            if self._make_outcomes is None:
                raise TypeError(
                    "this sweep has no per-image outcomes; build it with "
                    "threshold_sweep(truth, pred)"
                )
            # Built on first use: a sweep that only answers counts never pays for the frames.
            self._outcomes = self._make_outcomes()
            self._make_outcomes = None
        return self._outcomes

    def matches_at(self, threshold, *, images=None) -> pd.DataFrame:
        """Per-prediction outcome (tp / fp / ignore) and missed objects (fn) at a threshold.

        No matching is done again: the outcomes come from :attr:`outcomes`.  Predictions below
        the threshold are left out; a true object is ``fn`` when the prediction that matched
        it in the full matching scores below the threshold (greedy matching makes this exact).
        Works for detection and for labels sweeps.

        Parameters
        ----------
        threshold : float or mapping label -> float
            One threshold, or one per class (a class not named keeps nothing).
        images : sequence, optional
            Only these images (fast for drawing one image).

        Returns
        -------
        DataFrame
            Like :func:`vislab.evaluate.match_detections`: the kept predictions, then the
            missed objects (``match == "fn"``, ``score`` NaN); for labels sweeps the columns
            are ``image, label, score, match``.

        Examples
        --------
        >>> pred = pd.DataFrame({"image": ["a", "a"], "label": ["cat", "cat"],
        ...                      "score": [0.9, 0.4], "x": [0, 50], "y": [0, 50],
        ...                      "w": [10, 10], "h": [10, 10]})
        >>> truth = pred.drop(columns="score")
        >>> from vislab.evaluate import threshold_sweep
        >>> threshold_sweep(truth, pred).matches_at(0.5)["match"].tolist()
        ['tp', 'fn']
        """
        return self.outcomes.at(threshold, images=images)

    def __repr__(self) -> str:
        return (
            f"Sweep(kind={self.kind!r}, thresholds={len(self._curve.thr)}, n_pos={self.n_pos}, "
            f"classes={len(self._classes)})"
        )

    def _repr_html_(self) -> str:
        head = self.frame.head(10).to_html(float_format=lambda v: f"{v:.3f}", index=False)
        return f"<p><b>{self!r}</b> (first 10 rows)</p>{head}"
