"""COCO ``segmentation`` values (polygons, boxes, RLE) to one table of runs, as pycocotools."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from vislab.errors import InvalidFrame
from vislab.masks._codec import Runs, parse_rles
from vislab.masks._ops import union_runs
from vislab.masks._polygon import box_polygons, polygon_runs


def _check_size(height, width, i=None) -> tuple[int, int]:
    try:
        h, w = int(height), int(width)
    except (TypeError, ValueError):
        h = w = -1
    if h < 0 or w < 0 or h != height or w != width:
        where = "" if i is None else f" of object {i}"
        raise InvalidFrame(
            f"image size{where} must be non-negative integers, got {height!r} x {width!r}",
            column="mask",
        )
    return h, w


def segmentation_runs(segmentations, heights, widths) -> Runs:
    """Runs of each object's segmentation (see :func:`vislab.masks.rle_from_segmentation`).

    Polygons of one object are merged (``maskUtils.merge``); RLE dicts keep their own size.
    """
    segs = list(segmentations)
    n = len(segs)
    hs = np.broadcast_to(np.asarray(heights, dtype=object), (n,))
    ws = np.broadcast_to(np.asarray(widths, dtype=object), (n,))
    polys, poly_owner, poly_h, poly_w = [], [], [], []
    rle_items, rle_owner = [], []
    for i, seg in enumerate(segs):
        if isinstance(seg, Mapping):
            rle_items.append(seg)
            rle_owner.append(i)
            continue
        if not isinstance(seg, Sequence) or isinstance(seg, (str, bytes)) or len(seg) == 0:
            raise InvalidFrame(
                f"segmentation {i} is neither a list of polygons nor an RLE dict", column="mask"
            )
        h, w = _check_size(hs[i], ws[i], i)
        parts = [np.asarray(p, dtype=float).ravel() for p in seg]
        if len(parts[0]) == 4:  # frPyObjects reads [[x, y, w, h], ...] as boxes
            if any(len(p) != 4 for p in parts):
                raise InvalidFrame(f"segmentation {i} mixes boxes and polygons", column="mask")
            parts = box_polygons(np.stack(parts))
        for p in parts:
            if len(p) < 6 or len(p) % 2:
                raise InvalidFrame(
                    f"segmentation {i} has a polygon of {len(p)} numbers; a polygon is at "
                    "least three x, y points",
                    column="mask",
                )
            if not np.isfinite(p).all():
                raise InvalidFrame(f"segmentation {i} has a non-finite coordinate", column="mask")
        polys.extend(parts)
        poly_owner.extend([i] * len(parts))
        poly_h.extend([h] * len(parts))
        poly_w.extend([w] * len(parts))
    parts, owners = [], []
    if polys:
        runs = polygon_runs(polys, np.array(poly_h), np.array(poly_w))
        objs, group = np.unique(np.array(poly_owner), return_inverse=True)
        parts.append(union_runs(runs, group, len(objs)))
        owners.append(objs)
    if rle_items:
        parts.append(parse_rles(rle_items))
        owners.append(np.array(rle_owner))
    if not parts:
        return Runs.concat([])
    # Back to the objects' order.
    position = np.empty(n, dtype=np.int64)
    position[np.concatenate(owners)] = np.arange(n)
    return Runs.concat(parts).take(position)
