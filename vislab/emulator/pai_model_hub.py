"""Local answers for the PAI Model Hub services at ``/api/predict/<service>``.

Only real offline models answer; everything else is PAI's error shape with HTTP 501 (a
:class:`~vislab.errors.NotAvailableLocally` in Python) naming the model and the ways to get it.

========================  ===================================================================
service                   local answer
========================  ===================================================================
``classify``              the backbone's ImageNet-1k softmax (EfficientNet-Lite0, not PAI's
                          ResNet): ``class`` is the ImageNet index, ``class_probs`` all 1000
``image_similarity``      backbone embeddings: ``similarity`` by :func:`similarity_score`
                          (0-100, calibrated: identical 100, edited copies >= 80, different
                          photos < 80), ``l2_distance`` between the unit embeddings
``product_compare``       the same embeddings: ``l2_distance`` or ``cosine_similarity`` (only
                          the requested metric) — a general model, not PAI's product-trained
                          metric model
``detect``,               **your model**: an exported ONNX detector in
``count_inventory``       ``<vislab home>/pai_models/<service>/``, else the EasyDL detector
                          published at the suffix ``detect`` / ``count_inventory``
                          (``vislab.easydl.publish(name, version, suffix="detect")``), at its
                          recommended threshold; the reply's ``local_model`` names it (these
                          are not PAI's COCO / SKU models)
``ocr``                   ``vislab.engine.ocr.read_text`` when that engine is installed
``face_*``                ``vislab.engine.faces`` when that engine is installed (except
                          ``face_enhance``)
``segment_foreground``    ``vislab.engine.foreground`` (MediaPipe Selfie Segmentation, made
                          for people close to the camera, not PAI's MobileNet): the image is
                          fetched from ``input.url`` as PAI does; ``mask`` a ``[h, w]`` 0/1
                          list, ``human_ratio`` its mean as a string
``segment_semantic``,     **your model**: an ONNX model in ``<vislab home>/pai_models/<service>/``
``segment_instance``      (:mod:`vislab.emulator.pai_segmentation`; the contract below); I3
                          ``preds`` / ``probs``, I4 ``detection_*`` + ``detection_masks``
others                    none: ``scene``, ``colorize``, ``face_enhance``
========================  ===================================================================

**The ONNX contract** of an exported detector is the folder :func:`vislab.easydl.export`
writes (and :func:`vislab.easydl.load_exported` reads): ``model.onnx`` (input ``image``, a
float32 ``1 x 3 x H x W`` tensor normalised as ``preprocess_args.json`` says; outputs ``head``
— per-cell label heatmaps and box offsets, decoded as vislab's detection head — and
``density``), ``label_list.txt`` (one label per
line, in class-index order) and ``preprocess_args.json`` (``kind: "detection"``, ``name``,
``version``, ``input_size``, ``stride``, ``min_score``, ``nms_iou``, ``max_detections``,
``recommended_threshold``).  Your own ONNX model answers here when it follows that layout.

**The ONNX contract of the segmentation models** (``pai_models/segment_semantic/`` and
``pai_models/segment_instance/``, no checksum asked) is the same three files with simpler
contents, written in full in :mod:`vislab.engine.segmentation_onnx`: one float32 input
``1 x 3 x H x W``, normalised as ``preprocess_args.json``'s ``input_size``, ``mean`` and
``std`` say (``(pixel - mean) / std`` on the 0..255 scale); semantic: the first output is
``1 x C x h x w`` class scores (softmax applied when ``"outputs": "logits"``), resized to the
image; instance, torchvision Mask R-CNN's export layout: outputs ``boxes`` ``N x 4`` (x1, y1,
x2, y2 in input pixels, scaled back to the image), ``scores`` ``N``, ``labels`` ``N`` (lines of
``label_list.txt``), ``masks`` ``N x 1 x h x w`` in 0..1 (resized to the image, object where
>= 0.5).  A folder that lacks a file is refused naming it.

The request's nested fields (P1's ``function_params``, I6's ``input.url``) are read by this
family's reply format (:class:`PaiModelHubFormat`).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vislab.catalogue.pai_model_hub import ID
from vislab.emulator import pai_segmentation  # noqa: F401  (registers segment_* handlers)
from vislab.emulator.inputs import check_image
from vislab.emulator.registry import WireError, handler
from vislab.emulator.replies import PaiReplyFormat, register_format

__all__ = ["similarity_score", "PaiModelHubFormat", "SIMILARITY_KNEE"]

#: The cosine of backbone embeddings that maps to PAI's "different below 80" line.  Measured on
#: scikit-image and scikit-learn photos (``tests/pai/test_similarity_calibration.py``): edited
#: copies (crop, JPEG q30, brightness, flip) have cosines >= 0.85, different photos <= 0.32.
SIMILARITY_KNEE = 0.6


def similarity_score(cosine: float) -> float:
    """PAI's 0-100 similarity from a cosine of unit embeddings, piecewise linear.

    ``cosine >= SIMILARITY_KNEE`` maps onto 80..100 (1 -> 100), below it onto 0..80 (0 and
    negative cosines -> 0), so "< 80 = different" is the knee.

    Examples
    --------
    >>> similarity_score(1.0), similarity_score(0.6), similarity_score(0.3), similarity_score(-0.2)
    (100.0, 80.0, 40.0, 0.0)
    """
    c = float(np.clip(cosine, -1.0, 1.0))
    k = SIMILARITY_KNEE
    if c >= k:
        return round(80.0 + 20.0 * (c - k) / (1.0 - k), 4)
    return round(80.0 * max(c, 0.0) / k, 4)


@register_format("pai_model_hub")
class PaiModelHubFormat(PaiReplyFormat):
    """PAI's envelope; nested request fields read flat (``function_params``, ``input``)."""

    def request_fields(self, ep, fields):
        fields = dict(fields)
        nested = fields.pop("function_params", None)
        if isinstance(nested, dict):
            if ep.name == "product_compare" and fields.get("function_name") not in (None, "match"):
                raise WireError(400, "function_name must be 'match'")
            fields.update(nested)
        wrapper = fields.pop("input", None)
        if isinstance(wrapper, dict) and "url" in wrapper:
            fields.setdefault("url", wrapper["url"])
        return fields


