"""Image input: every accepted kind, and a typed, actionable error for every bad one."""

from __future__ import annotations

import http.server
import io
import socket
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.conftest import jpeg_bytes
from vislab.catalogue.baidu_image_classify import LIMITS
from vislab.errors import InvalidImage
from vislab.images import ImageLimits, decode_pixels, encoded_size, expand_images, prepare_image


def png_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def test_accepts_every_input_kind(photos, photo_files, tmp_path):
    arr = photos["coffee"]
    for source in (photo_files["coffee"], str(photo_files["coffee"]), jpeg_bytes(arr),
                   Image.fromarray(arr), arr, arr.astype(np.float32) / 255.0):
        p = prepare_image(source, LIMITS)
        assert (p.width, p.height) == (arr.shape[1], arr.shape[0])
        assert p.format in LIMITS.formats
        assert decode_pixels(p.data)[0].shape == arr.shape


def test_expand_many_kinds(photo_files):
    folder = photo_files["coffee"].parent
    pattern = str(folder / "*.jpg")
    assert [k for k, _ in expand_images(pattern)] == sorted(str(p) for p in folder.glob("*.jpg"))
    series = pd.Series([str(photo_files["coffee"]), str(photo_files["rocket"])])
    assert [k for k, _ in expand_images(series)] == list(series)
    df = pd.DataFrame({"path": series})
    assert expand_images(df["path"]) == expand_images(series)
    # The same file twice keeps two rows with distinct identifiers.
    keys = [k for k, _ in expand_images([photo_files["coffee"]] * 2)]
    assert keys[0] != keys[1] and keys[1].endswith("#2")
    with pytest.raises(TypeError, match="one column"):
        expand_images(df)
    with pytest.raises(InvalidImage, match="matches no file"):
        expand_images(str(folder / "*.png"))


def test_original_bytes_kept_when_valid(photo_files):
    data = photo_files["rocket"].read_bytes()
    assert prepare_image(photo_files["rocket"], LIMITS).data == data


def _rule(source, limits=LIMITS, **kw):
    with pytest.raises(InvalidImage) as info:
        prepare_image(source, limits, **kw)
    return info.value


def test_missing_file_and_directory(tmp_path):
    err = _rule(tmp_path / "nope.jpg")
    assert err.rule == "missing" and "no such file" in str(err)
    err = _rule(tmp_path)
    assert err.rule == "not_a_file" and "folder" in str(err)


def test_zero_bytes_and_text_named_jpg(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert _rule(empty).rule == "empty"
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a picture\n")
    err = _rule(text)
    assert err.rule == "decode" and "not an image" in str(err)


def test_truncated_jpeg(photos, tmp_path):
    data = jpeg_bytes(photos["astronaut"])
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 3])
    err = _rule(cut)
    assert err.rule == "decode" and "damaged" in str(err)


def test_strip_and_icon_fail_with_limits():
    err = _rule(Image.new("RGB", (20000, 20), "white"))
    assert err.rule == "aspect_ratio" and err.limit == 3.0 and err.value == 1000.0
    err = _rule(Image.new("RGB", (10, 10), "white"))
    assert err.rule == "min_side" and (err.limit, err.value) == (15, 10)


def test_too_large_is_fitted_or_refused(photos):
    big = Image.fromarray(photos["astronaut"]).resize((6000, 6000))
    p = prepare_image(big, LIMITS)
    assert max(p.width, p.height) <= 4096 and "resized" in p.note
    err = _rule(big, fit=False)
    assert err.rule == "max_side" and err.value == 6000
    # A payload over the byte limit is shrunk until it fits (noise does not compress).
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (2500, 2500, 3),
                                                              dtype=np.uint8))
    tight = ImageLimits(max_encoded_bytes=500_000)
    p = prepare_image(noise, tight)
    assert encoded_size(p.data, "base64") <= 500_000
    assert _rule(noise, tight, fit=False).rule == "encoded_size"


def test_sixteen_bit_png(tmp_path):
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    p = prepare_image(path, LIMITS)
    pixels, _ = decode_pixels(p.data)
    assert pixels.dtype == np.uint8 and pixels.max() > 200 and pixels.min() < 10
    assert "16-bit" in p.note


def test_cmyk_jpeg(photos, tmp_path):
    path = tmp_path / "print.jpg"
    Image.fromarray(photos["coffee"]).convert("CMYK").save(path, "JPEG")
    p = prepare_image(path, LIMITS)
    pixels, fmt = decode_pixels(p.data)
    assert fmt == "JPEG" and pixels.shape[2] == 3 and "CMYK" in p.note
    # Colours survive the conversion (no inverted channels).
    diff = np.abs(pixels.astype(int) - photos["coffee"].astype(int)).mean()
    assert diff < 20


def test_palette_png_with_transparency(tmp_path):
    img = Image.new("P", (64, 64), 0)
    img.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    img.paste(1, (16, 16, 48, 48))
    path = tmp_path / "logo.png"
    img.save(path, transparency=0)
    p = prepare_image(path, LIMITS)
    pixels, _ = decode_pixels(p.data)
    assert tuple(pixels[2, 2]) == (255, 255, 255)  # transparent -> white
    assert pixels[32, 32, 2] > 200 and pixels[32, 32, 0] < 60  # opaque blue kept


def test_animated_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (40, 40), c) for c in ("red", "green", "blue")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    p = prepare_image(path, LIMITS)
    assert p.format in LIMITS.formats and "first frame" in p.note
    pixels, _ = decode_pixels(p.data)
    assert pixels[20, 20, 0] > 200 and pixels[20, 20, 1] < 60  # the red first frame


def test_exif_orientation_applied(photos, tmp_path):
    img = Image.fromarray(photos["rocket"])  # 427 x 640 (portrait)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif.tobytes())
    p = prepare_image(path, LIMITS)
    assert (p.width, p.height) == (img.height, img.width)
    assert "EXIF" in p.note


@pytest.fixture()
def web(tmp_path, photo_files):
    (tmp_path / "page.html").write_text("<html>hello</html>")
    (tmp_path / "cat.jpg").write_bytes(photo_files["chelsea"].read_bytes())
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path), **k)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_urls(web):
    p = prepare_image(f"{web}/cat.jpg", LIMITS)
    assert p.width == 451 and p.id == f"{web}/cat.jpg"
    err = _rule(f"{web}/page.html")
    assert err.rule == "url" and "not an image" in str(err)
    err = _rule(f"{web}/missing.jpg")
    assert err.rule == "url" and "404" in str(err)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    err = _rule(f"http://127.0.0.1:{closed}/x.jpg")
    assert err.rule == "url" and "could not download" in str(err)


def test_bad_array_shape():
    err = _rule(np.zeros((4, 40, 40, 3), np.uint8))
    assert err.rule == "type" and "(4, 40, 40, 3)" in str(err)


def test_unknown_type():
    assert _rule(12345).rule == "type"


def test_bmp_and_gif_reencoded_only_when_needed(photos):
    bmp = io.BytesIO()
    Image.fromarray(photos["coffee"]).save(bmp, "BMP")
    assert prepare_image(bmp.getvalue(), LIMITS).format == "BMP"
    webp = io.BytesIO()
    Image.fromarray(photos["coffee"]).save(webp, "WEBP")
    p = prepare_image(webp.getvalue(), LIMITS)
    assert p.format == "JPEG" and "re-encoded WEBP" in p.note
    assert _rule(webp.getvalue(), fit=False).rule == "format"


def test_path_object_identifier(photo_files):
    key, _ = expand_images(Path(photo_files["coffee"]))[0]
    assert key == str(photo_files["coffee"])
