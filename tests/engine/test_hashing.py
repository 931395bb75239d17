"""Content signatures, perceptual hashes and the near-copy verifier, on real photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.engine import _edits
from vislab.engine import hashing
from vislab.engine.hashing import (
    CopyVerifier,
    content_sign,
    dhash,
    from_int64,
    hamming,
    parse_cont_sign,
    phash,
    thumbnail,
    to_int64,
)
from vislab.errors import InvalidParameter


@pytest.fixture(scope="module")
def photos():
    return _edits.load_photos()


def test_content_sign_is_two_uint32_and_deterministic(photos):
    img = photos["chelsea"]
    sign = content_sign(img)
    a, b = (int(x) for x in sign.split(","))
    assert 0 <= a < 2**32 and 0 <= b < 2**32
    assert content_sign(img.copy()) == sign
    # Pinned: the recipe must not drift, or stored galleries would stop matching re-adds.
    assert content_sign(np.zeros((2, 3, 3), np.uint8)) == content_sign(
        np.zeros((2, 3, 3), np.uint8)
    )
    assert content_sign(np.zeros((2, 3, 3), np.uint8)) != content_sign(
        np.zeros((3, 2, 3), np.uint8)
    )


def test_content_sign_follows_pixels_not_file_format(photos):
    img = photos["coffee"]
    for fmt in ("PNG", "BMP"):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, fmt)
        assert content_sign(np.asarray(Image.open(buf).convert("RGB"))) == content_sign(img)
    changed = img.copy()
    changed[0, 0, 0] ^= 1
    assert content_sign(changed) != content_sign(img)
    # Grey and RGBA inputs are read as RGB.
    grey = img[..., 0]
    assert content_sign(grey) == content_sign(np.repeat(grey[..., None], 3, 2))


@pytest.mark.parametrize("bad", ["1", "1,2,3", "a,b", "-1,2", f"{2**32},1", ""])
def test_parse_cont_sign_rejects_malformed(bad):
    with pytest.raises(InvalidParameter):
        parse_cont_sign(bad)


def test_parse_cont_sign_normalises():
    assert parse_cont_sign(" 007,  8 ") == "7,8"


def test_pixels_must_be_uint8_images():
    with pytest.raises(InvalidParameter):
        content_sign(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(InvalidParameter):
        phash(np.zeros((4, 4, 2), np.uint8))


def test_phash_and_dhash_survive_light_edits(photos):
    edits = ("jpeg q40", "resize 50%", "resize 150%", "brightness -30", "resize 50% + jpeg q60")
    for name, img in photos.items():
        for edit in edits:
            copy = _edits.LIGHT_EDITS[edit](img)
            assert hamming(phash(img), phash(copy)) <= 10, (name, edit)
        assert hamming(dhash(img), dhash(_edits.jpeg(img, 85))) <= 8, name


def test_phash_separates_different_photos(photos):
    names = list(photos)
    hashes = np.array([phash(photos[n]) for n in names], dtype=np.uint64)
    dist = hamming(hashes[:, None], hashes[None, :])
    off_diagonal = dist[np.triu_indices(len(names), 1)]
    assert off_diagonal.min() >= 16
    assert 26 <= np.median(off_diagonal) <= 38


def test_hamming_vectorised_and_fallback_agree():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, size=200, dtype=np.uint64) * np.uint64(2)
    b = rng.integers(0, 2**63, size=200, dtype=np.uint64)
    expected = [bin(int(x) ^ int(y)).count("1") for x, y in zip(a, b, strict=True)]
    assert hamming(a, b).tolist() == expected
    x = np.bitwise_xor(a, b)
    fallback = hashing._POPCOUNT8[np.ascontiguousarray(x)[..., None].view(np.uint8)].sum(-1)
    assert fallback.tolist() == expected


@pytest.mark.parametrize("value", [0, 1, 2**63 - 1, 2**63, 2**64 - 1])
def test_int64_round_trip(value):
    stored = to_int64(value)
    assert -(2**63) <= stored < 2**63
    assert from_int64(stored) == value


def test_thumbnail_shape(photos):
    t = thumbnail(photos["rocket"])
    assert t.shape == (64, 64) and t.dtype == np.uint8


def test_copy_verifier_finds_light_edits_and_rejects_different_pictures(photos):
    """The verification step of same_hq, measured: every light edit above 0.80, every
    different picture (other photos, other people's faces, halves of one photo) below 0.70."""
    thumbs = {n: thumbnail(img) for n, img in photos.items()}
    worst_copy = min(
        CopyVerifier(edit(img)).score(thumbs[name])
        for name, img in photos.items()
        for edit in _edits.LIGHT_EDITS.values()
    )
    assert worst_copy >= 0.80
    names = list(photos)
    verifiers = {n: CopyVerifier(photos[n]) for n in names}
    best_other = max(verifiers[a].score(thumbs[b]) for a in names for b in names if a != b)
    assert best_other <= 0.50
    people = _edits.faces(20)
    face_thumbs = [thumbnail(f) for f in people]
    face_verifiers = [CopyVerifier(f) for f in people]
    best_face = max(
        face_verifiers[i].score(face_thumbs[j])
        for i in range(len(people))
        for j in range(len(people))
        if i != j
    )
    assert best_face <= 0.55
    halves = []
    for img in photos.values():
        w = img.shape[1]
        halves.append(CopyVerifier(img[:, : w // 2]).score(thumbnail(img[:, w // 2 :])))
    assert max(halves) <= 0.70
