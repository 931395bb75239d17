"""The committed ONNX backbone and its runtime wrapper, on real photographs (no mocks)."""

from __future__ import annotations

import io
import shutil
import threading

import numpy as np
import pytest
from PIL import Image
from skimage import data

from vislab.engine import backbone as bb
from vislab.engine import files
from vislab.engine.backbone import (
    MODEL_PATH,
    OUTPUT_NAMES,
    Backbone,
    ChecksumError,
    file_sha256,
    get_backbone,
    read_expected_checksum,
    verify_model_checksum,
)
from vislab.errors import InvalidImage
from vislab.images import decode_pixels

CAT_CLASSES = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
CUP_CLASSES = {504, 967, 968}  # coffee mug, espresso, cup


@pytest.fixture(scope="module")
def backbone() -> Backbone:
    return get_backbone()


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return {k: getattr(data, k)() for k in ("astronaut", "chelsea", "coffee", "rocket")}


def test_committed_model_matches_its_checksum():
    line = MODEL_PATH.with_name(MODEL_PATH.name + ".sha256").read_text()
    digest, name = line.split()
    assert name == MODEL_PATH.name and len(digest) == 64
    assert file_sha256(MODEL_PATH) == read_expected_checksum() == digest
    assert verify_model_checksum() == digest
    assert MODEL_PATH.stat().st_size < 50 * 1024 * 1024


def test_a_corrupted_copy_is_refused(tmp_path):
    copy = tmp_path / MODEL_PATH.name
    shutil.copyfile(MODEL_PATH, copy)
    shutil.copyfile(
        MODEL_PATH.with_name(MODEL_PATH.name + ".sha256"), tmp_path / (copy.name + ".sha256")
    )
    verify_model_checksum(copy)  # an intact copy passes
    with copy.open("r+b") as handle:
        handle.seek(copy.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, io.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ChecksumError):
        verify_model_checksum(copy)
    with pytest.raises(ChecksumError):
        Backbone(copy)


def test_outputs_have_documented_names(backbone):
    assert backbone.output_names == OUTPUT_NAMES
    inputs = backbone.session.get_inputs()
    assert [i.name for i in inputs] == ["image"]
    assert inputs[0].type == "tensor(float)"


@pytest.mark.parametrize("batch", [1, 3])
def test_output_shapes_at_224(backbone, batch):
    x = backbone.preprocess([data.chelsea()] * batch)
    out = backbone.forward(x, OUTPUT_NAMES)
    assert out["logits"].shape == (batch, 1000)
    assert out["embedding"].shape == (batch, 1280)
    assert out["features_s8"].shape == (batch, 40, 28, 28)
    assert out["features_s16"].shape == (batch, 112, 14, 14)
    assert out["features_s32"].shape == (batch, 1280, 7, 7)
    assert out["class_maps"].shape == (batch, 1000, 7, 7)
    assert all(v.dtype == np.float32 for v in out.values())


def test_non_square_input_and_output_relations(backbone):
    tensor, scale, content = backbone.prepare_whole(data.coffee(), size=448)  # 400x600 -> 299x448
    assert tensor.shape == (1, 3, 320, 448) and content == (299, 448)
    assert scale == pytest.approx(448 / 600)
    out = backbone.forward(tensor, OUTPUT_NAMES)
    assert out["features_s8"].shape == (1, 40, 40, 56)
    assert out["features_s16"].shape == (1, 112, 20, 28)
    assert out["features_s32"].shape == (1, 1280, 10, 14)
    assert out["class_maps"].shape == (1, 1000, 10, 14)
    # The documented identities: embedding = pooled s32; logits = mean of class_maps.
    np.testing.assert_allclose(out["embedding"], out["features_s32"].mean(axis=(2, 3)), atol=1e-4)
    np.testing.assert_allclose(out["logits"], out["class_maps"].mean(axis=(2, 3)), atol=1e-3)
    # ReLU6 bounds the s32 map.
    assert out["features_s32"].min() >= 0 and out["features_s32"].max() <= 6


def test_preprocess_is_deterministic_and_matches_the_documented_recipe(backbone):
    cat = data.chelsea()  # 300 x 451
    first, second = backbone.preprocess(cat), backbone.preprocess([cat.copy()])
    assert first.shape == (1, 3, 224, 224) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    # centre square of 0.875 * 300 = 262 px, bilinear to 224, (x - 127) / 128
    top, left = (300 - 262) // 2, (451 - 262) // 2
    patch = Image.fromarray(cat[top : top + 262, left : left + 262]).resize(
        (224, 224), Image.BILINEAR
    )
    expected = (np.asarray(patch, np.float32) - 127) / 128
    np.testing.assert_allclose(first[0], expected.transpose(2, 0, 1), atol=1e-6)
    assert first.min() >= -127 / 128 and first.max() <= 128 / 128


