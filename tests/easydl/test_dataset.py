"""vislab.easydl.Dataset: constructors, writers, frames, splits, merges and hashes, on real files."""

from __future__ import annotations

import io
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vislab.easydl import ArchiveError, Dataset, DatasetError
from vislab.errors import InvalidImage


def _photo(seed: int, size=(64, 48)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w, h = size
    base = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(base).resize((w, h), Image.BILINEAR))


def _jpeg(seed: int, size=(64, 48), **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_photo(seed, size)).save(buf, "JPEG", quality=90, **save)
    return buf.getvalue()


def _class_folders(root, counts: dict, size=(64, 48)):
    seed = 0
    for label, n in counts.items():
        (root / label).mkdir(parents=True)
        for i in range(n):
            seed += 1
            (root / label / f"{i}.jpg").write_bytes(_jpeg(seed, size))
    return root


def _detection_frame():
    return pd.DataFrame(
        {
            "image": ["a.png", "a.png", "b.png", "c.png", "d.png"],
            "label": ["cat", "dog", "cat", "cat", None],
            "x": [1.0, 10.0, 2.5, 0.0, None],
            "y": [2.0, 12.0, 3.0, 0.0, None],
            "w": [10.0, 20.0, 30.25, 64.0, None],
            "h": [5.0, 8.0, 9.0, 48.0, None],
        }
    )


