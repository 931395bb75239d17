"""Local answers for the Baidu image recognition endpoints.

What each local answer means (labels are English ImageNet-1k names, not Baidu's Chinese
taxonomy; nothing the engine cannot know is invented):

``advanced_general``
    ImageNet top-5 with a coarse parent category in ``root`` (see
    :mod:`vislab.engine.imagenet` for the table).  No ``baike_info``: the engine has no
    encyclopaedia, so ``baike_num`` is accepted and ignored.
``dish_detect`` / ``animal_detect`` / ``plant_detect`` / ``car_detect``
    The probabilities restricted to a documented ImageNet subset (food, animal, plant/fungus,
    car classes) and renormalised within it.  When the subset's share of the whole softmax is
    small the answer is the service's "not a ..." verdict (``"not dish"``, ``"not animal"``,
    ``"not plant"``, ``"not car"``, mirroring Baidu's 非菜 / 非动物 / 非植物 / 非车类), with
    probability ``1 - share``.  Dish answers say ``has_calorie: false`` and give no calorie;
    car answers give no model year; ``color_result`` is the measured dominant colour inside
    ``location_result``, the subject box.
``object_detect`` / ``multi_object_detect``
    Subject boxes from the backbone's activation maps (:mod:`vislab.engine.recognition`).
``logo_add`` / ``logo_search`` / ``logo_delete``
    Your own logo library, kept in a gallery store under ``VISLAB_HOME``; search matches by
    embedding similarity of the whole image and the subject crop.  There is no built-in logo
    set, so ``type`` is always 1 (custom).
"""

from __future__ import annotations

import numpy as np

from vislab.catalogue.baidu_image_classify import ID
from vislab.emulator.registry import WireError, handler

# A subset is "present" when at least this share of the full softmax falls on its classes.
# Chosen so that a clear photo of the category passes and an unrelated photo does not; the
# `filter_threshold` of dish_detect moves it (see _verdict).
MIN_SHARE = 0.10

_NOT = {"dish": "not dish", "animal": "not animal", "plant": "not plant", "car": "not car"}


def _recognition():
    from vislab.engine import recognition

    return recognition


def _verdict(view: str, result, top_num: int, min_share: float):
    """(name, score) pairs of a subset view, or the "not a ..." verdict."""
    if result.mass < min_share:
        return [(_NOT[view], round(1.0 - float(result.mass), 6))]
    return [(lab.name, round(float(lab.score), 6)) for lab in result.labels[:top_num]]


def _fmt(score: float) -> str:
    # Baidu's animal/plant replies carry scores as strings; keep that wire type.
    return f"{score:.6f}"


@handler(ID, "advanced_general")
def advanced_general(app, ep, params, image):
    labels = _recognition().general(image.pixels, top_k=5)
    result = [{"keyword": lab.name, "score": round(float(lab.score), 6), "root": lab.root}
              for lab in labels]
    return {"result_num": len(result), "result": result}


@handler(ID, "dish_detect")
def dish_detect(app, ep, params, image):
    top_num = int(params["top_num"])
    sub = _recognition().subset(image.pixels, "dish", top_k=top_num)
    # A higher filter_threshold rejects more non-dishes, as the service's parameter does.
    min_share = MIN_SHARE * float(params["filter_threshold"]) / 0.95
    result = [{"name": name, "has_calorie": False, "probability": score}
              for name, score in _verdict("dish", sub, top_num, min_share)]
    return {"result_num": len(result), "result": result}


@handler(ID, "animal_detect")
def animal_detect(app, ep, params, image):
    top_num = int(params["top_num"])
    sub = _recognition().subset(image.pixels, "animal", top_k=top_num)
    return {"result": [{"name": n, "score": _fmt(s)}
                       for n, s in _verdict("animal", sub, top_num, MIN_SHARE)]}


@handler(ID, "plant_detect")
def plant_detect(app, ep, params, image):
    sub = _recognition().subset(image.pixels, "plant", top_k=5)
    return {"result": [{"name": n, "score": s}
                       for n, s in _verdict("plant", sub, 5, MIN_SHARE)]}


# Named colours for color_result: the nearest by Euclidean RGB distance.
_COLOURS = {
    "black": (20, 20, 20), "white": (240, 240, 240), "grey": (128, 128, 128),
    "silver": (192, 192, 192), "red": (200, 30, 30), "orange": (240, 140, 20),
    "yellow": (240, 220, 40), "green": (40, 150, 60), "blue": (40, 70, 200),
    "brown": (120, 70, 30), "purple": (120, 50, 150), "pink": (240, 150, 180),
}


