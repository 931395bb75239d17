"""The generic classification API: local and over `vislab serve`, its image rules, its codes."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import pytest
import requests
from PIL import Image

from tests.test_transport import Scripted, js
from vislab import generic
from vislab.catalogue.generic import LOCAL_ROUTE
from vislab.emulator import EmulatorApp
from vislab.errors import AuthError
from vislab.frames import LABELS, error_rows, ok_rows
from vislab.transport import FunctionTransport, json_reply

ROUTE = LOCAL_ROUTE.format(model="imagenet")


def encoded(array, fmt="JPEG", **save) -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, fmt, **save)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def app():
    return EmulatorApp()


def post(app, body, path=ROUTE):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _, out = app.handle("POST", path, {}, {"Content-Type": "application/json"}, raw)
    return status, json.loads(out)


def test_local_frame_ranked_by_score_with_prediction(photos):
    df = generic.Classifier(progress=False).classify({"cat": photos["chelsea"]})
    assert list(df.columns[:4]) == list(LABELS)
    assert len(df) == 1000 and df["rank"].tolist() == list(range(1, 1001))
    assert df["score"].is_monotonic_decreasing
    assert df["score"].sum() == pytest.approx(1.0, abs=1e-3)
    assert (df["prediction"] == df["label"].iloc[0]).all()
    assert "cat" in df["label"].iloc[0]
    top = generic.Classifier(progress=False).classify({"cat": photos["chelsea"]}, top_k=3)
    pd.testing.assert_frame_equal(top, df.head(3), check_like=True)


def test_same_answer_over_vislab_serve(served, photos):
    url = served.url + ROUTE
    over_http = generic.Classifier(url, progress=False).classify({"cup": photos["coffee"]}, top_k=5)
    local = generic.Classifier(progress=False).classify({"cup": photos["coffee"]}, top_k=5)
    pd.testing.assert_frame_equal(
        over_http[[*LABELS, "prediction"]], local[[*LABELS, "prediction"]]
    )
    # The wire request is the API's: JSON {"base64": ...} and nothing else.
    raw = requests.post(url, json={"base64": encoded(photos["coffee"])}, timeout=30).json()
    assert raw["code"] == 10000
    names = [e["name"] for e in raw["predictResult"]["thresholdList"]]
    assert names == sorted(names)  # listed alphabetically, as the docs' example is


def test_prediction_kept_when_it_is_not_the_top_score(photos):
    # The docs' own example: "prediction" is not the class with the highest score.  No local
    # model answers like that, so a function transport plays the vendor.
    example = {
        "code": 10000,
        "predictResult": {
            "prediction": "rap_gesture",
            "thresholdList": [
                {"name": "heart_gesture", "threshold": 0.0125},
                {"name": "other", "threshold": 0.9815},
                {"name": "other_gesture", "threshold": 0.0019},
                {"name": "rap_gesture", "threshold": 0.0042},
            ],
        },
    }
    transport = FunctionTransport(lambda request: json_reply(example))
    clf = generic.Classifier(transport=transport, progress=False)
    df = clf.classify({"hand": photos["astronaut"]})
    assert df["label"].tolist() == ["other", "heart_gesture", "rap_gesture", "other_gesture"]
    assert df["score"].tolist() == [0.9815, 0.0125, 0.0042, 0.0019]
    assert set(df["prediction"]) == {"rap_gesture"}
    body = json.loads(transport.requests[0].body)
    assert list(body) == ["base64"] and not body["base64"].startswith("data:")


@pytest.mark.parametrize(
    "make,code",
    [
        (lambda p: {}, 10310),
        (lambda p: b"not json", 10311),
        (lambda p: {"base64": "@@not base64@@"}, 10311),
        (lambda p: {"base64": encoded(p["coffee"], "BMP")}, 10440),
        (lambda p: {"base64": encoded(p["coffee"], "GIF")}, 10440),
        (lambda p: {"base64": base64.b64encode(b"\0" * (3 * 2**20 + 10)).decode()}, 10441),
        (lambda p: {"base64": encoded(np.zeros((20, 20, 3), np.uint8), "PNG")}, 10442),
        (lambda p: {"base64": encoded(np.zeros((10, 4100, 3), np.uint8), "PNG")}, 10442),
        (lambda p: {"base64": encoded(np.zeros((100, 400, 3), np.uint8), "PNG")}, 10443),
    ],
)
def test_every_image_rule_has_its_code(app, photos, make, code):
    status, reply = post(app, make(photos))
    assert reply["code"] == code and reply["message"], reply


def test_unknown_model_is_an_invalid_parameter_404(app, photos):
    status, reply = post(
        app, {"base64": encoded(photos["coffee"])}, path=LOCAL_ROUTE.format(model="gestures")
    )
    assert (status, reply["code"]) == (404, 10311)
    assert "imagenet" in reply["message"]


def test_rules_checked_locally_before_sending(photos):
    sent = []
    transport = FunctionTransport(lambda request: sent.append(request) or json_reply({}))
    clf = generic.Classifier(transport=transport, progress=False, fit=False)
    bmp = io.BytesIO()
    Image.fromarray(photos["coffee"]).save(bmp, "BMP")
    df = clf.classify(
        {
            "bmp": bmp.getvalue(),
            "wide": np.zeros((100, 400, 3), np.uint8),
            "tiny": np.zeros((20, 20, 3), np.uint8),
        }
    )
    assert sent == [] and len(error_rows(df)) == 3
    assert list(df["image"]) == ["bmp", "wide", "tiny"]


@pytest.mark.parametrize("code", [-2, 1100, 2100])
def test_transient_codes_are_retried(code):
    server = Scripted(
        [
            js({"code": code, "message": "busy"}),
            js(
                {
                    "code": 10000,
                    "predictResult": {
                        "prediction": "a",
                        "thresholdList": [{"name": "a", "threshold": 1.0}],
                    },
                }
            ),
        ]
    )
    try:
        clf = generic.Classifier(server.url + "/model/x", progress=False, retries=2)
        clf.session.retry = clf.session.retry.with_(backoff=0.01)
        df = clf.classify({"cup": np.full((64, 64, 3), 120, np.uint8)})
    finally:
        server.close()
    assert ok_rows(df)["label"].tolist() == ["a"]
    assert [path for _, path, _ in server.calls] == ["/model/x", "/model/x"]


def test_app_key_error_is_an_auth_error_and_a_code_not_10000_fails():
    server = Scripted([js({"code": 2000, "message": "user APPK error"})])
    try:
        with pytest.raises(AuthError, match="APPK"):
            generic.Classifier(server.url + "/m", progress=False).classify(
                {"a": np.full((64, 64, 3), 9, np.uint8)}
            )
    finally:
        server.close()
    server = Scripted([js({"code": 10442, "message": "pixels"})])
    try:
        df = generic.Classifier(server.url + "/m", progress=False).classify(
            {"a": np.full((64, 64, 3), 9, np.uint8)}
        )
    finally:
        server.close()
    assert df["error_code"].tolist() == [10442]


def test_url_must_be_http():
    from vislab.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="http"):
        generic.Classifier("models.example.com/predict")
