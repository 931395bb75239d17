"""Offline OCR (vislab.engine.ocr) on rendered receipts: real RapidOCR, real PP-OCRv4 models."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from vislab.datasets.samples import receipt
from vislab.engine import ocr
from vislab.engine.pixels import PixelTypeError
from vislab.errors import InvalidParameter, VislabError
from vislab.geometry import box_iou

needs_rapidocr = pytest.mark.skipif(
    sys.version_info >= (3, 13),
    reason="rapidocr-onnxruntime supports Python < 3.13, so the ocr extra installs nothing here",
)


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def squeeze(text: str) -> str:
    return "".join(text.split())


def on_page(image: Image.Image) -> Image.Image:
    """The image on a page at least as tall as wide.

    RapidOCR scales the shorter side up to 736 px before detection, so a one-line strip
    (460 x 80) would be detected at 4232 x 736; on a square page it costs 7x less.
    """
    side = max(image.size)
    page = Image.new("RGB", (side, side), (252, 251, 246))
    page.paste(image, (0, (side - image.height) // 2))
    return page


@pytest.fixture(scope="module")
def read_receipts():
    """Seeds 0 and 1: (receipt, lines read, IoU matrix lines x truth runs)."""
    out = []
    for seed in (0, 1):
        sample = receipt(seed=seed)
        lines = ocr.read_text(sample.pixels)
        boxes = np.array([line.bbox for line in lines])
        iou = box_iou(boxes, sample.truth[["x", "y", "w", "h"]].to_numpy())
        out.append((sample, lines, iou))
    return out


@needs_rapidocr
def test_reads_every_run_of_the_receipt_on_its_truth_box(read_receipts):
    for sample, lines, iou in read_receipts:
        truth = sample.truth["text"].tolist()
        assert len(lines) == len(truth)
        best = iou.argmax(axis=0)
        # Each truth run has its own line, lying on the truth box.
        assert len(set(best.tolist())) == len(truth)
        assert iou.max(axis=0).min() >= 0.5
        read = [lines[i].text for i in best]
        # PP-OCRv4's Chinese+English recogniser often drops the space between two Latin
        # words ("MAPLEFOODS"); every run is exact once whitespace is ignored (measured: all
        # of them on seeds 0-3), and character accuracy with the spaces counted is ~0.94-0.96.
        same = [squeeze(a) == squeeze(b) for a, b in zip(read, truth, strict=True)]
        assert np.mean(same) >= 0.9, [
            (a, b) for a, b, s in zip(read, truth, same, strict=True) if not s
        ]
        errors = sum(edit_distance(a, b) for a, b in zip(read, truth, strict=True))
        accuracy = 1 - errors / sum(len(t) for t in truth)
        assert accuracy >= 0.92, accuracy
        # Digits and prices carry no spaces: those read exactly.
        for a, b in zip(read, truth, strict=True):
            if b.replace(".", "").isdigit():
                assert a == b


@needs_rapidocr
def test_lines_are_in_reading_order_with_clockwise_quads(read_receipts):
    sample, lines, _ = read_receipts[0]
    for line in lines:
        assert isinstance(line, ocr.OcrLine)
        assert isinstance(line.text, str) and isinstance(line.score, float)
        assert 0.5 <= line.score <= 1.0
        q = line.quad
        assert q.shape == (4, 2) and q.dtype == np.float64
        # top-left, top-right, bottom-right, bottom-left in image coordinates (y down)
        assert q[0, 0] < q[1, 0] and q[3, 0] < q[2, 0]
        assert q[0, 1] < q[3, 1] and q[1, 1] < q[2, 1]
        h, w = sample.pixels.shape[:2]
        assert (q >= 0).all() and (q[:, 0] <= w).all() and (q[:, 1] <= h).all()
    tops = [line.quad[:, 1].min() for line in lines]
    assert tops[0] == min(tops) and tops[-1] == max(tops)


@needs_rapidocr
def test_rotated_text_gives_a_rotated_quad_and_the_same_text():
    sample = receipt(lines=["Invoice 2048"])
    angle = 8.0
    turned = on_page(sample.image).rotate(angle, expand=True, fillcolor=(252, 251, 246))
    lines = ocr.read_text(np.asarray(turned))
    # Turned text reads less surely: measured 'invoice2048' (the capital lost), so caseless.
    assert [squeeze(line.text).lower() for line in lines] == ["invoice2048"]
    q = lines[0].quad
    # PIL turns counter-clockwise: the top edge rises to the right by about `angle` degrees.
    slope = np.degrees(np.arctan2(q[0, 1] - q[1, 1], q[1, 0] - q[0, 0]))
    assert abs(slope - angle) < 2.0


@needs_rapidocr
def test_upside_down_text_reads_the_right_way():
    sample = receipt(lines=["Receipt 7731"])
    lines = ocr.read_text(np.asarray(on_page(sample.image).rotate(180)))
    assert [squeeze(line.text) for line in lines] == ["Receipt7731"]


@needs_rapidocr
def test_grey_rgba_and_pil_inputs_read_alike():
    page = on_page(receipt(lines=[("Tea", "2.50")]).image)
    rgb = [(line.text, line.bbox) for line in ocr.read_text(np.asarray(page))]
    grey = np.asarray(page.convert("L"))
    rgba = np.asarray(page.convert("RGBA"))
    assert [line.text for line in ocr.read_text(grey)] == [t for t, _ in rgb]
    assert [(line.text, line.bbox) for line in ocr.read_text(rgba)] == rgb
    assert [t for t, _ in rgb] == ["Tea", "2.50"]


@needs_rapidocr
def test_blank_and_tiny_images_have_no_lines():
    assert ocr.read_text(np.full((300, 200, 3), 252, np.uint8)) == []
    assert ocr.read_text(np.zeros((1, 1), np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    assert ocr.read_text(noise) == []


@needs_rapidocr
def test_bad_pixels_get_the_engines_typed_errors():
    with pytest.raises(PixelTypeError, match="uint8"):
        ocr.read_text(np.zeros((20, 20, 3), np.float32))
    with pytest.raises(InvalidParameter, match="empty"):
        ocr.read_text(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(InvalidParameter, match="shape"):
        ocr.read_text(np.zeros((10, 10, 5), np.uint8))
    with pytest.raises(PixelTypeError):
        ocr.read_text("not an image")


@needs_rapidocr
def test_one_engine_shared_by_threads_with_equal_answers():
    image = np.asarray(on_page(receipt(lines=[("Milk", "1.20"), "Thank you"]).image))
    expected = [(line.text, line.quad.tolist()) for line in ocr.read_text(image)]
    engines, answers, errors = [], [], []

    def work():
        try:
            engines.append(ocr.get_engine())
            answers.append([(line.text, line.quad.tolist()) for line in ocr.read_text(image)])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert len({id(e) for e in engines}) == 1
    assert answers == [expected] * 2


@needs_rapidocr
def test_lazy_creation_makes_one_engine_under_concurrent_first_calls(monkeypatch):
    monkeypatch.setattr(ocr, "_ENGINE", [])
    barrier = threading.Barrier(3)
    engines = []

    def first_call():
        barrier.wait()
        engines.append(ocr.get_engine())

    threads = [threading.Thread(target=first_call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(engines) == 3 and len({id(e) for e in engines}) == 1


@needs_rapidocr
def test_engine_uses_two_threads_and_logs_nothing(capfd):
    import logging

    engine = ocr.get_engine()
    options = engine.text_det.infer.session.get_session_options()
    assert options.intra_op_num_threads == min(2, os.cpu_count())
    assert logging.getLogger("RapidOCR").level == logging.WARNING
    ocr.read_text(np.full((40, 40, 3), 255, np.uint8))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@needs_rapidocr
def test_recogniser_covers_chinese_and_english():
    # No font with Chinese glyphs ships with vislab's dependencies, so Chinese text cannot be
    # rendered here; this checks the recogniser's own dictionary instead.
    characters = set(ocr.get_engine().text_rec.postprocess_op.character)
    assert {"中", "文", "识", "别", "收", "据"} <= characters
    assert set("ABCXYZabcxyz0123456789.%*") <= characters
    assert len(characters) > 6000


def test_missing_extra_names_the_pip_install(monkeypatch):
    # The one fair mock: make the import of rapidocr fail as on a machine without the extra.
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    monkeypatch.setattr(ocr, "_ENGINE", [])
    with pytest.raises(ocr.OcrNotInstalled) as info:
        ocr.read_text(np.full((32, 32, 3), 255, np.uint8))
    assert 'pip install "vislab[ocr]"' in str(info.value)
    assert isinstance(info.value, ImportError) and isinstance(info.value, VislabError)
    assert ocr._ENGINE == []  # nothing half-made is kept: installing the extra then works


def test_quad_bbox_and_orientation_helpers():
    counter = np.array([[0, 0], [0, 10], [30, 10], [30, 0]], float)  # tl, bl, br, tr
    assert ocr._clockwise(counter).tolist() == [[0, 0], [30, 0], [30, 10], [0, 10]]
    line = ocr.OcrLine("x", 1.0, ocr._clockwise(counter))
    assert line.bbox == (0.0, 0.0, 30.0, 10.0)
