"""The generic image-classification API: a custom model behind a URL of its own, declared once.

A vendor-neutral HTTP API documented without a vendor name: ``POST <model URL>`` with the JSON
body ``{"base64": "<image, no data-URI header>"}``; the reply ``{"code": 10000,
"predictResult": {"prediction": ..., "thresholdList": [{"name", "threshold"}, ...]}}``.
Readings of what the docs leave open:

* ``thresholdList[].threshold`` is a per-class **score** (the docs' example sums to ~1), so it
  becomes the frame's ``score``; ``prediction`` is kept in a column of its own because the
  docs' own example predicts a class that is not the top score;
* rows are ranked by score (the service lists classes alphabetically);
* the error body is ``{"code": <int>, "message": "<text>"}`` (inferred from the table headers);
  ``-2``, ``1100`` and ``2100`` are retried, ``2000`` (app key) is an auth error;
* image rules: JPG/JPEG/PNG, each side 30..4096 px, aspect ratio at most 3:1, and 4 MB counted
  **after base64** — the stricter of the two readings, so an image vislab sends is never
  refused by either;
* there is no fixed URL and no documented auth: the model URL is the client's ``url``.  The
  emulator serves local models at a route of **our own**, ``/vislab/generic/v1/classify/<model>``
  (``imagenet``: the local backbone's 1000 classes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vislab.catalogue.model import Endpoint, ImageLimits, Service, as_number
from vislab.errors import CodeTable, ErrorCode

ID = "generic"

#: The route vislab serves local models at (ours; the cloud's URL is per model).
LOCAL_ROUTE = "/vislab/generic/v1/classify/{model}"

LIMITS = ImageLimits(
    formats=("JPEG", "PNG"),
    max_encoded_bytes=4 * 1024 * 1024,
    counts="base64",
    min_side=30,
    max_side=4096,
    max_aspect=3.0,
)

CODES = CodeTable(
    "generic",
    [
        ErrorCode(10310, "Missing required parameter"),
        ErrorCode(10311, "Invalid parameter"),
        ErrorCode(10440, "Wrong image type"),
        ErrorCode(10441, "Image file size exceeds the limit"),
        ErrorCode(10442, "Image pixel dimensions exceed the limit"),
        ErrorCode(10443, "Image aspect ratio exceeds the limit"),
        ErrorCode(-2, "Internal server error", "unavailable", retry=True),
        ErrorCode(2000, "User APPK error (app key)", "auth"),
        ErrorCode(1100, "API response status was not 200", "unavailable", retry=True),
        ErrorCode(2100, "Gateway internal exception", "unavailable", retry=True),
    ],
)

REQUEST_ERRORS = {
    "body": 10311,
    "param_missing": 10310,
    "param_invalid": 10311,
    "internal": -2,
    "missing": 10310,
    "empty": 10310,
    "base64": 10311,
    "format": 10440,
    "bytes": 10441,
    "max_side": 10442,
    "min_side": 10442,
    "aspect": 10443,
}


def parse_classify(reply: Mapping[str, Any], image: str) -> list[dict]:
    """``thresholdList`` -> labels rows ranked by score, with the service's ``prediction``.

    Examples
    --------
    >>> reply = {"code": 10000, "predictResult": {"prediction": "rap_gesture", "thresholdList": [
    ...     {"name": "other", "threshold": 0.9815}, {"name": "rap_gesture", "threshold": 0.0042}]}}
    >>> [(r["rank"], r["label"], r["prediction"]) for r in parse_classify(reply, "a.jpg")]
    [(1, 'other', 'rap_gesture'), (2, 'rap_gesture', 'rap_gesture')]
    """
    result = reply.get("predictResult") or {}
    prediction = result.get("prediction")
    entries = [
        (e.get("name"), as_number(e.get("threshold")))
        for e in result.get("thresholdList") or []
        if isinstance(e, Mapping)
    ]
    entries.sort(key=lambda e: -(e[1] if e[1] is not None else float("-inf")))
    return [
        {"image": image, "rank": i, "label": name, "score": score, "prediction": prediction}
        for i, (name, score) in enumerate(entries, 1)
    ]


CLASSIFY = Endpoint(
    "classify",
    ID,
    LOCAL_ROUTE,
    body="json",
    image_field="base64",
    url_field=None,
    limits=LIMITS,
    frame="labels",
    parse=parse_classify,
    example={"model": "imagenet"},
    columns=(("prediction", "str"),),
    doc="Classify one image with a published custom model: a score for every class.",
)

SERVICE = Service(
    id=ID,
    title="Generic image-classification API",
    client="vislab.generic:Classifier",
    auth="none",
    envelope="generic",
    errors=CODES,
    endpoints=(CLASSIFY,),
    emulator="vislab.emulator.generic",
    request_errors=REQUEST_ERRORS,
    doc="A custom classifier published at a URL of its own; JSON in, every class's score out.",
)
