"""Reading a request as the service does: body fields, parameters and the image.

Every refusal is a :class:`~vislab.emulator.registry.WireError` with the code the endpoint's
family answers for that rule (``Service.request_errors``).  Reading is bounded: image sizes are
checked from the header before any pixel is decoded (a decompression bomb is refused, not
decoded), and an image fetched from a ``url`` field is streamed with a byte cap and a
wall-clock deadline.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from typing import Any

from vislab.emulator.registry import ImageInput, WireError
from vislab.errors import InvalidImage, InvalidParameter
from vislab.images import decode_pixels, encoded_size, read_header
from vislab.images.download import DownloadError, download

__all__ = [
    "decode_fields",
    "read_params",
    "read_image",
    "fetch_url",
    "URL_DEADLINE",
    "MAX_URL_BYTES",
]

#: Seconds an image host gets to deliver a ``url`` image (the whole download).
URL_DEADLINE = 10.0
#: Longest ``url`` value (Baidu: 1024 bytes; 282114 beyond).
MAX_URL_BYTES = 1024


def _code(service, rule: str, fallback: int) -> int:
    return service.error_code(rule, fallback)


def decode_fields(service, ep, body: bytes) -> dict[str, Any]:
    """The body's fields: a JSON object for JSON endpoints, form fields otherwise."""
    if ep.body == "json":
        try:
            fields = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, ValueError):
            raise WireError(
                _code(service, "body", 336001), "Invalid Argument: the body is not JSON"
            ) from None
        if not isinstance(fields, dict):
            raise WireError(
                _code(service, "body", 336001), "Invalid Argument: the body is not a JSON object"
            )
        return fields
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(
            _code(service, "body", 216100), "invalid param: the form body is not UTF-8"
        ) from None
    return {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


def read_params(service, ep, fields, path_params) -> dict[str, Any]:
    """The endpoint's parameters, validated, with defaults; path parameters included."""
    out: dict[str, Any] = dict(path_params)
    for p in ep.params:
        if p.name not in fields or fields[p.name] in ("", None):
            if p.required:
                raise WireError(
                    _code(service, "param_missing", 216101), f"not enough param: {p.name}"
                )
            out[p.name] = p.default
            continue
        try:
            out[p.name] = p.coerce(fields[p.name])
        except InvalidParameter as exc:
            code = p.error_code or _code(service, "param_invalid", 216100)
            raise WireError(code, f"invalid param: {exc}") from None
    return out


def read_image(service, ep, fields) -> ImageInput | None:
    """The request's image (from the endpoint's image field, or its URL field), checked."""
    text = fields.get(ep.image_field)
    url = fields.get(ep.url_field) if ep.url_field else None
    if text in (None, "") and url in (None, ""):
        if ep.image == "required":
            if ep.image_field in fields:
                raise WireError(_code(service, "empty", 216200), "empty image")
            raise WireError(
                _code(service, "missing", 216101), f"not enough param: {ep.image_field}"
            )
        return None
    if text in (None, ""):
        data = fetch_url(service, url, max_bytes=ep.limits.max_encoded_bytes)
    else:
        if not isinstance(text, str):
            raise WireError(
                _code(service, "param_invalid", 216100),
                f"invalid param: {ep.image_field} must be a base64 string",
            )
        # A base64 text decodes to 3/4 of its length: refuse before decoding a huge one.
        if len(text) * 3 // 4 > 2 * ep.limits.max_encoded_bytes:
            raise WireError(
                _code(service, "bytes", 216202),
                f"image size error: more than {ep.limits.max_encoded_bytes} bytes",
            )
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise WireError(
                _code(service, "base64", 216203), "image size error: bad base64 encoding"
            ) from None
    return check_image(service, ep, data)


def check_image(service, ep, data: bytes) -> ImageInput:
    """Apply the endpoint's image rules to the bytes, the header first, then decode."""
    limits = ep.limits
    if not data:
        raise WireError(_code(service, "empty", 216200), "empty image")
    if encoded_size(data, limits.counts) > limits.max_encoded_bytes:
        raise WireError(
            _code(service, "bytes", 216202),
            f"image size error: more than {limits.max_encoded_bytes} bytes after {limits.counts}",
        )
    try:
        w, h, fmt = read_header(data)
    except InvalidImage:
        raise WireError(
            _code(service, "format", 216201), "image format error: not a readable image"
        ) from None
    if fmt not in limits.formats:
        raise WireError(
            _code(service, "format", 216201),
            f"image format error: {fmt} is not one of {'/'.join(limits.formats)}",
        )
    if max(h, w) > limits.max_side:
        raise WireError(
            _code(service, "max_side", 216202),
            f"image size error: {w}x{h} px is beyond {limits.max_side} px",
        )
    if min(h, w) < limits.min_side:
        raise WireError(
            _code(service, "min_side", 216202),
            f"image size error: {w}x{h} px is below {limits.min_side} px",
        )
    if limits.max_aspect and max(h, w) / max(1, min(h, w)) > limits.max_aspect:
        raise WireError(
            _code(service, "aspect", 216202),
            f"image size error: aspect ratio above {limits.max_aspect:g}:1",
        )
    try:
        pixels, fmt = decode_pixels(data)
    except InvalidImage:
        raise WireError(
            _code(service, "format", 216201), "image format error: the image data is damaged"
        ) from None
    return ImageInput(pixels=pixels, data=data, format=fmt)


def fetch_url(service, url: Any, *, max_bytes: int) -> bytes:
    """Download an image the way the service does: http(s) only, capped, with a deadline."""
    url = str(url)
    if len(url.encode("utf-8")) > MAX_URL_BYTES:
        raise WireError(_code(service, "url_size", 282114),
                        f"url size error: longer than {MAX_URL_BYTES} bytes")
    if not url.startswith(("http://", "https://")):
        raise WireError(_code(service, "url_format", 282111))
    try:
        data = download(url, max_bytes=max_bytes, deadline=URL_DEADLINE)
    except DownloadError as exc:
        if exc.kind == "size":
            raise WireError(_code(service, "bytes", 216202),
                            f"image size error: the url's image is over {max_bytes} bytes") \
                from None
        if exc.kind == "timeout":
            raise WireError(_code(service, "url_timeout", 282112),
                            f"url download timeout: over {URL_DEADLINE:g} s") from None
        raise WireError(_code(service, "url_invalid", 282113),
                        f"url response invalid: {exc}") from None
    if not data:
        raise WireError(_code(service, "url_invalid", 282113), "url response invalid: empty")
    return data
