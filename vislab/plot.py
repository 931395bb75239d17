"""Matplotlib pictures of evaluation results, in scikit-learn's Display style.

Each display is built from results (``XDisplay.from_predictions(...)``, ``.from_sweep(...)``),
draws with ``.plot(ax=...)``, returns itself, and keeps what it drew in attributes ending in
``_`` (``ax_``, ``figure_``, ``line_`` ...), so a notebook can restyle or test them.

* :class:`ConfusionMatrixDisplay` — which label was taken for which.
* :class:`PrecisionRecallDisplay` — the precision/recall trade-off, with the operating point.
* :class:`ThresholdDisplay` — precision, recall and F1 against the score threshold.
* :class:`CutoffDisplay` — image search: what a similarity cutoff returns, and how good it is.
* :func:`draw_boxes` — boxes on an image, coloured by label or by outcome (tp / fp / fn).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "draw_boxes",
    "MATCH_COLORS",
    "ConfusionMatrixDisplay",
    "PrecisionRecallDisplay",
    "ThresholdDisplay",
    "CutoffDisplay",
]

#: Colour and line style of each outcome of :func:`vislab.evaluate.match_detections`.
MATCH_COLORS = {
    "tp": ("#2ca02c", "-"),
    "fp": ("#d62728", "-"),
    "fn": ("#ff7f0e", "--"),
    "ignore": ("#7f7f7f", ":"),
    "skipped": ("#bbbbbb", ":"),
}
_MATCH_TEXT = {
    "tp": "TP",
    "fp": "FP",
    "fn": "FN (missed)",
    "ignore": "ignored",
    "skipped": "skipped",
}


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _as_image(image):
    if image is None:
        return None
    if isinstance(image, (str, Path)):
        from PIL import Image

        with Image.open(image) as im:
            return np.asarray(im.convert("RGB"))
    return np.asarray(image)


def _label_colors(labels, palette=None) -> dict:
    import matplotlib

    names = list(pd.unique(pd.Series(list(labels), dtype=object)))
    try:
        names = sorted(names)
    except TypeError:
        pass
    cmap = matplotlib.colormaps[palette or ("tab10" if len(names) <= 10 else "tab20")]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def draw_boxes(
    ax,
    image,
    boxes: pd.DataFrame,
    *,
    color_by: str = "auto",
    colors: dict | None = None,
    show_label: bool = True,
    show_score: bool = True,
    linewidth: float = 2.0,
    fontsize: float = 8.0,
    legend: bool = False,
    title: str | None = None,
):
    """Draw ``x, y, w, h`` boxes (pixels, top-left origin) on an image.

    Parameters
    ----------
    ax : matplotlib Axes
    image : array, PIL image, path or None
        Shown under the boxes (``None``: boxes only, y axis pointing down as in images).
    boxes : DataFrame
        Rows with ``x, y, w, h`` and optionally ``label``, ``score`` and ``match`` (as returned
        by :func:`vislab.evaluate.match_detections`).
    color_by : {"auto", "label", "match"}
        ``"match"`` colours true positives green, false positives red, missed objects
        (``fn``) orange dashed and ignored boxes grey dotted; ``"label"`` gives each class a
        colour.  ``"auto"`` uses ``"match"`` when the column exists.
    colors : dict, optional
        Colour per label (or per outcome) overriding the defaults.
    show_label, show_score : bool
        Write the label and score above each box.
    linewidth, fontsize : float
    legend : bool
        Add a legend of the outcomes (with ``color_by="match"``) or labels.
    title : str, optional

    Returns
    -------
    list of matplotlib.patches.Rectangle
        The boxes drawn, in row order.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> boxes = pd.DataFrame({"x": [10], "y": [20], "w": [30], "h": [40], "label": ["cat"],
    ...                       "score": [0.9], "match": ["tp"]})
    >>> patches = draw_boxes(ax, np.zeros((100, 100, 3), np.uint8), boxes)
    >>> patches[0].get_edgecolor()[:3] == matplotlib.colors.to_rgb("#2ca02c")
    True
    >>> plt.close(fig)
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    img = _as_image(image)
    if img is not None:
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    if color_by == "auto":
        color_by = "match" if "match" in boxes.columns else "label"
    if color_by == "match" and "match" not in boxes.columns:
        raise ValueError("color_by='match' needs a 'match' column (see match_detections)")
    label_colors = _label_colors(boxes["label"]) if "label" in boxes.columns else {}
    if colors:
        label_colors.update(colors)
    patches = []
    for row in boxes.itertuples(index=False):
        r = row._asdict()
        if any(pd.isna(r.get(k)) for k in ("x", "y", "w", "h")):
            continue  # a failed-image row has no box
        style = "-"
        if color_by == "match":
            color, style = MATCH_COLORS.get(r["match"], ("#1f77b4", "-"))
            if colors and r["match"] in colors:
                color = colors[r["match"]]
        else:
            color = label_colors.get(r.get("label"), "#1f77b4")
        rect = Rectangle(
            (r["x"], r["y"]),
            r["w"],
            r["h"],
            fill=False,
            edgecolor=color,
            linewidth=linewidth,
            linestyle=style,
        )
        ax.add_patch(rect)
        patches.append(rect)
        text = []
        if show_label and "label" in r and pd.notna(r["label"]):
            text.append(str(r["label"]))
        if show_score and "score" in r and pd.notna(r.get("score")):
            text.append(f"{r['score']:.2f}")
        if color_by == "match" and r.get("match") == "fn":
            text.append("missed")
        if text:
            ax.text(
                r["x"],
                r["y"] - 2,
                " ".join(text),
                color="white",
                fontsize=fontsize,
                va="bottom",
                ha="left",
                clip_on=True,
                bbox={"facecolor": color, "alpha": 0.8, "pad": 1.0, "edgecolor": "none"},
            )
    if img is None and len(boxes):
        x1 = (boxes["x"] + boxes["w"]).max()
        y1 = (boxes["y"] + boxes["h"]).max()
        ax.set_xlim(min(0, boxes["x"].min()), x1 * 1.05)
        ax.set_ylim(y1 * 1.05, min(0, boxes["y"].min()))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    if legend:
        if color_by == "match":
            present = [m for m in MATCH_COLORS if m in set(boxes["match"])]
            handles = [
                Line2D(
                    [],
                    [],
                    color=MATCH_COLORS[m][0],
                    ls=MATCH_COLORS[m][1],
                    lw=2,
                    label=_MATCH_TEXT[m],
                )
                for m in present
            ]
        else:
            handles = [Line2D([], [], color=c, lw=2, label=str(n)) for n, c in label_colors.items()]
        if handles:
            ax.legend(handles=handles, fontsize=fontsize, loc="lower right", framealpha=0.8)
    return patches


