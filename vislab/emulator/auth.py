"""The emulator's side of authentication: Baidu tokens it issues, BCE signatures and EAS
tokens it checks."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
from collections.abc import Mapping

from vislab.emulator.registry import WireError
from vislab.emulator.replies import json_reply
from vislab.transport.auth import BCE_DATE, bce_signature

__all__ = ["BaiduTokens", "check_eas"]


class BaiduTokens:
    """Issue and check Baidu OAuth tokens (``/oauth/2.0/token``, ``?access_token=``).

    Parameters
    ----------
    api_key, secret_key : str, optional
        When given, the token endpoint checks them and calls need a valid token (else codes
        110 / 111).  When omitted, anything goes.
    ttl : int
        Lifetime of issued tokens in seconds (Baidu: 30 days).
    brain_scope : bool
        Whether token replies carry ``brain_all_scope``.  Without it the official SDKs treat
        the app as a "cloud user" and sign every call with BCE (``bce-auth-v1``) instead of
        sending the token; both are accepted either way, as Baidu does.
    """

    def __init__(
        self, api_key: str | None, secret_key: str | None, ttl: int, *, brain_scope: bool = True
    ):
        self._api_key = api_key
        self._secret_key = secret_key
        self.ttl = ttl
        self.brain_scope = brain_scope
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def required(self) -> bool:
        return bool(self._api_key)

    def issue(self) -> str:
        token = f"24.{secrets.token_hex(16)}.{self.ttl}.{int(time.time())}-vislab"
        now = time.time()
        with self._lock:
            # Expired tokens are dropped as new ones are made: the table stays bounded.
            for old in [t for t, exp in self._tokens.items() if exp < now]:
                del self._tokens[old]
            self._tokens[token] = now + self.ttl
        return token

    def expire(self, token: str) -> None:
        with self._lock:
            if token in self._tokens:
                self._tokens[token] = 0.0

    def check(
        self,
        query: Mapping[str, str],
        *,
        method: str = "POST",
        path: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Raise the wire error for a missing, unknown or expired token, or a wrong BCE
        signature (code 14) when the request carries ``authorization: bce-auth-v1/...``."""
        if not self.required:
            return
        lower = {k.lower(): v for k, v in (headers or {}).items()}
        if lower.get("authorization", "").startswith("bce-auth-v1/"):
            self.check_bce(method, path, query, lower)
            return
        token = query.get("access_token") or ""
        with self._lock:
            expires = self._tokens.get(token)
        if expires is None:
            raise WireError(110)
        if expires < time.time():
            raise WireError(111)

    def check_bce(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> None:
        """Verify a ``bce-auth-v1/<AK>/<timestamp>/<expiry>/<signed headers>/<signature>``.

        The signature is recomputed from the headers it names, as received; a timestamp
        further from this server's clock than ``expiry`` seconds is refused as clock skew.
        Every failure is code 14 ("IAM Certification failed") with the reason.
        """
        parts = headers.get("authorization", "").split("/")
        if len(parts) != 6:
            raise WireError(14, "IAM Certification failed: authorization is not "
                            "bce-auth-v1/<AK>/<timestamp>/<expiry>/<headers>/<signature>")  # fmt: skip
        _, ak, stamp, expiry_text, names, signature = parts
        if ak != self._api_key:
            raise WireError(14, "IAM Certification failed: unknown access key")
        try:
            when = datetime.datetime.strptime(stamp, BCE_DATE).replace(tzinfo=datetime.timezone.utc)
            expiry = int(expiry_text)
        except ValueError:
            raise WireError(14, f"IAM Certification failed: bad timestamp {stamp[:40]!r} or "
                            f"expiry {expiry_text[:12]!r}") from None  # fmt: skip
        skew = (datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()
        if abs(skew) > expiry:
            raise WireError(
                14,
                f"IAM Certification failed: clock skew — the signature's timestamp {stamp} is "
                f"{abs(skew):.0f} s {'behind' if skew > 0 else 'ahead of'} the server's clock, "
                f"beyond its expiry of {expiry} s; set the client machine's clock (NTP)",
            )
        signed = [n for n in names.lower().split(";") if n]
        if "host" not in signed or "x-bce-date" not in signed:
            raise WireError(14, "IAM Certification failed: host and x-bce-date must be signed")
        want = bce_signature(
            self._api_key,
            self._secret_key or "",
            method=method,
            path=path,
            query=query,
            headers={n: headers.get(n, "") for n in signed},
            timestamp=stamp,
            expiry=expiry,
        )
        if not hmac.compare_digest(want, signature):
            raise WireError(14, "IAM Certification failed: signature does not match")

    def token_reply(self, query, headers, body):
        """Answer ``/oauth/2.0/token`` like Baidu's OAuth server."""
        fields = dict(query)
        ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if body and "json" not in ctype:
            text = body.decode("utf-8", errors="replace")
            fields.update({k: v[-1] for k, v in urllib.parse.parse_qs(text).items()})
        if fields.get("grant_type") != "client_credentials":
            return json_reply(
                401,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "The authorization grant type is not supported",
                },
            )
        if self.required:
            if fields.get("client_id") != self._api_key:
                return json_reply(
                    401, {"error": "invalid_client", "error_description": "unknown client id"}
                )
            if fields.get("client_secret") != self._secret_key:
                return json_reply(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "Client authentication failed",
                    },
                )
        # The official SDK sends the token (rather than BCE signatures) only when
        # brain_all_scope is present.
        brain = "brain_all_scope " if self.brain_scope else ""
        return json_reply(
            200,
            {
                "refresh_token": f"25.{secrets.token_hex(16)}",
                "expires_in": self.ttl,
                "session_key": secrets.token_hex(12),
                "access_token": self.issue(),
                "scope": f"public {brain}vis-classify_dishes vis-classify_car "
                "brain_image_search vislab_local",
                "session_secret": secrets.token_hex(16),
            },
        )


def check_eas(
    token: str | None, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> None:
    """Check an EAS request's ``Authorization``: the token itself or its HMAC form.

    The HMAC form is ``EAS <base64 HMAC-SHA1(token, verb\\nmd5\\ntype\\ndate\\npath)>``, the
    Content-MD5 must be the body's (hex), as Alibaba's ``eas-prediction`` client sends it.
    Without a configured token every request passes.
    """
    if not token:
        return
    lower = {k.lower(): v for k, v in headers.items()}
    given = lower.get("authorization", "")
    if given == token:
        return
    if given.startswith("EAS "):
        md5 = lower.get("content-md5", "")
        if md5 != hashlib.md5(body).hexdigest():
            raise WireError(401, "Content-MD5 does not match the body", status=401)
        text = "\n".join(
            [method, md5, lower.get("content-type", ""), lower.get("date", ""), path]
        ).strip()
        want = base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest())
        try:
            got = base64.b64decode(given[4:].strip(), validate=True)
        except (binascii.Error, ValueError):
            got = b""
        if hmac.compare_digest(got, base64.b64decode(want)):
            return
    raise WireError(401, "Unauthorized: wrong or missing service token", status=401)
