"""ReportView: the per-class classification report as a table a person can sort, with bars.

:class:`ReportView` shows :func:`vislab.evaluate.classification_report` (through a
:class:`~vislab.widgets.confusion_state.ReportState`) sorted by any column, worst classes
first by default; its companion is :class:`~vislab.widgets.ConfusionMatrixView`.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from vislab.widgets._base import TABLE_STYLE, StaticFallback, escape, shorten, state_property
from vislab.widgets._static import new_figure, table_text
from vislab.widgets.confusion_state import ReportState

__all__ = ["ReportView"]


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
    **kwargs
        Passed to ``ipywidgets.VBox`` (e.g. ``layout=``).

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
        self.state = ReportState(
            truth, pred, labels=labels, top_k=top_k, sort_by=sort_by, ascending=ascending
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
        note = self.state.note
        if note.startswith("No truth"):
            note = "<b>" + note.replace(":", "</b>:", 1)
        self.children = [widgets.HBox([self._sort, self._order]), widgets.HTML(note), self._table]
        self.add_class("vislab-report-view")
        for name in ("sort_by", "ascending"):
            traitlets.link((self.state, name), (self, name))
        self.state.observe(self._on_sort, names=["sort_by", "ascending"])
        self._on_sort(None)

    full = state_property(
        "full", "The :func:`vislab.evaluate.classification_report` as computed (unsorted)."
    )

    @property
    def report(self) -> pd.DataFrame:
        """Classes sorted as shown, then the micro / macro / weighted averages."""
        return self.state.report

    @property
    def metrics(self) -> pd.DataFrame:
        """The report as shown (the numbers a person reads)."""
        return self.state.metrics

    def to_frame(self) -> pd.DataFrame:
        """The report as shown (a copy).

        Returns
        -------
        DataFrame
            ``precision, recall, f1, support`` per class in the order shown, then the micro,
            macro and weighted averages.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
        >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
        ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
        >>> ReportView(truth, pred, sort_by="recall").to_frame()["recall"]   # worst first
        dog             0.500000
        cat             1.000000
        micro avg       0.666667
        macro avg       0.750000
        weighted avg    0.666667
        Name: recall, dtype: float64
        """
        return self.state.to_frame()

    def _on_sort(self, change) -> None:
        self._sort.value = self.state.sort_by
        self._order.value = "ascending" if self.state.ascending else "descending"
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
        """One line: classes, accuracy and the order shown (also the plain repr).

        Returns
        -------
        str
            ``ReportView(N classes, accuracy=..., sorted by ... ascending)``.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
        >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
        ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
        >>> ReportView(truth, pred).summary()
        'ReportView(2 classes, accuracy=0.6667, sorted by f1 ascending)'
        """
        return self.state.summary()

    def static_figure(self):
        """Grouped horizontal bars of precision / recall / F1 per class, in the shown order.

        What the notebook shows where widgets cannot render (:meth:`show_static`).

        Returns
        -------
        matplotlib.figure.Figure
            Bars for the first 25 classes as sorted, and a table of the three averages.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
        >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
        ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
        >>> fig = ReportView(truth, pred).static_figure()
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]   # worst F1 first
        ['cat', 'dog']
        """
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
        ax.set_yticks(y, [shorten(c, 16) for c in classes], fontsize=8)
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
