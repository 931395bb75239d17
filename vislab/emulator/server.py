"""``vislab serve``: the emulator behind waitress on 127.0.0.1.

waitress (pure Python) reads requests on one event loop and answers them on a pool of
threads, so slow or idle clients cost a socket, not a thread.  On top of its own limits
(listen backlog, open connections, header and body caps, idle timeout) vislab adds:

* a request deadline: a request whose head and body have not all arrived within
  ``request_timeout`` seconds is dropped, so a client trickling a byte at a time cannot hold a
  connection by never going idle;
* chunked bodies refused with HTTP 411 (the services take ``Content-Length``);
* the service's JSON for every refusal waitress makes itself (400 bad ``Content-Length``, 411,
  413 body over :data:`MAX_BODY_BYTES`, 431, 500), where waitress would send plain text.

Access logs show the method, path and status only (:mod:`vislab.emulator.wsgi`): query strings
carry ``access_token``.
"""

from __future__ import annotations

import logging
import threading
import time

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask
from waitress.utilities import Error

from vislab.emulator.app import EmulatorApp
from vislab.emulator.wsgi import MAX_BODY_BYTES, EmulatorWSGI, server_error

__all__ = ["make_server", "BackgroundServer", "EmulatorServer", "MAX_BODY_BYTES"]

log = logging.getLogger("vislab.serve")

#: Worker threads: enough for a batch client with ``max_workers=8`` plus a benchmark's peer,
#: and for a few ``url`` images downloading (up to 10 s each) without stalling the rest.
THREADS = 16
#: Connections waiting to be accepted; bursts beyond it would be reset by the kernel.
BACKLOG = 1024
#: Open connections at once (waitress' default is 100); each costs a socket, not a thread.
CONNECTION_LIMIT = 1000
#: Seconds a connection may stay silent (between requests or mid-request) before it is closed.
IDLE_TIMEOUT = 30.0
#: Seconds a request's head and body may take to arrive in full.
REQUEST_TIMEOUT = 60.0


class _LengthRequired(Error):
    code = 411
    reason = "Length Required"


class _Parser(HTTPRequestParser):
    """waitress' request parser, timed from the first byte, refusing chunked bodies."""

    def __init__(self, adj):
        super().__init__(adj)
        self.started = time.time()

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if self.chunked:
            # waitress would de-chunk into a buffer; the services want Content-Length, and an
            # explicit 411 is plainer than a body read by rules the cloud does not follow.
            self.body_rcv.getbuf().close()
            self.chunked, self.body_rcv = False, None
            self.error = _LengthRequired("chunked bodies are refused, send Content-Length")
            self.connection_close = True


class _JsonErrorTask(ErrorTask):
    """waitress' reply to a request it refused itself, as the service's JSON."""

    def execute(self):
        err = self.request.error
        request = self.request  # a request refused mid-head may have no method or path yet
        status, headers, body = server_error(
            err.code, _message(err), getattr(request, "path", None)
        )
        log.info(
            "%s %s %d", getattr(request, "command", "-"), getattr(request, "path", "-"), status
        )
        self.status = f"{err.code} {err.reason}"
        self.response_headers.extend(headers.items())
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


def _message(err: Error) -> str:
    if err.code == 413:
        return f"image size error: request body over {MAX_BODY_BYTES} bytes"
    if err.code == 500:
        return "internal error"
    prefix = "param too long" if err.code == 431 else "invalid param"
    return f"{prefix}: {err.body}"


class _Channel(HTTPChannel):
    parser_class = _Parser
    error_task_class = _JsonErrorTask


class _Server(TcpWSGIServer):
    """waitress' TCP server with the request deadline checked beside its idle timeout."""

    channel_class = _Channel

    def __init__(self, application, *, request_timeout: float, **kwargs):
        self.request_timeout = request_timeout
        super().__init__(application, **kwargs)

    def maintenance(self, now):
        super().maintenance(now)
        cutoff = now - self.request_timeout
        for channel in self.active_channels.values():
            # A request still arriving (not yet handed to a thread) and started too long ago.
            request = channel.request
            if request is not None and not channel.requests and request.started < cutoff:
                channel.will_close = True


