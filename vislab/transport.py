"""How a wire request reaches a service: over HTTP, or in-process to the emulator.

Both transports take the same wire request (path + body fields encoded exactly as the
service wants them) and return the decoded JSON reply, raising a typed
:class:`~vislab.errors.ServiceError` for an error reply.  So the parser that reads Baidu's
cloud reply is the parser that reads the local one.

:class:`HttpTransport` owns the Baidu access token (fetched once, cached until shortly before
expiry, refreshed once on codes 110/111, thread-safe), retries with exponential backoff and
full jitter on transient failures (codes 1, 2, 4, 18, 282000, 336000, HTTP 5xx, timeouts,
connection resets), a token-bucket QPS limit shared by every thread using the transport,
timeouts, and TLS verification (on unless told otherwise).

:func:`run_batch` runs one call per image with bounded concurrency and a ``tqdm.auto``
progress bar; :class:`ReplyCache` stores successful replies on disk keyed by
(endpoint, parameters, image bytes) so a re-run notebook does not pay twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vislab.errors import (
    AuthError,
    MalformedResponse,
    ServiceError,
    TransportError,
    error_for_code,
    register_secret,
    scrub,
)

__all__ = [
    "encode_body",
    "decode_reply",
    "RateLimiter",
    "BaiduTokenAuth",
    "HttpTransport",
    "LocalTransport",
    "ReplyCache",
    "run_batch",
]

log = logging.getLogger("vislab.transport")


class _ScrubSecrets(logging.Filter):
    """Remove tokens and keys from log records.

    Baidu puts ``access_token`` (and the token request its key pair) in the query string,
    and urllib3 logs request lines at DEBUG level: without this, turning on debug logging in
    a notebook would print credentials.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


for _name in ("urllib3.connectionpool", "requests", "vislab.transport", "vislab.serve"):
    logging.getLogger(_name).addFilter(_ScrubSecrets())


def encode_body(fields: Mapping[str, Any], kind: str) -> tuple[bytes, str]:
    """Encode body fields as the service expects: ``"form"`` or ``"json"``.

    Examples
    --------
    >>> encode_body({"image": "aGk=", "top_num": "3"}, "form")
    (b'image=aGk%3D&top_num=3', 'application/x-www-form-urlencoded')
    >>> encode_body({"image": "aGk="}, "json")[1]
    'application/json;charset=utf-8'
    """
    if kind == "json":
        return json.dumps(dict(fields), ensure_ascii=False).encode("utf-8"), (
            "application/json;charset=utf-8"
        )
    return urllib.parse.urlencode(dict(fields)).encode("ascii"), (
        "application/x-www-form-urlencoded"
    )


def decode_reply(status: int, content_type: str, payload: bytes) -> dict:
    """Decode a reply body; raise a typed error for error replies and non-JSON answers.

    Parameters
    ----------
    status : int
        HTTP status (200 for in-process replies).
    content_type : str
    payload : bytes

    Returns
    -------
    dict
        The reply JSON of a successful call.

    Examples
    --------
    >>> decode_reply(200, "application/json", b'{"log_id": 1, "result": []}')
    {'log_id': 1, 'result': []}
    >>> decode_reply(502, "text/html", b"<html>Bad Gateway</html>")
    Traceback (most recent call last):
    ...
    vislab.errors.ServiceUnavailable: [502] HTTP 502 with a non-JSON body (text/html): '<html>Bad Gateway</html>' — the service failed on its side; retry later
    """
    text = payload.decode("utf-8", errors="replace").strip()
    try:
        reply = json.loads(text) if text else None
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        what = "an empty body" if not text else f"a non-JSON body ({content_type or '?'})"
        snippet = scrub(text[:80])
        msg = f"HTTP {status} with {what}" + (f": {snippet!r}" if text else "")
        if status >= 500:
            raise error_for_code(status, msg, http_status=status)
        raise MalformedResponse("malformed_reply", msg + " — the service or a proxy in between "
                                "did not answer with JSON; check base_url", http_status=status)
    code = reply.get("error_code")
    if code not in (None, 0, "0"):
        raise error_for_code(code, reply.get("error_msg"), reply.get("log_id"),
                             http_status=status)
    if "error" in reply and "access_token" not in reply and status >= 400:
        # OAuth errors: {"error": "invalid_client", "error_description": "..."}
        raise AuthError(reply["error"], reply.get("error_description", ""), http_status=status)
    if status >= 400:
        raise error_for_code(status, f"HTTP {status}", http_status=status)
    return reply


