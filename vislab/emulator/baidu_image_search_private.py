"""Local answers for the private deployment's retrieval API (``/RTSAsService/*``).

One gallery per product and tenant: ``<home>/galleries/<product>/private-<appid>.sqlite``
(:class:`vislab.engine.gallery.Gallery`, the same engine as the cloud family's galleries, so
scores and same-image rules are those of :mod:`vislab.emulator.baidu_image_search`).  The
request is the private JSON body (``features`` with fea_id 1000 = base64 brief and 999 = the
8-byte struct, ``contsign {sign1, sign2}``, ``contsigns``), read into the endpoint's
parameters by :meth:`RtsasReplyFormat.request_fields`; replies carry ``err_no``/``err_msg``,
``data_items`` and ``has_more`` as a uint32.

What differs from a real box, on purpose or by necessity:

* ``index_capacity`` is the licence's on a real box; here it is ``VISLAB_PRIVATE_CAPACITY``
  (default 1,000,000) so a test can fill an index;
* a search on a tenant with no images answers an empty page (a real box has an empty index
  after install), and removal is immediate;
* tenants: a tenant exists for a product once its index exists
  (``private-<appid>.sqlite`` above).  ``signup`` creates it; a signup of a tenant that
  exists answers 104 "user already exists".  By default the emulator is *open*: the first
  request of any other kind (add, search, snapshot...) of an unknown tenant creates its
  index as a real signup would, so clients and notebooks that never sign up work, and a
  later signup of that tenant answers 104 (it exists: it may already hold images).
  Started with ``VISLAB_PRIVATE_STRICT=1`` it is *strict*, as a box whose tenants are
  provisioned: every operation but signup of a tenant never signed up answers 103 "user not
  registered" (and creates nothing);
* a remove of signatures none of which is stored answers 102 (the spec names no code for
  it; 102 is its "data not in table").
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct

from vislab.catalogue.baidu_image_search_private import ID, PRODUCTS
from vislab.emulator.registry import WireError, handler
from vislab.emulator.replies import ReplyFormat, json_reply, register_format
from vislab.engine.errors import ItemExists

#: The fixed fea_id 999 payload of an add (spec §9: ``struct.pack('II', 0, 4)``).
FEATURE_999 = struct.pack("II", 0, 4)
BRIEF_FEATURE, STRUCT_FEATURE = 1000, 999
_APPID = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: Cloud codes the shared engine and request readers raise -> the private ``err_no``.
_PRIVATE_CODE = {216681: 101, 216680: 102, 216100: 1, 216101: 1, 216200: 100, 216201: 100,
                 216202: 100, 216203: 100, 282000: 11}  # fmt: skip


def capacity() -> int:
    """The emulated ``index_capacity`` (``VISLAB_PRIVATE_CAPACITY``, default 1,000,000)."""
    return int(os.environ.get("VISLAB_PRIVATE_CAPACITY") or 1_000_000)


def _b64_text(data: str, what: str) -> str:
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, TypeError):
        raise WireError(
            1, f"invalid request parameters: {what} is not base64 of UTF-8 text"
        ) from None


def _sign(item, what: str) -> str:
    """``{"sign1": a, "sign2": b}`` -> the cloud form ``"a,b"`` (both uint32)."""
    try:
        a, b = int(item["sign1"]), int(item["sign2"])
    except (TypeError, KeyError, ValueError):
        raise WireError(1, f"invalid request parameters: {what} must be "
                           '{"sign1": <uint32>, "sign2": <uint32>}') from None  # fmt: skip
    if not (0 <= a < 2**32 and 0 <= b < 2**32):
        raise WireError(1, f"invalid request parameters: {what} values must be uint32")
    return f"{a},{b}"


def _contsign(text: str) -> dict:
    a, b = text.split(",")
    return {"sign1": int(a), "sign2": int(b)}


def _item(cont_sign: str, brief: str, score: float | None = None) -> dict:
    item = {"contsign": _contsign(cont_sign),
            "features": [{"fea_id": BRIEF_FEATURE,
                          "fea_data": base64.b64encode(brief.encode()).decode()}]}  # fmt: skip
    if score is not None:
        item["score"] = score
    return item


@register_format("rtsas")
class RtsasReplyFormat(ReplyFormat):
    """``err_no`` 0 with the payload; errors as ``err_no``/``err_msg`` (HTTP 200)."""

    def ok(self, payload):
        return json_reply(200, {"err_no": 0, "err_msg": "ok", **payload})

    def error(self, err):
        code = _PRIVATE_CODE.get(err.code)
        if code is None:
            return json_reply(err.status or 200, {"err_no": err.code, "err_msg": self.message(err)})
        # A cloud code from the shared engine: the private wording, the detail kept.
        msg = self.table.message(code) + (f" ({err.msg})" if err.msg else "")
        return json_reply(err.status or 200, {"err_no": code, "err_msg": msg})

    def request_fields(self, ep, fields):
        """The private body -> the endpoint's parameters (``brief``, ``cont_sign``)."""
        if fields.get("format", "json") != "json":
            raise WireError(1, 'invalid request parameters: only format "json" is served')
        out = {k: v for k, v in fields.items() if k in ("appid", "image", "pn", "rn")}
        appid = out.get("appid")
        if appid not in (None, "") and not (isinstance(appid, str) and _APPID.fullmatch(appid)):
            raise WireError(1, "invalid request parameters: appid must be 1-64 letters, "
                               "digits, '_' or '-'")  # fmt: skip
        features = fields.get("features") or []
        if not isinstance(features, list):
            raise WireError(1, "invalid request parameters: features must be a list")
        for fea in features:
            fid = fea.get("fea_id") if isinstance(fea, dict) else None
            if fid == BRIEF_FEATURE:
                out["brief"] = _b64_text(fea.get("fea_data"), "fea_id 1000 (the brief)")
            elif fid == STRUCT_FEATURE:
                try:
                    raw = base64.b64decode(fea.get("fea_data") or "", validate=True)
                except (binascii.Error, ValueError, TypeError):
                    raw = b""
                if len(raw) != len(FEATURE_999):
                    raise WireError(1, "invalid request parameters: fea_id 999 must be the "
                                       "8-byte struct.pack('II', 0, 4)")  # fmt: skip
            else:
                raise WireError(1, f"invalid request parameters: unknown fea_id {fid!r}")
        if "contsign" in fields:
            out["cont_sign"] = _sign(fields["contsign"], "contsign")
        if "contsigns" in fields:
            signs = fields["contsigns"]
            if not isinstance(signs, list) or not signs:
                raise WireError(1, "invalid request parameters: contsigns must be a list")
            out["cont_sign"] = ";".join(_sign(s, "each contsigns item") for s in signs)
        return out


