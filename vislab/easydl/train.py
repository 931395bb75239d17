"""Train an EasyDL model locally: every run is the next version, with its evaluation report.

:func:`train` is EasyDL's "train model" step (spec F3) on the local engine. It checks the data
with EasyDL's rules, holds out a stratified test split, trains on the rest, evaluates on the
held-out images (:class:`~vislab.easydl.report.EvaluationReport`) and writes the next version
(V1, V2...) atomically under ``VISLAB_HOME/easydl/<name>/``. What it trains:

* **classification** — a linear model (logistic regression) on frozen backbone features:
  ``algorithm="general"`` uses the embedding of the centred crop (trained on each image and
  its mirror image); ``algorithm="fine"`` (our counterpart of AutoDL Transfer for
  fine-grained classes) sees the whole image at 224 and 448 px, the 448 px last feature map
  pooled by a generalised mean so small details weigh in, and trains on the eight rotations
  and mirrorings of each image (:mod:`vislab.engine.training.features`). ``other_class=True`` adds the class ``"other"``
  (:mod:`vislab.engine.training.classifier` says how it is learned).
* **detection** — a CenterNet-style head (centre heatmaps, offsets, sizes; NMS) on frozen
  stride-8/16/32 feature maps of an input scaled to the objects' size, and beside it a ridge
  density head whose map sums to the count (:meth:`ModelVersion.count`).

What a version keeps: ``weights.npz`` and ``meta.json`` (dataset content hash, classes,
parameters, metrics, timings, recommended threshold), ``dataset.json`` (each image's
identifier, label or boxes, source path and split), ``evaluation.json`` (the held-out truth
and predictions the report is computed from), for classification ``features.npz`` (the
features of every image, so a later version built on this one does not embed them again) and
``images/`` (a copy of every image, so a later version can retrain on them when the
caller's files are gone).

``base_version="V1"`` trains on V1's data plus the new dataset (EasyDL's iteration, F5):
V1's images keep their train/test split, the new images are split by ``test_size`` (all go
to training when there are too few to split), and an image given again (same identifier,
same bytes) takes its new label and place instead of being counted twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from vislab.easydl.report import EvaluationReport
from vislab.easydl.versions import ModelVersion
from vislab.engine.training import features as feat
from vislab.engine.training import grid
from vislab.engine.training.classifier import fit_classifier
from vislab.engine.training.other_pool import other_pool_images
from vislab.engine.training.store import ModelStore, check_model_name
from vislab.errors import InvalidParameter, VislabError, user_stacklevel

__all__ = ["train", "TrainingRefused", "ALGORITHMS"]

#: Algorithms per model kind.
ALGORITHMS = {"classification": ("general", "fine"), "detection": ("general",)}


class TrainingRefused(VislabError, ValueError):
    """The data cannot train the model asked for; the message says what to add.

    Parameters
    ----------
    message : str
        What is wrong and what to add or change.
    findings : DataFrame, optional
        The rule findings behind it.

    Attributes
    ----------
    findings : DataFrame
        The rule findings (``severity, rule, image, label, limit, value, message``) that
        refused it.

    Examples
    --------
    >>> err = TrainingRefused("cannot train 'm': add images", findings=pd.DataFrame())
    >>> str(err), len(err.findings)
    ("cannot train 'm': add images", 0)
    """

    def __init__(self, message: str, *, findings: pd.DataFrame | None = None):
        super().__init__(message)
        self.findings = pd.DataFrame() if findings is None else findings


def _refuse(name: str, findings: pd.DataFrame) -> None:
    errors = findings[findings["severity"] == "error"]
    if not len(errors):
        return
    shown = "; ".join(dict.fromkeys(errors["message"].astype(str)))
    if len(shown) > 900:
        shown = shown[:900] + " ..."
    raise TrainingRefused(
        f"cannot train {name!r}: the data breaks {len(errors)} of EasyDL's rules — {shown}",
        findings=errors.reset_index(drop=True),
    )


def _check_data(name, dataset, kind, *, other_class: bool) -> None:
    findings = dataset.check(model_kind=kind)
    if other_class and kind == "classification" and len(dataset.classes) == 1:
        # EasyDL's own advice for a single positive class is the "other" class: with it the
        # model has two classes, so the two-class rule does not refuse it.
        findings = findings[findings["rule"] != "class_count"]
    _refuse(name, findings)
    if kind == "detection" and not len(dataset.truth()):
        raise TrainingRefused(
            f"cannot train {name!r}: the dataset has no boxes; draw a box "
            "around every object and give it a label"
        )


# --------------------------------------------------------------------------- data records
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


# --------------------------------------------------------------------------- classification
def _labels(ds) -> np.ndarray:
    t = ds.truth()
    return t.set_index("image").loc[ds.images, "label"].astype(str).to_numpy()


def _features(ds, recipe, views, reuse, progress, desc):
    """``(len(views), N, D)`` features of a dataset's images, reusing stored ones."""
    todo = [i for i in ds.images if i not in reuse]
    fresh = feat.image_features(
        todo, recipe=recipe, load=ds.load, views=views, progress=progress, desc=desc
    )
    fresh = fresh.reshape(len(views), len(todo), -1)
    rows = {i: fresh[:, k] for k, i in enumerate(todo)}
    x = np.stack(
        [
            rows[i] if i in rows else np.asarray(reuse[i], np.float32).reshape(len(views), -1)
            for i in ds.images
        ],
        axis=1,
    )
    return x, len(todo)


