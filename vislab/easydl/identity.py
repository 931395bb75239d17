"""Who an image is in a dataset: unique identifiers, and the content hash of a whole dataset."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from vislab.easydl.probe import source_bytes

__all__ = ["free_name", "renamed_clashes", "content_hash"]


def free_name(name: str, taken) -> str:
    """``name`` with ``~2`` (then ``~3``...) before its extension, the first not ``taken``.

    Examples
    --------
    >>> free_name("apple/1.jpg", {"apple/1.jpg", "apple/1~2.jpg"})
    'apple/1~3.jpg'
    """
    stem, dot, ext = name.rpartition(".")
    if not dot or "/" in ext:
        stem, ext = name, ""
    n = 2
    while True:
        candidate = f"{stem}~{n}.{ext}" if ext else f"{stem}~{n}"
        if candidate not in taken:
            return candidate
        n += 1


def renamed_clashes(ours, theirs) -> dict:
    """New names for the identifiers of ``theirs`` that ``ours`` (or an earlier one) took.

    Examples
    --------
    >>> renamed_clashes(["a.jpg", "b.jpg"], ["a.jpg", "a~2.jpg", "c.jpg"])
    {'a.jpg': 'a~3.jpg'}
    """
    ours, theirs = set(ours), list(theirs)
    taken = ours | set(theirs)  # names of theirs that do not clash stay theirs
    rename = {}
    for image in theirs:
        if image in ours:
            rename[image] = free_name(image, taken)
            taken.add(rename[image])
    return rename


def content_hash(kind, classes, table: pd.DataFrame, boxes, sources: dict) -> str:
    """SHA-256 over the kind, the classes, and every image's identifier, label or boxes and
    file bytes (an array's shape, dtype and pixels; an unreadable file's reason), in
    identifier order: the order images were added in does not matter, their content does.

    Examples
    --------
    >>> t = pd.DataFrame({"image": ["a"], "label": ["ok"], "path": [None], "error": [None]})
    >>> len(content_hash("classification", ["ok"], t, None, {"a": np.zeros((2, 2))}))
    64
    """
    digest = hashlib.sha256()
    digest.update(f"{kind}\n{list(classes)!r}\n".encode())
    by_image = {} if boxes is None else dict(list(boxes.groupby("image")))
    for row in table.sort_values("image").to_dict("records"):
        image = row["image"]
        digest.update(f"{image}\n".encode())
        if kind == "classification":
            digest.update(f"{row['label']}\n".encode())
        else:
            b = by_image.get(image)
            rows = (
                []
                if b is None
                else [(r.label, r.x, r.y, r.w, r.h) for r in b.itertuples(index=False)]
            )
            digest.update(repr(sorted(rows)).encode())
        src = sources.get(image, row["path"])
        if isinstance(src, np.ndarray):
            digest.update(f"{src.shape}{src.dtype}".encode() + np.ascontiguousarray(src).tobytes())
        elif pd.notna(row["error"]):
            digest.update(f"error:{row['error']}".encode())
        else:
            digest.update(hashlib.sha256(source_bytes(src)).digest())
    return digest.hexdigest()
