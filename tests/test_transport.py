"""The session over HttpTransport against real HTTP servers on 127.0.0.1: tokens, retries, bad
replies, QPS."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vislab.catalogue.baidu_codes import BAIDU_CODES
from vislab.errors import (
    AuthError,
    InvalidRequest,
    MalformedResponse,
    QuotaError,
    ServiceUnavailable,
    TransportError,
)
from vislab.services.batch import run_batch
from vislab.services.cache import ReplyCache
from vislab.services.session import Session
from vislab.transport import (
    BaiduEnvelope,
    BaiduTokenAuth,
    HttpTransport,
    RateLimiter,
    RetryPolicy,
    WireReply,
)


def decode_reply(status, content_type, payload):
    return BaiduEnvelope(BAIDU_CODES).decode(WireReply(status, {"Content-Type": content_type},
                                                       payload))


class Scripted:
    """A real HTTP server that answers from a script: a list of (status, ctype, body)."""

    def __init__(self, script, *, token_ttl=2592000):
        self.script = list(script)
        self.calls: list[tuple[str, str, bytes]] = []
        self.tokens_issued = 0
        self.token_ttl = token_ttl
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.calls.append((self.command, self.path, body))
                if self.path.startswith("/oauth/2.0/token"):
                    outer.tokens_issued += 1
                    payload = json.dumps({"access_token": f"tok{outer.tokens_issued}",
                                          "expires_in": outer.token_ttl,
                                          "scope": "brain_all_scope"}).encode()
                    status, ctype = 200, "application/json"
                else:
                    status, ctype, payload = outer.script.pop(0) if outer.script else (
                        200, "application/json", b'{"log_id": 1, "result": []}')
                    if status is None:  # simulate a hung server: never answer in time
                        time.sleep(1.0)
                        status, ctype, payload = 200, "application/json", b"{}"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def js(obj, status=200):
    return (status, "application/json", json.dumps(obj).encode())


@pytest.fixture()
def scripted():
    servers = []

    def make(script, **kw):
        s = Scripted(script, **kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def session(url, *, auth=None, timeout=30.0, retries=3, backoff=0.01):
    return Session(HttpTransport(url, timeout=timeout), auth=auth,
                   envelope=BaiduEnvelope(BAIDU_CODES),
                   retry=RetryPolicy(retries=retries, backoff=backoff))


def transport(server, **kw):
    auth = BaiduTokenAuth("ak-visible-nowhere", "sk-visible-nowhere")
    return session(server.url, auth=auth, **kw)


def test_token_fetched_once_and_sent_in_query(scripted):
    srv = scripted([js({"result": [1]}), js({"result": [2]})])
    t = transport(srv)
    assert t.send("/api", {"image": "x"}) == {"result": [1]}
    assert t.send("/api", {"image": "y"}) == {"result": [2]}
    assert srv.tokens_issued == 1
    paths = [p for _, p, _ in srv.calls if p.startswith("/api")]
    assert all("access_token=tok1" in p for p in paths)


@pytest.mark.parametrize("code", [110, 111])
def test_token_refreshed_once_on_110_111(scripted, code):
    srv = scripted([js({"error_code": code, "error_msg": "token"}), js({"ok": 1})])
    assert transport(srv).send("/api", {}) == {"ok": 1}
    assert srv.tokens_issued == 2
    # A second refusal is not retried forever: it surfaces as AuthError.
    srv2 = scripted([js({"error_code": 110, "error_msg": "bad"})] * 3)
    with pytest.raises(AuthError):
        transport(srv2).send("/api", {})
    assert srv2.tokens_issued == 2


@pytest.mark.parametrize("transient", [
    js({"error_code": 18, "error_msg": "Open api qps request limit reached"}),
    js({"error_code": 282000, "error_msg": "internal error"}),
    (503, "text/html", b"<html>busy</html>"),
    (502, "text/plain", b""),
])
def test_transient_failures_retried(scripted, transient):
    srv = scripted([transient, transient, js({"ok": True})])
    assert transport(srv, retries=3).send("/api", {}) == {"ok": True}


def test_retries_exhausted_give_typed_error(scripted):
    srv = scripted([js({"error_code": 18, "error_msg": "qps"})] * 5)
    with pytest.raises(QuotaError) as info:
        transport(srv, retries=2).send("/api", {})
    assert info.value.code == 18 and "qps" in str(info.value)
    assert len([c for c in srv.calls if c[1].startswith("/api")]) == 3


def test_permanent_errors_not_retried(scripted):
    srv = scripted([js({"error_code": 216201, "error_msg": "image format error",
                        "log_id": 99})])
    with pytest.raises(InvalidRequest) as info:
        transport(srv).send("/api", {})
    assert (info.value.code, info.value.log_id) == (216201, 99)
    assert len([c for c in srv.calls if c[1].startswith("/api")]) == 1


@pytest.mark.parametrize("reply,fragment", [
    ((200, "text/html", b"<html><body>Gateway login</body></html>"), "non-JSON"),
    ((200, "application/json", b""), "empty body"),
    ((200, "application/json", b"[1, 2]"), "non-JSON"),
])
def test_malformed_replies(scripted, reply, fragment):
    srv = scripted([reply])
    with pytest.raises(MalformedResponse) as info:
        transport(srv, retries=0).send("/api", {})
    assert fragment in str(info.value)


def test_timeout_and_refused_connection(scripted):
    srv = scripted([(None, "", b"")])
    with pytest.raises(TransportError, match="within 0.2 s"):
        transport(srv, timeout=0.2, retries=0).send("/api", {})
    srv.close()
    with pytest.raises(TransportError, match="cannot connect"):
        session(srv.url, retries=1, backoff=0.01, timeout=0.5).send("/api", {})


def test_secrets_never_in_errors_or_logs(scripted, caplog):
    srv = scripted([js({"error_code": 110, "error_msg": "token tok1 rejected"})] * 4)
    t = transport(srv)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        t.send("/api", {})
    text = str(info.value) + repr(info.value) + repr(t) + repr(t.auth) + caplog.text
    for secret in ("ak-visible-nowhere", "sk-visible-nowhere", "tok1", "tok2"):
        assert secret not in text


def test_oauth_error_reply_is_auth_error():
    with pytest.raises(AuthError, match="unknown client id"):
        decode_reply(401, "application/json",
                     b'{"error": "invalid_client", "error_description": "unknown client id"}')
    with pytest.raises(ServiceUnavailable):
        decode_reply(500, "text/html", b"<html>oops</html>")


def test_rate_limiter_holds_qps():
    limiter = RateLimiter(50)
    results = []

    def worker():
        for _ in range(15):
            limiter.acquire()
            results.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - t0
    # 60 calls at 50/s need >= 59/50 s; threads share one bucket.
    assert elapsed >= 59 / 50 * 0.95
    assert elapsed < 3.0


def test_reply_cache_roundtrip(tmp_path):
    cache = ReplyCache(tmp_path)
    k1 = cache.key("local", "/a", {"top_num": "3"}, "abc")
    assert k1 != cache.key("local", "/a", {"top_num": "4"}, "abc")
    assert k1 != cache.key("local", "/a", {"top_num": "3"}, "abd")
    assert k1 != cache.key("http://cloud#ab12", "/a", {"top_num": "3"}, "abc")
    cache.put(k1, {"result": ["x"]})
    assert ReplyCache(tmp_path).get(k1) == {"result": ["x"]}
    assert not list(tmp_path.rglob("*.tmp"))


def test_run_batch_keeps_order_and_bounds_concurrency():
    active, peak = [0], [0]
    lock = threading.Lock()

    def work(i):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return i * i

    assert run_batch(work, range(30), max_workers=3, progress=False) == [i * i for i in range(30)]
    assert peak[0] <= 3