class ConfusionMatrixDisplay:
    """Confusion matrix heat map (rows: true label, columns: predicted label).

    Parameters
    ----------
    confusion_matrix : DataFrame or array
        A frame from :func:`vislab.evaluate.confusion_matrix` (labels come with it) or an
        array.
    display_labels : sequence, optional
        Row labels for an array (and columns if square).

    Attributes
    ----------
    im_ : matplotlib AxesImage
    text_ : ndarray of Text or None
    ax_, figure_, colorbar_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
    >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
    ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
    >>> disp = ConfusionMatrixDisplay.from_predictions(truth, pred)
    >>> disp.text_[1, 0].get_text()
    '1'
    """

    def __init__(self, confusion_matrix, *, display_labels=None):
        if isinstance(confusion_matrix, pd.DataFrame):
            self.confusion_matrix = confusion_matrix.to_numpy()
            self.display_labels = list(confusion_matrix.index)
            self.predicted_labels = list(confusion_matrix.columns)
        else:
            self.confusion_matrix = np.asarray(confusion_matrix)
            n_rows, n_cols = self.confusion_matrix.shape
            labels = list(display_labels) if display_labels is not None else list(range(n_rows))
            self.display_labels = labels
            self.predicted_labels = labels if n_cols == n_rows else list(range(n_cols))

    @classmethod
    def from_predictions(cls, truth, pred, *, labels=None, normalize=None, ax=None, **plot_kw):
        """Compute the matrix with :func:`vislab.evaluate.confusion_matrix` and plot it.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> disp = ConfusionMatrixDisplay.from_predictions(
        ...     {"a": "cat", "b": "dog"},
        ...     pd.DataFrame({"image": ["a", "b"], "rank": [1, 1], "label": ["cat", "cat"],
        ...                   "score": [0.9, 0.7]}), normalize="true")
        >>> disp.confusion_matrix.tolist()
        [[1.0, 0.0], [1.0, 0.0]]
        """
        from vislab.evaluate import confusion_matrix

        cm = confusion_matrix(truth, pred, labels=labels, normalize=normalize)
        return cls(cm).plot(ax=ax, **plot_kw)

    def plot(
        self,
        *,
        ax=None,
        cmap="Blues",
        include_values=True,
        values_format=None,
        colorbar=True,
        xticks_rotation=45,
    ):
        """Draw the matrix; returns ``self``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> ConfusionMatrixDisplay(np.array([[3, 1], [0, 2]]), display_labels=["a", "b"]
        ...                        ).plot(colorbar=False).im_.get_array().shape
        (2, 2)
        """
        ax = _axes(ax)
        cm = self.confusion_matrix
        self.im_ = ax.imshow(cm, interpolation="nearest", cmap=cmap)
        self.text_ = None
        if include_values:
            fmt = values_format or (".2g" if np.issubdtype(cm.dtype, np.floating) else "d")
            thresh = (cm.max() + cm.min()) / 2.0 if cm.size else 0
            cmap_obj = self.im_.cmap
            self.text_ = np.empty(cm.shape, dtype=object)
            for i in range(cm.shape[0]):
                for j in range(cm.shape[1]):
                    color = cmap_obj(0) if cm[i, j] > thresh else cmap_obj(cmap_obj.N - 1)
                    self.text_[i, j] = ax.text(
                        j, i, format(cm[i, j], fmt), ha="center", va="center", color=color
                    )
        self.colorbar_ = ax.figure.colorbar(self.im_, ax=ax) if colorbar else None
        ax.set(
            xticks=np.arange(cm.shape[1]),
            yticks=np.arange(cm.shape[0]),
            xticklabels=[str(v) for v in self.predicted_labels],
            yticklabels=[str(v) for v in self.display_labels],
            xlabel="predicted label",
            ylabel="true label",
        )
        ax.set_ylim((cm.shape[0] - 0.5, -0.5))
        for lab in ax.get_xticklabels():
            lab.set_rotation(xticks_rotation)
            lab.set_ha("right" if xticks_rotation else "center")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _sweep_frame(sweep, label=None) -> pd.DataFrame:
    from vislab.evaluate import Sweep

    if isinstance(sweep, Sweep):
        return sweep.curve(label)
    frame = sweep
    if label is not None and "label" in frame.columns:
        frame = frame[frame["label"] == label]
    return frame


