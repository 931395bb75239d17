"""Local image-search galleries: one SQLite store per (product, gallery name), searched in memory.

This is the engine behind the five local image-search products of the Baidu spec
(``same_hq``, ``similar``, ``product``, ``picturebook``, ``materiel``).  It takes pixel arrays
(or precomputed :class:`ImageFeatures`) and returns dataclasses; it knows nothing of HTTP,
base64, form fields or pandas — the emulator maps wire requests onto it.

Storage
-------
``<VISLAB_HOME>/galleries/<product>/<name>.sqlite`` (see :mod:`vislab.engine.paths`), one row
per stored image: ``cont_sign`` (unique), ``brief``, two tag slots, pHash, dHash, the backbone
embedding (float16), the picture-book page views (float16) or the fabric texture descriptor
(float32).  The database runs in WAL mode and **every add, update and delete is one committed
transaction**: a process killed in the middle of a bulk add loses only the image being added,
never a committed one, and never leaves a half-written row (a row is one ``INSERT``).

``synchronous=NORMAL`` is the default: in WAL mode a commit is then safe against the process
dying (SIGKILL, a crashed kernel of a notebook) — the WAL is in the OS page cache and is
replayed on the next open — and only an operating-system crash or power cut can lose the last
few commits (the file still stays consistent).  ``FULL`` adds an ``fsync`` per add, which costs
more than the rest of an add on many disks; pass ``durable=True`` when that trade is wanted.

Embeddings are stored as float16 (half the disk; measured effect on the top-300 is in
``benchmarks/bench_search.py``) and held in memory as float32 **of the float16-rounded
values**, so a search answers the same before and after the store is reopened.

Search
------
The vectors live in an in-memory numpy matrix, loaded lazily at the first search and kept in
step with every add, update and delete made through this object (and reloaded when another
connection — another process — has changed the file, detected with ``PRAGMA data_version``).
Rows are laid out grouped by their tags, so a tag filter selects a few long contiguous runs
that BLAS multiplies without gathering.  Writers hold a lock; readers take a snapshot of the
matrix and never block, and never see a half-applied change (copy-on-write of tags/liveness).

Scores are in 0..1, higher is more similar:

=============  ===================================================================================
product        score
=============  ===================================================================================
similar        cosine of the backbone embeddings, clipped to 0..1
product        the same, with the class-id filter (slot-wise: ``class_id1`` matches slot 1)
same_hq        only *verified* copies are returned — see :data:`SAME_HQ_RULES`
picturebook    max cosine between the query's views and each stored page's 10 views (whole page,
               quadrants, halves, centre), so a partial or tilted photo of a page finds it
materiel       ``0.6 * texture + 0.4 * embedding`` (see :mod:`vislab.engine.texture`)
=============  ===================================================================================

Examples
--------
>>> import tempfile
>>> from skimage import data
>>> home = tempfile.mkdtemp()
>>> g = Gallery("similar", "demo", home=home)
>>> entry = g.add(data.chelsea(), brief='{"id": "cat"}', tags=[1])
>>> _ = g.add(data.coffee(), brief='{"id": "coffee"}', tags=[2])
>>> [h.brief for h in g.search(data.chelsea()).hits]
['{"id": "cat"}', '{"id": "coffee"}']
>>> g.count(), g.search(data.chelsea(), tags=[2]).hits[0].brief
(2, '{"id": "coffee"}')
>>> g.close()
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vislab.engine.hashing import (
    THUMB_SIZE,
    CopyVerifier,
    as_rgb_array,
    content_sign,
    dhash,
    from_int64,
    hamming,
    parse_cont_sign,
    phash,
    thumbnail,
    to_int64,
)
from vislab.engine.paths import GALLERY_PRODUCTS, gallery_path
from vislab.engine.texture import TEXTURE_DIM, texture_descriptor, texture_similarity
from vislab.errors import InvalidParameter, InvalidRequest, VislabError, error_for_code

__all__ = [
    "Gallery",
    "GalleryEntry",
    "GalleryHit",
    "SearchResult",
    "ImageFeatures",
    "ItemExists",
    "ItemNotFound",
    "PAGING",
    "SAME_HQ_RULES",
    "MATERIEL_TEXTURE_WEIGHT",
    "page_views",
    "query_views",
]

Embedder = Callable[[list], np.ndarray]

# (pn_max, rn_max, default rn, reachable results) per product, from the API doc (spec §3.2).
# Picture-book and fabric: the doc's "default: the 1st result" is ambiguous (spec §11.1); a
# caller who sends no rn expects a ranked list, so the default is the whole paging window.
PAGING: dict[str, tuple[int, int, int, int]] = {
    "same_hq": (999, 1000, 300, 1000),
    "similar": (999, 1000, 300, 1000),
    "product": (999, 1000, 300, 1000),
    "picturebook": (99, 100, 100, 100),
    "materiel": (299, 300, 300, 300),
}

# same_hq: candidates, then verification.
# 1. Gate: stored images whose embedding cosine with the query is >= gate_cosine or whose
#    pHash is within gate_phash bits are candidates (light edits measured on 21 scikit-image
#    photos: cosine >= 0.55 with pHash <= 6 bits, or cosine >= 0.88 for 5-10 % crops).
# 2. Verify: the best band-passed correlation of 64 x 64 thumbnails, allowing a crop of either
#    picture by up to 20 % per side (:class:`vislab.engine.hashing.CopyVerifier`), must be
#    >= verify_ncc.  Measured: re-encode/resize/brightness/contrast/5-10 % crops >= 0.83;
#    different photos <= 0.41, different LFW faces <= 0.45, stereo pair of one scene 0.61,
#    halves of one photo <= 0.66.  At most max_verify candidates (best cosine first) are
#    verified per search, which bounds the cost (~6 ms each) in galleries of look-alikes.
SAME_HQ_RULES = {
    "gate_cosine": 0.75,
    "gate_phash": 12,
    "verify_ncc": 0.75,
    "max_verify": 200,
}
# Fabric search: share of the score given to the texture descriptor (the rest is the
# embedding), "texture-weighted" per spec §1.
MATERIEL_TEXTURE_WEIGHT = 0.6

_SCHEMA_VERSION = "1"
_MAX_BRIEF_BYTES = 256
_TAG_MIN, _TAG_MAX = 1, 65535
# A grey level spread below this means a blank picture: the spec's "monotonous (solid
# colour)" image that the service cannot handle (216203).
_MIN_PIXEL_STD = 1.0
# Pictures are embedded in batches of this many (one backbone call each).
_EMBED_BATCH = 16
# Layout: regroup the matrix by tags once this share of rows is out of place (appended or
# re-tagged since the last regrouping) and the gallery has at least _RELAYOUT_MIN rows.
_RELAYOUT_SHARE = 0.25
_RELAYOUT_MIN = 2048
# Scattered rows are gathered into cache-sized blocks of this many rows before the product.
_GATHER_ROWS = 256


class ItemExists(InvalidRequest):
    """The image is already in the gallery (spec code 216681 "item exist").

    Attributes
    ----------
    cont_sign : str
        The signature of the stored copy.
    brief : str
        Its brief.

    Examples
    --------
    >>> err = ItemExists("1,2", "{}")
    >>> err.code, err.msg, err.cont_sign
    (216681, 'item exist', '1,2')
    """

    def __init__(self, cont_sign: str, brief: str | None = None):
        super().__init__(216681, "item exist")
        self.cont_sign = cont_sign
        self.brief = brief


class ItemNotFound(InvalidRequest):
    """No stored image has this signature (spec code 216680 "item not exist").

    Examples
    --------
    >>> ItemNotFound(["1,2"]).code
    216680
    """

    def __init__(self, cont_signs: Sequence[str]):
        super().__init__(216680, "item not exist")
        self.cont_signs = list(cont_signs)


@dataclass(frozen=True, eq=False)
class ImageFeatures:
    """Everything a gallery stores about one image except its brief and tags.

    Compute it with :meth:`Gallery.features`; build it by hand to store vectors that come
    from elsewhere (the search benchmark stores synthetic vectors this way).

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
    """

    cont_sign: str
    embedding: np.ndarray
    phash: int
    dhash: int
    views: np.ndarray | None = None
    texture: np.ndarray | None = None
    thumb: np.ndarray | None = None
    std: float = float("inf")


@dataclass(frozen=True)
class GalleryEntry:
    """One stored image.

    ``slots`` are the two tag slots as stored (``None`` = empty); for ``product`` they are
    ``(class_id1, class_id2)``.  ``tags`` lists the filled slots in order.
    """

    cont_sign: str
    brief: str
    slots: tuple[int | None, int | None]
    added: float

    @property
    def tags(self) -> tuple[int, ...]:
        return tuple(t for t in self.slots if t)

    @property
    def class_id1(self) -> int | None:
        return self.slots[0]

    @property
    def class_id2(self) -> int | None:
        return self.slots[1]


@dataclass(frozen=True)
class GalleryHit:
    """One search hit: signature, brief, score in 0..1 and the stored tag slots."""

    cont_sign: str
    brief: str
    score: float
    slots: tuple[int | None, int | None]

    @property
    def tags(self) -> tuple[int, ...]:
        return tuple(t for t in self.slots if t)


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
    """

    hits: list[GalleryHit]
    has_more: bool
    total: int


