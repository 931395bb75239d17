"""The pool of unrelated images that teaches a classifier its "other" class.

Nothing is downloaded: the pool is cut from the photographs shipped with scikit-image
(astronaut, cat, coffee, rocket, coins, horse, moon, a page of text, the Hubble deep field,
a retina, stained tissue, a motorcycle...) and scikit-learn (a Chinese temple, a flower),
plus procedural pictures (noise, gradients, stripes, checkerboards, flat colours, blobs).
Each photo gives its whole frame and a few random crops, some mirrored, so the pool covers
scenes, objects, textures and documents at several scales. It is deterministic for a seed.

Examples
--------
>>> pool = other_pool_images(n_procedural=4, crops_per_photo=1)
>>> len(pool) > 20, pool[0].dtype, pool[0].ndim
(True, dtype('uint8'), 3)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["other_pool_images", "PHOTOS"]

#: The scikit-image sample photographs used (those shipped inside the package).
PHOTOS = (
    "astronaut",
    "camera",
    "cat",
    "coffee",
    "rocket",
    "coins",
    "horse",
    "moon",
    "page",
    "text",
    "clock",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "stereo_motorcycle",
    "brick",
    "grass",
    "gravel",
    "colorwheel",
    "logo",
    "cell",
    "microaneurysms",
)


def _rgb(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    if a.dtype != np.uint8:
        a = (255 * (a - a.min()) / max(float(np.ptp(a)), 1e-9)).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a[:, :, :3])


@lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    from skimage import data

    photos = []
    for name in PHOTOS:
        try:
            image = getattr(data, name)()
        except Exception:  # noqa: BLE001 - a sample missing from this skimage build
            continue
        image = image[0] if isinstance(image, tuple) else image
        photos.append(_rgb(image))
    try:
        from sklearn.datasets import load_sample_images

        photos.extend(_rgb(i) for i in load_sample_images().images)
    except Exception:  # noqa: BLE001 - scikit-learn without its sample photos
        pass
    return tuple(photos)


def _procedural(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / size
    kind = rng.integers(6)
    colour = rng.integers(0, 256, 3)
    if kind == 0:  # coloured noise
        img = rng.integers(0, 256, (size, size, 3))
    elif kind == 1:  # gradient between two colours
        t = xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1)
        t = (t - t.min()) / max(np.ptp(t), 1e-9)
        img = t[..., None] * colour + (1 - t[..., None]) * rng.integers(0, 256, 3)
    elif kind == 2:  # stripes
        f = rng.uniform(4, 30)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * f * (xx * np.cos(f) + yy * np.sin(f)))
        img = t[..., None] * colour
    elif kind == 3:  # checkerboard
        n = int(rng.integers(2, 16))
        t = ((xx * n).astype(int) + (yy * n).astype(int)) % 2
        img = t[..., None] * colour + (1 - t[..., None]) * (255 - colour)
    elif kind == 4:  # flat colour with a little noise
        img = colour + rng.normal(0, 6, (size, size, 3))
    else:  # soft blobs
        img = np.zeros((size, size, 3))
        for _ in range(int(rng.integers(3, 12))):
            cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.03, 0.2)
            bump = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
            img += bump[..., None] * rng.integers(0, 256, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


def other_pool_images(
    *, crops_per_photo: int = 4, n_procedural: int = 40, seed: int = 0
) -> list[np.ndarray]:
    """Unrelated pictures for the "other" class, as ``uint8`` RGB arrays.

    Parameters
    ----------
    crops_per_photo : int, default 4
        Random crops (a quarter to two thirds of the side, half of them mirrored) per photo,
        besides the whole photo.
    n_procedural : int, default 40
        Procedural pictures.
    seed : int

    Returns
    -------
    list of numpy.ndarray
        About ``24 * (1 + crops_per_photo) + n_procedural`` images (~160 by default).

    Examples
    --------
    >>> len(other_pool_images(crops_per_photo=0, n_procedural=0)) >= 20
    True
    """
    rng = np.random.default_rng(seed)
    out = []
    for photo in _photos():
        out.append(photo)
        h, w = photo.shape[:2]
        for c in range(crops_per_photo):
            side = int(min(h, w) * rng.uniform(0.25, 0.67))
            top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
            crop = photo[top : top + side, left : left + side]
            out.append(np.ascontiguousarray(crop[:, ::-1] if c % 2 else crop))
    out.extend(_procedural(rng) for _ in range(n_procedural))
    return out
