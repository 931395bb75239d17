"""Local answers for EasyDL: the models published with :func:`vislab.easydl.publish`.

A request's ``{suffix}`` is resolved through the published-models registry
(:meth:`ModelStore.resolve <vislab.engine.training.store.ModelStore.resolve>`) under the app's
home (``VISLAB_HOME`` by default); the version it names answers from pixels:

``classify``
    :meth:`TrainedModel.classify` with ``top_num`` (default 6): ``results[] {name, score}``
    highest first, probabilities over all classes ("other" counts like any class).
``detect``
    :meth:`TrainedModel.detect` with ``threshold`` (default 0.3): ``results[] {name, score,
    location {left, top, width, height}}`` in pixels of the image as sent, highest first.

An unknown or unpublished suffix, or one published for the other kind, answers code 3
"Unsupported openapi method" (see :mod:`vislab.catalogue.baidu_easydl`).  Two built-in suffixes
need no training: ``imagenet`` (the backbone's ImageNet classes) and ``objects`` (the engine's
subject boxes).  When call logging is on for the model (:func:`vislab.easydl.log_calls`), each
answered call is written to the call log (image hash and bytes, time, prediction; never a key).
"""

from __future__ import annotations

import logging

from vislab.catalogue.baidu_easydl import ID, UNKNOWN_SUFFIX
from vislab.emulator.registry import WireError, handler

log = logging.getLogger("vislab.serve")

# Trained versions are immutable once saved, so a loaded one can be kept: (name, version) ->
# TrainedModel, per app (the runtime is rebuilt only when the registry names another version).
_CACHE_KEY = "easydl_models"
_CACHE_SIZE = 16


def _store(app):
    from vislab.engine.training.store import ModelStore

    return ModelStore(app.home)


def _published(app, kind: str, suffix: str):
    """The model published at ``suffix`` for ``kind`` (cached by name and version), or None."""
    store = _store(app)
    entry = store.published().get(suffix)
    if entry is None or entry.get("kind") != kind:
        return None
    key = (str(store.root), entry["name"], entry["version"])
    with app.state_lock:
        cache = app.state.setdefault(_CACHE_KEY, {})
        model = cache.get(key)
    if model is None:
        model = store.resolve(kind, suffix)
        if model is None:
            return None
        with app.state_lock:
            if len(cache) >= _CACHE_SIZE:
                cache.pop(next(iter(cache)))
            cache[key] = model
    return model


def _unknown(kind: str, suffix: str) -> WireError:
    return WireError(
        UNKNOWN_SUFFIX,
        f"Unsupported openapi method: no {kind} model is published at {suffix!r} "
        "(publish one with vislab.easydl.publish)",
    )


def _log(app, model, image, results) -> None:
    import sqlite3

    from vislab.engine import call_log

    try:
        call_log.record(model.name, model.version, model.kind, image.data, results, home=app.home)
    except (OSError, sqlite3.Error) as exc:
        # The caller gets its answer: a full disk must not turn predictions into errors.
        log.warning("call log of %s not written: %s", model.name, exc)


def _location(x, y, w, h) -> dict:
    return {
        "left": round(float(x), 2),
        "top": round(float(y), 2),
        "width": round(float(w), 2),
        "height": round(float(h), 2),
    }


@handler(ID, "classify")
def classify(app, ep, params, image):
    suffix = params["suffix"]
    top_num = int(params["top_num"])
    model = _published(app, "classification", suffix)
    if model is None:
        if suffix != "imagenet":
            raise _unknown("classification", suffix)
        from vislab.engine import recognition

        pairs = [(lab.name, float(lab.score)) for lab in recognition.general(image.pixels, top_num)]
    else:
        pairs = model.classify(image.pixels, top_num=top_num)
    results = [{"name": name, "score": round(score, 6)} for name, score in pairs]
    if model is not None:
        _log(app, model, image, results)
    return {"results": results}


@handler(ID, "detect")
def detect(app, ep, params, image):
    suffix = params["suffix"]
    threshold = float(params["threshold"])
    model = _published(app, "detection", suffix)
    if model is None:
        if suffix != "objects":
            raise _unknown("detection", suffix)
        from vislab.engine import recognition

        found = [
            (b.name, float(b.score), b.x, b.y, b.w, b.h)
            for b in recognition.multi_objects(image.pixels)
        ]
    else:
        found = [
            (d.name, d.score, d.x, d.y, d.w, d.h) for d in model.detect(image.pixels, threshold)
        ]
    found = sorted((f for f in found if f[1] >= threshold), key=lambda f: -f[1])
    results = [
        {"name": name, "score": round(score, 6), "location": _location(x, y, w, h)}
        for name, score, x, y, w, h in found
    ]
    if model is not None:
        _log(app, model, image, results)
    return {"results": results}
