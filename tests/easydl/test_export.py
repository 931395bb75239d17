"""Offline export: one ONNX graph (backbone + head) whose numbers equal the library's, run
with onnxruntime alone through the SDK-like calls."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from skimage import data

from tests.easydl import trained_models
from vislab import easydl
from vislab.easydl.export import export
from vislab.engine.training.classifier import fit_classifier
from vislab.engine.training.features import image_features
from vislab.engine.training.store import ModelStore
from vislab.errors import InvalidParameter, StorageError

PHOTOS = [data.coffee(), data.chelsea(), data.rocket(), data.astronaut(), data.camera()]


@pytest.fixture(scope="module")
def store():
    return ModelStore(trained_models.world())


def _fit(store, name, recipe, *, other=False):
    photos = trained_models.class_photos()
    images = [img for cls in trained_models.CLASSES for img in photos[cls][:3]]
    y = np.repeat(np.arange(3), 3)
    other_x = None
    if other:  # an unrelated pool, as the "other" class learns from one
        pool = [
            data.astronaut(),
            data.camera(),
            data.moon(),
            data.horse().astype(np.uint8) * 255,
            data.immunohistochemistry(),
            data.hubble_deep_field(),
        ]
        other_x = image_features(pool, recipe=recipe)
    clf = fit_classifier(
        image_features(images, recipe=recipe), y, trained_models.CLASSES, other_x=other_x
    )
    meta = {
        "kind": "classification",
        "classes": clf.classes,
        "recipe": recipe,
        "head": clf.params(),
    }
    if not store.versions(name):
        store.save(name, clf.arrays(), meta)
    return store.load(name)


def _single_graph(folder):
    """The file is one graph holding the backbone's convolutions and the trained head."""
    graph = onnx.load(str(folder / "model.onnx")).graph
    assert sum(n.op_type == "Conv" for n in graph.node) > 30  # EfficientNet-Lite0's layers
    assert any(i.name.startswith("head/") for i in graph.initializer)  # the trained weights
    return graph


@pytest.mark.parametrize(
    "recipe,other",
    [("general", False), ("fine", False), ("general", True)],
    ids=["general", "fine", "other"],
)
def test_classifier_export_equals_the_library(store, tmp_path, recipe, other):
    model = (
        store.load("pets")
        if (recipe, other) == ("general", False)
        else _fit(store, f"exp_{recipe}_{int(other)}", recipe, other=other)
    )
    folder = export(model, tmp_path / "sdk")
    assert sorted(p.name for p in folder.iterdir()) == [
        "label_list.txt",
        "model.onnx",
        "preprocess_args.json",
    ]
    graph = _single_graph(folder)
    assert {i.name for i in graph.input} == (
        {"image", "image_fine"} if recipe == "fine" else {"image"}
    )
    args = json.loads((folder / "preprocess_args.json").read_text())
    assert args["kind"] == "classification" and args["recipe"] == recipe
    exported = easydl.load_exported(folder)
    assert exported.labels == model.classes
    for image in PHOTOS:
        library = dict(model.classify(image))
        ours = exported.probabilities(image)
        np.testing.assert_allclose(ours, [library[c] for c in model.classes], atol=2e-5)
        top = exported.classify(image)
        assert top["label"].iloc[0] == model.classify(image, top_num=1)[0][0]
        assert len(top) == min(10, len(model.classes))
    if other:
        assert model.classes[-1] == "other"
        assert exported.classify(data.moon())["label"].iloc[0] == "other"


def test_detector_export_equals_the_library(store, tmp_path):
    model = store.load("blobs")
    folder = export(model, tmp_path / "det")
    graph = _single_graph(folder)
    assert [o.name for o in graph.output] == ["head", "density"]
    exported = easydl.load_exported(folder)
    images, _ = trained_models.blob_images(3, seed=11)
    for image in images + [data.coffee()]:
        library = model.detect(image, 0.0)
        boxes = exported.detect(image)  # confidence 0: everything the model keeps
        assert len(boxes) == len(library) > 0
        expected = np.array([[d.score, d.x, d.y, d.w, d.h] for d in library])
        np.testing.assert_allclose(
            boxes[["score", "x", "y", "w", "h"]].to_numpy(), expected, atol=1e-3
        )
        assert boxes["label"].eq("blob").all()
        sure = exported.detect(image, confidence=0.5)
        assert (sure["score"] >= 0.5).all()
        assert len(sure) == sum(d.score >= 0.5 for d in library)
        assert exported.count(image)["blob"] == pytest.approx(
            model.count(image)["blob"], rel=1e-4, abs=1e-4
        )


def test_exported_model_refusals(store, tmp_path):
    exported = easydl.load_exported(export(store.load("pets"), tmp_path / "c"))
    with pytest.raises(InvalidParameter, match="classification model: it has no detect"):
        exported.detect(data.coffee())
    with pytest.raises(InvalidParameter, match="uint8"):
        exported.classify(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(StorageError, match="not an exported model"):
        easydl.load_exported(tmp_path)
    with pytest.raises(InvalidParameter, match="trained version"):
        export(object(), tmp_path / "x")


def test_model_version_export_is_the_same_export(store, tmp_path):
    version = easydl.load("pets", "V1", home=store.root.parent)
    folder = version.export(tmp_path / "mv")
    exported = easydl.load_exported(folder)
    assert (exported.name, exported.version) == ("pets", "V1")
    expected = dict(version.model.classify(data.coffee()))
    np.testing.assert_allclose(
        exported.probabilities(data.coffee()), [expected[c] for c in exported.labels], atol=2e-5
    )
