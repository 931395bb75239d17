"""Local answers for the Baidu image search endpoints (5 products x add/search/delete/update).

Each product has one gallery store, ``<home>/galleries/<product>/default.sqlite``
(:class:`vislab.engine.gallery.Gallery`), made by the first add.  What differs from the cloud,
on purpose or by necessity:

* deletion is immediate (the cloud keeps returning deleted images for up to ~4 h);
* a search, update or delete on a product whose gallery was never created answers 216017
  "not initialized", as the cloud does before a gallery is applied for; an emptied gallery
  answers an empty result;
* scores are the local engine's (see the table in :mod:`vislab.engine.gallery.policy`);
  same-image search returns only verified copies, so it may return fewer hits than ``rn``;
* product add does not check that the picture shows a product (the cloud answers 216203
  for clearly non-product pictures); blank pictures get 216203 on every product.
"""

from __future__ import annotations

from vislab.catalogue.baidu_image_search import ID, PRODUCTS
from vislab.emulator.registry import WireError, handler


def _store(app, product, *, create: bool):
    """The product's gallery; ``None`` when it does not exist and ``create`` is False."""
    from vislab.engine.paths import gallery_path

    # Keyed by file: the home folder (VISLAB_HOME) may change between calls of a local app.
    path = gallery_path(product.name, "default", home=app.home)
    key = ("imagesearch", str(path))
    with app.state_lock:
        store = app.state.get(key)
        if store is None:
            from vislab.engine.gallery import Gallery

            if not create and not path.exists():
                return None
            store = Gallery(product.name, "default", path=path)
            app.state[key] = store
        return store


def _existing_store(app, product):
    store = _store(app, product, create=False)
    if store is None:
        raise WireError(216017, f"not initialized: the local {product.name} gallery has no "
                                "images yet (add some first)")  # fmt: skip
    return store


def _slots(product, params) -> list[int | None] | None:
    """The category slots: ``tags`` (validated by the catalogue) or ``class_id1``/``2``."""
    values = [params.get(name) for name in product.categories]
    if product.positional:
        return None if all(v is None for v in values) else values
    return None if values[0] is None else list(values[0])


def _add(product):
    def add(app, ep, params, image):
        store = _store(app, product, create=True)
        entry = store.add(image.pixels, brief=params["brief"], tags=_slots(product, params))
        return {"cont_sign": entry.cont_sign}

    return add


def _search(product):
    def search(app, ep, params, image):
        store = _existing_store(app, product)
        result = store.search(
            image.pixels,
            tags=_slots(product, params),
            tag_logic=params["tag_logic"],
            pn=params["pn"],
            rn=params["rn"],
        )
        hits = [{"cont_sign": h.cont_sign, "score": round(h.score, 6), "brief": h.brief}
                for h in result.hits]  # fmt: skip
        return {"result_num": len(hits), "result": hits, "has_more": result.has_more}

    return search


def _delete(product):
    def delete(app, ep, params, image):
        store = _existing_store(app, product)
        if image is not None:  # image (or url) beats cont_sign
            store.delete(image=image.pixels)
            return {}
        text = params.get("cont_sign")
        if not text:
            raise WireError(216101, "not enough param: image, url or cont_sign")
        signs = [s for s in text.split(";") if s.strip()]
        if len(signs) > product.max_delete_batch:
            raise WireError(216100, f"invalid param: at most {product.max_delete_batch} "
                                    f"cont_sign per request, got {len(signs)}")  # fmt: skip
        store.delete(signs)
        return {}

    return delete


def _update(product):
    def update(app, ep, params, image):
        store = _existing_store(app, product)
        if image is not None:
            target = {"image": image.pixels}
        else:
            sign = params.get("cont_sign")
            if not sign:
                raise WireError(216101, "not enough param: image, url or cont_sign")
            if ";" in sign:
                raise WireError(216100, "invalid param: update takes one cont_sign")
            target = {"cont_sign": sign}
        # Positional slots: a class id that is not sent keeps its value (None in its slot).
        store.update(**target, brief=params.get("brief"), tags=_slots(product, params))
        return {}

    return update


for _product in PRODUCTS:
    handler(ID, _product.endpoint_name("add"))(_add(_product))
    handler(ID, _product.endpoint_name("search"))(_search(_product))
    handler(ID, _product.endpoint_name("delete"))(_delete(_product))
    handler(ID, _product.endpoint_name("update"))(_update(_product))
