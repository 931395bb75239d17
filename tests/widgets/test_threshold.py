"""ThresholdTuner driven from Python: its numbers are vislab.evaluate's numbers."""

from __future__ import annotations

import asyncio
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.widgets.data import make_detections
from vislab.errors import InvalidFrame
from vislab.evaluate import best_threshold, threshold_sweep
from vislab.widgets import ThresholdTuner

COLS = ["tp", "fp", "fn", "precision", "recall", "f1"]


@pytest.fixture(scope="module")
def data():
    return make_detections(30, seed=1)


@pytest.fixture(scope="module")
def sweep(data):
    pred, truth = data
    return threshold_sweep(truth, pred)


@pytest.fixture
def tuner(data):
    pred, truth = data
    return ThresholdTuner(truth, pred, threshold=0.5, show_map=False)


def test_metrics_equal_evaluate_at_every_threshold(tuner, sweep):
    for t in [0.0, 0.12, 0.5, 0.731, 0.95, 1.0]:
        tuner.threshold = t
        got = tuner.metrics.loc["all", COLS].astype(float)
        want = sweep.at(t)[COLS].astype(float)
        np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
        per_class = sweep.at(t, by_class=True)[COLS]
        pd.testing.assert_frame_equal(
            tuner.metrics.drop(index="all")[COLS], per_class, check_dtype=False
        )


def test_slider_and_threshold_stay_in_step(tuner, sweep):
    tuner._slider.value = 0.37  # what a drag in the browser does
    assert tuner.threshold == 0.37
    assert tuner.metrics.loc["all", "precision"] == sweep.at(0.37)["precision"]
    tuner.threshold = 0.61
    assert tuner._slider.value == 0.61
    html = tuner._table.value
    assert "data-threshold='0.61'" in html
    assert f'data-value="{float(sweep.at(0.61)["precision"])!r}"' in html


def test_rules_move_to_best_threshold(tuner, sweep):
    assert tuner.apply_rule("f1") == best_threshold(sweep, rule="f1")["threshold"]
    assert tuner.threshold == best_threshold(sweep, rule="f1")["threshold"]
    tuner._min_precision.value = 0.95
    tuner.children[0].children[2].click()  # the "precision >=" button
    assert tuner.threshold == best_threshold(sweep, rule="precision>=0.95")["threshold"]
    tuner._min_recall.value = 0.5
    tuner.children[0].children[4].click()  # the "recall >=" button
    assert tuner.threshold == best_threshold(sweep, rule="recall>=0.5")["threshold"]
    before = tuner.threshold
    assert tuner.apply_rule("precision>=1.01") is None  # impossible: says so, stays put
    assert tuner.threshold == before
    assert "No threshold reaches" in tuner._message.value


def test_default_threshold_is_best_f1(data, sweep):
    pred, truth = data
    tuner = ThresholdTuner(truth, pred, show_map=False)
    assert tuner.threshold == best_threshold(sweep, rule="f1")["threshold"]


def test_to_frame_keeps_predictions_above_threshold(tuner, data):
    pred, _ = data
    tuner.threshold = 0.55
    kept = tuner.to_frame()
    pd.testing.assert_frame_equal(kept, pred[pred["score"] >= 0.55])
    assert kept.attrs["threshold"] == 0.55


def test_grid_colours_agree_with_sweep_matches(tuner, sweep):
    tuner.threshold = 0.45
    keys = tuner.grid_images()
    assert len(keys) == 12
    m = sweep.matches_at(0.45, images=keys)
    for tile, key in zip(tuner._tiles(keys), keys, strict=True):
        rows = m[m["image"] == key]
        title = tile.title
        want = (
            f"{(rows['match'] == 'tp').sum()} TP · {(rows['match'] == 'fp').sum()} FP · "
            f"{(rows['match'] == 'fn').sum()} FN"
        )
        assert title.endswith(want), (key, title, want)
        assert len(tile.boxes) == len(rows)


def test_only_errors_and_paging(tuner, sweep):
    tuner.threshold = 0.45
    tuner.only_errors = True
    m = sweep.matches_at(0.45)
    bad = set(m.loc[m["match"].isin(["fp", "fn"]), "image"])
    shown = tuner.state.error_images(0.45)
    assert set(shown) == bad
    assert set(tuner.grid_images()) <= bad
    tuner.page = 1
    assert tuner.grid_images() == shown[12:24]
    assert "page 2" in tuner._page_label.value


