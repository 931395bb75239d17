"""Matplotlib pictures of evaluation results, in scikit-learn's Display style.

Each display is built from results (``XDisplay.from_predictions(truth, pred)``,
``.from_sweep(...)``), draws with ``.plot(ax=...)``, returns itself, and keeps what it drew in
attributes ending in ``_`` (``ax_``, ``figure_``, ``line_`` ...), so a notebook can restyle or
test them.  Every Display can move its operating point itself — ``set_threshold(t)``,
``set_cutoff(c)``, ``set_cell(cell)``, all also named ``set_operating_point`` — moving the
fitted marker artists without drawing the curves again (what the widgets do on every step).
Every number is read from :mod:`vislab.evaluate`; nothing is computed here.

* :class:`ConfusionMatrixDisplay` — which label was taken for which.
* :class:`PrecisionRecallDisplay` — the precision/recall trade-off, with the operating point.
* :class:`ThresholdDisplay` — precision, recall and F1 against the score threshold.
* :class:`CutoffDisplay` — image search: what a similarity cutoff returns, and how good it is.
* :func:`draw_boxes` — boxes on an image, coloured by label or by outcome (tp / fp / fn).
"""

from vislab.plot.boxes import MATCH_COLORS, draw_boxes
from vislab.plot.confusion import ConfusionMatrixDisplay
from vislab.plot.curves import PrecisionRecallDisplay
from vislab.plot.cutoff import CutoffDisplay
from vislab.plot.threshold import ThresholdDisplay

__all__ = [
    "draw_boxes",
    "MATCH_COLORS",
    "ConfusionMatrixDisplay",
    "PrecisionRecallDisplay",
    "ThresholdDisplay",
    "CutoffDisplay",
]