@pytest.fixture
def detection(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, k in enumerate("abcd"):
        Image.fromarray(_photo(i)).save(folder / f"{k}.png")
    return Dataset.from_frames(_detection_frame(), images=folder)


def test_from_folder_reads_classes_sizes_and_formats_from_headers(tmp_path):
    root = _class_folders(tmp_path / "set", {"ok": 3, "scratch": 2})
    Image.fromarray(_photo(9, (40, 30))).save(root / "ok" / "extra.png")
    (root / "empty").mkdir()
    ds = Dataset.from_folder(root)
    assert ds.kind == "classification" and ds.classes == ["empty", "ok", "scratch"]
    assert len(ds) == 6 and ds.images[:2] == ["ok/0.jpg", "ok/1.jpg"]
    f = ds.frame
    assert list(f.columns) == [
        "image",
        "label",
        "path",
        "width",
        "height",
        "format",
        "bytes",
        "error",
    ]
    row = f.set_index("image").loc["ok/extra.png"]
    assert (row.width, row.height, row.format, row.label) == (40, 30, "PNG", "ok")
    assert row.bytes == (root / "ok" / "extra.png").stat().st_size
    assert f["error"].isna().all()
    assert ds.counts()["images"].tolist() == [0, 4, 2]
    assert repr(ds).startswith("Dataset('classification', 6 images, 3 classes: empty 0, ok 4")
    assert ds.load("scratch/1.jpg").shape == (48, 64, 3)
    assert ds.source("ok/0.jpg") == str(root / "ok" / "0.jpg")


def test_exif_rotation_is_in_the_size_and_the_pixels(tmp_path):
    (tmp_path / "ok").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    (tmp_path / "ok" / "phone.jpg").write_bytes(_jpeg(1, (64, 48), exif=exif.tobytes()))
    ds = Dataset.from_folder(tmp_path)
    row = ds.frame.iloc[0]
    assert (row.width, row.height) == (48, 64)
    assert ds.load("ok/phone.jpg").shape == (64, 48, 3)


def test_a_wrapper_folder_is_opened_and_a_single_class_folder_is_kept(tmp_path):
    _class_folders(tmp_path / "a" / "fruit", {"apple": 2, "pear": 1})
    assert Dataset.from_folder(tmp_path / "a").classes == ["apple", "pear"]
    _class_folders(tmp_path / "b", {"apple": 2})
    one = Dataset.from_folder(tmp_path / "b")
    assert one.classes == ["apple"] and one.images == ["apple/0.jpg", "apple/1.jpg"]


def test_bad_files_are_kept_with_their_reason_and_stray_files_are_noted(tmp_path):
    root = _class_folders(tmp_path, {"ok": 2})
    (root / "ok" / "empty.jpg").write_bytes(b"")
    (root / "ok" / "notes.jpg").write_text("not an image")
    (root / "ok" / ".hidden.jpg").write_bytes(_jpeg(3))
    (root / "__MACOSX").mkdir()
    (root / "__MACOSX" / "x.jpg").write_bytes(_jpeg(4))
    (root / "stray.jpg").write_bytes(_jpeg(5))
    ds = Dataset.from_folder(root)
    assert ds.images == ["ok/0.jpg", "ok/1.jpg", "ok/empty.jpg", "ok/notes.jpg"]
    errors = ds.frame.set_index("image")["error"]
    assert errors["ok/empty.jpg"] == "empty file (0 bytes)"
    assert errors["ok/notes.jpg"].startswith("not a readable image")
    assert "2 unreadable" in repr(ds)
    with pytest.raises(InvalidImage, match="empty file"):
        ds.load("ok/empty.jpg")
    assert ds.usable().images == ["ok/0.jpg", "ok/1.jpg"]
    report = ds.check()
    assert set(report.loc[report["rule"] == "unreadable", "image"]) == {
        "ok/empty.jpg",
        "ok/notes.jpg",
    }
    assert report.loc[report["rule"] == "layout", "image"].tolist() == ["stray.jpg"]


def test_from_zip_merges_same_named_classes_of_several_zips(tmp_path):
    z1, z2 = tmp_path / "one.zip", tmp_path / "two.zip"
    with zipfile.ZipFile(z1, "w") as zf:
        zf.writestr("fruit/apple/1.jpg", _jpeg(1))
        zf.writestr("fruit/pear/1.jpg", _jpeg(2))
    with zipfile.ZipFile(z2, "w") as zf:
        zf.writestr("apple/1.jpg", _jpeg(3))
        zf.writestr("apple/2.jpg", _jpeg(4))
    ds = Dataset.from_zip([z1, z2], extract_to=tmp_path / "x")
    assert ds.images == ["apple/1.jpg", "pear/1.jpg", "apple/1~2.jpg", "apple/2.jpg"]
    assert ds.counts().set_index("label")["images"].to_dict() == {"apple": 3, "pear": 1}
    assert (tmp_path / "x" / "02-two" / "apple" / "2.jpg").is_file()
    assert np.array_equal(ds.load("apple/1~2.jpg"), np.asarray(Image.open(io.BytesIO(_jpeg(3)))))
    merged = ds.check().query("rule == 'class_merged'")
    assert merged[["label", "image"]].values.tolist() == [["apple", "two.zip"]]
    # A temporary extraction lives as long as the dataset.
    tmp_ds = Dataset.from_zip(z1)
    path = tmp_ds.source("apple/1.jpg")
    assert Image.open(path).size == (64, 48)


def test_from_zip_refuses_mixed_kinds_and_bad_zips(tmp_path):
    cls_zip, det_zip = tmp_path / "c.zip", tmp_path / "d.zip"
    with zipfile.ZipFile(cls_zip, "w") as zf:
        zf.writestr("ok/1.jpg", _jpeg(1))
    with zipfile.ZipFile(det_zip, "w") as zf:
        zf.writestr("1.jpg", _jpeg(1))
        zf.writestr("1.xml", "<annotation><filename>1.jpg</filename></annotation>")
    with pytest.raises(DatasetError, match="different kinds"):
        Dataset.from_zip([cls_zip, det_zip])
    with pytest.raises(DatasetError, match="at least one"):
        Dataset.from_zip([])
    with pytest.raises(ArchiveError):
        Dataset.from_zip(tmp_path / "c.zip", extract_to=tmp_path)  # not empty


@pytest.mark.parametrize("layout", ["voc_flat", "voc_dirs", "coco", "yolo"])
def test_detection_zips_in_every_documented_layout(tmp_path, layout):
    z = tmp_path / "det.zip"
    gt = {
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 5, 20, 10]}],
    }
    xml = (
        "<annotation><filename>a.jpg</filename><object><name>cat</name><bndbox>"
        "<xmin>4</xmin><ymin>5</ymin><xmax>24</xmax><ymax>15</ymax></bndbox></object>"
        "</annotation>"
    )
    files = {
        "voc_flat": {"set/a.jpg": _jpeg(1), "set/a.xml": xml, "set/b.jpg": _jpeg(2)},
        "voc_dirs": {
            "JPEGImages/a.jpg": _jpeg(1),
            "Annotations/a.xml": xml,
            "JPEGImages/b.jpg": _jpeg(2),
        },
        "coco": {
            "annotations.json": json.dumps(gt),
            "images/a.jpg": _jpeg(1),
            "images/b.jpg": _jpeg(2),
        },
        "yolo": {
            "images/a.jpg": _jpeg(1),
            "images/b.jpg": _jpeg(2),
            "labels/a.txt": "0 0.21875 0.2083333333 0.3125 0.2083333333\n",
            "data.yaml": "names: [cat]\n",
        },
    }[layout]
    with zipfile.ZipFile(z, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    ds = Dataset.from_zip(z)
    assert ds.kind == "detection" and ds.classes == ["cat"] and ds.images == ["a.jpg", "b.jpg"]
    truth = ds.truth()
    assert truth[["image", "label"]].values.tolist() == [["a.jpg", "cat"]]
    assert np.allclose(truth[["x", "y", "w", "h"]].to_numpy(), [[4, 5, 20, 10]])
    f = ds.frame
    assert f.loc[f["image"] == "b.jpg", "label"].isna().all()  # an image without boxes
    assert truth.attrs["images"]["image"] == ["a.jpg", "b.jpg"]


def test_detection_frame_and_truth(detection):
    ds = detection
    assert ds.kind == "detection" and ds.classes == ["cat", "dog"]
    assert repr(ds) == (
        "Dataset('detection', 4 images, 2 labels, 4 boxes: cat 3, dog 1; from frames)"
    )
    f = ds.frame
    assert list(f.columns[:6]) == ["image", "label", "x", "y", "w", "h"]
    assert f["image"].tolist() == ["a.png", "a.png", "b.png", "c.png", "d.png"]
    assert pd.isna(f.iloc[-1]["label"]) and f.iloc[-1]["width"] == 64
    t = ds.truth()
    assert len(t) == 4 and t.attrs["images"]["image"] == ["a.png", "b.png", "c.png", "d.png"]
    assert ds.counts().values.tolist() == [["cat", 3, 3], ["dog", 1, 1]]
    from vislab.evaluate import coco_eval

    pred = t.assign(score=0.9)
    assert coco_eval(t, pred).stats["AP"] == pytest.approx(1.0)


@pytest.mark.parametrize("writer", ["to_coco", "to_voc", "to_yolo", "to_folder", "to_zip"])
def test_detection_round_trips(tmp_path, detection, writer):
    out = getattr(detection, writer)(tmp_path / "out")
    reader = {
        "to_coco": Dataset.from_coco,
        "to_voc": Dataset.from_voc,
        "to_yolo": Dataset.from_yolo,
        "to_folder": Dataset.from_folder,
        "to_zip": Dataset.from_zip,
    }[writer]
    back = reader(out)
    assert back.images == detection.images and back.classes == detection.classes
    a, b = detection.truth(), back.truth()
    assert a[["image", "label"]].equals(b[["image", "label"]])
    cols = ["x", "y", "w", "h"]
    assert np.allclose(a[cols].to_numpy(), b[cols].to_numpy(), atol=1e-6)
    if writer != "to_yolo":  # YOLO stores fractions
        assert back.content_hash() == detection.content_hash()


def test_classification_round_trips_and_writer_rules(tmp_path):
    ds = Dataset.from_folder(_class_folders(tmp_path / "set", {"ok": 3, "bad": 2}))
    assert Dataset.from_folder(ds.to_folder(tmp_path / "copy")).content_hash() == (
        ds.content_hash()
    )
    [z] = ds.to_zip(tmp_path / "up.zip")
    assert sorted(zipfile.ZipFile(z).namelist()) == sorted(ds.images)
    assert Dataset.from_zip(z).content_hash() == ds.content_hash()
    with pytest.raises(DatasetError, match="to_folder"):
        ds.to_coco(tmp_path / "coco")
    with pytest.raises(DatasetError, match="not an empty folder"):
        ds.to_folder(tmp_path / "set")


def test_to_zip_splits_by_bytes_and_by_images(tmp_path):
    ds = Dataset.from_folder(_class_folders(tmp_path / "set", {"ok": 6, "bad": 4}))
    total = int(ds.frame["bytes"].sum())
    budget = total // 3 + 2000
    zips = ds.to_zip(tmp_path / "bytes", max_bytes=budget)
    assert len(zips) >= 3 and all(p.stat().st_size <= budget for p in zips)
    assert [p.name for p in zips][:2] == ["dataset_part1.zip", "dataset_part2.zip"]
    back = Dataset.from_zip(zips)
    assert sorted(back.images) == sorted(ds.images)
    assert back.content_hash() == ds.content_hash()
    assert back.check().query("rule == 'class_merged'").shape[0] >= 1
    by_count = ds.to_zip(tmp_path / "count.zip", max_images=4)
    assert [len(zipfile.ZipFile(p).namelist()) for p in by_count] == [4, 4, 2]
    with pytest.raises(ArchiveError) as err:
        ds.to_zip(tmp_path / "tiny.zip", max_bytes=500)
    assert err.value.rule == "budget"


def test_detection_zip_holds_images_with_xml_beside_them(tmp_path, detection):
    [z] = detection.to_zip(tmp_path / "det.zip")
    names = zipfile.ZipFile(z).namelist()
    assert names[:4] == ["a.png", "a.xml", "b.png", "b.xml"] and "d.xml" in names


def test_writers_skip_unreadable_images_with_one_warning(tmp_path):
    root = _class_folders(tmp_path / "set", {"ok": 2})
    (root / "ok" / "bad.jpg").write_bytes(b"junk")
    ds = Dataset.from_folder(root)
    with pytest.warns(UserWarning, match="1 unreadable images were not written"):
        [z] = ds.to_zip(tmp_path / "z.zip")
    assert sorted(zipfile.ZipFile(z).namelist()) == ["ok/0.jpg", "ok/1.jpg"]


def test_from_frames_with_box_annotator(tmp_path):
    from vislab.widgets import BoxAnnotator

    photos = {f"p{i}": _photo(i) for i in range(3)}
    ann = BoxAnnotator(photos, labels=["cell"])
    ann.set_boxes([{"x": 5, "y": 6, "w": 20, "h": 10, "label": "cell"}])
    ann.submit()
    ann.submit()  # saved with no box
    ds = Dataset.from_frames(ann.annotations, images=photos)
    assert ds.images == ["p0", "p1"]  # p2 was never saved: not part of the dataset
    assert ds.truth()[["image", "x", "w"]].values.tolist() == [["p0", 5.0, 20.0]]
    assert ds.check().query("rule == 'no_boxes'")["image"].tolist() == ["p1"]
    assert ds.to_voc(tmp_path / "voc").joinpath("Annotations", "p1.xml").is_file()


def test_from_frames_images_as_paths_folder_and_bad_input(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_jpeg(1))
    t = pd.DataFrame({"image": ["a.jpg"], "label": ["ok"]})
    assert Dataset.from_frames(t, images=tmp_path).frame["width"].item() == 64
    by_path = Dataset.from_frames(t.assign(image=str(tmp_path / "a.jpg")))
    assert by_path.frame["format"].item() == "JPEG"
    missing = Dataset.from_frames(t, images={"b.jpg": b""})
    assert missing.frame["error"].item() == "not in the images given"
    with pytest.raises(DatasetError, match="have no class"):
        Dataset.from_frames(pd.DataFrame({"image": ["a"], "label": [None]}), images={"a": b""})
    with pytest.raises(DatasetError, match="one row per image"):
        Dataset.from_frames(pd.DataFrame({"image": ["a", "a"], "label": ["x", "y"]}))
    bad_box = _detection_frame().assign(x=[1.0, None, 2.0, 0.0, None])
    with pytest.raises(DatasetError, match="lack x, y, w or h"):
        Dataset.from_frames(bad_box, images={})
    with pytest.raises(DatasetError, match="needs x, y, w, h"):
        Dataset.from_frames(t, kind="detection")


def test_coco_with_paths_outside_and_bad_json(tmp_path):
    gt = {"images": [{"id": 1, "file_name": "../secret.jpg"}], "annotations": [], "categories": []}
    (tmp_path / "secret.jpg").write_bytes(_jpeg(1))
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "gt.json").write_text(json.dumps(gt))
    ds = Dataset.from_coco(tmp_path / "set" / "gt.json")
    assert ds.frame["error"].item() == "its file_name points outside the images folder"
    with pytest.raises(InvalidImage):
        ds.load("../secret.jpg")
    (tmp_path / "bad.json").write_text(json.dumps({"images": [{"file_name": "a"}]}))
    with pytest.raises(DatasetError, match="not a COCO instances file"):
        Dataset.from_coco(tmp_path / "bad.json")