def dominant_colour(pixels: np.ndarray) -> str:
    """Name of the nearest named colour to the median pixel of a region.

    Examples
    --------
    >>> dominant_colour(np.full((8, 8, 3), (250, 250, 245), np.uint8))
    'white'
    """
    median = np.median(pixels.reshape(-1, 3), axis=0)
    names = list(_COLOURS)
    table = np.array([_COLOURS[n] for n in names], dtype=float)
    return names[int(np.argmin(((table - median) ** 2).sum(axis=1)))]


def _location(box) -> dict:
    return {"left": int(round(box.x)), "top": int(round(box.y)),
            "width": int(round(box.w)), "height": int(round(box.h))}


@handler(ID, "car_detect")
def car_detect(app, ep, params, image):
    top_num = int(params["top_num"])
    rec = _recognition()
    sub = rec.subset(image.pixels, "car", top_k=top_num)
    result = [{"name": n, "score": s} for n, s in _verdict("car", sub, top_num, MIN_SHARE)]
    reply = {"result": result}
    if sub.mass >= MIN_SHARE:
        box = rec.subject_box(image.pixels)
        x, y, w, h = (int(round(v)) for v in (box.x, box.y, box.w, box.h))
        reply["location_result"] = _location(box)
        reply["color_result"] = dominant_colour(image.pixels[y:y + h, x:x + w])
    return reply


@handler(ID, "object_detect")
def object_detect(app, ep, params, image):
    box = _recognition().subject_box(image.pixels)
    return {"result": _location(box)}


@handler(ID, "multi_object_detect")
def multi_object_detect(app, ep, params, image):
    boxes = _recognition().multi_objects(image.pixels)
    return {"result": [{"name": b.name, "score": round(float(b.score), 6),
                        "location": _location(b)} for b in boxes]}


# -- logo library ----------------------------------------------------------------------------

def _logo_store(app):
    with app.state_lock:
        store = app.state.get("logo")
        if store is None:
            from pathlib import Path

            from vislab.engine.gallery import Gallery
            from vislab.engine.paths import vislab_home

            # Similar-image semantics (embedding similarity), in a file of its own so the
            # logo library never mixes with the user's image-search galleries.
            home = Path(app.home) if app.home else vislab_home()
            path = home / "logo" / "default.sqlite"
            store = Gallery("similar", "logo", path=path)
            app.state["logo"] = store
        return store


@handler(ID, "logo_add")
def logo_add(app, ep, params, image):
    # The store's errors (item exists...) reach the app, which maps them to wire codes.
    entry = _logo_store(app).add(image.pixels, brief=params["brief"])
    return {"result": {"cont_sign": entry.cont_sign}}


@handler(ID, "logo_delete")
def logo_delete(app, ep, params, image):
    store = _logo_store(app)
    if image is None and not params.get("cont_sign"):
        raise WireError(216101, "not enough param: image or cont_sign")
    # Nothing stored under that image or signature: the store raises ItemNotFound, which
    # the app answers with 216680 "item not exist".
    if image is not None:
        store.delete(image=image.pixels)
    else:
        store.delete(params["cont_sign"])
    return {}


# Similarity below which a stored logo is not reported.  Measured on scikit-image photos with
# the similar-gallery score: a resized copy or a crop of a stored image scores 0.75-0.79,
# unrelated photos 0.12-0.24.
LOGO_MIN_SCORE = 0.5


@handler(ID, "logo_search")
def logo_search(app, ep, params, image):
    store = _logo_store(app)
    if store.count() == 0:
        return {"result_num": 0, "result": []}
    box = _recognition().subject_box(image.pixels)
    x, y, w, h = (int(round(v)) for v in (box.x, box.y, box.w, box.h))
    whole = {"left": 0, "top": 0, "width": image.pixels.shape[1],
             "height": image.pixels.shape[0]}
    # Whichever view (whole image, subject crop) matches a stored logo better decides its
    # score and the location reported.
    best: dict[str, tuple[float, str, dict]] = {}
    for pixels, loc in ((image.pixels, whole), (image.pixels[y:y + h, x:x + w], _location(box))):
        for hit in store.search(pixels, rn=5).hits:
            if hit.score > best.get(hit.cont_sign, (-1.0, "", {}))[0]:
                best[hit.cont_sign] = (hit.score, hit.brief, loc)
    result = [{"type": 1, "name": brief, "probability": round(float(score), 6),
               "location": loc}
              for score, brief, loc in sorted(best.values(), key=lambda t: -t[0])
              if score >= LOGO_MIN_SCORE]
    return {"result_num": len(result), "result": result}
