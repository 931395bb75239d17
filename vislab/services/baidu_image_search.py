"""Baidu image search client, ``AipImageSearch``-style, returning frames.

Five products — ``same_hq`` (same image), ``similar``, ``product``, ``picturebook``,
``materiel`` (fabric) — each with four methods named like the SDK's in snake_case:
``<product>_add``, ``<product>_search``, ``<product>_update``, ``<product>_delete``.  The 20
methods are written out below (so IDEs and ``help()`` see them); their docstrings are filled
from each product's catalogue declaration (:mod:`vislab.catalogue.baidu_image_search`), and
every product takes exactly the parameters its endpoints declare (a contract test checks it).

* **add** returns a gallery frame (``image``, ``cont_sign``, ``brief``, ``tags``, errors);
  ``brief`` defaults to ``{"image": <identifier>}`` as JSON and may be a string, a dict, a
  mapping / Series from identifier to brief, or ``callable(identifier)``.
* **search** returns a matches frame (``query``, ``rank``, ``cont_sign``, ``brief`` parsed from
  JSON when it is JSON, ``score``, ``tags``).  The service does not return tags; they stay
  empty.
* **update** locates the image by pixels (``images``) or by one ``cont_sign`` per request.
* **delete** by ``images`` or by ``cont_sign`` (one or many, sent in batches of 100).

The ledger (on by default, :class:`vislab.services.ledger.Ledger`) records every add, update
and delete this client makes, per target (local engine, or service URL + API key) and product:
:meth:`ImageSearch.gallery_frame` lists what a gallery holds (the service has no list call), an
add of bytes that are already stored is answered from the ledger with 216681 "item exist"
instead of being sent, and search results drop images deleted through the client (the cloud
deletes in a daily job and keeps returning them for up to ~4 hours; ``filter_deleted=False``
shows them).

Local mode (no credentials) answers from the engine's galleries under ``VISLAB_HOME``
(:mod:`vislab.emulator.baidu_image_search` says how local answers differ: immediate deletion,
local scores).
"""

from __future__ import annotations

from vislab.catalogue.baidu_image_search import ID, PRODUCTS
from vislab.services.client import ServiceClient
from vislab.services.docs import ERRORS_DOC
from vislab.services.gallery_ops import GalleryOperations

__all__ = ["ImageSearch"]

_PRODUCTS = {p.name: p for p in PRODUCTS}

_IMAGES = """images : image or many
    Paths, URLs, bytes, arrays, PIL images, globs, lists, Series or {identifier: image}."""

_TEMPLATES = {
    "add": """{title}

Add images to the {name} gallery -> gallery frame with each image's ``cont_sign``.

Parameters
----------
{images}
brief : str, dict, mapping, Series or callable, optional
    What a hit returns (<= {brief_max} bytes; dicts are sent as JSON).  Default
    ``{{"image": <identifier>}}``.  A mapping/Series gives one per identifier.
{cats}
{errors}

Returns
-------
DataFrame
    Gallery frame: one row per image, with ``cont_sign`` or the error.

Examples
--------
>>> from skimage import data
>>> client = ImageSearch(progress=False)  # doctest: +SKIP
>>> df = client.{name}_add({{"coffee": data.coffee()}}, brief={{"id": 1}})  # doctest: +SKIP
""",
    "search": """{title}

Search the {name} gallery with each image -> matches frame, one row per hit.

Parameters
----------
{images}
{cats}
tag_logic : {{0, 1}}, optional
    How two categories combine: 0 = AND (default), 1 = OR.
pn, rn : int, optional
    Page start (0..{pn_max}) and size (1..{rn_max}; default {rn_default}).
{errors}

Returns
-------
DataFrame
    Matches frame: ``query``, ``rank``, ``cont_sign``, ``brief``, ``score``.

Examples
--------
>>> from skimage import data
>>> ImageSearch(progress=False).{name}_search(data.coffee(), rn=5)   # doctest: +SKIP
""",
    "update": """{title}

Change the brief and/or categories of stored images -> gallery frame.

Parameters
----------
images : image or many, optional
    Locate stored images by their pixels ...
cont_sign : str or list of str, optional
    ... or by signature (one per request).
brief : str or dict, optional
    The new brief (<= {brief_max} bytes).
{cats}
{errors}

Returns
-------
DataFrame
    Gallery frame with ``updated`` or the error per image / cont_sign.

Examples
--------
>>> ImageSearch(progress=False).{name}_update(cont_sign="1,2", brief="x")  # doctest: +SKIP
""",
    "delete": """{title}

Delete stored images by pixels or by ``cont_sign`` (batches of {batch}) -> gallery frame.

Locally the deletion is immediate; in the cloud it is delayed (hits for up to ~4 h).

Parameters
----------
images : image or many, optional
cont_sign : str or list of str, optional
{errors}

Returns
-------
DataFrame
    Gallery frame with ``deleted`` or the error per image / cont_sign.

Examples
--------
>>> ImageSearch(progress=False).{name}_delete(cont_sign=["1,2", "3,4"])  # doctest: +SKIP
""",
}


