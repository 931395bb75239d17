"""ConfusionMatrixView and ReportView: cells and rows are vislab.evaluate's numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from vislab.errors import InvalidFrame
from vislab.evaluate import classification_report, confusion_matrix
from vislab.widgets import ConfusionMatrixView, ReportView


@pytest.fixture
def labels(photo_files):
    truth = pd.DataFrame(
        {
            "image": photo_files + ["x1.jpg", "x2.jpg", "x3.jpg"],
            "label": ["cat", "cup", "person", "rocket", "cat", "cup", "cat"],
        }
    )
    pred = pd.DataFrame(
        {
            "image": photo_files + ["x1.jpg", "x2.jpg", "x2.jpg"],
            "rank": [1, 1, 1, 1, 1, 1, 2],
            "label": ["cat", "bowl", "person", "person", "dog", "cup", "cat"],
            "score": [0.9, 0.6, 0.8, 0.5, 0.7, 0.6, 0.2],
        }
    )
    return truth, pred  # x3.jpg has no prediction


def test_cells_and_images_match_confusion_matrix(labels, photo_files):
    truth, pred = labels
    view = ConfusionMatrixView(truth, pred)
    pd.testing.assert_frame_equal(view.matrix, confusion_matrix(truth, pred))
    assert "(no prediction)" in view.matrix.columns
    for t in view.counts.index:
        for p in view.counts.columns:
            view.selected_cell = (t, p)
            assert len(view.cell_images) == view.counts.loc[t, p]
    view.selected_cell = ("rocket", "person")
    assert view.cell_images == [photo_files[3]]
    assert "1</b> image(s)" in view._info.value
    view._buttons[("cat", "(no prediction)")].click()  # a click in the browser
    assert view.selected_cell == ("cat", "(no prediction)")
    assert view.cell_images == ["x3.jpg"]


def test_normalised_toggle(labels):
    truth, pred = labels
    view = ConfusionMatrixView(truth, pred)
    view._toggle.value = "true"
    assert view.normalize == "true"
    pd.testing.assert_frame_equal(view.matrix, confusion_matrix(truth, pred, normalize="true"))
    assert view._buttons[("cat", "cat")].description == "0.33"
    view.normalize = None
    assert view._buttons[("cat", "cat")].description == "1"


def test_starts_on_the_biggest_confusion_and_renders(labels):
    truth, pred = labels
    view = ConfusionMatrixView(truth, pred)
    assert view.selected_cell is not None and view.selected_cell[0] != view.selected_cell[1]
    assert view._grid_view.value[:2] == b"\xff\xd8"
    bundle = view._repr_mimebundle_()
    assert bundle["image/jpeg"].startswith("/9j/")
    assert bundle["text/plain"].startswith("ConfusionMatrixView(6 classes, 7 images")
    with pytest.raises(Exception, match="no cell"):
        view.selected_cell = ("cat", "giraffe")


def test_report_view_sorts_evaluate_report(labels):
    truth, pred = labels
    view = ReportView(truth, pred)
    full = classification_report(truth, pred)
    pd.testing.assert_frame_equal(view.report.sort_index(), full.sort_index())
    classes = view.report.index[:-3]
    assert list(view.report.loc[classes, "f1"]) == sorted(
        full.drop(index=["micro avg", "macro avg", "weighted avg"])["f1"]
    )
    view._sort.value = "support"
    view._order.value = "descending"
    assert view.report["support"].iloc[0] == full["support"].iloc[:-3].max()
    assert view.report.index[-1] == "weighted avg"
    assert "vislab-report-table" in view._table.value
    assert view.show_static().data[:2] == b"\xff\xd8"


def test_bad_input(labels):
    truth, pred = labels
    with pytest.raises(InvalidFrame, match="lacks column 'label'"):
        ConfusionMatrixView(truth.drop(columns="label"), pred)
    with pytest.raises(InvalidFrame, match="share no image"):
        ReportView(truth, pred.assign(image="z.jpg"))


def test_zero_predictions_still_render(labels):
    truth, pred = labels
    view = ConfusionMatrixView(truth, pred.iloc[0:0])
    assert "No predictions" in view._message.value
    assert view.show_static().data[:2] == b"\xff\xd8"
    report = ReportView(truth, pred.iloc[0:0])
    assert report.full.attrs["accuracy"] == 0.0
