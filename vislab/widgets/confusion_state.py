"""The states of :class:`~vislab.widgets.ConfusionMatrixView` and
:class:`~vislab.widgets.ReportView`: pure-Python objects, no widget.

:class:`ConfusionState` holds :func:`vislab.evaluate.confusion_matrix` (counts and shares of
each true class), the selected cell and its images — listed from
:func:`vislab.evaluate.aligned_labels`, the very pairs the matrix counts.
:class:`ReportState` holds :func:`vislab.evaluate.classification_report` and its order.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

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
from vislab.widgets._base import check_frame, check_overlap

__all__ = ["ConfusionState", "ReportState"]

_SORTS = ["label", "precision", "recall", "f1", "support"]


def truth_frame(truth) -> pd.DataFrame:
    """Truth labels as a frame (a mapping image -> label is accepted)."""
    if isinstance(truth, Mapping):
        return truth_labels(truth)
    check_frame(truth, ["image", "label"], name="truth")
    return truth


class ConfusionState(traitlets.HasTraits):
    """The matrix, the selected cell and its images, without any widget.

    Parameters
    ----------
    truth, pred, labels, normalize
        As for :class:`vislab.widgets.ConfusionMatrixView`.

    Attributes
    ----------
    selected_cell : tuple or None
        ``(true label, predicted label)`` (a traitlet; validated against the matrix).
    normalize : {None, "true"}
        Counts, or shares of each true class (a traitlet).
    counts, normalized : DataFrame
    per_image : DataFrame
        ``image, true, predicted`` of every truth image: what the matrix counts.

    Examples
    --------
    >>> state = ConfusionState({"a": "cat", "b": "dog"},
    ...                        pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"]}))
    >>> state.selected_cell, state.cell_images
    (('dog', 'cat'), ['b'])
    """

    selected_cell = traitlets.Tuple(allow_none=True, default_value=None)
    normalize = traitlets.Unicode(None, allow_none=True)

    def __init__(self, truth, pred, *, labels=None, normalize=None):
        super().__init__()
        truth = truth_frame(truth)
        check_frame(pred, ["image", "label"], name="pred")
        check_overlap(pred, truth)
        self.truth, self.pred = truth, pred
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown labels: the report view says so
            self.counts = confusion_matrix(truth, pred, labels=labels)
            self.normalized = confusion_matrix(truth, pred, labels=labels, normalize="true")
            self.per_image = (
                aligned_labels(truth, pred)
                if len(truth)
                else pd.DataFrame(columns=["image", "true", "predicted"])
            )
        self.normalize = normalize
        self.selected_cell = self.largest_error()

    @traitlets.validate("normalize")
    def _valid_normalize(self, proposal):
        if proposal["value"] not in (None, "true"):
            raise traitlets.TraitError("normalize must be None or 'true'")
        return proposal["value"]

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

    @property
    def matrix(self) -> pd.DataFrame:
        """The matrix as shown: counts, or shares of each true class."""
        return self.counts if self.normalize is None else self.normalized

    @property
    def metrics(self) -> pd.DataFrame:
        """The matrix as shown (the numbers a person reads)."""
        return self.matrix

    def largest_error(self):
        """The off-diagonal cell with the most images (``None`` when there is none)."""
        cm = self.counts
        best, where = 0, None
        for t in cm.index:
            for p in cm.columns:
                if t != p and cm.loc[t, p] > best:
                    best, where = cm.loc[t, p], (t, p)
        return where

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

    @property
    def message(self) -> str:
        if len(self.truth) == 0:
            return "No truth: there is nothing to compare the predictions with."
        if len(self.per_image) and (self.per_image["predicted"] == NO_PREDICTION).all():
            return "No predictions: every image is in the “(no prediction)” column."
        return ""

    def summary(self) -> str:
        acc = float(np.trace(self.counts.reindex(columns=self.counts.index, fill_value=0)))
        total = float(self.counts.to_numpy().sum())
        sel = "" if self.selected_cell is None else f", selected={self.selected_cell!r}"
        return (
            f"ConfusionMatrixView({len(self.counts.index)} classes, {int(total)} images, "
            f"accuracy={acc / total if total else float('nan'):.4f}{sel})"
        )


class ReportState(traitlets.HasTraits):
    """The classification report and its order, without any widget.

    Parameters
    ----------
    truth, pred, labels, top_k, sort_by, ascending
        As for :class:`vislab.widgets.ReportView`.

    Examples
    --------
    >>> state = ReportState({"a": "cat", "b": "dog", "c": "dog"},
    ...                     pd.DataFrame({"image": ["a", "b", "c"], "label": ["cat", "cat", "dog"]}),
    ...                     sort_by="recall")
    >>> state.report.index.tolist()[:2]
    ['dog', 'cat']
    """

    sort_by = traitlets.Enum(_SORTS, default_value="f1")
    ascending = traitlets.Bool(True)

    def __init__(self, truth, pred, *, labels=None, top_k=1, sort_by="f1", ascending=True):
        super().__init__()
        truth = truth_frame(truth)
        check_frame(pred, ["image", "label"], name="pred")
        check_overlap(pred, truth)
        self.truth, self.top_k = truth, top_k
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.full = (
                classification_report(truth, pred, labels=labels, top_k=top_k)
                if len(truth)
                else pd.DataFrame(columns=["precision", "recall", "f1", "support"])
            )
        self.sort_by = sort_by
        self.ascending = ascending

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

    @property
    def metrics(self) -> pd.DataFrame:
        """The report as shown."""
        return self.report

    def to_frame(self) -> pd.DataFrame:
        """The report as shown (a copy)."""
        return self.report.copy()

    @property
    def note(self) -> str:
        if len(self.truth) == 0:
            return "No truth: no class to report."
        return (
            f"accuracy {self.full.attrs.get('accuracy', float('nan')):.4f} over "
            f"{len(self.truth)} images (top-{self.top_k}); failed or missing predictions count "
            "as wrong."
        )

    def summary(self) -> str:
        acc = self.full.attrs.get("accuracy", float("nan"))
        return (
            f"ReportView({len(self.full) - 3 if len(self.full) >= 3 else 0} classes, "
            f"accuracy={acc:.4f}, sorted by {self.sort_by} "
            f"{'ascending' if self.ascending else 'descending'})"
        )
