"""The official SDK's ``AipImageSearch`` works against `vislab serve` with only its URLs changed."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.conftest import jpeg_bytes, point_at

aip = pytest.importorskip("aip", reason="the official SDK (baidu-aip) is a test dependency")


@pytest.fixture(scope="module")
def sdk(served):
    from aip import AipImageSearch

    return point_at(AipImageSearch("appid", served.api_key, served.secret_key), served.url)


def picture(name: str, mark: int) -> bytes:
    """A real photo as JPEG bytes, one pixel changed so it is this test's own image."""
    from skimage import data

    img = np.asarray(getattr(data, name)()).copy()
    img = np.repeat(img[..., None], 3, 2) if img.ndim == 2 else img
    img[:8, :8] = (mark, 255 - mark, 77)
    return jpeg_bytes(img)


def test_similar_gallery_lifecycle(sdk):
    cat, cup = picture("chelsea", 1), picture("coffee", 1)
    added = sdk.similarAdd(cat, '{"name": "sdk-cat"}', {"tags": "21,22"})
    assert "error_code" not in added, added
    sign = added["cont_sign"]
    assert sdk.similarAdd(cup, "sdk-cup", {"tags": "21"})["cont_sign"]
    assert sdk.similarAdd(cat, "dup")["error_code"] == 216681

    found = sdk.similarSearch(cat, {"tags": "21,22", "tag_logic": "0", "pn": "0", "rn": "10"})
    assert found["result"][0] == {"cont_sign": sign, "score": 1.0, "brief": '{"name": "sdk-cat"}'}
    assert found["result_num"] == 1
    assert sdk.similarSearch(cat, {"tags": "21,22", "tag_logic": "1"})["result_num"] >= 2

    assert "error_code" not in sdk.similarUpdateContSign(sign, {"brief": "renamed", "tags": "23"})
    assert sdk.similarSearch(cat, {"tags": "23"})["result"][0]["brief"] == "renamed"
    assert "error_code" not in sdk.similarUpdate(cat, {"brief": "by image"})
    assert "error_code" not in sdk.similarDeleteBySign(sign)
    assert sdk.similarSearch(cat, {"tags": "23"})["result_num"] == 0
    assert "error_code" not in sdk.similarDeleteByImage(cup)
    assert sdk.similarDeleteBySign(sign)["error_code"] == 216680


def test_same_hq_finds_an_edited_copy(sdk):
    from PIL import Image

    original = picture("astronaut", 2)
    sign = sdk.sameHqAdd(original, "sdk-astronaut")["cont_sign"]
    smaller = io.BytesIO()
    Image.open(io.BytesIO(original)).resize((256, 256)).save(smaller, "JPEG", quality=60)
    hits = sdk.sameHqSearch(smaller.getvalue())["result"]
    assert [h["cont_sign"] for h in hits] == [sign]
    assert sdk.sameHqSearch(picture("rocket", 2))["result"] == []
    assert "error_code" not in sdk.sameHqUpdateContSign(sign, {"brief": "x"})
    assert "error_code" not in sdk.sameHqDeleteBySign(sign)


def test_product_picturebook_materiel(sdk):
    cup = picture("coffee", 3)
    sign = sdk.productAdd(cup, "sdk-cup", {"class_id1": 31, "class_id2": 32})["cont_sign"]
    assert sdk.productSearch(cup, {"class_id1": 31})["result"][0]["cont_sign"] == sign
    assert "error_code" not in sdk.productUpdateContSign(sign, {"class_id1": 33})
    assert sdk.productSearch(cup, {"class_id1": 33})["result"][0]["cont_sign"] == sign
    assert "error_code" not in sdk.productDeleteBySign(sign)

    page = picture("text", 3)
    psign = sdk.pictureBookAddImage(page, "page-1")["cont_sign"]
    assert sdk.pictureBookSearchImage(page, {"rn": "5"})["result"][0]["cont_sign"] == psign
    assert sdk.pictureBookSearchImage(page, {"rn": "101"})["error_code"] == 216100
    assert "error_code" not in sdk.pictureBookDeleteBySign(psign)

    brick = picture("brick", 3)
    msign = sdk.materielAdd(brick, "brick")["cont_sign"]
    assert sdk.materielSearch(brick)["result"][0]["cont_sign"] == msign
    assert "error_code" not in sdk.materielUpdateContSign(msign, "brick wall")
    assert "error_code" not in sdk.materielDeleteBySign(msign)
