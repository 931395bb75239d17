"""In-process transports: the emulator's handler, or any function (for tests)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from vislab.transport.wire import WireReply, WireRequest

__all__ = ["LocalTransport", "FunctionTransport", "json_reply"]

# handle(method, path, query, headers, body) -> (status, headers, body)
Handle = Callable[
    [str, str, Mapping[str, str], Mapping[str, str], bytes], tuple[int, Mapping[str, str], bytes]
]


class LocalTransport:
    """Hand wire requests to an in-process handler: same bytes, same replies, no HTTP.

    Parameters
    ----------
    handle : callable(method, path, query, headers, body) -> (status, headers, body)
        Typically ``EmulatorApp.handle`` (the clients pass the shared local emulator); the
        transport itself knows no emulator.

    Examples
    --------
    >>> echo = lambda method, path, query, headers, body: (200, {}, body)
    >>> LocalTransport(echo).send(WireRequest("POST", "/x", b"{}")).body
    b'{}'
    """

    def __init__(self, handle: Handle):
        self.handle = handle

    def __repr__(self) -> str:
        return "LocalTransport()"

    def send(self, request: WireRequest) -> WireReply:
        status, headers, body = self.handle(
            request.method, request.path, dict(request.query), dict(request.headers), request.body
        )
        return WireReply(status, dict(headers), body)


class FunctionTransport:
    """A transport made of a function ``request -> reply``, like ``httpx.MockTransport``.

    For tests of clients and sessions where no real server can play the part (a reply that
    no service would send, say); everything else is tested against ``vislab serve``.

    Examples
    --------
    >>> t = FunctionTransport(lambda req: json_reply({"path": req.path}))
    >>> json.loads(t.send(WireRequest("POST", "/hello")).body)
    {'path': '/hello'}
    >>> len(t.requests)
    1
    """

    def __init__(self, func: Callable[[WireRequest], WireReply]):
        self.func = func
        self.requests: list[WireRequest] = []

    def __repr__(self) -> str:
        return "FunctionTransport()"

    def send(self, request: WireRequest) -> WireReply:
        self.requests.append(request)
        return self.func(request)


def json_reply(obj: Any, status: int = 200) -> WireReply:
    """A JSON reply (for :class:`FunctionTransport` functions).

    Examples
    --------
    >>> json_reply({"ok": True}, 201)
    WireReply(201, 12 bytes)
    """
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return WireReply(status, {"Content-Type": "application/json"}, body)
