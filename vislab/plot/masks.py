"""Masks on an image: translucent regions under their boxes — :func:`draw_masks`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame
from vislab.masks import rle_decode
from vislab.plot.boxes import MATCH_COLORS, _as_image, _label_colors, draw_boxes

__all__ = ["draw_masks"]


def draw_masks(
    ax,
    image,
    masks: pd.DataFrame,
    *,
    color_by: str = "auto",
    colors: dict | None = None,
    alpha: float = 0.45,
    show_boxes: bool = True,
    show_label: bool = True,
    show_score: bool = True,
    linewidth: float = 1.5,
    fontsize: float = 8.0,
    legend: bool = False,
    title: str | None = None,
):
    """Draw the ``mask`` of each row (COCO RLE) as a translucent region, with its box.

    Parameters
    ----------
    ax : matplotlib Axes
    image : array, PIL image, path or None
        Shown under the masks (``None``: a white canvas of the masks' size).
    masks : DataFrame
        A masks frame (:func:`vislab.mask_frames.masks_frame`, or
        :func:`vislab.evaluate.match_detections` of one, which adds ``match``); rows without a
        mask (failed images, missed objects without one) get their box only.
    color_by : {"auto", "label", "match"}
        As in :func:`draw_boxes`: ``"match"`` colours TP green, FP red, missed orange.
    colors : dict, optional
        Colour per label (or per outcome) overriding the defaults.
    alpha : float, default 0.45
        Opacity of the regions.
    show_boxes : bool, default True
        Draw each row's box and caption too.
    show_label, show_score : bool
        Captions, as in :func:`draw_boxes`.
    linewidth, fontsize : float
        Box lines and captions.
    legend : bool
        Add a legend of the outcomes or labels.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.image.AxesImage
        The regions, one RGBA layer over the image (its array: ``.get_array()``).

    Raises
    ------
    vislab.errors.InvalidFrame
        A malformed mask, masks of different sizes, or masks not of the image's size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from vislab.mask_frames import masks_frame
    >>> m = np.zeros((40, 60), dtype=bool)
    >>> m[10:30, 5:25] = True
    >>> df = masks_frame([{"image": "a", "label": "cat", "score": 0.9, "mask": m}])
    >>> fig, ax = plt.subplots()
    >>> layer = draw_masks(ax, np.zeros((40, 60, 3), np.uint8), df)
    >>> layer.get_array().shape, float(layer.get_array()[20, 10, 3])
    ((40, 60, 4), 0.45)
    >>> plt.close(fig)
    """
    import matplotlib.colors as mcolors

    has = (
        masks["mask"].map(lambda v: isinstance(v, dict)).to_numpy()
        if "mask" in masks.columns
        else np.zeros(len(masks), dtype=bool)
    )
    decoded = rle_decode(list(masks["mask"][has])) if has.any() else None
    img = _as_image(image)
    if img is None:
        h, w = decoded.shape[1:] if decoded is not None else (100, 100)
        img = np.full((h, w, 3), 255, dtype=np.uint8)
    h, w = img.shape[:2]
    if decoded is not None and decoded.shape[1:] != (h, w):
        raise InvalidFrame(
            f"the masks are {decoded.shape[1]}x{decoded.shape[2]} (height x width) but the "
            f"image is {h}x{w}: draw masks on the image they were made for",
            column="mask",
        )
    if color_by == "auto":
        color_by = "match" if "match" in masks.columns else "label"
    label_colors = _label_colors(masks["label"]) if "label" in masks.columns else {}
    if colors:
        label_colors.update(colors)
    layer = np.zeros((h, w, 4), dtype=float)
    rows = masks[has]
    for j, r in enumerate(rows.to_dict("records")):
        if color_by == "match":
            color = (colors or {}).get(
                r.get("match"), MATCH_COLORS.get(r.get("match"), ("#1f77b4",))[0]
            )
        else:
            color = label_colors.get(r.get("label"), "#1f77b4")
        layer[decoded[j]] = (*mcolors.to_rgb(color), alpha)  # later rows lie on top
    boxes = masks if show_boxes else masks.iloc[0:0]
    draw_boxes(
        ax,
        img,
        boxes,
        color_by=color_by,
        colors=colors,
        show_label=show_label,
        show_score=show_score,
        linewidth=linewidth,
        fontsize=fontsize,
        legend=legend,
        title=title,
    )
    # Above the picture (zorder 0), under the box lines (1) and captions (3).
    return ax.imshow(layer, extent=(-0.5, w - 0.5, h - 0.5, -0.5), zorder=0.5)
