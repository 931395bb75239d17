"""The backbone's input preprocessing: RGB arrays, the centre crop, the normalisation.

Classification and embeddings follow the model's original TensorFlow eval pipeline: the centred
square of side ``0.875 * min(H, W)`` (224/256) is resized to 224x224 with PIL's bilinear filter
(antialiased when shrinking), then each channel is normalised as ``(pixel - 127) / 128``.
:mod:`vislab.engine.backbone` batches these; :mod:`vislab.engine.files` applies them to files.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Re-exported: the backbone checks its inputs with the engine's one pixel-array check.
from vislab.engine.pixels import as_rgb  # noqa: F401

INPUT_SIZE = 224
CROP_FRACTION = 224 / 256
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0


def normalise(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``(H, W, 3)`` ``uint8`` -> ``(3, H, W)`` float32 ``(pixel - 127) / 128``.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``uint8`` ``(H, W, 3)``.
    out : numpy.ndarray, optional
        ``(3, H, W)`` float32 to write into (e.g. one image of a batch tensor), so the result
        is not copied once more.

    Returns
    -------
    numpy.ndarray
        ``out``, or a new array.

    Examples
    --------
    >>> normalise(np.array([[[0, 127, 255]]], np.uint8)).ravel().tolist()
    [-0.9921875, 0.0, 1.0]
    """
    chw = rgb.transpose(2, 0, 1)
    if out is None:
        out = np.empty(chw.shape, np.float32)
    # uint8 -> float32 is exact, and so are "- 127" and "* 2**-7" in float32.
    np.subtract(chw, np.float32(PIXEL_MEAN), out=out, dtype=np.float32)
    out *= np.float32(1.0 / PIXEL_STD)
    return out


def crop_box(height: int, width: int) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` of the centred square the classifier sees.

    Its side is ``0.875 * min(height, width)`` (224/256), rounded.

    Examples
    --------
    >>> crop_box(300, 451)
    (94, 19, 356, 281)
    """
    crop = max(1, int(round(min(height, width) * CROP_FRACTION)))
    top, left = (height - crop) // 2, (width - crop) // 2
    return left, top, left + crop, top + crop


def centre_crop_resize(rgb: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """The centred 224/256 square of ``rgb``, resized to ``size`` x ``size`` (PIL bilinear).

    Examples
    --------
    >>> centre_crop_resize(np.zeros((300, 451, 3), np.uint8)).shape
    (224, 224, 3)
    """
    left, top, right, bottom = crop_box(*rgb.shape[:2])
    # Crop before handing pixels to PIL: only the crop is copied, and the filter never reads
    # pixels outside it (resize(box=...) would), matching the export's reference exactly.
    patch = np.ascontiguousarray(rgb[top:bottom, left:right])
    return np.asarray(Image.fromarray(patch).resize((size, size), Image.BILINEAR))
