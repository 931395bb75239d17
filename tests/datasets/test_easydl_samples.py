"""The generated EasyDL sample datasets: deterministic, well-formed, and what they claim to be."""

from __future__ import annotations

import numpy as np
import pytest

import vislab.datasets
from vislab.datasets import cells, defects, samples, shelf
from vislab.datasets.easydl_samples import DEFECT_CLASSES, SHELF_PRODUCTS
from vislab.easydl import Dataset


def _bytes(ds: Dataset) -> list[bytes]:
    return [open(ds.source(i), "rb").read() for i in ds.images]


def test_reexports():
    assert samples.defects is defects is vislab.datasets.easydl_samples.defects
    assert vislab.datasets.cells is cells and vislab.datasets.shelf is shelf


def test_defects_is_a_classification_set_easydl_takes(tmp_path):
    ds = defects(tmp_path / "qc", n_per_class=20, size=128, seed=1)
    assert isinstance(ds, Dataset) and ds.kind == "classification"
    assert ds.classes == sorted(DEFECT_CLASSES) and len(ds) == 80
    assert (tmp_path / "qc" / "hole" / "hole_000.jpg").is_file()
    f = ds.frame
    assert (
        (f["width"] == 128).all() and (f["height"] == 128).all() and (f["format"] == "JPEG").all()
    )
    report = ds.check(model_kind="classification")
    assert (report["severity"] == "warning").all()  # only "fewer than 100 per class"
    assert set(report["rule"]) == {"images_per_class"}
    assert _bytes(ds) == _bytes(defects(tmp_path / "again", n_per_class=20, size=128, seed=1))
    assert _bytes(ds) != _bytes(defects(tmp_path / "other", n_per_class=20, size=128, seed=2))


def test_defects_differ_from_ok_where_the_defect_is(tmp_path):
    ds = defects(tmp_path, n_per_class=12, size=128)
    dark = {}
    for label in ds.classes:
        images = [ds.load(i).mean(axis=2) for i in ds.images if i.startswith(label + "/")]
        # the darkest 0.3 % of pixels: pits, grooves and blots are darker than the surface
        dark[label] = np.median([np.percentile(im, 0.3) for im in images])
    assert dark["hole"] < dark["ok"] - 20
    assert dark["scratch"] < dark["ok"] - 8 and dark["stain"] < dark["ok"] - 8
    only = defects(tmp_path / "two", n_per_class=12, size=128, classes=("ok", "hole"))
    assert _bytes(only) == _bytes(ds.subset([i for i in ds.images if i[:3] in ("ok/", "hol")]))
    textured = [ds.load(i).std() for i in ds.images[:8]]
    assert min(textured) > 5
    defects(tmp_path / "re", n_per_class=3, size=96)
    assert len(defects(tmp_path / "re", n_per_class=2, size=96)) == 8  # nothing stale
    with pytest.raises(ValueError, match="unknown defect"):
        defects(tmp_path / "x", classes=("rust",))


def test_cells_are_dense_small_touching_and_exactly_boxed(tmp_path):
    ds = cells(tmp_path, n_images=4, size=256, seed=5)
    assert ds.kind == "detection" and ds.classes == ["cell"] and len(ds) == 4
    f = ds.frame
    per_image = f.groupby("image").size()
    assert per_image.between(80, 300).all()
    long_side = np.maximum(f["w"], f["h"])
    assert long_side.between(4.0, 14.0).all() and long_side.median() > 7
    assert (
        (f["x"] >= 0) & (f["y"] >= 0) & (f["x"] + f["w"] <= 256) & (f["y"] + f["h"] <= 256)
    ).all()
    touching = 0
    for image, boxes in f.groupby("image"):
        b = boxes[["x", "y", "w", "h"]].to_numpy()
        x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
        ix = np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None])
        iy = np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None])
        overlap = (ix > 0) & (iy > 0)
        np.fill_diagonal(overlap, False)
        touching += overlap.any(axis=1).sum()
        # Box centres are cell centres: bright, against a dark background.
        px = ds.load(image)[..., 1].astype(float)
        cx = np.clip((x0 + x1) / 2, 0, 255).astype(int)
        cy = np.clip((y0 + y1) / 2, 0, 255).astype(int)
        assert px[cy, cx].mean() > 2.5 * np.median(px)
    assert touching > 0.2 * len(f)
    assert ds.check().query("severity == 'error'").empty
    again = cells(tmp_path / "again", n_images=4, size=256, seed=5)
    assert again.truth().equals(ds.truth()) and _bytes(again) == _bytes(ds)


def test_shelf_products_stand_in_rows_with_exact_boxes(tmp_path):
    ds = shelf(tmp_path, n_images=8, seed=1)
    assert ds.kind == "detection" and ds.classes == sorted(SHELF_PRODUCTS)
    f = ds.frame
    assert f["label"].notna().all() and (f["width"] == 384).all() and (f["height"] == 288).all()
    assert (
        (f["x"] >= 0) & (f["x"] + f["w"] <= 384) & (f["y"] >= 0) & (f["y"] + f["h"] <= 288)
    ).all()
    counts = f.groupby("image").size()
    assert counts.min() >= 8
    for _image, boxes in f.groupby("image"):
        b = boxes[["x", "y", "w", "h"]].to_numpy()
        x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
        ix = np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None])
        iy = np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None])
        overlap = (ix > 0) & (iy > 0)
        np.fill_diagonal(overlap, False)
        assert not overlap.any()  # packages stand side by side
    # Two facings of one product look alike; two products do not.
    pixels = {i: ds.load(i).astype(float) for i in ds.images}

    def crop(r):
        from PIL import Image

        im = pixels[r.image][int(r.y) : int(r.y + r.h), int(r.x) : int(r.x + r.w)]
        return np.asarray(Image.fromarray(im.astype(np.uint8)).resize((16, 16))).astype(float)

    rows = list(f.itertuples())
    same = [
        np.abs(crop(a) - crop(b)).mean()
        for a, b in zip(rows, rows[1:], strict=False)
        if a.label == b.label and a.image == b.image
    ]
    other = [
        np.abs(crop(a) - crop(b)).mean()
        for a, b in zip(rows, rows[1:], strict=False)
        if a.label != b.label and a.image == b.image
    ]
    assert np.median(same) < 0.6 * np.median(other)
    assert ds.check().query("severity == 'error'").empty
    assert _bytes(shelf(tmp_path / "again", n_images=8, seed=1)) == _bytes(ds)


def test_samples_in_a_temporary_folder_live_with_the_dataset():
    ds = cells(n_images=1, size=128, count=(20, 30))
    path = ds.source(ds.images[0])
    assert ds.load(ds.images[0]).shape == (128, 128, 3)
    import os

    assert os.path.isfile(path)
