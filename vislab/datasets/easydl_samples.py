"""Sample EasyDL datasets, generated offline: surface defects, cells, products on shelves.

Each function writes its images (and, for detection, a COCO ``annotations.json``) into a
folder and returns a :class:`vislab.easydl.Dataset` over them.  Everything is drawn from a
seed (same seed, same bytes) and from pictures shipped with scikit-image and scikit-learn, so
nothing is downloaded.  The default sizes train in seconds on a laptop CPU; the parameters
make them larger.

* :func:`defects` — quality control by classification: patches of real surfaces (scikit-
  image's brick, gravel and grass photographs, and brushed metal) tinted as materials, either
  ``ok`` or carrying one drawn defect: ``scratch`` (thin curved grooves with a highlight),
  ``hole`` (pits with a lit rim and a shadow) or ``stain`` (irregular tinted blots with a
  darker drying ring).  Every class uses every surface, so only the defect tells them apart.
* :func:`cells` — counting by detection: fluorescence-microscopy-like fields with 80-300
  cells of 6-14 px per image, clustered so that many touch or overlap (a cell's centre is
  never inside another cell), as soft bright ellipses summed like emitted light, blurred by
  the optics, on an uneven background, with Poisson (shot) noise.  Boxes are the ellipses'
  exact bounding boxes (cells lie wholly inside the image), so a box's centre is the cell's.
* :func:`shelf` — retail counting by detection: "products" made from crops of real photos
  (coffee, Chelsea the cat, the astronaut, the rocket, scikit-learn's China temple and
  flower) as packages with a brand band and shading, standing in rows of facings on shelf
  boards, with gaps where stock ran out.  Boxes are where each package was pasted.
"""

from __future__ import annotations

import json
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from vislab.errors import InvalidParameter

__all__ = ["defects", "cells", "shelf", "DEFECT_CLASSES", "SHELF_PRODUCTS"]

#: Classes of :func:`defects`.
DEFECT_CLASSES = ("ok", "scratch", "hole", "stain")
#: Products of :func:`shelf`: name -> (source photo, crop rows, crop cols, height / width).
SHELF_PRODUCTS = {
    "coffee": ("coffee", (30, 260), (170, 450), 1.15),
    "catfood": ("chelsea", (20, 290), (90, 380), 0.8),
    "cereal": ("astronaut", (0, 300), (120, 340), 1.45),
    "rocket": ("rocket", (80, 420), (250, 390), 2.1),
    "tea": ("china", (80, 380), (60, 400), 0.9),
    "flowers": ("flower", (40, 400), (120, 480), 1.25),
}


def _folder(folder):
    if folder is not None:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        return path, None
    tmp = tempfile.TemporaryDirectory(prefix="vislab-sample-")
    return Path(tmp.name), tmp


def _kept(ds, tmp):
    if tmp is not None:  # the dataset keeps its temporary folder alive
        ds._keep = (*ds._keep, tmp)
    return ds


def _blur(a: np.ndarray, sigma) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(a, sigma)


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    return np.asarray(pil.resize((max(w, 1), max(h, 1)), Image.LANCZOS)).astype(np.float32)


@lru_cache(maxsize=1)
def _surfaces() -> dict:
    from skimage import data

    rng = np.random.default_rng(7)
    metal = _blur(rng.normal(0, 1, (512, 512)), (0.5, 12)) * 60 + 150  # brushed along rows
    return {
        "brick": data.brick(),
        "gravel": data.gravel(),
        "grass": data.grass(),
        "metal": np.clip(metal, 0, 255).astype(np.uint8),
    }


_SURFACE_TINTS = {
    "brick": (1.0, 0.72, 0.6),
    "gravel": (0.92, 0.9, 0.85),
    "grass": (0.75, 0.9, 0.6),
    "metal": (0.85, 0.88, 0.93),
}


