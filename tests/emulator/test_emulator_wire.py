"""The emulator's wire behaviour: the spec's JSON and error codes, over real HTTP."""

from __future__ import annotations

import base64
import http.server
import io
import json
import threading
import time

import pytest
import requests
from PIL import Image

from tests.conftest import ServeProcess, jpeg_bytes


@pytest.fixture(scope="module")
def token(served):
    reply = requests.post(f"{served.url}/oauth/2.0/token", params={
        "grant_type": "client_credentials", "client_id": served.api_key,
        "client_secret": served.secret_key}, timeout=10).json()
    assert reply["expires_in"] == 2592000
    assert "brain_all_scope" in reply["scope"].split()
    return reply["access_token"]


def post(served, path, data, token=None):
    params = {"access_token": token} if token else {}
    resp = requests.post(served.url + path, params=params, data=data, timeout=30)
    assert resp.headers["Content-Type"].startswith("application/json")
    return resp.json()


GENERAL = "/rest/2.0/image-classify/v2/advanced_general"


def test_token_errors(served):
    url = f"{served.url}/oauth/2.0/token"
    bad_id = requests.post(url, params={"grant_type": "client_credentials", "client_id": "x",
                                        "client_secret": served.secret_key}, timeout=10).json()
    assert bad_id == {"error": "invalid_client", "error_description": "unknown client id"}
    bad_secret = requests.get(url, params={"grant_type": "client_credentials",
                                           "client_id": served.api_key,
                                           "client_secret": "nope"}, timeout=10).json()
    assert bad_secret["error_description"] == "Client authentication failed"


def test_bad_or_missing_token_is_110(served, photos):
    data = {"image": base64.b64encode(jpeg_bytes(photos["coffee"])).decode()}
    assert post(served, GENERAL, data)["error_code"] == 110
    assert post(served, GENERAL, data, token="24.forged")["error_code"] == 110


def test_reply_shape(served, token, photos):
    data = {"image": base64.b64encode(jpeg_bytes(photos["chelsea"])).decode()}
    reply = post(served, GENERAL, data, token)
    assert set(reply) == {"log_id", "result_num", "result"}
    assert isinstance(reply["log_id"], int) and reply["result_num"] == len(reply["result"])
    assert set(reply["result"][0]) == {"keyword", "score", "root"}
    dish = post(served, "/rest/2.0/image-classify/v2/dish", {**data, "top_num": "2"}, token)
    assert dish["result_num"] == len(dish["result"]) <= 2
    animal = post(served, "/rest/2.0/image-classify/v1/animal", data, token)
    assert isinstance(animal["result"][0]["score"], str)  # the service's wire type
    subject = post(served, "/rest/2.0/image-classify/v1/object_detect", data, token)
    assert set(subject["result"]) == {"left", "top", "width", "height"}


def png_b64(size, mode="RGB"):
    buf = io.BytesIO()
    Image.new(mode, size, "white").save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("data,code", [
    ({}, 216101),
    ({"image": ""}, 216200),
    ({"image": "@@@not-base64@@@"}, 216203),
    ({"image": base64.b64encode(b"hello, not an image").decode()}, 216201),
    ({"image": png_b64((5000, 2000))}, 216202),
    ({"image": png_b64((10, 10))}, 216202),
])
def test_image_errors(served, token, data, code):
    reply = post(served, GENERAL, data, token)
    assert reply["error_code"] == code and reply["error_msg"] and "log_id" in reply


def test_gif_refused_over_the_wire(served, token):
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buf, "GIF")
    reply = post(served, GENERAL, {"image": base64.b64encode(buf.getvalue()).decode()}, token)
    assert reply["error_code"] == 216201


def test_bad_parameter(served, token, photos):
    data = {"image": base64.b64encode(jpeg_bytes(photos["coffee"])).decode(), "top_num": "abc"}
    reply = post(served, "/rest/2.0/image-classify/v2/dish", data, token)
    assert reply["error_code"] == 216100 and "top_num" in reply["error_msg"]


def test_unknown_path(served, token):
    assert post(served, "/rest/2.0/image-classify/v9/nothing", {}, token)["error_code"] == 3


def test_oversized_body_refused(served, token):
    resp = requests.post(served.url + GENERAL, params={"access_token": token},
                         data=b"image=" + b"A" * (13 * 1024 * 1024), timeout=30)
    assert resp.status_code == 413 and resp.json()["error_code"] == 216202


def test_expired_token_is_111_and_client_refreshes(photos):
    from vislab import baidu
    from vislab.emulator.server import BackgroundServer

    with BackgroundServer(api_key="k1", secret_key="s1", token_ttl=3600) as srv:
        client = baidu.ImageClassify("k1", "s1", base_url=srv.url, progress=False)
        assert client.advanced_general({"a": photos["coffee"]})["error_code"].isna().all()
        token = client.session.auth._token
        srv.app.expire_token(token)
        raw = requests.post(srv.url + GENERAL, params={"access_token": token},
                            data={"image": "x"}, timeout=10).json()
        assert raw["error_code"] == 111
        df = client.advanced_general({"a": photos["coffee"]})
        assert df["error_code"].isna().all()
        assert client.session.auth._token != token


def test_serve_binds_loopback_and_logs_no_token(photos):
    server = ServeProcess("--api-key", "kk-123", "--secret-key", "ss-456", "--verbose",
                          "--no-warm")
    try:
        assert server.url.startswith("http://127.0.0.1:")
        tok = requests.post(f"{server.url}/oauth/2.0/token", params={
            "grant_type": "client_credentials", "client_id": "kk-123",
            "client_secret": "ss-456"}, timeout=10).json()["access_token"]
        post(server, GENERAL, {"image": png_b64((10, 10))}, tok)
    finally:
        log = server.stop()
    assert "/rest/2.0/image-classify/v2/advanced_general" in log
    assert tok not in log and "ss-456" not in log and "kk-123" not in log
    assert json.dumps(tok) not in log


def test_ctrl_c_stops_cleanly():
    import signal

    server = ServeProcess("--no-warm")
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(15) == 0
    assert "vislab serve stopped" in server.proc.stdout.read()


class _EndlessImage(http.server.BaseHTTPRequestHandler):
    """An image URL whose body never ends: the emulator's fetch must stop at its byte cap."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.end_headers()
        chunk = b"\xff" * 65536
        try:
            for _ in range(16 * 1024):  # 1 GiB at most, far beyond any endpoint's cap
                self.wfile.write(chunk)
        except OSError:
            pass


def test_url_inputs_are_capped_and_checked(served, token):
    too_long = "http://127.0.0.1/" + "a" * 1100
    assert post(served, GENERAL, {"url": too_long}, token)["error_code"] == 282114
    assert post(served, GENERAL, {"url": "ftp://127.0.0.1/x.jpg"}, token)["error_code"] == 282111
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EndlessImage)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/endless.jpg"
        t0 = time.monotonic()
        reply = post(served, GENERAL, {"url": url}, token)
        assert reply["error_code"] == 216202, reply  # refused at the byte cap, not read to the end
        assert "bytes" in reply["error_msg"]
        assert time.monotonic() - t0 < 10
    finally:
        server.shutdown()
        server.server_close()
