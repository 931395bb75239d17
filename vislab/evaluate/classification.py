"""Classification metrics from a labels frame and a truth frame, equal to scikit-learn's.

The service answers each image with ranked labels (``rank`` 1 = its best guess).  These
functions line predictions up with the truth by image and hand the label vectors to
scikit-learn, so the numbers are the ones the field trusts.  Two things scikit-learn cannot see
are made explicit: an image whose call failed (or that has no prediction) counts as a wrong
answer, shown as the ``"(no prediction)"`` column of the confusion matrix; so does an answer
that is none of your categories (``"(other)"``, see :func:`vislab.evaluate.map_labels`) — a
column, never a class of its own; and images that have predictions but no truth are left out
with a warning.

For precision/recall of each class as its score threshold moves (one-vs-rest), use
:func:`vislab.evaluate.threshold_sweep` with the labels frame.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from vislab.evaluate._validate import (
    check_order,
    ordered_unique,
    prediction_rows,
    report_unknown_labels,
)
from vislab.frames import truth_labels

__all__ = [
    "classification_report",
    "confusion_matrix",
    "top_k_accuracy",
    "aligned_labels",
    "NO_PREDICTION",
    "OTHER",
]

#: Stands for "the service gave no label" (failed call or image missing from predictions).
NO_PREDICTION = "(no prediction)"
#: Stands for "the service named something that is none of your categories"
#: (:func:`vislab.evaluate.map_labels`' default for labels its mapping does not know).
OTHER = "(other)"
#: Answers that are always wrong and never a class of their own.
_NOT_A_CLASS = (OTHER, NO_PREDICTION)


def _ranked(pred: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Usable prediction rows sorted by image and rank (best first)."""
    ok, failed = prediction_rows(pred, ["image", "label"], name="pred")
    df = pd.DataFrame({"image": ok["image"].to_numpy(), "label": ok["label"].to_numpy()})
    if "rank" in ok.columns and ok["rank"].notna().all():
        df["key"] = pd.to_numeric(ok["rank"]).to_numpy(dtype=float)
    elif "score" in ok.columns:
        df["key"] = -pd.to_numeric(ok["score"]).to_numpy(dtype=float)
    else:
        df["key"] = np.arange(len(df), dtype=float)
    df = df.dropna(subset=["label"])
    df = df.sort_values(["image", "key"], kind="stable")
    df["pos"] = df.groupby("image", sort=False).cumcount() + 1
    return df, failed


def _aligned(truth, pred, *, top_k: int = 1):
    """True and predicted label per truth image (top-k hit counts as the true label)."""
    if isinstance(pred, pd.DataFrame) and isinstance(truth, pd.DataFrame):
        check_order(truth, pred, call="classification functions take (truth, pred)")
    t = truth_labels(truth)
    ranked, _failed = _ranked(pred)
    extra = set(ranked["image"]) - set(t["image"])
    if extra:
        warnings.warn(
            f"{len(extra)} image(s) have predictions but no truth and are left out",
            UserWarning,
            stacklevel=3,
        )
    top1 = ranked[ranked["pos"] == 1].set_index("image")["label"]
    y_true = t["label"].to_numpy(dtype=object)
    y_pred = top1.reindex(t["image"]).to_numpy(dtype=object)
    y_pred = np.where(pd.isna(y_pred), NO_PREDICTION, y_pred).astype(object)
    if top_k > 1:
        topk = ranked[ranked["pos"] <= top_k]
        hit = pd.MultiIndex.from_frame(t[["image", "label"]]).isin(
            pd.MultiIndex.from_frame(topk[["image", "label"]])
        )
        y_pred = np.where(hit, y_true, y_pred).astype(object)
    report_unknown_labels(ranked.loc[ranked["pos"] <= top_k, "label"], y_true)
    return y_true, y_pred, ranked, t


def aligned_labels(truth, pred, *, top_k: int = 1) -> pd.DataFrame:
    """The true and the predicted label of every truth image, as the metrics count them.

    The rank-1 label is the prediction; an image whose call failed or that has no prediction
    is ``"(no prediction)"``; with ``top_k > 1`` an image whose true label is among its top
    ``k`` counts as predicted right.  :func:`confusion_matrix` and
    :func:`classification_report` count exactly these pairs, so the images listed for a cell
    always add up to the cell's count.

    Parameters
    ----------
    truth : DataFrame or mapping
        ``image, label`` (one true label per image), or a mapping image -> label.
    pred : DataFrame
        Labels frame ``image, rank, label, score``.
    top_k : int, default 1

    Returns
    -------
    DataFrame
        ``image, true, predicted``, one row per truth image, in truth order.

    Examples
    --------
    >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
    >>> pred = pd.DataFrame({"image": ["a", "b"], "rank": [1, 1], "label": ["cat", "cat"],
    ...                      "score": [0.9, 0.6]})
    >>> aligned_labels(truth, pred)
      image true        predicted
    0     a  cat              cat
    1     b  dog              cat
    2     c  dog  (no prediction)
    """
    y_true, y_pred, _, t = _aligned(truth, pred, top_k=top_k)
    return pd.DataFrame({"image": t["image"].to_numpy(), "true": y_true, "predicted": y_pred})


def _labels_of(y_true, y_pred, labels):
    if labels is not None:
        return list(labels)
    return ordered_unique([v for v in list(y_true) + list(y_pred) if v not in _NOT_A_CLASS])


