"""vislab.masks equals pycocotools.mask on random masks and polygons; PAI's rule round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from vislab import masks as vm
from vislab.errors import InvalidFrame

M = pytest.importorskip("pycocotools.mask", reason="pycocotools is in the test extra")


def _ref_encode(m):
    return M.encode(np.asfortranarray(np.asarray(m, dtype=np.uint8)))


def _random_mask(rng, h, w):
    kind = rng.integers(0, 4)
    if kind == 0:
        return rng.random((h, w)) < rng.random()
    if kind == 1:
        return np.zeros((h, w), dtype=bool)
    if kind == 2:
        return np.ones((h, w), dtype=bool)
    m = np.zeros((h, w), dtype=bool)
    y0, x0 = rng.integers(0, h), rng.integers(0, w)
    m[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1)] = True
    return m


def test_encode_decode_area_bbox_equal_pycocotools_on_random_masks():
    rng = np.random.default_rng(1)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        m = _random_mask(rng, h, w)
        ref = _ref_encode(m)
        mine = vm.rle_encode(m)
        assert mine["size"] == [h, w]
        assert mine["counts"] == ref["counts"].decode()
        assert np.array_equal(vm.rle_decode(mine), m)
        assert np.array_equal(vm.rle_decode(ref), m)  # bytes counts read too
        assert vm.rle_area(mine)[0] == M.area(ref)
        assert np.array_equal(vm.rle_bbox(mine)[0], M.toBbox(ref))


def test_compressed_strings_with_large_counts_round_trip():
    # Counts of up to millions of pixels need 5-6 characters and negative differences.
    rng = np.random.default_rng(2)
    h, w = 1500, 1400
    m = np.zeros((h, w), dtype=bool)
    m[200:900, 100:101] = True
    m[5:7, 1000:1300] = True
    m[-1, -1] = True
    ref = _ref_encode(m)
    mine = vm.rle_encode(m)
    assert mine["counts"] == ref["counts"].decode()
    counts = rng.integers(0, 200_000, 40)
    counts = np.append(counts, 9_000_000 - counts.sum())  # 3000 x 3000 pixels
    rle = {"size": [3000, 3000], "counts": counts}
    ref = M.frPyObjects([{"size": [3000, 3000], "counts": rle["counts"].tolist()}], 3000, 3000)[0]
    assert vm.rle_encode(vm.rle_decode(rle))["counts"] == ref["counts"].decode()
    assert vm.rle_counts({"size": [3000, 3000], "counts": ref["counts"]}).tolist() == [
        int(c) for c in rle["counts"]
    ]


def _random_polygons(rng, h, w, t):
    polys = []
    for _ in range(int(rng.integers(1, 4))):
        k = int(rng.integers(3, 14))
        pts = np.stack([rng.uniform(-5, w + 5, k), rng.uniform(-5, h + 5, k)], axis=1)
        if t % 4 == 0:
            pts = np.round(pts)  # vertices on pixel corners: exact ties in the rounding
        if t % 6 == 0:
            pts[1] = pts[0]  # a repeated vertex: maskApi's 0/0 edge
        polys.append(pts.ravel().tolist())
    return polys


def test_polygons_rasterise_exactly_as_pycocotools():
    rng = np.random.default_rng(3)
    for t in range(400):
        h, w = (int(v) for v in rng.integers(2, 150, 2))
        polys = _random_polygons(rng, h, w, t)
        ref = M.merge(M.frPyObjects(polys, h, w))
        mine = vm.rle_from_polygons(polys, h, w)
        assert mine["counts"] == ref["counts"].decode(), t
        # each polygon alone too (a single mask is not canonicalised by merge)
        one = M.frPyObjects(polys[:1], h, w)[0]
        assert vm.rle_from_segmentation([polys[:1]], h, w)[0]["counts"] == one["counts"].decode()


def test_boxes_as_segmentation_and_uncompressed_rle_follow_frpyobjects():
    boxes = [[1.5, 2.0, 6.0, 3.2], [0, 0, 2, 2]]
    # pycocotools takes boxes as an array (a list of them trips its type check)
    ref = M.merge(M.frPyObjects(np.array(boxes), 10, 12))
    assert vm.rle_from_segmentation([boxes], 10, 12)[0]["counts"] == ref["counts"].decode()
    unc = {"size": [3, 4], "counts": [2, 5, 5]}
    got = vm.rle_from_segmentation([unc], 99, 99)[0]  # an RLE keeps its own size
    assert got == {"size": [3, 4], "counts": M.frPyObjects(unc, 3, 4)["counts"].decode()}


def test_iou_equals_pycocotools_with_crowd():
    rng = np.random.default_rng(4)
    for _ in range(20):
        h, w = (int(v) for v in rng.integers(5, 50, 2))
        ms = [_random_mask(rng, h, w) for _ in range(12)]
        ref_rles = [_ref_encode(m) for m in ms]
        mine = [vm.rle_encode(m) for m in ms]
        crowd = rng.random(5) < 0.4
        ref = M.iou(ref_rles[:7], ref_rles[7:], crowd.astype(np.uint8).tolist())
        got = vm.rle_iou(mine[:7], mine[7:], crowd)
        assert np.array_equal(np.asarray(ref), got)  # bit for bit, not approximately


def test_union_equals_merge():
    rng = np.random.default_rng(5)
    for _ in range(50):
        ms = [_random_mask(rng, 17, 23) for _ in range(int(rng.integers(2, 5)))]
        ref = M.merge([_ref_encode(m) for m in ms], intersect=0)
        got = vm.rle_union([vm.rle_encode(m) for m in ms])
        assert got["counts"] == ref["counts"].decode()
        assert np.array_equal(vm.rle_decode(got), np.logical_or.reduce(ms))


@pytest.mark.parametrize("order", ["F", "C"])
def test_pai_rule_round_trips_self_made_masks(order):
    rng = np.random.default_rng(6)
    for _ in range(50):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        m = _random_mask(rng, h, w)
        rle = vm.pai_rle_encode(m, order=order)
        assert sum(rle["counts"]) == h * w
        assert np.array_equal(vm.pai_rle_decode(rle, order=order), m)
    # the spec's own rule: [True, False, False, True] is [0, 1, 2, 1]
    assert vm.pai_rle_encode([[True, False, False, True]], order="C")["counts"] == [0, 1, 2, 1]
    # the orders differ on a non-symmetric mask
    m = np.array([[1, 1, 0], [0, 0, 0]], dtype=bool)
    assert vm.pai_rle_encode(m, order="C")["counts"] == [0, 2, 4]
    assert vm.pai_rle_encode(m, order="F")["counts"] == [0, 1, 1, 1, 3]


@pytest.mark.parametrize(
    "rle, message",
    [
        ({"size": [640, 480], "counts": [398408, 11, 671, 30, 652, 44, 636]}, "sum to"),
        ({"size": [2, 2], "counts": [1, -1, 4]}, "negative"),
        ({"size": [2, 2], "counts": "~~"}, "outside"),
        ({"size": [2, 2], "counts": "4é"}, "non-ASCII"),
        ({"size": [2, 2], "counts": "4P"}, "middle of a count"),
        ({"size": [2], "counts": [4]}, "size"),
        ({"counts": [4]}, "size"),
        ([[1, 2, 3, 4, 5, 6]], "not an RLE dict"),
        ({"size": [2, 2], "counts": 4.5}, "counts must be"),
    ],
)
def test_malformed_rles_are_invalid_frames(rle, message):
    with pytest.raises(InvalidFrame, match=message):
        vm.rle_area([rle])


def test_bad_order_and_sizes_are_refused():
    with pytest.raises(InvalidFrame, match="order"):
        vm.pai_rle_encode(np.zeros((2, 2)), order="row")
    a = vm.rle_encode(np.zeros((2, 2), dtype=bool))
    b = vm.rle_encode(np.zeros((3, 2), dtype=bool))
    with pytest.raises(InvalidFrame, match="different sizes"):
        vm.rle_iou([a], [b])
    with pytest.raises(InvalidFrame, match="polygon of 4"):
        vm.rle_from_segmentation([[[0, 0, 1, 1, 2, 2], [0, 0, 1, 1]]], 5, 5)
