"""Score-threshold sweeps: TP / FP / FN, precision, recall and F1 at every operating point.

A service returns every box (or label) with a score; the application keeps those with
``score >= threshold``.  :func:`threshold_sweep` matches once and sorts once (O(N log N)), after
which the counts at any threshold are a binary search away (O(log N)) — fast enough to follow a
slider.  The trick that makes this exact for detection: COCO's matching is greedy by score, so
the matching of the predictions above a threshold is the prefix of the full matching.

:func:`best_threshold` picks an operating point by a rule (best F1, a precision or recall
floor, or costs of errors).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame, InvalidParameter
from vislab.evaluate._validate import (
    check_scores,
    ordered_unique,
    prediction_rows,
    report_unknown_labels,
)
from vislab.frames import require_columns

__all__ = ["Sweep", "threshold_sweep", "best_threshold"]

COUNT_COLUMNS = ("threshold", "n_pred", "tp", "fp", "fn", "precision", "recall", "f1")


class _Curve:
    """Cumulative counts at each distinct score, highest score first."""

    __slots__ = ("thr", "neg_thr", "tp", "fp", "n_pos")

    def __init__(self, scores: np.ndarray, tp: np.ndarray, fp: np.ndarray, n_pos: int):
        order = np.argsort(-scores, kind="stable")
        s = scores[order]
        ctp = np.cumsum(tp[order], dtype=np.int64)
        cfp = np.cumsum(fp[order], dtype=np.int64)
        # Keep the last row of each run of equal scores: a threshold keeps all of them.
        last = np.ones(len(s), dtype=bool)
        last[:-1] = s[1:] != s[:-1]
        self.thr = s[last]
        self.neg_thr = -self.thr  # ascending, for searchsorted
        self.tp = ctp[last]
        self.fp = cfp[last]
        self.n_pos = int(n_pos)

    def counts(self, thresholds) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(thresholds, dtype=float)
        i = np.searchsorted(self.neg_thr, -t, side="right")  # rows with score >= t
        tp = np.where(i > 0, self.tp[np.maximum(i - 1, 0)] if len(self.tp) else 0, 0)
        fp = np.where(i > 0, self.fp[np.maximum(i - 1, 0)] if len(self.fp) else 0, 0)
        return tp, fp

    def count1(self, threshold: float) -> tuple[int, int]:
        """(tp, fp) at one threshold: a single binary search."""
        i = int(self.neg_thr.searchsorted(-threshold, side="right"))
        return (int(self.tp[i - 1]), int(self.fp[i - 1])) if i else (0, 0)

    def table(self) -> dict:
        return _metrics(self.thr, self.tp, self.fp, self.n_pos)


_ROW_INDEX = pd.Index(["threshold", "n_pred", "tp", "fp", "fn", "precision", "recall", "f1"])


def _row1(threshold: float, tp: int, fp: int, n_pos: int) -> np.ndarray:
    """The metrics of one operating point (same conventions as :func:`_metrics`)."""
    n_pred = tp + fp
    precision = tp / n_pred if n_pred else 1.0
    recall = tp / n_pos if n_pos > 0 else np.nan
    f1 = 2 * tp / (n_pred + n_pos) if tp else 0.0
    return np.array([threshold, n_pred, tp, fp, n_pos - tp, precision, recall, f1], dtype=float)


def _metrics(thr, tp, fp, n_pos) -> dict:
    tp = np.asarray(tp, dtype=np.int64)
    fp = np.asarray(fp, dtype=np.int64)
    n_pred = tp + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        # Nothing predicted: precision 1 by the convention of precision-recall curves.
        precision = np.where(n_pred > 0, tp / np.maximum(n_pred, 1), 1.0)
        recall = tp / n_pos if n_pos > 0 else np.full(len(tp), np.nan)
        f1 = np.where(tp > 0, 2 * tp / (n_pred + n_pos), 0.0)
    return {
        "threshold": np.asarray(thr, dtype=float),
        "n_pred": n_pred,
        "tp": tp,
        "fp": fp,
        "fn": n_pos - tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


class Sweep:
    """Precision, recall and F1 at every score threshold, overall and per class.

    Built by :func:`threshold_sweep` (or :func:`vislab.evaluate.retrieval_sweep`); build
    once in O(N log N), query in O(log N).

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

    def __init__(self, curve: _Curve, class_curves: dict, *, by_class=False, kind="", meta=None):
        self._curve = curve
        self._classes = class_curves
        self.by_class = by_class
        self.kind = kind
        self.meta = dict(meta or {})
        self._overall = None
        self._per_class = None
        self._matcher = None

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

        Examples
        --------
        >>> Sweep.from_arrays([0.9, 0.1], tp=[True, False], n_pos=1).frame["f1"].tolist()
        [1.0, 0.6666666666666666]
        """
        scores = np.asarray(scores, dtype=float)
        tp = np.asarray(tp, dtype=bool)
        fp = ~tp if fp is None else np.asarray(fp, dtype=bool)
        counted = tp | fp
        curve = _Curve(scores[counted], tp[counted], fp[counted], n_pos)
        classes = {}
        if labels is not None:
            labels = np.asarray(labels, dtype=object)[counted]
            npos_map = dict(n_pos_by_label or {})
            names = ordered_unique(
                list(npos_map) + list(pd.unique(pd.Series(labels, dtype=object)))
            )
            codes = pd.Index(names).get_indexer(pd.Index(labels, dtype=object))
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
            sc, t, f = scores[counted][order], tp[counted][order], fp[counted][order]
            for k, name in enumerate(names):
                sl = slice(bounds[k], bounds[k + 1])
                classes[name] = _Curve(sc[sl], t[sl], f[sl], int(npos_map.get(name, 0)))
        return cls(curve, classes, by_class=by_class, kind=kind)

    # ----------------------------------------------------------------- queries
    @property
    def labels(self) -> list:
        return list(self._classes)

    @property
    def n_pos(self) -> int:
        return self._curve.n_pos

    @property
    def thresholds(self) -> np.ndarray:
        """Distinct scores, highest first (the rows of :attr:`overall`)."""
        return self._curve.thr

    def _curve_of(self, label):
        if label is None:
            return self._curve
        try:
            return self._classes[label]
        except KeyError:
            raise KeyError(
                f"no class {label!r} in this sweep; classes: {self.labels[:10]}"
            ) from None

    def at(self, threshold: float, *, label=None, by_class: bool = False):
        """Counts and metrics when predictions with ``score >= threshold`` are kept.

        O(log N): a binary search over the sorted scores.

        Parameters
        ----------
        threshold : float
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
        """
        if by_class:
            names = list(self._classes)
            values = np.array(
                [_row1(threshold, *c.count1(threshold), c.n_pos) for c in self._classes.values()]
            ).reshape(len(names), 8)
            out = pd.DataFrame(
                values, index=pd.Index(names, name="label"), columns=list(COUNT_COLUMNS)
            )
            for col in ("n_pred", "tp", "fp", "fn"):
                out[col] = out[col].astype(np.int64)
            return out
        curve = self._curve_of(label)
        return pd.Series(
            _row1(threshold, *curve.count1(threshold), curve.n_pos), index=_ROW_INDEX, copy=False
        )

    def at_many(self, thresholds, *, label=None) -> pd.DataFrame:
        """Counts and metrics at many thresholds at once (vectorised).

        Examples
        --------
        >>> s = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2)
        >>> s.at_many([0.95, 0.5, 0.0])["tp"].tolist()
        [0, 1, 2]
        """
        curve = self._curve_of(label)
        tp, fp = curve.counts(thresholds)
        return pd.DataFrame(_metrics(thresholds, tp, fp, curve.n_pos))

    # ----------------------------------------------------------------- frames
    @property
    def overall(self) -> pd.DataFrame:
        if self._overall is None:
            self._overall = pd.DataFrame(self._curve.table())
        return self._overall

    @property
    def per_class(self) -> pd.DataFrame:
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
        return self.per_class if self.by_class else self.overall

    def matches_at(self, threshold: float, *, images=None) -> pd.DataFrame:
        """Per-box outcome (tp / fp / fn / ignore) at a threshold, without matching again.

        Only for detection sweeps.  Predictions below the threshold are left out; a true box is
        ``fn`` when the prediction that matched it in the full matching scores below the
        threshold (greedy matching makes this exact).

        Parameters
        ----------
        threshold : float
        images : sequence, optional
            Only these images (fast for drawing one image).

        Returns
        -------
        DataFrame like :func:`vislab.evaluate.match_detections`.

        Examples
        --------
        >>> pred = pd.DataFrame({"image": ["a", "a"], "label": ["cat", "cat"],
        ...                      "score": [0.9, 0.4], "x": [0, 50], "y": [0, 50],
        ...                      "w": [10, 10], "h": [10, 10]})
        >>> truth = pred.drop(columns="score")
        >>> threshold_sweep(pred, truth).matches_at(0.5)["match"].tolist()
        ['tp', 'fn']
        """
        if self._matcher is None:
            raise TypeError("matches_at() needs a detection sweep built by threshold_sweep()")
        return self._matcher(threshold, images)

    def __repr__(self) -> str:
        return (
            f"Sweep(kind={self.kind!r}, thresholds={len(self._curve.thr)}, n_pos={self.n_pos}, "
            f"classes={len(self._classes)})"
        )

    def _repr_html_(self) -> str:
        head = self.frame.head(10).to_html(float_format=lambda v: f"{v:.3f}", index=False)
        return f"<p><b>{self!r}</b> (first 10 rows)</p>{head}"


def _is_boxes(df: pd.DataFrame) -> bool:
    return all(c in df.columns for c in ("x", "y", "w", "h"))


def threshold_sweep(
    pred: pd.DataFrame,
    truth: pd.DataFrame,
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
    its score is right when the image truly has that label.

    Parameters
    ----------
    pred : DataFrame
        Boxes frame (``image, label, score, x, y, w, h``) or labels frame (``image, rank,
        label, score``).  Failed-image rows (``error_code`` set) count as no predictions.
    truth : DataFrame
        Truth boxes, or truth labels (``image, label``).
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
        ``.frame``, ``.at(threshold)``, ``.at_many(...)``, ``.matches_at(threshold)``.

    Examples
    --------
    >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat"] * 3,
    ...                      "score": [0.9, 0.6, 0.3], "x": [0, 50, 0], "y": [0, 50, 0],
    ...                      "w": [10, 10, 10], "h": [10, 10, 10]})
    >>> truth = pred.drop(columns="score").iloc[[0, 2]]
    >>> sweep = threshold_sweep(pred, truth)
    >>> sweep.frame[["threshold", "tp", "fp", "fn", "precision", "recall"]]
       threshold  tp  fp  fn  precision  recall
    0        0.9   1   0   1   1.000000     0.5
    1        0.6   1   1   1   0.500000     0.5
    2        0.3   2   1   0   0.666667     1.0
    >>> sweep.at(0.5)["f1"]
    np.float64(0.5)
    """
    if _is_boxes(truth) or (_is_boxes(pred) and not {"rank"} <= set(pred.columns)):
        return _detection_sweep(
            pred, truth, iou=iou, by_class=by_class, class_aware=class_aware, max_dets=max_dets
        )
    return _label_sweep(pred, truth, by_class=by_class)


