"""The text lines, pairs, counts and images frames and their constructors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vislab import frames
from vislab.errors import InvalidFrame
from vislab.pai_frames import counts_frame, images_frame, pairs_frame, quad_box, text_lines_frame


def test_kinds_are_declared_in_frames():
    for kind, core in [
        ("text_lines", frames.TEXT_LINES),
        ("pairs", frames.PAIRS),
        ("counts", frames.COUNTS),
        ("images", frames.IMAGES),
    ]:
        df = frames.result_frame(kind, [])
        assert list(df.columns[: len(core)]) == list(core)
        assert df.attrs["kind"] == kind
    # the box converter is still importable from frames
    assert frames.convert_boxes([[20, 10, 60, 40]], "tlbr", "xywh").tolist() == [
        [10.0, 20.0, 30.0, 40.0]
    ]


def test_text_lines_box_from_a_rotated_quad_and_error_rows_kept():
    quad = [[10, 20], [50, 10], [55, 30], [15, 40]]
    df = text_lines_frame(
        [
            {"image": "r.png", "text": "TOTAL", "score": 0.9, "quad": quad},
            {"image": "bad.png", "error_code": 400, "error_msg": "not an image"},
        ]
    )
    assert df.loc[0, ["x", "y", "w", "h"]].tolist() == [10.0, 10.0, 45.0, 30.0]
    assert df.loc[0, "quad"].tolist() == np.asarray(quad, float).tolist()
    assert df["error_code"].tolist()[1] == 400 and df["text"].isna().tolist() == [False, True]


def test_quad_must_be_four_corners():
    with pytest.raises(InvalidFrame, match="4 \\(x, y\\) corners"):
        quad_box([[0, 0], [1, 1], [2, 2]])


def test_pairs_keep_only_the_metrics_given():
    df = pairs_frame([{"a": "x", "b": "y", "cosine": 0.885}, {"a": "u", "b": "v", "error_code": 1}])
    assert df.loc[0, "cosine"] == 0.885
    assert df["similarity"].isna().all() and df["l2_distance"].isna().all()
    assert df["a"].tolist() == ["x", "u"]


def test_counts_are_nullable_integers():
    df = counts_frame(
        [{"image": "s", "label": "429", "count": 6}, {"image": "t", "error_code": 400}]
    )
    assert str(df["count"].dtype) == "Int64" and df["count"].tolist()[0] == 6
    assert df["count"].isna().tolist() == [False, True]
    with pytest.raises(InvalidFrame, match="whole number"):
        counts_frame([{"image": "s", "label": "a", "count": "many"}])


def test_images_frame_holds_pil_images():
    df = images_frame([{"image": "a", "out_image": Image.new("L", (3, 2))}])
    assert isinstance(df.loc[0, "out_image"], Image.Image)
