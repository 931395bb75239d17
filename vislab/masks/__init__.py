"""Run-length encoded masks, COCO compatible and numpy only (no pandas, no pycocotools).

A mask travels as COCO's RLE dict ``{"size": [height, width], "counts": ...}``:

* **counts** are run lengths of the mask read **column by column** (Fortran order), starting
  with a run of background (0 when the first pixel is set): COCO's *uncompressed* RLE when
  ``counts`` is a list of integers, its *compressed* form when it is a string (pycocotools'
  ``maskApi.c`` LEB128-like code: 6-bit characters from ``'0'``, a continuation bit, a sign
  bit, and from the fourth count on a difference to the count two places before).
  Functions here accept both and return the compressed string form (what COCO results files
  and ``pycocotools.mask.encode`` hold, as ``str`` instead of ``bytes``).
* Polygons (COCO truth) are rasterised exactly as ``pycocotools.mask.frPyObjects`` does, and
  an object of several polygons is their union (``pycocotools.mask.merge``).
* Area, bounding box and IoU equal ``pycocotools.mask.area`` / ``toBbox`` / ``iou`` number for
  number; a crowd region's IoU divides by the detection's area.

PAI's instance segmentation (spec I4) sends ``{"size": [h, w], "counts": [...]}`` with counts
alternating False / True runs from a False run — COCO's uncompressed rule — but does not say
the scan order.  :func:`pai_rle_decode` and :func:`pai_rle_encode` take it as ``order=``:
``"F"`` (column-major, COCO's and so the default, since PAI's model is Mask R-CNN trained on
COCO) or ``"C"`` (row-major).

Malformed input (counts that do not sum to ``height * width``, negative runs, characters
outside COCO's alphabet, a mask that is not an RLE dict) raises
:class:`vislab.errors.InvalidFrame`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from vislab.errors import InvalidFrame
from vislab.masks._codec import Runs, parse_rles, runs_to_dicts
from vislab.masks._ops import MaskTable, runs_area, runs_bbox, table_iou, union_runs
from vislab.masks._segmentation import segmentation_runs

__all__ = [
    "rle_encode",
    "rle_decode",
    "rle_counts",
    "rle_from_polygons",
    "rle_from_segmentation",
    "rle_area",
    "rle_bbox",
    "rle_iou",
    "rle_union",
    "pai_rle_decode",
    "pai_rle_encode",
    "check_masks",
]

_ORDERS = ("F", "C")


def _as_list(rles) -> tuple[list, bool]:
    if isinstance(rles, Mapping):
        return [rles], True
    return list(rles), False


def _runs_of_bitmasks(masks: np.ndarray, order: str = "F") -> Runs:
    masks = np.asarray(masks)
    n, h, w = masks.shape
    flat = (
        masks.transpose(0, 2, 1).reshape(n, h * w) if order == "F" else masks.reshape(n, h * w)
    ).astype(bool)
    # Run boundaries: where a pixel differs from the one before, plus the start of a mask
    # whose first pixel is set (its background run is empty) and each mask's end.
    change = np.zeros((n, h * w + 1), dtype=bool)
    change[:, 1:-1] = flat[:, 1:] != flat[:, :-1]
    if h * w:
        change[:, 0] = flat[:, 0]
    change[:, -1] = True
    owner, pos = np.nonzero(change)
    prev = np.append(0, pos[:-1])
    first = np.ones(len(pos), dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    counts = pos - np.where(first, 0, prev)
    lens = np.bincount(owner, minlength=n)
    return Runs(
        np.full(n, h, dtype=np.int64),
        np.full(n, w, dtype=np.int64),
        counts.astype(np.int64),
        np.append(0, np.cumsum(lens)).astype(np.int64),
    )


def _bitmasks_of_runs(runs: Runs, order: str = "F") -> np.ndarray:
    h, w = int(runs.heights[0]), int(runs.widths[0])
    value = (runs.position() % 2 == 1).astype(bool)
    flat = np.repeat(value, runs.counts).reshape(len(runs), h * w)
    if order == "F":
        return flat.reshape(len(runs), w, h).transpose(0, 2, 1)
    return flat.reshape(len(runs), h, w)


def rle_encode(mask) -> dict | list[dict]:
    """COCO compressed RLE of a binary mask (or of a stack of masks).

    Parameters
    ----------
    mask : array-like of bool, shape (height, width) or (n, height, width)
        Nonzero pixels are foreground.

    Returns
    -------
    dict or list of dict
        ``{"size": [height, width], "counts": str}``; a list for a 3-d stack.  The same
        encoding as ``pycocotools.mask.encode`` (whose counts are ``bytes``).

    Examples
    --------
    >>> m = np.zeros((4, 5), dtype=bool)
    >>> m[1:3, 1:4] = True
    >>> rle_encode(m)
    {'size': [4, 5], 'counts': '5220003'}
    >>> rle_counts(rle_encode(m)).tolist()
    [5, 2, 2, 2, 2, 2, 5]
    """
    arr = np.asarray(mask)
    if arr.ndim not in (2, 3):
        raise InvalidFrame(f"a mask must be 2-d (height, width), got shape {arr.shape}")
    single = arr.ndim == 2
    out = runs_to_dicts(_runs_of_bitmasks(arr[None] if single else arr))
    return out[0] if single else out


def rle_decode(rle) -> np.ndarray:
    """The binary mask of an RLE (compressed or uncompressed counts).

    Parameters
    ----------
    rle : dict or sequence of dict
        ``{"size": [h, w], "counts": str | bytes | list}``; several masks need one size.

    Returns
    -------
    numpy.ndarray of bool
        Shape (h, w) for one dict, (n, h, w) for a sequence.

    Examples
    --------
    >>> rle_decode({"size": [2, 3], "counts": [1, 2, 3]}).astype(int).tolist()
    [[0, 1, 0], [1, 0, 0]]
    """
    items, single = _as_list(rle)
    runs = parse_rles(items)
    if len(runs) == 0:
        return np.zeros((0, 0, 0), dtype=bool)
    if len(set(zip(runs.heights.tolist(), runs.widths.tolist(), strict=True))) > 1:
        raise InvalidFrame("masks of different sizes cannot be decoded into one array")
    out = _bitmasks_of_runs(runs)
    return out[0] if single else out


def rle_counts(rle) -> np.ndarray:
    """The run lengths (COCO's uncompressed counts) of one RLE.

    Parameters
    ----------
    rle : dict
        ``{"size": [h, w], "counts": str | bytes | list}``.

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> rle_counts({"size": [4, 5], "counts": "5220003"}).tolist()
    [5, 2, 2, 2, 2, 2, 5]
    """
    runs = parse_rles([rle])
    return runs.counts_of(0).copy()


def rle_from_segmentation(segmentations, heights, widths) -> list[dict]:
    """COCO ``segmentation`` values (polygons or RLE) to compressed RLEs, as pycocotools.

    Each value is what a COCO instances file holds: a list of polygons (flat ``[x0, y0, x1,
    y1, ...]`` lists, merged into one mask), an uncompressed RLE dict (list counts; its own
    ``size`` is used), or a compressed one (kept).  As in ``pycocotools.mask.frPyObjects``,
    a list whose first entry has exactly four numbers is a list of ``[x, y, w, h]`` boxes.

    Parameters
    ----------
    segmentations : sequence
        One segmentation per object.
    heights, widths : int or sequence of int
        The size of each object's image (polygons need it).

    Returns
    -------
    list of dict
        ``{"size": [h, w], "counts": str}`` per object.

    Examples
    --------
    >>> square = [[1, 1, 3, 1, 3, 3, 1, 3]]  # corners at pixel centres 1 and 3 ...
    >>> rle = rle_from_segmentation([square], 5, 5)[0]
    >>> rle_decode(rle).astype(int)[:, :4].tolist()  # ... cover pixels 1 and 2, as in COCO
    [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    """
    return runs_to_dicts(segmentation_runs(segmentations, heights, widths))


def rle_from_polygons(polygons, height: int, width: int) -> dict:
    """One mask from one object's polygons (their union), as pycocotools rasterises them.

    Parameters
    ----------
    polygons : list of list of float
        Flat ``[x0, y0, x1, y1, ...]`` polygons in pixel coordinates.
    height, width : int
        Image size.

    Returns
    -------
    dict
        ``{"size": [height, width], "counts": str}``.

    Examples
    --------
    >>> rle_area(rle_from_polygons([[0, 0, 4, 0, 4, 4, 0, 4]], 8, 8)).tolist()
    [16]
    """
    return rle_from_segmentation([polygons], height, width)[0]


def rle_area(rles) -> np.ndarray:
    """Foreground pixels of each mask (``pycocotools.mask.area``).

    Parameters
    ----------
    rles : dict or sequence of dict

    Returns
    -------
    numpy.ndarray of int64, shape (n,)

    Examples
    --------
    >>> rle_area([{"size": [2, 3], "counts": [1, 2, 3]}]).tolist()
    [2]
    """
    items, _ = _as_list(rles)
    return runs_area(parse_rles(items))


def rle_bbox(rles) -> np.ndarray:
    """``[x, y, w, h]`` box of each mask (``pycocotools.mask.toBbox``, its quirks included).

    Parameters
    ----------
    rles : dict or sequence of dict

    Returns
    -------
    numpy.ndarray of float, shape (n, 4)

    Examples
    --------
    >>> rle_bbox([{"size": [4, 5], "counts": "5220003"}]).tolist()
    [[1.0, 1.0, 3.0, 2.0]]
    """
    items, _ = _as_list(rles)
    return runs_bbox(parse_rles(items))


def rle_iou(dt, gt, iscrowd=None) -> np.ndarray:
    """IoU of every detection mask with every truth mask (``pycocotools.mask.iou``).

    Parameters
    ----------
    dt, gt : sequence of dict
        RLE masks, all of one size.
    iscrowd : sequence of bool, optional
        Per truth mask: a crowd region's IoU is intersection / detection area.

    Returns
    -------
    numpy.ndarray of float, shape (len(dt), len(gt))

    Raises
    ------
    vislab.errors.InvalidFrame
        A malformed RLE, or masks of different sizes (pycocotools answers -1 there).

    Examples
    --------
    >>> a = rle_encode(np.eye(4, dtype=bool))
    >>> b = rle_encode(np.ones((4, 4), dtype=bool))
    >>> rle_iou([a], [b, a], [False, True]).tolist()
    [[0.25, 1.0]]
    """
    d_items, _ = _as_list(dt)
    g_items, _ = _as_list(gt)
    d, g = parse_rles(d_items), parse_rles(g_items)
    sizes = set(
        zip(
            np.append(d.heights, g.heights).tolist(),
            np.append(d.widths, g.widths).tolist(),
            strict=True,
        )
    )
    if len(sizes) > 1:
        raise InvalidFrame(f"masks of different sizes cannot overlap: {sorted(sizes)}")
    di, gi = np.meshgrid(np.arange(len(d)), np.arange(len(g)), indexing="ij")
    crowd = None if iscrowd is None else np.asarray(iscrowd, dtype=bool)
    if crowd is not None and len(crowd) != len(g):
        raise InvalidFrame(f"iscrowd has {len(crowd)} flags for {len(g)} truth masks")
    out = table_iou(MaskTable.of(d), di.ravel(), MaskTable.of(g), gi.ravel(), crowd)
    return out.reshape(len(d), len(g))


def rle_union(rles) -> dict:
    """One mask covering every pixel of the given masks (``pycocotools.mask.merge``).

    Parameters
    ----------
    rles : sequence of dict
        Masks of one size.

    Returns
    -------
    dict
        Compressed RLE of the union.

    Examples
    --------
    >>> a = rle_encode(np.eye(3, dtype=bool))
    >>> b = rle_encode(np.fliplr(np.eye(3, dtype=bool)))
    >>> rle_decode(rle_union([a, b])).astype(int).tolist()
    [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    """
    items, _ = _as_list(rles)
    runs = parse_rles(items)
    if len(set(zip(runs.heights.tolist(), runs.widths.tolist(), strict=True))) > 1:
        raise InvalidFrame("masks of different sizes cannot be merged")
    return runs_to_dicts(union_runs(runs, np.zeros(len(runs), dtype=np.int64), 1))[0]


def _check_order(order: str) -> str:
    if order not in _ORDERS:
        raise InvalidFrame(f"order must be 'F' (column-major) or 'C' (row-major), got {order!r}")
    return order


def pai_rle_decode(rle, *, order: str = "F") -> np.ndarray:
    """The binary mask of a PAI instance-segmentation RLE (spec I4's rule).

    Counts alternate False and True runs and start with a False run (so the spec's odd terms
    are False, its even terms True), flattened in ``order``.

    Parameters
    ----------
    rle : dict
        ``{"size": [height, width], "counts": [int, ...]}``.
    order : {"F", "C"}, default "F"
        Scan order PAI's spec leaves open: column-major (COCO's) or row-major.

    Returns
    -------
    numpy.ndarray of bool, shape (height, width)

    Examples
    --------
    >>> rle = {"size": [2, 2], "counts": [0, 1, 2, 1]}  # the spec's [T, F, F, T]
    >>> pai_rle_decode(rle, order="C").tolist()
    [[True, False], [False, True]]
    """
    runs = parse_rles([rle])
    return _bitmasks_of_runs(runs, _check_order(order))[0]


def pai_rle_encode(mask, *, order: str = "F") -> dict:
    """PAI's RLE of a binary mask: list counts from a False run, scanned in ``order``.

    Parameters
    ----------
    mask : array-like of bool, shape (height, width)
    order : {"F", "C"}, default "F"
        Column-major (COCO's) or row-major scan.

    Returns
    -------
    dict
        ``{"size": [height, width], "counts": [int, ...]}``.

    Examples
    --------
    >>> pai_rle_encode([[True, False], [False, True]], order="C")
    {'size': [2, 2], 'counts': [0, 1, 2, 1]}
    """
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise InvalidFrame(f"a mask must be 2-d (height, width), got shape {arr.shape}")
    runs = _runs_of_bitmasks(arr[None], _check_order(order))
    return {"size": [int(arr.shape[0]), int(arr.shape[1])], "counts": runs.counts.tolist()}


def check_masks(masks, images, sizes=None) -> tuple[list[dict], np.ndarray]:
    """Validate masks of a frame: well-formed, one size per image, the image's size if known.

    Parameters
    ----------
    masks : sequence of dict
        RLE dicts (compressed or list counts).
    images : sequence
        The image of each mask.
    sizes : sequence of (height, width) or None, optional
        The size of each mask's image (``None`` where unknown).

    Returns
    -------
    masks : list of dict
        The masks as compressed RLE dicts.
    boxes : numpy.ndarray, shape (n, 4)
        Each mask's ``[x, y, w, h]`` (as :func:`rle_bbox`).

    Raises
    ------
    vislab.errors.InvalidFrame
        Naming the first bad mask.

    Examples
    --------
    >>> ok, boxes = check_masks([{"size": [2, 2], "counts": [0, 2, 2]}], ["a.jpg"], [(2, 2)])
    >>> ok, boxes.tolist()
    ([{'size': [2, 2], 'counts': '022'}], [[0.0, 0.0, 1.0, 2.0]])
    """
    runs = parse_rles(list(masks))
    seen: dict = {}
    for i, (img, h, w) in enumerate(
        zip(images, runs.heights.tolist(), runs.widths.tolist(), strict=True)
    ):
        if sizes is not None and sizes[i] is not None and tuple(sizes[i]) != (h, w):
            raise InvalidFrame(
                f"mask {i} of image {img!r} is {h}x{w} (height x width) but the image is "
                f"{sizes[i][0]}x{sizes[i][1]}",
                column="mask",
            )
        if seen.setdefault(img, (h, w)) != (h, w):
            raise InvalidFrame(
                f"masks of image {img!r} have different sizes {seen[img]} and {(h, w)}: a mask "
                "must have its image's height and width",
                column="mask",
            )
    return runs_to_dicts(runs), runs_bbox(runs)
