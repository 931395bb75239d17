"""The import graph has no circle, and every module imports on its own (in a fresh process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

import import_graph  # noqa: E402

# Imports every module in a fresh fork of a process that has loaded the heavy third-party
# libraries but nothing of vislab: a module that only imports because another one was
# imported first fails here.
_ISOLATION = r"""
import importlib, os, sys, traceback
import numpy, pandas, PIL.Image, requests, scipy, sklearn, matplotlib
matplotlib.use("Agg")
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed.append(name)
print("FAILED:" + ",".join(failed))
"""


def test_no_import_circle():
    edges = import_graph.graph()
    assert len(edges) > 50
    assert import_graph.circles(edges) == []


def test_every_module_imports_in_isolation():
    # __main__ modules are scripts: importing one runs it.
    names = sorted(n for n in import_graph.modules() if not n.endswith("__main__"))
    out = subprocess.run(
        [sys.executable, "-c", _ISOLATION, *names],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("FAILED:"), out.stdout + out.stderr[-3000:]
