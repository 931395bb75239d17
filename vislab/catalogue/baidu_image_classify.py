"""Baidu image recognition (``AipImageClassify``) endpoints, declared once.

Facts come from Baidu's image recognition documentation.  Where it is silent (subject,
logo, animal and plant APIs; ``baike_num``; ``filter_threshold``), the paths and parameter
names are those of the official ``baidu-aip`` SDK, whose requests `vislab serve` must accept
unchanged.  Choices where the spec contradicts itself:

* image formats: JPEG, PNG, BMP (the parameter tables and error 216201), not GIF; with
  ``fit=True`` a GIF is re-encoded (first frame) before sending;
* shortest side: 15 px (every parameter table) rather than 30 px (the notes);
* ``top_num`` is sent as a string, as the spec types it.

Dish replies may carry ``calorie`` / ``probability`` as strings (and a dish name in
``calorie``); parsers turn numeric strings into floats and keep anything else as NaN in the
numeric column while the reply stays untouched in ``df.attrs["raw"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vislab.catalogue.baidu_codes import BAIDU_CODES
from vislab.catalogue.model import Endpoint, ImageLimits, Param, Service, as_number

ID = "baidu.image_classify"

#: Image problems -> the codes Baidu's recognition APIs answer.
REQUEST_ERRORS = {
    "body": 216100,
    "param_missing": 216101,
    "param_invalid": 216100,
    "internal": 282000,
    "missing": 216101,
    "empty": 216200,
    "base64": 216203,
    "format": 216201,
    "bytes": 216202,
    "max_side": 216202,
    "min_side": 216202,
    "aspect": 216202,
    "blank": 216203,
    "url_format": 282111,
    "url_timeout": 282112,
    "url_invalid": 282113,
    "url_size": 282114,
}

LIMITS = ImageLimits(
    formats=("JPEG", "PNG", "BMP"),
    max_encoded_bytes=4 * 1024 * 1024,
    counts="base64",
    min_side=15,
    max_side=4096,
    max_aspect=3.0,
)

BAIKE_NUM = Param(
    "baike_num",
    "int",
    default=0,
    minimum=0,
    maximum=20,
    doc="how many results get encyclopaedia (baike) info; the local engine has none",
)


def top_num(default: int) -> Param:
    return Param(
        "top_num",
        "int",
        default=default,
        minimum=1,
        maximum=100,
        wire_str=True,
        doc="how many top predictions to return",
    )


def _baike(item: Mapping[str, Any]) -> dict:
    info = item.get("baike_info") or {}
    out = {}
    if info.get("baike_url"):
        out["baike_url"] = info["baike_url"]
    if info.get("description"):
        out["description"] = info["description"]
    return out


#: The encyclopaedia columns a reply with ``baike_num`` adds (:func:`_baike`).
BAIKE_COLUMNS = (("baike_url", "str"), ("description", "str"))
_XYWH = tuple((c, "float") for c in ("x", "y", "w", "h"))


def location_xywh(loc: Mapping[str, Any] | None) -> dict:
    """Baidu ``{left, top, width, height}`` -> frame ``x, y, w, h``.

    Examples
    --------
    >>> location_xywh({"left": 30, "top": 50, "width": 431, "height": 278})
    {'x': 30.0, 'y': 50.0, 'w': 431.0, 'h': 278.0}
    """
    if not loc:
        return {}
    return {
        "x": float(loc.get("left", 0)),
        "y": float(loc.get("top", 0)),
        "w": float(loc.get("width", 0)),
        "h": float(loc.get("height", 0)),
    }


def parse_general(reply, image):
    return [
        {
            "image": image,
            "rank": i,
            "label": r.get("keyword"),
            "score": as_number(r.get("score")),
            "root": r.get("root"),
            **_baike(r),
        }
        for i, r in enumerate(reply.get("result") or [], 1)
    ]


def parse_dish(reply, image):
    rows = []
    for i, r in enumerate(reply.get("result") or [], 1):
        row = {
            "image": image,
            "rank": i,
            "label": r.get("name"),
            "score": as_number(r.get("probability")),
            "calorie": as_number(r.get("calorie")),
        }
        if "has_calorie" in r:
            row["has_calorie"] = bool(r["has_calorie"])
        row.update(_baike(r))
        rows.append(row)
    return rows


def parse_named(reply, image):
    """Animal / plant replies: ``result[] = {name, score}``."""
    return [
        {
            "image": image,
            "rank": i,
            "label": r.get("name"),
            "score": as_number(r.get("score")),
            **_baike(r),
        }
        for i, r in enumerate(reply.get("result") or [], 1)
    ]


def parse_car(reply, image):
    extras: dict[str, Any] = {}
    if reply.get("color_result"):
        extras["color"] = reply["color_result"]
    extras.update(location_xywh(reply.get("location_result")))
    rows = []
    for i, r in enumerate(reply.get("result") or [], 1):
        row = {
            "image": image,
            "rank": i,
            "label": r.get("name"),
            "score": as_number(r.get("score")),
        }
        if r.get("year"):
            row["year"] = r["year"]
        row.update(extras)
        row.update(_baike(r))
        rows.append(row)
    return rows


def parse_subject(reply, image):
    box = location_xywh(reply.get("result"))
    # The subject API gives a box and nothing else: no label, no score (never invented).
    return [{"image": image, "label": None, "score": None, **box}] if box else []


def parse_objects(reply, image):
    return [
        {
            "image": image,
            "label": r.get("name"),
            "score": as_number(r.get("score")),
            **location_xywh(r.get("location")),
        }
        for r in reply.get("result") or []
    ]


def parse_logo(reply, image):
    return [
        {
            "image": image,
            "label": r.get("name"),
            "score": as_number(r.get("probability")),
            **location_xywh(r.get("location")),
            "type": r.get("type"),
        }
        for r in reply.get("result") or []
    ]


def parse_logo_add(reply, image):
    result = reply.get("result") or {}
    return [{"image": image, "cont_sign": result.get("cont_sign")}]


def parse_logo_delete(reply, image):
    return [{"image": image, "deleted": True}]


_ENDPOINTS = (
    Endpoint(
        "advanced_general",
        ID,
        "/rest/2.0/image-classify/v2/advanced_general",
        params=(BAIKE_NUM,),
        limits=LIMITS,
        frame="labels",
        parse=parse_general,
        columns=(("root", "str"), *BAIKE_COLUMNS),
        doc="General object and scene recognition: labels with a parent category `root`.",
    ),
    Endpoint(
        "dish_detect",
        ID,
        "/rest/2.0/image-classify/v2/dish",
        params=(
            top_num(5),
            Param(
                "filter_threshold",
                "float",
                default=0.95,
                minimum=0,
                maximum=1,
                doc="results below this confidence are dropped by the service",
            ),
            BAIKE_NUM,
        ),
        limits=LIMITS,
        frame="labels",
        parse=parse_dish,
        columns=(("calorie", "float"), ("has_calorie", "boolean"), *BAIKE_COLUMNS),
        doc="Dish recognition: dish name, calories per 100 g, confidence.",
    ),
    Endpoint(
        "car_detect",
        ID,
        "/rest/2.0/image-classify/v1/car",
        params=(top_num(5), BAIKE_NUM),
        limits=LIMITS,
        frame="labels",
        parse=parse_car,
        columns=(("year", "str"), ("color", "str"), *_XYWH, *BAIKE_COLUMNS),
        doc="Car model recognition: model names with year, colour and the car's box where known.",
    ),
    Endpoint(
        "animal_detect",
        ID,
        "/rest/2.0/image-classify/v1/animal",
        params=(top_num(6), BAIKE_NUM),
        limits=LIMITS,
        frame="labels",
        parse=parse_named,
        columns=BAIKE_COLUMNS,
        doc="Animal recognition: animal names with confidence.",
    ),
    Endpoint(
        "plant_detect",
        ID,
        "/rest/2.0/image-classify/v1/plant",
        params=(BAIKE_NUM,),
        limits=LIMITS,
        frame="labels",
        parse=parse_named,
        columns=BAIKE_COLUMNS,
        doc="Plant recognition: plant names with confidence.",
    ),
    Endpoint(
        "object_detect",
        ID,
        "/rest/2.0/image-classify/v1/object_detect",
        params=(
            Param(
                "with_face", "int", default=1, choices=(0, 1), doc="1: a face counts as a subject"
            ),
        ),
        limits=LIMITS,
        frame="boxes",
        parse=parse_subject,
        doc="Image subject detection: the box of the main subject (no label, no score).",
    ),
    Endpoint(
        "multi_object_detect",
        ID,
        "/rest/2.0/image-classify/v1/multi_object_detect",
        limits=LIMITS,
        frame="boxes",
        parse=parse_objects,
        doc="Multi-subject detection: several boxes, each with a name and a score.",
    ),
    Endpoint(
        "logo_search",
        ID,
        "/rest/2.0/image-classify/v2/logo",
        params=(
            Param(
                "custom_lib",
                "bool",
                default=False,
                doc="true: search only your own logos added with logo_add",
            ),
        ),
        limits=LIMITS,
        frame="boxes",
        parse=parse_logo,
        columns=(("type", "Int64"),),
        doc="Logo recognition: logo names, boxes and confidence.",
    ),
    Endpoint(
        "logo_add",
        ID,
        "/rest/2.0/realtime_search/v1/logo/add",
        params=(
            Param(
                "brief",
                "str",
                required=True,
                minimum=1,
                maximum=256,
                doc='what to return on a hit, e.g. \'{"name": "acme", "code": "1"}\'',
            ),
        ),
        limits=LIMITS,
        frame="gallery",
        parse=parse_logo_add,
        idempotent=False,
        doc="Add a logo to your own logo library.",
    ),
    Endpoint(
        "logo_delete",
        ID,
        "/rest/2.0/realtime_search/v1/logo/delete",
        params=(Param("cont_sign", "str", doc="the signature logo_add returned"),),
        image="optional",
        limits=LIMITS,
        frame="gallery",
        parse=parse_logo_delete,
        columns=(("deleted", "boolean"),),
        doc="Delete a logo from your library, by image or by cont_sign.",
    ),
)

SERVICE = Service(
    id=ID,
    title="Baidu image recognition (AipImageClassify)",
    client="vislab.services.baidu_image_classify:ImageClassify",
    auth="baidu_token",
    envelope="baidu",
    errors=BAIDU_CODES,
    endpoints=_ENDPOINTS,
    env_prefix="VISLAB_BAIDU",
    cloud_url="https://aip.baidubce.com",
    emulator="vislab.emulator.baidu_image_classify",
    request_errors=REQUEST_ERRORS,
    doc="General, dish, car, animal and plant recognition, subject and logo detection.",
)
