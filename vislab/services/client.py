"""What every service client shares: connection choice, batching, caching, error rows.

A client class names its family (``service = "baidu.image_classify"``); everything else —
auth kind, reply envelope, error table, environment variables, cloud URL, the emulator that
answers offline, retry statuses — is read from that family's catalogue declaration
(:mod:`vislab.catalogue`).  A client method is a thin wrapper over :meth:`ServiceClient._call`,
which validates the options (a bad option fails the whole call at once, before any request),
expands the images, prepares each one against the endpoint's limits, sends one wire request
per image through the :class:`~vislab.services.session.Session` (bounded concurrency, shared
QPS limit, retries, optional disk cache), parses each reply with the declared parser, and
returns a frame in which every input image has at least one row.  How failures show is one
rule for every call (:mod:`vislab.services.failures`): error rows and one warning, or
``errors="raise"``.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from vislab import catalogue, frames
from vislab.errors import (
    AuthError,
    InvalidParameter,
    ServiceError,
    TransportError,
    register_secret,
)
from vislab.images import PreparedImage, expand_images, prepare_image
from vislab.services.batch import run_batch
from vislab.services.cache import ReplyCache
from vislab.services.credentials import build_auth, check_credential, signed_auth_option
from vislab.services.dask_hooks import accepts_dask, records_recipe
from vislab.services.failures import check_errors_option, failure_fields, warn_failures
from vislab.services.session import Session
from vislab.transport import (
    HttpTransport,
    LocalTransport,
    RetryPolicy,
    envelope_for,
)

__all__ = ["ServiceClient", "build_auth", "UrlFallbackWarning"]

#: Longest ``url`` a Baidu service fetches itself (longer ones are downloaded here).
MAX_URL_BYTES = 1024


class UrlFallbackWarning(UserWarning):
    """The service could not fetch some image URLs itself; they were downloaded and sent."""


def _service_url(source, ep, mode: str) -> str | None:
    """``source`` when it is an http(s) URL the endpoint may fetch itself, else None."""
    if mode != "url" or not ep.url_field or not isinstance(source, str):
        return None
    text = source.strip()
    if not text.startswith(("http://", "https://")) or len(text.encode()) > MAX_URL_BYTES:
        return None
    return text


# The column naming the input in each frame kind.
_KEY = {"labels": "image", "boxes": "image", "gallery": "image", "matches": "query"}


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
        format).  It must start with ``http://`` or ``https://``.
    qps : float, optional
        Requests per second for this client (shared by its threads).
    max_workers : int
        Concurrent requests in a batch.
    timeout, retries : float, int
        Per-request timeout (s) and retries of transient failures.
    cache : str or Path, optional
        Folder for the reply cache (keyed by backend, endpoint, parameters and image bytes).
    progress : bool
        Show a progress bar for batches.
    fit : bool
        Shrink / re-encode images that break size or format rules instead of failing.
    verify : bool
        TLS certificate verification.
    errors : {"row", "raise"}
        Default for every call: failed images as error rows plus one warning, or raise the
        first failure (see :mod:`vislab.services.failures`).
    transport : Transport, optional
        A ready transport (overrides ``base_url``; credentials still apply).
    auth : {"token", "bce"}, optional
        Baidu families: send an OAuth ``access_token`` (default) or sign every request with
        the AK/SK (BCE, ``bce-auth-v1``: no token fetched).  Other families take neither.
    url_mode : {"url", "download"}
        An image given as an http(s) URL is sent as ``url`` for the service to fetch when
        the endpoint takes one (``"url"``, default); if the service cannot fetch it (its
        codes for a slow or failing image host, 282112 / 282113 on Baidu) it is downloaded
        here and sent as base64, with one :class:`UrlFallbackWarning` naming the code.
        ``"download"`` always downloads here first.
    plan : str, optional
        The billing plan, where the family documents its QPS (image search: ``"free"`` = 2
        QPS, ``"paid"`` = 10): sets the default ``qps``.
    """

    service = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls.__init__ = records_recipe(cls.__init__)
        for name, member in list(vars(cls).items()):
            if (
                not name.startswith("_")
                and inspect.isfunction(member)
                and "images" in inspect.signature(member).parameters
            ):
                setattr(cls, name, accepts_dask(member))

    @records_recipe
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
        errors: str = "row",
        transport=None,
        auth: str | None = None,
        url_mode: str = "url",
        plan: str | None = None,
    ):
        self.spec = catalogue.service(self.service)
        signed = signed_auth_option(self.spec, auth)
        if url_mode not in ("url", "download"):
            raise InvalidParameter(
                f"url_mode must be 'url' (the service fetches) or 'download' (vislab "
                f"downloads), got {url_mode!r}",
                name="url_mode",
            )
        self.url_mode = url_mode
        if plan is not None:
            if plan not in self.spec.plan_qps:
                known = " or ".join(repr(k) for k in self.spec.plan_qps) or "none (leave it out)"
                raise InvalidParameter(f"plan must be {known} for {self.spec.title}, got "
                                       f"{plan!r}", name="plan")  # fmt: skip
            qps = self.spec.plan_qps[plan] if qps is None else qps
        api_key = check_credential("api_key", api_key)
        secret_key = check_credential("secret_key", secret_key)
        prefix = self.spec.env_prefix
        if prefix:
            api_key = api_key or os.environ.get(f"{prefix}_API_KEY") or None
            secret_key = secret_key or os.environ.get(f"{prefix}_SECRET_KEY") or None
        if bool(api_key) != bool(secret_key):
            raise InvalidParameter(
                "give both api_key and secret_key (or neither, for the local engine)",
                name="api_key",
            )
        register_secret(api_key)
        register_secret(secret_key)
        self._account = api_key or ""
        self.errors = check_errors_option(errors)
        self.fit = fit
        self.progress = progress
        self.max_workers = max(1, int(max_workers))
        self.cache = ReplyCache(cache) if cache else None
        auth = build_auth(self.spec.auth, api_key=api_key, secret_key=secret_key, signed=signed)
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

    def __getattr__(self, name: str):
        # Users of the official SDKs type its camelCase names: point them at ours.
        snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
        if snake != name and not name.startswith("_") and hasattr(type(self), snake):
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}; did you mean {snake!r}?"
            )
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def backend(self) -> str:
        """Where replies come from, without secrets: the reply cache and ledger key on it."""
        where = getattr(self.transport, "base_url", None) or self.mode
        account = hashlib.sha256(self._account.encode()).hexdigest()[:12]
        return f"{self.service}@{where}#{account}"

    # -- the one code path ------------------------------------------------------------------
    def _send(
        self,
        ep: catalogue.Endpoint,
        fields: Mapping[str, Any],
        cache_key: str | None,
        *,
        path: str | None = None,
        ident: str | None = None,
    ):
        if self.cache is not None and cache_key is not None:
            hit = self.cache.get(cache_key)
            if hit is not None:
                return hit
        reply = self.session.send(path or ep.path, fields, body=ep.body, idempotent=ep.idempotent)
        if self.cache is not None and cache_key is not None:
            self.cache.put(cache_key, reply)
        return reply

    def _run(
        self,
        name: str,
        items: list,
        work: Callable[[Any], tuple[list[dict], Any]],
        *,
        key_of: Callable[[Any], dict],
        errors: str | None,
        warn: bool = True,
    ) -> list[tuple[list[dict], Any]]:
        """Run ``work`` on every item (bounded concurrency); apply the failure rule.

        ``work(item)`` returns ``(rows, reply)`` or raises; a raise becomes the item's error
        row (with ``key_of(item)`` naming it).  Returns ``(rows, reply_or_error)`` per item.
        """
        mode = check_errors_option(self.errors if errors is None else errors)
        stop = threading.Event()
        unreachable: list[TransportError] = []

        def guarded(item):
            if stop.is_set():
                return None
            try:
                return work(item)
            except Exception as exc:  # every per-item failure becomes that item's row
                if (
                    isinstance(exc, TransportError)
                    and exc.code == "connection"
                    and not exc.sent
                    and self.session.replies == 0
                ):
                    unreachable.append(exc)
                    stop.set()
                elif mode == "raise":
                    stop.set()
                return [{**key_of(item), **failure_fields(exc, self.spec)}], exc

        results = run_batch(
            guarded, items, max_workers=self.max_workers, progress=self.progress, desc=name
        )
        if unreachable and self.session.replies == 0:
            where = getattr(self.transport, "base_url", "the service")
            port = where.rsplit(":", 1)[-1] if where.count(":") == 2 else "8765"
            raise TransportError(
                "connection",
                f"cannot connect to {where}: nothing answered, so the batch of "
                f"{len(items)} was stopped. Start the emulator (`vislab serve --port {port}`) "
                "or check base_url.",
            )
        failures = [r for r in results if r is not None and isinstance(r[1], Exception)]
        if mode == "raise" and failures:
            raise failures[0][1]  # the first in input order
        if (
            failures
            and len(failures) == len(results)
            and all(isinstance(r[1], AuthError) for r in failures)
        ):
            # Wrong keys or no permission: no image can succeed, so say it once, loudly,
            # instead of returning a frame of identical error rows.
            raise failures[0][1]
        if warn:
            warn_failures([r[0] for r in results], f"{self.service}.{name}")
        return results

    def _call(
        self,
        name: str,
        images,
        options: Mapping[str, Any],
        *,
        per_image: Callable[[str], Mapping[str, Any]] | None = None,
        keep: tuple[str, ...] = (),
        path: str | None = None,
        errors: str | None = None,
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
        errors : {"row", "raise"}, optional
            This call's failure rule (default: the client's).
        """
        ep = self.spec.endpoint(name)
        ep.wire_params(options, partial=per_image is not None)
        pairs = expand_images(images)
        key_col = _KEY.get(ep.frame, "image")

        fetch_codes = {self.spec.error_code(r) for r in ("url_timeout", "url_invalid")} - {None}
        fallbacks: list[tuple[str, Any, str]] = []

        def work(pair):
            ident, source = pair
            extra = dict(per_image(ident)) if per_image is not None else {}
            params = ep.wire_params({**options, **extra})
            url = _service_url(source, ep, self.url_mode)
            if url is not None:
                ukey = (
                    self.cache.key(self.backend, path or ep.path, params,
                                   hashlib.sha256(url.encode()).hexdigest())
                    if self.cache is not None else None
                )  # fmt: skip
                try:
                    reply = self._send(
                        ep, {ep.url_field: url, **params}, ukey, path=path, ident=ident
                    )
                    return _rows(ident, params, reply), reply
                except ServiceError as exc:
                    if exc.code not in fetch_codes:
                        raise
                    # The image host would not serve the service: fetch it here instead.
                    fallbacks.append((ident, exc.code, exc.msg))
            prepared: PreparedImage = prepare_image(source, ep.limits, ident=ident, fit=self.fit)
            ckey = (
                self.cache.key(self.backend, path or ep.path, params, prepared.sha256)
                if self.cache is not None
                else None
            )
            reply = self._send(
                ep, {ep.image_field: prepared.b64(), **params}, ckey, path=path, ident=ident
            )
            return _rows(ident, params, reply), reply

        def _rows(ident, params, reply):
            kept = {k: params[k] for k in keep if k in params}
            rows = [{**r, **kept} for r in ep.parse(reply, ident)]
            # An image with no results keeps one empty row: nothing is dropped silently.
            return rows or [{key_col: ident}]

        results = self._run(
            name, pairs, work, key_of=lambda pair: {key_col: pair[0]}, errors=errors
        )
        if fallbacks:
            first = fallbacks[0]
            shown = ", ".join(repr(f[0]) for f in fallbacks[:3])
            warnings.warn(
                f"{self.service}.{name}: the service could not fetch {len(fallbacks)} image "
                f"URL(s) itself ({first[1]} {first[2]}); vislab downloaded them and sent the "
                f"bytes instead: {shown}{' ...' if len(fallbacks) > 3 else ''} "
                "(url_mode='download' skips the service's fetch)",
                UrlFallbackWarning,
                stacklevel=3,
            )
        rows, raw = [], {}
        for (ident, _), (image_rows, reply) in zip(pairs, results, strict=True):
            rows.extend(image_rows)
            if isinstance(reply, dict):
                raw[ident] = reply
        return frames.result_frame(ep.frame, rows, service=f"{self.service}.{name}", raw=raw)

    def _call_without_image(
        self,
        name: str,
        batches: list[list[str]],
        param: str,
        options: Mapping[str, Any] | None = None,
        *,
        flag: str | None = None,
        errors: str | None = None,
    ) -> pd.DataFrame:
        """Run an endpoint that takes no image once per batch of ``param`` values (joined by
        ``;``), e.g. deletes by ``cont_sign``; one row per value, ``image`` empty."""
        ep = self.spec.endpoint(name)
        params = ep.wire_params({k: v for k, v in (options or {}).items() if v is not None})

        def work(batch):
            reply = self._send(ep, {**params, param: ";".join(batch)}, None)
            if flag is not None:
                return [{"image": None, param: v, flag: True} for v in batch], reply
            rows = [{**r, "image": None, param: v} for v in batch for r in ep.parse(reply, None)]
            return rows, reply

        def key_of(batch):
            return {"image": None, param: ";".join(batch)}

        results = self._run(name, batches, work, key_of=key_of, errors=errors, warn=False)
        rows = []
        for batch, (batch_rows, reply) in zip(batches, results, strict=True):
            if isinstance(reply, Exception):  # one error row per value of the failed batch
                fields = {k: v for k, v in batch_rows[0].items() if k.startswith("error_")}
                batch_rows = [{"image": None, param: v, **fields} for v in batch]
            rows.extend(batch_rows)
        warn_failures([[row] for row in rows], f"{self.service}.{name}")
        raw = {
            ";".join(b): reply
            for b, (_, reply) in zip(batches, results, strict=True)
            if isinstance(reply, dict)
        }
        return frames.result_frame(ep.frame, rows, service=f"{self.service}.{name}", raw=raw)