def _categories_doc(product) -> str:
    lo, hi = product.category_range
    if product.positional:
        names = ", ".join(product.categories)
        return f"{names} : int, optional\n    Product categories, {lo}..{hi}."
    return (
        f"tags : int, str or sequence, optional\n    Up to {product.max_tags} ints in "
        f'{lo}..{hi} ("100,11"); for add also a mapping/Series/callable per image.'
    )


def _documented(product_name: str, operation: str):
    """Fill a method's docstring from its product's declaration."""
    product = _PRODUCTS[product_name]

    def deco(func):
        func.__doc__ = _TEMPLATES[operation].format(
            title=product.title,
            name=product.name,
            images=_IMAGES,
            cats=_categories_doc(product),
            brief_max=product.brief_max_bytes,
            pn_max=product.pn_max,
            rn_max=product.rn_max,
            rn_default=product.rn_default,
            batch=product.max_delete_batch,
            errors=ERRORS_DOC,
        )
        return func

    return deco


class ImageSearch(GalleryOperations, ServiceClient):
    """Baidu image search galleries: same / similar / product / picture-book / fabric.

    Parameters
    ----------
    api_key, secret_key : str, optional
        Baidu AI console credentials (or ``VISLAB_BAIDU_API_KEY`` / ``VISLAB_BAIDU_SECRET_KEY``).
        Without them the client runs offline on the local engine's galleries.
    ledger : bool or path-like, default True
        Keep the record of adds/updates/deletes (``True``: ``<VISLAB_HOME>/ledger.sqlite``;
        a path: that file; ``False``: none).
    filter_deleted : bool, default True
        Drop hits whose image was deleted through this client (cloud deletion is delayed).
    **kwargs
        The options of every client, as for :class:`vislab.baidu.ImageClassify`:
        ``base_url`` (a ``vislab serve`` URL, or another server speaking the cloud's wire
        format), ``qps``, ``max_workers``, ``timeout``, ``retries``, ``cache``, ``progress``,
        ``fit``, ``verify``, ``errors``, ``transport``.  The reply cache only ever serves
        searches: adds, updates and deletes always reach the service.

    Examples
    --------
    >>> import os, tempfile
    >>> from vislab import baidu
    >>> from skimage import data
    >>> os.environ["VISLAB_HOME"], old_home = tempfile.mkdtemp(), os.environ.get("VISLAB_HOME")
    >>> client = baidu.ImageSearch(progress=False)
    >>> added = client.similar_add({"cat": data.chelsea()}, tags=[1])
    >>> hits = client.similar_search({"query": data.chelsea()}, rn=1)
    >>> hits.loc[0, "brief"]
    {'image': 'cat'}
    >>> _ = client.similar_delete(cont_sign=added["cont_sign"].tolist())
    >>> cloud = baidu.ImageSearch(api_key="AK", secret_key="SK")   # doctest: +SKIP
    >>> _ = os.environ.pop("VISLAB_HOME") if old_home is None else os.environ.update(
    ...     VISLAB_HOME=old_home)
    """

    service = ID

    def __init__(self, api_key=None, secret_key=None, *, ledger=True, filter_deleted=True,
                 **kwargs):  # fmt: skip
        super().__init__(api_key, secret_key, **kwargs)
        self._open_ledger(ledger, filter_deleted)

    # -- same_hq ---------------------------------------------------------------------------------
    @_documented("same_hq", "add")
    def same_hq_add(self, images, *, brief=None, tags=None, errors=None):
        return self._add("same_hq", images, brief=brief, tags=tags, errors=errors)

    @_documented("same_hq", "search")
    def same_hq_search(self, images, *, tags=None, tag_logic=None, pn=None, rn=None, errors=None):
        return self._search(
            "same_hq", images, tags=tags, tag_logic=tag_logic, pn=pn, rn=rn, errors=errors
        )

    @_documented("same_hq", "update")
    def same_hq_update(self, images=None, *, cont_sign=None, brief=None, tags=None, errors=None):
        return self._update(
            "same_hq", images, cont_sign=cont_sign, brief=brief, tags=tags, errors=errors
        )

    @_documented("same_hq", "delete")
    def same_hq_delete(self, images=None, *, cont_sign=None, errors=None):
        return self._delete("same_hq", images, cont_sign=cont_sign, errors=errors)

    # -- similar ---------------------------------------------------------------------------------
    @_documented("similar", "add")
    def similar_add(self, images, *, brief=None, tags=None, errors=None):
        return self._add("similar", images, brief=brief, tags=tags, errors=errors)

    @_documented("similar", "search")
    def similar_search(self, images, *, tags=None, tag_logic=None, pn=None, rn=None, errors=None):
        return self._search(
            "similar", images, tags=tags, tag_logic=tag_logic, pn=pn, rn=rn, errors=errors
        )

    @_documented("similar", "update")
    def similar_update(self, images=None, *, cont_sign=None, brief=None, tags=None, errors=None):
        return self._update(
            "similar", images, cont_sign=cont_sign, brief=brief, tags=tags, errors=errors
        )

    @_documented("similar", "delete")
    def similar_delete(self, images=None, *, cont_sign=None, errors=None):
        return self._delete("similar", images, cont_sign=cont_sign, errors=errors)

    # -- product (categories are class_id1 / class_id2) -----------------------------------------
    @_documented("product", "add")
    def product_add(self, images, *, brief=None, class_id1=None, class_id2=None, errors=None):
        return self._add(
            "product", images, brief=brief, class_id1=class_id1, class_id2=class_id2, errors=errors
        )

    @_documented("product", "search")
    def product_search(
        self,
        images,
        *,
        class_id1=None,
        class_id2=None,
        tag_logic=None,
        pn=None,
        rn=None,
        errors=None,
    ):
        return self._search(
            "product",
            images,
            class_id1=class_id1,
            class_id2=class_id2,
            tag_logic=tag_logic,
            pn=pn,
            rn=rn,
            errors=errors,
        )

    @_documented("product", "update")
    def product_update(
        self,
        images=None,
        *,
        cont_sign=None,
        brief=None,
        class_id1=None,
        class_id2=None,
        errors=None,
    ):
        return self._update(
            "product",
            images,
            cont_sign=cont_sign,
            brief=brief,
            class_id1=class_id1,
            class_id2=class_id2,
            errors=errors,
        )

    @_documented("product", "delete")
    def product_delete(self, images=None, *, cont_sign=None, errors=None):
        return self._delete("product", images, cont_sign=cont_sign, errors=errors)

    # -- picturebook -----------------------------------------------------------------------------
    @_documented("picturebook", "add")
    def picturebook_add(self, images, *, brief=None, tags=None, errors=None):
        return self._add("picturebook", images, brief=brief, tags=tags, errors=errors)

    @_documented("picturebook", "search")
    def picturebook_search(
        self, images, *, tags=None, tag_logic=None, pn=None, rn=None, errors=None
    ):
        return self._search(
            "picturebook", images, tags=tags, tag_logic=tag_logic, pn=pn, rn=rn, errors=errors
        )

    @_documented("picturebook", "update")
    def picturebook_update(
        self, images=None, *, cont_sign=None, brief=None, tags=None, errors=None
    ):
        return self._update(
            "picturebook", images, cont_sign=cont_sign, brief=brief, tags=tags, errors=errors
        )

    @_documented("picturebook", "delete")
    def picturebook_delete(self, images=None, *, cont_sign=None, errors=None):
        return self._delete("picturebook", images, cont_sign=cont_sign, errors=errors)

    # -- materiel (fabric) -----------------------------------------------------------------------
    @_documented("materiel", "add")
    def materiel_add(self, images, *, brief=None, tags=None, errors=None):
        return self._add("materiel", images, brief=brief, tags=tags, errors=errors)

    @_documented("materiel", "search")
    def materiel_search(self, images, *, tags=None, tag_logic=None, pn=None, rn=None, errors=None):
        return self._search(
            "materiel", images, tags=tags, tag_logic=tag_logic, pn=pn, rn=rn, errors=errors
        )

    @_documented("materiel", "update")
    def materiel_update(self, images=None, *, cont_sign=None, brief=None, tags=None, errors=None):
        return self._update(
            "materiel", images, cont_sign=cont_sign, brief=brief, tags=tags, errors=errors
        )

    @_documented("materiel", "delete")
    def materiel_delete(self, images=None, *, cont_sign=None, errors=None):
        return self._delete("materiel", images, cont_sign=cont_sign, errors=errors)
