"""Classification features on the forward_files schedule (run_prepared) equal the backbone's
own embeddings of each view, in order, from files and from pixels in memory."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from vislab.engine.backbone import get_backbone
from vislab.engine.files import run_prepared
from vislab.engine.training.features import image_features, view
from vislab.errors import InvalidImage


def _photos():
    return [data.chelsea(), data.coffee(), data.astronaut()[::2, ::3], data.rocket()] * 5


def test_general_features_equal_embed_of_each_view_in_order():
    images = _photos()
    x = image_features(images, views=(0, 4), batch_size=16)
    backbone = get_backbone()
    want = np.concatenate(
        [
            backbone.embed([view(im, 0) for im in images]),
            backbone.embed([view(im, 4) for im in images]),
        ]
    )
    assert x.shape == (2 * len(images), 1280)
    np.testing.assert_allclose(x, want, atol=2e-5)
    # the mirror image is a different input: its features are not the image's own
    assert not np.allclose(x[: len(images)], x[len(images) :], atol=1e-3)


def test_general_features_from_files_equal_embed_files(tmp_path):
    paths = []
    for i, im in enumerate(_photos()[:6]):
        paths.append(tmp_path / f"{i}.jpg")
        Image.fromarray(np.ascontiguousarray(im)).save(paths[-1], quality=90)
    from vislab.images import decode_pixels

    x = image_features(paths, load=lambda p: decode_pixels(p.read_bytes())[0])
    np.testing.assert_allclose(x, get_backbone().embed_files(paths, draft=False), atol=2e-5)


def test_a_failing_image_stops_the_run_with_its_error():
    def load(item):
        if item == 3:
            raise InvalidImage("image 3 is broken", rule="decode")
        return data.coffee()

    with pytest.raises(InvalidImage, match="image 3"):
        image_features(list(range(40)), load=load)


def test_run_prepared_refuses_no_items():
    with pytest.raises(ValueError, match="no items"):
        run_prepared(get_backbone(), 0, lambda block, i: None, ["logits"])


def _fine_reference(backbone, images) -> np.ndarray:
    """The ``fine`` recipe written out one image at a time with plain ``Backbone.forward``."""
    from vislab.engine.backbone import PIXEL_MEAN, PIXEL_STD

    def tensor(rgb, size):
        squashed = np.asarray(Image.fromarray(rgb).resize((size, size), Image.BILINEAR))
        chw = squashed.transpose(2, 0, 1).astype(np.float32)
        return ((chw - PIXEL_MEAN) * (1.0 / PIXEL_STD))[None]

    rows = []
    for rgb in images:
        emb = backbone.forward(tensor(rgb, 224), ("embedding",))["embedding"][0]
        maps = backbone.forward(tensor(rgb, 448), ("features_s32",))["features_s32"][0]
        gem = np.power(np.power(maps, 3.0).mean(axis=(1, 2)), 1.0 / 3.0)
        rows.append(np.concatenate([emb / np.linalg.norm(emb), gem / np.linalg.norm(gem)]))
    return np.stack(rows)


def test_fine_features_on_the_pipeline_equal_the_recipe_per_view_in_order():
    images = _photos()[:9]  # more than one batch of 16 rows with two views
    x = image_features(images, recipe="fine", views=(0, 4))
    backbone = get_backbone()
    want = np.concatenate(
        [
            _fine_reference(backbone, [view(im, 0) for im in images]),
            _fine_reference(backbone, [view(im, 4) for im in images]),
        ]
    )
    assert x.shape == (2 * len(images), 2560)
    np.testing.assert_allclose(x, want, atol=2e-5)
    assert not np.allclose(x[: len(images)], x[len(images) :], atol=1e-3)


def test_run_prepared_takes_another_input_size_and_reduces_each_batch():
    from vislab.engine.backbone import PIXEL_MEAN, PIXEL_STD

    cat = np.asarray(Image.fromarray(data.chelsea()).resize((320, 320), Image.BILINEAR))
    chw = (cat.transpose(2, 0, 1).astype(np.float32) - PIXEL_MEAN) / PIXEL_STD
    seen = []

    def fill(block, index):
        block[0] = chw

    def pool(outputs):
        seen.append(outputs["features_s32"].shape)
        return {"features_s32": outputs["features_s32"].max(axis=(2, 3))}

    backbone = get_backbone()
    out = run_prepared(backbone, 20, fill, ["features_s32"], input_size=320, reduce=pool)
    # every batch's 10 x 10 maps were pooled before being kept
    assert seen[0][2:] == (10, 10) and sum(s[0] for s in seen) == 20 and len(seen) >= 2
    whole = backbone.forward(chw[None], ("features_s32",))["features_s32"]
    assert out["features_s32"].shape == (20, whole.shape[1])
    np.testing.assert_allclose(out["features_s32"][7], whole[0].max(axis=(1, 2)), atol=1e-5)