def test_split_is_stratified_deterministic_and_complete(tmp_path):
    labels = ["ok"] * 30 + ["hole"] * 10 + ["rare"] * 1
    t = pd.DataFrame({"image": [f"i{k}" for k in range(len(labels))], "label": labels})
    ds = Dataset.from_frames(t, images={i: _photo(k) for k, i in enumerate(t["image"])})
    train, test = ds.split(test_size=0.25, seed=3)
    assert len(test) == 11 and len(train) == 30
    assert set(train.images).isdisjoint(test.images)
    assert sorted(train.images + test.images) == sorted(ds.images)
    per = test.counts().set_index("label")["images"].to_dict()
    assert per == {"hole": 2, "ok": 8, "rare": 0} or per == {"hole": 3, "ok": 8, "rare": 0}
    assert "i40" in train.images  # a lone image stays for training
    assert train.classes == test.classes == ds.classes
    again = ds.split(test_size=0.25, seed=3)[1]
    assert again.images == test.images
    assert ds.split(test_size=0.25, seed=4)[1].images != test.images
    assert len(ds.split(test_size=5)[1]) == 5
    for bad in (0.0, 1.0, 0, 41, "half"):
        with pytest.raises(DatasetError):
            ds.split(test_size=bad)


def test_detection_split_stratifies_by_label_sets():
    rows = []
    for k in range(20):
        labels = ["cell"] if k < 12 else (["cell", "debris"] if k < 18 else [])
        rows += [
            {"image": f"f{k}", "label": lab, "x": 1.0, "y": 1.0, "w": 5.0, "h": 5.0}
            for lab in labels
        ] or [{"image": f"f{k}", "label": None}]
    t = pd.DataFrame(rows)
    ds = Dataset.from_frames(t, images={f"f{k}": _photo(k) for k in range(20)})
    train, test = ds.split(test_size=0.5, seed=0)
    strata = test._strata()
    assert strata.count(("cell",)) == 6 and strata.count(("cell", "debris")) == 3
    assert strata.count(()) == 1


