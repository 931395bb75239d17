"""The official SDK's ``aip.EasyDL.predictImage`` works against `vislab serve` unchanged."""

from __future__ import annotations

import os

import pytest
from skimage import data

from tests.conftest import ServeProcess, jpeg_bytes, point_at
from tests.easydl import trained_models

aip = pytest.importorskip("aip", reason="the official SDK (baidu-aip) is a test dependency")

KEY, SECRET = "sdk-key-1", "sdk-secret-2"


@pytest.fixture(scope="module")
def server():
    env = {
        **os.environ,
        "VISLAB_HOME": str(trained_models.world()),
        "VISLAB_SERVE_API_KEY": KEY,
        "VISLAB_SERVE_SECRET_KEY": SECRET,
    }
    proc = ServeProcess(env=env)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def sdk(server):
    from aip import EasyDL

    return point_at(EasyDL("appid", KEY, SECRET), server.url)


def test_predict_image_classification(sdk, server):
    url = server.url + "/rpc/2.0/ai_custom/v1/classification/pets"
    reply = sdk.predictImage(url, jpeg_bytes(data.chelsea()), {"top_num": "2"})
    assert "error_code" not in reply, reply
    assert isinstance(reply["log_id"], int)
    assert [r["name"] for r in reply["results"]][:1] == ["cat"]
    assert len(reply["results"]) == 2


def test_predict_image_detection(sdk, server):
    images, _ = trained_models.blob_images(1, seed=7)
    url = server.url + "/rpc/2.0/ai_custom/v1/detection/blob_finder"
    reply = sdk.predictImage(url, jpeg_bytes(images[0]), {"threshold": 0.4})
    assert "error_code" not in reply, reply
    assert reply["results"] and all(r["score"] >= 0.4 for r in reply["results"])
    assert set(reply["results"][0]["location"]) == {"left", "top", "width", "height"}


def test_sdk_sees_easydl_codes(sdk, server):
    base = server.url + "/rpc/2.0/ai_custom/v1/classification/"
    assert sdk.predictImage(base + "pets", b"not an image")["error_code"] == 216201
    assert sdk.predictImage(base + "unknown_suffix", jpeg_bytes(data.coffee()))["error_code"] == 3
    bad = sdk.predictImage(base + "pets", jpeg_bytes(data.coffee()), {"top_num": "zero"})
    assert bad["error_code"] == 336001
