"""Precision against recall with a movable operating point — :class:`PrecisionRecallDisplay`.

Every number comes from :mod:`vislab.evaluate`: a Display keeps the sweep it was built from
and reads its operating point with :meth:`vislab.evaluate.Sweep.at`, so
``display.set_threshold(t)`` moves the fitted marker artists to exactly the numbers a table
beside it shows.  The drawing helpers here (colours, one class's curve, thinning) are shared
with :mod:`vislab.plot.threshold` and :mod:`vislab.plot.cutoff`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from vislab.plot._common import as_sweep, axes_or_new, point_at

__all__ = ["PrecisionRecallDisplay"]

_COLORS = {"precision": "#1f77b4", "recall": "#ff7f0e", "f1": "#2ca02c"}
_MARK = "#d62728"


def _sweep_frame(sweep, label=None) -> pd.DataFrame:
    from vislab.evaluate import Sweep

    if isinstance(sweep, Sweep):
        return sweep.curve(label)
    frame = sweep
    if label is not None and "label" in frame.columns:
        frame = frame[frame["label"] == label]
    return frame


def _thin(frame: pd.DataFrame, max_points) -> pd.DataFrame:
    """At most ``max_points`` rows for drawing (first and last kept); numbers are untouched."""
    if max_points is None or len(frame) <= max_points:
        return frame
    idx = np.unique(np.linspace(0, len(frame) - 1, int(max_points)).astype(np.int64))
    return frame.iloc[idx]


def _sweep_of(source):
    """The :class:`~vislab.evaluate.Sweep` to read points from (a sweep frame is rebuilt)."""
    return as_sweep(source)


class PrecisionRecallDisplay:
    """Precision against recall, with the operating point marked.

    Parameters
    ----------
    precision, recall : array-like
        Points of the curve (from high to low threshold).
    thresholds : array-like, optional
    average_precision : float, optional
        Shown in the legend.
    name : str, optional
    operating_point : (recall, precision, threshold), optional
    sweep : Sweep or DataFrame, optional
        Where :meth:`set_threshold` reads the operating point (set by :meth:`from_sweep`).
    label : optional
        The class of ``sweep`` the curve shows.

    Attributes
    ----------
    line_ : Line2D
    point_ : Line2D or None
        The operating point; :meth:`set_threshold` moves it (and creates it if needed).
    ax_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from vislab.evaluate import Sweep
    >>> sweep = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2)
    >>> disp = PrecisionRecallDisplay.from_sweep(sweep, threshold=0.5)
    >>> disp.point_.get_xydata().tolist()
    [[0.5, 0.5]]
    >>> disp.set_threshold(0.2).point_.get_xydata().tolist()
    [[1.0, 0.6666666666666666]]
    """

    def __init__(
        self,
        precision,
        recall,
        *,
        thresholds=None,
        average_precision=None,
        name=None,
        operating_point=None,
        sweep=None,
        label=None,
    ):
        self.precision = np.asarray(precision, dtype=float)
        self.recall = np.asarray(recall, dtype=float)
        self.thresholds = None if thresholds is None else np.asarray(thresholds, dtype=float)
        self.average_precision = average_precision
        self.name = name
        self.operating_point = operating_point
        self.sweep = sweep
        self.label = label

    @classmethod
    def from_sweep(
        cls, sweep, *, label=None, threshold=None, name=None, max_points=None, ax=None, **plot_kw
    ):
        """Curve of a :func:`vislab.evaluate.threshold_sweep` result (one point per threshold).

        ``threshold`` marks the operating point; the legend shows the step-wise average
        precision (:meth:`vislab.evaluate.Sweep.average_precision`, scikit-learn's
        definition; COCO interpolates — see :meth:`from_coco`).  ``max_points`` thins the
        drawn curve (a million-row sweep draws as fast as a small one); the operating point
        is always exact.

        Parameters
        ----------
        sweep : Sweep or DataFrame
            A :func:`vislab.evaluate.threshold_sweep` result, or a sweep frame
            (``threshold, precision, recall`` and, to place points, ``tp, fp, fn``).
        label : optional
            One class of the sweep; default: all predictions.
        threshold : float or mapping label -> float, optional
            The operating point to mark (see :meth:`set_threshold`).
        name : str, optional
            Legend entry; default: the class name, if any.
        max_points : int, optional
            Draw at most this many points of the curve (first and last kept).
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        **plot_kw
            Options of :meth:`plot` (``drawstyle`` and matplotlib line properties).

        Returns
        -------
        PrecisionRecallDisplay
            Plotted: ``line_``, ``point_`` (None without ``threshold``), ``ax_``, ``figure_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import Sweep
        >>> PrecisionRecallDisplay.from_sweep(
        ...     Sweep.from_arrays([0.9, 0.3], tp=[1, 1], n_pos=2)).average_precision
        1.0
        """
        frame = _sweep_frame(sweep, label)
        source = _sweep_of(sweep)
        ap = source.average_precision(label=label) if source is not None else None
        drawn = _thin(frame, max_points)
        disp = cls(
            drawn["precision"],
            drawn["recall"],
            thresholds=drawn["threshold"],
            average_precision=ap,
            name=name if name is not None else (str(label) if label is not None else None),
            sweep=sweep,
            label=label,
        )
        disp.plot(ax=ax, **plot_kw)
        if threshold is not None:
            disp.set_threshold(threshold)
        return disp

    @classmethod
    def from_predictions(cls, truth, pred, *, iou=0.5, label=None, threshold=None, **kw):
        """Sweep ``pred`` against ``truth`` (:func:`vislab.evaluate.threshold_sweep`), plot.

        Parameters
        ----------
        truth : DataFrame
            Truth boxes (``image, label, x, y, w, h``) or truth labels (``image, label``).
        pred : DataFrame
            Boxes frame for detection, or labels frame (scored one-vs-rest).
        iou : float, default 0.5
            Detection only: minimum IoU for a match.
        label : optional
            One class; default: all predictions.
        threshold : float or mapping label -> float, optional
            The operating point to mark.
        **kw
            Options of :meth:`from_sweep` (``name``, ``max_points``, ``ax``, and those of
            :meth:`plot`).

        Returns
        -------
        PrecisionRecallDisplay
            Plotted, with ``sweep`` set so that :meth:`set_threshold` can move the point.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
        >>> pred = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
        ...                      "score": [0.9, 0.4]})
        >>> PrecisionRecallDisplay.from_predictions(truth, pred, threshold=0.5).point_.get_xydata()
        array([[0.5, 1. ]])
        """
        from vislab.evaluate import threshold_sweep

        sweep = threshold_sweep(truth, pred, iou=iou)
        return cls.from_sweep(sweep, label=label, threshold=threshold, **kw)

    @classmethod
    def from_coco(cls, result, *, iou=0.5, label=None, name=None, ax=None, **plot_kw):
        """COCO's interpolated curve (101 recall points) of a :func:`coco_eval` result.

        The legend shows COCO's AP at that IoU
        (:meth:`vislab.evaluate.CocoResult.average_precision`).  The curve has no thresholds,
        so it has no movable point.

        Parameters
        ----------
        result : CocoResult
            A :func:`vislab.evaluate.coco_eval` result.
        iou : float, default 0.5
            One of the evaluated IoU thresholds.
        label : optional
            One class; default: the mean over classes with truth (what AP averages).
        name : str, optional
            Legend entry; default ``"COCO, IoU=<iou>"``.
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        **plot_kw
            Matplotlib line properties, passed to :meth:`plot` (drawn with
            ``drawstyle="default"``: the points are interpolated, not steps).

        Returns
        -------
        PrecisionRecallDisplay
            Plotted; ``precision`` and ``recall`` hold the 101 points.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import coco_eval
        >>> t = pd.DataFrame({"image": ["a"], "label": ["cat"], "x": [0], "y": [0],
        ...                   "w": [40], "h": [40]})
        >>> PrecisionRecallDisplay.from_coco(coco_eval(t, t.assign(score=0.9))).recall.size
        101
        """
        curve = result.pr_curve(label=label, iou=iou)
        ap = result.average_precision(iou=iou, label=label)
        disp = cls(
            curve["precision"],
            curve["recall"],
            average_precision=ap,
            name=name or f"COCO, IoU={iou:g}",
        )
        return disp.plot(ax=ax, drawstyle="default", **plot_kw)

    def plot(self, *, ax=None, name=None, drawstyle="steps-post", **line_kw):
        """Draw the curve; returns ``self``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        name : str, optional
            Legend entry (default: the display's ``name``); the AP follows it.
        drawstyle : str, default "steps-post"
            Matplotlib draw style: steps, as precision holds between thresholds.
        **line_kw
            Matplotlib ``Line2D`` properties of the curve (``color``, ``lw`` ...).

        Returns
        -------
        PrecisionRecallDisplay
            ``self``, with ``line_``, ``point_`` (from ``operating_point``, else None),
            ``ax_`` and ``figure_`` set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> PrecisionRecallDisplay([1.0, 0.5], [0.5, 1.0]).plot().line_.get_xdata().tolist()
        [0.5, 1.0]
        """
        ax = axes_or_new(ax)
        name = name or self.name
        legend = []
        if name:
            legend.append(str(name))
        if self.average_precision is not None and not np.isnan(self.average_precision):
            legend.append(f"AP = {self.average_precision:.3f}")
        (self.line_,) = ax.plot(
            self.recall,
            self.precision,
            drawstyle=drawstyle,
            label=", ".join(legend) or None,
            **line_kw,
        )
        self.point_ = None
        self.ax_ = ax
        self.figure_ = ax.figure
        if self.operating_point is not None:
            r, p, t = self.operating_point
            self._place_point(r, p, t)
        ax.set(xlabel="recall", ylabel="precision", xlim=(-0.01, 1.01), ylim=(-0.01, 1.05))
        ax.grid(alpha=0.3)
        if legend or self.point_ is not None:
            ax.legend(loc="lower left", fontsize=8)
        return self

    def _place_point(self, r: float, p: float, t: float) -> None:
        where = "per-class thresholds" if np.isnan(t) else f"threshold {t:.2f}"
        text = f"{where}: P={p:.2f}, R={r:.2f}"
        if self.point_ is None:
            (self.point_,) = self.ax_.plot(
                [r], [p], "o", color=_MARK, ms=8, zorder=5, label=text, clip_on=False
            )
        else:
            self.point_.set_data([r], [p])
            self.point_.set_label(text)
        self.operating_point = (r, p, t)

    def set_threshold(self, threshold):
        """Move the operating point to ``threshold`` (read from the sweep); returns ``self``.

        ``threshold`` may be a mapping ``{label: threshold}`` for a display of all classes of
        a sweep: the point is then the classes' combined counts (:meth:`Sweep.at`).

        Parameters
        ----------
        threshold : float or mapping label -> float
            Predictions with ``score >= threshold`` are kept.  Needs a display with
            thresholds (built by :meth:`from_sweep` or given ``thresholds``), else
            ``ValueError``.

        Returns
        -------
        PrecisionRecallDisplay
            ``self``, with ``point_`` at (recall, precision) and ``operating_point`` set to
            ``(recall, precision, threshold)`` (threshold NaN for a mapping).

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import Sweep
        >>> s = Sweep.from_arrays([0.9, 0.3], tp=[1, 0], n_pos=1)
        >>> PrecisionRecallDisplay.from_sweep(s).set_threshold(0.5).operating_point
        (1.0, 1.0, 0.5)
        """
        frame = pd.DataFrame(
            {
                "threshold": self.thresholds if self.thresholds is not None else [],
                "precision": self.precision if self.thresholds is not None else [],
                "recall": self.recall if self.thresholds is not None else [],
            }
        )
        if self.sweep is None and not len(frame):
            raise ValueError("this curve has no thresholds: build it with from_sweep()")
        if isinstance(threshold, Mapping):
            if self.sweep is None:
                raise ValueError("per-class thresholds need a display built with from_sweep()")
            row, t = as_sweep(self.sweep).at(dict(threshold), label=self.label), np.nan
        else:
            row, t = point_at(self.sweep, frame, threshold, label=self.label), float(threshold)
        r = 0.0 if pd.isna(row["recall"]) else float(row["recall"])
        self._place_point(r, float(row["precision"]), t)
        self._update_legend()
        return self

    def _update_legend(self) -> None:
        """The legend's entry of the point follows it (its text only, when the entry exists)."""
        legend = self.ax_.get_legend()
        if legend is None:
            return
        handles, _ = self.ax_.get_legend_handles_labels()
        texts = legend.get_texts()
        if self.point_ in handles and len(texts) == len(handles):
            texts[handles.index(self.point_)].set_text(self.point_.get_label())
        else:
            self.ax_.legend(loc="lower left", fontsize=8)

    set_operating_point = set_threshold
