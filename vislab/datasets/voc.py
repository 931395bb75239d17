"""Reader for the Pascal-VOC-style text format used by many mAP tools (e.g. Cartucho/mAP).

One ``.txt`` file per image, named after the image; one object per line, absolute pixels::

    class left top right bottom              # ground truth (optionally: ... difficult)
    class score left top right bottom        # detections

Class names may contain spaces: the numbers are read from the right.  An empty file is an
image without objects (or without detections).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame

__all__ = ["read_voc_txt"]


def _files(source) -> list[Path]:
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_dir():
            return sorted(p.glob("*.txt"))
        if p.is_file():
            return [p]
        raise FileNotFoundError(f"no such file or folder: {p}")
    return [Path(s) for s in source]


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_voc_txt(source, *, scores: bool | None = None, image_ext: str = "") -> pd.DataFrame:
    """Read VOC-style text files into a truth boxes frame or a boxes (predictions) frame.

    Parameters
    ----------
    source : str, Path or list of paths
        A folder of ``.txt`` files (read in name order), one file, or a list of files.
    scores : bool, optional
        ``True`` for detections (``class score left top right bottom``), ``False`` for truth.
        Default: detections if every line has a score column.
    image_ext : str, default ""
        Appended to each file's stem to form ``image`` (e.g. ``".jpg"`` so that ``image``
        names the picture file).

    Returns
    -------
    DataFrame
        Truth: ``image, label, x, y, w, h, difficult``.  Detections: ``image, label, score, x,
        y, w, h, error_code, error_msg``.  Boxes are ``x = left, y = top, w = right - left,
        h = bottom - top``.  ``attrs["images"]`` (``{"image": [...]}``) lists every file's
        image, including empty ones, in order.

    Raises
    ------
    vislab.errors.InvalidFrame
        A line that does not fit the format (the message names file and line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "img1.txt").write_text("potted plant 0.8 10 20 50 80\\ncat 0.3 0 0 5 5\\n")
    >>> read_voc_txt(d)[["image", "label", "score", "x", "w", "h"]].values.tolist()
    [['img1', 'potted plant', 0.8, 10.0, 40.0, 60.0], ['img1', 'cat', 0.3, 0.0, 5.0, 5.0]]
    """
    files = _files(source)
    parsed = []  # (image, tokens, file, line number)
    for f in files:
        image = f.stem + image_ext
        for no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            tokens = line.split()
            if tokens:
                parsed.append((image, tokens, f, no))
    if scores is None:
        scores = bool(parsed) and all(
            len(t) >= 6 and t[-1] != "difficult" and all(_is_number(v) for v in t[-5:])
            for _, t, _, _ in parsed
        )
    n_num = 5 if scores else 4
    images, labels, nums, difficult = [], [], [], []
    for image, tokens, f, no in parsed:
        hard = not scores and tokens[-1] == "difficult"
        body = tokens[:-1] if hard else tokens
        if len(body) < n_num + 1 or not all(_is_number(v) for v in body[-n_num:]):
            want = "class score left top right bottom" if scores else "class left top right bottom"
            raise InvalidFrame(f"{f.name} line {no}: expected '{want}', got {' '.join(tokens)!r}")
        images.append(image)
        labels.append(" ".join(body[:-n_num]))
        nums.append([float(v) for v in body[-n_num:]])
        difficult.append(hard)
    arr = np.array(nums, dtype=float).reshape(len(nums), n_num)
    ltrb = arr[:, -4:]
    df = pd.DataFrame(
        {
            "image": pd.Series(images, dtype=str if images else object),
            "label": pd.Series(labels, dtype=str if labels else object),
        }
    )
    if scores:
        df["score"] = arr[:, 0]
    df["x"] = ltrb[:, 0]
    df["y"] = ltrb[:, 1]
    df["w"] = ltrb[:, 2] - ltrb[:, 0]
    df["h"] = ltrb[:, 3] - ltrb[:, 1]
    if scores:
        df["error_code"] = None
        df["error_msg"] = None
        df.attrs["kind"] = "boxes"
    else:
        df["difficult"] = np.array(difficult, dtype=bool)
        df.attrs["kind"] = "truth_boxes"
    df.attrs["images"] = {"image": [f.stem + image_ext for f in files]}
    return df
