"""Real photos and edited copies for the gallery and hashing tests.

The photos ship with scikit-image; the edits are what people do to a picture before it comes
back to a de-duplication system (re-encode, resize, crop, brightness ...).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance

PHOTO_NAMES = (
    "astronaut", "camera", "chelsea", "coffee", "coins", "hubble_deep_field",
    "immunohistochemistry", "moon", "page", "retina", "rocket", "text", "cell", "brick",
    "grass", "gravel", "logo", "horse", "colorwheel", "clock", "microaneurysms",
)  # fmt: skip
TEXTURES = ("brick", "grass", "gravel")


def as_u8_rgb(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = (a * 255).round().astype(np.uint8) if a.max() <= 1 else a.astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, 2)
    return np.ascontiguousarray(a[..., :3])


def load_photos(names=PHOTO_NAMES) -> dict[str, np.ndarray]:
    from skimage import data

    return {n: as_u8_rgb(getattr(data, n)()) for n in names}


def faces(n: int = 30) -> list[np.ndarray]:
    """Different people's faces (LFW sample), 100 x 100: look-alikes that are not copies."""
    from skimage import data

    return [resize(as_u8_rgb(f), 4.0) for f in data.lfw_subset()[:n]]


def jpeg(a, quality):
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def resize(a, f):
    h, w = a.shape[:2]
    size = (max(1, int(w * f)), max(1, int(h * f)))
    return np.asarray(Image.fromarray(a).resize(size, Image.Resampling.LANCZOS))


def crop(a, f):
    h, w = a.shape[:2]
    dy, dx = int(h * f), int(w * f)
    return np.ascontiguousarray(a[dy : h - dy, dx : w - dx])


def crop_corner(a, f):
    h, w = a.shape[:2]
    return np.ascontiguousarray(a[: int(h * (1 - f)), : int(w * (1 - f))])


def brightness(a, d):
    return np.clip(a.astype(int) + d, 0, 255).astype(np.uint8)


def contrast(a, f):
    return np.asarray(ImageEnhance.Contrast(Image.fromarray(a)).enhance(f))


def rotate(a, degrees):
    return np.asarray(Image.fromarray(a).rotate(degrees, resample=Image.Resampling.BILINEAR))


def recolour(a):
    return np.ascontiguousarray(a[..., [1, 2, 0]])


def perspective_photo(page: np.ndarray, seed: int = 0) -> np.ndarray:
    """The page photographed at an angle: warped into a quadrilateral on a textured table."""
    from skimage import transform

    rng = np.random.default_rng(seed)
    h, w = page.shape[:2]
    canvas_h, canvas_w = int(h * 1.3), int(w * 1.3)
    # Page corners land in a tilted quadrilateral (top edge narrower: camera looks down).
    dst = np.array(
        [[0.18 * w, 0.12 * h], [1.12 * w, 0.10 * h], [1.22 * w, 1.20 * h], [0.06 * w, 1.16 * h]]
    )
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=float)
    if hasattr(transform.ProjectiveTransform, "from_estimate"):
        tform = transform.ProjectiveTransform.from_estimate(dst, src)
    else:  # scikit-image < 0.26
        tform = transform.ProjectiveTransform()
        tform.estimate(dst, src)
    warped = transform.warp(page, tform, output_shape=(canvas_h, canvas_w), cval=-1.0)
    table = 0.35 + 0.05 * rng.standard_normal((canvas_h, canvas_w, 1))
    table = np.repeat(table, 3, axis=2) * np.array([1.0, 0.8, 0.6])
    out = np.where(warped < 0, table, warped)
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)


LIGHT_EDITS = {
    "jpeg q40": lambda a: jpeg(a, 40),
    "jpeg q85": lambda a: jpeg(a, 85),
    "resize 50%": lambda a: resize(a, 0.5),
    "resize 150%": lambda a: resize(a, 1.5),
    "crop 5% per side": lambda a: crop(a, 0.05),
    "crop 10% corner": lambda a: crop_corner(a, 0.10),
    "brightness +30": lambda a: brightness(a, 30),
    "brightness -30": lambda a: brightness(a, -30),
    "contrast x1.3": lambda a: contrast(a, 1.3),
    "resize 50% + jpeg q60": lambda a: jpeg(resize(a, 0.5), 60),
}
HEAVY_EDITS = {
    "rotate 5 deg": lambda a: rotate(a, 5),
    "crop 15% per side": lambda a: crop(a, 0.15),
    "recolour (channels rolled)": recolour,
}