# ----------------------------------------------------------------------------------------------
# Picture-book views


def _crop(arr: np.ndarray, top: float, left: float, bottom: float, right: float) -> np.ndarray:
    h, w = arr.shape[:2]
    return arr[
        int(round(top * h)) : int(round(bottom * h)), int(round(left * w)) : int(round(right * w))
    ]


# Fractions (top, left, bottom, right) of a stored page that are embedded besides the whole
# page: a photo of a quarter or a half of the page then meets a view of the same extent.
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


# ----------------------------------------------------------------------------------------------
# In-memory matrix


class _Rows:
    """A snapshot of the in-memory matrix (rows ``0..n-1`` of arrays of capacity ``cap``).

    Readers only touch rows below ``n``; writers append beyond it into the shared arrays and
    publish a new snapshot, and replace (copy-on-write) ``tags``/``alive`` to change rows.
    """

    __slots__ = (
        "n", "ids", "signs", "briefs", "tags", "phash", "dhash", "vectors", "texture",
        "alive", "n_dead", "grouped",
    )  # fmt: skip

    def __init__(self, cap: int, n_views: int, dim: int, with_texture: bool):
        self.n = 0
        self.ids = np.zeros(cap, np.int64)
        self.signs = np.empty(cap, object)
        self.briefs = np.empty(cap, object)
        self.tags = np.zeros((cap, 2), np.int32)
        self.phash = np.zeros(cap, np.uint64)
        self.dhash = np.zeros(cap, np.uint64)
        self.vectors = np.zeros((cap, n_views, dim), np.float32)
        self.texture = np.zeros((cap, TEXTURE_DIM), np.float32) if with_texture else None
        self.alive = np.zeros(cap, bool)
        self.n_dead = 0
        # Rows below this index are grouped by tags; rows after were appended since.
        self.grouped = 0

    @property
    def cap(self) -> int:
        return len(self.ids)

    def copy_meta(self) -> _Rows:
        other = object.__new__(_Rows)
        for name in self.__slots__:
            setattr(other, name, getattr(self, name))
        return other

    def nbytes(self) -> int:
        arrays = [self.ids, self.tags, self.phash, self.dhash, self.vectors, self.alive]
        if self.texture is not None:
            arrays.append(self.texture)
        return sum(a.nbytes for a in arrays) + 2 * self.signs.nbytes


