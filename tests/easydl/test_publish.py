"""Publishing trained versions: the URL stays when a newer version is published, unpublish and
republish, EasyDL's limit of 10, and `vislab serve` answering what is published right now."""

from __future__ import annotations

import json
import os

import pytest
import requests
from skimage import data

from tests.conftest import ServeProcess, jpeg_bytes
from tests.easydl import trained_models
from vislab import baidu, easydl
from vislab.emulator import local_app
from vislab.engine.training.store import ModelStore
from vislab.errors import InvalidParameter

PATH = "/rpc/2.0/ai_custom/v1/classification/"


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """A home with model ``parts`` in two versions whose weights differ."""
    home = tmp_path_factory.mktemp("publish-home")
    store = ModelStore(home)
    v1 = trained_models.save_classifier(store, "parts")
    v2 = trained_models.save_classifier(store, "parts", c=0.01, views=2)
    return home, v1, v2


@pytest.fixture
def home(versions, monkeypatch):
    home = versions[0]
    monkeypatch.setenv("VISLAB_HOME", str(home))
    yield home
    for suffix in list(ModelStore(home).published()):
        ModelStore(home).unpublish(suffix)


def _scores(df):
    return dict(zip(df["label"], df["score"].round(6), strict=True))


def _expected(model, image):
    return {n: round(s, 6) for n, s in model.classify(image)}


def test_newer_version_keeps_the_url_and_answers(home, versions):
    _, v1, v2 = versions
    cup = jpeg_bytes(data.coffee())  # sent as is: the server decodes these very pixels
    pixels = trained_models.decoded_jpeg(data.coffee())
    assert _expected(v1, pixels) != _expected(v2, pixels)  # the versions really differ

    first = easydl.publish("parts")  # version V1 by default
    assert first["suffix"] == "parts" and first["version"] == "V1"
    assert first["path"] == PATH + "parts"
    client = baidu.EasyDL("parts", progress=False, qps=0)
    assert _scores(client.classify({"cup": cup})) == _expected(v1, pixels)

    second = easydl.publish("parts", "V2")
    assert second["path"] == first["path"]  # the URL does not change (spec F5)
    assert _scores(client.classify({"cup": cup})) == _expected(v2, pixels)
    table = easydl.published()
    assert table[["suffix", "name", "version", "kind"]].values.tolist() == [
        ["parts", "parts", "V2", "classification"]
    ]


def test_unpublish_then_republish(home, versions):
    easydl.publish("parts", "V2")
    client = baidu.EasyDL("parts", progress=False, qps=0)
    removed = easydl.unpublish("parts")
    assert removed["suffix"] == "parts" and removed["version"] == "V2"
    assert easydl.published().empty and easydl.unpublish("parts") is None
    with pytest.warns(UserWarning):
        df = client.classify({"cup": data.coffee()})
    assert df["error_code"].tolist() == [3]  # unpublished: "Unsupported openapi method"
    again = easydl.publish("parts", "V1")
    assert again["path"] == PATH + "parts"
    assert client.classify({"cup": data.coffee()})["error_code"].isna().all()


def test_a_new_suffix_moves_the_url(home):
    easydl.publish("parts", "V1")
    moved = easydl.publish("parts", "V1", suffix="parts_api")
    assert moved["path"] == PATH + "parts_api"
    assert easydl.published()["suffix"].tolist() == ["parts_api"]
    df = baidu.EasyDL("parts_api", progress=False, qps=0).classify(data.coffee())
    assert df["error_code"].isna().all()
    assert baidu.EasyDL("parts").suffix == "parts_api"  # the name follows its model
    # The old suffix no longer answers (in-process, the app every local client talks to).
    body = json.dumps({"image": trained_models.b64(jpeg_bytes(data.coffee()))}).encode()
    status, _, out = local_app().handle("POST", PATH + "parts", {}, {}, body)
    assert json.loads(out)["error_code"] == 3


def test_refusals(home, versions):
    with pytest.raises(InvalidParameter, match="reserved"):
        easydl.publish("parts", suffix="imagenet")
    with pytest.raises(InvalidParameter, match="has no version 'V9'"):
        easydl.publish("parts", "V9")
    with pytest.raises(InvalidParameter, match="suffix"):
        easydl.publish("parts", suffix="bad suffix!")
    store = ModelStore(home)
    v1 = store.load("parts", "V1")
    store.save("other", v1.arrays, {k: v1.meta[k] for k in ("kind", "classes", "recipe", "head")})
    easydl.publish("other", suffix="taken")
    with pytest.raises(InvalidParameter, match="already serves model 'other'"):
        easydl.publish("parts", suffix="taken")


def test_at_most_ten_published_models(home):
    store = ModelStore(home)
    v1 = store.load("parts", "V1")
    meta = {k: v1.meta[k] for k in ("kind", "classes", "recipe", "head")}
    names = [f"m{i}" for i in range(11)]
    for name in names:
        if not store.versions(name):
            store.save(name, v1.arrays, meta)
    for name in names[:10]:
        easydl.publish(name)
    with pytest.raises(InvalidParameter, match="at most 10"):
        easydl.publish(names[10])
    easydl.publish(names[0], "V1")  # re-publishing a published model is still allowed
    assert len(easydl.published()) == 10


def test_vislab_serve_answers_what_is_published_now(home, versions):
    env = {**os.environ, "VISLAB_HOME": str(home)}
    env.pop("VISLAB_SERVE_API_KEY", None)
    env.pop("VISLAB_SERVE_SECRET_KEY", None)
    server = ServeProcess(env=env)
    try:
        body = {"image": trained_models.b64(jpeg_bytes(data.coffee())), "top_num": 1}

        def ask():
            return requests.post(server.url + PATH + "parts", json=body, timeout=120).json()

        assert ask()["error_code"] == 3  # nothing published yet
        easydl.publish("parts", "V1")
        assert ask()["results"][0]["name"] == "cup"
        v1_score = ask()["results"][0]["score"]
        easydl.publish("parts", "V2")
        assert ask()["results"][0]["score"] != v1_score  # the new version, same URL
        easydl.unpublish("parts")
        assert ask()["error_code"] == 3
    finally:
        server.stop()
