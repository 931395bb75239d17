"""What a gallery takes and gives: image features, stored entries, hits, a page of hits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ImageFeatures", "GalleryEntry", "GalleryHit", "SearchResult"]


@dataclass(frozen=True, eq=False)
class ImageFeatures:
    """Everything a gallery stores about one image except its brief and tags.

    Compute it with :meth:`vislab.engine.gallery.Gallery.features`; build it by hand to store
    vectors that come from elsewhere (the search benchmark stores synthetic vectors this way).

    Attributes
    ----------
    cont_sign : str
        ``"<uint32>,<uint32>"`` (see :func:`vislab.engine.hashing.content_sign`).
    embedding : numpy.ndarray
        ``(D,)`` float32, unit length.
    phash, dhash : int
        64-bit perceptual hashes.
    views : numpy.ndarray, optional
        Picture-book only: ``(V-1, D)`` embeddings of the page's crops (the whole page is
        ``embedding``).
    texture : numpy.ndarray, optional
        Fabric only: texture descriptor of length ``TEXTURE_DIM``.
    thumb : numpy.ndarray, optional
        Same-image only: 64 x 64 ``uint8`` grey thumbnail for the verification step
        (without it the image can be found only as an exact copy).
    std : float
        Grey-level standard deviation of the pixels (blank pictures are refused).

    Examples
    --------
    >>> f = ImageFeatures("1,2", np.ones(4, np.float32) / 2, phash=0, dhash=0)
    >>> f.cont_sign, f.views is None
    ('1,2', True)
    """

    cont_sign: str
    embedding: np.ndarray
    phash: int
    dhash: int
    views: np.ndarray | None = None
    texture: np.ndarray | None = None
    thumb: np.ndarray | None = None
    std: float = float("inf")


def _tags(slots) -> tuple[int, ...]:
    return tuple(t for t in slots if t)


@dataclass(frozen=True)
class GalleryEntry:
    """One stored image.

    ``slots`` are the two category slots as stored (``None`` = empty); for ``product`` they
    are ``(class_id1, class_id2)``.  ``tags`` lists the filled slots in order.

    Examples
    --------
    >>> e = GalleryEntry("1,2", "cup", (3, None), added=0.0)
    >>> e.tags, e.class_id1, e.class_id2
    ((3,), 3, None)
    """

    cont_sign: str
    brief: str
    slots: tuple[int | None, int | None]
    added: float

    @property
    def tags(self) -> tuple[int, ...]:
        return _tags(self.slots)

    @property
    def class_id1(self) -> int | None:
        return self.slots[0]

    @property
    def class_id2(self) -> int | None:
        return self.slots[1]


@dataclass(frozen=True)
class GalleryHit:
    """One search hit: signature, brief, score in 0..1 and the stored category slots.

    Examples
    --------
    >>> GalleryHit("1,2", "cup", 0.93, (None, 7)).tags
    (7,)
    """

    cont_sign: str
    brief: str
    score: float
    slots: tuple[int | None, int | None]

    @property
    def tags(self) -> tuple[int, ...]:
        return _tags(self.slots)


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, best first.

    Attributes
    ----------
    hits : list of GalleryHit
    has_more : bool
        Another page exists within the product's reachable window.
    total : int
        Number of reachable hits (capped at the product's window, e.g. 1000).

    Examples
    --------
    >>> SearchResult([], has_more=False, total=0).hits
    []
    """

    hits: list[GalleryHit]
    has_more: bool
    total: int
