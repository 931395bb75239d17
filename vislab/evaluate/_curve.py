"""The one formula of every operating point: counts at a threshold, and P / R / F1 from counts.

Every sweep (detection, labels, retrieval), every per-class combination and every widget reads
its numbers through :func:`point_values` or :func:`curve_table`, so there is one convention:
nothing predicted means precision 1 (the convention of precision-recall curves), no positive
means recall NaN, and ``f1 = 2 tp / (n_pred + n_pos)`` (0 when ``tp`` is 0).
"""

from __future__ import annotations

import numpy as np

__all__ = ["COUNT_COLUMNS", "Curve", "CurveSet", "point_values", "point1", "curve_table"]

COUNT_COLUMNS = ("threshold", "n_pred", "tp", "fp", "fn", "precision", "recall", "f1")


def point_values(threshold, tp, fp, n_pos) -> np.ndarray:
    """``COUNT_COLUMNS`` of operating points from their counts (arrays of equal length).

    Examples
    --------
    >>> point_values([0.5], [3], [1], [4]).tolist()
    [[0.5, 4.0, 3.0, 1.0, 1.0, 0.75, 0.75, 0.75]]
    """
    tp = np.asarray(tp, dtype=float)
    fp = np.asarray(fp, dtype=float)
    n_pos = np.asarray(n_pos, dtype=float)
    out = np.empty(tp.shape + (8,))
    out[..., 0] = threshold
    n_pred = np.add(tp, fp, out=out[..., 1])
    out[..., 2] = tp
    out[..., 3] = fp
    np.subtract(n_pos, tp, out=out[..., 4])
    with np.errstate(divide="ignore", invalid="ignore"):
        out[..., 5] = np.where(n_pred > 0, tp / np.maximum(n_pred, 1), 1.0)
        out[..., 6] = np.where(n_pos > 0, tp / np.maximum(n_pos, 1), np.nan)
        out[..., 7] = np.where(tp > 0, 2 * tp / (n_pred + n_pos), 0.0)
    return out


def point1(threshold: float, tp: int, fp: int, n_pos: int) -> list:
    """:func:`point_values` of one operating point, in plain Python (no array overhead).

    The same divisions in float64, so the numbers are identical to :func:`point_values`'.

    Examples
    --------
    >>> point1(0.5, 3, 1, 4) == point_values([0.5], [3], [1], [4])[0].tolist()
    True
    """
    n_pred = tp + fp
    precision = tp / n_pred if n_pred > 0 else 1.0
    recall = tp / n_pos if n_pos > 0 else float("nan")
    f1 = 2 * tp / (n_pred + n_pos) if tp > 0 else 0.0
    return [float(threshold), n_pred, tp, fp, n_pos - tp, precision, recall, f1]


def curve_table(thr, tp, fp, n_pos: int) -> dict:
    """A sweep's columns (integer counts, float metrics) at thresholds ``thr``.

    Examples
    --------
    >>> curve_table([0.9, 0.5], [1, 1], [0, 1], 2)["precision"].tolist()
    [1.0, 0.5]
    """
    tp = np.asarray(tp, dtype=np.int64)
    fp = np.asarray(fp, dtype=np.int64)
    values = point_values(thr, tp, fp, np.full(len(tp), n_pos))
    return {
        "threshold": np.asarray(thr, dtype=float),
        "n_pred": tp + fp,
        "tp": tp,
        "fp": fp,
        "fn": n_pos - tp,
        "precision": values[:, 5],
        "recall": values[:, 6],
        "f1": values[:, 7],
    }


