"""How a family's replies say success or failure: Baidu's, PAI's and the generic API's.

An envelope turns a :class:`~vislab.transport.wire.WireReply` into the reply JSON of a
successful call, or raises the typed :class:`~vislab.errors.ServiceError` its family's error
table names.  Bodies that are not JSON (a proxy's HTML page, an empty body) raise
:class:`~vislab.errors.MalformedResponse`, or :class:`~vislab.errors.ServiceUnavailable` with
a 5xx status, never a ``JSONDecodeError``.
"""

from __future__ import annotations

import json

from vislab.errors import (
    AuthError,
    CodeTable,
    ErrorCode,
    MalformedResponse,
    error_for_code,
    scrub,
)
from vislab.transport.wire import WireReply

__all__ = [
    "Envelope",
    "BaiduEnvelope",
    "PaiEnvelope",
    "GenericEnvelope",
    "envelope_for",
    "register_envelope",
]


class Envelope:
    """Base: JSON decoding shared by every family; subclasses read the success rule.

    Parameters
    ----------
    table : CodeTable, optional
        The family's error codes (classify errors and supply missing messages).
    """

    name = ""

    def __init__(self, table: CodeTable | None = None):
        self.table = table

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def json(self, reply: WireReply) -> dict:
        """The reply body as a JSON object, or a typed error."""
        text = reply.body.decode("utf-8", errors="replace").strip()
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if isinstance(data, dict):
            return data
        status = reply.status
        what = "an empty body" if not text else f"a non-JSON body ({reply.content_type or '?'})"
        msg = f"HTTP {status} with {what}" + (f": {scrub(text[:80])!r}" if text else "")
        if status >= 500:
            raise error_for_code(status, msg, table=self.table, http_status=status)
        raise MalformedResponse(
            "malformed_reply",
            msg + " — the service or a proxy in between did not answer with JSON; check base_url",
            http_status=status,
        )

    def decode(self, reply: WireReply) -> dict:
        raise NotImplementedError


class BaiduEnvelope(Envelope):
    """Baidu: ``error_code`` / ``error_msg`` / ``log_id`` in the body; OAuth ``error`` replies.

    Examples
    --------
    >>> from vislab.transport.wire import WireReply
    >>> BaiduEnvelope().decode(WireReply(200, {}, b'{"log_id": 1, "result": []}'))
    {'log_id': 1, 'result': []}
    >>> BaiduEnvelope().decode(WireReply(502, {"Content-Type": "text/html"},
    ...                                  b"<html>Bad Gateway</html>"))
    Traceback (most recent call last):
    ...
    vislab.errors.ServiceUnavailable: [502] HTTP 502 with a non-JSON body (text/html): '<html>Bad Gateway</html>' — the service failed on its side; retry later
    """

    name = "baidu"

    def decode(self, reply: WireReply) -> dict:
        data = self.json(reply)
        code = data.get("error_code")
        if code not in (None, 0, "0"):
            raise error_for_code(
                code,
                data.get("error_msg"),
                data.get("log_id"),
                table=self.table,
                http_status=reply.status,
            )
        if "error" in data and "access_token" not in data and reply.status >= 400:
            # OAuth errors: {"error": "invalid_client", "error_description": "..."}
            raise AuthError(
                data["error"], data.get("error_description", ""), http_status=reply.status
            )
        if reply.status >= 400:
            raise error_for_code(
                reply.status, f"HTTP {reply.status}", table=self.table, http_status=reply.status
            )
        return data


# What an HTTP status says when the family's table does not know the code.
HTTP_STATUSES = CodeTable(
    "http",
    [
        ErrorCode(401, "Unauthorized", "auth"),
        ErrorCode(403, "Forbidden", "auth"),
        ErrorCode(429, "Too Many Requests", "quota"),
    ],
)


