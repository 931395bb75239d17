"""The text of a :class:`~vislab.widgets.ThresholdTuner`: its tables and notes.

Pure functions of the tuner's :class:`~vislab.widgets.threshold_state.ThresholdState`.  The
HTML table is formatted straight from the state's array, so a slider step builds no frame;
:func:`metric_rows` is the same table as text for the static figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.widgets._base import TABLE_STYLE, escape, exact_text, metric_cell, shorten
from vislab.widgets.threshold_state import METRIC_COLUMNS

__all__ = ["map_html", "status_html", "table_html", "metric_rows"]

_MAP_WHY = (
    "mAP does not depend on the threshold: it averages precision over every recall level of "
    "the whole ranked list of predictions, so it rates the ranking, not one operating point."
)
_SHOWN_CLASSES = 12


def map_html(state) -> str:
    """The threshold-free note: COCO mAP (detection with ``show_map``) and why it does not move."""
    if state.map is not None:
        ap_name = {0.5: "AP50", 0.75: "AP75"}.get(round(state.iou, 2), "AP")
        return (
            f"<div class='vislab-map'><b>mAP@IoU{'' if ap_name == 'AP' else '=' + str(state.iou)}"
            f"{'[.5:.95]' if ap_name == 'AP' else ''} = {state.map[ap_name]:.4f}</b> "
            f"(COCO AP@[.5:.95] = {state.map['AP']:.4f}). {escape(_MAP_WHY)}</div>"
        )
    if state.kind == "classification":
        return (
            "<div class='vislab-map'>Average precision is threshold-free for the same "
            "reason as mAP: it summarises the whole ranking, not one operating point.</div>"
        )
    return ""


def status_html(state) -> str:
    """The line about the data (counts, failed images, empty inputs): threshold-free."""
    f = state.facts
    n_pred, n_truth = f["n_pred"], f["n_truth"]
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
    what = "boxes" if state.kind == "detection" else "labels"
    failed = f["failed_images"]
    extra = f" {len(failed)} image(s) failed at the service and count as empty." if failed else ""
    return (
        f"{n_pred} predicted {what} on {f['n_images']} images, "
        f"{n_truth} true {'objects' if state.kind == 'detection' else 'labels'}"
        + (f", IoU ≥ {state.iou:g}" if state.kind == "detection" else ", one-vs-rest")
        + "."
        + extra
    )


def table_html(labels: list, values: np.ndarray) -> str:
    """The metrics table, formatted straight from the state's array (fast path).

    ``values`` is :attr:`ThresholdState.values`: a row per class of ``labels``, then the
    overall row; the overall row and the first classes are shown.
    """
    shown = min(len(labels), _SHOWN_CLASSES)
    head = "".join(f"<th>{c}</th>" for c in ["", *METRIC_COLUMNS])
    rows = [(len(labels), "all")] + [(i, labels[i]) for i in range(shown)]
    body = []
    for i, lab in rows:
        t, tp, fp, fn, p, r, f1 = values[i].tolist()
        overall = lab == "all"
        body.append(
            f"<tr class='{'vislab-overall' if overall else 'vislab-class'}'"
            + (" style='font-weight:bold;border-bottom:1px solid #999'" if overall else "")
            + f"><th>{escape(lab)}</th>"
            + metric_cell("threshold", t, digits=None)
            + metric_cell("tp", int(tp))
            + metric_cell("fp", int(fp))
            + metric_cell("fn", int(fn))
            + metric_cell("precision", p)
            + metric_cell("recall", r)
            + metric_cell("f1", f1)
            + "</tr>"
        )
    more = len(labels) - shown
    note = (
        f"<tr><td colspan=8>… {more} more classes in <code>.metrics</code></td></tr>"
        if more > 0
        else ""
    )
    return (
        TABLE_STYLE + f"<table class='vislab-metrics' data-threshold='{float(values[-1, 0])!r}' "
        "style='border-collapse:collapse;font-variant-numeric:tabular-nums'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}{note}</tbody></table>"
    )


def metric_rows(metrics: pd.DataFrame) -> list[list[str]]:
    """The overall row, then up to 8 classes, of ``metrics`` as text (the static table)."""
    return [
        [
            shorten(lab, 12),
            "—" if pd.isna(r["threshold"]) else exact_text(r["threshold"]),
            str(int(r["tp"])),
            str(int(r["fp"])),
            str(int(r["fn"])),
            _fmt(r["precision"]),
            _fmt(r["recall"]),
            _fmt(r["f1"]),
        ]
        for lab, r in list(metrics.iloc[[-1]].iterrows())
        + list(metrics.iloc[:-1].head(8).iterrows())
    ]


def _fmt(v) -> str:
    return "—" if pd.isna(v) else f"{float(v):.3f}"
