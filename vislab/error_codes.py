"""Service error codes as data: a family's :class:`CodeTable` of :class:`ErrorCode` entries.

Each service family declares its table in its catalogue module; :func:`register_table`
gathers them so docs and tools can list every code vislab knows (:func:`tables`).  vislab's
own codes (990xxx, failures found on this machine) are :data:`VISLAB_CODES`.  Which exception
a code becomes is :func:`vislab.errors.error_for_code`'s business; every name here is also
importable from :mod:`vislab.errors`.

This module imports nothing of vislab, so :mod:`vislab.errors` (and the catalogue) build on it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ErrorCode",
    "CodeTable",
    "register_table",
    "tables",
    "KINDS",
    "VISLAB_CODES",
    "LOCAL_RULE_CODES",
    "TRANSPORT_CODES",
]

#: What a code means for the caller; each kind is one :class:`~vislab.errors.ServiceError`
#: subclass (the map is :mod:`vislab.errors`'s).
KINDS = ("auth", "quota", "invalid", "unavailable", "not_local")


@dataclass(frozen=True)
class ErrorCode:
    """One code of a service family's error table.

    Parameters
    ----------
    code : int
        The code as the service sends it.
    message : str
        The service's own message for it (used when a reply carries none).
    kind : {"auth", "quota", "invalid", "unavailable", "not_local"}
        What it means for the caller; picks the :class:`~vislab.errors.ServiceError` subclass.
    retry : bool
        Whether the same request may succeed later (the session retries it with backoff).
    hint : str, optional
        What to do next, when the kind's general hint would mislead (e.g. a tenant that must
        sign up is an auth failure, but not a key problem).

    Examples
    --------
    >>> ErrorCode(18, "Open api qps request limit reached", "quota", retry=True).kind
    'quota'
    """

    code: int
    message: str
    kind: str = "invalid"
    retry: bool = False
    hint: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {self.kind!r}")


class CodeTable:
    """The error codes of one service family, declared in its catalogue module.

    Each family owns its table (codes of different families may collide: ``2000`` is an
    app-key error of the generic API); :func:`register_table` gathers them so docs and tools
    can list every code vislab knows (:func:`tables`).

    Parameters
    ----------
    name : str
        The family (or platform) the codes belong to, e.g. ``"baidu"``.
    codes : iterable of ErrorCode

    Examples
    --------
    >>> table = CodeTable("demo", [ErrorCode(7, "busy", "unavailable", retry=True)])
    >>> table.message(7), table.retryable(7), table.retryable(8)
    ('busy', True, False)
    >>> from vislab.errors import error_for_code
    >>> type(error_for_code(7, table=table)).__name__
    'ServiceUnavailable'
    """

    def __init__(self, name: str, codes):
        self.name = name
        self._codes: dict[int, ErrorCode] = {}
        for entry in codes:
            if entry.code in self._codes:
                raise ValueError(f"code {entry.code} declared twice in table {name!r}")
            self._codes[entry.code] = entry

    def __repr__(self) -> str:
        return f"CodeTable({self.name!r}, {len(self._codes)} codes)"

    def __contains__(self, code) -> bool:
        return _as_int(code) in self._codes

    def __iter__(self):
        return iter(self._codes.values())

    def __len__(self) -> int:
        return len(self._codes)

    def get(self, code) -> ErrorCode | None:
        """The entry of ``code`` (int or numeric string), or None."""
        return self._codes.get(_as_int(code))

    def message(self, code, default: str = "unknown error") -> str:
        entry = self.get(code)
        return entry.message if entry else default

    def retryable(self, code) -> bool:
        entry = self.get(code)
        return bool(entry and entry.retry)

    def extended(self, name: str, codes) -> CodeTable:
        """A new table with this one's codes plus ``codes`` (which win on collisions).

        Examples
        --------
        >>> base = CodeTable("base", [ErrorCode(1, "x")])
        >>> len(base.extended("more", [ErrorCode(2, "y")]))
        2
        """
        merged = {e.code: e for e in self}
        merged.update({e.code: e for e in codes})
        return CodeTable(name, merged.values())


_TABLES: dict[str, CodeTable] = {}


def register_table(table: CodeTable) -> CodeTable:
    """Gather a family's table (called by the catalogue when it registers the family).

    Examples
    --------
    >>> t = register_table(CodeTable("doc-example", [ErrorCode(5, "five")]))
    >>> tables()["doc-example"] is t
    True
    """
    known = _TABLES.get(table.name)
    if known is not None and known is not table:
        raise ValueError(f"error table {table.name!r} registered twice")
    _TABLES[table.name] = table
    return table


def tables() -> dict[str, CodeTable]:
    """Every registered error table by name (load the catalogue first to see them all)."""
    return dict(_TABLES)


def _as_int(code):
    if isinstance(code, bool):
        return None
    try:
        return int(code)
    except (TypeError, ValueError):
        return None


#: vislab's own codes (990000-990999): failures found on this machine, before or instead of a
#: service's answer.  A frame row carries the service's code whenever the service would
#: refuse the same input, and one of these otherwise.
VISLAB_CODES = CodeTable(
    "vislab",
    [
        ErrorCode(990100, "file not found"),
        ErrorCode(990101, "not a regular file (a folder, device, FIFO or socket)"),
        ErrorCode(990102, "the file cannot be read"),
        ErrorCode(990103, "the file is larger than vislab reads"),
        ErrorCode(990110, "the URL could not be downloaded"),
        ErrorCode(990111, "the URL's image is too large"),
        ErrorCode(990112, "the URL's host is too slow"),
        ErrorCode(990120, "not an image input (type or shape)"),
        ErrorCode(990121, "array values cannot be an image"),
        ErrorCode(990130, "too many pixels to decode safely"),
        ErrorCode(990140, "empty image"),
        ErrorCode(990141, "not a readable image"),
        ErrorCode(990142, "image format not accepted"),
        ErrorCode(990143, "image larger than the endpoint takes"),
        ErrorCode(990144, "image side longer than the endpoint takes"),
        ErrorCode(990145, "image side shorter than the endpoint takes"),
        ErrorCode(990146, "aspect ratio beyond the endpoint's limit"),
        ErrorCode(990150, "invalid parameter"),
        ErrorCode(990200, "no answer in time", "unavailable"),
        ErrorCode(990201, "cannot connect", "unavailable"),
        ErrorCode(990202, "the reply is not what the service sends"),
        ErrorCode(990203, "the reply is too large"),
        ErrorCode(990204, "the request could not be sent"),
        ErrorCode(990400, "the token endpoint refused the credentials", "auth"),
        ErrorCode(990500, "unexpected error inside vislab (a bug: please report it)"),
    ],
)

#: InvalidImage rule -> vislab code.
LOCAL_RULE_CODES = {
    "missing": 990100,
    "not_a_file": 990101,
    "unreadable": 990102,
    "file_size": 990103,
    "url": 990110,
    "url_size": 990111,
    "url_timeout": 990112,
    "type": 990120,
    "values": 990121,
    "pixels": 990130,
    "empty": 990140,
    "decode": 990141,
    "format": 990142,
    "encoded_size": 990143,
    "max_side": 990144,
    "min_side": 990145,
    "aspect_ratio": 990146,
}

#: Transport failure kinds -> vislab code.
TRANSPORT_CODES = {
    "timeout": 990200,
    "connection": 990201,
    "malformed_reply": 990202,
    "reply_too_large": 990203,
    "request": 990204,
}

register_table(VISLAB_CODES)
