"""Backbone features for training and inference of EasyDL-style models (numpy only).

Three recipes turn images into the numbers the heads learn from:

``general``
    The backbone's 1280-d embedding of the centred crop (the one ``Backbone.embed`` gives),
    L2-normalised: what a linear classifier on frozen features needs.
``fine``
    Our counterpart of AutoDL Transfer for fine-grained classes: the same centred crop seen at
    two scales. The 224 px view gives the embedding of the whole subject (averaged with its
    mirror image); the 448 px view gives a 14 x 14 map of the last stage whose cells see
    details twice as finely, pooled two ways — the mean (what is there overall) and a
    generalised mean with p = 3 (the strongest local evidence, e.g. a small scratch or a
    marking that tells two similar classes apart). The three parts are L2-normalised and
    concatenated (3840 numbers); it costs six 224-equivalents of backbone time per image.

Detection and counting use per-cell features of whole images instead
(:mod:`vislab.engine.training.grid`).

Images are decoded and preprocessed in a worker thread while onnxruntime runs the previous
batch (both release the GIL), so on two cores the backbone is rarely idle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from vislab.engine.backbone import (
    CROP_FRACTION,
    PIXEL_MEAN,
    PIXEL_STD,
    Backbone,
    as_rgb,
    get_backbone,
)

__all__ = ["RECIPES", "image_features", "feature_dim", "unit_rows", "prefetched"]

#: The classification feature recipes and their vector lengths.
RECIPES = {"general": 1280, "fine": 3840}

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
    3840
    """
    try:
        return RECIPES[recipe]
    except KeyError:
        raise ValueError(
            f"unknown feature recipe {recipe!r}; use one of {sorted(RECIPES)}"
        ) from None


def _centre_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    """The centred square of side 0.875 x the shorter side, resized to ``size`` (as the
    backbone's own preprocessing does at 224)."""
    height, width = rgb.shape[:2]
    crop = max(1, int(round(min(height, width) * CROP_FRACTION)))
    top, left = (height - crop) // 2, (width - crop) // 2
    patch = np.ascontiguousarray(rgb[top : top + crop, left : left + crop])
    return np.asarray(Image.fromarray(patch).resize((size, size), Image.BILINEAR))


def _normalise(rgb: np.ndarray) -> np.ndarray:
    chw = rgb.transpose(2, 0, 1).astype(np.float32)
    chw -= PIXEL_MEAN
    chw *= 1.0 / PIXEL_STD
    return chw


def _prepare(recipe: str, rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    """The network inputs of one image for ``recipe`` (one (3, S, S) tensor per view)."""
    rgb = as_rgb(rgb)
    view = _normalise(_centre_crop(rgb, 224))
    if recipe == "general":
        return (view,)
    return (view, view[:, :, ::-1], _normalise(_centre_crop(rgb, FINE_SIZE)))


def _reduce(recipe: str, backbone: Backbone, views: list[np.ndarray]) -> np.ndarray:
    """Run the backbone on stacked views and reduce them to one vector per image."""
    if recipe == "general":
        out = backbone.forward(views[0], ("embedding",))["embedding"]
        return unit_rows(out)
    n = views[0].shape[0]
    small = backbone.forward(np.concatenate([views[0], views[1]]), ("embedding",))["embedding"]
    whole = unit_rows(small[:n] + small[n:])
    maps = backbone.forward(views[2], ("features_s32",))["features_s32"]
    mean = unit_rows(maps.mean(axis=(2, 3)))
    # ReLU6 outputs are >= 0, so the generalised mean is defined without a clamp.
    gem = unit_rows(np.power(np.power(maps, GEM_P).mean(axis=(2, 3)), 1.0 / GEM_P))
    return np.concatenate([whole, mean, gem], axis=1).astype(np.float32)


def image_features(
    items: Sequence,
    *,
    recipe: str = "general",
    load: Callable[[object], np.ndarray] | None = None,
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
        ``(N, feature_dim(recipe))`` float32, one row per item, in order.

    Examples
    --------
    >>> from skimage import data
    >>> x = image_features([data.chelsea(), data.coffee()])
    >>> x.shape, bool(np.allclose(x, get_backbone().embed([data.chelsea(), data.coffee()]),
    ...                           atol=1e-5))
    ((2, 1280), True)
    >>> image_features([data.chelsea()], recipe="fine").shape
    (1, 3840)
    """
    from tqdm.auto import tqdm

    dim = feature_dim(recipe)
    backbone = backbone or get_backbone()
    load = load or (lambda item: item)
    n = len(items)
    out = np.empty((n, dim), dtype=np.float32)
    if n == 0:
        return out
    starts = list(range(0, n, batch_size))

    def prepare(start: int) -> list[np.ndarray]:
        per_image = [
            _prepare(recipe, load(items[i])) for i in range(start, min(start + batch_size, n))
        ]
        return [np.stack(v) for v in zip(*per_image, strict=True)]

    bar = tqdm(total=n, desc=desc, unit="img", disable=not progress, leave=False)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vislab-decode") as pool:
        pending = pool.submit(prepare, starts[0])
        for k, start in enumerate(starts):
            views = pending.result()
            if k + 1 < len(starts):
                pending = pool.submit(prepare, starts[k + 1])
            stop = min(start + batch_size, n)
            out[start:stop] = _reduce(recipe, backbone, views)
            bar.update(stop - start)
    bar.close()
    return out


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
