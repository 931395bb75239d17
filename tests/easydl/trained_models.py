"""Small real trained versions for the serving, export and call-log tests.

Built from the engine's training pieces directly (backbone features, a scikit-learn logistic
regression, the detection MLP and the ridge density head), not from ``vislab.easydl.train``,
so these tests depend only on the TrainedModel / ModelStore interface.
"""

from __future__ import annotations

import atexit
import base64
import functools
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from vislab.engine.training.classifier import fit_classifier
from vislab.engine.training.density import density_target, fit_density
from vislab.engine.training.detector import detection_targets, fit_detection_head
from vislab.engine.training.features import image_features
from vislab.engine.training.grid import CELL, Projection, backbone_maps, cell_features
from vislab.engine.training.runtime import DetectorRuntime

CLASSES = ["cat", "cup", "rocket"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def decoded_jpeg(array: np.ndarray) -> np.ndarray:
    """The pixels a server decodes from ``array`` sent as the tests' JPEG."""
    from tests.conftest import jpeg_bytes

    return np.asarray(Image.open(io.BytesIO(jpeg_bytes(array))).convert("RGB"))


def class_photos() -> dict[str, list[np.ndarray]]:
    """Four views (the photo, its mirror, two crops) of one real photo per class."""
    out = {}
    for name, img in zip(CLASSES, (data.chelsea(), data.coffee(), data.rocket()), strict=True):
        h, w = img.shape[:2]
        out[name] = [
            img,
            img[:, ::-1].copy(),
            img[h // 8 :, w // 8 :].copy(),
            img[: h - h // 8, : w - w // 8].copy(),
        ]
    return out


def save_classifier(store, name: str, *, c: float = 1.0, views: int = 4):
    """Train and save a 3-class classifier; ``c`` / ``views`` change the weights (new version)."""
    photos = class_photos()
    images = [img for cls in CLASSES for img in photos[cls][:views]]
    y = np.repeat(np.arange(len(CLASSES)), views)
    clf = fit_classifier(image_features(images), y, CLASSES, c=c)
    meta = {
        "kind": "classification",
        "classes": clf.classes,
        "recipe": "general",
        "head": clf.params(),
    }
    return store.save(name, clf.arrays(), meta)


def blob_images(n: int = 4, seed: int = 0):
    """Dark noisy 192 x 160 images with 3-5 bright squares each, and their boxes (x, y, w, h)."""
    rng = np.random.default_rng(seed)
    images, boxes = [], []
    for _ in range(n):
        img = rng.integers(0, 40, (160, 192, 3)).astype(np.uint8)
        found = []
        for _ in range(int(rng.integers(3, 6))):
            for _try in range(50):
                s = int(rng.integers(18, 30))
                x, y = int(rng.integers(2, 192 - s - 2)), int(rng.integers(2, 160 - s - 2))
                if all(
                    x + s + 4 < bx or bx + bw + 4 < x or y + s + 4 < by or by + bh + 4 < y
                    for bx, by, bw, bh in found
                ):
                    break
            img[y : y + s, x : x + s] = (230, 220, 60)
            found.append((x, y, s, s))
        images.append(img)
        boxes.append(np.array(found, float))
    return images, boxes


def save_detector(store, name: str):
    """Train and save a one-label ("blob") detector with its density head on blob images."""
    images, boxes = blob_images()
    size = 256
    maps = [backbone_maps(img, size) for img in images]
    proj = Projection.fit([fm.maps["features_s32"] for fm in maps], k=8)
    xs, ts, dx, dy = [], [], [], []
    for fm, b in zip(maps, boxes, strict=True):
        cells = cell_features(fm, proj)
        h, w, d = cells.shape
        labels = np.zeros(len(b), int)
        xs.append(cells.reshape(-1, d))
        ts.append(detection_targets(b, labels, (h, w), fm.scale, 1).stacked())
        vh, vw = fm.valid_cells(CELL)
        dx.append(cells[:vh, :vw].reshape(-1, d))
        dy.append(density_target(b, labels, (vh, vw), fm.scale, 1).reshape(-1, 1))
    head = fit_detection_head(
        np.concatenate(xs), np.concatenate(ts), 1, n_hidden=32, epochs=40, batch=512
    )
    density, _ = fit_density(dx, dy, folds=2)
    rt = DetectorRuntime(size, 1, proj, head, density)
    meta = {
        "kind": "detection",
        "classes": ["blob"],
        "head": rt.params(),
        "recommended_threshold": 0.3,
    }
    return store.save(name, rt.arrays(), meta)


@functools.cache
def world() -> Path:
    """A vislab home with a published classifier (``pets`` V1 at ``pets``, call log on) and
    detector (``blobs`` V1 at ``blob_finder``), built once per test process."""
    from vislab.easydl import log_calls, publish
    from vislab.engine.training.store import ModelStore

    home = Path(tempfile.mkdtemp(prefix="vislab-easydl-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    store = ModelStore(home)
    save_classifier(store, "pets")
    save_detector(store, "blobs")
    publish("pets", "V1", home=home)
    publish("blobs", "V1", suffix="blob_finder", home=home)
    log_calls("pets", home=home)
    return home
