"""Per-product gallery policies, built from the catalogue's :class:`vislab.catalogue.Product`.

The *service's* rules of a product (paging window, brief length, how many tags, their range,
whether categories are a tag set or two class-id slots) are catalogue data, read here once.
What is the *engine's* own choice (how same-image search verifies a copy, which crops of a
picture-book page are embedded, how much texture weighs in fabric search) is the policy class.
:data:`POLICY_CLASSES` is the one place that names a product to pick its class.

=============  ===================================================================================
product        score (0..1, higher is more similar)
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
>>> p = policy_for("picturebook")
>>> type(p).__name__, p.paging, p.n_views
('PictureBookPolicy', (99, 100, 100, 100), 10)
>>> p.check_slots([7]), policy_for("product").positional
([7, None], True)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vislab import catalogue
from vislab.catalogue.model import Product
from vislab.engine.errors import BadBrief, BadCategories, BadPage, BadTagLogic
from vislab.engine.gallery.features import Query, page_views, query_views
from vislab.engine.gallery.protocols import Matches, TagFilter, VectorIndex, top_k
from vislab.engine.hashing import THUMB_SIZE, CopyVerifier, hamming
from vislab.engine.paths import GALLERY_PRODUCTS
from vislab.engine.texture import texture_similarity
from vislab.errors import InvalidParameter

__all__ = [
    "ProductPolicy",
    "SimilarityPolicy",
    "SameImagePolicy",
    "PictureBookPolicy",
    "FabricPolicy",
    "POLICY_CLASSES",
    "policy_for",
    "SAME_HQ_RULES",
    "MATERIEL_TEXTURE_WEIGHT",
    "IMAGE_SEARCH",
]

#: The catalogue family whose products the galleries implement.
IMAGE_SEARCH = "baidu.image_search"

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
#: Fabric search: share of the score given to the texture descriptor (the rest is the
#: embedding): Baidu's fabric search is "texture-weighted".
MATERIEL_TEXTURE_WEIGHT = 0.6

ThumbReader = Callable[[list[int]], dict[int, bytes]]


class ProductPolicy:
    """What a gallery of one product accepts and how it scores (base: embedding similarity).

    Parameters
    ----------
    product : vislab.catalogue.Product
        The product's service rules (paging, brief, categories).

    Attributes
    ----------
    n_views : int
        Embeddings stored per image (the whole picture, then :meth:`stored_views`).
    with_texture, with_thumb : bool
        Whether a texture descriptor / a verification thumbnail is stored.

    Examples
    --------
    >>> p = policy_for("similar")
    >>> p.check_page(0, None), p.check_brief("ok"), p.tag_filter([3, 4], 1)
    ((0, 300), 'ok', TagFilter(values=(3, 4), any_of=True, positional=False))
    """

    n_views = 1
    with_texture = False
    with_thumb = False

    def __init__(self, product: Product):
        self.product = product

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def positional(self) -> bool:
        """Categories are two slots matched one by one (``class_id1``/``class_id2``)."""
        return self.product.positional

    @property
    def window(self) -> int:
        """How many results are reachable at all: ``rn_max`` (e.g. results 1..1000)."""
        return self.product.rn_max

    @property
    def paging(self) -> tuple[int, int, int, int]:
        """``(pn_max, rn_max, rn default, reachable results)``."""
        p = self.product
        return p.pn_max, p.rn_max, p.rn_default, self.window

    # -- validation ----------------------------------------------------------------------------

    def check_brief(self, brief) -> str:
        """The brief, if it is a string of at most ``brief_max_bytes`` UTF-8 bytes."""
        if not isinstance(brief, str):
            raise BadBrief(f"brief must be a string, got {type(brief).__name__}")
        size, limit = len(brief.encode("utf-8")), self.product.brief_max_bytes
        if size > limit:
            raise BadBrief(f"brief too long: {size} bytes of UTF-8, at most {limit}; shorten it")
        return brief

    def check_slots(self, tags) -> list[int | None]:
        """Validate up to ``max_tags`` categories (ints in range, or None); return 2 slots."""
        label = "/".join(self.product.categories)
        if tags is None:
            return [None, None]
        if isinstance(tags, (int, np.integer)):
            tags = [tags]
        values = list(tags)
        most = self.product.max_tags
        if len(values) > most:
            raise BadCategories(f"at most {most} {label}, got {len(values)}", name=label)
        lo, hi = self.product.category_range
        out: list[int | None] = []
        for v in values:
            if v is None:
                out.append(None)
                continue
            try:
                iv = int(v)
            except (TypeError, ValueError):
                iv = lo - 1
            if iv != v and str(iv) != str(v).strip():
                iv = lo - 1  # 1.5 or "x": not an integer
            if not lo <= iv <= hi:
                raise BadCategories(f"{label} must be integers in {lo}..{hi}, got {v!r}",
                                    name=label)  # fmt: skip
            out.append(iv)
        return out + [None] * (2 - len(out))

    def check_page(self, pn, rn) -> tuple[int, int]:
        """``(pn, rn)`` as ints inside the paging window (``rn`` None -> the default)."""
        pn_max, rn_max, rn_default, _ = self.paging
        try:
            pn = int(pn)
            rn = rn_default if rn is None else int(rn)
        except (TypeError, ValueError):
            raise BadPage("pn and rn must be integers", name="pn/rn") from None
        if not 0 <= pn <= pn_max:
            raise BadPage(f"pn must be in 0..{pn_max}, got {pn}", name="pn")
        if not 1 <= rn <= rn_max:
            raise BadPage(f"rn must be in 1..{rn_max}, got {rn}", name="rn")
        return pn, rn

    def tag_filter(self, tags, tag_logic) -> TagFilter | None:
        """The filter a search's ``tags``/``tag_logic`` ask for (None: no condition)."""
        if tag_logic not in (0, 1, "0", "1"):
            raise BadTagLogic(tag_logic)
        slots = self.check_slots(tags)
        if all(s is None for s in slots):
            return None
        values = tuple(slots) if self.positional else tuple(s for s in slots if s is not None)
        return TagFilter(values, any_of=int(tag_logic) == 1, positional=self.positional)

    def check_features(self, f) -> None:
        """Refuse features that lack what this product stores (views, texture)."""

    # -- what is embedded -----------------------------------------------------------------------

    def stored_views(self, pixels: np.ndarray) -> list[np.ndarray]:
        """Crops embedded besides the whole picture when storing (none by default)."""
        return []

    def query_views(self, pixels: np.ndarray) -> list[np.ndarray]:
        """Pictures embedded for a query (the whole picture by default)."""
        return [pixels]

    # -- scoring --------------------------------------------------------------------------------

    def rank(
        self, index: VectorIndex, query: Query, where: TagFilter | None, k: int,
        thumbs: ThumbReader,
    ) -> Matches:  # fmt: skip
        """The best ``k`` rows for ``query`` (ties by id) and how many rows qualified."""
        return index.search(query.matrix, where=where, k=k, clip=(0.0, 1.0))