def test_grey_and_rgba_inputs_are_converted(backbone):
    grey = data.camera()
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    rgba = np.concatenate([data.coffee(), np.full((400, 600, 1), 255, np.uint8)], axis=2)
    np.testing.assert_array_equal(backbone.preprocess(grey), backbone.preprocess(rgb))
    np.testing.assert_array_equal(backbone.preprocess(rgba), backbone.preprocess(data.coffee()))


def test_bad_inputs_are_rejected(backbone):
    with pytest.raises(TypeError):
        backbone.preprocess(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError):
        backbone.preprocess(np.zeros((10, 10, 5), np.uint8))
    with pytest.raises(ValueError):
        backbone.forward(np.zeros((1, 3, 224, 224), np.float32), ("nope",))
    with pytest.raises(ValueError):
        backbone.forward(np.zeros((3, 224, 224), np.float32))


def test_classify_real_photos(backbone, photos):
    top5 = backbone.classify([photos["chelsea"], photos["coffee"]], top_k=5)
    cat, coffee = ({idx for idx, _ in row} for row in top5)
    assert cat & CAT_CLASSES, top5[0]
    assert coffee & CUP_CLASSES, top5[1]
    for row in top5:
        probs = [p for _, p in row]
        assert probs == sorted(probs, reverse=True)
        assert 0 < sum(probs) <= 1 + 1e-6


def test_probabilities_are_a_softmax(backbone, photos):
    probs = backbone.probabilities(list(photos.values()))
    assert probs.shape == (4, 1000)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_chunked_batches_give_the_same_answer(backbone, photos):
    small = Backbone(batch_size=2)
    images = list(photos.values()) + [data.camera()]
    x = backbone.preprocess(images)
    np.testing.assert_allclose(
        small.forward(x, ("logits",))["logits"],
        backbone.forward(x, ("logits",))["logits"],
        atol=1e-4,
    )


def _jpeg_copy(rgb: np.ndarray, scale: float, quality: int) -> np.ndarray:
    image = Image.fromarray(rgb)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def test_embeddings_are_unit_norm_and_find_near_duplicates(backbone, photos):
    cat = photos["chelsea"]
    copy = _jpeg_copy(cat, 0.6, 70)
    vectors = backbone.embed([cat, copy, photos["coffee"], photos["astronaut"], photos["rocket"]])
    assert vectors.shape == (5, 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    similarity = vectors @ vectors[0]
    assert similarity[1] > 0.9
    assert similarity[1] > similarity[2:].max() + 0.3


def test_feature_maps_geometry(backbone):
    fm = backbone.feature_maps(data.chelsea(), size=384)
    assert fm.image_hw == (300, 451)
    assert fm.content_hw == (255, 384) and fm.input_hw == (256, 384)
    assert fm.scale == pytest.approx(384 / 451)
    assert fm.maps["features_s32"].shape == (1280, 8, 12)
    assert fm.maps["features_s8"].shape == (40, 32, 48)
    assert fm.valid_cells(32) == (8, 12)


def test_get_backbone_is_one_shared_instance_across_threads():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_backbone())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(b) for b in seen}) == 1 and seen[0] is bb.get_backbone()


# ----------------------------------------------------------------- image files


def _save(path, rgb: np.ndarray, size=None, *, mode="RGB", quality=90, exif=None):
    image = Image.fromarray(rgb)
    if size is not None:
        image = image.resize(size, Image.BICUBIC)
    image = image.convert(mode)
    options = {"exif": exif} if exif is not None else {}
    image.save(path, quality=quality, **options)
    return path


@pytest.fixture(scope="module")
def photo_files(tmp_path_factory, photos) -> list:
    """Seven real photos as files: camera-ish JPEGs (DCT-scaled when decoded), small ones, a PNG."""
    folder = tmp_path_factory.mktemp("photos")
    return [
        _save(folder / "chelsea.jpg", photos["chelsea"], (2400, 1600)),  # 1/4 -> 600x400
        _save(folder / "coffee.jpg", photos["coffee"], (1200, 800)),  # 1/2 -> 600x400
        _save(folder / "astronaut.jpg", photos["astronaut"], (1100, 1100)),  # 1/4 -> 275x275
        _save(folder / "rocket.jpg", photos["rocket"]),  # 427x640: decoded at full size
        _save(folder / "camera.jpg", data.camera(), (500, 500), mode="L"),  # grey, full size
        _save(folder / "coffee_cmyk.jpg", photos["coffee"], (600, 400), mode="CMYK"),
        _save(folder / "chelsea.png", photos["chelsea"]),
    ]