def not_local(name: str, what: str, *, extra: str | None = None) -> WireError:
    """The 501 error of a service with no local model, naming the ways to get one."""
    ways = [f"deploy {what} on PAI-EAS and give the client its endpoint and token"]
    if extra:
        ways.append(extra)
    ways.append(
        "or deploy your own model (an ONNX export, say) as an EAS service and map the "
        "method to it with Client(services={...})"
    )
    return WireError(501, f"no local model for {name!r} ({what}): " + "; ".join(ways), status=501)


def _second_image(service, ep, params):
    text = params.get("imageb")
    try:
        data = base64.b64decode(text or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise WireError(400, "imageb is not valid base64") from None
    return check_image(service, ep, data)


def _embed_pair(ep, params, image):
    from vislab import catalogue
    from vislab.engine.backbone import get_backbone

    other = _second_image(catalogue.service(ID), ep, params)
    ea, eb = get_backbone().embed([image.pixels, other.pixels])
    return float(ea @ eb), float(np.linalg.norm(ea - eb))


def _engine(module: str):
    """``vislab.engine.<module>`` when it is installed, else None."""
    name = f"vislab.engine.{module}"
    if importlib.util.find_spec(name) is None:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:  # the module is there, its extra (the model's runtime) is not
        return None


def _engine_call(func, *args, extra: str = ""):
    """Call an optional engine; its rule errors become PAI's 400 naming the rule, and a
    runtime it cannot import a 501 naming the extra."""
    try:
        from vislab.engine.errors import EngineError
    except ImportError:  # pragma: no cover - the engine package always has errors
        EngineError = ()  # noqa: N806
    try:
        return func(*args)
    except EngineError as exc:
        raise WireError(400, str(exc)) from None
    except ImportError as exc:
        raise WireError(501, f"the local engine needs {extra or 'an extra'}: {exc}",
                        status=501) from None  # fmt: skip


@handler(ID, "classify")
def classify(app, ep, params, image):
    from vislab.engine import recognition

    labels = recognition.general(image.pixels, top_k=1000)
    top = labels[0]
    return {
        "class": int(top.class_index),
        "class_name": top.name,
        "class_probs": {lab.name: round(float(lab.score), 8) for lab in labels},
    }


@handler(ID, "image_similarity")
def image_similarity(app, ep, params, image):
    cosine, l2 = _embed_pair(ep, params, image)
    return {"similarity": similarity_score(cosine), "l2_distance": round(l2, 6)}


@handler(ID, "product_compare")
def product_compare(app, ep, params, image):
    cosine, l2 = _embed_pair(ep, params, image)
    if params["metric"] == "L2":
        return {"l2_distance": round(l2, 6)}
    return {"cosine_similarity": round(cosine, 6)}


@handler(ID, "ocr")
def ocr(app, ep, params, image):
    engine = _engine("ocr")
    if engine is None:
        raise not_local(
            "ocr",
            "PAI's end-to-end OCR",
            extra="or `pip install vislab[ocr]` for the local OCR engine",
        )
    lines = _engine_call(engine.read_text, image.pixels, extra="`pip install vislab[ocr]`")
    quads = [np.asarray(line.quad, dtype=float).reshape(4, 2) for line in lines]
    return {
        "detection_boxes": [
            [float(q[:, 1].min()), float(q[:, 0].min()), float(q[:, 1].max()), float(q[:, 0].max())]
            for q in quads
        ],  # fmt: skip
        "detection_scores": [float(line.score) for line in lines],
        "detection_classes": [1] * len(lines),
        "detection_class_names": ["text"] * len(lines),
        "detection_keypoints": [q[:, ::-1].tolist() for q in quads],  # PAI's (y, x)
        "detection_texts": [str(line.text) for line in lines],
        "detection_texts_scores": [float(line.score) for line in lines],
    }


def _faces():
    engine = _engine("faces")
    if engine is None:
        raise not_local(
            "face models",
            "PAI's face models",
            extra="or `pip install vislab[face]` for the local face engine",
        )
    return engine


@handler(ID, "segment_foreground")
def segment_foreground(app, ep, params, image):
    # The image arrives by URL (``{"input": {"url": ...}}``), fetched by the emulator's capped,
    # deadline-bound download; the mask goes back as PAI's [h, w] list of 0/1.
    if image is None:
        raise WireError(400, 'segment_foreground needs {"input": {"url": "<http(s) image URL>"}}')
    engine = _engine("foreground")
    if engine is None:  # pragma: no cover - the module ships with vislab
        raise not_local("segment_foreground", "PAI's MobileNet human segmentation")
    mask, ratio = _engine_call(
        engine.segment_foreground, image.pixels, extra="`pip install vislab[face]`"
    )
    return {"human_ratio": f"{ratio:.6f}", "mask": mask.astype(np.uint8).tolist()}


@handler(ID, "face_similarity")
def face_similarity(app, ep, params, image):
    from vislab import catalogue

    engine = _faces()
    other = _second_image(catalogue.service(ID), ep, params)
    score = _engine_call(
        engine.face_similarity, image.pixels, other.pixels, extra="`pip install vislab[face]`"
    )
    return {"similarity": int(round(float(score)))}


@handler(ID, "face_attributes")
def face_attributes(app, ep, params, image):
    faces = _engine_call(_faces().face_attributes, image.pixels, extra="`pip install vislab[face]`")
    return {
        "face_age": [float(f.age) for f in faces],
        "face_gender": [str(f.gender) for f in faces],
        "face_emo": [str(f.expression) for f in faces],
        # PAI's fifth value is read as the detection score; an engine without one sends four.
        "face_bbox": [
            [*(float(v) for v in f.box)]
            + ([float(f.score)] if getattr(f, "score", None) is not None else [])
            for f in faces
        ],
    }


#: Folder (under the vislab home) of exported ONNX detectors, one sub-folder per service name.
EXPORTED_FOLDER = pai_segmentation.MODELS_FOLDER


@dataclass(frozen=True)
class _Found:
    """One detection of your model, whichever runtime found it."""

    name: str
    score: float
    x: float
    y: float
    w: float
    h: float


class _Exported:
    """An exported ONNX detector (``vislab.easydl.export``'s folder, or yours in its layout)."""

    def __init__(self, folder: Path):
        from vislab.easydl.export import load_exported

        self.model = load_exported(folder)
        self.classes = list(self.model.labels)
        self.label = f"your model: ONNX {self.model.name} {self.model.version} ({folder.name})"

    def detect(self, pixels) -> list[_Found]:
        cut = self.model.args.get("recommended_threshold") or 0.0
        df = self.model.detect(pixels, confidence=float(cut))
        return [_Found(r.label, float(r.score), r.x, r.y, r.w, r.h) for r in df.itertuples()]


class _Published:
    """The EasyDL detector published at a suffix (a trained version in the model store)."""

    def __init__(self, model):
        self.model = model
        self.classes = list(model.meta.get("classes") or [])
        self.label = f"your model: EasyDL {model.name} {model.version}"

    def detect(self, pixels) -> list[_Found]:
        return [
            _Found(d.name, float(d.score), d.x, d.y, d.w, d.h) for d in self.model.detect(pixels)
        ]  # at its recommended threshold


def _exported(app, name: str):
    from vislab.engine.paths import vislab_home

    folder = Path(app.home).expanduser() if app.home else vislab_home()
    folder = folder / EXPORTED_FOLDER / name
    onnx = folder / "model.onnx"
    if not onnx.is_file():
        return None
    key = (str(folder), onnx.stat().st_mtime_ns)
    with app.state_lock:
        cache = app.state.setdefault("pai_exported", {})
        found = cache.get(key)
    if found is None:
        found = _Exported(folder)
        if found.model.kind != "detection":
            raise WireError(400, f"{folder} holds a {found.model.kind} model, not a detector")
        with app.state_lock:
            cache[key] = found
    return found


def _your_detector(app, name: str):
    """Your detector for service ``name``: an exported ONNX folder under
    ``<home>/pai_models/<name>/``, else the EasyDL detector published at the suffix ``name``,
    else a 501 naming both ways."""
    from vislab.emulator.baidu_easydl import _published

    exported = _exported(app, name)
    if exported is not None:
        return exported
    model = _published(app, "detection", name)
    if model is None:
        what = {"detect": "PAI's COCO detector (Faster R-CNN)",
                "count_inventory": "PAI's 171-SKU inventory model"}[name]  # fmt: skip
        raise not_local(
            name,
            what,
            extra=f"or train a detector with vislab.easydl and publish it at the suffix "
            f"{name!r} (vislab.easydl.publish('<model>', 'V1', suffix={name!r})) or export it "
            f"into <vislab home>/{EXPORTED_FOLDER}/{name}/",
        )
    return _Published(model)


def _detections(model, pixels) -> dict:
    found = sorted(model.detect(pixels), key=lambda d: -d.score)
    classes = model.classes
    return {
        # PAI's [top, left, bottom, right]
        "detection_boxes": [
            [round(d.y, 2), round(d.x, 2), round(d.y + d.h, 2), round(d.x + d.w, 2)] for d in found
        ],
        "detection_scores": [round(float(d.score), 6) for d in found],
        "detection_classes": [classes.index(d.name) if d.name in classes else -1 for d in found],
        "detection_class_names": [d.name for d in found],
        "local_model": model.label,
    }


@handler(ID, "detect")
def detect(app, ep, params, image):
    return _detections(_your_detector(app, "detect"), image.pixels)


@handler(ID, "count_inventory")
def count_inventory(app, ep, params, image):
    reply = _detections(_your_detector(app, "count_inventory"), image.pixels)
    counts: dict[str, int] = {}
    for name in reply["detection_class_names"]:
        counts[name] = counts.get(name, 0) + 1
    h, w = image.pixels.shape[:2]
    return {**reply, "product_count": counts, "ori_img_shape": [h, w]}


_NOT_LOCAL = {
    "scene": ("PAI's scene classifier (Places-like labels)", None),
    "colorize": ("PAI's NoGAN colouring model", None),
    "face_enhance": ("PAI's face enhancement model", None),
}


def _refuse(name: str, what: str, extra: str | None):
    def answer(app, ep, params, image):
        raise not_local(name, what, extra=extra)

    answer.__name__ = name
    return handler(ID, name)(answer)


for _name, (_what, _extra) in _NOT_LOCAL.items():
    _refuse(_name, _what, _extra)
