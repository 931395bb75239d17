"""The call-data loop (spec F8): opt-in logging, review filters, reviewed calls into a new
dataset, no secrets in the log, and a killed writer losing nothing committed."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from skimage import data

from tests.conftest import REPO, ServeProcess, jpeg_bytes
from tests.easydl import trained_models
from vislab import baidu, easydl
from vislab.engine import call_log
from vislab.engine.training.store import ModelStore
from vislab.errors import InvalidParameter


def _copy(src_home, dst_home, name, new_name):
    model = ModelStore(src_home).load(name)
    keep = ("kind", "classes", "recipe", "head", "recommended_threshold")
    meta = {k: model.meta[k] for k in keep if k in model.meta}
    return ModelStore(dst_home).save(new_name, model.arrays, meta)


@pytest.fixture
def home(tmp_path, monkeypatch):
    world = trained_models.world()
    _copy(world, tmp_path, "pets", "qc")
    _copy(world, tmp_path, "blobs", "cells")
    easydl.publish("qc", home=tmp_path)
    easydl.publish("cells", home=tmp_path)
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path))
    return tmp_path


PHOTOS = {"cat": data.chelsea(), "cup": data.coffee(), "rocket": data.rocket()}


def test_logging_is_opt_in_and_records_what_was_answered(home):
    client = baidu.EasyDL("qc", progress=False, qps=0)
    sent = {k: jpeg_bytes(v) for k, v in PHOTOS.items()}
    client.classify(sent)
    assert easydl.calls("qc").empty  # off by default
    assert easydl.log_calls("qc") is False
    t0 = pd.Timestamp.now(tz="UTC")
    answered = client.classify(sent, top_num=2)
    log = easydl.calls("qc")
    assert len(log) == 3 and set(log["version"]) == {"V1"}
    top = answered[answered["rank"] == 1].set_index("image")
    by_hash = {hashlib.sha256(raw).hexdigest(): name for name, raw in sent.items()}
    for _, row in log.iterrows():
        name = by_hash[row["sha256"]]  # the image is known by its content
        assert row["label"] == top.loc[name, "label"]
        assert abs(row["score"] - top.loc[name, "score"]) < 1e-9
        assert len(row["results"]) == 2
        assert Path(row["path"]).read_bytes() == sent[name]  # kept for review
        assert row["time"] >= t0 - pd.Timedelta(seconds=1)
    assert easydl.log_calls("qc", False) is True
    client.classify(sent)
    assert len(easydl.calls("qc")) == 3  # off again: nothing more, nothing lost


def test_review_filters(home):
    easydl.log_calls("qc")
    client = baidu.EasyDL("qc", progress=False, qps=0)
    client.classify({"cat": jpeg_bytes(PHOTOS["cat"])})
    time.sleep(0.05)
    middle = pd.Timestamp.now(tz="UTC")
    time.sleep(0.05)
    client.classify({k: jpeg_bytes(v) for k, v in PHOTOS.items() if k != "cat"})
    log = easydl.calls("qc")
    assert len(log) == 3
    assert len(easydl.calls("qc", since=middle)) == 2
    assert len(easydl.calls("qc", until=middle)) == 1
    assert len(easydl.calls("qc", since=middle.isoformat(), until="2999-01-01")) == 2
    assert easydl.calls("qc", label="cup")["label"].tolist() == ["cup"]
    assert sorted(easydl.calls("qc", label=["cup", "cat"])["label"]) == ["cat", "cup"]
    lo = float(log["score"].min())
    unsure = easydl.calls("qc", score_between=(0.0, lo))
    assert unsure["score"].tolist() == [lo]
    assert easydl.calls("qc", score_between=(1.01, 2.0)).empty
    with pytest.raises(InvalidParameter, match="score_between"):
        easydl.calls("qc", score_between=(0.9, 0.1))
    with pytest.raises(InvalidParameter, match="since"):
        easydl.calls("qc", since="yesterday-ish")


def test_detection_calls_one_row_per_box(home):
    easydl.log_calls("cells")
    images, _ = trained_models.blob_images(1, seed=7)
    client = baidu.EasyDL("cells", progress=False, qps=0)
    answered = client.detect(
        {"b": images[0], "dark": np.zeros((64, 64, 3), np.uint8)}, threshold=0.3
    )
    log = easydl.calls("cells")
    boxes = answered[answered["image"] == "b"]
    with_box = log[log["label"].notna()]
    assert len(with_box) == len(boxes) > 0
    assert np.allclose(
        with_box[["x", "y", "w", "h"]].to_numpy(float),
        boxes[["x", "y", "w", "h"]].to_numpy(float),
        atol=0.01,
    )
    empty = log[log["label"].isna()]
    assert answered.loc[answered["image"] == "dark", "label"].isna().all()
    assert len(empty) == 1  # the call with no box keeps one row
    assert easydl.calls("cells", label="blob")["label"].eq("blob").all()


def test_reviewed_calls_go_into_a_new_dataset(home):
    easydl.log_calls("qc")
    client = baidu.EasyDL("qc", progress=False, qps=0)
    client.classify({k: jpeg_bytes(v) for k, v in PHOTOS.items()})
    review = easydl.calls("qc")[["image", "label"]].copy()
    review["label"] = ["ok", "ok", "defect"]  # the reviewer's labels
    new = easydl.to_dataset(review)
    assert new.kind == "classification" and new.classes == ["defect", "ok"]
    assert len(new.images) == 3
    assert new.load(new.images[0]).shape[2] == 3
    # Into an existing dataset instead: same-named classes merge.
    oks = new.frame.loc[new.frame["label"] == "ok", "image"].tolist()
    defect = review.loc[review["label"] == "defect"]
    grown = easydl.to_dataset(defect, into=new.subset(oks))
    assert sorted(grown.frame["label"]) == ["defect", "ok", "ok"]
    with pytest.raises(InvalidParameter, match="not a logged call image"):
        easydl.to_dataset(pd.DataFrame({"image": ["../../etc/passwd"], "label": ["x"]}))


def test_reviewed_boxes_go_into_a_detection_dataset(home):
    easydl.log_calls("cells")
    images, _ = trained_models.blob_images(1, seed=7)
    baidu.EasyDL("cells", progress=False, qps=0).detect({"b": images[0]})
    boxes = easydl.calls("cells")[["image", "label", "x", "y", "w", "h"]]
    ds = easydl.to_dataset(boxes.assign(label="cell"))
    assert ds.kind == "detection" and ds.classes == ["cell"]
    assert len(ds.frame) == len(boxes)


def test_no_key_or_token_reaches_the_log(home):
    easydl.log_calls("qc")
    key, secret = "call-log-key-9f3", "call-log-secret-77a"
    env = {
        **os.environ,
        "VISLAB_HOME": str(home),
        "VISLAB_SERVE_API_KEY": key,
        "VISLAB_SERVE_SECRET_KEY": secret,
    }
    server = ServeProcess(env=env)
    try:
        client = baidu.EasyDL(
            server.url + "/rpc/2.0/ai_custom/v1/classification/qc",
            api_key=key,
            secret_key=secret,
            progress=False,
            qps=0,
        )
        client.classify({"cup": jpeg_bytes(PHOTOS["cup"])})
        token = client.session.auth._token if hasattr(client.session.auth, "_token") else None
    finally:
        server.stop()
    assert len(easydl.calls("qc")) == 1
    blobs = b"".join(p.read_bytes() for p in (home / "easydl").rglob("*") if p.is_file())
    for secret_text in filter(None, [key, secret, token]):
        assert secret_text.encode() not in blobs


_WRITER = r"""
import sys
from vislab.engine import call_log
home = sys.argv[1]
call_log.log_calls("qc", home=home)
i = 0
while True:
    raw = b"\xff\xd8" + i.to_bytes(8, "big") * 2000
    call_log.record("qc", "V1", "classification", raw, [{"name": "ok", "score": 0.5}], home=home)
    i += 1
    if i == 20:
        print("ready", flush=True)
