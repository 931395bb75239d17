"""The service catalogue: every endpoint declared once, as data.

An :class:`Endpoint` names the client method, the wire path, the body encoding (form or
JSON), the parameters with their types, ranges and defaults, the image rules, the frame kind
and the parser that turns one wire reply into frame rows.  Client methods
(:mod:`vislab.services`), request validation (client side *and* emulator side), the
emulator's routes (:mod:`vislab.emulator`) and the docs tables all read these declarations.

Parsers return plain row dicts (no pandas), so the emulator can import the catalogue while
knowing nothing of DataFrames.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vislab.errors import InvalidParameter
from vislab.images import ImageLimits

__all__ = ["Param", "Endpoint", "register", "get", "by_path", "endpoints", "ImageLimits"]


@dataclass(frozen=True)
class Param:
    """One request parameter of an endpoint.

    Parameters
    ----------
    name : str
        Wire name (also the client keyword).
    kind : {"int", "float", "str", "bool", "json", "int_list"}
        Python-side type; see :meth:`to_wire` for the wire form.
    required : bool
    default : object
        The service's documented default (for docs; not sent unless given).
    minimum, maximum : number, optional
        Inclusive range for numbers; for ``"str"`` the byte length range.
    choices : tuple, optional
        Allowed values.
    wire_str : bool
        Send numbers as strings (the Baidu specs type ``top_num`` as a string).
    error_code : int
        The code the service answers when this parameter is bad.
    doc : str
        One line for docs tables and docstrings.

    Examples
    --------
    >>> p = Param("top_num", "int", minimum=1, maximum=20, wire_str=True)
    >>> p.to_wire(3)
    '3'
    >>> p.to_wire(0)
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidParameter: top_num must be in 1..20, got 0
    """

    name: str
    kind: str = "str"
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    wire_str: bool = False
    error_code: int = 216100
    doc: str = ""

    def coerce(self, value: Any) -> Any:
        """Check ``value`` and return it in its Python type; raise InvalidParameter."""
        name = self.name
        try:
            if self.kind == "int":
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                value = int(value)
            elif self.kind == "float":
                value = float(value)
            elif self.kind == "bool":
                if isinstance(value, str):
                    if value.lower() not in ("true", "false", "1", "0"):
                        raise ValueError
                    value = value.lower() in ("true", "1")
                else:
                    value = bool(value)
            elif self.kind == "str":
                value = str(value)
            elif self.kind == "int_list":
                if isinstance(value, str):
                    value = [v for v in value.split(",") if v.strip()]
                elif not isinstance(value, (list, tuple)):
                    value = [value]
                value = [int(v) for v in value]
        except (TypeError, ValueError):
            raise InvalidParameter(
                f"{name} must be of type {self.kind}, got {value!r}", name=name
            ) from None
        if self.choices is not None and value not in self.choices:
            raise InvalidParameter(
                f"{name} must be one of {list(self.choices)}, got {value!r}", name=name
            )
        lo, hi = self.minimum, self.maximum
        if self.kind in ("int", "float"):
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise InvalidParameter(f"{name} must be in {_rng(lo, hi)}, got {value!r}", name=name)
        elif self.kind == "str" and (lo is not None or hi is not None):
            n = len(value.encode("utf-8"))
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                raise InvalidParameter(
                    f"{name} must be {_rng(lo, hi)} bytes long (UTF-8), got {n}", name=name
                )
        elif self.kind == "int_list":
            for v in value:
                if (lo is not None and v < lo) or (hi is not None and v > hi):
                    raise InvalidParameter(
                        f"every {name} value must be in {_rng(lo, hi)}, got {v}", name=name
                    )
        return value

    def to_wire(self, value: Any) -> Any:
        """Validated wire form of ``value`` (strings for form bodies where the spec says so)."""
        value = self.coerce(value)
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "int_list":
            return ",".join(str(v) for v in value)
        if self.wire_str:
            return str(value)
        return value


def _rng(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g}..{hi:g}"
    return f">= {lo:g}" if lo is not None else f"<= {hi:g}"


@dataclass(frozen=True)
class Endpoint:
    """One service endpoint, declared once.

    Parameters
    ----------
    name : str
        Client method name (snake_case of the service's own name), e.g. ``"dish_detect"``.
    service : str
        Service family, e.g. ``"baidu.image_classify"``.
    path : str
        Wire path below the base URL.
    body : {"form", "json"}
        Request body encoding.
    params : tuple of Param
        Parameters other than the image.
    image : {"required", "optional", "none"}
        Whether the request carries an ``image`` (base64) field; ``url`` is its alternative.
    limits : ImageLimits
    frame : {"labels", "boxes", "matches", "gallery", "none"}
        Kind of frame the client builds.
    parse : callable(reply: dict, image_id: str) -> list[dict]
        Wire reply -> frame rows (no pandas).
    auth : {"baidu_token", "eas", "appkey", "none"}
    doc : str
        One-paragraph description for docstrings and docs tables.
    """

    name: str
    service: str
    path: str
    body: str = "form"
    params: tuple[Param, ...] = ()
    image: str = "required"
    limits: ImageLimits = field(default_factory=ImageLimits)
    frame: str = "labels"
    parse: Callable[[Mapping[str, Any], str], list[dict]] | None = None
    auth: str = "baidu_token"
    doc: str = ""

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def wire_params(self, options: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Validate client keyword options and return the wire parameters (None = omitted).

        ``partial=True`` skips the check for required parameters (they come per image).

        Examples
        --------
        >>> ep = get("baidu.image_classify", "dish_detect")
        >>> ep.wire_params({"top_num": 3, "filter_threshold": None})
        {'top_num': '3'}
        """
        out: dict[str, Any] = {}
        for key, value in options.items():
            if value is None:
                continue
            p = self.param(key)
            if p is None:
                known = ", ".join(q.name for q in self.params) or "none"
                raise InvalidParameter(
                    f"{self.name} has no parameter {key!r} (parameters: {known})", name=key
                )
            out[key] = p.to_wire(value)
        for p in self.params:
            if p.required and p.name not in out and not partial:
                raise InvalidParameter(f"{self.name} needs the parameter {p.name!r}", name=p.name)
        return out


_REGISTRY: dict[tuple[str, str], Endpoint] = {}


def register(*eps: Endpoint) -> None:
    """Add endpoints to the catalogue (each (service, name) once)."""
    for ep in eps:
        key = (ep.service, ep.name)
        if key in _REGISTRY and _REGISTRY[key] is not ep:
            raise ValueError(f"endpoint {key} declared twice")
        _REGISTRY[key] = ep


def _load_all() -> None:
    # Importing the declaration modules registers them; kept lazy so `import vislab` is cheap.
    from vislab.catalogue import baidu_classify  # noqa: F401
    from vislab.catalogue import baidu_imagesearch  # noqa: F401


def get(service: str, name: str) -> Endpoint:
    """The endpoint ``name`` of ``service``.

    Examples
    --------
    >>> get("baidu.image_classify", "advanced_general").path
    '/rest/2.0/image-classify/v2/advanced_general'
    """
    _load_all()
    return _REGISTRY[(service, name)]


def endpoints(service: str | None = None) -> list[Endpoint]:
    """All declared endpoints, optionally of one service.

    Examples
    --------
    >>> "dish_detect" in [e.name for e in endpoints("baidu.image_classify")]
    True
    """
    _load_all()
    return [e for (s, _), e in _REGISTRY.items() if service is None or s == service]


def by_path(path: str) -> Endpoint | None:
    """The endpoint served at ``path`` (for the emulator's router).

    Examples
    --------
    >>> by_path("/rest/2.0/image-classify/v1/car").name
    'car_detect'
    """
    _load_all()
    for ep in _REGISTRY.values():
        if ep.path == path:
            return ep
    return None


def markdown_table(service: str) -> str:
    """The docs table of a service's endpoints, generated from the declarations.

    The README embeds this table between ``<!-- catalogue:SERVICE -->`` markers; a test keeps
    it in step (regenerate with ``python -m vislab.catalogue``).

    Examples
    --------
    >>> print(markdown_table("baidu.image_classify").splitlines()[0])
    | method | path | options | frame |
    """
    lines = ["| method | path | options | frame |", "|---|---|---|---|"]
    for ep in endpoints(service):
        opts = []
        for p in ep.params:
            rng = ""
            if p.choices is not None:
                rng = " in " + "/".join(map(str, p.choices))
            elif p.minimum is not None or p.maximum is not None:
                rng = " " + _rng(p.minimum, p.maximum) + (" B" if p.kind == "str" else "")
            default = "" if p.default is None else f", default {p.default}"
            opts.append(f"`{p.name}`{' (required)' if p.required else ''}{rng}{default}")
        lines.append(f"| `{ep.name}` | `{ep.path}` | {'; '.join(opts) or '—'} | {ep.frame} |")
    return "\n".join(lines)


def sync_readme(readme_path) -> bool:
    """Rewrite the catalogue tables in a README; return True when something changed."""
    import re
    from pathlib import Path

    path = Path(readme_path)
    text = path.read_text("utf-8")

    def replace(match):
        service = match.group(1)
        return f"<!-- catalogue:{service} -->\n{markdown_table(service)}\n<!-- /catalogue -->"

    new = re.sub(r"<!-- catalogue:([\w.]+) -->.*?<!-- /catalogue -->", replace, text,
                 flags=re.S)
    if new != text:
        path.write_text(new, "utf-8")
    return new != text
