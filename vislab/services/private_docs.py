"""Docstrings of ``PrivateImageSearch``'s 24 methods, filled from each product's declaration
(kept apart so the client module stays small)."""

from __future__ import annotations

from vislab.catalogue.baidu_image_search_private import PRODUCTS
from vislab.services.docs import ERRORS_DOC

__all__ = ["documented"]

_PRODUCTS = {p.name: p for p in PRODUCTS}

_TEMPLATE = """{title}

{what}

Parameters
----------
{params}appid : str, optional
    The tenant; only the client's own (make another client for another tenant).
{errors}

Returns
-------
DataFrame
    {returns}

Examples
--------
{setup}>>> from skimage import data
>>> box = PrivateImageSearch(appid="demo", progress=False, ledger=False)
>>> {example}
"""

# The signup example runs (it needs no image): in a fresh home, so the tenant is new.
_FRESH_HOME = (
    ">>> import os, tempfile\n"
    ">>> os.environ['VISLAB_HOME'], old_home = tempfile.mkdtemp(), "
    "os.environ.get('VISLAB_HOME')\n"
)
_RESTORE_HOME = (
    "\n>>> _ = os.environ.pop('VISLAB_HOME') if old_home is None else "
    "os.environ.update(\n...     VISLAB_HOME=old_home)"
)

_IMAGES = "images : image or many\n    Paths, bytes, arrays, PIL images, lists or {{identifier: image}}.\n"
_DOCS = {
    "add": ("Add images -> gallery frame with each image's ``cont_sign``; warns when the index "
            "is nearly full.",
            _IMAGES + "brief : str, dict, mapping, Series or callable, optional\n    What a hit "
            "returns (<= 256 bytes); default ``{{\"image\": <identifier>}}``.\n",
            "Gallery frame: one row per image, with ``cont_sign`` or the error.",
            "df = box.{name}_add({{'cup': data.coffee()}}, brief='cup')  # doctest: +SKIP"),
    "search": ("Search with each image -> matches frame, one row per hit.",
               _IMAGES + "pn, rn : int, optional\n    Page start (0..{pn_max}) and size "
               "(1..{rn_max}; default {rn_default}).\n",
               "Matches frame: ``query``, ``rank``, ``cont_sign``, ``brief``, ``score``.",
               "hits = box.{name}_search(data.coffee(), rn=5)  # doctest: +SKIP"),
    "update": ("Change the brief of stored images -> gallery frame.",
               "images : image or many, optional\n    Locate stored images by pixels ...\n"
               "cont_sign : str or list of str, optional\n    ... or by signature.\n"
               "brief : str or dict, optional\n    The new brief.\n",
               "Gallery frame with ``updated`` or the error per image / cont_sign.",
               "df = box.{name}_update(cont_sign='1,2', brief='x')  # doctest: +SKIP"),
    "delete": ("Remove stored images by pixels or by ``cont_sign`` (batches of 100) -> gallery "
               "frame.",
               "images : image or many, optional\n    Stored images to remove by pixels.\n"
               "cont_sign : str or list of str, optional\n    Or their signatures.\n",
               "Gallery frame with ``deleted`` or the error per image / cont_sign.",
               "df = box.{name}_delete(cont_sign=['1,2'])  # doctest: +SKIP"),
    "snapshot": ("The index of this product's service -> a one-row frame: ``tag``, "
                 "``index_size``, ``index_capacity``, ``queue_size``.",
                 "",
                 "One row (``image`` is the product).",
                 "snap = box.{name}_snapshot()  # doctest: +SKIP"),
    "signup": ("Register the client's tenant (``appid``) with this product's service -> a "
               "one-row frame: ``image`` (the product), ``appid``, ``registered``.  A tenant "
               "that exists already answers ``err_no`` 104 (\"user already exists\"): an "
               "error row, or :class:`~vislab.errors.InvalidRequest` with ``errors='raise'``; "
               "an operation of a tenant a strict box does not know answers 103 "
               "(:class:`~vislab.errors.AuthError`).",
               "",
               "One row: ``registered`` True, or the error (``error_code`` 104 when the "
               "tenant exists).",
               "row = box.{name}_signup().loc[0]\n"
               ">>> row['image'], row['appid'], bool(row['registered'])\n"
               "('{name}', 'demo', True)\n"
               ">>> box.{name}_signup(errors='raise')  # doctest: +ELLIPSIS\n"
               "Traceback (most recent call last):\n"
               "...\n"
               "vislab.errors.InvalidRequest: [104] user already exists: 'demo' is a tenant...\n"
               "" + _RESTORE_HOME.lstrip("\n")),
}  # fmt: skip


def documented(product_name: str, operation: str):
    """Fill a method's docstring from its product's declaration.

    Examples
    --------
    >>> @documented("similar", "snapshot")
    ... def similar_snapshot(self, *, appid=None, errors=None): ...
    >>> "index_capacity" in similar_snapshot.__doc__
    True
    """
    product = _PRODUCTS[product_name]
    what, params, returns, example = _DOCS[operation]
    setup = _FRESH_HOME if operation == "signup" else ""

    def deco(func):
        fill = {"name": product.name, "pn_max": product.pn_max, "rn_max": product.rn_max,
                "rn_default": product.rn_default}  # fmt: skip
        func.__doc__ = _TEMPLATE.format(
            title=product.title,
            setup=setup,
            what=what,
            params=params.format(**fill),
            errors=ERRORS_DOC,
            returns=returns,
            example=example.format(**fill),
        )
        return func

    return deco
