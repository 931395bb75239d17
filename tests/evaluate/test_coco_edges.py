"""coco_eval on the awkward cases, each checked against pycocotools run on the same boxes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.evaluate._pycoco import assert_same, pycoco_eval
from vislab.evaluate import UnknownLabelWarning, coco_eval


def truth_frame(rows):
    return pd.DataFrame(rows, columns=["image", "label", "x", "y", "w", "h", "iscrowd", "area"])


def pred_frame(rows):
    return pd.DataFrame(rows, columns=["image", "label", "score", "x", "y", "w", "h"])


def random_case(seed, *, n_img=6, n_cat=3, crowd=0.1, many=False):
    rng = np.random.default_rng(seed)
    t, p = [], []
    for i in range(n_img):
        img = f"im{i}"
        boxes = []
        for _ in range(rng.integers(0, 10)):
            x, y = rng.integers(0, 60, 2).astype(float)
            w, h = rng.choice([5, 10, 20, 40, 80, 120], 2).astype(float)
            lab = f"c{rng.integers(n_cat)}"
            t.append(
                [
                    img,
                    lab,
                    x,
                    y,
                    w,
                    h,
                    int(rng.random() < crowd),
                    float(w * h * rng.choice([1, 0.5, 2])),
                ]
            )
            boxes.append((x, y, w, h, lab))
        n_det = rng.integers(0, 160 if many else 25)
        for _ in range(n_det):
            if boxes and rng.random() < 0.7:
                x, y, w, h, lab = boxes[rng.integers(len(boxes))]
                j = rng.choice([0, 0, 1, 2, 5], 4) * rng.choice([-1, 1], 4)
                x, y, w, h = x + j[0], y + j[1], max(w + j[2], 1), max(h + j[3], 1)
                if rng.random() < 0.2:
                    lab = f"c{rng.integers(n_cat)}"
            else:
                x, y = rng.integers(0, 60, 2).astype(float)
                w, h = rng.choice([5, 10, 20, 40, 80, 120], 2).astype(float)
                lab = f"c{rng.integers(n_cat)}"
            score = (
                float(rng.choice([0.1, 0.5, 0.9]))
                if rng.random() < 0.5
                else round(float(rng.random()), 2)
            )
            p.append([img, lab, score, x, y, w, h])
    return pred_frame(p), truth_frame(t)


@pytest.mark.parametrize("seed", range(20))
def test_random_cases_equal_pycocotools(seed):
    pred, truth = random_case(seed, many=seed % 5 == 0)
    images = sorted(set(truth["image"]) | set(pred["image"]))
    labels = sorted(set(truth["label"]))
    for use_cats in (1, 0):
        ev = pycoco_eval(truth, pred, use_cats=use_cats, images=images, labels=labels)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownLabelWarning)
            r = coco_eval(truth, pred, class_aware=bool(use_cats), images=images, labels=labels)
        assert_same(r, ev)


def test_crowd_regions_absorb_detections():
    truth = truth_frame(
        [["a", "person", 0, 0, 100, 100, 1, 10000.0], ["a", "person", 200, 200, 40, 40, 0, 1600.0]]
    )
    pred = pred_frame(
        [
            ["a", "person", 0.9, 10, 10, 20, 20],  # inside the crowd: ignored
            ["a", "person", 0.8, 30, 30, 20, 20],  # also inside: ignored
            ["a", "person", 0.7, 200, 200, 40, 40],
        ]
    )
    r = coco_eval(truth, pred)
    assert_same(r, pycoco_eval(truth, pred))
    assert r.stats["AP"] == pytest.approx(1.0, abs=1e-12)


def test_truth_area_decides_the_size_range():
    # w*h says large, the annotated (mask) area says small: COCO uses the annotation.
    truth = truth_frame(
        [["a", "cat", 0, 0, 120, 120, 0, 500.0], ["b", "cat", 0, 0, 50, 50, 0, 2500.0]]
    )
    pred = pred_frame([["a", "cat", 0.9, 0, 0, 120, 120], ["b", "cat", 0.4, 0, 0, 50, 50]])
    r = coco_eval(truth, pred)
    assert_same(r, pycoco_eval(truth, pred))
    assert r.stats["APs"] == pytest.approx(1.0, abs=1e-9)
    assert r.stats["APl"] == -1


def test_class_without_truth_is_reported_and_does_not_count():
    truth = truth_frame([["a", "cat", 0, 0, 50, 50, 0, 2500.0]])
    pred = pred_frame([["a", "cat", 0.9, 0, 0, 50, 50], ["a", "cta", 0.95, 0, 0, 50, 50]])
    with pytest.warns(UnknownLabelWarning, match="cta"):
        r = coco_eval(truth, pred)
    assert r.unknown_labels == ["cta"]
    assert r.stats["AP"] == pytest.approx(1.0, abs=1e-12)
    assert np.isnan(r.per_class.loc["cta", "AP"])
    assert r.per_class.loc["cta", "n_pred"] == 1
    assert_same(r, pycoco_eval(truth, pred, labels=["cat", "cta"]))


def test_images_without_predictions_count_their_objects_as_missed():
    truth = truth_frame(
        [["a", "cat", 0, 0, 50, 50, 0, 2500.0], ["b", "cat", 0, 0, 50, 50, 0, 2500.0]]
    )
    pred = pred_frame([["a", "cat", 0.9, 0, 0, 50, 50]])
    r = coco_eval(truth, pred)
    assert_same(r, pycoco_eval(truth, pred))
    assert r.stats["AR100"] == pytest.approx(0.5)


def test_failed_images_are_images_without_predictions():
    truth = truth_frame(
        [["a", "cat", 0, 0, 50, 50, 0, 2500.0], ["b", "cat", 0, 0, 50, 50, 0, 2500.0]]
    )
    pred = pred_frame([["a", "cat", 0.9, 0, 0, 50, 50]])
    failed = pd.concat(
        [
            pred.assign(error_code=None, error_msg=None),
            pd.DataFrame([{"image": "b", "error_code": 216201, "error_msg": "image format error"}]),
        ],
        ignore_index=True,
    )
    r = coco_eval(truth, failed)
    assert r.failed_images == ["b"]
    assert_same(r, pycoco_eval(truth, pred))


def test_empty_predictions_give_zero_not_a_crash():
    truth = truth_frame([["a", "cat", 0, 0, 50, 50, 0, 2500.0]])
    pred = pred_frame([])
    r = coco_eval(truth, pred)
    ev = pycoco_eval(truth, pred)
    assert_same(r, ev)
    assert r.stats["AP"] == 0 and r.stats["APs"] == -1  # no small object: undefined


def test_empty_truth_gives_minus_one():
    truth = truth_frame([])
    pred = pred_frame([["a", "cat", 0.9, 0, 0, 50, 50]])
    with pytest.warns(UnknownLabelWarning):
        r = coco_eval(truth, pred)
    assert (r.stats == -1).all()


def test_more_than_100_detections_per_image_follow_maxdets():
    rng = np.random.default_rng(3)
    truth = truth_frame([["a", "cat", float(x), 0, 10, 10, 0, 100.0] for x in range(0, 1500, 10)])
    pred = pred_frame(
        [
            ["a", "cat", float(s), float(x), 0, 10, 10]
            for x, s in zip(range(0, 1500, 10), rng.random(150), strict=True)
        ]
    )
    r = coco_eval(truth, pred)
    assert_same(r, pycoco_eval(truth, pred))
    assert r.stats["AR100"] == pytest.approx(100 / 150)


def test_custom_parameters_equal_pycocotools():
    pred, truth = random_case(7)
    images = sorted(set(truth["image"]) | set(pred["image"]))
    labels = sorted(set(truth["label"]))
    thr = np.array([0.3, 0.5, 0.75])
    ev = pycoco_eval(truth, pred, images=images, labels=labels, iouThrs=thr, maxDets=[2, 5, 20])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        r = coco_eval(
            truth, pred, images=images, labels=labels, iou_thresholds=thr, max_dets=(2, 5, 20)
        )
    # pycocotools' summarize() computes its first number at maxDets=100 whatever the
    # parameters (here: -1, no such column); vislab uses the largest maxDets.  Everything
    # else, and all arrays, agree.
    assert ev.stats[0] == -1
    assert np.abs(r.stats.to_numpy()[1:] - ev.stats[1:]).max() <= 1e-9
    assert np.abs(r.precision - ev.eval["precision"]).max() <= 1e-9
    assert np.abs(r.recall - ev.eval["recall"]).max() <= 1e-9
    assert r.stats["AP"] == pytest.approx(
        r.precision[..., 0, -1][r.precision[..., 0, -1] > -1].mean()
    )


def test_summary_and_pr_curve():
    pred, truth = random_case(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        r = coco_eval(truth, pred)
    lines = r.summary().splitlines()
    assert len(lines) == 12 and lines[1].startswith(" Average Precision  (AP) @[ IoU=0.50 ")
    curve = r.pr_curve(iou=0.5)
    assert list(curve.columns) == ["recall", "precision", "score"] and len(curve) == 101


def test_chunked_pairs_and_batches_give_the_same_numbers(monkeypatch):
    """Large inputs are processed in chunks; tiny chunks must not change any number."""
    import vislab.evaluate._engine as engine

    pred, truth = random_case(11, many=True)
    images = sorted(set(truth["image"]) | set(pred["image"]))
    labels = sorted(set(truth["label"]))
    ev = pycoco_eval(truth, pred, images=images, labels=labels)
    monkeypatch.setattr(engine, "_PAIR_CHUNK", 5)
    monkeypatch.setattr(engine, "_BATCH_ELEMENTS", 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        assert_same(coco_eval(truth, pred, images=images, labels=labels), ev)
