"""match_detections, threshold_sweep and best_threshold, checked by brute force."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.evaluate.test_coco_edges import pred_frame, random_case, truth_frame
from vislab.evaluate import (
    Sweep,
    UnknownLabelWarning,
    best_threshold,
    box_iou,
    match_detections,
    threshold_sweep,
)


def reference_match(pred, truth, iou_thr, class_aware=True, max_dets=100):
    """pycocotools' evaluateImg for one IoU threshold, transcribed loop for loop."""
    result = {}
    gt_taken = set()
    keys = ["image", "label"] if class_aware else ["image"]
    # pycocotools lists a group's boxes class by class (sorted ids), then in input order.
    truth = truth.sort_values("label", kind="stable")
    pred = pred.sort_values("label", kind="stable")
    t_groups = {k: g for k, g in truth.groupby(keys, sort=False)}
    for key, dets in pred.groupby(keys, sort=False):
        order = np.argsort(-dets["score"].to_numpy(), kind="mergesort")[:max_dets]
        dets = dets.iloc[order]
        gts = t_groups.get(key)
        if gts is None:
            for i in dets.index:
                result[i] = ("fp", None)
            continue
        gts = gts.iloc[np.argsort(gts["iscrowd"].to_numpy(), kind="mergesort")]
        ious = box_iou(
            dets[["x", "y", "w", "h"]], gts[["x", "y", "w", "h"]], crowd=gts["iscrowd"].astype(bool)
        )
        for di, i in enumerate(dets.index):
            best, m = min(iou_thr, 1 - 1e-10), -1
            for gi, g in enumerate(gts.index):
                crowd = bool(gts.loc[g, "iscrowd"])
                if g in gt_taken and not crowd:
                    continue
                if m > -1 and not gts.iloc[m]["iscrowd"] and crowd:
                    break
                if ious[di, gi] < best:
                    continue
                best, m = ious[di, gi], gi
            if m == -1:
                result[i] = ("fp", None)
            else:
                g = gts.index[m]
                gt_taken.add(g)
                result[i] = ("ignore" if gts.loc[g, "iscrowd"] else "tp", g)
    return result, gt_taken


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("class_aware", [True, False])
def test_match_detections_equals_the_reference_loop(seed, class_aware):
    pred, truth = random_case(seed, many=seed == 0)
    truth = truth.assign(id=np.arange(100, 100 + len(truth)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        m = match_detections(truth, pred, iou=0.5, class_aware=class_aware)
    ref, taken = reference_match(pred, truth, 0.5, class_aware)
    preds = m[m["match"] != "fn"].set_index("pred_index")
    for i, (outcome, g) in ref.items():
        assert preds.loc[i, "match"] == outcome
        if g is not None:
            assert preds.loc[i, "truth_id"] == truth.loc[g, "id"]
    missed = set(m.loc[m["match"] == "fn", "truth_id"])
    expect = {
        truth.loc[g, "id"] for g in truth.index if g not in taken and not truth.loc[g, "iscrowd"]
    }
    assert missed == expect


def test_match_frame_columns_and_meaning():
    truth = truth_frame(
        [
            ["a", "cat", 0, 0, 10, 10, 0, 100.0],
            ["a", "cat", 90, 90, 10, 10, 0, 100.0],
            ["a", "cat", 200, 200, 50, 50, 1, 2500.0],
        ]
    )
    pred = pred_frame(
        [
            ["a", "cat", 0.9, 1, 0, 10, 10],
            ["a", "cat", 0.8, 50, 50, 10, 10],
            ["a", "cat", 0.7, 210, 210, 5, 5],
            ["a", "dog", 0.6, 0, 0, 10, 10],
        ]
    )
    with pytest.warns(UnknownLabelWarning):
        m = match_detections(truth, pred)
    assert list(m.columns) == [
        "image",
        "label",
        "score",
        "x",
        "y",
        "w",
        "h",
        "match",
        "iou",
        "truth_id",
        "pred_index",
    ]
    assert m["match"].tolist() == ["tp", "fp", "ignore", "fp", "fn"]
    assert m["iou"].iloc[0] == pytest.approx(90 / 110)
    assert np.isnan(m["iou"].iloc[1])  # no overlap with anything
    assert np.isnan(m["iou"].iloc[3])  # right place, wrong label: no "dog" truth to overlap
    assert m["truth_id"].tolist()[:1] == [0] and m["truth_id"].iloc[-1] == 1
    assert m.attrs["unknown_labels"] == ["dog"]


def test_max_dets_marks_the_rest_skipped():
    pred = pred_frame([["a", "cat", s, 0, 0, 10, 10] for s in (0.9, 0.8, 0.7)])
    truth = truth_frame([["a", "cat", 0, 0, 10, 10, 0, 100.0]])
    m = match_detections(truth, pred, max_dets=2)
    assert m["match"].tolist() == ["tp", "fp", "skipped"]


def test_failed_rows_and_score_threshold():
    pred = pd.DataFrame(
        [
            {"image": "a", "label": "cat", "score": 0.9, "x": 0, "y": 0, "w": 10, "h": 10},
            {"image": "a", "label": "cat", "score": 0.3, "x": 50, "y": 50, "w": 10, "h": 10},
            {"image": "b", "error_code": 282000, "error_msg": "internal error"},
        ]
    )
    truth = truth_frame(
        [["a", "cat", 0, 0, 10, 10, 0, 100.0], ["b", "cat", 0, 0, 10, 10, 0, 100.0]]
    )
    m = match_detections(truth, pred, score_threshold=0.5)
    assert m["match"].tolist() == ["tp", "fn"]
    assert m.attrs["failed_images"] == ["b"]


@pytest.mark.parametrize("seed", range(6))
def test_sweep_counts_equal_matching_above_each_threshold(seed):
    pred, truth = random_case(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        sweep = threshold_sweep(truth, pred, iou=0.5, by_class=True)
        thresholds = [-1.0, 0.0, 0.1, 0.35, 0.5, 0.9, 0.95, 1.0, 2.0]
        for t in thresholds:
            m = match_detections(truth, pred, iou=0.5, score_threshold=t)
            counts = m["match"].value_counts()
            row = sweep.at(t)
            assert row["tp"] == counts.get("tp", 0)
            assert row["fp"] == counts.get("fp", 0)
            assert row["fn"] == counts.get("fn", 0)
            at = sweep.matches_at(t)
            assert sorted(at["match"]) == sorted(m.loc[m["match"] != "skipped", "match"])
            per = sweep.at(t, by_class=True)
            for label, grp in m.groupby("label"):
                c = grp["match"].value_counts()
                assert per.loc[label, "tp"] == c.get("tp", 0)
                assert per.loc[label, "fn"] == c.get("fn", 0)
            assert per["tp"].sum() == row["tp"]
    frame = sweep.overall
    assert frame["threshold"].is_monotonic_decreasing
    assert (frame["tp"] + frame["fn"] == sweep.n_pos).all()
    many = sweep.at_many(frame["threshold"])
    pd.testing.assert_frame_equal(many, frame)


def test_sweep_frame_doc_example_and_by_class():
    pred = pd.DataFrame(
        {
            "image": ["a", "a", "b"],
            "label": ["cat", "dog", "cat"],
            "score": [0.9, 0.6, 0.3],
            "x": [0, 50, 0],
            "y": [0, 50, 0],
            "w": [10, 10, 10],
            "h": [10, 10, 10],
        }
    )
    truth = pred.drop(columns="score").iloc[[0, 2]]
    with pytest.warns(UnknownLabelWarning):
        s = threshold_sweep(truth, pred, by_class=True)
    assert set(s.frame["label"]) == {"cat", "dog"}
    assert s.at(0.5, label="cat")["recall"] == 0.5
    assert s.at(0.0, label="dog")["fp"] == 1


def test_sweep_on_empty_inputs():
    truth = truth_frame([["a", "cat", 0, 0, 10, 10, 0, 100.0]])
    s = threshold_sweep(truth, pred_frame([]))
    assert s.at(0.5)["fn"] == 1 and s.at(0.5)["precision"] == 1.0
    with pytest.warns(UnknownLabelWarning):
        s = threshold_sweep(truth_frame([]), pred_frame([["a", "cat", 0.5, 0, 0, 10, 10]]))
    assert s.at(0.1)["fp"] == 1 and np.isnan(s.at(0.1)["recall"])


def test_best_threshold_rules():
    s = Sweep.from_arrays([0.9, 0.8, 0.7, 0.6, 0.2], tp=[1, 1, 0, 1, 1], n_pos=5)
    f = s.overall
    assert best_threshold(s)["threshold"] == f.loc[f["f1"].idxmax(), "threshold"]
    assert best_threshold(s, rule="precision>=0.9")["threshold"] == 0.8
    assert best_threshold(s, rule="precision>=0.75")["threshold"] == 0.2
    assert best_threshold(s, rule="recall>=0.4")["threshold"] == 0.8  # P=1 at 0.9 (R .2) too
    assert best_threshold(s, rule={"fp": 10, "fn": 1})["threshold"] == 0.8
    assert best_threshold(s, rule="f2")["threshold"] == 0.2
    assert best_threshold(s, rule=lambda fr: -fr["fp"])["threshold"] == 0.9  # tie: highest
    assert best_threshold(s.overall)["threshold"] == best_threshold(s)["threshold"]
    with pytest.warns(UserWarning, match="no threshold"):
        assert np.isnan(best_threshold(s, rule="recall>=0.99")["threshold"])
    with pytest.raises(ValueError, match="unknown rule"):
        best_threshold(s, rule="accuracy")


def test_labels_sweep_is_one_vs_rest_and_equals_sklearn():
    from sklearn.metrics import precision_score, recall_score

    rng = np.random.default_rng(0)
    classes = ["cat", "dog", "fox"]
    truth = pd.DataFrame({"image": [f"i{i}" for i in range(60)], "label": rng.choice(classes, 60)})
    rows = []
    for img in truth["image"]:
        for r, lab in enumerate(rng.permutation(classes)[:2], start=1):
            rows.append({"image": img, "rank": r, "label": lab, "score": round(rng.random(), 2)})
    pred = pd.DataFrame(rows)
    s = threshold_sweep(truth, pred, by_class=True)
    assert s.kind == "classification"
    for t in (0.0, 0.3, 0.55, 0.9):
        per = s.at(t, by_class=True)
        for c in classes:
            y_true = (truth.set_index("image")["label"] == c).astype(int)
            got = pred[(pred["label"] == c) & (pred["score"] >= t)]["image"]
            y_pred = y_true.index.isin(got).astype(int)
            assert per.loc[c, "recall"] == pytest.approx(recall_score(y_true, y_pred))
            if y_pred.sum():
                assert per.loc[c, "precision"] == pytest.approx(precision_score(y_true, y_pred))


def test_sweep_queries_equal_direct_counts():
    rng = np.random.default_rng(1)
    n = 50_000
    scores = np.round(rng.random(n), 3)  # many ties
    tp = rng.random(n) < 0.3
    labels = rng.choice(["a", "b", "c"], n)
    s = Sweep.from_arrays(
        scores, tp=tp, n_pos=20_000, labels=labels, n_pos_by_label={"a": 7000, "b": 7000, "c": 6000}
    )
    for t in (-1, 0, 0.25, 0.5, 0.999, 1.0, 1.5):
        keep = scores >= t
        row = s.at(t)
        assert (row["tp"], row["fp"]) == (tp[keep].sum(), (~tp[keep]).sum())
        b = s.at(t, label="b")
        kb = keep & (labels == "b")
        assert (b["tp"], b["fp"], b["fn"]) == (tp[kb].sum(), (~tp[kb]).sum(), 7000 - tp[kb].sum())
    assert len(s.overall) == len(np.unique(scores))
