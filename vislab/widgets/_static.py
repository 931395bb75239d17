"""Matplotlib drawing shared by the live widgets and their static fallbacks.

:class:`ImageGrid` owns a fixed set of axes, each with one image artist, one line collection
for the boxes and a pool of text labels.  Redrawing a page only swaps data into those artists
(``set_data``, ``set_segments``, ``set_text``), never creates or removes artists, so a page of
12 images redraws in well under the 300 ms budget.  The same class draws the picture grid of
each widget's static rendering, on axes of a figure made for that purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Tile", "ImageGrid", "new_figure", "TP_COLOR", "FP_COLOR", "FN_COLOR", "table_text"]

TP_COLOR = "#2ca02c"  # kept and right
FP_COLOR = "#d62728"  # kept and wrong
FN_COLOR = "#ff7f0e"  # missed truth
NEUTRAL_COLOR = "#1f77b4"
_BLANK = np.full((2, 2, 3), 225, np.uint8)


def new_figure(figsize, *, dpi: float = 72):
    """A figure outside pyplot (never shown twice by the inline backend) with an Agg canvas.

    Examples
    --------
    >>> new_figure((2, 1)).get_size_inches().tolist()
    [2.0, 1.0]
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


@dataclass
class Tile:
    """What one cell of an :class:`ImageGrid` shows.

    ``boxes`` are pixel ``x, y, w, h`` in the original image's coordinates; ``size`` is the
    original's ``(width, height)`` (the thumbnail in ``pixels`` is stretched over it).
    """

    title: str = ""
    pixels: np.ndarray | None = None
    size: tuple[float, float] | None = None
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    colors: list = field(default_factory=list)
    dashed: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    title_color: str = "black"
    notes: list = field(default_factory=list)  # (text, colour) lines at the top left


