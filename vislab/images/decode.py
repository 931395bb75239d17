"""Bytes a client sent -> pixels, for the emulator: the header first, then the pixels."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

from vislab.errors import InvalidImage
from vislab.images.header import read_header
from vislab.images.limits import FORMAT_ALIASES
from vislab.images.prepare import MAX_DECODE_PIXELS, to_rgb

__all__ = ["read_header", "decode_pixels"]


def decode_pixels(data: bytes) -> tuple[np.ndarray, str]:
    """Decode image bytes to an RGB uint8 array (EXIF orientation applied) and its format.

    Used by the emulator, which receives the bytes a client sent.  The size is read from the
    header first (:func:`read_header`), so a decompression bomb is refused before decoding.
    An animated image gives its first frame; other modes become 8-bit RGB.

    Parameters
    ----------
    data : bytes
        An encoded image file (JPEG, PNG, BMP, GIF, WEBP, TIFF ...).

    Returns
    -------
    pixels : numpy.ndarray
        ``uint8`` array of shape ``(height, width, 3)``, EXIF orientation applied.
    format : str
        The file's format as services name it (``"JPEG"``, ``"PNG"`` ...).

    Raises
    ------
    vislab.errors.InvalidImage
        Rule ``"decode"`` when the bytes are not a readable image, rule ``"pixels"`` when the
        header announces more than ``MAX_DECODE_PIXELS`` pixels.

    Examples
    --------
    >>> buf = io.BytesIO(); Image.new("RGB", (32, 16), "blue").save(buf, "PNG")
    >>> pixels, fmt = decode_pixels(buf.getvalue())
    >>> pixels.shape, fmt
    ((16, 32, 3), 'PNG')
    """
    w, h, _ = read_header(data)
    if w * h > MAX_DECODE_PIXELS:
        raise InvalidImage(
            f"{w}x{h} px is more than vislab decodes",
            rule="pixels",
            limit=MAX_DECODE_PIXELS,
            value=w * h,
        )
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception:
        raise InvalidImage("not a readable image", rule="decode") from None
    fmt = FORMAT_ALIASES.get(img.format or "", img.format or "")
    if getattr(img, "is_animated", False):
        img.seek(0)
        img = img.copy()
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:
        pass
    rgb, _ = to_rgb(img)
    return np.asarray(rgb.convert("RGB")), fmt
