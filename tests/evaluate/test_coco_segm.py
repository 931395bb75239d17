"""coco_eval(iou_type="segm") against pycocotools: the fakesegm100 fixture and random masks."""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.evaluate._fixtures import require
from vislab.datasets import read_coco, read_coco_results, write_coco, write_coco_results
from vislab.errors import InvalidFrame
from vislab.evaluate import coco_eval
from vislab.mask_frames import masks_frame
from vislab.masks import rle_encode

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

GT = "cocoapi-val2014-100/instances_val2014_100.json"
SEGM = "cocoapi-val2014-100/instances_val2014_fakesegm100_results.json"
#: The segm column of the fixtures README (pycocotools 2.0.11, faster-coco-eval 1.8.0).
README_SEGM = [
    0.319545275857643,
    0.562288397252164,
    0.298926534120868,
    0.387374031599784,
    0.310182724033695,
    0.326933907100514,
    0.268229722571153,
    0.415448681149064,
    0.416839499219882,
    0.469449862275424,
    0.376759226661973,
    0.381471509971510,
]


def _pycoco(gt_dict, res, *, use_cats=1):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = gt_dict
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(res), "segm")
        ev.params.useCats = use_cats
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def _ours(truth, pred, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes without truth are reported, not an error
        return coco_eval(truth, pred, iou_type="segm", **kw)


def test_fakesegm100_equals_readme_and_pycocotools_exactly():
    gt_path, res_path = require(GT), require(SEGM)
    truth = read_coco(gt_path, image="id")
    pred = read_coco_results(res_path, truth)
    assert pred.attrs["kind"] == "masks" and "mask" in pred.columns
    r = _ours(truth, pred)
    assert np.abs(r.stats.to_numpy() - np.array(README_SEGM)).max() <= 1e-15 * 10
    ev = _pycoco(json.loads(gt_path.read_text()), json.loads(res_path.read_text()))
    # Same IoUs bit for bit and the same accumulation: no difference at all.
    assert np.array_equal(r.stats.to_numpy(), np.asarray(ev.stats))
    assert np.array_equal(r.precision, ev.eval["precision"])
    assert np.array_equal(r.recall, ev.eval["recall"])
    assert np.array_equal(r.scores, ev.eval["scores"])


def test_truth_as_mask_column_gives_the_same_numbers():
    gt_path, res_path = require(GT), require(SEGM)
    truth = read_coco(gt_path, image="id")
    pred = read_coco_results(res_path, truth)
    from vislab.evaluate.segm import truth_mask_column

    with_masks = truth.assign(mask=truth_mask_column(truth)).drop(columns="segmentation")
    with_masks.attrs.update(truth.attrs)
    a, b = _ours(truth, pred), _ours(with_masks, pred)
    assert np.array_equal(a.stats.to_numpy(), b.stats.to_numpy())


def _random_case(rng, n_images=6, h=40, w=50):
    """Random truth (polygons, RLE, crowd RLE) and random mask detections, as COCO dicts."""
    cats = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    images, anns, res = [], [], []
    for img in range(1, n_images + 1):
        images.append({"id": img, "file_name": f"{img}.png", "height": h, "width": w})
        for _ in range(int(rng.integers(0, 5))):
            k = int(rng.integers(3, 8))
            cx, cy = rng.uniform(5, w - 5), rng.uniform(5, h - 5)
            r = rng.uniform(2, 15, k)
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            poly = np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], axis=1).ravel()
            crowd = int(rng.random() < 0.15)
            seg = [poly.round(2).tolist()]
            if crowd or rng.random() < 0.2:  # RLE truth (crowd regions are RLE in COCO)
                m = np.zeros((h, w), dtype=bool)
                y0, x0 = int(rng.integers(0, h - 5)), int(rng.integers(0, w - 5))
                m[y0 : y0 + int(rng.integers(3, 20)), x0 : x0 + int(rng.integers(3, 20))] = True
                rle = rle_encode(m)
                seg = {"size": rle["size"], "counts": _uncompressed(m)} if crowd else rle
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img,
                    "category_id": int(rng.integers(1, 3)),
                    "segmentation": seg,
                    "area": float(rng.uniform(10, 1500)),  # COCO's own area, not the mask's
                    "bbox": [0, 0, 1, 1],
                    "iscrowd": crowd,
                }
            )
        for _ in range(int(rng.integers(0, 8))):
            m = np.zeros((h, w), dtype=bool)
            y0, x0 = int(rng.integers(0, h - 3)), int(rng.integers(0, w - 3))
            m[y0 : y0 + int(rng.integers(2, 25)), x0 : x0 + int(rng.integers(2, 25))] = True
            m &= rng.random((h, w)) < 0.9
            res.append(
                {
                    "image_id": img,
                    "category_id": int(rng.integers(1, 3)),
                    "segmentation": rle_encode(m),
                    "score": float(np.round(rng.random(), 2)),  # ties on purpose
                }
            )
    return {"images": images, "annotations": anns, "categories": cats}, res