class ImageGrid:
    """A grid of image axes whose artists are created once and reused for every page.

    Parameters
    ----------
    n : int
        Cells in the grid.
    ncols : int
        Cells per row.
    axes : list of Axes, optional
        Draw on these axes (static renderings) instead of making a figure.
    cell_inches : (float, float)
        Size of one cell when the grid makes its own figure.
    max_labels : int
        Box captions kept per cell (the strongest boxes get one).

    Examples
    --------
    >>> grid = ImageGrid(n=2, ncols=2)
    >>> grid.draw([Tile(title="a", size=(40, 30), boxes=np.array([[1, 2, 10, 10]]),
    ...                 colors=["red"], labels=["cat"])])
    >>> grid.jpeg()[:2]
    b'\\xff\\xd8'
    """

    def __init__(
        self,
        *,
        n: int = 12,
        ncols: int = 4,
        axes=None,
        cell_inches: tuple[float, float] = (2.5, 2.2),
        dpi: float = 72,
        max_labels: int = 6,
    ):
        from matplotlib.collections import LineCollection

        if axes is None:
            nrows = max(1, -(-n // ncols))
            self.figure = new_figure((ncols * cell_inches[0], nrows * cell_inches[1]), dpi=dpi)
            self.figure.subplots_adjust(
                left=0.005, right=0.995, top=0.96, bottom=0.005, wspace=0.03, hspace=0.14
            )
            axes = list(self.figure.subplots(nrows, ncols, squeeze=False).ravel())[:n]
            for extra in self.figure.axes[n:]:
                extra.set_visible(False)
        else:
            axes = list(axes)
            self.figure = axes[0].figure if axes else None
        self.axes = axes
        self._images = []
        self._boxes = []
        self._labels = []
        self._titles = []
        for ax in axes:
            ax.set_axis_off()
            image = ax.imshow(_BLANK, extent=(0, 1, 1, 0), interpolation="bilinear")
            coll = LineCollection([], linewidths=1.8)
            ax.add_collection(coll)
            texts = [
                ax.text(
                    0,
                    0,
                    "",
                    fontsize=7,
                    color="white",
                    va="bottom",
                    ha="left",
                    clip_on=True,
                    bbox={"pad": 0.8, "linewidth": 0, "alpha": 0.75, "facecolor": "k"},
                    visible=False,
                )
                for _ in range(max_labels)
            ]
            self._images.append(image)
            self._boxes.append(coll)
            self._labels.append(texts)
            self._titles.append(ax.set_title("", fontsize=8))

    def draw(self, tiles: list[Tile]) -> None:
        """Show ``tiles`` (at most one per cell; empty cells are hidden)."""
        for i, ax in enumerate(self.axes):
            if i >= len(tiles):
                ax.set_visible(False)
                continue
            ax.set_visible(True)
            self._draw_tile(i, tiles[i])

    def _draw_tile(self, i: int, tile: Tile) -> None:
        ax = self.axes[i]
        boxes = np.asarray(tile.boxes, dtype=float).reshape(-1, 4)
        if tile.size is not None:
            width, height = tile.size
        elif len(boxes):
            width = float(max(1.0, (boxes[:, 0] + boxes[:, 2]).max() * 1.05))
            height = float(max(1.0, (boxes[:, 1] + boxes[:, 3]).max() * 1.05))
        else:
            width, height = 100.0, 100.0
        image = self._images[i]
        image.set_data(tile.pixels if tile.pixels is not None else _BLANK)
        image.set_extent((0, width, height, 0))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        x, y, w, h = boxes.T if len(boxes) else (np.zeros(0),) * 4
        segments = (
            np.stack(
                [
                    np.stack([x, y], 1),
                    np.stack([x + w, y], 1),
                    np.stack([x + w, y + h], 1),
                    np.stack([x, y + h], 1),
                    np.stack([x, y], 1),
                ],
                axis=1,
            )
            if len(boxes)
            else []
        )
        coll = self._boxes[i]
        coll.set_segments(segments)
        colors = list(tile.colors) or [NEUTRAL_COLOR] * len(boxes)
        coll.set_color(colors if len(boxes) else [NEUTRAL_COLOR])
        dashed = list(tile.dashed) or [False] * len(boxes)
        coll.set_linestyles([(0, (3, 2)) if d else "solid" for d in dashed] or ["solid"])
        texts = self._labels[i]
        fit = _CaptionFit(ax, width, height)
        captions = [
            fit.place(x[j], y[j], str(tile.labels[j]), colors[j])
            for j in range(min(len(boxes), len(tile.labels)))
            if tile.labels[j]
        ]
        captions += [
            fit.note(0.03 * width, (0.03 + 0.12 * j) * height, str(text), color)
            for j, (text, color) in enumerate(tile.notes)
        ]
        for j, text in enumerate(texts):
            if j < len(captions):
                pos, content, color, va = captions[j]
                text.set_position(pos)
                text.set_text(content)
                text.set_va(va)
                text.get_bbox_patch().set_facecolor(color)
                text.set_visible(True)
            else:
                text.set_visible(False)
        title = self._titles[i]
        title.set_text(tile.title)
        title.set_color(tile.title_color)

    def jpeg(self, *, quality: int = 85) -> bytes:
        """Draw the grid's own figure and encode it as JPEG."""
        from vislab.widgets._base import figure_jpeg

        return figure_jpeg(self.figure, quality=quality)


class _CaptionFit:
    """Where a caption goes so that it stays on its picture (data units of one image axes).

    Above its box; inside the box when the box touches the picture's top edge; shifted left
    at the right edge; shortened when it is wider than the picture.  Sizes come from the
    axes' scale in pixels and the captions' 7 pt font, estimated with a margin.
    """

    FONT_PT = 7

    def __init__(self, ax, width: float, height: float):
        ax.apply_aspect()
        to_px = ax.transData.transform
        self.px_x = abs(to_px((1, 0))[0] - to_px((0, 0))[0]) or 1.0
        self.px_y = abs(to_px((0, 1))[1] - to_px((0, 0))[1]) or 1.0
        pt = ax.figure.dpi / 72 if ax.figure is not None else 1.0
        self.char_w = self.FONT_PT * 0.62 * pt / self.px_x
        self.pad_x = 4 * pt / self.px_x
        self.text_h = (self.FONT_PT * 1.45 + 4) * pt / self.px_y
        self.width, self.height = width, height

    def _fit(self, x, text):
        room = max(1, int((self.width - self.pad_x) / self.char_w))
        if len(text) > room:
            text = text[: max(1, room - 1)] + "…"
        w = len(text) * self.char_w + self.pad_x
        return min(max(x, 0.0), max(0.0, self.width - w)), text

    def place(self, x, y, text, color):
        x, text = self._fit(x, text)
        if y - self.text_h >= 0:
            return (x, y), text, color, "bottom"
        return (x, max(y, 0.0) + 2 / self.px_y), text, color, "top"

    def note(self, x, y, text, color):
        x, text = self._fit(x, text)
        return (x, y), text, color, "top"


def table_text(ax, rows: list[list[str]], *, header: list[str] | None = None, title: str = ""):
    """Draw a small text table on an axis without frame (static renderings of metrics).

    Examples
    --------
    >>> fig = new_figure((3, 1))
    >>> table_text(fig.add_subplot(), [["0.5", "0.9"]], header=["t", "precision"])
    """
    ax.set_axis_off()
    cells = ([header] if header else []) + rows
    if not cells:
        return
    table = ax.table(cellText=cells, loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    # Columns as wide as their longest text (e.g. "person" or "weighted avg"), not a fixed
    # share of the axes: no word is cut by the next cell.
    table.auto_set_column_width(list(range(len(cells[0]))))
    table.scale(1, 1.2)
    if header:
        for j in range(len(header)):
            table[0, j].set_text_props(weight="bold")
    if title:
        ax.set_title(title, fontsize=9)
