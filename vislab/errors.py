"""One error hierarchy for everything vislab raises.

``VislabError`` is the root.  Input problems found *before* any network call raise
``InvalidImage``, ``InvalidParameter`` or ``InvalidFrame``; problems reported by a service
raise ``ServiceError`` (or one of its subclasses), carrying the service's own ``code``,
``msg`` and ``log_id``.  Messages never contain API keys, secrets or access tokens: the
transport scrubs them before an error is built (see :func:`~vislab.redact.scrub`).

Each service family declares its own error table (:class:`CodeTable`) in its catalogue module;
:func:`register_table` gathers them, and :func:`error_for_code` turns a code into the typed
error its family's table says it is.
"""

from __future__ import annotations

from dataclasses import dataclass

# Re-exported: the secret scrubbing used to live in this module.
from vislab.redact import register_secret, scrub

__all__ = [
    "VislabError",
    "InvalidImage",
    "InvalidParameter",
    "InvalidFrame",
    "StorageError",
    "ServiceError",
    "AuthError",
    "QuotaError",
    "InvalidRequest",
    "NotAvailableLocally",
    "ServiceUnavailable",
    "MalformedResponse",
    "TransportError",
    "error_for_code",
    "ErrorCode",
    "CodeTable",
    "register_table",
    "tables",
    "VISLAB_CODES",
    "FailedImagesWarning",
    "user_stacklevel",
    "scrub",
    "register_secret",
]


class VislabError(Exception):
    """Base class of every error vislab raises on purpose."""


class InvalidImage(VislabError, ValueError):
    """An image breaks a rule of the target endpoint or cannot be decoded.

    Parameters
    ----------
    message : str
        What is wrong and what to do about it.
    rule : str
        The broken rule — rules a service checks too: ``"empty"``, ``"decode"``,
        ``"format"``, ``"encoded_size"``, ``"min_side"``, ``"max_side"``, ``"aspect_ratio"``;
        rules of this machine: ``"missing"``, ``"not_a_file"``, ``"unreadable"``,
        ``"file_size"``, ``"url"``, ``"url_size"``, ``"url_timeout"``, ``"type"``,
        ``"values"``, ``"pixels"``.  :data:`VISLAB_CODES` gives each its code.
    limit, value : object, optional
        The limit of the rule and the value the image has.
    image : str, optional
        The caller's identifier of the image.

    Examples
    --------
    >>> err = InvalidImage("too small", rule="min_side", limit=15, value=10, image="icon.png")
    >>> err.rule, err.limit, err.value
    ('min_side', 15, 10)
    """

    def __init__(self, message, *, rule, limit=None, value=None, image=None):
        super().__init__(message)
        self.rule = rule
        self.limit = limit
        self.value = value
        self.image = image

    @property
    def code(self) -> int:
        """vislab's code for the rule (a frame row carries the service's own code instead
        when the service checks the same rule)."""
        return LOCAL_RULE_CODES.get(self.rule, 990141)

    @property
    def msg(self) -> str:
        return str(self)


class InvalidParameter(VislabError, ValueError):
    """A request parameter is out of the range the endpoint accepts (checked locally).

    Examples
    --------
    >>> InvalidParameter("top_num must be in 1..20, got 0", name="top_num").name
    'top_num'
    """

    def __init__(self, message, *, name=None):
        super().__init__(message)
        self.name = name

    @property
    def code(self) -> int:
        return 990150

    @property
    def msg(self) -> str:
        return str(self)


class StorageError(VislabError, OSError):
    """A folder or file vislab keeps state in cannot be used (``VISLAB_HOME``, a gallery, the
    ledger, the reply cache): it is a file where a folder is due, a path too long for the
    filesystem, not writable, or not a database.

    Examples
    --------
    >>> StorageError("/tmp/x is a file, not a folder", path="/tmp/x").path
    '/tmp/x'
    """

    def __init__(self, message, *, path=None):
        super().__init__(message)
        self.path = None if path is None else str(path)


class InvalidFrame(VislabError, ValueError):
    """A DataFrame handed to vislab lacks a column or holds values that cannot be right.

    Examples
    --------
    >>> InvalidFrame("truth frame lacks column 'label'", column="label").column
    'label'
    """

    def __init__(self, message, *, column=None):
        super().__init__(message)
        self.column = column


class ServiceError(VislabError):
    """A service answered with an error code (or with something that is not an answer).

    Parameters
    ----------
    code : int or str
        The service's ``error_code`` (or an HTTP status / transport reason).
    msg : str
        The service's ``error_msg``, followed by a hint of what to do.
    log_id : int or str, optional
        The service's ``log_id`` for support tickets.
    http_status : int, optional

    Examples
    --------
    >>> table = CodeTable("demo", [ErrorCode(110, "Access token invalid", "auth")])
    >>> err = error_for_code(110, log_id=42, table=table)
    >>> type(err).__name__, err.code, err.log_id
    ('AuthError', 110, 42)
    """

    def __init__(self, code, msg, log_id=None, *, http_status=None):
        self.code = code
        self.msg = scrub(str(msg))
        self.log_id = log_id
        self.http_status = http_status
        text = f"[{code}] {self.msg}"
        if log_id is not None:
            text += f" (log_id {log_id})"
        super().__init__(text)

    # Set by error_for_code from the family's table: whether the code is transient.
    _retry = False

    @property
    def retryable(self) -> bool:
        """Whether the family's table marks this code as transient (worth a retry later).

        HTTP statuses are the session's retry policy's business (families differ: PAI's
        client retries exactly 500, Baidu's every 5xx).
        """
        return self._retry


