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
