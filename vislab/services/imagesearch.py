"""Baidu image search client, ``AipImageSearch``-style, returning frames.

Five products — ``same_hq`` (same image), ``similar``, ``product``, ``picturebook``,
``materiel`` (fabric) — each with four methods named like the SDK's in snake_case:
``<product>_add``, ``<product>_search``, ``<product>_update``, ``<product>_delete``.  The
methods are made from the catalogue declarations (:mod:`vislab.catalogue.baidu_imagesearch`),
so every product takes exactly the parameters its endpoint declares.

* **add** returns a gallery frame (``image``, ``cont_sign``, ``brief``, ``tags``, errors);
  ``brief`` defaults to ``{"image": <identifier>}`` as JSON and may be a string, a dict, a
  mapping / Series from identifier to brief, or ``callable(identifier)``.
* **search** returns a matches frame (``query``, ``rank``, ``cont_sign``, ``brief`` parsed from
  JSON when it is JSON, ``score``, ``tags``).  The service does not return tags; they stay
  empty.
* **update** locates the image by pixels (``images``) or by one ``cont_sign`` per request.
* **delete** by ``images`` or by ``cont_sign`` (one or many, sent in batches of 100).

The ledger (on by default, :class:`vislab.services.ledger.Ledger`) records every add, update
and delete this client makes, per target (local engine, or service URL + API key) and product:
:meth:`ImageSearch.gallery_frame` lists what a gallery holds (the service has no list call), an
add of bytes that are already stored is answered from the ledger with 216681 "item exist"
instead of being sent, and search results drop images deleted through the client (the cloud
deletes in a daily job and keeps returning them for up to ~4 hours; ``filter_deleted=False``
shows them).

Local mode (no credentials) answers from the engine's galleries under ``VISLAB_HOME``
(:mod:`vislab.emulator.imagesearch` says how local answers differ: immediate deletion, local
scores).  In the cloud, deletion is delayed: deleted images can come back in search results
for up to ~4 hours.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping

import pandas as pd

from vislab import catalogue, frames
from vislab.catalogue.baidu_imagesearch import (
    MAX_DELETE_BATCH,
    MAX_TAGS,
    PRODUCTS,
    SERVICE,
    parse_brief,
)
from vislab.engine.paths import vislab_home
from vislab.errors import InvalidParameter, ServiceError, error_for_code
from vislab.services.baidu import brief_text
from vislab.services.base import ServiceClient
from vislab.services.ledger import Ledger
from vislab.transport import run_batch

__all__ = ["ImageSearch"]


def _tags_option(tags) -> list[int] | None:
    """Validate ``tags`` (int, "1,2" or a sequence): at most two ints in 1..65535."""
    if tags is None:
        return None
    if isinstance(tags, str):
        values = [t for t in tags.split(",") if t.strip()]
    elif isinstance(tags, (int,)):
        values = [tags]
    else:
        values = list(tags)
    if len(values) > MAX_TAGS:
        raise InvalidParameter(f"at most {MAX_TAGS} tags, got {len(values)}", name="tags")
    return values


def _per_image(value, ident: str):
    """One image's value from a constant, a mapping/Series by identifier, or a callable."""
    if callable(value):
        return value(ident)
    if isinstance(value, pd.Series):
        return value.get(ident)
    if isinstance(value, Mapping) and ident in value:
        return value[ident]
    return value


def _default_brief(ident: str) -> dict:
    return {"image": ident}


