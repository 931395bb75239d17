"""A service's labels in your own categories: :func:`map_labels`.

A general recognition service answers in its own vocabulary — ImageNet's "tiger cat",
"Egyptian Mau", "espresso" — while your truth says "cat" and "coffee".  Before any metric can
compare them, each service label has to be read as one of your categories (or as none).
:func:`map_labels` does that to a labels frame and gives back a labels frame, so every function
of :mod:`vislab.evaluate` and every widget takes it as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from vislab.errors import InvalidParameter
from vislab.evaluate._validate import plain, positions
from vislab.evaluate.classification import OTHER
from vislab.frames import require_columns

__all__ = ["map_labels", "OTHER"]

_COMBINE = ("max", "sum")


def map_labels(
    pred: pd.DataFrame,
    mapping: Mapping | Callable,
    *,
    column: str = "label",
    default=OTHER,
    combine: str = "max",
) -> pd.DataFrame:
    """Read a labels frame's service labels as your own categories.

    Parameters
    ----------
    pred : DataFrame
        Labels frame (``image, rank, label, score``; rows with ``error_code`` set are failed
        images).
    mapping : mapping or callable
        Service label -> your category (``{"tiger cat": "cat", "espresso": "coffee"}``), or a
        function of the service label returning the category or ``None``.
    column : str, default "label"
        The column to map: ``"label"``, or a coarser one a service gives (e.g. the ``root`` of
        :meth:`vislab.baidu.ImageClassify.advanced_general`: ``"animal-cat"``).
    default : optional, default ``"(other)"``
        The category of labels the mapping does not know.  The default, :data:`OTHER`, keeps
        them in the ranking as "none of your categories": a photo whose best service label is
        "drilling rig" is answered ``"(other)"`` — wrong for a rocket — not promoted to its
        third label "missile".  Metrics count ``"(other)"`` as a wrong answer and never as a
        class (a column of the confusion matrix, like ``"(no prediction)"``).  Another value
        (e.g. ``"background"``) makes it a category of your own; ``None`` drops unknown
        labels, so that lower-ranked ones move up (an image none of whose labels maps keeps
        one empty row and counts as "no prediction").
    combine : {"max", "sum"}, default "max"
        Several service labels of one image may become one category ("tiger cat" and "tabby
        cat" are both "cat"): keep the best score, or add the scores (the probability of the
        category when the scores are one softmax).

    Returns
    -------
    DataFrame
        A labels frame: one row per (image, category), ranked by score (``rank`` 1 = best),
        with ``service_label`` — the best service label behind each category — and the error
        columns; failed images keep their rows.  Images keep their order.

    Raises
    ------
    vislab.errors.InvalidParameter
        ``mapping`` is neither a mapping nor a callable, or ``combine`` is unknown.

    Examples
    --------
    >>> pred = pd.DataFrame({"image": ["a", "a", "a", "b"], "rank": [1, 2, 3, 1],
    ...                      "label": ["tiger cat", "tabby cat", "lynx", "tripod"],
    ...                      "score": [0.4, 0.3, 0.1, 0.9]})
    >>> cats = {"tiger cat": "cat", "tabby cat": "cat", "lynx": "wild cat"}
    >>> map_labels(pred, cats)[["image", "rank", "label", "score", "service_label"]]
      image  rank     label  score service_label
    0     a     1       cat    0.4     tiger cat
    1     a     2  wild cat    0.1          lynx
    2     b     1   (other)    0.9        tripod
    >>> map_labels(pred, cats, combine="sum")["score"].round(2).tolist()
    [0.7, 0.1, 0.9]
    >>> map_labels(pred, cats, default=None)["label"].tolist()  # b: no prediction
    ['cat', 'wild cat', nan]
    """
    if isinstance(mapping, Mapping):
        table = dict(mapping)

        def lookup(label):
            return table.get(label, default)
    elif callable(mapping):

        def lookup(label):
            out = mapping(label)
            return default if out is None else out
    else:
        raise InvalidParameter(
            f"mapping must be a dict (service label -> category) or a function, got "
            f"{type(mapping).__name__}",
            name="mapping",
        )
    if combine not in _COMBINE:
        raise InvalidParameter(
            f"combine must be one of {_COMBINE}, got {combine!r}", name="combine"
        )
    require_columns(pred, ["image"], name="pred")
    attrs = dict(pred.attrs)
    pred = plain(pred)
    failed = (
        pred["error_code"].notna().to_numpy()
        if "error_code" in pred.columns
        else np.zeros(len(pred), bool)
    )
    images = pd.unique(pred["image"])
    ok = pred[~failed]
    if len(ok):
        require_columns(ok, [column], name="pred")
    if "score" in ok.columns:
        score = pd.to_numeric(ok["score"], errors="coerce").to_numpy(dtype=float)
    else:  # ranks only: a better rank stands for a higher score
        rank = pd.to_numeric(ok.get("rank", pd.Series(np.arange(len(ok)))), errors="coerce")
        score = -rank.to_numpy(dtype=float)
    service = ok[column].to_numpy(dtype=object)
    # Each distinct service label is looked up once.
    uniq = pd.unique(pd.Series(service, dtype=object))
    found = {lab: lookup(lab) for lab in uniq if not pd.isna(lab)}
    category = np.array([found.get(lab) if not pd.isna(lab) else None for lab in service], object)
    rows = pd.DataFrame(
        {
            "image": ok["image"].to_numpy(dtype=object),
            "label": category,
            "score": score,
            "service_label": service,
        }
    )
    rows = rows[pd.notna(rows["label"]).to_numpy()]
    rows = rows.sort_values("score", ascending=False, kind="stable")
    grouped = rows.groupby(["image", "label"], sort=False)
    kept = grouped.head(1).copy()  # the best service label behind each category
    if combine == "sum":
        kept["score"] = grouped["score"].transform("sum").loc[kept.index].to_numpy()
    order = pd.Index(images, dtype=object)
    kept["_order"] = positions(kept["image"], order)
    kept = kept.sort_values(["_order", "score"], ascending=[True, False], kind="stable")
    kept["rank"] = kept.groupby("_order", sort=False).cumcount() + 1
    if "score" not in ok.columns:
        kept["score"] = np.nan
    out = kept.drop(columns="_order")[["image", "rank", "label", "score", "service_label"]]
    out["error_code"] = None
    out["error_msg"] = None
    # Every input image keeps a row: failed ones as they were, unmapped ones empty.
    covered = set(out["image"])
    blank = [img for img in pd.unique(ok["image"]) if img not in covered]
    parts = [out]
    if blank:
        parts.append(pd.DataFrame({"image": blank, "error_code": None, "error_msg": None}))
    if failed.any():
        err = pred[failed]
        parts.append(
            pd.DataFrame(
                {
                    "image": err["image"].to_numpy(dtype=object),
                    "error_code": err["error_code"].to_numpy(dtype=object),
                    "error_msg": err["error_msg"].to_numpy(dtype=object)
                    if "error_msg" in err.columns
                    else None,
                }
            )
        )
    result = pd.concat([p for p in parts if len(p)], ignore_index=True) if len(pred) else out
    result["_order"] = positions(result["image"], order)
    result = result.sort_values("_order", kind="stable").drop(columns="_order")
    result["rank"] = result["rank"].astype("Int64")
    result = result.reset_index(drop=True)[
        ["image", "rank", "label", "score", "service_label", "error_code", "error_msg"]
    ]
    result.attrs = attrs
    result.attrs["kind"] = "labels"
    result.attrs["mapped_from"] = column
    return result
