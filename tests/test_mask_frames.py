"""Masks and semantic frames: constructors, checks, and the way to evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.errors import InvalidFrame
from vislab.evaluate import coco_eval
from vislab.frames import MASKS, ok_rows
from vislab.mask_frames import label_map_masks, masks_frame, semantic_frame
from vislab.masks import pai_rle_encode, rle_decode, rle_encode


def _blob(h, w, y0, y1, x0, x1):
    m = np.zeros((h, w), dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


def test_masks_frame_columns_boxes_and_error_rows():
    m = _blob(10, 12, 2, 5, 3, 9)
    df = masks_frame(
        [
            {"image": "a.jpg", "label": "cat", "score": 0.9, "mask": m},
            {"image": "a.jpg", "label": "dog", "score": 0.5, "mask": pai_rle_encode(m)},
            {"image": "b.jpg", "error_code": 216201, "error_msg": "image format error"},
        ],
        service="pai.segment_instance",
    )
    assert list(df.columns[: len(MASKS)]) == list(MASKS)
    assert df.attrs["kind"] == "masks"
    assert df.loc[0, ["x", "y", "w", "h"]].tolist() == [3.0, 2.0, 6.0, 3.0]
    # list counts (PAI's column-major form) and arrays end up as the same compressed RLE
    assert df["mask"][0] == df["mask"][1] == rle_encode(m)
    assert np.array_equal(rle_decode(df["mask"][0]), m)
    assert len(ok_rows(df)) == 2 and df["error_code"].tolist()[2] == 216201
    # boxes given by the service are kept, not replaced by the mask's
    kept = masks_frame(
        [{"image": "a", "label": "x", "score": 1.0, "x": 0, "y": 0, "w": 1, "h": 1, "mask": m}]
    )
    assert kept.loc[0, ["x", "w"]].tolist() == [0, 1]


def test_masks_frame_refuses_bad_masks():
    good = rle_encode(_blob(4, 4, 0, 2, 0, 2))
    with pytest.raises(InvalidFrame, match="sum to"):
        masks_frame(
            [{"image": "a", "label": "x", "score": 1.0, "mask": {"size": [4, 4], "counts": [3, 3]}}]
        )
    with pytest.raises(InvalidFrame, match="different sizes"):
        masks_frame(
            [
                {"image": "a", "label": "x", "score": 1.0, "mask": good},
                {"image": "a", "label": "x", "score": 1.0, "mask": rle_encode(np.ones((5, 4)))},
            ]
        )
    with pytest.raises(InvalidFrame, match="but the image is"):
        masks_frame(
            [{"image": "a", "label": "x", "score": 1.0, "mask": good}], image_size={"a": (8, 4)}
        )  # (width, height)
    ok = masks_frame([{"image": "a", "label": "x", "score": 1.0, "mask": good}], image_size=(4, 4))
    assert len(ok) == 1


def test_semantic_frame_and_its_masks():
    lm = np.zeros((6, 8), dtype=np.int64)
    lm[1:4, 2:6] = 7
    lm[5, :] = 3
    sem = semantic_frame(
        [
            {"image": "a.jpg", "label_map": lm},
            {"image": "b.jpg", "error_code": 1, "error_msg": "boom"},
        ]
    )
    assert sem.attrs["kind"] == "semantic"
    assert sem["label_map"][0] is not None and sem["label_map"][0].shape == (6, 8)
    masks = label_map_masks(sem, labels={7: "cat", 3: "road"}, background=0)
    got = ok_rows(masks)
    assert got["label"].tolist() == ["road", "cat"]
    for _, row in got.iterrows():
        cid = {"road": 3, "cat": 7}[row["label"]]
        assert np.array_equal(rle_decode(row["mask"]), lm == cid)
    assert masks["error_msg"].tolist()[-1] == "boom"
    with pytest.raises(InvalidFrame, match="2-d array of integer"):
        semantic_frame([{"image": "a", "label_map": np.zeros((2, 2, 3), dtype=int)}])
    with pytest.raises(InvalidFrame, match="2-d array of integer"):
        semantic_frame([{"image": "a", "label_map": [[0.5, 1.0]]}])


def test_a_masks_frame_evaluates_as_segm():
    a, b = _blob(20, 20, 0, 10, 0, 10), _blob(20, 20, 10, 20, 10, 20)
    truth = masks_frame(
        [
            {"image": "i", "label": "cat", "score": 1.0, "mask": a},
            {"image": "i", "label": "cat", "score": 1.0, "mask": b},
        ]
    ).drop(columns="score")
    shifted = np.roll(a, 1, axis=1)  # IoU 90/110
    pred = masks_frame(
        [
            {"image": "i", "label": "cat", "score": 0.9, "mask": shifted},
            {"image": "i", "label": "cat", "score": 0.8, "mask": b},
        ]
    )
    r = coco_eval(truth, pred, iou_type="segm")
    # 90/110 = 0.818: a match at the 7 thresholds 0.50 .. 0.80, b matches at all 10
    assert r.stats["AP50"] == pytest.approx(1.0)
    assert r.stats["AP75"] == pytest.approx(1.0)
    assert r.precision[-1, 0, 0, 0, -1] == pytest.approx(0.5)  # IoU 0.95: only b is right