def test_per_class_thresholds(data, sweep):
    pred, truth = data
    tuner = ThresholdTuner(truth, pred, per_class=True, show_map=False)
    # Each class starts at its own best F1.
    for lab in sweep.labels:
        assert tuner.thresholds[lab] == best_threshold(sweep, rule="f1", label=lab)["threshold"]
    tuner.set_class_threshold("cat", 0.8)
    tuner._class_sliders["dog"].value = 0.3  # a drag on the dog slider
    m = tuner.metrics
    assert m.loc["cat", "precision"] == sweep.at(0.8, label="cat")["precision"]
    assert m.loc["dog", "recall"] == sweep.at(0.3, label="dog")["recall"]
    assert m.loc["all", "tp"] == m.drop(index="all")["tp"].sum()
    assert m.loc["all", "fn"] == m.drop(index="all")["fn"].sum()
    kept = tuner.to_frame()
    want = pred[pred["score"] >= pred["label"].map(tuner.thresholds)]
    pd.testing.assert_frame_equal(kept, want)
    tuner.threshold = 0.5  # the "all classes" slider moves every class
    assert set(tuner.thresholds.values()) == {0.5}


def test_classification_one_vs_rest(photo_files):
    truth = pd.DataFrame({"image": photo_files, "label": ["cat", "cup", "person", "rocket"]})
    pred = pd.DataFrame(
        {
            "image": [photo_files[i] for i in (0, 0, 1, 2, 2, 3)],
            "rank": [1, 2, 1, 1, 2, 1],
            "label": ["cat", "dog", "bowl", "person", "cat", "rocket"],
            "score": [0.9, 0.3, 0.6, 0.8, 0.2, 0.4],
        }
    )
    tuner = ThresholdTuner(truth, pred, threshold=0.35)
    sweep = threshold_sweep(truth, pred)
    got = tuner.metrics.loc["all", COLS].astype(float).to_numpy()
    np.testing.assert_array_equal(got, sweep.at(0.35)[COLS].astype(float).to_numpy())
    assert tuner.kind == "classification" and tuner.map is None
    tile = tuner._tiles([photo_files[1]])[0]
    assert tile.pixels is not None  # real photo read from its path
    assert [text for text, _ in tile.notes] == ["bowl 0.60", "cup missed"]


def test_static_fallback_and_summary(tuner):
    bundle = tuner._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/jpeg"].startswith("/9j/")
    assert bundle["text/plain"].startswith("ThresholdTuner(threshold=0.500")
    assert tuner.show_static().data[:2] == b"\xff\xd8"


def test_map_shown_with_reason(data):
    pred, truth = data
    tuner = ThresholdTuner(truth, pred, threshold=0.5)
    assert 0 < tuner.map["AP50"] <= 1
    assert "does not depend on the threshold" in tuner._map.value


def test_missing_column_is_a_clear_error(data):
    pred, truth = data
    with pytest.raises(InvalidFrame, match="truth frame lacks column 'h'"):
        ThresholdTuner(truth.drop(columns="h"), pred)
    with pytest.raises(InvalidFrame, match="pred frame lacks column 'score'"):
        ThresholdTuner(truth, pred.drop(columns="score"))


def test_no_shared_image_is_a_clear_error(data):
    pred, truth = data
    with pytest.raises(InvalidFrame, match="share no image"):
        ThresholdTuner(truth, pred.assign(image="other/" + pred["image"]))


def test_zero_predictions_still_renders(data):
    pred, truth = data
    tuner = ThresholdTuner(truth, pred.iloc[0:0], show_map=False)
    assert "No predictions" in tuner._message.value
    assert tuner.metrics.loc["all", "fn"] == len(truth)
    assert tuner._grid_view.value[:2] == b"\xff\xd8"
    assert tuner.show_static().data[:2] == b"\xff\xd8"


def test_zero_truth_still_renders(data):
    pred, truth = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = ThresholdTuner(truth.iloc[0:0], pred, threshold=0.5)
    assert "No truth" in tuner._message.value
    assert tuner.metrics.loc["all", "tp"] == 0
    assert tuner.show_static().data[:2] == b"\xff\xd8"


def test_failed_images_are_reported():
    pred, truth = make_detections(6, seed=2)
    failed = pd.DataFrame({"image": ["img999.jpg"], "error_code": [216201], "error_msg": ["x"]})
    pred = pd.concat([pred.assign(error_code=None, error_msg=None), failed], ignore_index=True)
    tuner = ThresholdTuner(truth, pred, threshold=0.5, show_map=False)
    assert "1 image(s) failed" in tuner._message.value
    assert "img999.jpg" in tuner.to_frame()["image"].tolist()  # frames keep every image