class EmulatorServer:
    """A ready (not yet serving) ``vislab serve`` server; made by :func:`make_server`.

    The interface is the standard library's ``socketserver``: :attr:`server_address`,
    :meth:`serve_forever`, :meth:`shutdown` (from another thread), :meth:`server_close`.

    Examples
    --------
    >>> server = make_server(port=0)
    >>> host, port = server.server_address
    >>> host, port > 0
    ('127.0.0.1', True)
    >>> server.server_close()
    """

    def __init__(
        self,
        app: EmulatorApp,
        host: str,
        port: int,
        *,
        threads: int,
        idle_timeout: float,
        request_timeout: float,
    ):
        self.app = app
        self._map: dict = {}
        adj = Adjustments(
            host=host,
            port=port,
            # One socket, IPv4 unless an IPv6 address is asked for ("localhost" -> 127.0.0.1).
            ipv4=":" not in host,
            ipv6=":" in host,
            threads=threads,
            backlog=BACKLOG,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=idle_timeout,
            # How often timeouts are checked: a dropped client goes within ~1 s of its limit.
            cleanup_interval=max(0.2, min(idle_timeout, request_timeout) / 4),
            # waitress refuses a body of max_request_body_size bytes or more; ours is a "more
            # than" limit.
            max_request_body_size=MAX_BODY_BYTES + 1,
            ident="vislab-serve",
            # poll(), not select(): more than 1024 open sockets must not break the loop.
            asyncore_use_poll=True,
            expose_tracebacks=False,
        )
        self._server = _Server(
            EmulatorWSGI(app, max_body_bytes=MAX_BODY_BYTES),
            map=self._map,
            adj=adj,
            sockinfo=adj.listen[0],
            request_timeout=request_timeout,
        )
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()

    def __repr__(self) -> str:
        host, port = self.server_address
        return f"EmulatorServer(http://{host}:{port}, {self.app!r})"

    @property
    def server_address(self) -> tuple[str, int]:
        """``(host, port)`` bound; the real port when 0 was asked for."""
        return self._server.effective_host, int(self._server.effective_port)

    def serve_forever(self) -> None:
        """Answer requests until :meth:`shutdown` (another thread) or ``KeyboardInterrupt``."""
        self._idle.clear()
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=1.0, map=self._map, use_poll=True, count=1)
        finally:
            self._stop.clear()
            self._idle.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait until it has returned."""
        self._stop.set()
        self._server.pull_trigger()  # wake the loop now rather than at its next timeout
        self._idle.wait()

    def server_close(self) -> None:
        """Close the listening socket and every connection; stop the worker threads."""
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(self._map)


def make_server(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    app: EmulatorApp | None = None,
    threads: int = THREADS,
    idle_timeout: float = IDLE_TIMEOUT,
    request_timeout: float = REQUEST_TIMEOUT,
    **app_options,
) -> EmulatorServer:
    """A ready (not yet serving) ``vislab serve`` server for the emulator.

    Parameters
    ----------
    host : str
        Bind address; 127.0.0.1 unless you mean to expose it.
    port : int
        0 picks a free port (read it from ``server.server_address``).
    app : EmulatorApp, optional
    threads : int
        Worker threads answering requests; more requests wait in a queue, not in the kernel.
    idle_timeout : float
        Seconds a connection may stay silent before it is closed.
    request_timeout : float
        Seconds a request may take to arrive in full (head and body).
    **app_options
        Passed to :class:`EmulatorApp` (``api_key``, ``secret_key``, ``home``...).

    Examples
    --------
    >>> server = make_server(port=0)
    >>> server.server_address[0]
    '127.0.0.1'
    >>> server.server_close()
    """
    return EmulatorServer(
        app or EmulatorApp(**app_options),
        host,
        port,
        threads=threads,
        idle_timeout=idle_timeout,
        request_timeout=request_timeout,
    )


class BackgroundServer:
    """Run ``vislab serve`` in a thread of this process (for notebooks and benchmarks).

    Parameters
    ----------
    host : str
    port : int
        0 (the default) picks a free port; read it from :attr:`url`.
    **options
        Passed to :func:`make_server` (``threads``, timeouts) and :class:`EmulatorApp`
        (``api_key``, ``secret_key``, ``home``...).

    Examples
    --------
    >>> with BackgroundServer(api_key="k", secret_key="s") as srv:
    ...     srv.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options):
        self.server = make_server(host, port, **options)
        self.app = self.server.app
        self._thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="vislab-serve"
        )

    def __repr__(self) -> str:
        return f"BackgroundServer({self.url})"

    @property
    def url(self) -> str:
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
