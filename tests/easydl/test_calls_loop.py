"""The whole call-data loop (spec F8) with the real training: train V1, publish, log calls,
review them into a new dataset, train V2 on it with ``base_version``, republish at the same URL."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from vislab import baidu, easydl
from vislab.datasets.samples import defects


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path))
    return tmp_path


def _jpeg(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_reviewed_calls_train_the_next_version(home):
    v1 = easydl.train(defects(n_per_class=20, size=64), name="qc", progress=False)
    first = easydl.publish("qc", "V1")
    easydl.log_calls("qc")

    # Production traffic: new surface patches the model has not seen.
    incoming = defects(n_per_class=4, size=64, seed=7)
    sent = {ident: _jpeg(incoming.load(ident)) for ident in incoming.images}
    truth = dict(zip(incoming.frame["image"], incoming.frame["label"], strict=True))
    client = baidu.EasyDL("qc", progress=False, qps=0)
    answered = client.classify(sent, top_num=1)
    assert answered["error_code"].isna().all()

    # Review: every logged call gets its true label (the reviewer's), wrong ones included.
    log = easydl.calls("qc")
    assert len(log) == len(sent) and set(log["version"]) == {"V1"}
    by_hash = {hashlib.sha256(raw).hexdigest(): ident for ident, raw in sent.items()}
    review = log[["image"]].assign(label=[truth[by_hash[h]] for h in log["sha256"]])
    new = easydl.to_dataset(review)  # a new dataset, as the spec recommends
    assert len(new.images) == len(sent) and new.classes == v1.classes

    v2 = easydl.train(new, name="qc", base_version="V1", progress=False)
    assert v2.version == "V2"
    assert v2.meta["parameters"]["base_version"] == "V1"
    assert v2.meta["dataset"]["images"] == v1.meta["dataset"]["images"] + len(sent)

    second = easydl.publish("qc", "V2")
    assert second["path"] == first["path"]  # the same URL now answers V2
    client.classify(sent)
    assert set(easydl.calls("qc")["version"]) == {"V1", "V2"}
