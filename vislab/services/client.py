"""What every service client shares: connection choice, batching, caching, error rows.

A client class names its family (``service = "baidu.image_classify"``); everything else —
auth kind, reply envelope, error table, environment variables, cloud URL, the emulator that
answers offline, retry statuses — is read from that family's catalogue declaration
(:mod:`vislab.catalogue`).  A client method is a thin wrapper over :meth:`ServiceClient._call`,
which validates the options (a bad option fails the whole call at once, before any request),
expands the images, prepares each one against the endpoint's limits, sends one wire request
per image through the :class:`~vislab.services.session.Session` (bounded concurrency, shared
QPS limit, retries, optional disk cache), parses each reply with the declared parser, and
returns a frame in which every input image has at least one row (an error row when it failed).
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
from vislab.services.batch import run_batch
from vislab.services.cache import ReplyCache
from vislab.services.session import Session
from vislab.transport import (
    BaiduTokenAuth,
    EasHmacAuth,
    EasTokenAuth,
    HttpTransport,
    LocalTransport,
    NoAuth,
    RetryPolicy,
    envelope_for,
)

__all__ = ["ServiceClient", "build_auth"]

# The column naming the input in each frame kind.
_KEY = {"labels": "image", "boxes": "image", "gallery": "image", "matches": "query"}


def build_auth(
    kind: str,
    *,
    api_key: str | None = None,
    secret_key: str | None = None,
    token: str | None = None,
    signed: bool = False,
):
    """The auth piece a family declares (``Service.auth``), from the given credentials.

    Examples
    --------
    >>> build_auth("baidu_token", api_key="AK", secret_key="SK")
    BaiduTokenAuth(token_path='/oauth/2.0/token', api_key='***', secret_key='***')
    >>> build_auth("eas", token="t0ken", signed=True)
    EasHmacAuth(token='***')
    >>> build_auth("baidu_token")
    NoAuth()
    """
    if kind == "baidu_token":
        return BaiduTokenAuth(api_key, secret_key) if api_key else NoAuth()
    if kind == "eas":
        if not token:
            return NoAuth()
        return EasHmacAuth(token) if signed else EasTokenAuth(token)
    if kind == "none":
        return NoAuth()
    raise ValueError(f"unknown auth kind {kind!r}")


def _local_handle():
    # Imported here: the services layer reaches the emulator only for local mode, and the
    # emulator never imports the services.
    from vislab.emulator import local_app

    return local_app().handle


class ServiceClient:
    """Base of the service clients (see e.g. :class:`vislab.baidu.ImageClassify`).

    Parameters
    ----------
    api_key, secret_key : str, optional
        Cloud credentials; also read from ``<ENV_PREFIX>_API_KEY`` / ``_SECRET_KEY`` (the
        family's prefix, e.g. ``VISLAB_BAIDU``).  Without them (and without ``base_url``) the
        client runs on the local engine.
    base_url : str, optional
        Point the client at ``vislab serve`` (or another deployment speaking the same wire
        format).
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
    transport : Transport, optional
        A ready transport (overrides ``base_url``; credentials still apply).
    """

    service = ""

    def __init__(
        self,
        api_key: str | None = None,
        secret_key: str | None = None,
        *,
        base_url: str | None = None,
        qps: float | None = None,
        max_workers: int = 4,
        timeout: float = 30.0,
        retries: int = 3,
        cache=None,
        progress: bool = True,
        fit: bool = True,
        verify: bool = True,
        transport=None,
    ):
        self.spec = catalogue.service(self.service)
        prefix = self.spec.env_prefix
        if prefix:
            api_key = api_key or os.environ.get(f"{prefix}_API_KEY")
            secret_key = secret_key or os.environ.get(f"{prefix}_SECRET_KEY")
        if bool(api_key) != bool(secret_key):
            raise InvalidParameter(
                "give both api_key and secret_key (or neither, for the local engine)",
                name="api_key",
            )
        register_secret(api_key)
        register_secret(secret_key)
        self._account = api_key or ""
        self.fit = fit
        self.progress = progress
        self.max_workers = max(1, int(max_workers))
        self.cache = ReplyCache(cache) if cache else None
        auth = build_auth(self.spec.auth, api_key=api_key, secret_key=secret_key)
        if transport is not None:
            self.mode = "custom"
        elif api_key or base_url:
            url = base_url or self.spec.cloud_url
            if not url:
                raise InvalidParameter(
                    f"{self.spec.title} has no fixed cloud URL: give base_url=", name="base_url"
                )
            transport = HttpTransport(
                url, timeout=timeout, verify=verify, pool_size=max(16, self.max_workers)
            )
            self.mode = "cloud" if base_url is None else "http"
        else:
            transport = LocalTransport(_local_handle())
            self.mode = "local"
        self._connect(transport, auth=auth, retries=retries, qps=qps)

    def _connect(self, transport, *, auth, retries: int, qps: float | None) -> None:
        """Make the session of this client from its family's declaration."""
        spec = self.spec
        self.transport = transport
        self.session = Session(
            transport,
            auth=auth,
            envelope=envelope_for(spec.envelope, spec.errors),
            retry=RetryPolicy(retries=retries, statuses=spec.retry_statuses),
            qps=qps if qps is not None else spec.default_qps,
        )

    def __repr__(self) -> str:
        where = getattr(self.transport, "base_url", None)
        extra = f", base_url={where!r}" if where else ""
        return f"{type(self).__name__}(mode={self.mode!r}{extra})"

    # -- the one code path ------------------------------------------------------------------
    def _send(
        self,
        ep: catalogue.Endpoint,
        fields: Mapping[str, Any],
        cache_key: str | None,
        *,
        path: str | None = None,
    ):
        if self.cache is not None and cache_key is not None:
            hit = self.cache.get(cache_key)
            if hit is not None:
                return hit
        reply = self.session.send(path or ep.path, fields, body=ep.body, idempotent=ep.idempotent)
        if self.cache is not None and cache_key is not None:
            self.cache.put(cache_key, reply)
        return reply

    def _call(
        self,
        name: str,
        images,
        options: Mapping[str, Any],
        *,
        per_image: Callable[[str], Mapping[str, Any]] | None = None,
        keep: tuple[str, ...] = (),
        path: str | None = None,
    ) -> pd.DataFrame:
        """Run endpoint ``name`` on every image; one frame back.

        Parameters
        ----------
        name : str
            Endpoint name in this client's family.
        images : any accepted image input
        options : mapping
            Keyword options; validated once, before any request.
        per_image : callable(identifier) -> mapping, optional
            Per-image parameters (e.g. ``brief``), validated per image: a bad one becomes that
            image's error row.
        keep : tuple of str
            Per-image parameters to copy into the image's rows (e.g. ``("brief",)``).
        path : str, optional
            The wire path when the endpoint's has ``{name}`` segments (filled by the client).
        """
        ep = self.spec.endpoint(name)
        ep.wire_params(options, partial=per_image is not None)
        pairs = expand_images(images)
        key_col = _KEY.get(ep.frame, "image")

        def one(pair):
            ident, source = pair
            try:
                extra = dict(per_image(ident)) if per_image is not None else {}
                params = ep.wire_params({**options, **extra})
                prepared: PreparedImage = prepare_image(
                    source, ep.limits, ident=ident, fit=self.fit
                )
                ckey = ReplyCache.key(path or ep.path, params, prepared.sha256)
                reply = self._send(ep, {ep.image_field: prepared.b64(), **params}, ckey, path=path)
                kept = {k: params[k] for k in keep if k in params}
                rows = [{**r, **kept} for r in ep.parse(reply, ident)]
                # An image with no results keeps one empty row: nothing is dropped silently.
                return rows or [{key_col: ident}], reply
            except (InvalidImage, InvalidParameter, ServiceError) as exc:
                return [{key_col: ident, "error_code": exc.code, "error_msg": exc.msg}], exc

        results = run_batch(
            one, pairs, max_workers=self.max_workers, progress=self.progress, desc=name
        )
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
        ep = self.spec.endpoint(name)

        def one(value):
            try:
                reply = self._send(ep, ep.wire_params({param: value}), None)
                rows = [{**r, "image": None, param: value} for r in ep.parse(reply, None)]
                return rows, reply
            except (InvalidParameter, ServiceError) as exc:
                return [
                    {"image": None, param: value, "error_code": exc.code, "error_msg": exc.msg}
                ], None

        results = run_batch(
            one, list(keys), max_workers=self.max_workers, progress=self.progress, desc=name
        )
        rows = [row for image_rows, _ in results for row in image_rows]
        raw = {value: reply for value, (_, reply) in zip(keys, results, strict=True) if reply}
        return frames.result_frame(ep.frame, rows, service=f"{self.service}.{name}", raw=raw)
