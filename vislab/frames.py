"""The canonical DataFrame schemas and their constructors.

Every result frame keeps **every input image**: an image that failed has exactly one row with
``error_code`` / ``error_msg`` / ``error_rule`` filled and the value columns empty (NaN).
``error_code`` is a nullable integer column (``<NA>`` on successful rows, whose ``error_msg``
and ``error_rule`` are ``None``).

The untouched wire JSON of each image is kept in ``df.attrs["raw"]``, a dict mapping the
image identifier to the reply (one way, documented here); ``df.attrs["service"]`` names the
service and endpoint that produced the frame.

Schemas (core columns first; service-specific extras follow them):

==========  =================  ==============================================================
frame       one row per        core columns
==========  =================  ==============================================================
labels      (image, label)     image, rank, label, score
boxes       (image, object)    image, label, score, x, y, w, h (pixels, top-left origin)
masks       (image, instance)  the boxes columns + mask (a COCO RLE dict, see below)
semantic    image              image, label_map (2-d integer array: a class id per pixel)
text_lines  (image, line)      image, text, score, x, y, w, h, quad (4 x 2 corners, x then y)
pairs       (a, b)             a, b, similarity, l2_distance, cosine (those the service gives)
counts      (image, label)     image, label, count
images      image              image, out_image (a PIL image)
matches     (query, hit)       query, rank, cont_sign, brief, score, tags
gallery     stored image       image, cont_sign, brief, tags, error_code, error_msg
truth       image / object     image, label  (+ x, y, w, h, optional iscrowd, area for boxes)
==========  =================  ==============================================================

A ``mask`` is COCO's RLE ``{"size": [height, width], "counts": str}`` (column-major runs,
compressed string; :mod:`vislab.masks` reads and writes it, pycocotools reads it as is); its
box columns are the mask's box when a row gives none.  A semantic map keeps the whole label
map per image.  Their constructors, which check the masks, live in :mod:`vislab.mask_frames`
(``masks_frame``, ``semantic_frame``, ``label_map_masks``: one mask per class present).

Box conversions between xywh, xyxy, centre-xywh, PAI's ``[top, left, bottom, right]`` and
normalised coordinates are one function, :func:`convert_boxes` (written in
:mod:`vislab.box_formats`, importable from here).

The text lines, pairs, counts and images frames (PAI's OCR, similarity, inventory counts and
image-to-image models) are built by :mod:`vislab.pai_frames`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from vislab.box_formats import BOX_FORMATS, convert_boxes
from vislab.errors import InvalidFrame

__all__ = [
    "LABELS",
    "BOXES",
    "MATCHES",
    "GALLERY",
    "TRUTH_LABELS",
    "TRUTH_BOXES",
    "ERROR_COLUMNS",
    "result_frame",
    "labels_frame",
    "boxes_frame",
    "MASKS",
    "SEMANTIC",
    "TEXT_LINES",
    "PAIRS",
    "COUNTS",
    "IMAGES",
    "matches_frame",
    "gallery_frame",
    "truth_labels",
    "truth_boxes",
    "require_columns",
    "convert_boxes",
    "BOX_FORMATS",
    "ok_rows",
    "error_rows",
]

LABELS = ("image", "rank", "label", "score")
BOXES = ("image", "label", "score", "x", "y", "w", "h")
MATCHES = ("query", "rank", "cont_sign", "brief", "score", "tags")
GALLERY = ("image", "cont_sign", "brief", "tags")
MASKS = BOXES + ("mask",)
SEMANTIC = ("image", "label_map")
TEXT_LINES = ("image", "text", "score", "x", "y", "w", "h", "quad")
PAIRS = ("a", "b", "similarity", "l2_distance", "cosine")
COUNTS = ("image", "label", "count")
IMAGES = ("image", "out_image")
TRUTH_LABELS = ("image", "label")
TRUTH_BOXES = ("image", "label", "x", "y", "w", "h")
#: Every result frame ends its core columns with these: the code (nullable integer: the
#: service's, or vislab's 990xxx code for a failure only this machine can find), the message,
#: and the broken rule (see :mod:`vislab.services.failures`).
ERROR_COLUMNS = ("error_code", "error_msg", "error_rule")

_KIND_COLUMNS = {
    "labels": LABELS,
    "boxes": BOXES,
    "matches": MATCHES,
    "gallery": GALLERY,
    "masks": MASKS,
    "semantic": SEMANTIC,
    "text_lines": TEXT_LINES,
    "pairs": PAIRS,
    "counts": COUNTS,
    "images": IMAGES,
}
# The column naming the input of each row: "query" for search hits, "image" otherwise.
_KEY_COLUMN = {
    "labels": "image",
    "boxes": "image",
    "matches": "query",
    "gallery": "image",
    "masks": "image",
    "semantic": "image",
    "text_lines": "image",
    "pairs": "a",
    "counts": "image",
    "images": "image",
}
_NUMERIC = {"rank", "score", "x", "y", "w", "h", "similarity", "l2_distance", "cosine"}


def result_frame(
    kind: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    service: str | None = None,
    raw: Mapping[Any, Any] | None = None,
) -> pd.DataFrame:
    """Build a result frame of ``kind`` from row dicts, core columns first.

    Parameters
    ----------
    kind : str
        One of ``"labels"``, ``"boxes"``, ``"matches"``, ``"gallery"``, ``"masks"``,
        ``"semantic"``, ``"text_lines"``, ``"pairs"``, ``"counts"``, ``"images"``.
    rows : iterable of dict
        One dict per row.  A failed image is a row with ``error_code`` and ``error_msg``
        and no value columns.  Extra keys become extra columns after the core ones.
    service : str, optional
        Stored in ``df.attrs["service"]``.
    raw : mapping, optional
        Image identifier -> untouched wire JSON, stored in ``df.attrs["raw"]``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> df = result_frame("labels", [
    ...     {"image": "a.jpg", "rank": 1, "label": "cat", "score": 0.9},
    ...     {"image": "b.jpg", "error_code": 216201, "error_msg": "image format error",
    ...      "error_rule": "format"},
    ... ], service="baidu.advanced_general")
    >>> list(df.columns)
    ['image', 'rank', 'label', 'score', 'error_code', 'error_msg', 'error_rule']
    >>> df["error_code"].tolist()
    [<NA>, 216201]
    """
    if kind not in _KIND_COLUMNS:
        raise ValueError(f"unknown frame kind {kind!r}; expected one of {sorted(_KIND_COLUMNS)}")
    core = list(_KIND_COLUMNS[kind])
    rows = [dict(r) for r in rows]
    extras: list[str] = []
    for r in rows:
        for key in r:
            if key not in core and key not in ERROR_COLUMNS and key not in extras:
                extras.append(key)
    columns = core + [c for c in ERROR_COLUMNS if c not in core] + extras
    df = pd.DataFrame(rows, columns=columns)
    for col in core:
        if col in _NUMERIC:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    if "rank" in df.columns:
        df["rank"] = df["rank"].astype("Int64")
    # One dtype for codes, whatever failed: a nullable integer (never floats, never strings).
    df["error_code"] = pd.array([r.get("error_code") for r in rows], dtype="Int64")
    for col in ("error_msg", "error_rule"):
        df[col] = pd.Series([r.get(col) for r in rows], index=df.index, dtype=object)
    df.attrs["kind"] = kind
    if service is not None:
        df.attrs["service"] = service
    df.attrs["raw"] = dict(raw) if raw is not None else {}
    return df


def labels_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Labels frame: one row per (image, label).  See :func:`result_frame`.

    Parameters
    ----------
    rows : iterable of dict
        One dict per row (``image, rank, label, score``); a failed image is a row with
        ``error_code``, ``error_msg`` (and ``error_rule``) and no value columns.  Extra keys become
        extra columns after the core ones.
    service : str, optional
        Stored in ``df.attrs["service"]`` (e.g. ``"baidu.image_classify.advanced_general"``).
    raw : mapping, optional
        Image identifier -> untouched wire JSON, stored in ``df.attrs["raw"]``.

    Returns
    -------
    DataFrame
        Columns ``image, rank, label, score, error_code, error_msg, error_rule``, then
        the extras; ``attrs["kind"] == "labels"``.

    Examples
    --------
    >>> labels_frame([{"image": "a.jpg", "rank": 1, "label": "cat", "score": 0.9}]).shape
    (1, 7)
    """
    return result_frame("labels", rows, service=service, raw=raw)


