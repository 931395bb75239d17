"""The pictures the widgets draw keep every word readable: nothing clipped at an edge."""

from __future__ import annotations

import numpy as np

from tests.widgets.test_similarity import search_results
from vislab.widgets import SimilarityCutoff, ThresholdTuner
from vislab.widgets._pillow_grid import PillowGrid
from vislab.widgets._static import ImageGrid, Tile, new_figure, table_text


def _inside(inner, outer, tol=1.0) -> bool:
    return (
        inner.x0 >= outer.x0 - tol
        and inner.x1 <= outer.x1 + tol
        and inner.y0 >= outer.y0 - tol
        and inner.y1 <= outer.y1 + tol
    )


def _assert_cells_hold_their_text(fig):
    fig.set_dpi(150)  # sharper than the notebook's 72 dpi: a clipped letter shows here
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tables = [t for ax in fig.get_axes() for t in ax.tables]
    assert tables
    for table in tables:
        for (r, c), cell in table.get_celld().items():
            text = cell.get_text()
            inner, outer = text.get_window_extent(renderer), cell.get_window_extent(renderer)
            assert _inside(inner, outer, tol=-1.0), (r, c, text.get_text())  # 1 px margin


def test_static_table_cells_hold_their_text():
    fig = new_figure((4, 2))
    ax = fig.add_subplot()
    rows = [["person", "0.540", "8"], ["rocket", "0.540", "14"], ["all", "0.540", "72"]]
    table_text(ax, rows, header=["", "t", "tp"], title="at the operating point")
    _assert_cells_hold_their_text(fig)


def test_tuner_static_table_shows_whole_class_names():
    from vislab.datasets.samples import sample_detections

    s = sample_detections(8, seed=4)  # classes person, cat, cup, rocket, coin
    tuner = ThresholdTuner(s.truth, s.pred, images=s.images, threshold=0.5, show_map=False)
    _assert_cells_hold_their_text(tuner.static_figure())


def _caption_tile(size=(200, 150)):
    w, h = size
    # SimilarityCutoff's thumbnails: a frame along the picture's edge, its name on top.
    return Tile(
        title="query → 0.912",
        pixels=np.full((h, w, 3), 90, np.uint8),
        size=size,
        boxes=np.array([[1, 1, w - 2, h - 2], [w - 30, 60, 28, 20]]),
        colors=["#2ca02c", "#d62728"],
        labels=["gallery_picture_name.jpg", "a long caption at the right"],
    )


def test_matplotlib_grid_keeps_captions_inside_the_picture():
    grid = ImageGrid(n=2, ncols=2)
    grid.draw([_caption_tile(), _caption_tile((150, 200))])
    grid.figure.canvas.draw()
    renderer = grid.figure.canvas.get_renderer()
    for ax, texts in zip(grid.axes, grid._labels, strict=True):
        picture = ax.get_images()[0].get_window_extent(renderer)
        shown = [t for t in texts if t.get_visible()]
        assert len(shown) == 2
        for text in shown:
            assert _inside(text.get_bbox_patch().get_window_extent(renderer), picture), (
                text.get_text()
            )


def test_pillow_grid_keeps_captions_inside_the_picture():
    grid = PillowGrid(n=2, ncols=2, cell_inches=(1.9, 1.9))
    grid.draw([_caption_tile(), _caption_tile((150, 200))])
    for placed in grid.placed:
        px, py, pw, ph = placed["picture"]
        assert len(placed["captions"]) == 2
        for x0, y0, x1, y1 in placed["captions"]:
            assert px - 1 <= x0 and x1 <= px + pw + 1 and py - 1 <= y0 and y1 <= py + ph + 1


def test_similarity_cutoff_right_axis_is_not_clipped():
    matches, relevant = search_results()
    view = SimilarityCutoff(relevant, matches, cutoff=0.5)
    view.flush()
    for fig in (view._figure.figure, view.static_figure()):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        axes = [a for a in fig.get_axes() if a.get_ylabel() == "hits returned"]
        assert len(axes) == 1, "the hits-returned axis is drawn"
        ax = axes[0]
        lo, hi = sorted(ax.get_ylim())
        drawn = [t for t in ax.get_yticklabels() if lo <= t.get_position()[1] <= hi]
        assert drawn
        for label in drawn + [ax.yaxis.label]:
            if label.get_visible() and label.get_text():
                assert _inside(label.get_window_extent(renderer), fig.bbox), label.get_text()


def test_threshold_static_figure_keeps_its_annotation_in_the_figure(photo_files):
    from tests.widgets.data import make_detections

    pred, truth = make_detections(12, seed=1)
    tuner = ThresholdTuner(truth, pred, threshold=0.97, show_map=False)
    fig = tuner.static_figure()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    notes = [t for ax in fig.get_axes() for t in ax.texts if t.get_text().startswith(("t=", " t="))]
    assert notes
    for t in notes:
        assert _inside(t.get_window_extent(renderer), fig.bbox), t.get_text()


def test_static_titles_do_not_overlap():
    matches, relevant = search_results()
    fig = SimilarityCutoff(relevant, matches, cutoff=0.5).static_figure()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    heads = [sf._suptitle for sf in fig.subfigs if sf._suptitle is not None]
    titles = [ax.title for ax in fig.get_axes() if ax.get_title()]
    assert heads and titles
    for head in heads:
        for title in titles:
            a, b = head.get_window_extent(renderer), title.get_window_extent(renderer)
            assert not a.overlaps(b), (head.get_text(), title.get_text())


def test_confusion_static_figure_texts_do_not_overlap():
    from vislab.widgets import ConfusionMatrixView

    truth = {f"i{k}": lab for k, lab in enumerate(["person", "rocket", "cat"] * 4)}
    pred = {"image": list(truth), "rank": 1, "label": ["rocket", "rocket", "cat"] * 4}
    import pandas as pd

    view = ConfusionMatrixView(truth, pd.DataFrame(pred))
    fig = view.static_figure()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.get_axes()[0]
    words = [ax.xaxis.label, *ax.get_xticklabels()]
    heads = [sf._suptitle for sf in fig.subfigs if sf._suptitle is not None]
    assert heads
    for head in heads:
        for word in words:
            a, b = head.get_window_extent(renderer), word.get_window_extent(renderer)
            assert not a.overlaps(b), (head.get_text(), word.get_text())
