"""Fixtures for widget tests: small real photos and deterministic detection sets."""

from __future__ import annotations

import pytest

from tests.widgets.data import make_detections


@pytest.fixture(scope="session")
def photo_files(tmp_path_factory):
    """Four scikit-image photographs written as JPEG files; returns their paths."""
    from PIL import Image
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        path = folder / f"{name}.jpg"
        Image.fromarray(getattr(data, name)()).save(path, quality=85)
        paths.append(str(path))
    return paths


@pytest.fixture
def detections():
    return make_detections()
