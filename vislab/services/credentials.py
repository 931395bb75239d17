"""Credentials and auth pieces for a client: what ``api_key`` / ``secret_key`` / ``token`` and
``auth=`` become (the family's catalogue declares which kind it takes)."""

from __future__ import annotations

from vislab.errors import InvalidParameter
from vislab.transport import BaiduTokenAuth, BceAuth, EasHmacAuth, EasTokenAuth, NoAuth

__all__ = ["build_auth", "check_credential", "signed_auth_option"]


def build_auth(
    kind: str,
    *,
    api_key: str | None = None,
    secret_key: str | None = None,
    token: str | None = None,
    signed: bool = False,
):
    """The auth piece a family declares (``Service.auth``), from the given credentials.

    ``signed`` picks the signing form: EAS's HMAC, or Baidu's BCE signature instead of the
    token.

    Examples
    --------
    >>> build_auth("baidu_token", api_key="AK", secret_key="SK")
    BaiduTokenAuth(token_path='/oauth/2.0/token', api_key='***', secret_key='***')
    >>> build_auth("baidu_token", api_key="AK", secret_key="SK", signed=True)
    BceAuth(expiry=1800, api_key='***', secret_key='***')
    >>> build_auth("eas", token="t0ken", signed=True)
    EasHmacAuth(token='***')
    >>> build_auth("baidu_token")
    NoAuth()
    """
    if kind == "baidu_token":
        if not api_key:
            return NoAuth()
        return BceAuth(api_key, secret_key) if signed else BaiduTokenAuth(api_key, secret_key)
    if kind == "eas":
        if not token:
            return NoAuth()
        return EasHmacAuth(token) if signed else EasTokenAuth(token)
    if kind == "none":
        return NoAuth()
    raise ValueError(f"unknown auth kind {kind!r}")


def check_credential(name: str, value):
    if value is None or isinstance(value, str):
        return value or None
    raise InvalidParameter(
        f"{name} must be a string (the key from the console), got {type(value).__name__}; "
        "leave it out to run offline on the local engine",
        name=name,
    )


def signed_auth_option(spec, auth: str | None) -> bool:
    """Whether ``auth=`` asks for signed requests; only Baidu families have a choice."""
    if auth is None:
        return False
    if spec.auth == "baidu_token" and auth in ("token", "bce"):
        return auth == "bce"
    choices = "'token' or 'bce'" if spec.auth == "baidu_token" else "nothing (leave it out)"
    raise InvalidParameter(f"auth must be {choices} for {spec.title}, got {auth!r}", name="auth")