class ImageSearch(ServiceClient):
    """Baidu image search galleries: same / similar / product / picture-book / fabric.

    Parameters
    ----------
    api_key, secret_key : str, optional
        Baidu AI console credentials (or ``VISLAB_BAIDU_API_KEY`` / ``VISLAB_BAIDU_SECRET_KEY``).
        Without them the client runs offline on the local engine's galleries.
    base_url : str, optional
        ``vislab serve`` or a private deployment.
    ledger : bool or path-like, default True
        Keep the record of adds/updates/deletes (``True``: ``<VISLAB_HOME>/ledger.sqlite``;
        a path: that file; ``False``: none).
    filter_deleted : bool, default True
        Drop hits whose image was deleted through this client (cloud deletion is delayed).
    **kwargs
        ``qps``, ``max_workers``, ``timeout``, ``retries``, ``cache``, ``progress``, ``fit``,
        ``verify``: see :class:`vislab.services.base.ServiceClient`.  The reply cache only
        ever serves searches: adds, updates and deletes always reach the service.

    Examples
    --------
    >>> import os, tempfile
    >>> from vislab import baidu
    >>> from skimage import data
    >>> os.environ["VISLAB_HOME"], old_home = tempfile.mkdtemp(), os.environ.get("VISLAB_HOME")
    >>> client = baidu.ImageSearch(progress=False)
    >>> added = client.similar_add({"cat": data.chelsea()}, tags=[1])
    >>> hits = client.similar_search({"query": data.chelsea()}, rn=1)
    >>> hits.loc[0, "brief"]
    {'image': 'cat'}
    >>> _ = client.similar_delete(cont_sign=added["cont_sign"].tolist())
    >>> cloud = baidu.ImageSearch(api_key="AK", secret_key="SK")   # doctest: +SKIP
    >>> _ = os.environ.pop("VISLAB_HOME") if old_home is None else os.environ.update(
    ...     VISLAB_HOME=old_home)
    """

    service = SERVICE

    def __init__(self, api_key=None, secret_key=None, *, ledger=True, filter_deleted=True,
                 **kwargs):  # fmt: skip
        super().__init__(api_key, secret_key, **kwargs)
        if ledger is True:
            ledger = vislab_home() / "ledger.sqlite"
        self.ledger = Ledger(ledger) if ledger else None
        self.filter_deleted = bool(filter_deleted)
        where = getattr(self.transport, "base_url", None)
        if where is None:
            # Local galleries live in the home folder: one target per home.
            self._target = f"local:{vislab_home()}"
        else:
            key = api_key or os.environ.get(f"{self.env_prefix}_API_KEY") or ""
            # A hash, never the key itself: the ledger file must hold no secret.
            self._target = f"{where}#{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    def _send(self, ep, fields, cache_key):
        product, op = ep.name.rsplit("_", 1)
        sha = None
        if fields.get("image"):
            sha = hashlib.sha256(base64.b64decode(fields["image"])).hexdigest()
        if op == "add" and self.ledger is not None and sha is not None:
            known = self.ledger.find(self._target, product, sha256=sha)
            if known is not None:
                raise error_for_code(
                    216681, f"item exist: these bytes were added before as cont_sign "
                            f"{known['cont_sign']} (from the vislab ledger; not sent)"
                )  # fmt: skip
        # Only searches are safe to answer from the cache: the others change the gallery.
        reply = super()._send(ep, fields, cache_key if op == "search" else None)
        if self.ledger is not None:
            self._record(product, op, fields, reply, sha)
        return reply

    def _record(self, product, op, fields, reply, sha) -> None:
        led, target = self.ledger, self._target
        cats = fields.get("tags")
        if product == "product" and ("class_id1" in fields or "class_id2" in fields):
            cats = f"{fields.get('class_id1') or ''},{fields.get('class_id2') or ''}"
        if op == "add" and reply.get("cont_sign"):
            led.record_add(target, product, reply["cont_sign"], brief=fields.get("brief"),
                           tags=cats, sha256=sha)  # fmt: skip
        elif op == "delete":
            if sha is not None:
                led.mark_deleted(target, product, sha256=sha)
            else:
                signs = [s for s in str(fields.get("cont_sign", "")).split(";") if s.strip()]
                led.mark_deleted(target, product, cont_signs=signs)
        elif op == "update":
            sign = fields.get("cont_sign")
            if sha is not None:
                known = led.find(target, product, sha256=sha)
                sign = known["cont_sign"] if known else None
            if sign:
                led.update(target, product, sign, brief=fields.get("brief"), tags=cats)

    def gallery_frame(self, product: str, *, include_deleted: bool = False) -> pd.DataFrame:
        """What this client stored in a gallery, from the ledger -> gallery frame.

        Columns: ``image`` (identifier at add time), ``cont_sign``, ``brief`` (parsed),
        ``tags``, then ``added`` and ``deleted`` (times) and ``sha256`` of the bytes sent.

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> client = ImageSearch(progress=False, ledger=f"{tempfile.mkdtemp()}/ledger.sqlite")
        >>> _ = client.materiel_add({"bricks": data.brick()}, tags=[7])  # doctest: +SKIP
        >>> client.gallery_frame("materiel")[["image", "tags"]].to_dict("records")  # doctest: +SKIP
        [{'image': 'bricks', 'tags': [7]}]
        """
        if product not in PRODUCTS:
            raise InvalidParameter(f"product must be one of {PRODUCTS}", name="product")
        if self.ledger is None:
            raise InvalidParameter("this client keeps no ledger (ledger=False)", name="ledger")
        rows = []
        for e in self.ledger.entries(self._target, product, include_deleted=include_deleted):
            rows.append({
                "image": e["image"], "cont_sign": e["cont_sign"], "brief": parse_brief(e["brief"]),
                "tags": _tag_list(e["tags"]), "added": pd.Timestamp(e["added"], unit="s"),
                "deleted": None if e["deleted"] is None else pd.Timestamp(e["deleted"], unit="s"),
                "sha256": e["sha256"],
            })  # fmt: skip
        return frames.gallery_frame(rows, service=f"{self.service}.{product}.ledger")

    # -- the four operations, shared by the five products ------------------------------------

    def _add(self, product, images, *, brief=None, tags=None, class_id1=None, class_id2=None):
        brief = _default_brief if brief is None else brief

        def per_image(ident):
            extra = {"brief": brief_text(_per_image(brief, ident), ident)}
            if product == "product":
                extra["class_id1"] = _per_image(class_id1, ident)
                extra["class_id2"] = _per_image(class_id2, ident)
            else:
                extra["tags"] = _tags_option(_per_image(tags, ident))
            return extra

        keep = ("brief", "class_id1", "class_id2") if product == "product" else ("brief", "tags")
        df = self._call(f"{product}_add", images, {}, per_image=per_image, keep=keep)
        if self.ledger is not None and "cont_sign" in df.columns:
            for ident, sign, code in zip(df["image"], df["cont_sign"], df["error_code"],
                                         strict=True):  # fmt: skip
                if isinstance(sign, str) and code is None:
                    self.ledger.set_image(self._target, product, sign, ident)
        if "tags" in df.columns:
            df["tags"] = [_tag_list(v) for v in df["tags"]]
        if "brief" in df.columns:
            df["brief"] = [parse_brief(b) for b in df["brief"]]
        return df

    def _search(self, product, images, **options):
        if "tags" in options:
            options["tags"] = _tags_option(options["tags"])
        df = self._call(f"{product}_search", images, options)
        if self.ledger is None or not self.filter_deleted:
            return df
        gone = self.ledger.deleted(self._target, product)
        if not gone or "cont_sign" not in df.columns:
            return df
        drop = df["cont_sign"].isin(gone)
        if not drop.any():
            return df
        kept = df[~drop].copy()
        # A query whose every hit was deleted keeps one empty row: nothing vanishes silently.
        lost = [q for q in dict.fromkeys(df.loc[drop, "query"]) if q not in set(kept["query"])]
        if lost:
            kept = pd.concat([kept, pd.DataFrame({"query": lost})], ignore_index=True)
        order = {q: i for i, q in enumerate(dict.fromkeys(df["query"]))}
        kept = kept.sort_values(["query", "rank"], key=lambda c: c.map(order) if c.name == "query"
                                else c).reset_index(drop=True)  # fmt: skip
        kept["rank"] = kept.groupby("query").cumcount().add(1).where(kept["cont_sign"].notna())
        kept.attrs = df.attrs
        return kept

    def _update(self, product, images=None, *, cont_sign=None, brief=None, **cats):
        if (images is None) == (cont_sign is None):
            raise InvalidParameter("pass images or cont_sign (one of them)", name="cont_sign")
        if "tags" in cats:
            cats["tags"] = _tags_option(cats["tags"])
        options = {"brief": None if brief is None else brief_text(brief, ""), **cats}
        name = f"{product}_update"
        if images is not None:
            return self._call(name, images, options)
        signs = [cont_sign] if isinstance(cont_sign, str) else list(cont_sign)
        return self._by_signs(name, [[s] for s in signs], options, "updated")

    def _delete(self, product, images=None, *, cont_sign=None):
        if (images is None) == (cont_sign is None):
            raise InvalidParameter("pass images or cont_sign (one of them)", name="cont_sign")
        name = f"{product}_delete"
        if images is not None:
            return self._call(name, images, {})
        signs = [cont_sign] if isinstance(cont_sign, str) else list(cont_sign)
        signs = [s for one in signs for s in str(one).split(";") if s.strip()]
        batches = [signs[i : i + MAX_DELETE_BATCH] for i in range(0, len(signs), MAX_DELETE_BATCH)]
        return self._by_signs(name, batches, {}, "deleted")

    def _by_signs(self, name, batches, options, flag) -> pd.DataFrame:
        """One request per batch of cont_signs (joined by ';'); one row per cont_sign."""
        ep = catalogue.get(self.service, name)
        params = ep.wire_params({k: v for k, v in options.items() if v is not None})

        def one(batch):
            try:
                reply = self._send(ep, {**params, "cont_sign": ";".join(batch)}, None)
                return [{"image": None, "cont_sign": s, flag: True} for s in batch], reply
            except (InvalidParameter, ServiceError) as exc:
                return [{"image": None, "cont_sign": s, "error_code": exc.code,
                         "error_msg": exc.msg} for s in batch], None  # fmt: skip

        results = run_batch(one, batches, max_workers=self.max_workers, progress=self.progress,
                            desc=name)  # fmt: skip
        rows = [row for batch_rows, _ in results for row in batch_rows]
        raw = {";".join(b): reply for b, (_, reply) in zip(batches, results, strict=True) if reply}
        return frames.result_frame(ep.frame, rows, service=f"{self.service}.{name}", raw=raw)


