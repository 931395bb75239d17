"""Each family's reply shape: the success envelope and the error envelope it sends.

The transport's envelopes (:mod:`vislab.transport.envelopes`) read what these write, so a
client parses a local reply exactly as it parses the cloud's.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from typing import Any

from vislab.emulator.registry import WireError

__all__ = ["JSON", "json_reply", "ReplyFormat", "reply_format", "register_format"]

JSON = "application/json;charset=utf-8"


def json_reply(status: int, obj: Mapping[str, Any]) -> tuple[int, dict, bytes]:
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return status, {"Content-Type": JSON}, body


class ReplyFormat:
    """Baidu: ``log_id`` on every reply; errors as ``error_code``/``error_msg`` with HTTP 200."""

    def __init__(self, table=None):
        self.table = table

    def message(self, err: WireError) -> str:
        if err.msg:
            return err.msg
        return self.table.message(err.code, "error") if self.table is not None else "error"

    def ok(self, payload: Mapping[str, Any]) -> tuple[int, dict, bytes]:
        return json_reply(200, {"log_id": random.getrandbits(63), **payload})

    def error(self, err: WireError) -> tuple[int, dict, bytes]:
        return json_reply(
            err.status or 200,
            {
                "error_code": err.code,
                "error_msg": self.message(err),
                "log_id": random.getrandbits(63),
            },
        )


class PaiReplyFormat(ReplyFormat):
    """PAI EAS: ``request_id`` and ``success``; failures also by HTTP status (400 unless said)."""

    def ok(self, payload):
        return json_reply(200, {"request_id": str(uuid.uuid4()), "success": True, **payload})

    def error(self, err):
        return json_reply(
            err.status or 400,
            {
                "request_id": str(uuid.uuid4()),
                "success": False,
                "error_code": err.code,
                "error_msg": self.message(err),
            },
        )


class GenericReplyFormat(ReplyFormat):
    """The generic classification API: ``code`` 10000 on success, else ``code``/``message``."""

    def ok(self, payload):
        return json_reply(200, {"code": 10000, **payload})

    def error(self, err):
        return json_reply(err.status or 200, {"code": err.code, "message": self.message(err)})


_FORMATS: dict[str, type[ReplyFormat]] = {
    "baidu": ReplyFormat,
    "pai": PaiReplyFormat,
    "generic": GenericReplyFormat,
}


def register_format(name: str):
    """Decorator: a family's own reply format, registered by its emulator module (so a new
    wire format edits no core module).

    Examples
    --------
    >>> @register_format("doc-example")
    ... class DocFormat(ReplyFormat):
    ...     pass
    >>> _FORMATS["doc-example"] is DocFormat
    True
    """

    def deco(cls):
        known = _FORMATS.get(name)
        if known is not None and known is not cls:
            raise ValueError(f"reply format {name!r} registered twice")
        _FORMATS[name] = cls
        return cls

    return deco


def reply_format(service) -> ReplyFormat:
    """The reply format of a catalogue ``Service`` (by its ``envelope``; a family's own format
    is registered by its emulator module, which must be loaded first)."""
    return _FORMATS[service.envelope](service.errors)