def test_redraws_are_debounced_in_the_kernel_loop(data):
    pred, truth = data
    tuner = ThresholdTuner(truth, pred, threshold=0.5, show_map=False)
    draws = []
    original = tuner._draw_figures
    tuner._redraw.fn = lambda: (draws.append(tuner.threshold), original())

    async def drag():
        for t in np.linspace(0.2, 0.8, 25):  # a burst like a slider drag
            tuner.threshold = float(t)
            assert tuner.metrics.loc["all", "threshold"] == float(t)  # numbers follow at once
        assert tuner._redraw.pending
        await asyncio.sleep(tuner._redraw.delay + 0.1)

    asyncio.run(drag())
    assert draws == [0.8]  # one redraw, at the end of the burst


def test_redraw_errors_in_the_kernel_loop_are_shown(data):
    pred, truth = data
    tuner = ThresholdTuner(truth, pred, threshold=0.5, show_map=False)

    def broken():
        raise RuntimeError("no figure today")

    tuner._redraw.fn = broken

    async def move():
        tuner.threshold = 0.6
        await asyncio.sleep(tuner._redraw.delay + 0.1)

    asyncio.run(move())
    assert "no figure today" in tuner._message.value
    assert tuner.metrics.loc["all", "threshold"] == 0.6  # the numbers are still right


def test_per_class_curves_follow_the_class_choice(data, sweep):
    pred, truth = data
    tuner = ThresholdTuner(truth, pred, per_class=True, show_map=False)
    tuner._class_choice.value = "dog"
    fig = tuner._curve_fig
    assert fig._label == "dog"
    assert fig.td.vline_.get_xdata()[0] == tuner.thresholds["dog"]
    want = sweep.at(tuner.thresholds["dog"], label="dog")
    assert list(fig.pr.point_.get_xydata()[0]) == [want["recall"], want["precision"]]


def test_label_outcomes_and_sweep_share_one_rule_for_duplicate_labels():
    # A service that names one label twice for an image (two scores): the sweep counts the
    # (image, label) once, at its best score; the pictures must count it the same way.
    truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
    pred = pd.DataFrame(
        {
            "image": ["a", "a", "a", "b", "b"],
            "rank": [1, 2, 3, 1, 2],
            "label": ["dog", "dog", "cat", "dog", "dog"],
            "score": [0.9, 0.3, 0.2, 0.8, 0.4],
        }
    )
    tuner = ThresholdTuner(truth, pred, threshold=0.25)
    sweep = threshold_sweep(truth, pred)
    for t in (0.1, 0.25, 0.35, 0.85):
        tuner.threshold = t
        tiles = tuner._tiles(["a", "b"])
        shown_right = sum(c == "#2ca02c" for tile in tiles for _, c in tile.notes)
        shown_wrong = sum(c == "#d62728" for tile in tiles for _, c in tile.notes)
        want = sweep.at(t)
        assert (shown_right, shown_wrong) == (want["tp"], want["fp"]), t


def test_old_argument_order_is_refused(data):
    pred, truth = data
    with pytest.raises(InvalidFrame, match="look swapped"):
        ThresholdTuner(pred, truth, show_map=False)
    tuner = ThresholdTuner(pred=pred, truth=truth, threshold=0.5, show_map=False)  # keywords
    assert tuner.metrics.loc["all", "tp"] == threshold_sweep(truth, pred).at(0.5)["tp"]


def test_the_slider_echo_of_an_exact_threshold_does_not_round_it(data):
    # What the browser does when it first renders the slider: it snaps the value to the step
    # and sends it back.  The exact threshold (best F1, off the 0.01 grid) must survive.
    pred, truth = data
    tuner = ThresholdTuner(truth, pred, show_map=False)
    exact = tuner.threshold
    assert round(exact, 2) != exact
    tuner._slider.value = round(exact, 2)  # the echo
    assert tuner.threshold == exact
    assert tuner.to_frame().attrs["threshold"] == exact
    assert f"data-threshold='{exact!r}'" in tuner._table.value
    tuner._slider.value = round(exact, 2) + 0.01  # a person's step
    assert tuner.threshold == round(exact, 2) + 0.01


def test_per_class_slider_echoes_keep_exact_thresholds(data):
    pred, truth = data
    tuner = ThresholdTuner(truth, pred, per_class=True, show_map=False)
    exact = dict(tuner.thresholds)
    for lab, s in tuner._class_sliders.items():
        s.value = round(exact[lab], 2)
    assert tuner.thresholds == exact
