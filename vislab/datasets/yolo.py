"""YOLO label files <-> truth boxes frames (the Darknet / Ultralytics text format).

One ``.txt`` file per image, named after the image's stem; one object per line, every number a
fraction of the image's width or height::

    class_id cx cy w h              # a box (centre and size)
    class_id cx cy w h score        # a prediction with its confidence
    class_id x1 y1 x2 y2 x3 y3 ...  # a polygon (segmentation labels): its bounding box is read

An empty file, or no file, is an image without objects.  Class names live apart from the
labels: a ``data.yaml`` (``names: [cat, dog]`` or ``names: {0: cat, 1: dog}``), or a
``classes.txt`` / ``obj.names`` with one name per line (:func:`read_yolo_names`).

A label file holds fractions, so pixels need each image's size: pass ``image_size`` (one size
for all, or a mapping / frame per image).  The frames are in pixels (``x, y, w, h``, top-left
origin), like every truth frame of vislab.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame, InvalidParameter
from vislab.frames import convert_boxes, require_columns

__all__ = ["read_yolo", "write_yolo", "read_yolo_names", "write_yolo_names"]

_NAME_FILES = ("data.yaml", "data.yml", "dataset.yaml", "classes.txt", "obj.names")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _yaml_names(text: str) -> list[str]:
    # The few shapes data.yaml files use for ``names``; no YAML library needed.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^names\s*:\s*(.*?)\s*(#.*)?$", line)
        if not m:
            continue
        inline = m.group(1)
        if inline.startswith("["):
            body = inline.strip("[]")
            return [_unquote(v) for v in re.findall(r"'[^']*'|\"[^\"]*\"|[^,]+", body) if v.strip()]
        if inline.startswith("{"):
            pairs = re.findall(r"(\d+)\s*:\s*('[^']*'|\"[^\"]*\"|[^,}]+)", inline)
            return [_unquote(v) for _, v in sorted(pairs, key=lambda p: int(p[0]))]
        listed, mapped = [], {}
        for follow in lines[i + 1 :]:
            if follow.strip() and not follow.startswith((" ", "\t", "-")):
                break
            item = re.match(r"^\s*-\s*(.+?)\s*$", follow)
            pair = re.match(r"^\s+(\d+)\s*:\s*(.+?)\s*$", follow)
            if item:
                listed.append(_unquote(item.group(1)))
            elif pair:
                mapped[int(pair.group(1))] = _unquote(pair.group(2))
        return listed or [mapped[k] for k in sorted(mapped)]
    raise InvalidFrame("the YAML file has no 'names:' entry")


def read_yolo_names(path) -> list[str]:
    """Class names, in id order, from a ``data.yaml``, ``classes.txt`` or ``obj.names``.

    Parameters
    ----------
    path : str or Path
        The names file, or a folder holding one (the first of ``data.yaml``, ``data.yml``,
        ``dataset.yaml``, ``classes.txt``, ``obj.names``).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "data.yaml").write_text("path: .\\nnames:\\n  0: cat\\n  1: hot dog\\n")
    >>> read_yolo_names(d)
    ['cat', 'hot dog']
    """
    p = Path(path)
    if p.is_dir():
        found = [p / n for n in _NAME_FILES if (p / n).is_file()]
        if not found:
            raise FileNotFoundError(f"no {' / '.join(_NAME_FILES)} in {p}")
        p = found[0]
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() in (".yaml", ".yml"):
        return _yaml_names(text)
    return [line.strip() for line in text.splitlines() if line.strip()]


def write_yolo_names(classes, folder) -> list[Path]:
    """Write ``classes.txt`` and a ``data.yaml`` (Ultralytics' dataset file) into ``folder``.

    ``data.yaml`` says ``path: .``, ``train: images`` and ``val: images`` (the layout
    :meth:`vislab.easydl.Dataset.to_yolo` writes) and ``names`` as an id map.

    Parameters
    ----------
    classes : sequence of str
        Class names in id order (id 0 first).
    folder : str or Path
        Where to write; created if missing.

    Returns
    -------
    list of Path
        The two files written, ``classes.txt`` then ``data.yaml``.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> [p.name for p in write_yolo_names(["cat", "dog"], d)], read_yolo_names(d)
    (['classes.txt', 'data.yaml'], ['cat', 'dog'])
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [str(c) for c in classes]
    txt = folder / "classes.txt"
    txt.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    yaml = folder / "data.yaml"
    body = "".join(
        f"  {i}: {n!r}\n" if ":" in n or "#" in n else f"  {i}: {n}\n" for i, n in enumerate(names)
    )
    yaml.write_text(
        f"path: .\ntrain: images\nval: images\nnc: {len(names)}\nnames:\n{body}", encoding="utf-8"
    )
    return [txt, yaml]


def _sizes(image_size, keys: list[str]) -> np.ndarray:
    if image_size is None:
        raise InvalidParameter(
            "YOLO boxes are fractions: pass image_size=(width, height), a "
            "mapping image -> (width, height) or a frame image, width, height"
        )
    if isinstance(image_size, pd.DataFrame):
        require_columns(image_size, ["image", "width", "height"], name="image_size")
        image_size = {r.image: (r.width, r.height) for r in image_size.itertuples(index=False)}
    if isinstance(image_size, Mapping):
        missing = [k for k in keys if k not in image_size]
        if missing:
            raise InvalidFrame(f"image_size lacks the size of {missing[:5]}", column="image")
        return np.array([image_size[k] for k in keys], dtype=float).reshape(len(keys), 2)
    return np.broadcast_to(np.asarray(image_size, dtype=float), (len(keys), 2))


def _label_files(source, recursive: bool) -> tuple[list[Path], Path | None]:
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_dir():
            files = sorted(p.rglob("*.txt") if recursive else p.glob("*.txt"))
            return [f for f in files if f.name not in _NAME_FILES], p
        if p.is_file():
            return [p], None
        raise FileNotFoundError(f"no such file or folder: {p}")
    return [Path(s) for s in source], None


def read_yolo(source, *, image_size=None, names=None, recursive: bool = False) -> pd.DataFrame:
    """Read YOLO label files into a truth boxes frame (or a boxes frame for predictions).

    Parameters
    ----------
    source : str, Path or list of paths
        A folder of ``.txt`` label files (read in name order; ``classes.txt`` is skipped), one
        file, or a list of files.
    image_size : (width, height), mapping or DataFrame
        Each image's size in pixels: one size for all, ``{image: (width, height)}`` or a frame
        ``image, width, height``, keyed by the ``image`` values below.
    names : list of str, str or Path, optional
        Class names by id, or a names file (:func:`read_yolo_names`).  Without them ``label``
        holds the integer ids.
    recursive : bool, default False
        Also read the label files of sub-folders (a folder only).

    Returns
    -------
    DataFrame
        Truth: ``image, label, x, y, w, h`` in pixels.  When every line has a score column:
        ``image, label, score, x, y, w, h, error_code, error_msg``.  ``image`` is the label
        file's path relative to ``source`` without ``.txt`` (its stem for a flat folder).
        ``attrs["images"]`` lists every label file's image, empty ones included.

    Raises
    ------
    vislab.errors.InvalidFrame
        A line that does not fit the format or a class id without a name (the message names
        file and line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "img1.txt").write_text("1 0.5 0.5 0.2 0.4\\n")
    >>> read_yolo(d, image_size=(100, 50), names=["cat", "dog"]).values.tolist()
    [['img1', 'dog', 40.0, 15.0, 20.0, 20.0]]
    """
    files, root = _label_files(source, recursive)
    if isinstance(names, (str, Path)):
        names = read_yolo_names(names)
    keys = [
        (f.relative_to(root).with_suffix("").as_posix() if root is not None else f.stem)
        for f in files
    ]
    images, ids, boxes, scores = [], [], [], []
    for key, f in zip(keys, files, strict=True):
        for no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            tokens = line.split()
            if not tokens:
                continue
            try:
                cls = int(tokens[0])
                nums = [float(t) for t in tokens[1:]]
            except ValueError:
                raise InvalidFrame(
                    f"{f.name} line {no}: expected 'class_id cx cy w h', got {line.strip()!r}"
                ) from None
            if len(nums) in (4, 5):
                box = nums[:4]
                scores.append(nums[4] if len(nums) == 5 else np.nan)
            elif len(nums) >= 6 and len(nums) % 2 == 0:
                xs, ys = nums[0::2], nums[1::2]
                box = [
                    (min(xs) + max(xs)) / 2,
                    (min(ys) + max(ys)) / 2,
                    max(xs) - min(xs),
                    max(ys) - min(ys),
                ]
                scores.append(np.nan)
            else:
                raise InvalidFrame(
                    f"{f.name} line {no}: expected 'class_id cx cy w h' (4 "
                    f"numbers after the id), got {len(nums)}"
                )
            if names is not None and not 0 <= cls < len(names):
                raise InvalidFrame(
                    f"{f.name} line {no}: class id {cls} has no name (there are {len(names)})",
                    column="label",
                )
            images.append(key)
            ids.append(cls)
            boxes.append(box)
    sizes = _sizes(image_size, images) if images else np.zeros((0, 2))
    xywh = convert_boxes(
        np.array(boxes, dtype=float).reshape(-1, 4), "cxcywhn", "xywh", image_size=sizes
    )
    labels = [names[i] for i in ids] if names is not None else ids
    df = pd.DataFrame(
        {"image": pd.Series(images, dtype=object), "label": pd.Series(labels, dtype=object)}
    )
    df[["x", "y", "w", "h"]] = xywh
    with_score = bool(scores) and not np.isnan(scores).any()
    if with_score:
        df.insert(2, "score", np.array(scores, dtype=float))
        df["error_code"] = None
        df["error_msg"] = None
        df.attrs["kind"] = "boxes"
    else:
        df.attrs["kind"] = "truth_boxes"
    df.attrs["images"] = {"image": keys}
    return df


def _fmt(v: float) -> str:
    return f"{v:.10g}"


def write_yolo(truth: pd.DataFrame, folder, *, image_size, classes=None, images=None) -> list[Path]:
    """Write a truth boxes frame as YOLO label files, one per image.

    Parameters
    ----------
    truth : DataFrame
        ``image, label, x, y, w, h`` in pixels.
    folder : str or Path
        Where ``<image without extension>.txt`` goes (sub-folders of ``image`` are kept).
    image_size : (width, height), mapping or DataFrame
        Each image's size, as in :func:`read_yolo`.
    classes : list of str, optional
        Class names in id order; default the sorted labels of ``truth``.
    images : list of str, optional
        Every image to write a file for, boxes or not (an image with no box gets an empty
        file); default ``truth.attrs["images"]["image"]``, else the images of ``truth``.

    Returns
    -------
    list of Path

    Examples
    --------
    >>> import tempfile
    >>> t = pd.DataFrame({"image": ["img1.jpg"], "label": ["dog"], "x": [40.0], "y": [15.0],
    ...                   "w": [20.0], "h": [20.0]})
    >>> d = tempfile.mkdtemp()
    >>> [p.name for p in write_yolo(t, d, image_size=(100, 50), classes=["cat", "dog"])]
    ['img1.txt']
    >>> read_yolo(d, image_size=(100, 50), names=["cat", "dog"])[["label", "x", "w"]].values.tolist()
    [['dog', 40.0, 20.0]]
    """
    require_columns(truth, ["image", "label", "x", "y", "w", "h"], name="truth")
    classes = list(classes) if classes is not None else sorted(set(truth["label"]), key=str)
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(truth["label"]) - set(index), key=str)
    if unknown:
        raise InvalidFrame(f"labels {unknown[:5]} are not in classes", column="label")
    if images is None:
        listed = (truth.attrs.get("images") or {}).get("image")
        images = list(listed) if listed is not None else []
    names = list(dict.fromkeys([*images, *truth["image"]]))
    sizes = _sizes(image_size, list(truth["image"]))
    norm = convert_boxes(
        truth[["x", "y", "w", "h"]].to_numpy(float), "xywh", "cxcywhn", image_size=sizes
    )
    lines: dict = {n: [] for n in names}
    for img, lab, row in zip(truth["image"], truth["label"], norm, strict=True):
        lines[img].append(f"{index[lab]} " + " ".join(_fmt(v) for v in row))
    folder = Path(folder)
    out = []
    for name in names:
        path = folder / Path(str(name)).with_suffix(".txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines[name]), encoding="utf-8")
        out.append(path)
    return out