def _step_ap(precision, recall) -> float:
    """Average precision as scikit-learn defines it: sum of (R_n - R_{n-1}) * P_n."""
    r = np.concatenate([[0.0], np.asarray(recall, dtype=float)])
    p = np.asarray(precision, dtype=float)
    return float(np.sum(np.diff(r) * p)) if len(p) else float("nan")


class PrecisionRecallDisplay:
    """Precision against recall, with the operating point marked.

    Parameters
    ----------
    precision, recall : array-like
        Points of the curve (from high to low threshold).
    thresholds : array-like, optional
    average_precision : float, optional
        Shown in the legend.
    name : str, optional
    operating_point : (recall, precision, threshold), optional

    Attributes
    ----------
    line_ : Line2D
    point_ : Line2D or None
    ax_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from vislab.evaluate import Sweep
    >>> sweep = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2)
    >>> disp = PrecisionRecallDisplay.from_sweep(sweep, threshold=0.5)
    >>> disp.point_.get_xydata().tolist()
    [[0.5, 0.5]]
    """

    def __init__(
        self,
        precision,
        recall,
        *,
        thresholds=None,
        average_precision=None,
        name=None,
        operating_point=None,
    ):
        self.precision = np.asarray(precision, dtype=float)
        self.recall = np.asarray(recall, dtype=float)
        self.thresholds = None if thresholds is None else np.asarray(thresholds, dtype=float)
        self.average_precision = average_precision
        self.name = name
        self.operating_point = operating_point

    @classmethod
    def from_sweep(cls, sweep, *, label=None, threshold=None, name=None, ax=None, **plot_kw):
        """Curve of a :func:`vislab.evaluate.threshold_sweep` result (one point per threshold).

        ``threshold`` marks the operating point; the legend shows the step-wise average
        precision (scikit-learn's definition; COCO interpolates — see :meth:`from_coco`).

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import Sweep
        >>> PrecisionRecallDisplay.from_sweep(
        ...     Sweep.from_arrays([0.9, 0.3], tp=[1, 1], n_pos=2)).average_precision
        1.0
        """
        frame = _sweep_frame(sweep, label)
        op = None
        if threshold is not None:
            from vislab.evaluate import Sweep

            row = (
                sweep.at(threshold, label=label)
                if isinstance(sweep, Sweep)
                else frame[frame["threshold"] >= threshold].iloc[-1]
            )
            op = (float(row["recall"]), float(row["precision"]), float(threshold))
        disp = cls(
            frame["precision"],
            frame["recall"],
            thresholds=frame["threshold"],
            average_precision=_step_ap(frame["precision"], frame["recall"]),
            name=name if name is not None else (str(label) if label is not None else None),
            operating_point=op,
        )
        return disp.plot(ax=ax, **plot_kw)

    @classmethod
    def from_coco(cls, result, *, iou=0.5, label=None, name=None, ax=None, **plot_kw):
        """COCO's interpolated curve (101 recall points) of a :func:`coco_eval` result.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import coco_eval
        >>> t = pd.DataFrame({"image": ["a"], "label": ["cat"], "x": [0], "y": [0],
        ...                   "w": [40], "h": [40]})
        >>> PrecisionRecallDisplay.from_coco(coco_eval(t, t.assign(score=0.9))).recall.size
        101
        """
        curve = result.pr_curve(label=label, iou=iou)
        ap = result.average_precision(iou=iou, label=label)
        disp = cls(
            curve["precision"],
            curve["recall"],
            average_precision=ap,
            name=name or f"COCO, IoU={iou:g}",
        )
        return disp.plot(ax=ax, drawstyle="default", **plot_kw)

    def plot(self, *, ax=None, name=None, drawstyle="steps-post", **line_kw):
        """Draw the curve; returns ``self``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> PrecisionRecallDisplay([1.0, 0.5], [0.5, 1.0]).plot().line_.get_xdata().tolist()
        [0.5, 1.0]
        """
        ax = _axes(ax)
        name = name or self.name
        legend = []
        if name:
            legend.append(str(name))
        if self.average_precision is not None and not np.isnan(self.average_precision):
            legend.append(f"AP = {self.average_precision:.3f}")
        (self.line_,) = ax.plot(
            self.recall,
            self.precision,
            drawstyle=drawstyle,
            label=", ".join(legend) or None,
            **line_kw,
        )
        self.point_ = None
        if self.operating_point is not None:
            r, p, t = self.operating_point
            (self.point_,) = ax.plot(
                [r],
                [p],
                "o",
                color="#d62728",
                ms=8,
                zorder=5,
                label=f"threshold {t:.2f}: P={p:.2f}, R={r:.2f}",
            )
        ax.set(xlabel="recall", ylabel="precision", xlim=(-0.01, 1.01), ylim=(-0.01, 1.05))
        ax.grid(alpha=0.3)
        if legend or self.point_ is not None:
            ax.legend(loc="lower left", fontsize=8)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class ThresholdDisplay:
    """Precision, recall and F1 against the score threshold, with the operating point.

    Parameters
    ----------
    frame : DataFrame
        A sweep frame (``threshold, precision, recall, f1``, ...).
    threshold : float, optional
        The operating point to mark.
    name : str, optional

    Attributes
    ----------
    lines_ : dict of Line2D
        One per metric.
    vline_ : Line2D or None
    text_ : Text or None
    ax_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from vislab.evaluate import Sweep
    >>> sweep = Sweep.from_arrays([0.9, 0.8, 0.3], tp=[1, 0, 1], n_pos=2)
    >>> disp = ThresholdDisplay.from_sweep(sweep, rule="f1")
    >>> disp.threshold, sorted(disp.lines_)
    (0.3, ['f1', 'precision', 'recall'])
    """

    def __init__(self, frame: pd.DataFrame, *, threshold=None, name=None):
        self.frame = frame
        self.threshold = threshold
        self.name = name

    @classmethod
    def from_sweep(cls, sweep, *, threshold=None, rule=None, label=None, ax=None, **plot_kw):
        """Plot a sweep; ``rule`` (see :func:`vislab.evaluate.best_threshold`) picks the point.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import Sweep
        >>> d = ThresholdDisplay.from_sweep(Sweep.from_arrays([0.9, 0.3], tp=[1, 0], n_pos=1),
        ...                                 threshold=0.5)
        >>> round(d.vline_.get_xdata()[0], 2)
        0.5
        """
        frame = _sweep_frame(sweep, label)
        if rule is not None and threshold is None:
            from vislab.evaluate import best_threshold

            threshold = best_threshold(sweep, rule=rule, label=label)["threshold"]
            threshold = None if pd.isna(threshold) else float(threshold)
        return cls(frame, threshold=threshold, name=label).plot(ax=ax, **plot_kw)

    def plot(self, *, ax=None, metrics=("precision", "recall", "f1")):
        """Draw the curves; returns ``self``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> f = pd.DataFrame({"threshold": [0.9, 0.5], "precision": [1.0, 0.5],
        ...                   "recall": [0.5, 1.0], "f1": [0.67, 0.67]})
        >>> ThresholdDisplay(f).plot().vline_ is None
        True
        """
        ax = _axes(ax)
        f = self.frame.sort_values("threshold")
        colors = {"precision": "#1f77b4", "recall": "#ff7f0e", "f1": "#2ca02c"}
        self.lines_ = {}
        for m in metrics:
            (self.lines_[m],) = ax.plot(
                f["threshold"], f[m], label=m, color=colors.get(m), drawstyle="steps-post"
            )
        self.vline_ = None
        self.text_ = None
        if self.threshold is not None:
            self.vline_ = ax.axvline(self.threshold, color="#d62728", ls="--", lw=1.2)
            kept = self.frame[self.frame["threshold"] >= self.threshold]
            if len(kept):
                row = kept.sort_values("threshold").iloc[0]
                summary = ", ".join(f"{m[0].upper()}={row[m]:.2f}" for m in metrics)
                self.text_ = ax.text(
                    self.threshold,
                    1.02,
                    f" t={self.threshold:.2f}: {summary}",
                    color="#d62728",
                    fontsize=8,
                    va="bottom",
                    transform=ax.get_xaxis_transform(),
                )
        title = "score threshold" if self.name is None else f"score threshold ({self.name})"
        ax.set(xlabel=title, ylabel="value", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class CutoffDisplay:
    """Image search: precision, recall, F1 and hits returned against the similarity cutoff.

    Parameters
    ----------
    frame : DataFrame
        A retrieval sweep frame (``threshold, n_pred, precision, recall, f1``).
    cutoff : float, optional
        The cutoff to mark.

    Attributes
    ----------
    lines_ : dict of Line2D
    count_line_ : Line2D
        Hits returned (right axis).
    ax_, ax_count_, vline_, figure_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> f = pd.DataFrame({"threshold": [0.9, 0.6], "n_pred": [1, 3], "precision": [1.0, 0.67],
    ...                   "recall": [0.5, 1.0], "f1": [0.67, 0.8]})
    >>> CutoffDisplay(f, cutoff=0.7).plot().count_line_.get_ydata().tolist()
    [3, 1]
    """

    def __init__(self, frame: pd.DataFrame, *, cutoff=None):
        self.frame = frame
        self.cutoff = cutoff

    @classmethod
    def from_sweep(cls, sweep, *, cutoff=None, rule=None, ax=None, **plot_kw):
        """Plot a :func:`vislab.evaluate.retrieval_sweep`; ``rule`` picks the cutoff.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from vislab.evaluate import Sweep
        >>> s = Sweep.from_arrays([0.95, 0.7, 0.4], tp=[1, 1, 0], n_pos=2)
        >>> CutoffDisplay.from_sweep(s, rule="f1").cutoff
        0.7
        """
        frame = _sweep_frame(sweep)
        if rule is not None and cutoff is None:
            from vislab.evaluate import best_threshold

            cutoff = best_threshold(sweep, rule=rule)["threshold"]
            cutoff = None if pd.isna(cutoff) else float(cutoff)
        return cls(frame, cutoff=cutoff).plot(ax=ax, **plot_kw)

    def plot(self, *, ax=None):
        """Draw the curves and the hits returned; returns ``self``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> f = pd.DataFrame({"threshold": [0.9, 0.6], "n_pred": [1, 3],
        ...                   "precision": [1.0, 0.67], "recall": [0.5, 1.0], "f1": [0.67, 0.8]})
        >>> d = CutoffDisplay(f).plot()
        >>> d.vline_ is None, sorted(d.lines_)
        (True, ['f1', 'precision', 'recall'])
        """
        ax = _axes(ax)
        f = self.frame.sort_values("threshold")
        colors = {"precision": "#1f77b4", "recall": "#ff7f0e", "f1": "#2ca02c"}
        self.lines_ = {}
        for m in ("precision", "recall", "f1"):
            (self.lines_[m],) = ax.plot(
                f["threshold"], f[m], label=m, color=colors[m], drawstyle="steps-post"
            )
        self.ax_count_ = ax.twinx()
        (self.count_line_,) = self.ax_count_.plot(
            f["threshold"],
            f["n_pred"],
            color="#7f7f7f",
            ls=":",
            drawstyle="steps-post",
            label="hits returned",
        )
        self.ax_count_.set_ylabel("hits returned", color="#7f7f7f")
        self.vline_ = None
        if self.cutoff is not None:
            self.vline_ = ax.axvline(self.cutoff, color="#d62728", ls="--", lw=1.2)
        ax.set(xlabel="similarity cutoff", ylabel="value", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
        handles = list(self.lines_.values()) + [self.count_line_]
        ax.legend(handles=handles, loc="lower left", fontsize=8)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
