"""Run pycocotools' COCOeval on vislab frames (the oracle for the edge-case tests)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from vislab.datasets import write_coco, write_coco_results

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


def pycoco_eval(truth, pred, *, use_cats=1, images=None, labels=None, **params):
    """COCOeval on frames; returns the evaluator (``.stats``, ``.eval``)."""
    image_list = (
        list(images) if images is not None else sorted(set(truth["image"]) | set(pred["image"]))
    )
    label_list = list(labels) if labels is not None else sorted(set(truth["label"]))
    import pandas as pd

    img_tab = pd.DataFrame({"image_id": range(1, len(image_list) + 1), "image": image_list})
    cat_tab = pd.DataFrame({"category_id": range(1, len(label_list) + 1), "label": label_list})
    gt_dict = write_coco(truth, images=img_tab, categories=cat_tab)
    if "error_code" in pred.columns:
        pred = pred[pred["error_code"].isna()]
    pred = pred[pred["label"].isin(label_list)]
    res = write_coco_results(pred, gt=gt_dict)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = gt_dict
        gt.createIndex()
        if res:
            dt = gt.loadRes(res)
        else:  # pycocotools' loadRes cannot take an empty list; an empty result set can
            dt = COCO()
            dt.dataset = {
                "images": gt_dict["images"],
                "annotations": [],
                "categories": gt_dict["categories"],
            }
            dt.createIndex()
        ev = COCOeval(gt, dt, "bbox")
        ev.params.useCats = use_cats
        for key, value in params.items():
            setattr(ev.params, key, value)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def assert_same(result, ev, tol=1e-9):
    assert np.abs(result.stats.to_numpy() - np.asarray(ev.stats)).max() <= tol
    assert np.abs(result.precision - ev.eval["precision"]).max() <= tol
    assert np.abs(result.recall - ev.eval["recall"]).max() <= tol
    assert np.abs(result.scores - ev.eval["scores"]).max() <= tol
