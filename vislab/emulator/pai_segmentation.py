"""Local answers for PAI's ``segment_semantic`` (I3) and ``segment_instance`` (I4): your model.

PAI's DeepLab V3 (VOC) and Mask R-CNN (COCO) are not offline.  Your own ONNX model answers
instead, from ``<vislab home>/pai_models/segment_semantic/`` or
``<vislab home>/pai_models/segment_instance/`` (the place of ``detect``'s folder): three files,
``model.onnx``, ``label_list.txt`` and ``preprocess_args.json``, whose contract (inputs,
outputs, how they are scaled back to the image) is written in
:mod:`vislab.engine.segmentation_onnx`.  No checksum is asked of your model; a folder that
lacks a file, or a model that breaks the contract, is refused with HTTP 501 naming what is
wrong (:class:`~vislab.errors.NotAvailableLocally` in Python), and so is a missing folder,
naming the folder to create.

Replies, in PAI's shape, with ``local_model`` ("your model: ONNX pai_models/<service>", with
``name`` from ``preprocess_args.json`` when it gives one) so frames carry a ``model`` column:

* I3: ``preds`` the ``[height, width]`` label map of the image (class ids: lines of
  ``label_list.txt``) and ``probs`` ``[height, width]``: each pixel's probability of the class
  in ``preds`` (the spec's table reading, ``probability that each pixel belongs to its
  category``; not its 3-d example), rounded to 4 decimals.
* I4: ``detection_boxes`` (``[top, left, bottom, right]`` image pixels), ``detection_scores``,
  ``detection_classes`` (the model's label ids), ``detection_class_names`` and
  ``detection_masks``: PAI's RLE (counts from a False run, alternating) scanned in the
  catalogue's :data:`~vislab.catalogue.pai_model_hub.RLE_ORDER`, which a client with the
  default ``rle_order`` reads back; best score first.

Examples
--------
>>> from vislab.emulator import EmulatorApp
>>> import base64, io, json, tempfile
>>> from PIL import Image
>>> buf = io.BytesIO(); Image.new("RGB", (16, 16)).save(buf, "PNG")
>>> body = json.dumps({"image": base64.b64encode(buf.getvalue()).decode()}).encode()
>>> app = EmulatorApp(home=tempfile.mkdtemp())
>>> status, _, out = app.handle("POST", "/api/predict/segment_semantic", {}, {}, body)
>>> status, "pai_models/segment_semantic" in json.loads(out)["error_msg"]
(501, True)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vislab.catalogue.pai_model_hub import ID, RLE_ORDER
from vislab.emulator.registry import WireError, handler
from vislab.engine.segmentation_onnx import (
    FILES,
    InstanceModel,
    ModelFolderError,
    SemanticModel,
)

__all__ = ["MODELS_FOLDER", "model_folder"]

#: Folder under the vislab home with one sub-folder of your models per service name.
MODELS_FOLDER = "pai_models"

_PAI_MODEL = {
    "segment_semantic": ("PAI's DeepLab V3 (Pascal VOC)", SemanticModel),
    "segment_instance": ("PAI's Mask R-CNN (COCO)", InstanceModel),
}


def model_folder(app, service: str) -> Path:
    """The folder of your model for ``service``: ``<home>/pai_models/<service>``.

    Examples
    --------
    >>> from vislab.emulator import EmulatorApp
    >>> model_folder(EmulatorApp(home="/srv/vislab"), "segment_instance").as_posix()
    '/srv/vislab/pai_models/segment_instance'
    """
    from vislab.engine.paths import vislab_home

    home = Path(app.home).expanduser() if app.home else vislab_home()
    return home / MODELS_FOLDER / service


def _your_model(app, service: str):
    """Your loaded model for ``service`` (cached per app until a file changes)."""
    from vislab.emulator.pai_model_hub import not_local  # the family's 501 wording

    what, kind = _PAI_MODEL[service]
    folder = model_folder(app, service)
    if not folder.is_dir():
        raise not_local(
            service,
            what,
            extra=f"or put your own ONNX model into {folder} ({', '.join(FILES)}; the "
            "contract is in vislab.engine.segmentation_onnx)",
        )
    stamp = tuple((folder / n).stat().st_mtime_ns if (folder / n).is_file() else 0 for n in FILES)
    key = (str(folder), stamp)
    with app.state_lock:
        cache = app.state.setdefault("pai_segmentation", {})
        model = cache.get(key)
    if model is None:
        try:
            model = kind(folder)
        except ModelFolderError as exc:
            raise _unusable(service, exc) from None
        with app.state_lock:
            cache[key] = model
    return model


def _unusable(service: str, exc: Exception) -> WireError:
    return WireError(
        501, f"your model for {service!r} is not usable: {exc}",
        status=501,
    )  # fmt: skip


def _label(model, service: str) -> str:
    where = f"{MODELS_FOLDER}/{service}"
    return f"your model: ONNX {model.name} ({where})" if model.name else f"your model: ONNX {where}"


def _rgb(pixels: np.ndarray) -> np.ndarray:
    return np.repeat(pixels[:, :, None], 3, axis=2) if pixels.ndim == 2 else pixels[:, :, :3]


@handler(ID, "segment_semantic")
def segment_semantic(app, ep, params, image):
    model = _your_model(app, "segment_semantic")
    try:
        preds, probs = model.segment(_rgb(image.pixels))
    except ModelFolderError as exc:
        raise _unusable("segment_semantic", exc) from None
    return {
        "preds": preds.tolist(),
        "probs": np.round(probs.astype(np.float64), 4).tolist(),
        "local_model": _label(model, "segment_semantic"),
    }


@handler(ID, "segment_instance")
def segment_instance(app, ep, params, image):
    from vislab.masks import pai_rle_encode

    model = _your_model(app, "segment_instance")
    reply = {
        "detection_boxes": [],
        "detection_scores": [],
        "detection_classes": [],
        "detection_class_names": [],
        "detection_masks": [],
        "local_model": _label(model, "segment_instance"),
    }
    try:
        for found in model.instances(_rgb(image.pixels)):  # one full-size mask at a time
            x1, y1, x2, y2 = found.box
            reply["detection_boxes"].append([round(v, 2) for v in (y1, x1, y2, x2)])  # tlbr
            reply["detection_scores"].append(round(found.score, 6))
            reply["detection_classes"].append(found.class_id)
            reply["detection_class_names"].append(found.label)
            reply["detection_masks"].append(pai_rle_encode(found.mask, order=RLE_ORDER))
    except ModelFolderError as exc:
        raise _unusable("segment_instance", exc) from None
    return reply
