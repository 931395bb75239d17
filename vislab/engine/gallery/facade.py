"""The :class:`Gallery` facade: one product's gallery = policy + metadata store + vector index.

The policy (:mod:`~vislab.engine.gallery.policy`) validates and scores, the store
(:mod:`~vislab.engine.gallery.store`) is the record of truth, the index
(:mod:`~vislab.engine.gallery.index`) answers searches; this module only ties them together.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from vislab.engine.errors import BlankImage
from vislab.engine.gallery.edits import GalleryEdits
from vislab.engine.gallery.features import Embedder, FeatureExtractor, half_rounded, unit_rows
from vislab.engine.gallery.index import IndexItem, NumpyIndex
from vislab.engine.gallery.policy import policy_for
from vislab.engine.gallery.records import GalleryEntry, GalleryHit, ImageFeatures, SearchResult
from vislab.engine.gallery.store import SQLiteStore, StoredRow
from vislab.engine.hashing import parse_cont_sign
from vislab.engine.paths import gallery_path
from vislab.errors import InvalidParameter, VislabError

__all__ = ["Gallery", "MIN_PIXEL_STD"]

#: A grey-level spread below this means a blank picture: a "monotonous (solid colour)" image
#: that Baidu's image search docs say the service cannot handle.
MIN_PIXEL_STD = 1.0
# add_many embeds this many pictures per backbone call.
_ADD_BATCH = 16


class Gallery(GalleryEdits):
    """A local image-search gallery: add, search, update, delete, get, list, count, close.

    Parameters
    ----------
    product : {"same_hq", "similar", "product", "picturebook", "materiel"}
        Which product's rules and search semantics the gallery follows (the catalogue's
        image-search products; see :mod:`vislab.engine.gallery.policy`).
    name : str, default "default"
        Gallery name (a safe file name).
    home : path-like, optional
        vislab home folder; default ``$VISLAB_HOME`` or ``~/.vislab``.
    path : path-like, optional
        Explicit SQLite file (overrides ``home``/``name``).
    embedder : callable, optional
        ``embedder(list_of_uint8_rgb_arrays) -> (N, D)`` float32 unit vectors; default the
        engine backbone (``vislab.engine.backbone.get_backbone().embed``), loaded on first use.
    durable : bool, default False
        ``True`` runs SQLite with ``synchronous=FULL`` (fsync per commit: survives power loss);
        the default ``NORMAL`` survives a killed process (see :mod:`vislab.engine.gallery.store`).
    backend : {"numpy", "milvus"}, optional
        Default ``$VISLAB_GALLERY_BACKEND`` or ``"numpy"`` (``vislab serve --gallery-backend``
        sets it).  The vector index: in memory with numpy, or a Milvus collection
        (:class:`~vislab.engine.gallery.milvus.MilvusIndex`, the ``milvus`` extra).  The SQLite
        store stays the record of truth either way; the collection is brought in step with it
        when the gallery first searches.
    milvus_uri : str, optional
        A Milvus Lite file or a server (``"http://host:19530"``); default
        ``$VISLAB_MILVUS_URI`` or ``<home>/galleries/milvus.db`` (a Milvus Lite file beside the
        SQLite galleries).
    milvus_token : str, optional
        A Milvus server's token (default ``$VISLAB_MILVUS_TOKEN``).

    Notes
    -----
    The index is built from the store at the first search, kept in step with every change
    made through this object, and rebuilt when another process has changed the file.

    Examples
    --------
    >>> import tempfile
    >>> from skimage import data
    >>> g = Gallery("similar", "demo", home=tempfile.mkdtemp())
    >>> entry = g.add(data.chelsea(), brief='{"id": "cat"}', tags=[1])
    >>> _ = g.add(data.coffee(), brief='{"id": "coffee"}', tags=[2])
    >>> [h.brief for h in g.search(data.chelsea()).hits]
    ['{"id": "cat"}', '{"id": "coffee"}']
    >>> g.count(), g.search(data.chelsea(), tags=[2]).hits[0].brief
    (2, '{"id": "coffee"}')
    >>> g.close()
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
        backend: str | None = None,
        milvus_uri: str | None = None,
        milvus_token: str | None = None,
    ):
        backend = backend or os.environ.get("VISLAB_GALLERY_BACKEND") or "numpy"
        if backend not in ("numpy", "milvus"):
            raise InvalidParameter(
                f"backend must be 'numpy' or 'milvus', got {backend!r}", name="backend"
            )
        self.policy = policy_for(product)
        if path is None:
            path = gallery_path(product, name, home=home)
        self.product = product
        self.name = name
        self.path = Path(path)
        self._store = SQLiteStore(self.path, product=product, durable=durable)
        self._lock = self._store.lock
        self._extractor = FeatureExtractor(self.policy, embedder)
        self._index: NumpyIndex | None = None
        self.backend = backend
        self._milvus = None
        if backend == "milvus":
            from vislab.engine.gallery.milvus import MilvusIndex, collection_name

            uri = (milvus_uri or os.environ.get("VISLAB_MILVUS_URI")
                   or str(self.path.parent.parent / "milvus.db"))  # fmt: skip
            milvus_token = milvus_token or os.environ.get("VISLAB_MILVUS_TOKEN")
            # Opened now: an unreachable URI or a collection of another width fails here.
            self._milvus = MilvusIndex(uri, collection_name(product, name), token=milvus_token,
                                       n_views=self.policy.n_views,
                                       with_texture=self.policy.with_texture,
                                       dim=self._store.dim())  # fmt: skip

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database (the object is unusable afterwards).

        Examples
        --------
        >>> import tempfile
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> g.close()
        """
        with self._lock:
            self._index = None
            self._store.close()
            if self._milvus is not None:
                self._milvus.close()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Gallery({self.product!r}, {self.name!r}, path={str(self.path)!r})"

    # -- features ----------------------------------------------------------------------------

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
        >>> g.features([data.coffee()])[0].embedding.shape
        (1280,)
        """
        return self._extractor.features(images)

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
            Caller's text returned by search, at most the product's limit (256 bytes of UTF-8).
        tags : sequence of int, optional
            Up to two ints in 1..65535.  For ``product`` these are ``(class_id1, class_id2)``
            and ``None`` leaves a slot empty.

        Returns
        -------
        GalleryEntry

        Raises
        ------
        vislab.engine.errors.ItemExists
            The same pixels are already stored.
        vislab.engine.errors.BadBrief, vislab.engine.errors.BadCategories
            The brief is too long or not text; tags are out of range or too many.
        vislab.engine.errors.BlankImage
            A blank (single-colour) picture.

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> g = Gallery("product", home=tempfile.mkdtemp())
        >>> g.add(data.coffee(), brief="cup", tags=(3, None)).class_id1
        3
        """
        brief = self.policy.check_brief(brief)
        slots = self.policy.check_slots(tags)
        return self._insert(self._as_features(image), brief, slots)

    def add_many(
        self, images: Iterable, *, briefs: Sequence[str], tags: Sequence | None = None
    ) -> list[GalleryEntry | VislabError]:
        """Store many images, each in its own transaction; failures are returned, not raised.

        Images are embedded in batches (faster than :meth:`add` one by one).  The result has
        one item per image, in order: the :class:`GalleryEntry` stored, or the error that
        stopped that image (:class:`~vislab.engine.errors.ItemExists`,
        :class:`~vislab.engine.errors.BlankImage`...).  Everything before a crash is
        committed; nothing is half-written.

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
        for s in range(0, len(images), _ADD_BATCH):
            chunk = images[s : s + _ADD_BATCH]
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
                    brief = self.policy.check_brief(briefs[s + j])
                    results.append(self._insert(f, brief, self.policy.check_slots(tag_list[s + j])))
                except VislabError as err:
                    results.append(err)
        return results

    def _insert(self, f: ImageFeatures, brief: str, slots: list[int | None]) -> GalleryEntry:
        if f.std < MIN_PIXEL_STD:
            raise BlankImage(f.std, limit=MIN_PIXEL_STD)
        sign = parse_cont_sign(f.cont_sign)
        self.policy.check_features(f)
        emb = half_rounded(unit_rows(f.embedding).ravel())
        vectors = emb[None]
        views = None
        if self.policy.n_views > 1:
            views = half_rounded(unit_rows(f.views))
            vectors = np.concatenate((vectors, views))
        texture = np.asarray(f.texture, np.float32).ravel() if self.policy.with_texture else None
        thumb = None
        if self.policy.with_thumb and f.thumb is not None:
            thumb = np.ascontiguousarray(f.thumb, dtype=np.uint8).tobytes()
        t1, t2 = (s or 0 for s in slots)
        added = time.time()
        row = StoredRow(sign, brief, (t1, t2), f.phash, f.dhash, emb, views, texture, thumb, added)
        with self._lock:
            self._sync_external()
            row_id = self._store.insert(row)
            if self._index is not None:
                self._index.add(IndexItem(row_id, sign, brief, (t1, t2), f.phash, f.dhash,
                                          vectors, texture))  # fmt: skip
        return GalleryEntry(sign, brief, (t1 or None, t2 or None), added)

    # -- the index -----------------------------------------------------------------------------

    def _sync_external(self) -> None:
        """Drop the index when another connection changed the file (it reloads lazily)."""
        if self._store.changed_elsewhere():
            self._index = None

    def _loaded(self) -> NumpyIndex:
        with self._lock:
            self._sync_external()
            if self._index is None:
                p = self.policy
                c = self._store.columns(p.n_views, p.with_texture)
                if self._milvus is not None:
                    self._milvus.sync(c)  # the store is the record of truth
                    self._index = self._milvus
                    return self._index
                self._index = NumpyIndex.load(
                    c.ids,
                    c.signs,
                    c.briefs,
                    c.tags,
                    c.phash,
                    c.dhash,
                    c.vectors,
                    c.texture,
                    n_views=p.n_views,
                    with_texture=p.with_texture,
                    positional=p.positional,
                )
            return self._index

    # -- search --------------------------------------------------------------------------------

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
            How two tags combine: ``0`` = AND, ``1`` = OR.
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
        pn, rn = self.policy.check_page(pn, rn)
        where = self.policy.tag_filter(tags, tag_logic)
        query = self._extractor.query(image)
        index = self._loaded()
        window = self.policy.window
        found = self.policy.rank(index, query, where, min(pn + rn, window), self._store.thumbs)
        total = min(found.total, window)
        k = min(pn + rn, total)
        if k <= pn:
            return SearchResult([], False, total)
        page = found.select(np.arange(pn, k))
        signs, briefs, slots = index.payload(page, "cont_sign", "brief", "slots")
        hits = [
            GalleryHit(s, b, score, (t1 or None, t2 or None))
            for s, b, score, (t1, t2) in zip(signs.tolist(), briefs.tolist(),
                                             page.scores.tolist(), slots.tolist(), strict=True)
        ]  # fmt: skip
        return SearchResult(hits, k < total, total)

    # -- update / delete / read ----------------------------------------------------------------

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
        return self._store.get(self._sign_of(cont_sign, image))

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
        return self._store.list(offset=offset, limit=limit)

    def count(self) -> int:
        """Number of stored images.

        Examples
        --------
        >>> import tempfile
        >>> Gallery("materiel", home=tempfile.mkdtemp()).count()
        0
        """
        return self._store.count()

    def memory_bytes(self, *, headroom: bool = True) -> int:
        """Bytes held by the in-memory index (0 before the first search).

        Counts the arrays at their allocated capacity (up to 25 % more rows than stored, room
        to grow without copying; ``headroom=False`` leaves that room out) and the Python
        strings of signatures and briefs.

        Examples
        --------
        >>> import tempfile
        >>> Gallery("similar", home=tempfile.mkdtemp()).memory_bytes()
        0
        """
        index = self._index
        return 0 if index is None else index.nbytes(headroom=headroom)
