"""What :func:`vislab.evaluate.coco_eval` returns: the 12 numbers, per-class AP, the arrays.

:class:`CocoResult` keeps pycocotools' ``eval`` arrays (precision / recall / scores over IoU
thresholds x recall thresholds x classes x area ranges x maxDets) and reads every number from
them the way ``COCOeval.summarize`` does: :meth:`CocoResult.average_precision` is that reading
for any IoU, class, area range and cap, so plots and reports never index the arrays themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["CocoResult", "COCO_STAT_NAMES"]

#: Names of the 12 COCO summary numbers, in pycocotools' order.
COCO_STAT_NAMES = (
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
)  # fmt: skip

_STAT_TITLES = {
    "AP": (1, None, "all"),
    "AP50": (1, 0.5, "all"),
    "AP75": (1, 0.75, "all"),
    "APs": (1, None, "small"),
    "APm": (1, None, "medium"),
    "APl": (1, None, "large"),
    "ARs": (0, None, "small"),
    "ARm": (0, None, "medium"),
    "ARl": (0, None, "large"),
}


@dataclass
class CocoResult:
    """What :func:`coco_eval` returns: COCO's 12 numbers, per-class AP and the raw arrays.

    Built by :func:`vislab.evaluate.coco_eval`, not by hand; every parameter is kept as the
    attribute of the same name.

    Parameters
    ----------
    stats : pandas.Series
        The 12 summary numbers named ``AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs,
        ARm, ARl`` (-1 where undefined, as pycocotools).
    per_class : pandas.DataFrame
        One row per class: AP, AP50, AP75, APs, APm, APl, AR100 (NaN where undefined), the
        number of (non-crowd) true boxes and of predictions.
    precision : ndarray, shape (T, R, K, A, M)
        pycocotools' ``eval["precision"]``: IoU thresholds x recall thresholds x classes x area
        ranges x maxDets (-1 where a class has no truth).
    recall : ndarray, shape (T, K, A, M)
        pycocotools' ``eval["recall"]``: the recall at the end of the ranked list (within
        the maxDets cap).
    scores : ndarray, shape (T, R, K, A, M)
        Score of the detection at which each precision value is reached.
    labels : pandas.Index
        The classes along axis K.
    iou_thresholds : ndarray, shape (T,)
        IoU thresholds (COCO's 0.50:0.05:0.95 by default).
    recall_thresholds : ndarray, shape (R,)
        Recall thresholds (COCO's 101 points 0:0.01:1 by default).
    area_ranges : dict
        Area range name -> ``(lo, hi)`` in square pixels, along axis A.
    max_dets : tuple of int
        Caps on detections per image and class, along axis M.
    class_aware : bool, default True
        ``False`` when all classes were pooled (pycocotools' ``useCats = 0``); ``labels``
        is then ``["(all)"]``.
    unknown_labels : list, optional
        Predicted labels absent from the truth.
    failed_images : list, optional
        Images whose prediction failed (rows with ``error_code`` set): counted as images with
        no predictions.

    Examples
    --------
    >>> import pandas as pd
    >>> from vislab.evaluate import coco_eval
    >>> truth = pd.DataFrame({"image": ["a", "a"], "label": ["cat", "dog"], "x": [0, 50],
    ...                       "y": [0, 50], "w": [40, 30], "h": [40, 30]})
    >>> r = coco_eval(truth, truth.assign(score=[0.9, 0.3], x=[0, 60]))
    >>> r                        # the dog box overlaps its truth with IoU 0.5 exactly
    CocoResult(AP=0.5500, AP50=1.0000, classes=2)
    >>> r.per_class["AP"].round(3).tolist()
    [1.0, 0.1]
    >>> r.precision.shape        # IoU x recall x class x area x maxDets
    (10, 101, 2, 4, 3)
    """

    stats: pd.Series
    per_class: pd.DataFrame
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    labels: pd.Index
    iou_thresholds: np.ndarray
    recall_thresholds: np.ndarray
    area_ranges: dict
    max_dets: tuple
    class_aware: bool = True
    unknown_labels: list = field(default_factory=list)
    failed_images: list = field(default_factory=list)

    def summary(self) -> str:
        """The summary block pycocotools prints, one line per number.

        Returns
        -------
        str
            Twelve lines, ``Average Precision (AP) @[ IoU=0.50:0.95 | area= all |
            maxDets=100 ] = 0.xxx`` and so on, in :data:`COCO_STAT_NAMES` order.

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"image": ["a"], "label": ["cat"], "x": [0], "y": [0],
        ...                   "w": [40], "h": [40]})
        >>> p = t.assign(score=0.9)
        >>> from vislab.evaluate import coco_eval
        >>> print(coco_eval(t, p).summary().splitlines()[0])
         Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000
        """
        lines = []
        iou_all = f"{self.iou_thresholds[0]:0.2f}:{self.iou_thresholds[-1]:0.2f}"
        for name, value in self.stats.items():
            ap, thr, area = _STAT_TITLES.get(name, (0, None, "all"))
            max_det = self.max_dets[-1] if name in _STAT_TITLES else int(name[2:])
            title = "Average Precision" if ap else "Average Recall"
            kind = "(AP)" if ap else "(AR)"
            iou_s = iou_all if thr is None else f"{thr:0.2f}"
            lines.append(
                f" {title:<18} {kind} @[ IoU={iou_s:<9} | area={area:>6s} | "
                f"maxDets={max_det:>3d} ] = {value:0.3f}"
            )
        return "\n".join(lines)

    def pr_curve(self, *, label=None, iou: float = 0.5, area: str = "all", max_dets=None):
        """Interpolated precision at each recall threshold, as a frame for plotting.

        Parameters
        ----------
        label : optional
            One class; default: the mean over classes with truth (what AP averages).
        iou : float
            One of the evaluated IoU thresholds.
        area : str
            Area range name.
        max_dets : int, optional
            Default: the largest.

        Returns
        -------
        DataFrame with columns ``recall, precision, score``.

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"image": ["a"], "label": ["cat"], "x": [0], "y": [0],
        ...                   "w": [40], "h": [40]})
        >>> from vislab.evaluate import coco_eval
        >>> coco_eval(t, t.assign(score=0.9)).pr_curve(label="cat").iloc[-1].round(3).tolist()
        [1.0, 1.0, 0.9]
        """
        t = int(np.flatnonzero(np.isclose(self.iou_thresholds, iou))[0])
        a = list(self.area_ranges).index(area)
        m = self.max_dets.index(max_dets if max_dets is not None else self.max_dets[-1])
        p = self.precision[t, :, :, a, m]
        s = self.scores[t, :, :, a, m]
        if label is not None:
            k = self.labels.get_loc(label)
            prec, score = p[:, k], s[:, k]
        else:
            valid = (p > -1).all(axis=0)
            prec = p[:, valid].mean(axis=1) if valid.any() else np.full(len(p), np.nan)
            score = np.full(len(p), np.nan)
        return pd.DataFrame({"recall": self.recall_thresholds, "precision": prec, "score": score})

    def average_precision(
        self, *, iou: float | None = None, label=None, area: str = "all", max_dets=None
    ) -> float:
        """AP read from the precision array the way pycocotools' ``summarize`` reads it.

        The mean of the interpolated precision over recall thresholds, classes (or one class)
        and IoU thresholds (or one), skipping the cells pycocotools marks undefined (-1).

        Parameters
        ----------
        iou : float, optional
            One evaluated IoU threshold (0.5 gives AP50); default: all of them (COCO's AP).
        label : optional
            One class; default: the mean over classes with truth.
        area : str, default "all"
            Area range name (``"small"``, ``"medium"``, ``"large"`` for the default ranges).
        max_dets : int, optional
            Default: the largest cap.

        Returns
        -------
        float
            NaN where pycocotools reports -1 (nothing to average: no truth).

        Examples
        --------
        >>> import pandas as pd
        >>> from vislab.evaluate import coco_eval
        >>> truth = pd.DataFrame({"image": ["a", "a"], "label": ["cat", "dog"], "x": [0, 50],
        ...                       "y": [0, 50], "w": [40, 30], "h": [40, 30]})
        >>> r = coco_eval(truth, truth.assign(score=[0.9, 0.3], x=[0, 60]))
        >>> bool(r.average_precision(iou=0.5) == r.stats["AP50"])
        True
        >>> round(r.average_precision(label="dog"), 3)
        0.1
        """
        p = self.precision
        if iou is not None:
            hit = np.flatnonzero(np.isclose(self.iou_thresholds, iou, rtol=0, atol=1e-12))
            if not len(hit):
                raise KeyError(
                    f"IoU {iou!r} was not evaluated; thresholds: {self.iou_thresholds.tolist()}"
                )
            p = p[hit]
        if area not in self.area_ranges:
            raise KeyError(f"no area range {area!r}; ranges: {list(self.area_ranges)}")
        a = list(self.area_ranges).index(area)
        m = self.max_dets.index(max_dets if max_dets is not None else self.max_dets[-1])
        p = p[:, :, :, a, m]
        if label is not None:
            k = self.labels.get_loc(label)
            p = p[:, :, k]
        valid = p[p > -1]
        return float(np.mean(valid)) if valid.size else float("nan")

    def __repr__(self) -> str:
        return f"CocoResult(AP={self.stats['AP']:.4f}, AP50={self.stats['AP50']:.4f}, " + (
            f"classes={len(self.labels)})"
        )

    def _repr_html_(self) -> str:
        return self.stats.to_frame("value").T.to_html(float_format=lambda v: f"{v:.3f}")