def _tag_list(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        values = [int(v) for v in value.split(",") if v.strip()]
        return values or None
    return value


# -- the public methods, made per product from the declarations ------------------------------

_ADD_DOC = """{what}

Add images to the {product} gallery -> gallery frame with each image's ``cont_sign``.

Parameters
----------
images : image or many
    Paths, URLs, bytes, arrays, PIL images, globs, lists, Series or {{identifier: image}}.
brief : str, dict, mapping, Series or callable, optional
    What a hit returns (<= 256 bytes; dicts are sent as JSON).  Default
    ``{{"image": <identifier>}}``.  A mapping/Series gives one per identifier.
{cats}

Examples
--------
>>> from skimage import data
>>> client = ImageSearch(progress=False)  # doctest: +SKIP
>>> df = client.{product}_add({{"coffee": data.coffee()}}, brief={{"id": 1}})  # doctest: +SKIP
"""

_SEARCH_DOC = """{what}

Search the {product} gallery with each image -> matches frame, one row per hit.

Parameters
----------
images : image or many
{cats_search}tag_logic : {{0, 1}}, optional
    How two categories combine: 0 = AND (default), 1 = OR.
pn, rn : int, optional
    Page start (0..{pn_max}) and size (1..{rn_max}; default {rn_default}).

Examples
--------
>>> from skimage import data
>>> ImageSearch(progress=False).{product}_search(data.coffee(), rn=5)   # doctest: +SKIP
"""

_UPDATE_DOC = """{what}

Change the brief and/or categories of stored images -> gallery frame.

Parameters
----------
images : image or many, optional
    Locate stored images by their pixels ...
cont_sign : str or list of str, optional
    ... or by signature (one per request).
brief : str or dict, optional
{cats}

Examples
--------
>>> ImageSearch(progress=False).{product}_update(cont_sign="1,2", brief="x")  # doctest: +SKIP
"""

_DELETE_DOC = """{what}

Delete stored images by pixels or by ``cont_sign`` (batches of 100) -> gallery frame.

Locally the deletion is immediate; in the cloud it is delayed (hits for up to ~4 h).

Examples
--------
>>> ImageSearch(progress=False).{product}_delete(cont_sign=["1,2", "3,4"])  # doctest: +SKIP
"""

_CATS = {
    True: "class_id1, class_id2 : int, optional\n    Product categories, 1..65535.",
    False: 'tags : int, str or sequence, optional\n    Up to two ints in 1..65535 ("100,11").',
}


def _install(product: str) -> None:
    from vislab.catalogue.baidu_imagesearch import _WHAT, PAGING

    is_product = product == "product"
    pn_max, rn_max, rn_default = PAGING[product]
    fmt = {"product": product, "what": _WHAT[product], "cats": _CATS[is_product],
           "cats_search": _CATS[is_product] + "\n", "pn_max": pn_max, "rn_max": rn_max,
           "rn_default": rn_default}  # fmt: skip

    if is_product:

        def add(self, images, *, brief=None, class_id1=None, class_id2=None):
            return self._add(product, images, brief=brief, class_id1=class_id1,
                             class_id2=class_id2)  # fmt: skip

        def search(self, images, *, class_id1=None, class_id2=None, tag_logic=None, pn=None,
                   rn=None):  # fmt: skip
            return self._search(product, images, class_id1=class_id1, class_id2=class_id2,
                                tag_logic=tag_logic, pn=pn, rn=rn)  # fmt: skip

        def update(self, images=None, *, cont_sign=None, brief=None, class_id1=None,
                   class_id2=None):  # fmt: skip
            return self._update(product, images, cont_sign=cont_sign, brief=brief,
                                class_id1=class_id1, class_id2=class_id2)  # fmt: skip

    else:

        def add(self, images, *, brief=None, tags=None):
            return self._add(product, images, brief=brief, tags=tags)

        def search(self, images, *, tags=None, tag_logic=None, pn=None, rn=None):
            return self._search(product, images, tags=tags, tag_logic=tag_logic, pn=pn, rn=rn)

        def update(self, images=None, *, cont_sign=None, brief=None, tags=None):
            return self._update(product, images, cont_sign=cont_sign, brief=brief, tags=tags)

    def delete(self, images=None, *, cont_sign=None):
        return self._delete(product, images, cont_sign=cont_sign)

    for op, func, doc in (("add", add, _ADD_DOC), ("search", search, _SEARCH_DOC),
                          ("update", update, _UPDATE_DOC), ("delete", delete, _DELETE_DOC)):  # fmt: skip
        func.__name__ = f"{product}_{op}"
        func.__qualname__ = f"ImageSearch.{product}_{op}"
        func.__doc__ = doc.format(**fmt)
        setattr(ImageSearch, func.__name__, func)


for _product in PRODUCTS:
    _install(_product)
