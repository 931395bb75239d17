"""`detect` and `count_inventory` answered locally by **your model**: a detector trained on
real pixels and published with `vislab.easydl.publish` at the service's name — in process
and through `vislab serve`."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ServeProcess
from tests.easydl.trained_models import blob_images, save_detector
from vislab import pai
from vislab.emulator import EmulatorApp
from vislab.errors import NotAvailableLocally
from vislab.transport import LocalTransport


@pytest.fixture(scope="module")
def home():
    from vislab.easydl import publish
    from vislab.engine.training.store import ModelStore

    folder = Path(tempfile.mkdtemp(prefix="vislab-pai-"))
    # one model is published at one suffix: a model per service
    store = ModelStore(folder)
    trained = save_detector(store, "blobs")  # trained once, stored under two names
    keep = ("kind", "classes", "head", "recommended_threshold")
    store.save("blob_boxes", trained.arrays, {k: trained.meta[k] for k in keep})
    publish("blobs", "V1", suffix="count_inventory", home=folder)
    publish("blob_boxes", "V1", suffix="detect", home=folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _png(array) -> bytes:
    # PNG is lossless and sent as is, so the server decodes exactly ``array``
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def _local(home):
    return pai.Client(transport=LocalTransport(EmulatorApp(home=home).handle), progress=False)


def test_count_inventory_counts_what_your_detector_finds(home):
    from vislab.engine.training.store import ModelStore

    images, truth = blob_images(n=3, seed=7)  # unseen images of the trained kind
    model = ModelStore(home).load("blobs", "V1")
    client = _local(home)
    counts = client.count_inventory({f"img{i}": _png(im) for i, im in enumerate(images)})
    assert counts["label"].dropna().unique().tolist() == ["blob"]
    assert counts["model"].unique().tolist() == ["your model: EasyDL blobs V1"]
    for i, image in enumerate(images):
        found = model.detect(image)  # the same model on the pixels sent (lossless PNG)
        row = counts[counts["image"] == f"img{i}"]
        assert row["count"].tolist() == [len(found)]
        assert abs(len(found) - len(truth[i])) <= 1  # and it finds the squares
    boxes = pai.inventory_boxes(counts)
    assert len(boxes) == int(counts["count"].sum())
    assert (boxes["w"] > 0).all() and (boxes["x"] + boxes["w"] <= 192 + 1).all()


def test_detect_boxes_match_the_model_and_the_truth(home):
    from vislab.engine.training.store import ModelStore
    from vislab.evaluate import match_detections

    images, truth = blob_images(n=2, seed=11)
    df = _local(home).detect({"a": _png(images[0]), "b": _png(images[1])})
    assert set(df["image"]) == {"a", "b"} and (df["label"] == "blob").all()
    model = ModelStore(home).load("blob_boxes", "V1")
    own = sorted(model.detect(images[0]), key=lambda d: -d.score)
    got = df[df["image"] == "a"]
    assert np.allclose(got[["x", "y", "w", "h"]].to_numpy(float),
                       [[d.x, d.y, d.w, d.h] for d in own], atol=0.02)  # fmt: skip
    truth_rows = [
        {"image": name, "label": "blob", "x": x, "y": y, "w": w, "h": h}
        for name, boxes in zip(["a", "b"], truth, strict=True)
        for x, y, w, h in boxes
    ]
    import pandas as pd

    matched = match_detections(pd.DataFrame(truth_rows), df, iou=0.5)
    recall = (matched["match"] == "tp").sum() / len(truth_rows)
    # a real detector (trained on 4 images here), not a box generator
    assert recall >= 0.5, matched


def test_an_exported_onnx_detector_answers_detect(home, tmp_path):
    from vislab.easydl import load_exported
    from vislab.easydl.export import export
    from vislab.engine.training.store import ModelStore

    folder = export(ModelStore(home).load("blobs", "V1"), tmp_path / "pai_models" / "detect")
    images, _ = blob_images(n=1, seed=5)
    df = _local(tmp_path).detect({"shelf": _png(images[0])})
    assert df["model"].unique().tolist() == ["your model: ONNX blobs V1 (detect)"]
    onnx = load_exported(folder)
    own = onnx.detect(images[0], confidence=onnx.args["recommended_threshold"])
    own = own.sort_values("score", ascending=False)
    assert len(df) == len(own) > 0
    assert np.allclose(df[["x", "y", "w", "h"]].to_numpy(float),
                       own[["x", "y", "w", "h"]].to_numpy(float), atol=0.02)  # fmt: skip


def test_without_a_published_detector_it_is_not_available(tmp_path):
    client = _local(tmp_path)
    with pytest.raises(NotAvailableLocally, match="suffix='detect'"):
        client.detect(np.zeros((64, 64, 3), np.uint8) + 90, errors="raise")


def test_count_inventory_through_vislab_serve(home):
    import os

    server = ServeProcess("--home", str(home), env={**os.environ})
    try:
        images, _ = blob_images(n=1, seed=3)
        counts = pai.Client(server.url, progress=False).count_inventory(images[0])
        local = _local(home).count_inventory(images[0])
        assert (
            counts[["label", "count"]].values.tolist() == local[["label", "count"]].values.tolist()
        )
    finally:
        server.stop()


def test_inventory_boxes_of_a_selection_are_that_selection_s_boxes(home):
    images, _ = blob_images(n=3, seed=11)
    counts = _local(home).count_inventory({f"img{i}": _png(im) for i, im in enumerate(images)})
    every = pai.inventory_boxes(counts)
    one = pai.inventory_boxes(counts[counts["image"] == "img1"])  # attrs travel with the rows
    assert set(one["image"]) == {"img1"}
    assert len(one) == (every["image"] == "img1").sum() == int(
        counts.loc[counts["image"] == "img1", "count"].sum()
    )