class PaiEnvelope(Envelope):
    """PAI EAS: HTTP status for failures, ``request_id``/``success``/``error_code``/``error_msg``.

    A 200 with ``"success": false`` is a failure too.  An EAS gateway answers auth failures
    with 401 and a plain-text body; those become :class:`~vislab.errors.AuthError`.

    Examples
    --------
    >>> from vislab.transport.wire import WireReply
    >>> PaiEnvelope().decode(WireReply(200, {}, b'{"request_id": "r1", "success": true}'))
    {'request_id': 'r1', 'success': True}
    >>> PaiEnvelope().decode(WireReply(401, {}, b"Unauthorized"))
    Traceback (most recent call last):
    ...
    vislab.errors.AuthError: [401] HTTP 401: 'Unauthorized' — check the API key / secret key (or token) and that the app may call this API
    """

    name = "pai"

    def decode(self, reply: WireReply) -> dict:
        status = reply.status
        if status != 200:
            text = reply.body.decode("utf-8", errors="replace").strip()
            try:
                data = json.loads(text) if text else {}
            except ValueError:
                data = {}
            data = data if isinstance(data, dict) else {}
            msg = data.get("error_msg") or f"HTTP {status}" + (
                f": {scrub(text[:80])!r}" if text and not data else ""
            )
            code = data.get("error_code")
            if code is None or (self.table is None or code not in self.table):
                # The status is what the gateway said; the body's code (if any) is kept.
                err = error_for_code(
                    status,
                    msg,
                    data.get("request_id"),
                    table=self.table if status in (self.table or ()) else HTTP_STATUSES,
                    http_status=status,
                )
                if code is not None:
                    err.code = code
                raise err
            raise error_for_code(
                code, msg, data.get("request_id"), table=self.table, http_status=status
            )
        data = self.json(reply)
        if data.get("success") is False or data.get("error_code") not in (None, 0, "0"):
            raise error_for_code(
                data.get("error_code", "failed"),
                data.get("error_msg") or "the model answered success: false",
                data.get("request_id"),
                table=self.table,
                http_status=status,
            )
        return data


class GenericEnvelope(Envelope):
    """The generic classification API: ``code == 10000`` is success, else ``code``/``message``.

    The error body's shape is inferred from the docs' table headers (``code``, ``message``);
    ``msg`` and ``error_msg`` are read too.  Any other ``code`` is a failure even with HTTP 200.

    Examples
    --------
    >>> from vislab.transport.wire import WireReply
    >>> GenericEnvelope().decode(WireReply(200, {}, b'{"code": 10000, "predictResult": {}}'))
    {'code': 10000, 'predictResult': {}}
    >>> GenericEnvelope().decode(WireReply(200, {}, b'{"code": 10441, "message": "too big"}'))
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidRequest: [10441] too big
    """

    name = "generic"
    SUCCESS = 10000

    def decode(self, reply: WireReply) -> dict:
        data = self.json(reply)
        code = data.get("code")
        try:
            ok = int(code) == self.SUCCESS
        except (TypeError, ValueError):
            ok = False
        if ok and reply.status < 400:
            return data
        if code is None:
            code = reply.status if reply.status >= 400 else "no_code"
        msg = data.get("message") or data.get("msg") or data.get("error_msg")
        raise error_for_code(
            code,
            msg,
            data.get("log_id") or data.get("request_id"),
            table=self.table,
            http_status=reply.status,
        )


_ENVELOPES: dict[str, type[Envelope]] = {
    cls.name: cls for cls in (BaiduEnvelope, PaiEnvelope, GenericEnvelope)
}


def register_envelope(cls: type[Envelope]) -> type[Envelope]:
    """Add a family's own reply envelope (a class with a unique ``name``); usable as a
    decorator in the family's client module, so a new wire format edits no core module.

    Examples
    --------
    >>> @register_envelope
    ... class DocEnvelope(Envelope):
    ...     name = "doc-example"
    ...     def decode(self, reply):
    ...         return self.json(reply)
    >>> envelope_for("doc-example")
    DocEnvelope()
    """
    known = _ENVELOPES.get(cls.name)
    if not cls.name or (known is not None and known is not cls):
        raise ValueError(f"reply envelope name {cls.name!r} is empty or taken")
    _ENVELOPES[cls.name] = cls
    return cls


def envelope_for(kind: str, table: CodeTable | None = None) -> Envelope:
    """The envelope a family declares (``Service.envelope``).

    Examples
    --------
    >>> envelope_for("pai")
    PaiEnvelope()
    """
    try:
        return _ENVELOPES[kind](table)
    except KeyError:
        raise ValueError(f"unknown reply envelope {kind!r} (known: {sorted(_ENVELOPES)})") from None
