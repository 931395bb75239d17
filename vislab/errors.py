"""One error hierarchy for everything vislab raises.

``VislabError`` is the root.  Input problems found *before* any network call raise
``InvalidImage``, ``InvalidParameter`` or ``InvalidFrame``; problems reported by a service
raise ``ServiceError`` (or one of its subclasses), carrying the service's own ``code``,
``msg`` and ``log_id``.  Messages never contain API keys, secrets or access tokens: the
transport scrubs them before an error is built (see :func:`~vislab.redact.scrub`).

Each service family declares its own error table (:class:`CodeTable`) in its catalogue module;
:func:`register_table` gathers them, and :func:`error_for_code` turns a code into the typed
error its family's table says it is.  The tables themselves (and vislab's own 990xxx codes)
are data in :mod:`vislab.error_codes`, re-exported here.
"""

from __future__ import annotations

# Re-exported: the code tables and the secret scrubbing used to live in this module.
from vislab.error_codes import (
    LOCAL_RULE_CODES,
    VISLAB_CODES,
    CodeTable,
    ErrorCode,
    _as_int,
    register_table,
    tables,
)
from vislab.error_codes import TRANSPORT_CODES as TRANSPORT_CODES  # for vislab.services.failures
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


# Hints appended to the service's message so a person knows what to do next.
_HINTS = {
    AuthError: "check the API key / secret key (or token) and that the app may call this API",
    QuotaError: "slow down (lower qps=) or raise the quota in the console",
    ServiceUnavailable: "the service failed on its side; retry later",
}

# One class per kind of vislab.error_codes.KINDS (tests/test_error_codes.py holds them equal).
_KIND_CLASSES = {
    "auth": AuthError,
    "quota": QuotaError,
    "invalid": InvalidRequest,
    "unavailable": ServiceUnavailable,
    "not_local": NotAvailableLocally,
}


def error_for_code(
    code, msg=None, log_id=None, *, table: CodeTable | None = None, http_status=None
) -> ServiceError:
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
