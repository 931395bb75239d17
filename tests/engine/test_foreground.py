"""Person segmentation with the real MediaPipe selfie model on real photos."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.engine.faces import detect_faces, faces_available
from vislab.engine.foreground import foreground_probability, segment_foreground

skimage_data = pytest.importorskip("skimage.data")
pytestmark = pytest.mark.skipif(not faces_available(), reason="face models not installed")


def face_centre(image: np.ndarray) -> tuple[int, int]:
    x1, y1, x2, y2 = detect_faces(image)[0].box
    return int((y1 + y2) / 2), int((x1 + x2) / 2)


def test_the_astronaut_is_foreground_and_the_corners_are_not():
    image = skimage_data.astronaut()
    mask, ratio = segment_foreground(image)
    assert mask.dtype == bool and mask.shape == image.shape[:2]
    assert ratio == pytest.approx(mask.mean()) and 0.3 < ratio < 0.8
    assert mask[face_centre(image)]
    assert not mask[0, 0] and not mask[0, -1] and not mask[-1, 0]
    assert mask[50:150, 0:60].mean() < 0.05  # the flag at the top left is background


def test_the_cameraman_is_foreground():
    image = np.stack([skimage_data.camera()] * 3, axis=-1)
    mask, ratio = segment_foreground(image)
    assert 0.15 < ratio < 0.7 and mask[face_centre(image)]


def test_a_photo_without_people_is_background():
    _, ratio = segment_foreground(skimage_data.rocket())
    assert ratio < 0.05


def test_threshold_and_probability_agree():
    image = skimage_data.astronaut()
    probability = foreground_probability(image)
    strict, strict_ratio = segment_foreground(image, threshold=0.9)
    loose, loose_ratio = segment_foreground(image, threshold=0.1)
    assert np.array_equal(strict, probability > 0.9)
    assert strict_ratio <= loose_ratio and not (strict & ~loose).any()
