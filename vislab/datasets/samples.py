"""A generated detection set built from real photographs (scikit-image's ``skimage.data``).

:func:`sample_detections` pastes crops of real objects — the astronaut, the cameraman, Chelsea
the cat, the coffee cup, the rocket, coins — at random places and sizes onto real textures
(grass, brick, gravel, a patch of the Hubble deep field), and records where it put them: that
is the ground truth.  It then makes up what a decent but imperfect detector would answer:
mostly well-placed boxes with high scores, some loose boxes, a few confused labels, duplicates,
false alarms on the background with low scores, missed objects, and (optionally) one image whose
request failed.  Everything is seeded, so a notebook shows the same pictures every run.

Notebooks use it when the shared fixtures with real detector output are not available.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from vislab.datasets.easydl_samples import cells, defects, shelf  # noqa: F401 (re-exported)
from vislab.datasets.receipt_sample import Receipt, receipt  # noqa: F401 (re-exported)
from vislab.geometry import box_iou

__all__ = ["sample_detections", "SampleDetections", "SAMPLE_CLASSES"]

#: Classes of the sample set.
SAMPLE_CLASSES = ("person", "cat", "cup", "rocket", "coin")


@lru_cache(maxsize=1)
def _sources():
    from skimage import data

    astronaut = data.astronaut()
    camera = np.repeat(data.camera()[..., None], 3, axis=2)
    coins = np.repeat(data.coins()[..., None], 3, axis=2)
    coin_centres = [
        (47, 52),
        (47, 107),
        (44, 160),
        (44, 215),
        (47, 268),
        (42, 322),
        (120, 52),
        (120, 106),
        (123, 160),
        (121, 214),
        (122, 269),
        (122, 325),
    ]
    objects = {
        "person": [astronaut[15:330, 70:320], camera[60:470, 190:420]],
        "cat": [data.chelsea()[15:300, 70:410]],
        "cup": [data.coffee()[10:245, 160:460]],
        "rocket": [data.rocket()[95:405, 288:352]],
        "coin": [coins[max(r - 28, 0) : r + 28, c - 28 : c + 28] for r, c in coin_centres],
    }
    tint = {
        "grass": (0.55, 0.85, 0.45),
        "brick": (0.95, 0.6, 0.45),
        "gravel": (0.85, 0.82, 0.75),
    }
    textures = [
        (np.stack([getattr(data, name)() * t for t in rgb], axis=2)).astype(np.uint8)
        for name, rgb in tint.items()
    ]
    textures.append(data.hubble_deep_field())
    return objects, textures


def _resize(img: np.ndarray, h: int, w: int) -> np.ndarray:
    from skimage.transform import resize

    out = resize(img, (h, w), order=1, anti_aliasing=True, preserve_range=True)
    return out.astype(np.uint8)


def _paste(canvas: np.ndarray, obj: np.ndarray, x: int, y: int) -> None:
    # A soft rounded edge so a crop reads as an object on the background, not a sticker.
    h, w = obj.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    dy = np.minimum(yy, h - 1 - yy) / max(h * 0.08, 1)
    dx = np.minimum(xx, w - 1 - xx) / max(w * 0.08, 1)
    alpha = np.clip(np.minimum(dx, dy), 0, 1)[..., None]
    region = canvas[y : y + h, x : x + w].astype(float)
    canvas[y : y + h, x : x + w] = (alpha * obj + (1 - alpha) * region).astype(np.uint8)


@dataclass
class SampleDetections:
    """What :func:`sample_detections` returns: pictures, truth boxes and noisy detections.

    Every parameter is kept as the attribute of the same name.

    Parameters
    ----------
    images : dict
        Image name (``"sample_000.jpg"`` ...) -> RGB ``uint8`` array of shape
        ``(height, width, 3)``.
    truth : DataFrame
        Truth boxes ``image, label, x, y, w, h, id`` (pixels, top-left origin);
        ``attrs["images"]`` lists every image, also those without objects.
    pred : DataFrame
        Boxes frame ``image, label, score, x, y, w, h, error_code, error_msg`` (a failed
        image has one row with the error filled and no box).
    classes : tuple of str, default SAMPLE_CLASSES
        The classes the set draws from: ``("person", "cat", "cup", "rocket", "coin")``.

    Examples
    --------
    >>> s = sample_detections(3, seed=1)
    >>> s.truth[["image", "label", "x", "y", "w", "h"]].head(2)
                image   label      x      y     w     h
    0  sample_000.jpg  person  264.0  144.0  41.0  74.0
    1  sample_001.jpg  rocket  152.0   81.0  14.0  71.0
    >>> s.pred.loc[s.pred["error_code"].notna(), ["image", "error_msg"]]  # a failed call
                image           error_msg
    1  sample_001.jpg  image format error
    >>> s.images["sample_000.jpg"].shape
    (240, 320, 3)
    """

    images: dict
    truth: pd.DataFrame
    pred: pd.DataFrame
    classes: tuple = field(default=SAMPLE_CLASSES)


def sample_detections(
    n_images: int = 24,
    *,
    size: tuple[int, int] = (320, 240),
    seed: int = 0,
    failed: int = 1,
) -> SampleDetections:
    """Generate a small detection set: real-looking images, truth boxes, noisy detections.

    Parameters
    ----------
    n_images : int, default 24
    size : (width, height), default (320, 240)
    seed : int, default 0
        Same seed, same images and numbers.
    failed : int, default 1
        How many images get a failed service call (an error row instead of boxes).

    Returns
    -------
    SampleDetections
        ``.images`` (name -> array), ``.truth``, ``.pred``.

    Examples
    --------
    >>> s = sample_detections(4, seed=1)
    >>> sorted(s.images)[:2], s.images["sample_000.jpg"].shape
    (['sample_000.jpg', 'sample_001.jpg'], (240, 320, 3))
    >>> set(s.truth["label"]) <= set(s.classes)
    True
    """
    objects, textures = _sources()
    rng = np.random.default_rng(seed)
    W, H = size
    images, truth_rows, pred_rows = {}, [], []
    failed_set = (
        set(rng.choice(n_images, size=min(failed, n_images), replace=False).tolist())
        if failed
        else set()
    )
    tid = 0
    for i in range(n_images):
        name = f"sample_{i:03d}.jpg"
        tex = textures[rng.integers(len(textures))]
        ty = rng.integers(0, tex.shape[0] - H)
        tx = rng.integers(0, tex.shape[1] - W)
        canvas = tex[ty : ty + H, tx : tx + W].copy()
        boxes = []
        for _ in range(rng.integers(1, 5)):
            label = SAMPLE_CLASSES[rng.integers(len(SAMPLE_CLASSES))]
            crops = objects[label]
            crop = crops[rng.integers(len(crops))]
            ch, cw = crop.shape[:2]
            target = rng.uniform(0.18, 0.6) * H if label != "coin" else rng.uniform(0.1, 0.22) * H
            scale = target / max(ch, cw) * max(ch, cw) / ch
            h = int(min(ch * scale, H - 2))
            w = int(min(cw * scale, W - 2))
            if h < 8 or w < 8:
                continue
            for _attempt in range(20):
                x, y = int(rng.integers(0, W - w)), int(rng.integers(0, H - h))
                if (box_iou([(x, y, w, h)], [b for b, _ in boxes]) < 0.05).all():
                    break
            else:
                continue
            _paste(canvas, _resize(crop, h, w), x, y)
            boxes.append(((x, y, w, h), label))
            tid += 1
            truth_rows.append(
                {
                    "image": name,
                    "label": label,
                    "x": float(x),
                    "y": float(y),
                    "w": float(w),
                    "h": float(h),
                    "id": tid,
                }
            )
        images[name] = canvas
        if i in failed_set:
            pred_rows.append(
                {"image": name, "error_code": 216201, "error_msg": "image format error"}
            )
            continue
        for (x, y, w, h), label in boxes:
            if rng.random() < 0.12:  # missed
                continue
            good = rng.random() < 0.8
            jitter = 0.06 if good else 0.22
            dx, dy = rng.normal(0, jitter * w), rng.normal(0, jitter * h)
            sw, sh = np.exp(rng.normal(0, jitter, 2))
            bw, bh = w * sw, h * sh
            bx = float(np.clip(x + dx + (w - bw) / 2, 0, W - 2))
            by = float(np.clip(y + dy + (h - bh) / 2, 0, H - 2))
            bw, bh = float(min(bw, W - bx)), float(min(bh, H - by))
            lab = label if rng.random() < 0.9 else SAMPLE_CLASSES[rng.integers(len(SAMPLE_CLASSES))]
            score = float(rng.beta(8, 2) if good else rng.beta(4, 3))
            pred_rows.append(
                {
                    "image": name,
                    "label": lab,
                    "score": round(score, 4),
                    "x": bx,
                    "y": by,
                    "w": bw,
                    "h": bh,
                }
            )
            if rng.random() < 0.15:  # a duplicate box on the same object
                pred_rows.append(
                    {
                        "image": name,
                        "label": lab,
                        "score": round(score * rng.uniform(0.3, 0.8), 4),
                        "x": bx + rng.normal(0, 4),
                        "y": by + rng.normal(0, 4),
                        "w": bw * 0.9,
                        "h": bh * 0.9,
                    }
                )
        for _ in range(rng.poisson(1.2)):  # false alarms on the background
            bw, bh = rng.uniform(20, W / 3), rng.uniform(20, H / 3)
            pred_rows.append(
                {
                    "image": name,
                    "label": SAMPLE_CLASSES[rng.integers(len(SAMPLE_CLASSES))],
                    "score": round(float(rng.beta(2, 6)), 4),
                    "x": float(rng.uniform(0, W - bw)),
                    "y": float(rng.uniform(0, H - bh)),
                    "w": float(bw),
                    "h": float(bh),
                }
            )
    truth = pd.DataFrame(truth_rows, columns=["image", "label", "x", "y", "w", "h", "id"])
    pred = pd.DataFrame(
        pred_rows,
        columns=["image", "label", "score", "x", "y", "w", "h", "error_code", "error_msg"],
    )
    pred["error_code"] = pred["error_code"].astype(object).where(pred["error_code"].notna(), None)
    pred["error_msg"] = pred["error_msg"].astype(object).where(pred["error_msg"].notna(), None)
    pred.attrs["kind"] = "boxes"
    pred.attrs["service"] = "vislab.sample_detections"
    truth.attrs["images"] = {"image": list(images)}
    return SampleDetections(images=images, truth=truth, pred=pred)
