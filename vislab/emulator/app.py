"""Routing and authentication shared by every emulated endpoint, for every family.

:meth:`EmulatorApp.handle` maps a raw request to a raw reply: it finds the endpoint from the
catalogue (fixed paths, then ``{name}`` templates), checks the family's auth, reads the body,
parameters and image as the service does (:mod:`vislab.emulator.inputs`), calls the handler
the family's emulator module registered, and wraps the payload or the error in the family's
reply envelope (:mod:`vislab.emulator.replies`).  Handler modules are found from the catalogue
(``Service.emulator``): nothing here names a family's module.
"""

from __future__ import annotations

import json  # noqa: F401  (the examples read replies with it)
import threading
from collections.abc import Mapping
from typing import Any

from vislab import catalogue
from vislab.emulator.auth import BaiduTokens, check_eas
from vislab.emulator.errors import wire_error
from vislab.emulator.inputs import decode_fields, read_image, read_params
from vislab.emulator.registry import ImageInput, WireError, handler_for
from vislab.emulator.replies import json_reply, reply_format
from vislab.transport.auth import TOKEN_PATH

__all__ = ["EmulatorApp", "WireError", "ImageInput"]


class EmulatorApp:
    """Answer wire requests like the real services do.

    Parameters
    ----------
    api_key, secret_key : str, optional
        When given, Baidu's ``/oauth/2.0/token`` checks them and every Baidu-family call needs
        a valid ``access_token`` (else codes 110 / 111).  When omitted, no token is needed.
    eas_token : str, optional
        When given, PAI EAS calls need it in ``Authorization`` (as is, or its HMAC form).
    token_ttl : int
        Lifetime of issued Baidu tokens in seconds (Baidu: 30 days).
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

    def __init__(
        self,
        *,
        api_key: str | None = None,
        secret_key: str | None = None,
        eas_token: str | None = None,
        token_ttl: int = 2592000,
        home=None,
    ):
        self.baidu_tokens = BaiduTokens(api_key, secret_key, token_ttl)
        self._eas_token = eas_token
        self.token_ttl = token_ttl
        self.home = home
        self.state: dict[str, Any] = {}  # per-app engine state (stores), made lazily
        self.state_lock = threading.Lock()
        self._formats: dict[str, Any] = {}  # service id -> reply format, made on first use

    def __repr__(self) -> str:
        return f"EmulatorApp(auth={'on' if self.auth_required else 'off'})"

    @property
    def auth_required(self) -> bool:
        return self.baidu_tokens.required or bool(self._eas_token)

    # -- Baidu tokens (kept as methods: tests and notebooks use them) ---------------------------
    def issue_token(self) -> str:
        return self.baidu_tokens.issue()

    def expire_token(self, token: str) -> None:
        """Make ``token`` expired now (tests use it to exercise the refresh path)."""
        self.baidu_tokens.expire(token)

    # -- entry point --------------------------------------------------------------------------
    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> tuple[int, dict, bytes]:
        """Answer one request.  Never raises: every failure is a reply.

        Returns
        -------
        (status, headers, body)
        """
        path = path.split("?", 1)[0]
        if path == TOKEN_PATH:
            return self.baidu_tokens.token_reply(dict(query), headers, body)
        found = catalogue.route(path)
        if found is None:
            return self.unknown(path)
        ep, path_params = found
        service = catalogue.service(ep.service)
        func = handler_for(service, ep.name)  # loads the family's module (and its format)
        fmt = self._formats.get(service.id)
        if fmt is None:
            fmt = self._formats.setdefault(service.id, reply_format(service))
        try:
            if func is None:
                return self.unknown(path)
            if method != "POST":
                raise WireError(3, f"{path} takes POST", status=405)
            self._check_auth(service, method, path, query, headers, body)
            fields = decode_fields(service, ep, body)
            params = read_params(service, ep, fields, path_params)
            image = read_image(service, ep, fields)
            return fmt.ok(func(self, ep, params, image))
        except Exception as exc:
            err = wire_error(exc)
            if err is None:
                # An engine bug must still answer like the service would.
                err = WireError(
                    service.error_code("internal", 282000),
                    f"internal error: {type(exc).__name__}",
                    status=500,
                )
            return fmt.error(err)

    @staticmethod
    def unknown(path: str) -> tuple[int, dict, bytes]:
        """The reply to a path no family serves (Baidu's "Unsupported openapi method")."""
        return json_reply(200, {"error_code": 3, "error_msg": "Unsupported openapi method"})

    def _check_auth(self, service, method, path, query, headers, body) -> None:
        if service.auth == "baidu_token":
            self.baidu_tokens.check(query)
        elif service.auth == "eas":
            check_eas(self._eas_token, method, path, headers, body)
