"""Training a detector and its counting head from images and boxes (numpy only).

:func:`train_detector` streams the training images through the backbone once (each image and
its mirror image), turns every stride-8 cell into features (:mod:`.grid`), and collects

* the detection head's rows (:mod:`.detector`): every cell near an object and a third of the
  far background, weighted up so the loss still sees its share;
* the density head's statistics (:class:`.density.DensityAccumulator`): every cell, kept as
  one small matrix per image.

The stride-32 projection and the density head's scaling are fitted on the first
:data:`PROJECTION_IMAGES` images; after them nothing but the kept rows is held in memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from vislab.engine.training import detector as det
from vislab.engine.training import grid
from vislab.engine.training.density import DensityAccumulator, density_target
from vislab.engine.training.features import prefetched
from vislab.engine.training.grid import CELL
from vislab.engine.training.runtime import DetectorRuntime

__all__ = [
    "train_detector",
    "mirrored",
    "PROJECTION_IMAGES",
    "BACKGROUND_KEEP",
    "HEAD_BATCH",
    "HEAD_STEPS",
    "MIN_EPOCHS",
]

#: Images whose stride-32 maps fit the projection (and whose cells scale the density head).
PROJECTION_IMAGES = 8
#: Share of far-background cells kept for the detection head.
BACKGROUND_KEEP = 0.3
#: A cell is "near an object" when its heatmap target reaches this.
NEAR = 0.05
#: Minibatch and target number of optimiser steps of the detection head.
HEAD_BATCH = 2048
HEAD_STEPS = 1000
MIN_EPOCHS = 6

Item = tuple[np.ndarray, np.ndarray, np.ndarray]


def mirrored(pixels: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The left-right mirror image and its boxes (``x, y, w, h``).

    Examples
    --------
    >>> img, b = mirrored(np.zeros((10, 40, 3), np.uint8), np.array([[5.0, 1, 10, 4]]))
    >>> b.tolist()
    [[25.0, 1.0, 10.0, 4.0]]
    """
    out = np.array(boxes, dtype=float).reshape(-1, 4)
    out[:, 0] = pixels.shape[1] - out[:, 0] - out[:, 2]
    return np.ascontiguousarray(pixels[:, ::-1]), out


class _Collector:
    """Rows for the detection head and statistics for the density head, image by image."""

    def __init__(self, n_labels: int, seed: int):
        self.n_labels = n_labels
        self.rng = np.random.default_rng(seed)
        self.buffered: list = []
        self.projection = None
        self.density = None
        self.xs: list[np.ndarray] = []
        self.ts: list[np.ndarray] = []

    def add(self, fm, boxes, labels) -> None:
        if self.projection is None:
            self.buffered.append((fm, boxes, labels))
            if len(self.buffered) >= PROJECTION_IMAGES:
                self.flush()
            return
        cells = grid.cell_features(fm, self.projection)
        vh, vw = fm.valid_cells(CELL)
        k = self.n_labels
        x = cells[:vh, :vw].reshape(-1, cells.shape[2])
        targets = det.detection_targets(boxes, labels, cells.shape[:2], fm.scale, k)
        t = targets.stacked().reshape(cells.shape[0], cells.shape[1], -1)[:vh, :vw]
        t = t.reshape(len(x), -1)
        dens = density_target(boxes, labels, cells.shape[:2], fm.scale, k)
        self.density.add(x, dens[:vh, :vw].reshape(len(x), -1))
        near = t[:, :k].max(axis=1) >= NEAR
        keep = near | (self.rng.random(len(t)) < BACKGROUND_KEEP)
        t[~near, k + det.N_BOX + 1] = 1.0 / BACKGROUND_KEEP
        self.xs.append(x[keep].astype(np.float16))
        self.ts.append(t[keep])

    def flush(self) -> None:
        """Fit the projection and the density scaling on the buffered images, then add them."""
        if self.projection is not None or not self.buffered:
            return
        self.projection = grid.Projection.fit(
            [fm.maps["features_s32"] for fm, _, _ in self.buffered]
        )
        cells = [grid.cell_features(fm, self.projection) for fm, _, _ in self.buffered[:4]]
        self.density = DensityAccumulator(
            np.concatenate([c.reshape(-1, c.shape[-1]) for c in cells])
        )
        buffered, self.buffered = self.buffered, []
        for item in buffered:
            self.add(*item)


