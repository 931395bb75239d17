"""How requests prove who sends them: Baidu tokens, EAS tokens and signatures, or nothing.

Each auth piece has two methods the session calls:

``apply(request, transport) -> request``
    The request with credentials added (a query parameter, headers).  It may itself send
    requests through ``transport`` (Baidu's token fetch), so local and test transports
    exercise the same code.
``refresh_on(error, request) -> bool``
    Whether ``error`` says the credentials ``request`` carried are stale; if so the piece has
    forgotten them and the session sends the request once more.

Secrets are registered with :func:`vislab.errors.register_secret` and never appear in a
``repr``, a log record or an error message.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import hmac
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Protocol

from vislab.errors import AuthError, ServiceError, TransportError, register_secret
from vislab.transport.envelopes import BaiduEnvelope
from vislab.transport.wire import Transport, WireRequest

__all__ = [
    "Auth",
    "NoAuth",
    "BaiduTokenAuth",
    "BceAuth",
    "bce_signature",
    "EasTokenAuth",
    "EasHmacAuth",
    "TOKEN_PATH",
]

#: Baidu's OAuth endpoint (client-credentials grant), below the service's base URL.
TOKEN_PATH = "/oauth/2.0/token"


class Auth(Protocol):
    def apply(self, request: WireRequest, transport: Transport) -> WireRequest: ...

    def refresh_on(self, error: ServiceError, request: WireRequest) -> bool: ...


class NoAuth:
    """Send requests as they are (``vislab serve`` without keys, the generic API).

    Examples
    --------
    >>> NoAuth().apply(WireRequest("POST", "/x"), None)
    WireRequest(POST /x, 0 bytes)
    """

    def __repr__(self) -> str:
        return "NoAuth()"

    def apply(self, request: WireRequest, transport: Transport) -> WireRequest:
        return request

    def refresh_on(self, error: ServiceError, request: WireRequest) -> bool:
        return False


class BaiduTokenAuth:
    """Baidu OAuth client-credentials token in ``?access_token=``, cached until near expiry.

    The token is fetched once (thread-safe) and shared by every request; codes 110 (invalid)
    and 111 (expired) make the session fetch a new one and resend once.

    Parameters
    ----------
    api_key, secret_key : str
        Never shown in ``repr``, logs or errors.
    token_path : str
        Path of the token endpoint below the transport's base URL.

    Examples
    --------
    >>> auth = BaiduTokenAuth("my-key", "my-secret")
    >>> "my-secret" in repr(auth)
    False
    """

    # Refresh this many seconds before the announced expiry, so a long batch never sends a
    # token that expires in flight.
    MARGIN = 60.0
    STALE_CODES = frozenset({110, 111})

    def __init__(self, api_key: str, secret_key: str, *, token_path: str = TOKEN_PATH):
        register_secret(api_key)
        register_secret(secret_key)
        self._api_key = api_key
        self._secret_key = secret_key
        self.token_path = token_path
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.fetches = 0  # how many tokens this auth fetched (for tests and diagnostics)

    def __repr__(self) -> str:
        return f"BaiduTokenAuth(token_path={self.token_path!r}, api_key='***', secret_key='***')"

    def apply(self, request: WireRequest, transport: Transport) -> WireRequest:
        return request.with_query(access_token=self.token(transport))

    def refresh_on(self, error: ServiceError, request: WireRequest) -> bool:
        if error.code not in self.STALE_CODES:
            return False
        with self._lock:
            if self._token == request.query.get("access_token"):
                self._token = None  # another thread may have refreshed it already
        return True

    def token(self, transport: Transport) -> str:
        """A valid token, fetched through ``transport`` when there is none."""
        with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            request = WireRequest(
                "POST",
                self.token_path,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                query={
                    "grant_type": "client_credentials",
                    "client_id": self._api_key,
                    "client_secret": self._secret_key,
                },
            )
            failure = None
            try:
                reply = transport.send(request)
            except TransportError as exc:
                failure = exc
            if failure is not None:
                # Raised afresh outside the handler: no __context__ or traceback frame keeps
                # the request, whose query holds the secret key.
                err = TransportError(failure.code, f"token request failed: {failure.msg}")
                err.sent = failure.sent
                failure = None
                raise err
            data = BaiduEnvelope().decode(reply)
            if "access_token" not in data:
                raise AuthError(
                    data.get("error", "no_token"),
                    data.get("error_description", "the token reply had no token"),
                )
            self._token = str(data["access_token"])
            register_secret(self._token)
            self.fetches += 1
            ttl = float(data.get("expires_in", 2592000))
            self._expires_at = time.monotonic() + max(ttl - self.MARGIN, ttl / 2)
            return self._token


#: The ``x-bce-date`` format (UTC, seconds), as Baidu's SDKs write it.
BCE_DATE = "%Y-%m-%dT%H:%M:%SZ"


def bce_signature(
    api_key: str,
    secret_key: str,
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    timestamp: str,
    expiry: int = 1800,
) -> str:
    """The hex signature of Baidu's BCE form (``bce-auth-v1``), as the official SDK computes it.

    The signing key is ``HMAC-SHA256(SK, "bce-auth-v1/<AK>/<timestamp>/<expiry>")`` (hex);
    the signature is ``HMAC-SHA256(signing key, canonical request)`` (hex), the canonical
    request being the method, the quoted path, the sorted url-encoded query and the sorted
    ``name:value`` lines of the signed ``headers`` (names lower-cased, both quoted) — what
    ``aip/base.py`` of ``baidu-aip`` signs.

    Parameters
    ----------
    api_key, secret_key : str
        The app's AK/SK.
    method, path : str
        HTTP method and URL path (no query).
    query : mapping
        Query parameters sent with the request.
    headers : mapping
        The signed headers with their values as sent (``host``, ``x-bce-date``).
    timestamp : str
        The ``x-bce-date`` value (``2026-12-01T08:00:00Z``).
    expiry : int
        Seconds the signature stays valid after ``timestamp``.

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> sig = bce_signature("AK", "SK", method="POST", path="/rest/2.0/x", query={},
    ...                     headers={"host": "aip.baidubce.com",
    ...                              "x-bce-date": "2026-12-01T08:00:00Z"},
    ...                     timestamp="2026-12-01T08:00:00Z")
    >>> len(sig), sig == bce_signature("AK", "SK2", method="POST", path="/rest/2.0/x",
    ...     query={}, headers={"host": "aip.baidubce.com", "x-bce-date": "2026-12-01T08:00:00Z"},
    ...     timestamp="2026-12-01T08:00:00Z")
    (64, False)
    """
    quote = urllib.parse.quote
    prefix = f"bce-auth-v1/{api_key}/{timestamp}/{expiry}"
    signing_key = hmac.new(secret_key.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    lines = sorted(
        f"{quote(name.strip(), '').lower()}:{quote(str(value).strip(), '')}"
        for name, value in headers.items()
    )
    canonical_query = "&".join(sorted(urllib.parse.urlencode(dict(query)).split("&")))
    canonical = "\n".join([method.upper(), quote(path), canonical_query, "\n".join(lines)])
    return hmac.new(signing_key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


class BceAuth:
    """Baidu's second auth method: each request signed with the AK/SK (``bce-auth-v1``).

    Adds ``Host``, ``x-bce-date`` and ``authorization:
    bce-auth-v1/<AK>/<timestamp>/<expiry>/host;x-bce-date/<signature>`` (see
    :func:`bce_signature`); no token is fetched and the secret key never travels.  A wrong
    signature is answered with code 14 ("IAM Certification failed"); so is a clock more than
    ``expiry`` seconds off the service's, which the emulator names as such.

    Parameters
    ----------
    api_key, secret_key : str
        Never shown in ``repr``, logs or errors.
    host : str, optional
        The ``Host`` header to sign; default the transport's host (``aip.baidubce.com``).
    expiry : int
        Seconds each signature is valid (the SDKs use 1800).
    clock : callable, optional
        Returns the current UTC time (tests move it to show skew).

    Examples
    --------
    >>> auth = BceAuth("my-ak", "my-sk", host="aip.baidubce.com")
    >>> signed = auth.apply(WireRequest("POST", "/rest/2.0/x"), None)
    >>> signed.headers["authorization"].split("/")[4]
    'host;x-bce-date'
    >>> "my-sk" in repr(auth)
    False
    """

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        *,
        host: str | None = None,
        expiry: int = 1800,
        clock=None,
    ):
        register_secret(api_key)
        register_secret(secret_key)
        self._api_key = api_key
        self._secret_key = secret_key
        self.host = host
        self.expiry = int(expiry)
        self._clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))

    def __repr__(self) -> str:
        return f"BceAuth(expiry={self.expiry}, api_key='***', secret_key='***')"

    def _target(self, transport) -> tuple[str, str]:
        """(host header, path prefix) of the transport's base URL."""
        base = urllib.parse.urlsplit(getattr(transport, "base_url", "") or "")
        host = self.host or base.netloc or "aip.baidubce.com"
        return host, base.path.rstrip("/")

    def apply(self, request: WireRequest, transport: Transport) -> WireRequest:
        host, prefix = self._target(transport)
        timestamp = self._clock().strftime(BCE_DATE)
        signed = {"host": host, "x-bce-date": timestamp}
        signature = bce_signature(
            self._api_key,
            self._secret_key,
            method=request.method,
            path=prefix + request.path,
            query=request.query,
            headers=signed,
            timestamp=timestamp,
            expiry=self.expiry,
        )
        value = f"bce-auth-v1/{self._api_key}/{timestamp}/{self.expiry}/host;x-bce-date/{signature}"
        return request.with_headers(
            **{"Host": host, "x-bce-date": timestamp, "authorization": value}
        )

    def refresh_on(self, error: ServiceError, request: WireRequest) -> bool:
        return False  # a new signature is made for every attempt anyway