class SimilarityPolicy(ProductPolicy):
    """``similar`` and ``product``: the clipped cosine of the backbone embeddings.

    Examples
    --------
    >>> policy_for("product").tag_filter((None, 9), 0)
    TagFilter(values=(None, 9), any_of=False, positional=True)
    """


class PictureBookPolicy(ProductPolicy):
    """``picturebook``: each page is stored with 9 crops; a query is seen whole and central.

    Examples
    --------
    >>> p = policy_for("picturebook")
    >>> len(p.stored_views(np.zeros((100, 80, 3), np.uint8))), p.n_views
    (9, 10)
    """

    n_views = 10

    def stored_views(self, pixels):
        return page_views(pixels)

    def query_views(self, pixels):
        return query_views(pixels)

    def check_features(self, f) -> None:
        want = (self.n_views - 1, np.asarray(f.embedding).size)
        if f.views is None or np.asarray(f.views).shape != want:
            raise InvalidParameter(f"picturebook features need {want[0]} page views",
                                   name="views")  # fmt: skip


class FabricPolicy(ProductPolicy):
    """``materiel``: ``w * texture + (1 - w) * embedding`` with ``w`` = 0.6.

    Examples
    --------
    >>> policy_for("materiel").with_texture
    True
    """

    with_texture = True
    texture_weight = MATERIEL_TEXTURE_WEIGHT

    def check_features(self, f) -> None:
        if f.texture is None:
            raise InvalidParameter("materiel features need a texture", name="texture")

    def rank(self, index, query, where, k, thumbs):
        if query.texture is None:
            raise InvalidParameter("materiel queries need a texture", name="texture")
        emb = index.search(query.matrix, where=where, k=None, clip=(0.0, 1.0))
        tex = index.search(np.asarray(query.texture, np.float32), where=where, k=None,
                           field="texture")  # fmt: skip
        tex_scores = tex.scores
        if not np.array_equal(emb.ids, tex.ids):  # a writer changed the gallery in between
            _, i, j = np.intersect1d(emb.ids, tex.ids, assume_unique=True, return_indices=True)
            emb, tex_scores = emb.select(i), tex_scores[j]
        w = self.texture_weight
        scores = w * texture_similarity(tex_scores) + (1 - w) * emb.scores
        return top_k(emb.select(np.arange(emb.ids.size), scores=scores), k)


