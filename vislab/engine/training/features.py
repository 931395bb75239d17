"""Backbone features for training and inference of EasyDL-style classifiers (numpy only).

Two recipes turn an image into the vector a linear classifier learns from:

``general``
    The backbone's 1280-d embedding of the centred crop (the one ``Backbone.embed`` gives),
    L2-normalised: the standard linear probe on frozen features.
``fine``
    Our counterpart of AutoDL Transfer for fine-grained classes, where a small detail tells
    two classes apart (a scratch on a surface, a marking on a product). The whole image (no
    crop: a detail near the border counts too) is seen at two scales: the 224 px view gives
    the embedding of the whole subject, the 448 px view a 14 x 14 map of the last stage whose
    cells see details twice as finely, pooled by a generalised mean (p = 3) that follows the
    strongest local evidence instead of averaging it away. The two parts are L2-normalised
    and concatenated (2560 numbers); five 224-equivalents of backbone time per view.

Training also sees augmented **views** of each image (:data:`TRAIN_VIEWS`): the mirror image
for ``general``, all eight rotations and mirrorings for ``fine`` (defects, cells and
textures have no "up"; on the defects sample this lifts held-out accuracy by about seven
points). Prediction uses the image as it is.

``general`` features run on the schedule of ``Backbone.forward_files``
(:func:`vislab.engine.files.run_prepared`): images are loaded and preprocessed on half the
cores while onnxruntime runs the previous batch on the rest, in a lean session (one intra-op
thread on two cores) while the decoder is busy; ``fine`` decodes in one worker thread while
the main session runs the previous batch. Detection and
counting use per-cell features of whole images instead (:mod:`vislab.engine.training.grid`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from vislab.engine.backbone import (
    PIXEL_MEAN,
    PIXEL_STD,
    Backbone,
    as_rgb,
    get_backbone,
)
from vislab.engine.preprocess import INPUT_SIZE, centre_crop_resize, normalise

__all__ = [
    "RECIPES",
    "TRAIN_VIEWS",
    "image_features",
    "feature_dim",
    "view",
    "unit_rows",
    "prefetched",
]

#: The classification feature recipes and their vector lengths.
RECIPES = {"general": 1280, "fine": 2560}
#: Views of each training image per recipe (see :func:`view`): 0 is the image itself.
TRAIN_VIEWS = {"general": (0, 4), "fine": tuple(range(8))}

FINE_SIZE = 448
GEM_P = 3.0
#: Images per backbone call while extracting features.
BATCH = 16


def unit_rows(a) -> np.ndarray:
    """Rows scaled to unit length (float32); zero rows stay zero.

    Examples
    --------
    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    a = np.asarray(a, dtype=np.float32)
    return a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)


def feature_dim(recipe: str) -> int:
    """Length of the vectors a classification recipe gives.

    Examples
    --------
    >>> feature_dim("fine")
    2560
    """
    try:
        return RECIPES[recipe]
    except KeyError:
        raise ValueError(
            f"unknown feature recipe {recipe!r}; use one of {sorted(RECIPES)}"
        ) from None


def view(rgb: np.ndarray, k: int) -> np.ndarray:
    """One of the eight rotations and mirrorings of an image: ``k`` quarter turns, after a
    left-right mirror when ``k >= 4``.

    Examples
    --------
    >>> a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    >>> view(a, 0).tolist(), view(a, 4).tolist(), view(a, 1).shape
    ([[0, 1, 2], [3, 4, 5]], [[2, 1, 0], [5, 4, 3]], (3, 2))
    """
    if k == 0:
        return rgb
    out = rgb[:, ::-1] if k >= 4 else rgb
    return np.ascontiguousarray(np.rot90(out, k % 4))


def _squash(rgb: np.ndarray, size: int) -> np.ndarray:
    """The whole image resized to ``size`` x ``size`` (aspect not kept, nothing cut)."""
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.BILINEAR))


def _normalise(rgb: np.ndarray) -> np.ndarray:
    chw = rgb.transpose(2, 0, 1).astype(np.float32)
    chw -= PIXEL_MEAN
    chw *= 1.0 / PIXEL_STD
    return chw