"""


def test_a_killed_writer_leaves_every_committed_call_readable(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    rows = call_log.read_calls("qc", home=tmp_path)
    assert len(rows) >= 20
    root = call_log.call_images_root(tmp_path).parent
    for row in rows:  # every row names a complete image file of its hash
        raw = (root / row[6]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == row[5]
    ids = [r[0] for r in rows]
    assert ids == sorted(ids) == list(range(1, len(ids) + 1))


def test_boxes_reviewed_in_the_box_annotator_become_a_new_dataset(home):
    from vislab.widgets import BoxAnnotator

    easydl.log_calls("cells")
    images, _ = trained_models.blob_images(2, seed=21)
    baidu.EasyDL("cells", progress=False, qps=0).detect({"p": images[0], "q": images[1]})
    log = easydl.calls("cells")
    queue = dict(zip(log["image"], log["path"], strict=False))  # one entry per logged image
    ann = BoxAnnotator(queue, labels=["blob"], boxes=log, min_score=0.3)
    first = ann.current_image
    kept = log[(log["image"] == first) & (log["score"] >= 0.3)]
    ann.submit()  # the model's boxes accepted as they are
    ann.set_boxes([{"x": 4, "y": 5, "w": 20, "h": 21, "label": "blob"}])  # redrawn by hand
    ann.submit()
    new = easydl.to_dataset(ann.annotations)
    assert new.kind == "detection" and sorted(new.images) == sorted(queue)
    frame = new.frame.set_index("image")
    assert len(frame.loc[[first]]) == len(kept)
    second = next(i for i in queue if i != first)
    assert frame.loc[[second], ["x", "y", "w", "h"]].values.tolist() == [[4, 5, 20, 21]]
