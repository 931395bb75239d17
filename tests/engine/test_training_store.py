"""ModelStore: versions written atomically, loaded back exactly, and the published registry.

Real files in a temporary home, a real classifier on real backbone features, and real
processes killed with SIGKILL while they write a version.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from vislab.engine.training.classifier import fit_classifier
from vislab.engine.training.features import image_features
from vislab.engine.training.store import ModelStore
from vislab.errors import InvalidParameter, StorageError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def photo_features(photos):
    images = [photos["chelsea"], photos["coffee"], photos["astronaut"]]
    # Two framings of each photo per class: enough for a real fit, seconds to compute.
    crops = [img[: img.shape[0] * 3 // 4] for img in images] + [
        img[img.shape[0] // 4 :] for img in images
    ]
    return image_features(crops), np.array([0, 1, 2, 0, 1, 2]), ["cat", "cup", "person"]


def _meta(clf):
    return {
        "kind": "classification",
        "classes": clf.classes,
        "recipe": "general",
        "head": clf.params(),
        "metrics": {"accuracy": 1.0},
    }


def test_save_load_round_trip_answers_the_same(tmp_path, photo_features, photos):
    x, y, classes = photo_features
    clf = fit_classifier(x, y, classes)
    store = ModelStore(tmp_path)
    saved = store.save("pets", clf.arrays(), _meta(clf), files={"dataset.json": "{}"})
    assert (saved.name, saved.version, saved.kind) == ("pets", "V1", "classification")
    loaded = store.load("pets")
    assert loaded.meta["created"] and loaded.meta["format"] == 1
    top = loaded.classify(photos["coffee"])
    assert top[0][0] == "cup" and len(top) == 3
    assert abs(sum(s for _, s in top) - 1) < 1e-6
    assert top == saved.classify(photos["coffee"])
    assert loaded.classify(photos["coffee"], top_num=1) == top[:1]
    assert store.read_file("pets", "V1", "dataset.json") == b"{}"
    assert store.read_file("pets", "V1", "nothing.json") is None
    # the weights file holds arrays only: it opens with pickling switched off
    with np.load(loaded.folder / "weights.npz", allow_pickle=False) as data:
        assert set(data.files) == set(clf.arrays())


def test_versions_count_up_and_hidden_leftovers_are_not_listed(tmp_path, photo_features):
    x, y, classes = photo_features
    clf = fit_classifier(x, y, classes)
    store = ModelStore(tmp_path)
    for _ in range(3):
        store.save("pets", clf.arrays(), _meta(clf))
    # what a killed writer leaves behind, and a folder that is not a version
    (store.root / "pets" / ".tmp-V4-1-abcd").mkdir()
    (store.root / "pets" / ".tmp-V4-1-abcd" / "weights.npz").write_bytes(b"half")
    (store.root / "pets" / "V9").mkdir()  # no meta.json: not a complete version
    (store.root / "notes").mkdir()
    assert store.versions("pets") == ["V1", "V2", "V3"]
    assert store.models() == ["pets"]
    # the next save takes a number above every folder and clears the leftover
    assert store.save("pets", clf.arrays(), _meta(clf)).version == "V10"
    assert not list((store.root / "pets").glob(".tmp-*"))
    assert store.load("pets").version == "V10"
    assert store.load("pets", "V2").version == "V2"


def test_bad_names_versions_and_arrays_are_typed_errors(tmp_path, photo_features):
    x, y, classes = photo_features
    clf = fit_classifier(x, y, classes)
    store = ModelStore(tmp_path)
    with pytest.raises(InvalidParameter, match="model name"):
        store.save("../escape", clf.arrays(), _meta(clf))
    with pytest.raises(InvalidParameter, match="no pickle"):
        store.save("pets", {"bad": np.array([{"a": 1}], dtype=object)}, _meta(clf))
    with pytest.raises(InvalidParameter, match="kind"):
        store.save("pets", clf.arrays(), {"classes": classes})
    assert store.versions("pets") == []
    store.save("pets", clf.arrays(), _meta(clf))
    with pytest.raises(InvalidParameter, match="has no version 'V7'; it has V1"):
        store.load("pets", "V7")
    with pytest.raises(InvalidParameter, match="'V1', 'V2'"):
        store.load("pets", "latest")
    with pytest.raises(InvalidParameter, match="no trained model named 'cats'"):
        store.load("cats")
    with pytest.raises(InvalidParameter, match="no detect"):
        store.load("pets").detect(np.zeros((40, 40, 3), np.uint8))


def test_damaged_weights_are_a_storage_error_naming_the_folder(tmp_path, photo_features):
    x, y, classes = photo_features
    clf = fit_classifier(x, y, classes)
    store = ModelStore(tmp_path)
    model = store.save("pets", clf.arrays(), _meta(clf))
    (model.folder / "weights.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(StorageError, match="pets V1") as info:
        store.load("pets")
    assert info.value.path == str(model.folder)


_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from vislab.engine.training import store as st

    home, ready = sys.argv[1], sys.argv[2]
    real_savez = np.savez

    def slow_savez(handle, **arrays):
        real_savez(handle, **arrays)
        handle.flush()
        open(ready, "w").close()      # the weights are half-way into the temporary folder
        time.sleep(60)

    meta = {"kind": "classification", "classes": ["a", "b"], "recipe": "general",
            "head": {"other_threshold": None}}
    arrays = {"clf_mean": np.zeros(1280, np.float32), "clf_scale": np.ones(1280, np.float32),
              "clf_coef": np.zeros((2, 1280), np.float32),
              "clf_intercept": np.zeros(2, np.float32)}
    store = st.ModelStore(home)
    store.save("m", arrays, meta)                 # V1 completes
    st.np.savez = slow_savez
    store.save("m", arrays, meta)                 # V2 is killed while writing
    """
)


