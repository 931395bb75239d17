"""map_labels: a service's labels read as your own categories, without losing an image."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vislab.errors import InvalidParameter
from vislab.evaluate import (
    NO_PREDICTION,
    OTHER,
    classification_report,
    confusion_matrix,
    map_labels,
    top_k_accuracy,
)


@pytest.fixture
def pred():
    # What a general recognition service answers (ImageNet names, with their coarse root).
    return pd.DataFrame(
        {
            "image": ["cat.jpg"] * 3 + ["cup.jpg"] * 2 + ["man.jpg"] * 2 + ["bad.jpg"],
            "rank": [1, 2, 3, 1, 2, 1, 2, None],
            "label": ["tiger cat", "tabby cat", "lynx", "espresso", "coffee mug", "tripod",
                      "reflex camera", None],
            "score": [0.40, 0.35, 0.05, 0.90, 0.04, 0.80, 0.10, None],
            "root": ["animal-cat"] * 3 + ["food-drink", "container", "device", "device", None],
            "error_code": [None] * 7 + [216201],
            "error_msg": [None] * 7 + ["image format error"],
        }
    )  # fmt: skip


MAPPING = {"tiger cat": "cat", "tabby cat": "cat", "lynx": "cat", "espresso": "coffee",
           "coffee mug": "coffee"}  # fmt: skip


def test_labels_become_categories_ranked_by_score(pred):
    out = map_labels(pred, MAPPING)
    rows = out[out["label"].notna()]
    assert rows[["image", "rank", "label", "service_label"]].values.tolist() == [
        ["cat.jpg", 1, "cat", "tiger cat"],
        ["cup.jpg", 1, "coffee", "espresso"],
        ["man.jpg", 1, OTHER, "tripod"],  # none of your categories, at its own rank
    ]
    assert rows["score"].tolist() == [0.40, 0.90, 0.80]  # combine="max": the best label
    # Nothing is lost: the failed image keeps its error row.
    assert out["image"].tolist() == ["cat.jpg", "cup.jpg", "man.jpg", "bad.jpg"]
    assert out.loc[out["image"] == "bad.jpg", "error_code"].tolist() == [216201]


def test_unknown_labels_keep_their_place_in_the_ranking():
    # The service's best label means nothing to you: the photo is answered "(other)", and
    # the mapped label it also named comes second — not promoted to first.
    pred = pd.DataFrame(
        {
            "image": ["r.jpg"] * 3,
            "rank": [1, 2, 3],
            "label": ["drilling rig", "crane", "missile"],
            "score": [0.6, 0.2, 0.1],
        }
    )
    out = map_labels(pred, {"missile": "rocket"})
    assert out[["rank", "label", "service_label"]].values.tolist() == [
        [1, OTHER, "drilling rig"],
        [2, "rocket", "missile"],
    ]
    truth = pd.DataFrame({"image": ["r.jpg"], "label": ["rocket"]})
    assert top_k_accuracy(truth, out, k=[1, 2]).tolist() == [0.0, 1.0]
    # default=None drops unknown labels instead: lower ones move up.
    assert map_labels(pred, {"missile": "rocket"}, default=None)["label"].tolist() == ["rocket"]


def test_unmapped_images_keep_an_empty_row_with_default_none(pred):
    out = map_labels(pred, MAPPING, default=None)
    assert out["image"].tolist() == ["cat.jpg", "cup.jpg", "man.jpg", "bad.jpg"]
    man = out[out["image"] == "man.jpg"].iloc[0]
    assert pd.isna(man["label"]) and pd.isna(man["error_code"])


def test_sum_adds_the_scores_of_one_category(pred):
    out = map_labels(pred, MAPPING, combine="sum")
    assert out.loc[out["label"] == "cat", "score"].iloc[0] == pytest.approx(0.80)
    assert out.loc[out["label"] == "coffee", "score"].iloc[0] == pytest.approx(0.94)


def test_default_can_be_a_category_of_your_own(pred):
    out = map_labels(pred, MAPPING, default="other")
    man = out[out["image"] == "man.jpg"]
    assert man[["rank", "label", "service_label"]].values.tolist() == [[1, "other", "tripod"]]


def test_a_function_and_another_column_map_too(pred):
    out = map_labels(pred, lambda root: root.split("-")[-1] if "-" in root else None, column="root")
    assert out.loc[out["image"] == "cat.jpg", "label"].tolist() == ["cat"]
    assert out.loc[out["image"] == "cup.jpg", "label"].tolist() == ["drink", OTHER]
    assert out.attrs["mapped_from"] == "root"


def test_metrics_count_other_and_no_prediction_as_wrong_never_as_classes(pred):
    truth = pd.DataFrame(
        {
            "image": ["cat.jpg", "cup.jpg", "man.jpg", "bad.jpg"],
            "label": ["cat", "coffee", "person", "cat"],
        }
    )
    out = map_labels(pred, MAPPING)
    cm = confusion_matrix(truth, out)
    assert cm.loc["cat", "cat"] == 1 and cm.loc["coffee", "coffee"] == 1
    assert cm.loc["person", OTHER] == 1 and cm.loc["cat", NO_PREDICTION] == 1
    assert OTHER not in cm.index and NO_PREDICTION not in cm.index  # columns, not classes
    assert list(cm.columns[-2:]) == [OTHER, NO_PREDICTION]
    report = classification_report(truth, out)
    assert OTHER not in report.index
    assert report.attrs["accuracy"] == 0.5
    assert report.loc["person", "recall"] == 0.0


def test_bad_arguments_are_typed_errors(pred):
    with pytest.raises(InvalidParameter, match="dict .* or a function"):
        map_labels(pred, ["cat"])
    with pytest.raises(InvalidParameter, match="combine"):
        map_labels(pred, MAPPING, combine="mean")


def test_ranks_only_frames_keep_the_best_rank():
    pred = pd.DataFrame({"image": ["a", "a"], "rank": [2, 1], "label": ["tabby cat", "tiger cat"]})
    out = map_labels(pred, MAPPING)
    assert out[["rank", "label", "service_label"]].values.tolist() == [[1, "cat", "tiger cat"]]
    assert np.isnan(out["score"].iloc[0])
