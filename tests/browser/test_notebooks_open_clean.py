"""Opening a shipped notebook in JupyterLab (real Chromium) leaves it unmodified."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.browser.lab import jupyter_lab, require_browser, run_plan

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

# The notebook is the current tab and its kernel has started and is idle.
OPEN_AND_IDLE = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session &&
            w.sessionContext.session.kernel;
  return !!w && !!w.context && w.context.path === '%s' && !!k && k.status === 'idle' &&
         w.sessionContext.kernelDisplayName !== 'No Kernel';
}"""

# Every open notebook document and whether JupyterLab considers it modified.
DIRTY = """() => {
  const out = {};
  for (const w of window.jupyterapp.shell.widgets('main')) {
    if (w.context && w.context.path && w.context.path.endsWith('.ipynb')) {
      out[w.context.path] = w.context.model.dirty;
    }
  }
  return out;
}"""


def test_opening_a_shipped_notebook_does_not_modify_it(tmp_path):
    require_browser()
    root = tmp_path / "lab"
    root.mkdir()
    for nb in NOTEBOOKS:
        shutil.copy2(nb, root / nb.name)
    with jupyter_lab(root) as lab:
        steps = []
        for nb in NOTEBOOKS:
            steps += [
                {"op": "goto", "url": lab.notebook_url(nb.name), "timeoutMs": 60000},
                {"op": "waitFor", "js": OPEN_AND_IDLE % nb.name, "timeoutMs": 90000},
                {"op": "sleep", "ms": 3000},  # the kernel's metadata update lands by now
                {"op": "eval", "js": DIRTY, "as": nb.stem},
            ]
        results = run_plan({"steps": steps}, workdir=tmp_path, timeout=540)
    # Each page load shows the notebook just opened (and may restore earlier tabs).
    dirty = {nb.name: results[nb.stem].get(nb.name) for nb in NOTEBOOKS}
    assert None not in dirty.values(), f"a notebook did not open: {dirty}"
    assert not any(dirty.values()), f"shown as modified just by being opened: {dirty}"
    for nb in NOTEBOOKS:
        assert (root / nb.name).read_bytes() == nb.read_bytes(), nb.name


def test_notebook_kernelspec_is_the_one_jupyterlab_writes():
    sys.path.insert(0, str(REPO / "tools"))
    from normalize_notebooks import KERNELSPEC

    for nb in NOTEBOOKS:
        assert json.loads(nb.read_text("utf-8"))["metadata"]["kernelspec"] == KERNELSPEC, nb.name
