"""COCO JSON <-> vislab frames: bring your own annotation and result files.

* :func:`read_coco` — an instances file (``images``, ``annotations``, ``categories``) to a truth
  boxes frame (with the annotations' ``segmentation`` kept, for the segm metric).
* :func:`read_coco_results` — a results file (a list of ``{image_id, category_id, bbox,
  score}``, or a dataset dict whose annotations carry scores) to a boxes frame; a segm results
  file (``segmentation`` RLEs) to a masks frame (the boxes columns plus ``mask``).
* :func:`write_coco` / :func:`write_coco_results` — the way back, so pycocotools or any other
  COCO tool can read what vislab produced (masks as ``segmentation``: segm results files).

Images are identified by ``file_name`` (``image="file_name"``, the default) or by the numeric
``id`` (``image="id"``); classes by their category ``name``.  The id tables travel in
``df.attrs["images"]`` and ``df.attrs["categories"]`` (plain dicts of lists, so frames still
concatenate and compare) so that writing back restores the original ids, and :func:`vislab.evaluate.coco_eval` breaks score ties in image-id order exactly
as pycocotools does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from vislab.datasets._records import load_json, names_of, record_boxes, record_column
from vislab.errors import InvalidFrame
from vislab.frames import require_columns
from vislab.masks import rle_area, rle_bbox

__all__ = ["read_coco", "read_coco_results", "write_coco", "write_coco_results"]


def _load(source):
    return load_json(source) if isinstance(source, (str, Path)) else source


def _tables(gt: Mapping, image: str):
    imgs = pd.DataFrame(gt.get("images", []))
    if "id" not in imgs.columns:
        imgs = pd.DataFrame({"id": pd.Series(dtype=np.int64)})
    imgs = imgs.sort_values("id", kind="stable")
    if (
        image == "file_name"
        and "file_name" in imgs.columns
        and imgs["file_name"].notna().all()
        and not imgs["file_name"].duplicated().any()
    ):
        names = imgs["file_name"]
    elif image in ("file_name", "id"):
        names = imgs["id"]
    else:
        raise ValueError(f"image must be 'file_name' or 'id', got {image!r}")
    images = pd.DataFrame({"image_id": imgs["id"].to_numpy(), "image": names.to_numpy()})
    for col in ("width", "height"):
        if col in imgs.columns:
            images[col] = imgs[col].to_numpy()
    cats = pd.DataFrame(gt.get("categories", []))
    if "id" not in cats.columns:
        cats = pd.DataFrame({"id": pd.Series(dtype=np.int64)})
    cats = cats.sort_values("id", kind="stable")
    if "name" in cats.columns:
        names = cats["name"].astype(object)
        dup = names.duplicated(keep=False)
        # Two categories with one name would merge; keep them apart by their id.
        names = names.where(~dup, names.astype(str) + " (" + cats["id"].astype(str) + ")")
    else:
        names = cats["id"]
    categories = pd.DataFrame({"category_id": cats["id"].to_numpy(), "label": names.to_numpy()})
    if "supercategory" in cats.columns:
        categories["supercategory"] = cats["supercategory"].to_numpy()
    return images, categories


def read_coco(source, *, image: str = "file_name") -> pd.DataFrame:
    """Read a COCO instances file into a truth boxes frame.

    Parameters
    ----------
    source : str, Path or dict
        Path to the JSON file, or the parsed dict.
    image : {"file_name", "id"}
        What the ``image`` column holds (file names fall back to ids when missing or not
        unique).

    Returns
    -------
    DataFrame
        ``image, label, x, y, w, h, iscrowd, area, id, image_id, category_id`` in file order,
        plus ``segmentation`` (each annotation's polygons or RLE, untouched; ``None`` where
        absent) when any annotation has one.  ``attrs["images"]``: columns ``image_id, image, width, height`` (a dict of lists) of
        every image, including those without objects, in id order;
        ``attrs["categories"]``: ``category_id, label``.

    Examples
    --------
    >>> gt = {"images": [{"id": 7, "file_name": "a.jpg", "width": 64, "height": 48}],
    ...       "categories": [{"id": 3, "name": "cat"}],
    ...       "annotations": [{"id": 1, "image_id": 7, "category_id": 3,
    ...                        "bbox": [1, 2, 30, 20], "area": 500, "iscrowd": 0}]}
    >>> read_coco(gt)[["image", "label", "x", "w", "area"]].values.tolist()
    [['a.jpg', 'cat', 1.0, 30.0, 500.0]]
    """
    gt = _load(source)
    images, categories = _tables(gt, image)
    anns = gt.get("annotations", [])
    bbox = record_boxes(anns, what="annotation")
    img_id = record_column(anns, "image_id", what="annotation")
    cat_id = record_column(anns, "category_id", what="annotation")
    img_names = names_of(img_id, images["image_id"], images["image"])
    labels = names_of(cat_id, categories["category_id"], categories["label"])
    df = pd.DataFrame(
        {
            "image": img_names,
            "label": labels,
            "x": bbox[:, 0],
            "y": bbox[:, 1],
            "w": bbox[:, 2],
            "h": bbox[:, 3],
            "iscrowd": np.array([int(a.get("iscrowd", 0) or 0) for a in anns], dtype=np.int64),
            "area": np.array([a.get("area", np.nan) for a in anns], dtype=float),
            "id": np.array([a.get("id", i + 1) for i, a in enumerate(anns)]),
            "image_id": img_id,
            "category_id": cat_id,
        }
    )
    if any("segmentation" in a for a in anns):
        df["segmentation"] = pd.Series([a.get("segmentation") for a in anns], dtype=object)
    df.attrs["images"] = _as_attr(images)
    df.attrs["categories"] = _as_attr(categories)
    df.attrs["kind"] = "truth_boxes"
    return df


def read_coco_results(source, gt=None, *, image: str = "file_name") -> pd.DataFrame:
    """Read COCO detection results into a boxes frame.

    Parameters
    ----------
    source : str, Path, list or dict
        A results file (list of ``{image_id, category_id, bbox, score}``), or a dataset dict
        whose ``annotations`` carry a ``score``.
    gt : DataFrame, str, Path or dict, optional
        The truth (a frame from :func:`read_coco`, or an instances file/dict) whose id tables
        turn ids into the same ``image`` and ``label`` values.  Without it, ``image`` and
        ``label`` hold the numeric ids.
    image : {"file_name", "id"}
        As in :func:`read_coco` (when ``gt`` is a file or dict).

    Returns
    -------
    DataFrame
        Boxes frame ``image, label, score, x, y, w, h, error_code, error_msg`` in file order;
        for segm results (records with ``segmentation``) a masks frame: ``mask`` (the RLE
        dicts, checked) after the boxes columns, and boxes from the masks where a record has
        no ``bbox``.  As in pycocotools' ``loadRes``, a file whose first record has a ``bbox``
        measures detections by their box for the size ranges: such a frame gets an ``area``
        column (``w * h``) that ``coco_eval(iou_type="segm")`` uses instead of mask areas.

    Examples
    --------
    >>> res = [{"image_id": 7, "category_id": 3, "bbox": [1, 2, 30, 20], "score": 0.8}]
    >>> df = read_coco_results(res)
    >>> df[["image", "label"]].values.tolist(), df[["score", "w"]].values.tolist()
    ([[7, 3]], [[0.8, 30.0]])
    """
    res = _load(source)
    if isinstance(res, Mapping):
        res = res.get("annotations", [])
    n = len(res)
    has_masks = n > 0 and "segmentation" in res[0]
    masks = None
    if has_masks:
        masks = [r.get("segmentation") for r in res]
        for i, m in enumerate(masks):
            if not isinstance(m, Mapping):
                raise InvalidFrame(
                    f"result {i}: a segm result's 'segmentation' must be an RLE dict "
                    f"{{'size': [h, w], 'counts': ...}}, got {type(m).__name__}",
                    column="mask",
                )
        masks = [_text_counts(m) for m in masks]
    box_area = None
    if has_masks and not ("bbox" in res[0] and res[0]["bbox"] != []):
        # pycocotools' loadRes, segm branch: a record's box is its own or its mask's.
        bbox = rle_bbox(masks)
        for i, r in enumerate(res):
            if r.get("bbox"):
                bbox[i] = r["bbox"]
    else:
        bbox = record_boxes(res, what="result")
        if has_masks:
            # loadRes decides on the first record: with a box it takes the bbox branch, whose
            # area (the size ranges' measure) is w * h, not the mask's.  Kept as ``area``.
            box_area = bbox[:, 2] * bbox[:, 3]
    img_id = record_column(res, "image_id", what="result")
    cat_id = record_column(res, "category_id", what="result")
    img_names, labels = img_id, cat_id
    images = categories = None
    if gt is not None:
        if isinstance(gt, pd.DataFrame):
            images = _as_table(gt.attrs.get("images"))
            categories = _as_table(gt.attrs.get("categories"))
            if images is None or categories is None:
                raise InvalidFrame(
                    "gt frame lacks attrs['images'] / attrs['categories']; read it with read_coco()"
                )
        else:
            images, categories = _tables(_load(gt), image)
        img_names = names_of(img_id, images["image_id"], images["image"])
        labels = names_of(cat_id, categories["category_id"], categories["label"])
    df = pd.DataFrame(
        {
            "image": img_names,
            "label": labels,
            "score": record_column(res, "score", default=np.nan, dtype=float, what="result"),
            "x": bbox[:, 0],
            "y": bbox[:, 1],
            "w": bbox[:, 2],
            "h": bbox[:, 3],
            "error_code": None,
            "error_msg": None,
        }
    )
    df.attrs["kind"] = "boxes"
    if masks is not None:
        rle_area(masks)  # refuses a malformed RLE now, naming it, rather than mid-evaluation
        df.insert(7, "mask", pd.Series(masks, dtype=object))
        if box_area is not None:
            df.insert(8, "area", box_area)
        df.attrs["kind"] = "masks"
    df.attrs["service"] = "coco_results"
    if images is not None:
        df.attrs["images"] = _as_attr(images)
        df.attrs["categories"] = _as_attr(categories)
    return df


def _text_counts(rle: Mapping) -> dict:
    """An RLE dict with ``str`` counts (pycocotools' ``bytes`` are not JSON)."""
    counts = rle.get("counts")
    if isinstance(counts, (bytes, bytearray)):
        return {**rle, "counts": bytes(counts).decode("ascii")}
    return dict(rle)


def _as_attr(table: pd.DataFrame) -> dict:
    # DataFrames inside attrs break pd.concat (it compares attrs with ==); lists do not.
    return {c: [_to_python(v) for v in table[c].tolist()] for c in table.columns}


def _as_table(value) -> pd.DataFrame | None:
    if value is None:
        return None
    return value if isinstance(value, pd.DataFrame) else pd.DataFrame(dict(value))


def _id_tables(df: pd.DataFrame, images=None, categories=None):
    """Image and category id tables for writing: from attrs, id columns, or numbered 1..n."""
    img_tab = _as_table(images if images is not None else df.attrs.get("images"))
    cat_tab = _as_table(categories if categories is not None else df.attrs.get("categories"))
    if img_tab is not None and "image_id" not in img_tab:
        # A list of images without ids (e.g. from read_voc_txt): number it, keep its order.
        listed = list(img_tab["image"])
        names = listed + [v for v in _sorted_unique(df["image"]) if v not in set(listed)]
        img_tab = pd.DataFrame({"image_id": range(1, len(names) + 1), "image": names})
    if img_tab is None:
        if "image_id" in df.columns:
            img_tab = df[["image_id", "image"]].drop_duplicates("image")
        else:
            names = _sorted_unique(df["image"])
            ids = (
                names
                if all(isinstance(v, (int, np.integer)) for v in names)
                else range(1, len(names) + 1)
            )
            img_tab = pd.DataFrame({"image_id": list(ids), "image": names})
    if cat_tab is None:
        if "category_id" in df.columns:
            cat_tab = df[["category_id", "label"]].drop_duplicates("label")
        else:
            names = _sorted_unique(df["label"])
            cat_tab = pd.DataFrame({"category_id": range(1, len(names) + 1), "label": names})
    return pd.DataFrame(img_tab), pd.DataFrame(cat_tab)


def _sorted_unique(values) -> list:
    uniq = list(pd.unique(pd.Series(values, dtype=object)))
    try:
        return sorted(uniq)
    except TypeError:
        return uniq


def _to_python(v):
    return v.item() if isinstance(v, np.generic) else v


def write_coco(truth: pd.DataFrame, path=None, *, images=None, categories=None) -> dict:
    """Write a truth boxes frame as a COCO instances dict (and file, if ``path`` is given).

    Parameters
    ----------
    truth : DataFrame
        ``image, label, x, y, w, h`` (+ ``iscrowd``, ``area``, ``id``, and ``segmentation``
        or ``mask``, written as each annotation's ``segmentation``).
    path : str or Path, optional
        Where to write the JSON.
    images, categories : DataFrame, optional
        Id tables (``image_id, image[, width, height]`` and ``category_id, label``); default
        ``truth.attrs`` (as set by :func:`read_coco`), else ids 1..n in sorted order.

    Returns
    -------
    dict
        ``{"images": [...], "annotations": [...], "categories": [...]}``.

    Examples
    --------
    >>> t = pd.DataFrame({"image": ["a.jpg"], "label": ["cat"], "x": [1.0], "y": [2.0],
    ...                   "w": [30.0], "h": [20.0]})
    >>> d = write_coco(t)
    >>> d["annotations"][0]["bbox"], d["annotations"][0]["area"], d["categories"]
    ([1.0, 2.0, 30.0, 20.0], 600.0, [{'id': 1, 'name': 'cat'}])
    """
    require_columns(truth, ["image", "label", "x", "y", "w", "h"], name="truth")
    img_tab, cat_tab = _id_tables(truth, images, categories)
    img_id = pd.Series(img_tab["image_id"].to_numpy(), index=img_tab["image"].to_numpy())
    cat_id = pd.Series(cat_tab["category_id"].to_numpy(), index=cat_tab["label"].to_numpy())
    missing = set(truth["image"]) - set(img_id.index)
    if missing:
        raise InvalidFrame(f"images without an id: {sorted(map(str, missing))[:5]}", column="image")
    out_images = []
    for row in img_tab.to_dict("records"):
        entry = {"id": _to_python(row["image_id"])}
        if not isinstance(row["image"], (int, np.integer)):
            entry["file_name"] = str(row["image"])
        for key in ("width", "height"):
            if key in row and pd.notna(row[key]):
                entry[key] = int(row[key])
        out_images.append(entry)
    boxes = truth[["x", "y", "w", "h"]].to_numpy(dtype=float)
    areas = (
        pd.to_numeric(truth["area"]).to_numpy(dtype=float)
        if "area" in truth.columns
        else boxes[:, 2] * boxes[:, 3]
    )
    areas = np.where(np.isnan(areas), boxes[:, 2] * boxes[:, 3], areas)
    crowd = (
        truth["iscrowd"].fillna(0).astype(int).to_numpy()
        if "iscrowd" in truth.columns
        else np.zeros(len(truth), dtype=int)
    )
    ids = truth["id"].to_numpy() if "id" in truth.columns else np.arange(1, len(truth) + 1)
    anns = [
        {
            "id": _to_python(ids[i]),
            "image_id": _to_python(img_id[img]),
            "category_id": _to_python(cat_id[lab]),
            "bbox": [float(v) for v in boxes[i]],
            "area": float(areas[i]),
            "iscrowd": int(crowd[i]),
        }
        for i, (img, lab) in enumerate(zip(truth["image"], truth["label"], strict=True))
    ]
    # Masks go back as COCO's segmentation: as read (polygons or RLE), or the mask column.
    seg_col = next((c for c in ("segmentation", "mask") if c in truth.columns), None)
    if seg_col is not None:
        for ann, seg in zip(anns, truth[seg_col], strict=True):
            if isinstance(seg, (list, Mapping)):
                ann["segmentation"] = seg
    out_cats = [
        {"id": _to_python(r["category_id"]), "name": _to_python(r["label"])}
        | ({"supercategory": r["supercategory"]} if pd.notna(r.get("supercategory")) else {})
        for r in cat_tab.to_dict("records")
    ]
    out = {"images": out_images, "annotations": anns, "categories": out_cats}
    if path is not None:
        Path(path).write_text(json.dumps(out), encoding="utf-8")
    return out


def write_coco_results(pred: pd.DataFrame, path=None, *, gt=None) -> list:
    """Write a boxes frame as a COCO results list (and file, if ``path`` is given).

    Failed-image rows (``error_code`` set) have no boxes and are not written.  A masks frame
    writes COCO's segm results: each record has its ``segmentation`` (the RLE) and no
    ``bbox`` (COCO tools then take box and area from the mask, as vislab does), unless the
    frame has an ``area`` column (read from a results file with boxes, which keeps them).

    Parameters
    ----------
    pred : DataFrame
        Boxes frame ``image, label, score, x, y, w, h`` (+ ``mask`` for a masks frame).
    path : str or Path, optional
    gt : DataFrame or dict, optional
        Truth frame from :func:`read_coco` (its ``attrs`` id tables) or a COCO dict from
        :func:`write_coco`, used to turn ``image`` / ``label`` back into ids.  Default: the
        frame's own ``attrs``, else numeric image/label values are taken as ids.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> p = pd.DataFrame({"image": [7], "label": [3], "score": [0.8], "x": [1.0], "y": [2.0],
    ...                   "w": [30.0], "h": [20.0]})
    >>> write_coco_results(p)
    [{'image_id': 7, 'category_id': 3, 'bbox': [1.0, 2.0, 30.0, 20.0], 'score': 0.8}]
    """
    require_columns(pred, ["image", "label", "score", "x", "y", "w", "h"], name="pred")
    if "error_code" in pred.columns:
        pred = pred[pred["error_code"].isna()]
    if isinstance(gt, Mapping):
        images = pd.DataFrame(
            {
                "image_id": [i["id"] for i in gt["images"]],
                "image": [i.get("file_name", i["id"]) for i in gt["images"]],
            }
        )
        cats = pd.DataFrame(
            {
                "category_id": [c["id"] for c in gt["categories"]],
                "label": [c.get("name", c["id"]) for c in gt["categories"]],
            }
        )
    elif isinstance(gt, pd.DataFrame):
        images, cats = _as_table(gt.attrs.get("images")), _as_table(gt.attrs.get("categories"))
    else:
        images = _as_table(pred.attrs.get("images"))
        cats = _as_table(pred.attrs.get("categories"))
    img_ids = pred["image"].to_numpy()
    cat_ids = pred["label"].to_numpy()
    if images is not None:
        m = pd.Series(images["image_id"].to_numpy(), index=images["image"].to_numpy())
        img_ids = m.reindex(img_ids).to_numpy()
    if cats is not None:
        m = pd.Series(cats["category_id"].to_numpy(), index=cats["label"].to_numpy())
        cat_ids = m.reindex(cat_ids).to_numpy()
    if len(pred) and (pd.isna(img_ids).any() or pd.isna(cat_ids).any()):
        raise InvalidFrame(
            "some images or labels have no COCO id; pass gt= with id tables",
            column="image" if pd.isna(img_ids).any() else "label",
        )
    boxes = pred[["x", "y", "w", "h"]].to_numpy(dtype=float)
    scores = pd.to_numeric(pred["score"]).to_numpy(dtype=float)
    out = [
        {
            "image_id": _to_python(img_ids[i]),
            "category_id": _to_python(cat_ids[i]),
            "bbox": [float(v) for v in boxes[i]],
            "score": float(scores[i]),
        }
        for i in range(len(pred))
    ]
    if "mask" in pred.columns:  # a masks frame: COCO's segm results
        # Without a box, COCO tools take box and area from the mask, as vislab does; a frame
        # read from a file with boxes (its ``area`` column) keeps them, so it reads back alike.
        keep_box = "area" in pred.columns
        for rec, mask in zip(out, pred["mask"], strict=True):
            rec["segmentation"] = _text_counts(mask)
            if not keep_box:
                del rec["bbox"]
    if path is not None:
        Path(path).write_text(json.dumps(out), encoding="utf-8")
    return out
