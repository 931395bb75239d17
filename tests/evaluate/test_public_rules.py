"""The rules widgets and plots read through public vislab.evaluate API, each checked directly.

Zero predictions, per-class thresholds combined into one row, per-image outcomes (one
one-vs-rest rule with the label sweep), hits kept per query (one relevance rule with the
retrieval sweep), AP read from a CocoResult, sweeps rebuilt from their frames.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.evaluate.test_coco_edges import random_case
from vislab.errors import InvalidParameter
from vislab.evaluate import (
    Hits,
    Sweep,
    UnknownLabelWarning,
    aligned_labels,
    apply_threshold,
    coco_eval,
    confusion_matrix,
    match_detections,
    retrieval_sweep,
    threshold_sweep,
)

THRESHOLDS = [-1.0, 0.0, 0.2, 0.35, 0.5, 0.8, 1.0, 2.0]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        yield


def all_failed(images):
    return pd.DataFrame(
        {"image": list(images), "error_code": [282000] * len(images), "error_msg": ["x"] * 2}
    )


# -- zero predictions ----------------------------------------------------------------------
def test_sweep_over_zero_predictions_detection_and_labels():
    _, truth = random_case(3)
    truth = truth[truth["iscrowd"] == 0]
    failed = all_failed(truth["image"].unique()[:2])  # no label / score / box columns at all
    for pred in (failed, failed.iloc[0:0]):
        s = threshold_sweep(truth, pred)
        assert s.kind == "detection" and s.n_pos == len(truth)
        assert s.at(0.5)[["tp", "fp", "fn", "precision"]].tolist() == [0, 0, len(truth), 1.0]
        assert (s.matches_at(0.5)["match"] == "fn").sum() == len(truth)
        assert s.outcomes.error_images(0.5) == list(pd.unique(truth["image"]))
        assert match_detections(truth, pred)["match"].eq("fn").all()
        assert coco_eval(truth, pred).stats["AP"] == 0.0
    s = threshold_sweep(truth, failed)
    assert s.meta["failed_images"] == list(failed["image"])
    labels_truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
    s = threshold_sweep(labels_truth, all_failed(["a", "b"]))
    assert s.kind == "classification"
    assert s.at(0.0)[["tp", "fn"]].tolist() == [0, 2]
    assert sorted(s.matches_at(0.0)["match"]) == ["fn", "fn"]


# -- per-class thresholds --------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_per_class_thresholds_combine_into_one_row_equal_to_matching_the_kept_boxes(seed):
    pred, truth = random_case(seed)
    sweep = threshold_sweep(truth, pred, iou=0.5)
    rng = np.random.default_rng(seed)
    for _ in range(4):
        thresholds = {lab: float(rng.choice(THRESHOLDS)) for lab in sweep.labels}
        row = sweep.at(thresholds)
        # Brute force: keep each class's boxes at its own threshold, match again.
        kept = apply_threshold(pred, thresholds)
        counts = match_detections(truth, kept)["match"].value_counts()
        assert (row["tp"], row["fp"], row["fn"]) == (
            counts.get("tp", 0),
            counts.get("fp", 0),
            counts.get("fn", 0),
        )
        assert np.isnan(row["threshold"])
        per = sweep.at(thresholds, by_class=True)
        assert per["tp"].sum() == row["tp"] and per["fn"].sum() == row["fn"]
        for lab, t in thresholds.items():
            assert per.loc[lab, "precision"] == sweep.at(t, label=lab)["precision"]
            assert sweep.at(thresholds, label=lab).equals(sweep.at(t, label=lab))
        # The fast array form is the same numbers.
        values = sweep.values_at(thresholds)
        np.testing.assert_array_equal(values[:-1], per.to_numpy(dtype=float))
        np.testing.assert_array_equal(values[-1], row.to_numpy(dtype=float))
    # One threshold for all is the overall curve.
    np.testing.assert_array_equal(sweep.values_at(0.5)[-1], sweep.at(0.5).to_numpy(dtype=float))


def test_per_class_thresholds_are_checked():
    pred, truth = random_case(1)
    sweep = threshold_sweep(truth, pred)
    with pytest.raises(InvalidParameter, match="does not have"):
        sweep.at({"giraffe": 0.5})
    with pytest.raises(InvalidParameter, match="with classes"):
        Sweep.from_arrays([0.5], tp=[True], n_pos=1).at({"cat": 0.5})
    # Classes not named keep nothing.
    lab = sweep.labels[0]
    assert sweep.at({lab: -1.0})["n_pred"] == sweep.at(-1.0, label=lab)["n_pred"]


# -- per-image outcomes ------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_detection_outcomes_equal_matching_above_each_threshold(seed):
    pred, truth = random_case(seed)
    sweep = threshold_sweep(truth, pred)
    outcomes = sweep.outcomes
    for t in THRESHOLDS:
        m = match_detections(truth, pred, score_threshold=t)
        m = m[m["match"] != "skipped"]
        at = outcomes.at(t)
        for image in set(m["image"]) | set(at["image"]):
            assert sorted(at.loc[at["image"] == image, "match"]) == sorted(
                m.loc[m["image"] == image, "match"]
            ), (t, image)
        assert outcomes.counts(t) == {k: int(sweep.at(t)[k]) for k in ("tp", "fp", "fn")}
        bad = set(m.loc[m["match"].isin(["fp", "fn"]), "image"])
        assert set(outcomes.error_images(t)) == bad


def duplicate_label_case():
    truth = pd.DataFrame({"image": ["a", "b", "c"], "label": ["cat", "dog", "cat"]})
    pred = pd.DataFrame(
        {
            "image": ["a", "a", "a", "b", "b", "c"],
            "rank": [1, 2, 3, 1, 2, 1],
            "label": ["dog", "dog", "cat", "dog", "dog", "fox"],
            "score": [0.9, 0.3, 0.2, 0.8, 0.4, 0.6],
        }
    )
    return truth, pred


def test_label_outcomes_follow_the_sweeps_one_vs_rest_rule_on_duplicate_labels():
    truth, pred = duplicate_label_case()
    sweep = threshold_sweep(truth, pred)
    outcomes = sweep.outcomes
    # "dog" named twice for "a" and for "b" is one prediction each, at its best score.
    assert len(outcomes.predictions) == 4
    for t in [0.0, 0.1, 0.25, 0.35, 0.5, 0.85, 1.0]:
        assert outcomes.counts(t) == {k: int(sweep.at(t)[k]) for k in ("tp", "fp", "fn")}, t
        m = sweep.matches_at(t)
        assert (m["match"] == "fp").sum() == sweep.at(t)["fp"]
    assert sweep.matches_at(0.5, images=["b"])[["label", "match"]].values.tolist() == [
        ["dog", "tp"]
    ]
    assert outcomes.error_images(0.5) == ["a", "c"]


def test_outcomes_with_per_class_thresholds():
    pred, truth = random_case(4)
    sweep = threshold_sweep(truth, pred)
    thresholds = {lab: t for lab, t in zip(sweep.labels, [0.2, 0.6, 0.9, 0.4], strict=False)}
    m = match_detections(truth, apply_threshold(pred, thresholds))
    at = sweep.outcomes.at(thresholds)
    assert sorted(at["match"]) == sorted(m.loc[m["match"] != "skipped", "match"])


# -- hits and the relevance rule ----------------------------------------------------------------
def test_one_relevance_rule_for_ids_of_any_type():
    matches = pd.DataFrame(
        {
            "query": ["q1", "q1", "q1", "q2", "q3"],
            "cont_sign": [7, 8, 7, 9, np.nan],  # item 7 twice for q1; q3 failed
            "score": [0.9, 0.8, 0.4, 0.7, np.nan],
            "error_code": [None, None, None, None, 282000],
        }
    )
    assert matches["cont_sign"].dtype == float  # what a failed row does to integer ids
    for relevant in (
        pd.DataFrame({"query": ["q1", "q2"], "cont_sign": [7, 9]}),
        pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["7", "9"]}),
    ):
        sweep = retrieval_sweep(relevant, matches)
        assert sweep.at(0.5)[["n_pred", "tp", "fp", "fn"]].tolist() == [3, 2, 1, 0]
        per_query = sweep.hits_at(0.5)
        assert per_query.to_dict("list") == {
            "query": ["q1", "q2", "q3"],
            "hits": [2, 1, 0],
            "relevant_kept": [1, 1, 0],
            "relevant": [1, 1, 0],
        }
        assert per_query["relevant_kept"].sum() == sweep.at(0.5)["tp"]
        assert sweep.meta["failed_queries"] == ["q3"]


def test_hits_at_every_cutoff_equal_brute_force_and_the_sweep():
    rng = np.random.default_rng(5)
    rows = []
    for q in range(20):
        for r, item in enumerate(rng.choice(30, 8, replace=False), 1):
            rows.append({"query": q, "rank": r, "cont_sign": int(item), "score": rng.random()})
    matches = pd.DataFrame(rows)
    relevant = pd.DataFrame(
        {"query": rng.integers(0, 22, 60), "cont_sign": rng.integers(0, 30, 60).astype(str)}
    ).drop_duplicates()
    sweep = retrieval_sweep(relevant, matches)
    pairs = {(str(q), str(i)) for q, i in relevant.itertuples(index=False)}
    for c in (0.0, 0.25, 0.5, 0.9, 1.1):
        per_query = sweep.hits_at(c).set_index("query")
        kept = matches[matches["score"] >= c]
        for q in range(20):
            mine = kept[kept["query"] == q]
            rel = sum((str(q), str(i)) in pairs for i in mine["cont_sign"])
            assert per_query.loc[q, "hits"] == len(mine)
            assert per_query.loc[q, "relevant_kept"] == rel
        assert per_query["relevant_kept"].sum() == sweep.at(c)["tp"]
        assert per_query["hits"].sum() == sweep.at(c)["n_pred"]
    assert set(sweep.hits.queries) >= set(range(20))
    without = Hits.from_matches(matches)
    assert "relevant_kept" not in without.at(0.5).columns
    assert without.at(0.5)["hits"].sum() == (matches["score"] >= 0.5).sum()


# -- AP from a CocoResult -----------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
def test_average_precision_reads_the_summary_numbers(seed):
    pred, truth = random_case(seed, many=True)
    r = coco_eval(truth, pred)
    assert r.average_precision() == r.stats["AP"]
    assert r.average_precision(iou=0.5) == r.stats["AP50"]
    assert r.average_precision(iou=0.75) == r.stats["AP75"]
    small = r.average_precision(area="small")
    assert small == r.stats["APs"] or (np.isnan(small) and r.stats["APs"] == -1)
    for label, row in r.per_class.iterrows():
        got = r.average_precision(label=label)
        assert got == row["AP"] or (np.isnan(got) and np.isnan(row["AP"]))
        got50 = r.average_precision(label=label, iou=0.5)
        assert got50 == row["AP50"] or (np.isnan(got50) and np.isnan(row["AP50"]))
    with pytest.raises(KeyError, match="not evaluated"):
        r.average_precision(iou=0.42)


# -- sweeps rebuilt from frames -------------------------------------------------------------------
def test_sweep_from_frame_answers_like_the_sweep():
    pred, truth = random_case(2)
    sweep = threshold_sweep(truth, pred, by_class=True)
    again = Sweep.from_frame(sweep.overall)
    per = Sweep.from_frame(sweep.per_class)
    for t in THRESHOLDS + [0.123, 0.777]:
        assert again.at(t).equals(sweep.at(t))
        assert per.at(t)[["tp", "fp", "fn"]].equals(sweep.at(t)[["tp", "fp", "fn"]])
        for lab in sweep.labels:
            assert per.at(t, label=lab).equals(sweep.at(t, label=lab))


# -- labels of classification ---------------------------------------------------------------------
def test_aligned_labels_are_what_the_confusion_matrix_counts():
    truth = pd.DataFrame({"image": list("abcde"), "label": ["cat", "dog", "dog", "fox", "cat"]})
    pred = pd.DataFrame(
        {
            "image": ["a", "b", "c", "c", "e"],
            "rank": [1, 1, 1, 2, 1],
            "label": ["cat", "cat", "fox", "dog", "dog"],
            "score": [0.9, 0.6, 0.7, 0.2, 0.5],
        }
    )
    pairs = aligned_labels(truth, pred)
    assert pairs["image"].tolist() == list("abcde")
    counted = pairs.groupby(["true", "predicted"]).size()
    cm = confusion_matrix(truth, pred)
    for (t, p), n in counted.items():
        assert cm.loc[t, p] == n
    assert cm.to_numpy().sum() == len(pairs)
    assert aligned_labels(truth, pred, top_k=2).loc[2, "predicted"] == "dog"
