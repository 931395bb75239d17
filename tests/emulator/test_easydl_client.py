"""The EasyDL client's session for a cloud URL: token, JSON body, retries, QPS, cache.

A function transport plays the cloud here: these are replies (a transient 336000, a QPS
refusal, an invalidated token) that no local server gives on demand.
"""

from __future__ import annotations

import json

import pytest
from skimage import data

from tests.conftest import jpeg_bytes
from vislab import baidu
from vislab.errors import InvalidRequest
from vislab.transport import FunctionTransport
from vislab.transport.local import json_reply

URL = "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/classification/my_model"
OK = {"log_id": 7, "results": [{"name": "b", "score": 0.2}, {"name": "a", "score": 0.8}]}


def cloud(answers, **kwargs):
    """A client whose cloud answers from ``answers`` (a list of reply dicts, in order)."""
    queue = list(answers)
    tokens = iter(f"token-{i}" for i in range(100))

    def reply(request):
        if request.path == "/oauth/2.0/token":
            return json_reply({"access_token": next(tokens), "expires_in": 2592000})
        return json_reply(queue.pop(0))

    transport = FunctionTransport(reply)
    client = baidu.EasyDL(
        URL, api_key="AK", secret_key="SK", transport=transport, progress=False, **kwargs
    )
    return client, transport


def _calls(transport):
    return [r for r in transport.requests if r.path != "/oauth/2.0/token"]


def test_cloud_url_json_body_and_token(monkeypatch):
    client, transport = cloud([OK])
    assert baidu.EasyDL(URL, api_key="AK", secret_key="SK").mode == "cloud"
    assert client.kind == "classification" and client.suffix == "my_model"
    df = client.classify({"x": jpeg_bytes(data.coffee())}, top_num=3)
    assert df[["rank", "label", "score"]].values.tolist() == [[1, "a", 0.8], [2, "b", 0.2]]
    (sent,) = _calls(transport)
    assert sent.path == "/rpc/2.0/ai_custom/v1/classification/my_model"
    assert sent.query["access_token"] == "token-0"
    assert sent.headers["Content-Type"].startswith("application/json")
    body = json.loads(sent.body)
    assert body["top_num"] == 3  # a number, as the API table types it
    assert not body["image"].startswith("data:")  # base64 without a data-URI header
    assert "AK" not in repr(client) and "SK" not in repr(client.session)


@pytest.mark.parametrize("code", [336000, 18, 282000])
def test_transient_codes_are_retried(code):
    client, transport = cloud([{"error_code": code, "error_msg": "busy"}, OK], qps=0)
    df = client.classify({"x": jpeg_bytes(data.coffee())})
    assert df["error_code"].isna().all() and len(_calls(transport)) == 2


def test_invalid_token_is_fetched_again_once():
    client, transport = cloud([{"error_code": 110, "error_msg": "Access token invalid"}, OK])
    client.classify({"x": jpeg_bytes(data.coffee())})
    assert [r.query["access_token"] for r in _calls(transport)] == ["token-0", "token-1"]


def test_input_codes_are_not_retried():
    client, transport = cloud([{"error_code": 336001, "error_msg": "Invalid Argument"}])
    with pytest.raises(InvalidRequest, match="336001"):
        client.classify({"x": jpeg_bytes(data.coffee())}, errors="raise")
    assert len(_calls(transport)) == 1


def test_cache_answers_a_second_time_without_a_request(tmp_path):
    client, transport = cloud([OK], cache=tmp_path / "cache")
    image = {"x": jpeg_bytes(data.coffee())}
    first, second = client.classify(image), client.classify(image)
    assert first[["label", "score"]].equals(second[["label", "score"]])
    assert len(_calls(transport)) == 1


def test_a_cloud_detection_url_and_a_url_of_another_form():
    det = baidu.EasyDL(
        "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/detection/shelf",
        api_key="AK",
        secret_key="SK",
    )
    assert (det.kind, det.suffix) == ("detection", "shelf")
    other = baidu.EasyDL("https://example.com/custom/path?x=1", api_key="AK", secret_key="SK")
    assert other.kind is None and other._path_for("detect") == "/custom/path?x=1"
    with pytest.raises(Exception, match="http"):
        baidu.EasyDL("ftp://example.com/x")
