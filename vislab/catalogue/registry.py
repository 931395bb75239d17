"""Finding the declared service families: no hand-kept import list.

Every module of the :mod:`vislab.catalogue` package that defines ``SERVICE`` (a
:class:`~vislab.catalogue.model.Service`) declares one family.  :func:`services` imports them
all once, in name order, registers each family's error table with :mod:`vislab.errors`, and
checks that no two endpoints share a path.  Adding a family is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from pathlib import Path

from vislab.catalogue.model import Endpoint, Product, Service
from vislab.errors import register_table

__all__ = [
    "services",
    "service",
    "get",
    "endpoints",
    "route",
    "by_path",
    "product",
    "family_modules",
]

# Modules of the package that declare no family.
_NOT_FAMILIES = {"model", "registry", "docs"}

_SERVICES: dict[str, Service] | None = None
_lock = threading.Lock()


def family_modules() -> list[str]:
    """Names of the catalogue modules that may declare a family (every public module)."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not info.name.startswith("_") and info.name not in _NOT_FAMILIES
    )


def _discover() -> dict[str, Service]:
    found: dict[str, Service] = {}
    paths: dict[str, str] = {}
    for name in family_modules():
        module = importlib.import_module(f"vislab.catalogue.{name}")
        declared = getattr(module, "SERVICE", None)
        if declared is None:
            continue  # shared data (e.g. a platform's code table), not a family
        if not isinstance(declared, Service):
            raise TypeError(f"vislab.catalogue.{name}.SERVICE is not a Service")
        if declared.module_name != name:
            raise ValueError(
                f"service {declared.id!r} must be declared in a module named "
                f"{declared.module_name}.py, not {name}.py"
            )
        if declared.id in found:
            raise ValueError(f"service {declared.id!r} declared twice")
        for ep in declared.endpoints:
            if ep.path in paths:
                raise ValueError(
                    f"{declared.id}.{ep.name} and {paths[ep.path]} share the path {ep.path}"
                )
            paths[ep.path] = f"{declared.id}.{ep.name}"
        register_table(declared.errors)
        found[declared.id] = declared
    return found


def services() -> list[Service]:
    """Every declared service family.

    Examples
    --------
    >>> "baidu.image_search" in [s.id for s in services()]
    True
    """
    global _SERVICES
    if _SERVICES is None:
        with _lock:
            if _SERVICES is None:
                _SERVICES = _discover()
    return list(_SERVICES.values())


def service(service_id: str) -> Service:
    """The family ``service_id``.

    Examples
    --------
    >>> service("baidu.image_classify").cloud_url
    'https://aip.baidubce.com'
    """
    services()
    try:
        return _SERVICES[service_id]
    except KeyError:
        known = ", ".join(sorted(_SERVICES))
        raise KeyError(f"no service family {service_id!r} (declared: {known})") from None


def get(service_id: str, name: str) -> Endpoint:
    """The endpoint ``name`` of ``service_id``.

    Examples
    --------
    >>> get("baidu.image_classify", "advanced_general").path
    '/rest/2.0/image-classify/v2/advanced_general'
    """
    return service(service_id).endpoint(name)


def endpoints(service_id: str | None = None) -> list[Endpoint]:
    """All declared endpoints, optionally of one family.

    Examples
    --------
    >>> "dish_detect" in [e.name for e in endpoints("baidu.image_classify")]
    True
    """
    if service_id is not None:
        return list(service(service_id).endpoints)
    return [ep for s in services() for ep in s.endpoints]


def product(service_id: str, name: str) -> Product:
    """An image-search product of a family.

    Examples
    --------
    >>> product("baidu.image_search", "materiel").rn_max
    300
    """
    return service(service_id).product(name)


def route(path: str) -> tuple[Endpoint, dict[str, str]] | None:
    """The endpoint served at ``path`` and its path parameters (for the emulator's router).

    Fixed paths win over templated ones.

    Examples
    --------
    >>> ep, params = route("/rest/2.0/image-classify/v1/car")
    >>> ep.name, params
    ('car_detect', {})
    """
    templated = []
    for ep in endpoints():
        if not ep.path_params:
            if ep.path == path:
                return ep, {}
        else:
            templated.append(ep)
    for ep in templated:
        params = ep.match(path)
        if params is not None:
            return ep, params
    return None


def by_path(path: str) -> Endpoint | None:
    """The endpoint served at ``path``, or None.

    Examples
    --------
    >>> by_path("/rest/2.0/image-classify/v1/car").name
    'car_detect'
    """
    found = route(path)
    return found[0] if found else None
