"""Image search: what a similarity cutoff returns, and how good it is — :class:`CutoffDisplay`."""

from __future__ import annotations

import pandas as pd

from vislab.plot._common import axes_or_new
from vislab.plot.curves import _COLORS, _MARK, _sweep_frame, _thin

__all__ = ["CutoffDisplay"]


class CutoffDisplay:
    """Image search: precision, recall, F1 and hits returned against the similarity cutoff.

    Parameters
    ----------
    frame : DataFrame
        A retrieval sweep frame (``threshold, n_pred, precision, recall, f1``).
    cutoff : float, optional
        The cutoff to mark.

    Attributes
    ----------
    lines_ : dict of Line2D
    count_line_ : Line2D
        Hits returned (right axis).
    vline_ : Line2D or None
        The cutoff; :meth:`set_cutoff` moves it.
    ax_, ax_count_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> f = pd.DataFrame({"threshold": [0.9, 0.6], "n_pred": [1, 3], "precision": [1.0, 0.67],
    ...                   "recall": [0.5, 1.0], "f1": [0.67, 0.8]})
    >>> CutoffDisplay(f, cutoff=0.7).plot().count_line_.get_ydata().tolist()
    [3, 1]
    """

    def __init__(self, frame: pd.DataFrame, *, cutoff=None):
        self.frame = frame
        self.cutoff = cutoff

    @classmethod
    def from_sweep(cls, sweep, *, cutoff=None, rule=None, max_points=None, ax=None, **plot_kw):
        """Plot a :func:`vislab.evaluate.retrieval_sweep`; ``rule`` picks the cutoff.

        Parameters
        ----------
        sweep : Sweep or DataFrame
            A :func:`vislab.evaluate.retrieval_sweep` result (or any sweep), or its frame
            (``threshold, n_pred, precision, recall, f1``).
        cutoff : float, optional
            The cutoff to mark.
        rule : str, mapping or callable, optional
            Used when ``cutoff`` is not given (see :func:`vislab.evaluate.best_threshold`:
            ``"f1"``, ``"precision>=0.9"`` ...); no line when no cutoff satisfies it.
        max_points : int, optional
            Draw at most this many points of the curves (first and last kept).
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        **plot_kw
            Passed to :meth:`plot`, which takes no option but ``ax`` today: any other
            keyword raises ``TypeError``.

        Returns
        -------
        CutoffDisplay
            Plotted: ``lines_``, ``count_line_``, ``vline_`` (None without a cutoff), ``ax_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import Sweep
        >>> s = Sweep.from_arrays([0.95, 0.7, 0.4], tp=[1, 1, 0], n_pos=2)
        >>> CutoffDisplay.from_sweep(s, rule="f1").cutoff
        0.7
        """
        frame = _sweep_frame(sweep)
        if rule is not None and cutoff is None:
            from vislab.evaluate import best_threshold

            cutoff = best_threshold(sweep, rule=rule)["threshold"]
            cutoff = None if pd.isna(cutoff) else float(cutoff)
        return cls(_thin(frame, max_points), cutoff=cutoff).plot(ax=ax, **plot_kw)

    @classmethod
    def from_predictions(cls, relevant, matches, *, k=None, item="cont_sign", **kw):
        """Sweep ``matches`` against ``relevant`` (:func:`vislab.evaluate.retrieval_sweep`).

        Parameters
        ----------
        relevant : DataFrame
            The truth: relevant (query, item) pairs, columns ``query`` and ``item``.
        matches : DataFrame
            Matches frame ``query, rank, cont_sign, brief, score, tags`` (one row per hit).
        k : int or sequence of int, optional
            Cut-offs of the sweep's precision@k / recall@k (not drawn).
        item : str, default "cont_sign"
            Column identifying a gallery item.
        **kw
            Options of :meth:`from_sweep` (``cutoff``, ``rule``, ``max_points``, ``ax``).

        Returns
        -------
        CutoffDisplay
            Plotted.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> relevant = pd.DataFrame({"query": ["q"], "cont_sign": ["a"]})
        >>> matches = pd.DataFrame({"query": ["q", "q"], "cont_sign": ["a", "b"],
        ...                         "score": [0.9, 0.5]})
        >>> CutoffDisplay.from_predictions(relevant, matches, rule="f1").cutoff
        0.9
        """
        from vislab.evaluate import retrieval_sweep

        return cls.from_sweep(retrieval_sweep(relevant, matches, k=k, item=item), **kw)

    def plot(self, *, ax=None):
        """Draw the curves and the hits returned; returns ``self``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure); the hits returned go on a twin axis.

        Returns
        -------
        CutoffDisplay
            ``self``, with ``lines_``, ``ax_count_``, ``count_line_``, ``vline_`` (set when
            ``cutoff`` is), ``ax_`` and ``figure_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> f = pd.DataFrame({"threshold": [0.9, 0.6], "n_pred": [1, 3],
        ...                   "precision": [1.0, 0.67], "recall": [0.5, 1.0], "f1": [0.67, 0.8]})
        >>> d = CutoffDisplay(f).plot()
        >>> d.vline_ is None, sorted(d.lines_)
        (True, ['f1', 'precision', 'recall'])
        """
        ax = axes_or_new(ax)
        f = self.frame.sort_values("threshold")
        self.lines_ = {}
        for m in ("precision", "recall", "f1"):
            (self.lines_[m],) = ax.plot(
                f["threshold"], f[m], label=m, color=_COLORS[m], drawstyle="steps-post"
            )
        self.ax_count_ = ax.twinx()
        (self.count_line_,) = self.ax_count_.plot(
            f["threshold"],
            f["n_pred"],
            color="#7f7f7f",
            ls=":",
            drawstyle="steps-post",
            label="hits returned",
        )
        self.ax_count_.set_ylabel("hits returned", color="#7f7f7f")
        self.vline_ = None
        self.ax_ = ax
        self.figure_ = ax.figure
        ax.set(xlabel="similarity cutoff", ylabel="value", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
        handles = list(self.lines_.values()) + [self.count_line_]
        ax.legend(handles=handles, loc="lower left", fontsize=8)
        if self.cutoff is not None:
            self.set_cutoff(self.cutoff)
        return self

    def set_cutoff(self, cutoff: float):
        """Move the cutoff line to ``cutoff``; returns ``self``.

        Parameters
        ----------
        cutoff : float
            Similarity cutoff, on the scores' scale.

        Returns
        -------
        CutoffDisplay
            ``self``, with ``vline_`` at ``cutoff``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> f = pd.DataFrame({"threshold": [0.9, 0.6], "n_pred": [1, 3],
        ...                   "precision": [1.0, 0.67], "recall": [0.5, 1.0], "f1": [0.67, 0.8]})
        >>> CutoffDisplay(f).plot().set_cutoff(0.75).vline_.get_xdata()
        [0.75, 0.75]
        """
        c = float(cutoff)
        self.cutoff = c
        if self.vline_ is None:
            self.vline_ = self.ax_.axvline(c, color=_MARK, ls="--", lw=1.2)
        else:
            self.vline_.set_xdata([c, c])
        return self

    set_operating_point = set_cutoff
