"""The wire-protocol emulator: each family's requests and replies, answered by the engine.

:class:`EmulatorApp` maps a raw request (method, path, query, headers, body bytes) to a raw
reply (status, headers, body bytes).  Local-mode clients call it in-process through a
``LocalTransport``; ``vislab serve`` (:mod:`vislab.emulator.server`) puts it behind HTTP.  It
validates requests against the same catalogue declarations the clients use and answers with
each family's JSON envelope and error codes.  The emulator knows nothing of pandas.
"""

from __future__ import annotations

import threading

from vislab.emulator.app import EmulatorApp
from vislab.emulator.registry import ImageInput, WireError, handler

__all__ = ["EmulatorApp", "WireError", "ImageInput", "handler", "local_app"]

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
