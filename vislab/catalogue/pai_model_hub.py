"""Alibaba Cloud PAI Model Hub: the image, face and product models (I1-I10, F1-F3, P1), once.

**Transport.** The Model Hub docs name no endpoint URL, HTTP method, authentication, limits or
error codes: all of it is user configuration.  The default is what Alibaba's official
``eas-prediction`` client does with a model deployed as an EAS service:
``POST {endpoint}/api/predict/{service}`` with a JSON body; ``Authorization: <service token>``
or its HMAC form ``EAS <base64 HMAC-SHA1(token, "POST\\n<Content-MD5>\\n<Content-Type>\\n<Date>
\\n<path>")>`` (``Content-MD5`` the hex MD5 of the body, ``Date`` RFC 1123 GMT); failures by
HTTP status with the ``request_id``/``success``/``error_code``/``error_msg`` envelope; only
HTTP 500 is retried, as the official client retries it.  One EAS service is one model, so each
endpoint's path ends in its **service name**: the default names below are the names
``vislab serve`` answers, and a client maps each method to the name of your own deployment.

**Parser decisions on the docs' ambiguities** (each tested in ``tests/pai/test_parsers.py``):

* boxes are ``[top, left, bottom, right]`` (``"tlbr"``) and go through
  :func:`vislab.frames.convert_boxes`; OCR keypoints are ``(y, x)`` and become ``quad`` corners
  ``(x, y)``;
* class names are read from ``detection_class_names`` **or** the examples' misspelled
  ``detection_classe_names`` (else the class id as text);
* inventory boxes: without ``ori_img_shape`` they are ``tlbr`` as documented; with it (read as
  ``[height, width]``) they are ``[x1, y1, x2, y2]``, which is what the docs' example holds
  (its 1st/3rd values reach the width 1706), unless only the ``tlbr`` reading fits inside;
* ``similarity`` and ``l2_distance`` may be a scalar or a one-element list; the value is kept
  on the scale the service sent (documented 0-100; the I9 example's ``[1.0]`` suggests a
  deployment may answer 0-1: ``raw`` keeps the wire value);
* scene ``class`` / ``class_name`` are length-5 lists (I1's are scalars); both forms are read;
* ``human_ratio`` is a string and becomes a float; the foreground ``mask`` becomes a COCO RLE
  (values in 0..1 are foreground from 0.5, larger values from 128);
* ``face_emo`` values lose the trailing comma the example shows (``"Happiness,"``);
* ``face_bbox`` is read as ``[x1, y1, x2, y2, score]`` — **inferred**: the docs give five
  numbers and no order; the example's ``[452.09, 61.25, 643.23, 321.39, 0.99999]`` fits it;
* instance masks follow the stated RLE rule (odd runs False, even runs True) scanned in
  ``RLE_ORDER`` (column-major, as COCO; the docs do not say; a client's ``rle_order=`` changes
  it), and become COCO RLE;
* semantic ``preds`` is the label map; ``probs`` is kept as sent (the docs' example is 3-d and
  its channel order unknown);
* product comparison returns only the requested metric's field;
* a reply's ``local_model`` (vislab's local answers only: "your model: EasyDL <name> <version>",
  "your model: ONNX pai_models/<service>") becomes the ``model`` column of detection, count,
  instance-mask and semantic rows.

Video, speech and text models of the Model Hub are out of scope (see the spec).
"""

from __future__ import annotations

from vislab.catalogue._pai_parsers import (
    RLE_ORDER,
    class_names,
    decode_out_image,
    inventory_box_order,
    parse_classify,
    parse_detect,
    parse_face_attributes,
    parse_foreground,
    parse_instance,
    parse_inventory,
    parse_inventory_boxes,
    parse_ocr,
    parse_out_image,
    parse_pair,
    parse_scene,
    parse_semantic,
    unwrap,
)
from vislab.catalogue.model import Endpoint, ImageLimits, Param, Service
from vislab.errors import CodeTable, ErrorCode

__all__ = [
    "ID",
    "SERVICE",
    "DEFAULT_SERVICES",
    "RLE_ORDER",
    "class_names",
    "decode_out_image",
    "inventory_box_order",
    "parse_classify",
    "parse_detect",
    "parse_face_attributes",
    "parse_foreground",
    "parse_instance",
    "parse_inventory",
    "parse_inventory_boxes",
    "parse_ocr",
    "parse_out_image",
    "parse_pair",
    "parse_scene",
    "parse_semantic",
    "unwrap",
]

ID = "pai.model_hub"

#: Method name -> the EAS service name ``vislab serve`` answers (``/api/predict/<name>``).
DEFAULT_SERVICES = {
    name: name
    for name in (
        "classify",
        "detect",
        "segment_semantic",
        "segment_instance",
        "ocr",
        "segment_foreground",
        "scene",
        "count_inventory",
        "image_similarity",
        "colorize",
        "face_similarity",
        "face_attributes",
        "face_enhance",
        "product_compare",
    )
}

