"""What the catalogue declares: parameters, endpoints, products and service families.

These are plain frozen dataclasses with no behaviour beyond checking values, so the clients
(:mod:`vislab.services`), the emulator (:mod:`vislab.emulator`), the engine's per-product
policies and the docs tables can all read one declaration.  Parsers named by endpoints return
plain row dicts (no pandas), so the emulator can import the catalogue while knowing nothing of
DataFrames.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Re-exported: the number parsing of replies used to live in this module.
from vislab.catalogue.parsing import as_int, as_number
from vislab.errors import CodeTable, InvalidParameter
from vislab.images import ImageLimits

__all__ = [
    "Param",
    "Endpoint",
    "Product",
    "Service",
    "ImageLimits",
    "REQUEST_RULES",
    "as_int",
    "as_number",
]

#: Request problems a family maps to its wire codes (:attr:`Service.request_errors`).
REQUEST_RULES = (
    "body",  # the body cannot be read (not JSON where JSON is due, not UTF-8)
    "param_missing",  # a required parameter is absent
    "param_invalid",  # a parameter breaks its rule
    "internal",  # the service failed on its side
    "missing",  # no image field at all
    "empty",  # the field is there but empty
    "base64",  # not valid base64
    "format",  # not a format the endpoint takes (or not an image)
    "bytes",  # more bytes than the endpoint allows (as the service counts them)
    "max_side",  # a side longer than allowed
    "min_side",  # a side shorter than allowed
    "aspect",  # longest / shortest side beyond the limit
    "blank",  # nothing to recognise: a single-colour picture
    "url_format",  # not an http(s) URL
    "url_timeout",  # the image host did not answer in time
    "url_invalid",  # the image host answered with no image
    "url_size",  # URL empty or too long
)


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
    max_items : int, optional
        For ``"int_list"``: the most values the service takes.
    error_code : int, optional
        The code the service answers when this parameter is bad (default: the family's
        ``param_invalid`` code).
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
    max_items: int | None = None
    error_code: int | None = None
    doc: str = ""

    def coerce(self, value: Any) -> Any:
        """Check ``value`` and return it in its Python type; raise InvalidParameter."""
        name = self.name
        try:
            if self.kind == "int":
                value = as_int(value)
            elif self.kind == "float":
                if isinstance(value, bool):
                    raise ValueError
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
                elif isinstance(value, (numbers.Number, bool)) or getattr(value, "ndim", 1) == 0:
                    value = [value]
                value = [as_int(v) for v in value]
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
                raise InvalidParameter(
                    f"{name} must be in {_rng(lo, hi)}, got {value!r}", name=name
                )
        elif self.kind == "str" and (lo is not None or hi is not None):
            n = len(value.encode("utf-8"))
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                raise InvalidParameter(
                    f"{name} must be {_rng(lo, hi)} bytes long (UTF-8), got {n}", name=name
                )
        elif self.kind == "int_list":
            if self.max_items is not None and len(value) > self.max_items:
                raise InvalidParameter(
                    f"at most {self.max_items} {name}, got {len(value)}", name=name
                )
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

    def describe(self) -> str:
        """The parameter as one docs-table cell: name, range or choices, default."""
        rng = ""
        if self.choices is not None:
            rng = " in " + "/".join(map(str, self.choices))
        elif self.minimum is not None or self.maximum is not None:
            rng = " " + _rng(self.minimum, self.maximum) + (" B" if self.kind == "str" else "")
        default = "" if self.default is None else f", default {self.default}"
        return f"`{self.name}`{' (required)' if self.required else ''}{rng}{default}"


def _rng(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g}..{hi:g}"
    return f">= {lo:g}" if lo is not None else f"<= {hi:g}"


_PATH_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Endpoint:
    """One service endpoint, declared once.

    Parameters
    ----------
    name : str
        Client method name (snake_case of the service's own name), e.g. ``"dish_detect"``.
    service : str
        Service family id, e.g. ``"baidu.image_classify"``.
    path : str
        Wire path below the base URL.  ``{name}`` segments are path parameters (a published
        model's name, say): the client fills them, the emulator's router passes them to the
        handler among the request parameters.
    body : {"form", "json"}
        Request body encoding.
    params : tuple of Param
        Parameters other than the image.
    image : {"required", "optional", "none"}
        Whether the request carries an image.
    image_field : str
        Body field of the base64 image (``"image"`` for Baidu, ``"base64"`` for the generic
        API).
    url_field : str or None
        Body field that may carry an image URL instead of the image (None: no URL input).
    limits : ImageLimits
    frame : {"labels", "boxes", "matches", "gallery", "none"}
        Kind of frame the client builds.
    parse : callable(reply: dict, image_id: str) -> list[dict]
        Wire reply -> frame rows (no pandas).
    idempotent : bool
        Whether sending the same request twice is harmless.  A non-idempotent call (an add)
        is not retried once the request may have reached the service.
    example : mapping, optional
        Path-parameter values the local emulator answers (e.g. ``{"model": "imagenet"}``), for
        docs and the contract tests.
    columns : tuple of (str, str)
        The columns beyond the frame kind's core ones that the parser (or the client method)
        may add, each with its kind: ``"str"``, ``"float"``, ``"Int64"``, ``"boolean"`` or
        ``"object"``.  A frame built in one process shows those that occur; a Dask frame
        declares them all up front (:mod:`vislab.scale.schema`), and refuses an undeclared one
        (``tests/scale/test_dask_frames.py`` runs every image-recognition endpoint through it).
    doc : str
        One-paragraph description for docstrings and docs tables.

    Examples
    --------
    >>> ep = Endpoint("classify", "demo", "/models/{model}/classify")
    >>> ep.path_params, ep.url_path(model="cats")
    (('model',), '/models/cats/classify')
    >>> ep.match("/models/dogs/classify")
    {'model': 'dogs'}
    """

    name: str
    service: str
    path: str
    body: str = "form"
    params: tuple[Param, ...] = ()
    image: str = "required"
    image_field: str = "image"
    url_field: str | None = "url"
    limits: ImageLimits = field(default_factory=ImageLimits)
    frame: str = "labels"
    parse: Callable[[Mapping[str, Any], str], list[dict]] | None = None
    idempotent: bool = True
    example: Mapping[str, str] = field(default_factory=dict)
    columns: tuple[tuple[str, str], ...] = ()
    doc: str = ""

    def __post_init__(self):
        if self.body not in ("form", "json"):
            raise ValueError(f"{self.name}: body must be 'form' or 'json', got {self.body!r}")
        if self.image not in ("required", "optional", "none"):
            raise ValueError(f"{self.name}: image must be required/optional/none")

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_VAR.findall(self.path))

    def url_path(self, **values: str) -> str:
        """The path with its ``{name}`` segments filled (each value must be one segment)."""

        def fill(match):
            value = str(values[match.group(1)])
            if not value or "/" in value or value in (".", ".."):
                raise InvalidParameter(
                    f"{match.group(1)} must be one path segment, got {value!r}", name=match.group(1)
                )
            return value

        return _PATH_VAR.sub(fill, self.path)

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` is this endpoint's, else None."""
        if not self.path_params:
            return {} if path == self.path else None
        pattern = "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if _PATH_VAR.fullmatch(part) else re.escape(part)
            for part in re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", self.path)
        )
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None

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
        >>> from vislab import catalogue
        >>> ep = catalogue.get("baidu.image_classify", "dish_detect")
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


@dataclass(frozen=True)
class Product:
    """One image-search product: its paths, paging window, brief and category rules.

    The clients, the emulator and the engine's per-product policies all read these facts,
    so a rule is written once.

    Parameters
    ----------
    name : str
        Product id, the prefix of its methods (``"similar"`` -> ``similar_add``...).
    title : str
        One line: what the product finds.
    base_path : str
        ``/add``, ``/search``, ``/delete`` and ``/update`` are appended.
    limits : ImageLimits
    pn_max, rn_max, rn_default : int
        The paging window: ``pn`` in ``0..pn_max``, ``rn`` in ``1..rn_max``.
    categories : tuple of str
        Category parameters: ``("tags",)`` (an unordered set of up to ``max_tags`` ints) or
        ``("class_id1", "class_id2")`` (two slots matched slot by slot).
    max_tags : int
    category_range : (int, int)
        Inclusive range of a category value.
    brief_max_bytes : int
        Longest brief (UTF-8 bytes).
    max_delete_batch : int
        ``cont_sign`` values per delete request.

    Examples
    --------
    >>> from vislab import catalogue
    >>> p = catalogue.product("baidu.image_search", "picturebook")
    >>> p.pn_max, p.rn_max, p.positional
    (99, 100, False)
    >>> catalogue.product("baidu.image_search", "product").categories
    ('class_id1', 'class_id2')
    """

    name: str
    title: str
    base_path: str
    limits: ImageLimits
    pn_max: int
    rn_max: int
    rn_default: int
    categories: tuple[str, ...] = ("tags",)
    max_tags: int = 2
    category_range: tuple[int, int] = (1, 65535)
    brief_max_bytes: int = 256
    max_delete_batch: int = 100

    @property
    def positional(self) -> bool:
        """Whether categories are slots matched one by one (product) rather than a tag set."""
        return self.categories != ("tags",)

    def endpoint_name(self, operation: str) -> str:
        return f"{self.name}_{operation}"


@dataclass(frozen=True)
class Service:
    """A service family: how to reach it, how it authenticates, how it answers.

    Parameters
    ----------
    id : str
        ``"<vendor>.<family>"``, e.g. ``"baidu.image_classify"``.  Its modules are named after
        it in every layer: ``catalogue/baidu_image_classify.py``,
        ``emulator/baidu_image_classify.py``, and its client module.
    title : str
    client : str
        ``"module:Class"`` of the client (for contract tests and docs).
    auth : {"baidu_token", "eas", "none"}
        How requests authenticate (:mod:`vislab.transport.auth`).
    envelope : {"baidu", "pai", "generic"}
        How replies say success or failure (:mod:`vislab.transport.envelopes`).
    errors : CodeTable
        The family's error codes.
    endpoints : tuple of Endpoint
    env_prefix : str, optional
        Credentials are read from ``<env_prefix>_API_KEY`` / ``_SECRET_KEY`` (or ``_TOKEN``).
    cloud_url : str, optional
        Default base URL when credentials are given (None: the URL is per model).
    emulator : str, optional
        Module whose handlers answer this family offline (``vislab serve`` and local mode).
    products : tuple of Product
        Image-search products (empty for other families).
    retry_statuses : frozenset of int
        HTTP statuses the session retries.
    request_errors : mapping of str to int
        Wire code for each request problem of :data:`REQUEST_RULES` (emulator replies, and
        the code a local error row carries for an image the service would refuse).
    default_qps : float, optional
        The default QPS limit of a client (e.g. a free tier's).
    plan_qps : mapping of str to float
        The QPS of each billing plan the family documents (``{"free": 2, "paid": 10}``):
        a client's ``plan=`` picks its default QPS from it.
    doc : str

    Examples
    --------
    >>> from vislab import catalogue
    >>> s = catalogue.service("baidu.image_classify")
    >>> s.auth, s.envelope, s.env_prefix
    ('baidu_token', 'baidu', 'VISLAB_BAIDU')
    """

    id: str
    title: str
    client: str
    auth: str
    envelope: str
    errors: CodeTable
    endpoints: tuple[Endpoint, ...] = ()
    env_prefix: str | None = None
    cloud_url: str | None = None
    emulator: str | None = None
    products: tuple[Product, ...] = ()
    retry_statuses: frozenset[int] = frozenset(range(500, 600))
    request_errors: Mapping[str, int] = field(default_factory=dict)
    default_qps: float | None = None
    plan_qps: Mapping[str, float] = field(default_factory=dict)
    doc: str = ""

    def __post_init__(self):
        names = [ep.name for ep in self.endpoints]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.id}: an endpoint name is declared twice")
        for ep in self.endpoints:
            if ep.service != self.id:
                raise ValueError(f"{self.id}: endpoint {ep.name} says service {ep.service!r}")
        unknown = set(self.request_errors) - set(REQUEST_RULES)
        if unknown:
            raise ValueError(f"{self.id}: unknown request rules {sorted(unknown)}")

    @property
    def module_name(self) -> str:
        """The module name of this family in every layer (``baidu.image_classify`` ->
        ``baidu_image_classify``)."""
        return self.id.replace(".", "_")

    def endpoint(self, name: str) -> Endpoint:
        for ep in self.endpoints:
            if ep.name == name:
                return ep
        raise KeyError(f"{self.id} has no endpoint {name!r}")

    def product(self, name: str) -> Product:
        for p in self.products:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.products) or "none"
        raise InvalidParameter(f"product must be one of {known}, got {name!r}", name="product")

    def error_code(self, rule: str, default: int | None = None) -> int | None:
        """The wire code this family answers for a request that breaks ``rule``."""
        return self.request_errors.get(rule, default)
