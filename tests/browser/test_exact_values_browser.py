"""Widgets keep the exact threshold and cutoff through rendering, in a real browser.

A FloatSlider's front end snaps its value to the slider's step when it first renders, and
sends the snapped value back to the kernel.  Before the fix, a tuner opened at its best-F1
threshold (say 0.48864) came back at 0.49 — a relevant hit or a true box dropped, other
numbers on the page, a rounded value exported.  This test renders a ThresholdTuner and a
SimilarityCutoff at values that are not on their sliders' grid, in JupyterLab in Chromium,
waits until the page has talked back, and asks the kernel: the values must be unchanged to
the last digit, and the page must show the numbers at them.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.browser.lab import jupyter_lab, require_browser, run_plan, write_notebook
from tests.widgets.data import make_detections
from tests.widgets.test_similarity import search_results

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

CELLS = [
    "import pandas as pd\n"
    "from vislab.widgets import SimilarityCutoff, ThresholdTuner\n"
    "pred, truth = pd.read_csv('pred.csv'), pd.read_csv('truth.csv')\n"
    "matches, relevant = pd.read_csv('matches.csv'), pd.read_csv('relevant.csv')",
    "tuner = ThresholdTuner(truth, pred)  # opens at its best-F1 threshold\ntuner",
    "cut = SimilarityCutoff(relevant, matches)  # opens at its best-F1 cutoff\ncut",
]

READY = """() => {
  const t = document.querySelector('.vislab-threshold-tuner .vislab-threshold-slider .noUi-handle');
  const c = document.querySelector('.vislab-similarity-cutoff .vislab-cutoff-slider .noUi-handle');
  const g = document.querySelector('.vislab-similarity-cutoff .vislab-grid');
  return !!t && !!c && !!g && (g.getAttribute('src') || '').startsWith('blob:');
}"""

PAGE = """() => {
  const cell = (root, name) => document.querySelector(
    `${root} table.vislab-metrics tr.vislab-overall td.vislab-${name}`);
  const t = document.querySelector('.vislab-threshold-tuner table.vislab-metrics');
  const c = document.querySelector('.vislab-similarity-cutoff table.vislab-metrics');
  return {
    threshold: t.dataset.threshold,
    threshold_text: cell('.vislab-threshold-tuner', 'threshold').textContent.trim(),
    tuner_f1: cell('.vislab-threshold-tuner', 'f1').dataset.value,
    cutoff: c.dataset.cutoff,
    cutoff_text: cell('.vislab-similarity-cutoff', 'cutoff').textContent.trim(),
    cutoff_f1: cell('.vislab-similarity-cutoff', 'f1').dataset.value,
  };
}"""

KERNEL = "import json; print(json.dumps([repr(tuner.threshold), repr(cut.cutoff)]))"


def test_rendered_widgets_keep_the_exact_values(tmp_path):
    require_browser()
    from vislab.evaluate import best_threshold, retrieval_sweep, threshold_sweep

    root = tmp_path / "lab"
    root.mkdir()
    pred, truth = make_detections(40, seed=3)
    matches, relevant = search_results()
    for name, frame in [
        ("pred", pred),
        ("truth", truth),
        ("matches", matches),
        ("relevant", relevant),
    ]:
        frame.to_csv(root / f"{name}.csv", index=False)
    # What the kernel will compute, computed here from the same files.
    pred, truth = pd.read_csv(root / "pred.csv"), pd.read_csv(root / "truth.csv")
    matches, relevant = pd.read_csv(root / "matches.csv"), pd.read_csv(root / "relevant.csv")
    sweep = threshold_sweep(truth, pred)
    t = float(best_threshold(sweep)["threshold"])
    rsweep = retrieval_sweep(relevant, matches)
    c = float(best_threshold(rsweep)["threshold"])
    # Both are off their sliders' grids (steps 0.01 and 0.005): rounding would show.
    assert round(t, 2) != t and round(c / 0.005) * 0.005 != c
    write_notebook(root / "exact.ipynb", CELLS)
    with jupyter_lab(root) as lab:
        steps = [
            {"op": "goto", "url": lab.notebook_url("exact.ipynb"), "timeoutMs": 60000},
            {"op": "waitKernelIdle", "timeoutMs": 120000},
            {"op": "command", "id": "notebook:run-all-cells"},
            {"op": "waitFor", "js": READY, "timeoutMs": 180000},
            # Let the sliders' first render reach the kernel (and anything it answers).
            {"op": "sleep", "ms": 3000},
            {"op": "waitKernelIdle", "timeoutMs": 60000},
            {"op": "kernelExec", "code": KERNEL, "as": "kernel"},
            {"op": "eval", "js": PAGE, "as": "page"},
            {
                "op": "screenshot",
                "path": str(tmp_path / "exact.png"),
                "selector": ".vislab-threshold-tuner",
            },
        ]
        try:
            results = run_plan({"url": lab.url, "steps": steps}, workdir=tmp_path)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- JupyterLab log ---\n{lab.log_tail()}") from None
    kernel_t, kernel_c = json.loads(results["kernel"])
    page = results["page"]
    # The kernel's values are unchanged to the last digit ...
    assert kernel_t == repr(t) and kernel_c == repr(c)
    # ... the page shows them exactly, with the numbers at them.
    assert page["threshold"] == repr(t) and page["cutoff"] == repr(c)
    assert float(page["threshold_text"]) == pytest.approx(t, abs=5e-7)
    assert float(page["cutoff_text"]) == pytest.approx(c, abs=5e-7)
    assert float(page["tuner_f1"]) == float(sweep.at(t)["f1"])
    assert float(page["cutoff_f1"]) == float(rsweep.at(c)["f1"])
