"""The private image-search wire format: the JSON body of a request, the envelope of a reply.

What a Baidu image-search box speaks on ``/RTSAsService/*`` (the client is
:class:`vislab.services.baidu_image_search_private.PrivateImageSearch`, which re-exports both):

* :func:`wire_body` turns the parameters a caller chose (``appid``, ``brief``,
  ``cont_sign``, ``pn``/``rn``) into the private JSON body (``from``, ``logid``,
  ``format: "json"``, ``features`` with fea_id 1000 = base64 brief and 999 = the fixed 8-byte
  struct, ``contsign {sign1, sign2}``, ``contsigns``);
* :class:`RtsasEnvelope` reads ``err_no``/``err_msg`` as typed errors of the family's table
  and returns a success in the cloud family's shape, so the cloud parsers and frames apply.
"""

from __future__ import annotations

import base64
import random
import struct

from vislab.errors import InvalidParameter, MalformedResponse, error_for_code
from vislab.transport.envelopes import Envelope, register_envelope

__all__ = ["wire_body", "RtsasEnvelope", "FEATURE_999"]

#: fea_id 999 of an add: the fixed struct the spec's sample sends.
FEATURE_999 = base64.b64encode(struct.pack("II", 0, 4)).decode()


def _contsign(text: str) -> dict:
    try:
        a, b = (int(v) for v in str(text).split(","))
    except ValueError:
        raise InvalidParameter(
            f"cont_sign must be two integers joined by a comma ('4261577168,501945506'), "
            f"got {text!r}",
            name="cont_sign",
        ) from None
    return {"sign1": a, "sign2": b}


def wire_body(operation: str, fields, *, caller: str = "vislab") -> dict:
    """The private API's JSON body for one operation, from the caller's parameters.

    Parameters
    ----------
    operation : {"add", "search", "update", "delete", "snapshot", "signup"}
        The gallery operation (``delete`` is the wire's ``remove``).
    fields : mapping
        ``appid`` and, as the operation takes them, ``image`` (base64), ``brief``,
        ``cont_sign`` (``"a,b"``; ``;``-joined for a batch remove), ``pn``, ``rn``.
    caller : str
        The ``from`` tag.

    Returns
    -------
    dict
        The body: ``appid``, ``from``, ``logid``, ``format``, then ``image``, ``pn``/``rn``,
        ``contsign``/``contsigns`` and ``features`` as the operation needs.

    Examples
    --------
    >>> body = wire_body("add", {"appid": "shop", "image": "aGk=", "brief": "cup"})
    >>> [f["fea_id"] for f in body["features"]], body["format"]
    ([1000, 999], 'json')
    >>> wire_body("delete", {"appid": "shop", "cont_sign": "1,2;3,4"})["contsigns"]
    [{'sign1': 1, 'sign2': 2}, {'sign1': 3, 'sign2': 4}]
    """
    body = {
        "appid": fields["appid"],
        "from": caller,
        "logid": random.getrandbits(32),
        "format": "json",
    }
    if fields.get("image"):
        body["image"] = fields["image"]
    brief = fields.get("brief")
    if operation == "add":
        body["features"] = [
            {"fea_id": 1000, "fea_data": base64.b64encode(str(brief or "").encode()).decode()},
            {"fea_id": 999, "fea_data": FEATURE_999},
        ]
    elif operation == "update" and brief is not None:
        body["features"] = [{"fea_id": 1000, "fea_data": base64.b64encode(brief.encode()).decode()}]
    if operation == "search":
        for key in ("pn", "rn"):
            if fields.get(key) is not None:
                body[key] = int(fields[key])
    sign = fields.get("cont_sign")
    if sign and "image" not in body:
        signs = [s for s in str(sign).split(";") if s.strip()]
        if operation == "delete" and len(signs) > 1:
            body["contsigns"] = [_contsign(s) for s in signs]
        else:
            body["contsign"] = _contsign(signs[0])
    return body


def _sign_text(item) -> str | None:
    sign = (item or {}).get("contsign") or {}
    if "sign1" not in sign:
        return None
    return f"{sign['sign1']},{sign.get('sign2')}"


def _brief_of(item) -> str | None:
    for fea in (item or {}).get("features") or []:
        if isinstance(fea, dict) and fea.get("fea_id") == 1000:
            try:
                return base64.b64decode(fea.get("fea_data") or "").decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return fea.get("fea_data")
    return None


@register_envelope
class RtsasEnvelope(Envelope):
    """The private API's replies: ``err_no`` 0 is success; read into the cloud's shape.

    A success becomes ``{"cont_sign", "result": [{"cont_sign", "score", "brief"}],
    "result_num", "has_more", "snapshot"}`` (the cloud family's parsers read it); a failure
    raises the typed error of the family's ``err_no`` table.

    Examples
    --------
    >>> from vislab.catalogue.baidu_image_search_private import CODES
    >>> from vislab.transport.wire import WireReply
    >>> ok = b'{"err_no": 0, "data_items": [{"contsign": {"sign1": 1, "sign2": 2}}]}'
    >>> RtsasEnvelope(CODES).decode(WireReply(200, {}, ok))["cont_sign"]
    '1,2'
    >>> RtsasEnvelope(CODES).decode(WireReply(200, {}, b'{"err_no": 102, "err_msg": "x"}'))
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidRequest: [102] x
    """

    name = "rtsas"

    def decode(self, reply):
        data = self.json(reply)
        code = data.get("err_no")
        if code is None:
            raise MalformedResponse(
                "malformed_reply",
                f"HTTP {reply.status}: the reply has no err_no — is this a private "
                "deployment's retrieval service (port 8025, picture-book 8027)?",
                http_status=reply.status,
            )
        items = data.get("data_items") or []
        if int(code) != 0:
            msg = data.get("err_msg") or None
            stored = _sign_text(items[0]) if items else None
            if stored:
                msg = f"{msg or 'duplicated add'} (the stored item: cont_sign {stored})"
            raise error_for_code(
                int(code), msg, data.get("logid"), table=self.table, http_status=reply.status
            )
        result = [
            {"cont_sign": _sign_text(i), "score": i.get("score"), "brief": _brief_of(i)}
            for i in items
        ]
        out = {
            "result_num": len(result),
            "result": result,
            "has_more": bool(int(data.get("has_more") or 0)),
        }
        if result:
            out["cont_sign"] = result[0]["cont_sign"]
        if "snapshot" in data:
            out["snapshot"] = data["snapshot"]
        return out
