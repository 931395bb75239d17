"""Dataset folders on disk -> the parts of a :class:`~vislab.easydl.Dataset`.

The layouts read (the same for a folder and for an extracted zip, :func:`read_tree`):

=================  ===========================================================================
classification     one folder per class, the folder name is the class (EasyDL's upload
                   format); files in sub-folders of a class folder belong to that class
VOC (detection)    images with a same-named ``.xml`` beside them (EasyDL's and LabelImg's
                   export), or Pascal VOC's ``Annotations/*.xml`` + ``JPEGImages/*``; an
                   image without an XML file is an image without boxes
COCO (detection)   one instances ``.json`` (``images``, ``annotations``, ``categories``) with
                   the images beside it or under ``images/``
YOLO (detection)   ``images/`` + ``labels/`` (Ultralytics, sub-folders such as ``train/``
                   allowed) or images and ``.txt`` labels side by side (Darknet), with the
                   class names in ``data.yaml``, ``classes.txt`` or ``obj.names``
=================  ===========================================================================

Where the layout sits: at the root, or inside one top-level folder (``fruit/apple/1.jpg``): a
root holding a single folder and no file is opened, unless that folder holds only images, in
which case it is a class folder (a zip with one class, as uploads of one class at a time are).
Hidden files and ``__MACOSX`` folders are skipped everywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vislab.datasets.coco import read_coco
from vislab.datasets.voc import read_voc_xml
from vislab.datasets.yolo import read_yolo, read_yolo_names
from vislab.easydl.errors import DatasetError
from vislab.easydl.limits import finding
from vislab.easydl.probe import IMAGE_EXTENSIONS, is_image_name, is_junk, probe
from vislab.errors import InvalidFrame

__all__ = [
    "read_frames",
    "Parts",
    "image_row",
    "read_tree",
    "read_class_folders",
    "read_voc_tree",
    "read_coco_file",
    "read_yolo_tree",
]

_NAME_FILES = ("data.yaml", "data.yml", "dataset.yaml", "classes.txt", "obj.names")
_MAX_JSON_BYTES = 512 * 1024 * 1024


@dataclass
class Parts:
    """What a reader found: the arguments of :class:`~vislab.easydl.Dataset`.

    Examples
    --------
    >>> Parts("classification").kind
    'classification'
    """

    kind: str
    rows: list = field(default_factory=list)
    boxes: pd.DataFrame | None = None
    classes: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    layout: str = ""
    sources: dict = field(default_factory=dict)


def image_row(image: str, path, label=None) -> dict:
    """One row of a dataset's image table, from the file's header.

    Examples
    --------
    >>> image_row("a.jpg", "/no/such/a.jpg", "ok")["error"]
    'no such file'
    """
    info = probe(path)
    return {
        "image": image,
        "label": label,
        "path": str(path),
        "width": info.width,
        "height": info.height,
        "format": info.format,
        "bytes": info.bytes,
        "error": info.error,
    }


def _children(folder: Path) -> tuple[list[Path], list[Path]]:
    dirs, files = [], []
    for child in sorted(folder.iterdir()):
        if is_junk(child.name) or child.name == "__MACOSX":
            continue
        if child.is_dir() and not child.is_symlink():
            dirs.append(child)
        elif child.is_file():
            files.append(child)
    return dirs, files


def _walk(folder: Path):
    """Non-hidden files under ``folder`` in name order; symlinked folders are not followed."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not is_junk(d) and d != "__MACOSX")
        out.extend(Path(dirpath) / f for f in filenames if not is_junk(f))
    return sorted(out)


def _is_coco(path: Path) -> bool:
    if path.suffix.lower() != ".json" or path.stat().st_size > _MAX_JSON_BYTES:
        return False
    try:
        data = path.read_bytes()
    except OSError:
        return False
    # A look for the two keys, not a parse: read_coco_file parses (and validates) it once.
    return data.lstrip().startswith(b"{") and b'"images"' in data and b'"annotations"' in data


def _markers(dirs: list[Path], files: list[Path]) -> str | None:
    """The detection layout a folder's annotation files show, if any."""
    names = {d.name for d in dirs}
    if any(_is_coco(f) for f in files):
        return "coco"
    if "Annotations" in names or any(f.suffix.lower() == ".xml" for f in files):
        return "voc"
    if {"images", "labels"} <= names or any(f.name in _NAME_FILES for f in files):
        return "yolo"
    return None


