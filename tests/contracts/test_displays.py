"""Every Display in vislab.plot keeps scikit-learn's Display contract (one parametrised test).

Displays are discovered from the module, not listed by hand: a new ``...Display`` class with
no example below makes :func:`test_every_display_has_an_example` fail, so it cannot escape the
contract.  For each one and each of its ``from_*`` constructors:

* ``from_*`` called on a subclass returns that subclass;
* ``plot(ax=...)`` returns ``self`` and draws on that axes (``ax_``, ``figure_``);
* what was drawn lives in attributes ending with ``_`` (artists, or ``None`` / a dict / an
  array of artists), and no other public attribute holds an artist;
* the operating point is movable: ``set_operating_point(value)`` returns ``self`` and moves
  the fitted marker artist to exactly the numbers :mod:`vislab.evaluate` gives there.
"""

from __future__ import annotations

import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.colorbar import Colorbar  # noqa: E402
from matplotlib.figure import FigureBase  # noqa: E402

import vislab.plot  # noqa: E402
from vislab.datasets import sample_detections  # noqa: E402
from vislab.evaluate import coco_eval, retrieval_sweep, threshold_sweep  # noqa: E402

DISPLAYS = {
    name: cls
    for name, cls in inspect.getmembers(vislab.plot, inspect.isclass)
    if name.endswith("Display") and cls.__module__.startswith("vislab.plot")
}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# -- example inputs ------------------------------------------------------------------------------
def _detections():
    s = sample_detections(6, seed=5)
    return s.truth, s.pred


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


def _search():
    matches = pd.DataFrame(
        {
            "query": ["q1"] * 4 + ["q2"] * 3,
            "rank": [1, 2, 3, 4, 1, 2, 3],
            "cont_sign": ["a", "b", "c", "d", "e", "f", "g"],
            "brief": [""] * 7,
            "score": [0.95, 0.8, 0.6, 0.3, 0.9, 0.5, 0.2],
            "tags": [[]] * 7,
        }
    )
    relevant = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "c", "f"]})
    return relevant, matches


def _check_pr(disp, t):
    want = disp.sweep.at(t, label=disp.label)
    assert disp.point_.get_xydata().tolist() == [[want["recall"], want["precision"]]]
    assert disp.operating_point[2] == t


def _check_threshold(disp, t):
    want = disp.sweep.at(t, label=disp.label)
    assert list(disp.vline_.get_xdata()) == [t, t]
    assert f"P={want['precision']:.2f}" in disp.text_.get_text()
    assert f"R={want['recall']:.2f}" in disp.text_.get_text()


def _check_cutoff(disp, c):
    assert list(disp.vline_.get_xdata()) == [c, c]


def _check_cell(disp, cell):
    i = list(disp.display_labels).index(cell[0])
    j = list(disp.predicted_labels).index(cell[1])
    assert disp.highlight_.get_xy() == (j - 0.5, i - 0.5) and disp.highlight_.get_visible()


EXAMPLES = {
    "ConfusionMatrixDisplay": {
        "from": {"from_predictions": lambda: (_labels(), {})},
        "operating": [("dog", "cat"), ("fox", "fox")],
        "check": _check_cell,
    },
    "PrecisionRecallDisplay": {
        "from": {
            "from_sweep": lambda: ((threshold_sweep(*_detections()),), {"threshold": 0.5}),
            "from_predictions": lambda: (_labels(), {}),
            "from_coco": lambda: ((coco_eval(*_detections()),), {}),
        },
        "operating": [0.35, 0.81],
        "check": _check_pr,
    },
    "ThresholdDisplay": {
        "from": {
            "from_sweep": lambda: ((threshold_sweep(*_detections()),), {"rule": "f1"}),
            "from_predictions": lambda: (_labels(), {}),
        },
        "operating": [0.35, 0.81],
        "check": _check_threshold,
    },
    "CutoffDisplay": {
        "from": {
            "from_sweep": lambda: ((retrieval_sweep(*_search()),), {"rule": "f1"}),
            "from_predictions": lambda: (_search(), {}),
        },
        "operating": [0.55, 0.85],
        "check": _check_cutoff,
    },
}


def test_every_display_has_an_example():
    assert DISPLAYS, "no Display found in vislab.plot"
    assert set(DISPLAYS) == set(EXAMPLES), (
        "every Display in vislab.plot must be listed in EXAMPLES (and every example must "
        f"exist): missing {sorted(set(DISPLAYS) - set(EXAMPLES))}, "
        f"stale {sorted(set(EXAMPLES) - set(DISPLAYS))}"
    )


def _is_fitted_value(value) -> bool:
    if value is None or isinstance(value, (Artist, FigureBase, Colorbar)):
        return True
    if isinstance(value, dict):
        return all(_is_fitted_value(v) for v in value.values())
    if isinstance(value, np.ndarray) and value.dtype == object:
        return all(_is_fitted_value(v) for v in value.ravel())
    return False


def _has_artist(value) -> bool:
    if isinstance(value, (Artist, FigureBase)):
        return True
    if isinstance(value, dict):
        return any(_has_artist(v) for v in value.values())
    return False


def _constructors(name):
    cls = DISPLAYS[name]
    return [m for m, _ in inspect.getmembers(cls) if m.startswith("from_")]


def test_every_constructor_has_an_example():
    for name in DISPLAYS:
        assert set(_constructors(name)) == set(EXAMPLES[name]["from"]), name


CASES = [(name, m) for name in sorted(DISPLAYS) for m in _constructors(name)]


@pytest.mark.parametrize(("name", "constructor"), CASES)
def test_display_contract(name, constructor):
    cls = DISPLAYS[name]
    sub = type(f"My{name}", (cls,), {})
    args, kwargs = EXAMPLES[name]["from"][constructor]()
    fig, ax = plt.subplots()
    disp = getattr(sub, constructor)(*args, ax=ax, **kwargs)
    # from_* returns the subclass it was called on.
    assert type(disp) is sub
    # It drew on the axes it was given.
    assert disp.ax_ is ax and disp.figure_ is fig
    # Fitted artists end with "_"; no other public attribute holds one.
    fitted = {k: v for k, v in vars(disp).items() if k.endswith("_") and not k.startswith("_")}
    assert {"ax_", "figure_"} <= set(fitted)
    for key, value in fitted.items():
        assert _is_fitted_value(value), f"{name}.{key} is not an artist: {type(value)}"
    for key, value in vars(disp).items():
        if not key.endswith("_") and not key.startswith("_"):
            assert not _has_artist(value), f"{name}.{key} holds an artist but lacks the '_'"
    # plot(ax=) returns self and moves the display to the new axes.
    fig2, ax2 = plt.subplots()
    assert disp.plot(ax=ax2) is disp
    assert disp.ax_ is ax2 and disp.figure_ is fig2
    # The operating point is movable, to evaluate's numbers.
    if name == "PrecisionRecallDisplay" and constructor == "from_coco":
        with pytest.raises(ValueError, match="from_sweep"):
            disp.set_operating_point(0.5)  # COCO's interpolated curve has no thresholds
        return
    for value in EXAMPLES[name]["operating"]:
        assert disp.set_operating_point(value) is disp
        EXAMPLES[name]["check"](disp, value)
    fig2.canvas.draw()
