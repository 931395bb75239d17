"""The service catalogue: every service family and endpoint declared once, as data.

A :class:`Service` names a family's auth kind, reply envelope, error table, environment
variable prefix, cloud URL, the emulator module that answers it offline and its client; an
:class:`Endpoint` names the client method, the wire path, the body encoding, the parameters
with their types, ranges and defaults, the image rules, the frame kind and the parser that
turns one wire reply into frame rows; a :class:`Product` holds an image-search product's paging
window and category rules.  Client methods (:mod:`vislab.services`), request validation (client
side *and* emulator side), the emulator's routes (:mod:`vislab.emulator`), the engine's
per-product policies and the docs tables all read these declarations.

Families are found, not listed: each module of this package that defines ``SERVICE`` declares
one (:mod:`vislab.catalogue.registry`).

Examples
--------
>>> from vislab import catalogue
>>> sorted(s.id for s in catalogue.services())[:3]
['baidu.easydl', 'baidu.image_classify', 'baidu.image_search']
>>> catalogue.get("baidu.image_classify", "dish_detect").body
'form'
"""

from __future__ import annotations

from vislab.catalogue.docs import markdown_table, sync_readme
from vislab.catalogue.model import (
    REQUEST_RULES,
    Endpoint,
    ImageLimits,
    Param,
    Product,
    Service,
    as_int,
    as_number,
)
from vislab.catalogue.registry import (
    by_path,
    endpoints,
    family_modules,
    get,
    product,
    route,
    service,
    services,
)

__all__ = [
    "Param",
    "Endpoint",
    "Product",
    "Service",
    "ImageLimits",
    "REQUEST_RULES",
    "as_int",
    "as_number",
    "services",
    "service",
    "get",
    "endpoints",
    "product",
    "route",
    "by_path",
    "family_modules",
    "markdown_table",
    "sync_readme",
]