def _uncompressed(m):
    flat = m.T.ravel()
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    return [0, *counts] if flat[0] else counts


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("use_cats", [1, 0])
def test_random_masks_equal_pycocotools(seed, use_cats):
    rng = np.random.default_rng(seed)
    gt, res = _random_case(rng)
    if not res:
        pytest.skip("no detections drawn")
    truth = read_coco(gt)
    pred = read_coco_results(res, truth)
    r = _ours(truth, pred, class_aware=bool(use_cats))
    ev = _pycoco(json.loads(json.dumps(gt)), json.loads(json.dumps(res)), use_cats=use_cats)
    assert np.array_equal(r.stats.to_numpy(), np.asarray(ev.stats))
    assert np.array_equal(r.precision, ev.eval["precision"])
    assert np.array_equal(r.recall, ev.eval["recall"])


def test_mask_size_must_agree_within_an_image():
    gt, res = _random_case(np.random.default_rng(1))
    truth = read_coco(gt)
    pred = read_coco_results(res, truth)
    bad = pred.copy()
    bad.at[bad.index[0], "mask"] = rle_encode(np.zeros((7, 7), dtype=bool))
    with pytest.raises(InvalidFrame, match="different sizes"):
        _ours(truth, bad)


def test_polygon_truth_without_image_sizes_is_refused():
    truth = pd.DataFrame(
        {
            "image": ["a"],
            "label": ["x"],
            "x": [0.0],
            "y": [0.0],
            "w": [4.0],
            "h": [4.0],
            "segmentation": [[[0, 0, 4, 0, 4, 4, 0, 4]]],
        }
    )
    pred = truth.drop(columns="segmentation").assign(
        score=0.9, mask=[rle_encode(np.ones((8, 8), dtype=bool))]
    )
    with pytest.raises(InvalidFrame, match="image size"):
        _ours(truth, pred)
    r = _ours(truth.assign(height=8, width=8), pred)
    assert r.stats["AP"] == pytest.approx(0.0)  # IoU 16/64 misses every threshold


def test_written_segm_files_give_pycocotools_the_same_numbers():
    # read -> write -> pycocotools: masks survive the round trip as COCO segm files
    gt_path, res_path = require(GT), require(SEGM)
    truth = read_coco(gt_path, image="id")
    pred = read_coco_results(res_path, truth)
    gt_dict = write_coco(truth)
    res = write_coco_results(pred, gt=truth)
    assert all("segmentation" in a for a in gt_dict["annotations"])
    assert res[0]["segmentation"] == pred["mask"][0]
    ev = _pycoco(json.loads(json.dumps(gt_dict)), json.loads(json.dumps(res)))
    assert np.array_equal(np.asarray(ev.stats), _ours(truth, pred).stats.to_numpy())


def test_masks_frame_written_as_results_equals_pycocotools():
    rng = np.random.default_rng(11)
    gt, _ = _random_case(rng)
    truth = read_coco(gt)
    rows = []
    for img in gt["images"]:
        for _ in range(4):
            m = np.zeros((img["height"], img["width"]), dtype=bool)
            y0, x0 = int(rng.integers(0, 30)), int(rng.integers(0, 40))
            m[y0 : y0 + 12, x0 : x0 + 15] = True
            rows.append(
                {
                    "image": img["file_name"],
                    "label": str(rng.choice(["a", "b"])),
                    "score": float(rng.random()),
                    "mask": m,
                }
            )
    pred = masks_frame(rows)
    ev = _pycoco(json.loads(json.dumps(gt)), write_coco_results(pred, gt=truth))
    assert np.array_equal(np.asarray(ev.stats), _ours(truth, pred).stats.to_numpy())


@pytest.mark.parametrize("seed", range(3))
def test_segm_results_with_boxes_are_sized_by_their_boxes_as_in_pycocotools(seed):
    # loadRes takes a file whose first record has a bbox down its bbox branch: the size ranges
    # then measure w * h, not the mask.  Boxes here are far from the masks' areas on purpose.
    rng = np.random.default_rng(seed)
    gt, res = _random_case(rng)
    for r in res:
        r["bbox"] = [0.0, 0.0, float(rng.uniform(1, 40)), float(rng.uniform(1, 40))]
    truth = read_coco(gt)
    pred = read_coco_results(res, truth)
    assert "area" in pred.columns
    ev = _pycoco(json.loads(json.dumps(gt)), json.loads(json.dumps(res)))
    assert np.array_equal(np.asarray(ev.stats), _ours(truth, pred).stats.to_numpy())
    # ... and written back, the file keeps its boxes, so it reads back alike
    again = write_coco_results(pred, gt=truth)
    assert again[0]["bbox"] == res[0]["bbox"]
