"""The one check of the pixel arrays the engine's functions take: ``uint8`` RGB ``(H, W, 3)``.

The backbone (:mod:`vislab.engine.preprocess`), the content signature and the hashes
(:mod:`vislab.engine.hashing`), the texture descriptor and the gallery's features all work on
C-contiguous ``uint8`` RGB arrays; each calls :func:`as_rgb` on what it is given, so they
accept and refuse the same arrays: grey ``(H, W)`` and RGBA ``(H, W, 4)`` are converted (grey
repeated, alpha dropped), anything else raises a :class:`vislab.errors.InvalidParameter`.
"""

from __future__ import annotations

import numpy as np

from vislab.errors import InvalidParameter

__all__ = ["PixelTypeError", "as_rgb"]


class PixelTypeError(InvalidParameter, TypeError):
    """A pixel array is not ``uint8``.

    An :class:`~vislab.errors.InvalidParameter` like the engine's other refusals, and a
    ``TypeError`` too, as numpy's own dtype errors are.

    Parameters
    ----------
    message : str
        What is wrong and what to do about it.
    name : str, optional
        The parameter that holds the array.

    Examples
    --------
    >>> err = PixelTypeError("pixels must be uint8", name="pixels")
    >>> isinstance(err, TypeError), isinstance(err, InvalidParameter), err.name
    (True, True, 'pixels')
    """


def as_rgb(pixels, *, name: str = "image") -> np.ndarray:
    """Return ``pixels`` as a C-contiguous ``uint8`` ``(H, W, 3)`` RGB array.

    Parameters
    ----------
    pixels : array-like
        ``uint8``: ``(H, W)`` grey (repeated into three channels), ``(H, W, 3)`` RGB or
        ``(H, W, 4)`` RGBA (alpha dropped).
    name : str, default "image"
        The caller's name for the argument, used in error messages.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` ``uint8``; ``pixels`` itself when it already is one (no copy).

    Raises
    ------
    PixelTypeError
        The dtype is not ``uint8`` (also a ``TypeError``).
    vislab.errors.InvalidParameter
        The shape is not one of the above, or the image has no pixels.

    Examples
    --------
    >>> as_rgb(np.zeros((4, 5), np.uint8)).shape
    (4, 5, 3)
    >>> as_rgb(np.zeros((4, 5, 4), np.uint8)).shape
    (4, 5, 3)
    >>> as_rgb(np.zeros((4, 5, 3)), name="pixels")
    Traceback (most recent call last):
    ...
    vislab.engine.pixels.PixelTypeError: pixels must be a uint8 array, got float64; ...
    """
    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        raise PixelTypeError(
            f"{name} must be a uint8 array, got {array.dtype}; scale it to 0..255 and convert "
            "it (e.g. skimage.util.img_as_ubyte)",
            name=name,
        )
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    if array.ndim != 3 or array.shape[2] != 3:
        raise InvalidParameter(
            f"{name} must have shape (H, W, 3) RGB, (H, W) grey or (H, W, 4) RGBA, "
            f"got {array.shape}",
            name=name,
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InvalidParameter(f"{name} is empty (shape {array.shape})", name=name)
    return np.ascontiguousarray(array)
