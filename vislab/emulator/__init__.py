"""The wire-protocol emulator: each service's requests and replies, answered by the engine.

:class:`EmulatorApp` maps a raw request (method, path, query, headers, body bytes) to a raw
reply (status, headers, body bytes).  ``LocalTransport`` calls it in-process; ``vislab serve``
(:mod:`vislab.emulator.server`) puts it behind HTTP.  It validates requests against the same
catalogue declarations the clients use and answers with the spec's JSON and error codes.
The emulator knows nothing of pandas.
"""

from __future__ import annotations

import threading

from vislab.emulator.app import EmulatorApp, WireError

__all__ = ["EmulatorApp", "WireError", "local_app"]

_local: EmulatorApp | None = None
_local_lock = threading.Lock()


def local_app() -> EmulatorApp:
    """The process-wide emulator used by clients in local mode (no authentication).

    Examples
    --------
    >>> local_app() is local_app()
    True
    """
    global _local
    with _local_lock:
        if _local is None:
            _local = EmulatorApp()
        return _local
