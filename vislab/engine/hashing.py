"""Content signatures and perceptual hashes of pixel arrays.

* :func:`content_sign` — the gallery's ``cont_sign``: two unsigned 32-bit integers joined by a
  comma (spec glossary), derived deterministically from the decoded pixels.  Identical pixels
  give the same signature on every machine and run, so re-adding the same image is detected.
* :func:`phash` — DCT perceptual hash (64 bits): robust to resizing, re-encoding and global
  brightness/contrast changes, so it finds lightly edited copies.
* :func:`dhash` — gradient ("difference") hash (64 bits), a second, independent opinion.
* :func:`hamming` — vectorised Hamming distances between one hash and many.
* :func:`thumbnail` and :class:`CopyVerifier` — the verification step of same-image search:
  band-passed correlation of 64 x 64 thumbnails, allowing small crops either way.

Hashes are Python ``int`` in ``0 .. 2**64-1``; arrays of them use ``numpy.uint64``.
Only numpy, Pillow and scipy (``fft``, ``ndimage``) are used (``imagehash`` is not a dependency).
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image
from scipy.fft import dctn
from scipy.ndimage import gaussian_filter

from vislab.engine.pixels import as_rgb
from vislab.errors import InvalidParameter

__all__ = [
    "as_rgb_array",
    "content_sign",
    "parse_cont_sign",
    "phash",
    "dhash",
    "hamming",
    "to_int64",
    "from_int64",
    "thumbnail",
    "CopyVerifier",
    "THUMB_SIZE",
]

# Version tag mixed into the signature so a future change of the recipe cannot collide
# with signatures stored by this one.
_SIGN_SALT = b"vislab-cont-sign-v1"
# Low-frequency block kept by pHash and the size the image is reduced to before the DCT
# (the classic 32x32 -> 8x8 recipe: enough detail to separate images, blind to fine noise).
_PHASH_SIZE = 32
_PHASH_LOW = 8


def as_rgb_array(pixels) -> np.ndarray:
    """Check and return ``pixels`` as a C-contiguous ``uint8`` array of shape (H, W, 3).

    Grey (H, W) and RGBA (H, W, 4) arrays are converted (grey repeated, alpha dropped). The
    engine's one pixel check, :func:`vislab.engine.pixels.as_rgb`, with errors naming
    ``pixels``.

    Parameters
    ----------
    pixels : array-like
        ``uint8`` image.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` ``uint8``.

    Raises
    ------
    vislab.errors.InvalidParameter
        Not ``uint8``, or not an image shape.

    Examples
    --------
    >>> as_rgb_array(np.zeros((4, 5), np.uint8)).shape
    (4, 5, 3)
    """
    return as_rgb(pixels, name="pixels")


def content_sign(pixels) -> str:
    """Return the ``cont_sign`` of an image: ``"<uint32>,<uint32>"`` from its pixels.

    The signature is the first 8 bytes of SHA-256 over a salt, the shape and the RGB bytes,
    read as two big-endian unsigned 32-bit integers.  It depends on the decoded pixels only:
    the same file added twice (or the same pixels saved as PNG and as BMP) gets the same
    signature; any changed pixel gives another one.

    Parameters
    ----------
    pixels : array-like
        ``uint8`` image, (H, W, 3) RGB (grey and RGBA are converted).

    Returns
    -------
    str

    Examples
    --------
    >>> img = np.zeros((2, 2, 3), np.uint8)
    >>> content_sign(img) == content_sign(img.copy())
    True
    >>> a, b = content_sign(img).split(",")
    >>> 0 <= int(a) < 2**32 and 0 <= int(b) < 2**32
    True
    """
    arr = as_rgb_array(pixels)
    h = hashlib.sha256(_SIGN_SALT)
    h.update(np.asarray(arr.shape, dtype=">u4").tobytes())
    h.update(arr.tobytes())
    digest = h.digest()
    return f"{int.from_bytes(digest[:4], 'big')},{int.from_bytes(digest[4:8], 'big')}"


def parse_cont_sign(value: str) -> str:
    """Validate one ``cont_sign`` and return it normalised (no spaces, no leading zeros).

    Raises
    ------
    vislab.errors.InvalidParameter
        Not two unsigned 32-bit integers joined by a comma.

    Examples
    --------
    >>> parse_cont_sign(" 4261577168, 501945506")
    '4261577168,501945506'
    """
    parts = str(value).strip().split(",")
    try:
        nums = [int(p.strip()) for p in parts]
    except ValueError:
        nums = []
    if len(nums) != 2 or not all(0 <= n < 2**32 for n in nums):
        raise InvalidParameter(
            f"cont_sign must be two unsigned 32-bit integers joined by ',', got {value!r}",
            name="cont_sign",
        )
    return f"{nums[0]},{nums[1]}"


def _grey(pixels, size: tuple[int, int]) -> np.ndarray:
    """Luma (ITU-R 601) of ``pixels`` resized to ``size`` = (width, height), as float64."""
    arr = as_rgb_array(pixels)
    # Pillow's "L" conversion is the 601 luma; LANCZOS with reducing_gap antialiases, which
    # makes the hash of a 4000 px photo and of its 400 px thumbnail agree.
    img = Image.fromarray(arr, "RGB").convert("L")
    img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(img, dtype=np.float64)


def _bits_to_int(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.astype(np.uint8).ravel()).tobytes(), "big")


def phash(pixels) -> int:
    """Perceptual hash: signs of the 8x8 lowest DCT frequencies of a 32x32 grey thumbnail.

    Each bit says whether a low-frequency DCT coefficient is above the median of the 63 AC
    coefficients (the DC term, i.e. mean brightness, is left out of the median so a global
    brightness change does not move the threshold).

    Parameters
    ----------
    pixels : array-like
        ``uint8`` image.

    Returns
    -------
    int
        64-bit hash in ``0 .. 2**64-1``.

    Examples
    --------
    >>> from skimage import data
    >>> img = data.astronaut()
    >>> half = np.asarray(Image.fromarray(img).resize((256, 256)))
    >>> int(hamming(phash(img), phash(half))) <= 4
    True
    """
    grey = _grey(pixels, (_PHASH_SIZE, _PHASH_SIZE))
    low = dctn(grey, type=2, norm="ortho")[:_PHASH_LOW, :_PHASH_LOW].ravel()
    return _bits_to_int(low > np.median(low[1:]))


def dhash(pixels) -> int:
    """Difference hash: is each pixel of a 9x8 grey thumbnail brighter than its left neighbour.

    Examples
    --------
    >>> from skimage import data
    >>> img = data.chelsea()
    >>> int(hamming(dhash(img), dhash(np.clip(img.astype(int) + 20, 0, 255).astype(np.uint8))))
    0
    """
    grey = _grey(pixels, (9, 8))
    return _bits_to_int(grey[:, 1:] > grey[:, :-1])


# popcount of every byte value, for numpy versions without np.bitwise_count.
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming(a, b) -> np.ndarray:
    """Hamming distance(s) between 64-bit hashes; ``a`` and ``b`` broadcast.

    Parameters
    ----------
    a, b : int or array of uint64

    Returns
    -------
    numpy.ndarray
        ``uint8`` distances in ``0..64`` (a 0-d array for two scalars).

    Examples
    --------
    >>> hamming(0b1011, 0b0001)
    array(2, dtype=uint8)
    >>> hamming(np.array([0, 3, 2**64 - 1], dtype=np.uint64), 0).tolist()
    [0, 2, 64]
    """
    x = np.bitwise_xor(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
    if hasattr(np, "bitwise_count"):
        return np.asarray(np.bitwise_count(x), dtype=np.uint8)
    bytes_ = np.ascontiguousarray(x)[..., None].view(np.uint8)
    return np.asarray(_POPCOUNT8[bytes_].sum(axis=-1, dtype=np.uint8))


def to_int64(h: int) -> int:
    """Map an unsigned 64-bit hash to the signed range SQLite integers hold.

    Examples
    --------
    >>> from_int64(to_int64(2**64 - 1)) == 2**64 - 1
    True
    """
    return h - 2**64 if h >= 2**63 else h


def from_int64(v: int) -> int:
    """Inverse of :func:`to_int64`."""
    return v + 2**64 if v < 0 else v


# ----------------------------------------------------------------------------------------------
# Near-copy verification

THUMB_SIZE = 64
# Crop fractions tried when checking whether one picture is a crop of the other: each side
# may keep 80-100 % of the original, independently in x and y.
_COPY_SCALES = (1.0, 0.95, 0.9, 0.85, 0.8)
# Stop searching crops once the correlation is this high: it cannot be a different picture.
_COPY_SURE = 0.95


def thumbnail(pixels) -> np.ndarray:
    """64 x 64 grey thumbnail (aspect not kept) used to verify near-copies; ``uint8``.

    Examples
    --------
    >>> from skimage import data
    >>> thumbnail(data.astronaut()).shape
    (64, 64)
    """
    return np.asarray(_grey(pixels, (THUMB_SIZE, THUMB_SIZE)).round(), dtype=np.uint8)


def _highpass(t: np.ndarray) -> np.ndarray:
    # Band-pass (difference of Gaussians): drops the overall tone and lighting gradients,
    # which two different photos of one kind of scene share, and keeps the detail, which
    # only copies of one picture share.  Also cancels brightness and contrast changes.
    return gaussian_filter(t, 0.7) - gaussian_filter(t, 3.0)


def _resized(grey: np.ndarray, width: int, height: int) -> np.ndarray:
    img = Image.fromarray(grey.astype(np.float32), "F")
    return np.asarray(img.resize((width, height), Image.Resampling.BILINEAR), np.float32)


class _Frame:
    """A band-passed picture prepared for correlation: its FFT and window statistics."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self.shape = image.shape
        self.fft = np.fft.rfft2(image)
        self.c1 = np.pad(image, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        self.c2 = np.pad(image * image, ((1, 0), (1, 0))).cumsum(0).cumsum(1)

    def window_std(self, th: int, tw: int) -> np.ndarray:
        """sqrt(sum of squared deviations) of every th x tw window (valid offsets)."""

        def box(c):
            return c[th:, tw:] - c[:-th, tw:] - c[th:, :-tw] + c[:-th, :-tw]

        s1 = box(self.c1)
        return np.sqrt(np.maximum(box(self.c2) - s1 * s1 / (th * tw), 1e-6))


def _template_fft(template: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Conjugate FFT of the zero-mean template padded to ``shape``, and its norm."""
    t = template - template.mean()
    padded = np.zeros(shape, np.float64)
    padded[: t.shape[0], : t.shape[1]] = t
    return np.conj(np.fft.rfft2(padded)), float(np.sqrt((t * t).sum()))


def _ncc_max(frame: _Frame, tpl_fft: np.ndarray, tpl_norm: float, th: int, tw: int) -> float:
    """Best normalised cross-correlation of a th x tw template at any offset in ``frame``.

    The frame is at least as large as the template, so the circular correlation computed at
    the frame's own size does not wrap for the valid offsets.
    """
    if tpl_norm < 1e-6:
        return 0.0
    corr = np.fft.irfft2(frame.fft * tpl_fft, s=frame.shape)
    h, w = frame.shape
    num = corr[: h - th + 1, : w - tw + 1]
    return float((num / (frame.window_std(th, tw) * tpl_norm)).max())


def _scale_pairs() -> list[tuple[float, float]]:
    pairs = [(sx, sy) for sy in _COPY_SCALES for sx in _COPY_SCALES]
    # Whole picture first, then uniform crops, then uneven ones: true copies stop early.
    return sorted(pairs, key=lambda p: (p != (1.0, 1.0), p[0] != p[1], -p[0] * p[1]))


_SCALE_PAIRS = _scale_pairs()


class CopyVerifier:
    """Check stored thumbnails against one query picture: is it the same picture?

    The score is the best band-passed normalised cross-correlation between the two 64 x 64
    thumbnails, allowing either picture to be a crop of the other (each side keeping 80-100 %,
    any position).  Re-encoding, resizing, brightness/contrast changes and small crops keep it
    above 0.83 on the scikit-image photos; different photos, different faces of the LFW
    sample and halves of one photo stay far below (see ``SAME_HQ_RULES`` in
    :mod:`vislab.engine.gallery` for the threshold and the measured table).

    Parameters
    ----------
    pixels : array-like
        The query picture (``uint8`` RGB).

    Examples
    --------
    >>> from skimage import data
    >>> img = data.chelsea()
    >>> v = CopyVerifier(img[20:-20, 30:-30])
    >>> v.score(thumbnail(img)) > 0.9, v.score(thumbnail(data.coffee())) < 0.5
    (True, True)
    """

    def __init__(self, pixels):
        self._big = _grey(pixels, (2 * THUMB_SIZE, 2 * THUMB_SIZE)).astype(np.float32)
        self._forward: dict = {}
        self._reverse: dict = {}

    def _forward_template(self, sx: float, sy: float):
        # The query is a crop of the stored picture: the query, shrunk to the size its
        # content has in the stored 64 x 64 thumbnail, is slid over that thumbnail.
        key = (sx, sy)
        if key not in self._forward:
            w, h = round(THUMB_SIZE * sx), round(THUMB_SIZE * sy)
            tpl = _highpass(_resized(self._big, w, h))
            self._forward[key] = (*_template_fft(tpl, (THUMB_SIZE, THUMB_SIZE)), h, w)
        return self._forward[key]

    def _reverse_frame(self, sx: float, sy: float) -> _Frame:
        # The stored picture is a crop of the query: the query, enlarged so that the stored
        # part has the size of a 64 x 64 thumbnail, is the frame the thumbnail slides over.
        key = (sx, sy)
        if key not in self._reverse:
            w, h = round(THUMB_SIZE / sx), round(THUMB_SIZE / sy)
            self._reverse[key] = _Frame(_highpass(_resized(self._big, w, h)))
        return self._reverse[key]

    def score(self, thumb: np.ndarray) -> float:
        """Best correlation (about -1..1) between the query and one stored thumbnail."""
        stored = _highpass(np.asarray(thumb, dtype=np.float32))
        frame = _Frame(stored)
        best = -1.0
        reverse_fft: dict = {}
        for sx, sy in _SCALE_PAIRS:
            tpl_fft, tpl_norm, th, tw = self._forward_template(sx, sy)
            best = max(best, _ncc_max(frame, tpl_fft, tpl_norm, th, tw))
            if best >= _COPY_SURE:
                break
            if (sx, sy) != (1.0, 1.0):
                rframe = self._reverse_frame(sx, sy)
                if rframe.shape not in reverse_fft:
                    reverse_fft[rframe.shape] = _template_fft(stored, rframe.shape)
                r_fft, r_norm = reverse_fft[rframe.shape]
                best = max(best, _ncc_max(rframe, r_fft, r_norm, *stored.shape))
                if best >= _COPY_SURE:
                    break
        return best
