"""What a :class:`~vislab.easydl.ModelVersion` is asked about and answers with: its inputs
(anything vislab takes as images, or a Dataset) read safely, error rows for the images that
cannot be read, and the counts frame (``image, label, count``) of a detector's density head.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from vislab.errors import InvalidImage, user_stacklevel

__all__ = ["counts_frame", "COUNTS"]

#: Core columns of a counts frame (DESIGN.md section 2).
COUNTS = ("image", "label", "count")
_PLACEHOLDER = np.zeros((32, 32, 3), np.uint8)


def counts_frame(rows, *, service=None) -> pd.DataFrame:
    """A counts frame: one row per (image, label), core columns ``image, label, count``,
    then ``error_code, error_msg, error_rule`` (an image that failed keeps one row).

    Parameters
    ----------
    rows : iterable of dict
        One dict per row.
    service : str, optional
        Stored in ``attrs["service"]``.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> counts_frame([{"image": "a.png", "label": "cell", "count": 212.4},
    ...               {"image": "b.png", "error_code": 990100, "error_msg": "no such file",
    ...                "error_rule": "missing"}])[["image", "count", "error_code"]]
       image  count  error_code
    0  a.png  212.4        <NA>
    1  b.png    NaN      990100
    """
    rows = [dict(r) for r in rows]
    cols = list(COUNTS) + ["error_code", "error_msg", "error_rule"]
    extras = [k for r in rows for k in r if k not in cols]
    df = pd.DataFrame(rows, columns=cols + list(dict.fromkeys(extras)))
    df["count"] = pd.to_numeric(df["count"], errors="coerce")
    df["error_code"] = pd.array([r.get("error_code") for r in rows], dtype="Int64")
    for col in ("error_msg", "error_rule"):
        df[col] = pd.Series([r.get(col) for r in rows], index=df.index, dtype=object)
    df.attrs["kind"] = "counts"
    if service is not None:
        df.attrs["service"] = service
    return df


def _decode(source, ident: str) -> np.ndarray:
    """Pixels of any input vislab accepts, EXIF applied (the emulator's decoding)."""
    from PIL import Image

    from vislab.images import decode_pixels, load_bytes
    from vislab.images.prepare import to_rgb

    data = load_bytes(source, ident=ident)
    if isinstance(data, Image.Image):
        return np.asarray(to_rgb(data)[0])
    try:
        return decode_pixels(data)[0]
    except InvalidImage as exc:
        exc.image = exc.image or ident
        raise


def _inputs(images) -> tuple[list[str], object]:
    """Identifiers and a ``load(identifier) -> pixels`` for a Dataset or any image input."""
    if hasattr(images, "images") and hasattr(images, "load") and hasattr(images, "kind"):
        return list(images.images), images.load
    from vislab.images import expand_images

    pairs = dict(expand_images(images))
    return list(pairs), lambda ident: _decode(pairs[ident], ident)


def _error_row(ident: str, exc: Exception) -> dict:
    code = getattr(exc, "code", None)
    return {
        "image": ident,
        "error_code": code if isinstance(code, int) else 990500,
        "error_msg": str(exc),
        "error_rule": getattr(exc, "rule", None) or "decode",
    }


class _SafeLoader:
    """Wraps ``load`` so a failing image becomes a recorded error instead of stopping a batch.

    The pipelines decode in a worker thread and stack whole batches; a failed image gets a
    small placeholder there and its row is replaced by the error afterwards.
    """

    def __init__(self, load):
        self.load = load
        self.errors: dict[str, Exception] = {}

    def __call__(self, ident):
        try:
            return self.load(ident)
        except (InvalidImage, OSError, ValueError) as exc:
            self.errors[ident] = exc
            return _PLACEHOLDER


def _warn_failures(errors: dict) -> None:
    if errors:
        from vislab.errors import FailedImagesWarning

        first = "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:2])
        warnings.warn(
            f"{len(errors)} image(s) could not be read and have error rows: {first}",
            FailedImagesWarning,
            stacklevel=user_stacklevel(),
        )
