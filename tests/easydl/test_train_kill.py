"""A training process SIGKILLed in the middle of a run leaves every earlier version whole.

A child process trains V1 of a model on the defects sample, then starts V2 on a larger set
and is killed while V2 is embedding. The store must list V1 only, V1 must load and answer,
``models()`` must not show a half version, and the next training takes V2 cleanly.
(Killing the writer while it writes the weights is tested in
tests/engine/test_training_store.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from vislab.datasets.samples import defects
from vislab.easydl import load, models, train

REPO = Path(__file__).resolve().parents[2]

_TRAINER = textwrap.dedent(
    """
    import sys
    from vislab.datasets.samples import defects
    from vislab.easydl import train

    home, started = sys.argv[1], sys.argv[2]
    train(defects(n_per_class=20, size=64), name="qc", home=home, progress=False)
    open(started, "w").close()              # V1 is stored; V2 starts now
    train(defects(n_per_class=80, size=96, seed=1), name="qc", base_version="V1", home=home,
          progress=False)
    """
)


def test_sigkill_during_training_keeps_earlier_versions_and_lists_no_half_version(tmp_path):
    started = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-c", _TRAINER, str(tmp_path), str(started)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while not started.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the trainer never finished V1"
            time.sleep(0.05)
        time.sleep(1.5)  # V2 is checking and embedding its 320 images
        assert proc.poll() is None, "V2 finished before the kill: give it more images"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    listed = models(home=tmp_path)
    assert listed[["model", "version"]].values.tolist() == [["qc", "V1"]]
    v1 = load("qc", home=tmp_path)
    assert v1.version == "V1" and v1.report.headline[0] == "accuracy"
    # V1's weights answer as they did when it was evaluated, before the kill
    data = defects(n_per_class=20, size=64)
    held = data.subset(v1.report.truth["image"])
    top = v1.predict(held, top_num=1, progress=False).set_index("image")["label"]
    stored = v1.report.pred[v1.report.pred["rank"] == 1].set_index("image")["label"]
    assert top.to_dict() == stored.to_dict()
    # the store recovers: the next run takes V2 and builds on V1
    v2 = train(
        defects(n_per_class=20, size=64, seed=2),
        name="qc",
        base_version="V1",
        home=tmp_path,
        progress=False,
    )
    assert v2.version == "V2"
    assert models(home=tmp_path)["version"].tolist() == ["V1", "V2"]
    assert np.isfinite(v2.report.headline[1])
