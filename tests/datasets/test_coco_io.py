"""COCO JSON reader/writer: round trips, id tables, and pycocotools reading what we write."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from tests.evaluate._fixtures import SETS, require
from vislab.datasets import read_coco, read_coco_results, write_coco, write_coco_results
from vislab.errors import InvalidFrame


def test_read_real_coco_file():
    truth = read_coco(require(SETS["cocoapi-val2014-100"][0]))
    assert len(truth) == 839 and truth["iscrowd"].sum() == 9
    assert list(truth.columns[:6]) == ["image", "label", "x", "y", "w", "h"]
    assert truth["image"].str.startswith("COCO_val2014_").all()
    assert len(truth.attrs["images"]["image"]) == 100
    assert len(truth.attrs["categories"]["label"]) == 80
    assert pd.Series(truth.attrs["images"]["image_id"]).is_monotonic_increasing
    both = pd.concat([truth, truth])  # attrs hold plain lists: frames still concatenate
    assert len(both) == 2 * len(truth)
    assert "person" in set(truth["label"])
    # COCO's area is the mask area, not w*h
    assert not np.allclose(truth["area"], truth["w"] * truth["h"])


def test_results_as_list_or_dataset_dict():
    gt_rel, res_rel, _, _ = SETS["rodm-cocoapi-sampled"]
    truth = read_coco(require(gt_rel))
    pred = read_coco_results(require(res_rel), truth)  # a dict with scored annotations
    assert len(pred) > 0 and pred["score"].between(0, 1).all()
    assert set(pred["image"]) <= set(truth.attrs["images"]["image"])
    assert list(pred.columns) == [
        "image",
        "label",
        "score",
        "x",
        "y",
        "w",
        "h",
        "error_code",
        "error_msg",
    ]


def test_round_trip_keeps_ids_and_pycocotools_reads_it(tmp_path):
    from pycocotools.coco import COCO

    src = json.loads(require(SETS["rodm-voc2012-100"][0]).read_text())
    truth = read_coco(src)
    out = write_coco(truth, tmp_path / "gt.json")
    assert [a["id"] for a in out["annotations"]] == [a["id"] for a in src["annotations"]]
    assert sorted(i["id"] for i in out["images"]) == sorted(i["id"] for i in src["images"])
    for a, b in zip(out["annotations"], src["annotations"], strict=True):
        assert a["bbox"] == pytest.approx(b["bbox"]) and a["image_id"] == b["image_id"]
        assert a["category_id"] == b["category_id"]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(tmp_path / "gt.json"))
    assert len(coco.getAnnIds()) == len(src["annotations"])
    again = read_coco(tmp_path / "gt.json")
    pd.testing.assert_frame_equal(again[truth.columns[:9]], truth[truth.columns[:9]])

    res = json.loads(require(SETS["rodm-voc2012-100"][1]).read_text())
    pred = read_coco_results(res, truth)
    back = write_coco_results(pred, tmp_path / "res.json", gt=truth)
    assert [(r["image_id"], r["category_id"]) for r in back] == [
        (r["image_id"], r["category_id"]) for r in res
    ]
    assert back[0]["bbox"] == pytest.approx(res[0]["bbox"])


def test_write_frames_without_ids():
    truth = pd.DataFrame(
        {
            "image": ["b.jpg", "a.jpg"],
            "label": ["dog", "cat"],
            "x": [0.0, 1.0],
            "y": [0.0, 2.0],
            "w": [5.0, 6.0],
            "h": [7.0, 8.0],
        }
    )
    d = write_coco(truth)
    assert [i["file_name"] for i in d["images"]] == ["a.jpg", "b.jpg"]
    assert [c["name"] for c in d["categories"]] == ["cat", "dog"]
    pred = truth.assign(score=[0.5, 0.6])
    res = write_coco_results(pred, gt=d)
    assert res[1] == {"image_id": 1, "category_id": 1, "bbox": [1.0, 2.0, 6.0, 8.0], "score": 0.6}
    with pytest.raises(InvalidFrame):
        write_coco_results(pred.assign(label=["emu", "cat"]), gt=d)


def test_failed_rows_are_not_written():
    pred = pd.DataFrame(
        [
            {
                "image": 1,
                "label": 1,
                "score": 0.5,
                "x": 0,
                "y": 0,
                "w": 1,
                "h": 1,
                "error_code": None,
                "error_msg": None,
            },
            {
                "image": 2,
                "label": None,
                "score": None,
                "x": None,
                "y": None,
                "w": None,
                "h": None,
                "error_code": 216201,
                "error_msg": "bad",
            },
        ]
    )
    assert len(write_coco_results(pred)) == 1
