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
