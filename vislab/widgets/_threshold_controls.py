"""The controls of a :class:`~vislab.widgets.ThresholdTuner`: sliders, rule buttons, layout.

A mixin of the tuner: it builds the widgets around the state (one slider for all classes,
one per class with ``per_class``, the best-F1 / precision / recall buttons, the grid's paging
bar) and keeps the sliders in step with the state's threshold(s) without echoing a move back.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from vislab.widgets._base import shorten, slider_echo
from vislab.widgets._static import FN_COLOR, FP_COLOR, TP_COLOR
from vislab.widgets._threshold_text import map_html

__all__ = ["ThresholdControls"]


class ThresholdControls:
    """Builds the tuner's controls and keeps its sliders in step (mixed into the tuner, which
    provides ``state``, ``threshold``, ``thresholds``, ``page``, ``only_errors``,
    ``apply_rule`` and ``set_class_threshold``)."""

    def _slider_for(self, lo, hi, step, description, css):
        s = widgets.FloatSlider(
            value=min(max(0.5, lo), hi),
            min=lo,
            max=hi,
            step=step,
            description=description,
            readout_format=".3f" if step < 0.01 else ".2f",
            continuous_update=True,
            style={"description_width": "90px"},
            layout=widgets.Layout(width="460px"),
        )
        s.add_class(css)
        return s

    def _build_controls(self, lo: float, hi: float) -> None:
        step = 0.01 if hi - lo <= 1.5 else float(10 ** np.floor(np.log10((hi - lo) / 100)))
        self._slider = self._slider_for(
            lo,
            hi,
            step,
            "all classes ≥" if self.per_class else "score ≥",
            "vislab-threshold-slider",
        )
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
        self._map = widgets.HTML(map_html(self.state), layout=widgets.Layout(max_width="900px"))
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
                s = self._slider_for(lo, hi, step, shorten(lab, 14), "vislab-class-slider")
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

    def _on_slider(self, change) -> None:
        # The front end's first render sends back the value snapped to the step: not a move.
        if not self._syncing and not slider_echo(self._slider, self.threshold, change["new"]):
            self.threshold = float(change["new"])

    def _on_class_slider(self, label, change) -> None:
        exact = self.thresholds.get(label, self.threshold)
        if not self._syncing and not slider_echo(self._class_sliders[label], exact, change["new"]):
            self.set_class_threshold(label, float(change["new"]))

    def _sync_sliders(self) -> None:
        self._syncing = True
        try:
            s = self._slider
            s.value = min(max(self.state.threshold, s.min), s.max)
            for lab, cs in self._class_sliders.items():
                cs.value = min(max(self.state.thresholds.get(lab, s.value), cs.min), cs.max)
        finally:
            self._syncing = False
