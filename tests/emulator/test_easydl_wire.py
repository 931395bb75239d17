"""EasyDL's wire over a real `vislab serve`: published models, the reply format, every code."""

from __future__ import annotations

import base64
import io
import json
import os

import numpy as np
import pandas as pd
import pytest
import requests
from PIL import Image
from skimage import data

from tests.conftest import ServeProcess, jpeg_bytes
from tests.easydl import trained_models
from vislab import baidu
from vislab.engine.training.store import ModelStore

KEY, SECRET = "easydl-key-1", "easydl-secret-2"
CLS = "/rpc/2.0/ai_custom/v1/classification/"
DET = "/rpc/2.0/ai_custom/v1/detection/"


@pytest.fixture(scope="module")
def home():
    return trained_models.world()


@pytest.fixture(scope="module")
def server(home):
    env = {
        **os.environ,
        "VISLAB_HOME": str(home),
        "VISLAB_SERVE_API_KEY": KEY,
        "VISLAB_SERVE_SECRET_KEY": SECRET,
    }
    proc = ServeProcess(env=env)
    token = requests.post(
        proc.url + "/oauth/2.0/token",
        params={"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET},
        timeout=30,
    ).json()["access_token"]
    proc.post = lambda path, body, **kw: requests.post(
        proc.url + path, params={"access_token": token}, data=body, timeout=120, **kw
    ).json()
    proc.post_json = lambda path, fields: proc.post(
        path, json.dumps(fields), headers={"Content-Type": "application/json"}
    )
    yield proc
    proc.stop()


@pytest.fixture
def local_home(home, monkeypatch):
    monkeypatch.setenv("VISLAB_HOME", str(home))
    return home


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def png_bytes(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def test_classify_answers_like_easydl(server, home):
    reply = server.post_json(CLS + "pets", {"image": b64(jpeg_bytes(data.coffee()))})
    assert isinstance(reply["log_id"], int)
    names = [r["name"] for r in reply["results"]]
    scores = [r["score"] for r in reply["results"]]
    # top_num defaults to 6; the model has 3 classes, so all of them, best first.
    assert sorted(names) == sorted(trained_models.CLASSES) and names[0] == "cup"
    assert scores == sorted(scores, reverse=True)
    assert abs(sum(scores) - 1) < 1e-4
    # The numbers are the stored version's own prediction on the decoded image.
    model = ModelStore(home).load("pets", "V1")
    pixels = np.asarray(Image.open(io.BytesIO(jpeg_bytes(data.coffee()))).convert("RGB"))
    expected = model.classify(pixels)
    assert [(n, round(s, 6)) for n, s in expected] == list(zip(names, scores, strict=True))


@pytest.mark.parametrize("top_num", [1, "1", 2, "2"])
def test_top_num_number_or_string(server, top_num):
    reply = server.post_json(
        CLS + "pets", {"image": b64(jpeg_bytes(data.chelsea())), "top_num": top_num}
    )
    assert len(reply["results"]) == int(top_num)
    assert reply["results"][0]["name"] == "cat"


def test_detect_answers_boxes_with_location(server, home):
    images, boxes = trained_models.blob_images(2, seed=7)
    raw = png_bytes(images[0])
    reply = server.post_json(DET + "blob_finder", {"image": b64(raw)})
    results = reply["results"]
    assert results and isinstance(reply["log_id"], int)
    assert all(set(r["location"]) == {"left", "top", "width", "height"} for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.3  # default threshold
    # Every reported box is the model's own detection at that threshold.
    expected = ModelStore(home).load("blobs").detect(images[0], 0.3)
    assert len(results) == len(expected)
    for r, d in zip(results, expected, strict=True):
        assert r["name"] == d.name == "blob" and abs(r["score"] - d.score) < 1e-5
        assert abs(r["location"]["left"] - d.x) < 0.01 and abs(r["location"]["width"] - d.w) < 0.01
    # The boxes are where the squares are: each true square has a box centre inside it.
    centres = [
        (
            r["location"]["left"] + r["location"]["width"] / 2,
            r["location"]["top"] + r["location"]["height"] / 2,
        )
        for r in results
    ]
    hit = [
        any(x <= cx <= x + w and y <= cy <= y + h for cx, cy in centres) for x, y, w, h in boxes[0]
    ]
    assert sum(hit) >= len(hit) - 1


def test_threshold_filters(server):
    images, _ = trained_models.blob_images(1, seed=7)
    raw = b64(png_bytes(images[0]))
    low = server.post_json(DET + "blob_finder", {"image": raw, "threshold": 0.05})["results"]
    high = server.post_json(DET + "blob_finder", {"image": raw, "threshold": "0.6"})["results"]
    assert len(low) >= len(high)
    assert all(r["score"] >= 0.6 for r in high)
    assert [r["score"] for r in high] == [r["score"] for r in low if r["score"] >= 0.6]


def _code(reply):
    assert "results" not in reply, reply
    return reply["error_code"]


def test_form_body_is_336001(server):
    body = "image=" + requests.utils.quote(b64(jpeg_bytes(data.coffee())))
    reply = server.post(
        CLS + "pets", body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert _code(reply) == 336001 and "log_id" in reply


@pytest.mark.parametrize(
    "fields,code",
    [
        ({"image": "not base64 at all!!"}, 336001),
        ({"top_num": 3}, 336001),  # no image
        ({"image": ""}, 216200),
        ({"image": b64(b"plain text, no image")}, 216201),
        ({"image": "data:image/jpeg;base64," + b64(b"x" * 30)}, 336001),  # header not allowed
    ],
    ids=["bad-base64", "missing-image", "empty-image", "not-an-image", "data-uri-header"],
)
def test_request_codes(server, fields, code):
    assert _code(server.post_json(CLS + "pets", fields)) == code


@pytest.mark.parametrize("top_num", [0, -1, "abc", 1.5, 1001])
def test_bad_top_num_is_336001(server, top_num):
    fields = {"image": b64(jpeg_bytes(data.coffee())), "top_num": top_num}
    assert _code(server.post_json(CLS + "pets", fields)) == 336001


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "high"])
def test_bad_threshold_is_336001(server, threshold):
    fields = {"image": b64(jpeg_bytes(data.coffee())), "threshold": threshold}
    assert _code(server.post_json(DET + "blob_finder", fields)) == 336001


def test_oversized_and_out_of_range_images_are_216202(server):
    noise = np.random.default_rng(0).integers(0, 255, (1400, 1400, 3)).astype(np.uint8)
    big = png_bytes(noise)
    assert len(b64(big)) > 4 * 1024 * 1024
    assert _code(server.post_json(CLS + "pets", {"image": b64(big)})) == 216202
    tiny = png_bytes(np.zeros((10, 40, 3), np.uint8))  # shortest side under 15 px
    assert _code(server.post_json(CLS + "pets", {"image": b64(tiny)})) == 216202
    long = png_bytes(np.zeros((20, 4100, 3), np.uint8))  # longest side over 4096 px
    assert _code(server.post_json(CLS + "pets", {"image": b64(long)})) == 216202


def test_unknown_or_wrong_kind_suffix_is_3(server):
    image = b64(jpeg_bytes(data.coffee()))
    assert _code(server.post_json(CLS + "no_such_model", {"image": image})) == 3
    # A classifier's suffix on the detection path, and a detector's on the classification one.
    assert _code(server.post_json(DET + "pets", {"image": image})) == 3
    assert _code(server.post_json(CLS + "blob_finder", {"image": image})) == 3


def test_no_token_is_110(server):
    reply = requests.post(server.url + CLS + "pets", json={"image": "eA=="}, timeout=30).json()
    assert reply["error_code"] == 110


def test_client_over_http_equals_local(server, local_home):
    images = {"cat": data.chelsea(), "cup": data.coffee()}
    remote = baidu.EasyDL(
        server.url + CLS + "pets", api_key=KEY, secret_key=SECRET, progress=False, qps=0
    )
    local = baidu.EasyDL("pets", progress=False, qps=0)
    assert local.kind == remote.kind == "classification" and local.suffix == "pets"
    a, b = remote.classify(images, top_num=2), local.classify(images, top_num=2)
    cols = ["image", "rank", "label", "score"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a.groupby("image")["label"].first().to_dict() == {"cat": "cat", "cup": "cup"}

    blobs, _ = trained_models.blob_images(2, seed=3)
    det_remote = baidu.EasyDL(
        server.url + DET + "blob_finder", api_key=KEY, secret_key=SECRET, progress=False, qps=0
    )
    det_local = baidu.EasyDL("blobs", progress=False, qps=0)
    a = det_remote.detect({"b0": blobs[0], "b1": blobs[1]}, threshold=0.2)
    b = det_local.detect({"b0": blobs[0], "b1": blobs[1]}, threshold=0.2)
    cols = ["image", "label", "score", "x", "y", "w", "h"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert len(a) >= 4 and (a["score"] >= 0.2).all()


def test_client_error_rows_carry_easydl_codes(server, local_home):
    client = baidu.EasyDL(
        server.url + CLS + "no_such_model", api_key=KEY, secret_key=SECRET, progress=False, qps=0
    )
    with pytest.warns(UserWarning):
        df = client.classify({"cup": data.coffee()})
    assert df["error_code"].tolist() == [3]
    with pytest.raises(Exception) as info:
        client.classify({"cup": data.coffee()}, errors="raise")
    assert getattr(info.value, "code", None) == 3


def test_client_refuses_the_other_kinds_call(local_home):
    client = baidu.EasyDL("pets", progress=False)
    with pytest.raises(Exception, match="classification model: call classify"):
        client.detect(data.coffee())
    with pytest.raises(Exception, match="no model is published locally"):
        baidu.EasyDL("never_published")
    with pytest.raises(Exception, match="service URL"):
        baidu.EasyDL("pets", api_key="a", secret_key="b")


def test_client_default_qps_is_easydls_free_tier():
    assert baidu.EasyDL().session.limiter.qps == 2.0
    assert baidu.EasyDL(qps=5).session.limiter.qps == 5
