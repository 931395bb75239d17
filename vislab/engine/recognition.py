"""Recognition on top of the backbone: general labels, view subsets, subject and object boxes.

These are the engine calls behind the emulated Baidu image-recognition services. They take
``uint8`` RGB arrays (``(H, W, 3)``) and return dataclasses; mapping them to wire JSON is the
emulator's job.

Labels
------
:func:`general`, :func:`subset` and :func:`embed` live in :mod:`vislab.engine.labels` and are
re-exported here.

Boxes
-----
:func:`subject_box` and :func:`multi_objects` localise without a trained detector, from the
backbone's activations:

1. Saliency: the channel mean of the last conv map (``features_s32``, 1280 channels after
   ReLU6) of the whole image resized to a longer side of 448 px; cells over padding are
   dropped and the grid is bilinearly upsampled to the resized image.
2. Foreground: pixels above the map's mean, as in SCDA (Wei et al., "Selective Convolutional
   Descriptor Aggregation for Fine-Grained Image Retrieval", 2017).
3. Regions: the saliency peaks of the cell grid (a union-find sweep from the most salient
   cell down; a peak stays separate if it rises 10% of (max - mean) above the saddle joining
   it to a higher one), then touching regions are merged when the classifier, applied to each
   region's mean feature (``class_maps``), sees the same kind of thing: their distributions
   over :mod:`~vislab.engine.imagenet` roots overlap by at least half. A cat's eyes and nose
   become one region; a cat and the cup beside it stay two. Each foreground pixel joins the
   region of its nearest labelled cell.
4. :func:`subject_box` boxes the region with the most above-mean saliency mass.
   :func:`multi_objects` boxes every region with at least 10% of the top region's mass and
   1% of the image, classifies each on a square crop around it, and drops a region whose box
   overlaps a more salient box of the same root (taken for a part of that object).

On the skimage photos this boxes the cat of ``chelsea``, the cup and saucer of ``coffee``,
the camera man with his tripod of ``camera``, the astronaut (and, as separate objects, her
helmet and the shuttle model) of ``astronaut``, and each photo of two side-by-side photos.
Limits, honestly: the s32 cells are ~50 px of a 640 px photo, so thin objects come out wider
than they are (``rocket``'s rocket box takes in the nearest launch-tower parts), and salient
clutter touching the subject is included (the shelves behind ``stereo_motorcycle``'s bike).

Box coordinates are integer pixels of the original image, top-left origin, ``x, y, w, h``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

from vislab.engine.backbone import CROP_FRACTION, as_rgb, get_backbone, softmax
from vislab.engine.imagenet import class_roots

# The label calls live in their own module; they are re-exported here, where they always were.
from vislab.engine.labels import Label, SubsetLabels, embed, general, general_batch, subset
from vislab.geometry import paired_iou

__all__ = [
    "Box",
    "Label",
    "SubsetLabels",
    "draw_boxes",
    "embed",
    "general",
    "general_batch",
    "multi_objects",
    "saliency",
    "subject_box",
    "subset",
]

SALIENCY_SIZE = 448
PERSISTENCE = 0.1  # a peak is its own region if it rises this share of (max - mean) above
# the saddle joining it to a higher peak
SAME_KIND = 0.5  # touching regions merge when their root distributions overlap this much
MIN_OBJECT_FRACTION = 0.01  # regions smaller than this share of the image are dropped
MIN_MASS_SHARE = 0.1  # multi_objects ignores regions with less saliency mass than this share
# of the most salient region's
DUPLICATE_IOU = 0.6  # multi_objects drops a box overlapping a kept one more than this


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in original-image pixels (top-left origin).

    Attributes
    ----------
    x, y, w, h : int
        Left, top, width, height; ``w, h >= 1`` and the box lies inside the image.
    score : float
        In [0, 1]. :func:`subject_box`: the chosen region's share of all foreground saliency
        mass (1.0 = a single dominant subject). :func:`multi_objects`: the top-1 probability
        of the region's crop.
    name, class_index, root : optional
        The region's top-1 class (set by :func:`multi_objects`).
    """

    x: int
    y: int
    w: int
    h: int
    score: float
    name: str | None = None
    class_index: int | None = None
    root: str | None = None

    @property
    def xyxy(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` with exclusive right/bottom edges.

        Examples
        --------
        >>> Box(10, 20, 30, 40, 1.0).xyxy
        (10, 20, 40, 60)
        """
        return (self.x, self.y, self.x + self.w, self.y + self.h)


# --------------------------------------------------------------------------- saliency


@dataclass(frozen=True)
class _Saliency:
    cells: np.ndarray  # (rows, cols) channel mean of features_s32 over image content
    class_maps: np.ndarray  # (1000, rows, cols) the classifier at each cell
    values: np.ndarray  # (h, w) the same, bilinearly upsampled to the resized image
    scale: float  # resized / original
    image_hw: tuple[int, int]


def _saliency(image: np.ndarray, size: int) -> _Saliency:
    rgb = as_rgb(image)
    fm = get_backbone().feature_maps(rgb, size, outputs=("features_s32", "class_maps"))
    rows, cols = fm.valid_cells(32)
    cells = np.ascontiguousarray(fm.maps["features_s32"][:, :rows, :cols].mean(axis=0))
    class_maps = fm.maps["class_maps"][:, :rows, :cols]
    # Cell (i, j) is centred at resized pixel ((j + .5) * 32, (i + .5) * 32): resizing the grid
    # to 32x its size with PIL's centre-aligned bilinear puts every cell where it belongs.
    grid = Image.fromarray(cells.astype(np.float32))
    upsampled = np.asarray(grid.resize((cols * 32, rows * 32), Image.BILINEAR))
    content_h, content_w = fm.content_hw
    return _Saliency(cells, class_maps, upsampled[:content_h, :content_w], fm.scale, fm.image_hw)


def _peak_components(cells: np.ndarray, floor: float, persistence: float) -> np.ndarray:
    """Label the cells above ``floor`` by the saliency peak they belong to.

    Cells are visited from the most salient down (a union-find sweep, as in persistent-homology
    peak finding). A cell touching two regions joins the one with the higher peak; the other
    region survives as a separate object only if its peak rises more than ``persistence``
    above that saddle, so the eyes and nose of one cat do not become three objects while a cat
    and a cup, separated by a valley of background, stay two.
    """
    rows, cols = cells.shape
    flat = cells.ravel()
    parent = np.full(flat.size, -1, dtype=np.int64)
    peak = np.zeros(flat.size)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for idx in np.argsort(-flat, kind="stable"):
        value = flat[idx]
        if value <= floor:
            break
        r, c = divmod(int(idx), cols)
        roots = {
            find(nr * cols + nc)
            for nr in range(max(r - 1, 0), min(r + 2, rows))
            for nc in range(max(c - 1, 0), min(c + 2, cols))
            if parent[nr * cols + nc] >= 0
        }
        if not roots:
            parent[idx], peak[idx] = idx, value
            continue
        ordered = sorted(roots, key=lambda root: -peak[root])
        main = ordered[0]
        parent[idx] = main
        for other in ordered[1:]:
            if peak[other] - value < persistence:
                parent[other] = main
    labels = np.zeros(flat.size, dtype=np.int64)
    roots_seen: dict[int, int] = {}
    for idx in np.nonzero(parent >= 0)[0]:
        root = find(int(idx))
        labels[idx] = roots_seen.setdefault(root, len(roots_seen) + 1)
    return labels.reshape(rows, cols)


@lru_cache(maxsize=1)
def _root_matrix() -> np.ndarray:
    """(1000, n_roots) one-hot: class -> root, to sum class probabilities per root."""
    names = sorted(set(class_roots()))
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(class_roots()), len(names)), dtype=np.float32)
    for i, root in enumerate(class_roots()):
        matrix[i, index[root]] = 1.0
    return matrix


def _root_distribution(class_maps: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Root probabilities of the region ``mask`` (cells), via the classifier on its mean."""
    return softmax(class_maps[:, mask].mean(axis=1)) @ _root_matrix()


def _merge_same_kind(labels: np.ndarray, class_maps: np.ndarray) -> np.ndarray:
    """Merge touching peak regions that the classifier sees as the same kind of thing.

    Two regions are "the same kind" when their root distributions overlap by at least
    ``SAME_KIND`` (sum over roots of the smaller probability): a cat's eyes and nose merge,
    a cat and the cup beside it do not. Greedy, most similar pair first.
    """
    labels = labels.copy()
    rows, cols = labels.shape
    while True:
        ids = [int(i) for i in np.unique(labels) if i > 0]
        if len(ids) < 2:
            return labels
        pairs = set()
        # 8-connectivity: compare each cell with its right, lower and two diagonal neighbours.
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            a = labels[: rows - dr, max(0, -dc) : cols - max(0, dc)]
            b = labels[dr:, max(0, dc) : cols + min(0, dc)]
            touching = (a > 0) & (b > 0) & (a != b)
            pairs.update(zip(a[touching].tolist(), b[touching].tolist(), strict=True))
        if not pairs:
            return labels
        dist = {i: _root_distribution(class_maps, labels == i) for i in ids}
        overlap, keep, drop = max(
            (float(np.minimum(dist[a], dist[b]).sum()), min(a, b), max(a, b)) for a, b in pairs
        )
        if overlap < SAME_KIND:
            return labels
        labels[labels == drop] = keep


def _regions(sal: _Saliency) -> tuple[np.ndarray, np.ndarray]:
    """Pixel labels of the salient regions over the resized image, and each region's mass.

    Foreground is the upsampled saliency above its mean (SCDA). Regions are the saliency peaks
    of the cell grid (:func:`_peak_components`), merged when they touch and look like the same
    kind of thing (:func:`_merge_same_kind`); each foreground pixel then takes the label of its
    nearest labelled cell, so a region keeps the smooth extent of the upsampled map.
    """
    values = sal.values
    floor = float(values.mean())
    spread = float(sal.cells.max()) - floor
    if spread <= 0:
        return np.zeros(values.shape, dtype=np.int64), np.zeros(0)
    cell_labels = _peak_components(sal.cells, floor, PERSISTENCE * spread)
    cell_labels = _merge_same_kind(cell_labels, sal.class_maps)
    _, cell_labels = np.unique(cell_labels, return_inverse=True)  # relabel 0..n
    cell_labels = cell_labels.reshape(sal.cells.shape)
    height, width = values.shape
    seeds = np.repeat(np.repeat(cell_labels, 32, axis=0), 32, axis=1)[:height, :width]
    foreground = values > floor
    if not (seeds > 0).any():
        seeds, _ = ndimage.label(foreground)
    _, nearest = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    regions = np.where(foreground, seeds[nearest[0], nearest[1]], 0)
    count = int(regions.max())
    masses = ndimage.sum(values - floor, regions, np.arange(1, count + 1))
    return regions, np.asarray(masses, dtype=np.float64).reshape(-1)


def saliency(image: np.ndarray, *, size: int = SALIENCY_SIZE) -> np.ndarray:
    """The class-agnostic saliency map used for boxes, at the image's resolution, in [0, 1].

    Parameters
    ----------
    image : numpy.ndarray
        ``uint8`` ``(H, W, 3)`` RGB.
    size : int, default 448
        Longer side the image is resized to before the backbone runs.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` float32, min-max scaled (all zeros for a featureless image).

    Examples
    --------
    >>> from skimage import data
    >>> saliency(data.chelsea()).shape
    (300, 451)
    """
    sal = _saliency(image, size)
    height, width = sal.image_hw
    grid = Image.fromarray(np.ascontiguousarray(sal.values, dtype=np.float32))
    full = np.asarray(grid.resize((width, height), Image.BILINEAR))
    full = full - full.min()
    peak = float(full.max())
    return full / peak if peak > 0 else full


def _to_image_box(rows: np.ndarray, cols: np.ndarray, sal: _Saliency, score: float, **label) -> Box:
    """Bounding box of resized-image pixels, mapped back to original pixels."""
    height, width = sal.image_hw
    x0 = int(np.floor(cols.min() / sal.scale))
    y0 = int(np.floor(rows.min() / sal.scale))
    x1 = int(np.ceil((cols.max() + 1) / sal.scale))
    y1 = int(np.ceil((rows.max() + 1) / sal.scale))
    x0, y0 = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
    x1, y1 = min(max(x1, x0 + 1), width), min(max(y1, y0 + 1), height)
    return Box(x0, y0, x1 - x0, y1 - y0, float(score), **label)


def _whole_image(sal: _Saliency) -> Box:
    height, width = sal.image_hw
    return Box(0, 0, width, height, 0.0)


def subject_box(image: np.ndarray, *, size: int = SALIENCY_SIZE) -> Box:
    """Box of the main subject, from the backbone's activation map (no detector).

    Parameters
    ----------
    image : numpy.ndarray
        ``uint8`` ``(H, W, 3)`` RGB.
    size : int, default 448
        Longer side the image is resized to for the saliency map.

    Returns
    -------
    Box
        In original pixels. ``score`` is the region's share of all above-mean saliency mass
        (1.0 when one region holds it all). A featureless image gives the whole image with
        score 0.

    Examples
    --------
    >>> from skimage import data
    >>> box = subject_box(data.coffee())     # cup and saucer, not the table
    >>> 50 < box.x < 120 and 350 < box.x + box.w < 520
    True
    """
    sal = _saliency(image, size)
    regions, masses = _regions(sal)
    if masses.size == 0 or masses.sum() <= 0:
        return _whole_image(sal)
    best = int(np.argmax(masses))
    rows, cols = np.nonzero(regions == best + 1)
    return _to_image_box(rows, cols, sal, masses[best] / masses.sum())


def _square_crop(rgb: np.ndarray, box: Box) -> np.ndarray:
    """Square crop centred on ``box`` whose 0.875 centre crop is the box's longer side.

    The backbone's preprocessing keeps the centre 224/256 of the shorter side; sizing the
    square as ``max(w, h) / 0.875`` lets the network see the whole region, including thin
    ones that a plain box crop would lose to the centre crop. Parts outside the image are
    filled with mid grey, the model's zero input.
    """
    height, width = rgb.shape[:2]
    side = max(1, int(round(max(box.w, box.h) / CROP_FRACTION)))
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    out = np.full((side, side, 3), 127, dtype=np.uint8)
    sx0, sy0 = max(left, 0), max(top, 0)
    sx1, sy1 = min(left + side, width), min(top + side, height)
    out[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = rgb[sy0:sy1, sx0:sx1]
    return out


def _box_iou(a: Box, b: Box) -> float:
    return float(paired_iou((a.x, a.y, a.w, a.h), (b.x, b.y, b.w, b.h))[0])


def _inside_share(inner: Box, outer: Box) -> float:
    """Share of ``inner``'s area that lies inside ``outer``."""
    ix0, iy0, ix1, iy1 = inner.xyxy
    ox0, oy0, ox1, oy1 = outer.xyxy
    inter = max(0, min(ix1, ox1) - max(ix0, ox0)) * max(0, min(iy1, oy1) - max(iy0, oy0))
    return inter / float(inner.w * inner.h)


def multi_objects(
    image: np.ndarray, max_objects: int = 5, *, size: int = SALIENCY_SIZE
) -> list[Box]:
    """Several salient regions, each boxed and labelled by its crop's top-1 class.

    Parameters
    ----------
    image : numpy.ndarray
        ``uint8`` ``(H, W, 3)`` RGB.
    max_objects : int, default 5
        At most this many boxes, the most salient regions first.
    size : int, default 448
        Longer side the image is resized to for the saliency map.

    Returns
    -------
    list of Box
        ``name``, ``class_index`` and ``root`` are the crop's top-1 class and ``score`` its
        probability, most salient region first. Regions under 1% of the image or with less
        than 10% of the top region's saliency mass, near-duplicates (IoU > 0.6 with a more
        salient box) and regions overlapping a more salient box of the same root are dropped.
        Empty for a featureless image.

    Examples
    --------
    >>> from skimage import data
    >>> from PIL import Image
    >>> cat = np.asarray(Image.fromarray(data.chelsea()).resize((600, 400)))
    >>> both = np.concatenate([cat, data.coffee()], axis=1)   # cat left, cup right
    >>> boxes = multi_objects(both)
    >>> sorted(b.root for b in boxes[:2])
    ['animal-cat', 'food-drink']
    """
    rgb = as_rgb(image)
    sal = _saliency(rgb, size)
    regions, masses = _regions(sal)
    if masses.size == 0 or masses.sum() <= 0:
        return []
    min_pixels = MIN_OBJECT_FRACTION * regions.size

    candidates: list[Box] = []
    for region in np.argsort(-masses):
        if masses[region] < MIN_MASS_SHARE * masses.max():
            break
        rows, cols = np.nonzero(regions == region + 1)
        if rows.size < min_pixels:
            continue
        box = _to_image_box(rows, cols, sal, masses[region] / masses.sum())
        if all(_box_iou(box, kept) <= DUPLICATE_IOU for kept in candidates):
            candidates.append(box)
        if len(candidates) >= max_objects:
            break
    if not candidates:
        return []
    crops = [_square_crop(rgb, box) for box in candidates]
    labelled: list[Box] = []
    for box, labels in zip(candidates, general_batch(crops, top_k=1), strict=True):
        top = labels[0]
        # A less salient region overlapping a kept box of the same kind is taken for a part of
        # that object (a cat's ear, the rim of a saucer), not another object. The price: two
        # overlapping objects of one root (two cats cuddling) come back as one.
        if any(kept.root == top.root and _inside_share(box, kept) > 0 for kept in labelled):
            continue
        labelled.append(
            Box(box.x, box.y, box.w, box.h, top.score, top.name, top.class_index, top.root)
        )
    return labelled


def draw_boxes(image: np.ndarray, boxes: Sequence[Box], *, width: int = 3) -> np.ndarray:
    """A copy of ``image`` with boxes and their names drawn on it (for quick looks).

    Parameters
    ----------
    image : numpy.ndarray
        ``uint8`` ``(H, W, 3)`` RGB.
    boxes : sequence of Box
    width : int, default 3
        Line width in pixels.

    Returns
    -------
    numpy.ndarray
        ``uint8`` ``(H, W, 3)``.

    Examples
    --------
    >>> draw_boxes(np.zeros((20, 30, 3), np.uint8), [Box(2, 2, 10, 10, 1.0)]).shape
    (20, 30, 3)
    """
    from PIL import ImageDraw

    canvas = Image.fromarray(as_rgb(image).copy())
    pen = ImageDraw.Draw(canvas)
    colours = ("#ffd400", "#00e5ff", "#ff3d7f", "#7cff4f", "#ff8c00")
    for i, box in enumerate(boxes):
        colour = colours[i % len(colours)]
        x0, y0, x1, y1 = box.xyxy
        pen.rectangle((x0, y0, x1 - 1, y1 - 1), outline=colour, width=width)
        caption = f"{box.name} {box.score:.2f}" if box.name else f"{box.score:.2f}"
        pen.text((x0 + width + 2, y0 + width + 1), caption, fill=colour)
    return np.asarray(canvas)
