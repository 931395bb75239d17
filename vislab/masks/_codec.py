"""Run-length counts: COCO's compressed strings, parsing RLE objects into one table of runs.

Everything here is vectorised over many masks at once: the counts of ``n`` masks live in one
int64 array with an offsets array (CSR layout), so a results file of thousands of masks is
parsed and encoded without a per-character Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vislab.errors import InvalidFrame

_UINT = 2**32


@dataclass
class Runs:
    """The run lengths of ``n`` masks (COCO's uncompressed RLE, column-major scan).

    Attributes
    ----------
    heights, widths : int64 arrays, shape (n,)
    counts : int64 array
        All masks' run lengths, one after the other; runs alternate background / foreground
        and start with background (a mask whose first pixel is set starts with a 0 run).
    offsets : int64 array, shape (n + 1,)
        ``counts[offsets[i]:offsets[i + 1]]`` are the runs of mask ``i``.
    """

    heights: np.ndarray
    widths: np.ndarray
    counts: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.heights)

    def lengths(self) -> np.ndarray:
        """Number of runs of each mask."""
        return np.diff(self.offsets)

    def owner(self) -> np.ndarray:
        """Mask index of every run."""
        return np.repeat(np.arange(len(self)), self.lengths())

    def position(self) -> np.ndarray:
        """Index of every run inside its mask."""
        return np.arange(len(self.counts)) - np.repeat(self.offsets[:-1], self.lengths())

    def counts_of(self, i: int) -> np.ndarray:
        """The run lengths of mask ``i``."""
        return self.counts[self.offsets[i] : self.offsets[i + 1]]

    def take(self, idx) -> Runs:
        """The masks ``idx`` (any order, repeats allowed) as a new table."""
        idx = np.asarray(idx, dtype=np.int64)
        lens = self.lengths()[idx]
        start = np.repeat(self.offsets[:-1][idx] - (np.cumsum(lens) - lens), lens)
        rows = np.arange(int(lens.sum())) + start
        return Runs(
            self.heights[idx],
            self.widths[idx],
            self.counts[rows],
            np.append(0, np.cumsum(lens)).astype(np.int64),
        )

    @staticmethod
    def concat(parts: Sequence[Runs]) -> Runs:
        """One table of the masks of ``parts``, in order."""
        if not parts:
            return Runs(*(np.zeros(0, np.int64) for _ in range(3)), np.zeros(1, np.int64))
        lens = np.concatenate([p.lengths() for p in parts])
        return Runs(
            np.concatenate([p.heights for p in parts]),
            np.concatenate([p.widths for p in parts]),
            np.concatenate([p.counts for p in parts]),
            np.append(0, np.cumsum(lens)).astype(np.int64),
        )


def _segment_cumsum(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Cumulative sums that restart where ``first`` is True."""
    cs = np.cumsum(values)
    starts = np.flatnonzero(first)
    base = (cs - values)[starts]
    seg = np.cumsum(first) - 1
    return cs - base[seg]


def decode_strings(strings: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Counts of COCO compressed RLE strings (``rleFrString`` of pycocotools' ``maskApi.c``).

    Each count is a little-endian sequence of 6-bit characters (ASCII 48-111): 5 value bits
    and a continuation bit, the last character's 0x10 bit being the sign; from the fourth
    count on, the value is a difference to the count two places before.

    Returns ``(counts, offsets)``; raises ``InvalidFrame`` on a malformed string.
    """
    lens = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
    chars = np.frombuffer(b"".join(strings), dtype=np.uint8).astype(np.int64) - 48
    if len(chars) and ((chars < 0) | (chars > 63)).any():
        raise InvalidFrame(
            "a compressed RLE string holds characters outside '0'..'o' (ASCII 48-111); "
            "it is not COCO's encoding",
            column="mask",
        )
    ends = (chars & 0x20) == 0
    str_end = np.cumsum(lens) - 1
    nonempty = lens > 0
    if len(chars) and not ends[str_end[nonempty]].all():
        raise InvalidFrame(
            "a compressed RLE string ends in the middle of a count (last character has the "
            "continuation bit)",
            column="mask",
        )
    # Token (one count) of every character and its position inside the token.
    tok_start = np.ones(len(chars), dtype=bool)
    tok_start[1:] = ends[:-1]
    k = _segment_cumsum(np.ones(len(chars), dtype=np.int64), tok_start) - 1
    if len(k) and k.max() > 6:
        raise InvalidFrame("a compressed RLE count is longer than 7 characters", column="mask")
    parts = (chars & 0x1F) << (5 * k)
    x = np.add.reduceat(parts, np.flatnonzero(tok_start)) if len(chars) else parts
    n_chars = np.diff(np.append(np.flatnonzero(tok_start), len(chars)))
    last = chars[ends]
    x = np.where((last & 0x10) != 0, x - (np.int64(1) << (5 * n_chars)), x)
    # Tokens per string: a string's tokens end at its characters' token-end flags.
    tok_end_cum = np.concatenate([[0], np.cumsum(ends)])
    char_off = np.concatenate([[0], np.cumsum(lens)])
    per_string = tok_end_cum[char_off[1:]] - tok_end_cum[char_off[:-1]]
    offsets = np.concatenate([[0], np.cumsum(per_string)]).astype(np.int64)
    pos = np.arange(len(x)) - np.repeat(offsets[:-1], per_string)
    counts = x.copy()
    owner = np.repeat(np.arange(len(strings)), per_string)
    # cnts[m] = x + cnts[m - 2] for m > 2: two running sums, over the odd positions from 1
    # and over the even positions from 2 (position 0 stands alone).
    for parity in (1, 0):
        sel = np.flatnonzero((pos % 2 == parity) & (pos >= 1))
        if len(sel) == 0:
            continue
        first = np.ones(len(sel), dtype=bool)
        first[1:] = owner[sel][1:] != owner[sel][:-1]
        counts[sel] = _segment_cumsum(x[sel], first)
    counts = np.mod(counts, _UINT)  # maskApi stores each count as a 32-bit unsigned int
    return counts, offsets


def encode_counts(counts: np.ndarray, offsets: np.ndarray) -> list[str]:
    """COCO compressed strings of the given runs (``rleToString`` of ``maskApi.c``)."""
    counts = np.asarray(counts, dtype=np.int64)
    n = len(offsets) - 1
    lens = np.diff(offsets)
    pos = np.arange(len(counts)) - np.repeat(offsets[:-1], lens)
    x = counts.copy()
    later = pos > 2
    x[later] = counts[later] - counts[np.flatnonzero(later) - 2]
    # Characters per value: the fewest 5-bit groups holding x in two's complement.
    n_chars = np.ones(len(x), dtype=np.int64)
    for g in range(1, 8):
        lim = np.int64(1) << (5 * g - 1)
        n_chars = np.where((x < -lim) | (x >= lim), g + 1, n_chars)
    owner = np.repeat(np.arange(len(x)), n_chars)
    kk = np.arange(len(owner)) - np.repeat(np.cumsum(n_chars) - n_chars, n_chars)
    c = (x[owner] >> (5 * kk)) & 0x1F
    c = np.where(kk < n_chars[owner] - 1, c | 0x20, c) + 48
    blob = c.astype(np.uint8).tobytes()
    char_counts = np.bincount(np.repeat(np.arange(n), lens), weights=n_chars, minlength=n)
    ends = np.cumsum(char_counts.astype(np.int64))
    starts = ends - char_counts.astype(np.int64)
    return [blob[s:e].decode("ascii") for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


def _size_of(obj, i: int) -> tuple[int, int]:
    size = obj.get("size") if isinstance(obj, Mapping) else None
    # The common case (a JSON list of two ints) first: thousands of masks per results file.
    if type(size) is list and len(size) == 2:
        h, w = size
        if type(h) is int and type(w) is int and h >= 0 and w >= 0:
            return h, w
    if (
        not isinstance(size, Sequence)
        or isinstance(size, (str, bytes))
        or len(size) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in size)
        or min(size) < 0
    ):
        raise InvalidFrame(
            f"mask {i} has no valid 'size' [height, width] (got {size!r}); an RLE is a dict "
            "{'size': [h, w], 'counts': ...}",
            column="mask",
        )
    return int(size[0]), int(size[1])


def parse_rles(rles: Sequence) -> Runs:
    """Parse RLE dicts (compressed ``str``/``bytes`` counts or lists of run lengths).

    Raises ``InvalidFrame`` naming the first bad mask: not a dict, no valid ``size``, counts
    of the wrong type, negative, or not summing to ``height * width``.
    """
    n = len(rles)
    heights = np.zeros(n, dtype=np.int64)
    widths = np.zeros(n, dtype=np.int64)
    strings, str_idx, lists, list_idx = [], [], [], []
    for i, obj in enumerate(rles):
        if not isinstance(obj, Mapping) or "counts" not in obj:
            raise InvalidFrame(
                f"mask {i} is not an RLE dict with 'size' and 'counts' (got "
                f"{type(obj).__name__}); polygons need the image size: use "
                "vislab.masks.rle_from_segmentation",
                column="mask",
            )
        heights[i], widths[i] = _size_of(obj, i)
        c = obj["counts"]
        if isinstance(c, str):
            try:
                strings.append(c.encode("ascii"))
            except UnicodeEncodeError:
                raise InvalidFrame(
                    f"mask {i}: its compressed counts hold non-ASCII characters; COCO's "
                    "encoding uses '0'..'o' only",
                    column="mask",
                ) from None
            str_idx.append(i)
        elif isinstance(c, (bytes, bytearray)):
            strings.append(bytes(c))
            str_idx.append(i)
        elif isinstance(c, (Sequence, np.ndarray)):
            arr = np.asarray(c)
            if arr.ndim != 1 or (len(arr) and not np.issubdtype(arr.dtype, np.integer)):
                if not (
                    len(arr)
                    and np.issubdtype(arr.dtype, np.floating)
                    and np.all(arr == np.round(arr))
                ):
                    raise InvalidFrame(
                        f"mask {i}: counts must be a string or a list of integers", column="mask"
                    )
            lists.append(arr.astype(np.int64))
            list_idx.append(i)
        else:
            raise InvalidFrame(
                f"mask {i}: counts must be a string or a list of integers, got {type(c).__name__}",
                column="mask",
            )
    per_mask: list = [None] * n
    if strings:
        sc, so = decode_strings(strings)
        for j, i in enumerate(str_idx):
            per_mask[i] = sc[so[j] : so[j + 1]]
    for j, i in enumerate(list_idx):
        per_mask[i] = lists[j]
    lens = np.fromiter((len(p) for p in per_mask), dtype=np.int64, count=n)
    counts = np.concatenate(per_mask) if n else np.zeros(0, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    runs = Runs(heights, widths, counts.astype(np.int64), offsets)
    check_runs(runs)
    return runs


def check_runs(runs: Runs) -> None:
    """Raise ``InvalidFrame`` when counts are negative or do not cover ``height * width``."""
    if len(runs.counts) and (runs.counts < 0).any():
        i = int(runs.owner()[np.argmax(runs.counts < 0)])
        raise InvalidFrame(f"mask {i} has a negative run length", column="mask")
    owner = runs.owner()
    total = np.bincount(owner, weights=runs.counts, minlength=len(runs)) if len(runs) else []
    bad = np.flatnonzero(np.asarray(total) != runs.heights * runs.widths)
    if len(bad):
        i = int(bad[0])
        raise InvalidFrame(
            f"mask {i}: its run lengths sum to {int(total[i])} pixels but its size "
            f"{int(runs.heights[i])}x{int(runs.widths[i])} has {int(runs.heights[i] * runs.widths[i])}"
            "; the RLE is malformed (or its size is wrong)",
            column="mask",
        )


def runs_to_dicts(runs: Runs) -> list[dict]:
    """COCO compressed RLE dicts ``{"size": [h, w], "counts": str}`` of ``runs``."""
    strings = encode_counts(runs.counts, runs.offsets)
    return [
        {"size": [int(h), int(w)], "counts": s}
        for h, w, s in zip(runs.heights.tolist(), runs.widths.tolist(), strings, strict=True)
    ]


def intervals(runs: Runs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Foreground intervals ``[start, end)`` in column-major pixel order, and their mask.

    Returns ``(start, end, owner)`` with empty runs left out, sorted by mask then start.
    """
    pos = runs.position()
    ends = _segment_cumsum(runs.counts, pos == 0) if len(runs.counts) else runs.counts
    fg = (pos % 2 == 1) & (runs.counts > 0)
    end = ends[fg]
    return end - runs.counts[fg], end, runs.owner()[fg]
