"""`vislab.pai.Client`: the wire it sends, the replies it reads, its errors — over a function
transport (replies no server of ours sends) and over a real `vislab serve`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import warnings

import pytest
import requests

from tests.conftest import ServeProcess, jpeg_bytes
from vislab import pai
from vislab.errors import (
    AuthError,
    FailedImagesWarning,
    InvalidParameter,
    InvalidRequest,
    NotAvailableLocally,
)
from vislab.transport import FunctionTransport, WireReply, eas_signature
from vislab.transport.local import json_reply

TOKEN = "pai-client-token-42"


def _ok(payload):
    return json_reply({"request_id": "r-1", "success": True, **payload})


def _client(func, **kwargs):
    transport = FunctionTransport(func)
    client = pai.Client(transport=transport, progress=False, **kwargs)
    return client, transport


# -- the wire ---------------------------------------------------------------------------------
def test_service_names_come_from_the_mapping(photos):
    client, t = _client(lambda req: _ok({"class": 0, "class_name": "x", "class_probs": {"x": 1}}),
                        services={"classify": "my_resnet"})  # fmt: skip
    client.classify(photos["chelsea"])
    assert t.requests[0].path == "/api/predict/my_resnet"
    assert set(json.loads(t.requests[0].body)) == {"image"}
    with pytest.raises(InvalidParameter, match="no method 'clasify'"):
        pai.Client(services={"clasify": "x"})
    with pytest.raises(InvalidParameter, match="not an EAS service name"):
        pai.Client(services={"ocr": "../etc"})


def test_token_header_and_hmac_form(photos):
    reply = {"similarity": [1.0], "l2_distance": [0.0]}
    client, t = _client(lambda req: _ok(reply), token=TOKEN)
    client.image_similarity(photos["coffee"], photos["coffee"])
    assert t.requests[0].headers["Authorization"] == TOKEN
    signed, t2 = _client(lambda req: _ok(reply), token=TOKEN, signed=True)
    signed.image_similarity(photos["coffee"], photos["coffee"])
    req = t2.requests[0]
    assert req.headers["Content-MD5"] == hashlib.md5(req.body).hexdigest()
    assert req.headers["Authorization"] == eas_signature(
        TOKEN, content_md5=req.headers["Content-MD5"], content_type=req.content_type,
        date=req.headers["Date"], resource="/api/predict/image_similarity",
    )  # fmt: skip
    body = json.loads(req.body)
    assert set(body) == {"imagea", "imageb"}
    assert TOKEN not in repr(signed) and TOKEN not in repr(signed.session.auth)


def test_product_compare_sends_the_function_call_and_returns_only_its_metric(photos):
    client, t = _client(lambda req: _ok({"cosine_similarity": 0.885}))
    df = client.product_compare(photos["coffee"], photos["chelsea"], metric="Cosine")
    body = json.loads(t.requests[0].body)
    assert body["function_name"] == "match"
    assert set(body["function_params"]) == {"imagea", "imageb", "metric"}
    assert body["function_params"]["metric"] == "Cosine"
    assert df.loc[0, "cosine"] == 0.885 and df["l2_distance"].isna().all()
    with pytest.raises(InvalidParameter, match="metric must be one of"):
        client.product_compare(photos["coffee"], photos["chelsea"], metric="cos")


def test_foreground_sends_urls_and_refuses_local_images(photos):
    client, t = _client(lambda req: _ok({"human_ratio": "0.5", "mask": [[0, 1], [1, 0]]}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = client.segment_foreground(
            {"web": "https://example.com/frame.jpg", "local": photos["astronaut"]}
        )
    assert json.loads(t.requests[0].body) == {"input": {"url": "https://example.com/frame.jpg"}}
    assert len(t.requests) == 1  # the array never went on the wire
    assert df["image"].tolist() == ["web", "local"]
    assert df.loc[0, "human_ratio"] == 0.5
    assert "takes image URLs" in df.loc[1, "error_msg"]
    assert any(issubclass(w.category, FailedImagesWarning) for w in caught)


def test_only_http_500_is_retried(photos):
    calls = []

    def flaky(status):
        def answer(req):
            calls.append(status)
            if len(calls) == 1:
                return WireReply(status, {}, b'{"success": false, "error_msg": "busy"}')
            return _ok({"class": 0, "class_name": "x", "class_probs": {"x": 1.0}})

        return answer

    client, _ = _client(flaky(500), retries=2)
    assert client.classify(photos["coffee"]).loc[0, "label"] == "x"
    assert calls == [500, 500]
    calls.clear()
    client, _ = _client(flaky(502), retries=2)
    with pytest.raises(Exception) as info:
        client.classify(photos["coffee"], errors="raise")
    assert calls == [502] and info.value.http_status == 502


def test_two_faces_is_an_invalid_request_naming_the_rule(photos):
    body = {"request_id": "r", "success": False, "error_code": 400,
            "error_msg": "face_similarity: image a holds 2 faces; one face per image"}  # fmt: skip
    client, _ = _client(lambda req: WireReply(400, {}, json.dumps(body).encode()))
    with pytest.raises(InvalidRequest, match="one face per image"):
        client.face_similarity(photos["astronaut"], photos["astronaut"], errors="raise")


def test_batches_keep_one_row_per_input_with_error_rows(photos):
    def answer(req):
        image = json.loads(req.body)["image"]
        if len(image) < 2000:
            return WireReply(400, {}, b'{"success": false, "error_code": 400, "error_msg": "x"}')
        return _ok({"face_age": [30.0, 41.5], "face_gender": ["male", "female"],
                    "face_emo": ["Neutral,", "Happiness,"],
                    "face_bbox": [[1, 2, 11, 22, 0.9], [30, 5, 50, 45, 0.8]]})  # fmt: skip

    client, _ = _client(answer, fit=False)
    tiny = photos["astronaut"][:40, :40]
    with pytest.warns(FailedImagesWarning):
        df = client.face_attributes({"team": photos["astronaut"], "tiny": tiny})
    assert df["image"].tolist() == ["team", "team", "tiny"]
    assert df["expression"].tolist()[:2] == ["Neutral", "Happiness"]
    assert df["error_code"].tolist()[2] == 400
    assert df.loc[1, ["x", "y", "w", "h"]].tolist() == [30.0, 5.0, 20.0, 40.0]


def test_images_out_come_back_as_pil(photos):
    out = base64.b64encode(jpeg_bytes(photos["coffee"])).decode()
    client, _ = _client(lambda req: _ok({"out_image": out}))
    img = client.colorize(photos["rocket"]).loc[0, "out_image"]
    assert img.size == (photos["coffee"].shape[1], photos["coffee"].shape[0])


def test_pairs_need_as_many_a_as_b(photos):
    client, _ = _client(lambda req: _ok({"similarity": 1.0}))
    with pytest.raises(InvalidParameter, match="a\\[i\\] with b\\[i\\]"):
        client.image_similarity([photos["coffee"]] * 2, [photos["coffee"]])


# -- offline and over a real vislab serve ------------------------------------------------------
def test_local_answers_and_not_available_locally(photos):
    client = pai.Client(progress=False)
    df = client.image_similarity(
        {"coffee": photos["coffee"], "cat": photos["chelsea"]},
        {"coffee copy": photos["coffee"], "rocket": photos["rocket"]},
    )
    assert df["similarity"].tolist()[0] == 100.0 and df["similarity"].tolist()[1] < 80
    with pytest.raises(NotAvailableLocally) as info:
        client.colorize(photos["rocket"], errors="raise")
    msg = str(info.value)
    assert "NoGAN" in msg and "PAI-EAS" in msg and "ONNX" in msg


@pytest.fixture(scope="module")
def served_pai():
    server = ServeProcess(env={**os.environ, "VISLAB_SERVE_EAS_TOKEN": TOKEN})
    yield server
    assert TOKEN not in server.stop()  # never in the server's output


@pytest.mark.parametrize("signed", [False, True])
def test_client_over_vislab_serve(served_pai, photos, signed):
    client = pai.Client(served_pai.url, token=TOKEN, signed=signed, progress=False)
    labels = client.classify({"cat": photos["chelsea"], "coffee": photos["coffee"]})
    assert labels.groupby("image")["rank"].max().tolist() == [1000, 1000]
    pairs = client.product_compare(photos["coffee"], photos["coffee"], metric="L2")
    assert pairs.loc[0, "l2_distance"] < 1e-3 and pairs["cosine"].isna().all()


def test_wrong_token_over_vislab_serve_is_an_auth_error(served_pai, photos):
    client = pai.Client(served_pai.url, token="wrong-token", progress=False)
    with pytest.raises(AuthError) as info:
        client.classify(photos["chelsea"])
    assert "wrong-token" not in str(info.value)
    with pytest.raises(AuthError):
        pai.Client(served_pai.url, progress=False).classify(photos["chelsea"])


def test_vislab_serve_answers_pai_shapes(served_pai):
    big = requests.post(
        f"{served_pai.url}/api/predict/classify",
        data=b"{" + b" " * (13 * 1024 * 1024) + b"}",
        headers={"Authorization": TOKEN, "Content-Type": "application/json"},
        timeout=60,
    )
    assert big.status_code == 413
    assert big.json()["success"] is False and big.json()["error_code"] == 413
    bad = requests.post(
        f"{served_pai.url}/api/predict/classify",
        json={"image": "not base64!"},
        headers={"Authorization": TOKEN},
        timeout=30,
    )
    assert bad.status_code == 400 and bad.json()["success"] is False
    assert bad.json()["request_id"]
    missing = requests.post(
        f"{served_pai.url}/api/predict/scene",
        json={"image": base64.b64encode(jpeg_bytes(np_image())).decode()},
        headers={"Authorization": TOKEN},
        timeout=30,
    )
    assert missing.status_code == 501 and "no local model" in missing.json()["error_msg"]


def np_image():
    from skimage import data

    return data.coffee()


def test_endpoint_and_token_from_the_environment(monkeypatch, photos):
    monkeypatch.setenv("VISLAB_PAI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("VISLAB_PAI_TOKEN", "env-token-xyz")
    client = pai.Client(progress=False, retries=0)
    assert client.mode == "http" and "env-token-xyz" not in repr(client)
    assert "env-token-xyz" not in repr(client.session.auth)
    with pytest.raises(InvalidParameter, match="http\\(s\\) URL"):
        pai.Client("ftp://x")


@pytest.mark.parametrize("order", ["F", "C"])
def test_instance_masks_in_the_clients_scan_order(photos, order):
    import numpy as np

    from vislab.masks import pai_rle_encode, rle_decode

    mask = np.zeros((6, 4), bool)
    mask[1:4, 0:3] = True
    mask[5, 3] = True
    reply = {"detection_boxes": [[1, 0, 6, 4]], "detection_scores": [0.9],
             "detection_classes": [1], "detection_class_names": ["cat"],
             "detection_masks": [pai_rle_encode(mask, order=order)]}  # fmt: skip
    client, _ = _client(lambda req: _ok(reply), rle_order=order)
    df = client.segment_instance(photos["chelsea"])
    assert np.array_equal(rle_decode(df.loc[0, "mask"]), mask)
    assert df.loc[0, ["x", "y", "w", "h"]].tolist() == [0.0, 1.0, 4.0, 5.0]
    with pytest.raises(InvalidParameter, match="rle_order"):
        pai.Client(rle_order="row")
