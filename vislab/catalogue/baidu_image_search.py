"""Baidu image search (``AipImageSearch``) endpoints, declared once: 5 products x 4 operations.

Facts come from Baidu's image search documentation.  Every endpoint is a form POST; the image may
be ``image`` (base64) or ``url``, and ``image`` wins.  Choices where the spec contradicts
itself:

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

from vislab.catalogue.baidu_codes import BAIDU_CODES
from vislab.catalogue.model import Endpoint, ImageLimits, Param, Product, Service, as_number
from vislab.errors import ErrorCode

ID = "baidu.image_search"


def _limits(min_side: int, max_aspect: float | None) -> ImageLimits:
    # 4 MB counted after base64 *and* url-encoding (the docs' common contract); PNG/JPG/BMP.
    return ImageLimits(formats=("JPEG", "PNG", "BMP"), max_encoded_bytes=4 * 1024 * 1024,
                       counts="base64+urlencode", min_side=min_side, max_side=4096,
                       max_aspect=max_aspect)  # fmt: skip


_TAGS = ("tags",)
_CLASS_IDS = ("class_id1", "class_id2")

#: The five products (base paths, image rules and paging windows of the API tables).
PRODUCTS = (
    Product("same_hq", "Same-image search: identical and lightly edited copies only.",
            "/rest/2.0/realtime_search/same_hq", _limits(50, None), 999, 1000, 300, _TAGS),
    Product("similar", "Similar-image search: ranked by visual similarity.",
            "/rest/2.0/image-classify/v1/realtime_search/similar", _limits(50, None),
            999, 1000, 300, _TAGS),
    Product("product", "Product search: same and similar goods, filtered by "
            "class_id1/class_id2.", "/rest/2.0/image-classify/v1/realtime_search/product",
            _limits(300, None), 999, 1000, 300, _CLASS_IDS),
    Product("picturebook", "Picture-book search: the page or cover from a (partial) photo "
            "of it.", "/rest/2.0/imagesearch/v1/realtime_search/picturebook",
            _limits(150, 10.0), 99, 100, 100, _TAGS),
    Product("materiel", "Fabric search: same or similar texture and pattern.",
            "/rest/2.0/image-classify/v1/realtime_search/materiel", _limits(1, 20.0),
            299, 300, 300, _TAGS),
)  # fmt: skip
PRODUCT_NAMES = tuple(p.name for p in PRODUCTS)

#: Image problems -> codes.  The image-search docs give 216203 "input image cannot handle"
#: for pictures the service cannot use (too small, extreme aspect ratio, blank), and 216202
#: for too many bytes or more than 4096 px.
REQUEST_ERRORS = {
    "body": 216100,
    "param_missing": 216101,
    "param_invalid": 216100,
    "internal": 282000,
    "missing": 216101,
    "empty": 216200,
    "base64": 216203,
    "format": 216201,
    "bytes": 216202,
    "max_side": 216202,
    "min_side": 216203,
    "aspect": 216203,
    "blank": 216203,
    "url_format": 282111,
    "url_timeout": 282112,
    "url_invalid": 282113,
    "url_size": 282114,
}

CODES = BAIDU_CODES.extended(
    "baidu.image_search",
    [
        ErrorCode(216203, "input image cannot handle"),
    ],
)


def _brief(product: Product, *, required: bool) -> Param:
    return Param("brief", "str", required=required, minimum=1,
                 maximum=product.brief_max_bytes,
                 doc=(f"returned verbatim by search (<= {product.brief_max_bytes} bytes), "
                      "e.g. '{\"id\": \"666\"}'") if required else
                 f"the new brief (<= {product.brief_max_bytes} bytes)")  # fmt: skip


def _categories(product: Product) -> tuple[Param, ...]:
    lo, hi = product.category_range
    if product.positional:
        return tuple(Param(name, "int", minimum=lo, maximum=hi, doc=f"product category {i}")
                     for i, name in enumerate(product.categories, 1))  # fmt: skip
    return (Param("tags", "int_list", minimum=lo, maximum=hi, max_items=product.max_tags,
                  doc=f"up to {product.max_tags} category ints, e.g. '100,11'"),)  # fmt: skip


TAG_LOGIC = Param("tag_logic", "int", default=0, choices=(0, 1), wire_str=True,
                  doc="how 2 tags combine: 0 = AND, 1 = OR")  # fmt: skip
CONT_SIGN = Param("cont_sign", "str", doc="the signature add returned")


def _cont_signs(product: Product) -> Param:
    return Param("cont_sign", "str", doc=f"one signature, or up to {product.max_delete_batch} "
                 "joined by ';' (send no image then)")  # fmt: skip


def _paging(product: Product) -> tuple[Param, Param]:
    return (
        Param("pn", "int", default=0, minimum=0, maximum=product.pn_max, wire_str=True,
              doc="start offset of the page (0-based)"),
        Param("rn", "int", default=product.rn_default, minimum=1, maximum=product.rn_max,
              wire_str=True, doc="results per page"),
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


def parse_add(reply: Mapping[str, Any], image: str) -> list[dict]:
    return [{"image": image, "cont_sign": reply.get("cont_sign")}]


def parse_search(reply: Mapping[str, Any], query: str) -> list[dict]:
    """One row per hit; ``tags`` is empty (the service does not return them)."""
    return [
        {"query": query, "rank": i, "cont_sign": r.get("cont_sign"),
         "brief": parse_brief(r.get("brief")), "score": as_number(r.get("score")), "tags": None}
        for i, r in enumerate(reply.get("result") or [], 1)
    ]  # fmt: skip


def parse_delete(reply: Mapping[str, Any], image: str) -> list[dict]:
    return [{"image": image, "deleted": True}]


def parse_update(reply: Mapping[str, Any], image: str) -> list[dict]:
    return [{"image": image, "updated": True}]


def _declare(product: Product) -> list[Endpoint]:
    base, limits, what = product.base_path, product.limits, product.title
    cats = _categories(product)
    # Positional class ids are kept in add / update rows beside the core ``tags`` column.
    kept = tuple((c, "object") for c in product.categories if c != "tags")
    return [
        Endpoint(f"{product.name}_add", ID, f"{base}/add",
                 params=(_brief(product, required=True), *cats), limits=limits,
                 frame="gallery", parse=parse_add, idempotent=False, columns=kept,
                 doc=f"{what} Add one image to the gallery; returns its cont_sign."),
        Endpoint(f"{product.name}_search", ID, f"{base}/search",
                 params=(*cats, TAG_LOGIC, *_paging(product)), limits=limits, frame="matches",
                 parse=parse_search,
                 doc=f"{what} Search the gallery; hits with cont_sign, brief and score 0..1."),
        Endpoint(f"{product.name}_delete", ID, f"{base}/delete", params=(_cont_signs(product),),
                 image="optional", limits=limits, frame="gallery", parse=parse_delete,
                 columns=(("deleted", "boolean"),),
                 doc=f"{what} Delete by image, url or cont_sign (batch of up to "
                     f"{product.max_delete_batch})."),
        Endpoint(f"{product.name}_update", ID, f"{base}/update",
                 params=(CONT_SIGN, _brief(product, required=False), *cats), image="optional",
                 limits=limits, frame="gallery", parse=parse_update,
                 columns=(*kept, ("updated", "boolean")),
                 doc=f"{what} Change brief and/or categories of one stored image."),
    ]  # fmt: skip


SERVICE = Service(
    id=ID,
    title="Baidu image search (AipImageSearch)",
    client="vislab.services.baidu_image_search:ImageSearch",
    auth="baidu_token",
    envelope="baidu",
    errors=CODES,
    endpoints=tuple(ep for product in PRODUCTS for ep in _declare(product)),
    env_prefix="VISLAB_BAIDU",
    cloud_url="https://aip.baidubce.com",
    emulator="vislab.emulator.baidu_image_search",
    products=PRODUCTS,
    request_errors=REQUEST_ERRORS,
    # Billing guide: 2 QPS in the free state (not guaranteed), 10 QPS once paying.
    plan_qps={"free": 2.0, "paid": 10.0},
    doc="Galleries of your own images: same, similar, product, picture-book, fabric search.",
)