def test_decode_file_uses_the_smallest_dct_scale_that_serves_the_crop(photo_files):
    shapes = [files.decode_file(p).shape for p in photo_files]
    assert shapes == [
        (400, 600, 3),
        (400, 600, 3),
        (275, 275, 3),
        (427, 640, 3),
        (500, 500, 3),
        (400, 600, 3),
        (300, 451, 3),
    ]
    assert all(min(s[:2]) >= files.DRAFT_MIN_SIDE == 256 for s in shapes)
    assert files.decode_file(photo_files[0], draft=False).shape == (1600, 2400, 3)


def test_decode_file_matches_decode_pixels_where_no_scaling_happens(photo_files, tmp_path):
    # Files too small to scale (or not JPEG, or draft=False) decode exactly as the emulator
    # does, grey and CMYK JPEGs and the EXIF orientation included.
    rotated = Image.fromarray(data.coffee())
    exif = rotated.getexif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees clockwise
    sideways = tmp_path / "sideways.jpg"
    rotated.save(sideways, quality=90, exif=exif.tobytes())
    for path in [*photo_files[3:], sideways]:
        np.testing.assert_array_equal(
            files.decode_file(path), decode_pixels(path.read_bytes())[0], err_msg=path.name
        )
    assert files.decode_file(sideways).shape == (600, 400, 3)
    for path in photo_files[:3]:
        np.testing.assert_array_equal(
            files.decode_file(path, draft=False), decode_pixels(path.read_bytes())[0]
        )
    # The DCT-scaled decode applies the orientation too.
    big = tmp_path / "big_sideways.jpg"
    rotated.resize((1200, 800)).save(big, quality=90, exif=exif.tobytes())
    assert files.decode_file(big).shape == (600, 400, 3)


def test_forward_files_equals_forward_on_the_decoded_pixels(photo_files):
    # batch 3 over 7 files: three session runs, the last one partial
    small = Backbone(batch_size=3)
    names = ("logits", "embedding", "features_s32")
    for draft in (True, False):
        pixels = [files.decode_file(p, draft=draft) for p in photo_files]
        expected = small.forward(small.preprocess(pixels), names)
        got = small.forward_files(photo_files, names, draft=draft)
        assert list(got) == list(names)
        for name in names:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=f"{name} {draft}")
    full_size = [decode_pixels(p.read_bytes())[0] for p in photo_files]
    np.testing.assert_array_equal(
        small.embed_files(photo_files, draft=False), small.embed(full_size)
    )
    np.testing.assert_array_equal(
        small.probabilities_files(photo_files, draft=False), small.probabilities(full_size)
    )


def test_draft_decoding_keeps_embeddings_and_labels(backbone, photo_files):
    drafted = backbone.embed_files(photo_files)
    full = backbone.embed_files(photo_files, draft=False)
    np.testing.assert_allclose(np.linalg.norm(drafted, axis=1), 1, atol=1e-5)
    cosine = (drafted * full).sum(axis=1)
    assert cosine.min() > 0.99, cosine
    # the first three are decoded at 1/4, 1/2, 1/4 scale; the rest are too small to scale
    assert not any(np.array_equal(drafted[i], full[i]) for i in range(3))
    np.testing.assert_array_equal(drafted[3:], full[3:])
    top = backbone.probabilities_files(photo_files).argmax(1)
    assert top.tolist() == backbone.probabilities_files(photo_files, draft=False).argmax(1).tolist()
    assert top[0] in CAT_CLASSES and top[1] in CUP_CLASSES


def test_forward_files_takes_bytes_and_a_single_file(backbone, photo_files):
    one = backbone.forward_files(photo_files[1])["logits"]
    as_bytes = backbone.forward_files([p.read_bytes() for p in photo_files[:2]])["logits"]
    assert one.shape == (1, 1000)
    np.testing.assert_array_equal(as_bytes[1:], one)


