"""Secrets out of text: :func:`scrub` and :func:`register_secret` (re-exported by
:mod:`vislab.errors`, where they used to live).

Every error message and log line vislab builds passes through :func:`scrub`, so keys and
tokens never reach a ``repr``, a log, a frame or a notebook output.  A leaf module: it imports
nothing of vislab.

Examples
--------
>>> scrub("client_secret=abcd&x=1")
'client_secret=***&x=1'
"""

from __future__ import annotations

import re

__all__ = ["scrub", "register_secret"]

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