def _surface(rng, size: int, name: str) -> np.ndarray:
    tex = _surfaces()[name].astype(np.float32)
    side = int(size * rng.uniform(1.0, 2.0))
    y, x = rng.integers(0, 512 - side, 2)
    patch = _resize(tex[y : y + side, x : x + side], size, size)
    patch = np.rot90(patch, rng.integers(4))
    patch = (patch - patch.mean()) * rng.uniform(0.6, 1.0) + rng.uniform(110, 160)
    yy, xx = np.mgrid[0:size, 0:size] / size
    light = 1 + rng.uniform(-0.15, 0.15) * (yy - 0.5) + rng.uniform(-0.15, 0.15) * (xx - 0.5)
    return np.clip(patch * light, 0, 255)[..., None] * np.array(_SURFACE_TINTS[name], np.float32)


def _curve_mask(rng, size: int) -> np.ndarray:
    from scipy.ndimage import distance_transform_edt

    p0, p1 = rng.uniform(0.05, 0.95, (2, 2)) * size
    if np.hypot(*(p1 - p0)) < 0.4 * size:
        p1 = size - p0
    mid = (p0 + p1) / 2 + rng.normal(0, 0.15 * size, 2)
    t = np.linspace(0, 1, 4 * size)[:, None]
    pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * mid + t**2 * p1
    line = np.ones((size, size), bool)
    ij = np.clip(np.rint(pts).astype(int), 0, size - 1)
    line[ij[:, 1], ij[:, 0]] = False
    return distance_transform_edt(line)


def _scratch(img, rng):
    for _ in range(rng.integers(1, 4)):
        d = _curve_mask(rng, img.shape[0])
        width = rng.uniform(1.2, 2.4)
        groove = np.exp(-((d / width) ** 2))
        img *= 1 - rng.uniform(0.6, 0.8) * groove[..., None]
        img += 70 * np.roll(groove, 1, axis=(0, 1))[..., None] * rng.uniform(0.6, 1)
    return img


def _hole(img, rng):
    size = img.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for _ in range(rng.integers(1, 4)):
        r = rng.uniform(3, 10)
        cy, cx = rng.uniform(r + 2, size - r - 2, 2)
        d = np.hypot(yy - cy, xx - cx) / r
        pit = np.clip(1.3 - d, 0, 1) ** 0.7
        side = ((xx - cx) + (yy - cy)) / r  # light from the top left
        rim = np.exp(-(((d - 1.05) / 0.18) ** 2))
        img *= (1 - 0.75 * pit)[..., None]
        img += (55 * rim * np.clip(-side, 0, 1) - 35 * rim * np.clip(side, 0, 1))[..., None]
    return img


def _stain(img, rng):
    size = img.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for _ in range(rng.integers(1, 3)):
        r = rng.uniform(0.1, 0.25) * size
        cy, cx = rng.uniform(r, size - r, 2)
        field = _blur(rng.normal(0, 1, (size, size)), r / 3)
        field /= field.std() + 1e-6
        d = np.hypot((yy - cy) / r, (xx - cx) / (r * rng.uniform(0.6, 1.4)))
        blot = np.clip(3 * (1 - d + 0.35 * field), 0, 1)
        ring = np.clip(1 - np.abs(blot - 0.5) * 4, 0, 1)
        tint = np.array([(0.55, 0.4, 0.25), (0.3, 0.3, 0.32), (0.8, 0.7, 0.3)][rng.integers(3)])
        alpha = (rng.uniform(0.35, 0.6) * blot + 0.25 * ring)[..., None]
        img = img * (1 - alpha) + img * tint * alpha
    return img