def boxes_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Boxes frame: one row per (image, object), pixel ``x, y, w, h``.  See :func:`result_frame`.

    Parameters
    ----------
    rows : iterable of dict
        One dict per row (``image, label, score, x, y, w, h``; pixels, top-left origin); a failed
        image is a row with ``error_code``, ``error_msg`` (and ``error_rule``) and no value columns.
        Extra keys become extra columns after the core ones.
    service : str, optional
        Stored in ``df.attrs["service"]`` (e.g. ``"baidu.image_classify.multi_object_detect"``).
    raw : mapping, optional
        Image identifier -> untouched wire JSON, stored in ``df.attrs["raw"]``.

    Returns
    -------
    DataFrame
        Columns ``image, label, score, x, y, w, h, error_code, error_msg, error_rule``,
        then the extras; ``attrs["kind"] == "boxes"``.

    Examples
    --------
    >>> boxes_frame([{"image": "a.jpg", "label": "cat", "score": 0.8,
    ...               "x": 10, "y": 20, "w": 30, "h": 40}])["w"].tolist()
    [30]
    """
    return result_frame("boxes", rows, service=service, raw=raw)


def matches_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Matches frame: one row per (query, hit).  See :func:`result_frame`.

    Parameters
    ----------
    rows : iterable of dict
        One dict per row (``query, rank, cont_sign, brief, score, tags``); a failed query is a row
        with ``error_code``, ``error_msg`` (and ``error_rule``) and no value columns.  Extra keys
        become extra columns after the core ones.
    service : str, optional
        Stored in ``df.attrs["service"]`` (e.g. ``"baidu.image_search.similar_search"``).
    raw : mapping, optional
        Query identifier -> untouched wire JSON, stored in ``df.attrs["raw"]``.

    Returns
    -------
    DataFrame
        Columns ``query, rank, cont_sign, brief, score, tags, error_code, error_msg,
        error_rule``, then the extras; ``attrs["kind"] == "matches"``.

    Examples
    --------
    >>> matches_frame([{"query": "q.jpg", "rank": 1, "cont_sign": "1,2",
    ...                 "brief": {"id": 1}, "score": 0.97, "tags": [1]}])["cont_sign"][0]
    '1,2'
    """
    return result_frame("matches", rows, service=service, raw=raw)


