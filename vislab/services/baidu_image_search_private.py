"""Baidu image search on a private deployment: ``PrivateImageSearch``, the same methods and
frames as :class:`vislab.baidu.ImageSearch`, on the box's ``/RTSAsService/*`` API.

The gallery operations (add, search, update, delete, the ledger, timed-out adds) are
:class:`~vislab.services.gallery_ops.GalleryOperations`, shared with the cloud client.  What
is the private family's own lives here or, for the wire format, in
:mod:`~vislab.services.baidu_image_search_private_wire` (re-exported here):

* :func:`wire_body` turns the parameters a caller chose (``appid``, ``brief``,
  ``cont_sign``, ``pn``/``rn``) into the private JSON body (``from``, ``logid``,
  ``format: "json"``, ``features`` with fea_id 1000 = base64 brief and 999 = the fixed 8-byte
  struct, ``contsign {sign1, sign2}``, ``contsigns``);
* :class:`RtsasEnvelope` reads ``err_no``/``err_msg`` (codes as typed errors from the
  family's table: 101 duplicated add, naming the stored item; 102 update of data not in the
  table; 103 user not registered, 104 user already exists...) and returns the reply in the cloud family's shape (``cont_sign``, ``result``,
  ``result_num``, ``has_more`` from the uint32), so the cloud parsers and frames apply;
* ports: a box runs its retrieval service on 8025 (whichever of same-image, similar or
  product search is installed there: call that product's methods) and picture-book on 8027.
  ``PrivateImageSearch(host)`` sends ``/RTSAsService/<op>`` to the port of each product's
  service; ``PrivateImageSearch(base_url=...)`` sends ``/<product>/RTSAsService/<op>`` to one
  server — ``vislab serve``, which stands for a whole box on one port.  Without either it
  runs on the local engine.
"""

from __future__ import annotations

import re
import warnings

from vislab import frames
from vislab.catalogue.baidu_image_search_private import (
    ID,
    PICTUREBOOK_PORT,
    PRODUCTS,
    RETRIEVAL_PORT,
    SERVICE_PORT,
)
from vislab.errors import InvalidParameter

# Re-exported: the wire format lived in this module.
from vislab.services.baidu_image_search_private_wire import FEATURE_999 as FEATURE_999
from vislab.services.baidu_image_search_private_wire import RtsasEnvelope, wire_body
from vislab.services.client import ServiceClient
from vislab.services.gallery_ops import GalleryOperations
from vislab.services.private_docs import documented as _documented
from vislab.services.session import Session
from vislab.transport import HttpTransport

__all__ = ["PrivateImageSearch", "RtsasEnvelope", "wire_body", "IndexCapacityWarning"]

_PRODUCTS = {p.name: p for p in PRODUCTS}
_APPID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Adds warn when the index is this full (``index_size / index_capacity``).
CAPACITY_WARN_SHARE = 0.9


class IndexCapacityWarning(UserWarning):
    """A private index is nearly full (``index_size`` near ``index_capacity``)."""


class _RtsasWire:
    """The wire hook below the gallery operations: private body, service port, path."""

    def _route(self, ep):
        if self._sessions is None:  # one server for every product (vislab serve, local)
            return self.session, ep.path
        product, _, rest = ep.path.lstrip("/").partition("/")
        service = "picturebook" if SERVICE_PORT[product] == PICTUREBOOK_PORT else "retrieval"
        return self._sessions[service], "/" + rest

    def _send(self, ep, fields, cache_key, *, path=None, ident=None):
        operation = ep.name.rsplit("_", 1)[1]
        body = wire_body(operation, fields, caller=self.caller)
        if self.cache is not None and cache_key is not None:
            hit = self.cache.get(cache_key)
            if hit is not None:
                return hit
        session, wire_path = self._route(ep)
        reply = session.send(wire_path, body, body=ep.body, idempotent=ep.idempotent)
        if self.cache is not None and cache_key is not None:
            self.cache.put(cache_key, reply)
        return reply


