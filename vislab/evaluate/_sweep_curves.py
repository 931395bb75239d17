"""The curves behind a :class:`~vislab.evaluate.sweep.Sweep`, built from what a caller has.

Two sources: per-prediction outcomes (:func:`curves_from_arrays`, what
:meth:`Sweep.from_arrays <vislab.evaluate.sweep.Sweep.from_arrays>` takes) and a sweep frame
saved or built elsewhere (:func:`curves_from_frame`, for :meth:`Sweep.from_frame
<vislab.evaluate.sweep.Sweep.from_frame>`).  Each returns the overall curve and the curve of
every class; the sweep only queries them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame
from vislab.evaluate._curve import Curve
from vislab.evaluate._validate import ordered_unique, positions
from vislab.frames import require_columns

__all__ = ["curves_from_arrays", "curves_from_frame"]


def curves_from_arrays(scores, tp, fp=None, *, n_pos, labels=None, n_pos_by_label=None):
    """The overall curve and the per-class curves of per-prediction outcomes.

    Predictions that are neither TP nor FP (e.g. on a COCO crowd region) are left out; the
    classes are those of ``n_pos_by_label`` (first, in its order) and of ``labels``.

    Examples
    --------
    >>> curve, classes = curves_from_arrays([0.9, 0.1], [True, False], n_pos=1,
    ...                                     labels=["cat", "dog"])
    >>> curve.n_pos, list(classes)
    (1, ['cat', 'dog'])
    """
    scores = np.asarray(scores, dtype=float)
    tp = np.asarray(tp, dtype=bool)
    fp = ~tp if fp is None else np.asarray(fp, dtype=bool)
    counted = tp | fp
    curve = Curve(scores[counted], tp[counted], fp[counted], n_pos)
    classes = {}
    if labels is not None:
        labels = np.asarray(labels, dtype=object)[counted]
        npos_map = dict(n_pos_by_label or {})
        names = ordered_unique(list(npos_map) + list(pd.unique(pd.Series(labels, dtype=object))))
        codes = positions(labels, pd.Index(names))
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        sc, t, f = scores[counted][order], tp[counted][order], fp[counted][order]
        for k, name in enumerate(names):
            sl = slice(bounds[k], bounds[k + 1])
            classes[name] = Curve(sc[sl], t[sl], f[sl], int(npos_map.get(name, 0)))
    return curve, classes


def curves_from_frame(frame: pd.DataFrame):
    """The overall curve, the per-class curves and whether the frame was per class.

    ``frame`` has ``threshold, tp, fp, fn`` and, per class, ``label``: the overall curve is
    then the classes' counts summed at every threshold of any class.

    Examples
    --------
    >>> frame = pd.DataFrame({"threshold": [0.9, 0.3], "tp": [1, 2], "fp": [0, 1],
    ...                       "fn": [1, 0]})
    >>> curve, classes, by_class = curves_from_frame(frame)
    >>> curve.n_pos, classes, by_class
    (2, {}, False)
    """
    require_columns(frame, ["threshold", "tp", "fp", "fn"], name="sweep")

    def curve_of(part: pd.DataFrame) -> Curve:
        n_pos = (part["tp"] + part["fn"]).unique()
        if len(n_pos) > 1:
            raise InvalidFrame("sweep frame: tp + fn differs between rows", column="fn")
        return Curve.from_counts(
            part["threshold"], part["tp"], part["fp"], int(n_pos[0]) if len(n_pos) else 0
        )

    if "label" not in frame.columns:
        return curve_of(frame), {}, False
    classes = {lab: curve_of(part) for lab, part in frame.groupby("label", sort=False)}
    # The overall curve: at every threshold of any class, the classes' counts summed.
    thr = np.unique(frame["threshold"].to_numpy(dtype=float))[::-1]
    tp = sum(c.counts(thr)[0] for c in classes.values())
    fp = sum(c.counts(thr)[1] for c in classes.values())
    n_pos = sum(c.n_pos for c in classes.values())
    return Curve.from_counts(thr, tp, fp, n_pos), classes, True
