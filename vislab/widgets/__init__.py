"""Widgets for choosing by looking (ipywidgets 8): thin views over `vislab.evaluate` frames."""

from vislab.widgets.annotate import BoxAnnotator

__all__ = ["BoxAnnotator"]
