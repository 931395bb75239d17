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
from vislab.evaluate._validate import plain
from vislab.masks._codec import Runs, parse_rles, runs_to_dicts
from vislab.masks._ops import MaskTable, table_iou
from vislab.masks._segmentation import segmentation_runs

__all__ = ["MaskPairs", "segm_inputs", "truth_mask_runs", "truth_mask_column"]


@dataclass
class MaskPairs:
    """Detection and truth masks of one evaluation, aligned with its rows.

    Attributes
    ----------
    det, truth : vislab.masks._ops.MaskTable
        Masks of the prediction rows and of the truth rows (the rows of
        :class:`~vislab.evaluate.detection.DetectionInput`).
    crowd : ndarray of bool
        Crowd flag of each truth row.
    """

    det: MaskTable
    truth: MaskTable
    crowd: np.ndarray

    def iou(self, di: np.ndarray, gi: np.ndarray) -> np.ndarray:
        """IoU of detection ``di[j]`` with truth ``gi[j]``, as ``maskUtils.iou`` (float64).

        Parameters
        ----------
        di, gi : int arrays
            Prediction row and truth row of each pair.

        Returns
        -------
        numpy.ndarray of float
        """
        return table_iou(self.det, di, self.truth, gi, self.crowd)

    def det_area(self) -> np.ndarray:
        """Mask area of every prediction row (float, for the area ranges).

        Returns
        -------
        numpy.ndarray of float
        """
        return self.det.area.astype(float)


def _image_sizes(truth: pd.DataFrame, attrs) -> tuple[np.ndarray, np.ndarray] | None:
    if {"height", "width"} <= set(truth.columns):
        return truth["height"].to_numpy(), truth["width"].to_numpy()
    table = attrs.get("images")
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


def truth_mask_runs(truth: pd.DataFrame) -> Runs:
    """The truth's masks as runs: its ``mask`` column, or its rasterised ``segmentation``.

    Parameters
    ----------
    truth : DataFrame
        Truth rows with ``mask`` (RLE dicts) or ``segmentation`` (COCO polygons / RLE; the
        image sizes come from ``height`` / ``width`` columns or ``attrs["images"]``).

    Returns
    -------
    vislab.masks._codec.Runs
    """
    attrs = truth.attrs
    truth = plain(truth)
    if "mask" in truth.columns:
        return parse_rles(list(truth["mask"]))
    if "segmentation" not in truth.columns:
        raise InvalidFrame(
            "iou_type='segm' needs a 'mask' column (RLE dicts) or COCO 'segmentation' in the "
            "truth frame; read_coco() keeps 'segmentation'",
            column="mask",
        )
    segs = list(truth["segmentation"])
    sizes = _image_sizes(truth, attrs)
    if sizes is None:
        if all(isinstance(s, dict) for s in segs):
            return segmentation_runs(segs, 0, 0)
        raise InvalidFrame(
            "polygons need the image size: give the truth 'height' and 'width' columns or "
            "attrs['images'] with them (read_coco sets it)",
            column="segmentation",
        )
    return segmentation_runs(segs, sizes[0], sizes[1])


def truth_mask_column(truth: pd.DataFrame) -> list:
    """The truth's masks as COCO RLE dicts (see :func:`truth_mask_runs`).

    Parameters
    ----------
    truth : DataFrame
        Truth rows with ``mask`` or ``segmentation`` (and the image sizes for polygons).

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
    return runs_to_dicts(truth_mask_runs(truth))


def _check_sizes(image: np.ndarray, runs: Runs, other_image: np.ndarray, other: Runs) -> None:
    """Every mask of one image has that image's size (else pycocotools' IoU would be -1)."""
    images = np.concatenate([image, other_image])
    if len(images) == 0:
        return
    codes, uniq = pd.factorize(images)
    size = np.concatenate([runs.heights, other.heights]) * 2**32 + np.concatenate(
        [runs.widths, other.widths]
    )
    first = np.empty(len(uniq), dtype=np.int64)
    first[codes[::-1]] = size[::-1]  # the first mask's size of each image
    bad = np.flatnonzero(size != first[codes])
    if len(bad):
        i = int(bad[0])
        seen = (int(first[codes[i]] >> 32), int(first[codes[i]] & 0xFFFFFFFF))
        this = (int(size[i] >> 32), int(size[i] & 0xFFFFFFFF))
        raise InvalidFrame(
            f"masks of image {uniq[codes[i]]!r} have different sizes {[list(seen), list(this)]}: "
            "a mask must have its image's height and width",
            column="mask",
        )


def segm_inputs(truth_rows: pd.DataFrame, pred_rows: pd.DataFrame, truth_masks) -> MaskPairs:
    """Parse the masks of the evaluated truth and prediction rows.

    Parameters
    ----------
    truth_rows, pred_rows : DataFrame
        The rows being evaluated (``DetectionInput.truth`` / ``.pred``).
    truth_masks : Runs or list
        The mask of each row of ``truth_rows`` (:func:`truth_mask_runs`, or RLE dicts).

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
    gt = truth_masks if isinstance(truth_masks, Runs) else parse_rles(list(truth_masks))
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
    return MaskPairs(det=MaskTable.of(det), truth=MaskTable.of(gt), crowd=crowd)