def classification_report(truth, pred, *, labels=None, top_k: int = 1, zero_division=0.0):
    """Per-class precision, recall, F1 and support, with micro / macro / weighted averages.

    Equal to ``sklearn.metrics.classification_report(..., output_dict=True)`` on the aligned
    label vectors.

    Parameters
    ----------
    truth : DataFrame or mapping
        ``image, label`` (one true label per image), or a mapping image -> label.
    pred : DataFrame
        Labels frame ``image, rank, label, score``; rank 1 is the prediction.  Failed images
        and images without predictions count as wrong.
    labels : sequence, optional
        Classes to report, in order (default: all, sorted).
    top_k : int, default 1
        Count an image as right when its true label is among the top ``k`` labels.
    zero_division : float, default 0.0
        Value where a ratio is 0/0 (scikit-learn's parameter).

    Returns
    -------
    DataFrame
        Index: the classes, then ``micro avg``, ``macro avg``, ``weighted avg``; columns
        ``precision, recall, f1, support``.  ``attrs["accuracy"]`` holds the accuracy.

    Examples
    --------
    >>> truth = {"a.jpg": "cat", "b.jpg": "dog", "c.jpg": "dog"}
    >>> pred = pd.DataFrame({"image": ["a.jpg", "b.jpg", "c.jpg"], "rank": [1, 1, 1],
    ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
    >>> classification_report(truth, pred).round(3)
                  precision  recall     f1  support
    cat               0.500   1.000  0.667        1
    dog               1.000   0.500  0.667        2
    micro avg         0.667   0.667  0.667        3
    macro avg         0.750   0.750  0.667        3
    weighted avg      0.833   0.667  0.667        3
    """
    y_true, y_pred, _, _ = _aligned(truth, pred, top_k=top_k)
    lab = _labels_of(y_true, y_pred, labels)
    p, r, f, s = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=lab, average=None, zero_division=zero_division
    )
    rows = {name: [p[i], r[i], f[i], int(s[i])] for i, name in enumerate(lab)}
    total = int(np.sum(s))
    for avg in ("micro", "macro", "weighted"):
        ap, ar, af, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=lab, average=avg, zero_division=zero_division
        )
        rows[f"{avg} avg"] = [ap, ar, af, total]
    out = pd.DataFrame.from_dict(
        rows, orient="index", columns=["precision", "recall", "f1", "support"]
    )
    out["support"] = out["support"].astype(np.int64)
    out.attrs["accuracy"] = float(skm.accuracy_score(y_true, y_pred))
    out.attrs["top_k"] = top_k
    return out


def confusion_matrix(truth, pred, *, labels=None, normalize=None) -> pd.DataFrame:
    """Confusion matrix as a labelled frame (rows: true label, columns: predicted label).

    Equal to ``sklearn.metrics.confusion_matrix``.  Images without a prediction appear in a
    last column ``"(no prediction)"`` (only when there are any).

    Parameters
    ----------
    truth : DataFrame or mapping
        ``image, label``, or a mapping image -> label.
    pred : DataFrame
        Labels frame; the rank-1 label is the prediction.
    labels : sequence, optional
        Classes, in order (default: all, sorted).
    normalize : {None, "true", "pred", "all"}
        As in scikit-learn: divide by row sums, column sums, or the total.

    Returns
    -------
    DataFrame
        Index named ``true``, columns named ``predicted``.

    Examples
    --------
    >>> truth = {"a": "cat", "b": "dog", "c": "dog", "d": "cat"}
    >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
    ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
    >>> confusion_matrix(truth, pred).to_numpy().tolist()
    [[1, 0, 1], [1, 1, 0]]
    >>> confusion_matrix(truth, pred).columns.tolist()
    ['cat', 'dog', '(no prediction)']
    """
    y_true, y_pred, _, _ = _aligned(truth, pred)
    lab = _labels_of(y_true, y_pred, labels)
    cols = lab + [v for v in _NOT_A_CLASS if (y_pred == v).any() and v not in lab]
    cm = skm.confusion_matrix(y_true, y_pred, labels=cols, normalize=normalize)
    out = pd.DataFrame(
        cm, index=pd.Index(cols, name="true"), columns=pd.Index(cols, name="predicted")
    )
    out = out.drop(index=[v for v in _NOT_A_CLASS if v in cols and v not in lab])
    return out


def top_k_accuracy(truth, pred, *, k=5):
    """Share of images whose true label is among the service's top ``k`` labels.

    Parameters
    ----------
    truth : DataFrame or mapping
    pred : DataFrame
        Labels frame; labels ranked by ``rank`` (or by ``score`` when there is no rank).
    k : int or sequence of int, default 5

    Returns
    -------
    float, or Series indexed by ``k`` when ``k`` is a sequence.

    Examples
    --------
    >>> truth = {"a": "cat", "b": "dog"}
    >>> pred = pd.DataFrame({"image": ["a", "a", "b", "b"], "rank": [1, 2, 1, 2],
    ...                      "label": ["dog", "cat", "fox", "owl"], "score": [.6, .3, .5, .2]})
    >>> top_k_accuracy(truth, pred, k=[1, 2])
    k
    1    0.0
    2    0.5
    Name: top_k_accuracy, dtype: float64
    """
    t = truth_labels(truth)
    ranked, _ = _ranked(pred)
    ks = [int(k)] if np.isscalar(k) else [int(v) for v in k]
    truth_pairs = pd.MultiIndex.from_frame(t[["image", "label"]])
    values = []
    for kk in ks:
        top = ranked[ranked["pos"] <= kk]
        hit = truth_pairs.isin(pd.MultiIndex.from_frame(top[["image", "label"]]))
        values.append(float(hit.mean()) if len(hit) else np.nan)
    if np.isscalar(k):
        return values[0]
    return pd.Series(values, index=pd.Index(ks, name="k"), name="top_k_accuracy")
