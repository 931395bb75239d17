"""ThresholdTuner on masks frames: the masks reach the state, the grid and the mAP note."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from vislab.errors import InvalidFrame
from vislab.evaluate import coco_eval
from vislab.mask_frames import masks_frame
from vislab.widgets import ThresholdTuner
from vislab.widgets._pillow_grid import PillowGrid
from vislab.widgets.threshold_state import ThresholdState


def _blob(y0, y1, x0, x1, h=48, w=64):
    m = np.zeros((h, w), dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


def _frames():
    truth = masks_frame(
        [
            {"image": "a", "label": "cat", "score": 1.0, "mask": _blob(5, 25, 5, 30)},
            {"image": "b", "label": "cat", "score": 1.0, "mask": _blob(20, 40, 30, 60)},
        ]
    ).drop(columns="score")
    pred = masks_frame(
        [
            {"image": "a", "label": "cat", "score": 0.9, "mask": _blob(6, 25, 5, 30)},
            {"image": "b", "label": "cat", "score": 0.3, "mask": _blob(0, 10, 0, 10)},
        ]
    )
    return truth, pred


def test_state_knows_masks_and_their_map():
    truth, pred = _frames()
    state = ThresholdState(truth, pred, threshold=0.5)
    assert state.has_masks
    expected = coco_eval(truth, pred, iou_type="segm").stats
    pd.testing.assert_series_equal(state.map_segm, expected)
    no_masks = ThresholdState(truth, pred.drop(columns="mask"), threshold=0.5)
    assert not no_masks.has_masks and no_masks.map_segm is None


def test_tiles_carry_masks_and_the_grid_paints_them():
    truth, pred = _frames()
    tuner = ThresholdTuner(truth, pred, threshold=0.2)
    tile = tuner.state.tiles(["a"])[0]
    assert len(tile.masks) == 1 and tile.masks[0] == pred["mask"][0]
    # The grid paints the mask's pixels in the box's colour, translucent over the picture.
    grid = PillowGrid(n=1, ncols=1)
    tile = replace(tile, size=(64, 48))
    plain = replace(tile, masks=[])
    grid.draw([plain])
    without = np.asarray(grid.image).astype(int)
    grid.draw([tile])
    with_masks = np.asarray(grid.image).astype(int)
    px, py, pw, ph = grid.placed[0]["picture"]
    inside = with_masks[py + ph // 3, px + pw // 4] - without[py + ph // 3, px + pw // 4]
    outside = with_masks[py + ph - 3, px + pw - 3] - without[py + ph - 3, px + pw - 3]
    assert np.abs(inside).sum() > 30  # tinted
    assert np.abs(outside).sum() == 0  # untouched


def test_tuner_summary_and_static_still_work_with_masks():
    truth, pred = _frames()
    tuner = ThresholdTuner(truth, pred, threshold=0.5)
    assert tuner.has_masks
    assert tuner.map_segm is not None
    assert f"segm AP@[.5:.95] = {tuner.map_segm['AP']:.4f}" in tuner._map.value
    assert "ThresholdTuner(threshold=0.500" in tuner.summary()
    tuner.flush()
    assert tuner._grid_view.value[:2] == b"\xff\xd8"
    with pytest.raises(InvalidFrame, match="sum to"):
        ThresholdState(truth, pred.assign(mask=[{"size": [2, 2], "counts": [9]}] * 2))
