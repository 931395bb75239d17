"""Baidu image search (``AipImageSearch``) endpoints, declared once: 5 products x 4 operations.

Facts come from ``specs/baidu-image-search.md``.  Every endpoint is a form POST; the image may
be ``image`` (base64) or ``url``, and ``image`` wins.  Choices where the spec contradicts
itself (its §11):

* picture-book paging: the API table (``pn`` 0-99, ``rn`` 1-100), not the SDK pages
  (0-999 / 1-1000); fabric: ``pn`` 0-299, ``rn`` 1-300.  The default page size without
  ``rn`` is the product's whole window (the doc's "default: the 1st result" is read as "the
  results start at #1");
* ``tag_logic``: ``0`` = AND, ``1`` = OR, as the API table says; the default is AND;
* product ``class_id1`` / ``class_id2``: ints 1-65535 (API doc), matched slot by slot; product
  search also takes ``tag_logic`` (listed by the API doc) to OR the two slots;
* batch delete: at most 100 ``cont_sign`` joined by ``;`` (API and Python SDK);
* fabric has no stated minimum side: 1 px here (the aspect ratio 1:20-20:1 still applies).

Replies: add ``{"log_id", "cont_sign"}``; search ``{"log_id", "result_num", "result":
[{"cont_sign", "score", "brief"}], "has_more"}``; delete and update ``{"log_id"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vislab.catalogue import Endpoint, ImageLimits, Param, register

SERVICE = "baidu.image_search"

PRODUCTS = ("same_hq", "similar", "product", "picturebook", "materiel")

# Base path of each product (spec §3.0); /add, /search, /delete, /update are appended.
BASE_PATHS = {
    "same_hq": "/rest/2.0/realtime_search/same_hq",
    "similar": "/rest/2.0/image-classify/v1/realtime_search/similar",
    "product": "/rest/2.0/image-classify/v1/realtime_search/product",
    "picturebook": "/rest/2.0/imagesearch/v1/realtime_search/picturebook",
    "materiel": "/rest/2.0/image-classify/v1/realtime_search/materiel",
}


def _limits(min_side: int, max_aspect: float | None) -> ImageLimits:
    # 4 MB counted after base64 *and* url-encoding (spec §2); PNG/JPG/JPEG/BMP.
    return ImageLimits(formats=("JPEG", "PNG", "BMP"), max_encoded_bytes=4 * 1024 * 1024,
                       counts="base64+urlencode", min_side=min_side, max_side=4096,
                       max_aspect=max_aspect)  # fmt: skip


LIMITS = {
    "same_hq": _limits(50, None),
    "similar": _limits(50, None),
    "product": _limits(300, None),
    "picturebook": _limits(150, 10.0),
    "materiel": _limits(1, 20.0),
}

# (pn max, rn max, default rn) of each product (spec §3.2, API table).
PAGING = {
    "same_hq": (999, 1000, 300),
    "similar": (999, 1000, 300),
    "product": (999, 1000, 300),
    "picturebook": (99, 100, 100),
    "materiel": (299, 300, 300),
}
# Batch delete: cont_signs per request.
MAX_DELETE_BATCH = 100
MAX_TAGS = 2

BRIEF_ADD = Param("brief", "str", required=True, minimum=1, maximum=256,
                  doc="returned verbatim by search (<= 256 bytes), e.g. '{\"id\": \"666\"}'")  # fmt: skip
BRIEF_UPDATE = Param("brief", "str", minimum=1, maximum=256, doc="the new brief (<= 256 bytes)")
TAGS = Param("tags", "int_list", minimum=1, maximum=65535,
             doc="up to 2 category ints, e.g. '100,11'")  # fmt: skip
TAG_LOGIC = Param("tag_logic", "int", default=0, choices=(0, 1), wire_str=True,
                  doc="how 2 tags combine: 0 = AND, 1 = OR")  # fmt: skip
CLASS_ID1 = Param("class_id1", "int", minimum=1, maximum=65535, doc="product category 1")
CLASS_ID2 = Param("class_id2", "int", minimum=1, maximum=65535, doc="product category 2")
CONT_SIGN = Param("cont_sign", "str", doc="the signature add returned")
CONT_SIGNS = Param("cont_sign", "str",
                   doc="one signature, or up to 100 joined by ';' (send no image then)")  # fmt: skip


def _paging(product: str) -> tuple[Param, Param]:
    pn_max, rn_max, rn_default = PAGING[product]
    return (
        Param("pn", "int", default=0, minimum=0, maximum=pn_max, wire_str=True,
              doc="start offset of the page (0-based)"),
        Param("rn", "int", default=rn_default, minimum=1, maximum=rn_max, wire_str=True,
              doc="results per page"),
    )  # fmt: skip


def parse_brief(text: Any) -> Any:
    """A brief as stored: JSON objects/arrays are parsed, anything else is kept as given.

    Examples
    --------
    >>> parse_brief('{"id": "666"}')
    {'id': '666'}
    >>> parse_brief("./data/jay1.jpg")
    './data/jay1.jpg'
    """
    if isinstance(text, str) and text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _score(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_add(reply: Mapping[str, Any], image: str) -> list[dict]:
    return [{"image": image, "cont_sign": reply.get("cont_sign")}]


def parse_search(reply: Mapping[str, Any], query: str) -> list[dict]:
    """One row per hit; ``tags`` is empty (the service does not return them)."""
    return [
        {"query": query, "rank": i, "cont_sign": r.get("cont_sign"),
         "brief": parse_brief(r.get("brief")), "score": _score(r.get("score")), "tags": None}
        for i, r in enumerate(reply.get("result") or [], 1)
    ]  # fmt: skip


def parse_delete(reply: Mapping[str, Any], image: str) -> list[dict]:
    return [{"image": image, "deleted": True}]


def parse_update(reply: Mapping[str, Any], image: str) -> list[dict]:
    return [{"image": image, "updated": True}]


_WHAT = {
    "same_hq": "Same-image search: identical and lightly edited copies only.",
    "similar": "Similar-image search: ranked by visual similarity.",
    "product": "Product search: same and similar goods, filtered by class_id1/class_id2.",
    "picturebook": "Picture-book search: the page or cover from a (partial) photo of it.",
    "materiel": "Fabric search: same or similar texture and pattern.",
}


def _declare(product: str) -> list[Endpoint]:
    base = BASE_PATHS[product]
    limits = LIMITS[product]
    is_product = product == "product"
    cats = (CLASS_ID1, CLASS_ID2) if is_product else (TAGS,)
    what = _WHAT[product]
    return [
        Endpoint(f"{product}_add", SERVICE, f"{base}/add", params=(BRIEF_ADD, *cats),
                 limits=limits, frame="gallery", parse=parse_add,
                 doc=f"{what} Add one image to the gallery; returns its cont_sign."),
        Endpoint(f"{product}_search", SERVICE, f"{base}/search",
                 params=(*cats, TAG_LOGIC, *_paging(product)), limits=limits, frame="matches",
                 parse=parse_search,
                 doc=f"{what} Search the gallery; hits with cont_sign, brief and score 0..1."),
        Endpoint(f"{product}_delete", SERVICE, f"{base}/delete", params=(CONT_SIGNS,),
                 image="optional", limits=limits, frame="gallery", parse=parse_delete,
                 doc=f"{what} Delete by image, url or cont_sign (batch of up to 100)."),
        Endpoint(f"{product}_update", SERVICE, f"{base}/update",
                 params=(CONT_SIGN, BRIEF_UPDATE, *cats), image="optional", limits=limits,
                 frame="gallery", parse=parse_update,
                 doc=f"{what} Change brief and/or categories of one stored image."),
    ]  # fmt: skip


register(*(ep for product in PRODUCTS for ep in _declare(product)))
