"""A :class:`~vislab.easydl.Dataset` written to disk: EasyDL folders and zips, COCO, VOC, YOLO.

Every writer copies image files byte for byte (in-memory arrays are written as PNG) and skips
images that cannot be read, with one warning that counts them.  File names:

* classification: ``<class>/<file>`` (an identifier that already starts with its class folder
  keeps the rest of its path);
* detection: the identifier's relative path;
* an identifier without an image extension gets one (``.png`` for arrays, the content's
  format for bytes); an absolute or ``..`` identifier keeps its file name only; names that
  would collide (or, for detection, share a stem and so an annotation file) become
  ``name~2.jpg``.

The zip (:func:`to_zip`) holds exactly what :func:`to_folder` writes — EasyDL's upload format:
class folders at the root, or, for detection, each image with its VOC XML file beside it — and
is split by :func:`vislab.easydl.archive_writer.write_archives` when it would pass a budget.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path, PurePosixPath

import pandas as pd

from vislab.datasets.coco import write_coco
from vislab.datasets.voc import write_voc_xml
from vislab.datasets.yolo import write_yolo, write_yolo_names
from vislab.easydl.archive_writer import ArchiveMember, write_archives
from vislab.easydl.errors import DatasetError
from vislab.easydl.probe import is_image_name, source_bytes
from vislab.errors import user_stacklevel

__all__ = ["file_names", "to_folder", "to_zip", "to_coco", "to_voc", "to_yolo"]

_EXT = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "BMP": ".bmp",
    "GIF": ".gif",
    "WEBP": ".webp",
    "TIFF": ".tif",
}


def _relative(image: str) -> PurePosixPath:
    p = PurePosixPath(image.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return PurePosixPath(p.name or "image")
    return p


def _free(name: PurePosixPath, taken: set, key) -> PurePosixPath:
    n = 2
    candidate = name
    while key(candidate) in taken:
        candidate = name.with_name(f"{name.stem}~{n}{name.suffix}")
        n += 1
    return candidate


def file_names(ds) -> dict[str, str]:
    """Identifier -> relative file name for every readable image (see the module notes).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from vislab.easydl import Dataset
    >>> t = pd.DataFrame({"image": ["ok/1.jpg", "x"], "label": ["ok", "bad"]})
    >>> ds = Dataset.from_frames(t, images={"ok/1.jpg": np.zeros((40, 40), np.uint8),
    ...                                     "x": np.zeros((40, 40), np.uint8)})
    >>> file_names(ds)
    {'ok/1.jpg': 'ok/1.jpg', 'x': 'bad/x.png'}
    """
    t = ds._table
    detection = ds.kind == "detection"
    # A detection image's annotation file is named after its stem: stems must be unique.
    key = (
        (lambda p: p.with_suffix("").as_posix().lower())
        if detection
        else (lambda p: p.as_posix().lower())
    )
    taken: set = set()
    out = {}
    for r in t[t["error"].isna()].itertuples(index=False):
        rel = _relative(r.image)
        if not detection and rel.parts[0] == r.label and len(rel.parts) > 1:
            rel = PurePosixPath(*rel.parts[1:])
        if not is_image_name(rel.name):
            src = ds._sources.get(r.image)
            fmt = r.format if isinstance(r.format, str) else "PNG"
            ext = (
                ".png" if src is not None and not isinstance(src, bytes) else _EXT.get(fmt, ".png")
            )
            rel = rel.with_name(rel.name + ext)
        name = rel if detection else PurePosixPath(r.label) / rel
        name = _free(name, taken, key)
        taken.add(key(name))
        out[r.image] = name.as_posix()
    return out


def _warn_skipped(ds, names) -> None:
    skipped = [i for i in ds.images if i not in names]
    if skipped:
        warnings.warn(
            f"{len(skipped)} unreadable images were not written (e.g. "
            f"{skipped[:3]}); Dataset.check() says why",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _new_folder(folder) -> Path:
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DatasetError(
            f"{folder} exists and is not an empty folder; write the dataset into a new folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _copy_images(ds, names: dict, folder: Path) -> None:
    paths = ds._table.set_index("image")["path"]
    for image, name in names.items():
        dest = folder / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if image in ds._sources:
            dest.write_bytes(source_bytes(ds._sources[image]))
        else:
            shutil.copyfile(paths[image], dest)


def _renamed_truth(ds, names: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = ds._table[ds._table["image"].isin(names.keys())]
    table = pd.DataFrame(
        {"image": t["image"].map(names), "width": t["width"], "height": t["height"]}
    ).reset_index(drop=True)
    boxes = ds._boxes[ds._boxes["image"].isin(names.keys())].copy()
    boxes["image"] = boxes["image"].map(names)
    return boxes.reset_index(drop=True), table


def _require_detection(ds, what: str) -> None:
    if ds.kind != "detection":
        raise DatasetError(
            f"{what} holds boxes; a classification dataset is written with "
            "to_folder() or to_zip() (one folder per class)"
        )


def to_folder(ds, folder) -> Path:
    """EasyDL's layout in a new folder: class folders, or images with VOC XML beside them.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from vislab.easydl import Dataset
    >>> ds = Dataset.from_frames(pd.DataFrame({"image": ["a"], "label": ["ok"]}),
    ...                          images={"a": np.zeros((40, 40), np.uint8)})
    >>> out = to_folder(ds, tempfile.mkdtemp() + "/copy")
    >>> sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*"))
    ['ok/a.png']
    """
    folder = _new_folder(folder)
    names = file_names(ds)
    _warn_skipped(ds, names)
    _copy_images(ds, names, folder)
    if ds.kind == "detection":
        boxes, table = _renamed_truth(ds, names)
        write_voc_xml(boxes, folder, images=table)
    return folder


def to_zip(ds, path, *, max_bytes: int, max_images: int) -> list[Path]:
    """What :func:`to_folder` writes, as one zip or several (see
    :func:`~vislab.easydl.archive_writer.write_archives`).

    Examples
    --------
    >>> import tempfile, zipfile, numpy as np, pandas as pd
    >>> from vislab.easydl import Dataset
    >>> ds = Dataset.from_frames(pd.DataFrame({"image": ["a", "b"], "label": ["ok", "bad"]}),
    ...                          images={k: np.zeros((40, 40), np.uint8) for k in "ab"})
    >>> [p] = to_zip(ds, tempfile.mkdtemp() + "/set.zip", max_bytes=2**30, max_images=10)
    >>> zipfile.ZipFile(p).namelist()
    ['bad/b.png', 'ok/a.png']
    """
    names = file_names(ds)
    _warn_skipped(ds, names)
    order = sorted(names, key=lambda i: names[i])
    paths = ds._table.set_index("image")["path"]
    with tempfile.TemporaryDirectory(prefix="vislab-zip-") as tmp:
        xml = {}
        if ds.kind == "detection":
            boxes, table = _renamed_truth(ds, names)
            for p in write_voc_xml(boxes, tmp, images=table):
                xml[p.relative_to(tmp).as_posix()] = p
        members = []
        for image in order:
            name = names[image]
            if image in ds._sources:
                data = source_bytes(ds._sources[image])
                members.append(ArchiveMember(name, len(data), lambda d=data: d))
            else:
                p = Path(paths[image])
                members.append(ArchiveMember(name, p.stat().st_size, p.read_bytes))
            ann = PurePosixPath(name).with_suffix(".xml").as_posix()
            if ann in xml:
                members.append(
                    ArchiveMember(ann, xml[ann].stat().st_size, xml[ann].read_bytes, image=False)
                )
        return write_archives(members, path, max_bytes=max_bytes, max_images=max_images)


def to_coco(ds, folder) -> Path:
    """``annotations.json`` (COCO instances, every image listed) and ``images/``.

    Examples
    --------
    >>> import json, tempfile, numpy as np, pandas as pd
    >>> from vislab.easydl import Dataset
    >>> t = pd.DataFrame({"image": ["a"], "label": ["cat"], "x": [1.0], "y": [2.0],
    ...                   "w": [10.0], "h": [5.0]})
    >>> ds = Dataset.from_frames(t, images={"a": np.zeros((40, 40), np.uint8)})
    >>> p = to_coco(ds, tempfile.mkdtemp() + "/coco")
    >>> json.loads(p.read_text())["images"]
    [{'id': 1, 'file_name': 'a.png', 'width': 40, 'height': 40}]
    """
    _require_detection(ds, "COCO")
    folder = _new_folder(folder)
    names = file_names(ds)
    _warn_skipped(ds, names)
    _copy_images(ds, names, folder / "images")
    boxes, table = _renamed_truth(ds, names)
    images = table.assign(image_id=range(1, len(table) + 1))
    categories = pd.DataFrame({"category_id": range(1, len(ds.classes) + 1), "label": ds.classes})
    out = folder / "annotations.json"
    data = write_coco(boxes, images=images, categories=categories)
    out.write_text(json.dumps(data), encoding="utf-8")
    return out


def to_voc(ds, folder) -> Path:
    """Pascal VOC's layout: ``Annotations/*.xml`` and ``JPEGImages/*``.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from vislab.easydl import Dataset
    >>> t = pd.DataFrame({"image": ["a.png"], "label": ["cat"], "x": [1.0], "y": [2.0],
    ...                   "w": [10.0], "h": [5.0]})
    >>> ds = Dataset.from_frames(t, images={"a.png": np.zeros((40, 40), np.uint8)})
    >>> out = to_voc(ds, tempfile.mkdtemp() + "/voc")
    >>> sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*"))
    ['Annotations/a.xml', 'JPEGImages/a.png']
    """
    _require_detection(ds, "VOC")
    folder = _new_folder(folder)
    names = file_names(ds)
    _warn_skipped(ds, names)
    _copy_images(ds, names, folder / "JPEGImages")
    boxes, table = _renamed_truth(ds, names)
    write_voc_xml(boxes, folder / "Annotations", images=table)
    return folder


def to_yolo(ds, folder) -> Path:
    """Ultralytics' layout: ``images/``, ``labels/``, ``data.yaml`` and ``classes.txt``.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from vislab.easydl import Dataset
    >>> t = pd.DataFrame({"image": ["a.png"], "label": ["cat"], "x": [10.0], "y": [20.0],
    ...                   "w": [10.0], "h": [5.0]})
    >>> ds = Dataset.from_frames(t, images={"a.png": np.zeros((40, 40), np.uint8)})
    >>> out = to_yolo(ds, tempfile.mkdtemp() + "/yolo")
    >>> (out / "labels" / "a.txt").read_text()
    '0 0.375 0.5625 0.25 0.125\\n'
    """
    _require_detection(ds, "YOLO")
    folder = _new_folder(folder)
    names = file_names(ds)
    _warn_skipped(ds, names)
    _copy_images(ds, names, folder / "images")
    boxes, table = _renamed_truth(ds, names)
    sizes = {r.image: (r.width, r.height) for r in table.itertuples(index=False)}
    write_yolo(
        boxes, folder / "labels", image_size=sizes, classes=ds.classes, images=list(table["image"])
    )
    write_yolo_names(ds.classes, folder)
    return folder