def _detection_sweep(pred, truth, *, iou, by_class, class_aware, max_dets) -> Sweep:
    from vislab.evaluate.detection import (
        _MATCH_NAMES,
        missed_truth_rows,
        prepare_detection,
        single_match,
    )

    data = prepare_detection(pred, truth)
    res = single_match(data, iou=iou, class_aware=class_aware, max_dets=max_dets)
    code = res["det_match"]
    labels = data.pred["label"].to_numpy()
    real = ~res["gt_ignore"]
    t_labels = data.truth["label"].to_numpy()[real]
    npos = pd.Series(t_labels, dtype=object).value_counts().to_dict()
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

    gt_det = res["gt_det"]
    gt_score = np.full(len(gt_det), -np.inf)
    gt_score[gt_det >= 0] = data.det_score[gt_det[gt_det >= 0]]
    det_img = data.pred["image"].to_numpy()
    gt_img = data.truth["image"].to_numpy()

    def matcher(threshold, images):
        dsel = (data.det_score >= threshold) & (code != 3)
        gsel = real & (gt_score < threshold)
        if images is not None:
            wanted = pd.Index(list(images))
            dsel &= (
                wanted.get_indexer(pd.Index(det_img, dtype=object)) >= 0 if len(det_img) else dsel
            )
            gsel &= wanted.get_indexer(pd.Index(gt_img, dtype=object)) >= 0 if len(gt_img) else gsel
        d = np.flatnonzero(dsel)
        g = np.flatnonzero(gsel)
        det_gt = res["det_gt"][d]
        out = pd.DataFrame(
            {
                "image": det_img[d],
                "label": labels[d],
                "score": data.det_score[d],
                "x": data.det_box[d, 0],
                "y": data.det_box[d, 1],
                "w": data.det_box[d, 2],
                "h": data.det_box[d, 3],
                "match": _MATCH_NAMES[code[d]],
                "iou": res["det_iou"][d],
                "truth_id": [data.gt_id[i] if i >= 0 else None for i in det_gt],
            }
        )
        fn = missed_truth_rows(data, g)
        parts = [f for f in (out, fn) if len(f)]
        return pd.concat(parts, ignore_index=True) if parts else out

    sweep._matcher = matcher
    return sweep


