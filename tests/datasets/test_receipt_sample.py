"""The rendered receipt sample: deterministic pixels, truth runs on the ink, sums that add up."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.datasets import Receipt, receipt
from vislab.errors import InvalidParameter


def test_same_seed_same_pixels_other_seed_other_receipt():
    a, b, c = receipt(seed=3), receipt(seed=3), receipt(seed=4)
    assert isinstance(a, Receipt)
    assert np.array_equal(a.pixels, b.pixels) and a.truth.equals(b.truth)
    assert a.truth["text"].tolist() != c.truth["text"].tolist()


def test_truth_boxes_hold_the_ink_and_nothing_else_is_drawn_as_text():
    sample = receipt(seed=0)
    pixels = sample.pixels.astype(int)
    h, w = pixels.shape[:2]
    dark = pixels.sum(axis=2) < 700  # any ink, antialiased edges too (paper sums to 749)
    covered = np.zeros_like(dark)
    for row in sample.truth.itertuples():
        x0, y0, x1, y1 = int(row.x), int(row.y), int(row.x + row.w), int(row.y + row.h)
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        box = dark[y0:y1, x0:x1]
        # ink touches the top and bottom rows and comes within 2 px of the sides (PIL measures
        # the glyphs' side bearings): the box is the ink's, not a loose guess
        assert box[0].any() and box[-1].any() and box[:, :3].any() and box[:, -3:].any()
        assert not dark[y0 - 1, x0:x1].any() and not dark[y1, x0:x1].any()
        covered[y0:y1, x0:x1] = True
    # Outside the text boxes the only dark pixels are the two dashed rules.
    rows_with_stray_ink = np.flatnonzero((dark & ~covered).any(axis=1))
    assert 0 < len(rows_with_stray_ink) <= 6


def test_prices_add_up_to_the_subtotal_and_total():
    for seed in range(5):
        texts = receipt(seed=seed).truth["text"].tolist()
        till = next(i for i, t in enumerate(texts) if t.startswith("Till "))
        sub = texts.index("Subtotal")
        prices = [float(t) for t in texts[till + 2 : sub : 2]]
        assert 4 <= len(prices) <= 7
        subtotal = float(texts[sub + 1])
        assert subtotal == pytest.approx(sum(prices), abs=1e-9)
        tax = float(texts[texts.index("Tax 8%") + 1])
        assert tax == pytest.approx(round(subtotal * 8) / 100, abs=0.011)
        assert float(texts[texts.index("TOTAL") + 1]) == pytest.approx(subtotal + tax)


def test_given_lines_are_drawn_left_and_right():
    sample = receipt(lines=["Hello", ("Tea", "2.50"), ""])
    truth = sample.truth
    assert truth["text"].tolist() == ["Hello", "Tea", "2.50"]
    assert abs(truth.loc[0, "x"] - truth.loc[1, "x"]) <= 2  # at the left margin (side bearings)
    right_edge = truth.loc[2, "x"] + truth.loc[2, "w"]
    assert sample.image.size[0] - right_edge < 30  # right-aligned at the other margin


def test_bad_lines_get_a_typed_error():
    with pytest.raises(InvalidParameter, match=r"lines\[1\]"):
        receipt(lines=["ok", 42])
    with pytest.raises(InvalidParameter, match="pair"):
        receipt(lines=[("a", "b", "c")])
