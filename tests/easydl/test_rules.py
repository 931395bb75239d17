"""Dataset.check(): every EasyDL data rule, each with a case that breaks it and one that does not."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vislab.easydl import Dataset
from vislab.easydl.limits import RULES, archive_findings, rule_table
from vislab.easydl.rules import LIMITS


def _png(size=(64, 48), seed=0, noise=False) -> bytes:
    rng = np.random.default_rng(seed)
    w, h = size
    if noise:
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    else:
        pixels = np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def _classification(counts: dict, **kw) -> Dataset:
    names = [f"{c}/{i}.png" for c, n in counts.items() for i in range(n)]
    images = {name: _png((40, 32), seed=k, noise=True) for k, name in enumerate(names)}
    t = pd.DataFrame({"image": list(images), "label": [k.split("/")[0] for k in images]})
    return Dataset.from_frames(t, images=images, **kw)


def _detection(boxes_per_image: dict, label="cell", size=(64, 48)) -> Dataset:
    rows, images = [], {}
    for k, (image, n) in enumerate(boxes_per_image.items()):
        images[image] = _png(size, seed=k, noise=True)
        rows += [
            {"image": image, "label": label, "x": 1.0 + j, "y": 1.0, "w": 5.0, "h": 5.0}
            for j in range(n)
        ] or [{"image": image, "label": None}]
    frame = pd.DataFrame(rows).reindex(columns=["image", "label", "x", "y", "w", "h"])
    return Dataset.from_frames(frame, images=images)


def _rules(report, severity=None):
    if severity:
        report = report[report["severity"] == severity]
    return report["rule"].tolist()


def test_a_clean_dataset_has_no_finding():
    ds = _classification({"ok": 100, "bad": 100})
    report = ds.check(model_kind="classification")
    assert report.empty and list(report.columns) == [
        "severity",
        "rule",
        "image",
        "label",
        "limit",
        "value",
        "message",
    ]
    assert report.attrs["summary"] == {
        "errors": 0,
        "warnings": 0,
        "images": 200,
        "images_with_errors": 0,
    }


def test_kind_must_match_the_model():
    ds = _classification({"ok": 100, "bad": 100})
    report = ds.check(model_kind="detection")
    assert _rules(report) == ["kind"]
    assert report.iloc[0][["limit", "value"]].tolist() == ["detection", "classification"]
    with pytest.raises(ValueError, match="model_kind"):
        ds.check(model_kind="segmentation")


def test_class_count_between_2_and_1000():
    one = _classification({"ok": 100})
    assert _rules(one.check(), "error") == ["class_count"]
    many = Dataset.from_frames(
        pd.DataFrame({"image": ["a", "b"], "label": ["c0", "c1"]}),
        images={"a": _png(), "b": _png()},
        classes=[f"c{i}" for i in range(1001)],
    )
    report = many.check()
    row = report[report["rule"] == "class_count"].iloc[0]
    assert (row.limit, row.value) == (1000, 1001)
    limit = Dataset.from_frames(
        pd.DataFrame({"image": ["a"], "label": ["c0"]}),
        images={"a": _png()},
        classes=[f"c{i}" for i in range(1000)],
    )
    assert "class_count" not in _rules(limit.check())
    no_labels = _detection({"a": 0, "b": 0, "c": 0, "d": 0})
    assert "class_count" in _rules(no_labels.check(), "error")


def test_class_names_per_kind():
    ds = _classification({"ok_1": 20, "bad one": 20, "苹果": 20})
    report = ds.check()
    bad = report[report["rule"] == "class_name"]
    assert sorted(bad["label"]) == ["bad one", "苹果"]
    assert "no spaces, no Chinese" in bad["message"].iloc[0]
    det = _detection({f"i{k}": 5 for k in range(4)}, label="ok_1")
    assert _rules(det.check()).count("class_name") == 1  # no underscore for detection
    fine = _detection({f"i{k}": 5 for k in range(4)}, label="cell2")
    assert "class_name" not in _rules(fine.check())


def test_images_per_class_20_required_100_recommended():
    report = _classification({"a": 19, "b": 20, "c": 100}).check()
    rows = report[report["rule"] == "images_per_class"]
    assert rows[["severity", "label", "value"]].values.tolist() == [
        ["error", "a", 19],
        ["warning", "b", 20],
    ]
    assert "little reference value" in rows["message"].iloc[1]


def test_total_images_at_most_100000_and_detection_at_least_4():
    n = LIMITS["max_images"] + 1
    table = pd.DataFrame(
        {
            "image": [f"{i}.png" for i in range(n)],
            "label": np.where(np.arange(n) % 2, "a", "b"),
            "path": None,
            "width": 64.0,
            "height": 48.0,
            "format": "PNG",
            "bytes": 100.0,
            "error": None,
        }
    )
    big = Dataset("classification", table)
    row = big.check().query("rule == 'total_images'").iloc[0]
    assert (row.limit, row.value) == (100_000, 100_001)
    assert "total_images" not in _rules(Dataset("classification", table.iloc[:-1]).check())
    three = _detection({"a": 7, "b": 7, "c": 7})
    assert _rules(three.check(), "error") == ["total_images"]
    assert "total_images" not in _rules(_detection({"a": 5, "b": 5, "c": 5, "d": 5}).check())


def test_detection_instances_and_images_per_label():
    few = _detection({"a": 5, "b": 5, "c": 5, "d": 4})
    report = few.check()
    row = report[report["rule"] == "instances_per_label"].iloc[0]
    assert (row.severity, row.label, row.limit, row.value) == ("error", "cell", 20, 19)
    assert "instances_per_label" not in _rules(_detection({"a": 5, "b": 5, "c": 5, "d": 5}).check())
    warn = report[report["rule"] == "images_per_label"].iloc[0]
    assert (warn.severity, warn.value) == ("warning", 4)
    hundred = _detection({f"i{k}": 1 for k in range(100)})
    assert "images_per_label" not in _rules(hundred.check())


def test_unreadable_files_are_reported_with_their_reason(tmp_path):
    (tmp_path / "ok").mkdir()
    for i in range(20):
        (tmp_path / "ok" / f"{i}.png").write_bytes(_png(seed=i))
    (tmp_path / "ok" / "empty.png").write_bytes(b"")
    (tmp_path / "ok" / "text.png").write_text("hello")
    (tmp_path / "ok" / "dir.png").mkdir()
    t = pd.DataFrame({"image": ["ok/missing.png"], "label": ["ok"]})
    ds = Dataset.from_folder(tmp_path).merge(Dataset.from_frames(t, images=tmp_path))
    report = ds.check()
    bad = report[report["rule"] == "unreadable"].set_index("image")["value"]
    assert bad["ok/empty.png"] == "empty file (0 bytes)"
    assert bad["ok/text.png"].startswith("not a readable image")
    assert bad["ok/missing.png"] == "no such file"
    assert report.attrs["summary"]["images_with_errors"] == 3
    assert len(ds) == 23  # nothing stopped the import


def test_decode_finds_truncated_data_behind_a_valid_header(tmp_path):
    (tmp_path / "ok").mkdir()
    data = _png((200, 200), noise=True)
    (tmp_path / "ok" / "cut.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "ok" / "fine.png").write_bytes(data)
    ds = Dataset.from_folder(tmp_path)
    assert "decode" not in _rules(ds.check()) and "unreadable" not in _rules(ds.check())
    decoded = ds.check(decode=True)
    assert decoded.query("rule == 'decode'")["image"].tolist() == ["ok/cut.png"]


def test_formats_and_extensions(tmp_path):
    (tmp_path / "ok").mkdir()
    Image.new("RGB", (64, 48)).save(tmp_path / "ok" / "anim.gif")
    (tmp_path / "ok" / "png.txt").write_bytes(_png())
    (tmp_path / "ok" / "png.jpg").write_bytes(_png())
    Image.new("RGB", (64, 48)).save(tmp_path / "ok" / "fine.jpeg", "JPEG")
    Image.new("RGB", (64, 48)).save(tmp_path / "ok" / "fine.bmp")
    report = Dataset.from_folder(tmp_path).check()
    fmt = report[report["rule"] == "format"].set_index("image")["value"]
    assert fmt.to_dict() == {"ok/anim.gif": "GIF", "ok/png.txt": ".txt"}
    ext = report[report["rule"] == "extension"]
    assert ext[["image", "severity", "limit", "value"]].values.tolist() == [
        ["ok/png.jpg", "warning", "JPEG", "PNG"]
    ]


def test_file_size_at_most_4_mib(tmp_path):
    (tmp_path / "ok").mkdir()
    big = _png((1200, 1200), noise=True)
    assert len(big) > 4 * 2**20
    (tmp_path / "ok" / "big.png").write_bytes(big)
    (tmp_path / "ok" / "small.png").write_bytes(_png((1000, 1000), noise=True))
    rows = Dataset.from_folder(tmp_path).check().query("rule == 'file_size'")
    assert rows[["image", "value"]].values.tolist() == [["ok/big.png", float(len(big))]]


@pytest.mark.parametrize(
    "size, rule",
    [
        ((30, 60), "min_side"),
        ((31, 60), None),
        ((4096, 2000), "max_side"),
        ((4095, 2000), None),
        ((100, 301), "aspect_ratio"),
        ((100, 300), None),
    ],
)
def test_side_and_aspect_rules(tmp_path, size, rule):
    (tmp_path / "ok").mkdir()
    Image.new("RGB", size, (90, 90, 90)).save(tmp_path / "ok" / "a.png")  # headers only
    report = Dataset.from_folder(tmp_path).check()
    found = [r for r in _rules(report) if r in ("min_side", "max_side", "aspect_ratio")]
    assert found == ([rule] if rule else [])


def test_boxes_images_without_boxes_and_duplicates():
    ds = _detection({"a": 5, "b": 5, "c": 5, "d": 0})
    report = ds.check()
    assert report.query("rule == 'no_boxes'")["image"].tolist() == ["d"]
    t = ds.truth()
    t.loc[0, "x"] = 62.0  # reaches past the 64 px edge
    t.loc[1, "w"] = 0.0
    t.attrs = {}
    px = {k: ds.source(k) for k in ds.images}
    bad = Dataset.from_frames(t, images=px).check().query("rule == 'box'")
    assert [m.split(" box ")[1].split(" (")[0] for m in bad["message"]] == [
        "reaches outside the image",
        "has no area",
    ]
    copy = _png(seed=3)
    dup = Dataset.from_frames(
        pd.DataFrame({"image": ["x", "y", "z"], "label": ["a", "b", "a"]}),
        images={"x": copy, "y": copy, "z": _png(seed=4)},
    )
    rows = dup.check().query("rule == 'duplicate'")
    assert rows[["image", "value"]].values.tolist() == [["y", "x"]]
    assert "labelled a and b" in rows["message"].item()


def test_archive_rules_and_merged_classes(tmp_path, monkeypatch):
    assert archive_findings("a.zip", 5 * 2**30, 100_000) == []
    assert [f["rule"] for f in archive_findings("a.zip", 5 * 2**30 + 1, 100_001)] == [
        "zip_size",
        "zip_images",
    ]
    z1, z2 = tmp_path / "one.zip", tmp_path / "two.zip"
    for z in (z1, z2):
        with zipfile.ZipFile(z, "w") as zf:
            for i in range(3):
                zf.writestr(f"ok/{z.stem}{i}.png", _png(seed=i + len(z.stem)))
    monkeypatch.setitem(LIMITS, "max_zip_images", 2)  # the caps are read per import
    report = Dataset.from_zip([z1, z2]).check()
    assert report.query("rule == 'zip_images'")["image"].tolist() == [str(z1), str(z2)]
    assert report.query("rule == 'class_merged'")["label"].tolist() == ["ok"]


def test_report_order_summary_and_rule_table():
    ds = _classification({"ok": 19, "bad one": 25})
    report = ds.check(model_kind="detection")
    assert report["severity"].tolist() == sorted(report["severity"])  # errors first
    assert _rules(report) == ["kind", "class_name", "images_per_class", "images_per_class"]
    assert report.attrs["summary"]["errors"] == 3 and report.attrs["summary"]["warnings"] == 1
    table = rule_table()
    assert table["rule"].tolist() == [r.name for r in RULES]
    assert set(table.columns) == {"rule", "severity", "kinds", "limit", "source"}
