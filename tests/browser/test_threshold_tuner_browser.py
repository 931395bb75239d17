"""ThresholdTuner in a real browser: JupyterLab + headless Chromium, slider moved by keyboard.

The test writes a notebook that builds a ThresholdTuner from two CSV files, opens it in
JupyterLab in Debian's Chromium, runs all cells, presses the right arrow key on the slider
handle ten times, and checks that the precision printed in the page becomes exactly the value
``vislab.evaluate`` computes (in this process, from the same files) at the new threshold, and
that the image grid was redrawn.  It saves screenshots under the test's temporary folder.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.browser.lab import jupyter_lab, require_browser, run_plan, write_notebook
from tests.widgets.data import make_detections

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

NOTEBOOK_CELLS = [
    "import pandas as pd\n"
    "from vislab.widgets import ThresholdTuner\n"
    "pred = pd.read_csv('pred.csv')\n"
    "truth = pd.read_csv('truth.csv')",
    "tuner = ThresholdTuner(truth, pred, threshold=0.5)\ntuner",
]

# Read what the page shows: the metrics table (exact value in data-value, rounded text) and
# the slider readout, plus a fingerprint of the grid image to see it redrawn.
READ_STATE = """() => {
  const table = document.querySelector('.vislab-threshold-tuner table.vislab-metrics');
  const cell = table.querySelector('tr.vislab-overall td.vislab-precision');
  const readout = document.querySelector('.vislab-threshold-slider .widget-readout');
  const grid = document.querySelector('.vislab-threshold-tuner .vislab-grid');
  const src = grid ? (grid.getAttribute('src') || '') : '';
  return {
    threshold: table.dataset.threshold,
    precision_value: cell.dataset.value,
    precision_text: cell.textContent.trim(),
    readout: readout ? readout.textContent.trim() : null,
    grid: src.length + ':' + src.slice(-64),
  };
}"""

TUNER_READY = """() => {
  const table = document.querySelector('.vislab-threshold-tuner table.vislab-metrics');
  const grid = document.querySelector('.vislab-threshold-tuner .vislab-grid');
  const handle = document.querySelector('.vislab-threshold-slider .noUi-handle');
  return !!table && !!handle && !!grid && (grid.getAttribute('src') || '').startsWith('blob:');
}"""

MOVED = """(before) => {
  const table = document.querySelector('.vislab-threshold-tuner table.vislab-metrics');
  const readout = document.querySelector('.vislab-threshold-slider .widget-readout');
  const grid = document.querySelector('.vislab-threshold-tuner .vislab-grid');
  if (!table || table.dataset.threshold === before.threshold) return false;
  // The kernel has answered the last key press: the table shows the slider's value.
  const shown = parseFloat(readout.textContent);
  if (Math.abs(parseFloat(table.dataset.threshold) - shown) > 0.006) return false;
  const src = grid.getAttribute('src') || '';
  return (src.length + ':' + src.slice(-64)) !== before.grid;
}"""


def test_slider_moves_precision_to_evaluate_value(tmp_path):
    require_browser()
    from vislab.evaluate import threshold_sweep

    root = tmp_path / "lab"
    root.mkdir()
    pred, truth = make_detections(40, seed=3)
    pred.to_csv(root / "pred.csv", index=False)
    truth.to_csv(root / "truth.csv", index=False)
    write_notebook(root / "tuner.ipynb", NOTEBOOK_CELLS)
    shot = tmp_path / "threshold_tuner.png"
    widget_shot = tmp_path / "threshold_tuner_widget.png"

    with jupyter_lab(root) as lab:
        steps = [
            {"op": "goto", "url": lab.notebook_url("tuner.ipynb"), "timeoutMs": 60000},
            {"op": "waitKernelIdle", "timeoutMs": 120000},
            {"op": "command", "id": "application:toggle-left-area", "optional": True},
            {"op": "command", "id": "notebook:run-all-cells"},
            {"op": "waitFor", "js": TUNER_READY, "timeoutMs": 120000},
            {"op": "eval", "js": READ_STATE, "as": "before"},
            {
                "op": "press",
                "selector": ".vislab-threshold-slider .noUi-handle",
                "key": "ArrowRight",
                "times": 10,
                "delayMs": 40,
            },
            {"op": "waitFor", "js": MOVED, "argFrom": "before", "timeoutMs": 30000},
            {"op": "sleep", "ms": 300},
            {"op": "eval", "js": READ_STATE, "as": "after"},
            {"op": "screenshot", "path": str(shot)},
            {
                "op": "screenshot",
                "path": str(widget_shot),
                "selector": ".vislab-threshold-tuner",
            },
        ]
        try:
            results = run_plan(
                {"url": lab.url, "viewport": {"width": 1400, "height": 1300}, "steps": steps},
                workdir=tmp_path,
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- JupyterLab log ---\n{lab.log_tail()}") from None

    before, after = results["before"], results["after"]
    sweep = threshold_sweep(pd.read_csv(root / "truth.csv"), pd.read_csv(root / "pred.csv"))
    # The page started where the notebook put it, with evaluate's number.
    assert float(before["threshold"]) == 0.5
    assert float(before["precision_value"]) == sweep.at(0.5)["precision"]
    # Ten presses of the right arrow moved the slider by ten steps of 0.01 ...
    new_t = float(after["threshold"])
    assert new_t == pytest.approx(0.6, abs=1e-9)
    assert after["readout"] == "0.60"
    # ... and the precision in the page is exactly what vislab.evaluate computes there.
    expected = float(sweep.at(new_t)["precision"])
    assert float(after["precision_value"]) == expected
    assert after["precision_text"] == f"{expected:.4f}"
    assert after["precision_text"] != before["precision_text"]
    assert after["grid"] != before["grid"]  # the debounced grid redraw reached the page
    assert shot.stat().st_size > 10_000 and widget_shot.stat().st_size > 10_000
