"""The official Baidu SDK (`baidu-aip`) works against `vislab serve` with only its URLs changed."""

from __future__ import annotations

import pytest

from tests.conftest import jpeg_bytes, point_at

aip = pytest.importorskip("aip", reason="the official SDK (baidu-aip) is a test dependency")


@pytest.fixture(scope="module")
def sdk(served):
    from aip import AipImageClassify

    return point_at(AipImageClassify("appid", served.api_key, served.secret_key), served.url)


def test_sdk_uses_token_not_bce_signature(sdk, photos):
    reply = sdk.advancedGeneral(jpeg_bytes(photos["chelsea"]))
    assert "error_code" not in reply, reply
    assert sdk._isCloudUser is False  # our token reply has brain_all_scope
    assert reply["result_num"] == len(reply["result"]) == 5
    assert "cat" in " ".join(r["keyword"] for r in reply["result"]).lower()


def test_sdk_methods(sdk, photos):
    image = jpeg_bytes(photos["coffee"])
    assert "result" in sdk.dishDetect(image, {"top_num": 3})
    assert "result" in sdk.carDetect(image, {"top_num": 3})
    assert "result" in sdk.animalDetect(image)
    assert "result" in sdk.plantDetect(image)
    box = sdk.objectDetect(image)["result"]
    assert box["width"] > 0 and box["height"] > 0
    assert isinstance(sdk.multiObjectDetect(image)["result"], list)


def test_sdk_sees_spec_errors(sdk):
    reply = sdk.advancedGeneral(b"definitely not an image")
    assert reply["error_code"] == 216201


def test_sdk_logo_library(sdk, photos):
    image = jpeg_bytes(photos["rocket"])
    added = sdk.logoAdd(image, '{"name": "sdk-rocket"}')
    sign = added["result"]["cont_sign"]
    found = sdk.logoSearch(image, {"custom_lib": "true"})
    assert found["result"][0]["name"] == '{"name": "sdk-rocket"}'
    assert "error_code" not in sdk.logoDeleteBySign(sign)
