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
    and concatenated (2560 numbers); five 224-equivalents of backbone time per view (a
    448 px input has four times the pixels).

Training also sees augmented **views** of each image (:data:`VIEW_SETS`, chosen by
``train(..., views=)``): by default the image and its mirror image (``"mirror"``: photos of
objects that have an "up"); ``"rotations"`` adds the quarter turns of both (all eight
rotations and mirrorings: surface patches, cells, textures). Prediction uses the image as it
is. Measured on the shared 2-core machine (``benchmarks/bench_easydl.py``, load 4-9,
2026-12-01, two runs), CPU seconds beside accuracy:

* real photos (Cartucho chair vs table crops, 175 from 60 photos, 5-fold CV grouped by
  photo): ``fine`` 0.926 (95 % CI 0.877-0.956) against ``general`` 0.897 (0.843-0.934) with
  the object letterboxed, 0.846 against 0.806 with square crops; features 34-39 against 8
  CPU s. Paired on the same crops ``fine`` alone is right 7 times and ``general`` alone 2
  (letterbox; 21 and 14 square): a consistent gain, not yet significant at this size;
* the defects sample (240 surface patches, 48 held out): ``general`` 0.833 (13 CPU s),
  ``fine`` with mirror views 0.771 (51 CPU s), ``fine`` with ``views="rotations"`` 0.833
  (158 CPU s): no gain on these patches, so ``fine`` is for photos of objects.

Both recipes run on the schedule of ``Backbone.forward_files``
(:func:`vislab.engine.files.run_prepared`): images are loaded and preprocessed on half the
cores while onnxruntime runs the previous batch on the rest, in a lean session (one intra-op
thread on two cores) while the decoder is busy. Detection and counting use per-cell features
of whole images instead (:mod:`vislab.engine.training.grid`).
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
    "VIEW_SETS",
    "image_features",
    "feature_dim",
    "view",
    "unit_rows",
    "prefetched",
]

#: The classification feature recipes and their vector lengths.
RECIPES = {"general": 1280, "fine": 2560}
#: The sets of training views (see :func:`view`): 0 is the image itself, 4 its mirror image.
VIEW_SETS = {"mirror": (0, 4), "rotations": tuple(range(8))}
#: The default training views of each recipe.
TRAIN_VIEWS = {"general": VIEW_SETS["mirror"], "fine": VIEW_SETS["mirror"]}

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
    out[:] = _fine_features(items, load, views, backbone, bar)
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


def _fine_features(items, load, views, backbone: Backbone, bar) -> np.ndarray:
    """``(len(views), N, 2560)`` ``fine`` features on the schedule of ``Backbone.forward_files``.

    Two passes of :func:`vislab.engine.files.run_prepared`, each decoding on half the cores
    while the network runs on the rest: the whole image squashed to 224 px (its embedding),
    then to 448 px (its stride-32 map, pooled by the generalised mean batch by batch so the
    14 x 14 maps are never all held at once). Each pass loads the image again: decoding is a
    small share of a 448 px forward pass, and keeping every decoded image between the passes
    would cost far more memory.
    """
    from vislab.engine.files import run_prepared

    rows, n = len(views), len(items)
    lock = threading.Lock()

    def filler(size: int, counts: bool):
        def fill(block: np.ndarray, index: int) -> None:
            rgb = as_rgb(load(items[index]))
            for r, k in enumerate(views):
                block[r] = _normalise(_squash(view(rgb, k), size))
            if counts:  # the 448 px pass is four fifths of the work: it drives the bar
                with lock:
                    bar.update(1)

        return fill

    def gem(outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # ReLU6 outputs are >= 0, so the generalised mean is defined without a clamp.
        maps = outputs["features_s32"]
        return {"features_s32": np.power(np.power(maps, GEM_P).mean(axis=(2, 3)), 1.0 / GEM_P)}

    whole = run_prepared(backbone, n, filler(INPUT_SIZE, False), ("embedding",), rows_per_item=rows)
    pooled = run_prepared(
        backbone,
        n,
        filler(FINE_SIZE, True),
        ("features_s32",),
        rows_per_item=rows,
        input_size=FINE_SIZE,
        reduce=gem,
    )
    x = np.concatenate([unit_rows(whole["embedding"]), unit_rows(pooled["features_s32"])], axis=1)
    return x.reshape(n, rows, -1).transpose(1, 0, 2)


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