def test_sigkill_while_writing_a_version_leaves_earlier_versions_whole(tmp_path):
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path), str(ready)], cwd=REPO, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the writer never reached the second save"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    store = ModelStore(tmp_path)
    folder = store.root / "m"
    assert [p.name for p in folder.glob(".tmp-V2-*")], "the half-written version is hidden"
    assert store.versions("m") == ["V1"]
    assert store.models() == ["m"]
    assert store.load("m").version == "V1"
    assert store.load("m").classify(np.full((40, 40, 3), 99, np.uint8))[0][1] == 0.5


def test_two_processes_saving_at_once_take_different_versions(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from vislab.engine.training.store import ModelStore
        arrays = {"w": np.arange(200000, dtype=np.float32)}
        meta = {"kind": "detection", "classes": ["cell"]}
        for _ in range(5):
            ModelStore(sys.argv[1]).save("race", arrays, meta)
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=REPO) for _ in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    store = ModelStore(tmp_path)
    assert store.versions("race") == [f"V{i}" for i in range(1, 11)]
    for v in store.versions("race"):
        assert json.loads((store.root / "race" / v / "meta.json").read_text())["version"] == v


def test_publish_keeps_the_url_for_newer_versions(tmp_path, photo_features):
    x, y, classes = photo_features
    clf = fit_classifier(x, y, classes)
    store = ModelStore(tmp_path)
    for _ in range(2):
        store.save("pets", clf.arrays(), _meta(clf))
    entry = store.publish("pets", "V1", suffix="pets_api")
    assert entry["suffix"] == "pets_api" and entry["version"] == "V1"
    assert store.resolve("classification", "pets_api").version == "V1"
    assert store.resolve("detection", "pets_api") is None
    assert store.resolve("classification", "other") is None
    # a newer version, no suffix given: the same URL now serves V2
    assert store.publish("pets", "V2")["suffix"] == "pets_api"
    assert store.resolve("classification", "pets_api").version == "V2"
    assert list(store.published()) == ["pets_api"]
    store.save("toys", clf.arrays(), _meta(clf))
    with pytest.raises(InvalidParameter, match="already serves model 'pets'"):
        store.publish("toys", suffix="pets_api")
    with pytest.raises(InvalidParameter, match="URL suffix"):
        store.publish("toys", suffix="no spaces")
    with pytest.raises(InvalidParameter, match="not detection"):
        store.publish("toys", kind="detection")
    assert store.publish("toys")["suffix"] == "toys"
    assert store.unpublish("toys")["name"] == "toys"
    assert store.unpublish("toys") is None
    assert set(store.published()) == {"pets_api"}


def test_at_most_ten_models_are_published(tmp_path, photo_features):
    x, y, classes = photo_features
    clf = fit_classifier(x, y, classes)
    store = ModelStore(tmp_path)
    for i in range(11):
        store.save(f"m{i}", clf.arrays(), _meta(clf))
    for i in range(10):
        store.publish(f"m{i}")
    with pytest.raises(InvalidParameter, match="at most 10 models"):
        store.publish("m10")
    assert store.publish("m3", suffix="moved")["suffix"] == "moved"  # re-publishing is fine
    assert "m3" not in store.published()
