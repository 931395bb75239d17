"""The tuner's two curves — precision-recall and metrics vs threshold — drawn once.

Moving the threshold only moves the Displays' operating-point artists
(:meth:`vislab.plot.PrecisionRecallDisplay.set_threshold`,
:meth:`vislab.plot.ThresholdDisplay.set_threshold`); the curves are drawn again only when
another class is chosen.
"""

from __future__ import annotations

from vislab.widgets._static import new_figure

__all__ = ["CurveFigure"]


class CurveFigure:
    """The sweep drawn by :class:`vislab.plot.PrecisionRecallDisplay` and
    :class:`vislab.plot.ThresholdDisplay` once; moving the threshold only moves their operating
    point artists (``display.set_threshold``)."""

    def __init__(self, sweep, *, axes=None):
        if axes is None:
            self.figure = new_figure((10, 3.3), dpi=90)
            ax_pr, ax_t = self.figure.subplots(1, 2)
            self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.86, wspace=0.22)
        else:
            ax_pr, ax_t = axes
            self.figure = ax_pr.figure
        self.sweep = sweep
        self.ax_pr, self.ax_t = ax_pr, ax_t
        self._label = object()

    def _plot(self, label, threshold) -> None:
        from vislab.plot import PrecisionRecallDisplay, ThresholdDisplay

        self.ax_pr.cla()
        self.ax_t.cla()
        # Thinned to <= 2000 points: a million-row sweep draws as fast as a small one; the
        # operating point is read from the sweep itself, exactly.
        name = "all classes" if label is None else str(label)
        self.pr = PrecisionRecallDisplay.from_sweep(
            self.sweep, label=label, name=name, max_points=2000, ax=self.ax_pr
        )
        self.td = ThresholdDisplay.from_sweep(
            self.sweep, label=label, threshold=threshold, max_points=2000, ax=self.ax_t
        )
        thr = self.td.frame["threshold"]
        if len(thr):
            lo, hi = float(thr.min()), float(thr.max())
            pad = (hi - lo) * 0.02 or 0.01
            self.ax_t.set_xlim(lo - pad, hi + pad)
        self._label = label

    def update(self, label, threshold, *, point=None) -> None:
        if label != self._label:
            self._plot(label, threshold)
        self.pr.set_threshold(threshold if point is None else point)  # its legend follows
        self.td.set_threshold(threshold)
