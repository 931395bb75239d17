"""Hostile image inputs: each refused with a typed error, nothing hangs, nothing explodes."""

from __future__ import annotations

import http.server
import io
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from vislab.catalogue.baidu_image_classify import LIMITS
from vislab.emulator.inputs import check_image
from vislab.errors import InvalidImage
from vislab.images import (
    ImageLimits,
    decode_pixels,
    expand_images,
    prepare_image,
)
from vislab.images.sources import fetch_url


def rule_of(source, limits=LIMITS, **kw) -> str:
    with pytest.raises(InvalidImage) as info:
        prepare_image(source, limits, **kw)
    return info.value.rule


def png(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("array,rule", [
    (np.zeros((0, 0, 3), np.uint8), "type"),
    (np.array([[object()]], dtype=object), "type"),
    (np.full((64, 64), np.nan), "values"),
    (np.where(np.eye(64) > 0, np.nan, 0.5), "values"),
    (np.full((64, 64, 3), -0.25), "values"),
    (np.full((64, 64, 3), 300.0), "values"),
    (np.full((64, 64), -5, np.int16), "values"),
])
def test_bad_arrays_are_invalid_images(array, rule):
    assert rule_of(array) == rule


def test_array_dtype_rule():
    mask = np.zeros((64, 64), bool)
    mask[:32] = True
    p = prepare_image(mask, LIMITS)
    assert set(np.unique(decode_pixels(p.data)[0])) <= set(range(0, 4)) | set(range(252, 256))
    twelve_bit = np.tile(np.linspace(0, 4095, 64), (64, 1)).astype(np.uint16)
    pixels = decode_pixels(prepare_image(twelve_bit, LIMITS).data)[0]
    assert pixels.max() >= 250 and pixels.min() <= 3  # 12-bit data fills the 8-bit range


def test_lazily_opened_pil_images(tmp_path, photos):
    path = tmp_path / "cut.jpg"
    buf = io.BytesIO()
    Image.fromarray(photos["coffee"]).save(buf, "JPEG")
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    assert rule_of(Image.open(path)) == "decode"  # truncated: fails only when loaded
    (tmp_path / "whole.jpg").write_bytes(buf.getvalue())
    closed = Image.open(tmp_path / "whole.jpg")
    closed.close()
    assert rule_of(closed) == "decode"


def test_long_path_fifo_and_devices_do_not_hang(tmp_path):
    assert rule_of("x" * 5000 + ".jpg") in ("unreadable", "missing")
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    assert rule_of(str(fifo)) == "not_a_file"
    assert rule_of("/dev/zero") == "not_a_file"
    assert time.monotonic() - t0 < 2


def test_too_large_file_refused_unread(tmp_path):
    big = tmp_path / "huge.jpg"
    with open(big, "wb") as f:  # sparse: 80 MiB announced, nothing written
        f.truncate(80 * 2**20)
    assert rule_of(big) == "file_size"
    small_limit = ImageLimits(max_encoded_bytes=100_000)
    blob = tmp_path / "blob.png"
    blob.write_bytes(png(np.random.default_rng(0).integers(0, 255, (400, 400, 3), np.uint8)))
    assert rule_of(blob, small_limit, fit=False) == "file_size"


def test_literal_names_with_glob_characters(tmp_path, photos):
    literal = tmp_path / "photo[1].jpg"
    literal.write_bytes(png(photos["coffee"]))
    decoy = tmp_path / "photo1.jpg"
    decoy.write_bytes(png(photos["chelsea"]))
    assert expand_images(str(literal)) == [(str(literal), str(literal))]
    p = prepare_image(str(literal), LIMITS)
    assert (p.width, p.height) == (photos["coffee"].shape[1], photos["coffee"].shape[0])
    star = tmp_path / "a*b.jpg"
    star.write_bytes(png(photos["coffee"]))
    assert [k for k, _ in expand_images([str(star)])] == [str(star)]
    # A pattern naming no file still globs; a Path is never globbed.
    assert [k for k, _ in expand_images(str(tmp_path / "photo?.jpg"))] == [str(decoy)]
    assert expand_images(tmp_path / "photo?.jpg")[0][1] == tmp_path / "photo?.jpg"


def test_decompression_bomb_refused_from_its_header(tmp_path):
    # A 20000 x 20000 PNG is ~1.5 MB on disk and 1.2 GB decoded.
    bomb = tmp_path / "bomb.png"
    script = f"from PIL import Image; Image.new('L', (20000, 20000)).save(r'{bomb}')"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    data = bomb.read_bytes()
    assert len(data) < 3 * 2**20
    t0 = time.monotonic()
    assert rule_of(data) == "pixels"
    assert rule_of(data, fit=False) == "pixels"
    with pytest.raises(InvalidImage):
        decode_pixels(data)
    assert time.monotonic() - t0 < 1.0
    # PIL's own process-wide guard is PIL's, untouched by vislab.
    assert Image.MAX_IMAGE_PIXELS == int(1024 * 1024 * 1024 // 4 // 3)


def test_big_jpeg_is_decoded_reduced(photos):
    buf = io.BytesIO()
    Image.fromarray(photos["astronaut"]).resize((8000, 8000)).save(buf, "JPEG", quality=80)
    p = prepare_image(buf.getvalue(), LIMITS)
    assert max(p.width, p.height) <= LIMITS.max_side and "reduced JPEG scale" in p.note


def test_fit_keeps_the_aspect_rule_it_checked():
    wide = np.tile(np.linspace(0, 255, 6000, dtype=np.uint8), (2000, 1))
    p = prepare_image(np.dstack([wide] * 3), LIMITS)
    assert (p.width, p.height) == (4096, 1366)
    from vislab import catalogue

    ep = catalogue.get("baidu.image_classify", "advanced_general")
    check_image(catalogue.service(ep.service), ep, p.data)  # the service's own check passes


class _Drip(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"\x89")
                self.wfile.flush()
                time.sleep(0.4)
        except OSError:
            pass


def test_dripping_url_is_cut_at_the_deadline():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/slow.png"
    try:
        t0 = time.monotonic()
        with pytest.raises(InvalidImage) as info:
            fetch_url(url, ident="slow", deadline=1.5)
        assert info.value.rule == "url_timeout"
        assert time.monotonic() - t0 < 4
    finally:
        server.shutdown()
        server.server_close()
