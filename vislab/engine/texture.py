"""Texture descriptor for fabric (``materiel``) galleries, from pixels with numpy only.

Fabric search ranks by texture and pattern more than by what the picture "shows", so the
materiel gallery mixes the backbone embedding with this hand-made descriptor.  Three blocks,
each normalised to unit length and weighted, then the whole vector to unit length:

* **LBP** — rotation-invariant uniform local binary patterns (``riu2``, 8 neighbours) at radii
  1, 2 and 4 px: the statistics of micro-structure (weave, grain, speckle), blind to lighting.
* **Gabor energy** — the share of image energy in each of 4 scales x 6 orientations of a
  log-Gabor filter bank (computed with one FFT): stripes, checks, their direction and pitch.
* **Colour** — a coarse 4x4x4 RGB histogram: the same pattern in another colourway is
  similar but not the same.

Histograms are square-rooted (Hellinger mapping) before normalisation so that cosine
similarity behaves like a Bhattacharyya coefficient.  The image is first brought to a fixed
256 x 256 working size (shorter side resized to 256, centre crop) so that a stored swatch and a
query swatch of different pixel size are compared at the same scale of pattern.

:func:`texture_similarity` turns the cosine of two descriptors into a 0..1 score where
unrelated textures land near 0 (plain cosine of non-negative histograms rarely drops below
~0.8, which would squash the scale).
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from vislab.engine.hashing import as_rgb_array

__all__ = ["texture_descriptor", "texture_similarity", "TEXTURE_DIM", "TEXTURE_BASELINE"]

_WORK = 256
_LBP_RADII = (1, 2, 4)
_LBP_BINS = 10  # riu2 with 8 neighbours: 0..8 ones for uniform patterns, 9 for the rest
_GABOR_SCALES = 4
_GABOR_ORIENTS = 6
_COLOUR_LEVELS = 4
# Block weights: texture structure dominates, colour breaks ties between colourways.
_WEIGHTS = {"lbp": 1.0, "gabor": 1.0, "colour": 0.6}

TEXTURE_DIM = len(_LBP_RADII) * _LBP_BINS + _GABOR_SCALES * _GABOR_ORIENTS + _COLOUR_LEVELS**3
# Cosine between descriptors of unrelated images sits around this value (measured on 18
# scikit-image sample photos and textures: median 0.85, 95th percentile 0.95, while two
# halves of one texture score 0.99+); scores are rescaled so that it maps to 0.
TEXTURE_BASELINE = 0.85


def _working_image(pixels) -> np.ndarray:
    arr = as_rgb_array(pixels)
    img = Image.fromarray(arr, "RGB")
    w, h = img.size
    scale = _WORK / min(w, h)
    nw, nh = max(_WORK, round(w * scale)), max(_WORK, round(h * scale))
    img = img.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=2.0)
    left, top = (nw - _WORK) // 2, (nh - _WORK) // 2
    return np.asarray(img.crop((left, top, left + _WORK, top + _WORK)), dtype=np.float32)


def _sample(grey: np.ndarray, dy: float, dx: float, pad: int) -> np.ndarray:
    """Bilinearly sample ``grey`` shifted by (dy, dx); ``grey`` is padded by ``pad``."""
    h, w = grey.shape[0] - 2 * pad, grey.shape[1] - 2 * pad
    y0, x0 = int(np.floor(dy)), int(np.floor(dx))
    fy, fx = dy - y0, dx - x0

    def at(oy, ox):
        return grey[pad + oy : pad + oy + h, pad + ox : pad + ox + w]

    out = (1 - fy) * (1 - fx) * at(y0, x0)
    if fx > 1e-6:
        out = out + (1 - fy) * fx * at(y0, x0 + 1)
    if fy > 1e-6:
        out = out + fy * (1 - fx) * at(y0 + 1, x0)
    if fx > 1e-6 and fy > 1e-6:
        out = out + fy * fx * at(y0 + 1, x0 + 1)
    return out


def _lbp_histograms(grey: np.ndarray) -> np.ndarray:
    pad = max(_LBP_RADII) + 1
    padded = np.pad(grey, pad, mode="reflect")
    hists = []
    for radius in _LBP_RADII:
        angles = 2 * np.pi * np.arange(8) / 8
        # A small tolerance keeps flat regions (noise of +-1 grey level) from flickering.
        bits = np.stack(
            [
                _sample(padded, -radius * np.sin(a), radius * np.cos(a), pad) >= grey + 1.0
                for a in angles
            ]
        ).astype(np.int8)
        ones = bits.sum(axis=0)
        transitions = np.abs(np.diff(np.concatenate([bits, bits[:1]]), axis=0)).sum(axis=0)
        codes = np.where(transitions <= 2, ones, _LBP_BINS - 1)
        hists.append(np.bincount(codes.ravel(), minlength=_LBP_BINS).astype(np.float64))
    return np.concatenate([np.sqrt(h / h.sum()) for h in hists])


@functools.lru_cache(maxsize=1)
def _gabor_bank() -> np.ndarray:
    """The log-Gabor filter bank in the frequency domain, (filters, WORK * WORK), built once."""
    fy = np.fft.fftfreq(_WORK)[:, None]
    fx = np.fft.fftfreq(_WORK)[None, :]
    radius = np.hypot(fy, fx)
    radius[0, 0] = 1.0  # the DC term is zero after centring; avoid log(0)
    theta = np.arctan2(fy, fx)
    bank = []
    # Centre frequencies 1/4, 1/8, 1/16, 1/32 cycles/px (pattern pitch 4..32 px), one octave
    # apart; bandwidth sigma_f/f0 = 0.55 (about 2 octaves) so the bands overlap smoothly.
    for s in range(_GABOR_SCALES):
        f0 = 0.25 / 2**s
        radial = np.exp(-(np.log(radius / f0) ** 2) / (2 * np.log(0.55) ** 2))
        radial[0, 0] = 0.0
        for o in range(_GABOR_ORIENTS):
            angle = o * np.pi / _GABOR_ORIENTS
            # Orientation is folded onto 0..pi: a stripe and its mirror are one direction.
            d = np.angle(np.exp(2j * (theta - angle))) / 2
            angular = np.exp(-(d**2) / (2 * (np.pi / _GABOR_ORIENTS / 1.2) ** 2))
            bank.append((radial * angular).ravel())
    return np.asarray(bank, dtype=np.float32)


def _gabor_energies(grey: np.ndarray) -> np.ndarray:
    g = grey - grey.mean()
    power = (np.abs(np.fft.fft2(g)) ** 2).astype(np.float32).ravel()
    e = (_gabor_bank() @ power).astype(np.float64)
    total = e.sum()
    return np.sqrt(e / total) if total > 0 else np.zeros_like(e)


def _colour_histogram(rgb: np.ndarray) -> np.ndarray:
    q = np.clip((rgb / 256.0 * _COLOUR_LEVELS).astype(np.int64), 0, _COLOUR_LEVELS - 1)
    codes = (q[..., 0] * _COLOUR_LEVELS + q[..., 1]) * _COLOUR_LEVELS + q[..., 2]
    h = np.bincount(codes.ravel(), minlength=_COLOUR_LEVELS**3).astype(np.float64)
    return np.sqrt(h / h.sum())


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def texture_descriptor(pixels) -> np.ndarray:
    """Return the texture descriptor of an image: ``float32`` vector of length ``TEXTURE_DIM``.

    Parameters
    ----------
    pixels : array-like
        ``uint8`` RGB image (H, W, 3); grey and RGBA are converted.

    Returns
    -------
    numpy.ndarray
        Unit-length ``float32`` vector (``TEXTURE_DIM`` = 118 values).

    Examples
    --------
    >>> from skimage import data
    >>> d = texture_descriptor(data.brick())
    >>> d.shape, round(float(np.linalg.norm(d)), 4)
    ((118,), 1.0)
    """
    rgb = _working_image(pixels)
    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    parts = [
        _WEIGHTS["lbp"] * _unit(_lbp_histograms(grey)),
        _WEIGHTS["gabor"] * _unit(_gabor_energies(grey)),
        _WEIGHTS["colour"] * _unit(_colour_histogram(rgb)),
    ]
    return _unit(np.concatenate(parts)).astype(np.float32)


def texture_similarity(cosine) -> np.ndarray:
    """Map the cosine of two texture descriptors to a 0..1 score (baseline 0.85 -> 0).

    Examples
    --------
    >>> texture_similarity(np.array([1.0, 0.925, 0.2])).round(3).tolist()
    [1.0, 0.5, 0.0]
    """
    c = np.asarray(cosine, dtype=np.float32)
    return np.clip((c - TEXTURE_BASELINE) / (1.0 - TEXTURE_BASELINE), 0.0, 1.0)
