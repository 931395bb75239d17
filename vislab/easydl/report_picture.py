"""The static picture and the notebook view of an :class:`~vislab.easydl.report.EvaluationReport`.

Classification: the confusion matrix beside per-class precision, recall and F1. Detection:
precision, recall and F1 against the threshold (the recommended one marked) beside the
predicted against the true count of each held-out image. The notebook view (``_repr_html_``)
is the headline, the warnings, the summary and per-class tables, and this picture.
"""

from __future__ import annotations

import base64
import io

import numpy as np

__all__ = ["report_figure", "report_html"]


def report_figure(report, *, figsize=None):
    """The picture :meth:`EvaluationReport.plot <vislab.easydl.report.EvaluationReport.plot>`
    returns (a matplotlib ``Figure`` with two axes).

    Parameters
    ----------
    report : EvaluationReport
    figsize : (float, float), optional
        Figure size in inches (default 11 x 4.4).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from vislab.easydl.report import EvaluationReport
    >>> t = pd.DataFrame({"image": ["a", "b"], "label": ["x", "y"]})
    >>> p = pd.DataFrame({"image": ["a", "b"], "rank": [1, 1], "label": ["x", "x"],
    ...                   "score": [.9, .7]})
    >>> r = EvaluationReport("classification", t, p, classes=["x", "y"],
    ...                      train_per_class={"x": 20, "y": 20})
    >>> "per class (accuracy 0.500)" in [ax.get_title() for ax in report_figure(r).axes]
    True
    """
    import matplotlib.pyplot as plt

    from vislab.plot import ConfusionMatrixDisplay, ThresholdDisplay

    fig, (left, right) = plt.subplots(1, 2, figsize=figsize or (11, 4.4))
    if report.kind == "classification":
        ConfusionMatrixDisplay.from_predictions(
            report.truth, report.pred, labels=report.classes, ax=left
        )
        table = report.per_class.loc[report.classes, ["precision", "recall", "f1"]]
        table.plot.bar(ax=right, rot=0, ylim=(0, 1.05))
        right.set_title(f"per class (accuracy {report.headline[1]:.3f})")
    else:
        ThresholdDisplay.from_sweep(
            report.sweep, threshold=report.recommended_threshold, max_points=2000, ax=left
        )
        # Padded: the display writes the threshold's value just above the axes.
        left.set_title(
            f"held-out images: mAP {report.metrics['mAP']:.3f}, AP50 {report.metrics['AP50']:.3f}",
            pad=20,
        )
        c = report.counts
        if c is not None and len(c):
            hi = float(max(c["true"].max(), c["predicted"].max(), 1)) * 1.05
            right.plot([0, hi], [0, hi], color="0.7", lw=1)
            right.scatter(c["true"], c["predicted"], s=18, label="density head")
            right.scatter(c["true"], c["boxes"], s=14, marker="x", label="boxes kept")
            right.set(xlabel="true count", ylabel="predicted count", xlim=(0, hi), ylim=(0, hi))
            mape = report.metrics.get("count_mape", np.nan)
            right.set_title(f"count per image (error {100 * mape:.1f} % of the total)")
            right.legend(loc="upper left")
    fig.tight_layout()
    return fig


def report_html(report) -> str:
    """The notebook view of a report: headline, market line, warnings, tables and picture.

    Parameters
    ----------
    report : EvaluationReport

    Returns
    -------
    str
        HTML with the picture inlined as a PNG.

    Examples
    --------
    >>> import pandas as pd
    >>> from vislab.easydl.report import EvaluationReport
    >>> t = pd.DataFrame({"image": ["a", "b"], "label": ["x", "y"]})
    >>> p = pd.DataFrame({"image": ["a", "b"], "rank": [1, 1], "label": ["x", "x"],
    ...                   "score": [.9, .7]})
    >>> html = report_html(EvaluationReport("classification", t, p, classes=["x", "y"],
    ...                                     train_per_class={"x": 20, "y": 20}))
    >>> html.startswith("<p><b>accuracy 0.500</b>"), "data:image/png;base64," in html
    (True, True)
    """
    import matplotlib.pyplot as plt

    fig = report_figure(report)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    name, value = report.headline
    notes = "".join(f"<li>{w}</li>" for w in report.warnings)
    return (
        f"<p><b>{name} {value:.3f}</b> on {report.truth['image'].nunique()} held-out images."
        f" {report.market_line}</p>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + report.summary().T.to_html(float_format=lambda v: f"{v:.3f}")
        + report.per_class.head(20).to_html(float_format=lambda v: f"{v:.3f}")
        + f'<img src="data:image/png;base64,{png}"/>'
    )