class RateLimiter:
    """Token bucket shared by all threads: at most ``qps`` calls per second on average.

    The bucket holds ``burst`` tokens (default 1, i.e. evenly spaced calls — services count
    QPS per second window, and bursts are what trip code 18).

    Examples
    --------
    >>> limiter = RateLimiter(qps=1000)
    >>> t0 = time.perf_counter()
    >>> for _ in range(10):
    ...     limiter.acquire()
    >>> time.perf_counter() - t0 < 1.0
    True
    """

    def __init__(self, qps: float | None, *, burst: int = 1):
        self.qps = qps
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.qps:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.qps
            time.sleep(wait)


class BaiduTokenAuth:
    """Baidu OAuth client-credentials token, cached until shortly before it expires.

    Parameters
    ----------
    api_key, secret_key : str
        Never shown in ``repr``, logs or errors.
    token_url : str
        ``<base>/oauth/2.0/token``.

    Examples
    --------
    >>> auth = BaiduTokenAuth("my-key", "my-secret", "https://aip.baidubce.com/oauth/2.0/token")
    >>> "my-secret" in repr(auth)
    False
    """

    # Refresh this many seconds before the announced expiry, so a long batch never sends a
    # token that expires in flight.
    MARGIN = 60.0

    def __init__(self, api_key: str, secret_key: str, token_url: str):
        register_secret(api_key)
        register_secret(secret_key)
        self._api_key = api_key
        self._secret_key = secret_key
        self.token_url = token_url
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BaiduTokenAuth(token_url={self.token_url!r}, api_key='***', secret_key='***')"

    def token(self, session, *, timeout: float, verify: bool, stale: str | None = None) -> str:
        """A valid token; ``stale`` names a token the service refused (fetch a new one)."""
        with self._lock:
            fresh = self._token and time.monotonic() < self._expires_at
            if fresh and (stale is None or self._token != stale):
                return self._token
            try:
                resp = session.post(
                    self.token_url,
                    params={"grant_type": "client_credentials", "client_id": self._api_key,
                            "client_secret": self._secret_key},
                    timeout=timeout, verify=verify,
                )
            except Exception as exc:  # requests exceptions carry the URL with the secret
                raise TransportError("token_unreachable",
                                     f"could not reach {self.token_url}: {type(exc).__name__}") \
                    from None
            reply = decode_reply(resp.status_code, resp.headers.get("Content-Type", ""),
                                 resp.content)
            if "access_token" not in reply:
                raise AuthError(reply.get("error", "no_token"),
                                reply.get("error_description", "the token reply had no token"))
            self._token = reply["access_token"]
            register_secret(self._token)
            ttl = float(reply.get("expires_in", 2592000))
            self._expires_at = time.monotonic() + max(ttl - self.MARGIN, ttl / 2)
            return self._token


class HttpTransport:
    """Send wire requests over HTTP(S) with auth, retries, QPS limit and timeouts.

    Parameters
    ----------
    base_url : str
        E.g. ``"https://aip.baidubce.com"`` or a ``vislab serve`` URL.
    auth : BaiduTokenAuth, optional
        Without it, no token is sent (a ``vislab serve`` started without keys accepts that).
    timeout : float
        Seconds per request (connect and read).
    retries : int
        Extra attempts for transient failures.
    backoff : float
        Base delay in seconds; attempt *n* waits ``uniform(0, backoff * 2**n)``.
    qps : float, optional
        Requests per second shared by all threads using this transport.
    verify : bool
        TLS certificate verification.
    headers : dict, optional
        Extra headers for every request (e.g. an EAS ``Authorization`` token; never logged).

    Examples
    --------
    >>> t = HttpTransport("http://127.0.0.1:8765", qps=20)
    >>> t.base_url
    'http://127.0.0.1:8765'
    """

    def __init__(self, base_url: str, *, auth: BaiduTokenAuth | None = None,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.5,
                 qps: float | None = None, verify: bool = True,
                 headers: Mapping[str, str] | None = None, pool_size: int = 16):
        import requests
        from requests.adapters import HTTPAdapter

        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.verify = verify
        self.limiter = RateLimiter(qps)
        self._headers = dict(headers or {})
        for value in self._headers.values():
            register_secret(value)
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"HttpTransport({self.base_url!r}, qps={self.limiter.qps})"

    def _post_once(self, path: str, body: bytes, content_type: str, token: str | None) -> dict:
        import requests

        params = {"access_token": token} if token else None
        headers = {"Content-Type": content_type, **self._headers}
        self.limiter.acquire()
        try:
            resp = self.session.post(self.base_url + path, params=params, data=body,
                                     headers=headers, timeout=self.timeout, verify=self.verify)
        except requests.Timeout:
            raise TransportError("timeout", f"no answer from {self.base_url} within "
                                 f"{self.timeout:g} s — retry later or raise timeout=") from None
        except requests.ConnectionError as exc:
            raise TransportError("connection", f"cannot connect to {self.base_url} "
                                 f"({type(exc).__name__}); is the service running?") from None
        return decode_reply(resp.status_code, resp.headers.get("Content-Type", ""), resp.content)

    def send(self, path: str, fields: Mapping[str, Any], *, body: str = "form") -> dict:
        """POST ``fields`` to ``path``; return the reply JSON or raise a ServiceError.

        Examples
        --------
        >>> HttpTransport("http://127.0.0.1:9", retries=0, timeout=0.5).send(
        ...     "/x", {})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        vislab.errors.TransportError: [connection] cannot connect to http://127.0.0.1:9 ...
        """
        payload, content_type = encode_body(fields, body)
        token = None
        refreshed = False
        attempt = 0
        while True:
            try:
                if self.auth is not None:
                    token = self.auth.token(self.session, timeout=self.timeout,
                                            verify=self.verify)
                return self._post_once(path, payload, content_type, token)
            except ServiceError as exc:
                if exc.code in (110, 111) and self.auth is not None and not refreshed:
                    refreshed = True
                    self.auth.token(self.session, timeout=self.timeout, verify=self.verify,
                                    stale=token)
                    continue
                transient = exc.retryable or isinstance(exc, TransportError)
                if not transient or attempt >= self.retries:
                    raise
                delay = random.uniform(0, self.backoff * 2**attempt)
                log.info("retrying %s after %s (attempt %d, %.2fs)", path, exc.code,
                         attempt + 1, delay)
                attempt += 1
                time.sleep(delay)


