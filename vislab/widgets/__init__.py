"""Widgets for choosing by looking (ipywidgets 8): thin views over `vislab.evaluate` frames.

=======================  ==================================================================
widget                   what a person does with it
=======================  ==================================================================
:class:`ThresholdTuner`  drag a score threshold; P/R/F1, curves and TP/FP/FN boxes follow
``SimilarityCutoff``     choose the similarity cutoff of image-search hits
``ConfusionMatrixView``  click a cell of the confusion matrix to see its images
:class:`ReportView`      sort the per-class report, with bars
:class:`BoxAnnotator`    draw and label boxes on a queue of images; get a truth frame
=======================  ==================================================================

Each widget keeps its chosen value(s) and result frames as plain attributes, can be driven
from Python (set ``.threshold`` / ``.cutoff`` / ``.selected_cell`` / boxes, read
``.metrics``, ``.to_frame()``, ``.annotations``), and shows a static matplotlib picture where
widgets cannot render (``.show_static()``; also part of its display data).
"""

from vislab.widgets.annotate import BoxAnnotator
from vislab.widgets.confusion import ConfusionMatrixView, ReportView
from vislab.widgets.similarity import SimilarityCutoff
from vislab.widgets.threshold import ThresholdTuner

__all__ = [
    "ThresholdTuner",
    "SimilarityCutoff",
    "ConfusionMatrixView",
    "ReportView",
    "BoxAnnotator",
]
