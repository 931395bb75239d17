"""The batch rules every client follows: nothing lost, nothing silent, nothing blindly resent."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.test_transport import Scripted, js
from vislab import baidu
from vislab.emulator import EmulatorApp
from vislab.emulator.server import BackgroundServer
from vislab.errors import (
    FailedImagesWarning,
    InvalidImage,
    InvalidParameter,
    TransportError,
)
from vislab.frames import error_rows, ok_rows
from vislab.services.cache import ReplyCache
from vislab.services.failures import failure_fields


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def textures(n, size=96, seed=0):
    rng = np.random.default_rng(seed)
    return {f"t{i:02d}": rng.integers(0, 255, (size, size, 3), dtype=np.uint8) for i in range(n)}


def test_one_bad_input_no_longer_aborts_a_batch(home, photos, tmp_path):
    cut, whole = tmp_path / "cut.jpg", tmp_path / "whole.jpg"
    Image.fromarray(photos["coffee"]).save(whole)
    cut.write_bytes(whole.read_bytes()[:3000])
    closed = Image.open(whole)  # opened lazily, closed before its pixels were read
    closed.close()
    images = {**textures(60), "empty": np.zeros((0, 0, 3), np.uint8),
              "object": np.array([[None]], dtype=object), "truncated": Image.open(cut),
              "closed": closed, "long": "x" * 5000 + ".jpg",
              "nan": np.full((64, 64, 3), np.nan)}
    images.update({f"u{i}": a for i, a in textures(5, seed=9).items()})

    def brief(ident):
        if ident == "t07":
            raise RuntimeError("no brief for t07")
        return {"id": np.int64(int(ident[1:]) if ident[1:].isdigit() else 0)}

    client = baidu.ImageSearch(progress=False)
    with pytest.warns(FailedImagesWarning, match=r"7 of 71 inputs failed"):
        df = client.similar_add(images, brief=brief, tags=np.int64(3))
    assert df["image"].tolist() == list(images)  # every input keeps its row, in order
    assert df["error_code"].dtype == "Int64"
    failed = error_rows(df).set_index("image")
    assert set(failed.index) == {"t07", "empty", "object", "truncated", "closed", "long", "nan"}
    assert failed.loc["t07", "error_rule"] == "param:brief"
    assert "no brief for t07" in failed.loc["t07", "error_msg"]
    assert failed.loc["object", "error_rule"] == "type"
    assert failed.loc["nan", "error_rule"] == "values"
    assert {failed.loc[k, "error_rule"] for k in ("truncated", "closed")} == {"decode"}
    stored = ok_rows(df)
    assert len(stored) == 64 and stored["brief"].iloc[0] == {"id": 0}
    assert stored["tags"].iloc[0] == [3]
    assert len(client.gallery_frame("similar")) == 64


def test_errors_raise_stops_and_row_warns_once_at_the_callers_line(home, photos, tmp_path):
    client = baidu.ImageClassify(progress=False)
    images = [photos["coffee"], tmp_path / "nope.jpg", photos["rocket"]]
    with pytest.raises(InvalidImage, match="no such file"):
        client.advanced_general(images, errors="raise")
    with pytest.raises(InvalidImage):
        baidu.ImageClassify(progress=False, errors="raise").advanced_general(images)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = client.advanced_general(images)
    ours = [w for w in caught if issubclass(w.category, FailedImagesWarning)]
    assert len(ours) == 1 and ours[0].filename == __file__
    assert "1 of 3 inputs failed" in str(ours[0].message)
    assert "990100" in str(ours[0].message)
    assert error_rows(df)["error_code"].tolist() == [990100]
    with pytest.raises(InvalidParameter, match="errors must be"):
        client.advanced_general(images, errors="ignore")


def test_failure_fields_of_an_unexpected_exception():
    from vislab import catalogue

    fields = failure_fields(ZeroDivisionError("boom"), catalogue.service("baidu.image_search"))
    assert fields["error_code"] == 990500 and fields["error_rule"] == "bug:ZeroDivisionError"
    assert "please report it" in fields["error_msg"]


class SlowAdds(EmulatorApp):
    """A real emulator that stores an add, then answers it only after the client gave up."""

    # Both times leave room for a loaded CI machine: the client must give up on the add (after
    # its timeout) while the server sleeps, yet its resolving calls must fit in that timeout.
    delay = 4.0

    def handle(self, method, path, query, headers, body):
        out = super().handle(method, path, query, headers, body)
        if path.endswith("/add"):
            time.sleep(self.delay)
        return out


def test_timed_out_add_is_resolved_not_resent(tmp_path, photos):
    with BackgroundServer(app=SlowAdds(home=tmp_path / "server")) as srv:
        client = baidu.ImageSearch(base_url=srv.url, timeout=2.0, progress=False,
                                   ledger=tmp_path / "ledger.sqlite")
        df = client.similar_add({"cat": photos["chelsea"]}, brief={"id": 1})
        assert df["error_code"].isna().all(), df.to_dict("records")
        sign = df["cont_sign"][0]
        assert isinstance(sign, str) and "," in sign
        entry = client.gallery_frame("similar")
        assert entry["cont_sign"].tolist() == [sign] and entry["image"].tolist() == ["cat"]
        # Sent once: a second request would have been refused as a duplicate (216681).
        hits = client.similar_search({"q": photos["chelsea"]}, rn=5)
        assert hits["cont_sign"].tolist() == [sign]


def test_unreachable_base_url_fails_fast(photos):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = baidu.ImageClassify(base_url=f"http://127.0.0.1:{port}", progress=False)
    t0 = time.monotonic()
    with pytest.raises(TransportError) as info:
        client.advanced_general([photos["coffee"]] * 50)
    assert time.monotonic() - t0 < 5
    assert f"127.0.0.1:{port}" in str(info.value) and "vislab serve" in str(info.value)
    with pytest.raises(InvalidParameter, match="http://"):
        baidu.ImageClassify(base_url="127.0.0.1:8765")


def test_cache_is_keyed_by_backend_and_validated(tmp_path, photos, served):
    cache = tmp_path / "cache"
    local = baidu.ImageClassify(progress=False, cache=cache)
    local.advanced_general({"cup": photos["coffee"]})
    remote = baidu.ImageClassify(served.api_key, served.secret_key, base_url=served.url,
                                 progress=False, cache=cache)
    sent = []
    original = remote.transport.send
    remote.transport.send = lambda request: sent.append(request.path) or original(request)
    remote.advanced_general({"cup": photos["coffee"]})
    assert any("advanced_general" in p for p in sent)  # the local answer was not served
    # A damaged entry is ignored, not parsed: the call goes out again.
    for entry in cache.rglob("*.json"):
        entry.write_text('["not", "a", "reply"]')
    sent.clear()
    df = remote.advanced_general({"cup": photos["coffee"]})
    assert df["error_code"].isna().all() and any("advanced_general" in p for p in sent)
    assert not [p for p in cache.rglob("*") if p.name.endswith(".tmp")]
    assert isinstance(ReplyCache(cache).key("a", "/p", {}, "s"), str)


def test_token_refresh_and_token_failures_sit_inside_the_retry_loop(photos):
    from vislab.services.session import Session
    from vislab.transport import BaiduEnvelope, BaiduTokenAuth, HttpTransport, RetryPolicy

    server = Scripted([js({"result": []})])
    hits = {"token": 0}
    handler = server.server.RequestHandlerClass
    original = handler.do_POST

    def flaky(self):
        if self.path.startswith("/oauth/2.0/token") and hits["token"] == 0:
            hits["token"] += 1
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        original(self)

    handler.do_POST = flaky
    try:
        s = Session(HttpTransport(server.url), auth=BaiduTokenAuth("k-x", "s-x"),
                    envelope=BaiduEnvelope(), retry=RetryPolicy(backoff=0.01))
        assert s.send("/api", {"image": "x"}) == {"result": []}
    finally:
        server.close()
    assert hits["token"] == 1


def test_no_exception_keeps_the_token_request():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = baidu.ImageClassify("visible-key-1", "very-secret-2",
                                 base_url=f"http://127.0.0.1:{port}", progress=False,
                                 retries=0)
    with pytest.raises(TransportError) as info:
        client.advanced_general(np.full((64, 64, 3), 90, np.uint8))
    chain, exc = [], info.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert len(chain) == 1, [type(e).__name__ for e in chain]
    assert "very-secret-2" not in repr(info.value) and "very-secret-2" not in str(info.value)


def test_sdk_names_and_bad_credentials_say_what_to_do():
    client = baidu.ImageClassify(progress=False)
    with pytest.raises(AttributeError, match="did you mean 'advanced_general'"):
        _ = client.advancedGeneral
    with pytest.raises(AttributeError, match="did you mean 'similar_add'"):
        _ = baidu.ImageSearch(progress=False, ledger=False).similarAdd
    with pytest.raises(InvalidParameter, match="api_key must be a string"):
        baidu.ImageClassify(api_key=..., secret_key=...)


_KILLED_CHILD = """
import os, sys, numpy as np
from vislab import baidu
rng = np.random.default_rng(5)
images = {f"img{i:03d}": rng.integers(0, 255, (96, 96, 3), dtype=np.uint8) for i in range(400)}
client = baidu.ImageSearch(progress=False, ledger=sys.argv[1], max_workers=4)
print("started", flush=True)
client.similar_add(images)
print("finished", flush=True)
"""


def test_sigkill_mid_batch_leaves_every_committed_add_in_the_ledger(tmp_path):
    home, ledger = tmp_path / "home", tmp_path / "ledger.sqlite"
    env = {**os.environ, "VISLAB_HOME": str(home)}
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_KILLED_CHILD),
                              str(ledger)], env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "started"
    gallery = home / "galleries" / "similar" / "default.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.3)
        if gallery.exists() and _stored(gallery) >= 40:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    stored = _stored(gallery)
    assert 40 <= stored < 400
    with sqlite3.connect(ledger) as conn:
        rows = conn.execute("SELECT cont_sign, image FROM adds").fetchall()
    assert all(image is not None for _, image in rows)  # identifiers recorded at commit
    # At most the requests in flight (max_workers) were stored but not yet answered.
    assert stored - len(rows) <= 4, (stored, len(rows))


def _stored(path) -> int:
    """Committed gallery entries (0 while the store is still being created)."""
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    except sqlite3.OperationalError:  # no table yet, or the file is being initialised
        return 0


def test_error_code_is_one_dtype(photos):
    df = baidu.ImageClassify(progress=False).advanced_general(
        {"ok": photos["coffee"], "tiny": np.zeros((5, 5, 3), np.uint8)})
    assert df["error_code"].dtype == "Int64"
    assert pd.isna(df["error_code"].iloc[0]) and df["error_code"].iloc[-1] == 216202