def _group_key(tags: np.ndarray, positional: bool) -> tuple[np.ndarray, np.ndarray]:
    if positional:
        return tags[:, 0], tags[:, 1]
    return np.minimum(tags[:, 0], tags[:, 1]), np.maximum(tags[:, 0], tags[:, 1])


def _runs(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end positions (in ``idx``) of the runs of consecutive row numbers."""
    if idx.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    breaks = np.flatnonzero(np.diff(idx) != 1) + 1
    return np.concatenate(([0], breaks)), np.concatenate((breaks, [idx.size]))


def _matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix @ vector`` on one thread.

    numpy's ``vecdot`` runs a SIMD dot per row on the calling thread.  BLAS ``gemv`` splits
    the rows over its thread pool, which helps little here (the product is memory-bound) and
    hurts a lot when another process occupies a core: a search then waits for a descheduled
    BLAS thread (measured on 2 busy cores: 20k x 1280 rows 7 ms with gemv, 3 ms with vecdot).
    """
    if _HAS_VECDOT:
        return np.vecdot(matrix, vector)
    return matrix @ vector  # numpy < 2.0


_HAS_VECDOT = hasattr(np, "vecdot")


def _row_products(matrix: np.ndarray, idx: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``max over views and query vectors of matrix[idx] . query``, one value per row.

    ``matrix`` is (n, V, D) or (n, D); ``query`` is (D,) or (D, Q).  Long runs of consecutive
    rows go to BLAS as they are; scattered rows are gathered in cache-sized blocks first.
    """
    m = idx.size
    out = np.empty(m, np.float32)
    if m == 0:
        return out
    flat = matrix.reshape(matrix.shape[0], -1, matrix.shape[-1])
    n_views = flat.shape[1]
    vector_query = query.ndim == 1 and n_views == 1

    def block_scores(block: np.ndarray) -> np.ndarray:
        if vector_query:
            return _matvec(block.reshape(block.shape[0], -1), query)
        prod = block.reshape(-1, block.shape[-1]) @ query
        return prod.reshape(block.shape[0], -1).max(axis=1)

    starts, ends = _runs(idx)
    if len(starts) <= max(4, m // 64):
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            out[s:e] = block_scores(flat[idx[s] : idx[s] + (e - s)])
        return out
    if m >= 0.6 * flat.shape[0]:
        # Most rows are wanted anyway: one product over everything beats gathering.
        top = int(idx[-1]) + 1
        return block_scores(flat[:top])[idx]
    buf = np.empty((min(_GATHER_ROWS, m),) + flat.shape[1:], np.float32)
    for s in range(0, m, _GATHER_ROWS):
        part = idx[s : s + _GATHER_ROWS]
        block = buf[: part.size]
        np.take(flat, part, axis=0, out=block)
        out[s : s + part.size] = block_scores(block)
    return out


# ----------------------------------------------------------------------------------------------
# Validation helpers


def _check_brief(brief) -> str:
    if not isinstance(brief, str):
        raise error_for_code(216100, f"invalid param: brief must be a string, got {type(brief)}")
    if len(brief.encode("utf-8")) > _MAX_BRIEF_BYTES:
        raise error_for_code(216100, "brief too long")
    return brief


def _check_slots(tags, *, name: str = "tags") -> list[int | None]:
    """Validate up to two tags (ints 1..65535 or None) and return exactly two slots."""
    if tags is None:
        return [None, None]
    if isinstance(tags, (int, np.integer)):
        tags = [tags]
    values = list(tags)
    if len(values) > 2:
        raise error_for_code(216100, f"invalid param: at most 2 {name}, got {len(values)}")
    out: list[int | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            iv = int(v)
        except (TypeError, ValueError):
            iv = -1
        if iv != v and str(iv) != str(v).strip():
            iv = -1
        if not _TAG_MIN <= iv <= _TAG_MAX:
            raise error_for_code(
                216100, f"invalid param: {name} must be integers in 1..65535, got {v!r}"
            )
        out.append(iv)
    return out + [None] * (2 - len(out))


def _blob16(v: np.ndarray) -> bytes:
    return np.ascontiguousarray(v, dtype="<f2").tobytes()


def _unit_rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    norms = np.linalg.norm(a, axis=-1, keepdims=True)
    return a / np.maximum(norms, 1e-12)


def _half_rounded(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float32).astype("<f2").astype(np.float32)


# ----------------------------------------------------------------------------------------------
# The store


class Gallery:
    """A local image-search gallery: add, search, update, delete, list, count, close.

    Parameters
    ----------
    product : {"same_hq", "similar", "product", "picturebook", "materiel"}
        Which product's search semantics the gallery follows (spec §1).
    name : str, default "default"
        Gallery name (a safe file name).
    home : path-like, optional
        vislab home folder; default ``$VISLAB_HOME`` or ``~/.vislab``.
    path : path-like, optional
        Explicit SQLite file (overrides ``home``/``name``).
    embedder : callable, optional
        ``embedder(list_of_uint8_rgb_arrays) -> (N, D) float32`` unit vectors; default the
        engine backbone (``vislab.engine.backbone.get_backbone().embed``), loaded on first use.
    durable : bool, default False
        ``True`` runs SQLite with ``synchronous=FULL`` (fsync per commit: survives power loss);
        the default ``NORMAL`` survives a killed process (see the module notes).

    Notes
    -----
    The interface is kept narrow (features/add/search/update/delete/get/list/count/close) so
    another backend, e.g. a vector database, can implement the same class later.

    Examples
    --------
    >>> import tempfile
    >>> from skimage import data
    >>> with Gallery("same_hq", "dedup", home=tempfile.mkdtemp()) as g:
    ...     first = g.add(data.astronaut(), brief="astronaut.png")
    ...     try:
    ...         g.add(data.astronaut(), brief="again")
    ...     except ItemExists as err:
    ...         print(err.code, err.cont_sign == first.cont_sign)
    216681 True
    """

    def __init__(
        self,
        product: str,
        name: str = "default",
        *,
        home: str | os.PathLike | None = None,
        path: str | os.PathLike | None = None,
        embedder: Embedder | None = None,
        durable: bool = False,
    ):
        if path is None:
            path = gallery_path(product, name, home=home)
        elif product not in GALLERY_PRODUCTS:
            raise InvalidParameter(f"unknown product {product!r}", name="product")
        self.product = product
        self.name = name
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._embedder = embedder
        self._lock = threading.RLock()
        self._state: _Rows | None = None
        self._row_of: dict[str, int] = {}
        self._positional = product == "product"
        self._n_views = 1 + len(_PAGE_CROPS) if product == "picturebook" else 1
        self._with_texture = product == "materiel"
        self._conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        # 16 KiB pages hold six 1280-d float16 rows; with the default 4 KiB one 2.6 KB row
        # fills a page and a third of the file is slack.  Only takes effect on a new file.
        self._conn.execute("PRAGMA page_size=16384")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._init_schema()
        self._data_version = self._read_data_version()

    # -- lifecycle ---------------------------------------------------------------------------

    def _init_schema(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                # AUTOINCREMENT: ids are never reused after a delete, so an id names one
                # stored image for the life of the file.
                self._conn.execute(
                    """CREATE TABLE IF NOT EXISTS entries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        cont_sign TEXT NOT NULL UNIQUE,
                        brief TEXT NOT NULL,
                        tag1 INTEGER NOT NULL DEFAULT 0,
                        tag2 INTEGER NOT NULL DEFAULT 0,
                        phash INTEGER NOT NULL,
                        dhash INTEGER NOT NULL,
                        embedding BLOB NOT NULL,
                        views BLOB,
                        texture BLOB,
                        thumb BLOB,
                        added REAL NOT NULL)"""
                )
                meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
                if not meta:
                    self._conn.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [("schema_version", _SCHEMA_VERSION), ("product", self.product),
                         ("embedding_dtype", "float16")],
                    )  # fmt: skip
                elif meta.get("product") != self.product:
                    raise InvalidParameter(
                        f"{self.path} is a {meta.get('product')!r} gallery, not {self.product!r}",
                        name="product",
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the database (the object is unusable afterwards).

        Examples
        --------
        >>> import tempfile
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> g.close()
        """
        with self._lock:
            self._state = None
            self._row_of = {}
            self._conn.close()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Gallery({self.product!r}, {self.name!r}, path={str(self.path)!r})"

    # -- features ----------------------------------------------------------------------------

    def _embed(self, images: list[np.ndarray]) -> np.ndarray:
        if self._embedder is None:
            from vislab.engine.backbone import get_backbone

            self._embedder = get_backbone().embed
        out = []
        for s in range(0, len(images), _EMBED_BATCH):
            out.append(np.asarray(self._embedder(images[s : s + _EMBED_BATCH]), np.float32))
        return _unit_rows(np.concatenate(out))

    def features(self, images: Sequence) -> list[ImageFeatures]:
        """Compute what the gallery stores for each image (signature, hashes, vectors).

        Parameters
        ----------
        images : sequence of numpy.ndarray
            ``uint8`` RGB pixel arrays (H, W, 3); grey/RGBA are converted.

        Returns
        -------
        list of ImageFeatures

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> f = g.features([data.coffee()])[0]
        >>> f.embedding.shape
        (1280,)
        """
        arrays = [as_rgb_array(im) for im in images]
        if not arrays:
            return []
        groups = [[a] + (page_views(a) if self._n_views > 1 else []) for a in arrays]
        vectors = self._embed([v for g in groups for v in g])
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
                    views=vec[1:] if self._n_views > 1 else None,
                    texture=texture_descriptor(arr) if self._with_texture else None,
                    thumb=thumbnail(arr) if self.product == "same_hq" else None,
                    std=float(np.asarray(Image.fromarray(arr).convert("L")).std()),
                )
            )
        return feats

    def _as_features(self, image) -> ImageFeatures:
        return image if isinstance(image, ImageFeatures) else self.features([image])[0]

    # -- add -----------------------------------------------------------------------------------

    def add(self, image, *, brief: str, tags=None) -> GalleryEntry:
        """Store one image (one committed transaction).

        Parameters
        ----------
        image : numpy.ndarray or ImageFeatures
            ``uint8`` RGB pixels, or features computed earlier.
        brief : str
            Caller's text returned by search, at most 256 bytes in UTF-8.
        tags : sequence of int, optional
            Up to two ints in 1..65535.  For ``product`` these are ``(class_id1, class_id2)``
            and ``None`` leaves a slot empty.

        Returns
        -------
        GalleryEntry

        Raises
        ------
        ItemExists
            The same pixels are already stored (216681).
        vislab.errors.InvalidRequest
            216100 brief too long or tags out of range; 216203 a blank (single-colour) image.

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("product", home=tempfile.mkdtemp())
        >>> g.add(data.coffee(), brief="cup", tags=(3, None)).class_id1
        3
        """
        brief = _check_brief(brief)
        slots = _check_slots(tags)
        return self._insert(self._as_features(image), brief, slots)

    def add_many(
        self, images: Iterable, *, briefs: Sequence[str], tags: Sequence | None = None
    ) -> list[GalleryEntry | VislabError]:
        """Store many images, each in its own transaction; failures are returned, not raised.

        Images are embedded in batches (faster than :meth:`add` one by one).  The result has
        one item per image, in order: the :class:`GalleryEntry` stored, or the error that
        stopped that image (:class:`ItemExists`, an ``InvalidRequest``...).  Everything
        before a crash is committed; nothing is half-written.

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> out = g.add_many([data.coffee(), data.coffee()], briefs=["a", "b"])
        >>> type(out[0]).__name__, type(out[1]).__name__
        ('GalleryEntry', 'ItemExists')
        """
        images = list(images)
        briefs = list(briefs)
        if len(briefs) != len(images):
            raise InvalidParameter("need one brief per image", name="briefs")
        tag_list = list(tags) if tags is not None else [None] * len(images)
        if len(tag_list) != len(images):
            raise InvalidParameter("need one tags value per image", name="tags")
        results: list[GalleryEntry | VislabError] = []
        for s in range(0, len(images), _EMBED_BATCH):
            chunk = images[s : s + _EMBED_BATCH]
            try:
                pixel_idx = [i for i, im in enumerate(chunk) if not isinstance(im, ImageFeatures)]
                computed = self.features([chunk[i] for i in pixel_idx]) if pixel_idx else []
                feats = list(chunk)
                for i, f in zip(pixel_idx, computed, strict=True):
                    feats[i] = f
            except VislabError:
                feats = [None] * len(chunk)  # fall back to one at a time to find the culprit
            for j, item in enumerate(chunk):
                try:
                    f = feats[j] if feats[j] is not None else self._as_features(item)
                    results.append(
                        self._insert(f, _check_brief(briefs[s + j]), _check_slots(tag_list[s + j]))
                    )
                except VislabError as err:
                    results.append(err)
        return results

    def _insert(self, f: ImageFeatures, brief: str, slots: list[int | None]) -> GalleryEntry:
        if f.std < _MIN_PIXEL_STD:
            raise error_for_code(216203, "input image cannot handle: the image is blank")
        sign = parse_cont_sign(f.cont_sign)
        emb = _half_rounded(_unit_rows(f.embedding).ravel())
        views = None
        if self._n_views > 1:
            if f.views is None or np.asarray(f.views).shape != (self._n_views - 1, emb.size):
                raise InvalidParameter(
                    f"picturebook features need {self._n_views - 1} page views", name="views"
                )
            views = _half_rounded(_unit_rows(f.views))
        texture = None
        if self._with_texture:
            if f.texture is None:
                raise InvalidParameter("materiel features need a texture", name="texture")
            texture = np.asarray(f.texture, np.float32).ravel()
        thumb = None
        if self.product == "same_hq" and f.thumb is not None:
            thumb = np.ascontiguousarray(f.thumb, dtype=np.uint8).tobytes()
        t1, t2 = (s or 0 for s in slots)
        added = time.time()
        with self._lock:
            self._sync_external()
            dim = self._dim()
            if dim is not None and dim != emb.size:
                raise InvalidParameter(
                    f"embedding has {emb.size} values, the gallery holds {dim}", name="embedding"
                )
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if dim is None:
                    self._conn.execute("INSERT INTO meta VALUES ('dim', ?)", (str(emb.size),))
                cur = self._conn.execute(
                    "INSERT INTO entries (cont_sign, brief, tag1, tag2, phash, dhash, embedding,"
                    " views, texture, thumb, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (sign, brief, t1, t2, to_int64(f.phash), to_int64(f.dhash), _blob16(emb),
                     None if views is None else _blob16(views),
                     None if texture is None else texture.tobytes(), thumb, added),
                )  # fmt: skip
                row_id = cur.lastrowid
                self._conn.execute("COMMIT")
            except sqlite3.IntegrityError:
                self._conn.execute("ROLLBACK")
                existing = self._conn.execute(
                    "SELECT brief FROM entries WHERE cont_sign = ?", (sign,)
                ).fetchone()
                raise ItemExists(sign, existing[0] if existing else None) from None
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            if self._state is not None:
                self._append(row_id, sign, brief, (t1, t2), f.phash, f.dhash, emb, views, texture)
        return GalleryEntry(sign, brief, (t1 or None, t2 or None), added)

    def _dim(self) -> int | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()
        return int(row[0]) if row else None

    # -- in-memory matrix maintenance (callers hold the lock) -----------------------------------

    def _read_data_version(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def _sync_external(self) -> None:
        """Drop the matrix when another connection changed the file (it reloads lazily)."""
        version = self._read_data_version()
        if version != self._data_version:
            self._data_version = version
            self._state = None
            self._row_of = {}

    def _loaded(self) -> _Rows:
        with self._lock:
            self._sync_external()
            if self._state is None:
                self._load()
            return self._state

    def _load(self) -> None:
        dim = self._dim() or 0
        group = "tag1, tag2" if self._positional else "min(tag1, tag2), max(tag1, tag2)"
        rows = self._conn.execute(
            "SELECT id, cont_sign, brief, tag1, tag2, phash, dhash, embedding, views, texture"
            f" FROM entries ORDER BY {group}, id"
        ).fetchall()
        n = len(rows)
        st = _Rows(max(64, n + n // 4), self._n_views, dim, self._with_texture)
        if n:
            cols = list(zip(*rows, strict=True))
            st.ids[:n] = cols[0]
            st.signs[:n] = cols[1]
            st.briefs[:n] = cols[2]
            st.tags[:n, 0] = cols[3]
            st.tags[:n, 1] = cols[4]
            st.phash[:n] = [from_int64(v) for v in cols[5]]
            st.dhash[:n] = [from_int64(v) for v in cols[6]]
            st.vectors[:n, 0] = np.frombuffer(b"".join(cols[7]), "<f2").reshape(n, dim)
            if self._n_views > 1:
                st.vectors[:n, 1:] = np.frombuffer(b"".join(cols[8]), "<f2").reshape(
                    n, self._n_views - 1, dim
                )
            if st.texture is not None:
                st.texture[:n] = np.frombuffer(b"".join(cols[9]), np.float32).reshape(n, -1)
            st.alive[:n] = True
        st.n = n
        st.grouped = n
        self._state = st
        self._row_of = {s: i for i, s in enumerate(st.signs[:n].tolist())}

    def _append(self, row_id, sign, brief, tags, ph, dh, emb, views, texture) -> None:
        st = self._state
        if st.vectors.shape[2] == 0:  # first vector of an empty gallery fixes the width
            st = _Rows(st.cap, self._n_views, emb.size, self._with_texture)
        elif st.n == st.cap:
            st = self._regrouped(st, capacity=2 * st.cap)
        i = st.n
        st.ids[i] = row_id
        st.signs[i] = sign
        st.briefs[i] = brief
        st.tags[i] = tags
        st.phash[i] = ph
        st.dhash[i] = dh
        st.vectors[i, 0] = emb
        if views is not None:
            st.vectors[i, 1:] = views
        if texture is not None:
            st.texture[i] = texture
        st.alive[i] = True
        new = st.copy_meta()
        new.n = i + 1
        self._row_of[sign] = i
        self._state = new
        ungrouped = new.n - new.grouped
        if new.n >= _RELAYOUT_MIN and ungrouped > _RELAYOUT_SHARE * max(new.grouped, 1):
            self._state = self._regrouped(new, capacity=new.cap)

    def _regrouped(self, st: _Rows, *, capacity: int) -> _Rows:
        """A new matrix of the live rows, grouped by tags (stable by id), of ``capacity`` rows."""
        live = np.flatnonzero(st.alive[: st.n])
        lo, hi = _group_key(st.tags[live], self._positional)
        order = live[np.lexsort((st.ids[live], hi, lo))]
        m = order.size
        new = _Rows(max(capacity, m + 1), self._n_views, st.vectors.shape[2], self._with_texture)
        new.ids[:m] = st.ids[order]
        new.signs[:m] = st.signs[order]
        new.briefs[:m] = st.briefs[order]
        new.tags[:m] = st.tags[order]
        new.phash[:m] = st.phash[order]
        new.dhash[:m] = st.dhash[order]
        np.take(st.vectors, order, axis=0, out=new.vectors[:m])
        if st.texture is not None:
            new.texture[:m] = st.texture[order]
        new.alive[:m] = True
        new.n = m
        new.grouped = m
        self._row_of = {s: i for i, s in enumerate(new.signs[:m].tolist())}
        return new

    def _forget_rows(self, rows: list[int]) -> None:
        st = self._state.copy_meta()
        st.alive = st.alive.copy()
        st.alive[rows] = False
        st.n_dead += len(rows)
        for r in rows:
            self._row_of.pop(st.signs[r], None)
        if st.n_dead > max(1024, st.n // 4):
            st = self._regrouped(st, capacity=st.cap)
        self._state = st

    # -- search --------------------------------------------------------------------------------

    def _query_features(self, image) -> tuple[ImageFeatures, np.ndarray, np.ndarray | None]:
        """The query's features, its embedding matrix and the pixels for same_hq checks."""
        if isinstance(image, ImageFeatures):
            q = _unit_rows(image.embedding).ravel()
            extra = [] if image.views is None else list(_unit_rows(image.views))
            return image, np.stack([q] + extra, axis=1) if extra else q, image.thumb
        arr = as_rgb_array(image)
        if self._n_views > 1:
            vecs = self._embed(query_views(arr))
            f = ImageFeatures(content_sign(arr), vecs[0], phash(arr), dhash(arr))
            return f, vecs.T.copy(), arr
        f = ImageFeatures(
            content_sign(arr),
            self._embed([arr])[0],
            phash(arr),
            dhash(arr),
            texture=texture_descriptor(arr) if self._with_texture else None,
        )
        return f, f.embedding, arr

    def _filter_rows(self, st: _Rows, tags, tag_logic) -> np.ndarray:
        n = st.n
        alive = st.alive[:n]
        slots = _check_slots(tags)
        if tag_logic not in (0, 1, "0", "1"):
            raise error_for_code(
                216100, f"invalid param: tag_logic must be 0 or 1, got {tag_logic!r}"
            )
        use_or = int(tag_logic) == 1
        t = st.tags[:n]
        conds = []
        for pos, v in enumerate(slots):
            if v is None:
                continue
            conds.append(t[:, pos] == v if self._positional else (t[:, 0] == v) | (t[:, 1] == v))
        if not conds:
            return np.flatnonzero(alive)
        mask = conds[0]
        for c in conds[1:]:
            mask = (mask | c) if use_or else (mask & c)
        return np.flatnonzero(mask & alive)

    def search(
        self, image, *, tags=None, tag_logic=0, pn: int = 0, rn: int | None = None
    ) -> SearchResult:
        """Search the gallery with one image; return a page of hits, best first.

        Parameters
        ----------
        image : numpy.ndarray or ImageFeatures
            Query pixels (``uint8`` RGB) or precomputed features.
        tags : sequence of int, optional
            Up to two tags restricting the search.  Non-product galleries: a row matches a tag
            when either of its slots holds it.  ``product``: ``(class_id1, class_id2)``, matched
            slot by slot (``None`` = no condition).
        tag_logic : {0, 1}, default 0
            How two tags combine: ``0`` = AND, ``1`` = OR (spec §3.2).
        pn, rn : int
            Page start (0-based) and size; ``rn`` defaults to the product's default (300 for
            same/similar/product).  Results past the product's window (1000, or 100 for
            picturebook, 300 for materiel) are not reachable.

        Returns
        -------
        SearchResult

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> _ = g.add(data.coffee(), brief="coffee")
        >>> r = g.search(data.coffee())
        >>> r.hits[0].brief, round(r.hits[0].score, 3), r.has_more
        ('coffee', 1.0, False)
        """
        pn_max, rn_max, rn_default, window = PAGING[self.product]
        pn, rn = self._check_page(pn, rn, pn_max, rn_max, rn_default)
        query, qmat, source = self._query_features(image)
        st = self._loaded()
        idx = self._filter_rows(st, tags, tag_logic)
        scores, idx = self._score(st, idx, query, qmat, source)
        total = min(idx.size, window)
        k = min(pn + rn, total)
        if k <= pn:
            return SearchResult([], False, total)
        if k < idx.size:
            part = np.argpartition(-scores, k - 1)[:k]
            # argpartition picks arbitrary members of a tie at the cut; take the whole tie so
            # that the insertion-order tie-break below decides, and pages stay consistent.
            kth = scores[part].min()
            part = np.concatenate((part[scores[part] > kth], np.flatnonzero(scores == kth)))
        else:
            part = np.arange(idx.size)
        # Ties (e.g. several exact copies) are ordered by insertion id for a stable order.
        order = part[np.lexsort((st.ids[idx[part]], -scores[part]))]
        page = order[pn:k]
        rows = idx[page]
        hits = [
            GalleryHit(str(st.signs[r]), str(st.briefs[r]), float(s),
                       (int(st.tags[r, 0]) or None, int(st.tags[r, 1]) or None))
            for r, s in zip(rows.tolist(), scores[page].tolist(), strict=True)
        ]  # fmt: skip
        return SearchResult(hits, k < total, total)

    @staticmethod
    def _check_page(pn, rn, pn_max, rn_max, rn_default) -> tuple[int, int]:
        try:
            pn = int(pn)
            rn = rn_default if rn is None else int(rn)
        except (TypeError, ValueError):
            raise error_for_code(216100, "invalid param: pn and rn must be integers") from None
        if not 0 <= pn <= pn_max:
            raise error_for_code(216100, f"invalid param: pn must be in 0..{pn_max}, got {pn}")
        if not 1 <= rn <= rn_max:
            raise error_for_code(216100, f"invalid param: rn must be in 1..{rn_max}, got {rn}")
        return pn, rn

    def _score(
        self, st: _Rows, idx: np.ndarray, query: ImageFeatures, qmat: np.ndarray, source
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores in 0..1 for rows ``idx``; same_hq also drops the unverified rows."""
        n = st.n
        if idx.size == 0 or st.vectors.shape[2] == 0:
            return np.zeros(0, np.float32), idx[:0]
        if qmat.shape[0] != st.vectors.shape[2]:
            raise InvalidParameter(
                f"query embedding has {qmat.shape[0]} values, the gallery holds "
                f"{st.vectors.shape[2]}",
                name="embedding",
            )
        cos = _row_products(st.vectors[:n], idx, qmat)
        if self.product == "same_hq":
            return self._verify_same(st, idx, query, cos, source)
        if self.product == "materiel":
            q_tex = query.texture
            if q_tex is None:
                raise InvalidParameter("materiel queries need a texture", name="texture")
            tex = texture_similarity(_row_products(st.texture[:n], idx, np.asarray(q_tex)))
            w = MATERIEL_TEXTURE_WEIGHT
            return w * tex + (1 - w) * np.clip(cos, 0.0, 1.0), idx
        return np.clip(cos, 0.0, 1.0), idx

    def _verify_same(self, st, idx, query, cos, source):
        r = SAME_HQ_RULES
        exact = st.signs[idx] == query.cont_sign
        near_hash = (hamming(st.phash[idx], query.phash) <= r["gate_phash"]) | (
            hamming(st.dhash[idx], query.dhash) <= r["gate_phash"]
        )
        cand = np.flatnonzero((cos >= r["gate_cosine"]) | near_hash | exact)
        # Exact copies first, then the best embeddings: the verification budget goes there.
        cand = cand[np.lexsort((-cos[cand], ~exact[cand]))][: r["max_verify"]]
        row_ids = st.ids[idx[cand]].tolist()
        thumbs = {}
        if row_ids and source is not None:
            with self._lock:
                marks = ",".join("?" * len(row_ids))
                thumbs = dict(
                    self._conn.execute(
                        f"SELECT id, thumb FROM entries WHERE id IN ({marks})", row_ids
                    ).fetchall()
                )
        verifier = CopyVerifier(source) if thumbs else None
        keep, scores = [], []
        for c, row_id in zip(cand.tolist(), row_ids, strict=True):
            if exact[c]:
                keep.append(c)
                scores.append(1.0)
                continue
            blob = thumbs.get(row_id)
            if blob is None or verifier is None:
                continue
            thumb = np.frombuffer(blob, np.uint8).reshape(THUMB_SIZE, THUMB_SIZE)
            ncc = verifier.score(thumb)
            if ncc >= r["verify_ncc"]:
                keep.append(c)
                # Both opinions count: pixels that line up, and content that reads the same.
                scores.append(0.5 * min(max(float(cos[c]), 0.0), 1.0) + 0.5 * min(ncc, 1.0))
        keep_idx = np.asarray(keep, dtype=np.int64)
        return np.asarray(scores, np.float32), idx[keep_idx]

    # -- update / delete / read ----------------------------------------------------------------

    def _sign_of(self, cont_sign, image) -> str:
        if image is not None:
            return content_sign(image) if not isinstance(image, ImageFeatures) else image.cont_sign
        if cont_sign is None:
            raise error_for_code(216101, "not enough param: give cont_sign or image")
        return parse_cont_sign(cont_sign)

    def update(
        self, cont_sign: str | None = None, *, image=None, brief: str | None = None, tags=None
    ) -> GalleryEntry:
        """Change the brief and/or tags of one stored image.

        Parameters
        ----------
        cont_sign : str, optional
            The stored image's signature (one only).
        image : numpy.ndarray, optional
            Locate the stored image by its pixels instead (wins over ``cont_sign``).
        brief : str, optional
            New brief (<= 256 bytes); ``None`` keeps it.
        tags : sequence, optional
            New tag slots; ``None`` keeps them.  A ``None`` item keeps that slot and a missing
            second item clears slot 2, so ``(7,)`` sets tags to just 7 and ``(None, 9)``
            (product: ``class_id2`` only) keeps slot 1.

        Returns
        -------
        GalleryEntry
            The entry after the change.

        Raises
        ------
        ItemNotFound
            No such image (216680).

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> e = g.add(data.coffee(), brief="old", tags=[1])
        >>> g.update(e.cont_sign, brief="new", tags=[2, 3]).tags
        (2, 3)
        """
        sign = self._sign_of(cont_sign, image)
        new_brief = None if brief is None else _check_brief(brief)
        new_slots = None if tags is None else _check_slots(tags)
        given = (
            [] if tags is None else ([tags] if isinstance(tags, (int, np.integer)) else list(tags))
        )
        keep = [i < len(given) and given[i] is None for i in range(2)]
        with self._lock:
            self._sync_external()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT brief, tag1, tag2, added FROM entries WHERE cont_sign = ?", (sign,)
                ).fetchone()
                if row is None:
                    raise ItemNotFound([sign])
                b, t1, t2, added = row
                if new_brief is not None:
                    b = new_brief
                if new_slots is not None:
                    # An explicit None keeps that slot; a slot not given at all is cleared.
                    t1 = t1 if keep[0] else (new_slots[0] or 0)
                    t2 = t2 if keep[1] else (new_slots[1] or 0)
                self._conn.execute(
                    "UPDATE entries SET brief = ?, tag1 = ?, tag2 = ? WHERE cont_sign = ?",
                    (b, t1, t2, sign),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            if self._state is not None and sign in self._row_of:
                r = self._row_of[sign]
                st = self._state.copy_meta()
                st.briefs = st.briefs.copy()
                st.tags = st.tags.copy()
                st.briefs[r] = b
                st.tags[r] = (t1, t2)
                # The row may now sit outside its tag group: count it as out of place.
                st.grouped = min(st.grouped, r) if new_slots is not None else st.grouped
                self._state = st
        return GalleryEntry(sign, b, (t1 or None, t2 or None), added)

    def delete(self, cont_sign: str | Iterable[str] | None = None, *, image=None) -> list[str]:
        """Delete stored images at once (locally there is no delayed deletion).

        Parameters
        ----------
        cont_sign : str or iterable of str, optional
            One signature, a ``;``-joined batch (``"1,2;3,4"``) or a list of them.
        image : numpy.ndarray, optional
            Delete the image with these pixels (wins over ``cont_sign``).

        Returns
        -------
        list of str
            The signatures that were deleted (unknown ones in a batch are skipped).

        Raises
        ------
        ItemNotFound
            None of the given images is stored (216680).

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> e = g.add(data.coffee(), brief="x")
        >>> g.delete(e.cont_sign) == [e.cont_sign], g.count()
        (True, 0)
        """
        if image is not None:
            signs = [self._sign_of(None, image)]
        elif cont_sign is None:
            raise error_for_code(216101, "not enough param: give cont_sign or image")
        else:
            items = cont_sign.split(";") if isinstance(cont_sign, str) else list(cont_sign)
            signs = list(dict.fromkeys(parse_cont_sign(s) for s in items if str(s).strip()))
        if not signs:
            raise error_for_code(216101, "not enough param: cont_sign is empty")
        with self._lock:
            self._sync_external()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                found = [
                    s for s in signs
                    if self._conn.execute("DELETE FROM entries WHERE cont_sign = ?", (s,)).rowcount
                ]  # fmt: skip
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            if not found:
                raise ItemNotFound(signs)
            if self._state is not None:
                rows = [self._row_of[s] for s in found if s in self._row_of]
                if rows:
                    self._forget_rows(rows)
        return found

    def get(self, cont_sign: str | None = None, *, image=None) -> GalleryEntry | None:
        """The stored entry with this signature (or these pixels), or ``None``.

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> g.get(image=data.coffee()) is None
        True
        """
        sign = self._sign_of(cont_sign, image)
        with self._lock:
            row = self._conn.execute(
                "SELECT cont_sign, brief, tag1, tag2, added FROM entries WHERE cont_sign = ?",
                (sign,),
            ).fetchone()
        return (
            None
            if row is None
            else GalleryEntry(row[0], row[1], (row[2] or None, row[3] or None), row[4])
        )

    def list(self, *, offset: int = 0, limit: int | None = None) -> list[GalleryEntry]:
        """Stored entries in the order they were added.

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> _ = g.add(data.coffee(), brief="x", tags=[5])
        >>> [(e.brief, e.tags) for e in g.list()]
        [('x', (5,))]
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT cont_sign, brief, tag1, tag2, added FROM entries ORDER BY id"
                " LIMIT ? OFFSET ?",
                (-1 if limit is None else int(limit), int(offset)),
            ).fetchall()
        return [GalleryEntry(s, b, (t1 or None, t2 or None), a) for s, b, t1, t2, a in rows]

    def count(self) -> int:
        """Number of stored images.

        Examples
        --------
        >>> import tempfile
        >>> Gallery("materiel", home=tempfile.mkdtemp()).count()
        0
        """
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def memory_bytes(self) -> int:
        """Bytes held by the in-memory matrix (0 before the first search).

        Counts the arrays at their allocated capacity (up to 25 % more rows than stored, room
        to grow without copying) and the Python strings of signatures and briefs.

        Examples
        --------
        >>> import tempfile
        >>> Gallery("similar", home=tempfile.mkdtemp()).memory_bytes()
        0
        """
        st = self._state
        if st is None:
            return 0
        strings = sum(
            _sizeof(s) + _sizeof(b)
            for s, b in zip(st.signs[: st.n].tolist(), st.briefs[: st.n].tolist(), strict=True)
        )
        return st.nbytes() + strings


def _sizeof(obj) -> int:
    import sys

    return sys.getsizeof(obj)
