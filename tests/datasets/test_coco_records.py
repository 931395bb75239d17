"""Reading COCO records fast: the same frame as a plain loop, and bad records named."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from vislab.datasets import read_coco, read_coco_results
from vislab.datasets._records import names_of, record_boxes, record_column
from vislab.errors import InvalidFrame
from vislab.frames import BOXES

GT = {
    "images": [{"id": 7, "file_name": "a.jpg"}, {"id": 9, "file_name": "b.jpg"}],
    "categories": [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}],
    "annotations": [
        {"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2, 30, 20], "area": 600},
        {"id": 2, "image_id": 9, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25},
    ],
}


def _random_results(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "image_id": int(rng.choice([7, 9, 11])),  # 11 is not in the truth's image table
            "category_id": int(rng.choice([1, 3, 5])),  # nor is category 5
            "bbox": [round(float(v), 2) for v in rng.uniform(0, 50, 4)],
            "score": round(float(rng.random()), 3),
        }
        for _ in range(n)
    ]


def test_fast_read_equals_a_plain_loop():
    res = _random_results(2000)
    truth = read_coco(GT)
    pred = read_coco_results(res, truth)
    names = {7: "a.jpg", 9: "b.jpg"}
    labels = {1: "cat", 3: "dog"}
    expected = pd.DataFrame(
        {
            "image": [names.get(r["image_id"], r["image_id"]) for r in res],
            "label": [labels.get(r["category_id"], r["category_id"]) for r in res],
            "score": [r["score"] for r in res],
            "x": [float(r["bbox"][0]) for r in res],
            "y": [float(r["bbox"][1]) for r in res],
            "w": [float(r["bbox"][2]) for r in res],
            "h": [float(r["bbox"][3]) for r in res],
        }
    )
    pd.testing.assert_frame_equal(
        pred[list(expected.columns)].astype({"image": object, "label": object}),
        expected.astype({"image": object, "label": object}),
    )
    # Unlisted ids keep their ids (as numbers), listed ones become names.
    assert 11 in set(pred["image"]) and 5 in set(pred["label"])


def test_all_listed_ids_give_a_string_column_like_before():
    res = [r for r in _random_results(500) if r["image_id"] != 11 and r["category_id"] != 5]
    pred = read_coco_results(res, read_coco(GT))
    assert pd.api.types.is_string_dtype(pred["label"]) and pd.api.types.is_string_dtype(
        pred["image"]
    )
    assert set(pred["label"]) == {"cat", "dog"}


def test_truth_names_and_boxes():
    truth = read_coco(GT)
    assert truth[["image", "label"]].values.tolist() == [["a.jpg", "dog"], ["b.jpg", "cat"]]
    assert truth[["x", "y", "w", "h"]].to_numpy().tolist() == [[1, 2, 30, 20], [0, 0, 5, 5]]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"image_id": 7, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}, "result 1: 'bbox'"),
        ({"image_id": 7, "category_id": 1, "bbox": None, "score": 0.5}, "result 1: 'bbox'"),
        ({"image_id": 7, "category_id": 1, "bbox": [1, 2, "x", 4], "score": 0.5}, "result 1"),
        ({"image_id": 7, "category_id": 1, "score": 0.5}, "result 1 has no 'bbox'"),
        ({"category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}, "result 1 has no 'image_id'"),
        ({"image_id": 7, "bbox": [1, 2, 3, 4]}, "result 1 has no 'category_id'"),
        ([7, 1, [1, 2, 3, 4]], "result 1 must be a JSON object"),
    ],
)
def test_a_bad_record_is_named(bad, message):
    good = {"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9}
    with pytest.raises(InvalidFrame, match=message):
        read_coco_results([good, bad, good])


def test_a_bad_annotation_is_named():
    gt = {**GT, "annotations": [*GT["annotations"], {"id": 3, "image_id": 7, "bbox": [1, 2]}]}
    with pytest.raises(InvalidFrame, match="annotation 2"):
        read_coco(gt)


def test_missing_score_is_nan_and_empty_results_read():
    pred = read_coco_results([{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]}])
    assert np.isnan(pred["score"].iloc[0])
    empty = read_coco_results([], read_coco(GT))
    assert len(empty) == 0 and tuple(empty.columns)[:7] == BOXES


def test_helpers_directly():
    assert record_column([{"k": 1}, {"k": 2}], "k").dtype.kind == "i"
    assert record_boxes([]).shape == (0, 4)
    assert names_of(np.array([], dtype=np.int64), [1], ["a"]).tolist() == []
    assert names_of(np.array([4]), [], []).tolist() == [4]


def test_files_read_with_the_collector_paused_and_resumed(tmp_path):
    import gc

    from vislab.datasets import write_coco_results

    path = tmp_path / "res.json"
    res = [r for r in _random_results(300) if r["image_id"] != 11 and r["category_id"] != 5]
    path.write_text(json.dumps(res))
    truth = read_coco(GT)
    from_file = read_coco_results(path, truth)
    pd.testing.assert_frame_equal(from_file, read_coco_results(res, truth))
    assert gc.isenabled()
    assert write_coco_results(from_file, gt=truth)[0]["image_id"] == res[0]["image_id"]
    gc.disable()  # a caller that paused it itself keeps it paused
    try:
        read_coco_results(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("text", ["", "[{'image_id': 1}]", '[{"image_id": 1}'])
def test_a_file_that_is_not_json_is_named(tmp_path, text):
    import gc

    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(InvalidFrame, match="broken.json is not a JSON file"):
        read_coco_results(path)
    assert gc.isenabled()
    path.write_bytes(b"\xff\xfe[")
    with pytest.raises(InvalidFrame, match="not a JSON file"):
        read_coco(path)