def _prepare_fine(rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    """The ``fine`` network inputs of one image: the whole image at 224 and at 448 px."""
    rgb = as_rgb(rgb)
    return (_normalise(_squash(rgb, 224)), _normalise(_squash(rgb, FINE_SIZE)))


def _reduce_fine(backbone: Backbone, views: list[np.ndarray]) -> np.ndarray:
    """Run the backbone on stacked ``fine`` inputs and reduce them to one vector per image."""
    whole = unit_rows(backbone.forward(views[0], ("embedding",))["embedding"])
    maps = backbone.forward(views[1], ("features_s32",))["features_s32"]
    # ReLU6 outputs are >= 0, so the generalised mean is defined without a clamp.
    gem = unit_rows(np.power(np.power(maps, GEM_P).mean(axis=(2, 3)), 1.0 / GEM_P))
    return np.concatenate([whole, gem], axis=1).astype(np.float32)


def image_features(
    items: Sequence,
    *,
    recipe: str = "general",
    load: Callable[[object], np.ndarray] | None = None,
    views: Sequence[int] = (0,),
    backbone: Backbone | None = None,
    batch_size: int = BATCH,
    progress: bool = False,
    desc: str = "features",
) -> np.ndarray:
    """Feature vectors of many images, decoding the next batch while the network runs.

    Parameters
    ----------
    items : sequence
        Images (``uint8`` RGB arrays) or anything ``load`` turns into one.
    recipe : {"general", "fine"}, default "general"
        See the module notes.
    load : callable, optional
        ``load(item) -> uint8 (H, W, 3)``; default: the items are arrays.
    views : sequence of int, default (0,)
        Views of each image (:func:`view`); each image is decoded once for all of them.
    backbone : Backbone, optional
        Default: the process-wide backbone.
    batch_size : int, default 16
    progress : bool, default False
        Show a ``tqdm`` progress bar.
    desc : str
        The progress bar's label.

    Returns
    -------
    numpy.ndarray
        ``(len(views) * N, feature_dim(recipe))`` float32: all items in the first view, then
        all in the next one.

    Examples
    --------
    >>> from skimage import data
    >>> x = image_features([data.chelsea(), data.coffee()])
    >>> x.shape, bool(np.allclose(x, get_backbone().embed([data.chelsea(), data.coffee()]),
    ...                           atol=1e-5))
    ((2, 1280), True)
    >>> image_features([data.chelsea()], recipe="fine", views=(0, 1, 4)).shape
    (3, 2560)
    """
    from tqdm.auto import tqdm

    dim = feature_dim(recipe)
    backbone = backbone or get_backbone()
    load = load or (lambda item: item)
    n, views = len(items), list(views)
    out = np.empty((len(views), n, dim), dtype=np.float32)
    if n == 0:
        return out.reshape(0, dim)
    bar = tqdm(total=n, desc=desc, unit="img", disable=not progress, leave=False)
    if recipe == "general":
        out[:] = _general_features(items, load, views, backbone, bar)
        bar.close()
        return out.reshape(len(views) * n, dim)
    # Batches of (image, view) pairs: an image is decoded once, its views go through together.
    per_batch = max(1, batch_size // len(views))
    starts = list(range(0, n, per_batch))

    def prepare(start: int) -> list[np.ndarray]:
        tensors = []
        for i in range(start, min(start + per_batch, n)):
            rgb = as_rgb(load(items[i]))
            tensors.extend(_prepare_fine(view(rgb, k)) for k in views)
        return [np.stack(v) for v in zip(*tensors, strict=True)]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vislab-decode") as pool:
        pending = pool.submit(prepare, starts[0])
        for k, start in enumerate(starts):
            batch = pending.result()
            if k + 1 < len(starts):
                pending = pool.submit(prepare, starts[k + 1])
            stop = min(start + per_batch, n)
            vectors = _reduce_fine(backbone, batch)
            out[:, start:stop] = vectors.reshape(stop - start, len(views), dim).transpose(1, 0, 2)
            bar.update(stop - start)
    bar.close()
    return out.reshape(len(views) * n, dim)


def _general_features(items, load, views, backbone: Backbone, bar) -> np.ndarray:
    """``(len(views), N, 1280)`` embeddings on the schedule of ``Backbone.forward_files``.

    :func:`vislab.engine.files.run_prepared` decodes on half the cores while the network
    runs on the rest (a lean session, or the full one when the decoder is ahead); each
    image is loaded once and its views fill consecutive rows of the batch. The pixels are
    the ones ``Backbone.preprocess`` makes of each view, so the features equal
    ``Backbone.embed([view(load(item), k)])`` (tested).
    """
    from vislab.engine.files import run_prepared

    rows = len(views)
    lock = threading.Lock()

    def fill(block: np.ndarray, index: int) -> None:
        rgb = as_rgb(load(items[index]))
        for r, k in enumerate(views):
            normalise(centre_crop_resize(view(rgb, k), INPUT_SIZE), out=block[r])
        with lock:
            bar.update(1)

    emb = run_prepared(backbone, len(items), fill, ("embedding",), rows_per_item=rows)
    emb = unit_rows(emb["embedding"]).reshape(len(items), rows, -1)
    return emb.transpose(1, 0, 2)


def prefetched(items: Sequence, load: Callable[[object], np.ndarray]) -> Iterator[np.ndarray]:
    """``load(item)`` for each item in order, the next one loading in a worker thread.

    Examples
    --------
    >>> [int(a.sum()) for a in prefetched([1, 2, 3], lambda k: np.full(2, k))]
    [2, 4, 6]
    """
    if len(items) == 0:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vislab-decode") as pool:
        pending = pool.submit(load, items[0])
        for k in range(len(items)):
            current = pending.result()
            if k + 1 < len(items):
                pending = pool.submit(load, items[k + 1])
            yield current
