"""Baidu image search, private deployment (私有化部署): the retrieval API ``/RTSAsService/*``.

A private deployment is a box on the customer's network.  Its retrieval service answers
``POST http://<host>:8025/RTSAsService/{add,update,search,remove,snapshot,signup}`` for the
product installed on it (same-image, similar or product search), and the picture-book
service the same paths on port 8027; fabric search is not offered privately.  The body is
JSON (spec §9)::

    {"appid": "<tenant>", "from": "<caller tag>", "logid": 123, "format": "json",
     "image": "<base64>", "pn": 0, "rn": 10,
     "contsign": {"sign1": 4261577168, "sign2": 501945506},      # update / remove one
     "contsigns": [{"sign1": ..., "sign2": ...}, ...],            # remove many
     "features": [{"fea_id": 1000, "fea_data": "<base64 of the brief>"},
                  {"fea_id": 999, "fea_data": "<base64 of struct.pack('II', 0, 4)>"}]}

and every reply ``{"err_no", "err_msg", "data_items": [{"contsign", "score", "features"}],
"has_more": <uint32>, "snapshot": {"tag", "index_size", "index_capacity", "queue_size"}}``;
a duplicate add is ``err_no`` 101 with the stored item in ``data_items``.

The endpoints below declare what a *caller* chooses (``appid``, ``brief``, ``cont_sign``,
``pn``/``rn``) — the same names as the cloud family, so :class:`GalleryOperations` serves
both; the client module turns them into the body above
(:func:`vislab.services.baidu_image_search_private.wire_body`) and its envelope turns the
reply back into the cloud's shape, which the cloud family's parsers read.

Paths and ports.  On a real box each service has its own port and the path is
``/RTSAsService/<op>``.  ``vislab serve`` stands for a whole box on one port, so it answers
each product's service under ``/<product>/RTSAsService/<op>`` (the paths declared here);
``PrivateImageSearch(host)`` drops that first segment and picks the port of the product's
service, ``PrivateImageSearch(base_url=...)`` keeps it.

Choices where the spec is silent:

* no category fields exist on the private wire, so there are no ``tags``/``class_id``;
* the paging windows are the cloud's (picture-book ``pn`` 0-99 / ``rn`` 1-100, the others
  0-999 / 1-1000), as is the image size (4 MB, 4096 px) and the 256-byte brief;
* ``from`` is a caller tag: the client always sends it, the emulator does not refuse a
  request without it (only ``appid`` is checked: 1-64 letters, digits, ``_`` or ``-``);
* a remove takes up to 100 ``contsigns`` per request, as the cloud's batch delete;
* ``signup`` registers the tenant ``appid`` with one product's service, so it is declared
  per product (``<product>_signup``, like ``_snapshot``): a box's services keep their own
  tenants, as they keep their own indexes.  The spec gives it no fields beyond the common
  envelope (``appid``, ``from``, ``logid``, ``format``) and no reply beyond ``err_no``/
  ``err_msg``, so ``err_no`` 0 parses into one row ``image`` (the product), ``appid``,
  ``registered=True``; 104 "user already exists" (a second signup) and 103 "user not
  registered" (an operation of a tenant the service does not know) are typed errors of
  the table below (:class:`~vislab.errors.InvalidRequest` and
  :class:`~vislab.errors.AuthError`), an error row under ``errors="row"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vislab.catalogue.baidu_image_search import (
    _limits,
    parse_add,
    parse_delete,
    parse_search,
    parse_update,
)
from vislab.catalogue.model import Endpoint, Param, Product, Service, as_number
from vislab.errors import CodeTable, ErrorCode

ID = "baidu.image_search_private"

#: Default ports of a box's services (spec §9): retrieval 8025, picture-book 8027.
RETRIEVAL_PORT, PICTUREBOOK_PORT = 8025, 8027

#: The four products a private box may run; ``service`` names the port they answer on.
PRODUCTS = (
    Product("same_hq", "Same-image search (private deployment): identical and lightly "
            "edited copies only.", "/same_hq/RTSAsService", _limits(50, None), 999, 1000,
            300, ()),
    Product("similar", "Similar-image search (private deployment): ranked by visual "
            "similarity.", "/similar/RTSAsService", _limits(50, None), 999, 1000, 300, ()),
    Product("product", "Product search (private deployment): same and similar goods.",
            "/product/RTSAsService", _limits(300, None), 999, 1000, 300, ()),
    Product("picturebook", "Picture-book search (private deployment): the page from a "
            "(partial) photo of it.", "/picturebook/RTSAsService", _limits(150, 10.0), 99,
            100, 100, ()),
)  # fmt: skip
PRODUCT_NAMES = tuple(p.name for p in PRODUCTS)

#: Which port of the box each product's service listens on.
SERVICE_PORT = {"same_hq": RETRIEVAL_PORT, "similar": RETRIEVAL_PORT,
                "product": RETRIEVAL_PORT, "picturebook": PICTUREBOOK_PORT}  # fmt: skip

#: The private API's ``err_no`` table (spec §7.3).
CODES = CodeTable(
    ID,
    [
        ErrorCode(-1, "service init failed", "unavailable"),
        ErrorCode(1, "invalid request parameters"),
        ErrorCode(2, "feature service timeout", "unavailable", retry=True),
        ErrorCode(3, "bs service timeout", "unavailable", retry=True),
        ErrorCode(4, "meta service timeout", "unavailable", retry=True),
        ErrorCode(5, "invalid feature service", "unavailable"),
        ErrorCode(6, "invalid bs service", "unavailable"),
        ErrorCode(7, "invalid meta service", "unavailable"),
        ErrorCode(8, "feature extraction failed", "unavailable", retry=True),
        ErrorCode(9, "bs request failed", "unavailable", retry=True),
        ErrorCode(10, "meta fetch failed", "unavailable", retry=True),
        ErrorCode(11, "internal error", "unavailable", retry=True),
        ErrorCode(12, "auth failed", "auth"),
        ErrorCode(99, "busy", "quota", retry=True),
        ErrorCode(100, "feature extraction failed due to user input"),
        ErrorCode(101, "duplicated add"),
        ErrorCode(102, "update of data not in table"),
        ErrorCode(103, "user not registered", "auth",
                  hint="sign the appid up first (<product>_signup) or check the appid"),
        ErrorCode(104, "user already exists"),
    ],
)

#: Request problems -> ``err_no``: parameters are 1, unusable images 100 (the spec's
#: "feature extraction failed due to user input", which wraps 216200/216201/216202).
REQUEST_ERRORS = {
    "body": 1,
    "param_missing": 1,
    "param_invalid": 1,
    "internal": 11,
    "missing": 1,
    "empty": 100,
    "base64": 100,
    "format": 100,
    "bytes": 100,
    "max_side": 100,
    "min_side": 100,
    "aspect": 100,
    "blank": 100,
}

APPID = Param("appid", "str", required=True, minimum=1, maximum=64,
              doc="the tenant id (default: the client's appid)")  # fmt: skip


def _brief(product: Product) -> Param:
    # Not required on the wire (fea_id 1000 may be absent); the client always sends one.
    return Param("brief", "str", minimum=1, maximum=product.brief_max_bytes,
                 doc=f"returned verbatim by search (<= {product.brief_max_bytes} bytes)")  # fmt: skip


def _paging(product: Product) -> tuple[Param, Param]:
    return (
        Param("pn", "int", default=0, minimum=0, maximum=product.pn_max,
              doc="start offset of the page (0-based)"),
        Param("rn", "int", default=product.rn_default, minimum=1, maximum=product.rn_max,
              doc="results per page"),
    )  # fmt: skip


def _count(value: Any) -> int | None:
    number = as_number(value)
    return None if number is None else int(number)


def parse_snapshot(reply: Mapping[str, Any], image: str) -> list[dict]:
    """One row: the index's tag, size, capacity and queue (``snapshot`` of the reply)."""
    snap = reply.get("snapshot") or {}
    return [{"image": image, "tag": snap.get("tag"), "index_size": _count(snap.get("index_size")),
             "index_capacity": _count(snap.get("index_capacity")),
             "queue_size": _count(snap.get("queue_size"))}]  # fmt: skip


