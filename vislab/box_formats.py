"""Box coordinate formats and the one converter between them (re-exported by
:mod:`vislab.frames`, where the frames' ``x, y, w, h`` are defined).

PAI's ``[top, left, bottom, right]`` is ``"tlbr"``; YOLO's normalised centre boxes are
``"cxcywhn"``; Baidu's ``left, top, width, height`` is ``"xywh"``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BOX_FORMATS", "convert_boxes"]


#: Column names of each box format, in the order :func:`convert_boxes` expects.
BOX_FORMATS = {
    "xywh": ("x", "y", "w", "h"),
    "xyxy": ("x1", "y1", "x2", "y2"),
    "cxcywh": ("cx", "cy", "w", "h"),
    "tlbr": ("top", "left", "bottom", "right"),
    "xywhn": ("x", "y", "w", "h"),
    "xyxyn": ("x1", "y1", "x2", "y2"),
    "cxcywhn": ("cx", "cy", "w", "h"),
}


def _image_wh(image_size, n: int) -> tuple[np.ndarray, np.ndarray]:
    if image_size is None:
        raise ValueError("normalised box formats need image_size=(width, height)")
    arr = np.asarray(image_size, dtype=float)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (n, 2))
    return arr[:, 0], arr[:, 1]


def convert_boxes(boxes, src: str, dst: str, *, image_size=None) -> np.ndarray:
    """Convert an (N, 4) array of boxes between formats.

    Formats: ``"xywh"`` (top-left x, y, width, height — the frames' format), ``"xyxy"``,
    ``"cxcywh"`` (centre), ``"tlbr"`` (PAI's ``[top, left, bottom, right]``), and the
    normalised ``"xywhn"``, ``"xyxyn"``, ``"cxcywhn"`` (fractions of the image's width and
    height; YOLO uses ``"cxcywhn"``), which need ``image_size``.

    Parameters
    ----------
    boxes : array-like, shape (N, 4)
    src, dst : str
        Source and destination formats.
    image_size : (width, height) or array of shape (N, 2), optional
        Required when either format is normalised.

    Returns
    -------
    numpy.ndarray of float, shape (N, 4)

    Examples
    --------
    >>> convert_boxes([[10, 20, 30, 40]], "xywh", "xyxy").tolist()
    [[10.0, 20.0, 40.0, 60.0]]
    >>> convert_boxes([[20, 10, 60, 40]], "tlbr", "xywh").tolist()
    [[10.0, 20.0, 30.0, 40.0]]
    >>> convert_boxes([[0.5, 0.5, 0.2, 0.4]], "cxcywhn", "xywh", image_size=(100, 50)).tolist()
    [[40.0, 15.0, 20.0, 20.0]]
    """
    for fmt in (src, dst):
        if fmt not in BOX_FORMATS:
            raise ValueError(f"unknown box format {fmt!r}; expected one of {sorted(BOX_FORMATS)}")
    b = np.asarray(boxes, dtype=float).reshape(-1, 4)
    n = len(b)
    # To absolute xywh first ...
    if src.endswith("n"):
        iw, ih = _image_wh(image_size, n)
        b = b * np.stack([iw, ih, iw, ih], axis=1)
        src = src[:-1]
    if src == "xywh":
        x, y, w, h = b.T
    elif src == "xyxy":
        x, y, w, h = b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    elif src == "cxcywh":
        x, y, w, h = b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 2], b[:, 3]
    else:  # tlbr
        x, y, w, h = b[:, 1], b[:, 0], b[:, 3] - b[:, 1], b[:, 2] - b[:, 0]
    # ... then to the destination.
    norm = dst.endswith("n")
    base = dst[:-1] if norm else dst
    if base == "xywh":
        out = np.stack([x, y, w, h], axis=1)
    elif base == "xyxy":
        out = np.stack([x, y, x + w, y + h], axis=1)
    elif base == "cxcywh":
        out = np.stack([x + w / 2, y + h / 2, w, h], axis=1)
    else:  # tlbr
        out = np.stack([y, x, y + h, x + w], axis=1)
    if norm:
        iw, ih = _image_wh(image_size, n)
        out = out / np.stack([iw, ih, iw, ih], axis=1)
    return out
