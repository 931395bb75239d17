"""Constructors of the text lines, pairs, counts and images frames (declared in
:mod:`vislab.frames`).

* :func:`text_lines_frame` — OCR: one row per (image, line) with ``text``, ``score``, the
  line's upright box ``x, y, w, h`` and its quadrilateral ``quad`` (a 4 x 2 float array of
  corners, **x then y**, so rotated text keeps its shape);
* :func:`pairs_frame` — one row per compared pair ``(a, b)`` with ``similarity`` (0-100),
  ``l2_distance`` and ``cosine`` (those the service gave; the others stay empty);
* :func:`counts_frame` — one row per (image, label) with an integer ``count``;
* :func:`images_frame` — image-to-image models: one row per image with a PIL image in
  ``out_image``.

Every constructor keeps a failed input as one error row, as every result frame does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.box_formats import convert_boxes
from vislab.errors import InvalidFrame
from vislab.frames import result_frame

__all__ = ["text_lines_frame", "pairs_frame", "counts_frame", "images_frame", "quad_box"]


def quad_box(quad) -> tuple[float, float, float, float]:
    """The upright ``x, y, w, h`` box around a quadrilateral of (x, y) corners.

    Examples
    --------
    >>> quad_box([[10, 5], [50, 8], [49, 20], [9, 17]])
    (9.0, 5.0, 41.0, 15.0)
    """
    q = np.asarray(quad, dtype=float)
    if q.shape != (4, 2) or not np.isfinite(q).all():
        raise InvalidFrame(
            f"a quadrilateral is 4 (x, y) corners, got shape {q.shape}", column="quad"
        )
    x1, y1 = q.min(axis=0)
    x2, y2 = q.max(axis=0)
    box = convert_boxes([[x1, y1, x2, y2]], "xyxy", "xywh")[0]
    return tuple(float(v) for v in box)


def text_lines_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Text lines frame: one row per (image, line).

    Parameters
    ----------
    rows : iterable of dict
        ``image, text, score, quad`` (4 x 2 corners, x then y) and optionally ``x, y, w, h``
        (derived from ``quad`` when absent).  Error rows carry ``error_code``/``error_msg``.
    service : str, optional
    raw : mapping, optional

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> df = text_lines_frame([{"image": "r.png", "text": "TOTAL 9.50", "score": 0.97,
    ...                         "quad": [[10, 5], [50, 5], [50, 20], [10, 20]]}])
    >>> df[["text", "x", "y", "w", "h"]].values.tolist()
    [['TOTAL 9.50', 10.0, 5.0, 40.0, 15.0]]
    >>> df["quad"][0].shape
    (4, 2)
    """
    out = []
    for r in rows:
        r = dict(r)
        if r.get("quad") is not None:
            r["quad"] = np.asarray(r["quad"], dtype=float)
            if "x" not in r:
                r["x"], r["y"], r["w"], r["h"] = quad_box(r["quad"])
        out.append(r)
    return result_frame("text_lines", out, service=service, raw=raw)


def pairs_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Pairs frame: one row per compared pair ``(a, b)``.

    ``similarity`` is on the 0-100 scale (100 = the same image or person, below 80 =
    different, as PAI documents it); ``l2_distance`` (0 = same) and ``cosine`` (1 = same) are
    filled when the service returns them.

    Examples
    --------
    >>> df = pairs_frame([{"a": "x.jpg", "b": "y.jpg", "similarity": 97.5}])
    >>> df[["a", "b", "similarity"]].values.tolist()
    [['x.jpg', 'y.jpg', 97.5]]
    >>> bool(df["cosine"].isna().all())
    True
    """
    return result_frame("pairs", rows, service=service, raw=raw)


def counts_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Counts frame: one row per (image, label) with an integer ``count``.

    Examples
    --------
    >>> df = counts_frame([{"image": "shelf.jpg", "label": "429", "count": 6}])
    >>> df["count"].tolist(), str(df["count"].dtype)
    ([6], 'Int64')
    """
    df = result_frame("counts", rows, service=service, raw=raw)
    try:
        df["count"] = pd.array([None if pd.isna(v) else int(v) for v in df["count"]], dtype="Int64")
    except (TypeError, ValueError):
        raise InvalidFrame("count must be a whole number", column="count") from None
    return df


def images_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Images frame: one row per input with the model's output image in ``out_image``.

    Examples
    --------
    >>> from PIL import Image
    >>> df = images_frame([{"image": "a.jpg", "out_image": Image.new("RGB", (4, 3))}])
    >>> df["out_image"][0].size
    (4, 3)
    """
    return result_frame("images", rows, service=service, raw=raw)
