"""The local 0-100 similarity holds PAI's rule on real photos: identical images give 100,
edited copies (crop, JPEG, brightness, mirror) >= 80, different photos < 80."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from vislab import pai
from vislab.emulator.pai_model_hub import similarity_score


def _photos() -> dict[str, np.ndarray]:
    from skimage import data
    from sklearn.datasets import load_sample_images

    photos = {
        "astronaut": data.astronaut(),
        "chelsea": data.chelsea(),
        "coffee": data.coffee(),
        "rocket": data.rocket(),
        "coins": np.stack([data.coins()] * 3, -1),
        "camera": np.stack([data.camera()] * 3, -1),
        "hubble": data.hubble_deep_field(),
        "immuno": data.immunohistochemistry(),
    }
    for name, image in zip(["china", "flower"], load_sample_images().images, strict=True):
        photos[name] = image
    return photos


def _edits(array: np.ndarray) -> dict[str, np.ndarray]:
    img = Image.fromarray(array)
    w, h = img.size
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=30)
    return {
        "crop": np.asarray(img.crop((w // 10, h // 10, w - w // 10, h - h // 10))),
        "jpeg": np.asarray(Image.open(buf).convert("RGB")),
        "brighter": np.asarray(ImageEnhance.Brightness(img).enhance(1.4)),
        "darker": np.asarray(ImageEnhance.Brightness(img).enhance(0.7)),
        "mirror": np.ascontiguousarray(array[:, ::-1]),
    }


@pytest.fixture(scope="module")
def scores():
    photos = _photos()
    client = pai.Client(progress=False, errors="raise")
    a, b, kinds = {}, {}, {}
    for name, image in photos.items():
        a[f"{name}"] = image
        b[f"{name} itself"] = image
        kinds[name] = "identical"
        for edit, copy in _edits(image).items():
            key = f"{name}/{edit}"
            a[key], b[f"{name} {edit}"], kinds[key] = image, copy, "edited"
    for x, y in itertools.combinations(photos, 2):
        key = f"{x}~{y}"
        a[key], b[key + " b"], kinds[key] = photos[x], photos[y], "different"
    df = client.image_similarity(a, b)
    df["kind"] = df["a"].map(kinds)
    return df


def test_identical_images_give_100(scores):
    assert (scores.loc[scores["kind"] == "identical", "similarity"] == 100).all()


def test_edited_copies_reach_80_and_different_photos_stay_below(scores):
    edited = scores.loc[scores["kind"] == "edited", "similarity"]
    different = scores.loc[scores["kind"] == "different", "similarity"]
    assert len(edited) == 50 and len(different) == 45
    assert edited.min() >= 80, scores.loc[scores["kind"] == "edited"].nsmallest(3, "similarity")
    assert different.max() < 80, scores.loc[scores["kind"] == "different"].nlargest(3, "similarity")
    # the margin either side of the knee, so the rule is not a coin toss
    assert edited.min() - different.max() > 30


def test_mapping_is_monotone_and_bounded():
    grid = np.linspace(-1, 1, 401)
    values = np.array([similarity_score(c) for c in grid])
    assert values[0] == 0 and values[-1] == 100 and np.all(np.diff(values) >= 0)
