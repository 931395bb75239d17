"""The generated sample detection set."""

from __future__ import annotations

import numpy as np

from vislab.datasets import sample_detections
from vislab.evaluate import coco_eval, match_detections


def test_deterministic_and_well_formed():
    a = sample_detections(10, seed=5)
    b = sample_detections(10, seed=5)
    assert a.truth.equals(b.truth) and a.pred.equals(b.pred)
    assert all(np.array_equal(a.images[k], b.images[k]) for k in a.images)
    w, h = 320, 240
    for img in a.images.values():
        assert img.shape == (h, w, 3) and img.dtype == np.uint8 and img.std() > 10
    t = a.truth
    assert ((t["x"] >= 0) & (t["y"] >= 0) & (t["x"] + t["w"] <= w) & (t["y"] + t["h"] <= h)).all()
    ok = a.pred[a.pred["error_code"].isna()]
    assert ok["score"].between(0, 1).all()
    assert (a.pred["error_code"].notna()).sum() == 1  # one failed call by default
    assert set(t["label"]) <= set(a.classes)


def test_detections_are_plausible():
    s = sample_detections()
    m = match_detections(s.truth, s.pred)
    counts = m["match"].value_counts()
    assert min(counts["tp"], counts["fp"], counts["fn"]) > 0
    confident = m[m["score"] >= 0.5]["match"].value_counts()
    assert confident["tp"] > 3 * confident["fp"]  # most confident boxes are right
    ap = coco_eval(s.truth, s.pred).stats["AP50"]
    assert 0.4 < ap < 0.95  # decent, not perfect
    assert sample_detections(3, seed=1, failed=0).pred["error_code"].isna().all()
