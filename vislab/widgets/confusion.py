"""ConfusionMatrixView and ReportView: classification results a person can click and sort.

:class:`ConfusionMatrixView` shows :func:`vislab.evaluate.confusion_matrix` as a grid of
buttons (counts, or normalised by true class); clicking a cell — or setting
``.selected_cell`` from Python — shows the images in it.  :class:`ReportView` shows
:func:`vislab.evaluate.classification_report` as a sortable table with bars.
"""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from vislab.evaluate import (
    NO_PREDICTION,
    aligned_labels,
    classification_report,
    confusion_matrix,
)
from vislab.frames import truth_labels
from vislab.widgets._base import (
    TABLE_STYLE,
    Debouncer,
    ImageSource,
    StaticFallback,
    check_frame,
    check_overlap,
    escape,
)
from vislab.widgets._static import FP_COLOR, TP_COLOR, ImageGrid, Tile, new_figure, table_text

__all__ = ["ConfusionMatrixView", "ReportView"]


def _truth_frame(truth) -> pd.DataFrame:
    if isinstance(truth, Mapping):
        return truth_labels(truth)
    check_frame(truth, ["image", "label"], name="truth")
    return truth


def _aligned(truth: pd.DataFrame, pred: pd.DataFrame) -> pd.DataFrame:
    """``image, true, predicted`` per truth image, exactly as the confusion matrix counts them."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return aligned_labels(truth, pred)


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
        truth = _truth_frame(truth)
        check_frame(pred, ["image", "label"], name="pred")
        check_overlap(pred, truth)
        self._truth, self._pred, self._labels_arg = truth, pred, labels
        self.counts = confusion_matrix(truth, pred, labels=labels)
        self.normalized = confusion_matrix(truth, pred, labels=labels, normalize="true")
        self.per_image = (
            _aligned(truth, pred)
            if len(truth)
            else pd.DataFrame(columns=["image", "true", "predicted"])
        )
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
        message = ""
        if len(truth) == 0:
            message = "<b>No truth</b>: there is nothing to compare the predictions with."
        elif len(self.per_image) and (self.per_image["predicted"] == NO_PREDICTION).all():
            message = "<b>No predictions</b>: every image is in the “(no prediction)” column."
        self._message = widgets.HTML(message)
        self.children = [
            self._toggle,
            self._message,
            self._cells,
            self._info,
            self._grid_view,
        ]
        self.add_class("vislab-confusion-matrix")
        self.normalize = normalize
        self._build_cells()
        off = self._largest_error()
        if off is not None:
            self.selected_cell = off
        else:
            self._on_select({"new": None})

    @property
    def matrix(self) -> pd.DataFrame:
        """The matrix as shown: counts, or shares of each true class."""
        return self.counts if self.normalize is None else self.normalized

    def _largest_error(self):
        cm = self.counts
        best, where = 0, None
        for t in cm.index:
            for p in cm.columns:
                if t != p and cm.loc[t, p] > best:
                    best, where = cm.loc[t, p], (t, p)
        return where

    def _on_toggle(self, change) -> None:
        self.normalize = None if change["new"] == "counts" else "true"

    @traitlets.observe("normalize")
    def _on_normalize(self, change) -> None:
        if change["new"] not in (None, "true"):
            raise traitlets.TraitError("normalize must be None or 'true'")
        self._toggle.value = "counts" if change["new"] is None else "true"
        self._build_cells()

    def _build_cells(self) -> None:
        cm = self.matrix
        rows, cols = list(cm.index), list(cm.columns)
        children = [widgets.HTML("<b>true \\ predicted</b>")]
        children += [
            widgets.HTML(f"<b title='{escape(c)}'>{escape(str(c)[:12])}</b>") for c in cols
        ]
        share = self.normalized
        self._buttons = {}
        for t in rows:
            children.append(widgets.HTML(f"<b title='{escape(t)}'>{escape(str(t)[:14])}</b>"))
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

    @traitlets.validate("selected_cell")
    def _valid_cell(self, proposal):
        cell = proposal["value"]
        if cell is None:
            return None
        cell = tuple(cell)
        if len(cell) != 2 or cell[0] not in self.counts.index or cell[1] not in self.counts.columns:
            raise traitlets.TraitError(
                f"no cell {cell!r}; rows {list(self.counts.index)[:8]}, "
                f"columns {list(self.counts.columns)[:8]}"
            )
        return cell

    @traitlets.observe("selected_cell")
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

    @property
    def cell_images(self) -> list:
        """Images of the selected cell (empty when none is selected)."""
        if self.selected_cell is None:
            return []
        t, p = self.selected_cell
        rows = self.per_image[(self.per_image["true"] == t) & (self.per_image["predicted"] == p)]
        return rows["image"].tolist()

    def to_frame(self) -> pd.DataFrame:
        """``image, true, predicted`` for every truth image (what the matrix counts)."""
        return self.per_image.copy()

    def _tiles(self, keys) -> list[Tile]:
        tiles = []
        for key in keys:
            pixels, size = self._source.get(key)
            row = self.per_image[self.per_image["image"] == key].iloc[0]
            ok = row["true"] == row["predicted"]
            tiles.append(
                Tile(
                    title=str(key).rsplit("/", 1)[-1][:22],
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
            self._grid = ImageGrid(n=12, ncols=6, cell_inches=(1.9, 1.9))
        self._grid.draw(self._tiles(keys))
        self._grid_view.value = self._grid.jpeg()
        self._grid_view.layout.display = "" if keys else "none"

    def flush(self) -> None:
        """Redraw the images now if a redraw is waiting."""
        self._redraw.flush()

    def _show_error(self, exc: BaseException) -> None:
        from vislab.widgets._base import error_html

        self._info.value = self._info.value.split("<div class='vislab-error'")[0] + error_html(exc)

    def summary(self) -> str:
        acc = float(np.trace(self.counts.reindex(columns=self.counts.index, fill_value=0)))
        total = float(self.counts.to_numpy().sum())
        sel = "" if self.selected_cell is None else f", selected={self.selected_cell!r}"
        return (
            f"ConfusionMatrixView({len(self.counts.index)} classes, {int(total)} images, "
            f"accuracy={acc / total if total else float('nan'):.4f}{sel})"
        )

    def static_figure(self):
        """The matrix (as shown) and the images of the selected cell."""
        keys = self.cell_images[:6]
        cm = self.matrix
        fig = new_figure((11, 4.6 + (2.2 if keys else 0)))
        if keys:
            top, bottom = fig.subfigures(2, 1, height_ratios=[4.6, 2.2])
        else:
            top, bottom = fig, None
        ax = top.subplots()
        from matplotlib.patches import Rectangle

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
        if self.selected_cell is not None and self.selected_cell[1] in list(cm.columns):
            i = list(cm.index).index(self.selected_cell[0])
            j = list(cm.columns).index(self.selected_cell[1])
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#d62728", lw=2.5))
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


class ReportView(StaticFallback, widgets.VBox):
    """The per-class classification report as a sortable table with bars.

    Parameters
    ----------
    truth : DataFrame or mapping
        Truth labels ``image, label`` (or ``{image: label}``).
    pred : DataFrame
        Labels frame; the rank-1 label is the prediction (``top_k`` widens that).
    labels : sequence, optional
    top_k : int, default 1
    sort_by : str, default "f1"
        ``"label"``, ``"precision"``, ``"recall"``, ``"f1"`` or ``"support"``.
    ascending : bool, default True
        Worst classes first by default: they are the ones to look at.

    Attributes
    ----------
    report : DataFrame
        :func:`vislab.evaluate.classification_report`, classes sorted as shown, averages last.

    Examples
    --------
    >>> import pandas as pd
    >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
    >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
    ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
    >>> view = ReportView(truth, pred, sort_by="recall")
    >>> view.report.index.tolist()[:2]
    ['dog', 'cat']
    >>> view.sort_by = "support"
    >>> view.ascending = False
    >>> view.report.index.tolist()[:2]
    ['dog', 'cat']
    """

    sort_by = traitlets.Enum(["label", "precision", "recall", "f1", "support"], default_value="f1")
    ascending = traitlets.Bool(True)

    def __init__(
        self,
        truth,
        pred,
        *,
        labels=None,
        top_k: int = 1,
        sort_by: str = "f1",
        ascending: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        truth = _truth_frame(truth)
        check_frame(pred, ["image", "label"], name="pred")
        check_overlap(pred, truth)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.full = (
                classification_report(truth, pred, labels=labels, top_k=top_k)
                if len(truth)
                else pd.DataFrame(columns=["precision", "recall", "f1", "support"])
            )
        self._sort = widgets.Dropdown(
            options=["label", "precision", "recall", "f1", "support"], description="sort by"
        )
        self._order = widgets.ToggleButtons(options=["ascending", "descending"])
        self._sort.observe(lambda c: setattr(self, "sort_by", c["new"]), names="value")
        self._order.observe(
            lambda c: setattr(self, "ascending", c["new"] == "ascending"), names="value"
        )
        self._table = widgets.HTML()
        self._table.add_class("vislab-report")
        note = (
            "<b>No truth</b>: no class to report."
            if len(truth) == 0
            else f"accuracy {self.full.attrs.get('accuracy', float('nan')):.4f} over {len(truth)} "
            "images (top-" + str(top_k) + "); failed or missing predictions count as wrong."
        )
        self.children = [widgets.HBox([self._sort, self._order]), widgets.HTML(note), self._table]
        self.add_class("vislab-report-view")
        self.set_trait("sort_by", sort_by)
        self.set_trait("ascending", ascending)
        self._on_sort(None)

    @property
    def report(self) -> pd.DataFrame:
        """Classes sorted as shown, then the micro / macro / weighted averages."""
        avg = [i for i in self.full.index if str(i).endswith(" avg")]
        classes = self.full.drop(index=avg)
        if self.sort_by == "label":
            classes = classes.sort_index(ascending=self.ascending)
        else:
            classes = classes.sort_values(self.sort_by, ascending=self.ascending, kind="stable")
        return pd.concat([classes, self.full.loc[avg]])

    def to_frame(self) -> pd.DataFrame:
        """The report as shown (a copy)."""
        return self.report.copy()

    @traitlets.observe("sort_by", "ascending")
    def _on_sort(self, change) -> None:
        self._sort.value = self.sort_by
        self._order.value = "ascending" if self.ascending else "descending"
        self._table.value = self._html()

    def _html(self) -> str:
        rep = self.report
        max_support = max(1, int(rep["support"].max())) if len(rep) else 1
        head = "<tr><th>class</th><th>precision</th><th>recall</th><th>f1</th><th>support</th></tr>"
        body = []
        for name, r in rep.iterrows():
            avg = str(name).endswith(" avg")
            cells = []
            for col, color in (("precision", "#1f77b4"), ("recall", "#ff7f0e"), ("f1", "#2ca02c")):
                v = float(r[col])
                cells.append(
                    f"<td class='vislab-{col}' data-value='{v!r}'>"
                    f"<div style='display:flex;align-items:center;gap:6px'>"
                    f"<div style='width:90px;background:#eee;height:10px'>"
                    f"<div style='width:{v * 90:.0f}px;background:{color};height:10px'></div>"
                    f"</div>{v:.3f}</div></td>"
                )
            support = int(r["support"])
            bar = f"<div style='width:{support / max_support * 60:.0f}px;background:#999;height:8px;display:inline-block'></div>"
            style = " style='border-top:1px solid #999;font-style:italic'" if avg else ""
            body.append(
                f"<tr class='{'vislab-avg' if avg else 'vislab-class'}'{style}>"
                f"<th style='text-align:left'>{escape(name)}</th>{''.join(cells)}"
                f"<td class='vislab-support' data-value='{support}'>{bar} {support}</td></tr>"
            )
        return (
            TABLE_STYLE + "<table class='vislab-table vislab-report-table'>"
            f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
        )

    def summary(self) -> str:
        acc = self.full.attrs.get("accuracy", float("nan"))
        return (
            f"ReportView({len(self.full) - 3 if len(self.full) >= 3 else 0} classes, "
            f"accuracy={acc:.4f}, sorted by {self.sort_by} "
            f"{'ascending' if self.ascending else 'descending'})"
        )

    def static_figure(self):
        """Grouped horizontal bars of precision / recall / F1 per class, in the shown order."""
        rep = self.report
        classes = [i for i in rep.index if not str(i).endswith(" avg")][:25]
        fig = new_figure((10, 1.2 + 0.32 * max(len(classes), 3)))
        ax, ax_t = fig.subplots(1, 2, width_ratios=[2, 1])
        y = np.arange(len(classes))
        for k, (col, color) in enumerate(
            (("precision", "#1f77b4"), ("recall", "#ff7f0e"), ("f1", "#2ca02c"))
        ):
            ax.barh(
                y + (k - 1) * 0.27,
                rep.loc[classes, col].astype(float),
                height=0.26,
                color=color,
                label=col,
            )
        ax.set_yticks(y, [str(c)[:16] for c in classes], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.legend(fontsize=8, ncols=3, loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False)
        ax.grid(axis="x", alpha=0.3)
        avg = rep[[str(i).endswith(" avg") for i in rep.index]]
        table_text(
            ax_t,
            [
                [str(i), f"{r.precision:.3f}", f"{r.recall:.3f}", f"{r.f1:.3f}"]
                for i, r in avg.iterrows()
            ],
            header=["", "P", "R", "F1"],
        )
        fig.suptitle(self.summary(), fontsize=9)
        fig.tight_layout()
        return fig