def _layout_of(root: Path) -> str:
    return _markers(*_children(root)) or "classification"


def _locate(root: Path) -> Path:
    while True:
        dirs, files = _children(root)
        if len(dirs) != 1 or files:
            return root
        inner_dirs, inner_files = _children(dirs[0])
        if any(is_image_name(f.name) for f in inner_files) and not _markers(
            inner_dirs, inner_files
        ):
            return root  # a single class folder
        root = dirs[0]


def read_tree(root, *, kind: str | None = None) -> Parts:
    """Read a dataset folder in any layout of the module notes.

    Parameters
    ----------
    root : str or Path
    kind : {"classification", "detection"}, optional
        Force the kind (default: detection when annotation files are found).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "fruit" / "apple").mkdir(parents=True)
    >>> _ = (d / "fruit" / "apple" / "1.jpg").write_bytes(b"not an image")
    >>> p = read_tree(d)
    >>> p.kind, p.classes, p.rows[0]["image"], p.rows[0]["error"][:20]
    ('classification', ['apple'], 'apple/1.jpg', 'not a readable image')
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    where = _locate(root)
    layout = _layout_of(where)
    if kind == "classification" or (kind is None and layout == "classification"):
        return read_class_folders(where)
    if layout == "coco":
        dirs, files = _children(where)
        return read_coco_file(next(f for f in files if _is_coco(f)))
    if layout == "yolo":
        return read_yolo_tree(where)
    return read_voc_tree(where)


def read_class_folders(root) -> Parts:
    """One folder per class under ``root``; a file directly under ``root`` is a finding.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "ok").mkdir(); (d / "empty").mkdir()
    >>> _ = (d / "stray.jpg").write_bytes(b"")
    >>> p = read_class_folders(d)
    >>> p.classes, [n["rule"] for n in p.notes]
    (['empty', 'ok'], ['layout'])
    """
    root = Path(root)
    dirs, files = _children(root)
    parts = Parts("classification", layout="class folders")
    for d in dirs:
        parts.classes.append(d.name)
        for f in _walk(d):
            parts.rows.append(image_row(f.relative_to(root).as_posix(), f, d.name))
    for f in files:
        parts.notes.append(
            finding(
                "layout",
                "warning",
                f"{f.name} is outside every class folder: EasyDL ignores "
                "it; move it into the folder of its class",
                image=f.name,
            )
        )
    return parts


def _boxes_frame(rows: list) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["image", "label", "x", "y", "w", "h", "difficult"])
    return frame.astype({"x": float, "y": float, "w": float, "h": float})


def read_voc_tree(root) -> Parts:
    """Images with VOC XML annotations (flat, nested, or ``Annotations/`` + ``JPEGImages/``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.xml").write_text("<annotation><filename>a.jpg</filename><object>"
    ...     "<name>cat</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>11</xmax>"
    ...     "<ymax>12</ymax></bndbox></object></annotation>")
    >>> p = read_voc_tree(d)
    >>> p.kind, p.boxes[["image", "label", "w"]].values.tolist(), p.rows[0]["error"]
    ('detection', [['a.jpg', 'cat', 10.0]], 'no such file')
    """
    root = Path(root)
    ann_dir = root / "Annotations" if (root / "Annotations").is_dir() else root
    img_dir = root / "JPEGImages" if (root / "JPEGImages").is_dir() else root
    xmls = [f for f in _walk(ann_dir) if f.suffix.lower() == ".xml"]
    parts = Parts("detection", layout="VOC XML")
    images = [f for f in _walk(img_dir) if is_image_name(f.name)]
    by_stem = {}
    for f in images:
        by_stem.setdefault(f.relative_to(img_dir).with_suffix("").as_posix(), f)
    boxes, seen = [], set()
    for xml in xmls:
        try:
            t = read_voc_xml(xml)
        except InvalidFrame as exc:
            parts.notes.append(
                finding(
                    "annotation",
                    "error",
                    f"{xml.name}: {exc}; its image is not imported",
                    image=xml.name,
                )
            )
            continue
        rel = xml.relative_to(ann_dir).with_suffix("")
        # Only the name: a <filename> holding a path must not reach outside the dataset.
        named = Path(t.attrs["images"]["image"][0].replace("\\", "/")).name or rel.name
        candidates = [xml.parent / named, img_dir / rel.parent / named]
        path = next((c for c in candidates if c.is_file()), None)
        path = path or by_stem.get(rel.as_posix())
        path = path or candidates[0 if ann_dir == img_dir else 1]
        image = path.relative_to(img_dir).as_posix() if path.is_relative_to(img_dir) else path.name
        if image in seen:
            parts.notes.append(
                finding(
                    "annotation",
                    "error",
                    f"{xml.name} annotates {image}, "
                    "which another XML file annotates too; kept the first",
                    image=image,
                )
            )
            continue
        seen.add(image)
        parts.rows.append(image_row(image, path))
        boxes.extend(dict(r, image=image) for r in t.to_dict("records"))
    for f in images:
        image = f.relative_to(img_dir).as_posix()
        if image not in seen:
            seen.add(image)
            parts.rows.append(image_row(image, f))
    parts.boxes = _boxes_frame(boxes)
    parts.classes = sorted(set(parts.boxes["label"]))
    return parts


def read_coco_file(json_path, images_dir=None) -> Parts:
    """A COCO instances file; images resolved under ``images_dir`` (default: beside the file,
    or its ``images/`` folder, whichever holds more of them).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "c.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}],
    ...     "annotations": [], "categories": [{"id": 1, "name": "cat"}]}))
    >>> p = read_coco_file(d / "c.json")
    >>> p.classes, len(p.boxes), p.rows[0]["image"]
    (['cat'], 0, 'a.jpg')
    """
    if isinstance(json_path, dict):
        if images_dir is None:
            raise DatasetError("a COCO dict has no folder of its own: pass images_dir=")
        data = json_path
    else:
        json_path = Path(json_path)
        data = json.loads(json_path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise DatasetError(
            "not a COCO instances file: the 'images', 'annotations' or 'categories' list is missing"
        )
    if not all(isinstance(i, dict) and "id" in i for i in data["images"]):
        raise DatasetError("not a COCO instances file: every entry of 'images' needs an 'id'")
    t = read_coco(data)
    names = [str(n) for n in t.attrs["images"]["image"]]
    if images_dir is None:
        options = [json_path.parent, json_path.parent / "images"]
        sample = names[:50]
        images_dir = max(options, key=lambda o: sum((o / n).is_file() for n in sample))
    images_dir = Path(images_dir)
    parts = Parts("detection", layout="COCO JSON")
    for n in names:
        rel = Path(n.replace("\\", "/"))
        if rel.is_absolute() or ".." in rel.parts:
            parts.rows.append(
                dict(
                    image_row(n, images_dir / rel.name),
                    error="its file_name points outside the images folder",
                )
            )
        else:
            parts.rows.append(image_row(n, images_dir / rel))
    keep = ["image", "label", "x", "y", "w", "h"]
    boxes = t[keep + (["iscrowd"] if t["iscrowd"].any() else [])].copy()
    boxes["image"] = boxes["image"].astype(str)
    parts.boxes = boxes
    parts.classes = sorted({str(c) for c in t.attrs["categories"]["label"]})
    return parts


def read_yolo_tree(root, *, names=None) -> Parts:
    """Images with YOLO label files (``images/`` + ``labels/``, or side by side).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (100, 50)).save(d / "a.png")
    >>> _ = (d / "a.txt").write_text("0 0.5 0.5 0.2 0.4\\n")
    >>> _ = (d / "classes.txt").write_text("cat\\n")
    >>> read_yolo_tree(d).boxes[["image", "label", "x", "w"]].values.tolist()
    [['a.png', 'cat', 40.0, 20.0]]
    """
    root = Path(root)
    img_dir = root / "images" if (root / "images").is_dir() else root
    lab_dir = root / "labels" if (root / "labels").is_dir() else root
    if names is None:
        found = [root / n for n in _NAME_FILES if (root / n).is_file()]
        names = read_yolo_names(found[0]) if found else None
    elif isinstance(names, (str, Path)):
        names = read_yolo_names(names)
    parts = Parts("detection", layout="YOLO")
    boxes, used = [], set()
    for f in _walk(img_dir):
        if not is_image_name(f.name):
            continue
        rel = f.relative_to(img_dir)
        image = rel.as_posix()
        row = image_row(image, f)
        parts.rows.append(row)
        label_file = lab_dir / rel.with_suffix(".txt")
        if not label_file.is_file():
            continue
        used.add(label_file)
        if row["error"] is not None:
            parts.notes.append(
                finding(
                    "annotation",
                    "error",
                    f"{label_file.name}: its image cannot be read, so its boxes cannot be placed",
                    image=image,
                )
            )
            continue
        try:
            t = read_yolo(label_file, image_size=(row["width"], row["height"]), names=names)
        except InvalidFrame as exc:
            parts.notes.append(
                finding("annotation", "error", f"{exc}; its boxes are not imported", image=image)
            )
            continue
        boxes.extend(dict(r, image=image) for r in t.to_dict("records"))
    for f in _walk(lab_dir):
        if f.suffix.lower() == ".txt" and f.name not in _NAME_FILES and f not in used:
            parts.notes.append(
                finding(
                    "layout",
                    "warning",
                    f"{f.relative_to(root)} has no "
                    f"image ({'/'.join(IMAGE_EXTENSIONS)}) of that name",
                    image=f.relative_to(root).as_posix(),
                )
            )
    parts.boxes = _boxes_frame(boxes)
    parts.boxes["label"] = parts.boxes["label"].astype(str)
    parts.classes = (
        [str(n) for n in names] if names is not None else sorted(set(parts.boxes["label"]))
    )
    return parts


def _info_row(image: str, label, src) -> dict:
    info = probe(src)
    return {
        "image": image,
        "label": label,
        "path": None,
        "width": info.width,
        "height": info.height,
        "format": info.format,
        "bytes": info.bytes,
        "error": info.error,
    }


def read_frames(truth: pd.DataFrame, images=None, *, kind=None, classes=None) -> Parts:
    """A truth frame and its images (see :meth:`vislab.easydl.Dataset.from_frames`).

    Raises :class:`~vislab.easydl.errors.DatasetError` for a frame that cannot be a dataset.

    Examples
    --------
    >>> t = pd.DataFrame({"image": ["a"], "label": ["ok"]})
    >>> p = read_frames(t, {"a": b"junk"})
    >>> p.kind, p.sources, p.rows[0]["error"][:20]
    ('classification', {'a': b'junk'}, 'not a readable image')
    """
    from vislab.frames import require_columns

    require_columns(truth, ["image", "label"], name="truth")
    has_boxes = {"x", "y", "w", "h"} <= set(truth.columns)
    kind = kind or ("detection" if has_boxes else "classification")
    if kind == "detection" and not has_boxes:
        raise DatasetError("a detection truth frame needs x, y, w, h columns (pixels)")
    t = truth.assign(image=truth["image"].astype(str))
    listed = [str(i) for i in (truth.attrs.get("images") or {}).get("image", [])]
    if kind == "classification":
        dup = t["image"][t["image"].duplicated()]
        if len(dup):
            raise DatasetError(
                f"a classification truth frame has one row per image; repeated: {list(dup[:5])}"
            )
        ids, labels = list(t["image"]), dict(zip(t["image"], t["label"], strict=True))
    else:
        ids, labels = list(dict.fromkeys([*t["image"], *listed])), {}
    parts = Parts(kind, layout="frames")
    lookup = {str(k): v for k, v in images.items()} if isinstance(images, Mapping) else None
    for image in ids:
        label = labels.get(image)
        if lookup is None:
            src = Path(images) / image if images is not None else image
        elif image in lookup:
            src = lookup[image]
        else:
            parts.rows.append(
                {"image": image, "label": label, "path": None, "error": "not in the images given"}
            )
            continue
        if isinstance(src, (str, Path)):
            parts.rows.append(image_row(image, src, label))
        else:
            parts.sources[image] = src
            parts.rows.append(_info_row(image, label, src))
    if kind == "detection":
        boxes = t[t["label"].notna()]
        bad = boxes[["x", "y", "w", "h"]].isna().any(axis=1)
        if bad.any():
            raise DatasetError(
                f"{int(bad.sum())} boxes lack x, y, w or h (e.g. image "
                f"{boxes['image'][bad].iloc[0]!r}); a row without a box needs label NaN"
            )
        parts.boxes = boxes
    cats = (truth.attrs.get("categories") or {}).get("label", [])
    parts.classes = [str(c) for c in [*cats, *(classes or [])]]
    return parts