def test_lean_sessions_give_bit_identical_outputs(backbone, photos):
    lean = backbone.session_with_threads(1)
    assert backbone.session_with_threads(1) is lean
    assert backbone.session_with_threads(1, spinning=False) is lean  # no pool to spin
    threads = backbone.intra_op_threads
    assert backbone.session_with_threads(threads + 1) is backbone.session
    sleepy = backbone.session_with_threads(threads, spinning=False)
    assert backbone.session_with_threads(threads, spinning=False) is sleepy
    options = sleepy.get_session_options()
    assert options.intra_op_num_threads == threads
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    tensors = [
        backbone.preprocess(list(photos.values()) * 2),
        backbone.prepare_whole(photos["coffee"], 448)[0],
    ]
    for tensor in tensors:
        main_out = backbone.session.run(list(OUTPUT_NAMES), {"image": tensor})
        for other in (lean, sleepy):
            other_out = other.run(list(OUTPUT_NAMES), {"image": tensor})
            for name, a, b in zip(OUTPUT_NAMES, main_out, other_out, strict=True):
                np.testing.assert_array_equal(a, b, err_msg=name)


def test_concurrent_forward_files_calls_agree(backbone, photo_files):
    expected = backbone.forward_files(photo_files)["logits"]
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(backbone.forward_files(photo_files)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 3
    for out in seen:
        np.testing.assert_array_equal(out["logits"], expected)


def test_unreadable_files_raise_invalid_image_naming_the_file(photo_files, tmp_path):
    small = Backbone(batch_size=2)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(photo_files[1].read_bytes()[:5000])  # a truncated JPEG
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    missing = tmp_path / "missing.jpg"
    for bad, rule in ((broken, "decode"), (text, "decode"), (missing, "missing")):
        # the bad file sits in a later batch, decoded by a worker thread
        with pytest.raises(InvalidImage) as caught:
            small.forward_files([*photo_files[:3], bad, *photo_files[3:]])
        assert caught.value.rule == rule and caught.value.image == str(bad)
        assert str(bad) in str(caught.value)
    with pytest.raises(InvalidImage) as caught:
        small.embed_files([photo_files[0], b""])
    assert caught.value.rule == "empty"
    with pytest.raises(InvalidImage) as caught:
        small.embed_files([data.coffee()])
    assert caught.value.rule == "type"
    with pytest.raises(ValueError, match="no files"):
        small.embed_files([])
    with pytest.raises(ValueError, match="unknown outputs"):
        small.forward_files(photo_files, ("nope",))
    # the backbone still works after a failed run
    assert small.embed_files(photo_files[:1]).shape == (1, 1280)


# ----------------------------------------------------------------- the pixel check


def test_backbone_and_hashes_share_one_pixel_check(backbone):
    # vislab.engine.pixels.as_rgb is the check behind Backbone.preprocess and the hashing /
    # texture / gallery functions (as_rgb_array): they accept and refuse the same arrays.
    from vislab.engine import hashing, pixels
    from vislab.errors import InvalidParameter

    assert bb.as_rgb is pixels.as_rgb
    grey = data.camera()[:40, :60]
    rgba = np.dstack([data.coffee()[:40, :60], np.zeros((40, 60), np.uint8)])
    for image in (grey, rgba, data.coffee()[:40, :60]):
        expected = pixels.as_rgb(image)
        assert expected.shape == (40, 60, 3) and expected.flags.c_contiguous
        np.testing.assert_array_equal(hashing.as_rgb_array(image), expected)
    np.testing.assert_array_equal(pixels.as_rgb(grey)[:, :, 2], grey)
    np.testing.assert_array_equal(pixels.as_rgb(rgba), data.coffee()[:40, :60])
    rgb = np.zeros((4, 5, 3), np.uint8)
    assert pixels.as_rgb(rgb) is rgb  # already fine: no copy
    bad_shapes = [
        np.zeros((4, 5, 2), np.uint8),
        np.zeros((4,), np.uint8),
        np.zeros((0, 5, 3), np.uint8),
    ]
    for bad in bad_shapes:
        for check in (backbone.preprocess, hashing.phash, hashing.content_sign):
            with pytest.raises(InvalidParameter):
                check(bad)
    for check in (backbone.preprocess, hashing.dhash, hashing.content_sign):
        with pytest.raises(pixels.PixelTypeError) as caught:
            check(np.zeros((4, 5, 3), np.float32))
        assert isinstance(caught.value, TypeError) and "uint8" in str(caught.value)
    with pytest.raises(InvalidParameter, match="pixels must"):
        hashing.as_rgb_array(np.zeros((4, 5, 2), np.uint8))
    with pytest.raises(InvalidParameter, match="image must"):
        backbone.preprocess(np.zeros((4, 5, 2), np.uint8))
