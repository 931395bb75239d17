"""BoxAnnotator driven from Python, as a person would in the browser."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from vislab.errors import InvalidFrame
from vislab.widgets import BoxAnnotator


def test_queue_navigation_and_annotations(photo_files):
    ann = BoxAnnotator(photo_files, labels=["cat", "cup"])
    assert ann.current_image == photo_files[0]
    assert ann.bbox.image_bytes[:2] == b"\xff\xd8"  # the JPEG as it is on disk
    # What the browser sends when a person draws a box: the bboxes trait of the drawing widget.
    ann.bbox.bboxes = [{"x": 10, "y": 20, "width": 100, "height": 80, "label": "cat"}]
    ann.submit()
    assert ann.current_image == photo_files[1]
    ann.skip()
    ann.set_boxes(pd.DataFrame({"label": ["cup"], "x": [1.0], "y": [2.0], "w": [3.0], "h": [4.0]}))
    ann.submit()
    assert ann.progress == {"done": 2, "skipped": 1, "todo": 1, "total": 4}
    frame = ann.annotations
    assert list(frame.columns[:6]) == ["image", "label", "x", "y", "w", "h"]
    assert frame["image"].tolist() == [photo_files[0], photo_files[2]]
    assert frame[["x", "y", "w", "h"]].values.tolist() == [[10, 20, 100, 80], [1, 2, 3, 4]]
    assert frame.attrs["images"]["image"] == [photo_files[0], photo_files[2]]
    assert frame.attrs["images"]["width"] == [451, 512]  # chelsea, astronaut
    ann.previous()
    assert ann.index == 2
    ann.go_to(photo_files[0])
    assert ann.bbox.bboxes[0]["label"] == "cat"  # boxes come back with the image
    assert ann.status["status"].tolist() == ["done", "skipped", "done", "todo"]


def test_saved_image_without_boxes_is_listed(photo_files):
    ann = BoxAnnotator(photo_files[:2], labels=["cat"])
    ann.submit()
    assert len(ann.annotations) == 0
    assert ann.annotations.attrs["images"]["image"] == [photo_files[0]]
    from vislab.datasets.coco import write_coco

    coco = write_coco(ann.annotations)  # the empty image survives a plain write
    assert [im["file_name"] for im in coco["images"]] == [photo_files[0]]
    assert coco["annotations"] == []


def test_prefill_from_predictions(photo_files):
    pred = pd.DataFrame(
        {
            "image": [photo_files[0], photo_files[0], photo_files[1], "elsewhere.jpg"],
            "label": ["cat", "cat", "mug", "cat"],
            "score": [0.9, 0.2, 0.8, 0.9],
            "x": [1, 2, 3, 4],
            "y": [1, 2, 3, 4],
            "w": [5, 5, 5, 5],
            "h": [6, 6, 6, 6],
        }
    )
    ann = BoxAnnotator(photo_files, labels=["cat"], boxes=pred, min_score=0.5)
    assert len(ann.bbox.bboxes) == 1  # the 0.2 box is below min_score
    assert "mug" in ann.labels  # a model's label is offered, not dropped
    ann.submit()
    ann.submit()
    assert ann.annotations["label"].tolist() == ["cat", "mug"]


def test_in_memory_images_and_bad_boxes():
    photos = {"a": np.zeros((30, 40, 3), np.uint8)}
    ann = BoxAnnotator(photos, labels=["x"])
    assert ann.bbox.image_bytes[:4] == b"\x89PNG"
    assert ann.image_sizes() == {"a": (40, 30)}
    with pytest.raises(InvalidFrame):
        ann.set_boxes([{"x": 1, "y": 2, "label": "x"}])
    with pytest.raises(InvalidFrame):
        BoxAnnotator(photos, labels=["x"], boxes=pd.DataFrame({"image": ["a"]}))


def test_static_rendering(photo_files):
    ann = BoxAnnotator(photo_files, labels=["cat"])
    ann.set_boxes([{"x": 10, "y": 10, "w": 50, "h": 50, "label": "cat"}])
    bundle = ann._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/jpeg"].startswith("/9j/")  # base64 of a JPEG
    assert "BoxAnnotator(4 images" in bundle["text/plain"]
    assert ann.show_static().data[:2] == b"\xff\xd8"


def test_coco_round_trip(photo_files, tmp_path):
    ann = BoxAnnotator(photo_files, labels=["cat", "cup"])
    ann.set_boxes([{"x": 10, "y": 20, "w": 30, "h": 40, "label": "cat"}])
    ann.submit()
    ann.set_boxes(
        [
            {"x": 1, "y": 2, "w": 3, "h": 4, "label": "cup"},
            {"x": 5, "y": 6, "w": 7, "h": 8, "label": "cat"},
        ]
    )
    ann.submit()
    path = ann.save_coco(tmp_path / "boxes.json")
    data = json.loads(path.read_text())
    assert len(data["images"]) == 2 and len(data["annotations"]) == 3
    assert data["images"][0]["width"] == 451  # chelsea is 451 x 300
    again = BoxAnnotator(photo_files, labels=["cat"])
    again.load_coco(path)
    assert again.progress["done"] == 2
    pd.testing.assert_frame_equal(
        again.annotations[["image", "label", "x", "y", "w", "h"]].reset_index(drop=True),
        ann.annotations[["image", "label", "x", "y", "w", "h"]].reset_index(drop=True),
    )
