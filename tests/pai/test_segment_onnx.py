"""`segment_semantic` and `segment_instance` answered locally by **your ONNX model**: real
onnxruntime on real ONNX files built here with `onnx.helper`, whose outputs are computed from
the pixels by the graph's own ops (a colour-classifying 1x1 convolution; masks, boxes and
scores derived from it) — in process, through `vislab serve`, and broken folders refused."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from tests.conftest import ServeProcess
from vislab import pai
from vislab.catalogue.pai_model_hub import RLE_ORDER
from vislab.emulator import EmulatorApp
from vislab.errors import NotAvailableLocally
from vislab.masks import pai_rle_encode, rle_decode, rle_iou
from vislab.transport import LocalTransport

# Inputs are normalised to [-1, 1]: (pixel - 127.5) / 127.5.
NORM = {"mean": [127.5] * 3, "std": [127.5] * 3}
# Class scores of the 1x1 convolution: background (black), red, green.  Each colour scores 3
# on its own class and at most 1 on the others.
WEIGHTS = np.array([[-1, -1, -1], [1, -1, -1], [-1, 1, -1]], np.float32)
LABELS = ["background", "red", "green"]
RED, GREEN = (255, 0, 0), (0, 255, 0)


def _png(array) -> bytes:
    # PNG is lossless, so the server decodes exactly ``array``
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def _drawing(height, width, rects):
    """An image with coloured rectangles on black, and its truth label map."""
    image = np.zeros((height, width, 3), np.uint8)
    truth = np.zeros((height, width), np.int32)
    for colour, (top, left, bottom, right) in rects:
        image[top:bottom, left:right] = colour
        truth[top:bottom, left:right] = 1 if colour == RED else 2
    return image, truth


def _save(folder: Path, graph, labels, args) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by every onnxruntime the project supports
    onnx.checker.check_model(model)
    onnx.save(model, folder / "model.onnx")
    (folder / "label_list.txt").write_text("\n".join(labels) + "\n")
    (folder / "preprocess_args.json").write_text(json.dumps(args))
    return folder


def _semantic_graph(size, *, softmax=False):
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])
    scores = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3, size, size])
    weight = numpy_helper.from_array(WEIGHTS.reshape(3, 3, 1, 1), "w")
    nodes = [helper.make_node("Conv", ["image", "w"], ["logits" if softmax else "scores"])]
    if softmax:  # a model that answers probabilities itself
        nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], axis=1))
    return helper.make_graph(nodes, "colour_classes", [image], [scores], [weight])


def _instance_graph(size):
    """Red and green objects: masks from the colour, boxes and scores from the masks."""
    c = numpy_helper.from_array
    init = [
        c(np.array([[1, -1, -1], [-1, 1, -1]], np.float32).reshape(2, 3, 1, 1), "w"),
        c(np.array([-2, -2], np.float32), "b"),
        c(np.array(10, np.float32), "ten"),
        c(np.array(0.5, np.float32), "half"),
        c(np.array(1, np.float32), "one"),
        c(np.array(1e6, np.float32), "big"),
        c(np.arange(size, dtype=np.float32), "ramp"),
        c(np.array([1, 2], np.int64), "class_ids"),
    ]
    n = helper.make_node
    nodes = [
        n("Conv", ["image", "w", "b"], ["colour"]),  # own colour 1, black -1, the other -3
        n("Mul", ["colour", "ten"], ["sharp"]),
        n("Sigmoid", ["sharp"], ["soft"]),
        n("Transpose", ["soft"], ["masks"], perm=[1, 0, 2, 3]),  # (2, 1, h, w)
        n("Greater", ["masks", "half"], ["on"]),
        n("Cast", ["on"], ["onf"], to=TensorProto.FLOAT),
        n("ReduceMean", ["onf"], ["scores"], axes=[1, 2, 3], keepdims=0),  # area fraction
        n("ReduceMax", ["onf"], ["cols"], axes=[1, 2], keepdims=0),  # (2, w)
        n("ReduceMax", ["onf"], ["rows"], axes=[1, 3], keepdims=0),  # (2, h)
    ]
    for axis, lo, hi in (("cols", "x1", "x2"), ("rows", "y1", "y2")):
        nodes += [
            n("Sub", ["one", axis], [f"{axis}_off"]),
            n("Mul", [f"{axis}_off", "big"], [f"{axis}_far"]),
            n("Mul", [axis, "ramp"], [f"{axis}_at"]),
            n("Add", [f"{axis}_at", f"{axis}_far"], [f"{axis}_lo"]),
            n("ReduceMin", [f"{axis}_lo"], [lo], axes=[1], keepdims=1),
            n("Add", ["ramp", "one"], [f"{axis}_end"]),
            n("Mul", [axis, f"{axis}_end"], [f"{axis}_hi"]),
            n("ReduceMax", [f"{axis}_hi"], [hi], axes=[1], keepdims=1),
        ]
    nodes += [
        n("Concat", ["x1", "y1", "x2", "y2"], ["boxes"], axis=1),
        n("Identity", ["class_ids"], ["labels"]),
    ]
    f = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("image", f, [1, 3, size, size])]
    outputs = [
        helper.make_tensor_value_info("boxes", f, [2, 4]),
        helper.make_tensor_value_info("scores", f, [2]),
        helper.make_tensor_value_info("labels", TensorProto.INT64, [2]),
        helper.make_tensor_value_info("masks", f, [2, 1, size, size]),
    ]
    return helper.make_graph(nodes, "colour_instances", inputs, outputs, init)


def _local(home):
    return pai.Client(transport=LocalTransport(EmulatorApp(home=home).handle), progress=False)


@pytest.fixture()
def home(tmp_path):
    models = tmp_path / "pai_models"
    _save(models / "segment_semantic", _semantic_graph(64), LABELS,
          {"input_size": 64, **NORM, "outputs": "logits", "name": "colours"})  # fmt: skip
    _save(models / "segment_instance", _instance_graph(64), ["__background__", "red", "green"],
          {"input_size": [64, 64], **NORM, "min_score": 0.01})  # fmt: skip
    return tmp_path


def test_semantic_label_map_and_probs_are_the_models(home):
    image, truth = _drawing(64, 64, [(RED, (5, 8, 30, 40)), (GREEN, (35, 20, 60, 62))])
    df = _local(home).segment_semantic({"shapes": _png(image)}, errors="raise")
    assert df.attrs["kind"] == "semantic" and df["image"].tolist() == ["shapes"]
    assert df.loc[0, "model"] == "your model: ONNX colours (pai_models/segment_semantic)"
    label_map = df.loc[0, "label_map"]
    assert label_map.shape == image.shape[:2]
    assert np.array_equal(label_map, truth)
    # probs: the softmax of the convolution's scores (numpy as the oracle), winner's value
    x = (image.astype(np.float64) - 127.5) / 127.5
    logits = x @ WEIGHTS.T.astype(np.float64)
    soft = np.exp(logits - logits.max(axis=2, keepdims=True))
    soft /= soft.sum(axis=2, keepdims=True)
    assert np.allclose(df.loc[0, "probs"], soft.max(axis=2), atol=1e-4)


def test_a_model_that_answers_probabilities_needs_no_softmax(home):
    # "outputs" left out: the default "probabilities"; the graph's own Softmax gives them
    _save(home / "pai_models" / "segment_semantic", _semantic_graph(64, softmax=True), LABELS,
          {"input_size": 64, **NORM})  # fmt: skip
    image, truth = _drawing(64, 64, [(GREEN, (0, 0, 64, 20)), (RED, (40, 30, 64, 64))])
    df = _local(home).segment_semantic(_png(image), errors="raise")
    assert df.loc[0, "model"] == "your model: ONNX pai_models/segment_semantic"
    assert np.array_equal(df.loc[0, "label_map"], truth)
    x = (image.astype(np.float64) - 127.5) / 127.5
    logits = x @ WEIGHTS.T.astype(np.float64)
    soft = np.exp(logits - logits.max(axis=2, keepdims=True))
    assert np.allclose(df.loc[0, "probs"], (soft / soft.sum(axis=2, keepdims=True)).max(axis=2),
                       atol=1e-4)  # fmt: skip


def test_semantic_map_is_scaled_back_to_the_image(home):
    # a 96 x 128 image goes through the 64 x 64 model and comes back at 96 x 128
    image, truth = _drawing(96, 128, [(RED, (10, 20, 40, 60)), (GREEN, (50, 70, 90, 120))])
    df = _local(home).segment_semantic(image, errors="raise")
    label_map = df.loc[0, "label_map"]
    assert label_map.shape == (96, 128)
    assert (label_map == truth).mean() >= 0.97  # only the resampled edges may differ
    for cls in (1, 2):
        both = ((label_map == cls) & (truth == cls)).sum()
        assert both / ((label_map == cls) | (truth == cls)).sum() >= 0.9


def test_instance_masks_boxes_scores_and_labels(home):
    rects = [(RED, (10, 20, 40, 60)), (GREEN, (50, 70, 90, 120))]
    image, truth = _drawing(96, 128, rects)
    df = _local(home).segment_instance({"shapes": _png(image)}, errors="raise")
    assert df["label"].tolist() == ["green", "red"]  # the larger object scores higher
    assert df["class_id"].tolist() == [2, 1]
    assert df["model"].unique().tolist() == ["your model: ONNX pai_models/segment_instance"]
    for row, cls in zip(df.itertuples(), (2, 1), strict=True):
        drawn = truth == cls
        assert row.score == pytest.approx(drawn.mean(), abs=0.01)  # the area fraction
        mask = rle_decode(row.mask)
        assert mask.shape == drawn.shape
        iou = (mask & drawn).sum() / (mask | drawn).sum()
        assert iou >= 0.9, iou
        ys, xs = np.nonzero(drawn)
        want = [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]
        assert np.allclose([row.x, row.y, row.w, row.h], want, atol=2.5), (row, want)
    # the frame's masks are what coco_eval reads: the IoU of the two objects is 0
    assert rle_iou([df.loc[0, "mask"]], [df.loc[1, "mask"]], [False])[0, 0] == 0.0
    # on the wire: PAI's list RLE in the catalogue's scan order, which the default client reads
    raw = df.attrs["raw"]["shapes"]["detection_masks"]
    assert raw == [pai_rle_encode(rle_decode(m), order=RLE_ORDER) for m in df["mask"]]
    other = pai.Client(transport=LocalTransport(EmulatorApp(home=home).handle), progress=False,
                       rle_order="C" if RLE_ORDER == "F" else "F")  # fmt: skip
    misread = rle_decode(other.segment_instance(_png(image), errors="raise").loc[0, "mask"])
    assert ((misread & (truth == 2)).sum() / (misread | (truth == 2)).sum()) < 0.5


def test_instance_min_score_drops_an_absent_object(home):
    image, truth = _drawing(64, 64, [(RED, (4, 4, 30, 30))])
    df = _local(home).segment_instance(_png(image), errors="raise")
    assert df["label"].tolist() == ["red"]  # green scores 0 < min_score
    assert np.array_equal(rle_decode(df.loc[0, "mask"]), truth == 1)


def test_both_through_vislab_serve(home):
    server = ServeProcess("--home", str(home), env={**os.environ})
    try:
        image, truth = _drawing(96, 128, [(RED, (10, 20, 40, 60)), (GREEN, (50, 70, 90, 120))])
        remote = pai.Client(server.url, progress=False)
        sem = remote.segment_semantic({"a": _png(image)}, errors="raise")
        local = _local(home).segment_semantic({"a": _png(image)}, errors="raise")
        assert np.array_equal(sem.loc[0, "label_map"], local.loc[0, "label_map"])
        assert sem.loc[0, "model"] == local.loc[0, "model"]
        inst = remote.segment_instance({"a": _png(image)}, errors="raise")
        assert inst["label"].tolist() == ["green", "red"]
        assert [rle_decode(m).sum() for m in inst["mask"]] == [
            rle_decode(m).sum() for m in _local(home).segment_instance(_png(image))["mask"]
        ]
    finally:
        server.stop()


def test_without_a_folder_it_names_the_folder_to_create(tmp_path):
    client = _local(tmp_path)
    image = np.zeros((32, 32, 3), np.uint8)
    for method, folder in (("segment_semantic", "segment_semantic"),
                           ("segment_instance", "segment_instance")):  # fmt: skip
        with pytest.raises(NotAvailableLocally, match=f"pai_models/{folder}"):
            getattr(client, method)(image, errors="raise")


def _break(home, service, change):
    folder = home / "pai_models" / service
    change(folder)
    return folder


@pytest.mark.parametrize(
    ("service", "change", "message"),
    [
        ("segment_semantic", lambda f: (f / "label_list.txt").unlink(), "lacks label_list.txt"),
        ("segment_instance", lambda f: (f / "model.onnx").unlink(), "lacks model.onnx"),
        ("segment_semantic",
         lambda f: (f / "preprocess_args.json").write_text(json.dumps({"input_size": 64})),
         "lacks mean, std"),
        ("segment_semantic", lambda f: (f / "label_list.txt").write_text("a\nb\n"),
         "C = 2"),
        ("segment_semantic",
         lambda f: (f / "preprocess_args.json").write_text(json.dumps({"input_size": 32, **NORM})),
         "input_size is \\[32, 32\\]"),
        ("segment_instance",
         lambda f: (f / "model.onnx").write_bytes(
             (f.parent / "segment_semantic" / "model.onnx").read_bytes()),
         "lacks the output\\(s\\) boxes, labels, masks \\(it has scores"),
        ("segment_instance",
         lambda f: (f / "preprocess_args.json").write_text(
             json.dumps({"input_size": 64, **NORM, "max_detections": "many"})),
         "max_detections an integer"),
        ("segment_instance", lambda f: (f / "label_list.txt").write_text("only\n"),
         "answers label 1, but label_list.txt has 1 lines"),
    ],
)  # fmt: skip
def test_a_broken_folder_is_refused_naming_what_is_wrong(home, service, change, message):
    _break(home, service, change)
    image, _ = _drawing(64, 64, [(RED, (4, 4, 30, 30)), (GREEN, (34, 34, 60, 60))])
    method = getattr(_local(home), service)
    with pytest.raises(NotAvailableLocally, match=message):
        method(image, errors="raise")
