"""What every service client shares: transport choice, batching, caching, error rows.

A client method is a thin wrapper over :meth:`ServiceClient._call`, which reads the
endpoint's declaration from :mod:`vislab.catalogue`: it validates the options (a bad option
fails the whole call at once, before any request), expands the images, prepares each one
against the endpoint's limits, sends one wire request per image (bounded concurrency, shared
QPS limit, optional disk cache), parses each reply with the declared parser, and returns a
frame in which every input image has at least one row (an error row when it failed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from vislab import catalogue, frames
from vislab.errors import (
    AuthError,
    InvalidImage,
    InvalidParameter,
    ServiceError,
    register_secret,
)
from vislab.images import PreparedImage, expand_images, prepare_image
from vislab.transport import BaiduTokenAuth, HttpTransport, LocalTransport, ReplyCache, run_batch

__all__ = ["ServiceClient"]

# The column naming the input in each frame kind.
_KEY = {"labels": "image", "boxes": "image", "gallery": "image", "matches": "query"}


class ServiceClient:
    """Base of the service clients (see e.g. :class:`vislab.baidu.ImageClassify`).

    Parameters
    ----------
    api_key, secret_key : str, optional
        Cloud credentials; also read from ``VISLAB_<ENV>_API_KEY`` / ``_SECRET_KEY``.
        Without them (and without ``base_url``) the client runs on the local engine.
    base_url : str, optional
        Point the client at ``vislab serve`` or a private deployment.
    qps : float, optional
        Requests per second for this client (shared by its threads).
    max_workers : int
        Concurrent requests in a batch.
    timeout, retries : float, int
        Per-request timeout (s) and retries of transient failures.
    cache : str or Path, optional
        Folder for the reply cache.
    progress : bool
        Show a progress bar for batches.
    fit : bool
        Shrink / re-encode images that break size or format rules instead of failing.
    verify : bool
        TLS certificate verification.
    transport : object, optional
        A ready transport (overrides all of the above transport options).
    """

    service = ""
    env_prefix = "VISLAB_BAIDU"
    cloud_url = "https://aip.baidubce.com"

    def __init__(self, api_key: str | None = None, secret_key: str | None = None, *,
                 base_url: str | None = None, qps: float | None = None, max_workers: int = 4,
                 timeout: float = 30.0, retries: int = 3, cache=None, progress: bool = True,
                 fit: bool = True, verify: bool = True, transport=None):
        api_key = api_key or os.environ.get(f"{self.env_prefix}_API_KEY")
        secret_key = secret_key or os.environ.get(f"{self.env_prefix}_SECRET_KEY")
        if bool(api_key) != bool(secret_key):
            raise InvalidParameter("give both api_key and secret_key (or neither, for the "
                                   "local engine)", name="api_key")
        register_secret(api_key)
        register_secret(secret_key)
        self.fit = fit
        self.progress = progress
        self.max_workers = max(1, int(max_workers))
        self.cache = ReplyCache(cache) if cache else None
        if transport is not None:
            self.transport = transport
            self.mode = "custom"
        elif api_key or base_url:
            url = (base_url or self.cloud_url).rstrip("/")
            auth = BaiduTokenAuth(api_key, secret_key, url + "/oauth/2.0/token") \
                if api_key else None
            self.transport = HttpTransport(url, auth=auth, timeout=timeout, retries=retries,
                                           qps=qps, verify=verify,
                                           pool_size=max(16, self.max_workers))
            self.mode = "cloud" if base_url is None else "http"
        else:
            self.transport = LocalTransport()
            self.mode = "local"

    def __repr__(self) -> str:
        where = getattr(self.transport, "base_url", None)
        extra = f", base_url={where!r}" if where else ""
        return f"{type(self).__name__}(mode={self.mode!r}{extra})"

    # -- the one code path ------------------------------------------------------------------
    def _send(self, ep: catalogue.Endpoint, fields: Mapping[str, Any], cache_key: str | None):
        if self.cache is not None and cache_key is not None:
            hit = self.cache.get(cache_key)
            if hit is not None:
                return hit
        reply = self.transport.send(ep.path, fields, body=ep.body)
        if self.cache is not None and cache_key is not None:
            self.cache.put(cache_key, reply)
        return reply

    def _call(self, name: str, images, options: Mapping[str, Any], *,
              per_image: Callable[[str], Mapping[str, Any]] | None = None,
              keep: tuple[str, ...] = ()) -> pd.DataFrame:
        """Run endpoint ``name`` on every image; one frame back.

        Parameters
        ----------
        name : str
            Endpoint name in this client's service.
        images : any accepted image input
        options : mapping
            Keyword options; validated once, before any request.
        per_image : callable(identifier) -> mapping, optional
            Per-image parameters (e.g. ``brief``), validated per image: a bad one becomes that
            image's error row.
        keep : tuple of str
            Per-image parameters to copy into the image's rows (e.g. ``("brief",)``).
        """
        ep = catalogue.get(self.service, name)
        ep.wire_params(options, partial=per_image is not None)
        pairs = expand_images(images)
        key_col = _KEY.get(ep.frame, "image")

        def one(pair):
            ident, source = pair
            try:
                extra = dict(per_image(ident)) if per_image is not None else {}
                params = ep.wire_params({**options, **extra})
                prepared: PreparedImage = prepare_image(source, ep.limits, ident=ident,
                                                        fit=self.fit)
                ckey = ReplyCache.key(ep.path, params, prepared.sha256)
                reply = self._send(ep, {"image": prepared.b64(), **params}, ckey)
                kept = {k: params[k] for k in keep if k in params}
                rows = [{**r, **kept} for r in ep.parse(reply, ident)]
                # An image with no results keeps one empty row: nothing is dropped silently.
                return rows or [{key_col: ident}], reply
            except (InvalidImage, InvalidParameter, ServiceError) as exc:
                return [{key_col: ident, "error_code": exc.code, "error_msg": exc.msg}], exc

        results = run_batch(one, pairs, max_workers=self.max_workers, progress=self.progress,
                            desc=name)
        failures = [r for _, r in results if isinstance(r, Exception)]
        if failures and len(failures) == len(results) and isinstance(failures[0], AuthError):
            # Wrong keys or no permission: no image can succeed, so say it once, loudly,
            # instead of returning a frame of identical error rows.
            raise failures[0]
        rows, raw = [], {}
        for (ident, _), (image_rows, reply) in zip(pairs, results, strict=True):
            rows.extend(image_rows)
            if isinstance(reply, dict):
                raw[ident] = reply
        return frames.result_frame(ep.frame, rows, service=f"{self.service}.{name}", raw=raw)

    def _call_without_image(self, name: str, keys, param: str) -> pd.DataFrame:
        """Run an endpoint that takes no image once per value of ``param`` (e.g. cont_sign).

        The frame has one row per value, with ``image`` empty and the value in ``param``.
        """
        ep = catalogue.get(self.service, name)

        def one(value):
            try:
                reply = self.transport.send(ep.path, ep.wire_params({param: value}),
                                            body=ep.body)
                rows = [{**r, "image": None, param: value} for r in ep.parse(reply, None)]
                return rows, reply
            except (InvalidParameter, ServiceError) as exc:
                return [{"image": None, param: value, "error_code": exc.code,
                         "error_msg": exc.msg}], None

        results = run_batch(one, list(keys), max_workers=self.max_workers,
                            progress=self.progress, desc=name)
        rows = [row for image_rows, _ in results for row in image_rows]
        raw = {value: reply for value, (_, reply) in zip(keys, results, strict=True) if reply}
        return frames.result_frame(ep.frame, rows, service=f"{self.service}.{name}", raw=raw)
