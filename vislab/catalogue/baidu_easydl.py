"""Baidu EasyDL: custom image classifiers and object detectors published as APIs, declared once.

Facts come from the EasyDL spec (``shared/specs/easydl.md`` §3): ``POST <service URL>?
access_token=<token>`` with a **JSON** body (not a form body, unlike Baidu's other image APIs);
``image`` is base64 **without** a data-URI header; classification takes ``top_num`` (default 6)
and answers ``results[] {name, score}``; detection takes ``threshold`` (default 0.3) and answers
``results[] {name, score, location {left, top, width, height}}``; every reply has ``log_id``.
Readings of what the spec leaves open:

* **paths**: classification is ``/rpc/2.0/ai_custom/v1/classification/<suffix>`` (the seeds'
  example); the seeds give no detection URL, so detection uses the cloud console's form
  ``/rpc/2.0/ai_custom/v1/detection/<suffix>`` (:data:`DETECT_PATH`).  The client takes any
  service URL as the console shows it, so a model served at another path is still reachable;
* ``top_num`` is a number in the table and a string (``"5"``) in the curl example: both are
  accepted, a number is sent.  Its range is 1..1000 (EasyDL's class limit);
* ``threshold`` is a score in 0..1; boxes are pixels of the image as sent;
* a bad ``top_num`` / ``threshold``, a missing ``image``, bad base64 and a non-JSON body all
  answer **336001** "Invalid Argument" (the spec's "bad input format: missing parameter, bad
  base64, or non-JSON request"); an empty ``image`` is 216200, a non-image or a format other
  than JPG/PNG/BMP 216201, an image over 4 MB after base64 or with a side outside 15..4096 px
  216202 (the API names no aspect-ratio rule, so none is applied);
* an **unknown or unpublished suffix**, or a suffix published for the other model kind, answers
  **3** "Unsupported openapi method" (the spec: "API does not exist; check the URL"), as any
  unknown path does;
* ``results`` are sorted by score, highest first (the spec does not say; the parsers sort too).

Locally, the emulator serves the models published with :func:`vislab.easydl.publish`, plus two
built-in suffixes that need no training (:data:`BUILTIN`): ``imagenet`` (classification: the
backbone's 1000 ImageNet classes) and ``objects`` (detection: the engine's subject boxes, the
answer of Baidu's ``multi_object_detect``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vislab.catalogue.baidu_codes import BAIDU_CODES
from vislab.catalogue.baidu_image_classify import location_xywh
from vislab.catalogue.model import Endpoint, ImageLimits, Param, Service, as_number
from vislab.errors import ErrorCode

ID = "baidu.easydl"

#: Where a published classifier answers (the seeds' example URL, ``{suffix}`` the custom part).
CLASSIFY_PATH = "/rpc/2.0/ai_custom/v1/classification/{suffix}"
#: Where a published detector answers (the cloud console's form; not in the seeds).
DETECT_PATH = "/rpc/2.0/ai_custom/v1/detection/{suffix}"
#: Suffixes the local emulator answers without a published model: suffix -> what answers.
BUILTIN = {
    "imagenet": "classification: the local backbone's 1000 ImageNet classes",
    "objects": "detection: the local engine's subject boxes (label and score per subject)",
}
#: The code an unknown or unpublished suffix answers ("Unsupported openapi method").
UNKNOWN_SUFFIX = 3

#: API image rules (spec §3.2): base64 <= 4 MB, shortest side >= 15 px, longest <= 4096 px.
LIMITS = ImageLimits(
    formats=("JPEG", "PNG", "BMP"),
    max_encoded_bytes=4 * 1024 * 1024,
    counts="base64",
    min_side=15,
    max_side=4096,
    max_aspect=None,
)

#: The error table of spec §3.6 (42 codes), with the spec's suggested kinds.  Retried: the
#: transient server failures (1, 2, 216630, 216634, 282000, 336000) and Baidu's cluster and QPS
#: limits (4, 18), which pass after a pause.
_TABLE = {
    1: ("Unknown error", "unavailable", True),
    2: ("Service temporarily unavailable", "unavailable", True),
    3: ("Unsupported openapi method", "invalid", False),
    4: ("Open api request limit reached", "quota", True),
    6: ("No permission to access data", "auth", False),
    13: ("Get service token failed", "auth", False),
    14: ("IAM Certification failed", "auth", False),
    15: ("app not exsits or create failed", "auth", False),
    17: ("Open api daily request limit reached", "quota", False),
    18: ("Open api qps request limit reached", "quota", True),
    19: ("Open api total request limit reached", "quota", False),
    100: ("Invalid parameter", "auth", False),
    110: ("Access token invalid or no longer valid", "auth", False),
    111: ("Access token expired", "auth", False),
    216100: ("invalid param", "invalid", False),
    216101: ("not enough param", "invalid", False),
    216102: ("service not support", "invalid", False),
    216103: ("param too long", "invalid", False),
    216110: ("appid not exist", "auth", False),
    216200: ("empty image", "invalid", False),
    216201: ("image format error", "invalid", False),
    216202: ("image size error", "invalid", False),
    216203: ("image size error", "invalid", False),
    216630: ("recognize error", "unavailable", True),
    216631: ("recognize bank card error", "invalid", False),
    216633: ("recognize idcard error", "invalid", False),
    216634: ("detect error", "unavailable", True),
    282000: ("internal error", "unavailable", True),
    282003: ("missing parameters: {name}", "invalid", False),
    282005: ("batch processing error", "invalid", False),
    282006: ("batch task limit reached", "invalid", False),
    282100: ("image transcode error", "invalid", False),
    282101: ("image split limit reached", "invalid", False),
    282102: ("target detect error", "invalid", False),
    282103: ("target recognize error", "invalid", False),
    282114: ("url size error", "invalid", False),
    282808: ("request id: xxxxx not exist", "invalid", False),
    282809: ("result type error", "invalid", False),
    282810: ("image recognize error", "invalid", False),
    283300: ("Invalid argument", "invalid", False),
    336000: ("Internal error", "unavailable", True),
    336001: ("Invalid Argument", "invalid", False),
}

#: EasyDL's codes: Baidu's platform table with spec §3.6's entries on top.
CODES = BAIDU_CODES.extended(
    "baidu.easydl",
    [ErrorCode(code, msg, kind, retry=retry) for code, (msg, kind, retry) in _TABLE.items()],
)

REQUEST_ERRORS = {
    "body": 336001,
    "param_missing": 336001,
    "param_invalid": 336001,
    "internal": 336000,
    "missing": 336001,
    "empty": 216200,
    "base64": 336001,
    "format": 216201,
    "bytes": 216202,
    "max_side": 216202,
    "min_side": 216202,
    "aspect": 216202,
}


def _ranked(reply: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = [r for r in reply.get("results") or [] if isinstance(r, Mapping)]
    # Highest score first; a result without a numeric score goes last, order kept.
    return sorted(entries, key=lambda r: -(as_number(r.get("score")) or float("-inf")))


def parse_classify(reply: Mapping[str, Any], image: str) -> list[dict]:
    """``results[] {name, score}`` -> labels rows ranked by score.

    Examples
    --------
    >>> reply = {"log_id": 1, "results": [{"name": "ok", "score": 0.2},
    ...                                   {"name": "scratch", "score": 0.8}]}
    >>> [(r["rank"], r["label"], r["score"]) for r in parse_classify(reply, "a.jpg")]
    [(1, 'scratch', 0.8), (2, 'ok', 0.2)]
    """
    return [
        {"image": image, "rank": i, "label": r.get("name"), "score": as_number(r.get("score"))}
        for i, r in enumerate(_ranked(reply), 1)
    ]


def parse_detect(reply: Mapping[str, Any], image: str) -> list[dict]:
    """``results[] {name, score, location}`` -> boxes rows (``x, y, w, h``) by score.

    Examples
    --------
    >>> reply = {"log_id": 1, "results": [{"name": "cell", "score": 0.9,
    ...          "location": {"left": 3, "top": 4, "width": 10, "height": 12}}]}
    >>> row = parse_detect(reply, "a.png")[0]
    >>> row["label"], row["x"], row["y"], row["w"], row["h"]
    ('cell', 3.0, 4.0, 10.0, 12.0)
    """
    return [
        {
            "image": image,
            "label": r.get("name"),
            "score": as_number(r.get("score")),
            **location_xywh(r.get("location")),
        }
        for r in _ranked(reply)
    ]


CLASSIFY = Endpoint(
    "classify",
    ID,
    CLASSIFY_PATH,
    body="json",
    params=(
        Param(
            "top_num",
            "int",
            default=6,
            minimum=1,
            maximum=1000,
            doc="how many classes to return, best first",
        ),
    ),
    image_field="image",
    url_field=None,
    limits=LIMITS,
    frame="labels",
    parse=parse_classify,
    example={"suffix": "imagenet"},
    doc="Classify images with a published EasyDL image classifier: its classes, best first.",
)

DETECT = Endpoint(
    "detect",
    ID,
    DETECT_PATH,
    body="json",
    params=(
        Param(
            "threshold",
            "float",
            default=0.3,
            minimum=0,
            maximum=1,
            doc="boxes scoring below this are not returned (the report recommends a value)",
        ),
    ),
    image_field="image",
    url_field=None,
    limits=LIMITS,
    frame="boxes",
    parse=parse_detect,
    example={"suffix": "objects"},
    doc="Find objects with a published EasyDL object detector: label, score and box each.",
)

SERVICE = Service(
    id=ID,
    title="Baidu EasyDL (custom image classification and object detection)",
    client="vislab.services.baidu_easydl:EasyDL",
    auth="baidu_token",
    envelope="baidu",
    errors=CODES,
    endpoints=(CLASSIFY, DETECT),
    env_prefix="VISLAB_EASYDL",
    cloud_url="https://aip.baidubce.com",
    emulator="vislab.emulator.baidu_easydl",
    request_errors=REQUEST_ERRORS,
    default_qps=2.0,
    doc="Your own classifiers and detectors, trained with vislab.easydl and published by suffix.",
)
