"""YOLO label files and Pascal VOC XML files <-> truth frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vislab.datasets import (
    read_voc_xml,
    read_yolo,
    read_yolo_names,
    write_voc_xml,
    write_yolo,
    write_yolo_names,
)
from vislab.errors import InvalidFrame


def _truth():
    return pd.DataFrame(
        {
            "image": ["a.jpg", "a.jpg", "sub/b.jpg"],
            "label": ["cat", "hot dog", "cat"],
            "x": [10.0, 0.0, 33.3],
            "y": [20.0, 0.0, 1.5],
            "w": [30.0, 100.0, 7.25],
            "h": [15.0, 50.0, 9.0],
        }
    )


def test_yolo_round_trip_keeps_pixels_names_and_empty_images(tmp_path):
    t = _truth()
    sizes = {"a.jpg": (100, 50), "sub/b.jpg": (64, 48), "c.jpg": (10, 10)}
    files = write_yolo(
        t,
        tmp_path,
        image_size=sizes,
        classes=["cat", "hot dog"],
        images=["a.jpg", "sub/b.jpg", "c.jpg"],
    )
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["a.txt", "sub/b.txt", "c.txt"]
    assert (tmp_path / "a.txt").read_text().splitlines() == ["0 0.25 0.55 0.3 0.3", "1 0.5 0.5 1 1"]
    assert (tmp_path / "c.txt").read_text() == ""
    write_yolo_names(["cat", "hot dog"], tmp_path)
    back = read_yolo(
        tmp_path,
        recursive=True,
        names=tmp_path / "data.yaml",
        image_size={"a": (100, 50), "sub/b": (64, 48), "c": (10, 10)},
    )
    assert back.attrs["images"]["image"] == ["a", "c", "sub/b"]
    assert back["label"].tolist() == ["cat", "hot dog", "cat"]
    assert np.allclose(back[["x", "y", "w", "h"]], t[["x", "y", "w", "h"]], atol=1e-6)
    assert "score" not in back


def test_yolo_scores_polygons_and_bad_lines(tmp_path):
    (tmp_path / "p.txt").write_text("0 0.5 0.5 0.2 0.2 0.9\n1 0.1 0.1 0.4 0.1 0.4 0.3 0.1 0.3\n")
    with pytest.raises(InvalidFrame, match="class id 1 has no name"):
        read_yolo(tmp_path, image_size=(100, 100), names=["cell"])
    (tmp_path / "p.txt").write_text("0 0.5 0.5 0.2 0.2 0.9\n0 0.5 0.5 0.4 0.4 0.3\n")
    pred = read_yolo(tmp_path, image_size=(100, 100), names=["cell"])
    assert pred["score"].tolist() == [0.9, 0.3] and pred.attrs["kind"] == "boxes"
    (tmp_path / "p.txt").write_text("0 0.1 0.1 0.4 0.1 0.4 0.3 0.1 0.3\n")
    poly = read_yolo(tmp_path, image_size=(100, 100))
    assert poly["label"].tolist() == [0]
    assert np.allclose(poly[["x", "y", "w", "h"]], [[10, 10, 30, 20]])
    (tmp_path / "p.txt").write_text("0 0.5 0.5\n")
    with pytest.raises(InvalidFrame, match="p.txt line 1"):
        read_yolo(tmp_path, image_size=(100, 100))
    (tmp_path / "p.txt").write_text("cat 0.5 0.5 0.1 0.1\n")
    with pytest.raises(InvalidFrame, match="expected 'class_id cx cy w h'"):
        read_yolo(tmp_path, image_size=(100, 100))
    (tmp_path / "p.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(ValueError, match="image_size"):
        read_yolo(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "names: [cat, 'hot dog']\n",
        "names:\n  - cat\n  - hot dog\nnc: 2\n",
        "nc: 2\nnames:\n  0: cat\n  1: 'hot dog'\npath: .\n",
        "names: {0: cat, 1: hot dog}\n",
    ],
)
def test_yolo_names_in_every_data_yaml_shape(tmp_path, text):
    (tmp_path / "data.yaml").write_text(text)
    assert read_yolo_names(tmp_path) == ["cat", "hot dog"]


def test_yolo_names_files(tmp_path):
    (tmp_path / "obj.names").write_text("cat\n\ndog\n")
    assert read_yolo_names(tmp_path) == ["cat", "dog"]
    with pytest.raises(FileNotFoundError):
        read_yolo_names(tmp_path / "empty_dir_does_not_exist")
    (tmp_path / "bad.yaml").write_text("nc: 2\n")
    with pytest.raises(InvalidFrame, match="names"):
        read_yolo_names(tmp_path / "bad.yaml")


def test_voc_xml_round_trip(tmp_path):
    t = _truth().assign(difficult=[False, True, False])
    images = {
        "image": ["a.jpg", "sub/b.jpg", "c.jpg"],
        "width": [100, 64, 10],
        "height": [50, 48, 10],
    }
    files = write_voc_xml(t, tmp_path, images=images)
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["a.xml", "sub/b.xml", "c.xml"]
    text = (tmp_path / "a.xml").read_text()
    assert "<xmin>10</xmin>" in text and "<difficult>1</difficult>" in text
    back = read_voc_xml(tmp_path, recursive=True)
    assert back.attrs["images"]["image"] == ["a.jpg", "c.jpg", "b.jpg"]
    assert back.attrs["images"]["width"] == [100, 10, 64]
    by_name = back.set_index(["image", "label"])
    assert by_name.loc[("b.jpg", "cat"), ["x", "w"]].tolist() == [33.3, pytest.approx(7.25)]
    assert back["difficult"].tolist() == [False, True, False]
    flat = read_voc_xml(tmp_path)  # not recursive: sub/ is left out
    assert flat.attrs["images"]["image"] == ["a.jpg", "c.jpg"]


def test_voc_xml_refuses_what_is_not_a_voc_file(tmp_path):
    bad = {
        "entity.xml": '<!DOCTYPE a [<!ENTITY x "y">]><annotation/>',
        "root.xml": "<notvoc/>",
        "broken.xml": "<annotation><object>",
        "nobox.xml": "<annotation><object><name>cat</name></object></annotation>",
        "nan.xml": (
            "<annotation><object><name>cat</name><bndbox><xmin>a</xmin><ymin>1</ymin>"
            "<xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>"
        ),
    }
    for name, text in bad.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(InvalidFrame, match=name):
            read_voc_xml(path)
