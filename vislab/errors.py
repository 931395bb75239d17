"""One error hierarchy for everything vislab raises.

``VislabError`` is the root.  Input problems found *before* any network call raise
``InvalidImage``, ``InvalidParameter`` or ``InvalidFrame``; problems reported by a service
raise ``ServiceError`` (or one of its subclasses), carrying the service's own ``code``,
``msg`` and ``log_id``.  Messages never contain API keys, secrets or access tokens: the
transport scrubs them before an error is built (see :func:`scrub`).

The code tables are the union of the tables in the service specs (Baidu image recognition,
EasyDL, image search, generic classification API).
"""

from __future__ import annotations

import re

__all__ = [
    "VislabError",
    "InvalidImage",
    "InvalidParameter",
    "InvalidFrame",
    "ServiceError",
    "AuthError",
    "QuotaError",
    "InvalidRequest",
    "ServiceUnavailable",
    "MalformedResponse",
    "TransportError",
    "error_for_code",
    "ERROR_MESSAGES",
    "RETRYABLE_CODES",
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
        The broken rule: ``"missing"``, ``"not_a_file"``, ``"empty"``, ``"decode"``,
        ``"format"``, ``"encoded_size"``, ``"min_side"``, ``"max_side"``,
        ``"aspect_ratio"``, ``"mode"``, ``"url"``, ``"type"``.
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

    # Error rows in frames use the same two columns as service errors.
    @property
    def code(self) -> str:
        return f"invalid_image:{self.rule}"

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
    def code(self) -> str:
        return f"invalid_parameter:{self.name}"

    @property
    def msg(self) -> str:
        return str(self)


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
    >>> err = error_for_code(110, "Access token invalid or no longer valid", log_id=42)
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

    @property
    def retryable(self) -> bool:
        """Whether retrying the same request later may succeed."""
        if self.code in RETRYABLE_CODES:
            return True
        return isinstance(self.http_status, int) and self.http_status >= 500


class AuthError(ServiceError):
    """Credentials, token or permission problem (codes 6, 13, 14, 15, 100, 110, 111, 216110...)."""


class QuotaError(ServiceError):
    """A request, QPS, daily or total quota was reached (codes 4, 17, 18, 19)."""


class InvalidRequest(ServiceError):
    """The service rejected the request's parameters or image (216xxx, 282xxx, 336001...)."""


class ServiceUnavailable(ServiceError):
    """Server-side failure worth retrying later (1, 2, 282000, 336000, HTTP 5xx)."""


class MalformedResponse(ServiceError):
    """The reply was not the JSON the service promises (HTML error page, empty body...)."""


class TransportError(ServiceError):
    """The request did not get an answer: timeout, connection refused or reset."""


# error_code -> error_msg, the union of the spec tables.
ERROR_MESSAGES: dict[int, str] = {
    1: "Unknown error",
    2: "Service temporarily unavailable",
    3: "Unsupported openapi method",
    4: "Open api request limit reached",
    6: "No permission to access data",
    13: "Get service token failed",
    14: "IAM Certification failed",
    15: "app not exsits or create failed",
    17: "Open api daily request limit reached",
    18: "Open api qps request limit reached",
    19: "Open api total request limit reached",
    100: "Invalid parameter",
    110: "Access token invalid or no longer valid",
    111: "Access token expired",
    216017: "not initialized",
    216100: "invalid param",
    216101: "not enough param",
    216102: "service not support",
    216103: "param too long",
    216110: "appid not exist",
    216200: "empty image",
    216201: "image format error",
    216202: "image size error",
    216203: "image size error",
    216401: "internal error",
    216630: "recognize error",
    216631: "recognize bank card error",
    216633: "recognize idcard error",
    216634: "detect error",
    216680: "item not exist",
    216681: "item exist",
    282000: "internal error",
    282003: "missing parameters: {param}",
    282004: "invalid parameter(s)",
    282005: "batch processing error",
    282006: "batch task limit reached",
    282100: "image transcode error",
    282101: "image split limit reached",
    282102: "target detect error",
    282103: "target recognize error",
    282111: "url format illegal",
    282112: "url download timeout",
    282113: "url response invalid",
    282114: "url size error",
    282808: "request id: xxxxx not exist",
    282809: "result type error",
    282810: "image recognize error",
    283300: "Invalid argument",
    336000: "Internal error",
    336001: "Invalid Argument",
}

AUTH_CODES = frozenset({6, 13, 14, 15, 100, 110, 111, 216110, 2000})
QUOTA_CODES = frozenset({4, 17, 18, 19})
UNAVAILABLE_CODES = frozenset({1, 2, 216401, 282000, 336000, 1100, 2100})
# Transient codes the transport retries with backoff (DESIGN.md §3).
RETRYABLE_CODES = frozenset({1, 2, 4, 18, 282000, 336000})

# Hints appended to the service's message so a person knows what to do next.
_HINTS = {
    AuthError: "check the API key / secret key (or token) and that the app may call this API",
    QuotaError: "slow down (lower qps=) or raise the quota in the console",
    ServiceUnavailable: "the service failed on its side; retry later",
}


def error_for_code(code, msg=None, log_id=None, *, http_status=None) -> ServiceError:
    """Build the typed :class:`ServiceError` subclass for a service error code.

    Parameters
    ----------
    code : int or str
        The ``error_code`` from the reply.
    msg : str, optional
        The ``error_msg`` from the reply; the spec's text is used when missing.
    log_id : optional
        The reply's ``log_id``.
    http_status : int, optional

    Returns
    -------
    ServiceError

    Examples
    --------
    >>> type(error_for_code(18)).__name__
    'QuotaError'
    >>> type(error_for_code(216202, "image size error")).__name__
    'InvalidRequest'
    """
    try:
        icode = int(code)
    except (TypeError, ValueError):
        icode = None
    if msg is None:
        msg = ERROR_MESSAGES.get(icode, "unknown error")
    if icode in AUTH_CODES:
        cls = AuthError
    elif icode in QUOTA_CODES:
        cls = QuotaError
    elif icode in UNAVAILABLE_CODES or (http_status or 0) >= 500:
        cls = ServiceUnavailable
    elif icode is not None:
        cls = InvalidRequest
    else:
        cls = ServiceError
    hint = _HINTS.get(cls)
    if hint and hint not in msg:
        msg = f"{msg} — {hint}"
    return cls(icode if icode is not None else code, msg, log_id, http_status=http_status)


# Each pattern keeps group 1 (the name) and replaces the value after it.
_SECRET_PATTERNS = [
    re.compile(
        r"((?:access_token|client_secret|client_id|secret_key|api_key|token)=)([^&\s'\"]+)", re.I
    ),
    re.compile(r"(Authorization['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)", re.I),
]
_registered_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so :func:`scrub` removes it from any text vislab produces.

    Examples
    --------
    >>> register_secret("s3cr3t-value")
    >>> scrub("failed with s3cr3t-value")
    'failed with ***'
    """
    if value and len(value) >= 4:
        _registered_secrets.add(str(value))


def scrub(text: str) -> str:
    """Remove registered secrets and ``key=value`` credentials from ``text``.

    Examples
    --------
    >>> scrub("https://x/api?access_token=abc.123&top_num=3")
    'https://x/api?access_token=***&top_num=3'
    """
    for secret in sorted(_registered_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text
