"""ConfusionMatrixView: a confusion matrix a person can click to see the images in a cell.

:class:`ConfusionMatrixView` shows :func:`vislab.evaluate.confusion_matrix` as a grid of
buttons (counts, or normalised by true class); clicking a cell — or setting
``.selected_cell`` from Python — shows the images in it.  Its companion
:class:`~vislab.widgets.ReportView` (:mod:`vislab.widgets.report`) sorts the per-class report.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from vislab.widgets._base import (
    Debouncer,
    ImageSource,
    StaticFallback,
    escape,
    shorten,
    state_property,
)
from vislab.widgets._pillow_grid import PillowGrid
from vislab.widgets._static import FP_COLOR, TP_COLOR, ImageGrid, Tile, new_figure
from vislab.widgets.confusion_state import ConfusionState

__all__ = ["ConfusionMatrixView"]


def _heat(value: float) -> str:
    """Background colour for a cell with share ``value`` in [0, 1] (white to deep blue)."""
    v = 0.0 if not np.isfinite(value) else float(min(max(value, 0.0), 1.0))
    r = int(255 - v * (255 - 31))
    g = int(255 - v * (255 - 119))
    b = int(255 - v * (255 - 180))
    return f"#{r:02x}{g:02x}{b:02x}"


class ConfusionMatrixView(StaticFallback, widgets.VBox):
    """A clickable confusion matrix: pick a cell, see its images.

    Parameters
    ----------
    truth : DataFrame or mapping
        Truth labels ``image, label`` (or ``{image: label}``).
    pred : DataFrame
        Labels frame ``image, rank, label, score``; the rank-1 label is the prediction.
    images : mapping, folder, callable or list, optional
        Where the pictures are (see :class:`vislab.widgets._base.ImageSource`).
    labels : sequence, optional
        Classes in order (default: all, sorted).
    normalize : {None, "true"}, default None
        Show counts, or shares of each true class (the toggle in the widget).
    **kwargs
        Passed to ``ipywidgets.VBox`` (e.g. ``layout=``).

    Attributes
    ----------
    selected_cell : tuple or None
        ``(true label, predicted label)`` of the cell on show (a traitlet: set it to select).
    matrix : DataFrame
        The matrix as shown (counts or normalised), from :func:`vislab.evaluate.confusion_matrix`.
    cell_images : list
        Images of the selected cell.

    Examples
    --------
    >>> import pandas as pd
    >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
    >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
    ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
    >>> view = ConfusionMatrixView(truth, pred)
    >>> view.selected_cell = ("dog", "cat")
    >>> view.cell_images
    ['b']
    >>> view.matrix.loc["dog", "cat"]
    np.int64(1)
    """

    selected_cell = traitlets.Tuple(allow_none=True, default_value=None)
    normalize = traitlets.Unicode(None, allow_none=True)

    def __init__(self, truth, pred, *, images=None, labels=None, normalize=None, **kwargs):
        super().__init__(**kwargs)
        self.state = ConfusionState(truth, pred, labels=labels, normalize=normalize)
        self._source = ImageSource(images)
        self._toggle = widgets.ToggleButtons(
            options=[("counts", "counts"), ("share of true class", "true")],
            value="counts" if normalize is None else "true",
        )
        self._toggle.observe(self._on_toggle, names="value")
        self._cells = widgets.GridBox()
        self._cells.add_class("vislab-confusion-cells")
        self._info = widgets.HTML()
        self._grid_view = widgets.Image(format="jpeg")
        self._grid_view.add_class("vislab-grid")
        self._grid = None
        self._redraw = Debouncer(self._draw_images, on_error=self._show_error)
        self._buttons: dict = {}
        message = self.state.message
        self._message = widgets.HTML("<b>" + message.replace(":", "</b>:", 1) if message else "")
        self.children = [
            self._toggle,
            self._message,
            self._cells,
            self._info,
            self._grid_view,
        ]
        self.add_class("vislab-confusion-matrix")
        for name in ("selected_cell", "normalize"):
            traitlets.link((self.state, name), (self, name))
        self.state.observe(self._on_normalize, names="normalize")
        self.state.observe(self._on_select, names="selected_cell")
        self._build_cells()
        self._on_select({"new": self.state.selected_cell})

    counts = state_property("counts", "The confusion matrix of counts (rows: true label).")
    normalized = state_property("normalized", "The matrix as shares of each true class.")
    per_image = state_property(
        "per_image", "``image, true, predicted`` of every truth image: what the matrix counts."
    )

    @property
    def matrix(self) -> pd.DataFrame:
        """The matrix as shown: counts, or shares of each true class."""
        return self.state.matrix

    @property
    def metrics(self) -> pd.DataFrame:
        """The matrix as shown (the numbers a person reads)."""
        return self.state.metrics

    @property
    def cell_images(self) -> list:
        """Images of the selected cell (empty when none is selected)."""
        return self.state.cell_images

    def to_frame(self) -> pd.DataFrame:
        """``image, true, predicted`` for every truth image (what the matrix counts).

        Returns
        -------
        DataFrame
            A copy of :attr:`per_image`; an image without a prediction is predicted
            ``"(no prediction)"``.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
        >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
        ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
        >>> ConfusionMatrixView(truth, pred).to_frame()
          image true predicted
        0     a  cat       cat
        1     b  dog       cat
        2     c  dog       dog
        """
        return self.state.to_frame()

    def _on_toggle(self, change) -> None:
        self.normalize = None if change["new"] == "counts" else "true"

    def _on_normalize(self, change) -> None:
        self._toggle.value = "counts" if change["new"] is None else "true"
        self._build_cells()

    def _build_cells(self) -> None:
        cm = self.matrix
        rows, cols = list(cm.index), list(cm.columns)
        children = [widgets.HTML("<b>true \\ predicted</b>")]
        children += [
            widgets.HTML(f"<b title='{escape(c)}'>{escape(shorten(c, 16))}</b>") for c in cols
        ]
        share = self.normalized
        self._buttons = {}
        for t in rows:
            children.append(widgets.HTML(f"<b title='{escape(t)}'>{escape(shorten(t, 16))}</b>"))
            for p in cols:
                value = cm.loc[t, p]
                text = f"{value:.2f}" if self.normalize else str(int(value))
                b = widgets.Button(description=text, tooltip=f"true {t}, predicted {p}")
                s = share.loc[t, p] if t in share.index and p in share.columns else 0.0
                b.style.button_color = _heat(s)
                b.style.text_color = "white" if s > 0.55 else "black"
                b.layout = widgets.Layout(width="64px", height="30px")
                b.add_class("vislab-cell")
                b.add_class("vislab-cell-diagonal" if t == p else "vislab-cell-off")
                b.on_click(lambda _, cell=(t, p): setattr(self, "selected_cell", cell))
                self._buttons[(t, p)] = b
                children.append(b)
        self._cells.children = children
        self._cells.layout = widgets.Layout(
            grid_template_columns=f"120px repeat({len(cols)}, 68px)", grid_gap="2px"
        )
        self._mark_selected()

    def _mark_selected(self) -> None:
        for cell, b in self._buttons.items():
            b.layout.border = "3px solid #d62728" if cell == self.selected_cell else ""

    def _on_select(self, change) -> None:
        self._mark_selected()
        cell = change["new"]
        if cell is None:
            self._info.value = "Click a cell to see its images."
        else:
            n = len(self.cell_images)
            kind = "right" if cell[0] == cell[1] else "confused"
            self._info.value = (
                f"<span class='vislab-cell-info'><b>{n}</b> image(s) of true "
                f"<b>{escape(cell[0])}</b> predicted <b>{escape(cell[1])}</b> ({kind})"
                f"{' — first 12 below' if n > 12 else ''}.</span>"
            )
        self._redraw()

    def _tiles(self, keys) -> list[Tile]:
        tiles = []
        for key in keys:
            pixels, size = self._source.get(key)
            row = self.per_image[self.per_image["image"] == key].iloc[0]
            ok = row["true"] == row["predicted"]
            tiles.append(
                Tile(
                    title=shorten(str(key).rsplit("/", 1)[-1], 22),
                    pixels=pixels,
                    size=size,
                    notes=[
                        (f"true {row['true']}", TP_COLOR),
                        (f"pred {row['predicted']}", TP_COLOR if ok else FP_COLOR),
                    ],
                )
            )
        return tiles

    def _draw_images(self) -> None:
        keys = self.cell_images[:12]
        if self._grid is None:
            self._grid = PillowGrid(n=12, ncols=6, cell_inches=(1.9, 1.9))
        self._grid.draw(self._tiles(keys))
        self._grid_view.value = self._grid.jpeg()
        self._grid_view.layout.display = "" if keys else "none"

    def flush(self) -> None:
        """Redraw the images now if a redraw is waiting.

        In a running kernel the images of a newly selected cell are drawn after a short
        pause; outside one they are drawn at once.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
        >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
        ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
        >>> view = ConfusionMatrixView(truth, pred)
        >>> view.selected_cell = ("dog", "dog")
        >>> view.flush()           # the images of the cell are on show
        >>> view.cell_images
        ['c']
        """
        self._redraw.flush()

    def _show_error(self, exc: BaseException) -> None:
        from vislab.widgets._base import error_html

        self._info.value = self._info.value.split("<div class='vislab-error'")[0] + error_html(exc)

    def summary(self) -> str:
        """One line: classes, images, accuracy and the selected cell (also the plain repr).

        Returns
        -------
        str
            ``ConfusionMatrixView(N classes, M images, accuracy=..., selected=(...))``.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
        >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
        ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
        >>> ConfusionMatrixView(truth, pred).summary()
        "ConfusionMatrixView(2 classes, 3 images, accuracy=0.6667, selected=('dog', 'cat'))"
        """
        return self.state.summary()

    def static_figure(self):
        """The matrix (as shown) and the images of the selected cell.

        What the notebook shows where widgets cannot render (:meth:`show_static`).

        Returns
        -------
        matplotlib.figure.Figure
            The matrix drawn by :class:`vislab.plot.ConfusionMatrixDisplay`, the selected
            cell framed, and a row of up to six of its images (no row without a selection).

        Examples
        --------
        >>> import pandas as pd
        >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
        >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
        ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
        >>> view = ConfusionMatrixView(truth, pred)
        >>> view.static_figure().get_size_inches().tolist()   # matrix and a row of images
        [11.0, 6.8]
        >>> view.selected_cell = None
        >>> view.static_figure().get_size_inches().tolist()
        [11.0, 4.6]
        """
        keys = self.cell_images[:6]
        cm = self.matrix
        fig = new_figure((11, 4.6 + (2.2 if keys else 0)))
        if keys:
            top, bottom = fig.subfigures(2, 1, height_ratios=[4.6, 2.2])
        else:
            top, bottom = fig, None
        ax = top.subplots()
        # Room under the matrix for its turned tick labels and axis label.
        top.subplots_adjust(bottom=0.24, top=0.9)
        from vislab.plot import ConfusionMatrixDisplay

        disp = ConfusionMatrixDisplay(cm).plot(
            ax=ax,
            colorbar=False,
            values_format=".2f" if self.normalize else "d",
            xticks_rotation=40,
        )
        for text in disp.ax_.get_xticklabels() + disp.ax_.get_yticklabels():
            text.set_fontsize(8)
        if disp.text_ is not None:
            for text in disp.text_.ravel():
                text.set_fontsize(8)
        disp.set_cell(self.selected_cell)  # the display frames the selection itself
        ax.set_title(self.summary(), fontsize=9)
        if bottom is not None:
            axes = bottom.subplots(1, 6)
            ImageGrid(axes=axes[: len(keys)]).draw(self._tiles(keys))
            for extra in axes[len(keys) :]:
                extra.set_visible(False)
            t, p = self.selected_cell
            bottom.suptitle(
                f"true {t}, predicted {p}: {len(self.cell_images)} image(s)", fontsize=9
            )
        return fig
