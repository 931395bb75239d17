"""Engine errors -> wire errors: one table for every emulated family.

The engine raises its own error types (:mod:`vislab.engine.errors`; it knows no wire codes);
handlers let them propagate, and the app passes every exception to :func:`wire_error`, which
names the code and message the service puts on the wire.  The codes are those of Baidu's
image search and image recognition docs (the families whose local answers use the engine's
galleries).
"""

from __future__ import annotations

from vislab.emulator.registry import WireError
from vislab.engine.errors import (
    BadBrief,
    BadCategories,
    BadPage,
    BadTagLogic,
    BlankImage,
    ItemExists,
    ItemNotFound,
    MissingTarget,
)
from vislab.errors import InvalidParameter, StorageError

__all__ = ["wire_error", "ENGINE_WIRE_CODES"]

#: Engine error type -> (wire code, message).  A message ending in ":" is followed by the
#: error's own text; the others are the service's fixed wording.
ENGINE_WIRE_CODES: dict[type[Exception], tuple[int, str]] = {
    ItemExists: (216681, "item exist"),
    ItemNotFound: (216680, "item not exist"),
    BlankImage: (216203, "input image cannot handle:"),
    MissingTarget: (216101, "not enough param:"),
    BadBrief: (216100, "invalid param:"),
    BadCategories: (216100, "invalid param:"),
    BadTagLogic: (216100, "invalid param:"),
    BadPage: (216100, "invalid param:"),
    InvalidParameter: (216100, "invalid param:"),
    # The server's own storage is unusable: say which file and what to do (the service's
    # "internal error" code, with vislab's message).
    StorageError: (282000, "internal error:"),
}


def wire_error(exc: Exception) -> WireError | None:
    """The wire error for an engine error, or None when ``exc`` is not one (a bug).

    Examples
    --------
    >>> from vislab.engine.errors import BadPage, ItemExists
    >>> wire_error(BadPage("rn must be in 1..100, got 101", name="rn")).msg
    'invalid param: rn must be in 1..100, got 101'
    >>> err = wire_error(ItemExists("1,2"))
    >>> err.code, err.msg
    (216681, 'item exist')
    """
    if isinstance(exc, WireError):
        return exc
    for kind in type(exc).__mro__:
        found = ENGINE_WIRE_CODES.get(kind)
        if found is not None:
            code, msg = found
            return WireError(code, f"{msg} {exc}" if msg.endswith(":") else msg)
    code = getattr(exc, "code", None)
    if isinstance(code, int):  # a service error raised on purpose keeps its own code
        return WireError(code, getattr(exc, "msg", None))
    return None