# The docs give no image limits; these are the emulator's (and the client's fit) bounds.
LIMITS = ImageLimits(
    formats=("JPEG", "PNG", "BMP"),
    max_encoded_bytes=8 * 1024 * 1024,
    counts="raw",
    min_side=8,
    max_side=4096,
    max_aspect=None,
)

# PAI lists no error codes: the emulator answers with the HTTP status as the code.
CODES = CodeTable(
    "pai.model_hub",
    [
        ErrorCode(400, "Bad request"),
        ErrorCode(401, "Unauthorized: wrong or missing service token", "auth"),
        ErrorCode(404, "No such service"),
        ErrorCode(413, "Request body too large"),
        ErrorCode(500, "Internal server error", "unavailable", retry=True),
        ErrorCode(501, "No local model for this service", "not_local"),
        ErrorCode(503, "Service unavailable", "unavailable"),
    ],
)

REQUEST_ERRORS = {
    "body": 400,
    "param_missing": 400,
    "param_invalid": 400,
    "internal": 500,
    "missing": 400,
    "empty": 400,
    "base64": 400,
    "format": 400,
    "bytes": 413,
    "max_side": 400,
    "min_side": 400,
    "aspect": 400,
    "url_format": 400,
    "url_timeout": 400,
    "url_invalid": 400,
    "url_size": 400,
}


# -- endpoints ----------------------------------------------------------------------------------
def _ep(name, frame, parse, doc, *, params=(), image_field="image", url_field=None, columns=(),
        image="required"):  # fmt: skip
    return Endpoint(
        name,
        ID,
        f"/api/predict/{DEFAULT_SERVICES[name]}",
        body="json",
        params=params,
        image=image,
        image_field=image_field,
        url_field=url_field,
        limits=LIMITS,
        frame=frame,
        parse=parse,
        columns=columns,
        doc=doc,
    )


#: The second image of a pair endpoint: a parameter the client takes positionally.
IMAGE_B = Param("imageb", "image", required=True, doc="second image (base64)")
METRIC = Param(
    "metric", "str", required=True, choices=("L2", "Cosine"), doc="L2 distance or cosine"
)
_DET = (("class_id", "Int64"), ("model", "str"))

ENDPOINTS = (
    _ep("classify", "labels", parse_classify, "I1 ImageNet classification (ResNet).",
        columns=(("class_id", "Int64"),)),
    _ep("detect", "boxes", parse_detect, "I2 object detection (Faster R-CNN, COCO).",
        columns=_DET),
    _ep("segment_semantic", "semantic", parse_semantic,
        "I3 semantic segmentation (DeepLab V3, Pascal VOC).",
        columns=(("probs", "object"), ("model", "str"))),
    _ep("segment_instance", "masks", parse_instance, "I4 instance segmentation (Mask R-CNN).",
        columns=_DET),
    _ep("ocr", "text_lines", parse_ocr, "I5 end-to-end OCR: text lines with quadrilaterals.",
        columns=(("det_score", "float"),)),
    _ep("segment_foreground", "masks", parse_foreground,
        "I6 human foreground segmentation (MobileNet); takes an image URL.",
        url_field="url", image="optional", columns=(("human_ratio", "float"),)),
    _ep("scene", "labels", parse_scene, "I7 scene classification (ResNet), top 5.",
        columns=(("class_id", "Int64"),)),
    _ep("count_inventory", "counts", parse_inventory,
        "I8 inventory counting (YOLOv5 + fine-grained SKUs): a count per SKU.",
        columns=(("model", "str"),)),
    _ep("image_similarity", "pairs", parse_pair,
        "I9 image similarity (ResNet50): 100 = identical, < 80 = different.",
        params=(IMAGE_B,), image_field="imagea"),
    _ep("colorize", "images", parse_out_image, "I10 image colouring (NoGAN)."),
    _ep("face_similarity", "pairs", parse_pair,
        "F1 face similarity (ResNet50): 100 = same person, < 80 = different; one face each.",
        params=(IMAGE_B,), image_field="imagea"),
    _ep("face_attributes", "boxes", parse_face_attributes,
        "F2 facial attributes: box, age, gender, expression per face.",
        columns=(("age", "float"), ("gender", "str"), ("expression", "str"))),
    _ep("face_enhance", "images", parse_out_image, "F3 face enhancement."),
    _ep("product_compare", "pairs", parse_pair,
        "P1 product comparison (ResNet50 + metric learning): only the requested metric.",
        params=(IMAGE_B, METRIC), image_field="imagea"),
)  # fmt: skip

SERVICE = Service(
    id=ID,
    title="Alibaba PAI Model Hub (EAS)",
    client="vislab.pai:Client",
    auth="eas",
    envelope="pai_model_hub",
    errors=CODES,
    endpoints=ENDPOINTS,
    env_prefix="VISLAB_PAI",
    emulator="vislab.emulator.pai_model_hub",
    retry_statuses=frozenset({500}),
    request_errors=REQUEST_ERRORS,
    doc="PAI's pretrained image, face and product models deployed as EAS services; the "
    "endpoint, service names and token are user configuration.",
)
