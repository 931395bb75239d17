"""Masks for the COCO segm metric: the ``mask`` columns of truth and predictions as run tables.

pycocotools' ``COCOeval(iouType="segm")`` differs from the bbox metric in three places only,
and :func:`segm_inputs` supplies exactly those to the shared matching and accumulation:

* the IoU of a (detection, truth) pair is the masks' IoU (``maskUtils.iou``; a crowd region
  divides by the detection's area) — :meth:`MaskPairs.iou`, vectorised over all pairs;
* a detection's area, for the small / medium / large ranges, is its mask area (``loadRes``
  sets it so), not ``w * h``;
* truth keeps its ``area`` column (COCO's annotation area); a missing one falls back to the
  mask area.

The truth may carry a ``mask`` column (RLE dicts) or COCO's raw ``segmentation`` (polygons
or RLE, from :func:`vislab.datasets.read_coco`), which is rasterised with the image sizes of
``truth.attrs["images"]`` (or ``height`` / ``width`` columns) exactly as pycocotools does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame
from vislab.masks import rle_from_segmentation
from vislab.masks._codec import Runs, intervals, parse_rles
from vislab.masks._ops import runs_area, runs_bbox

__all__ = ["MaskPairs", "segm_inputs", "truth_mask_column"]


@dataclass
class _MaskTable:
    runs: Runs
    area: np.ndarray
    bbox: np.ndarray  # rleToBbox's boxes: every foreground pixel lies inside
    start: np.ndarray  # foreground intervals, sorted by (mask, start)
    end: np.ndarray
    offsets: np.ndarray  # intervals of mask i: offsets[i]:offsets[i + 1]

    @classmethod
    def of(cls, runs: Runs) -> _MaskTable:
        start, end, owner = intervals(runs)
        cnt = np.bincount(owner, minlength=len(runs))
        return cls(
            runs=runs,
            area=runs_area(runs),
            bbox=runs_bbox(runs),
            start=start,
            end=end,
            offsets=np.append(0, np.cumsum(cnt)).astype(np.int64),
        )


@dataclass
class MaskPairs:
    """Detection and truth masks of one evaluation, aligned with its rows.

    Attributes
    ----------
    det, truth : _MaskTable
        Masks of the prediction rows and of the truth rows (the rows of
        :class:`~vislab.evaluate.detection.DetectionInput`).
    crowd : ndarray of bool
        Crowd flag of each truth row.
    """

    det: _MaskTable
    truth: _MaskTable
    crowd: np.ndarray

    def iou(self, di: np.ndarray, gi: np.ndarray) -> np.ndarray:
        """IoU of detection ``di[j]`` with truth ``gi[j]``, as ``maskUtils.iou`` (float64).

        Pairs whose boxes do not overlap share no pixel and get 0 without further work;
        for the rest, the shared pixels are counted run by run (:func:`_shared_pixels`).
        """
        di = np.asarray(di, dtype=np.int64)
        gi = np.asarray(gi, dtype=np.int64)
        out = np.zeros(len(di), dtype=float)
        db, gb = self.det.bbox[di], self.truth.bbox[gi]
        touch = (
            (np.minimum(db[:, 0] + db[:, 2], gb[:, 0] + gb[:, 2]) > np.maximum(db[:, 0], gb[:, 0]))
            & (
                np.minimum(db[:, 1] + db[:, 3], gb[:, 1] + gb[:, 3])
                > np.maximum(db[:, 1], gb[:, 1])
            )
            & (self.det.area[di] > 0)
            & (self.truth.area[gi] > 0)
        )
        sel = np.flatnonzero(touch)
        if len(sel) == 0:
            return out
        d, g = di[sel], gi[sel]
        inter = _shared_pixels(self.det, d, self.truth, g)
        area_d = self.det.area[d]
        union = np.where(self.crowd[g], area_d, area_d + self.truth.area[g] - inter)
        union = np.where(inter == 0, 1, union)
        out[sel] = inter.astype(float) / union.astype(float)  # (double)i / (double)u in C
        return out

    def det_area(self) -> np.ndarray:
        """Mask area of every prediction row (float, for the area ranges)."""
        return self.det.area.astype(float)


def _shared_pixels(a: _MaskTable, ai: np.ndarray, b: _MaskTable, bi: np.ndarray) -> np.ndarray:
    """Pixels in both ``a[ai[j]]`` and ``b[bi[j]]``, all pairs in one pass.

    ``cover(q)``: pixels of a ``b`` mask before position ``q``, from one ``searchsorted`` into
    all of ``b``'s intervals keyed by (mask, position).  Each interval ``[s, e)`` of the ``a``
    mask of a pair adds ``cover(e) - cover(s)``.
    """
    span = np.int64(
        max(
            int((a.runs.heights * a.runs.widths).max(initial=0)),
            int((b.runs.heights * b.runs.widths).max(initial=0)),
        )
        + 1
    )
    owner_b = np.repeat(np.arange(len(b.offsets) - 1), np.diff(b.offsets))
    ks = owner_b * span + b.start
    ke = owner_b * span + b.end
    lcum = np.append(0, np.cumsum(b.end - b.start))
    ks_pad = np.append(ks, np.iinfo(np.int64).max)

    take = a.offsets[ai + 1] - a.offsets[ai]
    pair = np.repeat(np.arange(len(ai)), take)
    rows = (
        np.arange(int(take.sum()))
        - np.repeat(np.cumsum(take) - take, take)
        + np.repeat(a.offsets[ai], take)
    )
    base = bi[pair] * span

    def cover(q):
        j = np.searchsorted(ke, q, side="right")
        return lcum[j] + np.maximum(0, q - ks_pad[j])

    shared = cover(base + a.end[rows]) - cover(base + a.start[rows])
    return np.bincount(pair, weights=shared, minlength=len(ai)).astype(np.int64)


def _image_sizes(truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    if {"height", "width"} <= set(truth.columns):
        return truth["height"].to_numpy(), truth["width"].to_numpy()
    table = truth.attrs.get("images")
    if table is None:
        return None
    tab = pd.DataFrame(dict(table)) if not isinstance(table, pd.DataFrame) else table
    if not {"image", "height", "width"} <= set(tab.columns):
        return None
    sizes = tab.drop_duplicates("image").set_index("image")
    idx = sizes.index.get_indexer(truth["image"])
    if (idx < 0).any():
        return None
    return sizes["height"].to_numpy()[idx], sizes["width"].to_numpy()[idx]


def truth_mask_column(truth: pd.DataFrame) -> list:
    """The truth's masks as RLE dicts: its ``mask`` column, or its rasterised ``segmentation``.

    Parameters
    ----------
    truth : DataFrame
        Truth rows with ``mask`` (RLE dicts) or ``segmentation`` (COCO polygons / RLE; the
        image sizes come from ``height`` / ``width`` columns or ``attrs["images"]``).

    Returns
    -------
    list of dict

    Examples
    --------
    >>> t = pd.DataFrame({"image": ["a"], "segmentation": [[[0, 0, 4, 0, 4, 4, 0, 4]]],
    ...                   "height": [6], "width": [6]})
    >>> truth_mask_column(t)
    [{'size': [6, 6], 'counts': '04200000<'}]
    """
    if "mask" in truth.columns:
        return list(truth["mask"])
    if "segmentation" not in truth.columns:
        raise InvalidFrame(
            "iou_type='segm' needs a 'mask' column (RLE dicts) or COCO 'segmentation' in the "
            "truth frame; read_coco() keeps 'segmentation'",
            column="mask",
        )
    sizes = _image_sizes(truth)
    segs = list(truth["segmentation"])
    if sizes is None:
        if all(isinstance(s, dict) for s in segs):
            return rle_from_segmentation(segs, 0, 0)
        raise InvalidFrame(
            "polygons need the image size: give the truth 'height' and 'width' columns or "
            "attrs['images'] with them (read_coco sets it)",
            column="segmentation",
        )
    return rle_from_segmentation(segs, sizes[0], sizes[1])


def _check_sizes(image: np.ndarray, runs: Runs, other_image: np.ndarray, other: Runs) -> None:
    """Every mask of one image has that image's size (else pycocotools' IoU would be -1)."""
    frame = pd.DataFrame(
        {
            "image": np.concatenate([image, other_image]),
            "h": np.concatenate([runs.heights, other.heights]),
            "w": np.concatenate([runs.widths, other.widths]),
        }
    )
    if len(frame) == 0:
        return
    n_sizes = frame.drop_duplicates().groupby("image", sort=False).size()
    bad = n_sizes[n_sizes > 1]
    if len(bad):
        img = bad.index[0]
        sizes = frame[frame["image"] == img][["h", "w"]].drop_duplicates().values.tolist()
        raise InvalidFrame(
            f"masks of image {img!r} have different sizes {sizes}: a mask must have its "
            "image's height and width",
            column="mask",
        )


def segm_inputs(truth_rows: pd.DataFrame, pred_rows: pd.DataFrame, truth_masks) -> MaskPairs:
    """Parse the masks of the evaluated truth and prediction rows.

    Parameters
    ----------
    truth_rows, pred_rows : DataFrame
        The rows being evaluated (``DetectionInput.truth`` / ``.pred``).
    truth_masks : list
        The RLE of each row of ``truth_rows`` (:func:`truth_mask_column`).

    Returns
    -------
    MaskPairs

    Examples
    --------
    >>> rle = {"size": [2, 2], "counts": [0, 4]}
    >>> t = pd.DataFrame({"image": ["a"], "iscrowd": [0]})
    >>> p = pd.DataFrame({"image": ["a"], "mask": [{"size": [2, 2], "counts": [0, 2, 2]}]})
    >>> segm_inputs(t, p, [rle]).iou(np.array([0]), np.array([0])).tolist()
    [0.5]
    """
    if "mask" not in pred_rows.columns:
        raise InvalidFrame(
            "iou_type='segm' needs a 'mask' column (RLE dicts) in the predictions; "
            "read_coco_results() keeps it from 'segmentation'",
            column="mask",
        )
    det = parse_rles(list(pred_rows["mask"]))
    gt = parse_rles(list(truth_masks))
    _check_sizes(
        pred_rows["image"].to_numpy(dtype=object),
        det,
        truth_rows["image"].to_numpy(dtype=object),
        gt,
    )
    if "iscrowd" in truth_rows.columns:
        crowd = pd.to_numeric(truth_rows["iscrowd"], errors="coerce").fillna(0).to_numpy() != 0
    else:
        crowd = np.zeros(len(truth_rows), dtype=bool)
    return MaskPairs(det=_MaskTable.of(det), truth=_MaskTable.of(gt), crowd=crowd)