def test_subset_merge_and_errors(detection):
    sub = detection.subset(["c.png", "a.png"])
    assert sub.images == ["a.png", "c.png"] and sub.classes == ["cat", "dog"]
    assert sub.counts()["boxes"].tolist() == [2, 1]
    with pytest.raises(DatasetError, match="no such images"):
        detection.subset(["zz.png"])
    merged = detection.merge(sub)
    assert merged.images[-2:] == ["a~2.png", "c~2.png"] and len(merged.truth()) == 7
    assert np.array_equal(merged.load("a~2.png"), detection.load("a.png"))
    cls = Dataset.from_frames(
        pd.DataFrame({"image": ["a"], "label": ["ok"]}), images={"a": _photo(1)}
    )
    with pytest.raises(DatasetError, match="cannot merge a classification"):
        detection.merge(cls)
    with pytest.raises(DatasetError, match="no image 'nope'"):
        detection.load("nope")


def test_content_hash_follows_content_not_order(tmp_path):
    root = _class_folders(tmp_path / "set", {"ok": 3, "bad": 2})
    ds = Dataset.from_folder(root)
    h = ds.content_hash()
    assert h == Dataset.from_folder(root).content_hash()
    t = ds.truth()
    assert Dataset.from_frames(t[::-1], images=root).content_hash() == h
    relabelled = t.assign(label=["ok"] * 5)
    assert Dataset.from_frames(relabelled, images=root).content_hash() != h
    data = bytearray((root / "ok" / "0.jpg").read_bytes())
    data[-10] ^= 0xFF
    (root / "ok" / "0.jpg").write_bytes(bytes(data))
    assert Dataset.from_folder(root).content_hash() != h
    boxes = _detection_frame()
    px = {k: _photo(i) for i, k in enumerate(["a.png", "b.png", "c.png", "d.png"])}
    a = Dataset.from_frames(boxes, images=px).content_hash()
    moved = boxes.assign(x=boxes["x"] + 0.5)
    assert Dataset.from_frames(moved, images=px).content_hash() != a


