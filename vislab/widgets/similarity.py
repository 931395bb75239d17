"""SimilarityCutoff: choose the similarity score above which image-search hits are shown.

An image-search service answers each query with ranked hits and scores.  The application shows
the hits above a cutoff.  With known relevant (query, item) pairs the widget shows precision,
recall and F1 at the cutoff (from :func:`vislab.evaluate.retrieval_sweep`) and the score
histograms of relevant and irrelevant hits; without them it shows how many hits each query
keeps.  The thumbnails just above and just below the cutoff show what moving it would add or
remove.  The widget is a view of a :class:`~vislab.widgets.similarity_state.CutoffState`.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from vislab.widgets._base import (
    TABLE_STYLE,
    Debouncer,
    ImageSource,
    StaticFallback,
    error_html,
    escape,
    figure_png,
    metric_cell,
    slider_echo,
    state_property,
)
from vislab.widgets._cutoff_figure import IRRELEVANT_COLOR, CutoffFigure
from vislab.widgets._pillow_grid import PillowGrid
from vislab.widgets._static import FP_COLOR, NEUTRAL_COLOR, TP_COLOR, ImageGrid, Tile, new_figure
from vislab.widgets.similarity_state import CutoffState

__all__ = ["SimilarityCutoff"]


class SimilarityCutoff(StaticFallback, widgets.VBox):
    """Choose a similarity cutoff for image-search hits by looking at what it keeps.

    Parameters
    ----------
    relevant : DataFrame or None
        Known relevant pairs (the truth, so it comes first): ``query`` and the ``item`` column
        (``cont_sign`` by default).  With it: precision / recall / F1 at the cutoff and score
        histograms.  ``None`` when no pairs are known: the widget counts hits only.
    matches : DataFrame
        Matches frame (``query, rank, cont_sign, brief, score, tags``), one row per hit;
        rows with ``error_code`` are failed queries.
    images : mapping, folder, callable or list, optional
        Where the pictures of queries and hits are: looked up by query identifier and by the
        hit's ``image_column`` value (see :class:`vislab.widgets._base.ImageSource`).
    item : str, default "cont_sign"
        Column identifying a gallery item (as in :func:`vislab.evaluate.retrieval_sweep`).
    image_column : str, default "brief"
        Column of ``matches`` naming the hit's picture (often the path stored as brief).  A
        brief that is a dict with an ``"image"`` key — what ``vislab.baidu.ImageSearch`` stores
        by default — is looked up by that value.
    cutoff : float, optional
        Starting cutoff; default: best F1 with ``relevant``, else the median hit score.
    k : sequence of int, default (1, 5, 10)
        Ranks for precision@k / recall@k (shown below the table).
    **kwargs
        Passed to ``ipywidgets.VBox`` (e.g. ``layout=``).

    Attributes
    ----------
    cutoff : float
        Hits with ``score >= cutoff`` are kept (a traitlet: set it, or ``observe`` it).
    metrics : DataFrame
        One row ``"all"``: ``cutoff, hits, queries, queries_without_hits, hits_per_query`` and,
        with ``relevant``, ``tp, fp, fn, precision, recall, f1``.
    per_query : DataFrame
        Hits kept per query at the cutoff (and relevant ones kept, with ``relevant``).
    state : CutoffState
        The pure-Python state the view shows.
    sweep : RetrievalSweep or None

    Examples
    --------
    >>> import pandas as pd
    >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "rank": [1, 2, 1],
    ...                         "cont_sign": ["a", "b", "c"], "brief": ["", "", ""],
    ...                         "score": [0.95, 0.60, 0.80], "tags": [[], [], []]})
    >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
    >>> view = SimilarityCutoff(relevant, matches, cutoff=0.7)
    >>> view.metrics[["hits", "tp"]].values.tolist(), view.metrics["precision"].tolist()
    ([[2, 1]], [0.5])
    >>> view.cutoff = 0.9
    >>> view.per_query["hits"].tolist()
    [1, 0]
    """

    cutoff = traitlets.Float(0.5)

    def __init__(
        self,
        relevant: pd.DataFrame | None = None,
        matches: pd.DataFrame | None = None,
        *,
        images=None,
        item: str = "cont_sign",
        image_column: str = "brief",
        cutoff: float | None = None,
        k=(1, 5, 10),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.state = CutoffState(
            relevant, matches, item=item, image_column=image_column, cutoff=cutoff, k=k
        )
        self._source = ImageSource(images)
        self._redraw = Debouncer(self._draw_figures, on_error=self._show_error)
        self._syncing = False
        self._figure = None
        self._grid = None
        self._build(*self.state.score_range)
        traitlets.link((self.state, "cutoff"), (self, "cutoff"))
        self.state.observe(self._on_numbers, names="revision")
        self._on_numbers(None)

    sweep = state_property("sweep", "The :func:`vislab.evaluate.retrieval_sweep`, or None.")
    relevant = state_property("relevant", "The relevant pairs as given (None: counts only).")
    item = state_property("item", "The column identifying a gallery item.")
    image_column = state_property(
        "image_column", "The column naming each hit's picture (``item`` if ``matches`` lacks it)."
    )
    per_query = state_property(
        "per_query", "Hits kept per query at the cutoff (and relevant ones, with pairs)."
    )

    @property
    def metrics(self) -> pd.DataFrame:
        """Numbers at the current cutoff (see the class docstring)."""
        return self.state.metrics

    def to_frame(self) -> pd.DataFrame:
        """The hits kept at the cutoff (rows of failed queries stay: frames keep every input).

        Returns
        -------
        DataFrame
            The rows of ``matches`` with ``score >= cutoff``, ``attrs["cutoff"]`` set.

        Examples
        --------
        >>> import pandas as pd
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "b", "c"],
        ...                         "score": [0.95, 0.60, 0.80]})
        >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
        >>> SimilarityCutoff(relevant, matches, cutoff=0.7).to_frame()
          query cont_sign  score
        0    q1         a   0.95
        2    q2         c   0.80
        """
        return self.state.to_frame()

    def neighbours(self, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
        """Row positions (in score order) of the ``n`` hits just above and just below.

        What moving the cutoff would drop (above) or add (below); the thumbnails show them.

        Parameters
        ----------
        n : int, default 6
            Hits on each side.

        Returns
        -------
        above, below : ndarray of int
            Rows of ``state.hits.frame`` (one row per (query, item), highest score first),
            nearest to the cutoff first: the lowest kept hits, and the highest dropped ones.

        Examples
        --------
        >>> import pandas as pd
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "b", "c"],
        ...                         "score": [0.95, 0.60, 0.80]})
        >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
        >>> view = SimilarityCutoff(relevant, matches, cutoff=0.7)
        >>> above, below = view.neighbours(2)
        >>> view.state.hits.frame.loc[above, "score"].tolist(), below.tolist()
        ([0.8, 0.95], [2])
        """
        return self.state.neighbours(n)

    def apply_rule(self, rule: str) -> float | None:
        """Move the cutoff to the one :func:`vislab.evaluate.best_threshold` picks.

        Parameters
        ----------
        rule : str
            ``"f1"``, ``"precision>=0.9"``, ``"recall>=0.8"`` ... (any rule of
            :func:`~vislab.evaluate.best_threshold`).

        Returns
        -------
        float or None
            The cutoff chosen; ``None`` (the message line says so, nothing moves) when no
            cutoff satisfies ``rule`` or there are no relevant pairs.

        Examples
        --------
        >>> import pandas as pd
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "b", "c"],
        ...                         "score": [0.95, 0.60, 0.80]})
        >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
        >>> view = SimilarityCutoff(relevant, matches, cutoff=0.7)
        >>> view.apply_rule("f1"), view.metrics["f1"].round(4).tolist()
        (0.95, [0.6667])
        >>> SimilarityCutoff(None, matches).apply_rule("f1") is None    # no pairs known
        True
        """
        t = self.state.apply_rule(rule)
        if t is None:
            self._message.value = (
                f"<span style='color:{FP_COLOR}'>No cutoff reaches {escape(rule)}.</span>"
            )
        return t

    # -- layout ------------------------------------------------------------------------------
    def _build(self, lo: float, hi: float) -> None:
        step = 0.005 if hi - lo <= 1.5 else float(10 ** np.floor(np.log10((hi - lo) / 200)))
        self._slider = widgets.FloatSlider(
            min=lo,
            max=hi,
            step=step,
            value=min(max(0.5, lo), hi),
            description="similarity ≥",
            readout_format=".3f",
            style={"description_width": "90px"},
            layout=widgets.Layout(width="460px"),
        )
        self._slider.add_class("vislab-cutoff-slider")
        self._slider.observe(self._on_slider, names="value")
        controls = [self._slider]
        if self.sweep is not None:
            best = widgets.Button(description="best F1", layout=widgets.Layout(width="auto"))
            best.on_click(lambda _: self.apply_rule("f1"))
            self._min_precision = widgets.BoundedFloatText(
                value=0.9, min=0, max=1, step=0.01, layout=widgets.Layout(width="70px")
            )
            by_p = widgets.Button(description="precision ≥", layout=widgets.Layout(width="auto"))
            by_p.on_click(lambda _: self.apply_rule(f"precision>={self._min_precision.value}"))
            controls += [best, by_p, self._min_precision]
        self._message = widgets.HTML(self._status_message())
        self._table = widgets.HTML()
        self._plots = widgets.Image(format="png")
        self._plots.add_class("vislab-cutoff-plots")
        self._grid_view = widgets.Image(format="jpeg")
        self._grid_view.add_class("vislab-grid")
        legend = (
            f"<span style='color:{TP_COLOR}'>■ relevant</span> &nbsp;"
            f"<span style='color:{IRRELEVANT_COLOR}'>■ not relevant</span> &nbsp;"
            if self.state.hit_relevant is not None
            else ""
        )
        self._grid_title = widgets.HTML(
            f"Top row: the hits just <b>above</b> the cutoff (kept). Bottom row: just "
            f"<b>below</b> (dropped). {legend}"
        )
        self.children = [
            widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap")),
            self._message,
            self._table,
            self._plots,
            self._grid_title,
            self._grid_view,
        ]
        self.add_class("vislab-similarity-cutoff")

    def _status_message(self) -> str:
        n_hits, n_q = len(self.state.hit_score), len(self.state.queries)
        if n_hits == 0:
            return (
                f"<b>No hits</b>: the {n_q} queries returned nothing; there is no cutoff to choose."
            )
        text = f"{n_hits} hits for {n_q} queries."
        if self.state.failed:
            text += f" {len(self.state.failed)} query(ies) failed at the service (no hits)."
        if self.relevant is None:
            text += " Pass <code>relevant=</code> pairs to see precision and recall."
        elif len(self.relevant) == 0:
            text += " <b>No relevant pairs</b>: every hit counts as irrelevant."
        return text

    def _on_slider(self, change) -> None:
        # The front end's first render sends back the value snapped to the step: not a move.
        if not self._syncing and not slider_echo(self._slider, self.cutoff, change["new"]):
            self.cutoff = float(change["new"])

    def _on_numbers(self, change) -> None:
        self._syncing = True
        try:
            s = self._slider
            s.value = min(max(float(self.state.cutoff), s.min), s.max)
        finally:
            self._syncing = False
        self._table.value = self._table_html(self.state.row())
        self._redraw()

    def _table_html(self, row: dict) -> str:
        cells = [
            ("cutoff", metric_cell("cutoff", row["cutoff"], digits=None)),
            ("hits kept", metric_cell("hits", row["hits"])),
            ("per query", metric_cell("hits_per_query", row["hits_per_query"], digits=2)),
            ("queries with none", metric_cell("queries_without_hits", row["queries_without_hits"])),
        ]
        if self.sweep is not None:
            cells += [
                (name, metric_cell(name, row[name]))
                for name in ("tp", "fp", "fn", "precision", "recall", "f1")
            ]
        head = "".join(f"<th>{escape(n)}</th>" for n, _ in cells)
        body = "".join(c for _, c in cells)
        extra = ""
        if self.sweep is not None and len(getattr(self.sweep, "at_k", [])):
            parts = [
                f"P@{int(r.k)} {r.precision_at_k:.3f} · R@{int(r.k)} {r.recall_at_k:.3f}"
                for r in self.sweep.at_k.itertuples()
                if pd.notna(r.precision_at_k)
            ]
            extra = (
                "<div style='color:#555'>Ranked-list view (no cutoff): "
                + " &nbsp;|&nbsp; ".join(parts)
                + "</div>"
            )
        return (
            TABLE_STYLE + f"<table class='vislab-metrics' data-cutoff='{float(row['cutoff'])!r}'>"
            f"<thead><tr>{head}</tr></thead><tbody><tr class='vislab-overall'>{body}</tr>"
            f"</tbody></table>{extra}"
        )

    # -- pictures ----------------------------------------------------------------------------
    def flush(self) -> None:
        """Redraw the figures now if a redraw is waiting.

        In a running kernel the plots and thumbnails are redrawn once the slider rests (the
        numbers follow every step); outside one they are redrawn at once.

        Examples
        --------
        >>> import pandas as pd
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "b", "c"],
        ...                         "score": [0.95, 0.60, 0.80]})
        >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
        >>> view = SimilarityCutoff(relevant, matches, cutoff=0.7)
        >>> view.cutoff = 0.9
        >>> view.flush()           # the plots and thumbnails now show cutoff 0.9
        >>> view.per_query["hits"].tolist()
        [1, 0]
        """
        self._redraw.flush()

    def _tiles(self, n: int = 6) -> list[Tile]:
        st = self.state
        above, below = st.neighbours(n)
        tiles = []
        for rows, kept in ((above, True), (below, False)):
            for j in range(n):
                if j >= len(rows):
                    tiles.append(Tile(title="", size=(1, 1)))
                    continue
                i = rows[j]
                pixels, size = self._source.get(st.hit_picture[i])
                rel = None if st.hit_relevant is None else bool(st.hit_relevant[i])
                color = NEUTRAL_COLOR if rel is None else TP_COLOR if rel else IRRELEVANT_COLOR
                mark = "" if rel is None else (" ✓" if rel else " ✗")
                w, h = size if size is not None else (100, 100)
                tiles.append(
                    Tile(
                        title=f"{_short(st.hit_query[i])} → {st.hit_score[i]:.3f}{mark}",
                        title_color=color if kept else "#777777",
                        pixels=pixels,
                        size=(w, h),
                        boxes=np.array([[1, 1, w - 2, h - 2]]),
                        colors=[color],
                        dashed=[not kept],
                        labels=[_short(st.hit_picture[i], 18)],
                    )
                )
        return tiles

    def _draw_figures(self) -> None:
        if self._figure is None:
            self._figure = CutoffFigure(self.state)
        self._figure.update(self.cutoff)
        self._plots.value = figure_png(self._figure.figure)
        if self._grid is None:
            self._grid = PillowGrid(n=12, ncols=6, cell_inches=(1.9, 1.9))
        self._grid.draw(self._tiles())
        self._grid_view.value = self._grid.jpeg()

    def _show_error(self, exc: BaseException) -> None:
        self._message.value = self._message.value.split("<div class='vislab-error'")[
            0
        ] + error_html(exc)

    def summary(self) -> str:
        """One line: the cutoff, the hits kept and, with pairs, P / R / F1 (the plain repr).

        Returns
        -------
        str
            ``SimilarityCutoff(cutoff=...: N hits kept, precision=..., recall=..., f1=...)``.

        Examples
        --------
        >>> import pandas as pd
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "b", "c"],
        ...                         "score": [0.95, 0.60, 0.80]})
        >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
        >>> SimilarityCutoff(None, matches, cutoff=0.7).summary()
        'SimilarityCutoff(cutoff=0.700: 2 hits kept)'
        """
        return self.state.summary()

    def static_figure(self):
        """Plots at the cutoff and the hits just above and below it.

        What the notebook shows where widgets cannot render (:meth:`show_static`).

        Returns
        -------
        matplotlib.figure.Figure
            Score histograms and P / R / F1 (or hits kept) against the cutoff, over two rows
            of six thumbnails: the kept hits nearest the cutoff, then the dropped ones.

        Examples
        --------
        >>> import pandas as pd
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "b", "c"],
        ...                         "score": [0.95, 0.60, 0.80]})
        >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
        >>> fig = SimilarityCutoff(relevant, matches, cutoff=0.7).static_figure()
        >>> fig.get_size_inches().tolist()
        [11.5, 7.4]
        """
        fig = new_figure((11.5, 7.4))
        top, bottom = fig.subfigures(2, 1, height_ratios=[3, 4])
        CutoffFigure(self.state, figure=top, top=0.8).update(self.cutoff)
        axes = bottom.subplots(2, 6).ravel()
        ImageGrid(axes=axes).draw(self._tiles())
        bottom.suptitle("above the cutoff (kept) / below (dropped)", fontsize=9)
        top.suptitle(self.summary(), fontsize=9)
        return fig


def _short(value, n: int = 15) -> str:
    """A name that fits under a thumbnail: base name, cut with an ellipsis."""
    text = str(value).rsplit("/", 1)[-1]
    return text if len(text) <= n else text[: n - 1] + "…"
