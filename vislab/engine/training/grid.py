"""Per-cell features of whole images for detection and counting heads (numpy only).

A detector or a density head looks at the image through a grid of stride-8 cells of the
backbone's input. Each cell gets one feature vector:

* the stride-8 map (40 channels: edges and blobs at the finest scale the backbone keeps),
* the stride-16 map (112 channels), bilinearly resampled onto the stride-8 grid,
* the stride-32 map (1280 channels: what the thing is), projected onto its leading principal
  components (fitted on the training images, :class:`Projection`) and resampled likewise,
* the 3 x 3 neighbourhood mean of the stride-8 and stride-16 parts (where the cell sits).

The input scale is chosen from the training boxes (:func:`choose_input_size`): small objects
are enlarged until a typical one spans about three cells, so cells of 6-14 px become 20-40 px
at the network input; large objects are shrunk, keeping at least 256 px on the longer side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter

from vislab.engine.backbone import Backbone, FeatureMaps, get_backbone

__all__ = [
    "CELL",
    "TARGET_OBJECT_PX",
    "MIN_INPUT",
    "MAX_INPUT",
    "choose_input_size",
    "Projection",
    "backbone_maps",
    "cell_features",
    "bilinear_resize",
]

#: Stride of the prediction grid at the network input.
CELL = 8
#: A typical object should span this many input pixels (about three cells).
TARGET_OBJECT_PX = 26.0
MIN_INPUT, MAX_INPUT = 256, 1024
GRID_MAPS = ("features_s8", "features_s16", "features_s32")


def choose_input_size(image_sides, box_sides) -> int:
    """The longer side the images are resized to, from the typical object size.

    Parameters
    ----------
    image_sides : array-like
        Longer side (px) of each training image.
    box_sides : array-like
        ``sqrt(w * h)`` (px) of each training box.

    Returns
    -------
    int
        A multiple of 32 in ``[256, 1024]``.

    Examples
    --------
    >>> choose_input_size([256, 256], [10, 12, 9])   # small cells: enlarged 2.6x
    672
    >>> choose_input_size([640], [180, 200])         # large products: shrunk, not below 256
    256
    """
    longer = float(np.median(np.asarray(image_sides, dtype=float)))
    typical = float(np.median(np.asarray(box_sides, dtype=float)))
    size = longer * TARGET_OBJECT_PX / max(typical, 1.0)
    size = int(np.clip(size, MIN_INPUT, MAX_INPUT))
    return int(np.clip(round(size / 32) * 32, MIN_INPUT, MAX_INPUT))


def backbone_maps(image: np.ndarray, size: int, *, backbone: Backbone | None = None) -> FeatureMaps:
    """The three feature maps of the whole image, resized so its longer side is ``size``.

    Examples
    --------
    >>> fm = backbone_maps(np.zeros((100, 200, 3), np.uint8), 256)
    >>> fm.maps["features_s8"].shape, fm.maps["features_s32"].shape
    ((40, 16, 32), (1280, 4, 8))
    """
    return (backbone or get_backbone()).feature_maps(image, size, outputs=GRID_MAPS)


def _interp_matrix(n_out: int, n_in: int, ratio: int) -> np.ndarray:
    """Bilinear weights from a coarse axis (``n_in`` cells, ``ratio`` x larger) to a fine one,
    with cell centres aligned: fine cell ``a`` sits at coarse coordinate ``(a + .5)/ratio - .5``."""
    pos = (np.arange(n_out) + 0.5) / ratio - 0.5
    pos = np.clip(pos, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = (pos - lo).astype(np.float32)
    w = np.zeros((n_out, n_in), dtype=np.float32)
    w[np.arange(n_out), lo] += 1 - frac
    w[np.arange(n_out), hi] += frac
    return w


def bilinear_resize(maps: np.ndarray, out_hw: tuple[int, int], ratio: int) -> np.ndarray:
    """Resample ``(C, h, w)`` maps onto a grid ``ratio`` times finer, centres aligned.

    Examples
    --------
    >>> m = np.arange(4, dtype=np.float32).reshape(1, 2, 2)
    >>> bilinear_resize(m, (4, 4), 2)[0].round(2).tolist()[1]
    [0.5, 0.75, 1.25, 1.5]
    """
    wr = _interp_matrix(out_hw[0], maps.shape[1], ratio)
    wc = _interp_matrix(out_hw[1], maps.shape[2], ratio)
    return np.einsum("Hh,chw,Ww->cHW", wr, maps, wc, optimize=True).astype(np.float32)


@dataclass
class Projection:
    """Principal components of stride-32 cells: 1280 channels -> ``k`` numbers per cell.

    Attributes
    ----------
    mean : numpy.ndarray
        ``(1280,)`` channel means.
    components : numpy.ndarray
        ``(k, 1280)`` orthonormal rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = Projection.fit([rng.random((1280, 4, 4), dtype=np.float32)], k=8)
    >>> p.components.shape, p.apply(np.zeros((1280, 2, 3), np.float32)).shape
    ((8, 1280), (8, 2, 3))
    """

    mean: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(cls, maps_s32, *, k: int = 48, max_cells: int = 12000, seed: int = 0) -> Projection:
        cells = np.concatenate([m.reshape(m.shape[0], -1).T for m in maps_s32])
        if len(cells) > max_cells:
            cells = cells[np.random.default_rng(seed).choice(len(cells), max_cells, replace=False)]
        mean = cells.mean(axis=0)
        centred = (cells - mean).astype(np.float64)
        # The eigenvectors of the 1280 x 1280 covariance: a full SVD of the cells costs ~40x
        # more for the same components.
        values, vectors = np.linalg.eigh(centred.T @ centred)
        k = min(k, len(values))
        top = vectors[:, np.argsort(values)[::-1][:k]].T
        return cls(mean.astype(np.float32), np.ascontiguousarray(top, dtype=np.float32))

    def apply(self, s32: np.ndarray) -> np.ndarray:
        c, h, w = s32.shape
        flat = s32.reshape(c, -1).T - self.mean
        return (flat @ self.components.T).T.reshape(-1, h, w).astype(np.float32)


def cell_features(fm: FeatureMaps, projection: Projection) -> np.ndarray:
    """One feature vector per stride-8 cell of the padded input.

    Parameters
    ----------
    fm : FeatureMaps
        From :func:`backbone_maps`.
    projection : Projection
        Fitted on the training images' stride-32 maps.

    Returns
    -------
    numpy.ndarray
        ``(H/8, W/8, D)`` float32 with ``D = 2 * (40 + 112) + k``.

    Examples
    --------
    >>> fm = backbone_maps(np.zeros((64, 64, 3), np.uint8), 256)
    >>> p = Projection.fit([fm.maps["features_s32"]], k=4)
    >>> cell_features(fm, p).shape
    (32, 32, 308)
    """
    s8 = fm.maps["features_s8"]
    hw = s8.shape[1:]
    s16 = bilinear_resize(fm.maps["features_s16"], hw, 2)
    s32 = bilinear_resize(projection.apply(fm.maps["features_s32"]), hw, 4)
    fine = np.concatenate([s8, s16])
    context = uniform_filter(fine, size=(1, 3, 3), mode="nearest")
    return np.concatenate([fine, context, s32]).transpose(1, 2, 0).astype(np.float32)