def defects(
    folder=None, *, n_per_class: int = 40, size: int = 160, seed: int = 0, classes=DEFECT_CLASSES
):
    """Surface patches for quality control: ``ok`` or one named defect (classification).

    Parameters
    ----------
    folder : str or Path, optional
        Where ``<class>/<class>_000.jpg``... are written; default a temporary folder that
        lives as long as the returned dataset.
    n_per_class : int, default 40
        Images per class (EasyDL asks for 20 at least, 100 recommended).
    size : int, default 160
        Side of the square patches, in pixels.
    seed : int, default 0
    classes : tuple of str, default ("ok", "scratch", "hole", "stain")
        A subset of :data:`DEFECT_CLASSES`.

    Returns
    -------
    vislab.easydl.Dataset

    Examples
    --------
    >>> ds = defects(n_per_class=3, size=96, seed=1)
    >>> ds.classes, len(ds), ds.load(ds.images[0]).shape
    (['hole', 'ok', 'scratch', 'stain'], 12, (96, 96, 3))
    """
    from vislab.easydl import Dataset

    unknown = set(classes) - set(DEFECT_CLASSES)
    if unknown:
        raise InvalidParameter(
            f"unknown defect classes {sorted(unknown)}; choose from {DEFECT_CLASSES}"
        )
    root, tmp = _folder(folder)
    draw = {"ok": lambda img, rng: img, "scratch": _scratch, "hole": _hole, "stain": _stain}
    written = []
    for name in classes:
        rng = np.random.default_rng([seed, DEFECT_CLASSES.index(name)])
        (root / name).mkdir(exist_ok=True)
        # Every class gets every surface equally often: only the defect tells them apart.
        surfaces = [list(_SURFACE_TINTS)[j] for j in rng.permutation(np.arange(n_per_class) % 4)]
        for i in range(n_per_class):
            img = draw[name](_surface(rng, size, surfaces[i]), rng)
            img = img + rng.normal(0, 2.0, img.shape)  # sensor noise
            rel = f"{name}/{name}_{i:03d}.jpg"
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / rel, quality=92)
            written.append((rel, name))
    # Exactly the files written (a re-run into the same folder leaves nothing stale in it).
    truth = pd.DataFrame(written, columns=["image", "label"])
    ds = Dataset.from_frames(truth, images=root, classes=classes)
    ds.origin = f"defects sample in {root}"
    return _kept(ds, tmp)


def _write_coco(root: Path, names, sizes, boxes, classes) -> Path:
    cats = {c: i for i, c in enumerate(classes, start=1)}
    anns = [
        {
            "id": k,
            "image_id": img + 1,
            "category_id": cats[label],
            "bbox": [float(v) for v in box],
            "area": float(box[2] * box[3]),
            "iscrowd": 0,
        }
        for k, (img, label, box) in enumerate(boxes, start=1)
    ]
    data = {
        "images": [
            {"id": i + 1, "file_name": n, "width": w, "height": h}
            for i, (n, (w, h)) in enumerate(zip(names, sizes, strict=True))
        ],
        "annotations": anns,
        "categories": [{"id": i, "name": c} for c, i in cats.items()],
    }
    path = root / "annotations.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _place_cells(rng, size: int, n: int, diameter) -> list:
    clusters = rng.uniform(0.1, 0.9, (rng.integers(3, 7), 2)) * size
    cells, tries = [], 0
    centres, minor = np.zeros((n, 2)), np.zeros(n)
    while len(cells) < n and tries < 50 * n:
        tries += 1
        a = rng.uniform(*diameter) / 2
        b = a * rng.uniform(0.7, 1.0)
        theta = rng.uniform(0, np.pi)
        hx = np.sqrt((a * np.cos(theta)) ** 2 + (b * np.sin(theta)) ** 2)
        hy = np.sqrt((a * np.sin(theta)) ** 2 + (b * np.cos(theta)) ** 2)
        if rng.random() < 0.6:
            c = clusters[rng.integers(len(clusters))] + rng.normal(0, size * 0.09, 2)
        else:
            c = rng.uniform(0, size, 2)
        cx, cy = c
        if not (hx < cx < size - hx and hy < cy < size - hy):
            continue
        # Touching and overlapping are allowed; one cell's centre inside another is not.
        k = len(cells)
        gaps = np.hypot(centres[:k, 0] - cx, centres[:k, 1] - cy) - 0.55 * (b + minor[:k])
        if k and gaps.min() < 0:
            continue
        centres[k], minor[k] = (cx, cy), b
        cells.append((cx, cy, a, b, theta, hx, hy))
    return cells


