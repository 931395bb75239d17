"""A first pass over int8 copies of the rows, so that a large search reads a quarter of the bytes.

A large filtered search is bound by memory bandwidth: the float32 product over 19 k rows of
1280 values reads 97 MB.  :class:`CoarseScan` keeps an int8 copy of the grouped rows (one
scale per row, values in ``-63..63``), transposed in blocks of :data:`BLOCK_ROWS` rows, and
scores them with onnxruntime's ``MatMulInteger`` (uint8 query x int8 rows -> int32, SIMD).
The best candidates are then scored again exactly in float32 (:func:`candidates`), so every
score a search returns is the exact one; only which rows reach the re-rank is decided by the
int8 scores.

Why 7 bits: on AVX2 the kernel adds pairs of uint8 x int8 products in int16
(``vpmaddubsw``), which saturates for 8-bit rows; with ``|row| <= 63`` a pair is at most
``2 * 255 * 63 = 32130`` and the int32 sums are exact (checked by the tests).

Examples
--------
>>> rows = np.eye(3, dtype=np.float32)
>>> scan = CoarseScan(rows, [(0, 3)])
>>> np.round(scan.scores(np.array([0.2, 0.9, 0.5], np.float32)), 2).tolist()
[0.2, 0.9, 0.5]
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["CoarseScan", "ScanCache", "candidates", "MIN_ROWS"]

# Rows quantised per step while a scan is built (no full-size float temporary).
_CONVERT_ROWS = 4096
#: Searches over fewer selected rows than this are scored exactly in one pass: below it the
#: float32 rows mostly sit in the CPU caches and the second pass would not pay.
MIN_ROWS = 16_384
# Row values are scaled to -_ROW_LEVELS.._ROW_LEVELS (7 bits, see the module docstring).
_ROW_LEVELS = 63
_session = None
_session_lock = threading.Lock()


def _kernel():
    """One onnxruntime session running ``MatMulInteger`` (1 x D uint8) @ (D x n int8)."""
    global _session
    with _session_lock:
        if _session is None:
            import onnxruntime as ort
            from onnx import TensorProto, helper

            a = helper.make_tensor_value_info("q", TensorProto.UINT8, [1, "d"])
            b = helper.make_tensor_value_info("rows", TensorProto.INT8, ["d", "n"])
            y = helper.make_tensor_value_info("y", TensorProto.INT32, [1, "n"])
            node = helper.make_node("MatMulInteger", ["q", "rows"], ["y"])
            model = helper.make_model(helper.make_graph([node], "coarse", [a, b], [y]),
                                      opset_imports=[helper.make_opsetid("", 13)])  # fmt: skip
            model.ir_version = 8
            options = ort.SessionOptions()
            # One thread that sleeps when idle: the scan is memory-bound, and a spinning
            # pool steals the core that another search (or process) needs.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            _session = ort.InferenceSession(model.SerializeToString(), options,
                                            providers=["CPUExecutionProvider"])  # fmt: skip
        return _session


class CoarseScan:
    """int8 copies of the float32 rows of some runs, for approximate inner products.

    The selected rows are copied into one contiguous ``(D, m)`` block: the kernel streams a
    long block at memory speed (measured: blocks of 2,048 rows scan 2.4x slower per byte than
    blocks of 16,384 or more), and a filtered search then reads one block with no waste.

    Parameters
    ----------
    matrix : numpy.ndarray
        ``(n, D)`` float32 rows; only the runs are copied, the matrix is not kept.
    runs : list of (int, int)
        Half-open row ranges ``[start, end)``, in the order the scores come back.

    Attributes
    ----------
    nbytes : int
        Bytes held (``D + 8`` per row).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rows = rng.standard_normal((5000, 64)).astype(np.float32)
    >>> q = rng.standard_normal(64).astype(np.float32)
    >>> approx = CoarseScan(rows, [(100, 4000)]).scores(q)
    >>> bool(np.abs(approx - rows[100:4000] @ q).max() < 0.05 * np.abs(rows @ q).max())
    True
    """

    def __init__(self, matrix: np.ndarray, runs):
        dim = matrix.shape[1]
        m = sum(e - s for s, e in runs)
        self.scale = np.ones(m, np.float32)
        self.row_sums = np.zeros(m, np.int32)
        self.block = np.empty((dim, m), np.int8)
        o = 0
        for s, e in runs:
            for a in range(s, e, _CONVERT_ROWS):
                part = matrix[a : min(e, a + _CONVERT_ROWS)]
                w = len(part)
                peak = np.abs(part).max(axis=1) if dim else np.zeros(w, np.float32)
                scale = np.where(peak > 0, peak / _ROW_LEVELS, 1.0).astype(np.float32)
                q8 = np.rint(part / scale[:, None]).astype(np.int8)
                self.scale[o : o + w] = scale
                self.row_sums[o : o + w] = q8.sum(axis=1, dtype=np.int32)
                self.block[:, o : o + w] = q8.T
                o += w
        self.nbytes = self.block.nbytes + self.scale.nbytes + self.row_sums.nbytes

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Approximate products of the copied rows with ``query``, in run order."""
        query = np.asarray(query, np.float32)
        peak = float(np.abs(query).max()) if query.size else 0.0
        q_scale = peak / 127 if peak > 0 else 1.0
        # uint8 with zero point 128: (q + 128) . r = q . r + 128 * sum(r).
        q8 = (np.rint(query / q_scale).astype(np.int16) + 128).astype(np.uint8)[None]
        y = _kernel().run(None, {"q": q8, "rows": self.block})[0][0]
        y -= 128 * self.row_sums
        return y * (self.scale * np.float32(q_scale))


