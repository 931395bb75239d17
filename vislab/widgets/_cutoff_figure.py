"""The figure of a :class:`~vislab.widgets.SimilarityCutoff`: score histograms and curves.

Drawn once; moving the cutoff only moves its lines (and the
:class:`vislab.plot.CutoffDisplay`'s marker), so the figure follows a slider.
"""

from __future__ import annotations

import numpy as np

from vislab.widgets._static import NEUTRAL_COLOR, TP_COLOR, new_figure
from vislab.widgets.similarity_state import CutoffState

__all__ = ["CutoffFigure", "IRRELEVANT_COLOR"]

IRRELEVANT_COLOR = "#d62728"


class CutoffFigure:
    """Score histograms (relevant vs not, or all hits) and P/R/F1 vs cutoff; a moving line."""

    def __init__(self, state: CutoffState, *, figure=None, top: float = 0.88):
        if figure is None:
            figure = new_figure((10, 3.0), dpi=90)
        self.figure = figure
        ax_h, ax_c = figure.subplots(1, 2)
        # Room on the right for the hits-returned axis (its ticks and label), and on top for
        # a title over the figure (static renderings).
        figure.subplots_adjust(left=0.07, right=0.92, bottom=0.17, top=top, wspace=0.3)
        scores = state.hit_score
        bins = np.linspace(*state.score_range, 41)
        if state.hit_relevant is not None:
            ax_h.hist(
                scores[state.hit_relevant], bins=bins, alpha=0.6, color=TP_COLOR, label="relevant"
            )
            ax_h.hist(
                scores[~state.hit_relevant],
                bins=bins,
                alpha=0.6,
                color=IRRELEVANT_COLOR,
                label="not relevant",
            )
            ax_h.legend(fontsize=8)
        else:
            ax_h.hist(scores, bins=bins, color=NEUTRAL_COLOR, alpha=0.7, label="hits")
        ax_h.set_xlabel("similarity score")
        ax_h.set_ylabel("hits")
        ax_h.set_title("score histogram", fontsize=9)
        self.hist_line = ax_h.axvline(0, color="k", ls="--", lw=1.2)
        self.display = None
        if state.sweep is not None:
            from vislab.plot import CutoffDisplay

            # Thinned for drawing only; the numbers come from the sweep.
            self.display = CutoffDisplay.from_sweep(
                state.sweep, cutoff=state.cutoff, max_points=2000, ax=ax_c
            )
            ax_c.set_title("P / R / F1 and hits returned vs cutoff", fontsize=9)
            return
        s = np.sort(scores)[::-1]
        n_q = max(1, len(state.queries))
        ax_c.plot(s, np.arange(1, len(s) + 1) / n_q, color=NEUTRAL_COLOR)
        ax_c.set_ylabel("hits kept per query")
        ax_c.set_title("hits kept vs cutoff", fontsize=9)
        ax_c.set_xlabel("cutoff")
        ax_c.grid(alpha=0.3)
        self.count_line = ax_c.axvline(0, color="k", ls="--", lw=1.2)

    def update(self, cutoff: float) -> None:
        self.hist_line.set_xdata([cutoff, cutoff])
        if self.display is not None:
            self.display.set_cutoff(cutoff)
        else:
            self.count_line.set_xdata([cutoff, cutoff])
