"""Checks shared by the metric functions: typed errors that name the column at fault.

Every metric in :mod:`vislab.evaluate` starts from frames a person built by hand, read from a
file or got from a service, so the first thing each one does is look at them.  Problems that
make a number meaningless raise :class:`~vislab.errors.InvalidFrame` (with ``.column`` set);
problems that a person may have meant (scores on a 0-100 scale, labels the truth never uses)
only warn, because the numbers are still well defined.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame
from vislab.frames import require_columns

__all__ = [
    "ScoreScaleWarning",
    "UnknownLabelWarning",
    "plain",
    "check_order",
    "prediction_rows",
    "check_boxes",
    "check_scores",
    "check_truth_ids",
    "report_unknown_labels",
    "ordered_unique",
    "positions",
]

BOX_COLUMNS = ("x", "y", "w", "h")


class ScoreScaleWarning(UserWarning):
    """Scores fall outside [0, 1]: the service may use another scale (e.g. 0-100).

    Only a warning: every metric needs the order of the scores, not their scale, so the
    numbers stay right; thresholds are then on the service's scale.

    Examples
    --------
    >>> import warnings
    >>> from vislab.evaluate import threshold_sweep
    >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
    >>> pred = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"],
    ...                      "score": [87.0, 12.5]})       # a service that reports percent
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     sweep = threshold_sweep(truth, pred)
    >>> [w.category.__name__ for w in caught]
    ['ScoreScaleWarning']
    >>> sweep.at(50.0)[["tp", "fn"]].tolist()               # threshold 50 on that scale
    [1.0, 1.0]
    """


class UnknownLabelWarning(UserWarning):
    """Predictions use labels that never occur in the truth (they can only be false positives).

    Usually a spelling or a vocabulary mismatch (map the service's labels with
    :func:`vislab.evaluate.map_labels`); the numbers are still well defined.

    Examples
    --------
    >>> import warnings
    >>> from vislab.evaluate import threshold_sweep
    >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
    >>> pred = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dgo"], "score": [0.9, 0.8]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     sweep = threshold_sweep(truth, pred)
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    predictions use 1 label(s) that never occur in the truth: 'dgo'; they can only be false
    positives (check spelling or label mapping)
    >>> sweep.at(0.5)[["tp", "fp"]].tolist()
    [1.0, 1.0]
    """


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """The same frame without ``attrs`` (no copy of the data).

    pandas copies a frame's ``attrs`` deeply on every column access; frames read from COCO
    files carry image and category tables there, which would cost more than the evaluation.
    """
    return pd.DataFrame(df, copy=False) if df.attrs else df


def check_order(truth, pred, *, call: str, pred_name: str = "pred") -> None:
    """Refuse arguments given in the old order (predictions first): truth comes first.

    A truth frame has no scores and a result frame has them, so a ``score`` column only on
    the truth side means the two were swapped.
    """
    if (
        isinstance(truth, pd.DataFrame)
        and isinstance(pred, pd.DataFrame)
        and "score" in truth.columns
        and "score" not in pred.columns
    ):
        raise InvalidFrame(
            f"the truth frame has a 'score' column and the {pred_name} frame has none: the "
            f"arguments look swapped; truth comes first, as in scikit-learn: {call}",
            column="score",
        )


def prediction_rows(
    pred: pd.DataFrame, columns: Sequence[str], *, name: str = "pred", key: str | None = None
):
    """Split a result frame into usable rows and the identifiers of failed images.

    Rows with an ``error_code`` are failed images: they carry no predictions, so a failed
    image counts as an image for which the service predicted nothing.  Rows without an error
    whose value columns are all empty are images the service answered with nothing; they are
    dropped too, and are not failures.  A frame of failed images only may lack the value
    columns altogether (there is no value to hold): it gives no usable row.

    Returns
    -------
    ok : DataFrame
        Rows without error (always with ``columns``).
    failed : list
        Identifiers of failed images (each once, in order of appearance).
    """
    if not isinstance(pred, pd.DataFrame):
        raise InvalidFrame(f"{name} must be a pandas DataFrame, got {type(pred).__name__}")
    key = key or columns[0]
    require_columns(pred, [key], name=name)
    pred = plain(pred)
    missing = [c for c in columns if c not in pred.columns]
    if missing:
        errors = pred["error_code"].notna() if "error_code" in pred.columns else None
        if errors is None or not errors.all():
            require_columns(pred, columns, name=name)  # raises, naming the first missing one
        failed = list(dict.fromkeys(pred[key].tolist()))
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}), failed
    # A row with no error and every value empty is how result frames keep an image the
    # service answered with nothing (vislab.frames): that image simply has no predictions.
    values = [c for c in columns if c != key]
    empty = pred[values].isna().all(axis=1).to_numpy().copy()
    if "error_code" in pred.columns:
        empty &= pred["error_code"].isna().to_numpy()
    if empty.any():
        pred = pred.loc[~empty]
    if "error_code" in pred.columns:
        bad = pred["error_code"].notna().to_numpy()
        if bad.any():
            failed = list(dict.fromkeys(pred.loc[bad, key].tolist()))
            ok = pred.loc[~bad]
            # An image may have failed in one row and succeeded in another (e.g. retried);
            # only images with no successful row are reported as failed.
            seen = set(ok[key].tolist())
            return ok, [f for f in failed if f not in seen]
    return pred, []


def _numeric(df: pd.DataFrame, col: str, name: str) -> np.ndarray:
    values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    raw_missing = df[col].isna().to_numpy()
    if (np.isnan(values) & ~raw_missing).any():
        rows = list(df.index[np.isnan(values) & ~raw_missing][:5])
        raise InvalidFrame(
            f"{name} column {col!r} holds non-numeric values at rows {rows}", column=col
        )
    return values


def check_boxes(df: pd.DataFrame, *, name: str) -> np.ndarray:
    """Return the ``x, y, w, h`` columns as an (N, 4) float array, refusing NaN and negatives.

    Examples
    --------
    >>> check_boxes(pd.DataFrame({"x": [0], "y": [0], "w": [-1], "h": [2]}), name="truth")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidFrame: truth column 'w' holds negative box sizes at rows [0]
    """
    out = np.empty((len(df), 4), dtype=float)
    for j, col in enumerate(BOX_COLUMNS):
        values = _numeric(df, col, name)
        nan = np.isnan(values)
        if nan.any():
            raise InvalidFrame(
                f"{name} column {col!r} holds NaN at rows {list(df.index[nan][:5])}", column=col
            )
        if col in ("w", "h") and (values < 0).any():
            raise InvalidFrame(
                f"{name} column {col!r} holds negative box sizes at rows "
                f"{list(df.index[values < 0][:5])}",
                column=col,
            )
        out[:, j] = values
    return out


def check_scores(df: pd.DataFrame, *, name: str = "pred", column: str = "score") -> np.ndarray:
    """Return scores as float, refusing NaN and warning when they leave [0, 1].

    Scores outside [0, 1] are allowed (the metrics only need an order), but they usually mean a
    service that reports percentages, so the reader is told.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     s = check_scores(pd.DataFrame({"score": [87.0, 12.5]}))
    >>> w[0].category.__name__
    'ScoreScaleWarning'
    """
    values = _numeric(df, column, name)
    nan = np.isnan(values)
    if nan.any():
        raise InvalidFrame(
            f"{name} column {column!r} holds NaN at rows {list(df.index[nan][:5])}; failed "
            "images belong in rows with error_code set",
            column=column,
        )
    if len(values) and (values.min() < 0 or values.max() > 1):
        warnings.warn(
            f"{name} column {column!r} has values in [{values.min():g}, {values.max():g}], "
            "outside [0, 1]; thresholds below are on that scale (divide by 100 for a "
            "percentage scale)",
            ScoreScaleWarning,
            stacklevel=3,
        )
    return values


def check_truth_ids(truth: pd.DataFrame) -> np.ndarray | None:
    """Return the truth ``id`` column, refusing duplicates (a match must name one object).

    Examples
    --------
    >>> check_truth_ids(pd.DataFrame({"id": [1, 1]}))
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidFrame: truth column 'id' has duplicate values [1]
    """
    if "id" not in truth.columns:
        return None
    ids = truth["id"]
    if ids.isna().any():
        raise InvalidFrame("truth column 'id' holds missing values", column="id")
    dup = ids.duplicated()
    if dup.any():
        raise InvalidFrame(
            f"truth column 'id' has duplicate values {ids[dup].unique()[:5].tolist()}", column="id"
        )
    return ids.to_numpy()


def report_unknown_labels(pred_labels, truth_labels, *, what: str = "predictions") -> list:
    """Warn about labels predicted but absent from the truth; return them.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     report_unknown_labels(["cat", "dgo"], ["cat", "dog"])
    ['dgo']
    """
    # "(other)" and "(no prediction)" are answers, not labels (vislab.evaluate.classification).
    known = set(_unique(truth_labels)) | {"(other)", "(no prediction)"}
    unknown = [x for x in ordered_unique(pred_labels) if x not in known]
    if unknown:
        shown = ", ".join(map(repr, unknown[:10])) + (" ..." if len(unknown) > 10 else "")
        warnings.warn(
            f"{what} use {len(unknown)} label(s) that never occur in the truth: {shown}; "
            "they can only be false positives (check spelling or label mapping)",
            UnknownLabelWarning,
            stacklevel=3,
        )
    return unknown


def _unique(values) -> np.ndarray:
    """Distinct values in order of first appearance (vectorised; no Python loop over rows)."""
    if isinstance(values, (pd.Series, pd.Index)):
        # Distinct values in the column's own dtype first (Arrow strings, integer ids): only
        # the few distinct ones become Python objects.
        values = np.asarray(pd.unique(values), dtype=object)
    elif not isinstance(values, np.ndarray):
        values = np.asarray(list(values), dtype=object)
    return pd.unique(pd.Series(values.astype(object, copy=False), dtype=object)).astype(object)


def ordered_unique(values) -> list:
    """Unique values, sorted when they sort, else in order of first appearance.

    Examples
    --------
    >>> ordered_unique(["b", "a", "b"])
    ['a', 'b']
    """
    uniq = list(_unique(values))
    try:
        return sorted(uniq)
    except TypeError:
        return uniq


def positions(values, order: pd.Index) -> np.ndarray:
    """Position of each value in ``order`` (-1 where it is not there), for a column of rows.

    The column is factorized first in its own dtype (fast for integer ids and pandas' Arrow
    strings) and only its few distinct values are looked up, as Python objects when ``order``
    holds objects: a row count of Python objects is never built or hashed (for a million
    Arrow strings that was 0.2-0.4 s a lookup).  Values compare as Python objects do, and a
    missing value finds a missing entry of ``order``.

    Examples
    --------
    >>> positions(pd.Series(["b", "a", "c", "b"]), pd.Index(["a", "b"], dtype=object)).tolist()
    [1, 0, -1, 1]
    """
    values = (
        values if isinstance(values, (pd.Series, pd.Index)) else pd.Series(values, dtype=object)
    )
    if values.dtype == object and values.isna().any():
        # factorize folds None and NaN into one missing value; an object lookup tells them apart.
        return order.get_indexer(pd.Index(values.to_numpy(dtype=object), dtype=object))
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    if not len(codes):
        return np.zeros(0, dtype=np.intp)
    uniq = pd.Index(np.asarray(uniq, dtype=object) if order.dtype == object else uniq)
    return order.get_indexer(uniq)[codes]
