"""EasyDL's data rules (spec F2a, F2b, F9), checked locally before an upload or a training run.

:func:`check` (also :meth:`vislab.easydl.Dataset.check`) returns one row per finding:
``severity`` (``"error"``: EasyDL would refuse the data; ``"warning"``: it would take it, but
the model or its report will suffer), ``rule``, ``image`` (the file, or empty for a rule about
the whole dataset), ``label``, ``limit``, ``value`` and a ``message`` that says what to do.
:func:`rule_table` lists every rule with its limit and source.

Decisions on the spec's ambiguities:

* Sizes are "within 4 MB" of file (4 MiB, as Baidu counts), the longest side must be
  **< 4096** px, the shortest **> 30** px and longest / shortest **<= 3**: the training
  rules, stricter than the API's (>= 15 px), since the data is for training.
* Formats are judged by the file's content (its header) *and* its extension: both must be
  PNG, JPEG or BMP (``.png .jpg .jpeg .bmp``); a file whose extension names another format
  than its content is a warning.
* Detection labels need **20 boxes** (seed 000 counts occurrences); fewer than 100 images
  with a label is a warning (the report "has little reference value", F4), which also covers
  seed 001's reading of 20-100 *images*.
* Classification names allow ``[A-Za-z0-9_]``, detection names ``[A-Za-z0-9]`` (the seeds
  name no underscore for detection).
* Detection needs no minimum number of labels (one label, e.g. "cell", is EasyDL's own
  example); classification needs two classes.

Headers only are read (sizes come from the dataset's table); ``decode=True`` also decodes
every image to find files that are truncated or corrupt after a valid header.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from vislab.easydl.limits import (
    COLUMNS,
    EXTENSIONS,
    FORMATS,
    LIMITS,
    NAME_PATTERNS,
    RULES,
    archive_findings,
    finding,
    rule_table,
)
from vislab.errors import InvalidParameter

__all__ = ["check", "finding", "rule_table", "archive_findings", "RULES", "LIMITS"]

_ORDER = {r.name: i for i, r in enumerate(RULES)}
_EXT_FORMAT = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".bmp": "BMP",
    ".gif": "GIF",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


def _dataset_rules(ds, model_kind) -> list[dict]:
    out = []
    kind = ds.kind
    if model_kind is not None and model_kind != kind:
        out.append(
            finding(
                "kind",
                "error",
                f"a {kind} dataset cannot train a {model_kind} "
                f"model: EasyDL's dataset type must match the model type; build a "
                f"{model_kind} dataset",
                limit=model_kind,
                value=kind,
            )
        )
    n_classes = len(ds.classes)
    low = LIMITS["min_classes"] if kind == "classification" else 1
    what = "classes" if kind == "classification" else "labels"
    if n_classes < low:
        todo = (
            "add a folder of images for each outcome you want back"
            if kind == "classification"
            else "draw boxes and give them a label"
        )
        out.append(
            finding(
                "class_count",
                "error",
                f"{n_classes} {what}; EasyDL needs at least {low}: {todo}",
                limit=low,
                value=n_classes,
            )
        )
    if n_classes > LIMITS["max_classes"]:
        out.append(
            finding(
                "class_count",
                "error",
                f"{n_classes} {what}; EasyDL takes at most {LIMITS['max_classes']}",
                limit=LIMITS["max_classes"],
                value=n_classes,
            )
        )
    pattern = NAME_PATTERNS[kind]
    allowed = "letters, digits and _" if kind == "classification" else "letters and digits"
    for name in ds.classes:
        if not pattern.fullmatch(name):
            out.append(
                finding(
                    "class_name",
                    "error",
                    f"{what[:-1]} name {name!r}: EasyDL "
                    f"takes {allowed} only (no spaces, no Chinese); rename it",
                    label=name,
                    limit=pattern.pattern,
                    value=name,
                )
            )
    n = len(ds)
    if n > LIMITS["max_images"]:
        out.append(
            finding(
                "total_images",
                "error",
                f"{n} images; EasyDL takes at most 100,000 per model",
                limit=LIMITS["max_images"],
                value=n,
            )
        )
    counts = ds.counts()
    if kind == "classification":
        for r in counts.itertuples():
            if r.images < LIMITS["min_images_per_class"]:
                out.append(
                    finding(
                        "images_per_class",
                        "error",
                        f"class {r.label!r} has "
                        f"{r.images} images; EasyDL needs at least 20: add more",
                        label=r.label,
                        limit=20,
                        value=int(r.images),
                    )
                )
            elif r.images < LIMITS["recommended_images_per_class"]:
                out.append(
                    finding(
                        "images_per_class",
                        "warning",
                        f"class {r.label!r} has "
                        f"{r.images} images: under 100 the evaluation report has "
                        "little reference value; add more (and more again where "
                        "classes look alike)",
                        label=r.label,
                        limit=100,
                        value=int(r.images),
                    )
                )
        return out
    if n < LIMITS["min_detection_images"]:
        out.append(
            finding(
                "total_images",
                "error",
                f"{n} images; an EasyDL detector needs at least 4",
                limit=LIMITS["min_detection_images"],
                value=n,
            )
        )
    for r in counts.itertuples():
        if r.boxes < LIMITS["min_instances_per_label"]:
            out.append(
                finding(
                    "instances_per_label",
                    "error",
                    f"label {r.label!r} has "
                    f"{r.boxes} boxes; EasyDL needs at least 20: box more of it",
                    label=r.label,
                    limit=20,
                    value=int(r.boxes),
                )
            )
        if r.images < LIMITS["recommended_images_per_class"]:
            out.append(
                finding(
                    "images_per_label",
                    "warning",
                    f"label {r.label!r} is in "
                    f"{r.images} images: under 100 the evaluation report has "
                    "little reference value",
                    label=r.label,
                    limit=100,
                    value=int(r.images),
                )
            )
    return out


def _image_rules(ds) -> list[dict]:
    t = ds._table
    out = []
    images = t["image"].to_numpy(dtype=object)
    label = t["label"].to_numpy(dtype=object)
    error = t["error"].to_numpy(dtype=object)
    for i in np.flatnonzero(t["error"].notna().to_numpy()):
        out.append(
            finding(
                "unreadable",
                "error",
                f"{images[i]}: {error[i]}; replace or remove the file",
                image=images[i],
                label=label[i],
                value=error[i],
            )
        )
    ok = t["error"].isna().to_numpy()
    fmt = t["format"].where(t["format"].notna(), None).to_numpy(dtype=object)
    has_path = t["path"].notna().to_numpy()
    names = t["path"].where(t["path"].notna(), t["image"]).astype(str)
    ext = names.map(lambda p: PurePosixPath(p.replace("\\", "/")).suffix.lower()).to_numpy()
    # Vectorised: a 100,000-image dataset is checked in well under a second.
    bad_format = ok & pd.notna(fmt) & ~np.isin(fmt, FORMATS)
    bad_ext = ok & ~bad_format & has_path & ~np.isin(ext, EXTENSIONS)
    named = np.array([_EXT_FORMAT.get(e) for e in ext], dtype=object)
    mismatch = ok & ~bad_format & ~bad_ext & pd.notna(fmt) & pd.notna(named) & (named != fmt)
    for i in np.flatnonzero(bad_format):
        out.append(
            finding(
                "format",
                "error",
                f"{images[i]} is {fmt[i]}; EasyDL takes PNG, JPEG and BMP: convert it",
                image=images[i],
                label=label[i],
                limit="PNG/JPEG/BMP",
                value=fmt[i],
            )
        )
    for i in np.flatnonzero(bad_ext):
        out.append(
            finding(
                "format",
                "error",
                f"{images[i]}: the extension {ext[i] or '(none)'} is not .png .jpg .jpeg "
                ".bmp; rename it",
                image=images[i],
                label=label[i],
                limit="/".join(EXTENSIONS),
                value=ext[i],
            )
        )
    for i in np.flatnonzero(mismatch):
        out.append(
            finding(
                "extension",
                "warning",
                f"{images[i]} is {fmt[i]} but named {ext[i]}; rename it",
                image=images[i],
                label=label[i],
                limit=named[i],
                value=fmt[i],
            )
        )
    size = t["bytes"].to_numpy(dtype=float)
    w = t["width"].to_numpy(dtype=float)
    h = t["height"].to_numpy(dtype=float)
    short, long_ = np.fmin(w, h), np.fmax(w, h)
    checks = [
        (
            "file_size",
            size > LIMITS["max_file_bytes"],
            size,
            LIMITS["max_file_bytes"],
            "{v:.0f} bytes, more than EasyDL's 4 MiB: save it smaller (JPEG quality 90 or a "
            "smaller size)",
        ),
        (
            "min_side",
            short <= LIMITS["min_side"],
            short,
            LIMITS["min_side"],
            "shortest side {v:.0f} px; EasyDL needs more than 30 px: use a larger image",
        ),
        (
            "max_side",
            long_ >= LIMITS["max_side"],
            long_,
            LIMITS["max_side"],
            "longest side {v:.0f} px; EasyDL needs less than 4096 px: downscale it",
        ),
        (
            "aspect_ratio",
            long_ > LIMITS["max_aspect"] * short,
            long_ / short,
            LIMITS["max_aspect"],
            "aspect ratio {v:.2f}:1; EasyDL takes at most 3:1: crop it",
        ),
    ]
    for rule, bad, values, limit, text in checks:
        for i in np.flatnonzero(bad & ok):
            v = values[i]
            out.append(
                finding(
                    rule,
                    "error",
                    f"{images[i]}: " + text.format(v=v),
                    image=images[i],
                    label=label[i],
                    limit=limit,
                    value=round(float(v), 3),
                )
            )
    return out


def _box_rules(ds) -> list[dict]:
    out = []
    t, b = ds._table, ds._boxes
    boxed = set(b["image"])
    for image in t["image"][~t["image"].isin(boxed)]:
        out.append(
            finding(
                "no_boxes",
                "warning",
                f"{image} has no box: EasyDL trains on it as "
                "background, so every instance of every label in it must be "
                "boxed; box them or remove the image",
                image=image,
                value=0,
            )
        )
    size = t.set_index("image")[["width", "height"]]
    wh = size.reindex(b["image"]).to_numpy(dtype=float)
    x, y, w, h = (b[c].to_numpy(dtype=float) for c in ("x", "y", "w", "h"))
    empty = (w <= 0) | (h <= 0)
    outside = (x < 0) | (y < 0) | (x + w > wh[:, 0] + 0.5) | (y + h > wh[:, 1] + 0.5)
    for i in np.flatnonzero(empty | outside):
        why = "has no area" if empty[i] else "reaches outside the image"
        out.append(
            finding(
                "box",
                "warning",
                f"{b['image'][i]}: a {b['label'][i]!r} box "
                f"{why} ({x[i]:g}, {y[i]:g}, {w[i]:g}, {h[i]:g}); fix or remove it",
                image=b["image"][i],
                label=b["label"][i],
                value=[float(x[i]), float(y[i]), float(w[i]), float(h[i])],
            )
        )
    return out


def _duplicates(ds) -> list[dict]:
    # Only files of one size can be copies: hash those, not the whole dataset.
    t = ds._table
    readable = t["path"].notna() | t["image"].isin(ds._sources.keys())
    t = t[t["error"].isna() & t["bytes"].notna() & readable]
    groups = t[t["bytes"].duplicated(keep=False)]
    out = []
    by_hash: dict = {}
    for r in groups.itertuples(index=False):
        from vislab.easydl.probe import source_bytes

        data = source_bytes(ds._sources.get(r.image, r.path))
        by_hash.setdefault(hashlib.sha256(data).hexdigest(), []).append(r)
    for rows in by_hash.values():
        if len(rows) < 2:
            continue
        labels = sorted({str(r.label) for r in rows}) if ds.kind == "classification" else []
        clash = f", labelled {' and '.join(labels)}" if len(labels) > 1 else ""
        for r in rows[1:]:
            out.append(
                finding(
                    "duplicate",
                    "warning",
                    f"{r.image} is a copy of {rows[0].image}"
                    f"{clash}; keep one (a copy in both training and test data "
                    "inflates the report)",
                    image=r.image,
                    label=r.label if ds.kind == "classification" else None,
                    value=rows[0].image,
                )
            )
    return out


def _decode(ds) -> list[dict]:
    from vislab.errors import InvalidImage

    out = []
    t = ds._table
    for image in t.loc[t["error"].isna(), "image"]:
        try:
            ds.load(image)
        except InvalidImage as exc:
            out.append(
                finding(
                    "decode",
                    "error",
                    f"{image} does not decode ({exc}); replace it",
                    image=image,
                    value=str(exc),
                )
            )
    return out


def check(dataset, *, model_kind: str | None = None, decode: bool = False) -> pd.DataFrame:
    """Every EasyDL data rule a dataset breaks, one row per finding.

    Parameters
    ----------
    dataset : vislab.easydl.Dataset
    model_kind : {"classification", "detection"}, optional
        The kind of model the data is for: a different dataset kind is an error.
    decode : bool, default False
        Also decode every image (slow: a full read) to find corrupt data behind a valid
        header.

    Returns
    -------
    DataFrame
        ``severity, rule, image, label, limit, value, message``, errors first, then in the
        order of :data:`RULES`.  ``attrs["summary"]``: counts of ``errors``, ``warnings``,
        ``images`` and ``images_with_errors``.  An empty frame means EasyDL would take the
        data as it is.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from vislab.easydl import Dataset
    >>> t = pd.DataFrame({"image": [f"{c}{i}.png" for c in "ab" for i in range(20)],
    ...                   "label": ["ok"] * 20 + ["hole"] * 20})
    >>> px = {k: np.zeros((20, 40, 3), np.uint8) for k in t["image"]}
    >>> report = Dataset.from_frames(t, images=px).check(model_kind="detection")
    >>> report[["severity", "rule"]].value_counts(sort=False).to_dict()
    {('error', 'kind'): 1, ('error', 'min_side'): 40, ('warning', 'images_per_class'): 2}
    >>> report.attrs["summary"]
    {'errors': 41, 'warnings': 2, 'images': 40, 'images_with_errors': 40}
    """
    if model_kind is not None and model_kind not in ("classification", "detection"):
        raise InvalidParameter(
            f"model_kind must be 'classification' or 'detection', got {model_kind!r}"
        )
    rows = _dataset_rules(dataset, model_kind) + _image_rules(dataset)
    if dataset.kind == "detection":
        rows += _box_rules(dataset)
    rows += _duplicates(dataset)
    if decode:
        rows += _decode(dataset)
    rows += list(dataset._notes)
    report = pd.DataFrame(rows, columns=COLUMNS)
    if len(report):
        key = report["severity"].map({"error": 0, "warning": 1}).astype(int) * 1000 + report[
            "rule"
        ].map(_ORDER).fillna(len(_ORDER)).astype(int)
        report = report.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
    report = report.astype({"image": object, "label": object, "limit": object, "value": object})
    errors = report[report["severity"] == "error"]
    report.attrs["kind"] = "check"
    report.attrs["summary"] = {
        "errors": int(len(errors)),
        "warnings": int((report["severity"] == "warning").sum()),
        "images": len(dataset),
        "images_with_errors": int(
            errors["image"].dropna().drop_duplicates().isin(set(dataset.images)).sum()
        ),
    }
    return report