class EasTokenAuth:
    """PAI EAS: the service token as the ``Authorization`` header.

    Examples
    --------
    >>> req = EasTokenAuth("tok-123").apply(WireRequest("POST", "/api/predict/m"), None)
    >>> req.headers["Authorization"]
    'tok-123'
    >>> "tok-123" in repr(EasTokenAuth("tok-123"))
    False
    """

    def __init__(self, token: str):
        register_secret(token)
        self._token = token

    def __repr__(self) -> str:
        return "EasTokenAuth(token='***')"

    def apply(self, request: WireRequest, transport: Transport) -> WireRequest:
        return request.with_headers(Authorization=self._token)

    def refresh_on(self, error: ServiceError, request: WireRequest) -> bool:
        return False


def eas_signature(
    token: str, *, content_md5: str, content_type: str, date: str, resource: str, verb: str = "POST"
) -> str:
    """The ``Authorization`` value of PAI EAS's HMAC form: ``EAS <base64 HMAC-SHA1>``.

    The signed text is ``verb, Content-MD5 (hex), Content-Type, Date, resource`` joined by
    newlines, keyed by the service token — what Alibaba's ``eas-prediction`` client sends.

    Examples
    --------
    >>> eas_signature("tok", content_md5="d41d8cd98f00b204e9800998ecf8427e",
    ...               content_type="application/json", date="Mon, 01 Dec 2026 08:00:00 GMT",
    ...               resource="/api/predict/demo")
    'EAS wJ4vYRTDwJ2q0KyM6mu1dMIdYSY='
    """
    text = "\n".join([verb, content_md5, content_type, date, resource]).strip()
    digest = hmac.new(token.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return "EAS " + base64.b64encode(digest).decode("ascii").strip()


class EasHmacAuth:
    """PAI EAS: requests signed with the service token (``Authorization: EAS <signature>``).

    Adds ``Content-MD5`` (hex of the body), ``Date`` (RFC 1123, GMT) and the signature over
    method, MD5, content type, date and path (:func:`eas_signature`); the token itself never
    travels.

    Examples
    --------
    >>> req = WireRequest("POST", "/api/predict/m", b"{}", {"Content-Type": "application/json"})
    >>> signed = EasHmacAuth("tok-123").apply(req, None)
    >>> signed.headers["Authorization"].startswith("EAS "), signed.headers["Content-MD5"]
    (True, '99914b932bd37a50b983c5e7c90ae93b')
    """

    def __init__(self, token: str):
        register_secret(token)
        self._token = token

    def __repr__(self) -> str:
        return "EasHmacAuth(token='***')"

    def apply(self, request: WireRequest, transport: Transport) -> WireRequest:
        content_md5 = hashlib.md5(request.body).hexdigest()
        date = email.utils.formatdate(usegmt=True)
        signature = eas_signature(
            self._token,
            content_md5=content_md5,
            content_type=request.content_type,
            date=date,
            resource=request.path,
            verb=request.method,
        )
        return request.with_headers(
            **{"Content-MD5": content_md5, "Date": date, "Authorization": signature}
        )

    def refresh_on(self, error: ServiceError, request: WireRequest) -> bool:
        return False
