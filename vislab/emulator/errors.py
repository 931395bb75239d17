"""Engine errors -> wire errors: one table for every emulated family.

The engine raises its own error types (it knows no wire codes); handlers let them propagate
or pass them to :func:`wire_error`, which names the wire code the family answers.
"""

from __future__ import annotations

from vislab.emulator.registry import WireError
from vislab.errors import InvalidParameter

__all__ = ["wire_error"]


def wire_error(exc: Exception) -> WireError | None:
    """The wire error for an engine error, or None when ``exc`` is not one (a bug).

    Examples
    --------
    >>> from vislab.errors import InvalidParameter
    >>> wire_error(InvalidParameter("rn must be in 1..100", name="rn")).code
    216100
    """
    if isinstance(exc, WireError):
        return exc
    if isinstance(exc, InvalidParameter):
        return WireError(216100, f"invalid param: {exc}")
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return WireError(code, getattr(exc, "msg", None))
    return None
