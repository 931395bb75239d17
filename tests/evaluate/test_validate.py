"""Bad input gets typed errors that name the column (or a warning where numbers stay valid)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vislab.errors import InvalidFrame, VislabError
from vislab.evaluate import (
    ScoreScaleWarning,
    UnknownLabelWarning,
    coco_eval,
    match_detections,
    threshold_sweep,
)


def pred(**overrides):
    df = pd.DataFrame(
        {
            "image": ["a", "a"],
            "label": ["cat", "cat"],
            "score": [0.9, 0.4],
            "x": [0.0, 20.0],
            "y": [0.0, 20.0],
            "w": [10.0, 10.0],
            "h": [10.0, 10.0],
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


def truth(**overrides):
    df = pd.DataFrame(
        {
            "image": ["a", "a"],
            "label": ["cat", "cat"],
            "x": [0.0, 20.0],
            "y": [0.0, 20.0],
            "w": [10.0, 10.0],
            "h": [10.0, 10.0],
            "id": [1, 2],
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


@pytest.mark.parametrize("fn", [coco_eval, match_detections, threshold_sweep])
def test_missing_column_is_named(fn):
    with pytest.raises(InvalidFrame) as err:
        fn(truth(), pred().drop(columns="score"))
    assert err.value.column == "score"
    with pytest.raises(InvalidFrame) as err:
        fn(truth().drop(columns="h"), pred())
    assert err.value.column == "h"
    assert isinstance(err.value, VislabError)


@pytest.mark.parametrize("fn", [coco_eval, match_detections, threshold_sweep])
def test_arguments_in_the_old_order_are_refused_with_the_new_order(fn):
    # vislab 0.1 took predictions first; truth now comes first (as scikit-learn and
    # pycocotools): the old order must fail loudly, not give swapped numbers.
    with pytest.raises(InvalidFrame, match=r"look swapped; truth comes first") as err:
        fn(pred(), truth())
    assert err.value.column == "score" and f"{fn.__name__}(truth, pred)" in str(err.value)


@pytest.mark.parametrize("col", ["w", "h"])
def test_negative_sizes_are_refused(col):
    with pytest.raises(InvalidFrame, match="negative") as err:
        coco_eval(truth(), pred(**{col: [10.0, -1.0]}))
    assert err.value.column == col
    with pytest.raises(InvalidFrame, match="negative") as err:
        coco_eval(truth(**{col: [-3.0, 1.0]}), pred())
    assert err.value.column == col


@pytest.mark.parametrize("col", ["x", "y", "w", "h"])
def test_nan_boxes_are_refused(col):
    with pytest.raises(InvalidFrame, match="NaN") as err:
        match_detections(truth(), pred(**{col: [np.nan, 1.0]}))
    assert err.value.column == col


def test_nan_and_text_scores_are_refused():
    with pytest.raises(InvalidFrame, match="error_code") as err:
        coco_eval(truth(), pred(score=[np.nan, 0.5]))
    assert err.value.column == "score"
    with pytest.raises(InvalidFrame, match="non-numeric") as err:
        coco_eval(truth(), pred(score=["high", 0.5]))
    assert err.value.column == "score"


def test_scores_outside_unit_interval_warn_but_work():
    with pytest.warns(ScoreScaleWarning, match="percentage"):
        r = coco_eval(truth(), pred(score=[90.0, 40.0]))
    assert r.stats["AP"] == pytest.approx(1.0, abs=1e-12)


def test_unknown_labels_are_reported_not_fatal():
    with pytest.warns(UnknownLabelWarning, match="'kat'"):
        m = match_detections(truth(), pred(label=["cat", "kat"]))
    assert m.attrs["unknown_labels"] == ["kat"]


def test_duplicate_truth_ids_are_refused():
    with pytest.raises(InvalidFrame, match="duplicate") as err:
        coco_eval(truth(id=[5, 5]), pred())
    assert err.value.column == "id"


def test_negative_area_is_refused():
    with pytest.raises(InvalidFrame) as err:
        coco_eval(truth(area=[-1.0, 100.0]), pred())
    assert err.value.column == "area"


def test_not_a_frame():
    with pytest.raises(InvalidFrame, match="DataFrame"):
        coco_eval(truth(), [{"image": "a"}])


def test_client_frames_with_empty_and_error_rows_evaluate():
    """Result frames keep every image: an empty row (no result) and an error row both mean
    "no predictions for this image", and neither is refused."""
    import pandas as pd

    from vislab.evaluate import match_detections
    from vislab.frames import boxes_frame

    pred = boxes_frame(
        [
            {"image": "a", "label": "cat", "score": 0.9, "x": 0, "y": 0, "w": 10, "h": 10},
            {"image": "blank"},
            {"image": "broken", "error_code": 216201, "error_msg": "image format error"},
        ]
    )
    truth = pd.DataFrame(
        {
            "image": ["a", "blank"],
            "label": ["cat", "cat"],
            "x": [0, 5],
            "y": [0, 5],
            "w": [10, 10],
            "h": [10, 10],
        }
    )
    m = match_detections(truth, pred)
    assert sorted(m["match"]) == ["fn", "tp"]
    partly = boxes_frame(
        [{"image": "a", "label": "cat", "score": 0.9, "x": None, "y": 0, "w": 10, "h": 10}]
    )
    with pytest.raises(InvalidFrame) as info:
        match_detections(truth, partly)
    assert info.value.column == "x"
