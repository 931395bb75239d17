"""Alibaba's official `eas-prediction` client works against `vislab serve` with only its
endpoint changed: without a token, with the token (it signs every call, `EAS <signature>`),
and refused with a wrong token (HTTP 401 in PAI's shape)."""

from __future__ import annotations

import base64
import json
import os

import pytest

from tests.conftest import ServeProcess, jpeg_bytes

eas = pytest.importorskip(
    "eas_prediction", reason="Alibaba's eas-prediction client is a test dependency (Makefile)"
)

TOKEN = "eas-test-token-789"


@pytest.fixture(scope="module")
def open_server():
    server = ServeProcess(env={**os.environ})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token_server():
    server = ServeProcess(env={**os.environ, "VISLAB_SERVE_EAS_TOKEN": TOKEN})
    yield server
    print(server.stop())


def _client(server, service: str, token: str | None):
    client = eas.PredictClient(server.url, service)
    if token is not None:
        client.set_token(token)
    client.set_retry_count(1)
    client.init()
    return client


def _predict(client, body: dict) -> dict:
    return json.loads(client.predict(eas.StringRequest(json.dumps(body))).response_data)


def _b64(array) -> str:
    return base64.b64encode(jpeg_bytes(array)).decode()


def test_sdk_without_token_classifies(open_server, photos):
    reply = _predict(_client(open_server, "classify", None), {"image": _b64(photos["chelsea"])})
    assert reply["success"] is True and reply["request_id"]
    top5 = sorted(reply["class_probs"], key=reply["class_probs"].get, reverse=True)[:5]
    assert top5[0] == reply["class_name"] and "tabby cat" in top5
    assert abs(sum(reply["class_probs"].values()) - 1.0) < 1e-3


def test_sdk_with_token_signs_and_compares(token_server, photos):
    client = _client(token_server, "image_similarity", TOKEN)
    same = _predict(client, {"imagea": _b64(photos["coffee"]), "imageb": _b64(photos["coffee"])})
    other = _predict(client, {"imagea": _b64(photos["coffee"]), "imageb": _b64(photos["rocket"])})
    assert same["similarity"] == 100.0 and same["l2_distance"] < 1e-3
    assert other["similarity"] < 80
    product = _predict(
        _client(token_server, "product_compare", TOKEN),
        {
            "function_name": "match",
            "function_params": {
                "imagea": _b64(photos["coffee"]),
                "imageb": _b64(photos["chelsea"]),
                "metric": "Cosine",
            },
        },
    )
    assert set(product) == {"request_id", "success", "cosine_similarity"}


def test_sdk_with_wrong_or_no_token_is_refused(token_server, photos):
    body = {"image": _b64(photos["chelsea"])}
    for token in ("not-the-token", None):
        with pytest.raises(eas.PredictException) as info:
            _predict(_client(token_server, "classify", token), body)
        assert info.value.code == 401
        reply = json.loads(info.value.message)
        assert reply["success"] is False and reply["error_code"] == 401
        assert TOKEN.encode() not in info.value.message


def test_sdk_sees_not_available_locally(open_server, photos):
    with pytest.raises(eas.PredictException) as info:
        _predict(_client(open_server, "scene", None), {"image": _b64(photos["coffee"])})
    assert info.value.code == 501
    assert "no local model for 'scene'" in json.loads(info.value.message)["error_msg"]