def cells(
    folder=None,
    *,
    n_images: int = 40,
    size: int = 320,
    count=(80, 300),
    diameter=(6.0, 14.0),
    seed: int = 0,
):
    """Microscopy-like fields of dense small cells, with exact boxes (detection, counting).

    Parameters
    ----------
    folder : str or Path, optional
        Where ``cells_000.png``... and ``annotations.json`` (COCO) are written; default a
        temporary folder that lives as long as the returned dataset.
    n_images : int, default 40
    size : int, default 320
        Side of the square fields, in pixels.
    count : (int, int), default (80, 300)
        Cells per image, drawn uniformly in this range (the densest fields may hold a few
        less when no free place is left).
    diameter : (float, float), default (6, 14)
        Long axis of a cell, in pixels.
    seed : int, default 0

    Returns
    -------
    vislab.easydl.Dataset
        Detection, one label ``cell``; a box's centre is its cell's centre.

    Examples
    --------
    >>> ds = cells(n_images=2, size=128, count=(30, 40), seed=3)
    >>> ds.classes, len(ds), ds.counts()["boxes"].item() >= 60
    (['cell'], 2, True)
    """
    from vislab.easydl import Dataset

    root, tmp = _folder(folder)
    names, boxes = [], []
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for i in range(n_images):
        rng = np.random.default_rng([seed, i])
        n = int(rng.integers(count[0], count[1] + 1))
        light = np.zeros((size, size), np.float32)
        for cx, cy, a, b, theta, hx, hy in _place_cells(rng, size, n, diameter):
            x0, x1 = int(cx - hx - 2), int(cx + hx + 3)
            y0, y1 = int(cy - hy - 2), int(cy + hy + 3)
            dx, dy = xx[y0:y1, x0:x1] - cx, yy[y0:y1, x0:x1] - cy
            u = (dx * np.cos(theta) + dy * np.sin(theta)) / a
            v = (-dx * np.sin(theta) + dy * np.cos(theta)) / b
            r2 = u * u + v * v
            light[y0:y1, x0:x1] += rng.uniform(0.45, 0.9) * np.clip(1.15 * (1 - r2), 0, 1) ** 0.6
            boxes.append((i, "cell", (cx - hx, cy - hy, 2 * hx, 2 * hy)))
        # An uneven background: coarse noise, smoothly enlarged.
        coarse = Image.fromarray(rng.normal(0, 1, (6, 6)).astype(np.float32), mode="F")
        back = np.asarray(coarse.resize((size, size), Image.BICUBIC))
        back = 0.06 + 0.04 * back / (np.abs(back).max() + 1e-6)
        vignette = 1 - 0.35 * ((yy / size - 0.5) ** 2 + (xx / size - 0.5) ** 2)
        signal = (_blur(light, 0.9) + back) * vignette
        photons = float(rng.uniform(50, 110))
        signal = rng.poisson(np.clip(signal, 0, None) * photons) / photons
        signal = np.clip(signal + rng.normal(0, 0.008, signal.shape), 0, 1)
        rgb = signal[..., None] * np.array([0.35, 1.0, 0.45]) * 255
        name = f"cells_{i:03d}.png"
        Image.fromarray(rgb.astype(np.uint8)).save(root / name)
        names.append(name)
    json_path = _write_coco(root, names, [(size, size)] * n_images, boxes, ["cell"])
    ds = Dataset.from_coco(json_path)
    ds.origin = f"cells sample in {root}"
    return _kept(ds, tmp)


