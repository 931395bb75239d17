"""Every widget in vislab.widgets keeps the widget contract (one parametrised test).

Widgets are discovered by scanning the package's modules for views (classes with a static
fallback), not listed by hand: a new widget with no example below makes
:func:`test_every_widget_has_an_example` fail.  For each one:

* it is a view of a pure-Python ``state`` whose module imports no ipywidgets (checked in a
  fresh interpreter), so it can be driven and tested without a browser or widget rendering;
* it carries a static fallback: a JPEG in its display data and from ``show_static()``, and a
  one-line text summary;
* ``to_frame()`` returns a DataFrame;
* it is driven from Python: set the value on the widget and read the metrics (they are the
  state's, which are :mod:`vislab.evaluate`'s); set it on the state and the widget follows.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import pkgutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import vislab.widgets
from tests.widgets.data import make_detections
from vislab.evaluate import (
    classification_report,
    confusion_matrix,
    retrieval_sweep,
    threshold_sweep,
)
from vislab.widgets._base import StaticFallback


def _discover() -> dict:
    found = {}
    for info in pkgutil.iter_modules(vislab.widgets.__path__):
        module = importlib.import_module(f"vislab.widgets.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, StaticFallback) and cls is not StaticFallback:
                found[name] = cls
    return found


WIDGETS = _discover()


# -- example widgets: (build, value name, values to set, check(widget, value)) --------------------
def _tuner():
    pred, truth = make_detections(12, seed=4)
    return vislab.widgets.ThresholdTuner(truth, pred, show_map=False)


def _check_tuner(w, t):
    want = threshold_sweep(w.state.truth, w.state.pred).at(t)
    got = w.metrics.loc["all", ["tp", "fp", "fn", "precision", "recall", "f1"]]
    np.testing.assert_array_equal(got.astype(float), want[got.index].astype(float))
    assert len(w.to_frame()) == int((w.state.pred["score"] >= t).sum())


def _cutoff():
    rng = np.random.default_rng(2)
    rows = [
        {"query": f"q{q}", "rank": r, "cont_sign": f"i{q}-{r}", "brief": "", "score": s}
        for q in range(5)
        for r, s in enumerate(sorted(rng.random(6), reverse=True), 1)
    ]
    matches = pd.DataFrame(rows)
    relevant = pd.DataFrame(
        {"query": [f"q{q}" for q in range(5)], "cont_sign": [f"i{q}-1" for q in range(5)]}
    )
    return vislab.widgets.SimilarityCutoff(relevant, matches, cutoff=0.5)


def _check_cutoff(w, c):
    want = retrieval_sweep(w.state.relevant, w.state.matches).at(c)
    for k in ("tp", "fp", "fn", "precision", "recall", "f1"):
        assert w.metrics.loc["all", k] == want[k]
    assert w.metrics.loc["all", "hits"] == want["n_pred"]


def _labels():
    truth = pd.DataFrame(
        {"image": list("abcdef"), "label": ["cat", "dog", "dog", "fox", "cat", "fox"]}
    )
    pred = pd.DataFrame(
        {
            "image": list("abcdef"),
            "rank": [1] * 6,
            "label": ["cat", "cat", "dog", "fox", "dog", "fox"],
            "score": [0.9, 0.6, 0.8, 0.7, 0.4, 0.95],
        }
    )
    return truth, pred


def _confusion():
    return vislab.widgets.ConfusionMatrixView(*_labels())


def _check_confusion(w, cell):
    truth, pred = _labels()
    pd.testing.assert_frame_equal(w.metrics, confusion_matrix(truth, pred))
    assert len(w.cell_images) == w.metrics.loc[cell[0], cell[1]]


def _report():
    return vislab.widgets.ReportView(*_labels())


def _check_report(w, sort_by):
    full = classification_report(*_labels())
    classes = w.metrics.index[:-3]
    assert list(w.metrics.loc[classes, sort_by]) == sorted(full.loc[classes, sort_by])
    pd.testing.assert_frame_equal(w.metrics.sort_index(), full.sort_index())


def _annotator():
    pictures = {f"p{i}": np.full((30, 40, 3), 40 * i, np.uint8) for i in range(3)}
    return vislab.widgets.BoxAnnotator(pictures, labels=["cat"])


def _check_annotator(w, index):
    assert w.current_image == f"p{index}"
    w.set_boxes([{"x": 1, "y": 2, "w": 5, "h": 6, "label": "cat"}])
    w.submit()
    assert w.metrics.loc["all", "done"] == len(w.to_frame()["image"].unique())


EXAMPLES = {
    "ThresholdTuner": (_tuner, "threshold", [0.3, 0.6123], _check_tuner),
    "SimilarityCutoff": (_cutoff, "cutoff", [0.25, 0.7777], _check_cutoff),
    "ConfusionMatrixView": (
        _confusion,
        "selected_cell",
        [("dog", "cat"), ("fox", "fox")],
        _check_confusion,
    ),  # fmt: skip
    "ReportView": (_report, "sort_by", ["recall", "precision"], _check_report),
    "BoxAnnotator": (_annotator, "index", [2, 1], _check_annotator),
}


def test_every_widget_has_an_example():
    assert WIDGETS, "no widget found in vislab.widgets"
    assert set(WIDGETS) == set(EXAMPLES), (
        f"every widget must be listed in EXAMPLES: missing {sorted(set(WIDGETS) - set(EXAMPLES))}"
        f", stale {sorted(set(EXAMPLES) - set(WIDGETS))}"
    )
    assert set(WIDGETS) <= set(vislab.widgets.__all__), "every widget is exported"


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_widget_contract(name):
    import ipywidgets

    build, attr, values, check = EXAMPLES[name]
    w = build()
    assert isinstance(w, WIDGETS[name]) and isinstance(w, ipywidgets.DOMWidget)
    # A view of a pure-Python state.
    state = w.state
    assert not isinstance(state, ipywidgets.Widget)
    module = type(state).__module__
    code = f"import sys, {module}\nassert 'ipywidgets' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
    # Static fallback: a JPEG picture and a one-line summary wherever widgets cannot show.
    bundle = w._repr_mimebundle_()
    assert base64.b64decode(bundle["image/jpeg"])[:2] == b"\xff\xd8"
    assert bundle["text/plain"] == w.summary() and "\n" not in w.summary()
    assert w.show_static().data[:2] == b"\xff\xd8"
    # A frame of the result.
    assert isinstance(w.to_frame(), pd.DataFrame)
    assert isinstance(w.metrics, pd.DataFrame)
    # Driven from Python: set the value on the widget, read the metrics ...
    setattr(w, attr, values[0])
    assert getattr(state, attr) == values[0]
    check(w, values[0])
    # ... or on the state: the widget follows.
    setattr(state, attr, values[1])
    assert getattr(w, attr) == values[1]
    check(w, values[1])
    assert w.summary() == state.summary()
