"""Precision, recall and F1 against the score threshold — :class:`ThresholdDisplay`.

Like every Display it reads its operating point from :mod:`vislab.evaluate`
(:meth:`vislab.evaluate.Sweep.at`), so ``display.set_threshold(t)`` shows exactly the numbers
a table beside it shows.
"""

from __future__ import annotations

import pandas as pd

from vislab.plot._common import axes_or_new, point_at
from vislab.plot.curves import _COLORS, _MARK, _sweep_frame, _thin

__all__ = ["ThresholdDisplay"]


class ThresholdDisplay:
    """Precision, recall and F1 against the score threshold, with the operating point.

    Parameters
    ----------
    frame : DataFrame
        A sweep frame (``threshold, precision, recall, f1``, ...).
    threshold : float, optional
        The operating point to mark.
    name : str, optional
    sweep : Sweep, optional
        Where :meth:`set_threshold` reads the numbers (default: ``frame`` itself).
    label : optional
        The class of ``sweep`` the curves show.

    Attributes
    ----------
    lines_ : dict of Line2D
        One per metric.
    vline_ : Line2D or None
    text_ : Text or None
        The operating point's numbers; :meth:`set_threshold` moves both.
    ax_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from vislab.evaluate import Sweep
    >>> sweep = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2)
    >>> disp = ThresholdDisplay.from_sweep(sweep, rule="f1")
    >>> disp.threshold, sorted(disp.lines_)
    (0.3, ['f1', 'precision', 'recall'])
    >>> disp.set_threshold(0.85).text_.get_text()
    't=0.85: P=1.00, R=0.50, F=0.67 '
    """

    def __init__(self, frame: pd.DataFrame, *, threshold=None, name=None, sweep=None, label=None):
        self.frame = frame
        self.threshold = threshold
        self.name = name
        self.sweep = sweep
        self.label = label

    @classmethod
    def from_sweep(
        cls, sweep, *, threshold=None, rule=None, label=None, max_points=None, ax=None, **plot_kw
    ):
        """Plot a sweep; ``rule`` (see :func:`vislab.evaluate.best_threshold`) picks the point.

        Parameters
        ----------
        sweep : Sweep or DataFrame
            A :func:`vislab.evaluate.threshold_sweep` result or a sweep frame.
        threshold : float, optional
            The operating point to mark.
        rule : str, mapping or callable, optional
            Used when ``threshold`` is not given: ``"f1"``, ``"precision>=0.9"``,
            ``"recall>=0.8"``, a cost ``{"fp": 1, "fn": 5}`` ... (no point when no threshold
            satisfies it).
        label : optional
            One class of the sweep; default: all predictions.
        max_points : int, optional
            Draw at most this many points (first and last kept); the marked numbers are exact.
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        **plot_kw
            Options of :meth:`plot` (``metrics``).

        Returns
        -------
        ThresholdDisplay
            Plotted: ``lines_``, ``vline_`` and ``text_`` (None without a point), ``ax_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import Sweep
        >>> d = ThresholdDisplay.from_sweep(Sweep.from_arrays([0.9, 0.3], tp=[1, 0], n_pos=1),
        ...                                 threshold=0.5)
        >>> round(d.vline_.get_xdata()[0], 2)
        0.5
        """
        frame = _sweep_frame(sweep, label)
        if rule is not None and threshold is None:
            from vislab.evaluate import best_threshold

            threshold = best_threshold(sweep, rule=rule, label=label)["threshold"]
            threshold = None if pd.isna(threshold) else float(threshold)
        disp = cls(
            _thin(frame, max_points), threshold=threshold, name=label, sweep=sweep, label=label
        )
        return disp.plot(ax=ax, **plot_kw)

    @classmethod
    def from_predictions(cls, truth, pred, *, iou=0.5, label=None, **kw):
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
        **kw
            Options of :meth:`from_sweep` (``threshold``, ``rule``, ``max_points``, ``ax``,
            ``metrics``).

        Returns
        -------
        ThresholdDisplay
            Plotted, with ``sweep`` set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
        >>> pred = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
        ...                      "score": [0.9, 0.4]})
        >>> ThresholdDisplay.from_predictions(truth, pred, rule="f1").threshold
        0.9
        """
        from vislab.evaluate import threshold_sweep

        return cls.from_sweep(threshold_sweep(truth, pred, iou=iou), label=label, **kw)

    def plot(self, *, ax=None, metrics=("precision", "recall", "f1")):
        """Draw the curves; returns ``self``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        metrics : sequence of str, default ("precision", "recall", "f1")
            Columns of the frame to draw against the threshold, one line each.

        Returns
        -------
        ThresholdDisplay
            ``self``, with ``lines_`` (metric -> Line2D), ``vline_`` and ``text_`` (set when
            ``threshold`` is), ``ax_`` and ``figure_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> f = pd.DataFrame({"threshold": [0.9, 0.5], "precision": [1.0, 0.5],
        ...                   "recall": [0.5, 1.0], "f1": [0.67, 0.67]})
        >>> ThresholdDisplay(f).plot().vline_ is None
        True
        """
        ax = axes_or_new(ax)
        f = self.frame.sort_values("threshold")
        self.metrics = tuple(metrics)
        self.lines_ = {}
        for m in metrics:
            (self.lines_[m],) = ax.plot(
                f["threshold"], f[m], label=m, color=_COLORS.get(m), drawstyle="steps-post"
            )
        self.vline_ = None
        self.text_ = None
        self.ax_ = ax
        self.figure_ = ax.figure
        title = "score threshold" if self.name is None else f"score threshold ({self.name})"
        ax.set(xlabel=title, ylabel="value", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        if self.threshold is not None:
            self.set_threshold(self.threshold)
        return self

    def set_threshold(self, threshold: float):
        """Move the marker line and its numbers to ``threshold``; returns ``self``.

        Parameters
        ----------
        threshold : float
            The operating point; its numbers are read from the sweep (or the frame).

        Returns
        -------
        ThresholdDisplay
            ``self``, with ``vline_`` at ``threshold`` and ``text_`` showing the metrics
            there (``t=0.40: P=1.00, R=1.00, F=1.00``).

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import Sweep
        >>> d = ThresholdDisplay.from_sweep(Sweep.from_arrays([0.9, 0.3], tp=[1, 0], n_pos=1))
        >>> d.set_threshold(0.4).vline_.get_xdata()
        [0.4, 0.4]
        """
        t = float(threshold)
        self.threshold = t
        if self.vline_ is None:
            self.vline_ = self.ax_.axvline(t, color=_MARK, ls="--", lw=1.2)
        else:
            self.vline_.set_xdata([t, t])
        source = self.sweep if self.sweep is not None else self.frame
        row = point_at(source, self.frame, t, label=self.label)
        summary = ", ".join(
            f"{m[0].upper()}={0.0 if pd.isna(row[m]) else float(row[m]):.2f}" for m in self.metrics
        )
        # Written beside the line, on the side with room: it never runs off the plot.
        lo, hi = sorted(self.ax_.get_xlim())
        right_half = hi > lo and (t - lo) / (hi - lo) > 0.5
        text = f"t={t:.2f}: {summary} " if right_half else f" t={t:.2f}: {summary}"
        x = min(max(t, lo), hi)
        if self.text_ is None:
            self.text_ = self.ax_.text(
                x,
                1.02,
                text,
                color=_MARK,
                fontsize=8,
                va="bottom",
                transform=self.ax_.get_xaxis_transform(),
            )
        else:
            self.text_.set_x(x)
            self.text_.set_text(text)
        self.text_.set_ha("right" if right_half else "left")
        return self

    set_operating_point = set_threshold
