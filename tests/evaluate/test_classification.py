"""classification_report / confusion_matrix / top_k_accuracy equal scikit-learn's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from vislab.evaluate import (
    NO_PREDICTION,
    UnknownLabelWarning,
    classification_report,
    confusion_matrix,
    top_k_accuracy,
)
from vislab.frames import labels_frame

CLASSES = ["bird", "cat", "dog", "fox"]


def make(seed, n=80, missing=5):
    rng = np.random.default_rng(seed)
    truth = pd.DataFrame(
        {
            "image": [f"img{i:03d}.jpg" for i in range(n)],
            "label": rng.choice(CLASSES, n, p=[0.1, 0.4, 0.3, 0.2]),
        }
    )
    rows, scores = [], np.zeros((n, len(CLASSES)))
    for i, img in enumerate(truth["image"]):
        s = rng.dirichlet(np.ones(len(CLASSES)))
        s[CLASSES.index(truth["label"][i])] += rng.random() * 0.5
        s = s / s.sum()
        scores[i] = s
        if i < missing:  # failed calls
            rows.append({"image": img, "error_code": 216201, "error_msg": "image format error"})
            continue
        for r, k in enumerate(np.argsort(-s)[:3], start=1):
            rows.append({"image": img, "rank": r, "label": CLASSES[k], "score": float(s[k])})
    return truth, labels_frame(rows), scores


@pytest.mark.parametrize("seed", range(4))
def test_report_equals_sklearn(seed):
    truth, pred, _ = make(seed)
    got = classification_report(truth, pred)
    top1 = pred[pred["rank"] == 1].set_index("image")["label"]
    y_pred = top1.reindex(truth["image"]).fillna(NO_PREDICTION).to_numpy()
    expect = skm.classification_report(
        truth["label"], y_pred, labels=CLASSES, output_dict=True, zero_division=0.0
    )
    for key in CLASSES + ["micro avg", "macro avg", "weighted avg"]:
        e = expect[key]
        g = got.loc[key]
        assert g["precision"] == pytest.approx(e["precision"], abs=1e-15)
        assert g["recall"] == pytest.approx(e["recall"], abs=1e-15)
        assert g["f1"] == pytest.approx(e["f1-score"], abs=1e-15)
        assert g["support"] == e["support"]
    assert got.attrs["accuracy"] == pytest.approx(skm.accuracy_score(truth["label"], y_pred))


def test_report_without_failures_has_micro_equal_accuracy():
    truth, pred, _ = make(1, missing=0)
    got = classification_report(truth, pred)
    top1 = pred[pred["rank"] == 1].set_index("image")["label"].reindex(truth["image"])
    expect = skm.classification_report(truth["label"], top1, output_dict=True)
    assert got.loc["micro avg", "f1"] == pytest.approx(expect["accuracy"])
    assert got.loc["macro avg", "f1"] == pytest.approx(expect["macro avg"]["f1-score"])


def test_report_top_k_counts_a_hit_in_the_top_k():
    truth, pred, _ = make(2)
    r1 = classification_report(truth, pred)
    r3 = classification_report(truth, pred, top_k=3)
    assert r3.attrs["accuracy"] >= r1.attrs["accuracy"]
    assert r3.attrs["accuracy"] == pytest.approx(top_k_accuracy(truth, pred, k=3))


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_equals_sklearn(normalize):
    truth, pred, _ = make(3)
    got = confusion_matrix(truth, pred, normalize=normalize)
    top1 = pred[pred["rank"] == 1].set_index("image")["label"]
    y_pred = top1.reindex(truth["image"]).fillna(NO_PREDICTION).to_numpy()
    labels = CLASSES + [NO_PREDICTION]
    expect = skm.confusion_matrix(truth["label"], y_pred, labels=labels, normalize=normalize)
    assert list(got.columns) == labels and list(got.index) == CLASSES
    np.testing.assert_allclose(got.to_numpy(), expect[:-1], atol=1e-15)


def test_confusion_matrix_with_explicit_labels_and_mapping_truth():
    truth = {"a": "cat", "b": "dog"}
    pred = labels_frame(
        [
            {"image": "a", "rank": 1, "label": "cat", "score": 0.9},
            {"image": "b", "rank": 1, "label": "cat", "score": 0.8},
        ]
    )
    cm = confusion_matrix(truth, pred, labels=["dog", "cat"])
    assert cm.loc["dog", "cat"] == 1 and cm.loc["cat", "cat"] == 1
    assert list(cm.columns) == ["dog", "cat"]


def test_top_k_accuracy_equals_sklearn():
    truth, pred, scores = make(4, missing=0)
    for k in (1, 2, 3):
        expect = skm.top_k_accuracy_score(truth["label"], scores, k=k, labels=CLASSES)
        assert top_k_accuracy(truth, pred, k=k) == pytest.approx(expect)
    series = top_k_accuracy(truth, pred, k=[1, 3])
    assert list(series.index) == [1, 3]


def test_predictions_without_truth_are_left_out_with_a_warning():
    truth = {"a": "cat"}
    pred = labels_frame(
        [
            {"image": "a", "rank": 1, "label": "cat", "score": 0.9},
            {"image": "zzz", "rank": 1, "label": "dog", "score": 0.9},
        ]
    )
    with pytest.warns(UserWarning, match="no truth"), pytest.warns(UnknownLabelWarning):
        r = classification_report(truth, pred)
    assert r.loc["cat", "recall"] == 1.0
