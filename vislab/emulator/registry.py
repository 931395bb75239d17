"""The emulator's leaf module: what handlers import (and nothing of the app).

A handler answers one catalogue endpoint::

    @handler("baidu.image_classify", "advanced_general")
    def advanced_general(app, ep, params, image) -> dict: ...

``params`` holds the endpoint's parameters (validated, defaults filled) and its path
parameters; ``image`` is an :class:`ImageInput` or None.  The handler returns the reply's
payload (the family's envelope — ``log_id``, ``request_id``/``success``, ``code`` — is added by
the app) or raises :class:`WireError`.  The app finds a family's handler module from the
catalogue (``Service.emulator``), so there is no list of handler modules to keep.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["WireError", "ImageInput", "handler", "handler_for", "load_handlers"]


class WireError(Exception):
    """An error reply of the endpoint's family.

    Parameters
    ----------
    code : int
        The family's error code.
    msg : str, optional
        Defaults to the family's message for ``code``.
    status : int, optional
        HTTP status of the reply (families that report failures by status: PAI).

    Examples
    --------
    >>> WireError(216201).code
    216201
    """

    def __init__(self, code: int, msg: str | None = None, *, status: int | None = None):
        super().__init__(code, msg)
        self.code = code
        self.msg = msg
        self.status = status


@dataclass
class ImageInput:
    """A decoded request image: pixels for the engine and the bytes as sent."""

    pixels: np.ndarray
    data: bytes
    format: str


# (service id, endpoint name) -> handler(app, endpoint, params, image) -> reply payload
_HANDLERS: dict[tuple[str, str], Callable[..., dict]] = {}
_loaded: set[str] = set()
_lock = threading.Lock()


def handler(service: str, name: str):
    """Register the emulator handler of one catalogue endpoint.

    Examples
    --------
    >>> @handler("demo.service", "echo")
    ... def echo(app, ep, params, image):
    ...     return {"result": params}
    """

    def deco(func):
        _HANDLERS[(service, name)] = func
        return func

    return deco


def load_handlers(service) -> None:
    """Import the module that answers ``service`` (a catalogue ``Service``), once."""
    module = service.emulator
    if not module or module in _loaded:
        return
    with _lock:
        if module not in _loaded:
            importlib.import_module(module)
            _loaded.add(module)


def handler_for(service, name: str) -> Callable[..., dict] | None:
    """The handler of endpoint ``name`` of ``service`` (loading its module), or None."""
    load_handlers(service)
    return _HANDLERS.get((service.id, name))