class PrivateImageSearch(GalleryOperations, _RtsasWire, ServiceClient):
    """Baidu image search on a private deployment: the methods and frames of ``ImageSearch``.

    Products: ``same_hq``, ``similar``, ``product`` (the retrieval service, port 8025: call
    the product your box runs) and ``picturebook`` (port 8027); fabric is not offered
    privately.  Each has ``<product>_add``, ``_search``, ``_update``, ``_delete`` (as
    :class:`vislab.baidu.ImageSearch`, without categories: the private wire has none) and
    ``_snapshot`` (the index's size and capacity) and ``_signup`` (register the tenant with
    that product's service; 104 once it exists).  Adds warn (:class:`IndexCapacityWarning`)
    when the index is 90 % full.

    Parameters
    ----------
    host : str, optional
        The box's address (``"10.0.0.5"``): requests go to ``http://<host>:<port>`` for the
        retrieval products and ``:<picturebook_port>`` for picture-book.
    appid : str
        The tenant id (1-64 letters, digits, ``_``, ``-``); also keys the ledger.
    port, picturebook_port : int
        The services' ports (8025 and 8027 on a standard install).
    base_url : str, optional
        Instead of ``host``: one server answering ``/<product>/RTSAsService/*`` for every
        product (``vislab serve``).  Without ``host`` and ``base_url``: the local engine.
    caller : str
        The ``from`` tag sent with every request.
    ledger : bool or path-like, default True
        As for :class:`vislab.baidu.ImageSearch`.
    filter_deleted : bool, default True
        Drop hits whose image was deleted through this client.
    **kwargs
        ``qps``, ``max_workers``, ``timeout``, ``retries``, ``cache``, ``progress``, ``fit``,
        ``verify``, ``errors``, ``transport`` (see :class:`vislab.baidu.ImageClassify`).

    Examples
    --------
    >>> import os, tempfile
    >>> from skimage import data
    >>> os.environ["VISLAB_HOME"], old_home = tempfile.mkdtemp(), os.environ.get("VISLAB_HOME")
    >>> box = PrivateImageSearch(appid="demo", progress=False)
    >>> added = box.similar_add({"cat": data.chelsea()})
    >>> box.similar_search({"q": data.chelsea()}, rn=1).loc[0, "brief"]
    {'image': 'cat'}
    >>> int(box.similar_snapshot().loc[0, "index_size"])
    1
    >>> PrivateImageSearch("10.0.0.5", appid="shop")
    PrivateImageSearch(mode='http', base_url='http://10.0.0.5:8025')
    >>> _ = os.environ.pop("VISLAB_HOME") if old_home is None else os.environ.update(
    ...     VISLAB_HOME=old_home)
    """

    service = ID
    _DUPLICATE_CODE = 101
    _LIFECYCLE = None  # the box's own capacity is in <product>_snapshot()

    def __init__(
        self,
        host: str | None = None,
        *,
        appid: str,
        port: int = RETRIEVAL_PORT,
        picturebook_port: int = PICTUREBOOK_PORT,
        base_url: str | None = None,
        caller: str = "vislab",
        ledger=True,
        filter_deleted: bool = True,
        **kwargs,
    ):
        if not isinstance(appid, str) or not _APPID.fullmatch(appid):
            raise InvalidParameter(
                f"appid must be the tenant id: 1-64 letters, digits, '_' or '-', got {appid!r}",
                name="appid",
            )
        if host is not None and base_url is not None:
            raise InvalidParameter("give host (a box) or base_url (vislab serve), not both",
                                   name="host")  # fmt: skip
        if host is not None and (not isinstance(host, str) or "/" in host or not host.strip()):
            raise InvalidParameter(
                f"host must be the box's address ('10.0.0.5'), got {host!r}; a URL goes in "
                "base_url=",
                name="host",
            )
        self.appid, self.caller = appid, str(caller)
        timeout, verify = kwargs.get("timeout", 30.0), kwargs.get("verify", True)
        if host is not None:
            base_url = f"http://{host.strip()}:{int(port)}"
        super().__init__(base_url=base_url, **kwargs)
        self._account = appid  # the ledger and cache key on the tenant
        self._sessions = None
        if host is not None:
            # Two services on the box, two ports: each gets its own connection pool.
            picture = HttpTransport(f"http://{host.strip()}:{int(picturebook_port)}",
                                    timeout=timeout, verify=verify)  # fmt: skip
            self._sessions = {
                "retrieval": self.session,
                "picturebook": Session(picture, auth=self.session.auth,
                                       envelope=self.session.envelope, retry=self.session.retry,
                                       qps=self.session.limiter.qps),
            }  # fmt: skip
        self._open_ledger(ledger, filter_deleted)

    def _tenant(self, appid):
        if appid is not None and appid != self.appid:
            raise InvalidParameter(
                f"this client is tenant {self.appid!r}; make a PrivateImageSearch(appid="
                f"{appid!r}) for another (the ledger keeps tenants apart)",
                name="appid",
            )
        return self.appid

    # Every request carries the tenant, also those of search_all, exists and reset.
    def _add(self, product_name, images, *, brief=None, errors=None, **options):
        options.setdefault("appid", self.appid)
        df = super()._add(product_name, images, brief=brief, errors=errors, **options)
        self._warn_if_nearly_full(product_name)
        return df

    def _search(self, product_name, images, *, errors=None, **options):
        options.setdefault("appid", self.appid)
        return super()._search(product_name, images, errors=errors, **options)

    def _update(self, product_name, images=None, *, errors=None, **options):
        options.setdefault("appid", self.appid)
        return super()._update(product_name, images, errors=errors, **options)

    def _delete(self, product_name, images=None, *, errors=None, **options):
        options.setdefault("appid", self.appid)
        return super()._delete(product_name, images, errors=errors, **options)

    def _warn_if_nearly_full(self, product_name: str) -> None:
        try:
            snap = self._snapshot(product_name, None, "raise", warn=False)
        except Exception:  # a box without snapshot still takes adds: no warning then
            return
        size, cap = snap.loc[0, "index_size"], snap.loc[0, "index_capacity"]
        if cap and size >= CAPACITY_WARN_SHARE * cap:
            warnings.warn(
                f"the private {product_name} index holds {size:,} of {cap:,} images "
                f"({size / cap:.0%}): extend the licence's capacity before it is full",
                IndexCapacityWarning,
                stacklevel=3,
            )

    def _snapshot(self, product_name, appid, errors, *, warn: bool = True):
        return self._box_call("snapshot", product_name, appid, errors, warn=warn)

    def _signup(self, product_name, appid, errors):
        # The reply is the bare envelope: the row names the tenant that was sent.
        tenant = self._tenant(appid)
        return self._box_call("signup", product_name, tenant, errors, extra={"appid": tenant})

    def _box_call(self, operation, product_name, appid, errors, *, warn=True, extra=None):
        """One request about the product's service itself (no image) -> a one-row frame."""
        product = self.spec.product(product_name)
        ep = self.spec.endpoint(product.endpoint_name(operation))
        params = ep.wire_params({"appid": self._tenant(appid)})
        extra = extra or {}

        def work(name):
            reply = self._send(ep, params, None)
            return [{**row, **extra} for row in ep.parse(reply, name)], reply

        results = self._run(operation, [product.name], work,
                            key_of=lambda n: {"image": n, **extra}, errors=errors,
                            warn=warn)  # fmt: skip
        rows, reply = results[0]
        raw = {product.name: reply} if isinstance(reply, dict) else {}
        return frames.gallery_frame(rows, service=f"{self.service}.{ep.name}", raw=raw)

    # -- same_hq ---------------------------------------------------------------------------------
    @_documented("same_hq", "add")
    def same_hq_add(self, images, *, appid=None, brief=None, errors=None):
        return self._add("same_hq", images, brief=brief, appid=self._tenant(appid), errors=errors)

    @_documented("same_hq", "search")
    def same_hq_search(self, images, *, appid=None, pn=None, rn=None, errors=None):
        return self._search("same_hq", images, appid=self._tenant(appid), pn=pn, rn=rn,
                            errors=errors)  # fmt: skip

    @_documented("same_hq", "update")
    def same_hq_update(self, images=None, *, appid=None, cont_sign=None, brief=None, errors=None):
        return self._update("same_hq", images, cont_sign=cont_sign, brief=brief,
                            appid=self._tenant(appid), errors=errors)  # fmt: skip

    @_documented("same_hq", "delete")
    def same_hq_delete(self, images=None, *, appid=None, cont_sign=None, errors=None):
        return self._delete("same_hq", images, cont_sign=cont_sign, appid=self._tenant(appid),
                            errors=errors)  # fmt: skip

    @_documented("same_hq", "snapshot")
    def same_hq_snapshot(self, *, appid=None, errors=None):
        return self._snapshot("same_hq", appid, errors)

    @_documented("same_hq", "signup")
    def same_hq_signup(self, *, appid=None, errors=None):
        return self._signup("same_hq", appid, errors)

    # -- similar ---------------------------------------------------------------------------------
    @_documented("similar", "add")
    def similar_add(self, images, *, appid=None, brief=None, errors=None):
        return self._add("similar", images, brief=brief, appid=self._tenant(appid), errors=errors)

    @_documented("similar", "search")
    def similar_search(self, images, *, appid=None, pn=None, rn=None, errors=None):
        return self._search("similar", images, appid=self._tenant(appid), pn=pn, rn=rn,
                            errors=errors)  # fmt: skip

    @_documented("similar", "update")
    def similar_update(self, images=None, *, appid=None, cont_sign=None, brief=None, errors=None):
        return self._update("similar", images, cont_sign=cont_sign, brief=brief,
                            appid=self._tenant(appid), errors=errors)  # fmt: skip

    @_documented("similar", "delete")
    def similar_delete(self, images=None, *, appid=None, cont_sign=None, errors=None):
        return self._delete("similar", images, cont_sign=cont_sign, appid=self._tenant(appid),
                            errors=errors)  # fmt: skip

    @_documented("similar", "snapshot")
    def similar_snapshot(self, *, appid=None, errors=None):
        return self._snapshot("similar", appid, errors)

    @_documented("similar", "signup")
    def similar_signup(self, *, appid=None, errors=None):
        return self._signup("similar", appid, errors)

    # -- product ---------------------------------------------------------------------------------
    @_documented("product", "add")
    def product_add(self, images, *, appid=None, brief=None, errors=None):
        return self._add("product", images, brief=brief, appid=self._tenant(appid), errors=errors)

    @_documented("product", "search")
    def product_search(self, images, *, appid=None, pn=None, rn=None, errors=None):
        return self._search("product", images, appid=self._tenant(appid), pn=pn, rn=rn,
                            errors=errors)  # fmt: skip

    @_documented("product", "update")
    def product_update(self, images=None, *, appid=None, cont_sign=None, brief=None, errors=None):
        return self._update("product", images, cont_sign=cont_sign, brief=brief,
                            appid=self._tenant(appid), errors=errors)  # fmt: skip

    @_documented("product", "delete")
    def product_delete(self, images=None, *, appid=None, cont_sign=None, errors=None):
        return self._delete("product", images, cont_sign=cont_sign, appid=self._tenant(appid),
                            errors=errors)  # fmt: skip

    @_documented("product", "snapshot")
    def product_snapshot(self, *, appid=None, errors=None):
        return self._snapshot("product", appid, errors)

    @_documented("product", "signup")
    def product_signup(self, *, appid=None, errors=None):
        return self._signup("product", appid, errors)

    # -- picturebook -----------------------------------------------------------------------------
    @_documented("picturebook", "add")
    def picturebook_add(self, images, *, appid=None, brief=None, errors=None):
        return self._add("picturebook", images, brief=brief, appid=self._tenant(appid),
                         errors=errors)  # fmt: skip

    @_documented("picturebook", "search")
    def picturebook_search(self, images, *, appid=None, pn=None, rn=None, errors=None):
        return self._search("picturebook", images, appid=self._tenant(appid), pn=pn, rn=rn,
                            errors=errors)  # fmt: skip

    @_documented("picturebook", "update")
    def picturebook_update(self, images=None, *, appid=None, cont_sign=None, brief=None,
                           errors=None):  # fmt: skip
        return self._update("picturebook", images, cont_sign=cont_sign, brief=brief,
                            appid=self._tenant(appid), errors=errors)  # fmt: skip

    @_documented("picturebook", "delete")
    def picturebook_delete(self, images=None, *, appid=None, cont_sign=None, errors=None):
        return self._delete("picturebook", images, cont_sign=cont_sign,
                            appid=self._tenant(appid), errors=errors)  # fmt: skip

    @_documented("picturebook", "snapshot")
    def picturebook_snapshot(self, *, appid=None, errors=None):
        return self._snapshot("picturebook", appid, errors)

    @_documented("picturebook", "signup")
    def picturebook_signup(self, *, appid=None, errors=None):
        return self._signup("picturebook", appid, errors)
