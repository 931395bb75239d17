"""Widgets for choosing by looking (ipywidgets 8): views of pure-Python states.

=======================  ==================================================================
widget                   what a person does with it
=======================  ==================================================================
:class:`ThresholdTuner`  drag a score threshold; P/R/F1, curves and TP/FP/FN boxes follow
``SimilarityCutoff``     choose the similarity cutoff of image-search hits
``ConfusionMatrixView``  click a cell of the confusion matrix to see its images
:class:`ReportView`      sort the per-class report, with bars
:class:`BoxAnnotator`    draw and label boxes on a queue of images; get a truth frame
=======================  ==================================================================

Each widget is a **state** — a pure-Python object (``widget.state``: ``ThresholdState``,
``CutoffState``, ``ConfusionState``, ``ReportState``, ``AnnotationState``) that holds the chosen
value(s) and reads every number from :mod:`vislab.evaluate`, testable without a browser or
any widget — plus a **view** (the ipywidgets box) that shows it.  Each can be driven from
Python (set ``.threshold`` / ``.cutoff`` / ``.selected_cell`` / ``.sort_by`` / boxes, read
``.metrics``, ``.to_frame()``), and shows a static matplotlib picture where widgets cannot
render (``.show_static()``; also part of its display data).

The views are imported on first use, so ``import vislab.widgets.threshold_state`` (or any
state module) does not import ipywidgets.
"""

from __future__ import annotations

import importlib

__all__ = [
    "ThresholdTuner",
    "SimilarityCutoff",
    "ConfusionMatrixView",
    "ReportView",
    "BoxAnnotator",
]

_WHERE = {
    "ThresholdTuner": "vislab.widgets.threshold",
    "SimilarityCutoff": "vislab.widgets.similarity",
    "ConfusionMatrixView": "vislab.widgets.confusion",
    "ReportView": "vislab.widgets.report",
    "BoxAnnotator": "vislab.widgets.annotate",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vislab.widgets' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
