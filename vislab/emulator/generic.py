"""Local answers for the generic image-classification API.

Served at ``/vislab/generic/v1/classify/<model>`` — a route of vislab's own (the real API's URL
is per model).  The one local model is ``imagenet``: the backbone's ImageNet-1k softmax, every
class listed alphabetically as the docs' example lists them, ``prediction`` the top class.
An unknown model name answers ``10311`` (invalid parameter) with HTTP 404.
"""

from __future__ import annotations

from vislab.catalogue.generic import ID
from vislab.emulator.registry import WireError, handler

#: Local models served by this route.
MODELS = ("imagenet",)


@handler(ID, "classify")
def classify(app, ep, params, image):
    model = params.get("model")
    if model not in MODELS:
        raise WireError(
            10311,
            f"Invalid parameter: no local model {model!r} (local models: {', '.join(MODELS)})",
            status=404,
        )
    from vislab.engine import recognition

    labels = recognition.general(image.pixels, top_k=1000)
    listed = sorted(
        ((lab.name, round(float(lab.score), 6)) for lab in labels), key=lambda item: item[0]
    )
    return {
        "predictResult": {
            "prediction": labels[0].name,
            "thresholdList": [{"name": name, "threshold": score} for name, score in listed],
        }
    }