class Curve:
    """Cumulative counts at each distinct score of one set of predictions, highest first.

    Examples
    --------
    >>> c = Curve(np.array([0.9, 0.4, 0.4]), np.array([True, False, True]),
    ...           np.array([False, True, False]), n_pos=3)
    >>> c.count1(0.4), c.count1(0.5), c.count1(1.0)
    ((2, 1), (1, 0), (0, 0))
    """

    __slots__ = ("thr", "neg_thr", "tp", "fp", "n_pos")

    def __init__(self, scores: np.ndarray, tp: np.ndarray, fp: np.ndarray, n_pos: int):
        order = np.argsort(-scores, kind="stable")
        s = scores[order]
        ctp = np.cumsum(tp[order], dtype=np.int64)
        cfp = np.cumsum(fp[order], dtype=np.int64)
        # Keep the last row of each run of equal scores: a threshold keeps all of them.
        last = np.ones(len(s), dtype=bool)
        last[:-1] = s[1:] != s[:-1]
        self._set(s[last], ctp[last], cfp[last], n_pos)

    @classmethod
    def from_counts(cls, thr, tp, fp, n_pos: int) -> Curve:
        """A curve from cumulative counts at distinct thresholds (any order)."""
        thr = np.asarray(thr, dtype=float)
        order = np.argsort(-thr, kind="stable")
        curve = cls.__new__(cls)
        curve._set(
            thr[order],
            np.asarray(tp, dtype=np.int64)[order],
            np.asarray(fp, dtype=np.int64)[order],
            n_pos,
        )
        return curve

    def _set(self, thr, tp, fp, n_pos) -> None:
        self.thr = thr
        self.neg_thr = -thr  # ascending, for searchsorted
        self.tp = tp
        self.fp = fp
        self.n_pos = int(n_pos)

    def counts(self, thresholds) -> tuple[np.ndarray, np.ndarray]:
        """(tp, fp) at many thresholds (vectorised)."""
        t = np.asarray(thresholds, dtype=float)
        i = np.searchsorted(self.neg_thr, -t, side="right")  # rows with score >= t
        if not len(self.tp):
            return np.zeros(t.shape, np.int64), np.zeros(t.shape, np.int64)
        tp = np.where(i > 0, self.tp[np.maximum(i - 1, 0)], 0)
        fp = np.where(i > 0, self.fp[np.maximum(i - 1, 0)], 0)
        return tp, fp

    def count1(self, threshold: float) -> tuple[int, int]:
        """(tp, fp) at one threshold: a single binary search."""
        i = int(self.neg_thr.searchsorted(-threshold, side="right"))
        return (int(self.tp[i - 1]), int(self.fp[i - 1])) if i else (0, 0)

    def table(self) -> dict:
        return curve_table(self.thr, self.tp, self.fp, self.n_pos)


class CurveSet:
    """Many curves (one per class) queried at once: counts of every class at its threshold.

    The classes' distinct thresholds are ranked among all of them and packed into one sorted
    integer key (class, rank), so one ``searchsorted`` answers every class — O(K log N) in a
    handful of numpy calls, however many classes there are.

    Examples
    --------
    >>> a = Curve(np.array([0.9, 0.5]), np.array([True, False]), np.array([False, True]), 1)
    >>> b = Curve(np.array([0.7]), np.array([True]), np.array([False]), 2)
    >>> tp, fp = CurveSet([a, b]).counts(np.array([0.6, 0.6]))
    >>> tp.tolist(), fp.tolist()
    ([1, 1], [0, 0])
    """

    def __init__(self, curves: list):
        self.n = len(curves)
        neg = [c.neg_thr for c in curves]
        self.neg_all = np.unique(np.concatenate(neg)) if self.n else np.zeros(0)
        t = max(len(self.neg_all), 1)
        ranks = [np.searchsorted(self.neg_all, v) for v in neg]
        sizes = np.array([len(v) for v in neg], dtype=np.int64)
        self.offsets = np.cumsum(sizes) - sizes
        self.base = np.arange(self.n, dtype=np.int64) * t
        self.keys = np.concatenate(
            [k * t + r.astype(np.int64) for k, r in enumerate(ranks)] or [np.zeros(0, np.int64)]
        )
        self.tp = np.concatenate([c.tp for c in curves] or [np.zeros(0, np.int64)])
        self.fp = np.concatenate([c.fp for c in curves] or [np.zeros(0, np.int64)])

    def counts(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tp, fp) of class ``k`` at ``thresholds[k]``, for every class."""
        g = np.searchsorted(self.neg_all, -thresholds, side="right")
        pos = np.searchsorted(self.keys, self.base + g, side="left")
        hit = pos > self.offsets
        last = np.maximum(pos - 1, 0)
        if not len(self.tp):
            zero = np.zeros(self.n, dtype=np.int64)
            return zero, zero
        return np.where(hit, self.tp[last], 0), np.where(hit, self.fp[last], 0)
