"""What the Displays share: an axes to draw on, and the operating point read from evaluate."""

from __future__ import annotations

import pandas as pd

__all__ = ["axes_or_new", "as_sweep", "point_at"]


def axes_or_new(ax):
    """``ax``, or the axes of a new pyplot figure."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def as_sweep(source):
    """A :class:`vislab.evaluate.Sweep` for a sweep, or for a sweep frame with counts.

    Returns ``None`` for a frame without ``tp, fp, fn`` (a curve of precision and recall only).
    """
    from vislab.evaluate import Sweep

    if isinstance(source, Sweep):
        return source
    if isinstance(source, pd.DataFrame) and {"threshold", "tp", "fp", "fn"} <= set(source.columns):
        return Sweep.from_frame(source)
    return None


def point_at(source, frame: pd.DataFrame, threshold: float, *, label=None) -> pd.Series:
    """The operating point at ``threshold``, by :meth:`vislab.evaluate.Sweep.at`.

    ``source`` is the sweep (or sweep frame) a Display was built from; a Display given only a
    curve (``threshold, precision, recall, ...`` without counts) reads the curve's own row of
    the lowest listed threshold at or above ``threshold`` — the point the sweep would give.
    """
    sweep = as_sweep(source)
    if sweep is not None:
        return sweep.at(threshold, label=label)
    kept = frame[frame["threshold"] >= threshold]
    if len(kept):
        return kept.sort_values("threshold").iloc[0]
    # Above every listed threshold nothing is kept: precision 1 by convention, recall 0.
    row = frame.sort_values("threshold").iloc[-1].copy()
    for col in ("precision", "recall", "f1"):
        if col in row.index:
            row[col] = {"precision": 1.0}.get(col, 0.0)
    return row
