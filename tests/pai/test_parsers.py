"""The PAI parsers on every ambiguity of the Model Hub docs, with replies written from the
spec's own examples (``../shared/specs/pai-model-hub.md``)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from vislab.catalogue import pai_model_hub as hub
from vislab.masks import pai_rle_encode, rle_decode

ENVELOPE = {"request_id": "9ac294a4-0000", "success": True}


def test_classify_example_ranks_by_probability_and_keeps_the_class_index():
    reply = {
        **ENVELOPE,
        "class": 3,
        "class_name": "coho4",
        "class_probs": {"coho1": 4.0e-10, "coho2": 0.481, "coho3": 5.1e-07, "coho4": 0.519},
    }
    rows = hub.parse_classify(reply, "fish.jpg")
    assert [r["label"] for r in rows] == ["coho4", "coho2", "coho3", "coho1"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["score"] == 0.519 and rows[0]["class_id"] == 3
    assert all(r["class_id"] is None for r in rows[1:])


@pytest.mark.parametrize("key", ["detection_class_names", "detection_classe_names"])
def test_detection_names_are_read_under_both_spellings(key):
    reply = {
        **ENVELOPE,
        "detection_boxes": [[243.5, 45.4, 310.0, 280.0], [184.6, 36.0, 232.2, 283.4]],
        "detection_scores": [0.994, 0.993],
        "detection_classes": [1, 1],
        key: ["text", "text"],
    }
    rows = hub.parse_detect(reply, "a")
    assert [r["label"] for r in rows] == ["text", "text"]
    # [top, left, bottom, right] -> x = left, y = top, w = right - left, h = bottom - top
    r = rows[0]
    assert (r["x"], r["y"]) == (45.4, 243.5)
    assert r["w"] == pytest.approx(280.0 - 45.4) and r["h"] == pytest.approx(310.0 - 243.5)
    assert r["class_id"] == 1


def test_detection_without_names_uses_the_class_id():
    rows = hub.parse_detect({"detection_boxes": [[0, 0, 1, 1]], "detection_classes": [7]}, "a")
    assert rows[0]["label"] == "7"


def test_inventory_order_follows_ori_img_shape():
    # The docs' example: ori_img_shape [1280, 1706], 1st/3rd values up to 1706, 2nd/4th <= 1279.5
    reply = {
        **ENVELOPE,
        "ori_img_shape": [1280, 1706],
        "detection_boxes": [[1500.2, 1000.0, 1705.9, 1279.5], [10.0, 20.0, 90.0, 300.0]],
        "detection_scores": [0.99, 0.46],
        "detection_classes": [110, 161],
        "detection_class_names": ["429", "199"],
        "product_count": {"429": 1, "199": 6, "4": 19},
    }
    assert hub.inventory_box_order(reply) == "xyxy"
    boxes = hub.parse_inventory_boxes(reply, "shelf")
    assert (boxes[0]["x"], boxes[0]["y"]) == (1500.2, 1000.0)
    assert boxes[0]["w"] == pytest.approx(205.7) and boxes[0]["h"] == pytest.approx(279.5)
    counts = hub.parse_inventory(reply, "shelf")
    assert [(r["label"], r["count"]) for r in counts] == [("4", 19), ("199", 6), ("429", 1)]


def test_inventory_order_is_tlbr_without_shape_or_when_only_tlbr_fits():
    boxes = [[100.0, 900.0, 200.0, 1600.0]]  # y-first: x reaches 1600 > height 1280
    assert hub.inventory_box_order({"detection_boxes": boxes}) == "tlbr"
    only_tlbr = {"detection_boxes": boxes, "ori_img_shape": [1280, 1706]}
    # as xyxy, y2 = 1600 would exceed the height 1280: only the documented reading fits
    assert hub.inventory_box_order(only_tlbr) == "tlbr"
    row = hub.parse_inventory_boxes(only_tlbr, "s")[0]
    assert (row["x"], row["y"], row["w"], row["h"]) == (900.0, 100.0, 700.0, 100.0)


def test_inventory_counts_from_names_when_product_count_is_absent():
    reply = {"detection_boxes": [[0, 0, 1, 1]] * 3, "detection_class_names": ["9", "9", "4"]}
    assert [(r["label"], r["count"]) for r in hub.parse_inventory(reply, "s")] == [
        ("9", 2),
        ("4", 1),
    ]


@pytest.mark.parametrize(
    "reply, similarity, l2",
    [
        ({"similarity": [1.0], "l2_distance": [0.0]}, 1.0, 0.0),  # the I9 example: lists
        ({"similarity": 93.5, "l2_distance": 0.31}, 93.5, 0.31),  # the table: scalars
        ({"similarity": 99}, 99.0, None),  # F1: an INT
    ],
)
def test_similarity_scalar_or_one_element_list(reply, similarity, l2):
    row = hub.parse_pair({**ENVELOPE, **reply}, "a")[0]
    assert row["similarity"] == similarity
    assert row.get("l2_distance") == l2


def test_product_compare_keeps_only_the_metric_sent():
    assert hub.parse_pair({**ENVELOPE, "l2_distance": 0.458}, "a") == [
        {"a": "a", "l2_distance": 0.458}
    ]
    assert hub.parse_pair({**ENVELOPE, "cosine_similarity": 0.885}, "a") == [
        {"a": "a", "cosine": 0.885}
    ]


def test_scene_class_is_a_list_of_five():
    reply = {
        **ENVELOPE,
        "class": [266, 57, 159, 260, 243],
        "class_name": ["pier", "boardwalk", "gazebo-exterior", "pavilion", "ocean"],
        "class_probs": {"pier": 0.51, "boardwalk": 0.2, "gazebo-exterior": 0.1,
                        "pavilion": 0.05, "ocean": 0.04, "airfield": 0.001},
    }  # fmt: skip
    rows = hub.parse_scene(reply, "beach.jpg")
    assert [r["label"] for r in rows] == reply["class_name"]
    assert [r["class_id"] for r in rows] == reply["class"]
    assert rows[0]["score"] == 0.51 and [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    # I1's scalar form under the same field names is read too
    scalar = hub.parse_scene({"class": 3, "class_name": "pier"}, "b")
    assert [(r["label"], r["class_id"]) for r in scalar] == [("pier", 3)]


def test_human_ratio_string_becomes_a_float_and_the_mask_an_rle():
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 255
    row = hub.parse_foreground({"human_ratio": "0.25", "mask": mask.tolist()}, "frame")[0]
    assert row["human_ratio"] == 0.25 and isinstance(row["human_ratio"], float)
    assert np.array_equal(rle_decode(row["mask"]), mask > 0)
    assert (row["x"], row["y"], row["w"], row["h"]) == (2.0, 1.0, 3.0, 2.0)
    probs = hub.parse_foreground({"human_ratio": "0.5", "mask": [[0.9, 0.1], [0.6, 0.2]]}, "f")
    assert rle_decode(probs[0]["mask"]).astype(int).tolist() == [[1, 0], [1, 0]]


def test_face_attributes_trailing_comma_and_inferred_bbox_order():
    reply = {
        **ENVELOPE,
        "face_age": [19.69],
        "face_gender": ["female"],
        "face_emo": ["Happiness,"],
        "face_bbox": [[452.09, 61.25, 643.23, 321.39, 0.99999]],
    }
    row = hub.parse_face_attributes(reply, "a")[0]
    assert row["expression"] == "Happiness"
    assert row["gender"] == "female" and row["age"] == 19.69
    # x1, y1, x2, y2, score (inferred): the box is 191 wide, 260 high, score 0.99999
    assert (row["x"], row["y"]) == (452.09, 61.25)
    assert row["w"] == pytest.approx(191.14) and row["h"] == pytest.approx(260.14)
    assert row["score"] == 0.99999 and row["label"] == "face"


def test_ocr_keypoints_are_y_x_and_become_x_y_quads():
    reply = {
        **ENVELOPE,
        "detection_boxes": [[243.5, 45.4, 310.0, 280.0]],
        "detection_scores": [0.99],
        "detection_classes": [1],
        "detection_classe_names": ["text"],
        "detection_keypoints": [[[243.5, 45.4], [243.5, 280.0], [310.0, 280.0], [310.0, 45.4]]],
        "detection_texts_ids": [[1, 2, 2008, 12]],
        "detection_texts": ["This is an example"],
        "detection_texts_scores": [0.88],
    }
    row = hub.parse_ocr(reply, "doc")[0]
    assert row["text"] == "This is an example" and row["score"] == 0.88
    assert row["det_score"] == 0.99
    assert row["quad"].tolist() == [[45.4, 243.5], [280.0, 243.5], [280.0, 310.0], [45.4, 310.0]]
    assert (row["x"], row["y"]) == (45.4, 243.5)


@pytest.mark.parametrize("order", ["F", "C"])
def test_instance_masks_follow_the_stated_rle_rule_in_the_chosen_order(order):
    rng = np.random.default_rng(5)
    masks = [rng.random((7, 5)) > 0.6, np.eye(7, 5, dtype=bool)]
    reply = {
        "detection_boxes": [[0, 0, 7, 5], [0, 0, 5, 5]],
        "detection_scores": [0.9, 0.8],
        "detection_classes": [1, 2],
        "detection_class_names": ["cat", "dog"],
        "detection_masks": [pai_rle_encode(m, order=order) for m in masks],
    }
    rows = hub.parse_instance(reply, "img", order=order)
    for row, mask in zip(rows, masks, strict=True):
        assert np.array_equal(rle_decode(row["mask"]), mask)  # back as COCO RLE, same pixels
    assert [r["label"] for r in rows] == ["cat", "dog"]


def test_semantic_preds_is_the_label_map_and_probs_kept_as_sent():
    reply = {
        **ENVELOPE,
        "probs": [[[0.8, 0.8], [0.6, 0.7]], [[0.8, 0.5], [0.4, 0.3]]],
        "preds": [[1, 1], [0, 0]],
    }
    row = hub.parse_semantic(reply, "a")[0]
    assert row["label_map"].tolist() == [[1, 1], [0, 0]] and row["label_map"].dtype == np.int32
    assert row["probs"].shape == (2, 2, 2)


def test_out_image_base64_becomes_a_pil_image():
    buf = io.BytesIO()
    Image.new("RGB", (12, 9), (200, 10, 10)).save(buf, "PNG")
    row = hub.parse_out_image({"out_image": base64.b64encode(buf.getvalue()).decode()}, "a")[0]
    assert row["out_image"].size == (12, 9)
    assert row["out_image"].getpixel((3, 3)) == (200, 10, 10)
