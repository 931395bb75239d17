"""The PAI Model Hub parsers: wire reply -> frame rows (plain dicts, no pandas).

The decisions they make on the docs' ambiguities are listed (and argued) in
:mod:`vislab.catalogue.pai_model_hub`, which declares the endpoints that use them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import numpy as np

from vislab.box_formats import convert_boxes
from vislab.catalogue.model import as_number
from vislab.errors import InvalidImage

#: Scan order of PAI's instance-mask RLE ("F" column-major, "C" row-major): not documented.
RLE_ORDER = "F"


# -- small readers ----------------------------------------------------------------------------
def unwrap(value: Any) -> Any:
    """A scalar from a scalar or a one-element list (``[1.0]`` -> ``1.0``).

    Examples
    --------
    >>> unwrap([1.0]), unwrap(99), unwrap([]), unwrap(None)
    (1.0, 99, None, None)
    """
    if isinstance(value, (list, tuple)):
        return value[0] if len(value) == 1 else (None if not value else list(value))
    return value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def class_names(reply: Mapping[str, Any]) -> list:
    """Per-detection names from ``detection_class_names`` or ``detection_classe_names``.

    Examples
    --------
    >>> class_names({"detection_classe_names": ["text"], "detection_classes": [1]})
    ['text']
    >>> class_names({"detection_classes": [3, 7]})
    ['3', '7']
    """
    for key in ("detection_class_names", "detection_classe_names"):
        if reply.get(key) is not None:
            return [str(n) for n in _as_list(reply[key])]
    return [str(c) for c in _as_list(reply.get("detection_classes"))]


def _boxes(reply, order: str = "tlbr") -> np.ndarray:
    raw = np.asarray(reply.get("detection_boxes") or [], dtype=float).reshape(-1, 4)
    return convert_boxes(raw, order, "xywh")


def _detection_rows(reply, image, order="tlbr") -> list[dict]:
    boxes = _boxes(reply, order)
    names = class_names(reply)
    scores = _as_list(reply.get("detection_scores"))
    ids = _as_list(reply.get("detection_classes"))
    rows = []
    for i, (x, y, w, h) in enumerate(boxes):
        rows.append(
            {
                "image": image,
                "label": names[i] if i < len(names) else None,
                "score": as_number(scores[i]) if i < len(scores) else None,
                "x": float(x),
                "y": float(y),
                "w": float(w),
                "h": float(h),
                "class_id": int(ids[i]) if i < len(ids) and ids[i] is not None else None,
            }
        )
    if reply.get("local_model"):  # vislab's local answer names the model that gave it
        for row in rows:
            row["model"] = str(reply["local_model"])
    return rows


def decode_out_image(text: Any):
    """An ``out_image`` base64 string as a PIL image (checked before decoding its pixels).

    Examples
    --------
    >>> import base64, io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (5, 4), "red").save(buf, "PNG")
    >>> decode_out_image(base64.b64encode(buf.getvalue()).decode()).size
    (5, 4)
    """
    from PIL import Image

    from vislab.images import decode_pixels

    if not isinstance(text, str) or not text:
        return None
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImage("out_image is not valid base64", rule="base64") from None
    pixels, _ = decode_pixels(data)
    return Image.fromarray(pixels)


# -- parsers: reply -> frame rows (plain dicts) ---------------------------------------------------
def parse_classify(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I1: ``class_probs`` -> labels rows ranked by probability; ``class_id`` on the top class.

    Examples
    --------
    >>> reply = {"class": 3, "class_name": "coho4", "class_probs": {"coho1": 4.0e-10,
    ...          "coho2": 0.481, "coho3": 5.1e-07, "coho4": 0.519}}
    >>> [(r["rank"], r["label"], r["class_id"]) for r in parse_classify(reply, "a")][:2]
    [(1, 'coho4', 3), (2, 'coho2', None)]
    """
    probs = reply.get("class_probs")
    top_names = [str(n) for n in _as_list(reply.get("class_name"))]
    top_ids = _as_list(reply.get("class"))
    ids = dict(zip(top_names, top_ids, strict=False))
    if isinstance(probs, Mapping) and probs:
        entries = sorted(
            ((str(k), as_number(v)) for k, v in probs.items()),
            key=lambda e: -(e[1] if e[1] is not None else float("-inf")),
        )
    else:
        entries = [(name, None) for name in top_names]
    return [
        {
            "image": image,
            "rank": rank,
            "label": name,
            "score": score,
            "class_id": int(ids[name]) if ids.get(name) is not None else None,
        }
        for rank, (name, score) in enumerate(entries, 1)
    ]


