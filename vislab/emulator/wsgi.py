"""The emulator as a WSGI application: the bridge between an HTTP server and the app.

:class:`EmulatorWSGI` turns a WSGI ``environ`` into the arguments of
:meth:`EmulatorApp.handle <vislab.emulator.app.EmulatorApp.handle>` and its
``(status, headers, body)`` into a WSGI reply.  It checks what an HTTP server may let through
before the app sees a byte -- the method, ``Content-Length`` and ``Transfer-Encoding`` -- and
answers each refusal with the service's JSON (:func:`server_error`), never an HTML page.
``vislab serve`` (:mod:`vislab.emulator.server`) runs it under waitress, which refuses most of
these itself; the same checks here keep the adapter safe under any WSGI server.

Access logs show the method, the path and the status only: query strings carry
``access_token`` and bodies carry images.
"""

from __future__ import annotations

import json  # noqa: F401  (the examples read replies with it)
import logging
import urllib.parse
from collections.abc import Callable, Iterable
from http import HTTPStatus

from vislab import catalogue
from vislab.emulator.app import EmulatorApp
from vislab.emulator.registry import WireError, load_handlers
from vislab.emulator.replies import json_reply, reply_format

__all__ = ["EmulatorWSGI", "server_error", "MAX_BODY_BYTES", "METHODS"]

log = logging.getLogger("vislab.serve")

#: Largest request body accepted: 4 MiB of base64 image, url-encoded (x ~1.4), plus fields.
MAX_BODY_BYTES = 12 * 1024 * 1024
#: The methods the services answer; every other one gets error 3 (HTTP 405).
METHODS = ("GET", "POST")

# The service code for each refusal the HTTP layer makes before the app is reached.  They are
# Baidu's codes (the wire most clients speak): 216100 "invalid param", 216202 "image size
# error" (the body cap is the image cap), 216103 "param too long", 282000 "internal error"
# (clients retry it), 3 "Unsupported openapi method".
_SERVER_CODES = {400: 216100, 405: 3, 411: 216100, 413: 216202, 431: 216103, 501: 216100}


def _family_format(path: str | None, status: int):
    """The reply format of the family serving ``path`` when its codes are HTTP statuses."""
    found = catalogue.route(path.split("?", 1)[0]) if path else None
    if found is None:
        return None
    service = catalogue.service(found[0].service)
    if status not in service.errors:
        return None
    load_handlers(service)  # a family's own format is registered by its emulator module
    return reply_format(service)


def server_error(status: int, message: str, path: str | None = None) -> tuple[int, dict, bytes]:
    """The JSON reply to a request refused by the HTTP layer (bad framing, method, size).

    Parameters
    ----------
    status : int
        HTTP status of the refusal (400, 405, 411, 413, 431, 500, 501).
    message : str
        What was wrong, for ``error_msg``.
    path : str, optional
        The request's path: a family whose error codes are HTTP statuses (PAI EAS) answers
        in its own envelope; every other path gets Baidu's.

    Returns
    -------
    (status, headers, body)
        As :meth:`EmulatorApp.handle` returns them.

    Examples
    --------
    >>> status, headers, body = server_error(411, "send Content-Length")
    >>> status, json.loads(body)["error_code"]
    (411, 216100)
    >>> status, _, body = server_error(413, "too large", "/api/predict/classify")
    >>> status, json.loads(body)["success"], json.loads(body)["error_code"]
    (413, False, 413)
    """
    family = _family_format(path, status)
    if family is not None:
        return family.error(WireError(status, message, status=status))
    reply = json_reply(
        status, {"error_code": _SERVER_CODES.get(status, 282000), "error_msg": message}
    )
    if status == 405:
        reply[1]["Allow"] = ", ".join(METHODS)
    return reply


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _wire_text(value: str) -> str:
    # WSGI hands over URL parts as latin-1 text of the raw bytes; clients send UTF-8.
    return value.encode("latin-1").decode("utf-8", errors="replace")


def _headers(environ: dict) -> dict[str, str]:
    out = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            out[key[5:].replace("_", "-").title()] = value
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            out[key.replace("_", "-").title()] = value
    return out


class EmulatorWSGI:
    """A WSGI application answering every request with an :class:`EmulatorApp`.

    Parameters
    ----------
    app : EmulatorApp
        The emulator whose :meth:`~EmulatorApp.handle` answers.
    max_body_bytes : int
        Bodies longer than this are refused with HTTP 413 and code 216202, unread.

    Examples
    --------
    >>> import io
    >>> wsgi = EmulatorWSGI(EmulatorApp())
    >>> replies = []
    >>> out = wsgi({"REQUEST_METHOD": "PUT", "PATH_INFO": "/", "wsgi.input": io.BytesIO()},
    ...            lambda status, headers: replies.append(status))
    >>> replies, json.loads(b"".join(out))["error_code"]
    (['405 Method Not Allowed'], 3)
    """

    def __init__(self, app: EmulatorApp, *, max_body_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __repr__(self) -> str:
        return f"EmulatorWSGI({self.app!r})"

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = _wire_text(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) or "/"
        status, headers, body = self._answer(method, path, environ)
        log.info("%s %s %d", method, path, status)
        start_response(
            f"{status} {_reason(status)}",
            [*headers.items(), ("Content-Length", str(len(body)))],
        )
        # A reply to HEAD has the headers of the full reply and no body (servers leave it to
        # the application).
        return [b""] if method == "HEAD" else [body]

    def _answer(self, method: str, path: str, environ: dict) -> tuple[int, dict, bytes]:
        if method not in METHODS:
            return server_error(405, f"Unsupported openapi method: {method} (use GET or POST)")
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return server_error(
                411, "invalid param: chunked bodies are refused, send Content-Length"
            )
        text = environ.get("CONTENT_LENGTH") or "0"
        if not text.isascii() or not text.isdigit():
            return server_error(400, f"invalid param: Content-Length {text[:40]!r} is not a length")
        length = int(text)
        if length > self.max_body_bytes:
            return server_error(
                413, f"image size error: request body over {self.max_body_bytes} bytes", path
            )
        body = environ["wsgi.input"].read(length) if length else b""
        query = {
            k: v[-1]
            for k, v in urllib.parse.parse_qs(_wire_text(environ.get("QUERY_STRING", ""))).items()
        }
        return self.app.handle(method, path, query, _headers(environ), body)