def _label_sweep(pred, truth, *, by_class) -> Sweep:
    ok, failed = prediction_rows(pred, ["image", "label", "score"], name="pred")
    require_columns(truth, ["image", "label"], name="truth")
    scores = check_scores(ok, name="pred")
    p = pd.DataFrame(
        {"image": ok["image"].to_numpy(), "label": ok["label"].to_numpy(), "score": scores}
    )
    # One score per (image, label): a service that repeats a label means its best score.
    p = p.groupby(["image", "label"], sort=False, dropna=False)["score"].max().reset_index()
    t = truth[["image", "label"]].drop_duplicates()
    report_unknown_labels(p["label"], t["label"])
    pos = pd.MultiIndex.from_frame(t)
    is_tp = pd.MultiIndex.from_frame(p[["image", "label"]]).isin(pos)
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
    return sweep


_RULE = re.compile(r"^\s*(precision|recall)\s*>=\s*([0-9.]+)\s*$")
_FBETA = re.compile(r"^\s*f([0-9.]+)?\s*$")


def best_threshold(
    sweep,
    *,
    rule: str | Mapping[str, float] | Callable = "f1",
    label=None,
) -> pd.Series:
    """Pick the operating point of a sweep by a rule.

    Parameters
    ----------
    sweep : Sweep or DataFrame
        A :class:`Sweep` or a frame with its columns.
    rule : str, mapping or callable, default "f1"
        * ``"f1"`` (or ``"f0.5"``, ``"f2"``, any F-beta): the threshold with the best score.
        * ``"precision>=0.9"``: the lowest threshold (most recall) whose precision is at least
          0.9 — for applications where a false alarm is expensive.
        * ``"recall>=0.8"``: the highest-precision threshold that still finds 80 % — for
          applications where a miss is expensive.
        * ``{"fp": 1, "fn": 5}``: the threshold with the lowest total cost of errors (keys
          ``fp``, ``fn``, optionally ``tp`` as a negative cost, i.e. a gain).
        * a callable taking the sweep frame and returning a score per row to maximise.

        Ties go to the higher threshold (fewer predictions for the same quality).
    label : optional
        Choose for one class of the sweep.

    Returns
    -------
    Series
        ``threshold, n_pred, tp, fp, fn, precision, recall, f1`` of the chosen row and the
        ``rule``.  If no threshold satisfies a floor, a warning is issued and ``threshold``
        is NaN.

    Examples
    --------
    >>> s = Sweep.from_arrays([0.9, 0.8, 0.7, 0.2], tp=[1, 1, 0, 1], n_pos=4)
    >>> best_threshold(s)[["threshold", "precision", "recall", "f1"]].tolist()
    [0.2, 0.75, 0.75, 0.75]
    >>> best_threshold(s, rule="precision>=0.9")["threshold"]
    0.8
    >>> best_threshold(s, rule={"fp": 1, "fn": 0.1})["threshold"]
    0.8
    """
    if isinstance(sweep, Sweep):
        frame = sweep.overall if label is None else pd.DataFrame(sweep._curve_of(label).table())
    elif isinstance(sweep, pd.DataFrame):
        require_columns(sweep, ["threshold", "tp", "fp", "fn", "precision", "recall"], name="sweep")
        frame = sweep if label is None else sweep[sweep["label"] == label]
    else:
        raise InvalidParameter(
            f"best_threshold needs a Sweep or a DataFrame, got {type(sweep)}", name="sweep"
        )
    frame = frame.reset_index(drop=True)
    if len(frame) == 0:
        raise InvalidFrame("the sweep is empty: there are no predictions to choose from")
    thr = frame["threshold"].to_numpy(dtype=float)
    feasible = np.ones(len(frame), dtype=bool)
    if callable(rule) and not isinstance(rule, Mapping):
        utility = np.asarray(rule(frame), dtype=float)
        rule_name = getattr(rule, "__name__", "callable")
    elif isinstance(rule, Mapping):
        bad = set(rule) - {"fp", "fn", "tp"}
        if bad:
            raise InvalidParameter(
                f"cost weights take keys fp, fn, tp; got {sorted(bad)}", name="rule"
            )
        cost = sum(
            float(rule.get(k, 0.0)) * frame[k].to_numpy(dtype=float) for k in ("fp", "fn", "tp")
        )
        utility = -cost
        rule_name = "cost " + ", ".join(f"{k}={v}" for k, v in rule.items())
    elif isinstance(rule, str) and _FBETA.match(rule):
        beta = float(_FBETA.match(rule).group(1) or 1.0)
        p = frame["precision"].to_numpy(dtype=float)
        r = frame["recall"].to_numpy(dtype=float)
        b2 = beta * beta
        with np.errstate(divide="ignore", invalid="ignore"):
            utility = np.where(p + r > 0, (1 + b2) * p * r / (b2 * p + r), 0.0)
        rule_name = rule.strip()
    elif isinstance(rule, str) and _RULE.match(rule):
        metric, floor = _RULE.match(rule).groups()
        floor = float(floor)
        other = "recall" if metric == "precision" else "precision"
        feasible = frame[metric].to_numpy(dtype=float) >= floor - 1e-12
        utility = frame[other].to_numpy(dtype=float)
        rule_name = rule.strip()
    else:
        raise InvalidParameter(
            f"unknown rule {rule!r}; use 'f1', 'f2', 'precision>=0.9', 'recall>=0.8', "
            "a dict of costs or a callable",
            name="rule",
        )
    utility = np.where(feasible & ~np.isnan(utility), utility, -np.inf)
    if not np.isfinite(utility).any():
        warnings.warn(f"no threshold satisfies {rule_name!r}", UserWarning, stacklevel=2)
        row = pd.Series({c: np.nan for c in COUNT_COLUMNS}, dtype=object)
        row["rule"] = rule_name
        return row
    best = utility.max()
    # Ties: the highest threshold, i.e. the first row (rows run from high to low scores).
    i = int(np.flatnonzero(utility == best)[0]) if np.isfinite(best) else int(np.argmax(thr))
    row = frame.iloc[i][[c for c in COUNT_COLUMNS if c in frame.columns]].copy()
    row = row.astype(object)
    row["rule"] = rule_name
    return row