def parse_signup(reply: Mapping[str, Any], image: str) -> list[dict]:
    """One row: the tenant is registered (a signup answered ``err_no`` 0).

    The reply carries nothing beyond the envelope; the client adds the ``appid`` it sent.

    Examples
    --------
    >>> parse_signup({"result_num": 0, "result": []}, "similar")
    [{'image': 'similar', 'registered': True}]
    """
    return [{"image": image, "registered": True}]


def _declare(product: Product) -> list[Endpoint]:
    base, limits, what = product.base_path, product.limits, product.title
    return [
        Endpoint(f"{product.name}_add", ID, f"{base}/add", body="json", url_field=None,
                 params=(APPID, _brief(product)), limits=limits, frame="gallery",
                 parse=parse_add, idempotent=False,
                 doc=f"{what} Add one image; returns its cont_sign."),
        Endpoint(f"{product.name}_search", ID, f"{base}/search", body="json", url_field=None,
                 params=(APPID, *_paging(product)), limits=limits, frame="matches",
                 parse=parse_search, doc=f"{what} Search; hits with cont_sign, brief, score."),
        Endpoint(f"{product.name}_delete", ID, f"{base}/remove", body="json", url_field=None,
                 params=(APPID, Param("cont_sign", "str", doc="signatures joined by ';'")),
                 image="optional", limits=limits, frame="gallery", parse=parse_delete,
                 doc=f"{what} Remove by image or by contsign(s) (up to "
                     f"{product.max_delete_batch} per request)."),
        Endpoint(f"{product.name}_update", ID, f"{base}/update", body="json", url_field=None,
                 params=(APPID, Param("cont_sign", "str", doc="the signature add returned"),
                         _brief(product)),
                 image="optional", limits=limits, frame="gallery", parse=parse_update,
                 doc=f"{what} Change the brief of one stored image."),
        Endpoint(f"{product.name}_snapshot", ID, f"{base}/snapshot", body="json",
                 url_field=None, params=(APPID,), image="none", frame="gallery",
                 parse=parse_snapshot,
                 doc=f"{what} The index: tag, size, capacity and queue length."),
        Endpoint(f"{product.name}_signup", ID, f"{base}/signup", body="json",
                 url_field=None, params=(APPID,), image="none", frame="gallery",
                 parse=parse_signup, idempotent=False,
                 doc=f"{what} Register the tenant appid with this service (104 if it "
                     "exists)."),
    ]  # fmt: skip


SERVICE = Service(
    id=ID,
    title="Baidu image search, private deployment (RTSAsService)",
    client="vislab.services.baidu_image_search_private:PrivateImageSearch",
    auth="none",
    envelope="rtsas",
    errors=CODES,
    endpoints=tuple(ep for product in PRODUCTS for ep in _declare(product)),
    emulator="vislab.emulator.baidu_image_search_private",
    products=PRODUCTS,
    request_errors=REQUEST_ERRORS,
    doc="Image search on your own box: same, similar, product and picture-book retrieval.",
)