class AuthError(ServiceError):
    """Credentials, token or permission problem (codes 6, 13, 14, 15, 100, 110, 111, 216110...)."""


class QuotaError(ServiceError):
    """A request, QPS, daily or total quota was reached (codes 4, 17, 18, 19)."""


class InvalidRequest(ServiceError):
    """The service rejected the request's parameters or image (216xxx, 282xxx, 336001...)."""


class ServiceUnavailable(ServiceError):
    """Server-side failure worth retrying later (1, 2, 282000, 336000, HTTP 5xx)."""


class NotAvailableLocally(ServiceError):
    """The local engine has no model for this call (PAI's scene, colouring, face enhancement...).

    The message names the model and the ways to get an answer: a deployed endpoint of the
    service, an extra to install (``pip install vislab[...]``), or your own ONNX model.

    Examples
    --------
    >>> table = CodeTable("demo", [ErrorCode(501, "no local model", "not_local")])
    >>> type(error_for_code(501, table=table)).__name__
    'NotAvailableLocally'
    """


class MalformedResponse(ServiceError):
    """The reply was not the JSON the service promises (HTML error page, empty body...)."""


class TransportError(ServiceError):
    """The request did not get an answer: timeout, connection refused or reset.

    ``sent`` says whether the request may have reached the service (a read timeout, a reset
    after sending) or surely did not (connection refused): only in the second case may a
    call that changes something (an add) be sent again.
    """

    sent = True


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
        What it means for the caller; picks the :class:`ServiceError` subclass.
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
        if self.kind not in _KIND_CLASSES:
            raise ValueError(f"kind must be one of {sorted(_KIND_CLASSES)}, got {self.kind!r}")


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


# Hints appended to the service's message so a person knows what to do next.
_HINTS = {
    AuthError: "check the API key / secret key (or token) and that the app may call this API",
    QuotaError: "slow down (lower qps=) or raise the quota in the console",
    ServiceUnavailable: "the service failed on its side; retry later",
}

_KIND_CLASSES = {
    "auth": AuthError,
    "quota": QuotaError,
    "invalid": InvalidRequest,
    "unavailable": ServiceUnavailable,
    "not_local": NotAvailableLocally,
}


def error_for_code(code, msg=None, log_id=None, *, table: CodeTable | None = None,
                   http_status=None) -> ServiceError:
    """Build the typed :class:`ServiceError` subclass for a service error code.

    Parameters
    ----------
    code : int or str
        The code from the reply (``error_code``, ``code``, an HTTP status...).
    msg : str, optional
        The reply's message; the family's table gives one when missing.
    log_id : optional
        The reply's request id (``log_id``, ``request_id``).
    table : CodeTable, optional
        The family's error table; without it a code is classified by ``http_status`` only.
    http_status : int, optional

    Returns
    -------
    ServiceError

    Examples
    --------
    >>> table = CodeTable("demo", [ErrorCode(18, "qps limit", "quota", retry=True)])
    >>> err = error_for_code(18, table=table, log_id=42)
    >>> type(err).__name__, err.code, err.log_id, err.retryable
    ('QuotaError', 18, 42, True)
    >>> type(error_for_code(216202, "image size error")).__name__
    'InvalidRequest'
    >>> type(error_for_code(503, "busy", http_status=503)).__name__
    'ServiceUnavailable'
    """
    icode = _as_int(code)
    entry = table.get(icode) if table is not None else None
    if msg is None:
        msg = entry.message if entry else "unknown error"
    if entry is not None:
        cls = _KIND_CLASSES[entry.kind]
    elif (http_status or 0) >= 500:
        cls = ServiceUnavailable
    elif icode is not None:
        cls = InvalidRequest
    else:
        cls = ServiceError
    hint = (entry.hint if entry is not None else None) or _HINTS.get(cls)
    if hint and hint not in msg:
        msg = f"{msg} — {hint}"
    err = cls(icode if icode is not None else code, msg, log_id, http_status=http_status)
    err._retry = bool(entry and entry.retry)
    return err


#: vislab's own codes (990000-990999): failures found on this machine, before or instead of a
#: service's answer.  A frame row carries the service's code whenever the service would
#: refuse the same input, and one of these otherwise.
VISLAB_CODES = CodeTable("vislab", [
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
])

#: InvalidImage rule -> vislab code.
LOCAL_RULE_CODES = {
    "missing": 990100, "not_a_file": 990101, "unreadable": 990102, "file_size": 990103,
    "url": 990110, "url_size": 990111, "url_timeout": 990112, "type": 990120,
    "values": 990121, "pixels": 990130, "empty": 990140, "decode": 990141, "format": 990142,
    "encoded_size": 990143, "max_side": 990144, "min_side": 990145, "aspect_ratio": 990146,
}

#: Transport failure kinds -> vislab code.
TRANSPORT_CODES = {"timeout": 990200, "connection": 990201, "malformed_reply": 990202,
                   "reply_too_large": 990203, "request": 990204}

register_table(VISLAB_CODES)


class FailedImagesWarning(UserWarning):
    """Some images of a call failed: their rows carry ``error_code`` / ``error_msg``."""


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first frame outside vislab.

    Examples
    --------
    >>> user_stacklevel() >= 1
    True
    """
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