def gallery_frame(rows, *, service=None, raw=None) -> pd.DataFrame:
    """Gallery frame: one row per stored (or refused) image.  See :func:`result_frame`.

    Parameters
    ----------
    rows : iterable of dict
        One dict per row (``image, cont_sign, brief, tags``); a failed image (refused by the
        gallery) is a row with ``error_code``, ``error_msg`` (and ``error_rule``) and no value
        columns.  Extra keys become extra columns after the core ones.
    service : str, optional
        Stored in ``df.attrs["service"]`` (e.g. ``"baidu.image_search.similar_add"``).
    raw : mapping, optional
        Image identifier -> untouched wire JSON, stored in ``df.attrs["raw"]``.

    Returns
    -------
    DataFrame
        Columns ``image, cont_sign, brief, tags, error_code, error_msg, error_rule``, then
        the extras; ``attrs["kind"] == "gallery"``.

    Examples
    --------
    >>> gallery_frame([{"image": "a.jpg", "cont_sign": "1,2", "brief": "{}", "tags": [1]}]).shape
    (1, 7)
    """
    return result_frame("gallery", rows, service=service, raw=raw)


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of a result frame that carry results (no error).

    Parameters
    ----------
    df : DataFrame
        Any result frame (labels, boxes, matches, gallery).

    Returns
    -------
    DataFrame
        The rows whose ``error_code`` is missing (a view, index kept); ``df`` itself when it
        has no ``error_code`` column.

    Examples
    --------
    >>> df = labels_frame([{"image": "a", "rank": 1, "label": "x", "score": 1.0},
    ...                    {"image": "b", "error_code": 1, "error_msg": "boom"}])
    >>> ok_rows(df)["image"].tolist()
    ['a']
    """
    if "error_code" not in df.columns:
        return df
    return df[df["error_code"].isna()]


def error_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of a result frame that record a failed image.

    Parameters
    ----------
    df : DataFrame
        Any result frame (labels, boxes, matches, gallery).

    Returns
    -------
    DataFrame
        The rows whose ``error_code`` is set (index kept); no rows when ``df`` has no
        ``error_code`` column.

    Examples
    --------
    >>> df = labels_frame([{"image": "b", "error_code": 1, "error_msg": "boom"}])
    >>> error_rows(df)["error_msg"].tolist()
    ['boom']
    """
    if "error_code" not in df.columns:
        return df.iloc[0:0]
    return df[df["error_code"].notna()]


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, name: str = "frame") -> None:
    """Raise :class:`~vislab.errors.InvalidFrame` naming the first missing column.

    Parameters
    ----------
    df : DataFrame
        The frame to check (anything else raises ``InvalidFrame`` too).
    columns : iterable of str
        Columns it must have, checked in order.
    name : str, default "frame"
        What the frame is, for the message (``"truth"``, ``"pred"`` ...).

    Examples
    --------
    >>> require_columns(pd.DataFrame({"image": []}), ["image", "label"], name="truth")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidFrame: truth frame lacks column 'label' (has: image)
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidFrame(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    for col in columns:
        if col not in df.columns:
            have = ", ".join(map(str, df.columns)) or "no columns"
            raise InvalidFrame(f"{name} frame lacks column {col!r} (has: {have})", column=col)


def _check_box_values(df: pd.DataFrame, name: str) -> None:
    for col in ("x", "y", "w", "h"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        if bad.any():
            raise InvalidFrame(f"{name} column {col!r} holds non-numeric values", column=col)
        if values.isna().any():
            raise InvalidFrame(
                f"{name} column {col!r} holds NaN at rows {list(df.index[values.isna()][:5])}",
                column=col,
            )
        if col in ("w", "h") and (values < 0).any():
            raise InvalidFrame(
                f"{name} column {col!r} holds negative sizes at rows "
                f"{list(df.index[values < 0][:5])}",
                column=col,
            )


def truth_labels(data, *, image: str = "image", label: str = "label") -> pd.DataFrame:
    """Ground truth for classification: one row per image with its true label.

    Parameters
    ----------
    data : DataFrame or mapping
        A frame with ``image`` and ``label`` columns (names configurable), or a mapping
        image identifier -> label.
    image, label : str
        Column names in ``data``.

    Returns
    -------
    DataFrame with columns ``image``, ``label``.

    Examples
    --------
    >>> truth_labels({"a.jpg": "cat", "b.jpg": "dog"})
       image label
    0  a.jpg   cat
    1  b.jpg   dog
    """
    if isinstance(data, Mapping):
        df = pd.DataFrame({"image": list(data.keys()), "label": list(data.values())})
    else:
        require_columns(data, [image, label], name="truth")
        df = data.rename(columns={image: "image", label: "label"})
    dup = df["image"].duplicated()
    if dup.any():
        raise InvalidFrame(
            f"truth frame has more than one label for images {df['image'][dup].unique()[:5].tolist()}",
            column="image",
        )
    return df.reset_index(drop=True)


def truth_boxes(data: pd.DataFrame, *, fmt: str = "xywh", image_size=None) -> pd.DataFrame:
    """Ground truth for detection: one row per object, pixel ``x, y, w, h``.

    Parameters
    ----------
    data : DataFrame
        Columns ``image``, ``label`` and the box columns of ``fmt`` (see :func:`convert_boxes`);
        optional ``iscrowd``, ``area`` and ``id`` are kept.
    fmt : str
        Box format of ``data``.
    image_size : tuple or DataFrame, optional
        Needed for normalised formats.

    Returns
    -------
    DataFrame with ``image, label, x, y, w, h`` first.

    Examples
    --------
    >>> t = truth_boxes(pd.DataFrame({"image": ["a"], "label": ["cat"], "x1": [10], "y1": [20],
    ...                               "x2": [50], "y2": [60]}), fmt="xyxy")
    >>> t[["x", "y", "w", "h"]].values.tolist()
    [[10.0, 20.0, 40.0, 40.0]]
    """
    src_cols = BOX_FORMATS[fmt]
    require_columns(data, ["image", "label", *src_cols], name="truth")
    df = data.copy()
    if fmt != "xywh":
        xywh = convert_boxes(df[list(src_cols)].to_numpy(float), fmt, "xywh", image_size=image_size)
        df = df.drop(columns=list(src_cols))
        df[["x", "y", "w", "h"]] = xywh
    _check_box_values(df, "truth")
    if "id" in df.columns and df["id"].duplicated().any():
        raise InvalidFrame("truth frame has duplicate ids", column="id")
    ordered = list(TRUTH_BOXES) + [c for c in df.columns if c not in TRUTH_BOXES]
    return df[ordered].reset_index(drop=True)
