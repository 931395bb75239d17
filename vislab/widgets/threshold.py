"""ThresholdTuner: drag a score threshold, watch precision, recall and the boxes change together.

Everything the tuner shows comes from :mod:`vislab.evaluate`: the sweep built once by
:func:`~vislab.evaluate.threshold_sweep` answers "what are TP/FP/FN/P/R/F1 at t" by binary
search, the matching from :func:`~vislab.evaluate.match_detections` colours the boxes, and
:func:`~vislab.evaluate.coco_eval` gives the threshold-free mAP.  Moving the slider updates
the numbers at once; the figures are redrawn when the slider comes to rest.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from vislab.errors import InvalidFrame
from vislab.evaluate import apply_threshold, coco_eval, threshold_sweep
from vislab.widgets import _sweeps
from vislab.widgets._base import (
    TABLE_STYLE,
    Debouncer,
    ImageSource,
    StaticFallback,
    check_frame,
    check_overlap,
    escape,
    figure_png,
    metric_cell,
)
from vislab.widgets._outcomes import OutcomeTiles
from vislab.widgets._static import (
    FN_COLOR,
    FP_COLOR,
    TP_COLOR,
    ImageGrid,
    new_figure,
    table_text,
)

__all__ = ["ThresholdTuner"]

_METRIC_COLUMNS = ["threshold", "tp", "fp", "fn", "precision", "recall", "f1"]
_MAP_WHY = (
    "mAP does not depend on the threshold: it averages precision over every recall level of "
    "the whole ranked list of predictions, so it rates the ranking, not one operating point."
)


class ThresholdTuner(StaticFallback, widgets.VBox):
    """Choose a score threshold by looking: live P/R/F1, curves and boxes coloured TP/FP/FN.

    Parameters
    ----------
    truth : DataFrame
        Truth boxes (``image, label, x, y, w, h``) or truth labels (``image, label``).  It
        comes first, as in every :mod:`vislab.evaluate` function.
    pred : DataFrame
        Predictions: a boxes frame (``image, label, score, x, y, w, h``) for detection, or a
        labels frame (``image, label, score``) for classification, scored one-vs-rest (each
        predicted (image, label) is right when the image truly has that label).
    images : mapping, folder, callable or list, optional
        Where the pictures are (see :class:`vislab.widgets._base.ImageSource`); by default
        identifiers that are file paths are read, others get a grey canvas.
    iou : float, default 0.5
        Minimum IoU for a detection to count as found (detection only).
    per_class : bool, default False
        One threshold per class (``.thresholds``) instead of one for all (``.threshold``).
    threshold : float, optional
        Starting threshold; default: the threshold of best F1.
    page_size : int, default 12
        Images per page of the grid.
    show_map : bool, default True
        Compute COCO mAP once (detection only) to show next to the threshold-dependent numbers.

    Attributes
    ----------
    threshold : float
        The operating point (a traitlet: set it, or ``observe`` it).
    thresholds : dict
        Per-class operating points; equal to ``threshold`` for every class unless
        ``per_class``.
    metrics : DataFrame
        TP/FP/FN/precision/recall/F1 at the operating point: one row per class and ``"all"``.
    sweep : object
        The :func:`vislab.evaluate.threshold_sweep` result the numbers come from.

    Examples
    --------
    >>> import pandas as pd
    >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
    ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
    >>> pred = truth.assign(score=[0.9, 0.4])
    >>> tuner = ThresholdTuner(truth, pred, threshold=0.5, show_map=False)
    >>> tuner.metrics.loc["all", ["tp", "fp", "fn"]].tolist()
    [1, 0, 1]
    >>> tuner.threshold = 0.3
    >>> float(tuner.metrics.loc["all", "recall"])
    1.0
    >>> len(tuner.to_frame())
    2
    """

    threshold = traitlets.Float(0.5)
    thresholds = traitlets.Dict()
    page = traitlets.Int(0)
    only_errors = traitlets.Bool(False)

    def __init__(
        self,
        truth: pd.DataFrame,
        pred: pd.DataFrame,
        *,
        images=None,
        iou: float = 0.5,
        per_class: bool = False,
        threshold: float | None = None,
        page_size: int = 12,
        show_map: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # The sweep validates both frames first (typed errors, the truth-first check).
        self.sweep = threshold_sweep(truth, pred, iou=iou, by_class=per_class)
        self.kind = _frame_kind(truth, pred)
        self.iou = iou
        self.per_class = per_class
        self.page_size = page_size
        self._pred = pred
        self._truth = truth
        self._ok = _sweeps.ok_predictions(pred)
        check_overlap(self._ok, truth)
        self.labels = list(self.sweep.labels)
        self.map = None
        if show_map and self.kind == "detection" and len(truth) and len(self._ok):
            self.map = coco_eval(truth, pred).stats
        self._outcomes = OutcomeTiles(self.sweep.outcomes)
        self._source = ImageSource(images)
        self._status = self._status_message()  # threshold-free: computed once
        lo, hi = _sweeps.score_range(self._ok)
        self._redraw = Debouncer(self._draw_figures, on_error=self._show_error)
        self._build_controls(lo, hi)
        start = float(threshold) if threshold is not None else _sweeps.best(self.sweep, "f1")
        if start is None:
            start = (lo + hi) / 2
        self._syncing = False
        self.thresholds = {lab: start for lab in self.labels}
        if self.threshold == start:
            self._on_threshold({"new": start})
        else:
            self.threshold = start
        if per_class:
            for lab in self.labels:
                best = _sweeps.best(self.sweep, "f1", label=lab)
                self.set_class_threshold(lab, start if best is None else best)

    # -- controls ----------------------------------------------------------------------------
    def _build_controls(self, lo: float, hi: float) -> None:
        step = 0.01 if hi - lo <= 1.5 else float(10 ** np.floor(np.log10((hi - lo) / 100)))
        self._slider = widgets.FloatSlider(
            value=min(max(0.5, lo), hi),
            min=lo,
            max=hi,
            step=step,
            description="score ≥" if not self.per_class else "all classes ≥",
            readout_format=".3f" if step < 0.01 else ".2f",
            continuous_update=True,
            style={"description_width": "90px"},
            layout=widgets.Layout(width="460px"),
        )
        self._slider.add_class("vislab-threshold-slider")
        self._slider.observe(self._on_slider, names="value")
        best_f1 = widgets.Button(description="best F1", tooltip="threshold of highest F1")
        best_f1.on_click(lambda _: self.apply_rule("f1"))
        self._min_precision = widgets.BoundedFloatText(
            value=0.9, min=0, max=1, step=0.01, layout=widgets.Layout(width="70px")
        )
        self._min_recall = widgets.BoundedFloatText(
            value=0.8, min=0, max=1, step=0.01, layout=widgets.Layout(width="70px")
        )
        by_p = widgets.Button(description="precision ≥", tooltip="lowest threshold reaching it")
        by_p.on_click(lambda _: self.apply_rule(f"precision>={self._min_precision.value}"))
        by_r = widgets.Button(description="recall ≥", tooltip="highest threshold reaching it")
        by_r.on_click(lambda _: self.apply_rule(f"recall>={self._min_recall.value}"))
        for b in (best_f1, by_p, by_r):
            b.layout = widgets.Layout(width="auto")
        self._message = widgets.HTML()
        self._message.add_class("vislab-message")
        self._table = widgets.HTML()
        self._table.add_class("vislab-metrics-view")
        map_html = ""
        if self.map is not None:
            ap_name = {0.5: "AP50", 0.75: "AP75"}.get(round(self.iou, 2), "AP")
            map_html = (
                f"<div class='vislab-map'><b>mAP@IoU{'' if ap_name == 'AP' else '=' + str(self.iou)}"
                f"{'[.5:.95]' if ap_name == 'AP' else ''} = {self.map[ap_name]:.4f}</b> "
                f"(COCO AP@[.5:.95] = {self.map['AP']:.4f}). {escape(_MAP_WHY)}</div>"
            )
        elif self.kind == "classification":
            map_html = (
                "<div class='vislab-map'>Average precision is threshold-free for the same "
                "reason as mAP: it summarises the whole ranking, not one operating point.</div>"
            )
        self._map = widgets.HTML(map_html, layout=widgets.Layout(max_width="900px"))
        self._curves = widgets.Image(format="png")
        self._curves.add_class("vislab-curves")
        self._grid_view = widgets.Image(format="jpeg")
        self._grid_view.add_class("vislab-grid")
        self._prev = widgets.Button(description="◀", layout=widgets.Layout(width="40px"))
        self._next = widgets.Button(description="▶", layout=widgets.Layout(width="40px"))
        self._prev.on_click(lambda _: setattr(self, "page", max(0, self.page - 1)))
        self._next.on_click(lambda _: setattr(self, "page", self.page + 1))
        self._errors_box = widgets.Checkbox(value=False, description="only errors", indent=False)
        widgets.link((self._errors_box, "value"), (self, "only_errors"))
        self._page_label = widgets.HTML()
        legend = widgets.HTML(
            f"<span style='color:{TP_COLOR}'>■ TP</span> &nbsp;"
            f"<span style='color:{FP_COLOR}'>■ FP</span> &nbsp;"
            f"<span style='color:{FN_COLOR}'>┅ FN (missed)</span>"
        )
        controls = [self._slider, best_f1, by_p, self._min_precision, by_r, self._min_recall]
        children = [widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap"))]
        self._class_sliders: dict = {}
        self._class_choice = None
        if self.per_class:
            rows = []
            for lab in self.labels:
                s = widgets.FloatSlider(
                    value=self._slider.value,
                    min=lo,
                    max=hi,
                    step=step,
                    description=str(lab)[:14],
                    readout_format=self._slider.readout_format,
                    style={"description_width": "90px"},
                    layout=widgets.Layout(width="460px"),
                )
                s.add_class("vislab-class-slider")
                s.observe(lambda c, lab=lab: self._on_class_slider(lab, c), names="value")
                self._class_sliders[lab] = s
                rows.append(s)
            self._class_choice = widgets.Dropdown(
                options=["all"] + list(self.labels), value="all", description="curves of"
            )
            self._class_choice.observe(lambda _: self._request_redraw(), names="value")
            acc = widgets.Accordion([widgets.VBox(rows)], titles=("Per-class thresholds",))
            children.append(acc)
        children += [self._message, self._table, self._map]
        if self._class_choice is not None:
            children.append(self._class_choice)
        grid_bar = [self._prev, self._next, self._page_label, self._errors_box, legend]
        children += [
            self._curves,
            widgets.HBox(grid_bar, layout=widgets.Layout(align_items="center")),
            self._grid_view,
        ]
        self.children = children
        self.add_class("vislab-threshold-tuner")
        self._curve_fig = None
        self._grid = None

    def _on_slider(self, change) -> None:
        if not self._syncing:
            self.threshold = float(change["new"])

    def _on_class_slider(self, label, change) -> None:
        if not self._syncing:
            self.set_class_threshold(label, float(change["new"]))

    @traitlets.observe("threshold")
    def _on_threshold(self, change) -> None:
        value = float(change["new"])
        self._syncing = True
        try:
            self._slider.value = min(max(value, self._slider.min), self._slider.max)
            # One threshold for all: every class follows it.
            self.thresholds = {lab: value for lab in self.labels}
            for s in self._class_sliders.values():
                s.value = self._slider.value
        finally:
            self._syncing = False
        self._update_metrics()

    def set_class_threshold(self, label, value: float) -> None:
        """Set the threshold of one class (``per_class`` tuners; others follow ``.threshold``)."""
        if label not in self.thresholds:
            raise KeyError(f"unknown class {label!r}; classes: {list(self.labels)}")
        new = dict(self.thresholds)
        new[label] = float(value)
        self._syncing = True
        try:
            self.thresholds = new
            if label in self._class_sliders:
                s = self._class_sliders[label]
                s.value = min(max(float(value), s.min), s.max)
        finally:
            self._syncing = False
        self._update_metrics()

    @traitlets.observe("page", "only_errors")
    def _on_page(self, change) -> None:
        if change["name"] == "only_errors":
            self.page = 0
        self._request_redraw()

    def apply_rule(self, rule: str) -> float | None:
        """Move the threshold(s) to the one chosen by ``rule`` (see ``best_threshold``).

        Parameters
        ----------
        rule : str
            ``"f1"``, ``"precision>=0.9"``, ``"recall>=0.8"``.

        Returns
        -------
        float or None
            The overall threshold chosen (``None`` when no threshold satisfies the rule; the
            message line says so and nothing moves).
        """
        t = _sweeps.best(self.sweep, rule)
        if t is None:
            self._message.value = (
                f"<span style='color:{FP_COLOR}'>No threshold reaches {escape(rule)}.</span>"
            )
            return None
        self.threshold = t
        if self.per_class:
            for lab in self.labels:
                tl = _sweeps.best(self.sweep, rule, label=lab)
                if tl is not None:
                    self.set_class_threshold(lab, tl)
        return t

    # -- numbers -----------------------------------------------------------------------------
    @property
    def metrics(self) -> pd.DataFrame:
        """TP/FP/FN/P/R/F1 at the current threshold(s): one row per class, then ``"all"``."""
        return self._metrics

    def _update_metrics(self) -> None:
        t = dict(self.thresholds) if self.per_class else self.threshold
        frame = self.sweep.at(t, by_class=True)[_METRIC_COLUMNS]
        overall = self.sweep.at(t)[_METRIC_COLUMNS]
        frame = pd.concat([frame, overall.to_frame("all").T])
        frame = frame.astype({"tp": np.int64, "fp": np.int64, "fn": np.int64})
        frame.index.name = "label"
        self._metrics = frame
        self._table.value = self._table_html(frame)
        self._message.value = self._status
        self._request_redraw()

    def _status_message(self) -> str:
        n_pred, n_truth = len(self._ok), len(self._truth)
        if n_pred == 0 and n_truth == 0:
            return "<b>No predictions and no truth</b>: there is nothing to evaluate yet."
        if n_pred == 0:
            return (
                f"<b>No predictions</b>: every one of the {n_truth} true objects is missed at "
                "any threshold (recall 0); precision is undefined."
            )
        if n_truth == 0:
            return (
                f"<b>No truth</b>: every one of the {n_pred} predictions is a false positive; "
                "recall is undefined."
            )
        what = "boxes" if self.kind == "detection" else "labels"
        failed = self.sweep.meta.get("failed_images", [])
        extra = (
            f" {len(failed)} image(s) failed at the service and count as empty." if failed else ""
        )
        return (
            f"{n_pred} predicted {what} on {self._ok['image'].nunique()} images, "
            f"{n_truth} true {'objects' if self.kind == 'detection' else 'labels'}"
            + (f", IoU ≥ {self.iou:g}" if self.kind == "detection" else ", one-vs-rest")
            + "."
            + extra
        )

    def _table_html(self, frame: pd.DataFrame) -> str:
        t = frame.loc["all", "threshold"]
        head = "".join(f"<th>{c}</th>" for c in ["", "threshold", *_METRIC_COLUMNS[1:]])
        body = []
        shown = list(frame.index[:-1])
        if len(shown) > 12:
            shown = shown[:12]
        for lab in ["all", *shown]:
            r = frame.loc[lab]
            cls = "vislab-overall" if lab == "all" else "vislab-class"
            style = " style='font-weight:bold;border-bottom:1px solid #999'" if lab == "all" else ""
            cells = [
                metric_cell("threshold", r["threshold"], digits=3),
                metric_cell("tp", int(r["tp"])),
                metric_cell("fp", int(r["fp"])),
                metric_cell("fn", int(r["fn"])),
                metric_cell("precision", r["precision"]),
                metric_cell("recall", r["recall"]),
                metric_cell("f1", r["f1"]),
            ]
            body.append(f"<tr class='{cls}'{style}><th>{escape(lab)}</th>{''.join(cells)}</tr>")
        more = len(frame.index) - 1 - len(shown)
        note = (
            f"<tr><td colspan=8>… {more} more classes in <code>.metrics</code></td></tr>"
            if more > 0
            else ""
        )
        return (
            TABLE_STYLE + f"<table class='vislab-metrics' data-threshold='{float(t)!r}' "
            "style='border-collapse:collapse;font-variant-numeric:tabular-nums'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}{note}</tbody></table>"
        )

    def to_frame(self) -> pd.DataFrame:
        """The predictions kept at the current threshold(s) (rows of failed images stay).

        Returns
        -------
        DataFrame
            The rows of ``pred`` with ``score >= threshold`` of their class.
        """
        return apply_threshold(
            self._pred, dict(self.thresholds) if self.per_class else self.threshold
        )

    def _threshold_for_grid(self) -> float:
        return self.threshold

    # -- figures -----------------------------------------------------------------------------
    def _request_redraw(self) -> None:
        self._redraw()

    def flush(self) -> None:
        """Redraw the figures now if a redraw is waiting (the slider moved moments ago)."""
        self._redraw.flush()

    def grid_images(self) -> list[str]:
        """Images on the current page of the grid."""
        pool = (
            self._outcomes.error_images(self.threshold)
            if self.only_errors
            else self._outcomes.images
        )
        pages = max(1, -(-len(pool) // self.page_size))
        page = min(self.page, pages - 1)
        self._page_label.value = (
            f"page {page + 1} / {pages} · {len(pool)} "
            f"{'images with errors' if self.only_errors else 'images'}"
        )
        return pool[page * self.page_size : (page + 1) * self.page_size]

    def _tiles(self, keys) -> list:
        tiles = []
        for key in keys:
            pixels, size = self._source.get(key)
            tiles.append(
                self._outcomes.tile(key, self._tile_threshold(key), pixels=pixels, size=size)
            )
        return tiles

    def _tile_threshold(self, key):
        return self.thresholds if self.per_class else self.threshold

    def _draw_figures(self) -> None:
        self._draw_curves()
        self._draw_grid()

    def _curve_label(self):
        if self._class_choice is not None and self._class_choice.value != "all":
            return self._class_choice.value
        return None

    def _draw_curves(self) -> None:
        if self._curve_fig is None:
            self._curve_fig = _CurveFigure(self.sweep)
        label = self._curve_label()
        t = self.thresholds.get(label, self.threshold) if label is not None else self.threshold
        point = self._metrics.loc[label if label is not None else "all"]
        self._curve_fig.update(label, t, point)
        self._curves.value = figure_png(self._curve_fig.figure)

    def _draw_grid(self) -> bytes:
        if self._grid is None:
            self._grid = ImageGrid(n=self.page_size, ncols=4)
        self._grid.draw(self._tiles(self.grid_images()))
        data = self._grid.jpeg()
        self._grid_view.value = data
        return data

    def _show_error(self, exc: BaseException) -> None:
        from vislab.widgets._base import error_html

        self._message.value = self._message.value.split("<div class='vislab-error'")[
            0
        ] + error_html(exc)

    def summary(self) -> str:
        r = self._metrics.loc["all"]
        t = "per class" if self.per_class else f"{self.threshold:.3f}"
        return (
            f"ThresholdTuner(threshold={t}: tp={int(r['tp'])}, fp={int(r['fp'])}, "
            f"fn={int(r['fn'])}, precision={r['precision']:.4f}, recall={r['recall']:.4f}, "
            f"f1={r['f1']:.4f})"
        )

    def static_figure(self, *, max_images: int = 8):
        """Curves, the metrics table and a page of images at the current threshold."""
        keys = self.grid_images()[:max_images]
        ncols = 4
        nrows = max(1, -(-len(keys) // ncols))
        fig = new_figure((12, 3.6 + 2.6 * nrows))
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.6, 2.6 * nrows])
        ax_pr, ax_t, ax_table = top.subplots(1, 3, width_ratios=[1, 1, 1.1])
        curves = _CurveFigure(self.sweep, axes=(ax_pr, ax_t))
        label = self._curve_label()
        t = self.thresholds.get(label, self.threshold) if label is not None else self.threshold
        curves.update(label, t, self._metrics.loc[label if label is not None else "all"])
        m = self._metrics
        rows = [
            [
                str(lab)[:12],
                "—" if pd.isna(r["threshold"]) else f"{r['threshold']:.3f}",
                str(int(r["tp"])),
                str(int(r["fp"])),
                str(int(r["fn"])),
                _fmt(r["precision"]),
                _fmt(r["recall"]),
                _fmt(r["f1"]),
            ]
            for lab, r in list(m.iloc[[-1]].iterrows()) + list(m.iloc[:-1].head(8).iterrows())
        ]
        table_text(
            ax_table,
            rows,
            header=["", "t", "tp", "fp", "fn", "P", "R", "F1"],
            title="at the operating point",
        )
        if self.map is not None:
            ax_table.text(
                0.5,
                0.02,
                f"mAP (threshold-free): AP50 {self.map['AP50']:.3f}, AP {self.map['AP']:.3f}",
                ha="center",
                fontsize=8,
                transform=ax_table.transAxes,
            )
        top.suptitle(self.summary().replace("ThresholdTuner", "ThresholdTuner "), fontsize=9)
        if keys:
            axes = bottom.subplots(nrows, ncols, squeeze=False).ravel()
            for extra in axes[len(keys) :]:
                extra.set_visible(False)
            ImageGrid(axes=axes[: len(keys)]).draw(self._tiles(keys))
            bottom.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.01, wspace=0.04)
        return fig


def _fmt(v) -> str:
    return "—" if pd.isna(v) else f"{float(v):.3f}"


class _CurveFigure:
    """The sweep drawn by :class:`vislab.plot.PrecisionRecallDisplay` and
    :class:`vislab.plot.ThresholdDisplay` once; moving the threshold only moves their operating
    point artists (``point_``, ``vline_``, ``text_``)."""

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

    def _plot(self, label, threshold, point) -> None:
        from vislab.plot import PrecisionRecallDisplay, ThresholdDisplay

        self.ax_pr.cla()
        self.ax_t.cla()
        # Thinned to <= 2000 points: a million-row sweep draws as fast as a small one.
        curve = _sweeps.curve(self.sweep, label=label)
        name = "all classes" if label is None else str(label)
        self.pr = PrecisionRecallDisplay(
            curve["precision"],
            curve["recall"],
            thresholds=curve["threshold"],
            name=name,
            operating_point=(_num(point["recall"]), _num(point["precision"]), threshold),
        ).plot(ax=self.ax_pr)
        self.td = ThresholdDisplay(curve, threshold=threshold, name=label).plot(ax=self.ax_t)
        if self.td.vline_ is None:
            self.td.vline_ = self.ax_t.axvline(threshold, color="#d62728", ls="--", lw=1.2)
        if self.td.text_ is None:
            self.td.text_ = self.ax_t.text(
                threshold,
                1.02,
                "",
                color="#d62728",
                fontsize=8,
                va="bottom",
                transform=self.ax_t.get_xaxis_transform(),
            )
        if len(curve):
            lo, hi = float(curve["threshold"].min()), float(curve["threshold"].max())
            pad = (hi - lo) * 0.02 or 0.01
            self.ax_t.set_xlim(lo - pad, hi + pad)
        self._label = label

    def update(self, label, threshold, point) -> None:
        if label != self._label:
            self._plot(label, threshold, point)
        p, r = _num(point["precision"]), _num(point["recall"])
        self.pr.point_.set_data([r], [p])
        self.pr.point_.set_label(f"threshold {threshold:.2f}: P={p:.2f}, R={r:.2f}")
        self.ax_pr.legend(loc="lower left", fontsize=8)
        self.td.vline_.set_xdata([threshold, threshold])
        self.td.text_.set_x(threshold)
        self.td.text_.set_text(
            f" t={threshold:.2f}: P={p:.2f}, R={r:.2f}, F1={_num(point['f1']):.2f}"
        )


def _num(v) -> float:
    return 0.0 if pd.isna(v) else float(v)


def _frame_kind(truth, pred) -> str:
    box_cols = {"x", "y", "w", "h"}
    if not isinstance(pred, pd.DataFrame) or not isinstance(truth, pd.DataFrame):
        raise InvalidFrame("pred and truth must be pandas DataFrames")
    if box_cols <= set(pred.columns):
        check_frame(pred, ["image", "label", "score", "x", "y", "w", "h"], name="pred")
        check_frame(truth, ["image", "label", "x", "y", "w", "h"], name="truth")
        return "detection"
    check_frame(pred, ["image", "label", "score"], name="pred")
    check_frame(truth, ["image", "label"], name="truth")
    return "classification"
