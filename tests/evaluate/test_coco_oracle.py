"""coco_eval against pycocotools (run here) and the numbers in the fixtures README."""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np
import pytest

from tests.evaluate._fixtures import SETS, require
from vislab.datasets import (
    read_coco,
    read_coco_results,
    read_voc_txt,
    write_coco,
    write_coco_results,
)
from vislab.evaluate import COCO_STAT_NAMES, coco_eval, match_detections

pycocotools = pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


def _pycoco(gt_path, res_path, *, use_cats=1):
    res = json.loads(res_path.read_text())
    if isinstance(res, dict):  # a dataset dict whose annotations carry scores
        res = res["annotations"]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        ev = COCOeval(gt, gt.loadRes(res), "bbox")
        ev.params.useCats = use_cats
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def _ours(gt_path, res_path, *, image="id", **kw):
    truth = read_coco(gt_path, image=image)
    pred = read_coco_results(res_path, truth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # labels without truth are reported, not an error here
        return coco_eval(truth, pred, **kw)


@pytest.mark.parametrize("name", list(SETS))
def test_equal_to_pycocotools_and_readme(name):
    gt_rel, res_rel, readme, tol = SETS[name]
    gt_path, res_path = require(gt_rel), require(res_rel)
    ev = _pycoco(gt_path, res_path)
    r = _ours(gt_path, res_path)
    assert list(r.stats.index) == list(COCO_STAT_NAMES)
    stats = r.stats.to_numpy()
    # Same algorithm, same floating-point operations: equal to 1e-9 (in practice bit-equal).
    assert np.abs(stats - ev.stats).max() <= 1e-9
    assert r.precision.shape == ev.eval["precision"].shape
    assert np.abs(r.precision - ev.eval["precision"]).max() <= 1e-9
    assert np.abs(r.recall - ev.eval["recall"]).max() <= 1e-9
    assert np.abs(r.scores - ev.eval["scores"]).max() <= 1e-9
    assert np.abs(stats - np.array(readme)).max() <= tol


@pytest.mark.parametrize("name", list(SETS))
def test_file_names_as_images_give_the_same_numbers(name):
    gt_rel, res_rel, readme, tol = SETS[name]
    r = _ours(require(gt_rel), require(res_rel), image="file_name")
    assert np.abs(r.stats.to_numpy() - np.array(readme)).max() <= tol


@pytest.mark.parametrize("name", list(SETS))
def test_class_agnostic_equals_pycocotools_usecats0(name):
    gt_rel, res_rel, _, _ = SETS[name]
    gt_path, res_path = require(gt_rel), require(res_rel)
    ev = _pycoco(gt_path, res_path, use_cats=0)
    r = _ours(gt_path, res_path, class_aware=False)
    assert np.abs(r.stats.to_numpy() - ev.stats).max() <= 1e-9
    assert np.abs(r.precision - ev.eval["precision"]).max() <= 1e-9


def test_per_class_ap_equals_pycocotools():
    gt_rel, res_rel, _, _ = SETS["rodm-voc2012-100"]
    gt_path, res_path = require(gt_rel), require(res_rel)
    ev = _pycoco(gt_path, res_path)
    r = _ours(gt_path, res_path)
    p = ev.eval["precision"][:, :, :, 0, -1]
    for k, label in enumerate(r.labels):
        v = p[:, :, k]
        expect = v[v > -1].mean() if (v > -1).any() else np.nan
        got = r.per_class.loc[label, "AP"]
        assert (np.isnan(expect) and np.isnan(got)) or abs(got - expect) <= 1e-12


def test_cartucho_text_files_match_the_derived_coco_files_and_pycocotools(tmp_path):
    """The VOC-style text reader sees what the derived COCO files hold, and coco_eval on the
    text files equals pycocotools on the same boxes."""
    truth = read_voc_txt(require("cartucho-map/input/ground-truth"), image_ext=".jpg")
    pred = read_voc_txt(require("cartucho-map/input/detection-results"), image_ext=".jpg")
    assert len(truth) == 686 and len(pred) == 494
    coco_truth = read_coco(require("cartucho-map/cartucho_gt_coco.json"))
    cols = ["image", "label", "x", "y", "w", "h"]
    assert truth[cols].equals(coco_truth[cols])
    # The derived results keep 445 of the 494 boxes (classes seen in the truth; the README's
    # numbers are for those).  Every one of them is a line of the text files.
    coco_pred = read_coco_results(
        require("cartucho-map/cartucho_dets_coco_results.json"), coco_truth
    )
    keys = ["image", "label", "score", "x", "y", "w", "h"]
    both = coco_pred[keys].merge(pred[keys], how="left", indicator=True)
    assert len(coco_pred) == 445 and (both["_merge"] == "both").all()

    gt_dict = write_coco(truth)
    (tmp_path / "gt.json").write_text(json.dumps(gt_dict))
    known = pred[pred["label"].isin(set(truth["label"]))]  # pycocotools drops unknown ids
    res = write_coco_results(known, gt=gt_dict)
    (tmp_path / "res.json").write_text(json.dumps(res))
    ev = _pycoco(tmp_path / "gt.json", tmp_path / "res.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = coco_eval(truth, pred)
    assert np.abs(r.stats.to_numpy() - ev.stats).max() <= 1e-9


def test_class_agnostic_match_counts_equal_faster_coco_eval_preview():
    """faster-coco-eval's PreviewResults(useCats=False) at IoU 0.5 (README "extra oracle"):
    matched / same class / FP / FN.  Its FN also counts unmatched crowd regions, which COCO
    (and vislab) treat as ignore regions, not misses."""
    extra = {
        "cocoapi-val2014-100": (732, 647, 2, 107),
        "rodm-voc2012-100": (229, 226, 223, 44),
        "cartucho-map": (286, 261, 159, 400),
    }
    for name, (matched, same, fp, fn) in extra.items():
        gt_rel, res_rel, _, _ = SETS[name]
        truth = read_coco(require(gt_rel))
        pred = read_coco_results(require(res_rel), truth)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = match_detections(truth, pred, iou=0.5, class_aware=False)
        counts = m["match"].value_counts()
        tp = m[m["match"] == "tp"]
        true_label = truth.set_index("id").loc[tp["truth_id"].astype(int), "label"].to_numpy()
        assert counts.get("tp", 0) == matched, name
        assert (tp["label"].to_numpy() == true_label).sum() == same, name
        assert counts.get("fp", 0) == fp, name
        assert counts.get("fn", 0) + int(truth["iscrowd"].sum()) == fn, name


def test_segmentation_is_refused_clearly():
    gt_rel, res_rel, _, _ = SETS["cocoapi-val2014-100"]
    truth = read_coco(require(gt_rel))
    with pytest.raises(NotImplementedError, match="bbox"):
        coco_eval(truth, truth.assign(score=1.0), iou_type="segm")


def _faster(gt_path, res_path):
    faster = pytest.importorskip("faster_coco_eval")
    res = json.loads(res_path.read_text())
    if isinstance(res, dict):
        res = res["annotations"]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = faster.COCO(str(gt_path))
        ev = faster.COCOeval_faster(gt, gt.loadRes(res), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats, dtype=float)


@pytest.mark.parametrize("name", list(SETS))
def test_identical_to_pycocotools_and_faster_coco_eval(name):
    """Not close: identical.  The 12 numbers equal pycocotools' to the last bit, and
    faster-coco-eval's wherever faster-coco-eval itself equals pycocotools (on three of the
    sets its C++ summation departs from pycocotools by one rounding, <= 2.3e-16)."""
    gt_rel, res_rel, _, _ = SETS[name]
    gt_path, res_path = require(gt_rel), require(res_rel)
    stats = _ours(gt_path, res_path).stats.to_numpy()
    pycoco = np.asarray(_pycoco(gt_path, res_path).stats, dtype=float)
    faster = _faster(gt_path, res_path)
    assert np.array_equal(stats, pycoco)
    same = faster == pycoco
    assert np.array_equal(stats[same], faster[same])
    assert np.abs(stats - faster).max() <= 2.3e-16
