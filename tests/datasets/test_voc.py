"""The VOC-style text reader (Cartucho/mAP format)."""

from __future__ import annotations

import pytest

from tests.evaluate._fixtures import require
from vislab.datasets import read_voc_txt
from vislab.errors import InvalidFrame


def test_reads_the_cartucho_set():
    truth = read_voc_txt(require("cartucho-map/input/ground-truth"))
    pred = read_voc_txt(require("cartucho-map/input/detection-results"))
    assert len(truth) == 686 and len(pred) == 494
    assert "score" not in truth.columns and pred["score"].between(0, 1).all()
    assert len(truth.attrs["images"]["image"]) == len(pred.attrs["images"]["image"]) == 85
    # 2007_000332 has no detections: an empty file is an image with none
    assert "2007_000332" in set(pred.attrs["images"]["image"])
    assert "2007_000332" not in set(pred["image"])
    assert (truth["w"] > 0).all() and (truth["h"] > 0).all()


def test_formats_spaces_difficult_and_errors(tmp_path):
    (tmp_path / "a.txt").write_text("potted plant 10 20 30 60\nbottle 1 2 3 4 difficult\n")
    (tmp_path / "b.txt").write_text("")
    truth = read_voc_txt(tmp_path, image_ext=".jpg")
    assert truth["label"].tolist() == ["potted plant", "bottle"]
    assert truth["difficult"].tolist() == [False, True]
    assert truth[["x", "y", "w", "h"]].iloc[0].tolist() == [10, 20, 20, 40]
    assert truth.attrs["images"]["image"] == ["a.jpg", "b.jpg"]
    (tmp_path / "c.txt").write_text("cat ten 1 2 3\n")
    with pytest.raises(InvalidFrame, match="c.txt line 1"):
        read_voc_txt(tmp_path / "c.txt", scores=False)
    (tmp_path / "d.txt").write_text("cat 0.5 1 2 3 4\n")
    assert read_voc_txt(tmp_path / "d.txt")["score"].tolist() == [0.5]
    assert read_voc_txt(tmp_path / "d.txt", scores=False)["label"].tolist() == ["cat 0.5"]
