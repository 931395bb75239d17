"""BCE signatures (``bce-auth-v1``): the official SDK in that mode, vislab's ``auth="bce"``, and
the emulator's checks (wrong signature -> 14, clock skew named as such)."""

from __future__ import annotations

import datetime
import os

import numpy as np
import pytest

from tests.conftest import ServeProcess, jpeg_bytes, point_at
from vislab import baidu
from vislab.catalogue.baidu_codes import BAIDU_CODES
from vislab.emulator.app import EmulatorApp
from vislab.errors import AuthError
from vislab.services.session import Session
from vislab.transport import BaiduEnvelope, BceAuth, LocalTransport, RetryPolicy

aip = pytest.importorskip("aip", reason="the official SDK (baidu-aip) is a test dependency")

KEY, SECRET = "bce-ak-123", "bce-sk-456"


@pytest.fixture(scope="module")
def served_bce():
    """`vislab serve --bce`: token replies without brain_all_scope, so the SDK signs."""
    env = {**os.environ, "VISLAB_SERVE_API_KEY": KEY, "VISLAB_SERVE_SECRET_KEY": SECRET}
    server = ServeProcess("--bce", env=env)
    yield server
    server.stop()


def picture(name: str, mark: int) -> bytes:
    from skimage import data

    img = np.asarray(getattr(data, name)()).copy()
    img = np.repeat(img[..., None], 3, 2) if img.ndim == 2 else img
    img[:8, :8] = (mark, 255 - mark, 91)
    return jpeg_bytes(img)


def test_official_sdk_signs_with_bce_and_runs_a_gallery(served_bce):
    from aip import AipImageSearch

    sdk = point_at(AipImageSearch("appid", KEY, SECRET), served_bce.url)
    cat = picture("chelsea", 11)
    added = sdk.similarAdd(cat, "bce-cat", {"tags": "41"})
    assert "error_code" not in added, added
    assert sdk._isCloudUser is True  # no brain_all_scope: every call carried a signature
    found = sdk.similarSearch(cat, {"tags": "41"})
    assert found["result"][0]["cont_sign"] == added["cont_sign"]
    assert found["result"][0]["brief"] == "bce-cat"
    assert "error_code" not in sdk.similarDeleteBySign(added["cont_sign"])


def test_official_sdk_with_a_wrong_secret_gets_14(served_bce):
    from aip import AipImageSearch

    # The token request fails (no scope in the reply), so the SDK signs with the wrong key.
    sdk = point_at(AipImageSearch("appid", KEY, "not-the-secret"), served_bce.url)
    reply = sdk.similarSearch(picture("coffee", 12))
    assert reply["error_code"] == 14
    assert "signature does not match" in reply["error_msg"]


def test_official_classify_sdk_with_bce(served_bce, photos):
    from aip import AipImageClassify

    sdk = point_at(AipImageClassify("appid", KEY, SECRET), served_bce.url)
    reply = sdk.advancedGeneral(jpeg_bytes(photos["chelsea"]))
    assert "error_code" not in reply, reply
    assert sdk._isCloudUser is True


def test_vislab_client_with_auth_bce_over_http(served_bce, photos):
    client = baidu.ImageSearch(
        KEY, SECRET, base_url=served_bce.url, auth="bce", progress=False, ledger=False
    )
    added = client.similar_add({"bce-rocket": photos["rocket"]}, tags=[42], errors="raise")
    hits = client.similar_search({"q": photos["rocket"]}, tags=[42], errors="raise")
    assert hits.loc[0, "cont_sign"] == added.loc[0, "cont_sign"]
    client.similar_delete(cont_sign=added["cont_sign"].tolist(), errors="raise")
    assert client.session.auth.__class__ is BceAuth

    labels = baidu.ImageClassify(
        KEY, SECRET, base_url=served_bce.url, auth="bce", progress=False
    ).advanced_general({"cat": photos["chelsea"]}, errors="raise")
    assert len(labels) == 5 and (labels["image"] == "cat").all()

    wrong = baidu.ImageSearch(
        KEY, "wrong", base_url=served_bce.url, auth="bce", progress=False, ledger=False
    )
    with pytest.raises(AuthError) as info:
        wrong.similar_search({"q": photos["rocket"]})
    assert info.value.code == 14


def _session(auth):
    app = EmulatorApp(api_key=KEY, secret_key=SECRET)
    return Session(
        LocalTransport(app.handle),
        auth=auth,
        envelope=BaiduEnvelope(BAIDU_CODES),
        retry=RetryPolicy(retries=0),
    )


SEARCH = "/rest/2.0/image-classify/v1/realtime_search/similar/search"


def test_clock_skew_beyond_the_expiry_is_named(photos):
    import base64

    image = base64.b64encode(jpeg_bytes(photos["coffee"])).decode()
    late = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2000)
    with pytest.raises(AuthError) as info:
        _session(BceAuth(KEY, SECRET, clock=lambda: late)).send(SEARCH, {"image": image})
    assert info.value.code == 14
    assert "clock skew" in str(info.value) and "1800 s" in str(info.value)
    # Within the expiry the same skew is fine (the signature says how long it is valid).
    ok = _session(BceAuth(KEY, SECRET, expiry=3600, clock=lambda: late)).send(
        SEARCH, {"image": image}
    )
    assert "result" in ok


def test_tampered_signatures_and_keys_get_14(photos):
    import base64

    image = base64.b64encode(jpeg_bytes(photos["coffee"])).decode()
    with pytest.raises(AuthError, match="unknown access key"):
        _session(BceAuth("other-ak", SECRET)).send(SEARCH, {"image": image})
    # Signed for one host, sent with another: the signature no longer matches.
    app = EmulatorApp(api_key=KEY, secret_key=SECRET)
    transport = LocalTransport(app.handle)
    from vislab.transport import WireRequest, encode_body

    body, ctype = encode_body({"image": image}, "form")
    signed = BceAuth(KEY, SECRET).apply(
        WireRequest("POST", SEARCH, body, {"Content-Type": ctype}), transport
    )
    moved = signed.with_headers(Host="evil.example")
    with pytest.raises(AuthError, match="signature does not match"):
        BaiduEnvelope(BAIDU_CODES).decode(transport.send(moved))
    assert "result" in BaiduEnvelope(BAIDU_CODES).decode(transport.send(signed))


def test_auth_option_is_checked():
    from vislab.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="'token' or 'bce'"):
        baidu.ImageSearch(auth="hmac", progress=False, ledger=False)
    from vislab.generic import Classifier

    with pytest.raises(InvalidParameter, match="auth must be nothing"):
        Classifier("http://127.0.0.1:9/predict", auth="bce")
