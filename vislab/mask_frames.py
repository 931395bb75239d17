"""Constructors of the masks and semantic frames (declared in :mod:`vislab.frames`).

* :func:`masks_frame` — instance masks, one row per (image, instance): the boxes columns plus
  ``mask`` (COCO RLE dict); a malformed RLE, or a mask whose size disagrees with its image or
  with the other masks of its image, is an :class:`~vislab.errors.InvalidFrame`.
* :func:`semantic_frame` — one row per image with its ``label_map`` (class id per pixel).
* :func:`label_map_masks` — a semantic frame as a masks frame (one mask per class present),
  so label maps can be drawn and evaluated like instances.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame
from vislab.frames import ERROR_COLUMNS, SEMANTIC, require_columns, result_frame
from vislab.masks import check_masks, rle_encode

__all__ = ["masks_frame", "semantic_frame", "label_map_masks"]


def masks_frame(rows, *, image_size=None, service=None, raw=None) -> pd.DataFrame:
    """Masks frame: one row per (image, instance), the boxes columns plus an RLE ``mask``.

    Parameters
    ----------
    rows : iterable of dict
        One dict per instance (``image, label, score, mask`` and optionally ``x, y, w, h``);
        ``mask`` is a COCO RLE dict (compressed or list counts) or a 2-d boolean array.  A
        failed image is a row with ``error_code``, ``error_msg`` (and ``error_rule``) only.
    image_size : (width, height) or mapping image -> (width, height), optional
        The images' sizes: a mask of another size is refused.
    service : str, optional
        Stored in ``df.attrs["service"]``.
    raw : mapping, optional
        Image identifier -> untouched wire JSON, stored in ``df.attrs["raw"]``.

    Returns
    -------
    DataFrame
        Columns ``image, label, score, x, y, w, h, mask, error_code, error_msg, error_rule``;
        masks as compressed RLE dicts; boxes from the masks where a row gives none;
        ``attrs["kind"] == "masks"``.

    Raises
    ------
    vislab.errors.InvalidFrame
        A malformed RLE, masks of one image with different sizes, or a mask whose size is
        not its image's.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((4, 6), dtype=bool)
    >>> m[1:3, 2:5] = True
    >>> df = masks_frame([{"image": "a.jpg", "label": "cat", "score": 0.9, "mask": m}])
    >>> df[["x", "y", "w", "h"]].values.tolist(), df["mask"][0]
    ([[2.0, 1.0, 3.0, 2.0]], {'size': [4, 6], 'counts': '9220003'})
    """
    rows = [dict(r) for r in rows]
    ok = [i for i, r in enumerate(rows) if r.get("error_code") is None and "mask" in r]
    masks = [rows[i]["mask"] for i in ok]
    masks = [rle_encode(m) if isinstance(m, np.ndarray) else m for m in masks]
    images = [rows[i].get("image") for i in ok]
    sizes = _size_lookup(image_size, images)
    checked, boxes = check_masks(masks, images, sizes)
    for j, i in enumerate(ok):
        rows[i]["mask"] = checked[j]
        for k, col in enumerate(("x", "y", "w", "h")):
            if rows[i].get(col) is None or pd.isna(rows[i].get(col)):
                rows[i][col] = float(boxes[j, k])
    return result_frame("masks", rows, service=service, raw=raw)


def _size_lookup(image_size, images) -> list | None:
    """(height, width) per image from ``image_size`` ((w, h) or mapping image -> (w, h))."""
    if image_size is None:
        return None
    if isinstance(image_size, Mapping):
        out = []
        for img in images:
            wh = image_size.get(img)
            out.append(None if wh is None else (int(wh[1]), int(wh[0])))
        return out
    w, h = image_size
    return [(int(h), int(w))] * len(images)


def semantic_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Semantic segmentation frame: one row per image with its whole label map.

    Parameters
    ----------
    rows : iterable of dict
        One dict per image: ``image`` and ``label_map`` (a 2-d integer array, a class id per
        pixel, e.g. PAI's ``preds``); a failed image is a row with ``error_code``,
        ``error_msg`` (and ``error_rule``) only.
    service : str, optional
        Stored in ``df.attrs["service"]``.
    raw : mapping, optional
        Image identifier -> untouched wire JSON, stored in ``df.attrs["raw"]``.

    Returns
    -------
    DataFrame
        Columns ``image, label_map, error_code, error_msg, error_rule``;
        ``attrs["kind"] == "semantic"``.  :func:`label_map_masks` gives one mask per class.

    Raises
    ------
    vislab.errors.InvalidFrame
        A label map that is not a 2-d array of integers.

    Examples
    --------
    >>> df = semantic_frame([{"image": "a.jpg", "label_map": [[1, 1], [0, 0]]}])
    >>> df["label_map"][0].shape
    (2, 2)
    """
    rows = [dict(r) for r in rows]
    for i, r in enumerate(rows):
        if r.get("error_code") is not None or "label_map" not in r:
            continue
        arr = np.asarray(r["label_map"])
        if arr.ndim != 2 or not (
            np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)
        ):
            raise InvalidFrame(
                f"row {i}: label_map must be a 2-d array of integer class ids, got "
                f"shape {arr.shape} of {arr.dtype}",
                column="label_map",
            )
        r["label_map"] = arr
    return result_frame("semantic", rows, service=service, raw=raw)


def label_map_masks(df: pd.DataFrame, *, labels=None, background=None) -> pd.DataFrame:
    """One mask per (image, class present) of a semantic frame: a masks frame.

    Parameters
    ----------
    df : DataFrame
        A semantic frame (:func:`semantic_frame`).
    labels : mapping id -> name, optional
        Names for the class ids (default: the ids themselves).
    background : int, optional
        A class id left out (e.g. 0 for Pascal VOC's background).

    Returns
    -------
    DataFrame
        Masks frame, ``score`` NaN (a label map has no score per region); failed images keep
        their error row.

    Examples
    --------
    >>> sem = semantic_frame([{"image": "a.jpg", "label_map": [[1, 1], [0, 2]]}])
    >>> label_map_masks(sem, labels={1: "cat", 2: "dog"}, background=0)[["label", "w", "h"]]
      label    w    h
    0   cat  2.0  1.0
    1   dog  1.0  1.0
    """
    require_columns(df, SEMANTIC, name="semantic")
    rows = []
    for r in df.to_dict("records"):
        if pd.notna(r.get("error_code")):
            rows.append({k: r[k] for k in ("image", *ERROR_COLUMNS)})
            continue
        lm = np.asarray(r["label_map"])
        for cid in np.unique(lm):
            if background is not None and cid == background:
                continue
            name = labels.get(cid.item(), cid.item()) if labels is not None else cid.item()
            rows.append(
                {"image": r["image"], "label": name, "score": np.nan, "mask": rle_encode(lm == cid)}
            )
    return masks_frame(rows, service=df.attrs.get("service"))
