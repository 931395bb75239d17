"""The two-pass search (int8 scan, exact float32 re-rank) answers as the one exact pass does."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.engine.gallery import NumpyIndex, TagFilter, coarse
from vislab.engine.gallery.coarse import CoarseScan, ScanCache, _kernel
from vislab.engine.gallery.protocols import IndexItem

N, DIM = 100_000, 128  # a one-tag filter selects ~20 k rows, above coarse.MIN_ROWS


@pytest.fixture(scope="module")
def big_index():
    rng = np.random.default_rng(7)
    centres = np.abs(rng.standard_normal((400, DIM))).astype(np.float32)
    v = centres[rng.integers(0, 400, N)] + 0.8 * np.abs(rng.standard_normal((N, DIM)))
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float16)
    tags = np.stack([rng.choice(np.arange(1, 11), 2, replace=False) for _ in range(N)])
    index = NumpyIndex.load(np.arange(1, N + 1), [f"{i},{i}" for i in range(N)], ["b"] * N,
                            tags, np.zeros(N), np.zeros(N), v[:, None])  # fmt: skip
    return index, v.astype(np.float32), rng


def _one_pass(index, *args, **kw):
    saved, coarse.MIN_ROWS = coarse.MIN_ROWS, 1 << 62
    try:
        return index.search(*args, **kw)
    finally:
        coarse.MIN_ROWS = saved


def test_int8_kernel_sums_are_exact():
    # 7-bit rows keep AVX2's pairwise int16 sums from saturating: the int32 result is exact.
    rng = np.random.default_rng(0)
    rows = rng.integers(-63, 64, (512, 3000)).astype(np.int8)
    q = rng.integers(0, 256, (1, 512)).astype(np.uint8)
    q[0, :8] = 255
    rows[:8, :5] = 63
    got = _kernel().run(None, {"q": q, "rows": rows})[0][0]
    assert np.array_equal(got, q[0].astype(np.int64) @ rows.astype(np.int64))


@pytest.mark.parametrize("tag", [1, 5, 10])
def test_two_pass_equals_one_pass(big_index, tag):
    index, v, rng = big_index
    where = TagFilter((tag,))
    for _ in range(3):
        q = v[rng.integers(N)] + 0.02 * rng.standard_normal(DIM).astype(np.float32)
        want = _one_pass(index, q, where=where, k=300, clip=(0.0, 1.0))
        index.search(q, where=where, k=300, clip=(0.0, 1.0))  # first sight of the filter
        got = index.search(q, where=where, k=300, clip=(0.0, 1.0))
        assert got.total == want.total > coarse.MIN_ROWS
        assert np.array_equal(got.ids, want.ids)
        assert np.array_equal(got.scores, want.scores)  # exact float32 scores, not int8 ones
    assert index._st.coarse.nbytes > 0  # the int8 scans were built and used
    assert index.nbytes() > index.nbytes(headroom=False) > 0


def test_two_pass_skips_dead_rows_and_counts_them(big_index):
    index, v, rng = big_index
    where = TagFilter((3,))
    q = v[5]
    best = index.search(q, where=where, k=10)
    index.search(q, where=where, k=10)  # the scan exists from here on
    before = index.search(q, where=where, k=10)
    index.remove(best.ids[:3].tolist())
    try:
        got = index.search(q, where=where, k=10)
        want = _one_pass(index, q, where=where, k=10)
        assert got.total == want.total == before.total - 3
        assert np.array_equal(got.ids, want.ids)
        assert not set(got.ids.tolist()) & set(best.ids[:3].tolist())
    finally:
        for i in best.ids[:3].tolist():
            row = i - 1
            index.add(IndexItem(i, f"{row},{row}", "b", (3, 0), 0, 0, v[row][None]))


def test_ties_on_the_clip_ceiling_fall_back_to_one_pass():
    # 20k identical rows all score 1.0 after the clip: the id tie-break needs every one.
    n = 20_000
    v = np.ones((n, 1, 8), np.float32) / np.sqrt(8)
    index = NumpyIndex.load(np.arange(n, 0, -1), ["s"] * n, ["b"] * n, np.ones((n, 2)),
                            np.zeros(n), np.zeros(n), v)  # fmt: skip
    for _ in range(2):
        got = index.search(v[0, 0] * 2, where=TagFilter((1,)), k=5, clip=(0.0, 1.0))
    assert got.ids.tolist() == [1, 2, 3, 4, 5]


def test_scan_cache_keeps_scans_in_budget_and_does_not_thrash():
    rows = np.random.default_rng(1).standard_normal((1000, 16)).astype(np.float32)
    one = CoarseScan(rows, [(0, 100)]).nbytes
    cache = ScanCache(budget=2 * one)
    runs = [[(0, 100)], [(100, 200)], [(200, 300)]]
    for r in runs:  # seen once: nothing built
        assert cache.get(rows, r) is None
    assert cache.get(rows, runs[0]) is not None
    assert cache.get(rows, runs[1]) is not None
    # A third filter used in turn with the two kept ones does not push them out.
    assert cache.get(rows, runs[2]) is None
    assert cache.nbytes <= 2 * one
    assert cache.get(rows, runs[0]) is cache.get(rows, runs[0])