class SameImagePolicy(ProductPolicy):
    """``same_hq``: candidates by embedding or hash, kept only when the pixels verify.

    Examples
    --------
    >>> p = policy_for("same_hq")
    >>> p.with_thumb, p.rules["verify_ncc"]
    (True, 0.75)
    """

    with_thumb = True
    rules = SAME_HQ_RULES

    def rank(self, index, query, where, k, thumbs):
        r = self.rules
        found = index.search(query.matrix, where=where, k=None)
        if found.ids.size == 0:
            return found
        cos = found.scores
        signs, ph, dh = index.payload(found, "cont_sign", "phash", "dhash")
        exact = signs == query.features.cont_sign
        near_hash = (hamming(ph, query.features.phash) <= r["gate_phash"]) | (
            hamming(dh, query.features.dhash) <= r["gate_phash"]
        )
        cand = np.flatnonzero((cos >= r["gate_cosine"]) | near_hash | exact)
        # Exact copies first, then the best embeddings: the verification budget goes there.
        cand = cand[np.lexsort((-cos[cand], ~exact[cand]))][: r["max_verify"]]
        ids = found.ids[cand]
        stored = thumbs(ids.tolist()) if ids.size and query.pixels is not None else {}
        verifier = CopyVerifier(query.pixels) if stored else None
        keep, scores = [], []
        for c, row_id in zip(cand.tolist(), ids.tolist(), strict=True):
            if exact[c]:
                keep.append(c)
                scores.append(1.0)
                continue
            blob = stored.get(row_id)
            if blob is None or verifier is None:
                continue
            ncc = verifier.score(np.frombuffer(blob, np.uint8).reshape(THUMB_SIZE, THUMB_SIZE))
            if ncc >= r["verify_ncc"]:
                keep.append(c)
                # Both opinions count: pixels that line up, and content that reads the same.
                scores.append(0.5 * min(max(float(cos[c]), 0.0), 1.0) + 0.5 * min(ncc, 1.0))
        return top_k(found.select(keep, scores=scores), k)


#: Product name -> policy class: the only place a product's name chooses engine behaviour.
POLICY_CLASSES: dict[str, type[ProductPolicy]] = {
    "same_hq": SameImagePolicy,
    "similar": SimilarityPolicy,
    "product": SimilarityPolicy,
    "picturebook": PictureBookPolicy,
    "materiel": FabricPolicy,
}


def policy_for(product: str) -> ProductPolicy:
    """The policy of an image-search product, built from its catalogue entry.

    Raises
    ------
    vislab.errors.InvalidParameter
        The catalogue has no such product, or the engine has no policy for it.

    Examples
    --------
    >>> policy_for("materiel").paging
    (299, 300, 300, 300)
    """
    names = GALLERY_PRODUCTS
    if product not in names or product not in POLICY_CLASSES:
        raise InvalidParameter(f"product must be one of {', '.join(names)}, got {product!r}",
                               name="product")  # fmt: skip
    return POLICY_CLASSES[product](catalogue.product(IMAGE_SEARCH, product))
