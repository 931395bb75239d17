"""Routing, authentication and request validation shared by every emulated endpoint."""

from __future__ import annotations

import base64
import binascii
import json
import random
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from vislab import catalogue
from vislab.errors import ERROR_MESSAGES, InvalidImage, InvalidParameter
from vislab.images import decode_pixels, encoded_size

__all__ = ["EmulatorApp", "WireError", "ImageInput", "handler"]

JSON = "application/json;charset=utf-8"


class WireError(Exception):
    """An error reply: ``{"error_code": code, "error_msg": msg, "log_id": ...}``.

    Examples
    --------
    >>> WireError(216201).msg
    'image format error'
    """

    def __init__(self, code: int, msg: str | None = None):
        super().__init__(code, msg)
        self.code = code
        self.msg = msg or ERROR_MESSAGES.get(code, "error")


@dataclass
class ImageInput:
    """A decoded request image: pixels for the engine and the bytes as sent."""

    pixels: np.ndarray
    data: bytes
    format: str


# (service, endpoint name) -> handler(app, endpoint, params, image) -> reply dict (no log_id)
_HANDLERS: dict[tuple[str, str], Callable[..., dict]] = {}


def handler(service: str, name: str):
    """Register the emulator handler of one catalogue endpoint.

    Examples
    --------
    >>> @handler("demo.service", "echo")
    ... def echo(app, ep, params, image):
    ...     return {"result": params}
    """

    def deco(func):
        _HANDLERS[(service, name)] = func
        return func

    return deco


def _load_handlers() -> None:
    from vislab.emulator import baidu_classify  # noqa: F401  (registers handlers)
    from vislab.emulator import imagesearch  # noqa: F401


