"""EasyDL's call-data management (spec F8): review a published model's calls, retrain.

Off by default; :func:`log_calls` turns logging on per model (the log itself, SQLite under
``VISLAB_HOME``, is :mod:`vislab.engine.call_log`).  :func:`calls` returns the logged calls to
review, filtered by time, label and score, and :func:`to_dataset` turns reviewed labels or
boxes into a **new** dataset (the spec's recommendation) or adds them to one; train the next
version on it with ``train(..., base_version=)``.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from vislab.engine.call_log import call_images_root, log_calls, read_calls
from vislab.engine.training.store import check_model_name
from vislab.errors import InvalidParameter

__all__ = ["log_calls", "calls", "to_dataset"]


def _epoch(value, name: str) -> float | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidParameter(
            f"{name} must be a time (datetime, Timestamp or ISO text), got {value!r}", name=name
        ) from None
    if stamp.tzinfo is None:  # naive times are local wall-clock times, as the console shows
        stamp = stamp.tz_localize(datetime.datetime.now().astimezone().tzinfo)
    return stamp.timestamp()


def _score_range(score_between):
    if score_between is None:
        return None
    try:
        lo, hi = (float(v) for v in score_between)
    except (TypeError, ValueError):
        raise InvalidParameter(
            f"score_between must be (low, high), got {score_between!r}", name="score_between"
        ) from None
    if not lo <= hi:
        raise InvalidParameter(
            f"score_between must have low <= high, got {score_between!r}", name="score_between"
        )
    return lo, hi


def _rows(call_id, stamp, name, version, kind, sha, rel, results, root: Path) -> list[dict]:
    base = {
        "call": call_id,
        "time": stamp,
        "name": name,
        "version": version,
        "image": Path(rel).name,
        "path": str(root / rel),
        "sha256": sha,
    }
    if kind == "classification":
        top = results[0] if results else {}
        return [{**base, "label": top.get("name"), "score": top.get("score"), "results": results}]
    if not results:
        return [{**base, "label": None, "score": np.nan}]
    return [
        {
            **base,
            "label": r.get("name"),
            "score": r.get("score"),
            "x": r["location"]["left"],
            "y": r["location"]["top"],
            "w": r["location"]["width"],
            "h": r["location"]["height"],
        }
        for r in results
    ]


def calls(
    name: str,
    *,
    since=None,
    until=None,
    label=None,
    score_between=None,
    home=None,
) -> pd.DataFrame:
    """The logged calls of a model, to find the images it probably got wrong.

    Parameters
    ----------
    name : str
        The model.
    since, until : datetime, Timestamp or str, optional
        Calls at or after ``since`` and before ``until`` (naive times are local time).
    label : str or list of str, optional
        Keep the rows with this predicted label (classification: the top class; detection:
        each box's label).
    score_between : (float, float), optional
        Keep the rows whose score is in ``[low, high]`` (e.g. ``(0.3, 0.6)`` for unsure ones).
    home : path-like, optional
        The vislab home folder (default ``VISLAB_HOME``).

    Returns
    -------
    DataFrame
        Classification: one row per call (``call, time, name, version, image, path, sha256,
        label, score, results``: ``label``/``score`` are the top class, ``results`` every
        class returned).  Detection: one row per box (``x, y, w, h`` in pixels), a call
        with no box keeps one row with ``label`` None when no label or score filter is set.
        ``image`` is the stored image's file name, ``path`` where it is; times are UTC.

    Examples
    --------
    >>> import tempfile
    >>> home = tempfile.mkdtemp()
    >>> from vislab.engine.call_log import record
    >>> _ = log_calls("m", home=home)
    >>> _ = record("m", "V1", "classification", b"\\xff\\xd8a", [{"name": "ok", "score": 0.4}],
    ...            home=home)
    >>> df = calls("m", score_between=(0.3, 0.6), home=home)
    >>> df[["version", "label", "score"]].values.tolist()
    [['V1', 'ok', 0.4]]
    """
    check_model_name(name)
    lo_t, hi_t = _epoch(since, "since"), _epoch(until, "until")
    rng = _score_range(score_between)
    labels = None if label is None else ({label} if isinstance(label, str) else set(label))
    found = read_calls(name, since=lo_t, until=hi_t, home=home)
    root = call_images_root(home).parent
    rows = []
    for call_id, t, nm, version, kind, sha, rel, results in found:
        stamp = pd.Timestamp(t, unit="s", tz="UTC")
        for row in _rows(call_id, stamp, nm, version, kind, sha, rel, results, root):
            if labels is not None and row["label"] not in labels:
                continue
            if rng is not None and not (
                row["score"] is not None and rng[0] <= row["score"] <= rng[1]
            ):
                continue
            rows.append(row)
    columns = ["call", "time", "name", "version", "image", "path", "sha256", "label", "score"]
    df = pd.DataFrame(rows)
    for col in columns:
        if col not in df:
            df[col] = pd.Series(dtype=object)
    extra = [c for c in df.columns if c not in columns]
    return df[columns + extra]


def to_dataset(reviewed: pd.DataFrame, *, into=None, home=None, kind=None):
    """Reviewed calls -> a **new** dataset (or ``into`` one), to train the next version on.

    Parameters
    ----------
    reviewed : DataFrame
        ``image, label`` (classification) or ``image, label, x, y, w, h`` (detection), where
        ``image`` is a call's ``image`` from :func:`calls` (e.g. the frame itself with
        corrected labels, or ``BoxAnnotator(...).annotations`` over the calls' paths named by
        file name).
    into : vislab.easydl.Dataset, optional
        Add the reviewed images to this dataset (same-named classes merge) instead of making a
        new one.
    home : path-like, optional
        The vislab home folder the calls were logged under (default ``VISLAB_HOME``).
    kind : {"classification", "detection"}, optional
        Default: detection when ``reviewed`` has box columns.

    Returns
    -------
    vislab.easydl.Dataset

    Examples
    --------
    >>> import tempfile, io
    >>> from PIL import Image
    >>> home = tempfile.mkdtemp()
    >>> buf = io.BytesIO(); Image.new("RGB", (64, 48)).save(buf, "PNG")
    >>> from vislab.engine.call_log import record
    >>> _ = log_calls("m", home=home)
    >>> _ = record("m", "V1", "classification", buf.getvalue(), [{"name": "ok", "score": 0.4}],
    ...            home=home)
    >>> review = calls("m", home=home)[["image"]].assign(label="scratch")
    >>> to_dataset(review, home=home).classes
    ['scratch']
    """
    from vislab.easydl.dataset import Dataset

    if not isinstance(reviewed, pd.DataFrame) or not {"image", "label"} <= set(reviewed):
        raise InvalidParameter(
            "reviewed must be a frame with columns image and label (plus x, y, w, h for "
            "boxes), e.g. calls(...) with corrected labels",
            name="reviewed",
        )
    root = call_images_root(home)
    images = {}
    for ident in reviewed["image"].dropna().unique():
        path = root / str(ident)[:2] / str(ident)
        if Path(str(ident)).name != str(ident) or not path.is_file():
            raise InvalidParameter(
                f"{ident!r} is not a logged call image under {root}; use the image column "
                "of calls(...)",
                name="reviewed",
            )
        images[ident] = path
    columns = ["image", "label", *(c for c in ("x", "y", "w", "h") if c in reviewed)]
    truth = reviewed[columns].reset_index(drop=True)
    truth.attrs = dict(reviewed.attrs)
    new = Dataset.from_frames(truth, images, kind=kind)
    return new if into is None else into.merge(new)
