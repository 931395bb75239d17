"""The data a training run keeps and builds on: records, image copies, earlier versions.

:func:`vislab.easydl.train` writes with every version a ``dataset.json`` (each image's
identifier, split, label or boxes, source path and SHA-256) and a copy of every image
(:func:`_record`); ``base_version=`` reads them back (:func:`_base_data`) and merges them with
the new images (:func:`_combine`, EasyDL's iteration, spec F5).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from vislab.easydl.errors import TrainingRefused
from vislab.engine.training.store import ModelStore
from vislab.errors import VislabError

__all__: list[str] = []  # internal to vislab.easydl.train


def _source_path(dataset, image) -> str | None:
    src = dataset.source(image)
    return str(src) if isinstance(src, (str, Path)) else None


def _digest(dataset, image) -> str:
    """sha256 of an image's file bytes (or of an in-memory array's pixels)."""
    src = dataset.source(image)
    h = hashlib.sha256()
    if isinstance(src, (str, Path)):
        with open(src, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    elif isinstance(src, (bytes, bytearray, memoryview)):
        h.update(bytes(src))
    else:
        pixels = np.ascontiguousarray(np.asarray(src))
        h.update(str(pixels.shape).encode() + pixels.tobytes())
    return h.hexdigest()


def _record(train_ds, test_ds, kind) -> tuple[dict, dict]:
    """``dataset.json`` and the image copies kept with the version."""
    rows, files = [], {}
    for split, ds in (("train", train_ds), ("test", test_ds)):
        truth = ds.truth()
        by_image = truth.groupby("image", sort=False)
        for image in ds.images:
            row = {
                "image": image,
                "split": split,
                "path": _source_path(ds, image),
                "sha256": _digest(ds, image),
            }
            if kind == "classification":
                row["label"] = str(truth.loc[truth["image"] == image, "label"].iloc[0])
            else:
                boxes = by_image.get_group(image) if image in by_image.groups else truth.iloc[:0]
                row["boxes"] = [
                    [str(b.label), float(b.x), float(b.y), float(b.w), float(b.h)]
                    for b in boxes.itertuples()
                ]
            # A later version retrains on these images, and the caller's files may be gone
            # by then (a sample dataset's temporary folder, pixels held in memory): the
            # version keeps a copy of every image, as EasyDL keeps its dataset versions.
            data, ext = _image_bytes(ds, image)
            row["stored"] = fname = f"images/{len(files):05d}{ext}"
            files[fname] = data
            rows.append(row)
    return {"kind": kind, "classes": list(train_ds.classes), "images": rows}, files


def _image_bytes(ds, image) -> tuple[bytes, str]:
    """An image's bytes to keep with a version and the extension its copy is named with
    (EasyDL's rules read the format from the name)."""
    from PIL import Image

    src = ds.source(image)
    data = None
    if isinstance(src, (bytes, bytearray)):
        data = bytes(src)
    elif isinstance(src, (str, Path)) and Path(src).is_file():
        data = Path(src).read_bytes()
    if data is not None:
        try:
            with Image.open(io.BytesIO(data)) as im:
                ext = _EXTENSIONS.get(im.format or "")
        except Exception:  # noqa: BLE001 - an unreadable file is kept as PNG pixels below
            ext = None
        if ext:
            return data, ext
    buf = io.BytesIO()
    Image.fromarray(ds.load(image)).save(buf, format="PNG")
    return buf.getvalue(), ".png"


#: File extensions of the image formats EasyDL accepts.
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp"}


def _base_data(store: ModelStore, name: str, base_version: str, kind: str):
    """The earlier version's train and test datasets and its stored features (by image)."""
    from vislab.easydl import Dataset

    base = store.load(name, base_version)
    if base.kind != kind:
        raise TrainingRefused(
            f"cannot build on {name} {base_version}: it is a {base.kind} "
            f"model and the new data is {kind}"
        )
    raw = store.read_file(name, base.version, "dataset.json")
    if raw is None:
        raise TrainingRefused(f"{name} {base_version} keeps no record of its data")
    rec = json.loads(raw)
    parts = {}
    for split in ("train", "test"):
        rows = [r for r in rec["images"] if r["split"] == split]
        images = {}
        for r in rows:
            stored = r.get("stored")
            images[r["image"]] = str(base.folder / stored) if stored else r["path"]
        if kind == "classification":
            truth = pd.DataFrame(
                {"image": [r["image"] for r in rows], "label": [r["label"] for r in rows]}
            )
        else:
            truth = pd.DataFrame(
                [(r["image"], *b) for r in rows for b in r["boxes"]],
                columns=["image", "label", "x", "y", "w", "h"],
            )
            truth.attrs["images"] = {"image": [r["image"] for r in rows]}
        missing = [k for k, v in images.items() if v is None or not Path(v).is_file()]
        if missing:
            raise TrainingRefused(
                f"{name} {base_version}: {len(missing)} of its images are gone (e.g. {missing[:3]})"
            )
        parts[split] = (
            Dataset.from_frames(truth, images=images, kind=kind, classes=rec["classes"])
            if rows
            else None
        )
    stored = {}
    raw = store.read_file(name, base.version, "features.npz")
    if raw is not None and kind == "classification":
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            ids = {s: [r["image"] for r in rec["images"] if r["split"] == s] for s in parts}
            stored = {
                "recipe": base.meta.get("recipe"),
                "train": {i: data["train"][:, k] for k, i in enumerate(ids["train"])},
                "test": dict(zip(ids["test"], data["test"], strict=True)),
            }
    return parts["train"], parts["test"], rec, stored


def _combine(dataset, base_train, base_test, rec, *, test_size, seed):
    """V(n)'s splits plus the new images; an image given again replaces its old record."""
    new = set(dataset.images)
    again = {
        r["image"]
        for r in rec["images"]
        if r["image"] in new and r.get("sha256") == _digest(dataset, r["image"])
    }

    def keep(ds):
        if ds is None:
            return None
        left = [i for i in ds.images if i not in again]
        return ds.subset(left) if left else None

    base_train, base_test = keep(base_train), keep(base_test)
    try:
        new_train, new_test = dataset.split(test_size=test_size, seed=seed)
    except VislabError:  # too few new images to split: they all train
        new_train, new_test = dataset, None
    train_ds = new_train if base_train is None else base_train.merge(new_train)
    if base_test is None:
        test_ds = new_test
    else:
        test_ds = base_test if new_test is None else base_test.merge(new_test)
    if test_ds is None:
        raise TrainingRefused("no images are left to test the model on; add images")
    return (
        train_ds,
        test_ds,
        {i for i in (base_train.images if base_train else [])}
        | {i for i in (base_test.images if base_test else [])},
    )
