"""Whole-image inputs for detection-style uses: resize, pad to the stride, map cells back.

:meth:`Backbone.feature_maps <vislab.engine.backbone.Backbone.feature_maps>` keeps the whole
image instead of the classification crop: it is resized so that its longer side is ``size``
pixels (default 384), keeping the aspect ratio, and padded at the bottom/right to a multiple of
the network's stride 32 with the normalised value 0 (pixel 127, mid grey). :class:`FeatureMaps`
carries the resulting maps with the geometry that maps a cell back to original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from vislab.engine.pixels import as_rgb
from vislab.engine.preprocess import normalise

STRIDE = 32
DEFAULT_DETECTION_SIZE = 384


@dataclass(frozen=True)
class FeatureMaps:
    """Feature maps of one whole image, with the geometry needed to map cells back to pixels.

    Attributes
    ----------
    maps : dict of str to numpy.ndarray
        Requested outputs for the single image, batch axis removed: ``(C, h, w)`` for the
        spatial maps, ``(1000,)`` / ``(1280,)`` for ``logits`` / ``embedding``.
    scale : float
        Resized size divided by original size (the same on both axes).
    image_hw : tuple of int
        Original image height and width.
    content_hw : tuple of int
        Height and width of the resized image inside the padded network input.
    input_hw : tuple of int
        Padded network input height and width (multiples of 32).
    """

    maps: dict[str, np.ndarray]
    scale: float
    image_hw: tuple[int, int]
    content_hw: tuple[int, int]
    input_hw: tuple[int, int]

    def valid_cells(self, stride: int) -> tuple[int, int]:
        """Rows and columns of a stride-``stride`` map that cover image content, not padding.

        Examples
        --------
        >>> fm = FeatureMaps({}, 0.5, (300, 451), (150, 226), (160, 256))
        >>> fm.valid_cells(32)
        (5, 8)
        """
        return (-(-self.content_hw[0] // stride), -(-self.content_hw[1] // stride))


def whole_image_tensor(
    image: np.ndarray, size: int | None = DEFAULT_DETECTION_SIZE
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Resize a whole image (longer side ``size``) and pad it to a multiple of 32.

    Parameters
    ----------
    image : numpy.ndarray
        ``uint8`` ``(H, W, 3)`` RGB (grey and RGBA are converted).
    size : int or None, default 384
        Target longer side; ``None`` keeps the image's own size (still padded).

    Returns
    -------
    tensor : numpy.ndarray
        ``(1, 3, H', W')`` float32 with ``H'``, ``W'`` multiples of 32, normalised as
        ``(pixel - 127) / 128``, zero in the padding.
    scale : float
        Resized size divided by original size.
    content_hw : tuple of int
        Size of the resized image inside the padded tensor.

    Examples
    --------
    >>> tensor, scale, hw = whole_image_tensor(np.zeros((300, 451, 3), np.uint8))
    >>> tensor.shape, round(scale, 3), hw
    ((1, 3, 256, 384), 0.851, (255, 384))
    """
    rgb = as_rgb(image)
    height, width = rgb.shape[:2]
    scale = 1.0 if size is None else size / max(height, width)
    new_h = max(1, int(round(height * scale)))
    new_w = max(1, int(round(width * scale)))
    if (new_h, new_w) != (height, width):
        rgb = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.BILINEAR))
    pad_h = -(-new_h // STRIDE) * STRIDE
    pad_w = -(-new_w // STRIDE) * STRIDE
    tensor = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
    normalise(rgb, out=tensor[0, :, :new_h, :new_w])
    return tensor, scale, (new_h, new_w)
