"""The milvus extra (pymilvus, protobuf >= 4) and Alibaba's eas-prediction in one environment."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

CODE = "import pymilvus, eas_prediction; from eas_prediction import PredictClient; print('ok')"


@pytest.mark.skipif(
    importlib.util.find_spec("eas_prediction") is None,
    reason="eas-prediction is not installed (make installs it with --no-deps beside the test extras)",
)
def test_pymilvus_and_eas_prediction_import_in_one_process():
    pytest.importorskip("pymilvus", reason="the milvus extra is part of the test extras")
    env = dict(os.environ)
    # tests/conftest.py chose the pure-Python protobuf for the whole run.
    assert env["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] == "python"
    ok = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True)
    assert ok.stdout.strip() == "ok", ok.stderr[-2000:]
    # Without it, protobuf's C implementation refuses eas-prediction's generated code: the
    # variable is what makes the two live together.
    env.pop("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION")
    bad = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "protobuf" in bad.stderr.lower()