def parse_scene(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I7: the top-5 ``class``/``class_name`` lists (scalars read too), scored from
    ``class_probs``.

    Examples
    --------
    >>> reply = {"class": [266, 57], "class_name": ["pier", "boardwalk"],
    ...          "class_probs": {"pier": 0.6, "boardwalk": 0.2, "ocean": 0.1}}
    >>> [(r["rank"], r["label"], r["score"], r["class_id"]) for r in parse_scene(reply, "a")]
    [(1, 'pier', 0.6, 266), (2, 'boardwalk', 0.2, 57)]
    """
    names = [str(n) for n in _as_list(reply.get("class_name"))]
    ids = _as_list(reply.get("class"))
    probs = reply.get("class_probs") if isinstance(reply.get("class_probs"), Mapping) else {}
    return [
        {
            "image": image,
            "rank": rank,
            "label": name,
            "score": as_number(probs.get(name)),
            "class_id": int(ids[rank - 1]) if rank - 1 < len(ids) else None,
        }
        for rank, name in enumerate(names, 1)
    ]


def parse_detect(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I2: ``detection_*`` -> boxes rows (``tlbr`` to ``x, y, w, h``), both name keys read.

    Examples
    --------
    >>> reply = {"detection_boxes": [[20, 10, 60, 40]], "detection_scores": [0.99],
    ...          "detection_classes": [1], "detection_classe_names": ["text"]}
    >>> r = parse_detect(reply, "a")[0]
    >>> r["label"], r["x"], r["y"], r["w"], r["h"]
    ('text', 10.0, 20.0, 30.0, 40.0)
    """
    return _detection_rows(reply, image)


def parse_instance(reply: Mapping[str, Any], image: str, *, order: str = RLE_ORDER) -> list[dict]:
    """I4: detection rows plus ``mask``, PAI's RLE (scanned in ``order``) as COCO RLE.

    Examples
    --------
    >>> from vislab.masks import rle_decode
    >>> reply = {"detection_boxes": [[0, 0, 2, 2]], "detection_scores": [0.9],
    ...          "detection_classes": [1], "detection_class_names": ["cat"],
    ...          "detection_masks": [{"size": [2, 2], "counts": [0, 1, 2, 1]}]}
    >>> rle_decode(parse_instance(reply, "a")[0]["mask"]).astype(int).tolist()
    [[1, 0], [0, 1]]
    """
    from vislab.masks import pai_rle_decode, rle_encode

    rows = _detection_rows(reply, image)
    masks = _as_list(reply.get("detection_masks"))
    for row, mask in zip(rows, masks, strict=False):
        row["mask"] = rle_encode(pai_rle_decode(mask, order=order))
    return rows


def parse_semantic(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I3: ``preds`` as the label map (one row per image); ``probs`` kept as sent.

    A local answer's ``local_model`` becomes the ``model`` column.

    Examples
    --------
    >>> row = parse_semantic({"preds": [[1, 1], [0, 0]], "probs": [[0.8, 0.8], [0.6, 0.7]]}, "a")[0]
    >>> row["label_map"].tolist(), row["probs"].shape
    ([[1, 1], [0, 0]], (2, 2))
    """
    preds = reply.get("preds")
    if preds is None:
        return []
    probs = reply.get("probs")
    row = {
        "image": image,
        "label_map": np.asarray(preds, dtype=np.int32),
        "probs": None if probs is None else np.asarray(probs, dtype=np.float32),
    }
    if reply.get("local_model"):  # vislab's local answer names the model that gave it
        row["model"] = str(reply["local_model"])
    return [row]


def parse_ocr(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I5: one row per text line; keypoints ``(y, x)`` become ``quad`` corners ``(x, y)``.

    Examples
    --------
    >>> reply = {"detection_boxes": [[5, 10, 20, 50]], "detection_scores": [0.99],
    ...          "detection_keypoints": [[[5, 10], [5, 50], [20, 50], [20, 10]]],
    ...          "detection_texts": ["This is an example"], "detection_texts_scores": [0.88]}
    >>> r = parse_ocr(reply, "a")[0]
    >>> r["text"], r["score"], r["quad"][1].tolist(), (r["x"], r["y"], r["w"], r["h"])
    ('This is an example', 0.88, [50.0, 5.0], (10.0, 5.0, 40.0, 15.0))
    """
    texts = _as_list(reply.get("detection_texts"))
    text_scores = _as_list(reply.get("detection_texts_scores"))
    det_scores = _as_list(reply.get("detection_scores"))
    keypoints = _as_list(reply.get("detection_keypoints"))
    boxes = _boxes(reply)
    rows = []
    for i, text in enumerate(texts):
        row = {
            "image": image,
            "text": str(text),
            "score": as_number(text_scores[i]) if i < len(text_scores) else None,
            "det_score": as_number(det_scores[i]) if i < len(det_scores) else None,
        }
        if i < len(keypoints) and keypoints[i] is not None:
            row["quad"] = np.asarray(keypoints[i], dtype=float).reshape(4, 2)[:, ::-1].copy()
        if i < len(boxes):
            row["x"], row["y"], row["w"], row["h"] = (float(v) for v in boxes[i])
        elif "quad" in row:
            q = row["quad"]
            (x1, y1), (x2, y2) = q.min(axis=0), q.max(axis=0)
            row["x"], row["y"], row["w"], row["h"] = float(x1), float(y1), x2 - x1, y2 - y1
        rows.append(row)
    return rows


def parse_foreground(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I6: one mask row (label ``"human"``) with ``human_ratio`` as a float.

    Examples
    --------
    >>> r = parse_foreground({"human_ratio": "0.25", "mask": [[0, 255], [0, 0]]}, "a")[0]
    >>> r["human_ratio"], r["mask"]["size"], r["w"]
    (0.25, [2, 2], 1.0)
    """
    from vislab.masks import rle_encode

    ratio = as_number(reply.get("human_ratio"))
    mask = reply.get("mask")
    if mask is None:
        return (
            [{"image": image, "label": "human", "human_ratio": ratio}] if ratio is not None else []
        )
    values = np.asarray(mask, dtype=float)
    cut = 0.5 if values.size and values.max() <= 1.0 else 128.0
    binary = values >= cut
    row = {"image": image, "label": "human", "score": None, "human_ratio": ratio}
    row["mask"] = rle_encode(binary)
    ys, xs = np.nonzero(binary)
    if len(xs):
        row.update(x=float(xs.min()), y=float(ys.min()), w=float(xs.max() - xs.min() + 1),
                   h=float(ys.max() - ys.min() + 1))  # fmt: skip
    return [row]


def inventory_box_order(reply: Mapping[str, Any]) -> str:
    """``"tlbr"`` or ``"xyxy"``: the order of the inventory model's boxes (see module doc).

    Examples
    --------
    >>> inventory_box_order({"detection_boxes": [[10, 20, 1700, 1270]],
    ...                      "ori_img_shape": [1280, 1706]})
    'xyxy'
    >>> inventory_box_order({"detection_boxes": [[10, 20, 1700, 1270]]})
    'tlbr'
    """
    shape = reply.get("ori_img_shape")
    boxes = np.asarray(reply.get("detection_boxes") or [], dtype=float).reshape(-1, 4)
    if not isinstance(shape, (list, tuple)) or len(shape) < 2 or not len(boxes):
        return "tlbr"
    height, width = float(shape[0]), float(shape[1])
    first = max(boxes[:, 0].max(), boxes[:, 2].max())
    second = max(boxes[:, 1].max(), boxes[:, 3].max())
    fits_xyxy = first <= width and second <= height
    fits_tlbr = first <= height and second <= width
    return "tlbr" if fits_tlbr and not fits_xyxy else "xyxy"


def parse_inventory_boxes(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I8's boxes (order from :func:`inventory_box_order`), as boxes rows.

    Examples
    --------
    >>> reply = {"detection_boxes": [[100, 50, 300, 450]], "ori_img_shape": [1280, 1706],
    ...          "detection_scores": [0.9], "detection_classes": [110],
    ...          "detection_class_names": ["429"]}
    >>> r = parse_inventory_boxes(reply, "shelf")[0]
    >>> r["label"], r["x"], r["y"], r["w"], r["h"]
    ('429', 100.0, 50.0, 200.0, 400.0)
    """
    return _detection_rows(reply, image, inventory_box_order(reply))


def parse_inventory(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I8: ``product_count`` -> one counts row per SKU (from the boxes when it is absent).

    Examples
    --------
    >>> rows = parse_inventory({"product_count": {"429": 1, "199": 6}}, "shelf")
    >>> [(r["label"], r["count"]) for r in rows]
    [('199', 6), ('429', 1)]
    """
    counts = reply.get("product_count")
    if not isinstance(counts, Mapping):
        counts = {}
        for name in class_names(reply):
            counts[name] = counts.get(name, 0) + 1
    extra = {"model": str(reply["local_model"])} if reply.get("local_model") else {}
    return [
        {"image": image, "label": str(label), "count": int(n), **extra}
        for label, n in sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    ]


def parse_pair(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I9 / F1 / P1: one pairs row; scalars or one-element lists; only the fields sent.

    Examples
    --------
    >>> parse_pair({"similarity": [1.0], "l2_distance": [0.0]}, "a|b")
    [{'a': 'a|b', 'similarity': 1.0, 'l2_distance': 0.0}]
    >>> parse_pair({"cosine_similarity": 0.885}, "a|b")
    [{'a': 'a|b', 'cosine': 0.885}]
    """
    row: dict[str, Any] = {"a": image}
    for wire, column in (
        ("similarity", "similarity"),
        ("l2_distance", "l2_distance"),
        ("cosine_similarity", "cosine"),
    ):
        if wire in reply:
            row[column] = as_number(unwrap(reply[wire]))
    return [row]


def parse_face_attributes(reply: Mapping[str, Any], image: str) -> list[dict]:
    """F2: one boxes row per face (``face_bbox`` read as x1, y1, x2, y2, score) with ``age``,
    ``gender`` and ``expression`` (its trailing comma removed).

    Examples
    --------
    >>> reply = {"face_age": [19.69], "face_gender": ["female"], "face_emo": ["Happiness,"],
    ...          "face_bbox": [[452.09, 61.25, 643.23, 321.39, 0.99999]]}
    >>> r = parse_face_attributes(reply, "a")[0]
    >>> r["expression"], r["age"], r["score"], round(r["w"], 2)
    ('Happiness', 19.69, 0.99999, 191.14)
    """
    boxes = _as_list(reply.get("face_bbox"))
    ages = _as_list(reply.get("face_age"))
    genders = _as_list(reply.get("face_gender"))
    emotions = _as_list(reply.get("face_emo"))
    rows = []
    for i, bbox in enumerate(boxes):
        values = [float(v) for v in _as_list(bbox)]
        x, y, w, h = convert_boxes([values[:4]], "xyxy", "xywh")[0]
        emo = emotions[i] if i < len(emotions) else None
        rows.append(
            {
                "image": image,
                "label": "face",
                "score": values[4] if len(values) > 4 else None,
                "x": float(x),
                "y": float(y),
                "w": float(w),
                "h": float(h),
                "age": as_number(ages[i]) if i < len(ages) else None,
                "gender": str(genders[i]).strip() if i < len(genders) else None,
                "expression": str(emo).strip().rstrip(",").strip() if emo is not None else None,
            }
        )
    return rows


def parse_out_image(reply: Mapping[str, Any], image: str) -> list[dict]:
    """I10 / F3: ``out_image`` (base64) as a PIL image in ``out_image``.

    Examples
    --------
    >>> parse_out_image({}, "a")
    [{'image': 'a', 'out_image': None}]
    """
    return [{"image": image, "out_image": decode_out_image(reply.get("out_image"))}]
