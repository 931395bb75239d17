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

from vislab.emulator.app import WireError, handler

SERVICE = "baidu.image_classify"

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


@handler(SERVICE, "advanced_general")
def advanced_general(app, ep, params, image):
    labels = _recognition().general(image.pixels, top_k=5)
    result = [{"keyword": lab.name, "score": round(float(lab.score), 6), "root": lab.root}
              for lab in labels]
    return {"result_num": len(result), "result": result}


@handler(SERVICE, "dish_detect")
def dish_detect(app, ep, params, image):
    top_num = int(params["top_num"])
    sub = _recognition().subset(image.pixels, "dish", top_k=top_num)
    # A higher filter_threshold rejects more non-dishes, as the service's parameter does.
    min_share = MIN_SHARE * float(params["filter_threshold"]) / 0.95
    result = [{"name": name, "has_calorie": False, "probability": score}
              for name, score in _verdict("dish", sub, top_num, min_share)]
    return {"result_num": len(result), "result": result}


@handler(SERVICE, "animal_detect")
def animal_detect(app, ep, params, image):
    top_num = int(params["top_num"])
    sub = _recognition().subset(image.pixels, "animal", top_k=top_num)
    return {"result": [{"name": n, "score": _fmt(s)}
                       for n, s in _verdict("animal", sub, top_num, MIN_SHARE)]}


@handler(SERVICE, "plant_detect")
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


@handler(SERVICE, "car_detect")
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


@handler(SERVICE, "object_detect")
def object_detect(app, ep, params, image):
    box = _recognition().subject_box(image.pixels)
    return {"result": _location(box)}


@handler(SERVICE, "multi_object_detect")
def multi_object_detect(app, ep, params, image):
    boxes = _recognition().multi_objects(image.pixels)
    return {"result": [{"name": b.name, "score": round(float(b.score), 6),
                        "location": _location(b)} for b in boxes]}


# -- logo library ----------------------------------------------------------------------------

def _logo_store(app):
    with app.state_lock:
        store = app.state.get("logo")
        if store is None:
            from vislab.engine.gallery import open_gallery

            store = open_gallery("logo", "default", home=app.home)
            app.state["logo"] = store
        return store


def _embed(pixels: np.ndarray) -> np.ndarray:
    from vislab.engine.backbone import get_backbone

    return get_backbone().embed([pixels])[0]


@handler(SERVICE, "logo_add")
def logo_add(app, ep, params, image):
    store = _logo_store(app)
    try:
        entry = store.add(image.data, _embed(image.pixels), brief=params["brief"])
    except Exception as exc:  # the store's typed errors carry the service code
        code = getattr(exc, "code", None)
        if isinstance(code, int):
            raise WireError(code, getattr(exc, "msg", None)) from None
        raise
    return {"result": {"cont_sign": entry.cont_sign}}


@handler(SERVICE, "logo_delete")
def logo_delete(app, ep, params, image):
    store = _logo_store(app)
    if image is not None:
        removed = store.delete_image(image.data)
    elif params.get("cont_sign"):
        removed = store.delete(params["cont_sign"])
    else:
        raise WireError(216101, "not enough param: image or cont_sign")
    if not removed:
        raise WireError(216680)
    return {}


@handler(SERVICE, "logo_search")
def logo_search(app, ep, params, image):
    store = _logo_store(app)
    rec = _recognition()
    if len(store) == 0:
        return {"result_num": 0, "result": []}
    box = rec.subject_box(image.pixels)
    x, y, w, h = (int(round(v)) for v in (box.x, box.y, box.w, box.h))
    crops = [image.pixels, image.pixels[y:y + h, x:x + w]]
    from vislab.engine.backbone import get_backbone

    vectors = get_backbone().embed(crops)
    # Whichever view (whole image, subject crop) matches a stored logo better decides.
    best: dict[str, tuple[float, object]] = {}
    for view, vec in enumerate(vectors):
        for hit in store.search(vec, top_k=5):
            if hit.score > best.get(hit.cont_sign, (-1.0, None))[0]:
                best[hit.cont_sign] = (hit.score, (view, hit))
    loc = {"left": 0, "top": 0, "width": image.pixels.shape[1],
           "height": image.pixels.shape[0]}
    result = []
    for score, (view, hit) in sorted(best.values(), key=lambda t: -t[0]):
        if score < LOGO_MIN_SCORE:
            continue
        result.append({"type": 1, "name": hit.brief, "probability": round(float(score), 6),
                       "location": _location(box) if view == 1 else loc})
    return {"result_num": len(result), "result": result}


# Cosine similarity below which a stored logo is not reported (EfficientNet embeddings of
# unrelated photos sit around 0.3-0.5; copies of the same logo above 0.8).
LOGO_MIN_SCORE = 0.6