@lru_cache(maxsize=1)
def _product_art() -> dict:
    from skimage import data
    from sklearn.datasets import load_sample_image

    photos = {
        "coffee": data.coffee,
        "chelsea": data.chelsea,
        "astronaut": data.astronaut,
        "rocket": data.rocket,
        "china": lambda: load_sample_image("china.jpg"),
        "flower": lambda: load_sample_image("flower.jpg"),
    }
    art = {}
    for k, (product, (name, (r0, r1), (c0, c1), ratio)) in enumerate(SHELF_PRODUCTS.items()):
        crop = photos[name]()[r0:r1, c0:c1].astype(np.float32)
        w = 60
        h = int(round(w * ratio))
        face = _resize(crop, w, h)
        band = np.array(Image.new("RGB", (1, 1), f"hsl({k * 60}, 70%, 45%)").getpixel((0, 0)))
        bh = max(3, h // 7)
        face[:bh] = band  # brand band and a white label strip: it reads as a package
        face[-bh:] = band
        face[h // 2 - 2 : h // 2 + 2, 6:-6] = 245
        shade = 0.8 + 0.2 * np.sin(np.linspace(0.15, np.pi - 0.15, w))  # rounded front
        art[product] = (face * shade[None, :, None], ratio)
    return art


def _shelf_wall(rng, w: int, h: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.array([rng.uniform(150, 200), rng.uniform(140, 185), rng.uniform(120, 170)])
    light = 1 - 0.25 * ((xx - rng.uniform(0.3, 0.7)) ** 2 + (yy - 0.2) ** 2)
    wall = base * light[..., None] + _blur(rng.normal(0, 4, (h, w)), 1.5)[..., None]
    return wall.astype(np.float32)


def shelf(
    folder=None,
    *,
    n_images: int = 40,
    size=(384, 288),
    shelves=(3, 4),
    seed: int = 0,
    products=tuple(SHELF_PRODUCTS),
):
    """Products standing on shelves, from crops of real photos, with exact boxes (detection).

    Parameters
    ----------
    folder : str or Path, optional
        Where ``shelf_000.jpg``... and ``annotations.json`` (COCO) are written; default a
        temporary folder that lives as long as the returned dataset.
    n_images : int, default 40
    size : (width, height), default (384, 288)
    shelves : (int, int), default (3, 4)
        Shelf boards per image, drawn in this range.
    seed : int, default 0
    products : tuple of str
        A subset of :data:`SHELF_PRODUCTS`.

    Returns
    -------
    vislab.easydl.Dataset
        Detection, one label per product.

    Examples
    --------
    >>> ds = shelf(n_images=2, seed=2)
    >>> len(ds), set(ds.frame["label"]) <= set(SHELF_PRODUCTS)
    (2, True)
    """
    from vislab.easydl import Dataset

    unknown = set(products) - set(SHELF_PRODUCTS)
    if unknown:
        raise InvalidParameter(
            f"unknown products {sorted(unknown)}; choose from {tuple(SHELF_PRODUCTS)}"
        )
    art = _product_art()
    root, tmp = _folder(folder)
    W, H = size
    names, boxes = [], []
    for i in range(n_images):
        rng = np.random.default_rng([seed, i])
        img = _shelf_wall(rng, W, H)
        n_shelves = int(rng.integers(shelves[0], shelves[1] + 1))
        gap = H / n_shelves
        board = max(6, int(gap * 0.12))
        for s in range(n_shelves):
            floor = int((s + 1) * gap) - board
            room = floor - int(s * gap) - 4
            img[floor : floor + board] = np.array([120, 85, 55]) * rng.uniform(0.8, 1.1)
            img[floor : floor + 2] += 40  # the board's lit front edge
            x = int(rng.integers(2, 12))
            while x < W - 12:
                name = products[rng.integers(len(products))]
                face, ratio = art[name]
                height = room * rng.uniform(0.55, 0.92)
                w = int(round(min(height / ratio, W * 0.22)))
                h = int(round(w * ratio))
                for _ in range(int(rng.integers(1, 5))):  # facings of one product
                    if x + w > W - 2:
                        break
                    if rng.random() < 0.12:  # sold out: an empty facing
                        x += w + int(rng.integers(1, 4))
                        continue
                    pix = _resize(face, w, h) * rng.uniform(0.85, 1.1)
                    y = floor - h
                    img[y:floor, x : x + w] = pix
                    img[floor : floor + 3, x : x + w] *= 0.7  # contact shadow
                    boxes.append((i, name, (float(x), float(y), float(w), float(h))))
                    x += w + int(rng.integers(1, 4))
                x += int(rng.integers(2, 10))
        img = img + rng.normal(0, 2.5, img.shape)
        name = f"shelf_{i:03d}.jpg"
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / name, quality=90)
        names.append(name)
    json_path = _write_coco(root, names, [(W, H)] * n_images, boxes, sorted(products))
    ds = Dataset.from_coco(json_path)
    ds.origin = f"shelf sample in {root}"
    return _kept(ds, tmp)
