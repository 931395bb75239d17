"""Boxes on an image, coloured by label or by outcome (TP / FP / FN) — :func:`draw_boxes`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["draw_boxes", "MATCH_COLORS"]

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


def _place_captions(ax, captions, fontsize) -> None:
    """Write each box's caption above it — inside it where the box touches the image's top
    edge, shifted left where it would run past the right edge — so no caption is clipped."""
    if not captions:
        return
    ax.apply_aspect()  # the image's final scale on the axes
    x_lo, x_hi = sorted(ax.get_xlim())
    y_top = min(ax.get_ylim())
    to_px = ax.transData.transform
    px_x = abs(to_px((1, 0))[0] - to_px((0, 0))[0]) or 1.0
    px_y = abs(to_px((0, 1))[1] - to_px((0, 0))[1]) or 1.0
    pt = ax.figure.dpi / 72
    # A caption's height and width in data units (font size plus the label's padding),
    # generously estimated so that it fits after the figure's final layout too.
    height = (fontsize * 1.45 + 4) * pt / px_y
    for x, y, text, color in captions:
        width = (len(text) * fontsize * 0.62 + 4) * pt / px_x
        if y - 2 / px_y - height >= y_top:
            ty, va = y - 2 / px_y, "bottom"
        else:
            ty, va = max(y, y_top) + 2 / px_y, "top"
        tx = min(max(x, x_lo), max(x_lo, x_hi - width))
        ax.text(
            tx,
            ty,
            text,
            color="white",
            fontsize=fontsize,
            va=va,
            ha="left",
            clip_on=True,
            bbox={"facecolor": color, "alpha": 0.8, "pad": 1.0, "edgecolor": "none"},
        )


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
    captions = []
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
            captions.append((r["x"], r["y"], " ".join(text), color))
    if img is None and len(boxes):
        x1 = (boxes["x"] + boxes["w"]).max()
        y1 = (boxes["y"] + boxes["h"]).max()
        ax.set_xlim(min(0, boxes["x"].min()), x1 * 1.05)
        ax.set_ylim(y1 * 1.05, min(0, boxes["y"].min()))
    _place_captions(ax, captions, fontsize)
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