class ScanCache:
    """The :class:`CoarseScan` of each filter seen again, within a byte budget.

    A filter's scan is built on its second search (a filter used once would pay the copy for
    nothing), then reused until the layout changes (the cache belongs to one layout).  A new
    scan may only push out scans left unused for a while (``2 x`` as many searches as scans
    are kept): filters used in turn would otherwise push each other out and every search
    would pay for a copy.

    Parameters
    ----------
    budget : int
        Bytes all scans may hold together.

    Examples
    --------
    >>> rows = np.eye(4, dtype=np.float32)
    >>> cache = ScanCache(budget=10_000)
    >>> cache.get(rows, [(0, 2)]) is None, cache.get(rows, [(0, 2)]) is not None
    (True, True)
    """

    def __init__(self, budget: int):
        self.budget = budget
        self._scans: dict[tuple, CoarseScan] = {}
        self._used: dict[tuple, int] = {}  # key -> tick of its last use
        self._seen: dict[tuple, int] = {}
        self._tick = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in list(self._scans.values()))

    def get(self, matrix: np.ndarray, runs) -> CoarseScan | None:
        """The scan of ``runs`` over ``matrix``, or None the first time they are asked for
        (and when it does not fit)."""
        key = tuple(map(tuple, runs))
        with self._lock:
            self._tick += 1
            scan = self._scans.get(key)
            if scan is not None:
                self._used[key] = self._tick
                return scan
            self._seen[key] = self._seen.get(key, 0) + 1
            if self._seen[key] < 2 or len(self._seen) > 4096:
                return None
        scan = CoarseScan(matrix, key)  # outside the lock: readers of other filters go on
        with self._lock:
            idle = sorted((t, k) for k, t in self._used.items()
                          if self._tick - t > 2 * len(self._scans))  # fmt: skip
            held = sum(s.nbytes for s in self._scans.values())
            while held + scan.nbytes > self.budget and idle:
                _, old = idle.pop(0)
                held -= self._scans.pop(old).nbytes
                del self._used[old]
            if held + scan.nbytes > self.budget:
                return None  # nothing idle to make room: this search runs in one pass
            self._scans[key], self._used[key] = scan, self._tick
        return scan


def candidates(approx: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` best approximate scores, with every score tied at the cut.

    Examples
    --------
    >>> candidates(np.array([0.1, 0.9, 0.5, 0.5, 0.2], np.float32), 2).tolist()
    [1, 2, 3]
    """
    if count >= approx.size:
        return np.arange(approx.size)
    part = np.argpartition(-approx, count - 1)[:count]
    cut = approx[part].min()
    return np.concatenate((part[approx[part] > cut], np.flatnonzero(approx == cut)))
