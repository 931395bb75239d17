"""`segment_foreground` answered offline by MediaPipe Selfie Segmentation
(`vislab.engine.foreground`): PAI's I6 takes an image URL, so the emulator fetches it — here
from a real HTTP server on 127.0.0.1 — and sends PAI's `mask` and `human_ratio` back."""

from __future__ import annotations

import http.server
import threading
from functools import partial

import numpy as np
import pytest
from PIL import Image
from skimage import data

from vislab import pai
from vislab.engine.foreground import segment_foreground
from vislab.masks import rle_decode


@pytest.fixture(scope="module")
def image_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    Image.fromarray(data.astronaut()).save(folder / "astronaut.png")  # lossless: same pixels
    Image.fromarray(data.coffee()).save(folder / "coffee.png")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_url_is_fetched_and_segmented_by_the_local_model(image_server):
    df = pai.Client(progress=False).segment_foreground(
        {"astronaut": f"{image_server}/astronaut.png", "coffee": f"{image_server}/coffee.png"}
    )
    assert df["image"].tolist() == ["astronaut", "coffee"]
    assert df["label"].tolist() == ["human", "human"]
    expected, ratio = segment_foreground(data.astronaut())  # the engine on the same pixels
    mask = rle_decode(df.loc[0, "mask"])
    assert mask.shape == (512, 512)
    assert np.array_equal(mask, expected)
    assert df.loc[0, "human_ratio"] == pytest.approx(ratio, abs=1e-6)
    assert 0.2 < ratio < 0.9  # the astronaut fills a good part of her portrait
    assert df.loc[1, "human_ratio"] < ratio  # a cup of coffee is mostly not a person


def test_an_unreachable_url_is_an_error_row_not_a_guess(image_server):
    df = pai.Client(progress=False).segment_foreground(
        {"missing": f"{image_server}/nothing-here.png"}, errors="row"
    )
    assert len(df) == 1 and df.loc[0, "image"] == "missing"
    assert df["mask"].isna().all() and df.loc[0, "error_msg"]
