"""Displays in scikit-learn's style: build, plot(ax=) returns self, fitted artists end in _."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from vislab.datasets import sample_detections  # noqa: E402
from vislab.evaluate import (  # noqa: E402
    coco_eval,
    match_detections,
    retrieval_sweep,
    threshold_sweep,
)
from vislab.frames import labels_frame, matches_frame  # noqa: E402
from vislab.plot import (  # noqa: E402
    MATCH_COLORS,
    ConfusionMatrixDisplay,
    CutoffDisplay,
    PrecisionRecallDisplay,
    ThresholdDisplay,
    draw_boxes,
)


@pytest.fixture(scope="module")
def sample():
    return sample_detections(8, seed=3)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_draw_boxes_colours_outcomes_on_a_real_image(sample):
    m = match_detections(sample.truth, sample.pred)
    image = next(iter(sample.images))
    rows = m[m["image"] == image]
    fig, ax = plt.subplots()
    patches = draw_boxes(ax, sample.images[image], rows, legend=True, title=image)
    assert len(patches) == len(rows)
    for patch, outcome in zip(patches, rows["match"], strict=True):
        assert patch.get_edgecolor()[:3] == pytest.approx(
            matplotlib.colors.to_rgb(MATCH_COLORS[outcome][0])
        )
    assert ax.get_images()[0].get_array().shape == sample.images[image].shape
    fig.canvas.draw()


def test_draw_boxes_by_label_without_image():
    boxes = pd.DataFrame(
        {
            "x": [0, 50],
            "y": [0, 10],
            "w": [20, 20],
            "h": [20, 30],
            "label": ["cat", "dog"],
            "score": [0.9, 0.4],
        }
    )
    fig, ax = plt.subplots()
    patches = draw_boxes(ax, None, boxes, color_by="label", legend=True)
    assert patches[0].get_edgecolor() != patches[1].get_edgecolor()
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # image convention: y grows downwards
    with pytest.raises(ValueError, match="match"):
        draw_boxes(ax, None, boxes, color_by="match")


def test_confusion_matrix_display():
    truth = {"a": "cat", "b": "dog", "c": "dog", "d": "fox"}
    pred = labels_frame(
        [
            {"image": i, "rank": 1, "label": lab, "score": 0.9}
            for i, lab in zip("abc", ["cat", "cat", "dog"], strict=True)
        ]
    )
    fig, ax = plt.subplots()
    disp = ConfusionMatrixDisplay.from_predictions(truth, pred, ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.im_.get_array().shape == (3, 4)  # + "(no prediction)" column
    assert disp.text_[2, 3].get_text() == "1"
    again = disp.plot(ax=ax, colorbar=False, include_values=False)
    assert again is disp and disp.text_ is None


def test_precision_recall_display_from_sweep_and_coco(sample):
    sweep = threshold_sweep(sample.truth, sample.pred)
    fig, ax = plt.subplots()
    disp = PrecisionRecallDisplay.from_sweep(sweep, threshold=0.5, ax=ax, name="sample")
    assert disp.ax_ is ax
    r = sweep.at(0.5)
    assert disp.point_.get_xydata().tolist() == [[r["recall"], r["precision"]]]
    np.testing.assert_array_equal(disp.line_.get_xdata(), sweep.overall["recall"])
    coco = coco_eval(sample.truth, sample.pred)
    d2 = PrecisionRecallDisplay.from_coco(coco, iou=0.5, ax=ax)
    assert d2.average_precision == pytest.approx(coco.stats["AP50"])
    label = sweep.labels[0]
    d3 = PrecisionRecallDisplay.from_sweep(sweep, label=label)
    assert label in d3.line_.get_label()
    fig.canvas.draw()


def test_threshold_display(sample):
    sweep = threshold_sweep(sample.truth, sample.pred)
    disp = ThresholdDisplay.from_sweep(sweep, rule="f1")
    assert set(disp.lines_) == {"precision", "recall", "f1"}
    assert disp.vline_.get_xdata()[0] == pytest.approx(disp.threshold)
    assert "F=" in disp.text_.get_text()
    fig, ax = plt.subplots()
    assert disp.plot(ax=ax) is disp and disp.ax_ is ax


def test_cutoff_display():
    matches = matches_frame(
        [
            {"query": "q", "rank": r, "cont_sign": str(r), "brief": "", "score": s, "tags": []}
            for r, s in enumerate([0.95, 0.9, 0.7, 0.5, 0.2], start=1)
        ]
    )
    relevant = pd.DataFrame({"query": ["q", "q", "q"], "cont_sign": ["1", "3", "9"]})
    sweep = retrieval_sweep(relevant, matches)
    disp = CutoffDisplay.from_sweep(sweep, rule="f1")
    assert disp.cutoff == pytest.approx(0.7)
    assert disp.count_line_.get_ydata().max() == 5
    assert disp.ax_count_ is not disp.ax_
    disp.figure_.canvas.draw()


def _inside(inner, outer, tol=1.0) -> bool:
    return (
        inner.x0 >= outer.x0 - tol
        and inner.x1 <= outer.x1 + tol
        and inner.y0 >= outer.y0 - tol
        and inner.y1 <= outer.y1 + tol
    )


def test_draw_boxes_keeps_labels_inside_the_image_at_the_edges():
    image = np.zeros((120, 200, 3), np.uint8)
    boxes = pd.DataFrame(
        {
            "x": [10, 150, 60, 185],
            "y": [0, 1, 50, 0],  # two boxes touch the top edge, one the right edge too
            "w": [40, 45, 30, 15],
            "h": [30, 30, 30, 20],
            "label": ["person", "rocket", "cat", "cup"],
            "score": [0.91, 0.88, 0.75, 0.6],
        }
    )
    fig, ax = plt.subplots(figsize=(5, 3))
    draw_boxes(ax, image, boxes, fontsize=9)
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    picture = ax.get_images()[0].get_window_extent(renderer)
    assert len(ax.texts) == 4
    for text in ax.texts:
        assert _inside(text.get_bbox_patch().get_window_extent(renderer), picture), text.get_text()
    # A box with room above keeps its label above it.
    cat = next(t for t in ax.texts if t.get_text().startswith("cat"))
    assert cat.get_va() == "bottom"


@pytest.mark.parametrize("where", [0.02, 0.5, 0.97])
def test_threshold_annotation_stays_in_the_figure(sample, where):
    sweep = threshold_sweep(sample.truth, sample.pred)
    fig, ax = plt.subplots(figsize=(5, 3))
    disp = ThresholdDisplay.from_sweep(sweep, ax=ax)
    lo, hi = ax.get_xlim()
    disp.set_threshold(lo + where * (hi - lo))
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = disp.text_.get_window_extent(renderer)
    assert _inside(box, fig.bbox), (where, box, fig.bbox)
    axes = ax.get_window_extent(renderer)
    assert box.x0 >= axes.x0 - 1 and box.x1 <= axes.x1 + 1  # over its own plot


def test_moving_the_operating_point_updates_its_legend_entry(sample):
    sweep = threshold_sweep(sample.truth, sample.pred)
    disp = PrecisionRecallDisplay.from_sweep(sweep, threshold=0.3)
    disp.set_threshold(0.7)
    want = sweep.at(0.7)
    texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert f"threshold 0.70: P={want['precision']:.2f}, R={want['recall']:.2f}" in texts
    assert not any(t.startswith("threshold 0.30") for t in texts)
