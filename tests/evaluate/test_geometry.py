"""One IoU for the whole library (vislab.geometry): equal to pycocotools bit for bit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from vislab.geometry import box_iou, iou_by_index, paired_iou


def random_boxes(rng, n):
    xy = rng.uniform(0, 100, (n, 2)).round(2)
    wh = rng.uniform(0, 60, (n, 2)).round(2)
    wh[rng.random(n) < 0.05] = 0.0  # degenerate boxes occur in real files
    return np.hstack([xy, wh])


@pytest.mark.parametrize("seed", range(4))
def test_box_iou_equals_pycocotools_bit_for_bit(seed):
    mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, 40), random_boxes(rng, 30)
    crowd = rng.random(30) < 0.3
    want = mask.iou(a.tolist(), b.tolist(), crowd.astype(np.uint8).tolist())
    got = box_iou(a, b, crowd=crowd)
    assert np.array_equal(got, want)  # exact: the evaluation depends on it
    assert np.array_equal(box_iou(a, b), mask.iou(a.tolist(), b.tolist(), [0] * 30))


def test_paired_and_indexed_forms_agree_with_the_matrix():
    rng = np.random.default_rng(7)
    a, b = random_boxes(rng, 25), random_boxes(rng, 25)
    crowd = rng.random(25) < 0.5
    full = box_iou(a, b, crowd=crowd)
    assert np.array_equal(paired_iou(a, b, crowd=crowd), np.diag(full))
    ai, bi = rng.integers(0, 25, 200), rng.integers(0, 25, 200)
    assert np.array_equal(iou_by_index(a.T, b.T, ai, bi, crowd), full[ai, bi])
    with pytest.raises(ValueError, match="as many boxes"):
        paired_iou(a, b[:3])


def test_engine_samples_and_evaluate_use_the_shared_helper():
    from vislab.engine.recognition import Box, _box_iou
    from vislab.evaluate import box_iou as evaluate_box_iou

    assert evaluate_box_iou is box_iou
    a, b = Box(10, 20, 30, 40, 1.0), Box(25, 30, 30, 40, 1.0)
    assert _box_iou(a, b) == float(box_iou([(10, 20, 30, 40)], [(25, 30, 30, 40)])[0, 0])


def test_geometry_and_engine_import_neither_pandas_nor_evaluate():
    code = (
        "import sys, vislab.geometry, vislab.engine.recognition\n"
        "bad = [m for m in ('pandas', 'vislab.evaluate') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
