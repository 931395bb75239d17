"""Numpy arrays as images: one documented rule for every dtype.

==============  ==========================================================================
dtype           how it becomes 8-bit
==============  ==========================================================================
``uint8``       as is
``bool``        ``False`` -> 0, ``True`` -> 255 (a mask shows black and white)
``uint16``      scaled by its bit depth: the smallest of 8, 10, 12, 14, 16 bits that holds
                the maximum value, so 12-bit sensor data (max <= 4095) fills 0..255 and full
                16-bit data is ``value / 257``; a 16-bit PIL image follows the same rule
other integers  values must lie in 0..255 (used as they are) or 0..65535 (the ``uint16``
                rule); negative values are refused
floats          every value must be finite; 0..1 is scaled by 255, 0..255 is used as it is,
                anything else (negative, above 255) is refused — normalise it first
==============  ==========================================================================

Shapes: ``(H, W)`` grey, ``(H, W, 1)``, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA.  Empty arrays
and object arrays are refused.  Every refusal is an :class:`~vislab.errors.InvalidImage` with
rule ``"type"`` (shape, dtype) or ``"values"`` (what the values hold).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from vislab.errors import InvalidImage

__all__ = ["array_to_pil", "scale_bit_depth"]

_DEPTHS = (8, 10, 12, 14, 16)


def scale_bit_depth(a: np.ndarray) -> np.ndarray:
    """Integer data of up to 16 bits -> uint8, scaled by the smallest bit depth holding it.

    Examples
    --------
    >>> scale_bit_depth(np.array([0, 4095], np.uint16)).tolist()   # 12-bit data
    [0, 255]
    >>> scale_bit_depth(np.array([0, 65535], np.uint16)).tolist()  # 16-bit data
    [0, 255]
    """
    top = int(a.max()) if a.size else 0
    bits = next(b for b in _DEPTHS if top < 2**b) if top < 2**16 else 16
    scale = 255.0 / (2**bits - 1)
    return np.clip(np.rint(a.astype(np.float64) * scale), 0, 255).astype(np.uint8)


def _refuse(ident: str, message: str, *, rule: str, value=None):
    raise InvalidImage(f"{ident}: {message}", rule=rule, value=value, image=ident)


def array_to_pil(arr: np.ndarray, ident: str) -> Image.Image:
    """A numpy array as a PIL image, by the rule of this module.

    Parameters
    ----------
    arr : numpy.ndarray
        ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` of bool, integer or float
        values (the table above says how each dtype becomes 8-bit).
    ident : str
        The image's identifier, named in the error message.

    Returns
    -------
    PIL.Image.Image
        8-bit ``"L"`` (grey), ``"RGB"`` or ``"RGBA"`` image.

    Raises
    ------
    vislab.errors.InvalidImage
        Rule ``"type"`` for a wrong shape or dtype, ``"values"`` for values out of range.

    Examples
    --------
    >>> array_to_pil(np.zeros((8, 8), bool), "mask").mode
    'L'
    >>> array_to_pil(np.full((8, 8, 3), -0.5), "bad")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidImage: bad: float values must lie in 0..1 or 0..255, got -0.5..-0.5; normalise the array first
    """
    a = np.asarray(arr)
    shape = tuple(a.shape)
    if a.dtype == object or a.dtype.kind not in "biuf":
        _refuse(
            ident,
            f"a {a.dtype} array is not an image; pass numbers (uint8 RGB)",
            rule="type",
            value=str(a.dtype),
        )
    if a.size == 0:
        _refuse(ident, f"the array is empty (shape {shape})", rule="type", value=shape)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))):
        _refuse(
            ident,
            f"array of shape {shape} is not an image; expected HxW, HxWx3 or HxWx4",
            rule="type",
            value=shape,
        )
    if a.dtype.kind == "b":
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind == "f":
        if not np.isfinite(a).all():
            bad = int((~np.isfinite(a)).sum())
            _refuse(
                ident, f"{bad} of {a.size} values are NaN or infinite", rule="values", value=bad
            )
        lo, hi = float(a.min()), float(a.max())
        if lo < 0 or hi > 255:
            _refuse(
                ident,
                f"float values must lie in 0..1 or 0..255, got {lo:g}..{hi:g}; "
                "normalise the array first",
                rule="values",
                value=(lo, hi),
            )
        a = np.rint(a * 255.0 if hi <= 1.0 else a).astype(np.uint8)
    elif a.dtype != np.uint8:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 65535:
            _refuse(
                ident,
                f"integer values must lie in 0..255 (or 0..65535 for 16-bit data), got {lo}..{hi}",
                rule="values",
                value=(lo, hi),
            )
        a = a.astype(np.uint8) if hi <= 255 else scale_bit_depth(a)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(a))
