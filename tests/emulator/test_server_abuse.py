"""`vislab serve` under load and abuse: real server processes on 127.0.0.1, raw sockets.

Each test is bounded (a few seconds): bursts of connections, slow and trickling clients,
broken framing (bad ``Content-Length``, chunked bodies, huge heads), other methods, a
decompression bomb, and the keys' way in (environment, not the process list).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from pathlib import Path

import pytest
import requests

from tests.conftest import ServeProcess, jpeg_bytes

KEY, SECRET = "abuse-key-7731", "abuse-secret-9904"
GENERAL = "/rest/2.0/image-classify/v2/advanced_general"
TOKEN = "/oauth/2.0/token"
IDLE, DEADLINE = 2.0, 4.0  # the server's --idle-timeout and --request-timeout here


def env_with_keys(**extra) -> dict:
    env = os.environ.copy()
    env.update({"VISLAB_SERVE_API_KEY": KEY, "VISLAB_SERVE_SECRET_KEY": SECRET}, **extra)
    return env


@pytest.fixture(scope="module")
def server():
    """`vislab serve` with its keys from the environment and short timeouts."""
    srv = ServeProcess(
        "--idle-timeout", str(IDLE), "--request-timeout", str(DEADLINE), env=env_with_keys()
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def burst_server():
    """`vislab serve` with its default timeouts: a burst on a busy machine may leave a client
    between its connect and its request for longer than the short idle timeout above (the
    server then rightly closes it), which is not what the burst test measures."""
    srv = ServeProcess(env=env_with_keys())
    yield srv
    srv.stop()


def token_of(server) -> str:
    reply = requests.post(
        server.url + TOKEN,
        params={"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET},
        timeout=10,
    )
    return reply.json()["access_token"]


@pytest.fixture(scope="module")
def token(server):
    reply = requests.post(
        server.url + TOKEN,
        params={"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET},
        timeout=10,
    )
    return reply.json()["access_token"]


def connect(server, timeout=10.0) -> socket.socket:
    parts = urllib.parse.urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def exchange(server, raw: bytes, timeout=5.0, *, probe_close=False):
    """Send raw bytes, read one HTTP reply: (status, headers, body, closed by the server).

    ``closed`` is None unless ``probe_close``: then whether the server closed the connection
    within 1 s of its reply.
    """
    with connect(server, timeout) as sock:
        sock.sendall(raw)
        resp = http.client.HTTPResponse(sock, method=raw.split(b" ", 1)[0].decode())
        resp.begin()
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        closed = None
        if probe_close:
            sock.settimeout(1.0)
            try:
                closed = sock.recv(1) == b""
            except ConnectionResetError:
                closed = True
            except TimeoutError:
                closed = False
        return resp.status, headers, body, closed


def head(method, path, *lines) -> bytes:
    return "\r\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *lines, "", ""]).encode()


def assert_json_error(headers, body, code):
    assert headers["content-type"].startswith("application/json"), (headers, body[:200])
    reply = json.loads(body)
    assert reply["error_code"] == code and reply["error_msg"], reply
    return reply


# -- load ------------------------------------------------------------------------------------


def post_raw(server, path, fields: dict, timeout=60.0) -> dict:
    """One POST on a fresh connection with the standard library (no retries, no pooling)."""
    parts = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            urllib.parse.urlencode(fields),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        return json.loads(resp.read())
    finally:
        conn.close()


def test_burst_of_concurrent_posts_loses_nothing(burst_server, photos):
    """240 clients connect at the same instant and POST: every one gets its own reply."""
    server, token = burst_server, token_of(burst_server)
    n = 240
    image = base64.b64encode(jpeg_bytes(photos["chelsea"][::4, ::4])).decode()
    recognise = f"{GENERAL}?access_token={token}"
    expected = post_raw(server, recognise, {"image": image})["result"][0]["keyword"]
    keys = {"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET}
    barrier = threading.Barrier(n)
    replies, failures = [None] * n, []

    def client(i):
        barrier.wait()
        try:
            if i % 2:  # half take a token, half are recognised: distinct work, distinct replies
                replies[i] = post_raw(server, TOKEN, keys)["access_token"]
            else:
                replies[i] = post_raw(server, recognise, {"image": image})["result"][0]["keyword"]
        except Exception as exc:  # a reset, a timeout or a garbled reply
            failures.append(type(exc).__name__)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    elapsed = time.monotonic() - t0
    resets = sum("Reset" in name or "BrokenPipe" in name for name in failures)
    assert not failures, f"{resets} resets, {len(failures)} failures of {n}: {set(failures)}"
    assert all(r == expected for r in replies[0::2]), "a recognition reply differs"
    assert len(set(replies[1::2])) == n // 2, "two clients got the same token"
    print(f"{n} concurrent POSTs in {elapsed:.1f} s, 0 resets, 0 lost")


# -- slow clients -----------------------------------------------------------------------------


def closed_by_server(sock) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_slow_clients_do_not_block_and_are_dropped(server):
    """150 connections that never finish their head: others are served, then they are closed."""
    slow = []
    for _ in range(150):
        sock = connect(server)
        sock.sendall(b"POST " + GENERAL.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(sock)
    t0 = time.monotonic()
    try:
        reply = requests.post(
            server.url + TOKEN,
            data={"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET},
            timeout=5,
        )
        assert reply.status_code == 200 and reply.json()["access_token"]
        assert time.monotonic() - t0 < IDLE, "the normal request waited for the slow ones"
        # The server must close them all soon after the idle timeout.
        pending, deadline, first_close = set(slow), t0 + IDLE + 3, None
        while pending and time.monotonic() < deadline:
            ready, _, _ = select.select(list(pending), [], [], 0.2)
            closed = {s for s in ready if closed_by_server(s)}
            if closed and first_close is None:
                first_close = time.monotonic() - t0
            pending -= closed
        held = len(pending)
        assert held == 0, f"{held} of 150 slow connections still held {IDLE + 3:g} s later"
        # (They were opened just before t0, hence the margin.)
        assert first_close > IDLE * 0.75, f"closed {first_close:.1f} s in, before the timeout"
    finally:
        for sock in slow:
            sock.close()


def test_trickling_client_is_dropped_at_the_request_deadline(server):
    """A client sending one byte every 0.5 s is never idle, yet must not hold on forever."""
    text = head("POST", TOKEN, "X-Padding: " + "a" * 200)
    with connect(server) as sock:
        t0 = time.monotonic()
        dropped = None
        for i in range(len(text)):
            if time.monotonic() - t0 > DEADLINE + 3:
                break
            try:
                sock.sendall(text[i : i + 1])
            except (BrokenPipeError, ConnectionResetError):
                dropped = time.monotonic() - t0
                break
            ready, _, _ = select.select([sock], [], [], 0.5)
            if ready and closed_by_server(sock):
                dropped = time.monotonic() - t0
                break
    assert dropped is not None, f"still connected after {DEADLINE + 3:g} s"
    assert DEADLINE * 0.9 < dropped < DEADLINE + 2.5, dropped


# -- framing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["-1", "abc", "12 34", "0x10"])
def test_bad_content_length_is_a_json_400(server, token, length):
    raw = (
        head(
            "POST",
            f"{GENERAL}?access_token={token}",
            f"Content-Length: {length}",
            "Content-Type: application/x-www-form-urlencoded",
        )
        + b"image=abc"
    )
    status, headers, body, closed = exchange(server, raw, probe_close=True)
    assert status == 400
    assert "Content-Length" in assert_json_error(headers, body, 216100)["error_msg"]
    assert closed


def test_huge_content_length_is_refused_unread(server, token):
    raw = head("POST", f"{GENERAL}?access_token={token}", f"Content-Length: {10**20}")
    t0 = time.monotonic()
    # No body follows the head: a server that waited for it would time out here.
    status, headers, body, closed = exchange(server, raw, probe_close=True)
    assert status == 413 and time.monotonic() - t0 < 2
    assert "12582912" in assert_json_error(headers, body, 216202)["error_msg"]
    assert closed


def test_body_of_exactly_the_cap_is_read(server, token):
    from vislab.emulator.server import MAX_BODY_BYTES

    body = b"image=" + b"A" * (MAX_BODY_BYTES - 6)
    resp = requests.post(
        server.url + GENERAL, params={"access_token": token}, data=body, timeout=30
    )
    assert resp.status_code == 200 and resp.json()["error_code"] == 216202  # the image rule


def test_chunked_body_is_a_json_411_and_not_read_as_a_request(server, token):
    chunk = b"image=abc"
    raw = head(
        "POST",
        f"{GENERAL}?access_token={token}",
        "Transfer-Encoding: chunked",
        "Content-Type: application/x-www-form-urlencoded",
    )
    # The chunk data is itself a request line: a server that skipped the body would answer it.
    smuggled = head("GET", "/smuggled")
    raw += b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled) + chunk
    status, headers, body, closed = exchange(server, raw, probe_close=True)
    assert status == 411
    assert "chunked" in assert_json_error(headers, body, 216100)["error_msg"]
    assert closed


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("path", [GENERAL, TOKEN, "/"])
def test_other_methods_are_json_error_3(server, method, path):
    status, headers, body, _ = exchange(server, head(method, path, "Content-Length: 0"))
    assert status == 405 and headers["allow"] == "GET, POST"
    assert_json_error(headers, body, 3)


def test_head_is_405_without_body(server):
    status, headers, body, closed = exchange(server, head("HEAD", GENERAL), probe_close=True)
    assert status == 405 and body == b"" and headers["content-type"].startswith("application/")
    assert int(headers["content-length"]) > 0 and not closed  # the connection stays usable


def test_huge_head_is_a_json_431(server):
    raw = head("GET", "/", "X-Big: " + "b" * 300_000)
    status, headers, body, closed = exchange(server, raw, probe_close=True)
    assert status == 431
    assert_json_error(headers, body, 216103)


def test_keep_alive_still_works(server, token):
    """Two requests on one connection: the framing checks must not break HTTP/1.1 reuse."""
    with requests.Session() as session:
        for _ in range(2):
            reply = session.post(
                server.url + GENERAL, params={"access_token": token}, data={"image": ""}, timeout=10
            ).json()
            assert reply["error_code"] == 216200


def test_non_utf8_form_body_is_the_parameter_error(server, token):
    resp = requests.post(
        server.url + GENERAL,
        params={"access_token": token},
        data=b"image=\xff\xfe\xfa&top_num=\xc3",
        timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 200
    assert resp.json()["error_code"] == 216100 and "UTF-8" in resp.json()["error_msg"]


def test_expired_tokens_are_purged():
    """An expired token answers 111 until the next token is issued, then it is forgotten (110)."""
    from vislab.emulator.server import BackgroundServer

    with BackgroundServer(api_key=KEY, secret_key=SECRET, token_ttl=1) as srv:

        def new_token():
            return requests.post(
                srv.url + TOKEN,
                data={
                    "grant_type": "client_credentials",
                    "client_id": KEY,
                    "client_secret": SECRET,
                },
                timeout=10,
            ).json()["access_token"]

        def code(tok):
            return requests.post(
                srv.url + GENERAL, params={"access_token": tok}, data={"image": ""}, timeout=10
            ).json()["error_code"]

        old = [new_token() for _ in range(5)]
        assert {code(t) for t in old} == {216200}  # accepted: the image rule answers
        time.sleep(1.2)
        assert {code(t) for t in old} == {111}
        fresh = new_token()
        assert {code(t) for t in old} == {110}  # purged: the server no longer knows them
        assert code(fresh) == 216200


# -- decompression bomb -----------------------------------------------------------------------


def png_bomb(width: int, height: int, *, rows_per_block: int = 100) -> bytes:
    """A valid all-black RGB PNG of ``width`` x ``height`` that never exists decoded here.

    Deflating 1.2 GB of zeros takes zlib ~25 s, so one block of ``rows_per_block`` rows is
    deflated once, ended with a full flush (no back-reference crosses it), and repeated.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = bytes((1 + 3 * width) * rows_per_block)  # filter byte 0 and black pixels per row
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: the zlib frame is added here
    block = raw.compress(rows) + raw.flush(zlib.Z_FULL_FLUSH)
    repeats, rest = divmod(height, rows_per_block)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    last = tail.compress(rows[: (1 + 3 * width) * rest]) + tail.flush()  # the final block
    adler = 1
    for _ in range(repeats):
        adler = zlib.adler32(rows, adler)
    adler = zlib.adler32(rows[: (1 + 3 * width) * rest], adler)
    idat = b"\x78\xda" + block * repeats + last + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_png_bomb_is_a_valid_png():
    import io

    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(png_bomb(640, 250, rows_per_block=100))) as img:
        assert img.size == (640, 250) and img.mode == "RGB"
        assert not np.asarray(img).any()


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        line.split(":")[0]: int(line.split()[1])
        for line in status.splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    }


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_decompression_bomb_is_refused_with_flat_memory(tmp_path):
    bomb = png_bomb(20000, 20000)
    assert len(bomb) < 2 * 2**20  # small on the wire: 1.2 GB once decoded
    srv = ServeProcess("--no-warm", env=env_with_keys())
    try:
        tok = requests.post(
            srv.url + TOKEN,
            data={"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET},
            timeout=10,
        ).json()["access_token"]
        before = memory_kib(srv.proc.pid)
        t0 = time.monotonic()
        reply = requests.post(
            srv.url + GENERAL,
            params={"access_token": tok},
            data={"image": base64.b64encode(bomb).decode()},
            timeout=60,
        ).json()
        elapsed = time.monotonic() - t0
        after = memory_kib(srv.proc.pid)
    finally:
        srv.stop()
    assert reply["error_code"] == 216202 and "20000x20000" in reply["error_msg"], reply
    growth = (after["VmHWM"] - before["VmHWM"]) / 1024
    print(
        f"bomb: RSS {before['VmRSS'] / 1024:.0f} -> {after['VmRSS'] / 1024:.0f} MiB, "
        f"peak +{growth:.0f} MiB, {elapsed:.2f} s"
    )
    assert growth < 64, f"peak memory grew by {growth:.0f} MiB"
    assert elapsed < 3


# -- keys -------------------------------------------------------------------------------------


def test_keys_from_the_environment_stay_out_of_the_process_list(server):
    cmdline = (
        Path(f"/proc/{server.proc.pid}/cmdline").read_bytes() if Path("/proc").exists() else b""
    )
    assert KEY.encode() not in cmdline and SECRET.encode() not in cmdline
    url = server.url + TOKEN
    ok = requests.post(
        url,
        data={"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET},
        timeout=10,
    )
    wrong = requests.post(
        url,
        data={"grant_type": "client_credentials", "client_id": KEY, "client_secret": "guess"},
        timeout=10,
    )
    assert ok.status_code == 200 and wrong.status_code == 401


def test_keys_as_flags_warn_without_showing_them():
    srv = ServeProcess(
        "--no-warm",
        "--api-key",
        "flag-key-1",
        "--secret-key",
        "flag-secret-2",
        env={k: v for k, v in os.environ.items() if not k.startswith("VISLAB_SERVE_")},
    )
    err = srv.stop()
    assert "warning" in err and "ps" in err and "VISLAB_SERVE_API_KEY" in err, err
    assert "flag-key-1" not in err and "flag-secret-2" not in err


def test_no_warning_with_keys_from_the_environment():
    srv = ServeProcess("--no-warm", env=env_with_keys())
    err = srv.stop()
    assert "warning" not in err.lower(), err


def test_help_tells_to_use_the_environment():
    text = subprocess.run(
        [sys.executable, "-m", "vislab", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "VISLAB_SERVE_API_KEY" in text and "VISLAB_SERVE_SECRET_KEY" in text
    assert "process list" in " ".join(text.split())


def test_access_log_has_no_query_string(tmp_path):
    srv = ServeProcess("--no-warm", "--verbose", env=env_with_keys())
    try:
        tok = requests.post(
            srv.url + TOKEN,
            params={"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET},
            timeout=10,
        ).json()["access_token"]
        requests.post(
            srv.url + GENERAL + "?" + urllib.parse.urlencode({"access_token": tok}),
            data={"image": ""},
            timeout=10,
        )
        exchange(srv, head("PUT", f"{GENERAL}?access_token={tok}"))
        exchange(srv, head("POST", f"{GENERAL}?access_token={tok}", "Content-Length: -1"))
    finally:
        log = srv.stop()
    assert f"POST {GENERAL} 200" in log and f"PUT {GENERAL} 405" in log
    assert f"POST {GENERAL} 400" in log
    assert tok not in log and SECRET not in log and "access_token" not in log
