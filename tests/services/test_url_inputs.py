"""URL images are sent as ``url`` for the service to fetch; when it cannot (282112/282113) the
client downloads them and sends base64, saying so once; ``url_mode="download"`` never sends
``url``.  The image host is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse

import pytest

from tests.conftest import jpeg_bytes
from vislab import baidu
from vislab.emulator import EmulatorApp
from vislab.errors import InvalidParameter
from vislab.frames import ok_rows
from vislab.services.client import UrlFallbackWarning
from vislab.transport import LocalTransport


class _Host(http.server.BaseHTTPRequestHandler):
    """Serves ``images``; a path under /flaky/ fails its first request (a host the service
    cannot fetch from, as some are), /dead/ always fails."""

    images: dict[str, bytes] = {}
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        name = self.path.rsplit("/", 1)[-1]
        first = self.hits.count(self.path) == 1
        if self.path.startswith("/dead/") or (self.path.startswith("/flaky/") and first):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = self.images[name]
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def host(photos):
    _Host.images = {f"{n}.jpg": jpeg_bytes(a) for n, a in photos.items()}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Host)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _Recording:
    """The real emulator, with every request body kept (to see what went on the wire)."""

    def __init__(self, home):
        self.app = EmulatorApp(home=home)
        self.bodies: list[dict] = []

    def __call__(self, method, path, query, headers, body):
        fields = urllib.parse.parse_qs(body.decode())
        self.bodies.append({k: v[-1] for k, v in fields.items()})
        return self.app.handle(method, path, query, headers, body)


def test_url_is_sent_for_the_service_to_fetch(host, tmp_path):
    wire = _Recording(tmp_path)
    client = baidu.ImageClassify(transport=LocalTransport(wire), progress=False)
    df = client.advanced_general({"cat": f"{host}/ok/chelsea.jpg"}, errors="raise")
    assert "cat" in " ".join(df["label"]).lower()
    assert wire.bodies[-1] == {"url": f"{host}/ok/chelsea.jpg"}
    assert _Host.hits.count("/ok/chelsea.jpg") == 1  # fetched once, by the service


def test_a_host_the_service_cannot_fetch_falls_back_to_base64(host, tmp_path):
    wire = _Recording(tmp_path)
    client = baidu.ImageClassify(transport=LocalTransport(wire), progress=False)
    with pytest.warns(UrlFallbackWarning, match=r"282113 url response invalid.*'cup'"):
        df = client.advanced_general({"cup": f"{host}/flaky/coffee.jpg"}, errors="raise")
    assert len(ok_rows(df)) == 5
    sent = [set(b) for b in wire.bodies[-2:]]
    assert sent == [{"url"}, {"image"}]  # the url first, then the bytes vislab downloaded
    # A host that serves nobody: the service's code is named, then the download's failure
    # is the image's error row.
    with pytest.warns(UrlFallbackWarning, match="282113"):
        dead = client.advanced_general({"gone": f"{host}/dead/coffee.jpg"})
    assert dead["error_rule"].tolist() == ["url"]
    assert "HTTP 503" in dead["error_msg"][0]


def test_url_mode_download_never_sends_url(host, tmp_path):
    wire = _Recording(tmp_path)
    client = baidu.ImageClassify(transport=LocalTransport(wire), progress=False,
                                 url_mode="download")  # fmt: skip
    client.advanced_general({"rocket": f"{host}/ok/rocket.jpg"}, errors="raise")
    assert set(wire.bodies[-1]) == {"image"}
    with pytest.raises(InvalidParameter, match="url_mode"):
        baidu.ImageClassify(url_mode="fetch")


def test_image_search_adds_by_url_over_vislab_serve(host, served, tmp_path, photos):
    client = baidu.ImageSearch(served.api_key, served.secret_key, base_url=served.url,
                               progress=False, ledger=tmp_path / "l.sqlite")  # fmt: skip
    url = f"{host}/ok/astronaut.jpg"
    added = client.similar_add({"astro": url}, tags=[77], errors="raise")
    hits = client.similar_search({"q": photos["astronaut"]}, tags=[77], rn=1, errors="raise")
    assert hits.loc[0, "cont_sign"] == added.loc[0, "cont_sign"]
    client.similar_delete(cont_sign=added["cont_sign"].tolist(), errors="raise")
    assert json.dumps(_Host.hits).count("/ok/astronaut.jpg") == 1
