"""``vislab serve``: the emulator behind a threaded HTTP server on 127.0.0.1.

Access logs never show query strings (they carry ``access_token``) nor bodies.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from vislab.emulator.app import EmulatorApp

__all__ = ["make_server", "BackgroundServer", "MAX_BODY_BYTES"]

log = logging.getLogger("vislab.serve")

#: Largest request body accepted: 4 MiB of base64 image, url-encoded (x ~1.4), plus fields.
MAX_BODY_BYTES = 12 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server_version = "vislab-serve"
    protocol_version = "HTTP/1.1"
    app: EmulatorApp  # set on the subclass made by make_server

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        # The request line would show ?access_token=...: log the path only.
        log.info("%s %s", self.command, urllib.parse.urlsplit(self.path).path)

    def _send(self, status, headers, body):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self):
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            body = json.dumps(
                {
                    "error_code": 216202,
                    "error_msg": f"image size error: request body over {MAX_BODY_BYTES} bytes",
                }
            ).encode()
            self.close_connection = True
            return self._send(413, {"Content-Type": "application/json"}, body)
        body = self.rfile.read(length) if length else b""
        status, headers, out = self.app.handle(
            self.command, parts.path, query, dict(self.headers.items()), body
        )
        self._send(status, headers, out)

    do_GET = _dispatch
    do_POST = _dispatch


def make_server(
    host: str = "127.0.0.1", port: int = 8765, *, app: EmulatorApp | None = None, **app_options
) -> ThreadingHTTPServer:
    """A ready (not yet serving) threaded HTTP server for the emulator.

    Parameters
    ----------
    host : str
        Bind address; 127.0.0.1 unless you mean to expose it.
    port : int
        0 picks a free port (read it from ``server.server_address``).
    app : EmulatorApp, optional
    **app_options
        Passed to :class:`EmulatorApp` (``api_key``, ``secret_key``, ``home``...).

    Examples
    --------
    >>> server = make_server(port=0)
    >>> server.server_address[0]
    '127.0.0.1'
    >>> server.server_close()
    """
    handler = type("Handler", (_Handler,), {"app": app or EmulatorApp(**app_options)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class BackgroundServer:
    """Run ``vislab serve`` in a thread of this process (for notebooks and benchmarks).

    Examples
    --------
    >>> with BackgroundServer(api_key="k", secret_key="s") as srv:
    ...     srv.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **app_options):
        self.server = make_server(host, port, **app_options)
        self.app = self.server.RequestHandlerClass.app
        self._thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="vislab-serve"
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