class LocalTransport:
    """Hand wire requests to the emulator in-process: same bytes, same replies, no HTTP.

    Parameters
    ----------
    app : vislab.emulator.EmulatorApp, optional
        Defaults to a shared local app without authentication.

    Examples
    --------
    >>> LocalTransport()
    LocalTransport()
    """

    def __init__(self, app=None):
        if app is None:
            from vislab.emulator import local_app

            app = local_app()
        self.app = app
        self.limiter = RateLimiter(None)

    def __repr__(self) -> str:
        return "LocalTransport()"

    def send(self, path: str, fields: Mapping[str, Any], *, body: str = "form") -> dict:
        """Same contract as :meth:`HttpTransport.send`."""
        payload, content_type = encode_body(fields, body)
        status, headers, out = self.app.handle("POST", path, {}, {"Content-Type": content_type},
                                               payload)
        return decode_reply(status, headers.get("Content-Type", ""), out)


class ReplyCache:
    """Successful replies on disk, keyed by (endpoint path, parameters, image bytes).

    Parameters
    ----------
    folder : str or Path
        Created if missing.  Entries are JSON files written atomically, so an interrupted
        run never leaves a half-written entry.

    Examples
    --------
    >>> import tempfile
    >>> cache = ReplyCache(tempfile.mkdtemp())
    >>> key = cache.key("/rest/x", {"top_num": "3"}, "ab12")
    >>> cache.get(key) is None
    True
    >>> cache.put(key, {"result": []}); cache.get(key)
    {'result': []}
    """

    def __init__(self, folder):
        self.folder = Path(folder).expanduser()
        self.folder.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"ReplyCache({str(self.folder)!r})"

    @staticmethod
    def key(path: str, params: Mapping[str, Any], image_sha256: str) -> str:
        text = json.dumps([path, sorted((str(k), str(v)) for k, v in params.items()),
                           image_sha256])
        return hashlib.sha256(text.encode()).hexdigest()

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            return json.loads(self._file(key).read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, reply: Mapping[str, Any]) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(reply, ensure_ascii=False), "utf-8")
        os.replace(tmp, target)


#: Smallest batch that gets a progress bar.
PROGRESS_MIN_ITEMS = 20


def run_batch(func: Callable[[Any], Any], items: Iterable[Any], *, max_workers: int = 4,
              progress: bool = True, desc: str = "") -> list:
    """Apply ``func`` to every item with at most ``max_workers`` threads; results in order.

    ``func`` must not raise for a per-item failure (it returns an error result instead);
    a raise here is a bug and propagates.

    Examples
    --------
    >>> run_batch(lambda x: x * 2, [1, 2, 3], progress=False)
    [2, 4, 6]
    """
    items = list(items)
    if not items:
        return []
    # A bar for a handful of images is noise (and litters saved notebooks): show it for
    # batches that take long enough to watch.
    show = progress and len(items) >= PROGRESS_MIN_ITEMS
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), desc=desc, leave=False)
    try:
        if max_workers <= 1 or len(items) == 1:
            out = []
            for item in items:
                out.append(func(item))
                if bar is not None:
                    bar.update(1)
            return out
        results: list[Any] = [None] * len(items)

        def work(index_item):
            index, item = index_item
            results[index] = func(item)
            if bar is not None:
                bar.update(1)

        with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
            for _ in pool.map(work, enumerate(items)):
                pass
        return results
    finally:
        if bar is not None:
            bar.close()
