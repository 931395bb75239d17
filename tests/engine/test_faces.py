"""The face engine on real faces with the real converted models (BlazeFace, FaceRes, Emotion)."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from vislab.engine import onnx_model
from vislab.engine.errors import EngineError
from vislab.engine.faces import (
    EXPRESSIONS,
    FaceModelsMissing,
    NoFace,
    TooManyFaces,
    detect_faces,
    face_attributes,
    face_descriptor,
    face_similarity,
    faces_available,
)
from vislab.engine.faces import models as face_models

skimage_data = pytest.importorskip("skimage.data")
pytestmark = pytest.mark.skipif(not faces_available(), reason="face models not installed")


@pytest.fixture(scope="module")
def astronaut():
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def cameraman():
    return np.stack([skimage_data.camera()] * 3, axis=-1)


def lfw_face(index: int) -> np.ndarray:
    """An lfw_subset face (25x25 grey) upscaled and centred on a grey 224x224 RGB canvas."""
    face = skimage_data.lfw_subset()[index]
    big = Image.fromarray((face * 255).round().astype(np.uint8)).resize((112, 112), Image.BICUBIC)
    canvas = np.full((224, 224), 128, np.uint8)
    canvas[56:168, 56:168] = np.asarray(big)
    return np.stack([canvas] * 3, axis=-1)


def side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    height = max(a.shape[0], b.shape[0])
    out = np.zeros((height, a.shape[1] + b.shape[1], 3), np.uint8)
    out[: a.shape[0], : a.shape[1]] = a
    out[: b.shape[0], a.shape[1] :] = b
    return out


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def test_detects_the_astronauts_face(astronaut):
    (face,) = detect_faces(astronaut)
    x1, y1, x2, y2 = face.box
    # Eileen Collins' face lies around x 170-280, y 70-180 of the 512x512 photo.
    assert 150 < x1 < 200 and 250 < x2 < 300
    assert 50 < y1 < 100 and 160 < y2 < 210
    assert face.score > 0.8
    eyes = face.landmarks[:2]
    assert eyes[0, 0] < eyes[1, 0]  # subject's right eye on the image's left
    assert np.all((eyes >= [x1, y1]) & (eyes <= [x2, y2]))


def test_no_face_is_an_empty_list_and_a_typed_error(astronaut):
    grey = np.full((200, 300, 3), 90, np.uint8)
    coffee = skimage_data.coffee()
    assert detect_faces(grey) == [] and detect_faces(coffee) == []
    with pytest.raises(NoFace, match="face_attributes needs at least one face") as info:
        face_attributes(coffee)
    assert isinstance(info.value, EngineError)
    with pytest.raises(NoFace, match="image b .*exactly one face per image"):
        face_similarity(astronaut, coffee)


def test_two_faces_side_by_side(astronaut, cameraman):
    pair = side_by_side(astronaut, cameraman)
    faces = detect_faces(pair)
    assert len(faces) == 2
    assert sorted(f.box[0] > astronaut.shape[1] for f in faces) == [False, True]
    with pytest.raises(TooManyFaces, match="image a .*exactly one face per image") as info:
        face_similarity(pair, astronaut)
    assert info.value.count == 2 and isinstance(info.value, EngineError)
    assert len(face_attributes(pair)) == 2  # attributes are per face: no single-face rule


def test_similarity_of_edited_copies_is_above_80(astronaut, cameraman):
    assert face_similarity(astronaut, astronaut) == 100.0
    for base in (astronaut, cameraman, lfw_face(0), lfw_face(20)):
        image = Image.fromarray(base)
        width, height = image.size
        copies = [
            np.asarray(ImageEnhance.Brightness(image).enhance(1.25)),
            np.asarray(ImageEnhance.Contrast(image).enhance(0.7)),
            jpeg(base, 40),
            np.asarray(image.crop((width // 16, height // 16, width, height))),
            np.asarray(image.resize((width * 3 // 4, height * 3 // 4), Image.BILINEAR)),
        ]
        for copy in copies:
            assert face_similarity(base, copy) > 80


def test_similarity_of_different_people_is_below_80(astronaut, cameraman):
    assert face_similarity(astronaut, cameraman) < 80
    pairs = [(0, 1), (2, 3), (4, 5), (10, 11), (12, 40), (50, 60), (70, 80), (90, 99)]
    scores = [face_similarity(lfw_face(a), lfw_face(b)) for a, b in pairs]
    assert all(score < 80 for score in scores), scores
    assert face_similarity(astronaut, lfw_face(7)) < 80


def test_descriptor_is_unit_length_and_identity_sensitive(astronaut, cameraman):
    a = face_descriptor(astronaut, detect_faces(astronaut)[0])
    c = face_descriptor(cameraman, detect_faces(cameraman)[0])
    bright = np.clip(astronaut.astype(int) + 20, 0, 255).astype(np.uint8)
    b = face_descriptor(bright, detect_faces(bright)[0])
    assert a.shape == (1024,) and np.isclose(np.linalg.norm(a), 1.0, atol=1e-5)
    assert a @ b > 0.9 > 0.5 > a @ c


def test_attributes_of_the_astronaut(astronaut):
    (face,) = face_attributes(astronaut)
    assert face.gender == "female" and face.gender_score > 0.6
    assert 25 <= face.age <= 55  # Eileen Collins was 42 in this 1998/99 portrait
    assert face.expression in EXPRESSIONS
    assert face.expression == "happy" and face.expression_score > 0.5  # she is smiling
    assert face.box == detect_faces(astronaut)[0].box


def test_attributes_of_the_cameraman(cameraman):
    (face,) = face_attributes(cameraman)
    assert face.gender == "male" and face.expression in EXPRESSIONS and 10 < face.age < 70


def test_checksum_is_verified_before_loading(tmp_path, monkeypatch):
    for name in face_models.FACE_MODEL_NAMES:
        for suffix in (".onnx", ".onnx.sha256"):
            shutil.copy(face_models.FACE_MODELS_DIR / f"{name}{suffix}", tmp_path)
    with open(tmp_path / "emotion.onnx", "ab") as handle:
        handle.write(b"\0")
    monkeypatch.setattr(face_models, "FACE_MODELS_DIR", tmp_path)
    monkeypatch.setattr(face_models, "_SESSIONS", {})
    with pytest.raises(onnx_model.ChecksumError, match="emotion.onnx"):
        face_models.face_session("emotion")
    assert face_models.face_session("blazeface") is not None  # intact files still load


def test_missing_models_name_the_extra(tmp_path, monkeypatch, astronaut):
    monkeypatch.setattr(face_models, "FACE_MODELS_DIR", tmp_path)
    monkeypatch.setattr(face_models, "_SESSIONS", {})
    assert not face_models.faces_available()
    with pytest.raises(FaceModelsMissing, match=r"pip install 'vislab\[face\]'") as info:
        detect_faces(astronaut)
    assert isinstance(info.value, EngineError) and info.value.missing == "blazeface.onnx"


def test_bad_pixels_are_refused():
    from vislab.errors import VislabError

    with pytest.raises(VislabError):
        detect_faces(np.zeros((10, 10, 3), np.float32))
