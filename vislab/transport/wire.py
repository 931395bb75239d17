"""Wire requests and replies, and the one-method protocol every transport follows.

A :class:`Transport` sends one :class:`WireRequest` and returns one :class:`WireReply`, or
raises :class:`~vislab.errors.TransportError` when no reply came.  It does nothing else: no
auth, no retries, no decoding of what the reply means.  Those are separate pieces
(:mod:`~vislab.transport.auth`, :mod:`~vislab.transport.retry`,
:mod:`~vislab.transport.envelopes`) that the session of :mod:`vislab.services` puts together,
in the spirit of httpx's transports and urllib3's ``Retry``.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

__all__ = ["WireRequest", "WireReply", "Transport", "encode_body"]


@dataclass(frozen=True)
class WireRequest:
    """One request as it goes on the wire.

    Parameters
    ----------
    method : str
    path : str
        Path below the transport's base URL (``/rest/2.0/...``).
    body : bytes
    headers : mapping
        Header names as sent (``Content-Type`` is set by :func:`encode_body`).
    query : mapping
        Query parameters (Baidu's ``access_token`` goes here).

    The ``repr`` shows the method and path only: headers and query may carry credentials.

    Examples
    --------
    >>> req = WireRequest("POST", "/api", b"{}", {"Content-Type": "application/json"})
    >>> req.with_query(access_token="secret")
    WireRequest(POST /api, 2 bytes)
    >>> req.with_headers(Authorization="x").headers["Authorization"]
    'x'
    """

    method: str
    path: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"WireRequest({self.method} {self.path}, {len(self.body)} bytes)"

    @property
    def content_type(self) -> str:
        for key, value in self.headers.items():
            if key.lower() == "content-type":
                return value
        return ""

    def with_query(self, **values: str) -> WireRequest:
        return replace(self, query={**self.query, **values})

    def with_headers(self, **values: str) -> WireRequest:
        return replace(self, headers={**self.headers, **values})


@dataclass(frozen=True)
class WireReply:
    """One reply: HTTP status, headers and the raw body.

    Examples
    --------
    >>> WireReply(200, {"Content-Type": "application/json"}, b"{}").content_type
    'application/json'
    """

    status: int
    headers: Mapping[str, str]
    body: bytes

    def __repr__(self) -> str:
        return f"WireReply({self.status}, {len(self.body)} bytes)"

    @property
    def content_type(self) -> str:
        for key, value in self.headers.items():
            if key.lower() == "content-type":
                return value
        return ""


@runtime_checkable
class Transport(Protocol):
    """Anything with ``send(request) -> reply``: HTTP, in-process, or a function for tests."""

    def send(self, request: WireRequest) -> WireReply: ...


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