def test_voc_folder_with_a_hostile_xml_keeps_importing(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_jpeg(1))
    (tmp_path / "b.jpg").write_bytes(_jpeg(2))
    (tmp_path / "a.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
        "<annotation><filename>a.jpg</filename></annotation>"
    )
    (tmp_path / "b.xml").write_text(
        "<annotation><filename>../../etc/b.jpg</filename><object><name>cat</name><bndbox>"
        "<xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>"
        "</annotation>"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = Dataset.from_voc(tmp_path)
    assert ds.images == ["b.jpg", "a.jpg"]  # b's path was cut to its name; a has no boxes
    assert ds.source("b.jpg") == str(tmp_path / "b.jpg")
    report = ds.check()
    ann = report.query("rule == 'annotation'")
    assert ann["image"].tolist() == ["a.xml"] and "DOCTYPE" in ann["message"].item()


def test_yolo_folder_notes_orphan_and_bad_label_files(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    for k in "ab":
        (tmp_path / "images" / f"{k}.jpg").write_bytes(_jpeg(ord(k)))
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.25 0.25\n")
    (tmp_path / "labels" / "b.txt").write_text("0 0.5\n")
    (tmp_path / "labels" / "ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "classes.txt").write_text("cell\n")
    ds = Dataset.from_folder(tmp_path)
    assert ds.kind == "detection" and ds.images == ["a.jpg", "b.jpg"]
    assert ds.truth()[["image", "label", "w", "h"]].values.tolist() == [["a.jpg", "cell", 16, 12]]
    report = ds.check()
    assert report.query("rule == 'annotation'")["image"].tolist() == ["b.jpg"]
    assert report.query("rule == 'layout'")["image"].tolist() == ["labels/ghost.txt"]
