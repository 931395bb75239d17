"""BoxAnnotator in a real browser: the anywidget drawing loads with no lab extension build,
shows the image with the pre-filled boxes, and its Save & next button reaches the kernel."""

from __future__ import annotations

import pytest

from tests.browser.lab import jupyter_lab, require_browser, run_plan, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

CELLS = [
    "from vislab.datasets.samples import sample_detections\n"
    "from vislab.widgets import BoxAnnotator\n"
    "s = sample_detections(3, seed=2, failed=0)\n"
    "ann = BoxAnnotator(s.images, labels=list(s.classes), boxes=s.pred, min_score=0.4)\n"
    "ann",
]

DRAWN = """() => {
  const img = document.querySelector('.vislab-box-annotator img');
  return !!img && img.complete && img.naturalWidth === 320;
}"""

STATE = """() => ({
  info: document.querySelector('.vislab-annotator-info').textContent,
  labels: [...document.querySelectorAll('.vislab-box-annotator svg text, .vislab-box-annotator .label')]
    .map(e => e.textContent.trim()).filter(t => t),
})"""

SAVED = """() => document.querySelector('.vislab-annotator-info').textContent.includes('1 saved')"""


def test_annotator_draws_and_saves(tmp_path):
    require_browser()
    root = tmp_path / "lab"
    root.mkdir()
    write_notebook(root / "annotate.ipynb", CELLS)
    with jupyter_lab(root) as lab:
        steps = [
            {"op": "goto", "url": lab.notebook_url("annotate.ipynb"), "timeoutMs": 60000},
            {"op": "waitKernelIdle", "timeoutMs": 120000},
            {"op": "command", "id": "notebook:run-all-cells"},
            {"op": "waitFor", "js": DRAWN, "timeoutMs": 120000},
            {"op": "eval", "js": STATE, "as": "before"},
            {"op": "click", "selector": ".vislab-box-annotator button:has-text('Save & next')"},
            {"op": "waitFor", "js": SAVED, "timeoutMs": 30000},
            {"op": "eval", "js": STATE, "as": "after"},
            {
                "op": "screenshot",
                "path": str(tmp_path / "box_annotator.png"),
                "selector": ".vislab-box-annotator",
            },
        ]
        try:
            results = run_plan({"url": lab.url, "steps": steps}, workdir=tmp_path)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- JupyterLab log ---\n{lab.log_tail()}") from None
    assert "1 / 3" in results["before"]["info"] and "0 saved" in results["before"]["info"]
    assert "2 / 3" in results["after"]["info"] and "1 saved" in results["after"]["info"]
    assert (tmp_path / "box_annotator.png").stat().st_size > 5_000
