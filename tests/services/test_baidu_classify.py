"""The Baidu recognition client end to end, locally and over HTTP against `vislab serve`."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.conftest import jpeg_bytes
from vislab import baidu
from vislab.errors import AuthError, FailedImagesWarning, InvalidParameter
from vislab.frames import BOXES, LABELS, error_rows, ok_rows


@pytest.fixture(scope="module")
def local():
    return baidu.ImageClassify(progress=False)


@pytest.fixture(scope="module")
def remote(served):
    return baidu.ImageClassify(served.api_key, served.secret_key, base_url=served.url,
                               progress=False)


def test_advanced_general_local(local, photo_files):
    df = local.advanced_general(photo_files["chelsea"])
    assert list(df.columns[:4]) == list(LABELS)
    assert df["rank"].tolist() == [1, 2, 3, 4, 5]
    assert df["score"].is_monotonic_decreasing and df["score"].between(0, 1).all()
    assert df["root"].notna().all()
    assert "cat" in " ".join(df["label"]).lower()
    assert df.attrs["service"] == "baidu.image_classify.advanced_general"
    raw = df.attrs["raw"][str(photo_files["chelsea"])]
    assert raw["result_num"] == 5 and "log_id" in raw


def test_local_and_http_give_the_same_answer(local, remote, photo_files):
    images = [photo_files["coffee"], photo_files["rocket"]]
    a = local.advanced_general(images)
    b = remote.advanced_general(images)
    pd.testing.assert_frame_equal(a, b)
    assert remote.mode == "http" and "test-secret" not in repr(remote)


def test_batch_keeps_a_row_for_every_image(local, photo_files, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    images = [photo_files["chelsea"], broken, tmp_path / "missing.jpg",
              np.zeros((10, 10, 3), np.uint8), photo_files["coffee"]]
    with pytest.warns(FailedImagesWarning, match="3 of 5 inputs failed"):
        df = local.dish_detect(images, top_num=2)
    assert df["image"].unique().tolist() == [str(p) if not isinstance(p, np.ndarray)
                                             else "image-3" for p in images]
    errors = error_rows(df).set_index("image")
    # The code the service would give for the same image; vislab's own for a missing file.
    rules = errors[["error_code", "error_rule"]].apply(tuple, axis=1).to_dict()
    assert rules[str(broken)] == (216201, "decode")
    assert rules[str(tmp_path / "missing.jpg")] == (990100, "missing")
    assert rules["image-3"] == (216202, "min_side")
    assert len(ok_rows(df)) >= 2


def test_subset_views(local, photos):
    cat = local.animal_detect({"cat": photos["chelsea"]}, top_num=3)
    assert len(cat) == 3 and "cat" in cat["label"].iloc[0].lower()
    coffee_as_car = local.car_detect({"coffee": photos["coffee"]})
    assert coffee_as_car["label"].tolist() == ["not car"]
    dish = local.dish_detect({"coffee": photos["coffee"]}, top_num=3)
    assert len(dish) >= 1 and dish["score"].between(0, 1).all()
    assert "calorie" not in dish or dish["calorie"].isna().all()  # never invented


def test_object_detect_boxes(local, photos):
    df = local.object_detect({"cat": photos["chelsea"]})
    assert list(df.columns[:7]) == list(BOXES) and len(df) == 1
    row = df.iloc[0]
    h, w = photos["chelsea"].shape[:2]
    assert 0 <= row.x < w and 0 <= row.y < h and row.w > 20 and row.h > 20
    assert row.x + row.w <= w + 1 and row.y + row.h <= h + 1
    assert pd.isna(row.label) and pd.isna(row.score)


def test_multi_object_detect(local, photos):
    df = local.multi_object_detect({"astronaut": photos["astronaut"]})
    assert len(df) >= 1 and df["label"].notna().all() and (df["w"] > 0).all()


def test_bad_parameter_fails_before_any_call(local, photo_files):
    with pytest.raises(InvalidParameter, match="top_num"):
        local.dish_detect(photo_files["coffee"], top_num=0)
    with pytest.raises(InvalidParameter, match="no parameter 'topnum'"):
        local._call("dish_detect", photo_files["coffee"], {"topnum": 3})


def test_wrong_keys_give_auth_error(served, photo_files):
    client = baidu.ImageClassify("wrong-key", "wrong-secret", base_url=served.url,
                                 progress=False)
    with pytest.raises(AuthError) as info:
        client.advanced_general(photo_files["coffee"])
    assert "wrong-secret" not in str(info.value) and "wrong-key" not in str(info.value)


def test_cache_avoids_second_call(photo_files, tmp_path, served):
    client = baidu.ImageClassify(served.api_key, served.secret_key, base_url=served.url,
                                 cache=tmp_path / "cache", progress=False)
    first = client.advanced_general(photo_files["rocket"])
    calls = []
    original = client.transport.send
    client.transport.send = lambda *a, **k: calls.append(a) or original(*a, **k)
    second = client.advanced_general(photo_files["rocket"])
    assert calls == []
    pd.testing.assert_frame_equal(first.drop(columns=[]), second)
    # Different parameters are a different cache entry.
    client.animal_detect(photo_files["rocket"])
    assert len(calls) == 1


def test_oversized_image_is_fitted(local, photos):
    big = Image.fromarray(photos["coffee"]).resize((5000, 3334))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    df = local.advanced_general({"big": buf.getvalue()})
    assert ok_rows(df).shape[0] == 5


def test_logo_library_roundtrip(local, photos, tmp_path):
    logo = Image.fromarray(photos["rocket"]).resize((200, 300))
    add = local.logo_add({"rocket-logo": jpeg_bytes(np.asarray(logo))},
                         brief={"name": "rocket co"})
    sign = add["cont_sign"].iloc[0]
    assert isinstance(sign, str) and "," in sign
    hits = local.logo_search({"query": photos["rocket"]})
    assert hits["label"].iloc[0] == '{"name": "rocket co"}'
    from vislab.emulator.baidu_image_classify import LOGO_MIN_SCORE

    assert hits["score"].iloc[0] > LOGO_MIN_SCORE + 0.1
    miss = local.logo_search({"cat": photos["chelsea"]})
    assert miss["label"].isna().all()  # an empty row: no logo found, image kept
    gone = local.logo_delete(cont_sign=sign)
    assert gone["deleted"].tolist() == [True]
    again = local.logo_delete(cont_sign=sign)
    assert again["error_code"].tolist() == [216680]
