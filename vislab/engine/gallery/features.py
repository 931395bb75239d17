"""What a gallery computes from pixels: signatures, hashes, embeddings, views, texture.

:class:`FeatureExtractor` embeds pictures in batches with the engine backbone (or any
``embedder(list_of_uint8_rgb_arrays) -> (N, D)``) and asks the product's policy which extra
views, texture descriptor or verification thumbnail to compute.

Examples
--------
>>> len(page_views(np.zeros((100, 80, 3), np.uint8)))
9
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from vislab.engine.gallery.records import ImageFeatures
from vislab.engine.hashing import as_rgb_array, content_sign, dhash, phash, thumbnail
from vislab.engine.texture import texture_descriptor

if TYPE_CHECKING:  # pragma: no cover
    from vislab.engine.gallery.policy import ProductPolicy

__all__ = [
    "FeatureExtractor",
    "Query",
    "page_views",
    "query_views",
    "unit_rows",
    "half_rounded",
    "EMBED_BATCH",
]

Embedder = Callable[[list], np.ndarray]

#: Pictures are embedded in batches of this many (one backbone call each).
EMBED_BATCH = 16


def unit_rows(a) -> np.ndarray:
    """Rows scaled to unit length (float32); zero rows stay zero.

    Examples
    --------
    >>> unit_rows(np.array([[0.0, 2.0], [0.0, 0.0]])).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    a = np.asarray(a, dtype=np.float32)
    norms = np.linalg.norm(a, axis=-1, keepdims=True)
    return a / np.maximum(norms, 1e-12)


def half_rounded(a) -> np.ndarray:
    """float32 values of the float16 the store keeps: a search answers the same after reopen.

    Examples
    --------
    >>> half_rounded(np.array([0.1])).tolist()
    [0.0999755859375]
    """
    return np.asarray(a, np.float32).astype("<f2").astype(np.float32)


def _crop(arr: np.ndarray, top: float, left: float, bottom: float, right: float) -> np.ndarray:
    h, w = arr.shape[:2]
    return arr[
        int(round(top * h)) : int(round(bottom * h)), int(round(left * w)) : int(round(right * w))
    ]


# Fractions (top, left, bottom, right) of a stored picture-book page that are embedded besides
# the whole page: a photo of a quarter or a half of the page then meets a view of the same
# extent.
_PAGE_CROPS = (
    (0.0, 0.0, 0.5, 0.5), (0.0, 0.5, 0.5, 1.0), (0.5, 0.0, 1.0, 0.5), (0.5, 0.5, 1.0, 1.0),
    (0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0), (0.0, 0.0, 1.0, 0.5), (0.0, 0.5, 1.0, 1.0),
    (0.15, 0.15, 0.85, 0.85),
)  # fmt: skip


def page_views(pixels) -> list[np.ndarray]:
    """The crops of a stored picture-book page that are embedded (after the whole page).

    Examples
    --------
    >>> len(page_views(np.zeros((100, 80, 3), np.uint8)))
    9
    """
    arr = as_rgb_array(pixels)
    return [_crop(arr, *c) for c in _PAGE_CROPS]


def query_views(pixels) -> list[np.ndarray]:
    """The views of a picture-book query: the whole photo and its central 70 %.

    The central view drops the table, hands and background around a photographed page.

    Examples
    --------
    >>> [v.shape for v in query_views(np.zeros((100, 100, 3), np.uint8))]
    [(100, 100, 3), (70, 70, 3)]
    """
    arr = as_rgb_array(pixels)
    return [arr, _crop(arr, 0.15, 0.15, 0.85, 0.85)]


@dataclass(frozen=True, eq=False)
class Query:
    """A search's query: its features, the matrix to score with, and its pixels.

    Attributes
    ----------
    features : ImageFeatures
    matrix : numpy.ndarray
        ``(D,)`` unit embedding, or ``(D, Q)`` for several query views (picture-book).
    pixels : numpy.ndarray or None
        The query picture (same-image verification); None when features were given.

    Examples
    --------
    >>> f = ImageFeatures("1,2", np.array([0.0, 2.0], np.float32), 0, 0)
    >>> Query.from_features(f).matrix.tolist()
    [0.0, 1.0]
    """

    features: ImageFeatures
    matrix: np.ndarray
    pixels: np.ndarray | None = None

    @property
    def texture(self) -> np.ndarray | None:
        return self.features.texture

    @classmethod
    def from_features(cls, f: ImageFeatures) -> Query:
        """The query of precomputed features (their views become extra query vectors)."""
        q = unit_rows(f.embedding).ravel()
        if f.views is None:
            return cls(f, q, f.thumb)
        return cls(f, np.stack([q] + list(unit_rows(f.views)), axis=1), f.thumb)


class FeatureExtractor:
    """Compute :class:`ImageFeatures` for a product's gallery.

    Parameters
    ----------
    policy : ProductPolicy
        Says which views, texture or thumbnail the product stores.
    embedder : callable, optional
        ``embedder(list_of_uint8_rgb_arrays) -> (N, D)``; default the engine backbone, loaded
        on first use.

    Examples
    --------
    >>> from vislab.engine.gallery.policy import policy_for
    >>> fx = FeatureExtractor(policy_for("similar"), embedder=lambda ims: np.ones((len(ims), 4)))
    >>> f = fx.features([np.arange(48, dtype=np.uint8).reshape(4, 4, 3)])[0]
    >>> f.embedding.tolist(), f.texture is None
    ([0.5, 0.5, 0.5, 0.5], True)
    """

    def __init__(self, policy: ProductPolicy, embedder: Embedder | None = None):
        self.policy = policy
        self._embedder = embedder

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Unit embeddings of ``images``, computed ``EMBED_BATCH`` at a time."""
        if self._embedder is None:
            from vislab.engine.backbone import get_backbone

            self._embedder = get_backbone().embed
        out = []
        for s in range(0, len(images), EMBED_BATCH):
            out.append(np.asarray(self._embedder(images[s : s + EMBED_BATCH]), np.float32))
        return unit_rows(np.concatenate(out))

    def features(self, images: Sequence) -> list[ImageFeatures]:
        """Signature, hashes, embedding and the product's extras for each picture."""
        arrays = [as_rgb_array(im) for im in images]
        if not arrays:
            return []
        p = self.policy
        groups = [[a] + p.stored_views(a) for a in arrays]
        vectors = self.embed([v for g in groups for v in g])
        feats, pos = [], 0
        for arr, group in zip(arrays, groups, strict=True):
            vec = vectors[pos : pos + len(group)]
            pos += len(group)
            feats.append(
                ImageFeatures(
                    cont_sign=content_sign(arr),
                    embedding=vec[0],
                    phash=phash(arr),
                    dhash=dhash(arr),
                    views=vec[1:] if len(group) > 1 else None,
                    texture=texture_descriptor(arr) if p.with_texture else None,
                    thumb=thumbnail(arr) if p.with_thumb else None,
                    std=float(np.asarray(Image.fromarray(arr).convert("L")).std()),
                )
            )
        return feats

    def query(self, image) -> Query:
        """The query of a picture (pixels) or of precomputed :class:`ImageFeatures`."""
        if isinstance(image, ImageFeatures):
            return Query.from_features(image)
        arr = as_rgb_array(image)
        views = self.policy.query_views(arr)
        vecs = self.embed(views)
        f = ImageFeatures(
            content_sign(arr),
            vecs[0],
            phash(arr),
            dhash(arr),
            texture=texture_descriptor(arr) if self.policy.with_texture else None,
        )
        return Query(f, vecs.T.copy() if len(views) > 1 else vecs[0], arr)
