"""Training EasyDL detectors: boxes, counts from the density head, the report, refusals.

The images are drawn here (bright cells on a dark, noisy field, touching in places) with
their exact boxes, so the truth is known; a tiny set and a short training keep it to seconds.
The quality targets on the real sample sets are measured in benchmarks/bench_easydl.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vislab import evaluate
from vislab.easydl import Dataset, TrainingRefused, load, train


def field(seed: int, *, size: int = 128, n: int = 14):
    """A dark field with ``n`` bright round cells of 9-13 px, some touching, and their boxes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    img = rng.normal(30, 6, (size, size))
    boxes = []
    while len(boxes) < n:
        d = rng.uniform(9, 13)
        cx, cy = rng.uniform(d, size - d, 2)
        # centres at least 0.8 diameters apart: cells may touch, never hide each other
        if any(np.hypot(cx - (b[0] + b[2] / 2), cy - (b[1] + b[3] / 2)) < 0.8 * d for b in boxes):
            continue
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= (d / 2) ** 2
        img[inside] = rng.uniform(170, 230)
        boxes.append((cx - d / 2, cy - d / 2, d, d))
    pixels = np.repeat(np.clip(img, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    return pixels, boxes


def cell_dataset(n_images: int, *, seed: int = 0) -> Dataset:
    pixels, rows = {}, []
    for k in range(n_images):
        img, boxes = field(seed + k)
        ident = f"field_{seed + k:03d}.png"
        pixels[ident] = img
        rows.extend((ident, "cell", *b) for b in boxes)
    truth = pd.DataFrame(rows, columns=["image", "label", "x", "y", "w", "h"])
    return Dataset.from_frames(truth, images=pixels)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("easydl-detect-home")


@pytest.fixture(scope="module")
def cells():
    return cell_dataset(10)


@pytest.fixture(scope="module")
def detector(cells, home):
    return train(cells, name="cells", home=home, epochs=60, progress=False)


def test_detector_finds_the_cells_of_held_out_fields(detector):
    assert (detector.kind, detector.version, detector.classes) == ("detection", "V1", ["cell"])
    r = detector.report
    assert r.truth["image"].nunique() == 2
    assert r.metrics["AP50"] > 0.8, r.metrics
    # the report's numbers are vislab.evaluate's on the stored frames
    coco = evaluate.coco_eval(r.truth, r.pred, max_dets=(1, 10, 100))
    assert r.metrics["mAP"] == pytest.approx(coco.stats["AP"])
    t = detector.recommended_threshold
    best = evaluate.best_threshold(evaluate.threshold_sweep(r.truth, r.pred))
    assert t == best["threshold"] and r.metrics["f1"] == pytest.approx(best["f1"])
    assert r.market_line.startswith("Ready") or "needs > 60 %" in r.market_line
    assert r.headline[0] == "mAP"


def test_predict_gives_boxes_above_the_threshold_and_count_gives_the_density(detector, home):
    img, boxes = field(99)
    df = detector.predict({"f": img}, progress=False)
    assert df.attrs["threshold"] == detector.recommended_threshold
    assert (df["score"] >= detector.recommended_threshold).all()
    truth = pd.DataFrame(
        [("f", "cell", *b) for b in boxes], columns=["image", "label", "x", "y", "w", "h"]
    )
    m = evaluate.match_detections(truth, df)
    assert (m["match"] == "tp").sum() >= 0.8 * len(boxes)
    everything = detector.predict({"f": img}, threshold=0.0, progress=False)
    assert len(everything) >= len(df)
    counts = detector.count(
        {"f": img, "blank": np.full((128, 128, 3), 30, np.uint8)}, progress=False
    )
    assert counts.columns[:3].tolist() == ["image", "label", "count"]
    per = counts.set_index("image")["count"]
    assert abs(per["f"] - len(boxes)) <= 0.2 * len(boxes)
    assert per["blank"] < 3
    # the counts of the held-out fields are in the report, per image
    c = detector.report.counts
    assert set(c.columns) >= {"image", "label", "true", "predicted", "boxes", "error"}
    assert (c["true"] == 14).all()
    again = load("cells", home=home)
    assert again.count({"f": img}, progress=False)["count"][0] == pytest.approx(per["f"])


def test_detector_version_keeps_copies_of_its_images_and_builds_on_them(detector, home):
    folder = home / "easydl" / "cells" / "V1"
    assert len(list((folder / "images").iterdir())) == 10
    v2 = train(
        cell_dataset(3, seed=50),
        name="cells",
        base_version="V1",
        home=home,
        epochs=20,
        progress=False,
    )
    assert v2.version == "V2" and v2.meta["dataset"]["images"] == 13


def test_detection_refusals(home):
    no_boxes = pd.DataFrame(
        {
            "image": ["a", "b", "c", "d"],
            "label": [None] * 4,
            "x": [None] * 4,
            "y": [None] * 4,
            "w": [None] * 4,
            "h": [None] * 4,
        }
    )
    blank = {k: np.zeros((64, 64, 3), np.uint8) for k in "abcd"}
    with pytest.raises(TrainingRefused, match="label"):
        train(
            Dataset.from_frames(no_boxes, images=blank, kind="detection"),
            name="empty",
            home=home,
            progress=False,
        )
    with pytest.raises(TrainingRefused):
        train(cell_dataset(2, seed=70), name="two", home=home, progress=False)  # < 4 images
    with pytest.raises(Exception, match="classification"):
        train(cell_dataset(6), name="cells_x", other_class=True, home=home, progress=False)
