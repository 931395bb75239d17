"""Local image-search galleries: one SQLite store per (product, gallery name), searched in memory.

This is the engine behind the five image-search products of the catalogue (``same_hq``,
``similar``, ``product``, ``picturebook``, ``materiel``).  It takes pixel arrays (or
precomputed :class:`ImageFeatures`) and returns dataclasses; it knows nothing of HTTP, base64,
form fields, wire codes or pandas — the emulator maps wire requests onto it and its errors
(:mod:`vislab.engine.errors`) onto wire codes.

The package, one concern per module:

``records``
    :class:`ImageFeatures`, :class:`GalleryEntry`, :class:`GalleryHit`, :class:`SearchResult`
``features``
    signatures, hashes, embeddings (batched), picture-book views, texture
``policy``
    per-product policies built from the catalogue's ``Product`` (paging, brief and category
    rules) plus the engine's own choices (copy verification, page views, texture weight, scores)
``protocols``
    the ``VectorIndex`` seam (filters, matches, rows) a vector database can fill
``index``
    :class:`NumpyIndex` (vectors in memory, tag groups as contiguous runs)
``scoring``
    the row-by-query products of a search (shared by two threads when large)
``store``
    the ``MetadataStore`` protocol and :class:`SQLiteStore` (WAL, one transaction per change)
``facade``
    :class:`Gallery`, which ties them together

Storage is ``<VISLAB_HOME>/galleries/<product>/<name>.sqlite`` (see :mod:`vislab.engine.paths`).
Embeddings are stored as float16 (half the disk; the measured effect on the top-300 is in
``benchmarks/bench_search.py``) and held in memory as float32 **of the float16-rounded
values**, so a search answers the same before and after the store is reopened.

Examples
--------
>>> import tempfile
>>> from skimage import data
>>> g = Gallery("similar", "demo", home=tempfile.mkdtemp())
>>> entry = g.add(data.chelsea(), brief='{"id": "cat"}', tags=[1])
>>> _ = g.add(data.coffee(), brief='{"id": "coffee"}', tags=[2])
>>> [h.brief for h in g.search(data.chelsea()).hits]
['{"id": "cat"}', '{"id": "coffee"}']
>>> g.close()
"""

from __future__ import annotations

from vislab.engine.errors import ItemExists, ItemNotFound
from vislab.engine.gallery.facade import MIN_PIXEL_STD, Gallery
from vislab.engine.gallery.features import page_views, query_views
from vislab.engine.gallery.index import NumpyIndex
from vislab.engine.gallery.policy import (
    MATERIEL_TEXTURE_WEIGHT,
    POLICY_CLASSES,
    SAME_HQ_RULES,
    ProductPolicy,
    policy_for,
)
from vislab.engine.gallery.protocols import Matches, TagFilter, VectorIndex
from vislab.engine.gallery.records import GalleryEntry, GalleryHit, ImageFeatures, SearchResult
from vislab.engine.gallery.store import MetadataStore, SQLiteStore

__all__ = [
    "Gallery",
    "GalleryEntry",
    "GalleryHit",
    "SearchResult",
    "ImageFeatures",
    "ItemExists",
    "ItemNotFound",
    "ProductPolicy",
    "POLICY_CLASSES",
    "policy_for",
    "SAME_HQ_RULES",
    "MATERIEL_TEXTURE_WEIGHT",
    "MIN_PIXEL_STD",
    "page_views",
    "query_views",
    "VectorIndex",
    "NumpyIndex",
    "TagFilter",
    "Matches",
    "MetadataStore",
    "SQLiteStore",
]