def train_detector(
    items: Sequence,
    load: Callable[[object], Item],
    *,
    n_labels: int,
    size: int,
    seed: int = 0,
    epochs: int | None = None,
    mirror: bool = True,
    progress: bool = False,
) -> tuple[DetectorRuntime, dict]:
    """Train the detection and density heads.

    Parameters
    ----------
    items : sequence
        Training images (anything ``load`` takes).
    load : callable
        ``load(item) -> (pixels, boxes, labels)``: ``uint8`` RGB, ``(N, 4)`` ``x, y, w, h``
        pixels, ``(N,)`` label indices.
    n_labels : int
    size : int
        Network input size (:func:`~vislab.engine.training.grid.choose_input_size`).
    seed : int
    epochs : int, optional
        Passes of the head over its rows; default enough for :data:`HEAD_STEPS` steps
        (at least :data:`MIN_EPOCHS`).
    mirror : bool, default True
        Also train on each image's mirror image.
    progress : bool

    Returns
    -------
    runtime : DetectorRuntime
    info : dict
        ``epochs``, ``rows`` (cells the head trained on), ``density`` (the ridge
        cross-validation), ``features_s`` and ``training_s``.

    Examples
    --------
    >>> from skimage.draw import disk
    >>> def item(k):
    ...     img = np.full((96, 96, 3), 30, np.uint8)
    ...     boxes = []
    ...     for i in range(4):
    ...         cy, cx = 16 + 20 * i, 20 + 15 * ((i + k) % 4)
    ...         img[disk((cy, cx), 6)] = 230
    ...         boxes.append([cx - 6, cy - 6, 12, 12])
    ...     return img, np.array(boxes, float), np.zeros(4, int)
    >>> rt, info = train_detector(range(4), item, n_labels=1, size=256, epochs=3)
    >>> info["epochs"], rt.analyse(item(0)[0]).counts.shape
    (3, (1,))
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    collect = _Collector(n_labels, seed)

    def views(item):
        pixels, boxes, labels = load(item)
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        labels = np.asarray(labels, dtype=int).reshape(-1)
        out = [(pixels, boxes, labels)]
        if mirror:
            out.append((*mirrored(pixels, boxes), labels))
        return out

    bar = tqdm(total=len(items), desc="feature maps", unit="img", disable=not progress, leave=False)
    for pair in prefetched(list(items), views):
        for pixels, boxes, labels in pair:
            collect.add(grid.backbone_maps(pixels, size), boxes, labels)
        bar.update(1)
    bar.close()
    collect.flush()
    t1 = time.perf_counter()
    density, density_info = collect.density.fit()
    x, t = np.concatenate(collect.xs), np.concatenate(collect.ts)
    collect.xs = collect.ts = []
    steps = max(1, -(-len(x) // HEAD_BATCH))
    n_epochs = epochs or int(np.clip(np.ceil(HEAD_STEPS / steps), MIN_EPOCHS, 200))
    bar = tqdm(
        total=n_epochs * len(x),
        desc="training head",
        unit="cell",
        unit_scale=True,
        disable=not progress,
        leave=False,
    )
    head = det.fit_detection_head(
        x, t, n_labels, epochs=n_epochs, batch=HEAD_BATCH, seed=seed, progress=bar.update
    )
    bar.close()
    runtime = DetectorRuntime(size, n_labels, collect.projection, head, density)
    info = {
        "epochs": n_epochs,
        "rows": int(len(x)),
        "density": density_info,
        "features_s": t1 - t0,
        "training_s": time.perf_counter() - t1,
    }
    return runtime, info