def strict() -> bool:
    """Whether unknown tenants answer 103 (``VISLAB_PRIVATE_STRICT=1``) instead of being
    created by their first request.

    Examples
    --------
    >>> strict() in (True, False)
    True
    """
    return os.environ.get("VISLAB_PRIVATE_STRICT", "").strip().lower() in ("1", "true", "yes")


def _store(app, product, appid: str, *, signup: bool = False):
    """The tenant's index; a signup creates it (104 if it exists), other operations create
    it when the emulator is open and answer 103 when it is strict."""
    from vislab.engine.paths import gallery_path

    path = gallery_path(product.name, f"private-{appid}", home=app.home)
    key = ("imagesearch-private", str(path))
    with app.state_lock:  # one lock: two concurrent signups cannot both succeed
        store = app.state.get(key)
        exists = store is not None or path.exists()
        if signup and exists:
            raise WireError(104, f"user already exists: {appid!r} is a tenant of "
                                 f"{product.name} already")  # fmt: skip
        if not signup and not exists and strict():
            raise WireError(103, f"user not registered: sign {appid!r} up with "
                                 f"{product.name}/RTSAsService/signup first")  # fmt: skip
        if store is None:
            from vislab.engine.gallery import Gallery

            store = Gallery(product.name, f"private-{appid}", path=path)
            app.state[key] = store
        return store


def _add(product):
    def add(app, ep, params, image):
        store = _store(app, product, params["appid"])
        brief = params.get("brief") or ""
        try:
            entry = store.add(image.pixels, brief=brief)
        except ItemExists as exc:
            # The spec: a duplicate add answers 101 *with the existing item*.
            return {"err_no": 101, "err_msg": "duplicated add",
                    "data_items": [_item(exc.cont_sign, exc.brief or "")]}  # fmt: skip
        return {"data_items": [_item(entry.cont_sign, brief)]}

    return add


def _search(product):
    def search(app, ep, params, image):
        store = _store(app, product, params["appid"])
        result = store.search(image.pixels, pn=params["pn"], rn=params["rn"])
        items = [_item(h.cont_sign, h.brief, round(h.score, 6)) for h in result.hits]
        return {"data_items": items, "has_more": int(bool(result.has_more))}

    return search


def _delete(product):
    def delete(app, ep, params, image):
        store = _store(app, product, params["appid"])
        if image is not None:
            store.delete(image=image.pixels)
            return {}
        text = params.get("cont_sign")
        if not text:
            raise WireError(1, "invalid request parameters: image, contsign or contsigns")
        signs = [s for s in text.split(";") if s.strip()]
        if len(signs) > product.max_delete_batch:
            raise WireError(1, f"invalid request parameters: at most "
                               f"{product.max_delete_batch} contsigns, got {len(signs)}")  # fmt: skip
        store.delete(signs)
        return {}

    return delete


def _update(product):
    def update(app, ep, params, image):
        store = _store(app, product, params["appid"])
        if image is not None:
            target = {"image": image.pixels}
        elif params.get("cont_sign"):
            target = {"cont_sign": params["cont_sign"]}
        else:
            raise WireError(1, "invalid request parameters: image or contsign")
        store.update(**target, brief=params.get("brief"))
        return {}

    return update


def _snapshot(product):
    def snapshot(app, ep, params, image):
        store = _store(app, product, params["appid"])
        return {"snapshot": {"tag": f"vislab-{product.name}-{params['appid']}",
                             "index_size": store.count(), "index_capacity": capacity(),
                             "queue_size": 0}}  # fmt: skip

    return snapshot


def _signup(product):
    def signup(app, ep, params, image):
        _store(app, product, params["appid"], signup=True)
        return {}

    return signup


for _product in PRODUCTS:
    handler(ID, _product.endpoint_name("add"))(_add(_product))
    handler(ID, _product.endpoint_name("search"))(_search(_product))
    handler(ID, _product.endpoint_name("delete"))(_delete(_product))
    handler(ID, _product.endpoint_name("update"))(_update(_product))
    handler(ID, _product.endpoint_name("snapshot"))(_snapshot(_product))
    handler(ID, _product.endpoint_name("signup"))(_signup(_product))