class EmulatorApp:
    """Answer wire requests like the real services do.

    Parameters
    ----------
    api_key, secret_key : str, optional
        When given, ``/oauth/2.0/token`` checks them and every call needs a valid
        ``access_token`` (else codes 110 / 111).  When omitted, no token is needed.
    token_ttl : int
        Lifetime of issued tokens in seconds (Baidu: 30 days).
    home : str or Path, optional
        Folder for persistent state (logo library, galleries); default ``VISLAB_HOME``.

    Examples
    --------
    >>> app = EmulatorApp(api_key="k", secret_key="s")
    >>> status, _, body = app.handle("POST", "/oauth/2.0/token",
    ...     {"grant_type": "client_credentials", "client_id": "k", "client_secret": "s"}, {}, b"")
    >>> status, "brain_all_scope" in json.loads(body)["scope"]
    (200, True)
    """

    def __init__(self, *, api_key: str | None = None, secret_key: str | None = None,
                 token_ttl: int = 2592000, home=None):
        _load_handlers()
        self._api_key = api_key
        self._secret_key = secret_key
        self.token_ttl = token_ttl
        self.home = home
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self.state: dict[str, Any] = {}  # per-app engine state (stores), made lazily
        self.state_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EmulatorApp(auth={'on' if self.auth_required else 'off'})"

    @property
    def auth_required(self) -> bool:
        return bool(self._api_key)

    # -- plumbing -----------------------------------------------------------------------------
    @staticmethod
    def _reply(status: int, obj: Mapping[str, Any]) -> tuple[int, dict, bytes]:
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return status, {"Content-Type": JSON}, body

    @staticmethod
    def _log_id() -> int:
        return random.getrandbits(63)

    def _error(self, code: int, msg: str | None = None):
        err = WireError(code, msg)
        return self._reply(200, {"error_code": err.code, "error_msg": err.msg,
                                 "log_id": self._log_id()})

    def issue_token(self) -> str:
        token = f"24.{secrets.token_hex(16)}.{self.token_ttl}.{int(time.time())}-vislab"
        with self._lock:
            self._tokens[token] = time.time() + self.token_ttl
        return token

    def expire_token(self, token: str) -> None:
        """Make ``token`` expired now (tests use it to exercise the refresh path)."""
        with self._lock:
            if token in self._tokens:
                self._tokens[token] = 0.0

    def _check_token(self, query: Mapping[str, str]) -> int | None:
        if not self.auth_required:
            return None
        token = query.get("access_token")
        with self._lock:
            expires = self._tokens.get(token or "")
        if expires is None:
            return 110
        if expires < time.time():
            return 111
        return None

    # -- entry point --------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: Mapping[str, str],
               headers: Mapping[str, str], body: bytes) -> tuple[int, dict, bytes]:
        """Answer one request.  Never raises: every failure is a reply.

        Returns
        -------
        (status, headers, body)
        """
        try:
            return self._handle(method, path, dict(query), headers, body)
        except WireError as err:
            return self._error(err.code, err.msg)
        except Exception as exc:  # an engine bug must still answer like the service would
            return self._error(282000, f"internal error: {type(exc).__name__}")

    def _handle(self, method, path, query, headers, body):
        path = path.split("?", 1)[0]
        if path == "/oauth/2.0/token":
            return self._token_reply(query, headers, body)
        ep = catalogue.by_path(path)
        if ep is None or (ep.service, ep.name) not in _HANDLERS:
            return self._error(3, "Unsupported openapi method")
        if method != "POST":
            return self._error(3, f"{path} takes POST")
        code = self._check_token(query)
        if code is not None:
            return self._error(code)
        fields = self._decode_fields(ep, headers, body)
        params = self._params(ep, fields)
        image = self._image(ep, fields)
        result = _HANDLERS[(ep.service, ep.name)](self, ep, params, image)
        return self._reply(200, {"log_id": self._log_id(), **result})

    def _token_reply(self, query, headers, body):
        fields = dict(query)
        ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if body and "json" not in ctype:
            fields.update({k: v[-1] for k, v in urllib.parse.parse_qs(body.decode()).items()})
        if fields.get("grant_type") != "client_credentials":
            return self._reply(401, {"error": "unsupported_grant_type",
                                     "error_description": "The authorization grant type is "
                                                          "not supported"})
        if self.auth_required:
            if fields.get("client_id") != self._api_key:
                return self._reply(401, {"error": "invalid_client",
                                         "error_description": "unknown client id"})
            if fields.get("client_secret") != self._secret_key:
                return self._reply(401, {"error": "invalid_client",
                                         "error_description": "Client authentication failed"})
        token = self.issue_token()
        return self._reply(200, {
            "refresh_token": f"25.{secrets.token_hex(16)}",
            "expires_in": self.token_ttl,
            "session_key": secrets.token_hex(12),
            "access_token": token,
            # The official SDK sends the token (rather than BCE signatures) only when this
            # scope is present.
            "scope": "public brain_all_scope vis-classify_dishes vis-classify_car "
                     "brain_image_search vislab_local",
            "session_secret": secrets.token_hex(16),
        })

    @staticmethod
    def _decode_fields(ep, headers, body) -> dict[str, Any]:
        if ep.body == "json":
            try:
                fields = json.loads(body.decode("utf-8")) if body else {}
            except (UnicodeDecodeError, ValueError):
                raise WireError(336001, "Invalid Argument: the body is not JSON") from None
            if not isinstance(fields, dict):
                raise WireError(336001, "Invalid Argument: the body is not a JSON object")
            return fields
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WireError(216100, "invalid param: the form body is not UTF-8") from None
        return {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}

    @staticmethod
    def _params(ep, fields) -> dict[str, Any]:
        out = {}
        for p in ep.params:
            if p.name not in fields or fields[p.name] in ("", None):
                if p.required:
                    raise WireError(216101, f"not enough param: {p.name}")
                out[p.name] = p.default
                continue
            try:
                out[p.name] = p.coerce(fields[p.name])
            except InvalidParameter as exc:
                raise WireError(p.error_code, f"invalid param: {exc}") from None
        return out

    def _image(self, ep, fields) -> ImageInput | None:
        text = fields.get("image")
        url = fields.get("url")
        if text in (None, "") and url in (None, ""):
            if ep.image == "required":
                if "image" in fields:
                    raise WireError(216200, "empty image")
                raise WireError(216101, "not enough param: image")
            return None
        if text in (None, ""):
            data = self._fetch(url)
        else:
            if not isinstance(text, str):
                raise WireError(216100, "invalid param: image must be a base64 string")
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise WireError(216203, "image size error: bad base64 encoding") from None
        return self._check_image(ep, data)

    @staticmethod
    def _fetch(url: str) -> bytes:
        import requests

        if len(url.encode()) > 1024:
            raise WireError(282114)
        if not url.startswith(("http://", "https://")):
            raise WireError(282111)
        try:
            resp = requests.get(url, timeout=10)
        except requests.Timeout:
            raise WireError(282112) from None
        except requests.RequestException:
            raise WireError(282113) from None
        if resp.status_code != 200 or not resp.content:
            raise WireError(282113)
        return resp.content

    @staticmethod
    def _check_image(ep, data: bytes) -> ImageInput:
        limits = ep.limits
        if not data:
            raise WireError(216200)
        if encoded_size(data, limits.counts) > limits.max_encoded_bytes:
            raise WireError(216202, f"image size error: more than {limits.max_encoded_bytes} "
                                    f"bytes after {limits.counts}")
        try:
            pixels, fmt = decode_pixels(data)
        except InvalidImage:
            raise WireError(216201) from None
        if fmt not in limits.formats:
            raise WireError(216201, f"image format error: {fmt} is not one of "
                                    f"{'/'.join(limits.formats)}")
        h, w = pixels.shape[:2]
        if max(h, w) > limits.max_side or min(h, w) < limits.min_side:
            raise WireError(216202, f"image size error: {w}x{h} px is outside "
                                    f"{limits.min_side}..{limits.max_side} px")
        if limits.max_aspect and max(h, w) / min(h, w) > limits.max_aspect:
            raise WireError(216202, f"image size error: aspect ratio above "
                                    f"{limits.max_aspect:g}:1")
        return ImageInput(pixels=pixels, data=data, format=fmt)
