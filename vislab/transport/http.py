"""Sending wire requests over HTTP(S): one attempt each, bounded in time and size."""

from __future__ import annotations

import logging
import time
import urllib.parse

from vislab.errors import InvalidParameter, TransportError, scrub
from vislab.transport.wire import WireReply, WireRequest

__all__ = ["HttpTransport", "MAX_REPLY_BYTES", "check_base_url"]

#: Largest reply body read (a service reply is a few kB; a proxy's error page is small too).
MAX_REPLY_BYTES = 64 * 1024 * 1024


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


_FILTERED_LOGGERS = (
    "urllib3.connectionpool",
    "requests",
    "vislab.transport",
    "vislab.services",
    "vislab.serve",
)
_filters_installed = False


def install_log_filters() -> None:
    """Scrub secrets from the loggers that could print a request line (idempotent).

    Installed when the first :class:`HttpTransport` is made, not at import: importing vislab
    changes no logging configuration.
    """
    global _filters_installed
    if _filters_installed:
        return
    for name in _FILTERED_LOGGERS:
        logging.getLogger(name).addFilter(_ScrubSecrets())
    _filters_installed = True


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash; refuse anything but an http(s) URL with a host.

    Examples
    --------
    >>> check_base_url("http://127.0.0.1:8765/")
    'http://127.0.0.1:8765'
    >>> check_base_url("127.0.0.1:8765")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidParameter: base_url must start with http:// or https://, got '127.0.0.1:8765' (e.g. 'http://127.0.0.1:8765' for `vislab serve`)
    """
    text = str(base_url).strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidParameter(
            f"base_url must start with http:// or https://, got {scrub(text)!r} "
            "(e.g. 'http://127.0.0.1:8765' for `vislab serve`)",
            name="base_url",
        )
    return text.rstrip("/")


def _never_sent(exc: Exception) -> bool:
    """Whether a requests failure happened before any byte of the request left."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = type(exc).__name__
        if name in (
            "NewConnectionError",
            "NameResolutionError",
            "ConnectionRefusedError",
            "ConnectTimeoutError",
        ):
            return True
        exc = (
            exc.__cause__
            or exc.__context__
            or (exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else None)
        )
    return False


class HttpTransport:
    """Send wire requests over HTTP(S) with a connection pool, timeouts and TLS verification.

    One attempt per :meth:`send`; retries, auth and QPS are the session's
    (:class:`vislab.services.session.Session`).

    Parameters
    ----------
    base_url : str
        E.g. ``"https://aip.baidubce.com"`` or a ``vislab serve`` URL.
    timeout : float
        Seconds for connecting and for each read.
    verify : bool
        TLS certificate verification.
    pool_size : int
        Connections kept per host (set it to at least the client's ``max_workers``).
    max_reply_bytes : int
        Longest reply body read; a longer one is a :class:`~vislab.errors.TransportError`.

    Examples
    --------
    >>> t = HttpTransport("http://127.0.0.1:8765")
    >>> t
    HttpTransport('http://127.0.0.1:8765')
    >>> t.send(WireRequest("POST", "/x"))  # doctest: +SKIP
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        verify: bool = True,
        pool_size: int = 16,
        max_reply_bytes: int = MAX_REPLY_BYTES,
    ):
        import requests
        from requests.adapters import HTTPAdapter

        install_log_filters()
        self.base_url = check_base_url(base_url)
        self.timeout = float(timeout)
        self.verify = verify
        self.max_reply_bytes = int(max_reply_bytes)
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"HttpTransport({self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def send(self, request: WireRequest) -> WireReply:
        """Send ``request`` once; raise TransportError when no reply came.

        The error's ``sent`` attribute says whether the request may have reached the service
        (a read timeout) or surely did not (connection refused): a non-idempotent call may be
        retried only in the second case.  Errors are raised outside the handler of the
        underlying exception, so no ``__context__`` keeps a request URL (Baidu's token request
        carries the secret key in it).
        """
        failure = None
        try:
            reply = self._exchange(request)
        except Exception as exc:  # noqa: BLE001 - classified below, outside this handler
            failure = exc
        if failure is None:
            return reply
        raise self._transport_error(failure)

    def _exchange(self, request: WireRequest) -> WireReply:
        resp = self.session.request(
            request.method,
            self.base_url + request.path,
            params=dict(request.query) or None,
            data=request.body,
            headers=dict(request.headers),
            timeout=self.timeout,
            verify=self.verify,
            stream=True,
            allow_redirects=False,
        )
        try:
            body = self._read_capped(resp)
        finally:
            resp.close()
        return WireReply(resp.status_code, dict(resp.headers), body)

    def _read_capped(self, resp) -> bytes:
        """The reply body: at most ``max_reply_bytes``, within ``timeout`` s in all."""
        read = getattr(resp.raw, "read1", None)
        if read is None:  # urllib3 < 2.1: one bounded read
            body = resp.raw.read(self.max_reply_bytes + 1, decode_content=True)
        else:
            deadline = time.monotonic() + self.timeout
            chunks, total = [], 0
            while total <= self.max_reply_bytes:
                if time.monotonic() > deadline:
                    raise _ReplyTooSlow()
                chunk = read(65536, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            body = b"".join(chunks)
        if len(body) > self.max_reply_bytes:
            raise _ReplyTooLarge()
        return body

    def _transport_error(self, exc: Exception) -> TransportError:
        import requests
        import urllib3

        if isinstance(exc, _ReplyTooLarge):
            err = TransportError(
                "reply_too_large",
                f"{self.base_url} answered more than {self.max_reply_bytes} bytes; not read",
            )
            err.sent = True
        elif isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, _ReplyTooSlow)):
            err = TransportError(
                "timeout",
                f"no answer from {self.base_url} within "
                f"{self.timeout:g} s — retry later or raise timeout=",
            )
            err.sent = not _never_sent(exc)
        elif isinstance(exc, (requests.ConnectionError, urllib3.exceptions.HTTPError, OSError)):
            err = TransportError(
                "connection",
                f"cannot connect to {self.base_url} "
                f"({type(exc).__name__}); is the service running?",
            )
            err.sent = not _never_sent(exc)
        elif isinstance(exc, requests.RequestException):
            err = TransportError(
                "request", f"request to {self.base_url} failed: {type(exc).__name__}"
            )
            err.sent = False
        else:
            raise exc
        return err


class _ReplyTooLarge(Exception):
    pass


class _ReplyTooSlow(Exception):
    pass
