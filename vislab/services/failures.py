"""Failed images as frame rows, and the one warning a call gives about them.

The rule, for every client and call:

* every input keeps a row; a failed image's row has ``error_code`` (a nullable integer
  column: the service's own code, or the code the service would answer for the same image —
  a 10 x 10 icon is ``216202`` for Baidu's recognition, ``10442`` for the generic API — and
  one of vislab's 990xxx codes, :data:`vislab.errors.VISLAB_CODES`, for what only this machine
  can find: a missing file, a timeout), ``error_msg`` (what went wrong and what to do) and
  ``error_rule`` (the rule that broke: ``min_side``, ``param:top_num``, ``service``,
  ``timeout``...);
* a call that returns error rows emits one :class:`~vislab.errors.FailedImagesWarning`
  counting them and naming the first reasons, pointing at the caller's line;
* ``errors="raise"`` raises the first failure's typed error instead (no more images are sent
  once one has failed).
"""

from __future__ import annotations

import warnings
from collections import Counter

from vislab.errors import (
    LOCAL_RULE_CODES,
    TRANSPORT_CODES,
    AuthError,
    FailedImagesWarning,
    InvalidImage,
    InvalidParameter,
    ServiceError,
    scrub,
    user_stacklevel,
)

__all__ = ["failure_fields", "warn_failures", "check_errors_option", "ERROR_MODES"]

ERROR_MODES = ("row", "raise")

# InvalidImage rules the services check too -> the family's request rule.
_SERVICE_RULES = {
    "empty": "empty",
    "decode": "format",
    "format": "format",
    "encoded_size": "bytes",
    "max_side": "max_side",
    "min_side": "min_side",
    "aspect_ratio": "aspect",
}


def check_errors_option(errors) -> str:
    """``"row"`` or ``"raise"``; anything else is an InvalidParameter."""
    if errors not in ERROR_MODES:
        raise InvalidParameter(f"errors must be 'row' or 'raise', got {errors!r}", name="errors")
    return errors


def failure_fields(exc: Exception, service) -> dict:
    """The ``error_code``, ``error_rule`` and ``error_msg`` of a failed image's row.

    Parameters
    ----------
    exc : Exception
        What failed (a vislab error, or anything else: then it is a bug, code 990500).
    service : vislab.catalogue.Service
        The family, whose codes a local check borrows when the service checks the same rule.

    Examples
    --------
    >>> from vislab import catalogue
    >>> from vislab.errors import InvalidImage
    >>> s = catalogue.service("baidu.image_classify")
    >>> failure_fields(InvalidImage("too small", rule="min_side"), s)
    {'error_code': 216202, 'error_rule': 'min_side', 'error_msg': 'too small'}
    >>> failure_fields(InvalidImage("no such file: a.jpg", rule="missing"), s)["error_code"]
    990100
    """
    if isinstance(exc, InvalidImage):
        request_rule = _SERVICE_RULES.get(exc.rule)
        code = service.error_code(request_rule) if request_rule else None
        return {
            "error_code": code or LOCAL_RULE_CODES.get(exc.rule, 990141),
            "error_rule": exc.rule,
            "error_msg": exc.msg,
        }
    if isinstance(exc, InvalidParameter):
        return {
            "error_code": service.error_code("param_invalid") or exc.code,
            "error_rule": f"param:{exc.name}",
            "error_msg": exc.msg,
        }
    if isinstance(exc, ServiceError):
        if isinstance(exc.code, int):
            rule = "http" if exc.http_status and exc.code == exc.http_status else "service"
            return {"error_code": exc.code, "error_rule": rule, "error_msg": exc.msg}
        code = TRANSPORT_CODES.get(exc.code)
        if code is None:
            code = 990400 if isinstance(exc, AuthError) else 990202
        return {"error_code": code, "error_rule": str(exc.code), "error_msg": exc.msg}
    return {
        "error_code": 990500,
        "error_rule": f"bug:{type(exc).__name__}",
        "error_msg": scrub(
            f"unexpected {type(exc).__name__} inside vislab: {exc} — please report it"
        ),
    }


def warn_failures(rows_per_input: list[list[dict]], what: str) -> None:
    """One warning for a call whose inputs failed: how many, the first reasons.

    ``rows_per_input`` holds each input's rows; an input failed when its row has an
    ``error_code``.
    """
    failed = [rows[0] for rows in rows_per_input if rows and rows[0].get("error_code") is not None]
    if not failed:
        return
    reasons = Counter((r["error_code"], r.get("error_rule")) for r in failed)
    first = "; ".join(f"{n}× {code} ({rule})" for (code, rule), n in reasons.most_common(3))
    example = failed[0]
    ident = next(
        (example[k] for k in ("image", "query", "cont_sign") if example.get(k) is not None), None
    )
    detail = str(example.get("error_msg") or "").rstrip(". ")
    if isinstance(ident, str) and len(ident) > 80:
        ident = ident[:77] + "..."
    message = (
        f"{what}: {len(failed)} of {len(rows_per_input)} inputs failed — {first}. "
        f"First: {ident!r}: {detail}. Their rows carry error_code / error_msg / error_rule; "
        "pass errors='raise' to stop at the first failure."
    )
    warnings.warn(message, FailedImagesWarning, stacklevel=user_stacklevel())