def _train_classifier(
    train_ds, test_ds, *, recipe, other_class, seed, progress, stored, base_ids, timings
):
    t0 = time.perf_counter()
    views = feat.TRAIN_VIEWS[recipe]
    same = stored.get("recipe") == recipe
    reuse_train = {i: v for i, v in stored.get("train", {}).items() if same and i in base_ids}
    reuse_test = {i: v for i, v in stored.get("test", {}).items() if same and i in base_ids}
    x_train, n1 = _features(train_ds, recipe, views, reuse_train, progress, "embedding")
    x_test, n2 = _features(test_ds, recipe, (0,), reuse_test, progress, "embedding held-out")
    timings["embedding_s"] = time.perf_counter() - t0
    timings["embedded_images"] = n1 + n2
    t1 = time.perf_counter()
    classes = list(train_ds.classes)
    y = pd.Index(classes).get_indexer(_labels(train_ds))
    pool_x = None
    if other_class:
        pool = other_pool_images(seed=seed)
        pool_x = feat.image_features(pool, recipe=recipe, progress=progress, desc="'other' pool")
    clf = fit_classifier(
        x_train.reshape(-1, x_train.shape[-1]),
        np.tile(y, len(views)),
        classes,
        other_x=pool_x,
        groups=np.tile(np.arange(len(y)), len(views)),
        seed=seed,
    )
    timings["training_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    train_counts = pd.Series(_labels(train_ds)).value_counts().reindex(classes, fill_value=0)
    report = EvaluationReport.of_classifier(
        test_ds.truth(),
        test_ds.images,
        clf.predict_proba(x_test[0]),
        classes=clf.classes,
        train_per_class={c: int(n) for c, n in train_counts.items()},
    )
    timings["evaluation_s"] = time.perf_counter() - t2
    head = clf.params() | {"info": clf.info}
    buf = io.BytesIO()
    np.savez(buf, train=x_train.astype(np.float16), test=x_test[0].astype(np.float16))
    return clf.arrays(), clf.classes, head, report, {"features.npz": buf.getvalue()}, None


# --------------------------------------------------------------------------- detection
def _train_detector(train_ds, test_ds, *, seed, epochs, progress, timings):
    from vislab.engine.training.fit_detector import train_detector

    classes = list(train_ds.classes)
    truth_train = train_ds.truth()
    frame = train_ds.frame.drop_duplicates("image")
    sides = np.maximum(frame["width"].to_numpy(float), frame["height"].to_numpy(float))
    box_sides = np.sqrt(truth_train["w"].to_numpy(float) * truth_train["h"].to_numpy(float))
    size = grid.choose_input_size(sides[np.isfinite(sides)], box_sides)
    by_image = dict(tuple(truth_train.groupby("image", sort=False)))
    label_index = pd.Index(classes)

    def load(image):
        g = by_image.get(image)
        if g is None:
            return train_ds.load(image), np.zeros((0, 4)), np.zeros(0, int)
        boxes = g[["x", "y", "w", "h"]].to_numpy(float)
        return train_ds.load(image), boxes, label_index.get_indexer(g["label"])

    rt, info = train_detector(
        list(train_ds.images),
        load,
        n_labels=len(classes),
        size=size,
        seed=seed,
        epochs=epochs,
        progress=progress,
    )
    timings["embedding_s"] = info["features_s"]
    timings["embedded_images"] = 2 * len(train_ds.images)
    timings["training_s"] = info["training_s"]
    t2 = time.perf_counter()
    analyses = rt.analyse_many(list(test_ds.images), load=test_ds.load, progress=progress)
    train_boxes = truth_train.groupby("label").size().reindex(classes, fill_value=0)
    report = EvaluationReport.of_detector(
        test_ds.truth(),
        test_ds.images,
        analyses,
        classes=classes,
        train_per_class={c: int(n) for c, n in train_boxes.items()},
        n_images=len(train_ds.images) + len(test_ds.images),
    )
    threshold = report.recommended_threshold
    timings["evaluation_s"] = time.perf_counter() - t2
    head = rt.params() | {k: info[k] for k in ("epochs", "rows", "density")}
    return rt.arrays(), classes, head, report, {}, threshold


# --------------------------------------------------------------------------- the front door
def train(
    dataset,
    *,
    name: str,
    base_version: str | None = None,
    other_class: bool = False,
    algorithm: str = "general",
    test_size=0.2,
    seed: int = 0,
    epochs: int | None = None,
    progress: bool = True,
    home=None,
) -> ModelVersion:
    """Train the next version of model ``name`` on ``dataset`` and evaluate it.

    Parameters
    ----------
    dataset : vislab.easydl.Dataset
        Classification or detection data; its kind is the model's kind. Images that cannot
        be read are left out with a warning; any other broken EasyDL rule
        (:meth:`~vislab.easydl.Dataset.check` errors) refuses the training.
    name : str
        Model name (letters, digits, ``_``, ``-``). A model keeps one kind.
    base_version : str, optional
        Build on an earlier version of ``name`` (``"V1"``): its data plus ``dataset``.
    other_class : bool, default False
        Classification: add the class ``"other"`` for images unrelated to the training set
        (allows a single positive class, as EasyDL advises).
    algorithm : {"general", "fine"}, default "general"
        Classification: ``"fine"`` for fine-grained classes (two scales and eight views of
        each training image: about 20 times the backbone time of ``"general"`` in training,
        5 times in prediction). Detection has ``"general"``.
    test_size : float or int, default 0.2
        Held-out share (or number) of images, stratified by class.
    seed : int, default 0
        Same data, same seed: the same split and the same model.
    epochs : int, optional
        Detection: passes of the head over the training cells (default: about 1000 steps).
    progress : bool, default True
        Progress bars for embedding and training, and one line with the time it took.
    home : path-like, optional
        Another vislab home folder.

    Returns
    -------
    ModelVersion

    Raises
    ------
    TrainingRefused
        The data cannot train the model (one class, no boxes, too few images per class, a
        kind mismatch, bad class names...): the message says what to add or change.
    vislab.errors.InvalidParameter
        A bad name, algorithm or base version.

    Examples
    --------
    >>> import tempfile
    >>> from vislab.datasets.samples import defects
    >>> v = train(defects(n_per_class=20, size=64), name="doc_defects",
    ...           home=tempfile.mkdtemp(), progress=False)  # doctest: +ELLIPSIS
    doc_defects V1: classification, 4 classes, 64 training / 16 held-out images, ...
    >>> v.report.headline[0], v.classes
    ('accuracy', ['hole', 'ok', 'scratch', 'stain'])
    """
    started = time.perf_counter()
    check_model_name(name)
    kind = getattr(dataset, "kind", None)
    if kind not in ALGORITHMS or not hasattr(dataset, "check"):
        raise InvalidParameter(
            f"train needs a vislab.easydl.Dataset, got {type(dataset).__name__}", name="dataset"
        )
    if algorithm not in ALGORITHMS[kind]:
        raise InvalidParameter(
            f"algorithm for {kind} is one of {ALGORITHMS[kind]}, got {algorithm!r}",
            name="algorithm",
        )
    if other_class and kind != "classification":
        raise InvalidParameter("other_class is a classification option", name="other_class")
    store = ModelStore(home)
    existing = store.versions(name)
    if existing:
        had = store.load(name, existing[-1]).kind
        if had != kind:
            raise TrainingRefused(
                f"model {name!r} is a {had} model; a {kind} dataset cannot "
                f"train it (EasyDL's dataset type must match the model "
                f"type): train it into a new model name"
            )
    usable = dataset.usable()
    dropped = sorted(set(dataset.images) - set(usable.images))
    if dropped:
        warnings.warn(
            f"{len(dropped)} image(s) cannot be read and are left out of training: {dropped[:3]}",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    stored, base_ids = {}, set()
    if base_version is not None:
        if base_version not in existing:
            raise InvalidParameter(
                f"{name} has no version {base_version!r} to build on "
                f"(it has {', '.join(existing) or 'none'})",
                name="base_version",
            )
        base_train, base_test, rec, stored = _base_data(store, name, base_version, kind)
        train_ds, test_ds, base_ids = _combine(
            usable, base_train, base_test, rec, test_size=test_size, seed=seed
        )
        _check_data(name, train_ds.merge(test_ds), kind, other_class=other_class)
    else:
        _check_data(name, usable, kind, other_class=other_class)
        train_ds, test_ds = usable.split(test_size=test_size, seed=seed)
    timings: dict = {}
    if kind == "classification":
        arrays, classes, head, report, files, threshold = _train_classifier(
            train_ds,
            test_ds,
            recipe=algorithm,
            other_class=other_class,
            seed=seed,
            progress=progress,
            stored=stored,
            base_ids=base_ids,
            timings=timings,
        )
    else:
        arrays, classes, head, report, files, threshold = _train_detector(
            train_ds, test_ds, seed=seed, epochs=epochs, progress=progress, timings=timings
        )
    record, copies = _record(train_ds, test_ds, kind)
    files = dict(files) | copies
    files["dataset.json"] = json.dumps(record)
    files["evaluation.json"] = json.dumps(report.record())
    metric, value = report.headline
    timings["total_s"] = time.perf_counter() - started
    meta = {
        "kind": kind,
        "classes": classes,
        "recipe": algorithm if kind == "classification" else "grid",
        "head": head,
        "recommended_threshold": threshold,
        "headline": {"name": metric, "value": float(value)},
        "metrics": {k: float(v) for k, v in report.metrics.items()},
        "dataset": {
            "hash": train_ds.merge(test_ds).content_hash(),
            "images": len(train_ds.images) + len(test_ds.images),
            "train_images": len(train_ds.images),
            "test_images": len(test_ds.images),
            "per_class": report.train_per_class,
            "left_out_unreadable": dropped,
        },
        "parameters": {
            "algorithm": algorithm,
            "other_class": bool(other_class),
            "base_version": base_version,
            "test_size": test_size,
            "seed": seed,
            "epochs": epochs,
        },
        "timings": {k: round(float(v), 3) for k, v in timings.items()},
        "market_ready": report.market_ready,
    }
    model = store.save(name, arrays, meta, files=files)
    version = ModelVersion(model, store)
    version._report = report
    print(
        f"{name} {model.version}: {kind}, {len(classes)} classes, {len(train_ds.images)} "
        f"training / {len(test_ds.images)} held-out images, {timings['total_s']:.1f} s; "
        f"{metric} {value:.3f}"
    )
    return version
